/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Autostart: the flag in domain.xml and the boot/shutdown passes over every
 * VM of a state root (qemuctl autostart --run / --shutdown, called by
 * qemuctl-autostart.service).
 *
 * The passes run one child process per VM, so starts and graceful stops
 * overlap (a guest may take most of the stop timeout to power off) without
 * asking the lifecycle code to be thread-safe.  Each child reports its
 * result through a pipe; the parent waits for all of them under a deadline
 * and kills a child that outlives it.  Each child runs in a session of its
 * own (setsid), as a start from a shell of its own would.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/qemuctl.h"
#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/vmop.h"

/* Beyond the operation's own timeouts: the lifecycle lock (60 s) and slack. */
#define AUTOSTART_SLACK_MS (90 * 1000)
#define PROGRESS_MS 200

static int load_domain(qc_ctx *ctx, const char *name, struct qc_domain **ret, struct qc_error *err)
{
	cleanup_free char *dir = NULL, *path = NULL;
	int rc;

	if ((rc = qc_validate_name("VM", name, err)) < 0)
		return rc;
	dir = qc_driver_vm_dir(ctx, name);
	if (access(dir, F_OK) < 0)
		return qc_error_set(err, QC_ERR_NOTFOUND, "VM '%s' does not exist", name);
	path = qc_xasprintf("%s/%s", dir, QC_VM_DOMAIN);
	if ((rc = qc_domain_load(path, NULL, NULL, ret, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	return 0;
}

QC_PUBLIC int qc_vm_get_autostart(qc_ctx *ctx, const char *name, bool *ret, struct qc_error *err)
{
	cleanup_domain struct qc_domain *d = NULL;
	int rc;

	if ((rc = load_domain(ctx, name, &d, err)) < 0)
		return rc;
	*ret = d->autostart;
	return 0;
}

QC_PUBLIC int qc_vm_set_autostart(qc_ctx *ctx, const char *name, bool on, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	/* The flag does not touch a running QEMU; the lock orders it with define/start. */
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_STATE | QC_VMOP_DOMAIN, &op, err)) < 0)
		return rc;
	if (op.d->autostart == on)
		return 0;
	op.d->autostart = on;
	if ((rc = qc_domain_save(op.d, op.dfd, QC_VM_DOMAIN, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_driver_summary_save(op.dfd, op.d);
	return 0;
}

QC_PUBLIC void qc_autostart_report_free(struct qc_autostart_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->vms[i].name);
		free(r->vms[i].error);
	}
	free(r->vms);
	free(r);
}

/* What a child writes to its pipe: one write below PIPE_BUF, so atomic. */
struct child_result {
	int rc;
	char msg[1024];
};

struct job {
	struct qc_autostart_vm *vm;
	pid_t pid;
	int fd; /* read end, -1 once read */
};

enum pass { PASS_START, PASS_STOP };

static void child_main(qc_ctx *ctx, enum pass pass, const char *name, int timeout_ms, int fd)
{
	struct child_result res = {0};
	struct qc_error err = {0};

	/*
	 * A session of its own, as a start from a shell of its own would have:
	 * under autogroup scheduling each VM's start then gets its own CPU
	 * share instead of all of them sharing the autostart process's.
	 */
	(void) setsid();
	ctx->progress = NULL; /* the parent reports progress for all of them */
	ctx->monitor_as_child = true; /* this child exits right after: no detaching fork */
	if (pass == PASS_START)
		res.rc = qc_vm_start(ctx, name, NULL, &err);
	else
		res.rc = qc_vm_stop(ctx, name, timeout_ms, false, &err);
	if (res.rc < 0)
		snprintf(res.msg, sizeof(res.msg), "%s", err.msg[0] ? err.msg : "unknown error");
	if (write(fd, &res, sizeof(res)) != (ssize_t) sizeof(res))
		_exit(1);
	_exit(0);
}

static void job_fail(struct job *j, int rc, const char *what, const char *why)
{
	j->vm->rc = rc;
	j->vm->error = why ? qc_xasprintf("VM '%s': %s: %s", j->vm->name, what, why)
			   : qc_xasprintf("VM '%s': %s", j->vm->name, what);
}

/* Run pass over jobs[0..n) in parallel; every job gets a result. */
static void run_parallel(qc_ctx *ctx, enum pass pass, struct job *jobs, size_t n, int timeout_ms)
{
	int64_t deadline = qc_deadline_ms(timeout_ms + AUTOSTART_SLACK_MS);
	cleanup_free struct pollfd *pfd = qc_xzalloc((n ? n : 1) * sizeof(*pfd));
	const char *what = pass == PASS_START ? "starting VMs" : "stopping VMs";
	size_t open_jobs = 0;

	for (size_t i = 0; i < n; i++) {
		int p[2];

		jobs[i].pid = -1;
		jobs[i].fd = -1;
		if (pipe2(p, O_CLOEXEC) < 0) {
			job_fail(&jobs[i], -errno, "pipe", strerror(errno));
			continue;
		}
		jobs[i].pid = fork();
		if (jobs[i].pid < 0) {
			int e = errno;

			close(p[0]);
			close(p[1]);
			job_fail(&jobs[i], -e, "fork", strerror(e));
			continue;
		}
		if (jobs[i].pid == 0) {
			close(p[0]);
			child_main(ctx, pass, jobs[i].vm->name, timeout_ms, p[1]);
		}
		close(p[1]);
		jobs[i].fd = p[0];
		open_jobs++;
	}
	while (open_jobs > 0) {
		int ms = qc_time_left_ms(deadline), r;
		size_t k = 0;

		if (ms == 0)
			break;
		if (ctx->progress) {
			/* every PROGRESS_MS while waiting, so a terminal spinner turns */
			ctx->progress(what, n - open_jobs, n, ctx->progress_opaque);
			if (ms > PROGRESS_MS)
				ms = PROGRESS_MS;
		}
		for (size_t i = 0; i < n; i++)
			if (jobs[i].fd >= 0)
				pfd[k++] = (struct pollfd){.fd = jobs[i].fd, .events = POLLIN};
		r = poll(pfd, k, ms);
		if (r < 0 && errno != EINTR)
			break;
		for (size_t i = 0, m = 0; r > 0 && i < n; i++) {
			struct child_result res;
			ssize_t got;

			if (jobs[i].fd < 0)
				continue;
			if (!pfd[m++].revents)
				continue;
			got = read(jobs[i].fd, &res, sizeof(res));
			if (got < 0 && errno == EINTR)
				continue;
			if (got == (ssize_t) sizeof(res)) {
				res.msg[sizeof(res.msg) - 1] = 0;
				jobs[i].vm->rc = res.rc;
				jobs[i].vm->acted = res.rc == 0;
				if (res.rc < 0)
					jobs[i].vm->error = qc_xstrdup(res.msg);
			} else {
				job_fail(&jobs[i], -EIO, "the worker process died", NULL);
			}
			close(jobs[i].fd);
			jobs[i].fd = -1;
			open_jobs--;
		}
	}
	if (ctx->progress && n)
		ctx->progress(what, n - open_jobs, n, ctx->progress_opaque);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].fd >= 0) {
			/* Past the deadline: the lifecycle's own timeouts should have ended it. */
			kill(jobs[i].pid, SIGKILL);
			close(jobs[i].fd);
			jobs[i].fd = -1;
			job_fail(&jobs[i], -ETIMEDOUT,
				pass == PASS_START ? "start did not finish in time"
						   : "stop did not finish in time",
				NULL);
		}
		if (jobs[i].pid > 0)
			while (waitpid(jobs[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
}

static int autostart_pass(qc_ctx *ctx, enum pass pass, int timeout_ms,
	struct qc_autostart_report **ret, struct qc_error *err)
{
	struct qc_vm_info **v = NULL;
	struct qc_autostart_report *r;
	cleanup_free struct job *jobs = NULL;
	size_t n = 0, njobs = 0;
	int rc;

	if ((rc = qc_vm_list(ctx, &v, &n, err)) < 0)
		return rc;
	r = qc_xzalloc((1) * sizeof(*r));
	r->vms = qc_xzalloc((n ? n : 1) * sizeof(*r->vms));
	jobs = qc_xzalloc((n ? n : 1) * sizeof(*jobs));
	for (size_t i = 0; i < n; i++) {
		struct qc_autostart_vm *a = &r->vms[r->n];
		struct qc_error e2 = {0};
		bool live = v[i]->state == QC_VM_RUNNING || v[i]->state == QC_VM_PAUSED;
		bool act;

		a->host_reboot =
			!live && v[i]->exit_reason && strcmp(v[i]->exit_reason, "host-reboot") == 0;
		if (qc_vm_get_autostart(ctx, v[i]->name, &a->autostart, &e2) < 0) {
			/* An unreadable definition must not stop the others. */
			a->name = qc_xstrdup(v[i]->name);
			a->rc = -(e2.code ? abs(e2.code) : EINVAL);
			a->error = qc_xstrdup(e2.msg);
			r->n++;
			continue;
		}
		act = pass == PASS_START ? a->autostart && !live : live;
		if (!act && !a->host_reboot)
			continue;
		a->name = qc_xstrdup(v[i]->name);
		if (act)
			jobs[njobs++].vm = a;
		r->n++;
	}
	qc_vm_list_free(v, n);
	run_parallel(ctx, pass, jobs, njobs,
		pass == PASS_START ? 30000
		: timeout_ms	   ? timeout_ms
				   : 60000);
	for (size_t i = 0; i < r->n; i++)
		if (r->vms[i].rc < 0)
			r->n_failed++;
	*ret = r;
	return 0;
}

QC_PUBLIC int qc_autostart_run(qc_ctx *ctx, struct qc_autostart_report **ret, struct qc_error *err)
{
	return autostart_pass(ctx, PASS_START, 0, ret, err);
}

QC_PUBLIC int qc_autostart_shutdown(
	qc_ctx *ctx, int timeout_ms, struct qc_autostart_report **ret, struct qc_error *err)
{
	if (timeout_ms < 0)
		return qc_error_set(err, EINVAL, "autostart --shutdown: negative timeout");
	return autostart_pass(ctx, PASS_STOP, timeout_ms, ret, err);
}
