/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl resize NAME DISK SIZE: grow an overlay or data disk.  Stopped:
 * `qemu-img resize`; running (or paused): QMP block_resize on the disk's
 * format node (qc_argv_disk_ids), so the guest sees the new size at once
 * (virtio-blk raises a config change; Linux logs "capacity change").
 * Under the VM's lifecycle lock, so no start/stop/snapshot runs meanwhile.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/resize.h"
#include "driver/vmop.h"
#include "qmp/qmp.h"
#include "storage/storage.h"

#define QMP_TIMEOUT_MS 30000

int qc_driver_resize_plan(const char *disk, uint64_t cur, uint64_t size, bool relative,
	uint64_t *ret_new, struct qc_error *err)
{
	char a[32], b[32];
	uint64_t want = size;

	if (relative) {
		if (size > UINT64_MAX - cur)
			return qc_error_set(err, QC_ERR_INVALID,
				"disk '%s': growing by that much overflows", disk);
		want = cur + size;
	}
	if (want > UINT64_MAX - 511)
		return qc_error_set(err, QC_ERR_INVALID, "disk '%s': size too large", disk);
	want = (want + 511) & ~(uint64_t) 511;
	if (want < cur) {
		qc_format_size(cur, a, sizeof(a));
		qc_format_size(want, b, sizeof(b));
		return qc_error_set(err, QC_ERR_INVALID,
			"disk '%s' is %s; shrinking to %s is refused: it would destroy data", disk,
			a, b);
	}
	*ret_new = want;
	return 0;
}

static int disk_names(const struct qc_domain *d, char *buf, size_t size)
{
	size_t i, off = 0;

	buf[0] = 0;
	for (i = 0; i < d->n_disks && off < size; i++)
		off += (size_t) snprintf(
			buf + off, size - off, "%s%s", i ? ", " : "", d->disks[i].name);
	return 0;
}

/*
 * The node a disk's device reads now: after a live snapshot the active
 * layer is no longer the node argv named, so ask QEMU (query-block: the
 * device's "inserted"."node-name"); argv's format node when QEMU does not say.
 */
static void active_node(struct qc_qmp *q, const char *dev_id, const char *fallback, char out[64])
{
	cleanup_json qc_json *r = NULL;
	cleanup_free char *suffix = qc_xasprintf("/%s/virtio-backend", dev_id);
	cleanup_free char *mid = qc_xasprintf("/%s/", dev_id);
	size_t i;

	snprintf(out, 64, "%s", fallback);
	if (qc_qmp_execute_text(q, "query-block", NULL, QMP_TIMEOUT_MS, &r, NULL) < 0 ||
		qc_json_type(r) != QC_JSON_ARRAY)
		return;
	for (i = 0; i < qc_json_len(r); i++) {
		const qc_json *b = qc_json_at(r, i);
		const char *qdev = qc_json_string(qc_json_get(b, "qdev"));
		const char *node =
			qc_json_string(qc_json_get(qc_json_get(b, "inserted"), "node-name"));

		if (!qdev || !node || strlen(node) >= 64)
			continue;
		if (strcmp(qdev, dev_id) == 0 || strstr(qdev, mid) ||
			qc_str_has_suffix(qdev, suffix)) {
			snprintf(out, 64, "%s", node);
			return;
		}
	}
}

static int resize_online(const char *name, const struct qc_domain *d, size_t idx,
	const struct qc_live *l, uint64_t size, struct qc_error *err)
{
	cleanup_qmp struct qc_qmp *q = NULL;
	cleanup_free char *args = NULL;
	char fmt_node[32], file_node[32], dev_id[80], node[64];
	int rc;

	if (!l->st.run_dir)
		return qc_error_set(
			err, QC_ERR_STATE, "VM '%s': state.json names no runtime dir", name);
	qc_argv_disk_ids(d, idx, fmt_node, file_node, dev_id);
	if ((rc = qc_driver_run_qmp(l->st.run_dir, QMP_TIMEOUT_MS, &q, err)) < 0)
		return qc_error_prefix(err, "VM '%s': disk '%s'", name, d->disks[idx].name);
	active_node(q, dev_id, fmt_node, node);
	args = qc_xasprintf(
		"{\"node-name\": \"%s\", \"size\": %llu}", node, (unsigned long long) size);
	if ((rc = qc_qmp_execute_text(q, "block_resize", args, QMP_TIMEOUT_MS, NULL, err)) < 0)
		return qc_error_prefix(err, "VM '%s': disk '%s'", name, d->disks[idx].name);
	return 0;
}

QC_PUBLIC int qc_vm_resize(qc_ctx *ctx, const char *name, const char *disk, uint64_t size,
	bool relative, uint64_t *ret_old, uint64_t *ret_new, bool *ret_online, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_img_info struct qc_img_info *info = NULL;
	const struct qc_domain *d;
	const struct qc_live *l = &op.live;
	const struct qc_disk *dk;
	uint64_t cur, want;
	size_t idx;
	int rc;

	if (!disk || !*disk)
		return qc_error_set(err, QC_ERR_INVALID, "resize: no disk named");
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_LONG_LOCK, &op, err)) < 0)
		return rc;
	qc_fault_step("resize:locked");
	if ((rc = qc_vmop_domain(&op, err)) < 0)
		return rc;
	d = op.d;
	for (idx = 0; idx < d->n_disks; idx++)
		if (strcmp(d->disks[idx].name, disk) == 0)
			break;
	if (idx == d->n_disks) {
		char names[512];

		disk_names(d, names, sizeof(names));
		return qc_error_set(err, QC_ERR_NOTFOUND, "VM '%s' has no disk '%s' (disks: %s)",
			name, disk, names[0] ? names : "none");
	}
	dk = &d->disks[idx];
	if (dk->role == QC_ROLE_SEED)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': disk '%s' is the NoCloud seed; only boot and data disks grow",
			name, disk);
	if (dk->readonly || dk->device == QC_DEVICE_CDROM)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': disk '%s' is read-only; it cannot be resized", name, disk);
	if ((rc = qc_img_info(dk->path, dk->format ? dk->format : "raw", false, &info, err)) < 0)
		return qc_error_prefix(err, "VM '%s': disk '%s'", name, disk);
	cur = info->chain[0].virtual_size;
	if ((rc = qc_driver_resize_plan(disk, cur, size, relative, &want, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	if (want != cur) {
		if (l->monitor_alive)
			rc = resize_online(name, d, idx, l, want, err);
		else if ((rc = qc_img_resize(
				  dk->path, dk->format ? dk->format : "raw", want, err)) < 0)
			qc_error_prefix(err, "VM '%s': disk '%s'", name, disk);
		if (rc < 0)
			return rc;
		qc_fault_step("resize:resized");
	}
	if (ret_old)
		*ret_old = cur;
	if (ret_new)
		*ret_new = want;
	if (ret_online)
		*ret_online = l->monitor_alive;
	return 0;
}
