#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Crash check of the iomap path: two QEMU boots of the e2e kernel on two
# virtio disks (raw images under BUILD_DIR/crash, filled with 0xee before
# mkfs): 4k blocks with delalloc and 1k blocks with nodelalloc.  The first
# boot writes files on buffered_iomap mounts and reboots through sysrq
# without unmounting; the second mounts again (journal replay) and checks
# that fsynced data is there and that no file shows the old disk
# contents (see mk/crash/init).  Results: BUILD_DIR/results/crash.tsv,
# consoles in BUILD_DIR/results/crash-{write,check}.log.
#
# Usage: crash.sh REPO_DIR BUILD_DIR
# Environment: CRASH_MOUNT_OPTS (default buffered_iomap), CRASH_TIMEOUT
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
out=$build/results
work=$build/crash
tsv=$out/crash.tsv
unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$out" "$work"
: > "$tsv"
# shellcheck source=mk/lib.sh
. "$repo/mk/lib.sh"
msg() { echo "mk: crash: $*"; }
fail() { printf 'FAIL\t%s\t%s\n' "$1" "$2" >> "$tsv"; echo "mk: crash: error: $1: $2" >&2; echo "crash: 0 passed, 1 failed"; exit 1; }

E2E_BUILD_ONLY=1 bash "$repo/mk/e2e.sh" "$repo" "$build" > "$work/build.log" 2>&1 ||
	fail "kernel and initramfs" "mk/e2e.sh build failed: see $work/build.log"
# shellcheck disable=SC1091
. "$build/e2e/build-only.out"

disks="vda:4096:delalloc vdb:1024:nodelalloc"
# CRASH_MOUNT_OPTS: mount options besides (no)delalloc; the default is
# the iomap path.  "data=writeback" runs the stock path without ordered
# data, which may expose stale blocks: a check that the check can fail.
opts=${CRASH_MOUNT_OPTS:-buffered_iomap}
case "$opts" in *[!A-Za-z0-9_=,]*) fail "arguments" "CRASH_MOUNT_OPTS='$opts'" ;; esac
for i in a b; do
	head -c 64M /dev/zero | tr '\000' '\356' > "$work/disk-$i.img" ||
		fail "disk images" "cannot write $work/disk-$i.img"
done

accel=$(qemu_accel "$repo")
if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi

# boot PHASE: one guest run
boot() {
	local phase=$1 root=$work/root-$1
	rm -rf "$root"
	mkdir -p "$root/crash"
	install -m 755 "$repo/mk/crash/init" "$root/init"
	printf "CRASH_PHASE=%s\nCRASH_DISKS='%s'\nCRASH_LIBPATH='%s'\nCRASH_OPTS='%s'\n" \
		"$phase" "$disks" "$libpath" "$opts" > "$root/crash/conf"
	pack_initramfs "$root" "$work/$phase.cpio.gz" &&
		cat "$base" "$work/$phase.cpio.gz" > "$work/$phase-initrd.img" ||
		fail "initramfs" "packing $root"
	rm -rf "$root"
	msg "boot: $phase ($accel)"
	timeout -k 10 "${CRASH_TIMEOUT:-300}" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" \
		-m 1G -smp 2 -nographic -no-reboot -nic none \
		-kernel "$bzimage" -initrd "$work/$phase-initrd.img" \
		-drive "file=$work/disk-a.img,if=virtio,format=raw,cache=writeback" \
		-drive "file=$work/disk-b.img,if=virtio,format=raw,cache=writeback" \
		-append "console=ttyS0 loglevel=4 panic=-1" < /dev/null 2>&1 |
		sed -u 's/\r$//' > "$out/crash-$phase.log"
	grep -E '^(not )?ok [0-9]+ - |^# crash' "$out/crash-$phase.log" | sed 's/^/    /'
}

start=$(date +%s)
boot write
grep -q '^# crash: rebooting' "$out/crash-write.log" ||
	fail "write phase" "the guest did not get to the crash (see $out/crash-write.log)"
boot check

for phase in write check; do
	while IFS= read -r line; do
		if [[ $line =~ ^ok\ [0-9]+\ -\ ([A-Za-z0-9._-]+)$ ]]; then
			printf 'PASS\t%s\t\n' "${BASH_REMATCH[1]}" >> "$tsv"
		elif [[ $line =~ ^not\ ok\ [0-9]+\ -\ ([A-Za-z0-9._-]+)\ #\ (.*)$ ]]; then
			printf 'FAIL\t%s\t%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" >> "$tsv"
		fi
	done < "$out/crash-$phase.log"
done
want=$(( 2 + 2 * 5 ))
got=$(wc -l < "$tsv")
[ "$got" = "$want" ] || printf 'FAIL\tcrash check\t%s results, expected %s (see %s)\n' \
	"$got" "$want" "$out/crash-check.log" >> "$tsv"
oops=$(grep -h -m1 -E "$KERNEL_REPORTS" "$out/crash-write.log" "$out/crash-check.log")
[ -z "$oops" ] || printf 'FAIL\tcrash kernel log clean\t%s\n' "$oops" >> "$tsv"
np=$(grep -c '^PASS' "$tsv")
nf=$(grep -c '^FAIL' "$tsv")
grep '^FAIL' "$tsv" | cut -f2- | sed 's/\t/: /; s/^/mk: crash: FAIL /'
echo "crash: $np passed, $nf failed ($accel, $(( $(date +%s) - start ))s)"
[ "$nf" = 0 ]
