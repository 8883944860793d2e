/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl-monitor: the tiny per-VM supervisor (DESIGN.md, STYLE.md §12).
 * Its arguments are struct qc_monitor_args (driver/monitor/contract.h);
 * its jobs are the files listed in driver/monitor/monitor.h.
 *
 * Started by `qemuctl start` (driver/run.c).  It forks once more
 * and the first process exits, so the monitor is reparented away from its
 * starter (a library caller may wait for any child), then: setsid.  With
 * --stay-child it does neither: the starter (the qemuctl CLI, which exits
 * soon and reaps no child it does not know) made it a session leader
 * before exec and spares it that fork.  Then it takes
 * vms/<name>/monitor.lock for its whole life (the
 * liveness lock: held = the VM runs), becomes a child subreaper, makes
 * QEMU's listening sockets (qmp.sock, events.sock, serial.sock, qga.sock:
 * root-owned 0600 in the 0700 runtime dir; QEMU gets them as fds 5, 6, 7
 * and 4, its argv says -chardev socket,fd=N), with --swtpm the VM's TPM
 * emulator (tpm.c), and forks QEMU (argv as given; the --keep-fd
 * fds stay open across exec, e.g. taps).  With --uid/--gid the QEMU child
 * drops to that user (no supplementary groups, no capabilities, no new
 * privileges) after every fd is in place and before exec: -runas would do
 * it after QEMU's seccomp filter is in, which kills QEMU (driver/argv.c).
 * It connects to QEMU's serial socket and event QMP socket, opens
 * console.sock for `qemuctl console`, with --cont lets the CPUs run (QEMU
 * starts with -S; `start --paused` leaves them stopped), reports "OK <qemu-pid>" (or "ERR
 * <message>") on the notify fd and then loops in one poll() (loop.c).
 * When QEMU exits, it records why into state.json (atomically), removes
 * the runtime dir and exits.
 *
 * The rule when the monitor dies: QEMU is started with PR_SET_PDEATHSIG =
 * SIGKILL, so a monitor that vanishes (SIGKILL, OOM, crash) takes its QEMU
 * with it; nothing keeps running unaccounted.  The CLI sees monitor.lock
 * free while state.json still says running and reports the run as ended
 * with reason "monitor-died" (driver/query.c).  SIGTERM to the
 * monitor is forwarded to QEMU, which shuts down cleanly (reason
 * host-signal); queued with QC_MONITOR_QUIT_SIGVAL (destroy, stop's
 * fallback) it is QMP quit on the event connection (reason quit).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

static int usage(const struct qc_error *err)
{
	fprintf(stderr,
		"qemuctl-monitor: %s\n"
		"usage: qemuctl-monitor --vm-dir DIR --run-dir DIR --notify-fd N "
		"[--keep-fd N]... [--accel A] [--accel-why T] [--uid U --gid G] "
		"-- QEMU-ARGV...\n"
		"(started by 'qemuctl start'; not meant to be run by hand)\n",
		err->msg);
	return 2;
}

/*
 * The write end of the pipe the first process watches (see main): a byte
 * once the report is out; its close without one, the monitor's death.
 */
static int reported_fd = -1;

static void notify(struct qc_monitor *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void notify(struct qc_monitor *m, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;
	int n;

	if (m->a.notify_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t) n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	(void) qc_write_all(m->a.notify_fd, buf, (size_t) n, NULL);
	close(m->a.notify_fd);
	m->a.notify_fd = -1;
	if (reported_fd >= 0) {
		(void) qc_write_all(reported_fd, "R", 1, NULL);
		close(reported_fd);
		reported_fd = -1;
	}
}

/*
 * The first process, until the second reported: a second that dies first
 * (a signal, a crash) cannot say so itself, so its parent reports how it
 * ended.  Then it exits, and the CLI reaps it.
 */
static int watch_report(struct qc_monitor *m, pid_t child, int fd)
{
	char c, st[64];
	ssize_t n;
	int status;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return 0;
	qc_pid_reap(child, &status);
	qc_format_wait_status(status, st, sizeof(st));
	notify(m, "ERR qemuctl-monitor ended before it reported: %s (QEMU dies with it)", st);
	return 0;
}

/* Test hook: with $QEMUCTL_TEST_HOLD == point, create <vm>/.hold-<point> and sleep 60 s. */
static void test_hold(struct qc_monitor *m, const char *point)
{
	const char *env = getenv("QEMUCTL_TEST_HOLD");
	char f[64];

	if (!env || strcmp(env, point) != 0)
		return;
	snprintf(f, sizeof(f), ".hold-%s", point);
	(void) qc_write_atomic(m->vm_dfd, f, "", 0, 0600, NULL);
	qc_sleep_ms(60000);
}

/*
 * Everything up to a running QEMU: the liveness lock, the signalfd, fresh
 * console.log and events.jsonl, QEMU, state.json saying it runs, the
 * serial and event QMP connections, "cont", console.sock.
 */
static int setup(struct qc_monitor *m, struct qc_error *err)
{
	cleanup_free char *serial = qc_monitor_run_path(m, "serial.sock");
	cleanup_free char *events = qc_monitor_run_path(m, "events.sock");
	int64_t deadline = qc_deadline_ms(QC_MONITOR_START_TIMEOUT_MS);
	static const char *const cont[] = {"cont"};
	qc_json *cont_ret[1] = {NULL};
	bool early_cont;
	sigset_t set;
	int rc, fd;

	if (m->a.devices && (rc = qc_run_devices_parse(
				     m->a.devices, strlen(m->a.devices), &m->st.devices, err)) < 0)
		return qc_error_prefix(err, "--devices");
	m->vm_dfd = open(m->a.vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (m->vm_dfd < 0)
		return qc_error_errno(err, errno, "open '%s'", m->a.vm_dir);
	/*
	 * list and info probe this lock with a shared flock for a few
	 * microseconds: a start must wait those out, not fail on them.
	 */
	rc = qc_lock_open(m->vm_dfd, QC_VM_MONITOR_LOCK, LOCK_EX, QC_MONITOR_LOCK_MS, "monitor",
		&m->lock_fd, err);
	if (rc < 0)
		return qc_error_set(err, QC_ERR_BUSY, "another qemuctl-monitor runs this VM");
	qc_step_time("monitor:locked");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return qc_error_errno(err, errno, "PR_SET_CHILD_SUBREAPER");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigdelset(&set, SIGHUP);
	m->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->sig_fd < 0)
		return qc_error_errno(err, errno, "signalfd");

	/* console.log holds this run; the previous one moves to console.log.1. */
	qc_monitor_rotate_log(m);
	qc_monitor_open_events(m);
	qc_step_time("monitor:logs");

	if (m->a.swtpm && (rc = qc_monitor_start_swtpm(m, err)) < 0)
		return rc;
	if ((rc = qc_monitor_spawn_qemu(m, err)) < 0)
		return rc;
	qc_step_time("monitor:qemu-spawned");
	m->st.running = true;
	qc_state_boot_id(m->st.boot_id, sizeof(m->st.boot_id));
	m->st.monitor_pid = getpid();
	m->st.qemu_pid = m->qemu_pid;
	m->st.started_at_ms = qc_realtime_ms();
	m->st.accel = m->a.accel ? qc_xstrdup(m->a.accel) : NULL;
	m->st.accel_why = m->a.accel_why ? qc_xstrdup(m->a.accel_why) : NULL;
	m->st.run_dir = qc_xstrdup(m->a.run_dir);
	m->st.qemu_binary = qc_xstrdup(m->a.qemu_argv[0]);
	/*
	 * --cont: let the CPUs run as soon as QEMU is up, on the monitor's own
	 * connection; the CLI would otherwise connect, read the greeting and
	 * negotiate a second one only to send this (about 5 ms of start).
	 * Unless a VNC password must be set first, "cont" goes in the same
	 * write as qmp_capabilities, before the greeting is read (one round
	 * trip fewer), and "running" is published now, while QEMU starts up:
	 * once the guest runs, its vCPU thread and QEMU's main loop take both
	 * CPUs of a small host, and a state.json written after cont waited
	 * 0.4-4 ms in the run queue (bench/start-stop --profile).  Until the
	 * starter returns, op.json says a start is in progress; a cont that
	 * fails records the failed start instead.  Otherwise: "prelaunch"
	 * (-S), published anew after cont.
	 */
	early_cont = m->a.cont && !qc_monitor_vnc_needs_qmp(m);
	m->st.qemu_status = qc_xstrdup(early_cont ? "running" : "prelaunch");
	/* A resumed guest that had finished first boot never shows its marker again. */
	if (m->a.ready_at_start) {
		m->st.ready = true;
		m->st.ready_at_ms = m->st.started_at_ms;
		m->st.ready_after_ms = 0;
	}
	if (m->a.n_ports) {
		m->st.ports = qc_xzalloc(m->a.n_ports * sizeof(unsigned));
		memcpy(m->st.ports, m->a.ports, m->a.n_ports * sizeof(unsigned));
		m->st.n_ports = m->a.n_ports;
	}
	if ((rc = qc_state_save_nosync(m->vm_dfd, &m->st, err)) < 0)
		return rc;
	qc_step_time("monitor:state");

	if ((rc = qc_monitor_connect_qemu(m, serial, deadline, &m->serial_fd, err)) < 0)
		return rc;
	fcntl(m->serial_fd, F_SETFL, O_NONBLOCK);
	if ((rc = qc_monitor_connect_qemu(m, events, deadline, &fd, err)) < 0)
		return rc;
	if ((rc = qc_qmp_open_fd_all(fd, early_cont ? cont : NULL, early_cont ? 1 : 0,
		     qc_time_left_ms(deadline), &m->qmp, early_cont ? cont_ret : NULL, err)) < 0)
		return qc_error_prefix(err, early_cont ? "event QMP, cont" : "event QMP");
	qc_json_free(cont_ret[0]);
	qc_step_time("monitor:qmp-ready");
	if ((rc = qc_monitor_vnc_setup(m, err)) < 0)
		return qc_error_prefix(err, "VNC");
	if (m->a.cont && !early_cont) {
		/* after the VNC password: cont on its own, then "running" */
		rc = qc_qmp_execute(m->qmp, "cont", NULL, qc_time_left_ms(deadline), NULL, err);
		if (rc < 0)
			return qc_error_prefix(err, "cont");
		qc_monitor_publish_running(m);
	} else if (!m->a.cont) {
		qc_monitor_publish_status(m);
	}
	qc_step_time("monitor:published");
	if ((rc = qc_monitor_listen_console(m, err)) < 0)
		return rc;
	qc_monitor_append_event(m, "QEMUCTL_START", m->st.started_at_ms, NULL, "accel", m->a.accel,
		"accel_why", m->a.accel_why);
	return 0;
}

int main(int argc, char **argv)
{
	struct qc_monitor m = {.vm_dfd = -1,
		.lock_fd = -1,
		.sig_fd = -1,
		.serial_fd = -1,
		.listen_fd = -1,
		.vnc_fd = -1,
		.log_fd = -1,
		.events_fd = -1,
		.tpm_dir_fd = -1,
		.qemu_socks = {-1, -1, -1, -1}};
	struct qc_error err = {0};
	int watch[2];
	pid_t pid;
	size_t i;

	for (i = 0; i < QC_MONITOR_MAX_CLIENTS; i++)
		m.clients[i] = -1;
	qc_state_clear(&m.st);
	if (qc_monitor_args_from_argv(argc, argv, &m.a, &err) < 0)
		return usage(&err);
	qc_step_time("monitor:args");
	for (i = 0; i < m.a.n_ready_markers; i++)
		m.ready.markers[m.ready.n_markers++] = m.a.ready_markers[i];
	if (m.a.console_max < 64)
		m.a.console_max = QC_CONSOLE_LOG_MAX;
	if (m.a.set_user && m.a.uid > 0) /* QEMU calls listen() again on the sockets it gets */
		qc_unix_peer_allow(m.a.uid);

	/*
	 * Detach: the first process exits once the second reported; the
	 * second lives on.  A starter that says it needs no detaching reaps
	 * this process itself when it dies before its report.
	 */
	if (!m.a.stay_child) {
		if (pipe2(watch, O_CLOEXEC) < 0) {
			notify(&m, "ERR pipe: %s", strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			notify(&m, "ERR fork: %s", strerror(errno));
			return 1;
		}
		if (pid > 0) {
			close(watch[1]);
			_exit(watch_report(&m, pid, watch[0]));
		}
		close(watch[0]);
		reported_fd = watch[1];
		setsid();
	}
	/* QEMU's sockets and every file we create: owner only. */
	umask(0077);

	if (setup(&m, &err) < 0) {
		/*
		 * The record first, then the monitor's lock, then the CLI: a start or
		 * list right after the failed start must find the VM stopped, not
		 * "already running" on the lock of a monitor still on its way out.
		 */
		qc_monitor_record_start_failed(&m, &err);
		if (m.lock_fd >= 0) {
			close(m.lock_fd);
			m.lock_fd = -1;
		}
		notify(&m, "ERR %s", err.msg);
		qc_qmp_close(m.qmp);
		qc_state_clear(&m.st);
		return 1;
	}
	qc_step_time("monitor:setup-done");
	test_hold(&m, "monitor-report");
	notify(&m, "OK %d", (int) m.qemu_pid);
	qc_monitor_loop(&m);
	qc_step_time("monitor:qemu-exited");
	qc_monitor_drain(&m);
	qc_monitor_stop_swtpm(&m);
	qc_monitor_record_exit(&m);
	qc_step_time("monitor:exit-recorded");
	for (i = 0; i < QC_MONITOR_MAX_CLIENTS; i++)
		if (m.clients[i] >= 0)
			close(m.clients[i]);
	qc_qmp_close(m.qmp);
	qc_monitor_remove_run_dir(&m);
	qc_state_clear(&m.st);
	return 0;
}

