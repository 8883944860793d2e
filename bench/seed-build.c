/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/seed-build OUT.iso META USER NET: the seed writer alone, the same
 * work `qemuctl seed build --meta-data --user-data --network-config` does
 * (read, check, build the ISO, write it by temp file + rename), in a binary
 * that links only util/ and cloudinit/.  bench/seed.sh times it next to
 * qemuctl, to separate the writer's cost from qemuctl's start-up.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "cloudinit/cloudinit.h"

int main(int argc, char **argv)
{
	static const char *const names[] = {"meta-data", "user-data", "network-config"};
	int (*const check[])(const char *, const char *, size_t, struct qc_error *) = {
		qc_cloudinit_check_meta_data, qc_cloudinit_check_user_data,
		qc_cloudinit_check_network_config};
	struct qc_iso_entry e[3];
	char *data[3] = {NULL};
	struct qc_error err = {0};

	if (argc != 5) {
		fprintf(stderr, "usage: seed-build OUT.iso META-DATA USER-DATA NETWORK-CONFIG\n");
		return 2;
	}
	for (int i = 0; i < 3; i++) {
		size_t len;

		if (qc_read_file(AT_FDCWD, argv[2 + i], QC_SEED_USER_DATA_MAX, &data[i], &len,
			    &err) < 0 ||
			check[i](argv[2 + i], data[i], len, &err) < 0) {
			fprintf(stderr, "seed-build: %s\n", err.msg);
			return 1;
		}
		e[i] = (struct qc_iso_entry){.path = names[i], .data = data[i], .len = len};
	}
	struct qc_iso_opts o = {.no_fsync = true}; /* as qc_seed_build() writes */

	if (qc_cloudinit_iso_write(AT_FDCWD, argv[1], e, 3, &o, &err) < 0) {
		fprintf(stderr, "seed-build: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < 3; i++)
		free(data[i]);
	return 0;
}
