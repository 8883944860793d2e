# driver/snapshot.mk: snapshots and hot-plug (issue 11 items 3 and 4)
noinst_HEADERS += driver/vmop.h
libqcdriver_a_SOURCES += driver/vmop.c driver/snapshot_meta.c driver/snapshot.c \
	driver/snapshot_layer.h driver/snapshot_layer.c \
	driver/hotplug.c
qemuctl_SOURCES += driver/cli/cmd_snapshot.c driver/cli/cmd_hotplug.c


dist_noinst_SCRIPTS += tests/integration/snapshot.sh tests/integration/hotplug.sh \
	tests/integration/hotplug-net.sh
TESTS += tests/integration/snapshot.sh tests/integration/hotplug.sh \
	tests/integration/hotplug-net.sh
EXTRA_DIST += bench/snapshot

check_PROGRAMS += tests/unit/check_snapshot
TESTS += tests/unit/check_snapshot
tests_unit_check_snapshot_SOURCES = tests/unit/check_snapshot.c
tests_unit_check_snapshot_CFLAGS = $(QC_DOMAIN_TEST_CFLAGS)
tests_unit_check_snapshot_LDADD = $(QC_DOMAIN_TEST_LIBS)
