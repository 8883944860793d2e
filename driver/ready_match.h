/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ready markers matched on console output (ready_match.c): pure, util only,
 * linked into qemuctl-monitor as well as the library.  What a marker is and
 * when the guest prints it: driver/ready.h.
 */
#ifndef QC_DRIVER_READY_MATCH_H
#define QC_DRIVER_READY_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "util/util.h"

#define QC_READY_PREFIX "QEMUCTL-READY "
#define QC_READY_MAX_MARKERS 8
#define QC_READY_MARKER_MAX 256 /* bytes of a marker (longer ones are refused) */
#define QC_READY_LINE_MAX 4096 /* the scan's line buffer */
/* cloud-init's default final_message, for seeds whose user-data is the user's own */
#define QC_READY_CLOUDINIT_FINAL "Cloud-init v. * finished at "

/*
 * Does marker occur in line (len bytes, no NUL needed)?  A '*' in the marker
 * matches any run of bytes within the line.  When the marker ends in a word
 * byte ([A-Za-z0-9_.-]), the byte after the match must not be one, so
 * "QEMUCTL-READY iid-x-1" does not match "QEMUCTL-READY iid-x-12".
 */
bool qc_ready_line_matches(const char *line, size_t len, const char *marker);

/*
 * Console lines that mean the guest can never print a marker in this run: the
 * firmware found nothing to boot.  key goes into state.json (boot_failure);
 * qc_ready_failure_why() turns it into words.  Scanned only before ready.
 *   no-bootable-device  SeaBIOS: "No bootable device." (it retries every 60 s,
 *                       but a disk that was not bootable stays so)
 *   uefi-shell          edk2 (OVMF, AAVMF) fell back to its shell: no boot
 *                       option worked ("UEFI Interactive Shell v2.2")
 *   uefi-no-boot-option edk2 found no boot option that worked, its shell
 *                       included ("BdsDxe: No bootable option or device was
 *                       found."; then it waits for a key)
 */
struct qc_ready_failure {
	const char *key, *line, *why;
};
/* The failure named key (from state.json), or NULL for an unknown key. */
const struct qc_ready_failure *qc_ready_failure_find(const char *key);

/* Console output is fed in arbitrary chunks; lines are matched as they end. */
struct qc_ready_scan {
	const char *markers[QC_READY_MAX_MARKERS];
	size_t n_markers;
	char line[QC_READY_LINE_MAX];
	size_t len;
	bool matched;
	const struct qc_ready_failure *failed; /* the first failure line before ready */
};
enum qc_ready_event {
	QC_READY_NONE,
	QC_READY_SEEN, /* the first line matching a marker ended in this chunk */
	QC_READY_FAILED, /* the first failure line (s->failed) ended in this chunk */
};
/*
 * Each event once per scan (SEEN wins when one chunk holds both); with no
 * markers nothing is scanned.  After FAILED the markers are still looked
 * for (a firmware retry may yet boot); after SEEN nothing is.
 */
enum qc_ready_event qc_ready_scan_feed(struct qc_ready_scan *s, const char *buf, size_t n);

#endif
