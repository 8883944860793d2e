/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/cli/shquote.c: words quoted for the guest's shell (qemuctl exec).
 * The exact quoting, then what a real POSIX shell (/bin/sh) makes of the
 * words joined with blanks as ssh joins them: the words given, nothing
 * expanded, split or run.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

START_TEST(quote_exact)
{
	static const char *const cases[][2] = {
		{"", "''"},
		{"echo", "'echo'"},
		{"a b", "'a b'"},
		{"$HOME", "'$HOME'"},
		{"it's", "'it'\\''s'"},
		{"'", "''\\'''"},
		{"\\", "'\\'"},
		{"a\nb", "'a\nb'"},
	};

	for (size_t i = 0; i < CLI_ARRAY_SIZE(cases); i++) {
		cleanup_free char *q = cli_sh_quote(cases[i][0]);

		ck_assert_str_eq(q, cases[i][1]);
	}
}
END_TEST

/* sh -c "printf '<%s>' WORDS...": each word arrives as it was */
START_TEST(quote_as_sh_reads_it)
{
	char *words[] = {"printf", "<%s>", "a b", "$HOME", "$(touch /tmp/qc-pwned)", "`id`", "it's",
		"\"dq\"", "; exit 7", "*", "~", "a\\b", "", "tab\there", "nl\nhere", "|&><", NULL};
	cleanup_strv char **q = cli_sh_quote_argv(words);
	cleanup_free char *line = NULL, *out = NULL, *want = NULL;
	struct qc_buf b = {0};

	ck_assert_ptr_null(q[CLI_ARRAY_SIZE(words) - 1]);
	line = qc_strv_join(q, " ");
	out = unit_spawn_out((const char *const[]){"/bin/sh", "-c", line, NULL}, NULL);
	for (size_t i = 2; words[i]; i++)
		qc_buf_printf(&b, "<%s>", words[i]);
	want = qc_buf_steal(&b);
	ck_assert_str_eq(out, want);
	ck_assert_int_ne(access("/tmp/qc-pwned", F_OK), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shquote");

	unit_tcase(s, "quote", quote_exact, quote_as_sh_reads_it, NULL);
	return unit_run(s, NULL);
}
