/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every Check binary shares: building its suites, and the runner of its main(). */
#ifndef QC_CHECK_MAIN_H
#define QC_CHECK_MAIN_H

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>

/* Add the tests of ap, up to NULL, to tc. */
static inline void unit_add_test_list(TCase *tc, va_list ap)
{
	const TTest *t;

	while ((t = va_arg(ap, const TTest *)))
		tcase_add_test(tc, t);
}

/* Add the tests up to NULL to tc, in that order. */
__attribute__((sentinel)) static inline void unit_add_tests(TCase *tc, ...)
{
	va_list ap;

	va_start(ap, tc);
	unit_add_test_list(tc, ap);
	va_end(ap);
}

/*
 * A test case named name, added to s, holding the tests up to NULL in that
 * order; returned for its loop tests, fixtures and timeout.
 */
__attribute__((sentinel)) static inline TCase *unit_tcase(Suite *s, const char *name, ...)
{
	TCase *tc = tcase_create(name);
	va_list ap;

	va_start(ap, name);
	unit_add_test_list(tc, ap);
	va_end(ap);
	suite_add_tcase(s, tc);
	return tc;
}

/*
 * Run s and the further suites up to NULL (CK_NORMAL: one line per failure
 * and a summary); EXIT_SUCCESS when no test failed, else EXIT_FAILURE.
 */
__attribute__((sentinel)) static inline int unit_run(Suite *s, ...)
{
	SRunner *sr = srunner_create(s);
	Suite *more;
	va_list ap;
	int failed;

	va_start(ap, s);
	while ((more = va_arg(ap, Suite *)))
		srunner_add_suite(sr, more);
	va_end(ap);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* main() of a test binary that runs the one suite suite_fn() builds. */
#define UNIT_MAIN(suite_fn)                        \
	int main(void)                             \
	{                                          \
		return unit_run(suite_fn(), NULL); \
	}

#endif
