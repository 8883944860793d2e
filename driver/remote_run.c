/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qc_remote_run (<qemuctl/remote.h>): one command on the remote qemuctl,
 * a session on the handle's master connection (or an ssh connection of
 * its own): the hello, the request and the files it names, standard
 * input; then the command's output, the files it wrote and its exit code.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "driver/remote.h"

#define CAPTURE_MAX (64u << 20) /* the captured output of one stream */

struct sfile {
	const char *path;
	int fd;
	uint64_t size;
	bool out;
};

struct session {
	const qc_remote *r;
	const struct qc_remote_input *in;
	struct sfile files[QC_REMOTE_MAX_FILES];
	size_t n_files;
	int to, from, err; /* ssh's stdin, stdout, stderr */
	bool stdin_open, hello, exited, failed;
	const char *stdin_p; /* what is left of stdin_data */
	size_t stdin_left;
	int exit_code;
	struct qc_error ferr; /* why the session failed (failed) */
	struct qc_buf out, errout; /* captured */
	char tail[2048];           /* ssh's last words on stderr */
	size_t tail_len;
	int out_fd;                /* the written file being received, or -1 */
	size_t out_idx;
	char out_tmp[4096];        /* its temporary name beside the file */
	struct qc_error out_err;   /* the first file that could not be written */
};

static void session_clear(struct session *s)
{
	for (size_t i = 0; i < s->n_files; i++)
		if (s->files[i].fd >= 0)
			close(s->files[i].fd);
	if (s->out_fd >= 0) { /* a file cut short */
		close(s->out_fd);
		unlink(s->out_tmp);
	}
	qc_buf_free(&s->out);
	qc_buf_free(&s->errout);
}

/* The files argv names, checked and opened to be sent. */
static int open_files(struct session *s, const char *const *argv, int argc, struct qc_error *err)
{
	const struct qc_remote_input *in = s->in;

	if (in->n_files > QC_REMOTE_MAX_FILES)
		return qc_error_set(err, QC_ERR_INVALID, "more than %d files named",
			QC_REMOTE_MAX_FILES);
	for (size_t i = 0; i < in->n_files; i++) {
		const struct qc_remote_file *rf = &in->files[i];
		struct sfile *f = &s->files[s->n_files];
		struct stat st;

		if (rf->arg < 0 || rf->arg >= argc || rf->offset > strlen(argv[rf->arg]))
			return qc_error_set(err, QC_ERR_INVALID,
				"file %zu: argv word %d, offset %zu: not in argv", i, rf->arg,
				rf->offset);
		*f = (struct sfile){.path = argv[rf->arg] + rf->offset, .fd = -1, .out = rf->out};
		s->n_files++;
		if (f->out)
			continue;
		if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
			return qc_error_errno(err, errno, "cannot send '%s' to %s", f->path,
				s->r->url.host);
		if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode))
			return qc_error_set(err, QC_ERR_INVALID,
				"'%s' is not a regular file: only files are sent to %s", f->path,
				s->r->url.host);
		f->size = (uint64_t) st.st_size;
	}
	return 0;
}

static char *request_json(const struct session *s, const char *const *argv)
{
	const struct qc_remote_input *in = s->in;
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	char *out = NULL;

	qc_jgen_map_open(g);
	qc_jgen_key(g, "argv");
	qc_jgen_array_open(g);
	for (size_t i = 0; argv[i]; i++)
		qc_jgen_string(g, argv[i]);
	qc_jgen_array_close(g);
	qc_jgen_kstring(g, "root", s->r->url.root);
	qc_jgen_kbool(g, "tty", in->tty);
	if (in->tty && in->columns && in->rows) {
		qc_jgen_kuint(g, "columns", in->columns);
		qc_jgen_kuint(g, "rows", in->rows);
	}
	qc_jgen_key(g, "env");
	qc_jgen_map_open(g);
	for (size_t i = 0; in->env && in->env[i]; i++) {
		const char *eq = strchr(in->env[i], '=');
		cleanup_free char *name = eq ? qc_xstrndup(in->env[i], (size_t) (eq - in->env[i])) : NULL;

		if (name)
			qc_jgen_kstring(g, name, eq + 1);
	}
	qc_jgen_map_close(g);
	qc_jgen_key(g, "files");
	qc_jgen_array_open(g);
	for (size_t i = 0; i < s->n_files; i++) {
		const struct sfile *f = &s->files[i];
		const char *base = strrchr(f->path, '/');

		qc_jgen_map_open(g);
		qc_jgen_kint(g, "arg", in->files[i].arg);
		qc_jgen_kuint(g, "offset", in->files[i].offset);
		qc_jgen_kstring(g, "name", base ? base + 1 : f->path);
		if (f->out)
			qc_jgen_kbool(g, "out", true);
		else
			qc_jgen_kuint(g, "size", f->size);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
	if (qc_jgen_finish(g, &out, NULL, NULL) < 0)
		abort();
	return out;
}

/* The hello, the request and the files' bytes; 0, or -errno (the server went away: its reply says why). */
static int send_request(struct session *s, const char *req)
{
	char buf[QC_REMOTE_CHUNK];
	cleanup_free char *hello = qc_remote_hello();
	int r;

	if ((r = qc_remote_frame_write(s->to, QC_RF_HELLO, hello, strlen(hello))) < 0 ||
		(r = qc_remote_frame_write(s->to, QC_RF_REQUEST, req, strlen(req))) < 0)
		return r;
	for (size_t i = 0; i < s->n_files; i++) {
		uint64_t left = s->files[i].size;

		if (s->files[i].out)
			continue;
		fcntl(s->files[i].fd, F_SETFL, 0);
		while (left > 0) {
			ssize_t n = read(s->files[i].fd, buf, left < sizeof(buf) ? left : sizeof(buf));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) /* the file shrank: the server checks the size it was told */
				return n < 0 ? -errno : -EIO;
			if ((r = qc_remote_frame_write(s->to, QC_RF_FILE, buf, (size_t) n)) < 0)
				return r;
			left -= (uint64_t) n;
		}
	}
	return 0;
}

static void keep_tail(struct session *s, const char *p, size_t n)
{
	size_t cap = sizeof(s->tail) - 1;

	if (n >= cap) {
		p += n - cap;
		n = cap;
	}
	if (s->tail_len + n > cap) {
		size_t drop = s->tail_len + n - cap;

		memmove(s->tail, s->tail + drop, s->tail_len - drop);
		s->tail_len -= drop;
	}
	memcpy(s->tail + s->tail_len, p, n);
	s->tail_len += n;
	s->tail[s->tail_len] = 0;
}

/* The rename into path's directory made durable. */
static void fsync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	cleanup_free char *dir = slash ? qc_xstrndup(path, (size_t) (slash - path + 1))
				       : qc_xstrdup(".");
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		(void) fsync(fd);
}

static void out_fail(struct session *s, int e, const char *what)
{
	if (!s->out_err.code)
		qc_error_errno(&s->out_err, e, "%s '%s'", what, s->files[s->out_idx].path);
	if (s->out_fd >= 0) {
		close(s->out_fd);
		unlink(s->out_tmp);
	}
	s->out_fd = -1;
}

/*
 * The process's umask, read without setting it (umask() would change it
 * for a moment under other threads); 022 where /proc does not say.
 */
static mode_t umask_now(void)
{
	cleanup_free char *text = NULL;
	const char *p;

	if (qc_read_file(AT_FDCWD, "/proc/self/status", 65536, &text, NULL, NULL) < 0 ||
		!(p = strstr(text, "\nUmask:")))
		return 022;
	return (mode_t) strtoul(p + 7, NULL, 8) & 0777;
}

/* A file the command wrote: into a temporary file beside it, renamed when whole. */
static void on_output(struct session *s, char type, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *) p;
	long idx = n == 4 ? (long) ((unsigned long) u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3]) : -1;
	const char *path;

	if (type == QC_RF_FILE) {
		if (s->out_fd >= 0 && qc_write_all(s->out_fd, p, n, NULL) < 0)
			out_fail(s, errno, "writing");
		return;
	}
	if (idx < 0 || (size_t) idx >= s->n_files || !s->files[idx].out ||
		(type == QC_RF_OUTPUT_END) != (s->out_fd >= 0 && (size_t) idx == s->out_idx))
		return; /* not a file this command writes, or out of turn */
	s->out_idx = (size_t) idx;
	path = s->files[idx].path;
	if (type == QC_RF_OUTPUT) {
		snprintf(s->out_tmp, sizeof(s->out_tmp), "%s.qemuctl-XXXXXX", path);
		if ((s->out_fd = mkostemp(s->out_tmp, O_CLOEXEC)) < 0) {
			out_fail(s, errno, "cannot write");
			return;
		}
		(void) fchmod(s->out_fd, 0666 & ~umask_now());
		return;
	}
	if (fsync(s->out_fd) < 0 || rename(s->out_tmp, path) < 0) {
		out_fail(s, errno, "cannot write");
		return;
	}
	close(s->out_fd);
	s->out_fd = -1;
	fsync_dir_of(path);
}

/* Output for the caller: streamed, or kept (bounded). */
static void on_output_bytes(struct session *s, int fd, struct qc_buf *b, const char *p, size_t n)
{
	if (s->in->stream) {
		if (fd >= 0)
			(void) qc_write_all(fd, p, n, NULL);
		return;
	}
	if (b->len + n > CAPTURE_MAX) {
		if (!s->failed)
			qc_error_set(&s->ferr, QC_ERR_INVALID,
				"'%s': the command's output is over %u MiB: stream it "
				"(qc_remote_input.stream)",
				s->r->url.host, CAPTURE_MAX >> 20);
		s->failed = true;
		return;
	}
	qc_buf_append(b, p, n);
}

/* One frame from the server; false when the session is over. */
static bool on_frame(struct session *s, char type, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *) p;
	char version[64];
	int proto;

	if (!s->hello) {
		proto = type == QC_RF_HELLO ? qc_remote_hello_parse(p, n, version, sizeof(version))
					    : -1;
		if (proto != QC_REMOTE_PROTOCOL) {
			qc_error_set(&s->ferr, QC_ERR_PROTO,
				"the qemuctl on '%s' (version %s) speaks --connect protocol %d, "
				"this one (" PACKAGE_VERSION ") speaks %d: install the same qemuctl "
				"version on both hosts",
				s->r->url.host, version, proto, QC_REMOTE_PROTOCOL);
			s->failed = true;
			return false;
		}
		s->hello = true;
		return true;
	}
	switch (type) {
	case QC_RF_STDOUT:
		on_output_bytes(s, s->in->out_fd, &s->out, p, n);
		return !s->failed;
	case QC_RF_STDERR:
		on_output_bytes(s, s->in->err_fd, &s->errout, p, n);
		return !s->failed;
	case QC_RF_EXIT:
		if (n == 4) {
			s->exit_code = (int) ((unsigned) u[0] << 24 | u[1] << 16 | u[2] << 8 | u[3]);
			s->exited = true;
		}
		return false;
	case QC_RF_OUTPUT:
	case QC_RF_FILE:
	case QC_RF_OUTPUT_END:
		on_output(s, type, p, n);
		return true;
	case QC_RF_ERROR: {
		struct qc_term_filter st = {0};
		cleanup_free char *body = qc_term_filter(&st, p, n > 1024 ? 1024 : n, NULL);
		cleanup_free char *end = qc_term_filter_end(&st, NULL);

		qc_error_set(&s->ferr, QC_ERR_STATE,
			"'%s': %s%s: the remote qemuctl could not run the request", s->r->url.host,
			body, end);
		s->failed = true;
		return false;
	}
	default:
		return true; /* a later protocol's frame: ignored */
	}
}

/* Standard input: the caller's fd as it comes, or the next frame of stdin_data. */
static void send_stdin(struct session *s)
{
	char buf[QC_REMOTE_CHUNK];
	ssize_t n;

	if (!s->in->stream) {
		size_t k = s->stdin_left < sizeof(buf) ? s->stdin_left : sizeof(buf);

		if (k > 0) { /* stdin_data is NULL when stdin_len is 0 */
			(void) qc_remote_frame_write(s->to, QC_RF_STDIN, s->stdin_p, k);
			s->stdin_p += k;
			s->stdin_left -= k;
		}
		n = s->stdin_left > 0;
	} else {
		n = read(s->in->in_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			return;
		if (n > 0)
			(void) qc_remote_frame_write(s->to, QC_RF_STDIN, buf, (size_t) n);
	}
	if (n <= 0) {
		s->stdin_open = false;
		(void) qc_remote_frame_write(s->to, QC_RF_STDIN_END, "", 0);
	}
}

/* The terminal resized: its size to the remote one. */
static void send_winsize(struct session *s)
{
	struct winsize ws;

	if (!s->in->tty || !s->in->resized || !*s->in->resized)
		return;
	*(volatile sig_atomic_t *) s->in->resized = 0;
	if (ioctl(s->in->out_fd, TIOCGWINSZ, &ws) == 0) {
		unsigned char sz[4] = {ws.ws_col >> 8, ws.ws_col & 0xff, ws.ws_row >> 8,
			ws.ws_row & 0xff};
		(void) qc_remote_frame_write(s->to, QC_RF_WINSIZE, sz, sizeof(sz));
	}
}

static void on_ssh_stderr(struct session *s, const char *p, size_t n)
{
	if (s->in->stream && s->in->err_fd >= 0)
		(void) qc_write_all(s->in->err_fd, p, n, NULL);
	keep_tail(s, p, n);
}

static void session_loop(struct session *s)
{
	struct qc_remote_reader rd = {0};
	bool from_open = true, err_open = true;
	char buf[QC_REMOTE_CHUNK];

	while (from_open || err_open) {
		bool feed = s->stdin_open && s->in->stream;
		struct pollfd p[3] = {{.fd = from_open ? s->from : -1, .events = POLLIN},
			{.fd = err_open ? s->err : -1, .events = POLLIN},
			{.fd = feed ? s->in->in_fd : s->stdin_open ? s->to : -1,
				.events = feed ? POLLIN : POLLOUT}};
		const char *fp;
		size_t fn;
		ssize_t n;
		char type;
		int k;

		send_winsize(s);
		if (poll(p, 3, -1) < 0)
			continue; /* EINTR: the terminal resized */
		if (p[1].revents) {
			n = read(s->err, buf, sizeof(buf));
			if (n <= 0)
				err_open = false;
			else
				on_ssh_stderr(s, buf, (size_t) n);
		}
		if (p[2].revents)
			send_stdin(s);
		if (!p[0].revents)
			continue;
		if (qc_remote_reader_fill(&rd, s->from) <= 0) {
			from_open = false;
			continue;
		}
		while ((k = qc_remote_reader_next(&rd, &type, &fp, &fn)) > 0)
			if (!on_frame(s, type, fp, fn)) {
				from_open = false;
				break;
			}
		if (k < 0)
			from_open = false;
		if (!from_open)
			break;
	}
	qc_remote_reader_free(&rd);
}

/* ssh's stdio as pipes, started for the session. */
static int session_ssh(struct session *s, pid_t *ret_pid, struct qc_error *err)
{
	const qc_remote *r = s->r;
	cleanup_free char *opt_path = r->control ? qc_xasprintf("ControlPath=%s", r->control) : NULL;
	const char *const mux[] = {"-o", "ControlMaster=no", "-o", opt_path, "-o", "BatchMode=yes",
		"-T", "-e", "none", NULL};
	const char *const direct[] = {"-T", "-e", "none", NULL};
	const char *const rcmd[] = {r->remote_qemuctl, "serve-stdio", NULL};
	cleanup_strv char **argv = qc_remote_ssh_words(r, r->control ? mux : direct, rcmd);
	struct qc_spawn_opts so = {.argv = (const char *const *) argv, .in = QC_STDIO_CAPTURE,
		.out = QC_STDIO_CAPTURE, .errout = QC_STDIO_CAPTURE};
	int fds[3];
	int rc;

	if ((rc = qc_spawn_fork(&so, ret_pid, fds, err)) < 0)
		return qc_remote_spawn_failed(r, err);
	s->to = fds[0];
	s->from = fds[1];
	s->err = fds[2];
	return 0;
}

/* How the session ended, once ssh is reaped. */
static int session_end(struct session *s, pid_t pid, struct qc_remote_result *ret,
	struct qc_error *err)
{
	char buf[4096];
	int status = 0;

	close(s->to);
	close(s->from);
	/* ssh's last words (a lost connection) before it is reaped */
	for (ssize_t n; (n = read(s->err, buf, sizeof(buf))) > 0;)
		on_ssh_stderr(s, buf, (size_t) n);
	close(s->err);
	qc_pid_reap(pid, &status);
	if (s->failed) {
		*err = s->ferr;
		return -s->ferr.code;
	}
	if (!s->hello)
		return qc_remote_ssh_failed(s->r, status, s->tail, !s->in->stream, err);
	if (!s->exited)
		return qc_error_set(err, QC_ERR_CHILD,
			"'%s': the connection ended before the remote command did: run the "
			"command again; 'qemuctl --connect URL list' shows what it left",
			s->r->url.host);
	if (s->out_err.code && s->exit_code == 0) {
		*err = s->out_err;
		return -s->out_err.code;
	}
	*ret = (struct qc_remote_result){.exit_code = s->exit_code};
	if (!s->in->stream) {
		ret->out_len = s->out.len;
		ret->out = qc_buf_steal(&s->out);
		ret->err_len = s->errout.len;
		ret->err = qc_buf_steal(&s->errout);
	}
	return 0;
}

int qc_remote_run(qc_remote *r, const char *const *argv, const struct qc_remote_input *in,
	struct qc_remote_result *ret, struct qc_error *err)
{
	static const struct qc_remote_input none = {.in_fd = -1, .out_fd = -1, .err_fd = -1};
	struct session s = {.r = r, .to = -1, .out_fd = -1};
	cleanup_free char *req = NULL;
	sigset_t pipe_set, old_mask;
	int argc = 0, rc;
	pid_t pid;

	s.in = in ? in : &none;
	while (argv && argv[argc])
		argc++;
	if (argc == 0) {
		rc = qc_error_set(err, QC_ERR_INVALID, "no command to run on '%s'", r->url.host);
		goto out;
	}
	if ((rc = open_files(&s, argv, argc, err)) < 0)
		goto out;
	s.stdin_p = s.in->stdin_data;
	s.stdin_left = s.in->stdin_len;
	s.stdin_open = s.in->stream ? s.in->in_fd >= 0 : true;
	req = request_json(&s, argv);
	if ((rc = session_ssh(&s, &pid, err)) < 0)
		goto out;
	/*
	 * A server gone is EPIPE here, and its reply (or ssh's) says why:
	 * SIGPIPE blocked in this thread only (other threads' handles and the
	 * program's own disposition stay as they are), a pending one dropped.
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
	if (send_request(&s, req) == 0 && !s.stdin_open)
		(void) qc_remote_frame_write(s.to, QC_RF_STDIN_END, "", 0);
	session_loop(&s);
	rc = session_end(&s, pid, ret, err);
	if (!sigismember(&old_mask, SIGPIPE)) {
		while (sigtimedwait(&pipe_set, NULL, &(struct timespec){0}) == SIGPIPE)
			;
		pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	}
out:
	session_clear(&s);
	return rc;
}

void qc_remote_result_free(struct qc_remote_result *res)
{
	if (!res)
		return;
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}
