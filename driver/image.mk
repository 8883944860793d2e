# driver/image.mk: images for VMs (--image/--disk-image/--disk) and the public image API.
libqcdriver_a_SOURCES += driver/image.h driver/image.c
