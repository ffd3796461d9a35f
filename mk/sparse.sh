#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the path of a sparse that the tree accepts
# (scripts/checker-valid.sh).  Debian 12's sparse 0.6.4 predates
# __typeof_unqual__, which 7.3 needs, so when the system's sparse is
# refused, build Debian's newer sparse from its source package (suite
# sid, fetched with mk/debian-apt.sh) under BUILD_DIR/tools once.
#
# Usage: sparse.sh TREE BUILD_DIR
set -euo pipefail

tree=$(realpath "$1")
build=$(realpath -m "$2")
here=$(dirname "$(realpath "$0")")
valid() { [ "$("$tree/scripts/checker-valid.sh" "$1" -m64 2>/dev/null)" = 1 ]; }

if command -v sparse >/dev/null && valid "$(command -v sparse)"; then
	command -v sparse
	exit 0
fi
bin=$build/tools/sparse/sparse
if [ -x "$bin" ] && valid "$bin"; then
	echo "$bin"
	exit 0
fi

suite=${SPARSE_SUITE:-sid}
apt=("$here/debian-apt.sh" "$build/apt-$suite" "$suite")
"${apt[@]}" update
src=$build/tools/sparse-src
rm -rf "$src" "$build/tools/sparse"
mkdir -p "$src"
echo "mk: building sparse from Debian's $suite source package" >&2
(cd "$src" && "${apt[@]}" apt-get -q source --download-only sparse >&2 &&
 dpkg-source --no-check -x sparse_*.dsc sparse >&2)
make -s -C "$src/sparse" -j"$(nproc)" CC=gcc sparse >&2
mkdir -p "$build/tools/sparse"
cp "$src/sparse/sparse" "$bin"
rm -rf "$src"
valid "$bin" || { echo "mk: error: Debian $suite's sparse is not accepted by the tree either" >&2; exit 1; }
echo "$bin"
