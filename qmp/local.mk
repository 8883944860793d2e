# qmp/: the QMP client (qmp.h is the folder's one internal header)
libqcqmp_a_SOURCES += qmp/qmp.h qmp/io.c qmp/command.c

check_PROGRAMS += tests/unit/check_qmp
TESTS += tests/unit/check_qmp
tests_unit_check_qmp_SOURCES = tests/unit/check_qmp.c tests/unit/check_qmp_fake.c \
	tests/unit/check_qmp_fake.h
tests_unit_check_qmp_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_check_qmp_LDADD = $(QC_QMP_LIBS) $(CHECK_LIBS) -lpthread
