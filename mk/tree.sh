#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Generate the patched kernel tree: base + the write path (patches/*.patch,
# git am, in order) + the test series (patches/tests/*.patch) + our new
# files from fs/ include/ lib/ tools/ (the overlay).  The tag
# "write-path" marks the last commit of the write path (base if none).
#
# With KDIR=/path/to/linux whose ext4 already has a buffered_iomap mount
# option (another implementation of the write path), only the test
# series is applied there (TESTS_ONLY=1 forces that, =0 applies both):
# its first patch, which exports the implementation's operations to the
# tests, is the one that may need adapting to that tree.
#
# The tree is a git repository whose first commit is the base (tag
# "base"); each patch is one commit on top of it.  Re-running is
# incremental:
#   - the base is unpacked (or copied from KDIR) only when it changes;
#   - only the patches from the first changed one on are re-applied;
#   - overlay files are copied only when their content differs, so
#     kbuild rebuilds exactly what changed.
#
# Usage: tree.sh REPO_DIR BUILD_DIR   (KDIR=/path/to/linux optional)
set -euo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
state=$tree/.git/ext4-iomap
overlay_dirs="fs include lib tools"

msg() { echo "mk: $*" >&2; }
die() { echo "mk: error: $*" >&2; exit 1; }
g() { git -C "$tree" "$@"; }

export GIT_AUTHOR_NAME="ext4-iomap tree" GIT_AUTHOR_EMAIL="tree@localhost"
export GIT_COMMITTER_NAME="ext4-iomap tree" GIT_COMMITTER_EMAIL="tree@localhost"

# --- 1. the base --------------------------------------------------------
if [ -n "${KDIR:-}" ]; then
	kdir=$(realpath "$KDIR") || die "KDIR=$KDIR does not exist"
	[ -f "$kdir/Makefile" ] && [ -d "$kdir/fs/ext4" ] ||
		die "KDIR=$kdir is not a Linux source tree"
	[ "$kdir" != "$tree" ] || die "KDIR must not be the generated tree"
	if git -C "$kdir" rev-parse --git-dir >/dev/null 2>&1 &&
	   [ "$(git -C "$kdir" rev-parse --show-toplevel)" = "$kdir" ]; then
		dirty=$( (git -C "$kdir" diff HEAD; git -C "$kdir" ls-files -o --exclude-standard) |
			 sha256sum | cut -c1-12)
		base_key="kdir $kdir $(git -C "$kdir" rev-parse HEAD) $dirty"
	else
		base_key="kdir $kdir $(make -s -C "$kdir" kernelversion 2>/dev/null)"
	fi
else
	base_key="debian ${BASE_PACKAGE:-linux-source-7.3}"
fi

have_key=$(cat "$state/base-key" 2>/dev/null || true)
if [ "$have_key" != "$base_key" ] || [ "${BASE_REFRESH:-0}" = 1 ]; then
	if [ -n "${KDIR:-}" ]; then
		new_tree() {
			msg "copying KDIR=$kdir (it is never modified)"
			mkdir -p "$tree"
			if [ -d "$kdir/.git" ] || [ -f "$kdir/.git" ]; then
				# Tracked and untracked-but-not-ignored files:
				# the user's working tree, without build output.
				git -C "$kdir" ls-files -z --cached --others --exclude-standard |
					(cd "$kdir" && tar -cf - --no-recursion --ignore-failed-read --null -T -) |
					tar -xf - -C "$tree"
				base_desc="KDIR $kdir at $(git -C "$kdir" describe --always --dirty 2>/dev/null)"
			else
				[ ! -e "$kdir/.config" ] ||
					die "KDIR=$kdir has been configured in-tree (.config): run 'make mrproper' there or use a git tree"
				cp -a "$kdir/." "$tree/"
				base_desc="KDIR $kdir"
			fi
		}
	else
		fetched=$("$repo/mk/fetch-base.sh" "$build")
		read -r ver deb <<< "$fetched"
		if [ "${BASE_REFRESH:-0}" = 1 ] && [ -f "$state/base-version" ] &&
		   [ "$(cat "$state/base-version")" = "$ver" ]; then
			msg "base $ver is current"
			have_key=$base_key
		fi
		new_tree() {
			msg "unpacking $(basename "$deb")"
			local tmp=$build/pkg
			rm -rf "$tmp"
			dpkg-deb -x "$deb" "$tmp"
			mkdir -p "$tree"
			tar -xf "$tmp"/usr/src/linux-source-*.tar.* -C "$tree" --strip-components=1
			rm -rf "$tmp"
			base_desc="Debian ${BASE_PACKAGE:-linux-source-7.3} $ver"
		}
	fi
	if [ "$have_key" != "$base_key" ]; then
		rm -rf "$tree"
		new_tree
		msg "recording the base as the tree's first commit"
		g init -q -b main
		g config core.autocrlf false
		g config gc.auto 0
		g add -A -f
		GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
			g commit -q -m "base: $base_desc ($(make -s -C "$tree" kernelversion))"
		g tag -f base >/dev/null
		mkdir -p "$state"
		echo "$base_desc" > "$state/base-desc"
		echo "${ver:-}" > "$state/base-version"
		echo "$base_key" > "$state/base-key"
		: > "$state/series"
		: > "$state/overlay"
	fi
fi

# Commits made in the tree become patches: give them the series' author
# (checkpatch wants the author's Signed-off-by), not whoever runs make.
g config user.name "${PATCH_AUTHOR_NAME:-ext4-iomap developers}"
g config user.email "${PATCH_AUTHOR_EMAIL:-dev@localhost}"

# --- 2. the series --------------------------------------------------------
tests_only=${TESTS_ONLY:-}
if [ -z "$tests_only" ]; then
	tests_only=0
	if [ -n "${KDIR:-}" ] && g grep -q -w buffered_iomap base -- fs/ext4/super.c; then
		tests_only=1
		msg "KDIR has its own buffered_iomap: applying the test series only"
	fi
fi
case $tests_only in 0|1) ;; *) die "TESTS_ONLY=$tests_only: 0 or 1" ;; esac
mapfile -t wpatches < <(cd "$repo" && ls patches/*.patch 2>/dev/null | LC_ALL=C sort)
mapfile -t tpatches < <(cd "$repo" && ls patches/tests/*.patch 2>/dev/null | LC_ALL=C sort)
if [ "$tests_only" = 1 ]; then
	patches=("${tpatches[@]}")
	wpatches=()
	touch "$state/tests-only"
else
	patches=("${wpatches[@]}" "${tpatches[@]}")
	rm -f "$state/tests-only"
fi
mapfile -t applied < "$state/series"	# "sha256 commit path" per line

# Keep the longest prefix of already applied, unchanged patches.
keep=0
for i in "${!patches[@]}"; do
	[ "$i" -lt "${#applied[@]}" ] || break
	sum=$(sha256sum < "$repo/${patches[$i]}" | cut -c1-64)
	read -r asum acommit apath <<< "${applied[$i]}"
	[ "$sum" = "$asum" ] && [ "${patches[$i]}" = "$apath" ] || break
	keep=$((keep + 1))
done

if [ "$keep" -gt 0 ]; then
	read -r _ tip _ <<< "${applied[$((keep - 1))]}"
else
	tip=$(g rev-parse base)
fi
last=$tip
[ "${#applied[@]}" -eq 0 ] || read -r _ last _ <<< "${applied[$((${#applied[@]} - 1))]}"

if [ "$keep" -eq "${#patches[@]}" ] && [ "$keep" -eq "${#applied[@]}" ]; then
	head=$(g rev-parse HEAD)
	if [ "$head" != "$last" ]; then
		n=$(g rev-list --count "$last..HEAD" 2>/dev/null || echo "?")
		msg "note: the tree has $n commit(s) not in patches/ ('make export' saves them)"
	fi
else
	if [ -n "$(g status --porcelain --untracked-files=no)" ] ||
	   [ "$(g rev-parse HEAD)" != "$last" ]; then
		die "patches/ changed but $tree has local commits or changes; save them with 'make export' or drop them (git -C $tree reset --hard)"
	fi
	[ "$keep" -eq "${#applied[@]}" ] || msg "resetting the tree to after patch $keep"
	g reset -q --hard "$tip"
	printf '%s\n' "${applied[@]:0:$keep}" | grep . > "$state/series.new" || : > "$state/series.new"
	for p in "${patches[@]:$keep}"; do
		msg "applying $p"
		if ! out=$(g am -q --keep-cr --committer-date-is-author-date "$repo/$p" 2>&1); then
			g am --abort >/dev/null 2>&1 || true
			mv "$state/series.new" "$state/series"
			{
				echo "mk: error: $p does not apply to $(cat "$state/base-desc") + the patches before it:"
				echo "$out" | grep -E '^(error|Patch failed|Applying)' | sed 's/^/    /'
				echo "    the hunk that failed (git apply -v):"
				g apply --check -v "$repo/$p" 2>&1 | grep -v '^Checking patch' |
					head -30 | sed 's/^/    /'
				echo "    (fix the patch in patches/, or apply it by hand in $tree and 'make export')"
				[ "$tests_only" = 0 ] || [ "$p" != "${tpatches[0]}" ] ||
					echo "    (the tests' exports of another write path: adapt the names it exports, see docs/contract.md)"
			} >&2
			exit 1
		fi
		echo "$(sha256sum < "$repo/$p" | cut -c1-64) $(g rev-parse HEAD) $p" >> "$state/series.new"
	done
	mv "$state/series.new" "$state/series"
fi

# The last commit of the write path.
wtip=$(g rev-parse base)
if [ "${#wpatches[@]}" -gt 0 ]; then
	read -r _ wtip _ <<< "$(sed -n "${#wpatches[@]}p" "$state/series")"
fi
g tag -f write-path "$wtip" >/dev/null

# --- 3. the overlay -------------------------------------------------------
mapfile -t files < <(cd "$repo" && for d in $overlay_dirs; do
	[ -d "$d" ] && find "$d" -type f; done | LC_ALL=C sort)
for f in "${files[@]}"; do
	if g cat-file -e "HEAD:$f" 2>/dev/null; then
		die "$f exists in the base tree: change it with a patch in patches/, not in the overlay"
	fi
	if ! cmp -s "$repo/$f" "$tree/$f"; then
		mkdir -p "$(dirname "$tree/$f")"
		cp "$repo/$f" "$tree/$f"
		msg "overlay: $f"
	fi
done
# Files that left the overlay leave the tree.
while read -r f; do
	[ -n "$f" ] || continue
	[ -e "$repo/$f" ] || { rm -f "$tree/$f"; msg "overlay: removed $f"; }
done < "$state/overlay"
printf '%s\n' "${files[@]}" | grep . > "$state/overlay" || : > "$state/overlay"
# Overlay files are not part of the series: keep them out of git status.
sed 's|^|/|' "$state/overlay" > "$tree/.git/info/exclude"

echo "$(cat "$state/base-desc"), ${#wpatches[@]} write-path and ${#tpatches[@]} test patch(es)$(
	[ "$tests_only" = 0 ] || echo " (the test series only)"), ${#files[@]} overlay file(s)" > "$build/tree.info"
msg "tree: $tree ($(cat "$build/tree.info"))"
