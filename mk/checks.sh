#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks of our own code, one result line per check in
# BUILD_DIR/results/checks.tsv ("PASS|FAIL<TAB>name<TAB>detail"):
#   - checkpatch.pl --strict on every patch in patches/ (and tests/) and every new
#     C file and header of the overlay;
#   - sparse (C=2) and W=1 on fs/ext4 (and the overlay's lib/ dirs), on
#     the base and on the patched tree: a warning is new when the
#     patched tree prints it more often than the base does (file and
#     message compared, line numbers ignored);
#   - every symbol the suites' objects use is exported (what the test
#     module needs with CONFIG_EXT4_KUNIT_TESTS=m), from the UML build of
#     make kunit.
#
# Usage: checks.sh REPO_DIR BUILD_DIR
# Environment: CHECKS_CHECKPATCH=tools: checkpatch only the files no patch
#   of `make series` carries (tools/); make test sets it, as it runs
#   checkpatch --strict on every patch of the series (mk/series.sh),
#   which carries patches/ and every kernel file of the overlay.
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
out=$build/results
tsv=$out/checks.tsv
mkdir -p "$out"
: > "$tsv"
unset MAKEFLAGS MFLAGS MAKELEVEL

result() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$tsv"; echo "mk: check $2: $1${3:+ ($3)}"; }

# --- checkpatch ---------------------------------------------------------------
cp_args=(--strict --terse --no-summary --show-types)
# checkpatch runs scripts/spdxcheck.py through "env python3": make that the
# system python, which has the ply and git modules `make deps` installs,
# not a python of the user's own ahead of it in PATH.
cp_path=/usr/bin:/bin:$PATH
case "${CHECKS_CHECKPATCH:-all}" in
all)	cp_dirs="fs include lib tools"; cp_patches='patches/*.patch patches/tests/*.patch' ;;
tools)	cp_dirs=tools; cp_patches="" ;;
*)	echo "mk: error: CHECKS_CHECKPATCH=$CHECKS_CHECKPATCH: use all or tools" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
mapfile -t items < <(cd "$repo" && { [ -z "$cp_patches" ] || ls $cp_patches 2>/dev/null;
	find $cp_dirs -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null; } | LC_ALL=C sort)
for f in "${items[@]}"; do
	case "$f" in
	*.patch) rep=$(cd "$tree" && PATH=$cp_path perl scripts/checkpatch.pl "${cp_args[@]}" "$repo/$f" 2>&1) ;;
	*) rep=$(cd "$tree" && PATH=$cp_path perl scripts/checkpatch.pl "${cp_args[@]}" -f "$f" 2>&1) ;;
	esac
	if [ -z "$rep" ]; then
		result PASS "checkpatch $f" ""
	else
		echo "$rep" | sed 's/^/    /'
		result FAIL "checkpatch $f" "$(echo "$rep" | wc -l) report(s)"
	fi
done
[ "${#items[@]}" -gt 0 ] || result PASS "checkpatch (no patches or new files yet)" ""

# --- sparse + W=1 -------------------------------------------------------------
dirs="fs/ext4/"
for d in $(cd "$repo" && find lib -name '*.c' -printf '%h/\n' 2>/dev/null | sort -u); do
	dirs="$dirs $d"
done

# configure SRC OBJ: an x86_64 defconfig with ext4, its KUnit tests and
# quota, prepared once.
configure() {
	local src=$1 obj=$2
	[ -f "$obj/.config" ] && [ -f "$obj/include/generated/autoconf.h" ] && return 0
	mkdir -p "$obj"
	make -s -C "$src" O="$obj" ARCH=x86_64 defconfig >/dev/null &&
	"$src/scripts/config" --file "$obj/.config" -e BLOCK -e EXT4_FS -e KUNIT \
		-e EXT4_KUNIT_TESTS -e QUOTA -e EXT4_FS_POSIX_ACL -e EXT4_FS_SECURITY \
		-d WERROR &&
	make -s -C "$src" O="$obj" ARCH=x86_64 olddefconfig >/dev/null &&
	make -s -C "$src" O="$obj" ARCH=x86_64 -j"$(nproc)" prepare >/dev/null
}

# warnings SRC OBJ: build $dirs with C=2 W=1 from scratch and print the
# normalised warnings ("file: message"), sorted.
warnings() {
	local src=$1 obj=$2 d
	for d in $dirs; do
		find "$obj/$d" -name '*.o' -delete 2>/dev/null
	done
	# shellcheck disable=SC2086
	make -C "$src" O="$obj" ARCH=x86_64 -j"$(nproc)" C=2 CHECK="$sparse" W=1 $dirs 2>&1 |
		tee "$obj/check.log" |
		sed -nE 's/^(\.\.\/)*([^ :]+):[0-9]+(:[0-9]+)?: (warning|error): (.*)$/\2: \4: \5/p' |
		sed -E "s|^$src/||" | LC_ALL=C sort
	local rc=${PIPESTATUS[0]}
	if grep -q "specified, but .* is not available" "$obj/check.log" ||
	   ! grep -q "^  CHECK " "$obj/check.log"; then
		echo "mk: error: sparse did not run on $dirs (see $obj/check.log)" >&2
		return 1
	fi
	return "$rc"
}

# Debian 12's sparse is too old for 7.3: mk/sparse.sh finds or builds one.
if ! sparse=$(bash "$repo/mk/sparse.sh" "$tree" "$build"); then
	result FAIL "sparse+W=1 $dirs" "no sparse that 7.3 accepts"
	exit 1
fi
echo "mk: sparse: $sparse"

# The base's warnings depend only on the base, the directories, gcc and
# sparse: mk/checks-base.txt records them for the base and tools CI has
# (its first line is the key), so that a fresh clone skips configuring and
# building the base; with any other key they are built here.
base_commit=$(git -C "$tree" rev-parse base)
base_key="base $base_commit dirs ${dirs# } gcc $(gcc -dumpfullversion) sparse $("$sparse" --version 2>&1 | head -1)"
base_wt=$build/check/base-src
base_obj=$build/check/base
base_warn=$base_obj/warnings.$(echo "$base_key" | sha256sum | cut -c1-16)
recorded=$repo/mk/checks-base.txt
mkdir -p "$base_obj"
if [ ! -f "$base_warn" ] && [ -f "$recorded" ] &&
   [ "$(head -1 "$recorded")" = "# $base_key" ]; then
	echo "mk: the base's warnings: $recorded (same base, gcc and sparse)"
	tail -n +2 "$recorded" > "$base_warn"
fi
if [ ! -f "$base_warn" ]; then
	echo "mk: the base's warnings: building the base ($recorded is for: $(head -1 "$recorded" 2>/dev/null | cut -c3-))"
	if [ ! -d "$base_wt" ] || [ "$(git -C "$base_wt" rev-parse HEAD 2>/dev/null)" != "$base_commit" ]; then
		rm -rf "$base_wt" "$base_obj"
		git -C "$tree" worktree prune
		git -C "$tree" worktree add -q --detach "$base_wt" base
	fi
	# The base has none of our lib/ files: check only what exists there.
	if configure "$base_wt" "$base_obj"; then
		dirs_all=$dirs
		dirs=""
		for d in $dirs_all; do [ -d "$base_wt/$d" ] && dirs="$dirs $d"; done
		warnings "$base_wt" "$base_obj" > "$base_warn.tmp" && mv "$base_warn.tmp" "$base_warn"
		dirs=$dirs_all
	fi
	[ -f "$base_warn" ] && echo "mk: to record them: { echo '# $base_key'; cat $base_warn; } > mk/checks-base.txt"
fi

obj=$build/check/patched
if [ ! -f "$base_warn" ]; then
	result FAIL "sparse+W=1 base" "could not build the base: see $base_obj/check.log"
elif ! configure "$tree" "$obj"; then
	result FAIL "sparse+W=1 $dirs" "could not configure $obj"
elif ! warnings "$tree" "$obj" > "$obj/warnings"; then
	grep -E 'error' "$obj/check.log" | head -20 | sed 's/^/    /'
	result FAIL "sparse+W=1 $dirs" "build failed: see $obj/check.log"
else
	new=$(LC_ALL=C comm -13 "$base_warn" "$obj/warnings")
	nb=$(wc -l < "$base_warn")
	if [ -n "$new" ]; then
		echo "$new" | sed 's/^/    new: /'
		result FAIL "sparse+W=1 $dirs" "$(echo "$new" | wc -l) new warning(s); base has $nb"
	else
		result PASS "sparse+W=1 $dirs" "no new warnings; base has $nb"
	fi
fi

# --- what the suites use is exported ------------------------------------------
# With CONFIG_EXT4_KUNIT_TESTS=m the suites are a module of their own
# (ext4-test.ko) and may use only exported symbols, while every kernel of
# make test has them built in, where anything links: only make matrix's
# module run would fail (it did: do_writepages, 2026-12-04).  From the UML
# objects of `make kunit` (BUILD_DIR/kunit-um): every symbol the objects
# of ext4-test-objs (fs/ext4/Makefile) use and do not define must be
# exported somewhere in the tree, EXPORT_*SYMBOL*(name, ...).  Exports
# made by token pasting, which no grep sees, are listed by hand.
pasted='get_random_u(8|16|32|64)|get_random_u32_below|param_ops_[a-z]+'
um=$build/kunit-um/fs/ext4
mapfile -t tobjs < <(sed -n '/^ext4-test-objs/,/[^\\]$/p' "$tree/fs/ext4/Makefile" |
	grep -oE '[A-Za-z0-9_-]+\.o')
missing=""
for o in "${tobjs[@]}"; do [ -f "$um/$o" ] || missing="$missing $o"; done
if [ "${#tobjs[@]}" = 0 ]; then
	result FAIL "exported symbols for the test module" "no ext4-test-objs in fs/ext4/Makefile"
elif [ -n "$missing" ]; then
	result SKIP "exported symbols for the test module" "no UML build of$missing (make kunit)"
else
	need=$(cd "$um" && LC_ALL=C comm -23 \
		<(nm -u "${tobjs[@]}" | awk 'NF == 2 { print $2 }' | LC_ALL=C sort -u) \
		<(nm --defined-only "${tobjs[@]}" | awk 'NF == 3 { print $3 }' | LC_ALL=C sort -u))
	pat=$(echo "$need" | paste -sd'|')
	exported=$(git -C "$tree" grep --untracked --no-exclude-standard -h -oE \
		"EXPORT_[A-Z0-9_]*SYMBOL[A-Z0-9_]*\(($pat)[,)]" -- '*.c' '*.h' '*.S' |
		sed -E 's/.*\(([A-Za-z0-9_]+)[,)]$/\1/' | LC_ALL=C sort -u)
	bad=$(LC_ALL=C comm -23 <(echo "$need") <(echo "$exported") | grep -vxE "$pasted")
	if [ -z "$bad" ]; then
		result PASS "exported symbols for the test module" "$(echo "$need" | wc -l) symbols used, all exported"
	else
		result FAIL "exported symbols for the test module" "not exported: $(echo "$bad" | xargs)"
	fi
fi
