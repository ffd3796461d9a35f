#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-7.3 package (mk/tree.sh unpacks it).
#
# apt runs with a private state directory and a sources list for the
# trixie-backports suite whose URI is read from this machine's own apt
# configuration, so the system's apt state is never touched and no
# archive host name is written anywhere in the repository.
#
# Usage: fetch-base.sh BUILD_DIR
# Prints "VERSION PATH-OF-DEB" on stdout; downloads only when that
# version is not already in BUILD_DIR/apt/deb.
set -euo pipefail

build=$(realpath -m "$1")
pkg=${BASE_PACKAGE:-linux-source-7.3}
suite=${BASE_SUITE:-trixie-backports}
apt_dir=$build/apt

msg() { echo "mk: $*" >&2; }
die() { echo "mk: error: $*" >&2; exit 1; }

# The mirror URI: the first "URIs:" (deb822) or "deb URI" line of the
# machine's own configuration that serves Debian's main archive.
mirror_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /:\/\// && $i !~ /security/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
}

command -v apt-get >/dev/null || die "apt-get not found: this is not Debian; set KDIR=/path/to/linux-7.3 instead"

uri=$(mirror_uri)
[ -n "$uri" ] || die "no Debian archive URI found in /etc/apt; set KDIR=/path/to/linux instead"

mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/deb"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[ -r "$keyring" ] && signed=" [signed-by=$keyring]"
echo "deb$signed $uri $suite main" > "$apt_dir/sources.list"

aptopts=(-o "Dir::State::Lists=$apt_dir/lists"
	 -o "Dir::Cache=$apt_dir/cache"
	 -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
	 -o "Dir::Etc::sourceparts=-"
	 -o "APT::Get::List-Cleanup=0"
	 -o "Debug::NoLocking=1"
	 -o "APT::Sandbox::User=root")

msg "apt-get update ($suite, private state in $apt_dir)"
apt-get -q "${aptopts[@]}" update >"$apt_dir/update.log" 2>&1 ||
	{ cat "$apt_dir/update.log" >&2; die "apt-get update for $suite failed"; }

ver=$(apt-cache "${aptopts[@]}" policy "$pkg" | awk '/Candidate:/ { print $2 }')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$pkg is not in $suite"
case "$ver" in 7.3.*) ;; *) die "$pkg candidate is $ver, not a 7.3.y" ;; esac

deb=$(ls "$apt_dir"/deb/"${pkg}"_*"${ver#*:}"_all.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	msg "downloading $pkg $ver"
	rm -f "$apt_dir"/deb/*.deb
	(cd "$apt_dir/deb" && apt-get -q "${aptopts[@]}" download "$pkg=$ver" >&2)
	deb=$(ls "$apt_dir"/deb/"${pkg}"_*_all.deb | head -1)
fi
echo "$ver $deb"
