/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/xml_dl.c's lazy libxml2: not loaded by linking the driver, loaded
 * by the first parse (also when that parse is on several threads at once),
 * and then the same library the parser and the writer go on using.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>

#include "driver/domain.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

#define XML                                                                             \
	"<domain type='qemu'>\n  <name>x</name>\n  <memory unit='KiB'>65536</memory>\n" \
	"  <vcpu>1</vcpu>\n  <frobnicate/>\n</domain>\n"

static bool xml_mapped(void)
{
	void *h = dlopen("libxml2.so.2", RTLD_NOW | RTLD_NOLOAD);

	if (!h)
		return false;
	dlclose(h);
	return true;
}

static void *parse(void *arg)
{
	struct qc_error err = {0};
	struct qc_domain *d = NULL;

	if (qc_domain_from_xml(XML, strlen(XML), "x.xml", NULL, NULL, &d, &err) < 0)
		return qc_xstrdup(err.msg);
	if (strcmp(d->name, "x") != 0 || d->memory != 64u << 20)
		return qc_xstrdup("parsed the wrong domain");
	qc_domain_free(d);
	(void) arg;
	return NULL;
}

/* Linking the driver does not load libxml2 (start-up cost). */
START_TEST(not_loaded_at_start)
{
	ck_assert_msg(!xml_mapped(), "libxml2.so.2 is mapped before any XML is read");
}
END_TEST

/* The first parse loads it; the unknown element is kept and written back. */
START_TEST(loaded_by_first_parse)
{
	struct qc_error err = {0};
	struct qc_domain *d = NULL;
	char *out = NULL;

	ck_assert_qc_ok(qc_domain_from_xml(XML, strlen(XML), "x.xml", NULL, NULL, &d, &err), &err);
	ck_assert(xml_mapped());
	ck_assert_qc_ok(qc_domain_to_xml(d, &out, &err), &err);
	ck_assert_msg(strstr(out, "<frobnicate/>"), "%s", out);
	free(out);
	qc_domain_free(d);
}
END_TEST

/* First use on eight threads at once: loaded and set up once, every parse right. */
START_TEST(first_use_on_threads)
{
	pthread_t t[8];

	for (size_t i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, parse, NULL), 0);
	for (size_t i = 0; i < 8; i++) {
		void *msg = NULL;

		ck_assert_int_eq(pthread_join(t[i], &msg), 0);
		ck_assert_msg(!msg, "thread %zu: %s", i, (char *) msg);
	}
	ck_assert(xml_mapped());
}
END_TEST

static Suite *xml_dl_suite(void)
{
	Suite *s = suite_create("xml_dl");

	unit_tcase(s, "lazy-libxml2", not_loaded_at_start, loaded_by_first_parse,
		first_use_on_threads, NULL);
	return s;
}

UNIT_MAIN(xml_dl_suite)
