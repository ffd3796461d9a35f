#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make series: the whole work as two git format-patch series a maintainer
# can apply with git am, each with its cover letter (0000-cover-letter.patch)
# and one patch per patches/ entry, each carrying the new files (the
# overlay) it needs: BUILD_DIR/series/write-path/ (patches/*.patch, the
# write path) and BUILD_DIR/series/tests/ (patches/tests/*.patch, the
# test infrastructure and the suites, which apply to the base tree plus
# any implementation of the write path: docs/contract.md).  The generated tree's commits (one per patches/ entry)
# do not hold the overlay; here each commit is replayed (branch "series"
# of the tree's repository) with its new files added:
#   - a .c file goes with the first patch that adds its object (NAME.o) to
#     a Makefile;
#   - a header goes with the first .c file of the overlay that includes it;
#   - the user-space helpers of the e2e under tools/testing/ext4-iomap/ are
#     not kernel code and stay out (the cover letter says so).
# Then the checks (results in BUILD_DIR/results/series.tsv):
#   - every kernel file of the overlay is in some patch;
#   - the write-path series applies with git am to a clean checkout of
#     the base, the test series on top of it, and the result is exactly
#     the generated tree (base + patches + overlay), the tree the KUnit
#     runs of make test build and run;
#   - the test series alone, applied the way make kunit KDIR=... applies
#     it to a tree with its own write path (mk/tree.sh, tests only) to
#     base + the write-path series as git am left it, gives that tree
#     too: a second, independent assembly;
#   - every patch passes checkpatch.pl --strict;
#   - with SERIES_BUILD=1 (make series-check), every prefix of the series
#     builds for UML (vmlinux), incrementally, in its own build dir; with
#     SERIES_BUILD=objects (make test), every prefix builds the objects of
#     the directories the series touches (fs/ext4/, fs/iomap/, lib/kunit/
#     and the like: make DIR/), which is what a patch can break short of
#     the link, in a third of the time; the whole series is linked by the
#     KUnit runs.
#
# Usage: series.sh REPO_DIR BUILD_DIR
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
state=$tree/.git/ext4-iomap
out=$build/series
results=$build/results
tsv=$results/series.tsv
wt=$build/series-tree
unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$results"
: > "$tsv"
msg() { echo "mk: series: $*"; }
result() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$tsv"; msg "$2: $1${3:+ ($3)}"; }
die() { result FAIL "$1" "$2"; exit 1; }
g() { git -C "$tree" "$@"; }
w() { git -C "$wt" "$@"; }

[ -d "$state" ] || die "make series" "no generated tree (make tree)"
mapfile -t commits < <(g rev-list --reverse base..HEAD)
[ "${#commits[@]}" -gt 0 ] || die "make series" "no patches"
base_desc=$(cat "$state/base-desc")

# --- which patch carries which new file ---------------------------------
declare -A owner
mapfile -t kfiles < <(cd "$repo" && find fs include lib -type f 2>/dev/null | LC_ALL=C sort)
for f in "${kfiles[@]}"; do
	case "$f" in
	*.c)
		o=$(basename "$f" .c).o
		for i in "${!commits[@]}"; do
			if g show --format= "${commits[$i]}" -- "$(dirname "$f")/Makefile" |
			   grep -q "^+.*\b${o//./\\.}\b"; then
				owner[$f]=$i
				break
			fi
		done ;;
	esac
done
for f in "${kfiles[@]}"; do
	case "$f" in
	*.h)
		h=$(basename "$f")
		best=""
		for c in "${kfiles[@]}"; do
			[[ "$c" == *.c ]] && [ -n "${owner[$c]:-}" ] || continue
			if grep -Eq "^#include [<\"]([a-z]+/)?${h//./\\.}[>\"]" "$repo/$c"; then
				if [ -z "$best" ] || [ "${owner[$c]}" -lt "$best" ]; then best=${owner[$c]}; fi
			fi
		done
		[ -z "$best" ] || owner[$f]=$best ;;
	esac
done
missing=()
for f in "${kfiles[@]}"; do
	[ -n "${owner[$f]:-}" ] || missing+=("$f")
done
if [ "${#missing[@]}" -gt 0 ]; then
	result FAIL "every new kernel file is in a patch" "no patch builds ${missing[*]}"
else
	result PASS "every new kernel file is in a patch" "${#kfiles[@]} files"
fi

# --- replay the series with its new files --------------------------------
# With git plumbing, no checkout: commit i's tree is the tree of the
# generated tree's commit i plus the new files of patches 1 to i.
idx=$build/series.index
declare -A blob
for f in "${kfiles[@]}"; do
	blob[$f]=$(g hash-object -w -- "$repo/$f") || die "make series" "cannot store $f"
done
parent=$(g rev-parse base)
for i in "${!commits[@]}"; do
	c=${commits[$i]}
	GIT_INDEX_FILE=$idx g read-tree "$c^{tree}" || die "make series" "read-tree $c"
	for f in "${kfiles[@]}"; do
		[ -n "${owner[$f]:-}" ] && [ "${owner[$f]}" -le "$i" ] || continue
		GIT_INDEX_FILE=$idx g update-index --add --cacheinfo "100644,${blob[$f]},$f"
	done
	t=$(GIT_INDEX_FILE=$idx g write-tree) || die "make series" "write-tree after $c"
	parent=$(g log -1 --format=%B "$c" |
		GIT_AUTHOR_NAME=$(g log -1 --format=%an "$c") \
		GIT_AUTHOR_EMAIL=$(g log -1 --format=%ae "$c") \
		GIT_AUTHOR_DATE=$(g log -1 --format=%aI "$c") \
		GIT_COMMITTER_NAME=$(g log -1 --format=%an "$c") \
		GIT_COMMITTER_EMAIL=$(g log -1 --format=%ae "$c") \
		GIT_COMMITTER_DATE=$(g log -1 --format=%aI "$c") \
		git -C "$tree" commit-tree "$t" -p "$parent") ||
		die "make series" "commit-tree for $(g log -1 --format=%s "$c")"
done
rm -f "$idx"
tip=$parent
g branch -f series "$tip" >/dev/null
# The write path: the first k commits.
k=$(g rev-list --count base..write-path 2>/dev/null) || die "make series" "no tag write-path (make tree)"
n=${#commits[@]}
[ "$k" -le "$n" ] || die "make series" "write-path holds $k commits of $n"
wtip=$(g rev-parse "series~$((n - k))")

# --- the patches and the cover letters -----------------------------------
rm -rf "$out"
mkdir -p "$out/write-path" "$out/tests"
last=$(tail -n 1 "$results/summary.txt" 2>/dev/null)
# series DIR RANGE TEMPLATE BASE-COMMIT
for spec in "write-path base..$wtip cover.txt base" "tests $wtip..$tip cover-tests.txt $wtip"; do
	read -r dir range tmpl basec <<< "$spec"
	g format-patch -q --no-signature --cover-letter --base="$basec" --thread=shallow \
		-o "$out/$dir" "$range" || die "make series" "git format-patch of $dir failed"
	python3 "$repo/mk/series/cover.py" "$out/$dir/0000-cover-letter.patch" "$repo" \
		"$repo/mk/series/$tmpl" "$base_desc" "$(g rev-list --count "$range")" "${last:-}" ||
		die "make series" "cover letter of $dir"
done
result PASS "git format-patch" "$k write-path and $((n - k)) test patches, each series with a cover letter, in $out/write-path and $out/tests"

# --- it applies to a clean base and gives the generated tree -------------
am=$build/series-am
rm -rf "$am"
g worktree prune
g worktree add -q --detach "$am" base || die "git am" "cannot check out the base"
am_ok=1
for dir in write-path tests; do
	mapfile -t plist < <(ls "$out/$dir"/*.patch | grep -v '/0000-cover-letter\.patch$')
	[ "${#plist[@]}" = 0 ] && continue
	git -C "$am" am -q --keep-cr "${plist[@]}" >> "$am.log" 2>&1 || am_ok=0
	[ "$dir" != write-path ] || am_wtip=$(git -C "$am" rev-parse HEAD)
done
if [ "$am_ok" = 0 ] || [ "$(git -C "$am" rev-list --count base..HEAD)" != "$n" ]; then
	git -C "$am" am --abort >/dev/null 2>&1
	result FAIL "git am of the series to a clean $base_desc" "$(git -C "$am" rev-list --count base..HEAD) of $n applied (see $am.log)"
else
	result PASS "git am of the series to a clean $base_desc" "the write path ($k patches), then the tests ($((n - k)))"
	# The applied tree against the generated one: its HEAD with the
	# overlay's kernel files added, in a scratch index.
	want=$(export GIT_INDEX_FILE=$build/series-index
		rm -f "$GIT_INDEX_FILE"
		g read-tree HEAD && g add -f -- "${kfiles[@]}" && g write-tree)
	rm -f "$build/series-index"
	have=$(git -C "$am" rev-parse 'HEAD^{tree}')
	if [ -n "$want" ] && [ "$want" = "$have" ]; then
		result PASS "the applied series is the generated tree" ""
	else
		result FAIL "the applied series is the generated tree" \
			"git diff --stat $want $have (in $tree)"
	fi
	# The second assembly: the test series alone, by mk/tree.sh as
	# make kunit KDIR=... applies it to a tree with its own write
	# path, on base + the write-path series as git am left it.
	git -C "$am" checkout -q --detach "$am_wtip"
	rm -rf "$build/series-tests-only"
	if KDIR=$am TESTS_ONLY=1 bash "$repo/mk/tree.sh" "$repo" "$build/series-tests-only" \
		> "$build/series-tests-only.log" 2>&1; then
		t2=$build/series-tests-only/linux
		got=$(export GIT_INDEX_FILE=$build/series-index
			rm -f "$GIT_INDEX_FILE"
			git -C "$t2" read-tree HEAD && git -C "$t2" add -f -- "${kfiles[@]}" &&
			git -C "$t2" write-tree)
		rm -f "$build/series-index"
		# Git tree ids name the content: equal ids, equal files.
		if [ -n "$got" ] && [ "$got" = "$have" ]; then
			result PASS "the test series alone on base + the write-path series (make kunit KDIR=...) is the tree the KUnit runs ran" "$((n - k)) patches"
		else
			result FAIL "the test series alone on base + the write-path series (make kunit KDIR=...) is the tree the KUnit runs ran" \
				"trees differ: compare $t2 with the generated tree"
		fi
	else
		result FAIL "the test series alone on base + the write-path series (make kunit KDIR=...) is the tree the KUnit runs ran" \
			"mk/tree.sh failed: $(tail -n 3 "$build/series-tests-only.log" | tr '\n' ' ')"
	fi
	rm -rf "$build/series-tests-only"
fi
git -C "$tree" worktree remove --force "$am" >/dev/null 2>&1

# --- checkpatch --strict on every patch ----------------------------------
bad=0
for p in "$out"/*/*.patch; do
	case "$p" in *0000-cover-letter.patch) continue ;; esac
	# New files sit in directories MAINTAINERS already covers (checked
	# below), so FILE_PATH_CHANGES' question is answered.
	rep=$(cd "$tree" && PATH=/usr/bin:/bin:$PATH perl scripts/checkpatch.pl --strict \
		--terse --no-summary --show-types --ignore FILE_PATH_CHANGES "$p" 2>&1)
	if [ -n "$rep" ]; then
		echo "$rep" | sed 's/^/    /'
		bad=$((bad + 1))
	fi
done
if [ "$bad" = 0 ]; then
	result PASS "checkpatch --strict on every patch of the series" "$n patches"
else
	result FAIL "checkpatch --strict on every patch of the series" "$bad patch(es) with reports"
fi

nomaint=()
for f in "${kfiles[@]}"; do
	(cd "$tree" && perl scripts/get_maintainer.pl --no-git --no-rolestats \
		--no-r --no-l -f "$f" 2>/dev/null) | grep -q '@' || nomaint+=("$f")
done
if [ "${#nomaint[@]}" = 0 ]; then
	result PASS "MAINTAINERS covers every new file" "${#kfiles[@]} files"
else
	result FAIL "MAINTAINERS covers every new file" "none for ${nomaint[*]}"
fi

# --- every prefix builds (UML, incremental) ------------------------------
sb=${SERIES_BUILD:-0}
case $sb in 0|1|objects) ;; *) die "every prefix builds" "SERIES_BUILD=$sb: 0, 1 or objects" ;; esac
if [ "$sb" != 0 ]; then
	obj=$build/series-um
	targets=()
	what=""
	if [ "$sb" = objects ]; then
		# The directories of the series' C files and Makefiles.
		mapfile -t targets < <(g diff --name-only "base..$tip" -- '*.c' '*Makefile' |
			sed -n 's|/[^/]*$|/|p' | sort -u)
		what=" (objects of ${targets[*]})"
	fi
	mkdir -p "$obj"
	rm -rf "$wt"
	g worktree prune
	g worktree add -q --detach "$wt" base || die "every prefix builds" "cannot check out the base"
	cfg=$repo/mk/series/um.config
	failed=()
	i=0
	start=$(date +%s)
	prev=base
	for c in $(w rev-list --reverse "base..$tip"); do
		i=$((i + 1))
		w checkout -q --detach "$c"
		# As kunit.py does: the fragment, everything else at its default.
		# Options a patch adds are new to olddefconfig: ask for them
		# again, on the first prefix and on each that changes a Kconfig
		# file (5 s a time; the build itself syncs an unchanged one).
		if [ "$i" = 1 ] || w diff --name-only "$prev" "$c" | grep -q 'Kconfig'; then
			[ -f "$obj/.config" ] || : > "$obj/.config"
			cat "$cfg" >> "$obj/.config"
			make -s -C "$wt" O="$obj" ARCH=um olddefconfig >/dev/null 2>&1
		fi
		prev=$c
		t0=$(date +%s)
		if make -s -C "$wt" O="$obj" ARCH=um -j"$(nproc)" "${targets[@]}" > "$obj/build-$i.log" 2>&1; then
			msg "prefix $i/$n builds ($(( $(date +%s) - t0 ))s): $(w log -1 --format=%s)"
		else
			failed+=("$i")
			grep -E 'error|Error' "$obj/build-$i.log" | head -n 5 | sed 's/^/    /'
		fi
	done
	if [ "${#failed[@]}" = 0 ]; then
		result PASS "every prefix of the series builds (UML)$what" "$n prefixes in $(( $(date +%s) - start ))s"
	else
		result FAIL "every prefix of the series builds (UML)$what" "prefixes ${failed[*]} fail: see $obj/build-N.log"
	fi
fi
g worktree remove --force "$wt" >/dev/null 2>&1
grep -q '^FAIL' "$tsv" && exit 1
exit 0
