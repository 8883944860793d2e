/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Readiness, on every boot.  The seed qemuctl generates makes the guest
 * print "QEMUCTL-READY <instance-id>" on the serial console at the end of
 * each boot: cloud-init runs the script qemuctl's user-data writes into
 * /var/lib/cloud/scripts/per-boot/ (QC_CLOUDINIT_READY_SCRIPT) in its final
 * stage on every boot, the first one included (a runcmd would run on the
 * instance's first boot only, so a restart or a snapshot revert would never
 * be ready); the test guest's init prints it on every boot.  The instance id
 * is read in the guest, so a guest still on an older seed generation's id
 * does not count as ready for the current one.  When the user-data is the
 * user's own, cloud-init's final_message (also printed on every boot) counts
 * too, since a user-data's write_files replaces the one in qemuctl's
 * vendor-data.
 *
 * qemuctl-monitor scans the console output of the current run only (what
 * QEMU's serial socket delivers from this start on, never the console.log
 * of earlier runs) for the domain's markers and records `ready` in
 * state.json, which a start resets; qc_vm_wait() waits for that.  A line
 * that says the guest cannot boot at all (struct qc_ready_failure) is recorded as
 * boot_failure, and the wait ends at once.
 *
 * ready_match.c is pure (util only: linked into the monitor); ready.c has
 * the library side (markers of a domain, wait, console tail).
 */
#ifndef QC_DRIVER_READY_H
#define QC_DRIVER_READY_H

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

/* ---- ready.c (library side) */
struct qc_domain;
/*
 * The markers of d, NULL-terminated (maybe empty; free with qc_strv_free):
 * "QEMUCTL-READY iid-<uuid>-<generation>" when it has a seed (plus
 * cloud-init's default final message when its user-data is the user's own,
 * which qemuctl cannot extend), and d->ready_marker when set.
 */
char **qc_driver_ready_markers(const struct qc_domain *d);
/* QC_ERR_UNSUPPORTED when d has no ready marker (it could never be waited for). */
int qc_driver_ready_check(const struct qc_domain *d, struct qc_error *err);
struct qc_vmop;
/*
 * qc_vm_wait on a VM operation already begun (its domain is loaded when it
 * is not yet): until the run's ready marker, its end, or timeout_ms.
 */
int qc_driver_wait_ready(
	struct qc_vmop *op, int timeout_ms, int64_t *ret_after_ms, struct qc_error *err);

#endif
