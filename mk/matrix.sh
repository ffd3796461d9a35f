#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make matrix: the KUnit configurations `make test` does not run, each
# with the ext4 directory's kunitconfig (kunit.py run --kunitconfig=fs/ext4)
# unless said otherwise:
#   x86_64         no debug options (make test runs x86_64 with them)
#   arm64          4 KiB pages (make test runs arm64 with 64 KiB pages)
#   arm64-16k      16 KiB pages
#   um-repo        UML with the repo's .kunitconfig (what `make kunit` runs)
# Every run leaves BUILD_DIR/results/kunit-NAME.{log,ktap,json}; the last
# line is "N passed, N failed" over all of them.
#
# Usage: matrix.sh REPO_DIR BUILD_DIR [NAME...]   (default: all of them)
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
shift 2
names=("$@")
[ "${#names[@]}" -gt 0 ] || names=(x86_64 arm64 arm64-16k um-repo)
out=$build/results/matrix
mkdir -p "$out"
unset MAKEFLAGS MFLAGS MAKELEVEL
runs=()
rc=0
for n in "${names[@]}"; do
	echo "==== kunit $n ===="
	case "$n" in
	x86_64)    KUNIT_CONFIG=ext4 bash "$repo/mk/kunit.sh" "$repo" "$build" x86_64; r=$?; runs+=(x86_64) ;;
	arm64)     KUNIT_CONFIG=ext4 bash "$repo/mk/kunit.sh" "$repo" "$build" arm64; r=$?; runs+=(arm64) ;;
	arm64-16k) KUNIT_CONFIG=ext4 KUNIT_PAGES=16k bash "$repo/mk/kunit.sh" "$repo" "$build" arm64; r=$?; runs+=(arm64-16k) ;;
	um-repo)   bash "$repo/mk/kunit.sh" "$repo" "$build" um; r=$?; runs+=(um) ;;
	*) echo "mk: matrix: unknown configuration $n" >&2; r=2 ;;
	esac
	[ "$r" = 0 ] || rc=1
done
# summary.py counts kunit-NAME.json and *.tsv of one directory: give it
# only this run's JSON files.
rm -f "$out"/*.json
for r in "${runs[@]}"; do
	cp "$build/results/kunit-$r.json" "$out/" 2>/dev/null || true
done
python3 "$repo/mk/summary.py" "$out" "${runs[@]}" || rc=1
exit "$rc"
