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
#   stack copy depends on bpf_find_vma), and the hold watcher that resumes
#   held processes when etrace is killed (test_holds.test_sigkill_of_etrace_
#   resumes...: the host only simulates a kernel without
#   bpf_send_signal_task; on 6.1 the watcher once closed its own pipe and
#   left a process stopped) with the exec hold of an empty environment
#   (held_at_exec). Left out: what runs the same code
#   on every kernel (syscall decoding, the launcher's options, heap analysis:
#   tests/test_kernels.py checks a leak on both kernels; EXCLUDE: option and
#   file errors).
#   A test that cannot run in a guest is skipped with its reason.
# KERNELS="6.1 6.12" and TESTS (substrings for tests/run.py -k) can be given
# in the environment (TESTS=test_ EXCLUDE= for the whole suite); GUEST_TIMEOUT
# (seconds) bounds each guest.
#
# Each guest's whole console is kept in build/vm-logs/matrix-KERNEL.log
# (ETRACE_VM_LOGS=dir elsewhere). A failure is named by kernel and test
# ("matrix: FAIL Linux 6.12: test_x.test_y"); a guest whose kernel crashed
# or that ran out of time names the test it was in, and a crash's oops and
# panic are printed whole. A guest that cannot be booted here (no qemu, the
# kernel package not fetchable: tests/vm/vm.py exit 77) is a skip with its
# reason, counted as one skipped test, never as a pass.
cd "$(dirname "$0")/../.." || exit 2
KERNELS=${KERNELS:-"6.1 6.12"}
TESTS=${TESTS:-"test_net. test_skb. test_funcs. test_record. test_launcher.test_doctor test_crash.test_crash_in test_holds.test_sigkill_of_etrace_resumes held_at_exec"}
# of those, what is the same on every kernel (option and file errors)
EXCLUDE=${EXCLUDE-"test_bad_ test_pattern_matching_nothing test_no_network_section"}
GUEST_TIMEOUT=${GUEST_TIMEOUT:-1500}
logs=${ETRACE_VM_LOGS:-build/vm-logs}
mkdir -p "$logs" || exit 2
status=0
total_p=0 total_f=0 total_s=0
failures=""
fail() { failures="$failures
matrix: FAIL Linux $1: $2"; }
for k in $KERNELS; do
	echo "== Linux $k: $TESTS"
	ks=$(for g in $TESTS; do printf ' -k %s' "$g"; done; for g in $EXCLUDE; do printf ' -x %s' "$g"; done)
	out="$logs/matrix-$k.out" console="$logs/matrix-$k.log"
	start=$(date +%s)
	# (MATRIX_GUEST_CMD: another command in the guest, for tests of the
	# matrix itself: tests/test_kernels.py crashes a guest with it)
	python3 tests/vm/vm.py run "$k" -t "$GUEST_TIMEOUT" -l "$console" -- sh -c \
		"${MATRIX_GUEST_CMD:-ETRACE_TEST_ANNOUNCE=1 ETRACE_TEST_SLOW=${ETRACE_TEST_SLOW:-8} ETRACE_TEST_NET_BACKEND=tracepoint python3 tests/run.py$ks}" \
		>"$out" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ "$rc" = 77 ]; then
		why=$(grep -m1 '^vm: skip: ' "$out" | sed 's/^vm: skip: //')
		echo "SKIP Linux $k: ${why:-no guest can be booted here (tests/vm/vm.py exit 77)}"
		total_s=$((total_s + 1))
		continue
	fi
	# the guest's console: the test lines and the summary, not the firmware's
	grep -E '^(PASS|FAIL|SKIP|[0-9]+ passed, )|^  |^Traceback|^vm[:-]|Error|assert' "$out" |
		grep -v -e '^vm: the .* guest.s kernel reported:$' -e '^vm: (end of the kernel.s report)$' | sed "s/^/[$k] /"
	for t in $(sed -n 's/^FAIL \([^ :]*\).*/\1/p' "$out"); do fail "$k" "$t"; done
	# the test a guest was in when it crashed or ran out of time: its RUN
	# line is the last one, with no PASS, FAIL or SKIP after it
	inside=$(grep -E '^(RUN|PASS|FAIL|SKIP) ' "$out" | tail -n 1 | sed -n 's/^RUN //p')
	if [ "$rc" = 126 ]; then
		echo "[$k] the guest's kernel crashed${inside:+ during $inside}; its report, whole:"
		sed -n '/^vm: the .* guest.s kernel reported:$/,/^vm: (end of the kernel.s report)$/p' "$out" | sed "s/^/[$k] /"
		echo "[$k] whole console: $console"
		fail "$k" "the kernel crashed${inside:+ during $inside}"
		total_f=$((total_f + 1))
		status=1
		continue
	fi
	# a kernel warning that did not crash it is shown, not counted
	sed -n '/^vm: the .* guest.s kernel reported:$/,/^vm: (end of the kernel.s report)$/p' "$out" | sed "s/^/[$k] /"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		if [ "$rc" = 124 ]; then
			why="ran out of its ${GUEST_TIMEOUT}s${inside:+ in $inside}"
		else
			why="did not finish the tests (tests/vm/vm.py exit $rc)${inside:+ in $inside}"
		fi
		echo "[$k] the guest $why; the console's end (whole: $console):"
		tail -n 40 "$console" 2>/dev/null | sed "s/^/[$k] /"
		fail "$k" "the guest $why"
		total_f=$((total_f + 1))
		status=1
		continue
	fi
	set -- $line
	total_p=$((total_p + $1)) total_f=$((total_f + $3)) total_s=$((total_s + $5))
	[ "$rc" = 0 ] && [ "$3" = 0 ] || status=1
	if [ "$3" = 0 ] && [ "$rc" != 0 ]; then
		fail "$k" "tests/vm/vm.py exit $rc after the tests' summary (console: $console)"
		total_f=$((total_f + 1))
	fi
	echo "== Linux $k: $line in ${secs}s (console: $console)"
done
[ -z "$failures" ] || echo "$failures" | sed 1d
echo "$total_p passed, $total_f failed, $total_s skipped"
exit $status
