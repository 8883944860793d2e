/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory snapshots (driver/snapshot_mem.h).  create: the CPUs are stopped
 * and the state written by migration (qc_driver_state_out) before the disk
 * layers switch, so the disks the snapshot freezes are those of that
 * instant; then the CPUs run on.  revert: the state is hard-linked as the
 * VM's saved state (QC_VM_SAVED_STATE), which the next start resumes
 * through -incoming defer exactly as after qemuctl save.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/save.h"
#include "driver/snapshot_mem.h"
#include "qmp/qmp.h"

int qc_snap_mem_prepare(struct qc_vmop *op, struct qc_snap *s, struct qc_error *err)
{
	cleanup_json qc_json *st = NULL;
	const char *status;
	bool ran = false;
	int rc;

	if (!op->live.monitor_alive)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is stopped: a memory snapshot needs a running or paused VM; "
			"start it first, or take a disk snapshot without --memory",
			op->name);
	if ((rc = qc_vmop_qmp(op, err)) < 0 || (rc = qc_qmp_execute(op->q, "query-status", NULL,
							QC_VMOP_QMP_QUICK_MS, &st, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	status = qc_json_string(qc_json_get(st, "status"));
	if (status && strcmp(status, "inmigrate") == 0)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is still loading its saved state; wait for its start to finish",
			op->name);
	if ((rc = qc_driver_migration_ready(op->q, op->dfd, &ran, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	s->memory = qc_snap_memory_name(s->name);
	s->memory_cont = ran;
	return 0;
}

int qc_snap_mem_write(struct qc_vmop *op, struct qc_snap *s, struct qc_error *err)
{
	if (qc_driver_state_write(op, s->memory, &s->memory_size, err) < 0) {
		qc_snap_mem_drop(op, s);
		return qc_error_prefix(err, "writing the memory state");
	}
	return 0;
}

int qc_snap_mem_cont(struct qc_vmop *op, const struct qc_snap *s, struct qc_error *err)
{
	bool ran = false;
	int rc;

	if (!s->memory_cont || !op->live.monitor_alive)
		return 0;
	/* from postmigrate cont also takes the disks back from the finished migration */
	if ((rc = qc_vmop_qmp(op, err)) < 0 ||
		(rc = qc_driver_migration_ready(op->q, op->dfd, &ran, err)) < 0 ||
		(!ran && (rc = qc_qmp_execute_text(
				  op->q, "cont", NULL, QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0))
		return qc_error_prefix(err, "VM '%s': letting the CPUs run on", op->name);
	return 0;
}

void qc_snap_mem_drop(struct qc_vmop *op, const struct qc_snap *s)
{
	if (!s->memory)
		return;
	if (unlinkat(op->dfd, s->memory, 0) < 0 && errno != ENOENT)
		qc_warn("VM '%s': removing %s/%s: %s", op->name, op->vm_dir, s->memory,
			strerror(errno));
	(void) qc_fsync_dir(op->dfd, NULL);
}

int qc_snap_mem_open(struct qc_vmop *op, const struct qc_snap *s, int *ret_fd, struct qc_error *err)
{
	cleanup_close int fd = -1;
	struct stat st;

	fd = openat(op->dfd, s->memory, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return qc_error_errno(err, errno,
			"VM '%s': snapshot '%s': memory state %s/%s (a symbolic link is refused)",
			op->name, s->name, op->vm_dir, s->memory);
	if (fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "%s/%s", op->vm_dir, s->memory);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return qc_error_set(err, EPERM,
			"VM '%s': snapshot '%s': memory state %s/%s is not a regular file of uid "
			"%u writable only by it; it is not qemuctl's: remove the snapshot, or "
			"revert with --fresh to boot from its disks",
			op->name, s->name, op->vm_dir, s->memory, (unsigned) geteuid());
	if ((uint64_t) st.st_size != s->memory_size)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': snapshot '%s': memory state %s/%s has %llu bytes, not the %llu "
			"recorded; it was changed: remove the snapshot, or revert with --fresh to "
			"boot from its disks",
			op->name, s->name, op->vm_dir, s->memory, (unsigned long long) st.st_size,
			(unsigned long long) s->memory_size);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int qc_snap_mem_install(struct qc_vmop *op, const struct qc_snap *s, int fd, struct qc_error *err)
{
	char self[64];

	/* the file checked, not whatever has the name by now */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, self, op->dfd, QC_VM_SAVED_STATE, AT_SYMLINK_FOLLOW) < 0)
		return qc_error_errno(err, errno, "VM '%s': link %s/%s to %s", op->name, op->vm_dir,
			s->memory, QC_VM_SAVED_STATE);
	return qc_fsync_dir(op->dfd, err);
}
