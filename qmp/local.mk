# qmp/: the QMP client (qmp.h is the folder's one internal header)
libqcqmp_a_SOURCES += qmp/qmp.h qmp/io.c qmp/command.c
libqcqmp_a_SOURCES += qmp/connect.c

QC_CHECK_TESTS += tests/unit/check_qmp_client
tests_unit_check_qmp_client_SOURCES = tests/unit/check_qmp_client.c tests/unit/qmp_fake.c \
	tests/unit/qmp_fake.h
tests_unit_check_qmp_client_CFLAGS = $(AM_CFLAGS) -pthread
tests_unit_check_qmp_client_LDADD = $(QC_QMP_LIBS) $(CHECK_LIBS) -lpthread

# Against a real qemu-system-x86_64 -S under TCG (no guest needed).
QC_CHECK_TESTS += tests/integration/qmp_qemu
tests_integration_qmp_qemu_LDADD = $(QC_QMP_LIBS) $(CHECK_LIBS)
