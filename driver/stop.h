/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stopping a VM (stop.c): what other operations reuse of it.
 */
#ifndef QC_DRIVER_STOP_H
#define QC_DRIVER_STOP_H

#include "driver/vmop.h"

/*
 * Stop whatever runs (quit, then SIGKILL), wait for its monitor, read
 * op->live anew.  The caller holds the lock.
 */
int qc_vmop_kill(struct qc_vmop *op, struct qc_error *err);

#endif
