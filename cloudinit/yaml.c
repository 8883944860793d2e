/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * YAML, the little qemuctl needs of it: emitting scalars that cannot break
 * the document whatever the user typed, and a light structural check of the
 * YAML files users hand over (meta-data, network-config) so a typo is
 * reported now instead of being ignored by cloud-init at boot.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "cloudinit/cloudinit.h"

static bool plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-' || c == '/';
}

/* YAML 1.1 (what cloud-init's PyYAML speaks) turns these plain words into booleans or null. */
static bool special_word(const char *s)
{
	static const char *const words[] = {
		"y", "n", "yes", "no", "true", "false", "on", "off", "null"};

	for (size_t i = 0; i < QC_ARRAY_SIZE(words); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	return false;
}

/* The characters a double-quoted scalar writes as a two-character escape. */
static const char *const short_escapes[128] = {
	['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\t'] = "\\t", ['\r'] = "\\r"};

void qc_cloudinit_yaml_quoted(struct qc_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	qc_buf_putc(b, '"');
	for (; *p; p++) {
		unsigned char c = *p;

		if (c < QC_ARRAY_SIZE(short_escapes) && short_escapes[c]) {
			qc_buf_puts(b, short_escapes[c]);
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			qc_buf_printf(b, "\\x%02x", c);
			continue;
		}
		/* Unicode line breaks YAML would fold: U+0085, U+2028, U+2029; and the BOM */
		if (c == 0xc2 && p[1] == 0x85) {
			qc_buf_puts(b, "\\N");
			p++;
			continue;
		}
		if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			qc_buf_puts(b, p[2] == 0xa8 ? "\\L" : "\\P");
			p += 2;
			continue;
		}
		if (c == 0xef && p[1] == 0xbb && p[2] == 0xbf) {
			qc_buf_puts(b, "\\uFEFF");
			p += 2;
			continue;
		}
		qc_buf_putc(b, (char) c);
	}
	qc_buf_putc(b, '"');
}

void qc_cloudinit_yaml_scalar(struct qc_buf *b, const char *s)
{
	bool plain = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z');

	for (const char *p = s; plain && *p; p++)
		plain = plain_char(*p);
	if (plain && !special_word(s))
		qc_buf_puts(b, s);
	else
		qc_cloudinit_yaml_quoted(b, s);
}

/* A printable excerpt of a line for messages: at most 40 bytes, controls as '?'. */
static void excerpt(const char *s, size_t len, char out[48])
{
	size_t n = 0;

	for (size_t i = 0; i < len && n < 40 && s[i] != '\n'; i++)
		out[n++] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[n] = '\0';
}

int qc_cloudinit_check_text(
	const char *what, const char *text, size_t len, size_t max, struct qc_error *err)
{
	const char *nul;

	if (len > max)
		return qc_error_set(err, QC_ERR_INVALID, "%s: %zu bytes is over the %zu KiB limit",
			what, len, max >> 10);
	if ((nul = memchr(text, '\0', len)))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: binary data (a NUL byte at offset %zu), expected text", what,
			(size_t) (nul - text));
	if (!qc_utf8_valid(text, len))
		return qc_error_set(err, QC_ERR_INVALID, "%s: not valid UTF-8 text", what);
	return 0;
}

int qc_cloudinit_yaml_check(const char *what, const char *text, size_t len,
	const char *const *need_one_of, struct qc_error *err)
{
	const char *p = text, *end = text + len;
	bool found = !need_one_of || !need_one_of[0], any = false;
	unsigned line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t) (end - p));
		size_t l = eol ? (size_t) (eol - p) : (size_t) (end - p), ind = 0;
		const char *colon = NULL;
		char ex[48];

		line++;
		if (l && p[l - 1] == '\r')
			l--;
		while (ind < l && (p[ind] == ' ' || p[ind] == '\t')) {
			if (p[ind] == '\t' && ind + 1 < l && p[ind + 1] != '#')
				return qc_error_set(err, QC_ERR_INVALID,
					"%s: line %u: a tab in the indentation (YAML allows only "
					"spaces there)",
					what, line);
			ind++;
		}
		if (ind == l || p[ind] == '#' || ind > 0)
			goto next;
		if ((l >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3))) || p[0] == '%')
			goto next;
		if (p[0] == '{') { /* a flow mapping: trust it, look for the keys anywhere */
			for (size_t i = 0; need_one_of && need_one_of[i]; i++)
				if (memmem(text, len, need_one_of[i], strlen(need_one_of[i])))
					found = true;
			any = true;
			goto next;
		}
		/* key: value */
		for (size_t i = 0; i + 1 <= l; i++)
			if (p[i] == ':' && (i + 1 == l || p[i + 1] == ' ' || p[i + 1] == '\t')) {
				colon = p + i;
				break;
			}
		excerpt(p, l, ex);
		if (!colon || colon == p || p[0] == '-' || p[0] == ' ')
			return qc_error_set(err, QC_ERR_INVALID,
				"%s: line %u: expected 'key: value' at the top level, found '%s'",
				what, line, ex);
		any = true;
		for (size_t i = 0; need_one_of && need_one_of[i]; i++) {
			size_t kl = strlen(need_one_of[i]);
			const char *k = p;
			size_t klen = (size_t) (colon - p);

			if (klen >= 2 && (k[0] == '"' || k[0] == '\'') && k[klen - 1] == k[0])
				k++, klen -= 2;
			if (klen == kl && !memcmp(k, need_one_of[i], kl))
				found = true;
		}
	next:
		p = eol ? eol + 1 : end;
	}
	if (!any)
		return qc_error_set(err, QC_ERR_INVALID, "%s: no 'key: value' mapping found", what);
	if (!found) {
		cleanup_free char *keys = qc_strv_join((char *const *) need_one_of, "' or '");

		return qc_error_set(err, QC_ERR_INVALID, "%s: no top-level '%s' key", what, keys);
	}
	return 0;
}
