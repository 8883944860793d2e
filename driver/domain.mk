# driver/domain.mk: domain model, XML, argv, arch
libqcdriver_a_SOURCES += driver/domain.h driver/domain.c driver/domain_fields.c driver/domain_home.c driver/arch.c driver/argv.c \
	driver/xml_internal.h driver/xml.c driver/xml_meta.c driver/xml_devices.c driver/xml_save.c

QC_DOMAIN_TEST_CFLAGS = $(UNIT_CFLAGS) -DQC_TEST_SRCDIR='"$(abs_top_srcdir)"'
QC_DOMAIN_TEST_LIBS = libqcdriver.a $(QC_UTIL_LIBS) $(XML_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_domain tests/unit/check_xml tests/unit/check_argv
TESTS += tests/unit/check_domain tests/unit/check_xml tests/unit/check_argv
tests_unit_check_domain_SOURCES = tests/unit/check_domain.c
tests_unit_check_domain_CFLAGS = $(QC_DOMAIN_TEST_CFLAGS)
tests_unit_check_domain_LDADD = $(QC_DOMAIN_TEST_LIBS)
tests_unit_check_xml_SOURCES = tests/unit/check_xml.c tests/unit/check_domain_golden.c tests/unit/check_domain_golden.h
tests_unit_check_xml_CFLAGS = $(QC_DOMAIN_TEST_CFLAGS)
tests_unit_check_xml_LDADD = $(QC_DOMAIN_TEST_LIBS)
tests_unit_check_argv_SOURCES = tests/unit/check_argv.c tests/unit/check_domain_golden.c tests/unit/check_domain_golden.h
tests_unit_check_argv_CFLAGS = $(QC_DOMAIN_TEST_CFLAGS)
tests_unit_check_argv_LDADD = $(QC_DOMAIN_TEST_LIBS)
