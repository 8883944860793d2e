# tests/slow.mk: `make check-slow`, the tests too slow for `make check` (not
# in TESTS): a real Debian 12 cloud guest (tests/guest/build-debian, built
# with debootstrap as root, cached under $QC_GUEST_CACHE/debian-amd64) that
# applies a qemuctl seed with its own cloud-init under TCG; the same guest
# with Debian's qemu-guest-agent installed from .debs fetched on the host
# (slow-debian-qga.sh: info, exec, quiesced snapshots and stop through the
# agent; bench/exec reports its exec timings).
# tools/test (CI) runs them beside `make check` in the gcc build; each
# test's time goes to tests/durations.txt through tests/timed, as in
# `make check`.
SLOW_TESTS = tests/integration/slow-debian-cloudinit.sh tests/integration/slow-debian-qga.sh
# --secure-boot with a signed path (shim, GRUB, kernel) and --tpm.
SLOW_TESTS += tests/integration/slow-secure-boot.sh
# A running aarch64 guest moved live (qemuctl migrate) there and back.
SLOW_TESTS += tests/integration/slow-migrate-aarch64.sh
# A running UEFI guest (OVMF, its own varstore) moved live (qemuctl migrate).
SLOW_TESTS += tests/integration/slow-migrate-uefi.sh
dist_noinst_SCRIPTS += $(SLOW_TESTS) tests/guest/build-debian

.PHONY: check-slow
check-slow: qemuctl qemuctl-monitor
	@fail=0; for t in $(SLOW_TESTS); do \
		start=$$(date +%s); \
		if env $(TESTS_ENVIRONMENT) $(srcdir)/$$t; then r=PASS; else r=FAIL; fail=1; fi; \
		echo "$$r: $$t ($$(( $$(date +%s) - start )) s)"; \
	done; exit $$fail
