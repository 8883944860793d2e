/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Migration to another host's qemuctl (qemuctl.h "Migration"): one ssh
 * connection to `qemuctl [--root ROOT] migrate-receive` there, every word
 * of that remote command quoted for the remote shell, and the protocol of
 * driver/migrate_chan.h over ssh's stdin/stdout (ssh's stderr kept in a memfd
 * to tell an ssh failure, a host key problem and a missing qemuctl apart).
 *
 * Offline: the stopped VM's files (overlays, seed and its files, varstore,
 * keys) are sent under the VM's lock; a backing image outside the VM's
 * directory is announced by its SHA-256 and taken from the target's
 * catalog when it holds the same file, else sent into the VM's directory
 * there.  The definition goes last, its paths moved to the target's VM
 * directory.  The source removes its copy only after the target committed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/migrate_chan.h"
#include "driver/network.h"
#include "driver/save.h"
#include "driver/stop.h"
#include "driver/vmop.h"

/* Files of a VM directory that stay behind: bookkeeping and this host's logs. */
static bool stays(const char *name)
{
	static const char *const v[] = {QC_VM_LOCK, QC_VM_MONITOR_LOCK, QC_VM_STATE, QC_VM_DOMAIN,
		QC_VM_OP_RECORD, "summary.json", QC_VM_QEMU_LOG, QC_VM_EVENTS};

	if (name[0] == '.' || qc_str_has_prefix(name, QC_VM_CONSOLE_LOG))
		return true;
	for (size_t i = 0; i < QC_ARRAY_SIZE(v); i++)
		if (strcmp(name, v[i]) == 0)
			return true;
	return false;
}

struct link {
	struct qc_mig_chan ch;
	pid_t pid;
	int err_fd; /* ssh's stderr (memfd) */
	const char *host;
	char *target_root;
};

/* The last line ssh (or the remote shell) wrote on stderr, or "". */
static char *ssh_stderr(const struct link *l)
{
	char buf[4096];
	ssize_t n = pread(l->err_fd, buf, sizeof(buf) - 1, 0);
	char *end, *start;

	if (n <= 0)
		return qc_xstrdup("");
	buf[n] = '\0';
	end = buf + n;
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	start = strrchr(buf, '\n');
	return qc_xstrdup(start ? start + 1 : buf);
}

/* Why the connection ended: ssh's exit status and what it said. */
static int link_failed(struct link *l, const char *remote_qemuctl, struct qc_error *err)
{
	cleanup_free char *said = NULL;
	int status = 0;

	if (l->ch.out >= 0)
		(void) shutdown(l->ch.out, SHUT_WR);
	if (l->pid > 0) {
		while (waitpid(l->pid, &status, 0) < 0 && errno == EINTR)
			;
		l->pid = -1;
	}
	said = ssh_stderr(l);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 255) {
		if (strstr(said, "Host key verification failed") || strstr(said, "IDENTIFICATION"))
			return qc_error_set(err, QC_ERR_CHILD,
				"ssh to '%s': the host key is not known or has changed (%s); "
				"check it and add it to known_hosts",
				l->host, said);
		if (!*said)
			return qc_error_set(err, QC_ERR_CHILD,
				"the connection to '%s' ended without a word (the remote qemuctl "
				"was killed?)",
				l->host);
		return qc_error_set(err, QC_ERR_CHILD, "ssh to '%s' failed: %s", l->host, said);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"no '%s' on '%s' (%s): install qemuctl there, or name it with "
			"--remote-qemuctl",
			remote_qemuctl, l->host, said);
	if (WIFEXITED(status))
		return qc_error_set(err, QC_ERR_CHILD, "qemuctl on '%s' failed (exit %d): %s",
			l->host, WEXITSTATUS(status), *said ? said : "no message");
	return qc_error_set(err, QC_ERR_CHILD, "ssh to '%s' was killed by signal %d", l->host,
		WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/*
 * The connection broke while this side wrote or read: the target's last
 * reply (an error it gave before it went) says more than the broken pipe;
 * else ssh's exit and message.
 */
static int link_lost(struct link *l, const char *remote_qemuctl, struct qc_error *err)
{
	cleanup_json qc_json *r = NULL;
	const char *msg;

	(void) shutdown(l->ch.out, SHUT_WR);
	while (qc_mig_recv(&l->ch, &r, NULL) == 0) {
		if ((msg = qc_json_string(qc_json_get(r, "error"))))
			return qc_error_set(err, QC_ERR_STATE, "the target: %s", msg);
		qc_json_free(r);
		r = NULL;
	}
	return link_failed(l, remote_qemuctl, err);
}

static void link_close(struct link *l)
{
	if (l->ch.in >= 0)
		close(l->ch.in); /* also ch.out: one socket */
	if (l->pid > 0) {
		kill(l->pid, SIGTERM);
		while (waitpid(l->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (l->err_fd >= 0)
		close(l->err_fd);
	qc_mig_chan_clear(&l->ch);
	free(l->target_root);
}

/* ssh [-o OPT]... -T -p PORT -l USER -- HOST 'qemuctl' ['--root' 'ROOT'] 'migrate-receive' */
static int link_open(struct link *l, const struct qc_ssh_url *u, const struct qc_migrate_opts *o,
	const char *remote_qemuctl, struct qc_error *err)
{
	cleanup_strv char **base = qc_ssh_url_argv(u);
	cleanup_strvec struct qc_strv argv = {0};
	int stdio[3] = {-1, -1, -1}, sv[2];
	int rc;

	qc_strv_push(&argv, base[0]);
	qc_strv_push(&argv, "-T");
	qc_strv_push(&argv, "-oBatchMode=yes");
	for (size_t i = 0; o->ssh_options && o->ssh_options[i]; i++) {
		qc_strv_push(&argv, "-o");
		qc_strv_push(&argv, o->ssh_options[i]);
	}
	for (size_t i = 1; base[i]; i++)
		qc_strv_push(&argv, base[i]);
	qc_strv_push_take(&argv, qc_sh_quote(remote_qemuctl));
	if (u->root) {
		qc_strv_push_take(&argv, qc_sh_quote("--root"));
		qc_strv_push_take(&argv, qc_sh_quote(u->root));
	}
	qc_strv_push_take(&argv, qc_sh_quote("migrate-receive"));
	l->err_fd = memfd_create("ssh-stderr", MFD_CLOEXEC);
	if (l->err_fd < 0)
		return qc_error_errno(err, errno, "memfd_create");
	/* ssh's stdin and stdout: one socket, written without SIGPIPE */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return qc_error_errno(err, errno, "socketpair");
	struct qc_spawn_opts so = {
		.argv = (const char *const *) argv.v,
		.in = QC_STDIO_FD,
		.in_fd = sv[1],
		.out = QC_STDIO_FD,
		.out_fd = sv[1],
		.errout = QC_STDIO_FD,
		.err_fd = l->err_fd,
	};
	rc = qc_spawn_fork(&so, &l->pid, stdio, err);
	close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		return qc_error_prefix(err, "ssh to '%s'", u->host);
	}
	qc_mig_chan_init(&l->ch, sv[0], sv[0]);
	return 0;
}

/* The target's hello (protocol version, root), then ours. */
static int link_hello(struct link *l, const char *remote_qemuctl, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *h = NULL;
	const char *root;
	int64_t v;
	int rc;

	if ((rc = qc_mig_recv(&l->ch, &h, err)) < 0) {
		if (rc == -QC_ERR_EOF)
			return link_failed(l, remote_qemuctl, err);
		return qc_error_prefix(err, "'%s' did not answer as qemuctl migrate-receive", l->host);
	}
	if (!qc_json_as_int(qc_json_get(h, "qemuctl-migrate"), &v))
		return qc_error_set(err, QC_ERR_PROTO,
			"'%s' did not answer as qemuctl migrate-receive (no protocol version)", l->host);
	if (v != QC_MIGRATE_PROTOCOL)
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"qemuctl on '%s' speaks migration protocol %lld, this one %d: install the "
			"same qemuctl version on both hosts",
			l->host, (long long) v, QC_MIGRATE_PROTOCOL);
	if ((root = qc_json_string(qc_json_get(h, "root"))) == NULL ||
		qc_domain_check_path("the target's state root", root, true, err) < 0)
		return qc_error_set(err, QC_ERR_PROTO, "'%s' named no valid state root", l->host);
	l->target_root = qc_xstrdup(root);
	qc_jgen_map_open(g);
	qc_jgen_kint(g, "qemuctl-migrate", QC_MIGRATE_PROTOCOL);
	qc_jgen_map_close(g);
	return qc_mig_send(&l->ch, g, err);
}

/* Send one request (g holds an open map) and read its reply. */
static int request(struct link *l, struct qc_jgen *g, qc_json **ret, struct qc_error *err)
{
	int rc;

	qc_jgen_map_close(g);
	if ((rc = qc_mig_send(&l->ch, g, err)) < 0)
		return rc;
	return ret ? qc_mig_reply(&l->ch, ret, err) : 0;
}

/* Send the file open as fd (name: for errors) as the target's base name as. */
static int send_fd(struct link *l, int fd, const char *name, const char *as, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *r = NULL;
	char hex[QC_SHA256_HEX_LEN + 1];
	struct stat st;
	int rc;

	if (fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "stat %s", name);
	if (!S_ISREG(st.st_mode))
		return qc_error_set(err, QC_ERR_STATE, "%s is not a regular file", name);
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "op", "file");
	qc_jgen_kstring(g, "name", as);
	qc_jgen_kuint(g, "size", (uint64_t) st.st_size);
	if ((rc = request(l, g, NULL, err)) < 0 ||
		(rc = qc_mig_send_data(&l->ch, fd, (uint64_t) st.st_size, hex, err)) < 0 ||
		(rc = qc_mig_reply(&l->ch, &r, err)) < 0)
		return qc_error_prefix(err, "sending %s", name);
	return 0;
}

/* Send file dfd/name as the target's base name as. */
static int send_file(struct link *l, int dfd, const char *name, const char *as, struct qc_error *err)
{
	cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return qc_error_errno(err, errno, "open %s", name);
	return send_fd(l, fd, name, as, err);
}

/* What an offline move cannot carry, refused before anything is sent. */
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
			"VM '%s' shares host directory '%s', which migrate does not move; remove the "
			"share from its definition first",
			op->name, d->shares[0].path);
	for (size_t i = 0; i < d->n_disks; i++)
		if (!d->disks[i].owned)
			return qc_error_set(err, QC_ERR_STATE,
				"VM '%s': disk '%s' is the file '%s' outside the VM, which migrate "
				"does not move; detach it first ('qemuctl detach-disk %s %s')",
				op->name, d->disks[i].name, d->disks[i].path, op->name,
				d->disks[i].name);
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
static int move_backing(qc_ctx *ctx, struct link *l, const char *dir, struct qc_disk *k,
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
	if ((rc = request(l, g, &r, err)) < 0)
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
	if ((rc = send_file(l, AT_FDCWD, k->backing, send, err)) < 0)
		return rc;
	free(k->backing);
	k->backing = qc_xasprintf("%s/%s", dir, send);
	res->images_sent++;
	return 0;
}

/* d's paths moved to dir on the target; backing images outside the VM found or sent there. */
static int move_backings(struct qc_vmop *op, struct link *l, struct qc_domain *d, const char *dir,
	struct qc_migrate_result *res, struct qc_error *err)
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

/* The files of the source's VM directory that move, sent. */
static int move_files(struct qc_vmop *op, struct link *l, struct qc_error *err)
{
	struct dirent **ents = NULL;
	int n, rc = 0;

	n = scandirat(op->dfd, ".", &ents, NULL, alphasort);
	if (n < 0)
		return qc_error_errno(err, errno, "VM '%s': read its directory", op->name);
	for (int i = 0; i < n; i++) {
		const char *e = ents[i]->d_name;
		struct stat st;

		if (rc == 0 && !stays(e)) {
			if (fstatat(op->dfd, e, &st, AT_SYMLINK_NOFOLLOW) < 0)
				rc = qc_error_errno(err, errno, "VM '%s': %s", op->name, e);
			else if (!S_ISREG(st.st_mode))
				rc = qc_error_set(err, QC_ERR_STATE,
					"VM '%s': %s/%s is not a regular file, which migrate does "
					"not move",
					op->name, op->vm_dir, e);
			else if ((rc = send_file(l, op->dfd, e, e, err)) == 0 && op->ctx->progress)
				op->ctx->progress("migrate", l->ch.sent, 0, op->ctx->progress_opaque);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

/* A request of one word ({"op":OP}) and its reply. */
static int request_op(struct link *l, const char *op, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *r = NULL;

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "op", op);
	return request(l, g, &r, err);
}

/* Where a move stands, for the failure path of a running VM's move. */
struct move {
	bool live;
	bool stopped; /* the source's CPUs stopped for the move */
	bool killed;  /* the source's QEMU ended: the target has the VM */
	int64_t t_stop;
};

/*
 * A running VM: its CPUs stopped and its state written into an unlinked
 * file of its directory (the disks are flushed and quiet from then on).
 */
static int save_state(struct qc_vmop *op, struct move *m, int *ret_fd, struct qc_error *err)
{
	cleanup_close int fd = openat(op->dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	bool ran;
	int rc;

	if (fd < 0)
		return qc_error_errno(err, errno, "VM '%s': a file for its state in %s", op->name,
			op->vm_dir);
	if ((rc = qc_vmop_qmp(op, err)) < 0)
		return rc;
	if ((rc = qc_driver_migration_ready(op->q, op->dfd, &ran, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", op->name);
	m->t_stop = qc_now_ms();
	m->stopped = true;
	if ((rc = qc_driver_state_out(op->q, fd, err)) < 0)
		return qc_error_prefix(err, "VM '%s': writing its state", op->name);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return qc_error_errno(err, errno, "lseek");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

static int transfer(struct qc_vmop *op, struct link *l, struct move *m,
	struct qc_migrate_result *res, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_jgen struct qc_jgen *c = qc_jgen_new(false);
	cleanup_domain struct qc_domain *d = qc_domain_copy(op->d);
	cleanup_json qc_json *r = NULL, *r2 = NULL;
	cleanup_free char *xml = NULL, *want = NULL;
	cleanup_close int state_fd = -1;
	const char *dir;
	int rc;

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "op", "begin");
	qc_jgen_kstring(g, "name", op->name);
	qc_jgen_kbool(g, "live", m->live);
	if ((rc = request(l, g, &r, err)) < 0)
		return rc;
	want = qc_domain_home_dir(l->target_root, op->name);
	if (!(dir = qc_json_string(qc_json_get(r, "dir"))) || strcmp(dir, want) != 0)
		return qc_error_set(err, QC_ERR_PROTO, "'%s' named no VM directory in %s", l->host,
			l->target_root);
	qc_fault_step("migrate:begun");
	/* backing images first: a running guest runs on meanwhile */
	if ((rc = move_backings(op, l, d, want, res, err)) < 0)
		return rc;
	if (m->live && (rc = save_state(op, m, &state_fd, err)) < 0)
		return rc;
	if ((rc = move_files(op, l, err)) < 0)
		return rc;
	if (m->live && (rc = send_fd(l, state_fd, "the VM's state", QC_VM_SAVED_STATE, err)) < 0)
		return rc;
	qc_fault_step("migrate:sent");
	if ((rc = qc_domain_to_xml(d, &xml, err)) < 0)
		return rc;
	qc_jgen_map_open(c);
	qc_jgen_kstring(c, "op", "commit");
	qc_jgen_kstring(c, "xml", xml);
	if ((rc = request(l, c, &r2, err)) < 0 || !m->live)
		return rc;
	/* the target resumes the state with its CPUs stopped; only then this QEMU ends */
	if ((rc = request_op(l, "start", err)) < 0)
		return rc;
	qc_fault_step("migrate:started");
	qc_qmp_close(op->q);
	op->q = NULL;
	if ((rc = qc_vmop_kill(op, err)) < 0)
		return rc;
	m->killed = true;
	if ((rc = request_op(l, "run", err)) < 0)
		return rc;
	res->downtime_ms = qc_now_ms() - m->t_stop;
	return 0;
}

QC_PUBLIC int qc_vm_migrate(qc_ctx *ctx, const char *name, const char *url,
	const struct qc_migrate_opts *o, struct qc_migrate_result *ret, struct qc_error *err)
{
	static const struct qc_migrate_opts none = {0};
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	struct link l = {.pid = -1, .err_fd = -1, .ch = {.in = -1, .out = -1}};
	struct qc_migrate_result res = {0};
	struct qc_ssh_url u = {0};
	struct qc_error e2 = {0};
	struct move m = {0};
	const char *remote;
	int64_t t0 = qc_now_ms();
	int rc;

	o = o ? o : &none;
	remote = o->remote_qemuctl ? o->remote_qemuctl : "qemuctl";
	if (ret)
		memset(ret, 0, sizeof(*ret));
	if ((rc = qc_ssh_url_parse(url, &u, err)) < 0)
		return rc;
	l.host = u.host;
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
		(rc = link_open(&l, &u, o, remote, err)) < 0 ||
		(rc = link_hello(&l, remote, err)) < 0)
		goto out;
	if ((rc = transfer(&op, &l, &m, &res, err)) < 0) {
		/* the target's own words, when it gave up first, say more than a broken pipe */
		if (rc == -QC_ERR_EOF || rc == -EPIPE || rc == -ECONNRESET)
			rc = link_lost(&l, remote, err);
		/* the move failed: the VM runs on here (the target removes its copy) */
		if (m.stopped && !m.killed && op.q)
			(void) qc_qmp_execute_text(op.q, "cont", NULL, QC_VMOP_QMP_QUICK_MS, NULL, NULL);
		else if (m.killed)
			qc_error_prefix(err, "VM '%s' stopped here and did not run on '%s': its disks "
				"are here, 'qemuctl start %s' boots it anew", name, u.host, name);
		goto out;
	}
	qc_fault_step("migrate:committed");
	/* the target has it: this host's copy goes, with its addresses */
	if (qc_network_domain_release(ctx, op.d, &e2) < 0)
		qc_warn("VM '%s': %s", name, e2.msg);
	if ((rc = qc_driver_remove_vm_dir(ctx, name, err)) < 0) {
		qc_error_prefix(err, "VM '%s' is on '%s' now, but its copy here was not removed",
			name, u.host);
		goto out;
	}
	res.bytes = l.ch.sent;
	res.live = m.live;
	res.total_ms = qc_now_ms() - t0;
	if (ret)
		*ret = res;
out:
	link_close(&l);
	qc_ssh_url_clear(&u);
	return rc;
}
