/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP connection to QEMU's unix socket: connect, retried while QEMU has not
 * bound or listened yet (optionally watching a pipe that says QEMU is gone),
 * the listener's uid checked before a byte is sent, then the connection is
 * opened: qmp_capabilities (and any commands asked for with it) sent at
 * once, QEMU's greeting checked as it arrives (io.c), the replies awaited.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp/qmp.h"

/* Sleep up to ms, or less when watch_fd says QEMU is gone: 1 = gone. */
static int nap(int watch_fd, int ms)
{
	struct pollfd p = {.fd = watch_fd, .events = POLLIN};

	if (watch_fd < 0) {
		qc_sleep_ms(ms);
		return 0;
	}
	/* EINTR: the caller's loop recomputes the time left. */
	return poll(&p, 1, ms) > 0 && p.revents != 0;
}

/*
 * Connect to path by deadline and check who listens there: *ret_fd is the
 * socket, *ret_left the milliseconds left for the greeting.
 */
static int connect_socket(const char *path, int watch_fd, int timeout_ms, int *ret_fd,
	int *ret_left, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_close int fd = -1;
	int left, pause = 1;

	if (!path || !*path)
		return qc_error_set(err, QC_ERR_INVALID, "QMP socket: no path");
	if (strlen(path) >= sizeof(sa.sun_path))
		return qc_error_set(err, ENAMETOOLONG,
			"QMP socket '%s': path longer than %zu bytes; use a shorter runtime "
			"directory",
			path, sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return qc_error_errno(err, errno, "QMP socket '%s': socket", path);
	for (;;) {
		int e;

		if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
			break;
		e = errno;
		if (e == EINTR)
			continue;
		if (e == EINPROGRESS) {
			/* Not seen on unix sockets; handled for completeness. */
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			socklen_t sl = sizeof(e);

			left = qc_time_left_ms(deadline);
			if (left == 0 || poll(&p, 1, left) <= 0)
				return qc_error_set(err, ETIMEDOUT,
					"QMP socket '%s': connect: no answer within %d ms", path,
					timeout_ms);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
				e = errno;
			if (e == 0)
				break;
			return qc_error_errno(err, e, "QMP socket '%s': connect", path);
		}
		/* QEMU creates, binds and listens a moment after exec;
		 * EAGAIN: its backlog is full. */
		if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN)
			return qc_error_errno(err, e, "QMP socket '%s': connect", path);
		left = qc_time_left_ms(deadline);
		if (left == 0)
			return qc_error_errno(err, e,
				"QMP socket '%s': connect (gave up after %d ms)", path, timeout_ms);
		/* 1, 2, 4, 8, 10, 10... ms: QEMU is usually listening within ~20 ms. */
		if (nap(watch_fd, left < 0 || left > pause ? pause : left))
			return qc_error_set(err, QC_ERR_EOF,
				"QMP socket '%s': QEMU exited before accepting connections", path);
		pause = pause >= 5 ? 10 : pause * 2;
	}
	/* Before a byte either way: who listens there must be one of us. */
	if ((left = qc_unix_peer_check(fd, "QMP socket", path, err)) < 0)
		return left;
	left = qc_time_left_ms(deadline);
	if (left == 0)
		return qc_error_set(err, ETIMEDOUT, "QMP socket '%s': no greeting within %d ms",
			path, timeout_ms);
	*ret_fd = TAKE_FD(fd);
	*ret_left = left;
	return 0;
}

int qc_qmp_connect(const char *path, int timeout_ms, struct qc_qmp **ret, struct qc_error *err)
{
	return qc_qmp_connect_watch(path, -1, timeout_ms, ret, err);
}

int qc_qmp_connect_watch(
	const char *path, int watch_fd, int timeout_ms, struct qc_qmp **ret, struct qc_error *err)
{
	int fd, left, r;

	if ((r = connect_socket(path, watch_fd, timeout_ms, &fd, &left, err)) < 0)
		return r;
	return qc_qmp_open_fd(fd, left, ret, err);
}

int qc_qmp_connect_all(const char *path, const char *const *cmds, size_t n, int timeout_ms,
	struct qc_qmp **ret, qc_json **rets, struct qc_error *err)
{
	int fd, left, r;

	if ((r = connect_socket(path, -1, timeout_ms, &fd, &left, err)) < 0)
		return r;
	return qc_qmp_open_fd_all(fd, cmds, n, left, ret, rets, err);
}

int qc_qmp_open_fd(int fd, int timeout_ms, struct qc_qmp **ret, struct qc_error *err)
{
	return qc_qmp_open_fd_all(fd, NULL, 0, timeout_ms, ret, NULL, err);
}

int qc_qmp_open_fd_all(int fd, const char *const *cmds, size_t n, int timeout_ms,
	struct qc_qmp **ret, qc_json **rets, struct qc_error *err)
{
	const char *all[QC_QMP_MAX_BATCH] = {"qmp_capabilities"};
	qc_json *rv[QC_QMP_MAX_BATCH] = {NULL};
	cleanup_qmp struct qc_qmp *q = NULL;
	int r;

	if (n >= QC_QMP_MAX_BATCH || (n && (!cmds || !rets))) {
		if (fd >= 0)
			close(fd);
		if (n < QC_QMP_MAX_BATCH)
			return qc_error_set(err, QC_ERR_INVALID,
				"QMP: %zu commands with the connection, but no list of them or "
				"of their results",
				n);
		return qc_error_set(err, QC_ERR_INVALID,
			"QMP: %zu commands with the connection (at most %d)", n,
			QC_QMP_MAX_BATCH - 1);
	}
	for (size_t i = 0; i < n; i++)
		rets[i] = NULL;
	if ((r = qc_qmp_adopt_fd(fd, &q, err)) < 0)
		return r;
	/* qmp_capabilities and the commands in one write, before the greeting is read. */
	for (size_t i = 0; i < n; i++)
		all[i + 1] = cmds[i];
	if ((r = qc_qmp_execute_all(q, all, n + 1, timeout_ms, rv, err)) < 0)
		return r;
	qc_json_free(rv[0]);
	for (size_t i = 0; i < n; i++)
		rets[i] = rv[i + 1];
	*ret = TAKE_PTR(q);
	return 0;
}
