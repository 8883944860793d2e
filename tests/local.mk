# Shared test infrastructure: the integration-test shell library and the
# test guest builder (tests/guest/).  Each folder's local.mk adds its own
# unit and integration tests to TESTS.
EXTRA_DIST += tests/integration/lib.sh

.PHONY: print-tests guest
print-tests:
	@echo $(TESTS)

# Build (or reuse) the cached tiny x86_64 test guest.
guest:
	$(top_srcdir)/tests/guest/build-guest --arch x86_64 --out $(abs_top_builddir)/tests/guest/cache/x86_64
include tests/fuzz/local.mk
include tests/slow.mk

# Issue 9 item 2: parallel CLI processes on shared VMs and a network (root, netns).
dist_noinst_SCRIPTS += tests/integration/concurrency.sh
TESTS += tests/integration/concurrency.sh
