#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: buffered write throughput of ext4 through iomap against
# buffer_heads, on the same kernel in one boot.  The e2e kernel and
# initramfs base (mk/e2e.sh, E2E_BUILD_ONLY=1) boot in QEMU x86_64 (KVM
# when usable, else TCG, as the report says) with a RAM disk; the guest
# (mk/bench/init) runs fio with 4k-block ext4 for every block size and
# case, on a default mount (buffer_head, delalloc), a buffered_iomap
# mount with delalloc and one with nodelalloc, alternated, BENCH_REPS
# times, a fresh file system per run.  Cases: seq-append (new file),
# seq-overwrite and rand-overwrite (a file written and fsynced first),
# each cached (no fsync) and with an fsync at the end ("-fsync").
# Results: BUILD_DIR/results/bench/{bench.json,bench.md,bench.png,console.log}.
#
# Usage: bench.sh REPO_DIR BUILD_DIR
# Environment: BENCH_REPS (5), BENCH_SIZE (fio size, 16m), BENCH_BS
#   ("1k 4k 64k 1m"), BENCH_CASES, BENCH_PATHS ("bh iomap iomap-nd"),
#   BENCH_ACCEL (kvm|tcg|auto), BENCH_TIMEOUT (seconds, 5400)
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
out=$build/results/bench
work=$build/e2e
unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$out"
# shellcheck source=mk/lib.sh
. "$repo/mk/lib.sh"
msg() { echo "mk: bench: $*"; }
die() { echo "mk: bench: error: $*" >&2; exit 1; }

reps=${BENCH_REPS:-5}
size=${BENCH_SIZE:-16m}
bss=${BENCH_BS:-1k 4k 64k 1m}
cases=${BENCH_CASES:-seq-append seq-append-fsync seq-overwrite seq-overwrite-fsync rand-overwrite rand-overwrite-fsync}
paths=${BENCH_PATHS:-bh iomap iomap-nd}
[ "$reps" -ge 1 ] 2>/dev/null || die "BENCH_REPS=$reps"
command -v gnuplot >/dev/null || die "no gnuplot (run 'make deps')"

E2E_BUILD_ONLY=1 bash "$repo/mk/e2e.sh" "$repo" "$build" || die "building the kernel and initramfs failed"
# shellcheck disable=SC1091
. "$work/build-only.out"

root=$work/bench-root
rm -rf "$root"
mkdir -p "$root/bench" "$root/mnt" "$root/tmp"
install -m 755 "$repo/mk/bench/init" "$root/init"
cat > "$root/bench/conf" <<CONF
BENCH_REPS=$reps
BENCH_SIZE=$size
BENCH_BS='$bss'
BENCH_CASES='$cases'
BENCH_PATHS='$paths'
BENCH_LIBPATH='$libpath'
CONF
pack_initramfs "$root" "$work/bench.cpio.gz" || die "packing"
cat "$base" "$work/bench.cpio.gz" > "$work/bench-initrd.img"
rm -rf "$root"

accel=${BENCH_ACCEL:-auto}
if [ "$accel" = auto ]; then
	accel=$(qemu_accel "$repo")
fi
if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi
kver=$(make -s -C "$tree" kernelversion 2>/dev/null)
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
qver=$(qemu-system-x86_64 --version | head -n 1 | sed 's/^QEMU emulator version //')
msg "QEMU $qver with $accel (not KVM: throughput is that of emulation, compare ratios)" 
[ "$accel" = kvm ] || msg "TCG: figures are emulated-CPU figures; only the ratios carry over"
msg "$reps repetitions x $(echo $bss | wc -w) block sizes x $(echo $cases | wc -w) cases x $(echo $paths | wc -w) paths; console: $out/console.log"
start=$(date +%s)
timeout -k 10 "${BENCH_TIMEOUT:-5400}" qemu-system-x86_64 "${E2E_QEMU_MACHINE[@]}" -accel "$accel" \
	-cpu "$cpu" -m 2G -smp 2 -nographic -no-reboot -nic none \
	-kernel "$bzimage" -initrd "$work/bench-initrd.img" \
	-append "console=ttyS0 loglevel=4 panic=-1 $E2E_KARGS brd.rd_nr=1 brd.rd_size=524288" \
	< /dev/null 2>&1 | sed -u 's/\r$//' | tee "$out/console.log" |
	grep --line-buffered -E '^BENCH-END|^# ' | sed -u 's/^/    /'
secs=$(( $(date +%s) - start ))
msg "guest ran ${secs}s"

python3 "$repo/mk/bench/report.py" "$out/console.log" "$out" \
	"kernel=$kver" "host=$(nproc) cores, $model" "qemu=$qver" "accel=$accel" \
	"guest=2 vCPUs, 2 GiB, brd RAM disk" "size=$size" "reps=$reps" "wall=${secs}s"
rc=$?
bench_chart "$out/bench.dat" "$out/bench.png" \
	"ext4 buffered writes, 4k blocks: buffer_head vs iomap\nkernel $kver, QEMU $accel, fio $size per run, median of $reps" || rc=1
# The KUnit suite's own cost, appended to the table: its per-case run time
# from the last UML run's KTAP (make kunit) and the compile time of its
# objects against the cold `make kunit` step of the last make test.
ktap=$build/results/kunit-um.ktap
if [ -f "$ktap" ] && [ -x "$build/kunit-um/linux" ]; then
	{
		echo
		suites="ext4_iomap_write ext4_iomap_enospc ext4_iomap_error ext4_iomap_race"
		for su in $suites; do
			echo "KUnit suite $su under UML, per case (from $(basename "$ktap"); UML's printk clock moves in 10 ms steps):"
			echo
			python3 "$repo/mk/kunit-times.py" "$ktap" "$su"
			for a in x86_64 arm64; do
				[ -f "$build/results/kunit-$a.ktap" ] || continue
				printf '\nUnder %s (QEMU TCG): ' "$a"
				python3 "$repo/mk/kunit-times.py" "$build/results/kunit-$a.ktap" "$su" | tail -n 1
			done
			echo
		done
		echo
		objs="fs/ext4/iomap-write-test.o fs/ext4/iomap-enospc-test.o fs/ext4/iomap-error-test.o fs/ext4/iomap-race-test.o fs/ext4/kunit-fixture.o fs/ext4/kunit-mkfs.o fs/ext4/fixture-test.o lib/kunit/ramdisk.o"
		for o in $objs; do rm -f "$build/kunit-um/$o"; done
		t0=$(date +%s.%N)
		# shellcheck disable=SC2086
		make -s -C "$tree" ARCH=um O="$build/kunit-um" -j1 $objs >/dev/null 2>&1
		t1=$(date +%s.%N)
		cold=$(sed -n 's/^kunit-um \([0-9]*\)s.*/\1/p' "$build/results/times.txt" 2>/dev/null)
		printf 'Compiling their objects (suites, fixture, mkfs, fixture tests, ramdisk) takes %.1f s on one core' \
			"$(echo "$t1 - $t0" | bc)"
		if [ -n "$cold" ]; then
			printf '; the whole UML build and run step of the last make test took %s s on %s cores (%.1f%% of its core-seconds).\n' \
				"$cold" "$(nproc)" "$(echo "100 * ($t1 - $t0) / ($cold * $(nproc))" | bc -l)"
		else
			echo "."
		fi
	} >> "$out/bench.md"
	tail -n 5 "$out/bench.md"
fi
msg "results: $out/bench.{md,json,png}"
exit "$rc"
