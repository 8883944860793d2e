/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU as the monitor's child: its listening sockets (made here, handed
 * over as fds, so QEMU needs no access to the runtime dir), its start
 * through qc_spawn (util/spawn.c) as another user with every fd in place,
 * reaping it, the tail of its log, and connecting to the sockets it
 * listens on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

static const char *const qemu_sock_names[4] = {
	"qmp.sock", "events.sock", "serial.sock", "qga.sock"};
/* Their numbers in QEMU. */
static const int qemu_sock_fds[4] = {
	QC_QEMU_FD_QMP, QC_QEMU_FD_EVENTS, QC_QEMU_FD_SERIAL, QC_QEMU_FD_QGA};

int qc_monitor_listen_unix(const char *path, int *ret_fd, struct qc_error *err)
{
	int fd, hi;

	if ((fd = qc_unix_listen(path, 0, 8, err)) < 0)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, QC_MONITOR_FD_OWN);
	close(fd);
	if (hi < 0)
		return qc_error_errno(err, errno, "fcntl");
	*ret_fd = hi;
	return 0;
}

/*
 * QEMU's listening sockets, made here so that QEMU needs no access to the
 * runtime dir, and so that they accept connections as soon as `start` has
 * them.
 */
static int make_qemu_sockets(struct qc_monitor *m, struct qc_error *err)
{
	for (size_t i = 0; i < QC_ARRAY_SIZE(qemu_sock_names); i++) {
		cleanup_free char *path = qc_monitor_run_path(m, qemu_sock_names[i]);
		int rc;

		if ((rc = qc_monitor_listen_unix(path, &m->qemu_socks[i], err)) < 0)
			return rc;
	}
	return 0;
}

static void close_qemu_sockets(struct qc_monitor *m)
{
	for (size_t i = 0; i < QC_ARRAY_SIZE(m->qemu_socks); i++)
		if (m->qemu_socks[i] >= 0) {
			close(m->qemu_socks[i]);
			m->qemu_socks[i] = -1;
		}
}

void qc_monitor_confined_spawn(struct qc_monitor *m, struct qc_spawn_opts *so, int log_fd)
{
	so->in = QC_STDIO_NULL;
	so->out = so->errout = QC_STDIO_FD;
	so->out_fd = so->err_fd = log_fd;
	so->set_user = m->a.set_user;
	so->uid = m->a.uid;
	so->gid = m->a.gid;
	so->no_new_privs = true;
	so->pdeathsig = SIGKILL;
}

/*
 * QEMU gets /dev/null as stdin, qemu.log as stdout and stderr, its three
 * listening sockets at QC_QEMU_FD_QMP.., the kept fds at their numbers
 * and nothing else.  With --uid/--gid it drops to that user (no
 * supplementary groups) once every fd is in place, then no new privileges
 * and the rule that QEMU never outlives its monitor: SIGKILL when the
 * monitor dies (set after the uid change, which clears it).
 */
int qc_monitor_spawn_qemu(struct qc_monitor *m, struct qc_error *err)
{
	struct qc_fdmap map[QC_ARRAY_SIZE(qemu_sock_fds) + QC_MONITOR_MAX_FDS + 1];
	struct qc_spawn_opts so = {0};
	cleanup_close int out_fd = -1;
	size_t n_map = 0, i;
	pid_t pid;
	int rc;

	if ((rc = make_qemu_sockets(m, err)) < 0)
		return rc;
	out_fd = openat(m->vm_dfd, QC_VM_QEMU_LOG,
		O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out_fd < 0)
		return qc_error_errno(err, errno, "open %s", QC_VM_QEMU_LOG);
	for (i = 0; i < QC_ARRAY_SIZE(qemu_sock_fds); i++)
		map[n_map++] = (struct qc_fdmap){.src = m->qemu_socks[i], .dst = qemu_sock_fds[i]};
	for (i = 0; i < m->a.n_keep_fds; i++)
		map[n_map++] = (struct qc_fdmap){.src = m->a.keep_fds[i], .dst = m->a.keep_fds[i]};
	if (m->tpm_dir_fd >= 0)
		map[n_map++] = (struct qc_fdmap){.src = m->tpm_dir_fd, .dst = QC_QEMU_FD_TPM};
	qc_monitor_confined_spawn(m, &so, out_fd);
	so.argv = m->a.qemu_argv;
	so.fds = map;
	so.n_fds = n_map;
	qc_step_time("monitor:qemu-spawn");
	if ((rc = qc_spawn_start(&so, &pid, NULL, err)) < 0) {
		/* qemu.log says why, as it does when QEMU itself fails. */
		(void) dprintf(out_fd, "qemuctl-monitor: cannot start QEMU: %s\n", err->msg);
		return qc_error_prefix(err, "cannot start QEMU");
	}
	/* Only QEMU holds them now: its death resets whoever waits in connect. */
	close_qemu_sockets(m);
	if (m->tpm_dir_fd >= 0) {
		close(m->tpm_dir_fd);
		m->tpm_dir_fd = -1;
	}
	/* QEMU's files and taps too: a disk QEMU lets go of is not kept open here. */
	for (i = 0; i < m->a.n_keep_fds; i++)
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
		} else if (p == m->swtpm_pid) {
			m->swtpm_status = status;
			m->swtpm_exited = true;
		}
	return m->qemu_exited;
}

char *qc_monitor_qemu_log_tail(struct qc_monitor *m)
{
	return qc_monitor_log_tail(m, QC_VM_QEMU_LOG);
}

char *qc_monitor_log_tail(struct qc_monitor *m, const char *file)
{
	cleanup_free char *text = NULL;
	size_t len, start;
	char *p;

	if (qc_read_file(m->vm_dfd, file, 1 << 20, &text, &len, NULL) < 0 || len == 0)
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
