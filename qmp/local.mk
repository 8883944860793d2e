# qmp/: the QMP client (qmp.h is the folder's one internal header)
libqcqmp_a_SOURCES += qmp/qmp.h qmp/io.c qmp/command.c
libqcqmp_a_SOURCES += qmp/connect.c

check_PROGRAMS += tests/unit/check_qmp_client
TESTS += tests/unit/check_qmp_client
tests_unit_check_qmp_client_SOURCES = tests/unit/check_qmp_client.c tests/unit/qmp_fake.c \
	tests/unit/qmp_fake.h
tests_unit_check_qmp_client_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_check_qmp_client_LDADD = $(QC_QMP_LIBS) $(CHECK_LIBS) -lpthread

# Against a real qemu-system-x86_64 -S under TCG (no guest needed).
check_PROGRAMS += tests/integration/qmp_qemu
TESTS += tests/integration/qmp_qemu
tests_integration_qmp_qemu_SOURCES = tests/integration/qmp_qemu.c
tests_integration_qmp_qemu_CFLAGS = $(UNIT_CFLAGS)
tests_integration_qmp_qemu_LDADD = $(QC_QMP_LIBS) $(CHECK_LIBS)
