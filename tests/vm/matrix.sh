#!/bin/sh
# make check-kernels: more of the end-to-end suite inside each Debian 12
# kernel (tests/vm/vm.py boots it in QEMU with the host's root): the groups
# below, in one guest per kernel. Prints each guest's results; exits 1 when
# a test failed in any of them. Timeouts are stretched 8 times there
# (ETRACE_TEST_SLOW, tests/lib.py): TCG runs etrace ~10 times slower. KERNELS="6.1 6.12" and TESTS (substrings
# for tests/run.py -k) can be given in the environment.
cd "$(dirname "$0")/../.." || exit 2
KERNELS=${KERNELS:-"6.1 6.12"}
TESTS=${TESTS:-"test_syscalls test_launcher test_crash test_net test_skb test_record test_funcs"}
status=0
for k in $KERNELS; do
	echo "== Linux $k"
	cmd="for g in $TESTS; do ETRACE_TEST_SLOW=${ETRACE_TEST_SLOW:-8} python3 tests/run.py -k \$g || touch /tmp/failed; done; test ! -e /tmp/failed"
	python3 tests/vm/vm.py run "$k" -t 3000 -- sh -c "$cmd" || status=1
done
exit $status
