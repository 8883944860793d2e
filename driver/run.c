/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running VMs: start (forks qemuctl-monitor), stop, destroy, pause, resume,
 * reboot, raw QMP.  Every operation holds the VM's lifecycle lock.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/confine.h"
#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/fdpass.h"
#include "driver/monitor/contract.h"
#include "driver/firmware.h"
#include "driver/network.h"
#include "driver/ready.h"
#include "driver/save.h"
#include "driver/seed.h"
#include "driver/vmop.h"
#include "qmp/qmp.h"

#define START_TIMEOUT_MS 30000

/* ----------------------------------------------------------------- start */

static char *monitor_program(void)
{
	const char *env = getenv("QEMUCTL_MONITOR");
	cleanup_free char *self = NULL;

	if (env && env[0])
		return qc_xstrdup(env);
	if (qc_self_dir(&self, NULL) == 0) {
		char *p = qc_xasprintf("%s/qemuctl-monitor", self);

		if (access(p, X_OK) == 0)
			return p;
		free(p);
	}
	return qc_xstrdup(QC_LIBEXECDIR "/qemuctl-monitor");
}

static int prepare_run_dir(qc_ctx *ctx, const char *rdir, struct qc_error *err)
{
	static const char *const socks[] = {
		"qmp.sock", "events.sock", "serial.sock", "console.sock", "qga.sock"};
	struct sockaddr_un sa;
	size_t i;
	int rc;

	if (strlen(rdir) + sizeof("/console.sock") > sizeof(sa.sun_path))
		return qc_error_set(err, QC_ERR_INVALID,
			"runtime dir '%s' is too long for unix sockets (max %zu bytes); "
			"set QEMUCTL_RUNDIR to a short path",
			rdir, sizeof(sa.sun_path) - sizeof("/console.sock"));
	if ((rc = qc_driver_run_dir_prepare(ctx, rdir, err)) < 0)
		return rc;
	/* Stale sockets of a run whose monitor died. */
	for (i = 0; i < QC_ARRAY_SIZE(socks); i++) {
		cleanup_free char *p = qc_xasprintf("%s/%s", rdir, socks[i]);

		(void) unlink(p);
	}
	return 0;
}

/* Read the monitor's one-line report ("OK pid" / "ERR msg") within the deadline. */
static int read_notify(int fd, int64_t deadline, char *buf, size_t size)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;
		int r = poll(&p, 1, qc_time_left_ms(deadline));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -ETIMEDOUT;
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t) n;
		if (memchr(buf, '\n', len) || len == size - 1)
			break;
	}
	buf[len] = 0;
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = 0;
	return (int) len;
}

/* Our fd src becomes dst in the monitor, which keeps it there for QEMU. */
static int hand_over_fd(struct qc_fdmap *map, size_t *n_map, struct qc_monitor_args *a, int src,
	int dst, struct qc_error *err)
{
	int rc;

	if ((rc = qc_monitor_args_keep_fd(a, dst, err)) < 0)
		return rc;
	map[(*n_map)++] = (struct qc_fdmap){.src = src, .dst = dst};
	return 0;
}

/* What QEMU inherits besides the taps, and who it runs as. */
struct qemu_extra {
	const struct qc_confine *cf;
	int kernel_fd, initrd_fd;
	const struct qc_fdpass *files; /* disks, seed, firmware (driver/fdpass.c) */
	bool ready_at_start; /* resumes a saved state whose guest had finished first boot */
	const char *swtpm; /* the TPM emulator the monitor runs, or NULL */
};

/* The swtpm a VM with a TPM needs: $QEMUCTL_SWTPM (tests), else swtpm in PATH. */
static int find_swtpm(const struct qc_domain *d, char **ret, struct qc_error *err)
{
	const char *env = getenv("QEMUCTL_SWTPM");

	*ret = qc_find_program(env && env[0] ? env : "swtpm");
	if (!*ret)
		return qc_error_set(err, ENOENT,
			"VM '%s' has a TPM but '%s' was not found; install swtpm "
			"(apt-get install swtpm swtpm-tools) or remove the <tpm> from its "
			"definition",
			d->name, env && env[0] ? env : "swtpm");
	if ((*ret)[0] != '/') {
		/* the monitor starts it from the TPM's state directory */
		char *abs = realpath(*ret, NULL);

		free(*ret);
		if (!(*ret = abs))
			return qc_error_errno(err, errno, "VM '%s': swtpm", d->name);
	}
	return 0;
}

/*
 * The devices d's run gives QEMU, as JSON text for qemuctl-monitor
 * --devices, published in state.json for readers of the run (stats).  A
 * validated domain always gives one; were it refused, the run starts
 * without it (NULL) and its readers use domain.xml.
 */
static char *run_devices(const struct qc_domain *d, const struct qc_network_start *ns)
{
	struct qc_run_devices *dv = NULL;
	struct qc_error e = {0};
	char *text = NULL;

	if (qc_argv_run_devices(d, (const char(*)[16]) ns->tap_names, &dv, &e) < 0 ||
		qc_run_devices_format(dv, &text, &e) < 0)
		qc_warn("VM '%s': the run's devices are not published: %s", d->name, e.msg);
	qc_run_devices_free(dv);
	return text;
}

static int spawn_monitor(qc_ctx *ctx, struct qc_vmop *op, char **qemu_argv, const char *rdir,
	const char *accel, const char *why, const struct qc_network_start *ns, int timeout_ms,
	const struct qc_domain *d, const struct qemu_extra *x, bool cont, struct qc_error *err)
{
	cleanup_free char *mon = monitor_program();
	cleanup_free char *dir = qc_driver_vm_dir(ctx, op->name);
	cleanup_strv char **markers = qc_driver_ready_markers(d);
	cleanup_strvec struct qc_strv av = {0};
	cleanup_free char *devices = NULL;
	cleanup_close int rfd = -1, wfd = -1, mon_pidfd = -1;
	struct qc_spawn_opts so = {0};
	struct qc_monitor_args ma;
	cleanup_free struct qc_fdmap *map =
		qc_xzalloc((ns->n_nics + x->files->n + 3) * sizeof(*map));
	size_t n_map = 0;
	const char *console_max = getenv("QEMUCTL_CONSOLE_LOG_MAX");
	uint64_t bound = 0;
	int64_t deadline;
	char line[1100];
	pid_t pid;
	int p[2], rc, n, status;
	size_t i;

	if (pipe2(p, O_CLOEXEC) < 0)
		return qc_error_errno(err, errno, "pipe");
	rfd = p[0];
	wfd = p[1];
	qc_monitor_args_init(&ma);
	ma.vm_dir = dir;
	ma.run_dir = rdir;
	ma.notify_fd = QC_MONITOR_FD_NOTIFY;
	ma.accel = accel;
	ma.accel_why = why;
	map[n_map++] = (struct qc_fdmap){.src = wfd, .dst = QC_MONITOR_FD_NOTIFY};
	if (x->cf->active) {
		ma.set_user = true;
		ma.uid = x->cf->uid;
		ma.gid = x->cf->gid;
	}
	if (x->kernel_fd >= 0 &&
		(rc = hand_over_fd(map, &n_map, &ma, x->kernel_fd, QC_QEMU_FD_KERNEL, err)) < 0)
		return rc;
	if (x->initrd_fd >= 0 &&
		(rc = hand_over_fd(map, &n_map, &ma, x->initrd_fd, QC_QEMU_FD_INITRD, err)) < 0)
		return rc;
	for (i = 0; i < x->files->n; i++)
		if ((rc = hand_over_fd(map, &n_map, &ma, x->files->fds[i], x->files->qfds[i].fd,
			     err)) < 0)
			return rc;
	for (i = 0; i < ns->n_nics; i++)
		if (ns->tap_fds[i] >= 0 && (rc = hand_over_fd(map, &n_map, &ma, ns->tap_fds[i],
						    QC_QEMU_FD_TAP + (int) i, err)) < 0)
			return rc;
	/* Tests shrink the console log bound to see it rotate; not a number: the default. */
	if (console_max && qc_parse_uint(NULL, console_max, 0, UINT64_MAX, &bound, NULL) == 0)
		ma.console_max = bound;
	for (i = 0; i < ns->n_ports; i++)
		if ((rc = qc_monitor_args_port(&ma, ns->ports[i], err)) < 0)
			return rc;
	/* what the console shows when first boot is done (driver/ready.c) */
	for (i = 0; markers[i]; i++)
		if ((rc = qc_monitor_args_ready_marker(&ma, markers[i], err)) < 0)
			return rc;
	ma.swtpm = x->swtpm;
	devices = run_devices(d, ns);
	ma.devices = devices;
	ma.cont = cont;
	if (op->d->vnc[0])
		ma.vnc = strcmp(op->d->vnc, QC_VNC_SOCKET) == 0 ? QC_MONITOR_VNC_SOCKET
							       : QC_MONITOR_VNC_PASSWORD;
	ma.ready_at_start = x->ready_at_start;
	ma.qemu_argv = (const char *const *) qemu_argv;
	/* a caller that exits soon spares the monitor its detaching fork */
	ma.stay_child = ctx->monitor_as_child;
	if ((rc = qc_monitor_args_to_argv(&ma, mon, &av, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	so.argv = (const char *const *) av.v;
	so.fds = map;
	so.n_fds = n_map;
	so.in = so.out = so.errout = QC_STDIO_NULL;
	/* out of the caller's terminal's reach (^C, hang-up) from its first instruction */
	so.new_session = ma.stay_child;
	if ((rc = qc_spawn_start(&so, &pid, NULL, err)) < 0)
		return qc_error_prefix(err, "VM '%s': qemuctl-monitor '%s'", op->name, mon);
	/* Our unreaped child, so the pid is its own; no pidfd (valgrind, a
	 * kernel before 5.3) falls back to polling below. */
	mon_pidfd = qc_pidfd_open(pid, NULL);
	close(TAKE_FD(wfd));
	qc_fault_step("start:monitor-spawned");
	/*
	 * The first monitor process forks the real one and exits once that
	 * reported (or reports its death itself): read the report as soon as
	 * it is written, then reap the first process, which exits right after
	 * (its pidfd, no 1 ms polling), so its wake-up and exit are not one
	 * more step on the start path.  A monitor that stayed our child runs
	 * on after an OK; one that did not report is reaped to say why.
	 */
	deadline = qc_deadline_ms(timeout_ms);
	n = read_notify(rfd, deadline, line, sizeof(line));
	if (ma.stay_child && n > 0 && strncmp(line, "OK ", 3) == 0) {
		qc_fault_step("start:qemu-up");
		return 0;
	}
	if (mon_pidfd >= 0)
		(void) qc_pidfd_wait(mon_pidfd, qc_time_left_ms(deadline));
	while ((rc = (int) waitpid(pid, &status, WNOHANG)) == 0 && qc_time_left_ms(deadline) > 0)
		qc_sleep_ms(1);
	if (rc == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return qc_error_set(err, ETIMEDOUT,
			"VM '%s': qemuctl-monitor did not report within %d s", op->name,
			timeout_ms / 1000);
	}
	/* a monitor that stayed our child exits 1 after its ERR report: the report says why */
	if (rc == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
		!(ma.stay_child && n > 0)) {
		char st[64];

		qc_format_wait_status(status, st, sizeof(st));
		/* what the first process says of a second that died (driver/monitor/main.c) */
		if (ma.stay_child && WIFSIGNALED(status))
			return qc_error_set(err, QC_ERR_CHILD,
				"VM '%s': start failed: qemuctl-monitor ended before it reported: "
				"%s (QEMU dies with it)",
				op->name, st);
		return qc_error_set(err, QC_ERR_CHILD, "VM '%s': qemuctl-monitor '%s' failed: %s",
			op->name, mon, st);
	}
	if (n == -ETIMEDOUT)
		return qc_error_set(err, ETIMEDOUT,
			"VM '%s': qemuctl-monitor did not report within %d s", op->name,
			timeout_ms / 1000);
	if (strncmp(line, "OK ", 3) == 0) {
		qc_fault_step("start:qemu-up");
		return 0;
	}
	if (strncmp(line, "ERR ", 4) == 0)
		return qc_error_set(
			err, QC_ERR_CHILD, "VM '%s': start failed: %s", op->name, line + 4);
	return qc_error_set(err, QC_ERR_CHILD,
		"VM '%s': qemuctl-monitor exited without reporting (see %s/%s)", op->name, dir,
		QC_VM_QEMU_LOG);
}

/*
 * A VM whose CPUs never ran ("prelaunch": QEMU still waits at -S) was not
 * started: its start was killed between spawning the monitor and "cont", or
 * it was started with --paused.  start finishes it.  1 = done, 0 = it does
 * run (or cannot be asked), < 0 = cont failed.
 */
static int finish_prelaunch(struct qc_vmop *op, struct qc_error *err)
{
	cleanup_qmp struct qc_qmp *q = NULL;
	cleanup_json qc_json *r = NULL;
	const char *status;
	int rc;

	if (qc_vmop_qmp_connect(op, QC_VMOP_QMP_QUICK_MS, &q, NULL) < 0 ||
		qc_qmp_execute(q, "query-status", NULL, QC_VMOP_QMP_QUICK_MS, &r, NULL) < 0)
		return 0;
	status = qc_json_string(qc_json_get(r, "status"));
	if (!status || strcmp(status, "prelaunch") != 0)
		return 0;
	if ((rc = qc_qmp_execute(q, "cont", NULL, QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	(void) qc_state_publish_status(op->dfd, op->live.st.monitor_pid, op->live.st.started_at_ms,
		qc_driver_qmp_status, q);
	return 1;
}

/*
 * QEMU is up: load the saved state into it (cont unless paused), or, with
 * --fresh, discard the state now that the fresh boot has started.
 */
static int resume_or_discard(
	struct qc_vmop *op, const struct qc_vm_start_opts *o, int state_fd, struct qc_error *err)
{
	if (state_fd < 0) {
		if (o && o->fresh)
			(void) qc_driver_saved_state_drop(op->dfd);
		return 0;
	}
	return qc_driver_saved_state_resume(op, state_fd, !(o && o->paused), err);
}

/*
 * Start NAME in op (begun here; the caller ends it).  ready: refuse, before
 * anything changes, a VM whose run could never be waited for.
 */
static int start_op(qc_ctx *ctx, const char *name, const struct qc_vm_start_opts *o, bool ready,
	bool incoming, struct qc_vmop *op, struct qc_error *err)
{
	cleanup_free char *rdir = NULL;
	cleanup_strv char **argv = NULL;
	struct qc_argv_ctx actx = {0};
	struct qc_network_start ns __attribute__((cleanup(qc_network_start_clear))) = {0};
	cleanup_free int *child_taps = NULL;
	cleanup_close int kernel_fd = -1, initrd_fd = -1, state_fd = -1;
	struct qc_fdpass files __attribute__((cleanup(qc_driver_fdpass_clear))) = {0};
	struct qc_domain *d;
	const char *dir;
	struct qc_confine cf;
	struct qemu_extra x = {.cf = &cf, .files = &files};
	cleanup_free char *swtpm = NULL;
	bool changed = false;
	enum qc_accel accel;
	char why[512] = "";
	int lock_ms = o && o->lock_timeout_ms ? o->lock_timeout_ms : QC_VMOP_LONG_LOCK_MS;
	int timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : START_TIMEOUT_MS;
	int rc;

	qc_step_time("start:begin");
	if ((rc = qc_vmop_begin_wait(
		     ctx, name, QC_VMOP_RECORD_END, lock_ms < 0 ? 0 : lock_ms, op, err)) < 0)
		return rc;
	if (ready && ((rc = qc_vmop_domain(op, err)) < 0 ||
			     (rc = qc_driver_ready_check(op->d, err)) < 0))
		return rc;
	qc_fault_step("start:locked");
	if (op->live.monitor_alive) {
		if (!(o && o->paused) && (rc = finish_prelaunch(op, err)) != 0)
			return rc < 0 ? rc : 0;
		return qc_error_set(err, QC_ERR_STATE, "VM '%s' is already running (qemu pid %d)",
			name, (int) op->live.st.qemu_pid);
	}
	/* First: a runtime dir that is not ours refuses the start before anything changes. */
	rdir = qc_driver_run_dir(ctx, name);
	if ((rc = prepare_run_dir(ctx, rdir, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_fault_step("start:run-dir");
	if ((rc = qc_vmop_domain(op, err)) < 0)
		return rc;
	d = op->d;
	dir = op->vm_dir;
	qc_step_time("start:domain");
	if ((rc = qc_accel_resolve(d->arch, d->accel, &accel, why, sizeof(why), err)) < 0 ||
		(rc = qc_host_check_memory(d->memory, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_step_time("start:accel");
	/* UEFI code readable (a clear error, not QEMU's) and the varstore in place */
	if ((rc = qc_driver_firmware_prepare(d, op->dfd, dir, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	/* The seed follows the definition: rebuilt when its content changed. */
	if ((rc = qc_driver_seed_build(d, op->dfd, ctx->root, &changed, err)) < 0)
		return qc_error_prefix(err, "VM '%s': seed", name);
	if (changed && (rc = qc_domain_save(d, op->dfd, QC_VM_DOMAIN, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	/* what list shows of the VM while it runs (unchanged: not rewritten) */
	qc_driver_summary_save(op->dfd, d);
	qc_step_time("start:summary");
	/* Who QEMU runs as, and what it still opens by path usable by that user. */
	if ((rc = qc_driver_confine_user(true, &cf, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	if ((rc = qc_driver_confine_prepare(
		     ctx->root, d, op->dfd, dir, &cf, &kernel_fd, &initrd_fd, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_step_time("start:confined");
	/* Every disk layer, the seed and the firmware: opened here, QEMU gets fds. */
	if ((rc = qc_driver_fdpass_open(d, op->dfd, dir, &files, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_fault_step("start:seed");
	/* A saved state (driver/save.c) is resumed instead of a boot; --fresh ignores it. */
	if (!(o && o->fresh) && (rc = qc_driver_saved_state_open(op->dfd, dir, &state_fd, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_step_time("start:files");
	/* Taps and host ports; our copies of the taps close when we return. */
	if ((rc = qc_network_domain_start(ctx, d, &ns, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	qc_step_time("start:network");
	child_taps = qc_xzalloc((ns.n_nics + 1) * sizeof(int));
	for (size_t i = 0; i < ns.n_nics; i++)
		child_taps[i] = ns.tap_fds[i] >= 0 ? QC_QEMU_FD_TAP + (int) i : -1;
	/* The monitor makes QEMU's listening sockets and hands them over as fds. */
	actx.accel = accel;
	actx.qmp_fd = QC_QEMU_FD_QMP;
	actx.qmp_event_fd = QC_QEMU_FD_EVENTS;
	actx.serial_fd = QC_QEMU_FD_SERIAL;
	actx.qga_fd = QC_QEMU_FD_QGA;
	if (d->tpm) {
		if ((rc = find_swtpm(d, &swtpm, err)) < 0)
			return rc;
		actx.tpm_dir_fd = QC_QEMU_FD_TPM;
		x.swtpm = swtpm;
	}
	actx.kernel_fd = kernel_fd >= 0 ? QC_QEMU_FD_KERNEL : -1;
	actx.initrd_fd = initrd_fd >= 0 ? QC_QEMU_FD_INITRD : -1;
	x.kernel_fd = kernel_fd;
	x.initrd_fd = initrd_fd;
	actx.qemu_binary = getenv("QEMUCTL_QEMU");
	if (actx.qemu_binary && !actx.qemu_binary[0])
		actx.qemu_binary = NULL;
	/*
	 * No -runas (driver/argv.c): qemuctl-monitor drops QEMU to cf's user
	 * itself, and sets PR_SET_PDEATHSIG after that (a uid change clears it).
	 */
	actx.sandbox = true;
	actx.incoming_defer = state_fd >= 0 || incoming;
	/* state.json of the saved run says whether its guest had finished first boot */
	x.ready_at_start = state_fd >= 0 && op->live.st.ready;
	actx.tap_fds = child_taps;
	actx.n_tap_fds = ns.n_nics;
	actx.fwd_ports = (const unsigned *const *) ns.fwd_ports;
	actx.fds = files.qfds;
	actx.n_fds = files.n;
	actx.disks = files.disks;
	actx.loader_set = files.loader_set;
	actx.nvram_set = files.nvram_set;
	for (int attempt = 1;; attempt++) {
		if ((rc = qc_build_argv(d, &actx, &argv, err)) < 0)
			return qc_error_prefix(err, "VM '%s'", name);
		qc_step_time("start:argv");
		(void) unlinkat(op->dfd, "kill-requested", 0);
		qc_vmop_test_hold(op, "start:spawn");
		/* The monitor sends "cont" itself, on the QMP connection it already has. */
		rc = spawn_monitor(ctx, op, argv, rdir, qc_accel_name(accel), why, &ns, timeout_ms,
			d, &x, !(o && o->paused) && state_fd < 0, err);
		/* an automatic host port taken before QEMU bound it: again with fresh ones */
		if (rc >= 0 || qc_network_fwd_retry(ctx, op->dfd, d, &ns, attempt, err) <= 0)
			break;
		qc_strv_free(TAKE_PTR(argv));
		/* the failed attempt's monitor removed the runtime dir */
		if ((rc = prepare_run_dir(ctx, rdir, err)) < 0)
			return qc_error_prefix(err, "VM '%s'", name);
	}
	if (rc < 0)
		return rc;
	return resume_or_discard(op, o, state_fd, err);
}

QC_PUBLIC int qc_vm_start(
	qc_ctx *ctx, const char *name, const struct qc_vm_start_opts *o, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;

	return start_op(ctx, name, o, false, false, &op, err);
}

int qc_driver_start_incoming(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	static const struct qc_vm_start_opts o = {.paused = true, .fresh = true};
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;

	return start_op(ctx, name, &o, false, true, &op, err);
}

QC_PUBLIC int qc_vm_start_ready(qc_ctx *ctx, const char *name, const struct qc_vm_start_opts *o,
	int wait_timeout_ms, int64_t *ret_after_ms, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int rc;

	if (o && o->paused)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': a paused start never becomes ready; start it unpaused", name);
	if ((rc = start_op(ctx, name, o, true, false, &op, err)) < 0)
		return rc;
	/* The same directory and domain; the wait only reads and holds up no stop. */
	qc_vmop_unlock(&op);
	return qc_driver_wait_ready(&op, wait_timeout_ms, ret_after_ms, err);
}

/* ------------------------------------------------ pause, resume, reboot, qmp */

static int simple_command(
	qc_ctx *ctx, const char *name, const char *cmd, const char *what, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_qmp struct qc_qmp *q = NULL;
	int rc;

	if ((rc = qc_vmop_begin_as(
		     what, ctx, name, QC_VMOP_RECORD_END | QC_VMOP_RUNNING, &op, err)) < 0)
		return rc;
	qc_fault_stepf("%s:locked", what);
	if ((rc = qc_vmop_qmp_connect(&op, QC_VMOP_QMP_QUICK_MS, &q, err)) < 0)
		return rc;
	/* A save interrupted after its state was written: running on, the VM leaves it behind. */
	if (strcmp(cmd, "cont") == 0)
		(void) qc_driver_saved_state_drop(op.dfd);
	if ((rc = qc_qmp_execute(q, cmd, NULL, QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		return qc_error_prefix(err, "VM '%s': %s", name, what);
	/* QEMU resets in its main loop after the reply: wait for it (a paused VM goes to prelaunch) */
	if (strcmp(cmd, "system_reset") == 0) {
		cleanup_qmp_event struct qc_qmp_event *ev = NULL;

		(void) qc_qmp_wait_event(q, "RESET", QC_VMOP_QMP_QUICK_MS, &ev, NULL);
	}
	/* list and info read the run state from state.json: publish it before returning */
	(void) qc_state_publish_status(
		op.dfd, op.live.st.monitor_pid, op.live.st.started_at_ms, qc_driver_qmp_status, q);
	qc_fault_stepf("%s:done", what);
	return 0;
}

QC_PUBLIC int qc_vm_pause(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	return simple_command(ctx, name, "stop", "pause", err);
}

QC_PUBLIC int qc_vm_resume(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	return simple_command(ctx, name, "cont", "resume", err);
}

QC_PUBLIC int qc_vm_reboot(qc_ctx *ctx, const char *name, struct qc_error *err)
{
	return simple_command(ctx, name, "system_reset", "reboot", err);
}

QC_PUBLIC int qc_vm_qmp(
	qc_ctx *ctx, const char *name, const char *json, char **ret_reply, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_qmp struct qc_qmp *q = NULL;
	int rc;

	/* No lifecycle lock: a raw command must work while e.g. a stop waits. */
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_RUNNING, &op, err)) < 0 ||
		(rc = qc_vmop_qmp_connect(&op, QC_VMOP_QMP_QUICK_MS, &q, err)) < 0)
		return rc;
	if ((rc = qc_qmp_raw(q, json, QC_QMP_TIMEOUT_MS, ret_reply, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	return 0;
}
