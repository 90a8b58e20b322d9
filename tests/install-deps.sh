#!/bin/sh
# Installs what etrace needs to build and what its tests use, from Debian 12 packages.
set -e
PKGS="make gcc g++ clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libdw-dev libunwind-dev \
libseccomp-dev libcapstone-dev pkg-config python3 strace valgrind gdb time iproute2 nftables libc6-dbg \
heaptrack libjemalloc2 libpcap-dev sudo libclang-rt-14-dev libiberty-dev rustc python3-pytest golang-go \
qemu-system-x86 busybox-static chromium"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# the privilege tests (tests/test_security.py) run etrace for an unprivileged
# user, as sudo would
add_test_user() {
	id etrace-test >/dev/null 2>&1 || ${SUDO:-} useradd --system --no-create-home --shell /bin/sh etrace-test
}
if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	[ "$(id -u)" = 0 ] && add_test_user
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
