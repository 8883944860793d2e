/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The files QEMU gets as descriptors (driver/fdpass.c): opened by the
 * caller, handed to QEMU through fd sets, so QEMU opens no path.
 */
#ifndef QC_DRIVER_FDPASS_H
#define QC_DRIVER_FDPASS_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/domain.h"
#include "driver/snapshot_meta.h"

/* QEMU gets the files as QC_QEMU_FD_FILES, +1... (driver/qemu_fds.h) */
#define QC_FDPASS_MAX 96 /* files one VM can pass at start (below QC_MONITOR_FD_OWN) */
#define QC_CHAIN_MAX 64 /* layers in one disk's chain */

/* One layer of a disk's chain as the definition and the snapshot records say. */
struct qc_chain_layer {
	const char *path; /* points into the domain or the snapshot records */
	const char *format;
};

/*
 * Disk i's chain: [0] its file, then its backing files downwards, as
 * domain.xml (the disk's backing) and the snapshot records (each frozen
 * layer's backing) name them; never as an image header names them.  A
 * path met twice, or more than QC_CHAIN_MAX layers, is an error.
 */
int qc_driver_disk_chain(const struct qc_domain *d, const struct qc_snaps *snaps, size_t i,
	struct qc_chain_layer *ret, size_t *ret_n, struct qc_error *err);

/*
 * Open one file of the VM for QEMU: a regular file or block device,
 * O_CLOEXEC, a file in the VM's directory (vm_dir/NAME) through vm_dfd
 * with O_NOFOLLOW.  A qcow2 file is checked from its header: no external
 * data file (QEMU would open it by path) and, when no_backing, no backing
 * file named (the chain QEMU gets ends here).  As root with QEMU confined, a
 * file outside the VM's directory that QEMU's user could not open itself
 * must lie where only root can have put it (EACCES otherwise).
 */
int qc_driver_fdpass_open_file(int vm_dfd, const char *vm_dir, const char *what, const char *path,
	const char *format, bool writable, bool no_backing, int *ret_fd, struct qc_error *err);

/* Everything a start hands QEMU; fds[i] becomes QEMU's QC_QEMU_FD_FILES + i, in qfds[i].set. */
struct qc_fdpass {
	int fds[QC_FDPASS_MAX];
	struct qc_argv_fd qfds[QC_FDPASS_MAX];
	char *notes[QC_FDPASS_MAX];
	char *paths[QC_FDPASS_MAX]; /* a disk layer's file, else NULL */
	size_t n;
	int n_sets; /* sets are 1..n_sets */
	struct qc_argv_disk *disks; /* one per disk of the domain */
	struct qc_argv_layer *layers; /* what disks point into */
	int loader_set, nvram_set; /* 0: none */
};
/* Open every disk layer, the seed, the UEFI code and varstore of d as the caller. */
int qc_driver_fdpass_open(const struct qc_domain *d, int vm_dfd, const char *vm_dir,
	struct qc_fdpass *ret, struct qc_error *err);
void qc_driver_fdpass_clear(struct qc_fdpass *p);

#endif
