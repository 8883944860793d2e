# driver/seed.mk: NoCloud seed glue (driver/seed.c) and its tests
noinst_HEADERS += driver/seed.h
libqcdriver_a_SOURCES += driver/seed.h driver/seed.c driver/seed_hostkey.c

check_PROGRAMS += tests/unit/check_seed_driver
TESTS += tests/unit/check_seed_driver
tests_unit_check_seed_driver_SOURCES = tests/unit/check_seed_driver.c
tests_unit_check_seed_driver_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_seed_driver_LDADD = $(QC_LIBS) $(CHECK_LIBS)

# Integration: the CLI end to end, and seeds read by the tiny guest's kernel.
dist_noinst_SCRIPTS += tests/integration/seed-cli.sh tests/integration/seed-guest.sh
TESTS += tests/integration/seed-cli.sh tests/integration/seed-guest.sh

# bench/seed.sh: the seed writer alone, next to `qemuctl seed build`.
noinst_PROGRAMS += bench/seed-build
bench_seed_build_SOURCES = bench/seed-build.c
bench_seed_build_LDADD = $(QC_CLOUDINIT_LIBS)
EXTRA_DIST += bench/seed.sh

# seed-mkiso: an ISO of a whole tree, for seed-guest.sh's kernel round trip.
check_PROGRAMS += tests/integration/seed-mkiso
tests_integration_seed_mkiso_SOURCES = tests/integration/seed-mkiso.c
tests_integration_seed_mkiso_LDADD = $(QC_CLOUDINIT_LIBS)
