libqcutil_a_SOURCES += \
	util/util.h \
	util/error.c \
	util/mem.c \
	util/time.c \
	util/log.c \
	util/parse.c \
	util/fileio.c \
	util/dirs.c \
	util/trust.c \
	util/lock.c \
	util/spawn.c \
	util/spawn_run.c \
	util/process.c \
	util/json.c \
	util/json_parse.c \
	util/sshurl.c \
	util/term.c \
	util/fault.c \
	util/steptime.c

QC_CHECK_TESTS += tests/unit/check_util
tests_unit_check_util_SOURCES = tests/unit/check_util.c tests/unit/check_util_spawn.c \
	tests/unit/check_util_json.c tests/unit/check_util_fileio.c tests/unit/check_util_fault.c tests/unit/check_util_term.c tests/unit/unit.h \
	tests/unit/check_util_trust.c tests/unit/check_util_sshurl.c
tests_unit_check_util_LDADD = $(QC_UTIL_LIBS) $(CHECK_LIBS)

# Leak check of the util tests (STYLE §17): no fork, so valgrind sees every test.
.PHONY: check-valgrind-util
check-valgrind-util: tests/unit/check_util
	CK_FORK=no CK_DEFAULT_TIMEOUT=600 valgrind -q --leak-check=full --error-exitcode=1 \
		./tests/unit/check_util
