/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Saved state: `qemuctl save` stops a running VM with its RAM and device
 * state in <vm>/saved.state (QMP stop, migrate to an fd passed with getfd,
 * the file written as a temp, fsynced and renamed once QEMU reports the
 * migration completed, then quit), and the next start resumes from it
 * (driver/run.c starts QEMU with -incoming defer; migrate-incoming from an
 * fd opened here; cont).  No exec: URI: QEMU never runs a shell.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"
#include "driver/save.h"
#include "driver/stop.h"
#include "driver/vmop.h"
#include "qmp/qmp.h"

#define MIGRATE_TIMEOUT_MS 600000
#define MIGRATE_POLL_MS 20

/*
 * Wait until query-migrate says completed.  Before the migration began
 * (an incoming one not yet set up) it reports no status.  Failed,
 * cancelled, QEMU gone or the time up: an error naming what.
 */
int qc_driver_wait_migration(struct qc_qmp *q, const char *what,
	const volatile sig_atomic_t *cancel, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(MIGRATE_TIMEOUT_MS);
	int rc;

	for (;;) {
		cleanup_json qc_json *r = NULL;
		const char *status, *desc;

		if ((rc = qc_qmp_execute(q, "query-migrate", NULL, QC_VMOP_QMP_QUICK_MS, &r, err)) <
			0)
			return qc_error_prefix(err, "%s", what);
		status = qc_json_string(qc_json_get(r, "status"));
		if (status && strcmp(status, "completed") == 0)
			return 0;
		if (status && (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0)) {
			desc = qc_json_string(qc_json_get(r, "error-desc"));
			return qc_error_set(err, QC_ERR_CHILD, "%s %s: %s", what, status,
				desc ? desc : "QEMU gave no reason");
		}
		if (cancel && *cancel)
			return qc_error_set(err, ECANCELED, "%s cancelled", what);
		if (qc_time_left_ms(deadline) == 0)
			return qc_error_set(err, ETIMEDOUT,
				"%s did not complete within %d s (status %s)", what,
				MIGRATE_TIMEOUT_MS / 1000, status ? status : "none");
		qc_sleep_ms(MIGRATE_POLL_MS);
	}
}

/* A migration of a save that was killed still runs into its lost file: cancel it. */
static int cancel_stale_migration(struct qc_qmp *q, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(QC_VMOP_QMP_TIMEOUT_MS);
	bool sent = false;
	int rc;

	for (;;) {
		cleanup_json qc_json *r = NULL;
		const char *status;

		if ((rc = qc_qmp_execute(q, "query-migrate", NULL, QC_VMOP_QMP_QUICK_MS, &r, err)) <
			0)
			return rc;
		status = qc_json_string(qc_json_get(r, "status"));
		if (!status || strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0 ||
			strcmp(status, "cancelled") == 0)
			return 0;
		if (!sent && (rc = qc_qmp_execute_text(q, "migrate_cancel", NULL,
				      QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
			return rc;
		sent = true;
		if (qc_time_left_ms(deadline) == 0)
			return qc_error_set(err, ETIMEDOUT,
				"an earlier migration did not end within %d s (status %s)",
				QC_VMOP_QMP_TIMEOUT_MS / 1000, status);
		qc_sleep_ms(MIGRATE_POLL_MS);
	}
}

int qc_driver_migration_ready(struct qc_qmp *q, int vm_dfd, bool *ret_ran, struct qc_error *err)
{
	cleanup_json qc_json *st = NULL;
	const char *status;
	int rc;

	if ((rc = cancel_stale_migration(q, err)) < 0)
		return rc;
	if ((rc = qc_qmp_execute(q, "query-status", NULL, QC_VMOP_QMP_QUICK_MS, &st, err)) < 0)
		return rc;
	status = qc_json_string(qc_json_get(st, "status"));
	*ret_ran = status && strcmp(status, "running") == 0;
	if (status && strcmp(status, "postmigrate") == 0) {
		(void) qc_driver_saved_state_drop(vm_dfd);
		if ((rc = qc_qmp_execute_text(q, "cont", NULL, QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
			return rc;
	}
	return 0;
}

/* Write the state into fd: CPUs stopped, no bandwidth limit, migrate to it. */
int qc_driver_state_out_cancellable(
	struct qc_qmp *q, int fd, const volatile sig_atomic_t *cancel, struct qc_error *err)
{
	int rc;

	if ((rc = qc_qmp_execute_text(q, "stop", NULL, QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		return rc;
	/* QEMU's default of 32 MiB/s is for links between hosts, not a local file. */
	if ((rc = qc_qmp_execute_text(q, "migrate-set-parameters",
		     "{\"max-bandwidth\":1099511627776}", QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0 ||
		(rc = qc_qmp_getfd(q, fd, "qemuctl-save", QC_VMOP_QMP_QUICK_MS, err)) < 0 ||
		(rc = qc_qmp_execute_text(q, "migrate", "{\"uri\":\"fd:qemuctl-save\"}",
			 QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		return rc;
	qc_fault_step("save:migrating");
	return qc_driver_wait_migration(q, "saving the state", cancel, err);
}

int qc_driver_state_out(struct qc_qmp *q, int fd, struct qc_error *err)
{
	return qc_driver_state_out_cancellable(q, fd, NULL, err);
}

int qc_driver_state_out_undo(struct qc_qmp *q, struct qc_error *err)
{
	int rc;

	if ((rc = cancel_stale_migration(q, err)) < 0)
		return rc;
	return qc_qmp_execute_text(q, "cont", NULL, QC_VMOP_QMP_QUICK_MS, NULL, err);
}

int qc_driver_state_write(
	struct qc_vmop *op, const char *name, uint64_t *ret_size, struct qc_error *err)
{
	cleanup_free char *tmp = NULL;
	struct stat st;
	int fd = -1, rc;

	/* a temp a killed writer left is swept (its pid is gone) when the VM's lock is taken */
	if ((rc = qc_temp_create(op->dfd, name, 0600, 0, &tmp, &fd, err)) < 0)
		return rc;
	rc = qc_driver_state_out(op->q, fd, err);
	if (rc == 0 && fstat(fd, &st) < 0)
		rc = qc_error_errno(err, errno, "fstat %s/%s", op->vm_dir, tmp);
	if (rc < 0) {
		close(fd);
		(void) unlinkat(op->dfd, tmp, 0);
		return rc;
	}
	if (ret_size)
		*ret_size = (uint64_t) st.st_size;
	return qc_temp_commit(op->dfd, tmp, fd, name, 0, err);
}

QC_PUBLIC int qc_vm_save(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_json qc_json *st = NULL;
	const char *status;
	bool ran;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_RECORD_END | QC_VMOP_RUNNING, &op, err)) < 0)
		return rc;
	if ((rc = qc_vmop_qmp(&op, err)) < 0)
		return rc;
	if ((rc = qc_qmp_execute(op.q, "query-status", NULL, QC_VMOP_QMP_QUICK_MS, &st, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	status = qc_json_string(qc_json_get(st, "status"));
	if (status && strcmp(status, "inmigrate") == 0)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is still loading its saved state; wait for its start to finish",
			name);
	if ((rc = qc_driver_migration_ready(op.q, op.dfd, &ran, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	if ((rc = qc_driver_state_write(&op, QC_VM_SAVED_STATE, NULL, err)) < 0) {
		(void) unlinkat(op.dfd, QC_VM_SAVED_STATE, 0);
		/* The VM goes on as it was; cont after a migration reactivates its disks. */
		if (ran)
			(void) qc_qmp_execute_text(
				op.q, "cont", NULL, QC_VMOP_QMP_QUICK_MS, NULL, NULL);
		return qc_error_prefix(
			err, "VM '%s': save (the VM %s)", name, ran ? "runs on" : "stays paused");
	}
	qc_fault_step("save:written");
	/* The monitor sees the state file and records the exit as "saved". */
	qc_qmp_close(op.q);
	op.q = NULL;
	return qc_vmop_kill(&op, err);
}

int qc_driver_saved_state_drop(int vm_dfd)
{
	if (unlinkat(vm_dfd, QC_VM_SAVED_STATE, 0) < 0)
		return 0;
	(void) qc_fsync_dir(vm_dfd, NULL);
	return 1;
}

int qc_driver_saved_state_open(int vm_dfd, const char *vm_dir, int *ret_fd, struct qc_error *err)
{
	cleanup_close int fd = -1;
	struct stat s;

	fd = openat(vm_dfd, QC_VM_SAVED_STATE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return qc_error_errno(err, errno, "saved state %s/%s", vm_dir, QC_VM_SAVED_STATE);
	if (fstat(fd, &s) < 0)
		return qc_error_errno(err, errno, "saved state %s/%s", vm_dir, QC_VM_SAVED_STATE);
	if (!S_ISREG(s.st_mode) || s.st_uid != geteuid() || (s.st_mode & 022))
		return qc_error_set(err, EPERM,
			"saved state %s/%s is not a regular file of uid %u writable only by it; "
			"it is not qemuctl's: remove it, or 'qemuctl start --fresh' discards it",
			vm_dir, QC_VM_SAVED_STATE, (unsigned) geteuid());
	*ret_fd = TAKE_FD(fd);
	return 1;
}

/* Load the state into the QEMU that waits for it, then let it run (or not). */
static int load_state(struct qc_vmop *op, int fd, bool cont, struct qc_error *err)
{
	cleanup_qmp struct qc_qmp *q = NULL;
	int rc;

	qc_live_clear(&op->live);
	if ((rc = qc_driver_live(op->dfd, &op->live, err)) < 0 ||
		(rc = qc_vmop_qmp_connect(op, QC_VMOP_QMP_TIMEOUT_MS, &q, err)) < 0)
		return rc;
	if ((rc = qc_qmp_getfd(q, fd, "qemuctl-resume", QC_VMOP_QMP_QUICK_MS, err)) < 0 ||
		(rc = qc_qmp_execute_text(q, "migrate-incoming", "{\"uri\":\"fd:qemuctl-resume\"}",
			 QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		return rc;
	qc_fault_step("resume:loading");
	if ((rc = qc_driver_wait_migration(q, "loading the state", NULL, err)) < 0)
		return rc;
	if (cont &&
		(rc = qc_qmp_execute_text(q, "cont", NULL, QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		return rc;
	return 0;
}

int qc_driver_saved_state_resume(struct qc_vmop *op, int fd, bool cont, struct qc_error *err)
{
	struct qc_error kerr = {0};
	int rc;

	if ((rc = load_state(op, fd, cont, err)) == 0) {
		(void) qc_driver_saved_state_drop(op->dfd);
		return 0;
	}
	/* QEMU exits by itself when a load fails; why is in what the monitor recorded. */
	(void) qc_vmop_kill(op, &kerr);
	if (op->live.st.exit_detail && err && err->code == QC_ERR_EOF)
		qc_error_set(err, QC_ERR_CHILD, "QEMU exited: %s", op->live.st.exit_detail);
	return qc_error_prefix(err,
		"VM '%s': resuming from its saved state %s/%s failed (the definition changed since "
		"the save, or the file is damaged); the state is kept: 'qemuctl start --fresh %s' "
		"discards it and boots anew",
		op->name, op->vm_dir, QC_VM_SAVED_STATE, op->name);
}
