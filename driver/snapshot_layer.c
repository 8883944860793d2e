/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshot layers as files and as nodes of a running QEMU (driver/snapshot.c
 * does the operations): made by the caller without opening what a header
 * names, handed to QEMU with add-fd, rebased with explicit chains.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/fdpass.h"
#include "driver/snapshot_layer.h"
#include "storage/storage.h"

static ssize_t disk_index(const struct qc_domain *d, const char *name)
{
	for (size_t i = 0; i < d->n_disks; i++)
		if (strcmp(d->disks[i].name, name) == 0)
			return (ssize_t) i;
	return -1;
}

/* The virtual size of a qcow2 layer from its header: no qemu-img, nothing it names opened. */
int qc_snap_layer_size(struct qc_vmop *op, const char *path, uint64_t *ret, struct qc_error *err)
{
	cleanup_close int fd = -1;
	struct qc_qcow2_header h;
	int rc;

	if ((rc = qc_driver_fdpass_open_file(
		     op->dfd, op->vm_dir, "layer", path, "qcow2", false, false, &fd, err)) < 0 ||
		(rc = qc_img_qcow2_header(fd, path, &h, err)) < 0)
		return rc;
	*ret = h.size;
	return 0;
}

/*
 * A new layer at path on backing (a layer of ours): qemu-img create -u, so
 * backing's own chain, which its header names, is never opened; the
 * caller's, 0600.
 */
int qc_snap_make_layer(
	struct qc_vmop *op, const char *path, const char *backing, struct qc_error *err)
{
	cleanup_close int fd = -1;
	uint64_t size;
	int rc;

	if ((rc = qc_snap_layer_size(op, backing, &size, err)) < 0 ||
		(rc = qc_img_create_layer(path, backing, "qcow2", size, err)) < 0)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fchmod(fd, 0600) < 0)
		return qc_error_errno(err, errno, "chmod 0600 '%s'", path);
	return 0;
}

/* Drop the nodes qc_snap_overlay_add made for a layer that is not used. */
void qc_snap_overlay_drop(struct qc_vmop *op, const char *file)
{
	char fmt[32], fnode[32];

	qc_argv_layer_ids(file, fmt, fnode);
	for (int i = 0; i < 2; i++) {
		cleanup_free char *a = qc_xasprintf("{\"node-name\":\"%s\"}", i ? fnode : fmt);

		(void) qc_qmp_execute_text(
			op->q, "blockdev-del", a, QC_VMOP_QMP_TIMEOUT_MS, NULL, NULL);
	}
}

/*
 * The new layer file as a node of the running QEMU: opened here, passed
 * with add-fd (SCM_RIGHTS), blockdev-add'ed on /dev/fdset/N with
 * "backing": null (blockdev-snapshot puts the old top under it).  The fd
 * set is removed once the node holds its own copy of the fd.
 */
int qc_snap_overlay_add(struct qc_vmop *op, const char *file, struct qc_error *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *a1 = NULL, *a2 = NULL;
	char fmt[32], fnode[32];
	int64_t set = -1;
	int rc;

	if ((rc = qc_driver_fdpass_open_file(
		     op->dfd, op->vm_dir, "layer", file, "qcow2", true, false, &fd, err)) < 0)
		return rc;
	if ((rc = qc_qmp_add_fd(
		     op->q, fd, -1, "snapshot layer", QC_VMOP_QMP_TIMEOUT_MS, &set, NULL, err)) < 0)
		return rc;
	qc_argv_layer_ids(file, fmt, fnode);
	a1 = qc_xasprintf("{\"driver\":\"file\",\"filename\":\"/dev/fdset/%lld\","
			  "\"node-name\":\"%s\"}",
		(long long) set, fnode);
	a2 = qc_xasprintf("{\"driver\":\"qcow2\",\"file\":\"%s\",\"node-name\":\"%s\","
			  "\"backing\":null}",
		fnode, fmt);
	rc = qc_qmp_execute_text(op->q, "blockdev-add", a1, QC_VMOP_QMP_TIMEOUT_MS, NULL, err);
	if (rc == 0)
		rc = qc_qmp_execute_text(
			op->q, "blockdev-add", a2, QC_VMOP_QMP_TIMEOUT_MS, NULL, err);
	(void) qc_qmp_remove_fd(op->q, set, -1, QC_VMOP_QMP_TIMEOUT_MS, NULL);
	if (rc < 0)
		qc_snap_overlay_drop(op, file);
	return rc;
}

/* The parent of a layer of disk: from the domain (active layer) or a snapshot. */
bool qc_snap_parent_of(const struct qc_vmop *op, const char *disk, const char *file,
	const char **ret, const char **ret_fmt)
{
	ssize_t idx = disk_index(op->d, disk);

	if (idx >= 0 && strcmp(op->d->disks[idx].path, file) == 0) {
		*ret = op->d->disks[idx].backing;
		*ret_fmt = op->d->disks[idx].backing_format;
		return true;
	}
	for (size_t i = 0; i < op->snaps.n; i++)
		for (size_t k = 0; k < op->snaps.v[i].n_disks; k++) {
			const struct qc_snap_disk *dk = &op->snaps.v[i].disks[k];

			if (strcmp(dk->disk, disk) == 0 && strcmp(dk->file, file) == 0) {
				*ret = dk->backing;
				*ret_fmt = dk->backing_format;
				return true;
			}
		}
	return false;
}

/* The chain under layer file of disk (file first), as the domain and the records name it. */
static int layer_chain(const struct qc_vmop *op, const char *disk, const char *file,
	const char *fmt, struct qc_img_ref *out, size_t *ret_n, struct qc_error *err)
{
	const char *cur = file, *cur_fmt = fmt;
	size_t n = 0;

	while (cur) {
		const char *next = NULL, *next_fmt = NULL;

		for (size_t j = 0; j < n; j++)
			if (strcmp(out[j].path, cur) == 0)
				return qc_error_set(err, QC_ERR_INVALID,
					"disk '%s': '%s' is its own backing file (a loop in the "
					"snapshot records)",
					disk, cur);
		if (n == QC_CHAIN_MAX || !cur_fmt)
			return qc_error_set(err, QC_ERR_INVALID,
				"disk '%s': layer '%s': chain too long or format unknown", disk,
				cur);
		out[n++] = (struct qc_img_ref){cur, cur_fmt};
		if (!qc_snap_parent_of(op, disk, cur, &next, &next_fmt))
			break;
		cur = next;
		cur_fmt = next_fmt;
	}
	*ret_n = n;
	return 0;
}

/*
 * Rebase child (a qcow2 layer of disk) onto base: qemu-img gets both
 * chains explicitly (storage/img.c), so a backing path written into a
 * layer's header by whoever wrote the layer is never opened.
 */
int qc_snap_rebase(const struct qc_vmop *op, const char *disk, const char *child, const char *base,
	const char *base_fmt, struct qc_error *err)
{
	struct qc_img_ref chain[QC_CHAIN_MAX], below[QC_CHAIN_MAX];
	size_t n = 0, nb = 0;
	int rc;

	if ((rc = layer_chain(op, disk, child, "qcow2", chain, &n, err)) < 0 ||
		(base && (rc = layer_chain(op, disk, base, base_fmt, below, &nb, err)) < 0) ||
		(rc = qc_img_rebase(chain, n, below, nb, err)) < 0)
		return qc_error_prefix(err, "rebase '%s'", child);
	return 0;
}

/*
 * The running node of layer path of disk idx: a layer QEMU got after start
 * or below the start's active layer is "qcn<hash>" (qc_argv_layer_ids);
 * the active layer at start keeps the disk's own node name.
 */
int qc_snap_layer_node(
	struct qc_vmop *op, size_t idx, const char *path, char node[32], struct qc_error *err)
{
	cleanup_json qc_json *r = NULL;
	char fmt[32], file[32], dev[80];
	int rc;

	qc_argv_layer_ids(path, fmt, file);
	if ((rc = qc_qmp_execute_text(op->q, "query-named-block-nodes", "{\"flat\":true}",
		     QC_VMOP_QMP_TIMEOUT_MS, &r, err)) < 0)
		return rc;
	for (size_t k = 0; k < qc_json_len(r); k++) {
		const char *n = qc_json_string(qc_json_get(qc_json_at(r, k), "node-name"));

		if (n && strcmp(n, fmt) == 0) {
			snprintf(node, 32, "%s", fmt);
			return 0;
		}
	}
	qc_argv_disk_ids(op->d, idx, fmt, file, dev);
	snprintf(node, 32, "%s", fmt);
	return 0;
}
