# driver/doctor.mk: qemuctl doctor (host checks)
libqcdriver_a_SOURCES += driver/doctor.c
qemuctl_SOURCES += driver/cli/cmd_doctor.c
TESTS += tests/integration/doctor.sh
EXTRA_DIST += tests/integration/doctor.sh
