/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * First-boot readiness.  The seed qemuctl generates makes
 * the guest print "QEMUCTL-READY <instance-id>" on the serial console at the
 * end of first boot (cloud-init: a last runcmd; the test guest: its agent).
 * qemuctl-monitor scans the console output for the domain's markers and
 * records `ready` in state.json; qc_vm_wait() waits for that.
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

/* Console output is fed in arbitrary chunks; lines are matched as they end. */
struct qc_ready_scan {
	const char *markers[QC_READY_MAX_MARKERS];
	size_t n_markers;
	char line[QC_READY_LINE_MAX];
	size_t len;
	bool matched;
};
/* true exactly once: on the chunk that completed the first matching line. */
bool qc_ready_scan_feed(struct qc_ready_scan *s, const char *buf, size_t n);

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
