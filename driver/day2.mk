# Day-2 operations (issue 11 items 1, 2, 5): ready/wait, resize, --seed-bus.
# Included at the end of driver/local.mk; snapshots and hot-plug live in
# driver/snapshot.mk.
noinst_HEADERS += driver/ready.h driver/resize.h driver/seed_bus.h
libqcdriver_a_SOURCES += driver/ready_match.c driver/ready.c driver/resize.c driver/seed_bus.c
qemuctl_SOURCES += driver/cli/cmd_day2.c
