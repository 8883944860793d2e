/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl-monitor: the tiny per-VM supervisor (DESIGN.md, STYLE.md §12).
 *
 *   qemuctl-monitor --vm-dir DIR --run-dir DIR --notify-fd N [--keep-fd N]...
 *                   [--port P]... [--accel A] [--accel-why TEXT] [--console-max BYTES]
 *                   [--uid U --gid G] [--cont] -- QEMU-ARGV...
 *
 * Started by `qemuctl start` (driver/lifecycle_run.c).  It forks once more
 * and the first process exits, so the monitor is reparented away from the
 * CLI, then: setsid, takes vms/<name>/monitor.lock for its whole life (the
 * liveness lock: held = the VM runs), becomes a child subreaper, makes
 * QEMU's listening sockets (qmp.sock, events.sock, serial.sock: root-owned
 * 0600 in the 0700 runtime dir; QEMU gets them as fds 5, 6 and 7, its argv
 * says -chardev socket,fd=N) and forks QEMU (argv as given; the --keep-fd
 * fds stay open across exec, e.g. taps).  With --uid/--gid the QEMU child
 * drops to that user (no supplementary groups, no capabilities, no new
 * privileges) after every fd is in place and before exec: -runas would do
 * it after QEMU's seccomp filter is in, which kills QEMU (driver/argv.c).
 * It connects to QEMU's serial socket and event QMP socket, opens
 * console.sock for `qemuctl console`, with --cont lets the CPUs run (QEMU
 * starts with -S; `start --paused` leaves them stopped), reports "OK <qemu-pid>" (or "ERR
 * <message>") on the notify fd and then loops in one poll(): SIGCHLD and
 * SIGTERM through a signalfd, serial output copied into console.log (capped,
 * rotated to console.log.1 by rename) and to every attached console client,
 * client keystrokes forwarded to the guest, QMP events appended to
 * events.jsonl with a timestamp.  When QEMU exits, it records why into
 * state.json (atomically), removes the runtime dir and exits.
 *
 * The rule when the monitor dies: QEMU is started with PR_SET_PDEATHSIG =
 * SIGKILL, so a monitor that vanishes (SIGKILL, OOM, crash) takes its QEMU
 * with it; nothing keeps running unaccounted.  The CLI sees monitor.lock
 * free while state.json still says running and reports the run as ended
 * with reason "monitor-died" (driver/lifecycle_state.c).  SIGTERM to the
 * monitor is forwarded to QEMU, which shuts down cleanly (reason
 * host-signal).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#include <sys/syscall.h>

#include "driver/driver.h"
#include "driver/monitor/contract.h"
#include "driver/ready.h"
#include "qmp/qmp.h"

#define MAX_CLIENTS 16
#define START_TIMEOUT_MS 30000

struct mon {
	struct qc_monitor_args a; /* what `qemuctl start` asked for (driver/monitor/contract.h) */
	int qemu_socks[3]; /* listening: qmp.sock, events.sock, serial.sock */

	int vm_dfd, lock_fd, sig_fd, serial_fd, listen_fd, log_fd, events_fd;
	int clients[MAX_CLIENTS];
	struct qc_qmp *qmp;
	pid_t qemu_pid;
	int qemu_status;
	bool qemu_exited;
	uint64_t log_size;
	char shutdown_reason[64]; /* from the SHUTDOWN event, "" when none */
	struct qc_state st;
	struct qc_ready_scan ready; /* --ready-marker: first boot done (driver/ready.h) */
};

static int usage(const struct qc_error *err)
{
	fprintf(stderr, "qemuctl-monitor: %s\n"
			"usage: qemuctl-monitor --vm-dir DIR --run-dir DIR --notify-fd N "
			"[--keep-fd N]... [--accel A] [--accel-why T] [--uid U --gid G] "
			"-- QEMU-ARGV...\n"
			"(started by 'qemuctl start'; not meant to be run by hand)\n",
		err->msg);
	return 2;
}

static void notify(struct mon *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notify(struct mon *m, const char *fmt, ...)
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
}

static char *run_path(const struct mon *m, const char *sock)
{
	return qc_xasprintf("%s/%s", m->a.run_dir, sock);
}

/* ------------------------------------------------------------ QEMU child */

static const char *const qemu_sock_names[3] = {"qmp.sock", "events.sock", "serial.sock"};

/*
 * QEMU's listening sockets, made here so that QEMU needs no access to the
 * runtime dir, and so that they accept connections as soon as `start` has
 * them.  Kept above every fd number QEMU gets (taps start at 10).
 */
static int make_qemu_sockets(struct mon *m, struct qc_error *err)
{
	for (size_t i = 0; i < 3; i++) {
		cleanup_free char *path = run_path(m, qemu_sock_names[i]);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd, hi;

		if (strlen(path) >= sizeof(sa.sun_path))
			return qc_error_set(
				err, QC_ERR_INVALID, "socket path too long: '%s'", path);
		strcpy(sa.sun_path, path);
		(void) unlink(path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return qc_error_errno(err, errno, "socket");
		/* umask 0077: born 0700; 0600 before anyone can connect (listen). */
		if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
			listen(fd, 8) < 0) {
			int e = errno;

			close(fd);
			return qc_error_errno(err, e, "listen on '%s'", path);
		}
		hi = fcntl(fd, F_DUPFD_CLOEXEC, 200);
		close(fd);
		if (hi < 0)
			return qc_error_errno(err, errno, "fcntl");
		m->qemu_socks[i] = hi;
	}
	return 0;
}

static void close_qemu_sockets(struct mon *m)
{
	for (size_t i = 0; i < 3; i++)
		if (m->qemu_socks[i] >= 0) {
			close(m->qemu_socks[i]);
			m->qemu_socks[i] = -1;
		}
}

/* Between fork and exec: a fixed message on QEMU's stderr (qemu.log), then exit. */
static void __attribute__((noreturn)) child_die(const char *what)
{
	const char *pre = "qemuctl-monitor: cannot start QEMU: ";
	ssize_t r = write(2, pre, strlen(pre));

	r = write(2, what, strlen(what));
	r = write(2, "\n", 1);
	(void) r;
	_exit(125);
}

static int spawn_qemu(struct mon *m, struct qc_error *err)
{
	sigset_t none;
	pid_t parent = getpid();
	int null_fd, out_fd;
	pid_t pid;
	size_t i;
	int rc;

	if ((rc = make_qemu_sockets(m, err)) < 0)
		return rc;

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	out_fd = openat(m->vm_dfd, QC_VM_QEMU_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (null_fd < 0 || out_fd < 0)
		return qc_error_errno(err, errno, "open /dev/null or qemu.log");
	sigemptyset(&none);
	pid = fork();
	if (pid < 0) {
		rc = errno;
		close(null_fd);
		close(out_fd);
		return qc_error_errno(err, rc, "fork QEMU");
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
			_exit(125);
		syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
		for (i = 0; i < m->a.n_keep_fds; i++)
			fcntl(m->a.keep_fds[i], F_SETFD, 0);
		/* dup2() leaves the copies open across exec */
		for (i = 0; i < 3; i++)
			if (dup2(m->qemu_socks[i], QC_QEMU_FD_QMP + (int) i) < 0)
				child_die("dup2 of a listening socket failed");
		/*
		 * Every fd QEMU needs is open: now the drop.  Groups first (setgid
		 * and setgroups need the privilege setuid gives up).
		 */
		if (m->a.set_user) {
			if (setgroups(0, NULL) < 0)
				child_die("setgroups failed");
			if (setgid(m->a.gid) < 0)
				child_die("setgid failed");
			if (setuid(m->a.uid) < 0)
				child_die("setuid failed");
			if (m->a.uid != 0 && setuid(0) == 0)
				child_die("setuid(0) still works after the drop");
		}
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			child_die("PR_SET_NO_NEW_PRIVS failed");
		/*
		 * The rule: QEMU never outlives its monitor.  After the uid change,
		 * which clears the parent-death signal; the parent may have died
		 * before prctl(), and then nobody would signal us.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(125);
		execvp(m->a.qemu_argv[0], (char *const *) m->a.qemu_argv);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(null_fd);
	close(out_fd);
	/* Only QEMU holds them now: its death resets whoever waits in connect. */
	close_qemu_sockets(m);
	/* QEMU's files and taps too: a disk QEMU lets go of is not kept open here. */
	for (i = 0; i < m->a.n_keep_fds; i++)
		if (m->a.keep_fds[i] > 2)
			close(m->a.keep_fds[i]);
	m->a.n_keep_fds = 0;
	m->qemu_pid = pid;
	return 0;
}

static bool reap(struct mon *m)
{
	int status;
	pid_t p;

	/* A subreaper also inherits QEMU's own stray children: reap them all. */
	while ((p = waitpid(-1, &status, WNOHANG)) > 0)
		if (p == m->qemu_pid) {
			m->qemu_status = status;
			m->qemu_exited = true;
		}
	return m->qemu_exited;
}

static char *qemu_log_tail(struct mon *m)
{
	cleanup_free char *text = NULL;
	size_t len, start;
	char *p;

	if (qc_read_file(m->vm_dfd, QC_VM_QEMU_LOG, 1 << 20, &text, &len, NULL) < 0 || len == 0)
		return qc_xstrdup("(no output)");
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = 0;
	start = len > 400 ? len - 400 : 0;
	for (p = text + start; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return qc_xstrdup(text + start);
}

/* Connect to a unix socket QEMU listens on, retrying until it exists. */
static int connect_retry(
	struct mon *m, const char *path, int64_t deadline, int *ret_fd, struct qc_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(path) >= sizeof(sa.sun_path))
		return qc_error_set(err, QC_ERR_INVALID, "socket path too long: '%s'", path);
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return qc_error_errno(err, errno, "socket");
		if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
			if (qc_unix_peer_check(fd, "QEMU socket", path, err) < 0) {
				close(fd);
				return -EPERM;
			}
			*ret_fd = fd;
			return 0;
		}
		int e = errno;

		close(fd);
		if (e != ENOENT && e != ECONNREFUSED)
			return qc_error_errno(err, e, "connect '%s'", path);
		if (reap(m)) {
			char st[64];
			cleanup_free char *tail = qemu_log_tail(m);

			qc_format_wait_status(m->qemu_status, st, sizeof(st));
			return qc_error_set(
				err, QC_ERR_CHILD, "QEMU exited during start (%s): %s", st, tail);
		}
		if (qc_time_left_ms(deadline) == 0)
			return qc_error_set(err, ETIMEDOUT, "QEMU did not open '%s' within %d s",
				path, START_TIMEOUT_MS / 1000);
		/* QEMU listens within tens of ms; 1 ms steps keep start close to that. */
		qc_sleep_ms(1);
	}
}

/* ------------------------------------------------------------- console */

static void rotate_log(struct mon *m)
{
	cleanup_free char *old = qc_xasprintf("%s.1", QC_VM_CONSOLE_LOG);

	if (m->log_fd >= 0)
		close(m->log_fd);
	(void) renameat(m->vm_dfd, QC_VM_CONSOLE_LOG, m->vm_dfd, old);
	m->log_fd = openat(m->vm_dfd, QC_VM_CONSOLE_LOG,
		O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	m->log_size = 0;
}

/* events.jsonl is bounded like console.log: past the bound it moves to events.jsonl.1. */
static void rotate_events(struct mon *m)
{
	struct stat st;

	if (fstat(m->events_fd, &st) < 0 || (uint64_t) st.st_size <= QC_EVENTS_MAX)
		return;
	(void) renameat(m->vm_dfd, QC_VM_EVENTS, m->vm_dfd, QC_VM_EVENTS ".1");
	close(m->events_fd);
	m->events_fd = openat(m->vm_dfd, QC_VM_EVENTS,
		O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

static void append_event(struct mon *m, const char *name, int64_t at_ms, const qc_json *data,
	const char *k1, const char *v1, const char *k2, const char *v2);

/* The guest announced the end of first boot: state.json says so (atomically). */
static void record_ready(struct mon *m)
{
	struct qc_error err = {0};
	char after[32];

	m->st.ready = true;
	m->st.ready_at_ms = qc_realtime_ms();
	m->st.ready_after_ms = m->st.ready_at_ms - m->st.started_at_ms;
	if (qc_state_save_run(m->vm_dfd, &m->st, &err) < 0)
		fprintf(stderr, "qemuctl-monitor: %s\n", err.msg);
	snprintf(after, sizeof(after), "%lld", (long long) m->st.ready_after_ms);
	append_event(m, "QEMUCTL_READY", m->st.ready_at_ms, NULL, "after_ms", after, NULL, NULL);
}

static void console_output(struct mon *m, const char *buf, size_t n)
{
	size_t i;

	if (m->log_fd >= 0) {
		if (m->log_size + n > m->a.console_max)
			rotate_log(m);
		if (m->log_fd >= 0 && qc_write_all(m->log_fd, buf, n, NULL) == 0)
			m->log_size += n;
	}
	if (qc_ready_scan_feed(&m->ready, buf, n))
		record_ready(m);
	for (i = 0; i < MAX_CLIENTS; i++) {
		ssize_t w;

		if (m->clients[i] < 0)
			continue;
		/* A client that does not keep up loses output; the log keeps it. */
		w = send(m->clients[i], buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			close(m->clients[i]);
			m->clients[i] = -1;
		}
	}
}

/* Read what the serial socket has; false at EOF. */
static bool serial_readable(struct mon *m)
{
	char buf[16384];
	ssize_t n = read(m->serial_fd, buf, sizeof(buf));

	if (n > 0) {
		console_output(m, buf, (size_t) n);
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	close(m->serial_fd);
	m->serial_fd = -1;
	return false;
}

static int listen_console(struct mon *m, struct qc_error *err)
{
	cleanup_free char *path = run_path(m, "console.sock");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return qc_error_set(err, QC_ERR_INVALID, "socket path too long: '%s'", path);
	strcpy(sa.sun_path, path);
	(void) unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return qc_error_errno(err, errno, "socket");
	old = umask(0077);
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int e = errno;

		umask(old);
		close(fd);
		return qc_error_errno(err, e, "listen on '%s'", path);
	}
	umask(old);
	(void) chmod(path, 0600);
	m->listen_fd = fd;
	return 0;
}

static void accept_client(struct mon *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS; i++)
		if (m->clients[i] < 0) {
			m->clients[i] = fd;
			return;
		}
	close(fd);
}

static void client_readable(struct mon *m, size_t i)
{
	char buf[4096];
	ssize_t n = read(m->clients[i], buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(m->clients[i]);
		m->clients[i] = -1;
		return;
	}
	if (m->serial_fd >= 0)
		(void) send(m->serial_fd, buf, (size_t) n, MSG_NOSIGNAL);
}

/* -------------------------------------------------------------- events */

static void append_event(struct mon *m, const char *name, int64_t at_ms, const qc_json *data,
	const char *k1, const char *v1, const char *k2, const char *v2)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *line = NULL;
	char ts[40];
	size_t len;

	if (m->events_fd < 0)
		return;
	qc_format_time_utc(at_ms, ts, sizeof(ts));
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "timestamp", ts);
	qc_jgen_kstring(g, "event", name);
	qc_jgen_key(g, "data");
	if (data) {
		qc_jgen_value(g, data);
	} else {
		qc_jgen_map_open(g);
		if (k1 && v1)
			qc_jgen_kstring(g, k1, v1);
		if (k2 && v2)
			qc_jgen_kstring(g, k2, v2);
		qc_jgen_map_close(g);
	}
	qc_jgen_map_close(g);
	if (qc_jgen_finish(g, &line, &len, NULL) < 0)
		return;
	line = qc_xrealloc(line, len + 2);
	line[len++] = '\n';
	(void) qc_write_all(m->events_fd, line, len, NULL);
	rotate_events(m);
}

static void drain_events(struct mon *m)
{
	struct qc_qmp_event *ev;

	while (qc_qmp_pop_event(m->qmp, &ev) == 1) {
		int64_t at = ev->seconds >= 0 ? ev->seconds * 1000 + ev->microseconds / 1000
					      : qc_realtime_ms();

		if (strcmp(ev->name, "SHUTDOWN") == 0) {
			const char *r = qc_json_string(qc_json_get(ev->data, "reason"));

			snprintf(m->shutdown_reason, sizeof(m->shutdown_reason), "%s",
				r ? r : "unknown");
		}
		append_event(m, ev->name, at, ev->data, NULL, NULL, NULL, NULL);
		qc_qmp_event_free(ev);
	}
}

/* Read QMP; false once the connection is gone. */
static bool qmp_readable(struct mon *m)
{
	int rc = qc_qmp_read_available(m->qmp, NULL);

	drain_events(m);
	return rc >= 0;
}

/* -------------------------------------------------------------- the end */

static void record_exit(struct mon *m)
{
	struct qc_error err = {0};
	char st[64];
	int s = m->qemu_status;
	bool killed = faccessat(m->vm_dfd, "kill-requested", F_OK, 0) == 0;

	qc_format_wait_status(s, st, sizeof(st));
	free(m->st.exit_detail);
	m->st.exit_detail = NULL;
	m->st.exit_status = s;
	if (WIFSIGNALED(s)) {
		m->st.exit_reason = killed ? QC_EXIT_KILLED : QC_EXIT_CRASHED;
		m->st.exit_detail = qc_xstrdup(st);
	} else if (WIFEXITED(s) && WEXITSTATUS(s) != 0) {
		cleanup_free char *tail = qemu_log_tail(m);

		m->st.exit_reason = QC_EXIT_CRASHED;
		m->st.exit_detail = qc_xasprintf("%s: %s", st, tail);
	} else if (strcmp(m->shutdown_reason, "guest-shutdown") == 0) {
		m->st.exit_reason = QC_EXIT_POWEROFF;
	} else if (strcmp(m->shutdown_reason, "host-qmp-quit") == 0) {
		m->st.exit_reason = QC_EXIT_QUIT;
	} else if (strcmp(m->shutdown_reason, "host-signal") == 0) {
		m->st.exit_reason = QC_EXIT_HOST_SIGNAL;
	} else if (m->shutdown_reason[0]) {
		m->st.exit_reason = QC_EXIT_POWEROFF;
	} else {
		m->st.exit_reason = QC_EXIT_EXITED;
	}
	if (!m->st.exit_detail)
		m->st.exit_detail = qc_xstrdup(m->shutdown_reason[0] ? m->shutdown_reason : st);
	(void) unlinkat(m->vm_dfd, "kill-requested", 0);
	m->st.running = false;
	m->st.stopped_at_ms = qc_realtime_ms();
	append_event(m, "QEMUCTL_EXIT", m->st.stopped_at_ms, NULL, "reason",
		qc_exit_reason_name(m->st.exit_reason), "detail", m->st.exit_detail);
	if (qc_state_save_run(m->vm_dfd, &m->st, &err) < 0)
		fprintf(stderr, "qemuctl-monitor: %s\n", err.msg);
}

static void remove_run_dir(struct mon *m)
{
	static const char *const socks[] = {
		"qmp.sock", "events.sock", "serial.sock", "console.sock"};
	size_t i;

	for (i = 0; i < QC_ARRAY_SIZE(socks); i++) {
		cleanup_free char *p = run_path(m, socks[i]);

		(void) unlink(p);
	}
	(void) rmdir(m->a.run_dir);
}

/* Read what is left after QEMU exited: the SHUTDOWN event, the last output. */
static void drain_all(struct mon *m)
{
	int i;

	for (i = 0; i < 100 && m->serial_fd >= 0; i++)
		if (!serial_readable(m))
			break;
	if (m->qmp)
		(void) qmp_readable(m);
}

static void main_loop(struct mon *m)
{
	while (!m->qemu_exited) {
		struct pollfd p[4 + MAX_CLIENTS];
		int idx[4 + MAX_CLIENTS];
		nfds_t n = 0, k;
		size_t i;

		p[n] = (struct pollfd){.fd = m->sig_fd, .events = POLLIN};
		idx[n++] = -1;
		if (m->serial_fd >= 0) {
			p[n] = (struct pollfd){.fd = m->serial_fd, .events = POLLIN};
			idx[n++] = -2;
		}
		if (m->qmp && qc_qmp_check_alive(m->qmp, NULL) == 0) {
			p[n] = (struct pollfd){.fd = qc_qmp_fd(m->qmp), .events = POLLIN};
			idx[n++] = -3;
		}
		if (m->listen_fd >= 0) {
			p[n] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
			idx[n++] = -4;
		}
		for (i = 0; i < MAX_CLIENTS; i++)
			if (m->clients[i] >= 0) {
				p[n] = (struct pollfd){.fd = m->clients[i], .events = POLLIN};
				idx[n++] = (int) i;
			}
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < n; k++) {
			if (!p[k].revents)
				continue;
			switch (idx[k]) {
			case -1: {
				struct signalfd_siginfo si;

				while (read(m->sig_fd, &si, sizeof(si)) == sizeof(si))
					if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
						kill(m->qemu_pid, SIGTERM);
				reap(m);
				break;
			}
			case -2:
				serial_readable(m);
				break;
			case -3:
				qmp_readable(m);
				break;
			case -4:
				accept_client(m);
				break;
			default:
				if (m->clients[idx[k]] >= 0)
					client_readable(m, (size_t) idx[k]);
			}
		}
	}
}

static int setup(struct mon *m, struct qc_error *err)
{
	cleanup_free char *serial = run_path(m, "serial.sock");
	cleanup_free char *events = run_path(m, "events.sock");
	int64_t deadline = qc_deadline_ms(START_TIMEOUT_MS);
	sigset_t set;
	int rc, fd;

	m->vm_dfd = open(m->a.vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (m->vm_dfd < 0)
		return qc_error_errno(err, errno, "open '%s'", m->a.vm_dir);
	rc = qc_lock_open(m->vm_dfd, QC_VM_MONITOR_LOCK, LOCK_EX, 0, "monitor", &m->lock_fd, err);
	if (rc < 0)
		return qc_error_set(err, QC_ERR_BUSY, "another qemuctl-monitor runs this VM");
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
	rotate_log(m);
	m->events_fd = openat(m->vm_dfd, QC_VM_EVENTS,
		O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);

	if ((rc = spawn_qemu(m, err)) < 0)
		return rc;
	m->st.running = true;
	qc_state_boot_id(m->st.boot_id, sizeof(m->st.boot_id));
	m->st.monitor_pid = getpid();
	m->st.qemu_pid = m->qemu_pid;
	m->st.started_at_ms = qc_realtime_ms();
	m->st.accel = m->a.accel ? qc_xstrdup(m->a.accel) : NULL;
	m->st.accel_why = m->a.accel_why ? qc_xstrdup(m->a.accel_why) : NULL;
	m->st.run_dir = qc_xstrdup(m->a.run_dir);
	m->st.qemu_binary = qc_xstrdup(m->a.qemu_argv[0]);
	if (m->a.n_ports) {
		m->st.ports = qc_xzalloc(m->a.n_ports * sizeof(unsigned));
		memcpy(m->st.ports, m->a.ports, m->a.n_ports * sizeof(unsigned));
		m->st.n_ports = m->a.n_ports;
	}
	if ((rc = qc_state_save_nosync(m->vm_dfd, &m->st, err)) < 0)
		return rc;

	if ((rc = connect_retry(m, serial, deadline, &m->serial_fd, err)) < 0)
		return rc;
	fcntl(m->serial_fd, F_SETFL, O_NONBLOCK);
	if ((rc = connect_retry(m, events, deadline, &fd, err)) < 0)
		return rc;
	if ((rc = qc_qmp_open_fd(fd, qc_time_left_ms(deadline), &m->qmp, err)) < 0)
		return qc_error_prefix(err, "event QMP");
	/*
	 * --cont: let the CPUs run from here, on the connection that is already
	 * negotiated; the CLI would otherwise connect, read the greeting and
	 * negotiate a second one only to send this (about 5 ms of start).
	 */
	if (m->a.cont && (rc = qc_qmp_execute(m->qmp, "cont", NULL, qc_time_left_ms(deadline),
				NULL, err)) < 0)
		return qc_error_prefix(err, "cont");
	if ((rc = listen_console(m, err)) < 0)
		return rc;
	append_event(m, "QEMUCTL_START", m->st.started_at_ms, NULL, "accel", m->a.accel, "accel_why",
		m->a.accel_why);
	return 0;
}

int main(int argc, char **argv)
{
	struct mon m = {.vm_dfd = -1,
		.lock_fd = -1,
		.sig_fd = -1,
		.serial_fd = -1,
		.listen_fd = -1,
		.log_fd = -1,
		.events_fd = -1,
		.qemu_socks = {-1, -1, -1}};
	struct qc_error err = {0};
	pid_t pid;
	size_t i;

	for (i = 0; i < MAX_CLIENTS; i++)
		m.clients[i] = -1;
	qc_state_clear(&m.st);
	if (qc_monitor_args_from_argv(argc, argv, &m.a, &err) < 0)
		return usage(&err);
	for (i = 0; i < m.a.n_ready_markers; i++)
		m.ready.markers[m.ready.n_markers++] = m.a.ready_markers[i];
	if (m.a.console_max < 64)
		m.a.console_max = QC_CONSOLE_LOG_MAX;
	if (m.a.set_user && m.a.uid > 0) /* QEMU calls listen() again on the sockets it gets */
		qc_unix_peer_allow(m.a.uid);

	/* Detach: the CLI reaps the first process at once; the second lives on. */
	pid = fork();
	if (pid < 0) {
		notify(&m, "ERR fork: %s", strerror(errno));
		return 1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	/* QEMU's sockets and every file we create: owner only. */
	umask(0077);

	if (setup(&m, &err) < 0) {
		int k;

		/* QEMU failing on its own (a missing kernel...) says why in qemu.log. */
		for (k = 0; k < 300 && m.qemu_pid > 0 && !reap(&m); k++)
			qc_sleep_ms(1);
		if (m.qemu_pid > 0 && m.qemu_exited && err.code != QC_ERR_CHILD) {
			char st[64];
			cleanup_free char *tail = qemu_log_tail(&m);

			qc_format_wait_status(m.qemu_status, st, sizeof(st));
			qc_error_set(
				&err, QC_ERR_CHILD, "QEMU exited during start (%s): %s", st, tail);
		} else if (m.qemu_pid > 0 && !m.qemu_exited) {
			kill(m.qemu_pid, SIGKILL);
			while (!reap(&m))
				qc_sleep_ms(1);
		}
		/*
		 * The record first, then the monitor's lock, then the CLI: a start or
		 * list right after the failed start must find the VM stopped, not
		 * "already running" on the lock of a monitor still on its way out.
		 */
		if (m.vm_dfd >= 0 && m.lock_fd >= 0) {
			m.st.running = false;
			m.st.exit_reason = QC_EXIT_START_FAILED;
			free(m.st.exit_detail);
			m.st.exit_detail = qc_xstrdup(err.msg);
			m.st.stopped_at_ms = qc_realtime_ms();
			(void) qc_state_save_nosync(m.vm_dfd, &m.st, NULL);
			remove_run_dir(&m);
		}
		if (m.lock_fd >= 0) {
			close(m.lock_fd);
			m.lock_fd = -1;
		}
		notify(&m, "ERR %s", err.msg);
		qc_qmp_close(m.qmp);
		qc_state_clear(&m.st);
		return 1;
	}
	notify(&m, "OK %d", (int) m.qemu_pid);
	main_loop(&m);
	drain_all(&m);
	record_exit(&m);
	for (i = 0; i < MAX_CLIENTS; i++)
		if (m.clients[i] >= 0)
			close(m.clients[i]);
	qc_qmp_close(m.qmp);
	remove_run_dir(&m);
	qc_state_clear(&m.st);
	return 0;
}
