#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the repo's KUnit suites on one architecture with the tree's own
# kunit.py, and keep the results under BUILD_DIR/results:
#   kunit-ARCH.log   kunit.py's parsed output
#   kunit-ARCH.ktap  the kernel's raw console output (KTAP)
#   kunit-ARCH.json  kunit.py --json (KernelCI format)
#
# The raw console of the run is searched for kernel reports (BUG, WARNING,
# KASAN, UBSAN, lockdep, Oops, hung tasks): any is a failure even when
# every test passed.
#
# Usage: kunit.sh REPO_DIR BUILD_DIR ARCH [extra kunit.py args...]
#   ARCH: um | x86_64 | arm64
# Environment:
#   KUNIT_DEBUG=1  a kernel with KASAN, PROVE_LOCKING, DEBUG_VM and UBSAN
#                  (its own build dir; results named kunit-ARCH-debug.*);
#                  on x86_64 also every option of mk/e2e/kernel.config,
#                  so that mk/stress.sh (and mk/e2e.sh, mk/crash.sh with
#                  E2E_KERNEL=debug) can boot the same kernel
#   KUNIT_BUILD_ONLY=1  build the kernel, run nothing
#   KUNIT_TIMEOUT=S  limit of the kernel's run (default 900 s)
#   KUNIT_PAGES=16k|64k  arm64 only: that page size (results and build dir
#                  named kunit-arm64-16k.*, kunit-arm64-64k.*)
#   KUNIT_SKIP_SLOW=1  skip (KTAP "# SKIP") the cases marked speed=slow,
#                  upstream's test_mb_mark_used_cost: a cost benchmark of
#                  mballoc that takes 90-110 s under QEMU without KVM
#   KUNIT_CRASH_STRIDE=N  check every Nth state of the ext4_iomap_crash
#                  suite only (ext4_test.crash_stride=N on the command line)
#   KUNIT_CONFIG=ext4  the ext4 directory's own kunitconfig, as bots run it
#                  (kunit.py run --kunitconfig=fs/ext4), instead of the
#                  repo's .kunitconfig
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
arch=$3
shift 3
tree=$build/linux
out=$build/results
# shellcheck source=mk/lib.sh
. "$repo/mk/lib.sh"
name=kunit-$arch
debug=()
if [ "${KUNIT_DEBUG:-0}" = 1 ]; then
	name=kunit-$arch-debug
	for o in KASAN PROVE_LOCKING DEBUG_VM UBSAN DEBUG_KERNEL DEBUG_ATOMIC_SLEEP; do
		debug+=(--kconfig_add "CONFIG_$o=y")
	done
	# Outline KASAN (a call per access instead of the check inlined):
	# the same reports; the heaviest files (fs/ext4/inode.c,
	# kernel/sched/core.c) compile 30-40 % faster with it here.
	debug+=(--kconfig_add CONFIG_KASAN_OUTLINE=y)
	if [ "$arch" = x86_64 ]; then
		# Everything the e2e kernel has (mk/e2e/kernel.config: an
		# initramfs boot, RAM disks, virtio over MMIO, device mapper
		# with dm-log-writes, quota), so that the stress, and in make
		# test the e2e and the crash check too (E2E_KERNEL=debug),
		# boot this kernel with kunit.enable=0.
		while read -r o; do
			debug+=(--kconfig_add "$o")
		done < <(grep '^CONFIG_' "$repo/mk/e2e/kernel.config")
		# Less to build (about 90 options of 800, measured in the
		# README) and less to run under TCG, nothing ext4, the block
		# layer or the tests use: no CPU mitigations (retpolines,
		# call depth tracking), trace probes, initramfs decompressors
		# but gzip, VT and input, IOMMU, io_uring, MCE. EXPERT makes
		# some of them optional; DEBUG_MEMORY_INIT stays on.
		debug+=(--kconfig_add CONFIG_EXPERT=y --kconfig_add CONFIG_DEBUG_MEMORY_INIT=y)
		for o in CPU_MITIGATIONS FTRACE RD_BZIP2 RD_LZMA RD_XZ RD_LZO RD_LZ4 \
			 RD_ZSTD VT INPUT SERIO IO_URING X86_MCE HW_RANDOM IOMMU_SUPPORT \
			 RANDOMIZE_BASE X86_KERNEL_IBT PERF_EVENTS_AMD_UNCORE; do
			debug+=(--kconfig_add "# CONFIG_$o is not set")
		done
		# No ACPI (olddefconfig's default; 220 objects of about
		# 1370): the guests find their CPUs in the firmware's MP
		# table and end by a reset (-no-reboot).
		debug+=(--kconfig_add "# CONFIG_ACPI is not set")
	fi
fi
case "${KUNIT_PAGES:-}" in
"") ;;
16k|64k) [ "$arch" = arm64 ] || { echo "mk: error: KUNIT_PAGES is for arm64" >&2; exit 2; }
	name=$name-${KUNIT_PAGES}
	debug+=(--kconfig_add "CONFIG_ARM64_${KUNIT_PAGES^^}_PAGES=y") ;;
*)	echo "mk: error: KUNIT_PAGES=$KUNIT_PAGES: use 16k or 64k" >&2; exit 2 ;;
esac
kunitconfig=$repo/.kunitconfig
case "${KUNIT_CONFIG:-}" in
"") ;;
ext4) kunitconfig=fs/ext4 ;;
*)	echo "mk: error: KUNIT_CONFIG=$KUNIT_CONFIG: use ext4" >&2; exit 2 ;;
esac
bdir=$build/$name
mkdir -p "$out"

# Console timestamps give the per-case run times (mk/kunit-times.py); they
# change nothing else.
# kunit.py's default of 300 s for the run is too short for the debug
# kernel under TCG on a busy 2-core machine (seen: 300 s reached with 219
# of 236 cases done).
args=(run --kunitconfig="$kunitconfig" --build_dir="$bdir"
      --timeout="${KUNIT_TIMEOUT:-900}" --kconfig_add CONFIG_PRINTK_TIME=y
      --jobs="$(nproc)" --json="$out/$name.json" "${debug[@]}")
if [ "${KUNIT_BUILD_ONLY:-0}" = 1 ]; then
	args=(build --kunitconfig="$kunitconfig" --build_dir="$bdir"
	      --kconfig_add CONFIG_PRINTK_TIME=y --jobs="$(nproc)" "${debug[@]}")
	[ "$arch" = um ] || args+=(--arch="$arch")
	[ "$arch" != arm64 ] || ! command -v aarch64-linux-gnu-gcc >/dev/null ||
		args+=(--cross_compile=aarch64-linux-gnu-)
	cd "$tree" && exec python3 tools/testing/kunit/kunit.py "${args[@]}" "$@"
fi
case "$arch" in
um) ;;
x86_64) args+=(--arch=x86_64)
	# Only let QEMU try KVM where it really works (see the wrapper).
	export PATH="$repo/mk/qemu-bin:$PATH"
	if "$repo/mk/kvm-usable.sh"; then accel=kvm; else accel=tcg; fi
	echo "mk: kunit x86_64 under QEMU with $accel" ;;
arm64)	args+=(--arch=arm64)
	echo "mk: kunit arm64 under QEMU with tcg"
	command -v aarch64-linux-gnu-gcc >/dev/null &&
		args+=(--cross_compile=aarch64-linux-gnu-) ;;
*)	echo "mk: error: ARCH=$arch: use um, x86_64 or arm64" >&2; exit 2 ;;
esac

if [ "${KUNIT_SKIP_SLOW:-0}" = 1 ]; then
	args+=(--filter="speed>slow" --filter_action=skip)
fi
case "${KUNIT_CRASH_STRIDE:-}" in
"") ;;
*[!0-9]*|0) echo "mk: error: KUNIT_CRASH_STRIDE=$KUNIT_CRASH_STRIDE: use a number > 0" >&2; exit 2 ;;
*)	args+=(--kernel_args="ext4_test.crash_stride=$KUNIT_CRASH_STRIDE") ;;
esac

rm -f "$out/$name.json" "$out/$name.ktap" "$bdir/test.log"
start=$(date +%s)
(cd "$tree" && python3 tools/testing/kunit/kunit.py "${args[@]}" "$@") 2>&1 |
	tee "$out/$name.log"
rc=${PIPESTATUS[0]}
[ -f "$bdir/test.log" ] && cp "$bdir/test.log" "$out/$name.ktap"
if [ -f "$out/$name.ktap" ] && grep -Eq "$KERNEL_REPORTS" "$out/$name.ktap"; then
	echo "mk: kunit $arch: the kernel reported problems during the run:" >&2
	grep -En "$KERNEL_REPORTS" "$out/$name.ktap" | head -n 20 | sed 's/^/    /' >&2
	rc=1
	# Make the summary count it even if every case passed.
	python3 - "$out/$name.json" <<'PY'
import json, sys
p = sys.argv[1]
try:
    d = json.load(open(p))
except (OSError, ValueError):
    sys.exit(0)
d.setdefault("test_cases", []).append(
    {"name": "kernel_reports_nothing", "status": "FAIL"})
json.dump(d, open(p, "w"))
PY
fi
echo "mk: kunit $arch${KUNIT_DEBUG:+ (debug)}: exit $rc in $(( $(date +%s) - start ))s; results in $out/$name.{log,ktap,json}"
exit "$rc"
