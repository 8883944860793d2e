/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqemuctl: the public C API of qemuctl.  The qemuctl CLI uses only what
 * is declared here.  Every function returns 0 (or a count) on success and a
 * negative code on failure, filling the optional struct qc_error.
 */
#ifndef QEMUCTL_H
#define QEMUCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef QC_PUBLIC
#define QC_PUBLIC __attribute__((visibility("default")))
#endif

#ifndef QC_ERROR_DEFINED
#define QC_ERROR_DEFINED
struct qc_error {
	int code; /* errno value, or QC_ERR_* (> 4096); 0 = no error */
	char msg[1024];
};
#endif

/* ------------------------------------------------------------ the context */

/* A handle on a state root.  root NULL: $QEMUCTL_ROOT, else the default. */
typedef struct qc_ctx qc_ctx;
QC_PUBLIC int qc_ctx_open(const char *root, qc_ctx **ret, struct qc_error *err);
QC_PUBLIC void qc_ctx_close(qc_ctx *ctx);
QC_PUBLIC const char *qc_ctx_root(const qc_ctx *ctx);
/* Progress of long operations (downloads, conversions, waits). */
typedef void (*qc_ctx_progress_fn)(const char *what, uint64_t done, uint64_t total,
	void *opaque);
QC_PUBLIC void qc_ctx_set_progress(qc_ctx *ctx, qc_ctx_progress_fn fn, void *opaque);

/* ------------------------------------------------- VMs (driver/lifecycle.c) */

/* ------------------------------------------------- images (driver/image.c) */

/* --------------------------------------------- networks (driver/network.c) */

/* ---------------------------------------------------- seeds (driver/seed.c) */

#ifdef __cplusplus
}
#endif
#endif
