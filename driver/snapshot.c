/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshots of disk state as external qcow2 overlays (qemuctl.h
 * "Snapshots"; chain format in driver/snapshot_meta.h).
 *
 * Layers of one disk form a tree: the backing image (read-only, shared) <-
 * disk0.qcow2 <- the layer frozen by snapshot A <- ... <- the active
 * layer.  Only the active layer is ever written (by QEMU).  New layers are
 * named <disk>.L<hex>.qcow2 in the VM's directory; a layer no longer
 * referenced by the domain or a snapshot is removed by the next operation
 * (an interrupted revert or rm leaves one behind).
 *
 * Removal merges downwards-only data upwards: each child of the removed
 * layer is rebased onto the removed layer's backing (qemu-img rebase in
 * safe mode copies what differs), or for the running active layer QEMU's
 * block-stream does the same.  block-commit would write into the parent,
 * which may be the shared image or another snapshot's frozen layer.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/fdpass.h"
#include "driver/qga.h"
#include "driver/save.h"
#include "driver/snapshot_layer.h"
#include "driver/snapshot_mem.h"
#include "driver/snapshot_reconcile.h"
#include "driver/stop.h"
#include "driver/vmop.h"
#include "storage/storage.h"

#define STREAM_TIMEOUT_MS (10 * 60 * 1000)
#define REBASE_TIMEOUT_MS (10 * 60 * 1000)

static bool snap_disk_ok(const struct qc_disk *k)
{
	return k->role != QC_ROLE_SEED && k->device == QC_DEVICE_DISK && !k->readonly && k->owned &&
	       k->format && strcmp(k->format, "qcow2") == 0;
}

static ssize_t disk_index(const struct qc_domain *d, const char *name)
{
	for (size_t i = 0; i < d->n_disks; i++)
		if (strcmp(d->disks[i].name, name) == 0)
			return (ssize_t) i;
	return -1;
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? qc_xstrdup(v) : NULL;
}

/* A fresh, unused layer name in the VM's directory. */
static char *new_layer_path(struct qc_vmop *op, const char *disk)
{
	static unsigned seq;

	for (;;) {
		char *p = qc_xasprintf("%s/%s.L%llx%02x.qcow2", op->vm_dir, disk,
			(unsigned long long) qc_realtime_ms(), seq++ & 0xff);

		if (access(p, F_OK) != 0)
			return p;
		free(p);
	}
}

/* ---------------------------------------------------------------- create */

static int create_live(struct qc_vmop *op, struct qc_snap *s, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	size_t added = 0;
	int rc;

	/*
	 * The layers are made here, the caller's (QEMU could not create a file
	 * in the VM's directory, nor should it open one by path), and QEMU
	 * gets each as an fd.
	 */
	if ((rc = qc_vmop_qmp(op, err)) < 0)
		return rc;
	qc_jgen_map_open(g);
	qc_jgen_key(g, "actions");
	qc_jgen_array_open(g);
	for (size_t k = 0; k < s->n_disks; k++) {
		cleanup_free char *node = NULL;
		char nn[32], unused[32];

		if ((rc = qc_vmop_top_node(op, (size_t) disk_index(op->d, s->disks[k].disk), &node,
			     NULL, err)) < 0 ||
			(rc = qc_snap_make_layer(op, s->disks[k].new_file, s->disks[k].file, err)) <
				0 ||
			(rc = qc_snap_overlay_add(op, s->disks[k].new_file, err)) < 0)
			goto fail;
		added++;
		qc_argv_layer_ids(s->disks[k].new_file, nn, unused);
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "type", "blockdev-snapshot");
		qc_jgen_key(g, "data");
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "node", node);
		qc_jgen_kstring(g, "overlay", nn);
		qc_jgen_map_close(g);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
	if ((rc = qc_vmop_execute(op, "transaction", g, err)) < 0)
		goto fail;
	return 0;
fail:
	for (size_t k = 0; k < added; k++)
		qc_snap_overlay_drop(op, s->disks[k].new_file);
	return qc_error_prefix(err, "VM '%s': snapshot '%s'", op->name, s->name);
}

static int create_offline(struct qc_vmop *op, struct qc_snap *s, struct qc_error *err)
{
	int rc;

	for (size_t k = 0; k < s->n_disks; k++)
		if ((rc = qc_snap_make_layer(op, s->disks[k].new_file, s->disks[k].file, err)) < 0)
			return qc_error_prefix(
				err, "snapshot '%s': disk '%s'", s->name, s->disks[k].disk);
	return 0;
}

QC_PUBLIC int qc_vm_snapshot_create(
	qc_ctx *ctx, const char *name, const char *snap, struct qc_error *err)
{
	return qc_vm_snapshot_create_ex(ctx, name, snap, 0, NULL, err);
}

QC_PUBLIC int qc_vm_snapshot_create_ex(qc_ctx *ctx, const char *name, const char *snap,
	unsigned flags, bool *ret_quiesced, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	struct qc_error scratch = {0};
	struct qc_snap *s;
	bool retry;
	int rc;

	if ((rc = qc_validate_name("snapshot", snap, err)) < 0)
		return rc;
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_SNAPS, &op, err)) < 0)
		return rc;
	s = qc_snaps_find(&op.snaps, snap);
	retry = s && s->pending;
	if ((rc = qc_snap_reconcile(&op, err)) < 0)
		return rc;
	/* a retry of an interrupted create that had got far enough is now done */
	if (retry && qc_snaps_find(&op.snaps, snap))
		return 0;
	if (qc_snaps_find(&op.snaps, snap))
		return qc_error_set(err, QC_ERR_EXISTS,
			"VM '%s': snapshot '%s' exists; pick another name or remove it first "
			"(qemuctl snapshot rm %s %s)",
			name, snap, name, snap);
	op.snaps.v = qc_xrealloc(op.snaps.v, (op.snaps.n + 1) * sizeof(*op.snaps.v));
	s = &op.snaps.v[op.snaps.n++];
	memset(s, 0, sizeof(*s));
	s->name = qc_xstrdup(snap);
	s->created_ms = qc_realtime_ms();
	s->pending = true;
	for (size_t i = 0; i < op.d->n_disks; i++) {
		const struct qc_disk *k = &op.d->disks[i];
		struct qc_snap_disk *dk;

		if (!snap_disk_ok(k))
			continue;
		s->disks = qc_xrealloc(s->disks, (s->n_disks + 1) * sizeof(*s->disks));
		dk = &s->disks[s->n_disks++];
		memset(dk, 0, sizeof(*dk));
		dk->disk = qc_xstrdup(k->name);
		dk->file = qc_xstrdup(k->path);
		dk->backing = k->backing ? qc_xstrdup(k->backing) : NULL;
		dk->backing_format = k->backing_format ? qc_xstrdup(k->backing_format) : NULL;
		dk->new_file = new_layer_path(&op, k->name);
	}
	if (s->n_disks == 0) {
		qc_snap_remove_at(&op.snaps, op.snaps.n - 1);
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"VM '%s' has no writable qcow2 disk of its own to snapshot", name);
	}
	if ((flags & QC_SNAPSHOT_MEMORY) && (rc = qc_snap_mem_prepare(&op, s, err)) < 0) {
		qc_snap_remove_at(&op.snaps, op.snaps.n - 1);
		return rc;
	}
	/* Recorded as pending first: a crash from here on is finished or undone later. */
	if ((rc = qc_vmop_save(&op, err)) < 0)
		return rc;
	qc_vmop_test_hold(&op, "snapshot-create");
	s = &op.snaps.v[op.snaps.n - 1];
	if (s->memory) {
		/* CPUs stopped from the state's write to the disks' switch: both of one instant */
		rc = qc_snap_mem_write(&op, s, err);
		if (rc == 0) {
			qc_fault_step("snapshot-create:memory-written");
			rc = create_live(&op, s, err);
		}
	} else if (op.live.monitor_alive) {
		/* the guest agent, if any, freezes the file systems around the switch */
		struct qc_qga *agent = flags & QC_SNAPSHOT_NO_QUIESCE ? NULL : qc_driver_qga_freeze(&op);

		rc = create_live(&op, s, err);
		qc_driver_qga_thaw(&op, agent, ret_quiesced);
	} else
		rc = create_offline(&op, s, err);
	if (rc < 0) {
		for (size_t k = 0; k < s->n_disks; k++)
			(void) unlink(s->disks[k].new_file);
		qc_snap_mem_drop(&op, s);
		(void) qc_snap_mem_cont(&op, s, NULL);
		qc_snap_remove_at(&op.snaps, op.snaps.n - 1);
		(void) qc_vmop_save(&op, &scratch);
		return qc_error_prefix(err, "VM '%s'", name);
	}
	qc_vmop_test_hold(&op, "snapshot-switched");
	for (size_t k = 0; k < s->n_disks; k++) {
		struct qc_snap_disk *dk = &s->disks[k];
		struct qc_disk *disk = &op.d->disks[disk_index(op.d, dk->disk)];

		set_str(&disk->path, dk->new_file);
		set_str(&disk->backing, dk->file);
		set_str(&disk->backing_format, "qcow2");
		free(dk->new_file);
		dk->new_file = NULL;
	}
	s->pending = false;
	rc = qc_vmop_save(&op, err);
	if (s->memory && qc_snap_mem_cont(&op, s, &scratch) < 0)
		qc_warn("%s", scratch.msg);
	if (rc < 0 && !op.live.monitor_alive) {
		/*
		 * No room for the final record (ENOSPC) of an offline create:
		 * take the snapshot back rather than leave it pending, the new
		 * layers' space first.  (A live one is in use by QEMU: the
		 * pending record lets the next create finish it.)
		 */
		for (size_t k = 0; k < s->n_disks; k++) {
			struct qc_snap_disk *dk = &s->disks[k];
			struct qc_disk *disk = &op.d->disks[disk_index(op.d, dk->disk)];

			(void) unlink(disk->path);
			set_str(&disk->path, dk->file);
			set_str(&disk->backing, dk->backing);
			set_str(&disk->backing_format, dk->backing_format);
		}
		qc_snap_remove_at(&op.snaps, op.snaps.n - 1);
		(void) qc_vmop_save(&op, &scratch);
	}
	return rc;
}

/* ------------------------------------------------------------------ list */

QC_PUBLIC void qc_snapshot_list_free(struct qc_snapshot_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		for (size_t k = 0; k < v[i].n_disks; k++)
			qc_free_all(v[i].disks[k].disk, v[i].disks[k].file, v[i].disks[k].backing);
		free(v[i].disks);
		free(v[i].name);
	}
	free(v);
}

/* snaps as the public form; *ret_pending: one of them is still being taken. */
static struct qc_snapshot_info *snap_infos(const struct qc_snaps *snaps, bool *ret_pending)
{
	struct qc_snapshot_info *v = qc_xzalloc((snaps->n + 1) * sizeof(*v));

	*ret_pending = false;
	for (size_t i = 0; i < snaps->n; i++) {
		const struct qc_snap *s = &snaps->v[i];

		v[i].name = qc_xstrdup(s->name);
		v[i].created_ms = s->created_ms;
		v[i].n_disks = s->n_disks;
		v[i].memory = s->memory != NULL;
		v[i].memory_size = s->memory_size;
		v[i].pending = s->pending;
		*ret_pending |= s->pending;
		v[i].disks = qc_xzalloc((s->n_disks + 1) * sizeof(*v[i].disks));
		for (size_t k = 0; k < s->n_disks; k++) {
			struct stat st;

			v[i].disks[k].disk = qc_xstrdup(s->disks[k].disk);
			v[i].disks[k].file = qc_xstrdup(s->disks[k].file);
			v[i].disks[k].backing =
				s->disks[k].backing ? qc_xstrdup(s->disks[k].backing) : NULL;
			if (stat(s->disks[k].file, &st) == 0)
				v[i].disks[k].size = (uint64_t) st.st_blocks * 512;
		}
	}
	return v;
}

/*
 * A read: the chain as domain.xml has it (written whole by temp file +
 * rename), without the VM's lock, so a list never waits for a create, a
 * revert or an rm.  A snapshot still pending there is being taken by the
 * lock's holder, or was left by a create that ended early: then, and only
 * when the lock is free at once, it is finished or undone first, as every
 * snapshot command does.
 */
QC_PUBLIC int qc_vm_snapshot_list(qc_ctx *ctx, const char *name, struct qc_snapshot_info **ret,
	size_t *ret_n, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	struct qc_snapshot_info *v;
	bool pending;
	int rc;

	if ((rc = qc_vmop_begin(
		     ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_NO_STATE | QC_VMOP_SNAPS, &op, err)) < 0)
		return rc;
	v = snap_infos(&op.snaps, &pending);
	if (pending) {
		cleanup_vmop struct qc_vmop w = QC_VMOP_INIT;

		rc = qc_vmop_begin_wait(ctx, name, QC_VMOP_SNAPS, 0, &w, err);
		if (rc == -QC_ERR_BUSY) {
			qc_error_clear(err); /* in progress: listed as pending */
		} else {
			qc_snapshot_list_free(v, op.snaps.n);
			if (rc < 0 || (rc = qc_snap_reconcile(&w, err)) < 0)
				return rc;
			*ret = snap_infos(&w.snaps, &pending);
			*ret_n = w.snaps.n;
			return 0;
		}
	}
	*ret = v;
	*ret_n = op.snaps.n;
	return 0;
}

/* ---------------------------------------------------------------- revert */

static int not_found(struct qc_vmop *op, const char *snap, struct qc_error *err)
{
	cleanup_buf struct qc_buf b = {0};

	for (size_t i = 0; i < op->snaps.n; i++)
		qc_buf_printf(&b, "%s%s", i ? ", " : "", op->snaps.v[i].name);
	if (op->snaps.n == 0)
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"VM '%s' has no snapshot '%s' (it has none)", op->name, snap);
	return qc_error_set(err, QC_ERR_NOTFOUND, "VM '%s' has no snapshot '%s' (snapshots: %s)",
		op->name, snap, b.data);
}

/* revert and rm: the operation begun on VM name (reconciled) and its snapshot snap. */
static int begin_on_snap(qc_ctx *ctx, const char *name, const char *snap, struct qc_vmop *op,
	struct qc_snap **ret, struct qc_error *err)
{
	int rc;

	if ((rc = qc_validate_name("snapshot", snap, err)) < 0)
		return rc;
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_SNAPS, op, err)) < 0 ||
		(rc = qc_snap_reconcile(op, err)) < 0)
		return rc;
	if (!(*ret = qc_snaps_find(&op->snaps, snap)))
		return not_found(op, snap, err);
	return 0;
}

QC_PUBLIC int qc_vm_snapshot_revert(qc_ctx *ctx, const char *name, const char *snap, bool force,
	bool *ret_stopped, struct qc_error *err)
{
	unsigned done = 0;
	int rc;

	/* the disks only, as before memory snapshots: the VM is left stopped */
	rc = qc_vm_snapshot_revert_ex(
		ctx, name, snap, QC_SNAPSHOT_REVERT_FRESH | (force ? QC_SNAPSHOT_REVERT_FORCE : 0),
		&done, err);
	if (ret_stopped)
		*ret_stopped = done & QC_SNAPSHOT_REVERTED_STOPPED;
	return rc;
}

/* The disks put back to snapshot snap; *ret_memory: its memory state waits for the start. */
static int revert_disks(qc_ctx *ctx, const char *name, const char *snap, unsigned flags,
	unsigned *ret_done, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_strvec struct qc_strv made = {0}, old = {0};
	cleanup_close int mem_fd = -1;
	bool force = flags & QC_SNAPSHOT_REVERT_FORCE;
	struct qc_snap *s;
	int rc;

	if ((rc = begin_on_snap(ctx, name, snap, &op, &s, err)) < 0)
		return rc;
	/* the state file is checked before anything changes */
	if (s->memory && !(flags & QC_SNAPSHOT_REVERT_FRESH) &&
		(rc = qc_snap_mem_open(&op, s, &mem_fd, err)) < 0)
		return rc;
	for (size_t k = 0; k < s->n_disks; k++) {
		if (disk_index(op.d, s->disks[k].disk) < 0)
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s': snapshot '%s' covers disk '%s', which the VM no longer "
				"has",
				name, snap, s->disks[k].disk);
		if (access(s->disks[k].file, R_OK) != 0)
			return qc_error_errno(err, errno, "VM '%s': snapshot '%s': layer '%s'",
				name, snap, s->disks[k].file);
	}
	/* A saved memory state goes with the disks as they are: resumed on others it corrupts them. */
	if (faccessat(op.dfd, QC_VM_SAVED_STATE, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' has a saved memory state (%s/%s) that belongs to its current "
			"disks; 'qemuctl start %s' resumes it, or 'qemuctl start --fresh %s' "
			"discards it; then stop the VM and revert",
			name, op.vm_dir, QC_VM_SAVED_STATE, name, name);
	if (op.live.monitor_alive) {
		if (!force &&
			(rc = qc_vmop_need_stopped(&op,
				 "stop it first, or use --force to stop it and revert", err)) < 0)
			return rc;
		if ((rc = qc_vmop_kill(&op, err)) < 0)
			return qc_error_prefix(err, "VM '%s': stopping for revert", name);
		*ret_done |= QC_SNAPSHOT_REVERTED_STOPPED;
	}
	for (size_t k = 0; k < s->n_disks; k++) {
		const struct qc_snap_disk *dk = &s->disks[k];
		char *p = new_layer_path(&op, dk->disk);

		qc_strv_push_take(&made, p);
		if ((rc = qc_snap_make_layer(&op, p, dk->file, err)) < 0) {
			for (size_t j = 0; j < made.n; j++)
				(void) unlink(made.v[j]);
			return qc_error_prefix(err, "VM '%s': revert to '%s'", name, snap);
		}
	}
	for (size_t k = 0; k < s->n_disks; k++) {
		struct qc_disk *disk = &op.d->disks[disk_index(op.d, s->disks[k].disk)];

		qc_strv_push(&old, disk->path);
		set_str(&disk->path, made.v[k]);
		set_str(&disk->backing, s->disks[k].file);
		set_str(&disk->backing_format, "qcow2");
	}
	if ((rc = qc_vmop_save(&op, err)) < 0) {
		for (size_t j = 0; j < made.n; j++)
			(void) unlink(made.v[j]);
		return rc;
	}
	qc_vmop_test_hold(&op, "snapshot-revert");
	for (size_t j = 0; j < old.n; j++)
		qc_snap_drop_layer(&op, old.v[j]);
	if (mem_fd >= 0) {
		if ((rc = qc_snap_mem_install(&op, s, mem_fd, err)) < 0)
			return qc_error_prefix(err,
				"the disks are reverted to snapshot '%s'; its memory state is not "
				"installed ('qemuctl start %s' boots them anew)",
				snap, name);
		*ret_done |= QC_SNAPSHOT_REVERTED_MEMORY;
	}
	return 0;
}

QC_PUBLIC int qc_vm_snapshot_revert_ex(qc_ctx *ctx, const char *name, const char *snap,
	unsigned flags, unsigned *ret_done, struct qc_error *err)
{
	unsigned done = 0;
	int rc;

	rc = revert_disks(ctx, name, snap, flags, &done, err);
	if (rc == 0 && (done & QC_SNAPSHOT_REVERTED_MEMORY)) {
		/* the lock is released: the start takes it as any start does */
		if ((rc = qc_vm_start(ctx, name, NULL, err)) < 0)
			rc = qc_error_prefix(err,
				"VM '%s': reverted to snapshot '%s', but resuming its memory "
				"state failed",
				name, snap);
		else
			done |= QC_SNAPSHOT_REVERTED_STARTED;
	}
	if (ret_done)
		*ret_done = done;
	return rc;
}

/* -------------------------------------------------------------------- rm */

/* Is file in the chain QEMU has open for disk (below the active layer)? */
static bool in_running_chain(const struct qc_vmop *op, const char *disk, const char *file)
{
	ssize_t idx = disk_index(op->d, disk);
	const char *cur, *fmt;
	int guard = 0;

	if (idx < 0)
		return false;
	cur = op->d->disks[idx].backing;
	while (cur && guard++ < 1000) {
		if (strcmp(cur, file) == 0)
			return true;
		if (!qc_snap_parent_of(op, disk, cur, &cur, &fmt))
			break;
	}
	return false;
}

static int stream_active(struct qc_vmop *op, size_t idx, const char *base, struct qc_error *err)
{
	char base_node[32] = "";
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *node = NULL, *job = NULL;
	int64_t deadline = qc_deadline_ms(STREAM_TIMEOUT_MS);
	int rc;

	if ((rc = qc_vmop_top_node(op, idx, &node, NULL, err)) < 0)
		return rc;
	if (base && (rc = qc_snap_layer_node(op, idx, base, base_node, err)) < 0)
		return rc;
	job = qc_xasprintf("qcrm-%s", node);
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "job-id", job);
	qc_jgen_kstring(g, "device", node);
	/* by node: QEMU's file names are /dev/fdset/N; the header gets base's path */
	if (base) {
		qc_jgen_kstring(g, "base-node", base_node);
		qc_jgen_kstring(g, "backing-file", base);
	}
	qc_jgen_map_close(g);
	if ((rc = qc_vmop_execute(op, "block-stream", g, err)) < 0)
		return rc;
	for (;;) {
		cleanup_qmp_event struct qc_qmp_event *ev = NULL;
		const char *dev, *msg;

		if ((rc = qc_qmp_wait_event(op->q, "BLOCK_JOB_COMPLETED", qc_time_left_ms(deadline),
			     &ev, err)) < 0)
			return rc;
		dev = qc_json_string(qc_json_get(ev->data, "device"));
		if (!dev || strcmp(dev, job) != 0)
			continue;
		if ((msg = qc_json_string(qc_json_get(ev->data, "error"))))
			return qc_error_set(err, QC_ERR_QMP, "block-stream: %s", msg);
		return 0;
	}
}

QC_PUBLIC int qc_vm_snapshot_remove(
	qc_ctx *ctx, const char *name, const char *snap, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_strvec struct qc_strv files = {0};
	struct qc_snap *s, gone;
	size_t si;
	bool live;
	int rc;

	if ((rc = begin_on_snap(ctx, name, snap, &op, &s, err)) < 0)
		return rc;
	si = (size_t) (s - op.snaps.v);
	live = op.live.monitor_alive;
	/* Check first: a running VM's intermediate layers cannot be rewritten under it. */
	for (size_t k = 0; live && k < s->n_disks; k++) {
		const struct qc_snap_disk *dk = &s->disks[k];

		for (size_t i = 0; i < op.snaps.n; i++)
			for (size_t j = 0; j < op.snaps.v[i].n_disks; j++) {
				const struct qc_snap_disk *c = &op.snaps.v[i].disks[j];

				if (i != si && strcmp(c->disk, dk->disk) == 0 &&
					qc_streq_null(c->backing, dk->file) &&
					in_running_chain(&op, dk->disk, c->file))
					return qc_error_set(err, QC_ERR_STATE,
						"VM '%s' is running and snapshot '%s' lies under "
						"snapshot '%s' in the running chain of disk '%s'; "
						"stop the VM to remove it",
						name, snap, op.snaps.v[i].name, dk->disk);
			}
	}
	for (size_t k = 0; k < s->n_disks; k++) {
		const struct qc_snap_disk *dk = &s->disks[k];
		ssize_t idx = disk_index(op.d, dk->disk);

		/* children: other snapshots' layers on this one, then the active layer */
		for (size_t i = 0; i < op.snaps.n; i++)
			for (size_t j = 0; j < op.snaps.v[i].n_disks; j++) {
				struct qc_snap_disk *c = &op.snaps.v[i].disks[j];

				if (i == si || strcmp(c->disk, dk->disk) != 0 ||
					!qc_streq_null(c->backing, dk->file))
					continue;
				if ((rc = qc_snap_rebase(&op, dk->disk, c->file, dk->backing,
					     dk->backing_format, err)) < 0)
					return qc_error_prefix(
						err, "VM '%s': removing snapshot '%s'", name, snap);
				set_str(&c->backing, dk->backing);
				set_str(&c->backing_format, dk->backing_format);
				qc_fault_step("snapshot-rm:child-rebased");
			}
		if (idx >= 0 && qc_streq_null(op.d->disks[idx].backing, dk->file)) {
			struct qc_disk *disk = &op.d->disks[idx];

			if (live)
				rc = stream_active(&op, (size_t) idx, dk->backing, err);
			else
				rc = qc_snap_rebase(&op, dk->disk, disk->path, dk->backing,
					dk->backing_format, err);
			if (rc < 0)
				return qc_error_prefix(
					err, "VM '%s': removing snapshot '%s'", name, snap);
			set_str(&disk->backing, dk->backing);
			set_str(&disk->backing_format, dk->backing_format);
			qc_fault_step("snapshot-rm:active-rebased");
		}
		qc_strv_push(&files, dk->file);
	}
	gone = *s;
	gone.disks = NULL;
	gone.n_disks = 0;
	s->memory = NULL;
	qc_snap_remove_at(&op.snaps, si);
	if ((rc = qc_vmop_save(&op, err)) < 0) {
		free(gone.memory);
		return rc;
	}
	qc_fault_step("snapshot-rm:saved");
	for (size_t j = 0; j < files.n; j++)
		qc_snap_drop_layer(&op, files.v[j]);
	qc_snap_mem_drop(&op, &gone);
	free(gone.memory);
	return 0;
}
