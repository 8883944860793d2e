/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util/term.c: guest output made safe for a terminal.  Invariants, for
 * the whole input at once and fed in two pieces split anywhere: the same
 * output; no C0 control but LF, tab and CR before LF; no DEL; no byte
 * 80-9F, C0, C1 or F5-FF outside a UTF-8 sequence; no sequence that
 * decodes to U+0080-U+009F or is overlong (which a lenient decoder could
 * read as a control).
 */
#include "config.h"

#include "tests/fuzz/fuzz.h"

static void check_safe(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		size_t need, k;
		uint32_t cp;

		if (c < 0x80) {
			FUZZ_CHECK(c >= 0x20 || c == '\n' || c == '\t' ||
					   (c == '\r' && i + 1 < n && s[i + 1] == '\n'),
				"control 0x%02x at %zu", c, i);
			FUZZ_CHECK(c != 0x7f, "DEL at %zu", i);
			continue;
		}
		FUZZ_CHECK(c >= 0xc2 && c <= 0xf4, "byte 0x%02x outside a sequence at %zu", c, i);
		need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
		cp = c & (c >= 0xf0 ? 0x07 : c >= 0xe0 ? 0x0f : 0x1f);
		for (k = 1; k <= need && i + k < n && s[i + k] >= 0x80 && s[i + k] <= 0xbf; k++)
			cp = (cp << 6) | (s[i + k] & 0x3f);
		if (k > need) { /* a whole character */
			FUZZ_CHECK(!(cp >= 0x80 && cp <= 0x9f), "C1 U+%04x at %zu", cp, i);
			FUZZ_CHECK(!(need == 2 && cp < 0x800) && !(need == 3 && cp < 0x10000),
				"overlong U+%04x at %zu", cp, i);
		} else if (k >= 2) {
			/* cut short: what came is not overlong either */
			FUZZ_CHECK(!(c == 0xe0 && s[i + 1] < 0xa0) && !(c == 0xf0 && s[i + 1] < 0x90),
				"overlong start at %zu", i);
		}
		i += k - 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_buf struct qc_buf a = {0};
	cleanup_buf struct qc_buf b = {0};
	struct qc_term_escape st = {0};
	size_t cut = size ? data[0] % (size + 1) : 0;

	qc_term_escape(&st, data, size, &a);
	qc_term_escape_end(&st, &a);
	qc_term_escape(&st, data, cut, &b);
	qc_term_escape(&st, data + cut, size - cut, &b);
	qc_term_escape_end(&st, &b);
	FUZZ_CHECK(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0),
		"split at %zu changes the output", cut);
	check_safe((const unsigned char *) a.data, a.len);
	return 0;
}
