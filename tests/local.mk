# Shared test infrastructure: the integration-test shell library and the
# test guest builder (tests/guest/).  Each folder's local.mk adds its own
# unit and integration tests to TESTS.
EXTRA_DIST += tests/integration/lib.sh tests/integration/netns.sh tests/unit/check_main.h

# File system safety: a full disk, symlinks planted in the state root.
TESTS += tests/integration/full-disk.sh tests/integration/symlinks.sh
dist_noinst_SCRIPTS += tests/integration/full-disk.sh tests/integration/symlinks.sh

.PHONY: print-tests guest
print-tests:
	@echo $(TESTS)

# Build (or reuse) the cached tiny x86_64 test guest.
guest:
	$(top_srcdir)/tests/guest/build-guest --arch x86_64 --out $(abs_top_builddir)/tests/guest/cache/x86_64
include tests/fuzz/local.mk
include tests/slow.mk

# Tests of the program as a whole, each run and distributed.
# Confinement: QEMU as an unprivileged user (driver/confine.c); needs root.
QC_SYSTEM_TESTS = tests/integration/confine.sh
# QEMU opens nothing by path: every VM file passed as an fd (driver/fdpass.c); needs root.
QC_SYSTEM_TESTS += tests/integration/trust-fdpass.sh
# SIGKILL of the CLI at every fault step (util/fault.c) of create, start, stop, ...
QC_SYSTEM_TESTS += tests/integration/faults.sh
# Parallel CLI processes on shared VMs and a network (root, netns).
QC_SYSTEM_TESTS += tests/integration/concurrency.sh
# Runtime directories, monitor sockets, state roots and pids of other users (root).
QC_SYSTEM_TESTS += tests/integration/trust-runtime.sh
TESTS += $(QC_SYSTEM_TESTS)
dist_noinst_SCRIPTS += $(QC_SYSTEM_TESTS)
