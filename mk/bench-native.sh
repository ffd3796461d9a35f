#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-native: the buffered I/O benchmark of fs/ext4/iomap-bench.c
# at native speed.  A UML kernel (its own build dir, build/bench-um: the
# tree's kunit.py with mk/bench-native/kunitconfig, no debug options,
# frame pointers for the profiler) boots once with only the
# ext4_iomap_bench suite and prints one line per run; report.py turns them
# into bench.json, bench.md and the data of bench.png.  Then the
# ext4_iomap_bench_profile cases boot one at a time under "perf record -g"
# (when perf works here), and report.py splits the time of a call (1k and
# 4k appends and overwrites, 4k appends without delalloc and with
# RWF_DONTCACHE, 4k reads of data not cached) into mapping, journal, folio
# lookup, per-block state, copy and the rest; it is appended to bench.md
# and the JSON.
#
# Results: BUILD_DIR/results/bench-native/{bench.json,bench.md,bench.png,
# console.log,profile-*.txt}.
#
# Usage: bench-native.sh REPO_DIR BUILD_DIR
# Environment: BENCH_REPS (5, at most 20), BENCH_SCALE (percent of the
#   default data per run, 100), BENCH_PROFILE (1; 0 skips the profile),
#   BENCH_TIMEOUT (seconds for the benchmark boot, 3600), BENCH_CASES
#   (comma-separated case names as in bench.md, e.g.
#   seq-overwrite-1k,seq-append-fsync-4k; default all)
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
bdir=$build/bench-um
out=$build/results/bench-native
unset MAKEFLAGS MFLAGS MAKELEVEL
# shellcheck source=mk/lib.sh
. "$repo/mk/lib.sh"
msg() { echo "mk: bench-native: $*"; }
die() { echo "mk: bench-native: error: $*" >&2; exit 1; }

reps=${BENCH_REPS:-5}
scale=${BENCH_SCALE:-100}
[ "$reps" -ge 1 ] 2>/dev/null && [ "$reps" -le 20 ] || die "BENCH_REPS=$reps: 1 to 20"
[ "$scale" -ge 1 ] 2>/dev/null || die "BENCH_SCALE=$scale"
command -v gnuplot >/dev/null || die "no gnuplot (run 'make deps')"
mkdir -p "$out"
rm -f "$out"/*

msg "building UML in $bdir"
(cd "$tree" && python3 tools/testing/kunit/kunit.py build \
	--kunitconfig="$repo/mk/bench-native/kunitconfig" \
	--build_dir="$bdir" --jobs="$(nproc)") > "$out/build.log" 2>&1 ||
	{ tail -n 30 "$out/build.log"; die "the UML build failed (see $out/build.log)"; }
for opt in CONFIG_EXT4_IOMAP_BENCH=y CONFIG_FRAME_POINTER=y; do
	grep -qx "$opt" "$bdir/.config" || die "$opt is not set in $bdir/.config"
done
for opt in KASAN PROVE_LOCKING DEBUG_VM UBSAN KCOV GCOV_KERNEL; do
	! grep -qx "CONFIG_$opt=y" "$bdir/.config" || die "CONFIG_$opt=y: not a native-speed kernel"
done

# Boot the UML kernel the way kunit.py does, with the suites we ask for.
uml() { # uml GLOB LOG [command prefix...]
	local glob=$1 log=$2
	shift 2
	"$@" "$bdir/linux" mem=1G console=tty kunit_shutdown=halt \
		"kunit.filter_glob=$glob" ext4_test.bench=1 "ext4_test.bench_reps=$reps" \
		"ext4_test.bench_scale=$scale" ${BENCH_CASES:+"ext4_test.bench_cases=$BENCH_CASES"} \
		< /dev/null > "$log" 2>&1
}

kver=$(make -s -C "$tree" kernelversion 2>/dev/null)
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$model" ] || model=$(uname -m)
msg "UML $kver on the host CPU: $model ($(nproc) cores); $reps repetitions"
start=$(date +%s)
uml ext4_iomap_bench "$out/console.log" timeout -k 10 "${BENCH_TIMEOUT:-3600}" ||
	msg "the benchmark boot failed"
secs=$(( $(date +%s) - start ))
msg "benchmark boot ran ${secs}s"
grep -E '^not ok|^ *not ok' "$out/console.log" | head -n 5

facts=("kernel=$kver" "host=UML on $model, $(nproc) cores" "reps=$reps"
       ${BENCH_CASES:+"cases=$BENCH_CASES"}
       "scale=$scale%" "wall=${secs}s")
if [ "${BENCH_PROFILE:-1}" = 1 ] && perf record -q -o /dev/null -- true 2>/dev/null; then
	for c in bh_1k iomap_1k bh_4k iomap_4k bh_ow_1k iomap_ow_1k bh_ow_4k \
		iomap_ow_4k bh_64k iomap_64k bh_nd_4k bh_ndl_4k iomap_nd_4k bh_dc_4k iomap_dc_4k \
		bh_rd_4k iomap_rd_4k; do
		msg "profiling $c"
		uml "ext4_iomap_bench_profile.bench_profile_$c" "$out/profile-$c.log" \
			perf record -q -F 4999 -g -o "$out/perf-$c.data" -- ||
			msg "the profile boot of $c failed"
		perf report -i "$out/perf-$c.data" --stdio --children \
			--sort symbol -g none --percent-limit 0.01 \
			> "$out/profile-$c.txt" 2>/dev/null
		rm -f "$out/perf-$c.data"
	done
	facts+=("profile=perf record -g, 4999 Hz")
else
	msg "no profile (BENCH_PROFILE=0, or perf does not work here)"
fi

python3 "$repo/mk/bench-native/report.py" "$out" "${facts[@]}"
rc=$?
bench_chart "$out/bench.dat" "$out/bench.png" \
	"ext4 buffered I/O, 4k blocks, native (UML on $model)\nkernel $kver, kernel_write() or kernel_read() per chunk, median of $reps" || rc=1
msg "results: $out/bench.{md,json,png}"
exit "$rc"
