/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame of an operation on one VM (driver/vmop.c): the VM's directory
 * and lifecycle lock, its state, its domain and, while it runs, a QMP
 * connection.  Internal to driver/.
 */
#ifndef QC_DRIVER_VMOP_H
#define QC_DRIVER_VMOP_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/snapshot.h"
#include "qmp/qmp.h"

#define QC_VMOP_QMP_TIMEOUT_MS 10000

struct qc_vmop {
	qc_ctx *ctx;
	const char *name;
	char *vm_dir;
	int dfd, lock_fd;
	struct qc_live live;
	struct qc_domain *d;
	struct qc_snaps snaps;
	struct qc_qmp *q; /* connected by qc_vmop_qmp() */
};
/* Open, lock, read state and domain.xml (and the snapshot chain). */
int qc_vmop_begin(qc_ctx *ctx, const char *name, struct qc_vmop *op, struct qc_error *err);
void qc_vmop_end(struct qc_vmop *op);
/* Connect to QMP (once); QC_ERR_STATE when the VM does not run. */
int qc_vmop_qmp(struct qc_vmop *op, struct qc_error *err);
/* Store the chain into the domain, validate, save domain.xml (+ summary). */
int qc_vmop_save(struct qc_vmop *op, struct qc_error *err);
/* Test hook: with $QEMUCTL_TEST_HOLD == point, create <vm>/.hold-<point> and sleep 60 s. */
void qc_vmop_test_hold(struct qc_vmop *op, const char *point);
/* The current top block node of disk i in the running QEMU (query-block). */
int qc_vmop_top_node(
	struct qc_vmop *op, size_t i, char **ret_node, char **ret_file, struct qc_error *err);

#endif
