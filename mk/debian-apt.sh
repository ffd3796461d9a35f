#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run apt-get or apt-cache against one Debian suite through a private
# apt state directory, leaving the system's apt configuration and state
# alone.  The archive URI is read from this machine's own apt
# configuration, so no host name is written in the repository.
#
# Usage: debian-apt.sh STATE_DIR SUITE apt-get|apt-cache ARGS...
#   STATE_DIR gets lists/, cache/ and sources.list; both "deb" and
#   "deb-src" lines are written, for binary and source downloads.
#   "debian-apt.sh STATE_DIR SUITE update" runs apt-get update once a day.
set -euo pipefail

dir=$(realpath -m "$1")
suite=$2
tool=$3
shift 3

die() { echo "mk: error: $*" >&2; exit 1; }

# The mirror: the first non-security URI of the machine's deb822
# sources, else of its one-line sources.
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

command -v apt-get >/dev/null || die "apt-get not found: this is not Debian"
uri=$(mirror_uri)
[ -n "$uri" ] || die "no Debian archive URI found in /etc/apt"

mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[ -r "$keyring" ] && signed=" [signed-by=$keyring]"
printf 'deb%s %s %s main\ndeb-src%s %s %s main\n' \
	"$signed" "$uri" "$suite" "$signed" "$uri" "$suite" > "$dir/sources.list"

opts=(-o "Dir::State::Lists=$dir/lists"
      -o "Dir::Cache=$dir/cache"
      -o "Dir::Etc::sourcelist=$dir/sources.list"
      -o "Dir::Etc::sourceparts=-"
      -o "APT::Get::List-Cleanup=0"
      -o "Debug::NoLocking=1"
      -o "APT::Sandbox::User=root")

if [ "$tool" = update ]; then
	stamp=$dir/updated
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ] || [ "${BASE_REFRESH:-0}" = 1 ]; then
		echo "mk: apt-get update ($suite, private state in $dir)" >&2
		apt-get -q "${opts[@]}" update > "$dir/update.log" 2>&1 ||
			{ cat "$dir/update.log" >&2; die "apt-get update for $suite failed"; }
		touch "$stamp"
	fi
	exit 0
fi
exec "$tool" "${opts[@]}" "$@"
