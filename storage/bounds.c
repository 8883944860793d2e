/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How many bytes a download or a decompression may write into images/:
 * the --max-size in force, and never more than the file system's free
 * space minus a margin, so a hostile server or a decompression bomb stops
 * with a clear error instead of filling the disk.
 */
#include "config.h"

#include <errno.h>
#include <sys/statvfs.h>

#include "storage/storage.h"

int qc_bound_init(struct qc_bound *b, int fd, uint64_t max_size, struct qc_error *err)
{
	struct statvfs sv;
	uint64_t avail;

	if (fstatvfs(fd, &sv) < 0)
		return qc_error_errno(err, errno, "statvfs of images/");
	avail = (uint64_t) sv.f_bavail * (uint64_t) sv.f_frsize;
	/* A 32nd of a small file system, so a 16 MiB one still takes a small image. */
	b->margin = (uint64_t) sv.f_blocks * (uint64_t) sv.f_frsize / 32;
	if (b->margin > QC_SPACE_MARGIN)
		b->margin = QC_SPACE_MARGIN;
	b->max_size = max_size ? max_size : QC_IMAGE_MAX_SIZE_DEFAULT;
	b->room = avail > b->margin ? avail - b->margin : 0;
	b->max = b->max_size < b->room ? b->max_size : b->room;
	return 0;
}

int qc_bound_error(const struct qc_bound *b, const char *what, const char *verb,
	struct qc_error *err)
{
	char lim[32], margin[32];

	if (b->max_size <= b->room) {
		qc_format_size(b->max_size, lim, sizeof(lim));
		return qc_error_set(err, EFBIG,
			"%s %s more than %s (%llu bytes), the --max-size limit; nothing was "
			"kept; give a larger --max-size if this image really is that big",
			what, verb, lim, (unsigned long long) b->max_size);
	}
	qc_format_size(b->room, lim, sizeof(lim));
	qc_format_size(b->margin, margin, sizeof(margin));
	return qc_error_errno(err, ENOSPC,
		"%s %s more than the %s (%llu bytes) the file system of images/ has free "
		"(keeping %s spare); nothing was kept",
		what, verb, lim, (unsigned long long) b->room, margin);
}
