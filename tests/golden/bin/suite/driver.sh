#!/bin/sh
# A small automake-style test driver: runs one test with its output in
# NAME.log and says PASS or FAIL. Its probes fail on purpose and are
# handled (grep -q in an if, test -f), as real drivers' do.
t=$1
if grep -q "SKIP-ME" "$t" 2>/dev/null; then
	echo "SKIP: $t"; exit 77
fi
/usr/bin/test -f "$t.expected" && echo "comparing with $t.expected"
# LOG_COMPILER: a wrapper for each test, as automake's (etrace run -o ... --)
TEST_NAME=$t $LOG_COMPILER "./$t" >"$t.log" 2>&1
rc=$?
if test $rc -eq 0; then echo "PASS: $t"; else echo "FAIL: $t (exit $rc)"; fi
exit $rc
