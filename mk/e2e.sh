#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end test: boot the patched kernel in QEMU (x86_64) and run fio
# with data verification on ext4 over a RAM disk, for 4k and 1k blocks,
# each with delalloc and nodelalloc, for 4k blocks with bigalloc (64 KiB
# clusters) and delalloc, and for 4k blocks with no mount
# options (the stock buffer_head path); then file operations with
# xfs_io and chattr: on buffered_iomap mounts those not converted to
# iomap (chattr -e/+j) must fail with EOPNOTSUPP and change nothing, on
# the others they must work; truncate down and up, writes past EOF,
# fallocate, punch/zero/collapse/insert range, O_DIRECT reads and shared
# mmap reads and writes (also beyond EOF in the EOF page, then truncate
# up) must read back right on all, a random mix of all of them checked
# against a model (tools/testing/ext4-iomap/opcheck.c) must too, and a
# file written until ENOSPC must
# fail with ENOSPC and give all its space back when removed; then
# remount, verify all the data again and run e2fsck.  e2fsck -fn also
# runs after every fio job and every file operation case (CFG-STEP-fsck:
# unmount, check, mount again).
#   1. kernel: bzImage built in BUILD_DIR/e2e-x86_64 from allnoconfig +
#      mk/e2e/kernel.config (.config regenerated only when the fragment
#      changes; every wanted option checked);
#   2. initramfs: busybox, fio, mke2fs, e2fsck, chattr, lsattr, xfs_io,
#      xfs_quota, dmsetup
#      and their libraries from this machine's Debian packages (cached
#      in BUILD_DIR/e2e), plus
#      mk/e2e/init and the fio jobs of mk/e2e/fio;
#   3. QEMU with KVM when /dev/kvm opens and mk/kvm-usable.sh finds
#      vmx/svm (and again with TCG should QEMU fail to start with KVM),
#      else TCG.
# The guest prints one TAP line per step ("4k-delalloc-seq-write", ...);
# the results go to BUILD_DIR/results/e2e.tsv ("PASS|FAIL|SKIP<TAB>name
# <TAB>detail"), the console to BUILD_DIR/results/e2e.log, the kernel
# build output to BUILD_DIR/results/e2e-build.log.
#
# Usage: e2e.sh REPO_DIR BUILD_DIR
# Environment:
#   E2E_MOUNT_OPTS  ext4 mount options (default "buffered_iomap"; empty
#                   for the stock buffer_head path), delalloc or
#                   nodelalloc is added; not used by the *-default
#                   configurations, which mount with no options
#   E2E_CONFIGS     default "4k-delalloc 4k-nodelalloc 1k-delalloc
#                   1k-nodelalloc 4kbig-delalloc 4k-default" (4kbig:
#                   bigalloc, 64 KiB clusters)
#   E2E_OPS_EXPECT  auto (default): the file operation cases expect
#                   EOPNOTSUPP where the mount options end up with
#                   buffered_iomap, and success elsewhere; refuse|work:
#                   expect that everywhere (to check that the cases
#                   catch a kernel that behaves otherwise)
#   E2E_JOBS        fio jobs of mk/e2e/fio to run (default: all)
#   E2E_OPS         only these file operation cases (default: all of them)
#   E2E_OPCHECK_WB_OPS, E2E_OPCHECK_WB_SEEDS
#                   operations per seed (4000) and seeds ("11 12") of the
#                   opcheck-wb case
#   E2E_WBRACE      rounds of the wb-race case with delalloc (10000; a
#                   tenth of that without)
#   E2E_KERNEL      debug: boot the x86_64 debug kernel of mk/kunit.sh
#                   (KUNIT_DEBUG=1: KASAN, lockdep, DEBUG_VM, UBSAN and every
#                   option of mk/e2e/kernel.config; booted with
#                   kunit.enable=0) instead of building one; built here
#                   only if it does not exist yet (make kunit-debug
#                   rebuilds it); mk/crash.sh takes it through
#                   E2E_BUILD_ONLY=1.  make test does not: under TCG the
#                   guest runs about 3 times as long (README).  Default:
#                   the kernel of step 1.
#   E2E_ACCEL       kvm | tcg | auto (default)
#   E2E_TIMEOUT     seconds for the whole guest run (default 300, 900 for TCG)
#   E2E_MEM         guest memory (default 1G)
#   E2E_RD_SIZE     RAM disk size in KiB (default 262144)
#   E2E_NAME        the results' name: BUILD_DIR/results/NAME.tsv and
#                   NAME.log (default e2e)
#   E2E_OPCHECK_DIO_OPS, E2E_REMOUNTS, E2E_REMOUNT_OPS, E2E_SWAP_MIB
#                   the sizes of opcheck-dio (2000 operations a seed),
#                   remount-live (10 remounts beside 3000 operations) and
#                   swap (a hog of 32 MiB in 8 MiB)
#   E2E_VOLUME_CONFIGS
#                   the configurations that run the cases of a real volume
#                   (dio-mix ... inline-switch, docs/e2e.md); the others
#                   report them as skipped (default: every configuration)
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
kobj=$build/e2e-x86_64
work=$build/e2e
out=$build/results
name=${E2E_NAME:-e2e}
tsv=$out/$name.tsv
log=$out/$name.log
blog=$out/e2e-build.log
# Only building for mk/bench.sh or mk/crash.sh: leave the results of the
# last e2e run alone.
if [ "${E2E_BUILD_ONLY:-0}" = 1 ]; then
	tsv=$work/build-only.tsv
	blog=$work/build-only-build.log
fi
src=$repo/mk/e2e
unset MAKEFLAGS MFLAGS MAKELEVEL
# shellcheck source=mk/lib.sh
. "$repo/mk/lib.sh"

mount_opts=${E2E_MOUNT_OPTS-buffered_iomap}
configs=${E2E_CONFIGS:-4k-delalloc 4k-nodelalloc 1k-delalloc 1k-nodelalloc 4kbig-delalloc 4k-default}
ops_expect=${E2E_OPS_EXPECT:-auto}
# The file operation cases of mk/e2e/init, in order: what works on every
# mount, then either the refusals (buffered_iomap) or the same
# operations working (the stock path).
ops_common="truncate-down-up write-past-eof falloc-overwrite dio-read dio-mix opcheck-dio seek-fiemap iopath remount-live swap chattr-j-user defrag inline-switch inline-enospc mmap-read-ok mmap-write-ok mmap-past-eof punch-ok zero-ok collapse-ok insert-ok opcheck opcheck-wb wb-race enospc-fill enospc-short-write short-write-past-eof"
# The cases of a real volume, run only in E2E_VOLUME_CONFIGS (mk/e2e/init
# leaves them out elsewhere, as this script does when it counts).
volume_ops="dio-mix opcheck-dio seek-fiemap iopath remount-live swap chattr-j-user defrag inline-switch inline-enospc"
volume_configs=${E2E_VOLUME_CONFIGS:-$configs}
ops_refuse="$ops_common refuse-chattr-e refuse-chattr-j"
ops_work="$ops_common chattr-e-ok chattr-j-ok"
# E2E_OPS: only these file operation cases (e.g. to rerun one)
if [ -n "${E2E_OPS:-}" ]; then
	ops_refuse=$E2E_OPS
	ops_work=$E2E_OPS
fi
if [ -z "${E2E_JOBS:-}" ]; then
	jobs=$(for f in "$src"/fio/*.fio; do basename "$f" .fio; done | LC_ALL=C sort | xargs)
else
	jobs=$(echo "$E2E_JOBS" | xargs)
fi
accel=${E2E_ACCEL:-auto}
mem=${E2E_MEM:-1G}
rd_size=${E2E_RD_SIZE:-262144}

mkdir -p "$out" "$work"
: > "$tsv"
t0=$(date +%s)

result() { printf '%s\t%s\t%s\n' "$1" "$2" "${3//$'\t'/ }" >> "$tsv"; }
msg() { echo "mk: e2e: $*"; }
# fail NAME DETAIL: record a failure that stops the run
fail() {
	result FAIL "$1" "$2"
	echo "mk: e2e: error: $1: $2" >&2
	echo "e2e: 0 passed, 1 failed ($1)"
	exit 1
}

# --- 0. arguments and tools ---------------------------------------------------
case "$mount_opts" in
*[!A-Za-z0-9_=,.:/+-]*) fail "arguments" "E2E_MOUNT_OPTS='$mount_opts': only letters, digits and _=,.:/+- please" ;;
esac
for c in $configs; do
	case "$c" in
	1k-delalloc | 1k-nodelalloc | 1k-default | 4k-delalloc | 4k-nodelalloc | 4k-default) ;;
	4kbig-delalloc | 4kbig-nodelalloc | 4kbig-default) ;;
	*) fail "arguments" "E2E_CONFIGS: '$c' is not {1k,4k,4kbig}-{delalloc,nodelalloc,default}" ;;
	esac
done
case "$ops_expect" in
auto | refuse | work) ;;
*) fail "arguments" "E2E_OPS_EXPECT=$ops_expect: use auto, refuse or work" ;;
esac
# refuses CONFIG: the file operation cases of CONFIG expect EOPNOTSUPP:
# with E2E_OPS_EXPECT=auto, when the last of buffered_iomap and
# nobuffered_iomap in its mount options (as mk/e2e/init makes them) is
# buffered_iomap
refuses() {
	local o on=0
	[ "$ops_expect" = auto ] || { [ "$ops_expect" = refuse ]; return; }
	case "$1" in *-default) return 1 ;; esac
	for o in ${mount_opts//,/ }; do
		case "$o" in
		buffered_iomap) on=1 ;;
		nobuffered_iomap) on=0 ;;
		esac
	done
	[ "$on" = 1 ]
}
refuse_configs=$(for c in $configs; do refuses "$c" && echo "$c"; done | xargs)
for j in $jobs; do
	[ -f "$src/fio/$j.fio" ] || fail "arguments" "E2E_JOBS: no mk/e2e/fio/$j.fio"
done
case "$accel" in
auto | kvm | tcg) ;;
*) fail "arguments" "E2E_ACCEL=$accel: use kvm, tcg or auto" ;;
esac
[ -f "$tree/Makefile" ] || fail "kernel tree" "no tree in $tree: run 'make tree'"

# tool NAME: the path of a command, also looked up in the sbin dirs
tool() {
	PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin command -v "$1"
}
missing=""
for t in qemu-system-x86_64 busybox fio mke2fs e2fsck debugfs chattr lsattr xfs_io xfs_quota e4defrag filefrag dmsetup cpio gzip ldd timeout; do
	tool "$t" >/dev/null || missing="$missing $t"
done
[ -z "$missing" ] || fail "tools" "missing:$missing (run 'make deps')"

# kvm_usable: /dev/kvm really opens read-write, and mk/kvm-usable.sh
# finds hardware virtualisation (a /dev/kvm without vmx/svm, as in
# some nested sandboxes, opens but cannot run a guest).  Sets $why.
kvm_usable() {
	if ! { [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; }; then
		why=" (/dev/kvm cannot be opened)"
		return 1
	fi
	if ! env -u E2E_ACCEL -u KUNIT_ACCEL "$repo/mk/kvm-usable.sh"; then
		why=" (/dev/kvm opens but the CPU has no vmx/svm: mk/kvm-usable.sh)"
		return 1
	fi
}
auto=0
why=""
if [ "$accel" = auto ]; then
	auto=1
	if kvm_usable; then accel=kvm; else accel=tcg; fi
else
	why=" (E2E_ACCEL=$accel)"
fi
if [ "$auto" = 0 ] && [ "$accel" = kvm ] && ! { [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; }; then
	fail "qemu" "E2E_ACCEL=kvm but /dev/kvm cannot be opened"
fi
# run_timeout ACCEL: the limit of the whole guest run
run_timeout() {
	if [ -n "${E2E_TIMEOUT:-}" ]; then echo "$E2E_TIMEOUT"
	elif [ "$1" = kvm ]; then echo 300
	else echo 900
	fi
}

# --- 1. kernel -----------------------------------------------------------------
kmake() { nice -n 10 make -C "$tree" O="$kobj" ARCH=x86_64 "$@"; }

# check_config: every CONFIG_ line of the fragment is in .config
check_config() {
	local line bad=""
	while read -r line; do
		grep -qxF "$line" "$kobj/.config" || bad="$bad ${line%%=*}"
	done < <(grep '^CONFIG_' "$src/kernel.config")
	[ -z "$bad" ] && return 0
	echo "mk: e2e: error: not set as asked in $kobj/.config (a missing dependency" \
		"or a symbol that does not exist; add it to mk/e2e/kernel.config):" >&2
	for line in $bad; do
		echo "    $line: $("$tree/scripts/config" --file "$kobj/.config" -s "${line#CONFIG_}")" >&2
	done
	result FAIL "kernel config" "not =y in .config:$bad"
	return 1
}

tk=$(date +%s)
bz=$kobj/arch/x86/boot/bzImage
mkdir -p "$kobj"
: > "$blog"
case "${E2E_KERNEL:-}" in
"")
	frag_sum=$(sha256sum < "$src/kernel.config" | cut -c1-64)
	if [ ! -f "$kobj/.config" ] || [ "$(cat "$kobj/.e2e-fragment" 2>/dev/null)" != "$frag_sum" ]; then
		msg "configuring $kobj: allnoconfig + mk/e2e/kernel.config"
		rm -f "$kobj/.e2e-fragment"
		if ! { KCONFIG_ALLCONFIG=$src/kernel.config kmake allnoconfig &&
		       kmake olddefconfig; } >> "$blog" 2>&1; then
			tail -n 20 "$blog" >&2
			fail "kernel config" "make allnoconfig/olddefconfig failed: see $blog"
		fi
		echo "$frag_sum" > "$kobj/.e2e-fragment"
	fi
	check_config || { echo "e2e: 0 passed, 1 failed (kernel config)"; exit 1; }
	before=$(stat -c %Y.%s "$bz" 2>/dev/null)
	msg "building bzImage in $kobj (nice, -j$(nproc); log: $blog)"
	if ! kmake -j"$(nproc)" bzImage >> "$blog" 2>&1; then
		grep -E 'error|Error' "$blog" | head -n 20 >&2
		fail "kernel build" "make bzImage failed: see $blog"
	fi
	if [ "$(stat -c %Y.%s "$bz" 2>/dev/null)" = "$before" ]; then
		msg "bzImage up to date ($(( $(date +%s) - tk ))s)"
	else
		msg "bzImage built in $(( $(date +%s) - tk ))s"
	fi ;;
debug)
	kobj=$build/kunit-x86_64-debug
	bz=$kobj/arch/x86/boot/bzImage
	if [ ! -f "$bz" ]; then
		msg "building the x86_64 debug kernel (mk/kunit.sh, KUNIT_DEBUG=1, build only; log: $blog)"
		KUNIT_CONFIG=ext4 KUNIT_DEBUG=1 KUNIT_BUILD_ONLY=1 \
			bash "$repo/mk/kunit.sh" "$repo" "$build" x86_64 >> "$blog" 2>&1 ||
			fail "kernel build" "mk/kunit.sh (debug, build only) failed: see $blog"
	fi
	# KASAN: 4-level paging (mk/lib.sh, X86_KARGS)
	E2E_KARGS="$E2E_KARGS $X86_KARGS"
	msg "kernel: $bz (the x86_64 debug kernel, E2E_KERNEL=debug)" ;;
*)	fail "arguments" "E2E_KERNEL='$E2E_KERNEL': use debug or leave it empty" ;;
esac
# kbuild may have updated .config (syncconfig) for a changed Kconfig
check_config || { echo "e2e: 0 passed, 1 failed (kernel config)"; exit 1; }
t_kernel=$(( $(date +%s) - tk ))

# --- 2. initramfs --------------------------------------------------------------
ti=$(date +%s)


# The base archive: binaries and libraries, rebuilt when one of them or
# this script changes.
bins=("$(tool busybox)" "$(tool fio)" "$(tool mke2fs)" "$(tool e2fsck)"
      "$(tool chattr)" "$(tool lsattr)" "$(tool xfs_io)" "$(tool dmsetup)"
      "$(tool xfs_quota)" "$(tool e4defrag)" "$(tool filefrag)" "$(tool debugfs)")
mapfile -t libs < <(for b in "${bins[@]}"; do ldd "$b" 2>/dev/null; done |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | LC_ALL=C sort -u)
if for b in "${bins[@]}"; do ldd "$b" 2>/dev/null; done | grep -q 'not found'; then
	fail "initramfs" "missing shared libraries: $(for b in "${bins[@]}"; do ldd "$b"; done 2>&1 | grep 'not found' | tr '\n' ' ')"
fi
extra=()
[ -f /etc/mke2fs.conf ] && extra+=(/etc/mke2fs.conf)
key=$( { sha256sum < "$repo/mk/e2e.sh"; printf '%s\n' "${bins[@]}" "${libs[@]}";
	 sha256sum "${bins[@]}" "${libs[@]}" "${extra[@]}"; } | sha256sum | cut -c1-16)
base=$work/base-$key.cpio.gz
libpath=$(printf '%s\n' "${libs[@]}" | xargs -r -n1 dirname | LC_ALL=C sort -u | tr '\n' ':')
libpath=${libpath%:}
if [ ! -f "$base" ]; then
	msg "packing busybox, fio, e2fsprogs (debugfs too), xfs_io, xfs_quota, dmsetup and ${#libs[@]} libraries"
	root=$work/base-root
	rm -rf "$root" "$work"/base-*.cpio.gz
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,mnt,e2e} || fail "initramfs" "mkdir $root"
	if ! { cp "${bins[0]}" "$root/bin/busybox" &&
	       cp "${bins[1]}" "$root/usr/bin/fio" &&
	       cp "${bins[2]}" "$root/usr/sbin/mke2fs" &&
	       cp "${bins[3]}" "$root/usr/sbin/e2fsck" &&
	       cp "${bins[4]}" "$root/usr/bin/chattr" &&
	       cp "${bins[5]}" "$root/usr/bin/lsattr" &&
	       cp "${bins[6]}" "$root/usr/sbin/xfs_io" &&
	       cp "${bins[7]}" "$root/usr/sbin/dmsetup" &&
	       cp "${bins[8]}" "$root/usr/sbin/xfs_quota" &&
	       cp "${bins[9]}" "$root/usr/sbin/e4defrag" &&
	       cp "${bins[10]}" "$root/usr/sbin/filefrag" &&
	       cp "${bins[11]}" "$root/usr/sbin/debugfs"; }; then
		fail "initramfs" "copying the binaries"
	fi
	for l in "${libs[@]}" "${extra[@]}"; do
		if ! { mkdir -p "$root$(dirname "$l")" && cp -L "$l" "$root$l"; }; then
			fail "initramfs" "copying $l"
		fi
	done
	# busybox applets, except where a real program is already there
	for a in $("$root/bin/busybox" --list-full); do
		[ -e "$root/$a" ] || [ -L "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	pack_initramfs "$root" "$base" || fail "initramfs" "cpio/gzip of $root failed"
	rm -rf "$root"
fi

# E2E_BUILD_ONLY=1 (used by mk/bench.sh): stop here and say where the
# kernel and the base archive are.
if [ "${E2E_BUILD_ONLY:-0}" = 1 ]; then
	printf 'bzimage=%s\nbase=%s\nlibpath=%s\n' "$bz" "$base" "$libpath" > "$work/build-only.out"
	msg "built $bz and $base"
	exit 0
fi

# The per-run archive: /init, the configuration and the fio jobs.
root=$work/run-root
rm -rf "$root"
mkdir -p "$root/e2e/fio"
install -m 755 "$src/init" "$root/init"
# The programs of tools/testing/ext4-iomap the guest runs, built static.
mkdir -p "$root/usr/bin"
for t in opcheck shortwrite wbrace iopath swaphog runas; do
	tsrc=$repo/tools/testing/ext4-iomap/$t.c
	if [ ! -x "$work/$t" ] || [ "$tsrc" -nt "$work/$t" ]; then
		gcc -O2 -Wall -static -pthread -o "$work/$t" "$tsrc" 2> "$work/$t.log" ||
			{ cat "$work/$t.log" >&2; fail "initramfs" "building $tsrc failed"; }
	fi
	cp "$work/$t" "$root/usr/bin/$t"
done
for j in $jobs; do cp "$src/fio/$j.fio" "$root/e2e/fio/"; done
# one step in the guest: a quarter of the longest whole run
step_timeout=$(( $(run_timeout tcg) / 4 ))
cat > "$root/e2e/conf" <<EOF
E2E_MOUNT_OPTS='$mount_opts'
E2E_CONFIGS='$configs'
E2E_JOBS='$jobs'
E2E_STEP_TIMEOUT=$step_timeout
E2E_LIBPATH='$libpath'
E2E_REFUSE='$refuse_configs'
E2E_OPS_REFUSE='$ops_refuse'
E2E_OPS_WORK='$ops_work'
E2E_OPCHECK_WB_OPS='${E2E_OPCHECK_WB_OPS:-4000}'
E2E_WBRACE='${E2E_WBRACE:-10000}'
E2E_OPCHECK_WB_SEEDS='${E2E_OPCHECK_WB_SEEDS:-11 12}'
E2E_VOLUME_CONFIGS='$volume_configs'
E2E_VOLUME_OPS='$volume_ops'
E2E_OPCHECK_DIO_OPS='${E2E_OPCHECK_DIO_OPS:-2000}'
E2E_REMOUNTS='${E2E_REMOUNTS:-10}'
E2E_REMOUNT_OPS='${E2E_REMOUNT_OPS:-3000}'
E2E_SWAP_MIB='${E2E_SWAP_MIB:-32}'
EOF
initrd=$work/initrd.img
if ! pack_initramfs "$root" "$work/run.cpio.gz" || ! cat "$base" "$work/run.cpio.gz" > "$initrd"; then
	fail "initramfs" "packing $root failed"
fi
rm -rf "$root"
t_initrd=$(( $(date +%s) - ti ))
msg "initramfs $(du -h "$initrd" | cut -f1) (${t_initrd}s)"

# --- 3. QEMU ---------------------------------------------------------------------
# boot ACCEL: run the guest, console into $log (CR and SeaBIOS's
# terminal escapes stripped).  The console shows kernel warnings and
# worse (loglevel=5); the guest adds all of dmesg after each
# configuration.
boot() {
	local a=$1 cpu tmo
	if [ "$a" = kvm ]; then cpu=host; else cpu=max; fi
	tmo=$(run_timeout "$a")
	msg "booting the guest with $a$why, timeout ${tmo}s; console: $log"
	echo "mk: e2e: $a, mount options '$mount_opts', configurations: $configs," \
		"EOPNOTSUPP expected in: ${refuse_configs:-none}" > "$log"
	timeout -k 10 "$tmo" qemu-system-x86_64 "${E2E_QEMU_MACHINE[@]}" -accel "$a" -cpu "$cpu" \
		-m "$mem" -smp 2 -nographic -no-reboot -nic none \
		-kernel "$bz" -initrd "$initrd" \
		-append "console=ttyS0 loglevel=5 panic=-1 $E2E_KARGS brd.rd_nr=2 brd.rd_size=$rd_size" \
		< /dev/null 2>&1 | sed -u 's/\r$//; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[a-z]//g' |
		tee -a "$log" |
		grep --line-buffered -E '^(not )?ok [0-9]+ - |^1\.\.[0-9]+$' | sed -u 's/^/    /'
	qemu_rc=${PIPESTATUS[0]}
	[ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ] && echo "mk: e2e: guest killed after ${tmo}s" | tee -a "$log"
}

tg=$(date +%s)
boot "$accel"
if [ "$accel" = kvm ] && [ "$auto" = 1 ] && [ "$qemu_rc" != 0 ] && [ "$qemu_rc" != 124 ] &&
   [ "$qemu_rc" != 137 ] && ! grep -q '^# e2e guest:' "$log"; then
	# /dev/kvm opened but QEMU could not use it: try again with TCG
	tail -n 5 "$log" >&2
	accel=tcg
	why=" (QEMU could not use KVM)"
	tg=$(date +%s)
	boot tcg
fi
t_guest=$(( $(date +%s) - tg ))

# --- 4. results ------------------------------------------------------------------
declare -A status detail
order=()
re='^(not )?ok [0-9]+ - ([A-Za-z0-9._-]+)( # (.*))?$'
ntap=0
plan=""
while IFS= read -r line; do
	if [[ $line =~ $re ]]; then
		name=${BASH_REMATCH[2]}
		ntap=$((ntap + 1))
		[ -n "${status[$name]:-}" ] || order+=("$name")
		if [ -n "${BASH_REMATCH[1]}" ]; then
			status[$name]=FAIL
			detail[$name]=${BASH_REMATCH[4]:-failed}
		elif [[ ${BASH_REMATCH[4]:-} == SKIP* ]]; then
			status[$name]=SKIP
			detail[$name]=${BASH_REMATCH[4]#SKIP }
		else
			status[$name]=PASS
			detail[$name]=""
		fi
	elif [[ $line =~ ^1\.\.([0-9]+)$ ]]; then
		plan=${BASH_REMATCH[1]}
	fi
done < "$log"

declare -A expected
for c in $configs; do
	if refuses "$c"; then ops=$ops_refuse; else ops=$ops_work; fi
	# bigalloc: no fixed-range collapse/insert (not cluster-aligned)
	case $c in 4kbig-*) ops=$(echo " $ops " | sed 's/ collapse-ok / /; s/ insert-ok / /') ;; esac
	# the cases of a real volume only in E2E_VOLUME_CONFIGS (as the guest)
	if [[ " $volume_configs " != *" $c "* ]]; then
		for v in $volume_ops; do ops=$(echo " $ops " | sed "s/ $v / /"); done
	fi
	steps=$(for s in $jobs $ops; do echo "$s $s-fsck"; done)
	for s in mkfs mount $steps umount remount remount-verify ops-remount-verify remount-umount fsck; do
		expected[$c-$s]=1
		if [ -z "${status[$c-$s]:-}" ]; then
			result FAIL "$c-$s" "no result: the guest stopped before this step (crash or timeout? see $log)"
		else
			result "${status[$c-$s]}" "$c-$s" "${detail[$c-$s]}"
		fi
	done
done
for name in "${order[@]}"; do
	[ -n "${expected[$name]:-}" ] || result "${status[$name]}" "$name" "${detail[$name]}"
done

if [ -n "$plan" ] && [ "$plan" = "$ntap" ] && { [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; }; then
	result FAIL "guest run" "finished but did not power off: QEMU killed after ${t_guest}s ($accel)"
elif [ -n "$plan" ] && [ "$plan" = "$ntap" ]; then
	result PASS "guest run" "$accel, ${t_guest}s"
elif [ -n "$plan" ]; then
	result FAIL "guest run" "plan 1..$plan but $ntap result lines ($accel)"
else
	qerr=$(grep -m1 '^qemu-system' "$log")
	result FAIL "guest run" "no plan line: the guest did not finish (qemu exit $qemu_rc${qerr:+: $qerr}, $accel, ${t_guest}s; see $log)"
fi

# Kernel warnings fail the run even when every step passed.
oops=$(grep -m1 -E "$KERNEL_REPORTS" "$log")
if [ -z "$oops" ] && ! grep -q '^# e2e guest:' "$log"; then
	result SKIP "kernel log clean" "the guest did not start"
elif [ -z "$oops" ]; then
	result PASS "kernel log clean" ""
else
	result FAIL "kernel log clean" "$(echo "$oops" | sed 's/^# dmesg: //' | cut -c1-200)"
fi

# --- 5. summary ------------------------------------------------------------------
grep '^FAIL' "$tsv" | cut -f2- | sed 's/\t/: /; s/^/mk: e2e: FAIL /'
np=$(grep -c '^PASS' "$tsv")
nf=$(grep -c '^FAIL' "$tsv")
ns=$(grep -c '^SKIP' "$tsv")
msg "times: kernel ${t_kernel}s, initramfs ${t_initrd}s, guest ${t_guest}s ($accel), total $(( $(date +%s) - t0 ))s"
msg "results: $tsv, console: $log"
echo "e2e: $np passed, $nf failed$([ "$ns" = 0 ] || echo ", $ns skipped") ($accel, ${t_guest}s)"
[ "$nf" = 0 ]
