/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seed-mkiso OUT.iso DIR: an ISO of a whole directory tree through
 * cloudinit/iso.c (files with their permission bits, empty directories
 * too), for the integration tests that have a real kernel read it back.
 */
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cloudinit/cloudinit.h"

static struct qc_iso_entry *entries;
static size_t n_entries, root_len;
static struct qc_error err;

static int add(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct qc_iso_entry *e;
	size_t len = 0;
	char *data = NULL;

	if (ftw->level == 0)
		return 0;
	if (type != FTW_F && type != FTW_D)
		return 0;
	if (type == FTW_F && qc_read_file(AT_FDCWD, path, 64u << 20, &data, &len, &err) < 0)
		return 1;
	entries = qc_xrealloc(entries, (n_entries + 1) * sizeof(*entries));
	e = &entries[n_entries++];
	*e = (struct qc_iso_entry){.path = qc_xstrdup(path + root_len + 1),
		.data = data,
		.len = len,
		.mode = st->st_mode & 07777,
		.dir = type == FTW_D};
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: seed-mkiso OUT.iso DIR\n");
		return 2;
	}
	root_len = strlen(argv[2]);
	while (root_len > 1 && argv[2][root_len - 1] == '/')
		root_len--;
	if (nftw(argv[2], add, 16, FTW_PHYS) != 0) {
		fprintf(stderr, "seed-mkiso: %s\n",
			err.msg[0] ? err.msg : "cannot walk the directory");
		return 1;
	}
	if (qc_cloudinit_iso_write(AT_FDCWD, argv[1], entries, n_entries, NULL, &err) < 0) {
		fprintf(stderr, "seed-mkiso: %s\n", err.msg);
		return 1;
	}
	return 0;
}
