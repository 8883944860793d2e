/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A seed ISO (built by iso.c) written to its file: atomically, or, for
 * callers that sync later, by a temp file and a rename without fsync.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"

/* Temp file in the same directory, write, rename: readers never see half an image. */
static int write_rename(
	int dirfd, const char *name, const void *buf, size_t len, struct qc_error *err)
{
	static unsigned counter;
	const char *slash = strrchr(name, '/');
	cleanup_free char *tmp = NULL;
	int fd, r;

	tmp = slash ? qc_xasprintf("%.*s/.%s.tmp-%ld-%u", (int) (slash - name), name, slash + 1,
			      (long) getpid(), counter++)
		    : qc_xasprintf(".%s.tmp-%ld-%u", name, (long) getpid(), counter++);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return qc_error_errno(err, errno, "create '%s'", tmp);
	if ((r = qc_write_all(fd, buf, len, err)) < 0) {
		close(fd);
		(void) unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (close(fd) < 0) {
		r = qc_error_errno(err, errno, "close '%s'", tmp);
		(void) unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = qc_error_errno(err, errno, "rename '%s' to '%s'", tmp, name);
		(void) unlinkat(dirfd, tmp, 0);
		return r;
	}
	return 0;
}

int qc_cloudinit_iso_write(int dirfd, const char *name, const struct qc_iso_entry *entries,
	size_t n, const struct qc_iso_opts *opts, struct qc_error *err)
{
	cleanup_free uint8_t *img = NULL;
	size_t len = 0;
	int r;

	if ((r = qc_cloudinit_iso_build(entries, n, opts, &img, &len, err)) < 0)
		return r;
	if (opts && opts->no_fsync)
		r = write_rename(dirfd, name, img, len, err);
	else
		r = qc_write_atomic(dirfd, name, img, len, 0644, err);
	if (r < 0)
		return qc_error_prefix(err, "seed ISO '%s'", name);
	return 0;
}
