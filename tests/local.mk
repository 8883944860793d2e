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

# Confinement: QEMU as an unprivileged user (driver/confine.c); needs root.
TESTS += tests/integration/confine.sh
EXTRA_DIST += tests/integration/confine.sh
# QEMU opens nothing by path: every VM file passed as an fd (driver/fdpass.c); needs root.
TESTS += tests/integration/trust-fdpass.sh
EXTRA_DIST += tests/integration/trust-fdpass.sh

# SIGKILL of the CLI at every fault step (util/fault.c) of create, start, stop, ...
dist_noinst_SCRIPTS += tests/integration/faults.sh
TESTS += tests/integration/faults.sh

# Parallel CLI processes on shared VMs and a network (root, netns).
dist_noinst_SCRIPTS += tests/integration/concurrency.sh
TESTS += tests/integration/concurrency.sh

# Runtime directories, monitor sockets, state roots and pids of other users (root).
dist_noinst_SCRIPTS += tests/integration/trust-runtime.sh
TESTS += tests/integration/trust-runtime.sh
