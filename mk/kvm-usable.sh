#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Exit 0 when KVM can run an x86_64 guest here: /dev/kvm is read-write
# for us and the CPU advertises hardware virtualisation (vmx or svm).
# A /dev/kvm without them (some nested sandboxes) opens, but guests
# hang or abort in QEMU, so it counts as not usable.
# E2E_ACCEL/KUNIT_ACCEL=tcg|kvm overrides the probe.
case "${KUNIT_ACCEL:-${E2E_ACCEL:-}}" in
tcg) exit 1 ;;
kvm) exit 0 ;;
esac
[ "$(uname -m)" = x86_64 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
	grep -qwE 'vmx|svm' /proc/cpuinfo
