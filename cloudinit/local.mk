# cloudinit/ sources and tests
libqccloudinit_a_SOURCES += \
	cloudinit/cloudinit.h \
	cloudinit/iso.c \
	cloudinit/iso_tree.c \
	cloudinit/iso_write.c \
	cloudinit/yaml.c \
	cloudinit/seed.c

check_PROGRAMS += tests/unit/check_cloudinit_iso
TESTS += tests/unit/check_cloudinit_iso
tests_unit_check_cloudinit_iso_SOURCES = tests/unit/check_cloudinit_iso.c
tests_unit_check_cloudinit_iso_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cloudinit_iso_LDADD = $(QC_CLOUDINIT_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_cloudinit_seed
TESTS += tests/unit/check_cloudinit_seed
tests_unit_check_cloudinit_seed_SOURCES = tests/unit/check_cloudinit_seed.c
tests_unit_check_cloudinit_seed_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cloudinit_seed_LDADD = $(QC_CLOUDINIT_LIBS) $(CHECK_LIBS)
