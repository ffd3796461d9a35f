#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bring the commits of the generated tree (base..HEAD) back into
# patches/ as a git-am-able series, and record them as applied so the
# next `make tree` does not re-apply anything.
#
# Usage: export.sh REPO_DIR BUILD_DIR
set -euo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
state=$tree/.git/ext4-iomap

[ -d "$state" ] || { echo "mk: error: no generated tree in $tree" >&2; exit 1; }
if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
	echo "mk: error: $tree has uncommitted changes: commit them first" >&2
	git -C "$tree" status --short --untracked-files=no >&2
	exit 1
fi

rm -f "$repo"/patches/*.patch
mkdir -p "$repo/patches"
git -C "$tree" format-patch -q --no-signature --zero-commit -N \
	-o "$repo/patches" base..HEAD
: > "$state/series"
for c in $(git -C "$tree" rev-list --reverse base..HEAD); do
	n=$(( $(wc -l < "$state/series") + 1 ))
	p=$(cd "$repo" && ls patches/"$(printf '%04d' "$n")"-*.patch)
	echo "$(sha256sum < "$repo/$p" | cut -c1-64) $c $p" >> "$state/series"
done
echo "mk: exported $(wc -l < "$state/series") patch(es) to patches/"
git -C "$repo" status --short -- patches
