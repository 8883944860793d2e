# Day-2 operations (issue 11 items 1, 2, 5): ready/wait, resize, --seed-bus.
# Included at the end of driver/local.mk; snapshots and hot-plug live in
# driver/snapshot.mk.
noinst_HEADERS += driver/ready.h driver/resize.h driver/seed_bus.h
libqcdriver_a_SOURCES += driver/ready_match.c driver/ready.c driver/resize.c driver/seed_bus.c
qemuctl_SOURCES += driver/cli/cmd_day2.c

check_PROGRAMS += tests/unit/check_day2
TESTS += tests/unit/check_day2
tests_unit_check_day2_SOURCES = tests/unit/check_day2.c
tests_unit_check_day2_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_day2_LDADD = $(QC_LIBS) $(CHECK_LIBS)

dist_noinst_SCRIPTS += tests/integration/day2-ready.sh tests/integration/day2-resize.sh
TESTS += tests/integration/day2-ready.sh tests/integration/day2-resize.sh
EXTRA_DIST += bench/wait
