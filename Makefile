# SPDX-License-Identifier: GPL-2.0
#
# ext4 buffered I/O through iomap, on Linux 7.3: build and test entry
# points.  See README.md.
#
#   make kunit [ARCH=um|x86_64|arm64] [KUNIT_ARGS=...]
#   make kunit-debug    x86_64 with KASAN, PROVE_LOCKING, DEBUG_VM, UBSAN
#   make kunit-module   the suites as a module (insmod in an x86_64 guest)
#   make kunit-repeat   N=20 back-to-back UML runs, results must not vary
#   make matrix      KUnit configurations make test skips: x86_64 without
#                    debug options, arm64 4k and 16k pages, the module,
#                    UML repo config, KUNIT_ALL_TESTS, randconfigs
#   make bench       fio buffered writes: buffer_head vs iomap (BENCH_REPS=5)
#   make bench-native  the same at native speed: KUnit benchmark under UML,
#                    with a perf profile of 1k/4k write calls
#   make crash       crash check: write, reboot without unmount, verify;
#                    then every flush/FUA point of a dm-log-writes log
#   make stress      concurrent seeded stress on the x86_64 debug kernel,
#                    e2fsck with quota after (STRESS_SEED=N reruns one)
#   make e2e         fio + e2fsck on ext4 in an x86_64 QEMU guest
#                    (E2E_MOUNT_OPTS=... E2E_ACCEL=kvm|tcg; see mk/e2e.sh)
#   make test        what CI runs: all architectures, e2e, static checks
#   make tree        generate build/linux (base + patches/ + patches/tests/
#                    + overlay)
#   make export      save commits made in build/linux into patches/ (the
#                    write path) and patches/tests/ (the test series)
#   make series      the work as two git am-able series with cover letters
#                    in build/series/{write-path,tests}/, checked
#                    (series-check: and every prefix built for UML)
#   make coverage    line/branch coverage of fs/ext4 from the suites (UML
#                    gcov, lcov) in build/results/coverage/
#   make checks      checkpatch, sparse and W=1 only
#   make selftest    self-test of the tree tooling
#   make figures     the README's table of figures, from build/results
#   make deps        install the Debian packages needed
#
# KDIR=/path/to/linux uses that tree as the base instead of Debian's
# linux-source-7.3; it is copied, never modified.  A KDIR whose ext4 has
# its own buffered_iomap gets the test series only (make kunit KDIR=...
# runs our suites on another implementation; TESTS_ONLY=0|1 overrides).

REPO := $(CURDIR)
BUILD ?= $(REPO)/build
ARCH ?= um
KUNIT_ARGS ?=
ARCHS ?= um x86_64 arm64

# Our variables must not leak into the kernel's own make runs.
SH := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u ARCH $(if $(KDIR),KDIR=$(KDIR)) bash

.PHONY: figures help tree kunit kunit-debug kunit-module kunit-repeat matrix series series-check coverage bench bench-native crash stress e2e test checks selftest deps deps-auto export clean distclean

help:
	@sed -n '3,35s/^# \{0,1\}//p' Makefile

deps:
	@$(SH) mk/deps.sh install

deps-auto:
	@$(SH) mk/deps.sh auto

tree: deps-auto
	@$(SH) mk/tree.sh $(REPO) $(BUILD)

kunit: tree
	@$(SH) mk/kunit.sh $(REPO) $(BUILD) $(ARCH) $(KUNIT_ARGS)

kunit-debug: tree
	@KUNIT_DEBUG=1 $(SH) mk/kunit.sh $(REPO) $(BUILD) x86_64 $(KUNIT_ARGS)

kunit-module: tree
	@$(SH) mk/kunit-module.sh $(REPO) $(BUILD)

N ?= 20
kunit-repeat: kunit
	@$(SH) mk/repeat.sh $(REPO) $(BUILD) $(N)

series: tree
	@$(SH) mk/series.sh $(REPO) $(BUILD)

series-check: tree
	@SERIES_BUILD=1 $(SH) mk/series.sh $(REPO) $(BUILD)

coverage: tree deps-auto
	@$(SH) mk/coverage.sh $(REPO) $(BUILD)

matrix: tree
	@$(SH) mk/matrix.sh $(REPO) $(BUILD) $(MATRIX)

crash: tree
	@$(SH) mk/crash.sh $(REPO) $(BUILD)

stress: tree
	@$(SH) mk/stress.sh $(REPO) $(BUILD)

bench: tree
	@$(SH) mk/bench.sh $(REPO) $(BUILD)

bench-native: tree
	@$(SH) mk/bench-native.sh $(REPO) $(BUILD)

e2e: tree
	@$(SH) mk/e2e.sh $(REPO) $(BUILD)

checks: tree
	@$(SH) mk/checks.sh $(REPO) $(BUILD)

selftest:
	@$(SH) mk/selftest.sh $(REPO) $(BUILD)

# The README's table of figures, from the results of the last make test.
figures:
	@python3 mk/figures.py $(BUILD)/results README.md

test: deps-auto
	@KUNIT_ARGS='$(KUNIT_ARGS)' $(SH) mk/test.sh $(REPO) $(BUILD) $(ARCHS)

export:
	@$(SH) mk/export.sh $(REPO) $(BUILD)

# Kernel build outputs only; keeps the downloaded package and the tree.
clean:
	rm -rf $(BUILD)/kunit-* $(BUILD)/e2e-x86_64 $(BUILD)/repeat $(BUILD)/crash $(BUILD)/stress $(BUILD)/e2e $(BUILD)/check $(BUILD)/results $(BUILD)/selftest

distclean:
	rm -rf $(BUILD)
