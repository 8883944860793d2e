# cloudinit/ sources and tests
libqccloudinit_a_SOURCES += \
	cloudinit/cloudinit.h \
	cloudinit/iso.c
