/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest output made safe for a terminal.  A guest writes what it likes to
 * its serial console; printed as is, ESC ] 52 sets the clipboard, ESC ] 0
 * the window title, ESC P starts a device control string, CSI sequences
 * move the cursor and repaint what the user already saw.  Every control
 * character is shown instead, in caret notation (ESC as ^[, DEL as ^?),
 * C1 controls as \xNN (a raw byte 0x80-0x9f, which 8-bit terminals obey)
 * or \u00NN (U+0080-U+009F in UTF-8, which UTF-8 terminals obey).  Other
 * bytes that are not UTF-8 (stray continuation bytes, overlong forms that
 * a lenient decoder could read as a control) are shown as \xNN too; valid
 * UTF-8 text passes unchanged.
 * Newline and tab pass; CR passes only before LF (the serial console's line
 * end): a lone CR would let a line overwrite what was printed before it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "util/util.h"

static void caret(struct qc_buf *out, unsigned char c)
{
	qc_buf_putc(out, '^');
	qc_buf_putc(out, c == 0x7f ? '?' : (char) (c + 0x40));
}

static void hex(struct qc_buf *out, unsigned char c)
{
	qc_buf_printf(out, "\\x%02x", c);
}

void qc_term_escape(struct qc_term_escape *st, const void *in, size_t n, struct qc_buf *out)
{
	const unsigned char *p = in;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (st->cr) {
			st->cr = false;
			if (c == '\n')
				qc_buf_putc(out, '\r');
			else
				caret(out, '\r');
		}
		if (st->cont) {
			/* Overlong forms (E0 80-9F, F0 80-8F) could decode to a control. */
			bool ok = c >= 0x80 && c <= 0xbf && !(st->lead == 0xe0 && c < 0xa0) &&
				  !(st->lead == 0xf0 && c < 0x90);

			if (ok && st->lead == 0xc2) {
				/* C2 80-9F is U+0080-U+009F: the C1 controls. */
				if (c <= 0x9f)
					qc_buf_printf(out, "\\u%04x", c);
				else {
					qc_buf_putc(out, (char) 0xc2);
					qc_buf_putc(out, (char) c);
				}
				st->cont = 0;
				st->lead = 0;
				continue;
			}
			if (ok) {
				qc_buf_putc(out, (char) c);
				st->cont--;
				st->lead = 0;
				continue;
			}
			/* A broken sequence: what was held back is shown, c starts afresh. */
			if (st->lead == 0xc2)
				hex(out, 0xc2);
			st->cont = 0;
			st->lead = 0;
		}
		if (c == '\r') {
			st->cr = true; /* decided by the next byte */
		} else if (c == '\n' || c == '\t') {
			qc_buf_putc(out, (char) c);
		} else if (c < 0x20 || c == 0x7f) {
			caret(out, c);
		} else if (c < 0x80) {
			qc_buf_putc(out, (char) c);
		} else if (c == 0xc2) {
			st->cont = 1; /* held back until the next byte says what it is */
			st->lead = c;
		} else if (c >= 0xc3 && c <= 0xdf) {
			qc_buf_putc(out, (char) c);
			st->cont = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			qc_buf_putc(out, (char) c);
			st->cont = 2;
			st->lead = c;
		} else if (c >= 0xf0 && c <= 0xf4) {
			qc_buf_putc(out, (char) c);
			st->cont = 3;
			st->lead = c;
		} else {
			/* 80-BF out of place (a raw C1 control among them), C0, C1, F5-FF. */
			hex(out, c);
		}
	}
}

void qc_term_escape_end(struct qc_term_escape *st, struct qc_buf *out)
{
	if (st->cr)
		caret(out, '\r');
	if (st->cont && st->lead == 0xc2)
		hex(out, 0xc2);
	memset(st, 0, sizeof(*st));
}
