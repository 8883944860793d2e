/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/term.c */
#include "config.h"

#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

/* in, escaped in one call and byte by byte: both must give want. */
static void check(const char *in, size_t n, const char *want)
{
	struct qc_term_escape st = {0};
	cleanup_buf struct qc_buf a = {0};
	cleanup_buf struct qc_buf b = {0};

	qc_term_escape(&st, in, n, &a);
	qc_term_escape_end(&st, &a);
	for (size_t i = 0; i < n; i++)
		qc_term_escape(&st, in + i, 1, &b);
	qc_term_escape_end(&st, &b);
	ck_assert_str_eq(a.len ? a.data : "", want);
	ck_assert_str_eq(b.len ? b.data : "", want);
	for (size_t i = 0; i < a.len; i++) {
		unsigned char c = (unsigned char) a.data[i];

		ck_assert_msg(c >= 0x20 || c == '\n' || c == '\t' || c == '\r',
			"control 0x%02x left in '%s'", c, a.data);
		ck_assert_msg(c != 0x7f && c != 0x1b, "DEL or ESC left");
	}
}

#define CHECK(in, want) check(in, sizeof(in) - 1, want)

START_TEST(term_escape_sequences_are_shown)
{
	/* OSC 52 (clipboard), OSC 0 and 2 (title), DCS, CSI, SGR */
	CHECK("\x1b]52;c;cm0gLXJmIH4K\x07", "^[]52;c;cm0gLXJmIH4K^G");
	CHECK("\x1b]0;owned\x07", "^[]0;owned^G");
	CHECK("\x1b]2;t\x1b\\", "^[]2;t^[\\");
	CHECK("\x1bPq#0;2;0;0;0\x1b\\", "^[Pq#0;2;0;0;0^[\\");
	CHECK("\x1b[2J\x1b[H\x1b[31mred\x1b[0m", "^[[2J^[[H^[[31mred^[[0m");
	CHECK("a\x00" "b\x7f" "c\x08" "d", "a^@b^?c^Hd");
	/* C1: raw bytes and U+0080-U+009F in UTF-8 */
	CHECK("\x9b" "2J \x9d" "0;t\x9c", "\\x9b2J \\x9d0;t\\x9c");
	CHECK("\xc2\x9b" "2J\xc2\x90", "\\u009b2J\\u0090");
}
END_TEST

START_TEST(term_text_passes)
{
	CHECK("plain text\n\tindented\n", "plain text\n\tindented\n");
	CHECK("line\r\nnext\r\n", "line\r\nnext\r\n");
	/* A lone CR would overwrite the line: shown. */
	CHECK("rm -rf /\rls       \n", "rm -rf /^Mls       \n");
	CHECK("end\r", "end^M");
	/* UTF-8, including bytes 80-9F inside longer characters */
	CHECK("caf\xc3\xa9 \xc2\xa0nbsp \xe2\x82\xac \xe2\x80\x9c \xf0\x9f\x98\x80",
		"caf\xc3\xa9 \xc2\xa0nbsp \xe2\x82\xac \xe2\x80\x9c \xf0\x9f\x98\x80");
	CHECK("", "");
}
END_TEST

START_TEST(term_bad_utf8_is_shown)
{
	/* overlong ESC and CSI: a lenient decoder would obey them */
	CHECK("\xc0\x9b", "\\xc0\\x9b");
	CHECK("\xe0\x80\x9b", "\xe0\\x80\\x9b");
	CHECK("\xf0\x80\x80\x9b", "\xf0\\x80\\x80\\x9b");
	/* a broken sequence: ESC after a lead byte is still shown */
	CHECK("\xe2\x1b[2J", "\xe2^[[2J");
	CHECK("\xc2\x1b", "\\xc2^[");
	CHECK("\xc2", "\\xc2");
	CHECK("\xff\xfe", "\\xff\\xfe");
}
END_TEST

Suite *util_term_suite(void)
{
	Suite *s = suite_create("util-term");

	unit_tcase(s, "escape", term_escape_sequences_are_shown, term_text_passes,
		term_bad_utf8_is_shown, NULL);
	return s;
}
