/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running VM's pre-copy move, QEMU's part (driver/migrate_live.h).
 * QEMU's replies are checked as they come: each figure of query-block-jobs
 * and query-migrate must be a number of its kind, a job must be ours.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver/driver.h"
#include "driver/migrate_live.h"
#include "driver/save.h"
#include "driver/vmop.h"
#include "qmp/qmp.h"

#define POLL_MS 50
#define MIRROR_TIMEOUT_MS (30 * 60 * 1000)
#define NBD_SOCKET "migrate-nbd.sock"

bool qc_mig_live_mirrored(const struct qc_disk *k)
{
	return k->owned && !k->readonly && k->device == QC_DEVICE_DISK;
}

/* Run cmd with g's arguments (an open map, closed here). */
static int qmp_cmd(
	struct qc_qmp *q, const char *cmd, struct qc_jgen *g, qc_json **ret, struct qc_error *err)
{
	cleanup_free char *args = NULL;
	int rc;

	qc_jgen_map_close(g);
	if ((rc = qc_jgen_finish(g, &args, NULL, err)) < 0)
		return rc;
	return qc_qmp_execute_text(q, cmd, args, QC_VMOP_QMP_QUICK_MS, ret, err);
}

int qc_mig_live_switch(struct qc_mig_chan *ch, int in, int out, int *fds, size_t n,
	const volatile sig_atomic_t *cancel, struct qc_mux **ret, struct qc_error *err)
{
	struct qc_mux *m = NULL;
	int ctl[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) {
		rc = qc_error_errno(err, errno, "socketpair");
		for (size_t i = 1; i < n; i++)
			close(fds[i]);
		return rc;
	}
	fds[0] = ctl[1];
	if ((rc = qc_mux_new(
		     in, out, fds, n, ch->buf + ch->off, ch->len - ch->off, cancel, &m, err)) < 0) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		close(ctl[0]);
		return rc;
	}
	if ((rc = qc_mux_start(m, err)) < 0) {
		qc_mux_free(m);
		close(ctl[0]);
		return rc;
	}
	ch->in = ch->out = ctl[0];
	ch->off = ch->len = 0;
	*ret = m;
	return 0;
}

/* Until QEMU says more (an event named name) or POLL_MS passed. */
static void nap(struct qc_qmp *q, const char *name)
{
	cleanup_qmp_event struct qc_qmp_event *ev = NULL;

	(void) qc_qmp_wait_event(q, name, POLL_MS, &ev, NULL);
}

/* ------------------------------------------------------------------ target */

/* A listening socket at rdir/NBD_SOCKET, made anew; *path its name. */
static int nbd_listen(const char *rdir, size_t backlog, char **path, struct qc_error *err)
{
	*path = qc_xasprintf("%s/%s", rdir, NBD_SOCKET);
	return qc_unix_listen(*path, 0, (int) backlog + 1, err);
}

static int nbd_connect(const char *path, struct qc_error *err)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(a.sun_path, path, strlen(path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0)
		return qc_error_errno(err, errno, "connect to %s", path);
	return TAKE_FD(fd);
}

static int incoming_nbd(struct qc_qmp *q, const struct qc_domain *d, const char *rdir,
	int fds[QC_MUX_MAX_STREAMS], size_t *n, struct qc_error *err)
{
	cleanup_free char *path = NULL;
	cleanup_close int lfd = -1;
	size_t disks = 0;
	int rc;

	for (size_t i = 0; i < d->n_disks; i++)
		disks += qc_mig_live_mirrored(&d->disks[i]);
	if (disks > QC_MIG_LIVE_DISKS)
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"%zu writable disks; a running move mirrors at most %d", disks,
			QC_MIG_LIVE_DISKS);
	if ((lfd = nbd_listen(rdir, disks, &path, err)) < 0)
		return lfd;
	if ((rc = qc_qmp_getfd(q, lfd, "qcmig-nbd", QC_VMOP_QMP_QUICK_MS, err)) < 0 ||
		(rc = qc_qmp_execute_text(q, "nbd-server-start",
			 "{\"addr\":{\"type\":\"fd\",\"data\":{\"str\":\"qcmig-nbd\"}}}",
			 QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		goto out;
	for (size_t i = 0; i < d->n_disks; i++) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
		char fmt[32], file[32], dev[80];

		if (!qc_mig_live_mirrored(&d->disks[i]))
			continue;
		qc_argv_disk_ids(d, i, fmt, file, dev);
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "device", fmt);
		qc_jgen_kstring(g, "name", d->disks[i].name);
		qc_jgen_kbool(g, "writable", true);
		if ((rc = qmp_cmd(q, "nbd-server-add", g, NULL, err)) < 0) {
			qc_error_prefix(err, "disk '%s': export it", d->disks[i].name);
			goto out;
		}
	}
	/* one connection per disk, in the order the source opens its NBD nodes */
	for (size_t i = 0; i < disks; i++) {
		if ((rc = nbd_connect(path, err)) < 0)
			goto out;
		fds[(*n)++] = rc;
	}
	rc = 0;
out:
	(void) unlink(path);
	return rc;
}

int qc_mig_live_incoming(struct qc_qmp *q, const struct qc_domain *d, const char *rdir,
	int fds[QC_MUX_MAX_STREAMS], size_t *n, struct qc_error *err)
{
	cleanup_close int sv0 = -1;
	int sv[2], rc;

	*n = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return qc_error_errno(err, errno, "socketpair");
	sv0 = sv[0];
	fds[(*n)++] = sv[1];
	if ((rc = incoming_nbd(q, d, rdir, fds, n, err)) < 0 ||
		(rc = qc_qmp_getfd(q, sv0, "qcmig-in", QC_VMOP_QMP_QUICK_MS, err)) < 0 ||
		(rc = qc_qmp_execute_text(q, "migrate-incoming", "{\"uri\":\"fd:qcmig-in\"}",
			 QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0) {
		for (size_t i = 1; i < *n; i++)
			close(fds[i]);
		*n = 0;
		return rc;
	}
	return 0;
}

int qc_mig_live_incoming_done(struct qc_qmp *q, struct qc_error *err)
{
	int rc;

	if ((rc = qc_driver_wait_migration(q, "the incoming migration", NULL, err)) < 0)
		return rc;
	return qc_qmp_execute_text(q, "nbd-server-stop", NULL, QC_VMOP_QMP_QUICK_MS, NULL, err);
}

/* ------------------------------------------------------------------ source */

int qc_mig_live_disk_size(
	struct qc_qmp *q, const struct qc_domain *d, size_t i, uint64_t *ret, struct qc_error *err)
{
	cleanup_json qc_json *r = NULL;
	char fmt[32], file[32], dev[80];
	int rc;

	qc_argv_disk_ids(d, i, fmt, file, dev);
	if ((rc = qc_qmp_execute_text(q, "query-named-block-nodes", "{\"flat\":true}",
		     QC_VMOP_QMP_QUICK_MS, &r, err)) < 0)
		return rc;
	for (size_t k = 0; k < qc_json_len(r); k++) {
		const qc_json *e = qc_json_at(r, k);
		const char *node = qc_json_string(qc_json_get(e, "node-name"));

		if (node && strcmp(node, fmt) == 0) {
			if (!qc_json_as_uint(qc_json_path(e, "image/virtual-size"), ret) ||
				*ret == 0)
				return qc_error_set(err, QC_ERR_PROTO,
					"disk '%s': QEMU gave no virtual size", d->disks[i].name);
			return 0;
		}
	}
	return qc_error_set(
		err, QC_ERR_STATE, "disk '%s': QEMU has no node %s", d->disks[i].name, fmt);
}

int qc_mig_live_source_fds(struct qc_qmp *q, const struct qc_domain *d, struct qc_mig_live *lv,
	int fds[QC_MUX_MAX_STREAMS], size_t *n, struct qc_error *err)
{
	int sv[2], rc = 0;

	*n = 1;
	lv->n = 0;
	for (size_t i = 0; i < d->n_disks; i++)
		if (qc_mig_live_mirrored(&d->disks[i]) && lv->n < QC_MIG_LIVE_DISKS)
			lv->disk[lv->n++] = i;
	/* the migration's, then each disk's: QEMU gets one end as fd "qcmig-S" */
	for (size_t s = 0; s < lv->n + 1 && rc == 0; s++) {
		char name[32];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			rc = qc_error_errno(err, errno, "socketpair");
			break;
		}
		snprintf(name, sizeof(name), "qcmig-%zu", s);
		rc = qc_qmp_getfd(q, sv[0], name, QC_VMOP_QMP_QUICK_MS, err);
		close(sv[0]);
		fds[(*n)++] = sv[1];
	}
	if (rc < 0) {
		for (size_t i = 1; i < *n; i++)
			close(fds[i]);
		*n = 0;
	}
	return rc;
}

/* query-block-jobs: our job s's progress; 1 when ready.  A job of ours gone is an error. */
static int job_state(const qc_json *jobs, const struct qc_domain *d, struct qc_mig_live *lv,
	size_t s, struct qc_error *err)
{
	char id[32];

	snprintf(id, sizeof(id), "qcmig-job-%zu", s);
	for (size_t k = 0; k < qc_json_len(jobs); k++) {
		const qc_json *j = qc_json_at(jobs, k);
		const char *dev = qc_json_string(qc_json_get(j, "device"));
		uint64_t len, off;
		bool ready;

		if (!dev || strcmp(dev, id) != 0)
			continue;
		if (!qc_json_as_uint(qc_json_get(j, "len"), &len) ||
			!qc_json_as_uint(qc_json_get(j, "offset"), &off) || off > len ||
			!qc_json_as_bool(qc_json_get(j, "ready"), &ready))
			return qc_error_set(err, QC_ERR_PROTO,
				"disk '%s': QEMU reported its copy without offset, length or "
				"readiness",
				d->disks[lv->disk[s]].name);
		lv->disk_len += len;
		lv->disk_done += off;
		return ready ? 1 : 0;
	}
	return qc_error_set(err, QC_ERR_CHILD,
		"disk '%s': the copy to the target ended before it was ready (the target or "
		"the connection went away?)",
		d->disks[lv->disk[s]].name);
}

int qc_mig_live_mirror(struct qc_qmp *q, const struct qc_domain *d, struct qc_mig_live *lv,
	qc_mig_live_tick tick, void *opaque, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(MIRROR_TIMEOUT_MS);
	int rc;

	for (size_t s = 0; s < lv->n; s++) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
		cleanup_jgen struct qc_jgen *m = qc_jgen_new(false);
		const struct qc_disk *k = &d->disks[lv->disk[s]];
		char fmt[32], file[32], dev[80], node[32], fd[32], job[32];

		qc_argv_disk_ids(d, lv->disk[s], fmt, file, dev);
		snprintf(node, sizeof(node), "qcmig-nbd-%zu", s);
		snprintf(fd, sizeof(fd), "qcmig-%zu", s + 1);
		snprintf(job, sizeof(job), "qcmig-job-%zu", s);
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "driver", "nbd");
		qc_jgen_kstring(g, "node-name", node);
		qc_jgen_kstring(g, "export", k->name);
		qc_jgen_key(g, "server");
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "type", "fd");
		qc_jgen_kstring(g, "str", fd);
		qc_jgen_map_close(g);
		if ((rc = qmp_cmd(q, "blockdev-add", g, NULL, err)) < 0)
			return qc_error_prefix(
				err, "disk '%s': connect to the target's copy", k->name);
		lv->node[s] = true;
		qc_jgen_map_open(m);
		qc_jgen_kstring(m, "job-id", job);
		qc_jgen_kstring(m, "device", fmt);
		qc_jgen_kstring(m, "target", node);
		qc_jgen_kstring(m, "sync", "top");
		if ((rc = qmp_cmd(q, "blockdev-mirror", m, NULL, err)) < 0)
			return qc_error_prefix(err, "disk '%s': mirror it", k->name);
		lv->job[s] = true;
	}
	for (;;) {
		cleanup_json qc_json *jobs = NULL;
		size_t ready = 0;

		if ((rc = qc_qmp_execute(
			     q, "query-block-jobs", NULL, QC_VMOP_QMP_QUICK_MS, &jobs, err)) < 0)
			return rc;
		lv->disk_len = lv->disk_done = 0;
		for (size_t s = 0; s < lv->n; s++) {
			if ((rc = job_state(jobs, d, lv, s, err)) < 0)
				return rc;
			ready += (size_t) rc;
		}
		if (ready == lv->n)
			return 0;
		if ((rc = tick(opaque, lv, err)) < 0)
			return rc;
		if (qc_time_left_ms(deadline) == 0)
			return qc_error_set(err, ETIMEDOUT,
				"the disks' copy did not catch up within %d s",
				MIRROR_TIMEOUT_MS / 1000);
		nap(q, "BLOCK_JOB_READY");
	}
}

/* query-migrate's figures; its status into *status (NULL when it named none). */
static int migrate_state(
	struct qc_qmp *q, struct qc_mig_live *lv, char status[32], struct qc_error *err)
{
	cleanup_json qc_json *r = NULL;
	const qc_json *ram;
	const char *s;
	int rc;

	if ((rc = qc_qmp_execute(q, "query-migrate", NULL, QC_VMOP_QMP_QUICK_MS, &r, err)) < 0)
		return rc;
	s = qc_json_string(qc_json_get(r, "status"));
	snprintf(status, 32, "%s", s ? s : "");
	if ((ram = qc_json_get(r, "ram")) &&
		(!qc_json_as_uint(qc_json_get(ram, "transferred"), &lv->ram_done) ||
			!qc_json_as_uint(qc_json_get(ram, "total"), &lv->ram_total)))
		return qc_error_set(
			err, QC_ERR_PROTO, "query-migrate: RAM figures that are not numbers");
	if (s && strcmp(s, "completed") == 0 &&
		(!qc_json_as_int(qc_json_get(r, "downtime"), &lv->qemu_downtime_ms) ||
			lv->qemu_downtime_ms < 0))
		return qc_error_set(
			err, QC_ERR_PROTO, "query-migrate: no downtime for a completed migration");
	if (s && (strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0)) {
		const char *desc = qc_json_string(qc_json_get(r, "error-desc"));

		return qc_error_set(err, QC_ERR_CHILD, "the migration %s: %s", s,
			desc ? desc : "QEMU gave no reason");
	}
	return 0;
}

int qc_mig_live_migrate(struct qc_qmp *q, struct qc_mig_live *lv, qc_mig_live_tick tick,
	void *opaque, struct qc_error *err)
{
	char status[32];
	int rc;

	if ((rc = qc_qmp_execute_text(q, "migrate-set-capabilities",
		     "{\"capabilities\":[{\"capability\":\"events\",\"state\":true}]}",
		     QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0 ||
		(rc = qc_qmp_execute_text(q, "migrate-set-parameters",
			 "{\"max-bandwidth\":1099511627776,\"downtime-limit\":300}",
			 QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		return rc;
	lv->migrating = true;
	if ((rc = qc_qmp_execute_text(q, "migrate", "{\"uri\":\"fd:qcmig-0\"}",
		     QC_VMOP_QMP_QUICK_MS, NULL, err)) < 0)
		return rc;
	qc_fault_step("migrate:precopy");
	for (;;) {
		if ((rc = migrate_state(q, lv, status, err)) < 0)
			return rc;
		if (strcmp(status, "completed") == 0)
			return 0;
		if ((rc = tick(opaque, lv, err)) < 0)
			return rc;
		nap(q, "MIGRATION");
	}
}

/* Wait until none of our jobs is left (each cancelled). */
static int jobs_gone(struct qc_qmp *q, struct qc_mig_live *lv, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(QC_VMOP_QMP_TIMEOUT_MS);
	int rc;

	for (;;) {
		cleanup_json qc_json *jobs = NULL;
		bool left = false;

		if ((rc = qc_qmp_execute(
			     q, "query-block-jobs", NULL, QC_VMOP_QMP_QUICK_MS, &jobs, err)) < 0)
			return rc;
		for (size_t k = 0; k < qc_json_len(jobs); k++) {
			const char *dev =
				qc_json_string(qc_json_get(qc_json_at(jobs, k), "device"));

			left |= dev && strncmp(dev, "qcmig-job-", 10) == 0;
		}
		if (!left) {
			memset(lv->job, 0, sizeof(lv->job));
			return 0;
		}
		if (qc_time_left_ms(deadline) == 0)
			return qc_error_set(err, ETIMEDOUT,
				"the disks' copies did not end within %d s",
				QC_VMOP_QMP_TIMEOUT_MS / 1000);
		nap(q, "BLOCK_JOB_COMPLETED");
	}
}

static int cancel_jobs(struct qc_qmp *q, struct qc_mig_live *lv, bool force, struct qc_error *err)
{
	for (size_t s = 0; s < lv->n; s++) {
		char args[80];

		if (!lv->job[s])
			continue;
		snprintf(args, sizeof(args), "{\"device\":\"qcmig-job-%zu\",\"force\":%s}", s,
			force ? "true" : "false");
		/* a job that ended already is no error here */
		(void) qc_qmp_execute_text(
			q, "block-job-cancel", args, QC_VMOP_QMP_QUICK_MS, NULL, NULL);
	}
	return jobs_gone(q, lv, err);
}

static void del_nodes(struct qc_qmp *q, struct qc_mig_live *lv)
{
	for (size_t s = 0; s < lv->n; s++) {
		char args[64];

		if (!lv->node[s])
			continue;
		snprintf(args, sizeof(args), "{\"node-name\":\"qcmig-nbd-%zu\"}", s);
		if (qc_qmp_execute_text(
			    q, "blockdev-del", args, QC_VMOP_QMP_QUICK_MS, NULL, NULL) == 0)
			lv->node[s] = false;
	}
}

int qc_mig_live_finish(struct qc_qmp *q, struct qc_mig_live *lv, struct qc_error *err)
{
	int rc;

	/* a ready mirror cancelled completes: the target's copy is consistent */
	if ((rc = cancel_jobs(q, lv, false, err)) < 0)
		return rc;
	del_nodes(q, lv);
	return 0;
}

int qc_mig_live_sweep(struct qc_qmp *q, int vm_dfd, struct qc_error *err)
{
	cleanup_json qc_json *nodes = NULL;
	struct qc_mig_live lv = {.n = QC_MIG_LIVE_DISKS};
	bool ran;
	int rc;

	if ((rc = qc_driver_migration_ready(q, vm_dfd, &ran, err)) < 0 ||
		(rc = qc_qmp_execute_text(q, "query-named-block-nodes", "{\"flat\":true}",
			 QC_VMOP_QMP_QUICK_MS, &nodes, err)) < 0)
		return rc;
	for (size_t k = 0; k < qc_json_len(nodes); k++) {
		const char *node = qc_json_string(qc_json_get(qc_json_at(nodes, k), "node-name"));
		unsigned s;

		if (node && sscanf(node, "qcmig-nbd-%u", &s) == 1 && s < QC_MIG_LIVE_DISKS)
			lv.node[s] = lv.job[s] = true;
	}
	if ((rc = cancel_jobs(q, &lv, true, err)) < 0)
		return rc;
	del_nodes(q, &lv);
	return 0;
}

int qc_mig_live_undo(struct qc_qmp *q, struct qc_mig_live *lv, struct qc_error *err)
{
	int rc;

	if (lv->migrating && (rc = qc_driver_state_out_undo(q, err)) < 0)
		return rc;
	lv->migrating = false;
	if ((rc = cancel_jobs(q, lv, true, err)) < 0)
		return rc;
	del_nodes(q, lv);
	return qc_qmp_execute_text(q, "cont", NULL, QC_VMOP_QMP_QUICK_MS, NULL, err);
}
