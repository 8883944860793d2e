/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Disks on shared storage in a move (driver/migrate_shared.h): announced by
 * the source, checked by the target with the checks `create --disk FILE`
 * and `define` apply there, matched against the definition at the commit.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/image.h"
#include "driver/migrate_link.h"
#include "driver/migrate_live.h"
#include "driver/migrate_shared.h"
#include "driver/vmop.h"
#include "storage/storage.h"

bool qc_mig_shared_writes(const struct qc_disk *k)
{
	return !k->readonly && k->device != QC_DEVICE_CDROM;
}

/* ------------------------------------------------------------------ source */

/* Disk i's virtual size: its QEMU's view when it runs, else qemu-img's. */
static int shared_size(struct qc_vmop *op, bool live, size_t i, uint64_t *ret, struct qc_error *err)
{
	cleanup_img_info struct qc_img_info *info = NULL;
	const struct qc_disk *k = &op->d->disks[i];
	int rc;

	if (live)
		return qc_mig_live_disk_size(op->q, op->d, i, ret, err);
	if ((rc = qc_img_info(k->path, k->format, false, &info, err)) < 0)
		return rc;
	*ret = info->chain[0].virtual_size;
	return 0;
}

int qc_mig_shared_announce(
	struct qc_vmop *op, struct qc_mig_link *l, bool live, struct qc_error *err)
{
	int rc;

	for (size_t i = 0; i < op->d->n_disks; i++) {
		const struct qc_disk *k = &op->d->disks[i];
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
		cleanup_json qc_json *r = NULL;
		uint64_t size;

		if (k->owned)
			continue;
		if ((live && (rc = qc_vmop_qmp(op, err)) < 0) ||
			(rc = shared_size(op, live, i, &size, err)) < 0)
			return qc_error_prefix(err, "VM '%s': disk '%s'", op->name, k->name);
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "op", "shared");
		qc_jgen_kstring(g, "disk", k->name);
		qc_jgen_kstring(g, "path", k->path);
		qc_jgen_kstring(g, "format", k->format ? k->format : "raw");
		qc_jgen_kuint(g, "size", size);
		qc_jgen_kbool(g, "writes", qc_mig_shared_writes(k));
		/* the target's refusal: what the user must fix, on which host */
		if ((rc = qc_mig_request(l, g, &r, err)) == -QC_ERR_STATE)
			return qc_error_prefix(err,
				"VM '%s': disk '%s' is the file '%s' outside the VM, which is "
				"not copied: '%s' must see the same file at that path (shared "
				"storage)",
				op->name, k->name, k->path, l->host);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ target */

/* path as create --disk FILE takes it here, of format and virtual size, writable if writes. */
static int check_like_create(qc_ctx *ctx, const char *vm_dir, const char *path, const char *format,
	uint64_t size, bool writes, struct qc_error *err)
{
	cleanup_img_info struct qc_img_info *info = NULL;
	struct qc_disk f = {0};
	uint64_t fresh = 0;
	int rc;

	if ((rc = qc_driver_disk_from_spec(ctx, path, 1, vm_dir, &f, &fresh, err)) < 0)
		return rc;
	if (strcmp(f.path, path) != 0)
		rc = qc_error_set(err, QC_ERR_INVALID,
			"'%s' is '%s' here; the source must name the file by that path", path,
			f.path);
	else if (strcmp(f.format, format) != 0)
		rc = qc_error_set(err, QC_ERR_INVALID,
			"'%s' is a %s image here and a %s image on the source: not the same disk",
			path, f.format, format);
	else if (writes && f.readonly)
		rc = qc_error_set(err, QC_ERR_INVALID,
			"'%s' is not writable here, and the VM writes it", path);
	qc_disk_clear(&f);
	if (rc < 0)
		return rc;
	if ((rc = qc_img_info(path, format, false, &info, err)) < 0)
		return rc;
	if (info->chain[0].virtual_size != size)
		return qc_error_set(err, QC_ERR_INVALID,
			"'%s' has a virtual size of %llu bytes here and %llu on the source: "
			"not the same disk",
			path, (unsigned long long) info->chain[0].virtual_size,
			(unsigned long long) size);
	return 0;
}

/*
 * path as `create --disk FILE` takes it on this host (and a definition may
 * name it), of format and virtual size as the source says, writable if writes.
 */
static int check_file(qc_ctx *ctx, const char *vm, const char *disk, const char *path,
	const char *format, uint64_t size, bool writes, struct qc_error *err)
{
	cleanup_free char *vm_dir = qc_domain_home_dir(ctx->root, vm);
	cleanup_free char *name = qc_xstrdup(disk), *p = qc_xstrdup(path);
	struct qc_disk k = {.name = name, .role = QC_ROLE_DATA, .path = p};
	int rc;

	/* a relative path (or "10G") would be another kind of --disk spec */
	if (path[0] != '/')
		return qc_error_set(err, QC_ERR_INVALID, "'%s' is not an absolute path", path);
	if (strcmp(format, "qcow2") != 0 && strcmp(format, "raw") != 0)
		return qc_error_set(
			err, QC_ERR_INVALID, "'%s': format '%s' (qcow2 or raw)", path, format);
	/* what a definition may name outside the VM (its errors name the disk) */
	if ((rc = qc_domain_home_disk(ctx->root, vm_dir, &k, err)) < 0)
		return rc;
	if ((rc = check_like_create(ctx, vm_dir, path, format, size, writes, err)) < 0)
		return qc_error_prefix(err, "disk '%s'", disk);
	return 0;
}

int qc_mig_shared_receive(qc_ctx *ctx, const char *vm, const qc_json *req,
	struct qc_mig_shared_set *s, struct qc_error *err)
{
	const char *disk, *path, *format;
	char host[256] = "";
	bool writes;
	uint64_t size;
	int rc;

	if ((rc = qc_json_get_string(req, "disk", &disk, err)) < 0 ||
		(rc = qc_json_get_string(req, "path", &path, err)) < 0 ||
		(rc = qc_json_get_string(req, "format", &format, err)) < 0 ||
		(rc = qc_json_get_uint(req, "size", &size, err)) < 0 ||
		(rc = qc_json_get_bool(req, "writes", &writes, err)) < 0 ||
		(rc = qc_validate_name("disk", disk, err)) < 0)
		return rc;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].disk, disk) == 0)
			return qc_error_set(err, QC_ERR_PROTO, "disk '%s' announced twice", disk);
	if (s->n >= QC_MIG_SHARED_MAX)
		return qc_error_set(err, QC_ERR_INVALID, "more than %d disks outside the VM",
			QC_MIG_SHARED_MAX);
	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "this host");
	if ((rc = check_file(ctx, vm, disk, path, format, size, writes, err)) < 0)
		return qc_error_prefix(err, "shared storage on host '%s'", host);
	s->v = qc_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct qc_mig_shared){.disk = qc_xstrdup(disk),
		.path = qc_xstrdup(path),
		.format = qc_xstrdup(format),
		.writes = writes};
	return 0;
}

int qc_mig_shared_match(
	const struct qc_mig_shared_set *s, const struct qc_domain *d, struct qc_error *err)
{
	size_t used = 0;

	for (size_t i = 0; i < d->n_disks; i++) {
		const struct qc_disk *k = &d->disks[i];
		const struct qc_mig_shared *m = NULL;

		if (k->owned)
			continue;
		for (size_t j = 0; j < s->n && !m; j++)
			if (strcmp(s->v[j].disk, k->name) == 0)
				m = &s->v[j];
		if (!m || strcmp(m->path, k->path) != 0 ||
			strcmp(m->format, k->format ? k->format : "raw") != 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"the migrated definition's disk '%s' (%s) outside the VM was not "
				"announced and checked as shared storage",
				k->name, k->path);
		if (qc_mig_shared_writes(k) && !m->writes)
			return qc_error_set(err, QC_ERR_INVALID,
				"the migrated definition writes disk '%s' (%s), announced as "
				"read-only",
				k->name, k->path);
		used++;
	}
	if (used != s->n)
		return qc_error_set(err, QC_ERR_INVALID,
			"%zu disk(s) announced as shared storage are none of the definition's",
			s->n - used);
	return 0;
}

void qc_mig_shared_clear(struct qc_mig_shared_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].disk);
		free(s->v[i].path);
		free(s->v[i].format);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
