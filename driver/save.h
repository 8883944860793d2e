/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's RAM and device state on disk (driver/save.c): `qemuctl save`
 * writes it with QMP migrate to an fd, the next start resumes from it
 * (QEMU with -incoming defer, migrate-incoming from an fd, cont).
 */
#ifndef QC_DRIVER_SAVE_H
#define QC_DRIVER_SAVE_H

#include <signal.h>
#include <stdbool.h>

#include "util/util.h"

struct qc_vmop;

/*
 * Open vm_dfd's saved state for QEMU to read: 1 with *ret_fd, 0 when there
 * is none.  Refused unless it is a regular file of ours (the effective
 * uid), not a link, not writable by group or others.
 */
int qc_driver_saved_state_open(int vm_dfd, const char *vm_dir, int *ret_fd, struct qc_error *err);
/*
 * Remove the saved state: a fresh
 * start, or a VM that runs on after a save (resume) whose state no longer
 * matches its disks.  0 when there was none.
 */
int qc_driver_saved_state_drop(int vm_dfd);
/*
 * The start just spawned QEMU with -incoming defer and the CPUs stopped:
 * load the state from fd (migrate-incoming), then cont unless paused.
 * The state file is removed only once the load completed.  On failure
 * QEMU is stopped and the file stays; the error says how to discard it.
 */
int qc_driver_saved_state_resume(struct qc_vmop *op, int fd, bool cont, struct qc_error *err);
/*
 * Stop the CPUs of the QEMU behind q and write its RAM and device state into
 * fd (QMP migrate to it); returns once QEMU reports it completed.  QEMU stays,
 * paused ('cont' runs it on).
 */
struct qc_qmp;
int qc_driver_state_out(struct qc_qmp *q, int fd, struct qc_error *err);
/*
 * qc_driver_state_out into op's VM directory as name (mode 0600): into a
 * temp of qc_temp_create, renamed over name once QEMU completed it, file
 * and directory fsync'd; *ret_size (may be NULL) its size.  On failure
 * the temp is gone and name untouched; QEMU stays paused.
 */
int qc_driver_state_write(
	struct qc_vmop *op, const char *name, uint64_t *ret_size, struct qc_error *err);
/*
 * As qc_driver_state_out, but given up (ECANCELED, "cancelled") once *cancel
 * is non-zero while QEMU writes; qc_driver_state_out_undo then runs it on.
 */
int qc_driver_state_out_cancellable(
	struct qc_qmp *q, int fd, const volatile sig_atomic_t *cancel, struct qc_error *err);
/* After a state written, or given up halfway: any migration ended, the CPUs run. */
int qc_driver_state_out_undo(struct qc_qmp *q, struct qc_error *err);
/*
 * Wait until the QEMU behind q reports its migration (either way)
 * completed; failed, cancelled (or *cancel non-zero), QEMU gone or 10
 * minutes passed: an error naming what.
 */
int qc_driver_wait_migration(struct qc_qmp *q, const char *what,
	const volatile sig_atomic_t *cancel, struct qc_error *err);
/*
 * Make the QEMU behind q ready for qc_driver_state_out.  A save or move
 * killed while QEMU wrote the state left that migration running: it is
 * ended first, then QEMU's run state read (paused, or postmigrate when it
 * completed meanwhile).  *ret_ran: the CPUs run.  QEMU refuses a new
 * migration from postmigrate until cont reactivates its disks: the guest
 * runs on (a moment; the stop follows), so the saved state an earlier save
 * left in vm_dfd no longer matches and is dropped, then cont.
 */
int qc_driver_migration_ready(struct qc_qmp *q, int vm_dfd, bool *ret_ran, struct qc_error *err);

#endif
