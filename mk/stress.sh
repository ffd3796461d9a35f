#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make stress: a concurrent, seeded stress of the iomap path in an x86_64
# guest on a debug kernel (mk/stress/init says what runs).  The kernel is
# the x86_64 KUnit kernel with KASAN, PROVE_LOCKING, DEBUG_VM and UBSAN of
# `make test` (mk/kunit.sh with KUNIT_DEBUG=1, which also gives it what
# an initramfs boot needs), booted with kunit.enable=0; it is built here
# if `make test` has not built it.  The user space is the e2e base
# archive (busybox, e2fsprogs, xfs_io) plus opcheck.
#
# Results: BUILD_DIR/results/stress.tsv (a line per worker and check, and
# one for a clean kernel log), the console in BUILD_DIR/results/stress.log.
# A failure prints its seed; `make stress STRESS_SEED=N` reruns it alone.
#
# STRESS_MODE=nearfull runs mk/stress/nearfull instead: writers on a
# file system a few MiB from full, their data checked after a remount,
# the kernel log searched for lost data, the stock path as the control.
# Results: BUILD_DIR/results/nearfull.tsv, the console in nearfull.log.
# NF_SEEDS (default 1), NF_CONFIGS (name/blocksize/mkfs features/mount
# options, see the default below; "-ql": user and group quota limits,
# "-qp": a project quota limit; "-inl": new files start in their inode,
# for file systems with inline_data, not in the default list because the
# stock path fails there too, docs/stress.md; "-dfg": e4defrag runs
# beside the writers), NF_FS_MB (24),
# NF_WRITERS (4), NF_OPS (1500 per writer), NF_FILES (12 per writer),
# NF_MAXSIZE (1 MiB per file), NF_QLIMIT_MB (8), NF_CHOWN=0 (the
# writers leave chown out), NF_QGROW_IDS (160: new owners per quota-grow
# check, once per configuration with quota).  STRESS_KERNEL=e2e boots
# the e2e kernel instead of the debug kernel (quicker under TCG).
#
# Usage: stress.sh REPO_DIR BUILD_DIR
# Environment: STRESS_SEED (default 1), STRESS_OPS (operations per worker,
#   default 300), STRESS_WBRACE (rounds of wbrace, default 1000),
#   STRESS_CONFIGS (default "1k:1024:0 4k:4096:0
#   4kbig:4096:65536": name:blocksize:cluster size), STRESS_TIMEOUT
#   (default 1200 s)
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
out=$build/results
work=$build/stress
tsv=$out/stress.tsv
# STRESS_MODE=nearfull: the near-full stress (mk/stress/nearfull).
mode=${STRESS_MODE:-mixed}
[ "$mode" != nearfull ] || tsv=$out/nearfull.tsv
unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$out" "$work"
: > "$tsv"
# shellcheck source=mk/lib.sh
. "$repo/mk/lib.sh"
msg() { echo "mk: stress: $*"; }
fail() { printf 'FAIL\t%s\t%s\n' "$1" "$2" >> "$tsv"; echo "mk: stress: error: $1: $2" >&2; echo "stress: 0 passed, 1 failed"; exit 1; }

case "$mode" in mixed|nearfull) ;; *) fail "arguments" "STRESS_MODE='$mode' is not mixed or nearfull" ;; esac
nf_configs=${NF_CONFIGS:-4k-da/4096/quota/buffered_iomap,delalloc 1k-da/1024/quota/buffered_iomap,delalloc 4k-nda-fc/4096/quota,fast_commit/buffered_iomap,nodelalloc 1k-nda/1024/quota/buffered_iomap,nodelalloc 4k-da-ql/4096/quota/buffered_iomap,delalloc,usrquota,grpquota 1k-nda-ql/1024/quota/buffered_iomap,nodelalloc,usrquota,grpquota 4k-da-qp/4096/quota,project/buffered_iomap,delalloc,prjquota 1k-nda-qp/1024/quota,project/buffered_iomap,nodelalloc,prjquota 4k-stock/4096/quota/delalloc 1k-stock-nda/1024/quota/nodelalloc 4k-stock-ql/4096/quota/delalloc,usrquota,grpquota 4k-stock-qp/4096/quota,project/delalloc,prjquota}
nf_seeds=${NF_SEEDS:-1}
case "$nf_configs$nf_seeds" in *[!A-Za-z0-9_/,=.\ -]*) fail "arguments" "NF_CONFIGS or NF_SEEDS" ;; esac
seed=${STRESS_SEED:-1}
configs=${STRESS_CONFIGS:-1k:1024:0 4k:4096:0 4kbig:4096:65536}
case "$seed" in ''|*[!0-9]*) fail "arguments" "STRESS_SEED='$seed' is not a number" ;; esac
case "$configs" in *[!A-Za-z0-9:\ ]*) fail "arguments" "STRESS_CONFIGS='$configs'" ;; esac

# STRESS_KERNEL=e2e: the e2e kernel (no debug options, a few times as
# fast under TCG) instead of the debug kernel, for quick reruns.
kernel=${STRESS_KERNEL:-debug}
case "$kernel" in debug|e2e) ;; *) fail "arguments" "STRESS_KERNEL='$kernel' is not debug or e2e" ;; esac
bz=$build/kunit-x86_64-debug/arch/x86/boot/bzImage
if [ "$kernel" = e2e ]; then
	:
elif [ ! -f "$bz" ] || ! grep -qx 'CONFIG_BLK_DEV_INITRD=y' "$build/kunit-x86_64-debug/.config"; then
	msg "building the x86_64 debug kernel (mk/kunit.sh, KUNIT_DEBUG=1, build only)"
	KUNIT_CONFIG=ext4 KUNIT_DEBUG=1 KUNIT_BUILD_ONLY=1 bash "$repo/mk/kunit.sh" "$repo" "$build" x86_64 \
		> "$work/kernel.log" 2>&1 || fail "debug kernel" "build failed: see $work/kernel.log"
fi
for o in KASAN PROVE_LOCKING DEBUG_VM UBSAN BLK_DEV_INITRD BLK_DEV_RAM QUOTA; do
	[ "$kernel" = debug ] || break
	grep -qx "CONFIG_$o=y" "$build/kunit-x86_64-debug/.config" ||
		fail "debug kernel" "CONFIG_$o is not set in $build/kunit-x86_64-debug/.config"
done
E2E_BUILD_ONLY=1 bash "$repo/mk/e2e.sh" "$repo" "$build" > "$work/e2e-build.log" 2>&1 ||
	fail "initramfs" "mk/e2e.sh build failed: see $work/e2e-build.log"
# shellcheck disable=SC1091
. "$build/e2e/build-only.out"
for t in opcheck wbrace nearfull; do
	gcc -O2 -Wall -static -pthread -o "$work/$t" "$repo/tools/testing/ext4-iomap/$t.c" ||
		fail "$t" "building tools/testing/ext4-iomap/$t.c failed"
done

root=$work/root
rm -rf "$root"
mkdir -p "$root/stress" "$root/usr/bin"
if [ "$mode" = nearfull ]; then
	install -m 755 "$repo/mk/stress/nearfull" "$root/init"
else
	install -m 755 "$repo/mk/stress/init" "$root/init"
fi
install -m 755 "$work/opcheck" "$work/wbrace" "$work/nearfull" "$root/usr/bin/"
cat > "$root/stress/conf" <<CONF
STRESS_SEED=$seed
STRESS_OPS=${STRESS_OPS:-300}
STRESS_WBRACE=${STRESS_WBRACE:-1000}
STRESS_CONFIGS='$configs'
STRESS_PRIVATE=3
STRESS_SHARED=2
STRESS_MAXSIZE=262144
STRESS_HEADROOM=1536
STRESS_LIBPATH='$libpath'
NF_SEEDS='$nf_seeds'
NF_CONFIGS='$nf_configs'
NF_FS_MB=${NF_FS_MB:-24}
NF_WRITERS=${NF_WRITERS:-4}
NF_OPS=${NF_OPS:-1500}
NF_FILES=${NF_FILES:-12}
NF_MAXSIZE=${NF_MAXSIZE:-1048576}
NF_QLIMIT_MB=${NF_QLIMIT_MB:-8}
NF_QGROW_IDS=${NF_QGROW_IDS:-160}
NF_NOCHOWN='$([ "${NF_CHOWN:-1}" = 1 ] || echo -C)'
CONF
pack_initramfs "$root" "$work/stress.cpio.gz" &&
	cat "$base" "$work/stress.cpio.gz" > "$work/initrd.img" || fail "initramfs" "packing $root"

accel=$(qemu_accel "$repo")
if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi
machine=()
kargs="kunit.enable=0 $X86_KARGS"
if [ "$kernel" = e2e ]; then
	bz=$bzimage
	machine=("${E2E_QEMU_MACHINE[@]}")
	kargs=$E2E_KARGS
fi
log=$out/stress.log
if [ "$mode" = nearfull ]; then
	log=$out/nearfull.log
	msg "boot ($accel, $kernel kernel, near-full mode, seeds: $nf_seeds, configs: $nf_configs)"
else
	msg "boot ($accel, $kernel kernel, seed $seed, configs: $configs)"
fi
start=$(date +%s)
timeout -k 10 "${STRESS_TIMEOUT:-1200}" qemu-system-x86_64 "${machine[@]}" -accel "$accel" -cpu "$cpu" \
	-m 2G -smp 2 -nographic -no-reboot -nic none \
	-kernel "$bz" -initrd "$work/initrd.img" \
	-append "console=ttyS0 loglevel=3 log_buf_len=16M panic=-1 $kargs brd.rd_nr=1 brd.rd_size=65536" \
	< /dev/null 2>&1 | sed -u 's/\r$//; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' > "$log"
grep -E '^(not )?ok [0-9]+ - |^# stress|^# nearfull|^# quota-grow' "$log" | sed 's/^/    /'

tap_to_tsv "$log" >> "$tsv"
if [ "$mode" = nearfull ]; then
	# Four results per configuration and seed, five with a quota limit,
	# and one per configuration with quota for the quota file growth.
	want=$(( $(echo "$nf_seeds" | wc -w) * ($(echo "$nf_configs" | wc -w) * 4 +
		$(echo "$nf_configs" | tr ' ' '\n' | grep -c '^[^/]*-q[lp]/')) +
		$(echo "$nf_configs" | tr ' ' '\n' | grep -c '^[^/]*/[^/]*/\([^/]*,\)\?quota[,/]') ))
else
	want=$(( $(echo "$configs" | wc -w) * (3 + 2 + 1 + 2) ))
fi
got=$(wc -l < "$tsv")
[ "$got" = "$want" ] || printf 'FAIL\tstress run\t%s results, expected %s (see %s)\n' \
	"$got" "$want" "$log" >> "$tsv"
oops=$(grep -m1 -E "$KERNEL_REPORTS" "$log")
if [ -z "$oops" ]; then
	printf 'PASS\t%s kernel log clean (%s kernel)\t\n' "${tsv##*/}" "$kernel" >> "$tsv"
else
	printf 'FAIL\t%s kernel log clean\t%s\n' "${tsv##*/}" "$oops" >> "$tsv"
fi
np=$(grep -c '^PASS' "$tsv")
nf=$(grep -c '^FAIL' "$tsv")
grep '^FAIL' "$tsv" | cut -f2- | sed 's/\t/: /; s/^/mk: stress: FAIL /'
if [ "$mode" = nearfull ]; then
	[ "$nf" = 0 ] || echo "mk: stress: near-full failures: see $log; rerun one: make stress STRESS_MODE=nearfull NF_SEEDS=N NF_CONFIGS=..."
else
	[ "$nf" = 0 ] || echo "mk: stress: seed $seed failed; rerun it alone: make stress STRESS_SEED=$seed"
fi
echo "stress: $np passed, $nf failed ($accel, $(( $(date +%s) - start ))s)"
[ "$nf" = 0 ]
