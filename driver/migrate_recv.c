/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The target of a migration (`qemuctl migrate-receive`, reached over ssh):
 * it speaks the protocol of driver/migrate_chan.h on stdin/stdout and treats
 * all it receives as coming from outside.  The VM is assembled in
 * vms/.migrate-NAME.PID: file names must be plain names that are not the
 * VM's bookkeeping, each file's size must fit the file system and its
 * SHA-256 must match; the definition is held to what `define` accepts
 * (its files in <root>/vms/NAME, its disks outside the VM the ones
 * announced as shared storage and checked here: driver/migrate_shared.h)
 * and the directory is renamed into place only then (RENAME_NOREPLACE).  Any failure, or the source going away
 * before the commit, removes the work directory: nothing is left.
 *
 * A cluster defines the same VM on every node: a VM of the name defined here
 * already is replaced when it is the same VM (its UUID the one the source
 * announces and the definition has), stopped, with no file of its own (no
 * disk, seed, varstore or snapshot: its disks all on shared storage) and no
 * address in a named network.  Its lock is held from the 'begin' to the
 * end; the commit exchanges the two directories (RENAME_EXCHANGE), and the
 * old one is removed once the move succeeded, or put back as it was.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/migrate_chan.h"
#include "driver/migrate_live.h"
#include "driver/migrate_shared.h"
#include "driver/network.h"
#include "driver/vmop.h"
#include "qmp/qmp.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

struct recv {
	qc_ctx *ctx;
	struct qc_mig_chan ch;
	int vms_dfd, dfd;
	char *name, *tmp_name;
	struct qc_strv files; /* received so far */
	struct qc_strv bases, base_sha; /* names announced for backing images, their SHA-256 */
	bool committed;
	bool live, started, running; /* a running VM's move: QEMU waits for it, then runs */
	char *from; /* the source's host name, as it said, or NULL */
	struct qc_strv overlays; /* a running VM's disks, made here empty */
	struct qc_mig_shared_set shared; /* disks outside the VM, checked here */
	uint64_t overlay_size[QC_MIG_LIVE_DISKS];
	struct qc_vmop op; /* the started VM's QEMU */
	struct qc_vmop old; /* the same VM defined here, locked: replaced at the commit */
	bool swapped; /* vms/NAME is the move's; the old VM's directory is at tmp_name */
	int fds[QC_MUX_MAX_STREAMS]; /* streams to relay once the reply is sent */
	size_t n_fds;
	struct qc_mux *mux;
};

static bool strv_has(const struct qc_strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->v[i], s) == 0)
			return true;
	return false;
}

static const char *const reserved[] = {QC_VM_LOCK, QC_VM_MONITOR_LOCK, QC_VM_STATE, QC_VM_DOMAIN,
	QC_VM_DOMAIN_CACHE, QC_VM_OP_RECORD, "summary.json", QC_VM_EVENTS, QC_VM_MIGRATED_TO};

/* A file the source may send: a plain name that is none of the VM's bookkeeping. */
static int check_file_name(const char *name, struct qc_error *err)
{
	int rc;

	if ((rc = qc_validate_name("file", name, err)) < 0)
		return rc;
	for (size_t i = 0; i < QC_ARRAY_SIZE(reserved); i++)
		if (strcmp(name, reserved[i]) == 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"file '%s' is the VM's own bookkeeping, not sent", name);
	return 0;
}

/* A host name as the source gives it: letters, digits, '.', '-', '_', at most 253. */
static int check_host_name(const char *h, struct qc_error *err)
{
	size_t n = strlen(h);

	if (n == 0 || n > 253 ||
		strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789.-_") != n)
		return qc_error_set(err, QC_ERR_INVALID,
			"the source's host name '%.64s' is not a host name", h);
	return 0;
}

/*
 * The moved VM's first event, in its events log here: where it came from
 * (the host name the source gave; the address sshd saw, $SSH_CONNECTION).
 */
static int record_arrival(struct recv *r, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *line = NULL, *addr = NULL;
	cleanup_close int fd = -1;
	const char *conn = getenv("SSH_CONNECTION");
	unsigned char ip[16];
	char ts[40];
	size_t len;
	int rc;

	if (conn) {
		addr = qc_xstrndup(conn, strcspn(conn, " "));
		if (inet_pton(AF_INET, addr, ip) != 1 && inet_pton(AF_INET6, addr, ip) != 1) {
			free(addr);
			addr = NULL;
		}
	}
	qc_format_time_utc(qc_realtime_ms(), ts, sizeof(ts));
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "timestamp", ts);
	qc_jgen_kstring(g, "event", "QEMUCTL_MIGRATED");
	qc_jgen_key(g, "data");
	qc_jgen_map_open(g);
	if (r->from)
		qc_jgen_kstring(g, "from", r->from);
	if (addr)
		qc_jgen_kstring(g, "address", addr);
	qc_jgen_kstring(g, "mode", r->live ? "running" : "offline");
	qc_jgen_map_close(g);
	qc_jgen_map_close(g);
	if ((rc = qc_jgen_finish(g, &line, &len, err)) < 0)
		return rc;
	line[len] = '\n'; /* the NUL becomes the line's end */
	fd = openat(
		r->dfd, QC_VM_EVENTS, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return qc_error_errno(err, errno, "create %s", QC_VM_EVENTS);
	if ((rc = qc_write_all(fd, line, len + 1, err)) < 0)
		return rc;
	return fsync(fd) < 0 ? qc_error_errno(err, errno, "fsync %s", QC_VM_EVENTS) : 0;
}

/* The first file of the old VM's directory that is its own, or NULL (*ents to free). */
static const char *own_file(int dfd, struct dirent ***ents, int *n)
{
	const char *own = NULL;

	*n = scandirat(dfd, ".", ents, NULL, alphasort);
	for (int i = 0; i < *n && !own; i++)
		if (!qc_mig_host_record((*ents)[i]->d_name))
			own = (*ents)[i]->d_name;
	return *n < 0 ? "?" : own;
}

/* VM name defined here already: the same VM as the source's (uuid), stopped, owning nothing. */
static int replaceable(struct recv *r, const char *name, const char *uuid, struct qc_error *err)
{
	const struct qc_domain *d;
	struct dirent **ents = NULL;
	const char *own;
	int n, rc = 0;

	if (!uuid)
		return qc_error_set(err, QC_ERR_EXISTS,
			"VM '%s' already exists in %s; delete or rename it there first", name,
			r->ctx->root);
	if ((rc = qc_vmop_begin_as("migrate-receive", r->ctx, name,
		     QC_VMOP_DOMAIN | QC_VMOP_RECORD_END, &r->old, err)) < 0)
		return qc_error_prefix(err, "VM '%s' already exists in %s", name, r->ctx->root);
	d = r->old.d;
	if (strcmp(d->uuid_str, uuid) != 0)
		return qc_error_set(err, QC_ERR_EXISTS,
			"VM '%s' already exists in %s as another VM (UUID %s, the source's %s); "
			"delete or rename it there first",
			name, r->ctx->root, d->uuid_str, uuid);
	if ((rc = qc_vmop_need_stopped(&r->old,
		     "the move replaces the same VM's definition only while it is stopped there",
		     err)) < 0)
		return qc_error_prefix(err, "%s", r->ctx->root);
	for (size_t i = 0; i < d->n_nics; i++)
		if (d->nics[i].type == QC_NIC_NETWORK)
			return qc_error_set(err, QC_ERR_EXISTS,
				"VM '%s' in %s has an address in network '%s', which the move "
				"would leave behind; detach NIC '%s' there first",
				name, r->ctx->root, d->nics[i].network, d->nics[i].name);
	own = own_file(r->old.dfd, &ents, &n);
	if (own)
		rc = qc_error_set(err, QC_ERR_EXISTS,
			"VM '%s' in %s has files of its own (%s), which the move would replace; "
			"the same VM is replaced only with every disk on shared storage: delete "
			"it there first ('qemuctl delete %s')",
			name, r->ctx->root, own, name);
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

static int do_begin(struct recv *r, const qc_json *req, struct qc_jgen *g, struct qc_error *err)
{
	const char *name, *from = qc_json_string(qc_json_get(req, "from"));
	const qc_json *u = qc_json_get(req, "uuid");
	char uuid[37] = "";
	uint8_t bytes[16];
	int rc;

	if (r->name)
		return qc_error_set(err, QC_ERR_PROTO, "a second 'begin'");
	if ((rc = qc_json_get_string(req, "name", &name, err)) < 0 ||
		(rc = qc_validate_name("VM", name, err)) < 0 ||
		(from && (rc = check_host_name(from, err)) < 0))
		return rc;
	/* the source's VM UUID, when it sends one: in the form domain.xml keeps */
	if (u) {
		if (!qc_json_string(u) || qc_uuid_parse(qc_json_string(u), bytes) < 0)
			return qc_error_set(err, QC_ERR_PROTO,
				"'begin': 'uuid' is no UUID (8-4-4-4-12 hex digits)");
		qc_uuid_format(bytes, uuid);
	}
	r->from = from ? qc_xstrdup(from) : NULL;
	if ((rc = qc_driver_vms_open(r->ctx, true, &r->vms_dfd, err)) < 0)
		return rc;
	qc_driver_sweep_dead_builds(r->vms_dfd);
	if (faccessat(r->vms_dfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
		(rc = replaceable(r, name, uuid[0] ? uuid : NULL, err)) < 0)
		return rc;
	r->tmp_name = qc_xasprintf(".migrate-%s.%d", name, (int) getpid());
	if (mkdirat(r->vms_dfd, r->tmp_name, 0700) < 0)
		return qc_error_errno(err, errno, "mkdir vms/%s", r->tmp_name);
	r->name = qc_xstrdup(name);
	r->live = qc_json_as_bool(qc_json_get(req, "live"), &r->live) && r->live;
	r->dfd = openat(r->vms_dfd, r->tmp_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (r->dfd < 0)
		return qc_error_errno(err, errno, "open vms/%s", r->tmp_name);
	{
		cleanup_free char *dir = qc_domain_home_dir(r->ctx->root, name);

		qc_jgen_kstring(g, "dir", dir);
	}
	return 0;
}

/* A backing image: the catalog's when it holds a file of that SHA-256, else sent. */
static int do_image(struct recv *r, const qc_json *req, struct qc_jgen *g, struct qc_error *err)
{
	struct qc_catalog_entry **v = NULL;
	const char *sha;
	size_t n = 0;
	int rc;

	if (!r->name)
		return qc_error_set(err, QC_ERR_PROTO, "'image' before 'begin'");
	if ((rc = qc_json_get_string(req, "sha256", &sha, err)) < 0)
		return rc;
	if (!qc_sha256_valid(sha))
		return qc_error_set(err, QC_ERR_INVALID, "'%s' is not a SHA-256", sha);
	if (qc_catalog_list(r->ctx->root, &v, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (v[i]->qcow2_sha256 && strcmp(v[i]->qcow2_sha256, sha) == 0) {
				qc_jgen_kstring(g, "path", v[i]->path);
				qc_jgen_kstring(g, "image", v[i]->name);
				qc_catalog_list_free(v, n);
				return 0;
			}
		}
		qc_catalog_list_free(v, n);
	}
	{
		char *base = qc_xasprintf("base-%.16s.img", sha);

		qc_jgen_kstring(g, "send", base);
		qc_strv_push_take(&r->bases, base);
		qc_strv_push(&r->base_sha, sha);
	}
	return 0;
}

/* A request's file name (one the source may send, not sent yet) and size. */
static int file_request(
	struct recv *r, const qc_json *req, const char **name, uint64_t *size, struct qc_error *err)
{
	int rc;

	if ((rc = qc_json_get_string(req, "name", name, err)) < 0 ||
		(rc = qc_json_get_uint(req, "size", size, err)) < 0 ||
		(rc = check_file_name(*name, err)) < 0)
		return rc;
	if (strv_has(&r->files, *name))
		return qc_error_set(err, QC_ERR_PROTO, "file '%s' sent twice", *name);
	return 0;
}

/* A file of the VM: created anew, size checked against the free space, SHA-256 checked. */
static int do_file(struct recv *r, const qc_json *req, struct qc_error *err)
{
	char hex[QC_SHA256_HEX_LEN + 1];
	cleanup_close int fd = -1;
	struct statvfs vfs;
	const char *name;
	uint64_t size;
	int rc;

	if (!r->name)
		return qc_error_set(err, QC_ERR_PROTO, "'file' before 'begin'");
	if ((rc = file_request(r, req, &name, &size, err)) < 0)
		return rc;
	if (fstatvfs(r->dfd, &vfs) == 0 && size / vfs.f_frsize >= vfs.f_bavail)
		return qc_error_set(err, ENOSPC,
			"file '%s' of %llu bytes does not fit into %s (%llu bytes free)", name,
			(unsigned long long) size, r->ctx->root,
			(unsigned long long) vfs.f_bavail * vfs.f_frsize);
	fd = openat(r->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return qc_error_errno(err, errno, "create %s", name);
	qc_strv_push(&r->files, name);
	if ((rc = qc_mig_recv_data(&r->ch, fd, size, hex, err)) < 0)
		return qc_error_prefix(err, "file '%s'", name);
	for (size_t i = 0; i < r->bases.n; i++)
		if (strcmp(r->bases.v[i], name) == 0 && strcmp(r->base_sha.v[i], hex) != 0)
			return qc_error_set(err, QC_ERR_CHECKSUM,
				"backing image '%s': SHA-256 %s, announced %s", name, hex,
				r->base_sha.v[i]);
	if (fsync(fd) < 0)
		return qc_error_errno(err, errno, "fsync %s", name);
	return 0;
}

/* A running VM's disk: made here, empty on its backing, of its virtual size, at the commit. */
static int do_overlay(struct recv *r, const qc_json *req, struct qc_error *err)
{
	const char *name;
	uint64_t size;
	int rc;

	if (!r->name || !r->live)
		return qc_error_set(err, QC_ERR_PROTO, "'overlay' without a running VM's 'begin'");
	if ((rc = file_request(r, req, &name, &size, err)) < 0)
		return rc;
	if (r->overlays.n >= QC_MIG_LIVE_DISKS)
		return qc_error_set(err, QC_ERR_INVALID, "more than %d disks", QC_MIG_LIVE_DISKS);
	if (size == 0 || size > QC_MIGRATE_DISK_MAX)
		return qc_error_set(err, QC_ERR_INVALID,
			"disk '%s': a virtual size of %llu bytes (1 to %llu)", name,
			(unsigned long long) size, (unsigned long long) QC_MIGRATE_DISK_MAX);
	r->overlay_size[r->overlays.n] = size;
	qc_strv_push(&r->overlays, name);
	qc_strv_push(&r->files, name);
	return 0;
}

/*
 * The announced disks of d made in the work directory: each a mirrored disk
 * of d, a qcow2 layer naming its backing where the VM will be (not opened
 * now: a backing sent lies in the work directory until the commit), else an
 * empty image of its format (qcow2 or raw) the mirror fills whole.
 */
static int make_overlays(struct recv *r, const struct qc_domain *d, struct qc_error *err)
{
	cleanup_free char *dir = qc_domain_home_dir(r->ctx->root, r->name);
	cleanup_free char *work = qc_xasprintf("%s/vms/%s", r->ctx->root, r->tmp_name);
	size_t used = 0;
	int rc;

	for (size_t i = 0; i < d->n_disks; i++) {
		const struct qc_disk *k = &d->disks[i];
		const char *base = qc_domain_home_base(dir, k->path);
		cleanup_free char *path = NULL;
		size_t o;

		for (o = 0; base && o < r->overlays.n; o++)
			if (strcmp(r->overlays.v[o], base) == 0)
				break;
		if (!base || o == r->overlays.n)
			continue;
		used++;
		if (!qc_mig_live_mirrored(k))
			return qc_error_set(err, QC_ERR_INVALID,
				"disk '%s', announced for a copy, is no writable disk of the VM",
				k->name);
		path = qc_xasprintf("%s/%s", work, base);
		/* only a qcow2 disk has a backing (qc_domain_validate) */
		rc = k->backing ? qc_img_create_layer(path, k->backing, k->backing_format,
					  r->overlay_size[o], err)
				: qc_img_create(path, k->format, r->overlay_size[o], err);
		if (rc < 0)
			return qc_error_prefix(err, "disk '%s'", k->name);
	}
	if (used != r->overlays.n)
		return qc_error_set(err, QC_ERR_INVALID,
			"%zu disk(s) announced for a copy are none of the definition's",
			r->overlays.n - used);
	return 0;
}

/* The definition, checked as define checks one, saved, the directory renamed into place. */
static int do_commit(struct recv *r, const qc_json *req, struct qc_jgen *g, struct qc_error *err)
{
	cleanup_domain struct qc_domain *d = NULL;
	const char *xml;
	int rc;

	if (!r->name)
		return qc_error_set(err, QC_ERR_PROTO, "'commit' before 'begin'");
	if ((rc = qc_json_get_string(req, "xml", &xml, err)) < 0)
		return rc;
	if (strlen(xml) > QC_XML_MAX_BYTES)
		return qc_error_set(err, QC_ERR_INVALID, "the definition is over %d bytes",
			QC_XML_MAX_BYTES);
	if ((rc = qc_domain_from_xml_at(xml, strlen(xml), "the migrated definition",
		     r->ctx->root, NULL, NULL, &d, err)) < 0 ||
		(rc = qc_driver_define_check(r->ctx, d, "the migrated definition", err)) < 0)
		return rc;
	if (strcmp(d->name, r->name) != 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"the migrated definition names VM '%s', not '%s'", d->name, r->name);
	if (r->old.d && strcmp(d->uuid_str, r->old.d->uuid_str) != 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"the migrated definition has UUID %s, VM '%s' here %s", d->uuid_str,
			r->name, r->old.d->uuid_str);
	for (size_t i = 0; i < d->n_disks; i++) {
		cleanup_free char *dir = qc_domain_home_dir(r->ctx->root, r->name);
		const char *base = qc_domain_home_base(dir, d->disks[i].path);

		if (d->disks[i].owned && (!base || !strv_has(&r->files, base)))
			return qc_error_set(err, QC_ERR_INVALID,
				"the migrated definition's disk '%s' (%s) was not sent",
				d->disks[i].name, d->disks[i].path);
	}
	if ((rc = qc_mig_shared_match(&r->shared, d, err)) < 0 ||
		(rc = make_overlays(r, d, err)) < 0 ||
		(rc = qc_driver_vm_lock_files(r->dfd, err)) < 0 ||
		(rc = record_arrival(r, err)) < 0 ||
		(rc = qc_domain_save(d, r->dfd, QC_VM_DOMAIN, err)) < 0)
		return rc;
	qc_driver_summary_save(r->dfd, d);
	if ((rc = qc_fsync_dir(r->dfd, err)) < 0)
		return rc;
	qc_fault_step("migrate-receive:commit");
	if (r->old.d) {
		if (renameat2(r->vms_dfd, r->tmp_name, r->vms_dfd, r->name, RENAME_EXCHANGE) < 0)
			return qc_error_errno(err, errno, "exchange vms/%s and vms/%s", r->tmp_name,
				r->name);
		r->swapped = r->committed = true;
		(void) qc_fsync_dir(r->vms_dfd, NULL);
		/* the source keeps its definition too, when it is no more than that */
		qc_jgen_kbool(g, "replaced", true);
		return 0;
	}
	if (renameat2(r->vms_dfd, r->tmp_name, r->vms_dfd, r->name, RENAME_NOREPLACE) < 0)
		return errno == EEXIST || errno == ENOTEMPTY
			       ? qc_error_set(err, QC_ERR_EXISTS, "VM '%s' already exists in %s",
					 r->name, r->ctx->root)
			       : qc_error_errno(err, errno, "rename vms/%s", r->tmp_name);
	r->committed = true;
	(void) qc_fsync_dir(r->vms_dfd, NULL);
	return 0;
}

/* A committed move undone: its VM removed, the one defined here before put back. */
static void uncommit(struct recv *r)
{
	struct qc_error e2 = {0};

	(void) qc_vm_delete(r->ctx, r->name, true, &e2);
	r->committed = false;
	if (r->swapped &&
		renameat2(r->vms_dfd, r->tmp_name, r->vms_dfd, r->name, RENAME_NOREPLACE) == 0) {
		r->swapped = false;
		free(r->tmp_name);
		r->tmp_name = NULL; /* nothing of the move's left to remove */
		(void) qc_fsync_dir(r->vms_dfd, NULL);
	}
}

/*
 * A running VM's move: its QEMU started waiting for the migration, its
 * disks served over NBD; after the reply the channel carries streams.
 */
static int do_listen(struct recv *r, struct qc_error *err)
{
	cleanup_free char *rdir = NULL;
	int rc;

	if (!r->committed || !r->live || r->started)
		return qc_error_set(err, QC_ERR_PROTO, "'listen' out of order");
	if ((rc = qc_driver_start_incoming(r->ctx, r->name, err)) < 0) {
		uncommit(r);
		return rc;
	}
	r->started = true;
	rdir = qc_driver_run_dir(r->ctx, r->name);
	if ((rc = qc_vmop_begin(r->ctx, r->name, QC_VMOP_NO_LOCK | QC_VMOP_RUNNING | QC_VMOP_DOMAIN,
		     &r->op, err)) < 0 ||
		(rc = qc_vmop_qmp(&r->op, err)) < 0 ||
		(rc = qc_mig_live_incoming(r->op.q, r->op.d, rdir, r->fds, &r->n_fds, err)) < 0)
		return qc_error_prefix(err, "VM '%s': waiting for its migration", r->name);
	return 0;
}

static int do_run(struct recv *r, struct qc_error *err)
{
	int rc;

	if (!r->started || r->running)
		return qc_error_set(err, QC_ERR_PROTO, "'run' out of order");
	qc_fault_step("migrate-receive:run");
	if ((rc = qc_mig_live_incoming_done(r->op.q, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", r->name);
	/* QEMU takes one QMP client at a time: resume's own */
	qc_qmp_close(r->op.q);
	r->op.q = NULL;
	if ((rc = qc_vm_resume(r->ctx, r->name, err)) < 0)
		return rc;
	r->running = true;
	return 0;
}

static int serve(struct recv *r, struct qc_error *err)
{
	for (;;) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
		cleanup_json qc_json *req = NULL;
		const char *op;
		int rc;

		if ((rc = qc_mig_recv(&r->ch, &req, err)) < 0) {
			if (rc == -QC_ERR_EOF && r->committed && (!r->live || r->running))
				return 0;
			return qc_error_prefix(err, "the source");
		}
		if ((rc = qc_json_get_string(req, "op", &op, err)) < 0)
			return rc;
		qc_jgen_map_open(g);
		qc_jgen_kbool(g, "ok", true);
		if (strcmp(op, "listen") == 0)
			rc = do_listen(r, err);
		else if (strcmp(op, "run") == 0)
			rc = do_run(r, err);
		else if (r->committed)
			rc = qc_error_set(err, QC_ERR_PROTO, "'%s' after the commit", op);
		else if (strcmp(op, "begin") == 0)
			rc = do_begin(r, req, g, err);
		else if (strcmp(op, "image") == 0)
			rc = do_image(r, req, g, err);
		else if (strcmp(op, "file") == 0)
			rc = do_file(r, req, err);
		else if (strcmp(op, "overlay") == 0)
			rc = do_overlay(r, req, err);
		else if (strcmp(op, "shared") == 0)
			rc = r->name ? qc_mig_shared_receive(r->ctx, r->name, req, &r->shared, err)
				     : qc_error_set(err, QC_ERR_PROTO, "'shared' before 'begin'");
		else if (strcmp(op, "commit") == 0)
			rc = do_commit(r, req, g, err);
		else
			rc = qc_error_set(err, QC_ERR_PROTO, "unknown request '%s'", op);
		if (rc < 0)
			return rc;
		qc_jgen_map_close(g);
		if ((rc = qc_mig_send(&r->ch, g, err)) < 0)
			return rc;
		if (r->n_fds > 0) {
			size_t n = r->n_fds;

			r->n_fds = 0;
			if ((rc = qc_mig_live_switch(&r->ch, r->ch.in, r->ch.out, r->fds, n, NULL,
				     &r->mux, err)) < 0)
				return rc;
		}
	}
}

static int hello(struct recv *r, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *h = NULL;
	int64_t v;
	int rc;

	qc_jgen_map_open(g);
	qc_jgen_kint(g, "qemuctl-migrate", QC_MIGRATE_PROTOCOL);
	qc_jgen_kstring(g, "root", r->ctx->root);
	qc_jgen_map_close(g);
	if ((rc = qc_mig_send(&r->ch, g, err)) < 0 || (rc = qc_mig_recv(&r->ch, &h, err)) < 0)
		return rc;
	if (!qc_json_as_int(qc_json_get(h, "qemuctl-migrate"), &v))
		return qc_error_set(err, QC_ERR_PROTO, "the source sent no migration hello");
	if (v != QC_MIGRATE_PROTOCOL)
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"the source speaks migration protocol %lld, this qemuctl %d", (long long) v,
			QC_MIGRATE_PROTOCOL);
	return 0;
}

QC_PUBLIC int qc_vm_migrate_receive(qc_ctx *ctx, int in_fd, int out_fd, struct qc_error *err)
{
	struct recv r = {.ctx = ctx, .vms_dfd = -1, .dfd = -1, .op = QC_VMOP_INIT, .old = QC_VMOP_INIT};
	struct qc_error scratch = {0};
	int rc;

	qc_mig_chan_init(&r.ch, in_fd, out_fd);
	rc = hello(&r, err);
	if (rc == 0)
		rc = serve(&r, err);
	if (rc < 0) {
		(void) qc_mig_send_error(&r.ch, err ? err->msg : "failed", &scratch);
		/* the relay ends before QEMU does: nothing more reaches it */
		qc_mux_free(r.mux);
		r.mux = NULL;
		qc_vmop_end(&r.op);
		/* a running VM's move that did not finish: no copy stays here */
		if (r.committed && r.live && !r.running)
			uncommit(&r);
		/* (swapped: the old VM's directory, left where it is when it could not go back) */
		if (r.tmp_name && !r.committed && !r.swapped)
			(void) qc_rm_rf_at(r.vms_dfd, r.tmp_name, &scratch);
	} else if (r.swapped) {
		/* the move's VM is in place: the one it replaced goes */
		qc_vmop_end(&r.old);
		(void) qc_rm_rf_at(r.vms_dfd, r.tmp_name, &scratch);
	}
	qc_mux_free(r.mux);
	qc_vmop_end(&r.op);
	qc_vmop_end(&r.old);
	for (size_t i = 1; i < r.n_fds; i++)
		close(r.fds[i]);
	if (r.dfd >= 0)
		close(r.dfd);
	if (r.vms_dfd >= 0)
		close(r.vms_dfd);
	qc_mig_chan_clear(&r.ch);
	free(r.name);
	free(r.tmp_name);
	free(r.from);
	qc_strv_clear(&r.files);
	qc_strv_clear(&r.bases);
	qc_strv_clear(&r.base_sha);
	qc_strv_clear(&r.overlays);
	qc_mig_shared_clear(&r.shared);
	return rc;
}
