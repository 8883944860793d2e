/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * flock() helpers with a deadline.  flock() has no timeout of its own and
 * SIGALRM tricks do not mix with libraries that run threads, so we poll
 * LOCK_NB with short sleeps until the deadline.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/util.h"

int qc_flock_timeout(int fd, int op, int timeout_ms, const char *what, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);
	int sleep_ms = 1;

	if (!what)
		what = "lock";
	if (op != LOCK_SH && op != LOCK_EX)
		return qc_error_set(err, EINVAL, "%s: bad lock operation %d", what, op);
	if (timeout_ms < 0) {
		while (flock(fd, op) < 0) {
			if (errno != EINTR)
				return qc_error_errno(err, errno, "%s: flock", what);
		}
		return 0;
	}
	for (;;) {
		int left;

		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return qc_error_errno(err, errno, "%s: flock", what);
		left = qc_time_left_ms(deadline);
		if (left == 0)
			break;
		/* Back off from 1 ms to 50 ms: quick for short holds, cheap for long ones. */
		qc_sleep_ms(left < sleep_ms ? left : sleep_ms);
		if (sleep_ms < 50)
			sleep_ms *= 2;
	}
	if (timeout_ms == 0)
		return qc_error_set(err, QC_ERR_BUSY,
			"%s is busy: another process holds its lock; try again when it is done",
			what);
	return qc_error_set(err, QC_ERR_BUSY,
		"%s is busy: another process held its lock for %d.%d s; try again when it is done",
		what, timeout_ms / 1000, (timeout_ms % 1000) / 100);
}

int qc_lock_open(int dirfd, const char *name, int op, int timeout_ms, const char *what, int *ret_fd,
	struct qc_error *err)
{
	cleanup_close int fd = -1;
	int r;

	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return qc_error_errno(
			err, errno, "%s: open lock file '%s'", what ? what : "lock", name);
	if ((r = qc_flock_timeout(fd, op, timeout_ms, what, err)) < 0)
		return r;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int qc_lock_is_held(int dirfd, const char *name)
{
	cleanup_close int fd = -1;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (;;) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			return 0; /* released by the close: fd is this file description's only one */
		if (errno == EWOULDBLOCK)
			return 1;
		if (errno != EINTR)
			return -errno;
	}
}
