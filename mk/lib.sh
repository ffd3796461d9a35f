# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the scripts that boot a kernel (sourced, not run).

# Lines of a console log that mean the kernel reported a problem: BUG,
# WARNING, Oops, KASAN, UBSAN, lockdep, hung tasks.  Any one fails a run,
# even when every test passed.
KERNEL_REPORTS='(BUG|WARNING|UBSAN|INFO: (possible|task .* blocked|trying to register)|Oops|general protection|Kernel panic|kernel BUG)[: ]|KASAN|Call Trace:'

# pack_initramfs DIR OUTPUT: a gzip'ed newc cpio archive of DIR, owned by
# root, reproducible (sorted, no timestamps in the gzip header).
pack_initramfs() {
	(cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -n > "$2.tmp" &&
		mv "$2.tmp" "$2"
}

# qemu_accel REPO_DIR: "kvm" where /dev/kvm opens read-write and
# mk/kvm-usable.sh finds hardware virtualisation, else "tcg".
qemu_accel() {
	if "$1/mk/kvm-usable.sh" && (exec 3<>/dev/kvm) 2>/dev/null; then
		echo kvm
	else
		echo tcg
	fi
}
