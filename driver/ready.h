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

#include "driver/ready_match.h"

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
