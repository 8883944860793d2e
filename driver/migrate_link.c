/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The source's ssh connection to the target's qemuctl (driver/migrate_link.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/migrate_link.h"
#include "driver/migrate_mux.h"

void qc_mig_progress(struct qc_mig_link *l, const char *fmt, ...)
{
	char phase[128];
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(phase, sizeof(phase), fmt, ap);
		va_end(ap);
		snprintf(l->what, sizeof(l->what), "migrate %s: %s%s", l->name,
			l->paused ? "guest paused, " : "", phase);
	}
	if (l->ctx->progress)
		l->ctx->progress(l->what, l->ch.sent, l->total, l->ctx->progress_opaque);
}

static void on_sent(struct qc_mig_chan *c)
{
	qc_mig_progress((struct qc_mig_link *) c, NULL);
}

/* The last line ssh (or the remote shell) wrote on stderr, or "". */
static char *ssh_stderr(const struct qc_mig_link *l)
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
static int link_failed(struct qc_mig_link *l, const char *remote_qemuctl, struct qc_error *err)
{
	cleanup_free char *said = NULL;
	int status = 0;

	if (l->ch.out >= 0)
		(void) shutdown(l->ch.out, SHUT_WR);
	/* a relay that ended left the target nothing to wait for but ssh's end */
	if (l->mux && !qc_mux_alive(l->mux))
		(void) shutdown(l->ssh_fd, SHUT_WR);
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
int qc_mig_link_lost(struct qc_mig_link *l, const char *remote_qemuctl, struct qc_error *err)
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

/* Read fd (non-blocking or not) to its end, for at most 10 s. */
static void drain(int fd)
{
	int64_t deadline = qc_deadline_ms(10000);
	char buf[4096];

	while (qc_time_left_ms(deadline) > 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, (int) qc_time_left_ms(deadline)) <= 0)
			return;
		n = read(fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return;
	}
}

/*
 * A cancelled move: the target sees the connection end and removes what it
 * received; its own end (at most 10 s) is waited for, a second signal
 * included.  After the switch to frames the relay ends first, and the
 * target's end is ssh's output ending.
 */
void qc_mig_link_cancel(struct qc_mig_link *l)
{
	struct timeval tv = {.tv_sec = 10};
	qc_json *r = NULL;

	l->ch.cancel = NULL;
	if (l->mux) {
		qc_mux_free(l->mux);
		l->mux = NULL;
		drain(l->ssh_fd);
		return;
	}
	(void) setsockopt(l->ch.in, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) shutdown(l->ch.out, SHUT_WR);
	while (qc_mig_recv(&l->ch, &r, NULL) == 0) {
		qc_json_free(r);
		r = NULL;
	}
}

void qc_mig_link_close(struct qc_mig_link *l)
{
	qc_mux_free(l->mux);
	l->mux = NULL;
	if (l->ch.in >= 0 && l->ch.in != l->ssh_fd)
		close(l->ch.in); /* also ch.out: one socket */
	if (l->ssh_fd >= 0)
		close(l->ssh_fd);
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
int qc_mig_link_open(struct qc_mig_link *l, const struct qc_ssh_url *u,
	const struct qc_migrate_opts *o, const char *remote_qemuctl, struct qc_error *err)
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
		.new_session = true, /* a Ctrl-C on the terminal is this process's to handle */
	};
	rc = qc_spawn_fork(&so, &l->pid, stdio, err);
	close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		return qc_error_prefix(err, "ssh to '%s'", u->host);
	}
	l->ssh_fd = sv[0];
	qc_mig_chan_init(&l->ch, sv[0], sv[0]);
	l->ch.on_sent = on_sent;
	return 0;
}

/* The target's hello (protocol version, root), then ours. */
int qc_mig_link_hello(struct qc_mig_link *l, const char *remote_qemuctl, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *h = NULL;
	const char *root;
	int64_t v;
	int rc;

	if ((rc = qc_mig_recv(&l->ch, &h, err)) < 0) {
		if (rc == -QC_ERR_EOF)
			return link_failed(l, remote_qemuctl, err);
		return qc_error_prefix(
			err, "'%s' did not answer as qemuctl migrate-receive", l->host);
	}
	if (!qc_json_as_int(qc_json_get(h, "qemuctl-migrate"), &v))
		return qc_error_set(err, QC_ERR_PROTO,
			"'%s' did not answer as qemuctl migrate-receive (no protocol version)",
			l->host);
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
int qc_mig_request(struct qc_mig_link *l, struct qc_jgen *g, qc_json **ret, struct qc_error *err)
{
	int rc;

	qc_jgen_map_close(g);
	if ((rc = qc_mig_send(&l->ch, g, err)) < 0)
		return rc;
	return ret ? qc_mig_reply(&l->ch, ret, err) : 0;
}

/* Send the file open as fd (name: for errors) as the target's base name as. */
int qc_mig_send_fd(
	struct qc_mig_link *l, int fd, const char *name, const char *as, struct qc_error *err)
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
	if ((rc = qc_mig_request(l, g, NULL, err)) < 0 ||
		(rc = qc_mig_send_data(&l->ch, fd, (uint64_t) st.st_size, hex, err)) < 0 ||
		(rc = qc_mig_reply(&l->ch, &r, err)) < 0)
		return qc_error_prefix(err, "sending %s", name);
	return 0;
}

/* Send file dfd/name as the target's base name as. */
int qc_mig_send_file(
	struct qc_mig_link *l, int dfd, const char *name, const char *as, struct qc_error *err)
{
	cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return qc_error_errno(err, errno, "open %s", name);
	qc_mig_progress(l, "sending %s", as);
	return qc_mig_send_fd(l, fd, name, as, err);
}

/* A request of one word ({"op":OP}) and its reply. */
int qc_mig_request_op(struct qc_mig_link *l, const char *op, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *r = NULL;

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "op", op);
	return qc_mig_request(l, g, &r, err);
}
