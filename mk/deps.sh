#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check for (and on Debian install) what the build, the QEMU runs and
# the static checks need.
#
# Usage: deps.sh check    list what is missing, exit 1 if anything is
#        deps.sh install  apt-get install what is missing (Debian, root)
#        deps.sh auto     install when something is missing
set -uo pipefail

# "debian-package probe" pairs: a probe is a command or an absolute path.
deps="
make make
gcc gcc
git git
perl perl
python3 /usr/bin/python3
python3-ply /usr/lib/python3/dist-packages/ply
python3-git /usr/lib/python3/dist-packages/git
bc bc
flex flex
bison bison
sparse sparse
xz-utils xz
cpio cpio
libelf-dev /usr/include/gelf.h
libssl-dev /usr/include/openssl/ssl.h
qemu-system-x86 qemu-system-x86_64
qemu-system-arm qemu-system-aarch64
gcc-aarch64-linux-gnu aarch64-linux-gnu-gcc
e2fsprogs /sbin/mke2fs
busybox-static /bin/busybox
fio fio
xfsprogs /usr/sbin/xfs_io
dmsetup /usr/sbin/dmsetup
kmod /usr/sbin/depmod
gnuplot-nox gnuplot
lcov genhtml
"

missing=()
while read -r pkg probe; do
	[ -n "$pkg" ] || continue
	case "$probe" in
	/*) [ -e "$probe" ] ;;
	*) command -v "$probe" >/dev/null ;;
	esac || missing+=("$pkg")
done <<< "$deps"

mode=${1:-check}
[ "${#missing[@]}" -eq 0 ] && { [ "$mode" = check ] && echo "mk: all dependencies present"; exit 0; }

if [ "$mode" = check ]; then
	echo "mk: missing: ${missing[*]}"
	exit 1
fi

if [ -r /etc/debian_version ] && command -v apt-get >/dev/null; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "mk: installing ${missing[*]}" >&2
	$sudo apt-get update -q >&2 &&
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
		"${missing[@]}" qemu-system-data >&2 || {
		echo "mk: error: apt-get install failed" >&2; exit 1; }
	exit 0
fi

cat >&2 <<MSG
mk: error: this is not Debian; please install the equivalents of these
Debian packages with your distribution's package manager:
    ${missing[*]}
(a cross compiler for aarch64 named aarch64-linux-gnu-gcc, QEMU for
x86_64 and aarch64, sparse, flex, bison, bc, libelf and OpenSSL headers,
busybox (static), fio, e2fsprogs and xfsprogs (xfs_io)), then run make again.
MSG
exit 1
