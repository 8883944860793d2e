/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Clones (qemuctl.h "Clones"): a new VM on the source's read-only layers.
 *
 * The layers a clone shares (a snapshot's frozen layer and the frozen
 * layers below it, all in the source's directory) are hard links in the
 * clone's directory: the file system counts the references, so deleting
 * either VM (or removing a snapshot in either) unlinks only its own names
 * and never a layer the other still reads.  Frozen layers are never
 * written, except by a snapshot removal's safe rebase, which only adds
 * clusters equal to what the chain below already showed; either VM reads
 * the same data through a shared layer afterwards.  Backing images outside
 * the directory are shared as they are (catalog images by name, so
 * 'image rm' counts the clone as a user).
 *
 * The chain QEMU gets comes from domain.xml and the snapshot records, never
 * from image headers (driver/fdpass.c), so the clone carries the records of
 * the snapshots whose layers it shares, pointing at its own links.  A
 * shared layer's header still names its backing by the source's path;
 * qemuctl does not read it.
 *
 * What the clone gets of its own: the directory, a new qcow2 overlay on
 * the snapshot's layer (from a stopped source without a snapshot: a copy
 * of each disk's active layer), a new uuid (so a new cloud-init
 * instance-id, "iid-<uuid>-N"), MACs derived from it, fresh addresses in
 * named networks, the host name of its own name, a new sshd host key, a
 * copy of the varstore and of the seed's user files, and a new seed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/fdpass.h"
#include "driver/network.h"
#include "driver/seed.h"
#include "driver/snapshot_layer.h"
#include "driver/snapshot_reconcile.h"
#include "driver/vmop.h"
#include "net/net.h"
#include "storage/storage.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* What the clone's directory receives from the source's. */
struct clone_files {
	struct qc_strv link;  /* base names hard-linked (shared frozen layers) */
	struct qc_strv copy;  /* base names copied (active layers, varstore, seed files) */
	struct qc_strv dirs;  /* base names of scratch share directories, made empty */
	struct qc_strv layer; /* new overlay base names ... */
	struct qc_strv on;    /* ... and the source layer (absolute) each is made on */
};

static void clone_files_clear(struct clone_files *f)
{
	qc_strv_clear(&f->link);
	qc_strv_clear(&f->copy);
	qc_strv_clear(&f->dirs);
	qc_strv_clear(&f->layer);
	qc_strv_clear(&f->on);
}

static bool strv_has(const struct qc_strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return true;
	return false;
}

/* *p in from_dir becomes the same name in to_dir; anything else stays. */
void qc_driver_rehome(char **p, const char *from_dir, const char *to_dir)
{
	const char *base = *p ? qc_domain_home_base(from_dir, *p) : NULL;

	if (!base)
		return;
	char *n = qc_xasprintf("%s/%s", to_dir, base);
	free(*p);
	*p = n;
}

/* The record of the frozen layer file of disk, or NULL. */
static const struct qc_snap_disk *snap_disk(const struct qc_snap *s, const char *disk)
{
	for (size_t k = 0; k < s->n_disks; k++)
		if (strcmp(s->disks[k].disk, disk) == 0)
			return &s->disks[k];
	return NULL;
}

/* A base name for a new layer of disk, used neither in the source's directory nor by f. */
static char *new_layer_name(const struct qc_vmop *op, const struct clone_files *f, const char *disk)
{
	for (unsigned seq = 0;; seq++) {
		char *b = qc_xasprintf(
			"%s.L%llxc%u.qcow2", disk, (unsigned long long) qc_realtime_ms(), seq);

		if (faccessat(op->dfd, b, F_OK, AT_SYMLINK_NOFOLLOW) != 0 && !strv_has(&f->link, b) &&
			!strv_has(&f->copy, b) && !strv_has(&f->layer, b))
			return b;
		free(b);
	}
}

/*
 * Disk i of d (a copy of the source's domain) in the clone: with s, a new
 * overlay on s's frozen layer; without, a copy of the active layer.  The
 * layers below are linked when they are the source's files.
 */
static int plan_disk(const struct qc_vmop *op, const struct qc_snap *s, struct qc_domain *d,
	size_t i, struct clone_files *f, struct qc_error *err)
{
	struct qc_disk *k = &d->disks[i];
	struct qc_chain_layer chain[QC_CHAIN_MAX];
	const struct qc_snap_disk *sd = NULL;
	size_t n = 0;
	int rc;

	if (k->role == QC_ROLE_SEED)
		return 0;
	if (!k->owned) {
		if (k->readonly)
			return 0;
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s': disk '%s' is the writable file '%s', which a clone would write "
			"too; detach it first ('qemuctl detach-disk %s %s') or make it read-only",
			op->name, k->name, k->path, op->name, k->name);
	}
	if (s) {
		if (!(sd = snap_disk(s, k->name)))
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s': disk '%s' is not in snapshot '%s' (it was added later); "
				"detach it or clone a later snapshot",
				op->name, k->name, s->name);
		free(k->path);
		k->path = qc_xstrdup(sd->file);
		free(k->format);
		k->format = qc_xstrdup("qcow2");
		free(k->backing);
		k->backing = sd->backing ? qc_xstrdup(sd->backing) : NULL;
		free(k->backing_format);
		k->backing_format = sd->backing_format ? qc_xstrdup(sd->backing_format) : NULL;
	}
	if ((rc = qc_driver_disk_chain(d, &op->snaps, i, chain, &n, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	for (size_t j = 0; j < n; j++) {
		const char *base = qc_domain_home_base(op->vm_dir, chain[j].path);

		if (!base)
			continue;
		if (j == 0 && !s)
			qc_strv_push(&f->copy, base);
		else if (!strv_has(&f->link, base))
			qc_strv_push(&f->link, base);
	}
	if (s) {
		char *b = new_layer_name(op, f, k->name);

		qc_strv_push(&f->on, k->path);
		free(k->backing);
		k->backing = TAKE_PTR(k->path);
		free(k->backing_format);
		k->backing_format = qc_xstrdup("qcow2");
		k->path = qc_xasprintf("%s/%s", op->vm_dir, b);
		qc_strv_push_take(&f->layer, b);
	}
	return 0;
}

/* Deep copy of snapshot record s with its files moved from one directory to another. */
static void copy_snap(struct qc_snap *to, const struct qc_snap *s, const char *from_dir,
	const char *to_dir)
{
	to->name = qc_xstrdup(s->name);
	to->created_ms = s->created_ms;
	to->disks = qc_xzalloc((s->n_disks ? s->n_disks : 1) * sizeof(*to->disks));
	to->n_disks = s->n_disks;
	for (size_t k = 0; k < s->n_disks; k++) {
		const struct qc_snap_disk *a = &s->disks[k];
		struct qc_snap_disk *b = &to->disks[k];

		b->disk = qc_xstrdup(a->disk);
		b->file = qc_xstrdup(a->file);
		b->backing = a->backing ? qc_xstrdup(a->backing) : NULL;
		b->backing_format = a->backing_format ? qc_xstrdup(a->backing_format) : NULL;
		qc_driver_rehome(&b->file, from_dir, to_dir);
		qc_driver_rehome(&b->backing, from_dir, to_dir);
	}
}

/* The snapshots whose every layer the clone links (the history it shares). */
static void inherit_snaps(const struct qc_vmop *op, const struct clone_files *f,
	const char *new_dir, struct qc_snaps *ret)
{
	ret->v = qc_xzalloc((op->snaps.n ? op->snaps.n : 1) * sizeof(*ret->v));
	for (size_t i = 0; i < op->snaps.n; i++) {
		const struct qc_snap *s = &op->snaps.v[i];
		bool all = !s->pending && s->n_disks > 0;

		for (size_t k = 0; all && k < s->n_disks; k++) {
			const char *base = qc_domain_home_base(op->vm_dir, s->disks[k].file);

			all = base && strv_has(&f->link, base);
		}
		if (all)
			copy_snap(&ret->v[ret->n++], s, op->vm_dir, new_dir);
	}
}

/* The clone's definition: d (the source's) with its own identity, files at new_dir. */
static void new_identity(struct qc_domain *d, const char *new_name, const char *src_dir,
	const char *new_dir, struct clone_files *f)
{
	free(d->name);
	d->name = qc_xstrdup(new_name);
	qc_domain_gen_uuid(d);
	d->autostart = false;
	for (size_t i = 0; i < d->n_disks; i++) {
		qc_driver_rehome(&d->disks[i].path, src_dir, new_dir);
		qc_driver_rehome(&d->disks[i].backing, src_dir, new_dir);
	}
	for (size_t i = 0; i < d->n_nics; i++) {
		struct qc_nic *n = &d->nics[i];

		qc_net_mac_gen(d->uuid, (unsigned) i, n->mac);
		/* a fresh lease (qc_network_domain_create) */
		if (n->type == QC_NIC_NETWORK) {
			free(n->ip);
			n->ip = NULL;
		}
		/* both VMs may run: the clone's forwards take free host ports */
		for (size_t k = 0; k < n->n_fwds; k++)
			n->fwds[k].host_port = 0;
	}
	for (size_t i = 0; i < d->n_shares; i++)
		if (d->shares[i].empty) {
			const char *b = qc_domain_home_base(src_dir, d->shares[i].path);

			if (b)
				qc_strv_push(&f->dirs, b);
			qc_driver_rehome(&d->shares[i].path, src_dir, new_dir);
		}
	if (d->nvram) {
		const char *b = qc_domain_home_base(src_dir, d->nvram);

		if (b)
			qc_strv_push(&f->copy, b);
		qc_driver_rehome(&d->nvram, src_dir, new_dir);
	}
	char **seed_files[] = {&d->seed.user_data, &d->seed.network_config};
	for (size_t i = 0; i < QC_ARRAY_SIZE(seed_files); i++) {
		const char *b = *seed_files[i] ? qc_domain_home_base(src_dir, *seed_files[i]) : NULL;

		if (b)
			qc_strv_push(&f->copy, b);
		qc_driver_rehome(seed_files[i], src_dir, new_dir);
	}
	/* a new seed: host name, instance id and host key of the clone's own */
	free(d->seed.hostname);
	d->seed.hostname = NULL;
	d->seed.generation = 0;
	free(d->seed.content_hash);
	d->seed.content_hash = NULL;
}

/* Fill directory tmp_dfd (tmp_dir) from the source's as f says. */
static int populate(struct qc_vmop *op, int tmp_dfd, const char *tmp_dir,
	const struct clone_files *f, struct qc_error *err)
{
	int rc;

	for (size_t i = 0; i < f->link.n; i++) {
		cleanup_free char *src = qc_xasprintf("%s/%s", op->vm_dir, f->link.v[i]);
		struct stat st;

		/* a layer is a regular file of the source: never a link to elsewhere */
		if ((rc = qc_refuse_symlink(op->dfd, f->link.v[i], src, err)) < 0)
			return rc;
		if (fstatat(op->dfd, f->link.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return qc_error_errno(err, errno, "layer '%s'", src);
		if (!S_ISREG(st.st_mode))
			return qc_error_set(err, QC_ERR_INVALID, "layer '%s' is not a regular file", src);
		if (linkat(op->dfd, f->link.v[i], tmp_dfd, f->link.v[i], 0) < 0)
			return qc_error_errno(err, errno, "link layer '%s/%s' into '%s'",
				op->vm_dir, f->link.v[i], tmp_dir);
		qc_fault_stepf("clone:link %s", f->link.v[i]);
	}
	for (size_t i = 0; i < f->copy.n; i++) {
		cleanup_free char *src = qc_xasprintf("%s/%s", op->vm_dir, f->copy.v[i]);

		if ((rc = qc_refuse_symlink(op->dfd, f->copy.v[i], src, err)) < 0 ||
			(rc = qc_copy_file(src, tmp_dfd, f->copy.v[i], 0600, err)) < 0)
			return rc;
		qc_fault_stepf("clone:copy %s", f->copy.v[i]);
	}
	for (size_t i = 0; i < f->layer.n; i++) {
		cleanup_free char *p = qc_xasprintf("%s/%s", tmp_dir, f->layer.v[i]);

		if ((rc = qc_snap_make_layer(op, p, f->on.v[i], err)) < 0)
			return rc;
		qc_fault_stepf("clone:layer %s", f->layer.v[i]);
	}
	for (size_t i = 0; i < f->dirs.n; i++)
		if (mkdirat(tmp_dfd, f->dirs.v[i], 0700) < 0)
			return qc_error_errno(err, errno, "mkdir '%s/%s'", tmp_dir, f->dirs.v[i]);
	return 0;
}

/* The source, locked: a snapshot of it, or (no snap) the source stopped. */
static int begin_source(qc_ctx *ctx, const char *name, const char *snap, struct qc_vmop *op,
	struct qc_snap **ret, struct qc_error *err)
{
	int rc;

	*ret = NULL;
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_SNAPS, op, err)) < 0 ||
		(rc = qc_snap_reconcile(op, err)) < 0)
		return rc;
	if (!snap)
		return qc_vmop_need_stopped(op,
			"stop it first, or clone one of its snapshots (--snapshot SNAP), whose "
			"layers are read-only",
			err);
	if (!(*ret = qc_snaps_find(&op->snaps, snap)) || (*ret)->pending)
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"VM '%s' has no snapshot '%s'; 'qemuctl snapshot list %s' lists them", name,
			snap, name);
	return 0;
}

QC_PUBLIC int qc_vm_clone(qc_ctx *ctx, const char *name, const char *new_name, const char *snap,
	struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_free char *new_dir = NULL, *tmp_name = NULL, *tmp_dir = NULL;
	cleanup_close int vms_dfd = -1, tmp_dfd = -1;
	struct clone_files f __attribute__((cleanup(clone_files_clear))) = {0};
	struct qc_snaps snaps __attribute__((cleanup(qc_snaps_clear))) = {0};
	struct qc_error scratch = {0};
	struct qc_snap *s;
	struct stat st;
	bool leased = false;
	long line = 0;
	int rc;

	if ((rc = qc_validate_name("VM", new_name, err)) < 0 ||
		(snap && (rc = qc_validate_name("snapshot", snap, err)) < 0))
		return rc;
	new_dir = qc_driver_vm_dir(ctx, new_name);
	if ((rc = qc_refuse_symlink(AT_FDCWD, new_dir, new_dir, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", new_name);
	if (lstat(new_dir, &st) == 0)
		return qc_error_set(err, QC_ERR_EXISTS,
			"VM '%s' already exists; pick another name for the clone", new_name);
	if ((rc = begin_source(ctx, name, snap, &op, &s, err)) < 0)
		return rc;
	d = qc_domain_copy(op.d);
	for (size_t i = 0; i < d->n_disks; i++)
		if ((rc = plan_disk(&op, s, d, i, &f, err)) < 0)
			return rc;
	inherit_snaps(&op, &f, new_dir, &snaps);
	new_identity(d, new_name, op.vm_dir, new_dir, &f);
	qc_snaps_store(d, &snaps);
	if ((rc = qc_domain_validate(d, err)) < 0 ||
		(rc = qc_domain_check_owned(d, ctx->root, err)) < 0 ||
		(rc = qc_domain_check_snapshots(d, ctx->root, &line, err)) < 0)
		return qc_error_prefix(err, "clone '%s' of VM '%s'", new_name, name);
	qc_fault_step("clone:planned");

	if ((rc = qc_driver_vms_open(ctx, true, &vms_dfd, err)) < 0)
		return rc;
	/* ".create-": a clone killed half-way is swept like a create (driver/define.c) */
	tmp_name = qc_xasprintf(".create-%s.%d", new_name, (int) getpid());
	tmp_dir = qc_xasprintf("%s/vms/%s", ctx->root, tmp_name);
	if (mkdirat(vms_dfd, tmp_name, 0700) < 0)
		return qc_error_errno(err, errno, "mkdir '%s'", tmp_dir);
	tmp_dfd = openat(vms_dfd, tmp_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (tmp_dfd < 0) {
		rc = qc_error_errno(err, errno, "open '%s'", tmp_dir);
		goto fail;
	}
	qc_fault_step("clone:dir");
	if ((rc = populate(&op, tmp_dfd, tmp_dir, &f, err)) < 0)
		goto fail;
	if ((rc = qc_network_domain_create(ctx, d, err)) < 0)
		goto fail;
	leased = true;
	qc_fault_step("clone:leased");
	rc = qc_driver_seed_build_staged(d, tmp_dfd, tmp_dir, new_dir, ctx->root, err);
	if (rc < 0) {
		qc_error_prefix(err, "seed");
		goto fail;
	}
	qc_fault_step("clone:seed");
	if ((rc = qc_driver_vm_lock_files(tmp_dfd, err)) < 0 ||
		(rc = qc_domain_save(d, tmp_dfd, QC_VM_DOMAIN, err)) < 0)
		goto fail;
	qc_driver_summary_save(tmp_dfd, d);
	qc_fault_step("clone:domain-xml");
	if (renameat2(vms_dfd, tmp_name, vms_dfd, new_name, RENAME_NOREPLACE) < 0) {
		rc = errno == EEXIST || errno == ENOTEMPTY
			     ? qc_error_set(err, QC_ERR_EXISTS, "VM '%s' already exists", new_name)
			     : qc_error_errno(err, errno, "rename '%s' to '%s'", tmp_dir, new_dir);
		goto fail;
	}
	(void) qc_fsync_dir(vms_dfd, NULL);
	return 0;
fail:
	qc_error_prefix(err, "clone '%s' of VM '%s'", new_name, name);
	if (leased)
		(void) qc_network_domain_release(ctx, d, &scratch);
	(void) qc_rm_rf_at(vms_dfd, tmp_name, &scratch);
	return rc;
}
