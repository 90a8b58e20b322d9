#!/bin/sh
# make check-kernels: a part of the end-to-end suite inside each Debian 12
# kernel (tests/vm/vm.py boots it in QEMU with the host's root), one guest
# at a time, one tests/run.py per guest. Prints each guest's results, then
# the total as its last line ("N passed, N failed, N skipped"); exits 1 when
# a test failed or a guest did not finish.
#
# In the guests (TCG, no KVM: etrace runs ~10 times slower there):
# - timeouts are stretched 8 times (ETRACE_TEST_SLOW, tests/lib.py);
# - --skb runs without a --net-backend of their own use tracepoints
#   (ETRACE_TEST_NET_BACKEND): auto would attach ~1500 kernel functions per
#   run; test_skb.test_function_backends runs each function backend the
#   kernel has (on a few functions where each costs a program or a kprobe);
# - the tests in TESTS, the same in each kernel, chosen for what differs by
#   kernel and to fit ~15 minutes a guest on a loaded 2-CPU machine (a test
#   takes 5-20 s there, the whole suite would take hours): the network
#   (test_net: TCP and UDP tracepoints, drop reasons, what 6.1 lacks) and
#   packet paths (test_skb: every --net-backend the kernel has), function
#   probes (test_funcs: uprobe_multi or one uprobe per probe), recordings
#   (test_record), doctor against a run (test_launcher.test_doctor...), and
#   crash stacks (test_crash: the thread, fork, library and libc cases: the
#   stack copy depends on bpf_find_vma). Left out: what runs the same code
#   on every kernel (syscall decoding, the launcher's options, heap analysis:
#   tests/test_kernels.py checks a leak on both kernels; EXCLUDE: option and
#   file errors).
#   A test that cannot run in a guest is skipped with its reason.
# KERNELS="6.1 6.12" and TESTS (substrings for tests/run.py -k) can be given
# in the environment (TESTS=test_ EXCLUDE= for the whole suite); GUEST_TIMEOUT
# (seconds) bounds each guest.
cd "$(dirname "$0")/../.." || exit 2
KERNELS=${KERNELS:-"6.1 6.12"}
TESTS=${TESTS:-"test_net. test_skb. test_funcs. test_record. test_launcher.test_doctor test_crash.test_crash_in"}
# of those, what is the same on every kernel (option and file errors)
EXCLUDE=${EXCLUDE-"test_bad_ test_pattern_matching_nothing test_no_network_section"}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-1200}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
total_p=0 total_f=0 total_s=0
for k in $KERNELS; do
	echo "== Linux $k: $TESTS"
	ks=$(for g in $TESTS; do printf ' -k %s' "$g"; done; for g in $EXCLUDE; do printf ' -x %s' "$g"; done)
	start=$(date +%s)
	python3 tests/vm/vm.py run "$k" -t "$GUEST_TIMEOUT" -- sh -c \
		"ETRACE_TEST_SLOW=${ETRACE_TEST_SLOW:-8} ETRACE_TEST_NET_BACKEND=tracepoint python3 tests/run.py$ks" \
		>"$log" 2>&1
	rc=$?
	# the guest's console: the test lines and the summary, not the firmware's
	grep -E '^(PASS|FAIL|SKIP|[0-9]+ passed, )|^  |^Traceback|^vm[:-]|Error|assert' "$log" | sed "s/^/[$k] /"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "[$k] the guest did not finish the tests (vm.py exit $rc)"
		tail -n 30 "$log" | sed "s/^/[$k] /"
		total_f=$((total_f + 1))
		status=1
		continue
	fi
	set -- $line
	total_p=$((total_p + $1)) total_f=$((total_f + $3)) total_s=$((total_s + $5))
	[ "$rc" = 0 ] && [ "$3" = 0 ] || status=1
	echo "== Linux $k: $line in $(( $(date +%s) - start ))s"
done
echo "$total_p passed, $total_f failed, $total_s skipped"
exit $status
