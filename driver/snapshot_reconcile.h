/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An interrupted snapshot operation finished or undone (driver/snapshot_reconcile.c). */
#ifndef QC_DRIVER_SNAPSHOT_RECONCILE_H
#define QC_DRIVER_SNAPSHOT_RECONCILE_H

#include "driver/vmop.h"

/* Finish or roll back an interrupted snapshot; remove unreferenced layers. */
int qc_snap_reconcile(struct qc_vmop *op, struct qc_error *err);
/* Remove a layer we made, only inside the VM's directory and only when unreferenced. */
void qc_snap_drop_layer(const struct qc_vmop *op, const char *path);

#endif
