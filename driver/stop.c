/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stopping a VM: the ACPI power button pressed until the guest powers off,
 * then QMP quit, then SIGKILL of a QEMU proven to be the VM's; and the same
 * kill for operations that need the VM stopped (snapshot revert).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"
#include "driver/monitor/contract.h"
#include "driver/qga.h"
#include "driver/stop.h"
#include "driver/vmop.h"
#include "qmp/qmp.h"

#define POWERDOWN_EVERY_MS 1500
#define STOP_TIMEOUT_MS 60000
#define QUIT_WAIT_MS 5000
#define KILL_WAIT_MS 5000

/* The monitor's pidfd, once the pid is proven to be this VM's live monitor. */
static int monitor_pidfd(struct qc_vmop *op)
{
	int fd;

	return qc_driver_monitor_proven(op->dfd, &op->live.st, &fd) == 1 ? fd : -1;
}

/*
 * QEMU is a live child of the VM's monitor proven as mfd (*ret_pfd its
 * pidfd, -1 without pidfds).  The monitor's proof (its fd table holding
 * monitor.lock) is not made again while its pidfd keeps naming it.
 */
static bool qemu_proven(struct qc_vmop *op, int mfd, int *ret_pfd)
{
	if (mfd >= 0)
		return qc_driver_qemu_proven_child(&op->live.st, mfd, ret_pfd) == 1;
	return qc_driver_qemu_proven(op->dfd, &op->live.st, ret_pfd) == 1;
}

/* 1 when the monitor (and so QEMU) is gone within timeout_ms. */
static int wait_monitor(struct qc_vmop *op, int mfd, int timeout_ms)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);

	if (mfd >= 0 && qc_pidfd_wait(mfd, timeout_ms) == 1) {
		/* Exited: its lock went with it. */
		return 1;
	}
	/* No pidfd: poll the lock. */
	while (qc_lock_is_held(op->dfd, QC_VM_MONITOR_LOCK) == 1) {
		if (qc_time_left_ms(deadline) == 0)
			return 0;
		qc_sleep_ms(5);
	}
	return 1;
}

static int kill_qemu(struct qc_vmop *op, int mfd, struct qc_error *err)
{
	bool proven;
	int pfd, fd;

	/* Never a bare pid from state.json: only a live child of the VM's monitor. */
	proven = qemu_proven(op, mfd, &pfd);
	/* Tell the monitor the signal is ours, so the exit is "killed", not "crashed". */
	fd = !proven ? -1
		     : openat(op->dfd, "kill-requested",
			       O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0)
		close(fd);
	qc_fault_step("stop:kill-requested");
	if (proven && pfd >= 0) {
		(void) qc_pidfd_send_signal(pfd, SIGKILL, NULL);
		close(pfd);
	} else if (proven) {
		/* No pidfds (old kernel, valgrind): proven just now, the window is tiny. */
		kill(op->live.st.qemu_pid, SIGKILL);
	}
	/* Not proven: QEMU exited meanwhile (its monitor is on its way out), or
	 * the pid is not QEMU's at all. */
	if (wait_monitor(op, mfd, KILL_WAIT_MS) == 1)
		return 0;
	if (!proven)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s': pid %d in state.json is not a QEMU started by this VM's "
			"monitor (pid %d): not signalling it; find the process holding vms/%s/%s",
			op->name, (int) op->live.st.qemu_pid, (int) op->live.st.monitor_pid,
			op->name, QC_VM_MONITOR_LOCK);
	return qc_error_set(err, QC_ERR_BUSY,
		"VM '%s': QEMU (pid %d) or its monitor (pid %d) did not exit after SIGKILL",
		op->name, (int) op->live.st.qemu_pid, (int) op->live.st.monitor_pid);
}

/* quit, then SIGKILL. */
static int quit_or_kill(struct qc_vmop *op, struct qc_qmp *q, int mfd, struct qc_error *err)
{
	struct qc_qmp *own = NULL;
	cleanup_close int qfd = -1;

	/*
	 * The monitor quits QEMU on the QMP connection it has negotiated: no
	 * connect, greeting and qmp_capabilities of our own, each a wake-up of
	 * QEMU's main loop.  Only a monitor whose QEMU is proven its child is
	 * signalled: holding monitor.lock proves nothing about a process.
	 */
	if (!q && mfd >= 0 && qemu_proven(op, mfd, &qfd) &&
		qc_pidfd_send_value(mfd, SIGTERM, QC_MONITOR_QUIT_SIGVAL, NULL) == 0) {
		qc_fault_step("stop:quit-sent");
		if (wait_monitor(op, mfd, QUIT_WAIT_MS) == 1)
			return 0;
		return kill_qemu(op, mfd, err);
	}
	if (!q && qc_vmop_qmp_connect(op, QC_VMOP_QMP_QUICK_MS, &own, NULL) == 0)
		q = own;
	if (q) {
		(void) qc_qmp_execute(q, "quit", NULL, QC_VMOP_QMP_QUICK_MS, NULL, NULL);
		qc_fault_step("stop:quit-sent");
		qc_qmp_close(own);
		if (wait_monitor(op, mfd, QUIT_WAIT_MS) == 1)
			return 0;
	}
	return kill_qemu(op, mfd, err);
}

static int powerdown(qc_ctx *ctx, struct qc_vmop *op, struct qc_qmp *q, int mfd, int timeout_ms)
{
	int64_t start = qc_now_ms(), deadline = qc_deadline_ms(timeout_ms);
	cleanup_free char *what = qc_xasprintf("waiting for VM '%s' to power off", op->name);
	unsigned pressed = 0;
	/* The guest agent first, when the guest runs one: it gets a grace period. */
	cleanup_qga struct qc_qga *agent = qc_driver_qga_shutdown(op, q);

	if (agent) {
		struct qc_qmp_event *ev = NULL;
		int left = qc_time_left_ms(deadline), rc;

		rc = qc_qmp_wait_event(q, "SHUTDOWN", left < QC_QGA_GRACE_MS ? left : QC_QGA_GRACE_MS,
			&ev, NULL);
		qc_qmp_event_free(ev);
		if (rc == 0 || rc == -QC_ERR_EOF)
			deadline = qc_deadline_ms(0);
	}
	/* A press before the guest's ACPI handler is loaded is lost: press again. */
	while (qc_time_left_ms(deadline) != 0) {
		struct qc_qmp_event *ev = NULL;
		int left = qc_time_left_ms(deadline);
		int rc;

		if (ctx->progress)
			ctx->progress(what, (uint64_t) (qc_now_ms() - start), (uint64_t) timeout_ms,
				ctx->progress_opaque);
		if (qc_qmp_execute(q, "system_powerdown", NULL, QC_VMOP_QMP_QUICK_MS, NULL, NULL) < 0 &&
			qc_qmp_check_alive(q, NULL) < 0)
			break; /* QEMU went away */
		if (!pressed++)
			qc_fault_step("stop:acpi-sent");
		rc = qc_qmp_wait_event(q, "SHUTDOWN",
			left < POWERDOWN_EVERY_MS ? left : POWERDOWN_EVERY_MS, &ev, NULL);
		qc_qmp_event_free(ev);
		if (rc == 0 || rc == -QC_ERR_EOF)
			break;
		if (rc != -ETIMEDOUT)
			break;
	}
	qc_fault_step("stop:waiting");
	return wait_monitor(
		op, mfd, qc_time_left_ms(deadline) > 0 ? qc_time_left_ms(deadline) + 2000 : 2000);
}

QC_PUBLIC int qc_vm_stop(
	qc_ctx *ctx, const char *name, int timeout_ms, bool force, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_qmp struct qc_qmp *q = NULL;
	cleanup_close int mfd = -1;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_RECORD_END | QC_VMOP_RUNNING, &op, err)) < 0)
		return rc;
	qc_fault_step("stop:locked");
	mfd = monitor_pidfd(&op);
	if (!force && qc_vmop_qmp_connect(&op, QC_VMOP_QMP_QUICK_MS, &q, NULL) == 0 &&
		powerdown(ctx, &op, q, mfd, timeout_ms > 0 ? timeout_ms : STOP_TIMEOUT_MS) == 1)
		return 0;
	qc_qmp_close(TAKE_PTR(q));
	return quit_or_kill(&op, NULL, mfd, err);
}

QC_PUBLIC int qc_vm_destroy(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_close int mfd = -1;
	int rc;

	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_RECORD_END | QC_VMOP_RUNNING, &op, err)) < 0)
		return rc;
	mfd = monitor_pidfd(&op);
	return quit_or_kill(&op, NULL, mfd, err);
}

int qc_vmop_kill(struct qc_vmop *op, struct qc_error *err)
{
	cleanup_close int mfd = -1;
	int rc;

	qc_live_clear(&op->live);
	if ((rc = qc_driver_live(op->dfd, &op->live, err)) < 0)
		return rc;
	if (!op->live.monitor_alive)
		return 0;
	mfd = monitor_pidfd(op);
	if ((rc = quit_or_kill(op, NULL, mfd, err)) < 0)
		return rc;
	qc_live_clear(&op->live);
	return qc_driver_live(op->dfd, &op->live, err);
}
