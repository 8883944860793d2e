/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Migration to another host's qemuctl (qemuctl.h "Migration"): one ssh
 * connection to `qemuctl [--root ROOT] migrate-receive` there
 * (driver/migrate_link.c) speaking the protocol of driver/migrate_chan.h.
 *
 * Offline: the stopped VM's files (overlays, seed and its files, varstore,
 * keys) are sent under the VM's lock; a backing image outside the VM's
 * directory is announced by its SHA-256 and taken from the target's
 * catalog when it holds the same file, else sent into the VM's directory
 * there.  The definition goes last, its paths moved to the target's VM
 * directory.  The source removes its copy only after the target committed.
 *
 * A running VM moves pre-copy (driver/migrate_live.h) while it runs:
 * backing images and the files that are no writable disk are sent, the
 * writable disks announced, the target commits and starts QEMU waiting for
 * the migration, the channel switches to frames; QEMU here mirrors the
 * disks into the target's NBD exports, then migrates; once it completed,
 * the mirrors end, the target's CPUs run, and only then this QEMU ends.
 * A signal (opts->interrupted) or any failure before the migration
 * completed cancels the move: the migration and mirrors are cancelled, the
 * guest runs on here, the target removes what it got.
 *
 * Either way a disk outside the VM's directory (--disk FILE) is on storage
 * both hosts share: announced before anything is sent and checked there,
 * neither sent nor mirrored, named by the same path in the definition
 * (driver/migrate_shared.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/migrate_link.h"
#include "driver/migrate_live.h"
#include "driver/migrate_shared.h"
#include "driver/network.h"
#include "driver/save.h"
#include "driver/stop.h"
#include "driver/vmop.h"

static const char *signal_name(int sig)
{
	return sig == SIGINT	? "SIGINT"
	       : sig == SIGTERM ? "SIGTERM"
	       : sig == SIGHUP	? "SIGHUP"
				: "a signal";
}

/*
 * The VM's directory holds nothing but its definition and bookkeeping (its
 * disks all on shared storage): what a cluster defines on every node.
 */
static bool definition_only(const struct qc_vmop *op)
{
	struct dirent **ents = NULL;
	int n = scandirat(op->dfd, ".", &ents, NULL, alphasort);
	bool only = n >= 0;

	for (int i = 0; i < n; i++) {
		only &= qc_mig_host_record(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return only;
}

/*
 * What a move cannot carry, refused before anything is sent.  A disk
 * outside the VM is no such thing: it stays where it is, on storage both
 * hosts see (driver/migrate_shared.h).
 */
static int check_movable(const struct qc_vmop *op, struct qc_error *err)
{
	const struct qc_domain *d = op->d;

	if (op->snaps.n > 0)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' has %zu snapshot(s), which migrate does not move; remove them "
			"first ('qemuctl snapshot rm %s SNAP') or clone a snapshot",
			op->name, op->snaps.n, op->name);
	if (d->n_shares > 0)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' shares host directory '%s', which migrate does not move; remove "
			"the "
			"share from its definition first",
			op->name, d->shares[0].path);
	for (size_t i = 0; i < d->n_nics; i++)
		if (d->nics[i].type == QC_NIC_NETWORK)
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s': NIC '%s' has an address in network '%s' of this host, "
				"which migrate does not move; detach it first",
				op->name, d->nics[i].name, d->nics[i].network);
	if (d->nvram && !qc_domain_home_base(op->vm_dir, d->nvram))
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s': its varstore '%s' is outside the VM, which migrate does not move",
			op->name, d->nvram);
	return 0;
}

/* SHA-256 of a backing image: the catalog's record for its own file, else read. */
static int backing_sha(qc_ctx *ctx, const struct qc_disk *k, char hex[QC_SHA256_HEX_LEN + 1],
	uint64_t *size, struct qc_error *err)
{
	cleanup_sha256 struct qc_sha256 *sha = NULL;
	cleanup_close int fd = open(k->backing, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc;

	if (fd < 0 || fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "backing image %s", k->backing);
	*size = (uint64_t) st.st_size;
	if (k->backing_image) {
		cleanup_catalog_entry struct qc_catalog_entry *e = NULL;

		if (qc_catalog_get(ctx->root, k->backing_image, &e, NULL) == 0 && e->qcow2_sha256 &&
			strcmp(e->path, k->backing) == 0) {
			snprintf(hex, QC_SHA256_HEX_LEN + 1, "%s", e->qcow2_sha256);
			return 0;
		}
	}
	sha = qc_sha256_new();
	if ((rc = qc_sha256_fd(sha, fd, *size, err)) < 0)
		return qc_error_prefix(err, "backing image %s", k->backing);
	qc_sha256_final(sha, hex);
	return 0;
}

/* Disk k's backing outside the VM: the target's catalog copy, or sent into its VM directory. */
static int move_backing(qc_ctx *ctx, struct qc_mig_link *l, const char *dir, struct qc_disk *k,
	struct qc_migrate_result *res, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *r = NULL;
	char hex[QC_SHA256_HEX_LEN + 1];
	const char *path, *image, *send;
	uint64_t size = 0;
	int rc;

	if ((rc = backing_sha(ctx, k, hex, &size, err)) < 0)
		return rc;
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "op", "image");
	qc_jgen_kstring(g, "sha256", hex);
	qc_jgen_kuint(g, "size", size);
	if ((rc = qc_mig_request(l, g, &r, err)) < 0)
		return rc;
	path = qc_json_string(qc_json_get(r, "path"));
	image = qc_json_string(qc_json_get(r, "image"));
	send = qc_json_string(qc_json_get(r, "send"));
	free(k->backing_image);
	k->backing_image = NULL;
	if (path && image) {
		/* the target checks the definition's catalog paths itself */
		free(k->backing);
		k->backing = qc_xstrdup(path);
		k->backing_image = qc_xstrdup(image);
		res->images_reused++;
		return 0;
	}
	if (!send || qc_validate_name("backing image", send, err) < 0)
		return qc_error_set(err, QC_ERR_PROTO,
			"'%s' answered the backing image offer with no usable file name", l->host);
	l->total += size;
	if ((rc = qc_mig_send_file(l, AT_FDCWD, k->backing, send, err)) < 0)
		return rc;
	free(k->backing);
	k->backing = qc_xasprintf("%s/%s", dir, send);
	res->images_sent++;
	return 0;
}

/* d's paths moved to dir on the target; backing images outside the VM found or sent there. */
static int move_backings(struct qc_vmop *op, struct qc_mig_link *l, struct qc_domain *d,
	const char *dir, struct qc_migrate_result *res, struct qc_error *err)
{
	int rc = 0;

	for (size_t i = 0; i < d->n_disks && rc == 0; i++) {
		struct qc_disk *k = &d->disks[i];

		qc_driver_rehome(&k->path, op->vm_dir, dir);
		if (k->backing && qc_domain_home_base(op->vm_dir, k->backing))
			qc_driver_rehome(&k->backing, op->vm_dir, dir);
		else if (k->backing)
			rc = move_backing(op->ctx, l, dir, k, res, err);
	}
	if (rc < 0)
		return rc;
	qc_driver_rehome(&d->nvram, op->vm_dir, dir);
	qc_driver_rehome(&d->seed.user_data, op->vm_dir, dir);
	qc_driver_rehome(&d->seed.network_config, op->vm_dir, dir);
	return 0;
}

/* A file of the VM directory that is a disk a running VM's move mirrors instead. */
static bool mirrored_file(const struct qc_vmop *op, const char *name)
{
	for (size_t i = 0; i < op->d->n_disks; i++) {
		const char *base = qc_domain_home_base(op->vm_dir, op->d->disks[i].path);

		if (base && strcmp(base, name) == 0 && qc_mig_live_mirrored(&op->d->disks[i]))
			return true;
	}
	return false;
}

/*
 * The files of the source's VM directory that move: sent, or (l NULL) their
 * size added to *size.  live: a mirrored disk is none of them.
 */
static int move_files(
	struct qc_vmop *op, struct qc_mig_link *l, bool live, uint64_t *size, struct qc_error *err)
{
	struct dirent **ents = NULL;
	int n, rc = 0;

	n = scandirat(op->dfd, ".", &ents, NULL, alphasort);
	if (n < 0)
		return qc_error_errno(err, errno, "VM '%s': read its directory", op->name);
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		struct stat st;

		if (rc == 0 && !qc_mig_host_record(e) && !(live && mirrored_file(op, e))) {
			if (fstatat(op->dfd, e, &st, AT_SYMLINK_NOFOLLOW) < 0)
				rc = qc_error_errno(err, errno, "VM '%s': %s", op->name, e);
			else if (!S_ISREG(st.st_mode))
				rc = qc_error_set(err, QC_ERR_STATE,
					"VM '%s': %s/%s is not a regular file, which migrate does "
					"not move",
					op->name, op->vm_dir, e);
			else if (!l)
				*size += (uint64_t) st.st_size;
			else
				rc = qc_mig_send_file(l, op->dfd, e, e, err);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

/* Where a move stands, for the failure path of a running VM's move. */
struct move {
	bool live;
	bool undo; /* the source's QEMU has a move's migration or mirrors to undo */
	bool unknown; /* the target was told to run and did not answer */
	bool replaced; /* the target replaced the same VM's definition of its own */
	const volatile sig_atomic_t *intr; /* the caller's: cancel before the commit */
	volatile sig_atomic_t mux_cancel; /* the relay's: set from intr */
	int64_t t_run; /* when the target said its CPUs run */
	struct qc_mig_live lv;
};

/* The caller asked to cancel (a signal): ECANCELED. */
static int interrupted(const struct move *m, struct qc_error *err)
{
	if (m->intr && *m->intr)
		return qc_error_set(err, ECANCELED, "cancelled");
	return 0;
}

/* A test hook where a move may be cancelled, then whether it was. */
static int phase(struct qc_vmop *op, const struct move *m, const char *point, struct qc_error *err)
{
	qc_vmop_test_hold_signal(op, point, m->intr);
	return interrupted(m, err);
}

/* A running VM's writable disks, announced with their virtual size: the target makes them. */
static int announce_disks(struct qc_vmop *op, struct qc_mig_link *l, struct qc_error *err)
{
	int rc;

	if ((rc = qc_vmop_qmp(op, err)) < 0 || (rc = qc_mig_live_sweep(op->q, op->dfd, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	for (size_t i = 0; i < op->d->n_disks; i++) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
		cleanup_json qc_json *r = NULL;
		const char *base = qc_domain_home_base(op->vm_dir, op->d->disks[i].path);
		uint64_t size;

		/* an owned disk is a file of the VM's directory (qc_domain_home_disk) */
		if (!qc_mig_live_mirrored(&op->d->disks[i]) || !base)
			continue;
		if ((rc = qc_mig_live_disk_size(op->q, op->d, i, &size, err)) < 0)
			return qc_error_prefix(err, "VM '%s'", op->name);
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "op", "overlay");
		qc_jgen_kstring(g, "name", base);
		qc_jgen_kuint(g, "size", size);
		if ((rc = qc_mig_request(l, g, &r, err)) < 0)
			return rc;
	}
	return 0;
}

struct tick {
	struct qc_mig_link *l;
	struct move *m;
	uint64_t base; /* file bytes sent before the switch */
};

/* Between two looks at QEMU: a cancel, the relay's end, the progress. */
static int live_tick(void *opaque, const struct qc_mig_live *lv, struct qc_error *err)
{
	struct tick *t = opaque;
	int rc;

	if (t->m->intr && *t->m->intr) {
		t->m->mux_cancel = 1;
		return qc_error_set(err, ECANCELED, "cancelled");
	}
	if (!qc_mux_alive(t->l->mux)) {
		if ((rc = qc_mux_status(t->l->mux, err)) < 0)
			return qc_error_prefix(err, "the connection to '%s'", t->l->host);
		return qc_error_set(err, QC_ERR_EOF, "the connection to '%s' ended", t->l->host);
	}
	t->l->total = t->base + lv->disk_len + lv->ram_total;
	t->l->ch.sent = t->base + lv->disk_done + lv->ram_done;
	qc_mig_progress(t->l, NULL);
	return 0;
}

/* The move's point of no return: the target runs the VM, this QEMU ends. */
static int hand_over(
	struct qc_vmop *op, struct qc_mig_link *l, struct move *m, struct qc_error *err)
{
	int rc;

	qc_mig_progress(l, "target resuming");
	if ((rc = qc_mig_request_op(l, "run", err)) < 0) {
		/* no answer: the target may run it; this QEMU stays paused */
		m->unknown = rc != -QC_ERR_STATE;
		return rc;
	}
	m->undo = false;
	m->t_run = qc_now_ms();
	qc_fault_step("migrate:started");
	/* the monitor records the end of this QEMU as "migrated" (to the host) */
	if ((rc = qc_write_atomic(
		     op->dfd, QC_VM_MIGRATED_TO, l->host, strlen(l->host), 0600, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	qc_qmp_close(op->q);
	op->q = NULL;
	if ((rc = qc_vmop_kill(op, err)) < 0) {
		(void) unlinkat(op->dfd, QC_VM_MIGRATED_TO, 0);
		return rc;
	}
	return 0;
}

/*
 * The SHA-256 of the VM's varstore (its UEFI variables; "" without one), as
 * QEMU here wrote it: each flash write goes through to the file at once.
 */
static int varstore_sum(struct qc_vmop *op, char hex[QC_SHA256_HEX_LEN + 1], struct qc_error *err)
{
	cleanup_sha256 struct qc_sha256 *sha = NULL;
	cleanup_close int fd = -1;
	const char *base;
	struct stat st;
	int rc;

	hex[0] = '\0';
	if (!op->d->nvram || !(base = qc_domain_home_base(op->vm_dir, op->d->nvram)))
		return 0;
	fd = openat(op->dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "VM '%s': varstore %s", op->name, op->d->nvram);
	sha = qc_sha256_new();
	if ((rc = qc_sha256_fd(sha, fd, (uint64_t) st.st_size, err)) < 0)
		return qc_error_prefix(err, "VM '%s': varstore %s", op->name, op->d->nvram);
	qc_sha256_final(sha, hex);
	return 0;
}

/*
 * The varstore is a flash device of RAM that QEMU writes through to its file;
 * its migration carries that RAM, and the target's QEMU writes it over its
 * copy of the file once it runs.  A flash write while the RAM was sent is
 * not carried again (hw/block/pflash_cfi01.c writes that RAM directly and
 * marks no page of it dirty): such a move is undone, which the file changed
 * since the migration began shows.
 */
static int varstore_unchanged(
	struct qc_vmop *op, const char before[QC_SHA256_HEX_LEN + 1], struct qc_error *err)
{
	char after[QC_SHA256_HEX_LEN + 1];
	int rc;

	if ((rc = varstore_sum(op, after, err)) < 0)
		return rc;
	if (strcmp(before, after) != 0)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s': its firmware wrote its varstore %s while the memory was sent, "
			"which the migration does not carry; the move was undone and the VM "
			"runs on here: move it again",
			op->name, op->d->nvram);
	return 0;
}

/* After the commit: the target's QEMU waits, the channel carries frames, QEMU here moves. */
static int precopy(struct qc_vmop *op, struct qc_mig_link *l, struct move *m,
	struct qc_migrate_result *res, struct qc_error *err)
{
	struct tick t = {.l = l, .m = m, .base = l->ch.sent};
	char nvram[QC_SHA256_HEX_LEN + 1];
	int fds[QC_MUX_MAX_STREAMS];
	size_t n = 0;
	int64_t t_done;
	int rc;

	qc_mig_progress(l, "target starting");
	if ((rc = qc_mig_request_op(l, "listen", err)) < 0)
		return rc;
	m->undo = true;
	if ((rc = qc_mig_live_source_fds(op->q, op->d, &m->lv, fds, &n, err)) < 0 ||
		(rc = qc_mig_live_switch(
			 &l->ch, l->ssh_fd, l->ssh_fd, fds, n, &m->mux_cancel, &l->mux, err)) < 0)
		return rc;
	qc_mig_progress(l, "copying disks");
	if ((rc = qc_mig_live_mirror(op->q, op->d, &m->lv, live_tick, &t, err)) < 0 ||
		(rc = phase(op, m, "migrate-mirrored", err)) < 0)
		return rc == -ECANCELED
			       ? rc
			       : qc_error_prefix(err, "VM '%s': its disks' copy", op->name);
	qc_mig_progress(l, "sending memory");
	if ((rc = varstore_sum(op, nvram, err)) < 0)
		return rc;
	if ((rc = qc_mig_live_migrate(op->q, &m->lv, live_tick, &t, err)) < 0)
		return rc == -ECANCELED ? rc : qc_error_prefix(err, "VM '%s'", op->name);
	/* completed: the guest is stopped here (postmigrate); no cancel from now on */
	t_done = qc_now_ms();
	l->paused = true;
	l->ch.cancel = NULL;
	m->intr = NULL;
	qc_vmop_test_hold(op, "migrate-committed");
	if ((rc = varstore_unchanged(op, nvram, err)) < 0 ||
		(rc = qc_mig_live_finish(op->q, &m->lv, err)) < 0 ||
		(rc = hand_over(op, l, m, err)) < 0)
		return rc;
	res->downtime_ms = m->lv.qemu_downtime_ms + (m->t_run - t_done);
	res->qemu_downtime_ms = m->lv.qemu_downtime_ms;
	res->ram_bytes = m->lv.ram_done;
	res->disk_bytes = m->lv.disk_len;
	res->bytes = t.base;
	for (size_t i = 0; i < n; i++)
		res->bytes += qc_mux_bytes_out(l->mux, i);
	return 0;
}

static int transfer(struct qc_vmop *op, struct qc_mig_link *l, struct move *m,
	struct qc_migrate_result *res, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_jgen struct qc_jgen *c = qc_jgen_new(false);
	cleanup_domain struct qc_domain *d = qc_domain_copy(op->d);
	cleanup_json qc_json *r = NULL, *r2 = NULL;
	cleanup_free char *xml = NULL, *want = NULL;
	char host[256] = "";
	const char *dir;
	int rc;

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "op", "begin");
	qc_jgen_kstring(g, "name", op->name);
	/* the target may replace the same VM's definition (driver/migrate_recv.c) */
	qc_jgen_kstring(g, "uuid", op->d->uuid_str);
	qc_jgen_kbool(g, "live", m->live);
	if (gethostname(host, sizeof(host) - 1) == 0)
		qc_jgen_kstring(g, "from", host);
	if ((rc = qc_mig_request(l, g, &r, err)) < 0)
		return rc;
	want = qc_domain_home_dir(l->target_root, op->name);
	if (!(dir = qc_json_string(qc_json_get(r, "dir"))) || strcmp(dir, want) != 0)
		return qc_error_set(err, QC_ERR_PROTO, "'%s' named no VM directory in %s", l->host,
			l->target_root);
	qc_fault_step("migrate:begun");
	/* disks on shared storage first: a target without them refuses before any copy */
	if ((rc = qc_mig_shared_announce(op, l, m->live, err)) < 0 ||
		(rc = move_files(op, NULL, m->live, &l->total, err)) < 0 ||
		(rc = phase(op, m, "migrate-begun", err)) < 0)
		return rc;
	/* backing images first: a running guest runs on meanwhile */
	if ((rc = move_backings(op, l, d, want, res, err)) < 0 ||
		(rc = move_files(op, l, m->live, NULL, err)) < 0 ||
		(m->live && (rc = announce_disks(op, l, err)) < 0))
		return rc;
	qc_fault_step("migrate:sent");
	if ((rc = phase(op, m, "migrate-sent", err)) < 0 ||
		(rc = qc_domain_to_xml(d, &xml, err)) < 0)
		return rc;
	if (!m->live) {
		/* the point of no return: from the commit request on, no cancel */
		l->ch.cancel = NULL;
		m->intr = NULL;
	}
	qc_mig_progress(l, "target committing");
	qc_jgen_map_open(c);
	qc_jgen_kstring(c, "op", "commit");
	qc_jgen_kstring(c, "xml", xml);
	if ((rc = qc_mig_request(l, c, &r2, err)) < 0)
		return rc;
	m->replaced = qc_json_as_bool(qc_json_get(r2, "replaced"), &m->replaced) && m->replaced;
	if (m->live)
		return precopy(op, l, m, res, err);
	qc_vmop_test_hold(op, "migrate-committed");
	return 0;
}

QC_PUBLIC int qc_vm_migrate(qc_ctx *ctx, const char *name, const char *url,
	const struct qc_migrate_opts *o, struct qc_migrate_result *ret, struct qc_error *err)
{
	static const struct qc_migrate_opts none = {0};
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	struct qc_mig_link l = {.pid = -1, .ssh_fd = -1, .err_fd = -1, .ch = {.in = -1, .out = -1}};
	struct qc_migrate_result res = {0};
	struct qc_ssh_url u = {0};
	struct qc_error e2 = {0};
	struct move m = {.intr = o ? o->interrupted : NULL};
	const char *remote;
	int64_t t0 = qc_now_ms();
	bool kept = false;
	int rc;

	o = o ? o : &none;
	remote = o->remote_qemuctl ? o->remote_qemuctl : "qemuctl";
	if (ret)
		memset(ret, 0, sizeof(*ret));
	if ((rc = qc_ssh_url_parse(url, &u, err)) < 0)
		return rc;
	l.host = u.host;
	l.ctx = ctx;
	l.name = name;
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_SNAPS | QC_VMOP_RECORD_END, &op, err)) < 0)
		goto out;
	m.live = op.live.monitor_alive;
	if (m.live && o->offline) {
		rc = qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is running; --offline moves a stopped VM (stop it first, or "
			"leave --offline out to move it running)",
			name);
		goto out;
	}
	if (!m.live && !o->offline) {
		rc = qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is not running; move it stopped with --offline", name);
		goto out;
	}
	if ((rc = check_movable(&op, err)) < 0 || (rc = qc_sha256_load(err)) < 0 ||
		(rc = qc_mig_link_open(&l, &u, o, remote, err)) < 0)
		goto out;
	l.ch.cancel = m.intr;
	if ((rc = interrupted(&m, err)) < 0 || (rc = qc_mig_link_hello(&l, remote, err)) < 0 ||
		(rc = transfer(&op, &l, &m, &res, err)) < 0) {
		if (rc == -ECANCELED)
			qc_mig_link_cancel(&l);
		/* the target's own words, when it gave up first, say more than a broken pipe */
		else if (rc == -QC_ERR_EOF || rc == -EPIPE || rc == -ECONNRESET)
			rc = qc_mig_link_lost(&l, remote, err);
		/* the move failed: the VM runs on here (the target removes its copy) */
		if (m.unknown)
			qc_error_prefix(err,
				"VM '%s' stays paused here: whether it runs on '%s' is not known; "
				"look there, then 'qemuctl resume %s' or 'qemuctl delete --force "
				"%s' here",
				name, u.host, name, name);
		else if (m.undo && op.q && qc_mig_live_undo(op.q, &m.lv, &e2) < 0)
			qc_error_prefix(err,
				"VM '%s' stays paused here (%s); 'qemuctl resume %s' "
				"runs it on",
				name, e2.msg, name);
		else if (rc == -ECANCELED)
			rc = qc_error_set(err, ECANCELED,
				"migration of VM '%s' to %s cancelled by %s: the VM %s here as "
				"before",
				name, u.host, signal_name((int) *o->interrupted),
				m.live ? "runs on" : "stays");
		/* the target's end (it removes what it got) is waited for */
		if (l.mux)
			qc_mig_link_cancel(&l);
		goto out;
	}
	qc_fault_step("migrate:committed");
	/*
	 * The target has it: this host's copy goes, with its addresses; the
	 * same VM's definition, which the target had too, stays (stopped).
	 */
	if (m.replaced && definition_only(&op))
		kept = true;
	else if (qc_network_domain_release(ctx, op.d, &e2) < 0)
		qc_warn("VM '%s': %s", name, e2.msg);
	if (!kept && (rc = qc_driver_remove_vm_dir(ctx, name, err)) < 0) {
		qc_error_prefix(err, "VM '%s' is on '%s' now, but its copy here was not removed",
			name, u.host);
		goto out;
	}
	if (!m.live)
		res.bytes = l.ch.sent;
	res.live = m.live;
	res.total_ms = qc_now_ms() - t0;
	if (ret)
		*ret = res;
out:
	qc_mig_link_close(&l);
	qc_ssh_url_clear(&u);
	return rc;
}
