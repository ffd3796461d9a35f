#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make coverage: line and branch coverage of fs/ext4 from our KUnit suites
# alone.  UML's own gcov support (CONFIG_GCOV, see Documentation/dev-tools/
# kunit/running_tips.rst): kunit.py runs --kunitconfig=fs/ext4 in its own
# build dir (build/coverage-um, sources in build/coverage-src, see below)
# with CONFIG_GCOV, the UML process writes
# the .gcda files when it exits, lcov collects fs/ext4 and genhtml renders
# it under BUILD_DIR/results/coverage/ (index.html).  functions.py then
# reads gcov's JSON for the files the series changes and writes
# functions.txt: line and branch coverage of every function the series
# adds or changes, the write-path functions first, with the lines and
# branches not covered.
#
# Usage: coverage.sh REPO_DIR BUILD_DIR [kunit.py filter glob]
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
shift 2
tree=$build/linux
bdir=$build/coverage-um
out=$build/results/coverage
unset MAKEFLAGS MFLAGS MAKELEVEL
msg() { echo "mk: coverage: $*"; }
die() { echo "mk: coverage: error: $*" >&2; exit 1; }
command -v lcov >/dev/null && command -v genhtml >/dev/null ||
	die "no lcov/genhtml (run 'make deps')"
rm -rf "$out"
mkdir -p "$out"

# The dynamic loader runs the destructors of the .fini_array output section
# that UML's arch/um/include/asm/common.lds.S makes, which takes only input
# sections named .fini_array; gcc puts gcov's __gcov_exit in .fini_array.00100,
# which ends up in a second .fini_array that nothing runs, so no .gcda file
# is ever written (the "missing .gcda files" of running_tips.rst).  Build
# from a copy of the generated tree whose common.lds.S takes .fini_array.*
# too; nothing else differs.
src=$build/coverage-src
head=$(git -C "$tree" rev-parse HEAD)
if [ "$(git -C "$src" rev-parse HEAD 2>/dev/null)" != "$head" ]; then
	rm -rf "$src"
	git -C "$tree" worktree prune
	git -C "$tree" worktree add -q --detach "$src" "$head" || die "cannot check out $src"
fi
lds=arch/um/include/asm/common.lds.S
git -C "$src" checkout -q -f -- "$lds" arch/um/kernel/dyn.lds.S
sed -i 's/^\t\*(\.fini_array)$/\t*(.fini_array.*) *(.fini_array)/' "$src/$lds"
grep -q 'fini_array\.\*' "$src/$lds" || die "$lds: no .fini_array line to extend"
for f in $(cd "$repo" && find fs include lib -type f); do
	cmp -s "$repo/$f" "$src/$f" || { mkdir -p "$(dirname "$src/$f")"; cp "$repo/$f" "$src/$f"; }
done

# Counters from an earlier run would add up.
find "$bdir" -name '*.gcda' -delete 2>/dev/null
start=$(date +%s)
(cd "$src" && python3 tools/testing/kunit/kunit.py run --kunitconfig=fs/ext4 \
	--build_dir="$bdir" --jobs="$(nproc)" \
	--kconfig_add CONFIG_DEBUG_KERNEL=y --kconfig_add CONFIG_DEBUG_INFO=y \
	--kconfig_add CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y \
	--kconfig_add CONFIG_GCOV=y "$@") > "$out/kunit.log" 2>&1
rc=$?
grep -E "Testing complete|Elapsed" "$out/kunit.log"
[ "$rc" = 0 ] || msg "kunit.py exited $rc (see $out/kunit.log); the report covers what ran"
n=$(find "$bdir/fs/ext4" -name '*.gcda' | wc -l)
[ "$n" -gt 0 ] || die "no .gcda files under $bdir/fs/ext4: UML did not write its counters"
msg "$n .gcda files under fs/ext4 after $(( $(date +%s) - start ))s"

lcov -q --rc lcov_branch_coverage=1 -c -d "$bdir/fs/ext4" -b "$src" \
	-o "$out/all.info" > "$out/lcov.log" 2>&1 || { tail "$out/lcov.log"; die "lcov failed"; }
# fs/ext4 itself: neither the tests nor the fixture count.
lcov -q --rc lcov_branch_coverage=1 -e "$out/all.info" '*/fs/ext4/*' -o "$out/ext4-all.info" >> "$out/lcov.log" 2>&1
lcov -q --rc lcov_branch_coverage=1 -r "$out/ext4-all.info" '*-test.c' '*/kunit-*' \
	'*/iomap-bench.c' -o "$out/ext4.info" >> "$out/lcov.log" 2>&1 || die "lcov filter failed"
genhtml -q --branch-coverage --legend -t "fs/ext4 from the ext4 KUnit suites" \
	-o "$out" "$out/ext4.info" > "$out/genhtml.log" 2>&1 || { tail "$out/genhtml.log"; die "genhtml failed"; }
lcov --rc lcov_branch_coverage=1 --summary "$out/ext4.info" 2>&1 | grep -E "lines|functions|branches" |
	tee "$out/summary.txt"

# Per function, from gcov's JSON (it has each function's first and last line).
gj=$out/gcov-json
mkdir -p "$gj"
files=$(git -C "$tree" diff --name-only base HEAD -- 'fs/ext4/*.c' |
	grep -Ev -- '-test\.c$|/kunit-|/iomap-bench\.c$')
for f in $files; do
	o=$bdir/$(dirname "$f")/$(basename "$f" .c).gcda
	[ -f "$o" ] || { msg "no counters for $f"; continue; }
	(cd "$gj" && gcov -b -j -o "$(dirname "$o")" "$src/$f" > /dev/null 2>&1)
done
git -C "$tree" diff -U0 base HEAD -- $files > "$out/series.diff"
python3 "$repo/mk/coverage/functions.py" "$gj" "$out/series.diff" > "$out/functions.txt"
frc=$?
sed -n '1,/^$/p' "$out/functions.txt"
msg "report: $out/index.html; per function: $out/functions.txt ($(( $(date +%s) - start ))s)"
exit "$frc"
