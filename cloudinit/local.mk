# cloudinit/ sources and tests
libqccloudinit_a_SOURCES += \
	cloudinit/cloudinit.h \
	cloudinit/iso.c \
	cloudinit/iso_tree.c \
	cloudinit/iso_write.c \
	cloudinit/yaml.c \
	cloudinit/seed.c

QC_CHECK_TESTS += tests/unit/check_cloudinit_iso tests/unit/check_cloudinit_seed
tests_unit_check_cloudinit_iso_LDADD = $(QC_CLOUDINIT_LIBS) $(CHECK_LIBS)
tests_unit_check_cloudinit_seed_LDADD = $(QC_CLOUDINIT_LIBS) $(CHECK_LIBS)
