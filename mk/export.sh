#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bring the commits of the generated tree (base..HEAD) back into
# patches/ as two git-am-able series, and record them as applied so the
# next `make tree` does not re-apply anything:
#   - base..write-path (the tag mk/tree.sh puts on the last patch of the
#     write path): patches/NNNN-*.patch, the write path;
#   - write-path..HEAD: patches/tests/NNNN-*.patch, the test series.
# A new commit on top of the tree is a test patch; a write-path patch
# goes before the test series: move it there (git rebase -i base) and
# move the tag onto it (git tag -f write-path).
# In a tree made from a KDIR that has its own write path (mk/tree.sh,
# tests only), only patches/tests/ is written.
#
# Usage: export.sh REPO_DIR BUILD_DIR
set -euo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
state=$tree/.git/ext4-iomap
g() { git -C "$tree" "$@"; }

[ -d "$state" ] || { echo "mk: error: no generated tree in $tree" >&2; exit 1; }
if [ -n "$(g status --porcelain --untracked-files=no)" ]; then
	echo "mk: error: $tree has uncommitted changes: commit them first" >&2
	g status --short --untracked-files=no >&2
	exit 1
fi
wp=$(g rev-parse -q --verify 'refs/tags/write-path^{commit}') ||
	{ echo "mk: error: no tag write-path in $tree (make tree sets it)" >&2; exit 1; }
g merge-base --is-ancestor "$wp" HEAD ||
	{ echo "mk: error: the tag write-path is not below HEAD in $tree" >&2; exit 1; }

mkdir -p "$repo/patches/tests"
rm -f "$repo"/patches/tests/*.patch
g format-patch -q --no-signature --zero-commit -N -o "$repo/patches/tests" "$wp..HEAD"
if [ -e "$state/tests-only" ]; then
	ranges=("$wp..HEAD patches/tests")
else
	rm -f "$repo"/patches/*.patch
	g format-patch -q --no-signature --zero-commit -N -o "$repo/patches" "base..$wp"
	ranges=("base..$wp patches" "$wp..HEAD patches/tests")
fi
: > "$state/series.new"
[ ! -e "$state/tests-only" ] || grep -v ' patches/tests/' "$state/series" > "$state/series.new" || :
for r in "${ranges[@]}"; do
	read -r range dir <<< "$r"
	n=0
	for c in $(g rev-list --reverse "$range"); do
		n=$((n + 1))
		p=$(cd "$repo" && ls "$dir/$(printf '%04d' "$n")"-*.patch)
		echo "$(sha256sum < "$repo/$p" | cut -c1-64) $c $p" >> "$state/series.new"
	done
done
mv "$state/series.new" "$state/series"
echo "mk: exported $(g rev-list --count "base..$wp") write-path and $(g rev-list --count "$wp..HEAD") test patch(es) to patches/ and patches/tests/"
git -C "$repo" status --short -- patches
