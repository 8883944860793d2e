/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsing and validation of user input: sizes, numbers, names, host names. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

#define SIZE_HINT "use a number with an optional K, M, G, T suffix (e.g. 512M, 2G)"

/*
 * Copy s into buf for a message: at most ~64 characters, control and
 * non-ASCII bytes as '?', so a hostile argument cannot garble the terminal
 * or fill the whole error buffer.
 */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t i, n = 0, max = size - 4;

	for (i = 0; s[i] && n < max; i++)
		buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* Index of a unit suffix (0 = bytes, 1 = K ... 6 = E), -1 if unknown. */
static int size_unit(const char *s)
{
	static const char units[] = "KMGTPE";
	const char *p;

	if (*s == '\0')
		return 0;
	if (strcasecmp(s, "B") == 0)
		return 0;
	p = strchr(units, toupper((unsigned char) *s));
	if (!p || *s == '\0')
		return -1;
	s++;
	if (*s == '\0' || strcasecmp(s, "B") == 0 || strcasecmp(s, "iB") == 0)
		return (int) (p - units) + 1;
	return -1;
}

int qc_parse_size(const char *what, const char *s, uint64_t *ret, struct qc_error *err)
{
	unsigned __int128 whole = 0, frac = 0, scale = 1, mult, total;
	char b[80];
	const char *p = s;
	int unit, nfrac = 0;

	if (!what)
		what = "size";
	if (!s || *s == '\0')
		return qc_error_set(err, QC_ERR_INVALID, "%s: empty size: " SIZE_HINT, what);
	if (*s == '-')
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: invalid size '%s': negative sizes are not allowed", what,
			shown(s, b, sizeof(b)));
	if (!isdigit((unsigned char) *p))
		goto invalid;
	for (; isdigit((unsigned char) *p); p++) {
		whole = whole * 10 + (unsigned) (*p - '0');
		if (whole > UINT64_MAX)
			goto overflow;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char) *p))
			goto invalid;
		for (; isdigit((unsigned char) *p); p++) {
			/* More than 19 digits cannot matter below one byte of 1 EiB ... unless nonzero. */
			if (nfrac >= 19) {
				if (*p != '0')
					goto fraction;
				continue;
			}
			frac = frac * 10 + (unsigned) (*p - '0');
			scale *= 10;
			nfrac++;
		}
	}
	unit = size_unit(p);
	if (unit < 0)
		goto invalid;
	mult = (unsigned __int128) 1 << (10 * unit);
	/* frac < 10^19 and mult <= 2^60: the product fits in 128 bits. */
	if ((frac * mult) % scale != 0)
		goto fraction;
	if (whole > UINT64_MAX / mult)
		goto overflow;
	total = whole * mult + (frac * mult) / scale;
	if (total > UINT64_MAX)
		goto overflow;
	*ret = (uint64_t) total;
	return 0;

invalid:
	return qc_error_set(err, QC_ERR_INVALID, "%s: invalid size '%s': " SIZE_HINT, what,
		shown(s, b, sizeof(b)));
overflow:
	return qc_error_set(err, QC_ERR_INVALID,
		"%s: size '%s' is too large: the limit is %" PRIu64 " bytes (16 EiB - 1)", what,
		shown(s, b, sizeof(b)), UINT64_MAX);
fraction:
	return qc_error_set(err, QC_ERR_INVALID,
		"%s: size '%s' is not a whole number of bytes; use a smaller unit (e.g. 1536M "
		"instead of 1.5G)",
		what, shown(s, b, sizeof(b)));
}

void qc_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	int u = 0;

	while (u < 6 && bytes >= ((uint64_t) 1 << (10 * (u + 1))))
		u++;
	if (u == 0 || bytes % ((uint64_t) 1 << (10 * u)) == 0) {
		snprintf(buf, size, "%" PRIu64 " %s", bytes >> (10 * u), units[u]);
		return;
	}
	double v = (double) bytes / (double) ((uint64_t) 1 << (10 * u));
	/* 1023.96 MiB would print as "1024.0 MiB": say "1.0 GiB" instead. */
	if (v >= 1023.95 && u < 6) {
		u++;
		v /= 1024.0;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
}

int qc_parse_uint(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *ret,
	struct qc_error *err)
{
	uint64_t v = 0;
	char b[80];
	const char *p;

	if (!what)
		what = "number";
	if (!s || *s == '\0')
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: empty value: use a whole number from %" PRIu64 " to %" PRIu64, what,
			min, max);
	for (p = s; *p; p++) {
		if (!isdigit((unsigned char) *p))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s: invalid number '%s': use a whole number from %" PRIu64
				" to %" PRIu64,
				what, shown(s, b, sizeof(b)), min, max);
		if (v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
			goto range;
		v = v * 10 + (uint64_t) (*p - '0');
	}
	if (v < min || v > max)
		goto range;
	*ret = v;
	return 0;
range:
	return qc_error_set(err, QC_ERR_INVALID,
		"%s: %s is out of range: use a whole number from %" PRIu64 " to %" PRIu64, what,
		shown(s, b, sizeof(b)), min, max);
}

#define NAME_RULES                                                                              \
	"only letters, digits, '.', '_' and '-' are allowed, starting with a letter or digit, " \
	"at most 63 characters"

int qc_validate_name(const char *what, const char *name, struct qc_error *err)
{
	char b[80];
	size_t i, n;

	if (!what)
		what = "object";
	if (!name || *name == '\0')
		return qc_error_set(err, QC_ERR_INVALID, "%s name is empty: " NAME_RULES, what);
	n = strlen(name);
	if (n > 63)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s name '%s' is invalid: it has %zu characters; " NAME_RULES, what,
			shown(name, b, sizeof(b)), n);
	if (!isalnum((unsigned char) name[0]) || (unsigned char) name[0] >= 0x80)
		return qc_error_set(err, QC_ERR_INVALID, "%s name '%s' is invalid: " NAME_RULES,
			what, shown(name, b, sizeof(b)));
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char) name[i];
		if (c >= 0x80 || !(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s name '%s' is invalid: " NAME_RULES, what,
				shown(name, b, sizeof(b)));
	}
	return 0;
}

int qc_validate_hostname(const char *name, struct qc_error *err)
{
	char b[80];
	const char *label, *p;
	size_t len;

	if (!name || *name == '\0')
		return qc_error_set(err, QC_ERR_INVALID,
			"host name is empty: use letters, digits and '-' in dot-separated labels");
	len = strlen(name);
	if (len > 253)
		return qc_error_set(err, QC_ERR_INVALID,
			"host name '%s' is invalid: it has %zu characters, at most 253 are allowed",
			shown(name, b, sizeof(b)), len);
	for (label = name;; label = p + 1) {
		size_t n;

		for (p = label; *p && *p != '.'; p++) {
			unsigned char c = (unsigned char) *p;
			if (c >= 0x80 || !(isalnum(c) || c == '-'))
				return qc_error_set(err, QC_ERR_INVALID,
					"host name '%s' is invalid: only letters, digits and '-' "
					"are allowed in a label",
					shown(name, b, sizeof(b)));
		}
		n = (size_t) (p - label);
		if (n == 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"host name '%s' is invalid: it has an empty label",
				shown(name, b, sizeof(b)));
		if (n > 63)
			return qc_error_set(err, QC_ERR_INVALID,
				"host name '%s' is invalid: a label has %zu characters, at most 63 "
				"are allowed",
				shown(name, b, sizeof(b)), n);
		if (label[0] == '-' || p[-1] == '-')
			return qc_error_set(err, QC_ERR_INVALID,
				"host name '%s' is invalid: a label cannot start or end with '-'",
				shown(name, b, sizeof(b)));
		if (*p == '\0')
			break;
	}
	return 0;
}
