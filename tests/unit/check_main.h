/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The runner every Check binary's main() shares. */
#ifndef QC_CHECK_MAIN_H
#define QC_CHECK_MAIN_H

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>

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

#endif
