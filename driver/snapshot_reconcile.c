/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reconciling a VM's snapshot chain with its files (driver/snapshot.c runs
 * it first in every snapshot operation): a snapshot left pending by an
 * interrupted create is finished when its overlays are in place, else
 * rolled back; layers in the VM's directory that nothing references any
 * more are removed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/snapshot_layer.h"
#include "driver/snapshot_mem.h"
#include "driver/snapshot_reconcile.h"
#include "storage/storage.h"

static bool referenced(const struct qc_vmop *op, const char *path)
{
	for (size_t i = 0; i < op->d->n_disks; i++)
		if (qc_streq_null(op->d->disks[i].path, path) ||
			qc_streq_null(op->d->disks[i].backing, path))
			return true;
	for (size_t i = 0; i < op->snaps.n; i++)
		for (size_t k = 0; k < op->snaps.v[i].n_disks; k++) {
			const struct qc_snap_disk *dk = &op->snaps.v[i].disks[k];

			if (qc_streq_null(dk->file, path) || qc_streq_null(dk->backing, path) ||
				qc_streq_null(dk->new_file, path))
				return true;
		}
	return false;
}

void qc_snap_drop_layer(const struct qc_vmop *op, const char *path)
{
	size_t n = strlen(op->vm_dir);

	if (!path || strncmp(path, op->vm_dir, n) != 0 || path[n] != '/' ||
		strchr(path + n + 1, '/'))
		return;
	if (referenced(op, path))
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		qc_warn("VM '%s': removing layer '%s': %s", op->name, path, strerror(errno));
}

/* A pending layer made offline: a qcow2 (its header's backing is ours to write, not read). */
static bool layer_made(struct qc_vmop *op, const struct qc_snap_disk *dk)
{
	uint64_t size;

	return qc_snap_layer_size(op, dk->new_file, &size, NULL) == 0 && size > 0;
}

/* Is a pending snapshot's overlay in place (the VM writes to it, or it reads as made)? */
static int pending_done(struct qc_vmop *op, size_t idx, const struct qc_snap_disk *dk, bool *ret,
	struct qc_error *err)
{
	cleanup_img_info struct qc_img_info *info = NULL;
	int rc;

	*ret = false;
	if (!dk->new_file)
		return 0;
	if (op->live.monitor_alive) {
		cleanup_free char *node = NULL;
		char want[32], unused[32];

		/* the overlay's node is named after its file (qc_argv_layer_ids) */
		if ((rc = qc_vmop_top_node(op, idx, &node, NULL, err)) < 0)
			return rc;
		qc_argv_layer_ids(dk->new_file, want, unused);
		*ret = node && strcmp(node, want) == 0;
		return 0;
	}
	(void) info;
	*ret = layer_made(op, dk);
	return 0;
}

static void sweep_layers(struct qc_vmop *op)
{
	cleanup_dir DIR *dir = NULL;
	struct dirent *e;

	if (qc_opendir_at(op->dfd, NULL, 0, &dir) < 0)
		return;
	while ((e = qc_readdir(dir))) {
		for (size_t i = 0; i < op->d->n_disks; i++) {
			const char *dn = op->d->disks[i].name;
			size_t n = strlen(dn);

			if (strncmp(e->d_name, dn, n) == 0 &&
				strncmp(e->d_name + n, ".L", 2) == 0 &&
				qc_str_has_suffix(e->d_name, ".qcow2")) {
				cleanup_free char *p = qc_xasprintf("%s/%s", op->vm_dir, e->d_name);

				qc_snap_drop_layer(op, p);
				break;
			}
		}
	}
}

/*
 * The memory of an interrupted memory snapshot: written before the disks
 * switched, so kept with them (its size taken from the file, renamed into
 * place whole) and removed without them; the CPUs run on if they ran.
 */
static int finish_memory(struct qc_vmop *op, struct qc_snap *s, struct qc_error *err)
{
	struct stat st;
	int rc;

	if (s->n_disks > 0 && fstatat(op->dfd, s->memory, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		S_ISREG(st.st_mode) && st.st_uid == geteuid())
		s->memory_size = (uint64_t) st.st_size;
	else {
		if (s->n_disks > 0)
			qc_warn("VM '%s': snapshot '%s': its memory state was not written; it "
				"keeps the disks only",
				op->name, s->name);
		qc_snap_mem_drop(op, s);
		free(s->memory);
		s->memory = NULL;
	}
	if ((rc = qc_snap_mem_cont(op, s, err)) < 0)
		return rc;
	s->memory_cont = false;
	return 0;
}

int qc_snap_reconcile(struct qc_vmop *op, struct qc_error *err)
{
	bool changed = false;
	int rc;

	for (size_t i = op->snaps.n; i-- > 0;) {
		struct qc_snap *s = &op->snaps.v[i];
		size_t kept = 0;

		if (!s->pending)
			continue;
		changed = true;
		for (size_t k = 0; k < s->n_disks; k++) {
			struct qc_snap_disk *dk = &s->disks[k];
			struct qc_disk *disk = qc_domain_find_disk(op->d, dk->disk);
			bool done = false;

			if (disk && (rc = pending_done(op, (size_t) (disk - op->d->disks), dk, &done,
					     err)) < 0)
				return rc;
			if (done) {
				/* the overlay becomes the disk's active layer on the frozen file */
				free(disk->path);
				disk->path = dk->new_file;
				dk->new_file = NULL;
				free(disk->backing);
				disk->backing = qc_xstrdup(dk->file);
				free(disk->backing_format);
				disk->backing_format = qc_xstrdup("qcow2");
				s->disks[kept++] = *dk;
				qc_info("VM '%s': snapshot '%s': finished an interrupted create "
					"(disk "
					"'%s')",
					op->name, s->name, dk->disk);
			} else {
				char *nf = dk->new_file;

				dk->new_file = NULL;
				if (nf && unlink(nf) < 0 && errno != ENOENT)
					qc_warn("VM '%s': removing '%s': %s", op->name, nf,
						strerror(errno));
				free(nf);
				free(dk->disk);
				free(dk->file);
				free(dk->backing);
				free(dk->backing_format);
			}
		}
		s->n_disks = kept;
		s->pending = false;
		if (s->memory && (rc = finish_memory(op, s, err)) < 0)
			return rc;
		if (kept == 0)
			qc_snap_remove_at(&op->snaps, i);
	}
	if (changed && (rc = qc_vmop_save(op, err)) < 0)
		return rc;
	sweep_layers(op);
	return 0;
}
