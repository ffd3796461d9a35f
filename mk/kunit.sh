#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the repo's KUnit suites on one architecture with the tree's own
# kunit.py, and keep the results under BUILD_DIR/results:
#   kunit-ARCH.log   kunit.py's parsed output
#   kunit-ARCH.ktap  the kernel's raw console output (KTAP)
#   kunit-ARCH.json  kunit.py --json (KernelCI format)
#
# Usage: kunit.sh REPO_DIR BUILD_DIR ARCH [extra kunit.py args...]
#   ARCH: um | x86_64 | arm64
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
arch=$3
shift 3
tree=$build/linux
out=$build/results
bdir=$build/kunit-$arch
mkdir -p "$out"

args=(run --kunitconfig="$repo/.kunitconfig" --build_dir="$bdir"
      --jobs="$(nproc)" --json="$out/kunit-$arch.json")
case "$arch" in
um) ;;
x86_64) args+=(--arch=x86_64)
	# Only let QEMU try KVM where it really works (see the wrapper).
	export PATH="$repo/mk/qemu-bin:$PATH"
	if "$repo/mk/kvm-usable.sh"; then accel=kvm; else accel=tcg; fi
	echo "mk: kunit x86_64 under QEMU with $accel" ;;
arm64)	args+=(--arch=arm64)
	echo "mk: kunit arm64 under QEMU with tcg"
	command -v aarch64-linux-gnu-gcc >/dev/null &&
		args+=(--cross_compile=aarch64-linux-gnu-) ;;
*)	echo "mk: error: ARCH=$arch: use um, x86_64 or arm64" >&2; exit 2 ;;
esac

rm -f "$out/kunit-$arch.json" "$out/kunit-$arch.ktap"
start=$(date +%s)
(cd "$tree" && python3 tools/testing/kunit/kunit.py "${args[@]}" "$@") 2>&1 |
	tee "$out/kunit-$arch.log"
rc=${PIPESTATUS[0]}
[ -f "$bdir/test.log" ] && cp "$bdir/test.log" "$out/kunit-$arch.ktap"
echo "mk: kunit $arch: exit $rc in $(( $(date +%s) - start ))s; results in $out/kunit-$arch.{log,ktap,json}"
exit "$rc"
