/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A seed ISO (built by iso.c) written to its file: atomically, durable or,
 * for an output the user can rebuild, without fsync.
 */
#include "config.h"

#include <stdlib.h>

#include "cloudinit/cloudinit.h"

int qc_cloudinit_iso_write(int dirfd, const char *name, const struct qc_iso_entry *entries,
	size_t n, const struct qc_iso_opts *opts, struct qc_error *err)
{
	cleanup_free uint8_t *img = NULL;
	size_t len = 0;
	unsigned flags;
	int r;

	if ((r = qc_cloudinit_iso_build(entries, n, opts, &img, &len, err)) < 0)
		return r;
	/* no_fsync: an output for the user, like cp's, so the umask applies too */
	flags = opts && opts->no_fsync ? QC_WRITE_NOSYNC | QC_WRITE_UMASK : 0;
	r = qc_write_atomic_at(dirfd, name, img, len, 0644, flags, err);
	if (r < 0)
		return qc_error_prefix(err, "seed ISO '%s'", name);
	return 0;
}
