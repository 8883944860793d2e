# driver/arch.mk (issue 8): UEFI firmware for disk boot, the per-arch
# integration tests and the boot benchmark.
libqcdriver_a_SOURCES += driver/firmware.c driver/firmware.h

ARCH_TESTS = tests/integration/arch-lifecycle-x86_64.sh \
	tests/integration/arch-lifecycle-aarch64.sh \
	tests/integration/arch-lifecycle-ppc64le.sh \
	tests/integration/arch-errors.sh \
	tests/integration/firmware-disk-boot-x86_64.sh \
	tests/integration/firmware-disk-boot-aarch64.sh
TESTS += $(ARCH_TESTS)
dist_noinst_SCRIPTS += $(ARCH_TESTS) tests/integration/arch-lifecycle.sh \
	tests/integration/firmware-disk-boot.sh tests/guest/build-disk-image

check_PROGRAMS += tests/unit/check_firmware
TESTS += tests/unit/check_firmware
tests_unit_check_firmware_SOURCES = tests/unit/check_firmware.c
tests_unit_check_firmware_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_firmware_LDADD = libqcdriver.a $(QC_UTIL_LIBS) $(XML_LIBS) $(CHECK_LIBS)

# bench/boot: boot-to-GUEST-READY per arch (bench/README.md, "## boot")
dist_noinst_SCRIPTS += bench/boot
