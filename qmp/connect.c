/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP connection to QEMU's unix socket: connect, retried while QEMU has not
 * bound or listened yet (optionally watching a pipe that says QEMU is gone),
 * the listener's uid checked before a byte is sent, then the connection is
 * opened: QEMU's greeting read (io.c) and capabilities negotiated.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

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

int qc_qmp_connect(const char *path, int timeout_ms, struct qc_qmp **ret, struct qc_error *err)
{
	return qc_qmp_connect_watch(path, -1, timeout_ms, ret, err);
}

int qc_qmp_connect_watch(
	const char *path, int watch_fd, int timeout_ms, struct qc_qmp **ret, struct qc_error *err)
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
	return qc_qmp_open_fd(TAKE_FD(fd), left, ret, err);
}

int qc_qmp_open_fd(int fd, int timeout_ms, struct qc_qmp **ret, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);
	cleanup_qmp struct qc_qmp *q = NULL;
	int r;

	if ((r = qc_qmp_greet_fd(fd, timeout_ms, &q, err)) < 0)
		return r;
	/* Negotiate with what is left of the same deadline. */
	if ((r = qc_qmp_execute(
		     q, "qmp_capabilities", NULL, qc_time_left_ms(deadline), NULL, err)) < 0)
		return r;
	*ret = TAKE_PTR(q);
	return 0;
}
