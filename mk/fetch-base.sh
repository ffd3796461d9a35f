#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-7.3 package (mk/tree.sh unpacks it) from
# the trixie-backports suite, through mk/debian-apt.sh's private apt
# state.  Any 7.3.y is accepted.
#
# Usage: fetch-base.sh BUILD_DIR
# Prints "VERSION PATH-OF-DEB" on stdout; downloads only when that
# version is not already in BUILD_DIR/apt/deb.
set -euo pipefail

build=$(realpath -m "$1")
pkg=${BASE_PACKAGE:-linux-source-7.3}
suite=${BASE_SUITE:-trixie-backports}
here=$(dirname "$(realpath "$0")")
apt=("$here/debian-apt.sh" "$build/apt" "$suite")
debs=$build/apt/deb

die() { echo "mk: error: $*" >&2; exit 1; }

"${apt[@]}" update
ver=$("${apt[@]}" apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$pkg is not in $suite"
case "$ver" in 7.3.*) ;; *) die "$pkg candidate is $ver, not a 7.3.y" ;; esac

mkdir -p "$debs"
deb=$(ls "$debs/${pkg}_${ver#*:}_all.deb" 2>/dev/null || true)
if [ -z "$deb" ]; then
	echo "mk: downloading $pkg $ver" >&2
	rm -f "$debs"/*.deb
	(cd "$debs" && "${apt[@]}" apt-get -q download "$pkg=$ver" >&2)
	deb=$(ls "$debs/${pkg}_"*_all.deb | head -1)
fi
echo "$ver $deb"
