/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unprivileged user QEMU runs as (driver/confine.c). */
#ifndef QC_DRIVER_CONFINE_H
#define QC_DRIVER_CONFINE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "driver/domain.h"

#define QC_CONFINE_DEFAULT_USER "qemuctl"

struct qc_confine {
	bool active; /* QEMU drops to uid:gid */
	bool missing; /* the user does not exist (only when not asked to create it) */
	bool created; /* qc_driver_confine_user made it now */
	uid_t uid;
	gid_t gid;
	char name[64];
	const char *why; /* when not active and not missing: why QEMU keeps our uid */
};

/* $QEMUCTL_USER, else "qemuctl". */
const char *qc_driver_confine_user_name(void);
/*
 * Who QEMU runs as.  Not active when qemuctl is not root or the user is
 * root/none.  create: a missing user is created (useradd --system).
 */
int qc_driver_confine_user(bool create, struct qc_confine *ret, struct qc_error *err);
/* The credentials of a running QEMU (/proc/PID/status); not active when they are ours. */
int qc_driver_confine_of_pid(pid_t pid, struct qc_confine *ret);
/*
 * Before start: the VM's directory 0700 and its files the caller's 0600
 * (QEMU gets them as fds, driver/fdpass.c); kernel and initrd opened for
 * QEMU to inherit (-1 when none); what QEMU still opens by path (shares)
 * usable by that user, checked as that user, and so are kernel and initrd.
 */
int qc_driver_confine_prepare(const char *root, const struct qc_domain *d, int vm_dfd,
	const char *vm_dir, const struct qc_confine *c, int *ret_kernel_fd, int *ret_initrd_fd,
	struct qc_error *err);

/*
 * May a process of uid:gid with no other groups (QEMU's confined user)
 * open the file st describes for reading, and for writing when writable?
 * Judged on the file's own mode bits (ACLs aside), not its directories.
 */
bool qc_driver_confine_may(const struct stat *st, uid_t uid, gid_t gid, bool writable);

#endif
