# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the scripts that boot a kernel (sourced, not run).

# Lines of a console log that mean the kernel reported a problem: BUG,
# WARNING, Oops, KASAN, UBSAN, lockdep, hung tasks.  Any one fails a run,
# even when every test passed.
KERNEL_REPORTS='(BUG|WARNING|UBSAN|INFO: (possible|task .* blocked|trying to register)|Oops|general protection|Kernel panic|kernel BUG)[: ]|KASAN|Call Trace:'

# Kernel arguments of every boot of the x86_64 debug kernel (KASAN) in a
# guest with "-cpu max" (TCG) or "-cpu host": no5lvl, 4-level paging.
# TCG's "max" CPU has LA57, and with 5-level paging the KASAN kernel
# reports a false "BUG: KASAN: wild-memory-access in rcu_is_watching"
# when a timer interrupt lands in identify_cpu(&boot_cpu_data), which
# clears X86_FEATURE_LA57 for a moment (the memset of x86_capability),
# so that KASAN takes the direct map (0xff11...) for a wild address:
# 1 boot in 14 here (and 0 in 40 with no5lvl), once in CI (2026-12-06).
# The e2e kernel has no KASAN and keeps the CPU's paging: the crash
# check's states depend on the guest's timing, and its configurations
# with fast commits have so far been checked that way.
X86_KARGS="no5lvl"

# The machine the e2e kernel (mk/e2e/kernel.config) boots on, for
# mk/e2e.sh, mk/crash.sh and mk/bench.sh: QEMU's microvm without ACPI (no
# PCI; the CPUs from its firmware's MP table; virtio devices over MMIO,
# which QEMU lists on the kernel command line), ended by a reset that
# -no-reboot turns into QEMU's exit (reboot=t: a triple fault, since
# the machine has no keyboard controller either).  kunit.enable=0: the
# x86_64 debug kernel (E2E_KERNEL=debug) has the KUnit suites built in;
# a kernel without KUnit ignores the parameter.
# shellcheck disable=SC2054 # one argument with a comma
E2E_QEMU_MACHINE=(-M microvm,acpi=off)
E2E_KARGS="reboot=t kunit.enable=0"

# e2e_disk FILE ID: the QEMU arguments of a virtio disk on the e2e machine
# backed by FILE (the first one given is vda, the next vdb).
e2e_disk() {
	echo "-drive id=$2,file=$1,if=none,format=raw,cache=writeback -device virtio-blk-device,drive=$2"
}

# pack_initramfs DIR OUTPUT: a gzip'ed newc cpio archive of DIR, owned by
# root, reproducible (sorted, no timestamps in the gzip header).
pack_initramfs() {
	(cd "$1" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -n > "$2.tmp" &&
		mv "$2.tmp" "$2"
}

# tap_to_tsv LOG: the guests' TAP lines ("ok N - name", "not ok N - name #
# why") of LOG as mk/summary.py's result lines (PASS|FAIL, name, detail).
tap_to_tsv() {
	local line
	while IFS= read -r line; do
		if [[ $line =~ ^ok\ [0-9]+\ -\ ([A-Za-z0-9._-]+)$ ]]; then
			printf 'PASS\t%s\t\n' "${BASH_REMATCH[1]}"
		elif [[ $line =~ ^not\ ok\ [0-9]+\ -\ ([A-Za-z0-9._-]+)\ #\ (.*)$ ]]; then
			printf 'FAIL\t%s\t%s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
		fi
	done < "$1"
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

# bench_chart DAT PNG TITLE: the chart of make bench and make bench-native,
# a clustered histogram of the median MiB/s per case and path in DAT (a
# header line "case PATH...", then one line per case).  TITLE may hold \n.
bench_chart() {
	local dat=$1 png=$2 title=$3 n
	n=$(($(wc -l < "$dat") - 1))
	gnuplot <<GP
set terminal pngcairo size $(( n > 10 ? 300 + 60 * n : 900 )),600 noenhanced
set output "$png"
set title "$title"
set ylabel "MiB/s"
set style data histograms
set style histogram clustered gap 1
set style fill solid border -1
set xtics rotate by -45 scale 0
set key top left
set grid ytics
set yrange [0:*]
plot for [i=2:$(( $(head -n 1 "$dat" | wc -w) ))] "$dat" using i:xtic(1) title columnhead
GP
}
