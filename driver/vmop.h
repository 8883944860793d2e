/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frame of an operation on one VM (driver/vmop.c): the VM's directory
 * and lifecycle lock, its state, its domain and, while it runs, a QMP
 * connection.  Internal to driver/.
 */
#ifndef QC_DRIVER_VMOP_H
#define QC_DRIVER_VMOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/snapshot_meta.h"
#include "qmp/qmp.h"

#define QC_VMOP_QMP_TIMEOUT_MS 10000
/* A QMP command QEMU answers at once (query-status, quit, system_powerdown). */
#define QC_VMOP_QMP_QUICK_MS 5000
/* How long an operation waits for the VM's lifecycle lock held by another. */
#define QC_VMOP_LOCK_MS 30000
/*
 * start (qemuctl.h: qc_vm_start_opts.lock_timeout_ms) and resize wait
 * longer: long enough for a stop ahead of them to use its whole 60 s
 * power-off timeout.
 */
#define QC_VMOP_LONG_LOCK_MS 60000
/* The operation record of the lock holder: what it does, since when. */
#define QC_VM_OP_RECORD "op.json"

/* What qc_vmop_begin() does besides opening the VM, locking it and reading its state. */
enum {
	/* no lifecycle lock: a query, or a raw QMP command that must work
	 * while e.g. a stop holds the lock */
	QC_VMOP_NO_LOCK = 1u << 0,
	/* wait QC_VMOP_LONG_LOCK_MS for the lock, not QC_VMOP_LOCK_MS */
	QC_VMOP_LONG_LOCK = 1u << 1,
	/* load domain.xml into op->d */
	QC_VMOP_DOMAIN = 1u << 2,
	/* load domain.xml and its snapshot chain into op->snaps */
	QC_VMOP_SNAPS = 1u << 3,
	/* refuse a VM that does not run: QC_ERR_STATE "VM 'x' is not running (state: s)" */
	QC_VMOP_RUNNING = 1u << 4,
	/* a run whose monitor died while state.json still says running:
	 * write its end to state.json and remove its stale sockets */
	QC_VMOP_RECORD_END = 1u << 5,
	/* do not read state.json and liveness: an operation on the VM's files only */
	QC_VMOP_NO_STATE = 1u << 6,
};

/*
 * One operation on one VM.  Declare it with QC_VMOP_INIT and cleanup_vmop,
 * so every return releases what qc_vmop_begin() took:
 *
 *     cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
 *
 *     if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_DOMAIN, &op, err)) < 0)
 *             return rc;
 */
struct qc_vmop {
	qc_ctx *ctx;
	const char *name;
	char *vm_dir; /* <root>/vms/<name> */
	int dfd, lock_fd; /* lock_fd -1 with QC_VMOP_NO_LOCK */
	struct qc_live live; /* state.json and liveness (none with QC_VMOP_NO_STATE) */
	struct qc_domain *d; /* QC_VMOP_DOMAIN, QC_VMOP_SNAPS or qc_vmop_domain() */
	struct qc_snaps snaps; /* QC_VMOP_SNAPS */
	struct qc_qmp *q; /* connected by qc_vmop_qmp() */
};
#define QC_VMOP_INIT ((struct qc_vmop){.dfd = -1, .lock_fd = -1})
#define cleanup_vmop __attribute__((cleanup(qc_vmop_end)))

/*
 * Open VM name's directory, take its lifecycle lock (QC_VMOP_LOCK_MS, or
 * QC_VMOP_LONG_LOCK_MS), read its state and liveness, then what flags ask.
 * Errors name the VM.
 */
int qc_vmop_begin_as(const char *what, qc_ctx *ctx, const char *name, unsigned flags,
	struct qc_vmop *op, struct qc_error *err);
/* The same with the caller's lock timeout (ms; 0: do not wait). */
int qc_vmop_begin_wait_as(const char *what, qc_ctx *ctx, const char *name, unsigned flags,
	int lock_timeout_ms, struct qc_vmop *op, struct qc_error *err);
/*
 * what names the operation in its record (<vm>/op.json, written while the
 * lock is held, read by list and info): the calling function's name by
 * default ("qc_vm_stop": "stop"), or the caller's own with the _as forms.
 */
#define qc_vmop_begin(...) qc_vmop_begin_as(__func__, __VA_ARGS__)
#define qc_vmop_begin_wait(...) qc_vmop_begin_wait_as(__func__, __VA_ARGS__)
/*
 * The operation holding VM vm_dfd's lock, from its record: 1 with *ret_what
 * (a fresh string), *ret_pid and *ret_since_ms (realtime) when the
 * process that wrote it still runs (the same process: its start time in
 * /proc/PID/stat matches); 0 when none (no record, or its writer is gone).
 * Reads only: a stale record is left for the next lock holder to replace.
 */
int qc_vmop_record_read(int vm_dfd, char **ret_what, pid_t *ret_pid, int64_t *ret_since_ms);
/* The frame's steps: open <root>/vms/<name> as an O_DIRECTORY fd (QC_ERR_NOTFOUND names the VM). */
int qc_driver_vm_open(const qc_ctx *ctx, const char *name, int *ret_dfd, struct qc_error *err);
/* Lifecycle lock of a VM (waits up to timeout_ms); refuses a VM deleted meanwhile. */
int qc_driver_vm_lock(
	int vm_dfd, const char *name, int timeout_ms, int *ret_fd, struct qc_error *err);
/* Release everything: QMP, domain, chain, lock, directory. */
void qc_vmop_end(struct qc_vmop *op);
/* Release the lifecycle lock early; the directory and what was read stay. */
void qc_vmop_unlock(struct qc_vmop *op);
/* Load domain.xml into op->d (when a begin without QC_VMOP_DOMAIN needs it later). */
int qc_vmop_domain(struct qc_vmop *op, struct qc_error *err);
/* QC_ERR_STATE "VM 'x' is running; <how>" while the VM runs. */
int qc_vmop_need_stopped(const struct qc_vmop *op, const char *how, struct qc_error *err);
/* Connect to QMP (once) as op->q; QC_ERR_STATE when the VM does not run. */
int qc_vmop_qmp(struct qc_vmop *op, struct qc_error *err);
/* QMP cmd on op->q with the arguments g generated; no reply kept. */
int qc_vmop_execute(struct qc_vmop *op, const char *cmd, struct qc_jgen *g, struct qc_error *err);
/* A QMP connection of the caller's own to the VM's run dir. */
int qc_vmop_qmp_connect(
	struct qc_vmop *op, int timeout_ms, struct qc_qmp **ret, struct qc_error *err);
/* The same, n commands sent with the connection (qc_qmp_connect_all): one round trip. */
int qc_vmop_qmp_connect_all(struct qc_vmop *op, const char *const *cmds, size_t n, int timeout_ms,
	struct qc_qmp **ret, qc_json **rets, struct qc_error *err);
/* Store the chain into the domain, validate, save domain.xml (+ summary). */
int qc_vmop_save(struct qc_vmop *op, struct qc_error *err);
/*
 * Test hook: with $QEMUCTL_TEST_HOLD == point, create <vm>/.hold-<point> and
 * sleep 60 s; SIGINT, SIGTERM or SIGHUP (sent once the file is there) end the
 * sleep after their handler ran (or end the process, without one), and so
 * does the file's removal (within 100 ms).
 */
void qc_vmop_test_hold(struct qc_vmop *op, const char *point);
/* The same, not held (or no longer) once a signal's handler set *flag. */
void qc_vmop_test_hold_signal(
	struct qc_vmop *op, const char *point, const volatile sig_atomic_t *flag);
/* The current top block node of disk i in the running QEMU (query-block). */
int qc_vmop_top_node(
	struct qc_vmop *op, size_t i, char **ret_node, char **ret_file, struct qc_error *err);

#endif
