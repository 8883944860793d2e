/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Snapshot layers: files and running nodes (driver/snapshot_layer.c). */
#ifndef QC_DRIVER_SNAPSHOT_LAYER_H
#define QC_DRIVER_SNAPSHOT_LAYER_H

#include "driver/vmop.h"

/* The virtual size of a qcow2 layer from its header: no qemu-img, nothing it names opened. */
int qc_snap_layer_size(struct qc_vmop *op, const char *path, uint64_t *ret, struct qc_error *err);
/* A new layer at path on backing (qemu-img create -u), the caller's 0600. */
int qc_snap_make_layer(
	struct qc_vmop *op, const char *path, const char *backing, struct qc_error *err);
/* Layer file as a node of the running QEMU (add-fd, blockdev-add, "backing": null). */
int qc_snap_overlay_add(struct qc_vmop *op, const char *file, struct qc_error *err);
void qc_snap_overlay_drop(struct qc_vmop *op, const char *file);
/* The parent of a layer of disk: from the domain (active layer) or a snapshot. */
bool qc_snap_parent_of(const struct qc_vmop *op, const char *disk, const char *file,
	const char **ret, const char **ret_fmt);
/* Safe rebase of child onto base with both chains given to qemu-img explicitly. */
int qc_snap_rebase(const struct qc_vmop *op, const char *disk, const char *child, const char *base,
	const char *base_fmt, struct qc_error *err);
/* The running node of layer path of disk idx (block-stream's base-node). */
int qc_snap_layer_node(
	struct qc_vmop *op, size_t idx, const char *path, char node[32], struct qc_error *err);

#endif
