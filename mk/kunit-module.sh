#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the ext4 KUnit suites built as a module, with KUnit and ext4
# themselves modules too (CONFIG_KUNIT=m, CONFIG_EXT4_FS=m,
# CONFIG_EXT4_KUNIT_TESTS=m): an x86_64 kernel from allnoconfig +
# mk/e2e/kernel.config + mk/kunit-module/kernel.config is booted in QEMU
# (KVM where mk/kvm-usable.sh allows, else TCG) with an initramfs of
# busybox and the installed modules; the guest loads kunit.ko, jbd2,
# mbcache, ext4.ko and fs/ext4/ext4-test.ko in the order modprobe
# --show-depends gives, the suites run while ext4-test.ko loads, and it
# unloads it.  This checks that every symbol the suites use is exported
# to them.  The console is parsed with kunit.py.
#   BUILD_DIR/results/kunit-module.ktap  the console
#   BUILD_DIR/results/kunit-module.log   kunit.py parse's report
#   BUILD_DIR/results/kunit-module.json  kunit.py --json (KernelCI)
#
# Usage: kunit-module.sh REPO_DIR BUILD_DIR
set -uo pipefail

repo=$(realpath "$1")
build=$(realpath -m "$2")
tree=$build/linux
kobj=$build/kunit-module-x86_64
work=$build/kunit-module
out=$build/results
blog=$out/kunit-module-build.log
console=$out/kunit-module.ktap
unset MAKEFLAGS MFLAGS MAKELEVEL
mkdir -p "$out" "$work" "$kobj"
rm -f "$out/kunit-module.json" "$console"
# shellcheck source=mk/lib.sh
. "$repo/mk/lib.sh"
msg() { echo "mk: kunit module: $*"; }
die() { echo "mk: kunit module: error: $*" >&2; exit 1; }

[ -f "$tree/Makefile" ] || die "no tree in $tree: run 'make tree'"
busybox=$(command -v busybox || echo /bin/busybox)
[ -x "$busybox" ] || die "no busybox (run 'make deps')"

# --- kernel ----------------------------------------------------------------
kmake() { nice -n 10 make -C "$tree" O="$kobj" ARCH=x86_64 "$@"; }
frag=$work/kernel.config
cat "$repo/mk/e2e/kernel.config" "$repo/mk/kunit-module/kernel.config" > "$frag.new"
if ! cmp -s "$frag.new" "$frag" || [ ! -f "$kobj/.config" ]; then
	msg "configuring $kobj"
	if ! { KCONFIG_ALLCONFIG=$frag.new kmake allnoconfig &&
	       kmake olddefconfig; } > "$blog" 2>&1; then
		tail -n 20 "$blog" >&2
		die "make allnoconfig/olddefconfig failed: see $blog"
	fi
	mv "$frag.new" "$frag"
else
	rm -f "$frag.new"
fi
# The last setting of an option in the fragment is the one asked for.
bad=""
while read -r line; do
	grep -qxF "$line" "$kobj/.config" || bad="$bad ${line%%=*}"
done < <(grep '^CONFIG_' "$frag" | tac | awk -F= '!seen[$1]++')
[ -z "$bad" ] || die "not set as asked in $kobj/.config:$bad"

start=$(date +%s)
msg "building bzImage and modules in $kobj (log: $blog)"
if ! kmake -j"$(nproc)" bzImage modules >> "$blog" 2>&1; then
	grep -E 'error|Error|undefined' "$blog" | head -n 20 >&2
	die "kernel build failed: see $blog"
fi
ko=$kobj/fs/ext4/ext4-test.ko
[ -f "$ko" ] || die "no $ko after the build"
msg "built in $(( $(date +%s) - start ))s"

# --- initramfs ----------------------------------------------------------------
root=$work/root
rm -rf "$root"
mkdir -p "$root"/{bin,proc,sys,dev}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$repo/mk/kunit-module/init" "$root/init"
kver=$(cat "$kobj/include/config/kernel.release") || die "no kernel release in $kobj"
export PATH=$PATH:/usr/sbin:/sbin
command -v depmod > /dev/null || die "no depmod (Debian package kmod: run 'make deps')"
kmake INSTALL_MOD_PATH="$root" INSTALL_MOD_STRIP=1 DEPMOD="$(command -v depmod)" \
	modules_install >> "$blog" 2>&1 || die "make modules_install failed: see $blog"
# Paths as the guest sees them, dependencies first.
modprobe -d "$root" -S "$kver" --show-depends ext4-test 2>> "$blog" |
	sed -n "s|^insmod $root||p" | sed 's/ .*//' > "$root/load-order"
grep -q '/ext4-test.ko$' "$root/load-order" ||
	die "modprobe --show-depends found no ext4-test.ko in $root (see $blog)"
msg "modules: $(sed 's|.*/||' "$root/load-order" | tr '\n' ' ')"
pack_initramfs "$root" "$work/initrd.img" || die "packing the initramfs"
rm -rf "$root"

# --- run ----------------------------------------------------------------------
accel=$(qemu_accel "$repo")
if [ "$accel" = kvm ]; then cpu=host; else cpu=max; fi
msg "booting with $accel; console: $console"
start=$(date +%s)
# The e2e kernel's machine (mk/lib.sh): microvm without ACPI, ended by
# a reset (reboot=t); not E2E_KARGS, whose kunit.enable=0 the kunit
# module would take.
timeout -k 10 "${KUNIT_MODULE_TIMEOUT:-900}" qemu-system-x86_64 "${E2E_QEMU_MACHINE[@]}" \
	-accel "$accel" -cpu "$cpu" -m 1G -smp 2 -nographic -no-reboot -nic none \
	-kernel "$kobj/arch/x86/boot/bzImage" -initrd "$work/initrd.img" \
	-append "console=ttyS0 loglevel=7 panic=-1 reboot=t" < /dev/null 2>&1 |
	sed -u 's/\r$//' > "$console"
qrc=${PIPESTATUS[0]}
msg "guest ran $(( $(date +%s) - start ))s, exit $qrc"
grep '^# kunit-module:' "$console" | sed 's/^/    /'

# The boot prints an empty KTAP run of the built-in suites (none): parse
# from the module load on.
sed -n '/^# kunit-module: loading/,$p' "$console" > "$work/module.ktap"
(cd "$tree" && python3 tools/testing/kunit/kunit.py parse \
	--json="$out/kunit-module.json" "$work/module.ktap") > "$out/kunit-module.log" 2>&1
prc=$?
grep -E 'Testing complete|FAILED|CRASHED' "$out/kunit-module.log" | tail -n 20
rc=0
grep -q '^# kunit-module: insmod exit 0' "$console" || { echo "mk: kunit module: insmod failed" >&2; rc=1; }
grep -q '^# kunit-module: rmmod exit 0' "$console" || { echo "mk: kunit module: rmmod failed" >&2; rc=1; }
[ "$prc" = 0 ] || rc=1
if grep -Eq "$KERNEL_REPORTS" "$console"; then
	echo "mk: kunit module: the kernel reported problems:" >&2
	grep -En "$KERNEL_REPORTS" "$console" | head -n 20 | sed 's/^/    /' >&2
	rc=1
fi
msg "exit $rc; results in $out/kunit-module.{log,ktap,json}"
exit "$rc"
