#!/bin/sh
# Installs what etrace needs to build and what its tests use, from Debian 12 packages.
set -e
PKGS="make gcc g++ clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libdw-dev libunwind-dev \
libseccomp-dev libcapstone-dev pkg-config python3 strace valgrind gdb time iproute2 nftables libc6-dbg \
heaptrack libjemalloc2 libpcap-dev sudo libclang-rt-14-dev libiberty-dev rustc python3-pytest golang-go \
qemu-system-x86 busybox-static chromium python3-jsonschema meson ninja-build cmake groff-base bpftrace \
libfribidi-dev unicode-data nodejs libgtest-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# The SARIF 2.1.0 JSON schema the tests validate --sarif against: the copy
# Microsoft's SARIF matchers for jest ship (@microsoft/jest-sarif, MIT,
# lib/schemas/sarif-2.1.0-rtm.5.json, the schema of the OASIS standard's
# final draft), fetched from the npm registry by npm itself (integrity
# checked), pinned, kept outside the repository.
SARIF_SCHEMA_DIR=/usr/local/share/etrace-tests
SARIF_SCHEMA=$SARIF_SCHEMA_DIR/sarif-2.1.0-rtm.5.json
fetch_sarif_schema() {
	[ -s "$SARIF_SCHEMA" ] && return 0
	command -v npm >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -q npm
	tmp=$(mktemp -d)
	(cd "$tmp" && npm pack --silent @microsoft/jest-sarif@1.0.0-beta.0 >/dev/null &&
		tar xzf microsoft-jest-sarif-1.0.0-beta.0.tgz package/lib/schemas/sarif-2.1.0-rtm.5.json) &&
		${SUDO:-} mkdir -p "$SARIF_SCHEMA_DIR" &&
		${SUDO:-} cp "$tmp/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$SARIF_SCHEMA"
	rc=$?
	rm -rf "$tmp"
	return $rc
}
# the privilege tests (tests/test_security.py) run etrace for an unprivileged
# user, as sudo would
add_test_user() {
	id etrace-test >/dev/null 2>&1 || ${SUDO:-} useradd --system --no-create-home --shell /bin/sh etrace-test
}
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	[ "$(id -u)" = 0 ] && add_test_user && fetch_sarif_schema
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
echo "install-deps: installing$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q $missing
add_test_user
fetch_sarif_schema
