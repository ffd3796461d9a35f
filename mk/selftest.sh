#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of mk/tree.sh on a tiny fake kernel tree (seconds, no
# network): KDIR is copied and never modified, patches apply in order,
# a re-run with nothing changed does no work, a changed overlay file is
# copied without re-applying patches, and a patch that does not apply
# stops with a message naming the patch and the failing hunk; the write
# path (patches/) applies before the test series (patches/tests/), make
# export splits them at the tag write-path, and a KDIR with its own
# buffered_iomap gets the test series only.
#
# Usage: selftest.sh REPO_DIR BUILD_DIR
# Writes BUILD_DIR/results/selftest.tsv.
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
out=$build/results
tsv=$out/selftest.tsv
work=$build/selftest
mkdir -p "$out"
: > "$tsv"
rm -rf "$work"
mkdir -p "$work"

result() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$tsv"
	echo "mk: selftest $2: $1${3:+ ($3)}"
}
check() { # check NAME DETAIL-ON-FAILURE COMMAND...
	local name=$1 detail=$2
	shift 2
	if "$@"; then result PASS "$name" ""; else result FAIL "$name" "$detail"; fi
}

export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@localhost GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@localhost

# A fake "kernel": a git tree with a Makefile and fs/ext4.
kdir=$work/kdir
mkdir -p "$kdir/fs/ext4"
printf 'kernelversion:\n\t@echo 7.3.0-selftest\n' > "$kdir/Makefile"
seq 1 40 > "$kdir/fs/ext4/inode.c"
git -C "$kdir" init -q && git -C "$kdir" add -A && git -C "$kdir" commit -q -m base
echo "untracked but not ignored" > "$kdir/fs/ext4/new.h"
kdir_sum() { (cd "$kdir" && find . -path ./.git -prune -o -type f -print0 | sort -z |
	xargs -0 sha256sum; git -C "$kdir" rev-parse HEAD; git -C "$kdir" status --porcelain) | sha256sum; }
before=$(kdir_sum)

# A fake repo: two patches made with git format-patch, one overlay file.
frepo=$work/repo
mkdir -p "$frepo/patches" "$frepo/fs/ext4"
cp -r "$repo/mk" "$frepo/"
git clone -q "$kdir" "$work/edit"
sed -i 's/^10$/ten/' "$work/edit/fs/ext4/inode.c"
git -C "$work/edit" commit -q -am "ext4: first change"
sed -i 's/^30$/thirty/' "$work/edit/fs/ext4/inode.c"
git -C "$work/edit" commit -q -am "ext4: second change"
git -C "$work/edit" format-patch -q -o "$frepo/patches" HEAD~2
echo "int selftest_overlay;" > "$frepo/fs/ext4/overlay-test.c"

fbuild=$work/build
tree=$fbuild/linux
run_tree() { KDIR=$kdir bash "$frepo/mk/tree.sh" "$frepo" "$fbuild" > "$work/log" 2>&1; }

run_tree
check "generate from KDIR" "$(tail -3 "$work/log")" \
	grep -q '^ten$' "$tree/fs/ext4/inode.c"
check "patches applied in order as commits" "$(git -C "$tree" log --oneline 2>&1 | head -3)" \
	test "$(git -C "$tree" log --format=%s base..HEAD | tr '\n' '|')" = "ext4: second change|ext4: first change|"
check "overlay file placed" "missing $tree/fs/ext4/overlay-test.c" \
	cmp -s "$frepo/fs/ext4/overlay-test.c" "$tree/fs/ext4/overlay-test.c"
check "untracked KDIR file copied" "missing fs/ext4/new.h" test -f "$tree/fs/ext4/new.h"
check "KDIR never modified" "KDIR content or git state changed" test "$before" = "$(kdir_sum)"
check "overlay kept out of git status" "$(git -C "$tree" status --porcelain)" \
	test -z "$(git -C "$tree" status --porcelain)"

stamp=$(stat -c %Y.%y "$tree/fs/ext4/inode.c" "$tree/fs/ext4/overlay-test.c")
head=$(git -C "$tree" rev-parse HEAD)
sleep 1.1
run_tree
check "re-run with nothing changed does no work" "$(cat "$work/log")" \
	test "$stamp" = "$(stat -c %Y.%y "$tree/fs/ext4/inode.c" "$tree/fs/ext4/overlay-test.c")" -a \
	     "$head" = "$(git -C "$tree" rev-parse HEAD)"

echo "int selftest_overlay = 1;" > "$frepo/fs/ext4/overlay-test.c"
stamp=$(stat -c %Y.%y "$tree/fs/ext4/inode.c")
run_tree
check "changed overlay file copied, patches untouched" "$(cat "$work/log")" \
	test "$stamp" = "$(stat -c %Y.%y "$tree/fs/ext4/inode.c")" -a \
	     "$head" = "$(git -C "$tree" rev-parse HEAD)" -a \
	     "$(cat "$tree/fs/ext4/overlay-test.c")" = "int selftest_overlay = 1;"

# Change the second patch only: the first is kept, the second re-applied.
first=$(git -C "$tree" rev-parse HEAD~1)
sed -i 's/^+thirty$/+THIRTY/' "$frepo"/patches/0002-*.patch
run_tree
check "changed patch re-applied from that patch on" "$(cat "$work/log")" \
	test "$(git -C "$tree" rev-parse HEAD~1)" = "$first" -a \
	     "$(sed -n 30p "$tree/fs/ext4/inode.c")" = "THIRTY"

# A patch whose context is gone must stop the run and name itself + hunk.
sed -i 's/^ 29$/ twenty-nine/' "$frepo"/patches/0002-*.patch
if run_tree; then
	result FAIL "patch that does not apply fails" "tree.sh exited 0"
else
	result PASS "patch that does not apply fails" ""
fi
check "failure names the patch" "$(cat "$work/log")" \
	grep -q "patches/0002-ext4-second-change.patch does not apply" "$work/log"
check "failure names the hunk" "$(cat "$work/log")" \
	grep -qE "patch failed: fs/ext4/inode.c:[0-9]+" "$work/log"

# An overlay file that shadows a file of the base is refused.
cp "$kdir/Makefile" "$frepo/patches/../fs/ext4/inode.c"
git -C "$work/edit" reset -q --hard HEAD
rm -f "$frepo"/patches/0002-*.patch
if run_tree; then
	result FAIL "overlay may not replace a base file" "tree.sh exited 0"
else
	check "overlay may not replace a base file" "$(cat "$work/log")" \
		grep -q "fs/ext4/inode.c exists in the base tree" "$work/log"
fi
# Two series: the write path (patches/) and the tests (patches/tests/).
kdir2=$work/kdir2
mkdir -p "$kdir2/fs/ext4"
printf 'kernelversion:\n\t@echo 7.3.0-selftest\n' > "$kdir2/Makefile"
seq 1 40 > "$kdir2/fs/ext4/inode.c"
seq 1 10 > "$kdir2/fs/ext4/super.c"
git -C "$kdir2" init -q && git -C "$kdir2" add -A && git -C "$kdir2" commit -q -m base
rm -rf "$work/edit2" "$frepo/patches" "$frepo/fs/ext4/inode.c"
mkdir -p "$frepo/patches/tests"
git clone -q "$kdir2" "$work/edit2"
sed -i 's/^5$/buffered_iomap/' "$work/edit2/fs/ext4/super.c"
git -C "$work/edit2" commit -q -am "ext4: the write path"
git -C "$work/edit2" format-patch -q -o "$frepo/patches" HEAD~1
sed -i 's/^20$/twenty/' "$work/edit2/fs/ext4/inode.c"
git -C "$work/edit2" commit -q -am "ext4: kunit: the tests"
git -C "$work/edit2" format-patch -q -o "$frepo/patches/tests" HEAD~1
fbuild2=$work/build2
tree2=$fbuild2/linux
run_tree2() { KDIR=$1 bash "$frepo/mk/tree.sh" "$frepo" "$fbuild2" > "$work/log" 2>&1; }
run_tree2 "$kdir2"
check "the write path, then the tests" "$(cat "$work/log")" \
	test "$(git -C "$tree2" log --format=%s base..HEAD | tr '\n' '|')" = "ext4: kunit: the tests|ext4: the write path|"
check "tag write-path on the write path's last commit" "$(git -C "$tree2" log --oneline -1 write-path 2>&1)" \
	test "$(git -C "$tree2" log -1 --format=%s write-path 2>/dev/null)" = "ext4: the write path"
# A new commit on top is exported as a test patch; the write path stays.
sed -i 's/^30$/thirty/' "$tree2/fs/ext4/inode.c"
git -C "$tree2" commit -q -am "ext4: kunit: more tests"
bash "$frepo/mk/export.sh" "$frepo" "$fbuild2" > "$work/log" 2>&1
check "export: a new commit becomes patches/tests/0002" "$(cat "$work/log"; ls "$frepo"/patches/tests)" \
	test -f "$frepo"/patches/tests/0002-ext4-kunit-more-tests.patch -a \
	     "$(cd "$frepo/patches" && ls ./*.patch)" = "./0001-ext4-the-write-path.patch"
# A KDIR with its own write path gets the tests only.
kdir3=$work/kdir3
git clone -q "$work/edit2" "$kdir3"
git -C "$kdir3" reset -q --hard HEAD~1
rm -rf "$fbuild2"
run_tree2 "$kdir3"
check "KDIR with its own buffered_iomap: the test series only" "$(cat "$work/log")" \
	test "$(git -C "$tree2" log --format=%s base..HEAD | tr '\n' '|')" = "ext4: kunit: more tests|ext4: kunit: the tests|" -a \
	     "$(sed -n 5p "$tree2/fs/ext4/super.c")" = "buffered_iomap"
rm -rf "$work"
! grep -q '^FAIL' "$tsv"
