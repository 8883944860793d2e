# driver/seed.mk: NoCloud seed glue (driver/seed.c) and its tests
noinst_HEADERS += driver/seed.h
libqcdriver_a_SOURCES += driver/seed.h driver/seed.c

check_PROGRAMS += tests/unit/check_seed_driver
TESTS += tests/unit/check_seed_driver
tests_unit_check_seed_driver_SOURCES = tests/unit/check_seed_driver.c
tests_unit_check_seed_driver_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_seed_driver_LDADD = $(QC_LIBS) $(CHECK_LIBS)
