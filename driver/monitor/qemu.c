/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU as the monitor's child: its listening sockets (made here, handed
 * over as fds, so QEMU needs no access to the runtime dir), its start as
 * another user with every fd in place, reaping it, the tail of its log,
 * and connecting to the sockets it listens on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *const qemu_sock_names[3] = {"qmp.sock", "events.sock", "serial.sock"};

/*
 * QEMU's listening sockets, made here so that QEMU needs no access to the
 * runtime dir, and so that they accept connections as soon as `start` has
 * them.  Kept above every fd number QEMU gets (taps start at 10).
 */
static int make_qemu_sockets(struct qc_monitor *m, struct qc_error *err)
{
	for (size_t i = 0; i < 3; i++) {
		cleanup_free char *path = qc_monitor_run_path(m, qemu_sock_names[i]);
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

static void close_qemu_sockets(struct qc_monitor *m)
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

int qc_monitor_spawn_qemu(struct qc_monitor *m, struct qc_error *err)
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

bool qc_monitor_reap(struct qc_monitor *m)
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

char *qc_monitor_qemu_log_tail(struct qc_monitor *m)
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
int qc_monitor_connect_qemu(
	struct qc_monitor *m, const char *path, int64_t deadline, int *ret_fd, struct qc_error *err)
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
		if (qc_monitor_reap(m)) {
			char st[64];
			cleanup_free char *tail = qc_monitor_qemu_log_tail(m);

			qc_format_wait_status(m->qemu_status, st, sizeof(st));
			return qc_error_set(
				err, QC_ERR_CHILD, "QEMU exited during start (%s): %s", st, tail);
		}
		if (qc_time_left_ms(deadline) == 0)
			return qc_error_set(err, ETIMEDOUT, "QEMU did not open '%s' within %d s",
				path, QC_MONITOR_START_TIMEOUT_MS / 1000);
		/* QEMU listens within tens of ms; 1 ms steps keep start close to that. */
		qc_sleep_ms(1);
	}
}
