/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory of a memory snapshot (driver/snapshot_mem.c): the VM's RAM and
 * device state, written and read by the same migration as qemuctl save
 * (driver/save.c), in the snapshot's own file of the VM's directory.
 */
#ifndef QC_DRIVER_SNAPSHOT_MEM_H
#define QC_DRIVER_SNAPSHOT_MEM_H

#include "driver/vmop.h"

/*
 * Ready a running or paused VM for a memory snapshot s: s->memory named,
 * s->memory_cont set when the CPUs run.  Refused for a stopped VM.
 */
int qc_snap_mem_prepare(struct qc_vmop *op, struct qc_snap *s, struct qc_error *err);
/*
 * Stop the CPUs and write the state into s->memory (temp, fsync, rename),
 * s->memory_size set.  On failure nothing is left; the CPUs stay stopped
 * (qc_snap_mem_cont lets them run on).
 */
int qc_snap_mem_write(struct qc_vmop *op, struct qc_snap *s, struct qc_error *err);
/* Let the CPUs run again when they ran before s was taken (best effort when err is NULL). */
int qc_snap_mem_cont(struct qc_vmop *op, const struct qc_snap *s, struct qc_error *err);
/* Remove the state file of s and any temp of it. */
void qc_snap_mem_drop(struct qc_vmop *op, const struct qc_snap *s);
/*
 * Open s's state file for reading, checked as data from outside: a regular
 * file (no link followed) of the VM's directory, ours, writable only by us,
 * of the recorded size.
 */
int qc_snap_mem_open(
	struct qc_vmop *op, const struct qc_snap *s, int *ret_fd, struct qc_error *err);
/*
 * Make s's state, open as fd (qc_snap_mem_open), the VM's saved state, which
 * the next start resumes: a hard link to the very file checked.
 */
int qc_snap_mem_install(struct qc_vmop *op, const struct qc_snap *s, int fd, struct qc_error *err);

#endif
