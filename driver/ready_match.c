/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ready-marker matching on console lines: pure, util only, because
 * qemuctl-monitor links it (see driver/ready.h).
 */
#include "config.h"

#include <string.h>

#include "driver/ready_match.h"

static bool word_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* Match the '*'-separated segments of pat in order at line[from...]. */
static bool match_from(const char *line, size_t len, size_t from, const char *pat, bool anchored)
{
	const char *star = strchr(pat, '*');
	size_t seg = star ? (size_t) (star - pat) : strlen(pat);
	size_t i;

	for (i = from; i + seg <= len; i++) {
		if (memcmp(line + i, pat, seg) != 0) {
			if (anchored)
				return false;
			continue;
		}
		if (star) {
			if (match_from(line, len, i + seg, star + 1, false))
				return true;
		} else if (seg == 0 || !word_byte(pat[seg - 1]) || i + seg == len ||
			   !word_byte(line[i + seg])) {
			return true;
		}
		if (anchored)
			return false;
	}
	/* an empty last segment ("...*") matches at the end too */
	return !star && seg == 0 && from <= len;
}

bool qc_ready_line_matches(const char *line, size_t len, const char *marker)
{
	if (!marker || !*marker)
		return false;
	return match_from(line, len, 0, marker, false);
}

static const struct qc_ready_failure failures[] = {
	{"no-bootable-device", "No bootable device.",
		"its BIOS (SeaBIOS) found no bootable disk: 'No bootable device.'"},
	{"uefi-shell", "UEFI Interactive Shell ",
		"its UEFI firmware found nothing to boot and started the UEFI shell"},
	{"uefi-no-boot-option", "BdsDxe: No bootable option or device was found.",
		"its UEFI firmware found no bootable option or device"},
};

const struct qc_ready_failure *qc_ready_failure_find(const char *key)
{
	for (size_t i = 0; key && i < QC_ARRAY_SIZE(failures); i++)
		if (strcmp(failures[i].key, key) == 0)
			return &failures[i];
	return NULL;
}

static bool scan_line(struct qc_ready_scan *s)
{
	size_t i;

	for (i = 0; i < s->n_markers; i++)
		if (qc_ready_line_matches(s->line, s->len, s->markers[i]))
			return true;
	return false;
}

/* The line in s: QC_READY_SEEN, QC_READY_FAILED (once) or QC_READY_NONE. */
static enum qc_ready_event scan_event(struct qc_ready_scan *s)
{
	if (scan_line(s)) {
		s->matched = true;
		return QC_READY_SEEN;
	}
	for (size_t i = 0; !s->failed && i < QC_ARRAY_SIZE(failures); i++)
		if (qc_ready_line_matches(s->line, s->len, failures[i].line)) {
			s->failed = &failures[i];
			return QC_READY_FAILED;
		}
	return QC_READY_NONE;
}

enum qc_ready_event qc_ready_scan_feed(struct qc_ready_scan *s, const char *buf, size_t n)
{
	enum qc_ready_event ev = QC_READY_NONE, e;
	size_t i;

	if (s->matched || s->n_markers == 0)
		return QC_READY_NONE;
	for (i = 0; i < n; i++) {
		char c = buf[i];

		if (c == '\n' || c == '\r') {
			if (s->len && (e = scan_event(s)) != QC_READY_NONE) {
				if (e == QC_READY_SEEN)
					return e;
				ev = e;
			}
			s->len = 0;
			continue;
		}
		if (s->len == sizeof(s->line)) {
			/* an endless line: match what we have, keep a marker's worth */
			if ((e = scan_event(s)) == QC_READY_SEEN)
				return e;
			if (e == QC_READY_FAILED)
				ev = e;
			memmove(s->line, s->line + s->len - QC_READY_MARKER_MAX,
				QC_READY_MARKER_MAX);
			s->len = QC_READY_MARKER_MAX;
		}
		s->line[s->len++] = c;
	}
	return ev;
}
