# driver/arch.mk (issue 8): UEFI firmware for disk boot, the per-arch
# integration tests and the boot benchmark.
libqcdriver_a_SOURCES += driver/firmware.c driver/firmware.h
