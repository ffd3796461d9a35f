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
#   module         KUnit, ext4 and the suites as modules, loaded in an
#                  x86_64 guest (mk/kunit-module.sh, `make kunit-module`)
#   um-all-tests   UML, fs/ext4's kunitconfig plus CONFIG_KUNIT_ALL_TESTS=y:
#                  every suite the configuration allows runs in the same
#                  kernel (clashes of names, device numbers or globals)
#   randconfig     x86_64 randconfigs with ext4, KUnit and the ext4 suites
#                  forced on, quota and the rest as the seed picks
#                  (KCONFIG_SEED: MATRIX_SEEDS, default "1 2 3"): fs/ext4/
#                  and lib/kunit/ must build with no compiler warning;
#                  one result line per seed
# Every KUnit run leaves BUILD_DIR/results/kunit-NAME.{log,ktap,json}; the
# randconfig builds BUILD_DIR/results/matrix/randconfig.tsv and their logs
# next to it.  The last line is "N passed, N failed" over all of them.
#
# Usage: matrix.sh REPO_DIR BUILD_DIR [NAME...]   (default: all of them)
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
shift 2
names=("$@")
[ "${#names[@]}" -gt 0 ] || names=(x86_64 arm64 arm64-16k module um-repo um-all-tests randconfig)
out=$build/results/matrix
mkdir -p "$out"
unset MAKEFLAGS MFLAGS MAKELEVEL
runs=()
rc=0
tree=$build/linux
rm -f "$out/randconfig.tsv"

# um_all_tests: the ext4 kunitconfig with every other suite it allows.
um_all_tests() {
	local name=kunit-um-all-tests
	rm -f "$build/results/$name.json"
	(cd "$tree" && python3 tools/testing/kunit/kunit.py run --kunitconfig=fs/ext4 \
		--kconfig_add CONFIG_KUNIT_ALL_TESTS=y --kconfig_add CONFIG_PRINTK_TIME=y \
		--build_dir="$build/$name" --jobs="$(nproc)" \
		--json="$build/results/$name.json") 2>&1 | tee "$build/results/$name.log"
	local r=${PIPESTATUS[0]}
	cp "$build/$name/test.log" "$build/results/$name.ktap" 2>/dev/null
	return "$r"
}

# randconfig: per seed, a randconfig with ext4 and its tests forced on
# (the fragment mk/matrix/randconfig.config), then fs/ext4/ and lib/kunit/
# built; a compiler warning in them fails the seed (W=1 is `make checks`).
randconfig() {
	local seed bdir log r
	for seed in ${MATRIX_SEEDS:-1 2 3}; do
		bdir=$build/randconfig-$seed
		log=$out/randconfig-$seed.log
		mkdir -p "$bdir"
		r=0
		{ KCONFIG_SEED=$seed KCONFIG_ALLCONFIG=$repo/mk/matrix/randconfig.config \
			make -C "$tree" O="$bdir" ARCH=x86_64 randconfig &&
		  make -C "$tree" O="$bdir" ARCH=x86_64 olddefconfig &&
		  nice make -C "$tree" O="$bdir" ARCH=x86_64 -j"$(nproc)" fs/ext4/ lib/kunit/
		} > "$log" 2>&1 || r=1
		local miss=""
		for o in EXT4_FS EXT4_KUNIT_TESTS KUNIT; do
			grep -Eq "^CONFIG_$o=[ym]" "$bdir/.config" || miss="$miss $o"
		done
		local warn
		warn=$(grep -E '^(/[^ ]*/)?(fs/ext4|lib/kunit|include/kunit)/[^ ]*:[0-9]+:[0-9]+: (warning|error):' "$log" | head -n 1)
		local quota
		quota=$(grep -c '^CONFIG_QUOTA=y' "$bdir/.config")
		if [ "$r" = 0 ] && [ -z "$miss" ] && [ -z "$warn" ]; then
			printf 'PASS\trandconfig seed %s (x86_64, QUOTA=%s)\t\n' "$seed" "$quota" >> "$out/randconfig.tsv"
		else
			printf 'FAIL\trandconfig seed %s\t%s\n' "$seed" \
				"${miss:+not set:$miss; }${warn:-build failed: see $log}" >> "$out/randconfig.tsv"
			rc=1
		fi
		echo "mk: matrix: randconfig seed $seed: $(tail -n 1 "$out/randconfig.tsv" | cut -f1)"
	done
}
for n in "${names[@]}"; do
	echo "==== kunit $n ===="
	case "$n" in
	x86_64)    KUNIT_CONFIG=ext4 bash "$repo/mk/kunit.sh" "$repo" "$build" x86_64; r=$?; runs+=(x86_64) ;;
	arm64)     KUNIT_CONFIG=ext4 bash "$repo/mk/kunit.sh" "$repo" "$build" arm64; r=$?; runs+=(arm64) ;;
	arm64-16k) KUNIT_CONFIG=ext4 KUNIT_PAGES=16k bash "$repo/mk/kunit.sh" "$repo" "$build" arm64; r=$?; runs+=(arm64-16k) ;;
	module)    bash "$repo/mk/kunit-module.sh" "$repo" "$build"; r=$?; runs+=(module) ;;
	um-repo)   bash "$repo/mk/kunit.sh" "$repo" "$build" um; r=$?; runs+=(um) ;;
	um-all-tests) um_all_tests; r=$?; runs+=(um-all-tests) ;;
	randconfig) randconfig; r=0 ;;
	*) echo "mk: matrix: unknown configuration $n" >&2; r=2 ;;
	esac
	[ "$r" = 0 ] || rc=1
done
# summary.py counts kunit-NAME.json and *.tsv of one directory: give it
# only this run's JSON files.
rm -f "$out"/*.json
# the randconfig results are the only .tsv here
for r in "${runs[@]}"; do
	cp "$build/results/kunit-$r.json" "$out/" 2>/dev/null || true
done
python3 "$repo/mk/summary.py" "$out" "${runs[@]}" || rc=1
exit "$rc"
