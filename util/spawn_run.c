/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running a child to completion: stdin fed and stdout/stderr captured in
 * one poll() loop with a pidfd and a monotonic deadline, and the error of
 * a run that failed (exit status plus a tail of stderr).  The fork and
 * exec themselves are util/spawn.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define DEFAULT_CAPTURE_MAX (1024 * 1024)
#define TAIL_CHARS 400

static const char *argv0(const struct qc_spawn_opts *o)
{
	return o->argv && o->argv[0] ? o->argv[0] : "(null)";
}

void qc_spawn_result_free(struct qc_spawn_result *r)
{
	if (!r)
		return;
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
	r->out_len = r->err_len = 0;
}

/* write() that turns SIGPIPE into EPIPE without touching the process-wide disposition. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	e = errno;
	if (n < 0 && e == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

/* Capture state of one output stream. */
struct capture {
	int fd;
	struct qc_buf buf;
	size_t max;
	bool keep_tail; /* stderr: the last bytes say why it failed */
};

static void capture_add(struct capture *c, const char *p, size_t n)
{
	if (!c->keep_tail) {
		if (c->buf.len < c->max)
			qc_buf_append(
				&c->buf, p, n < c->max - c->buf.len ? n : c->max - c->buf.len);
		return;
	}
	qc_buf_append(&c->buf, p, n);
	/* Trim only now and then, so a chatty child costs O(n), not O(n * max). */
	if (c->buf.len > 2 * c->max) {
		memmove(c->buf.data, c->buf.data + c->buf.len - c->max, c->max);
		c->buf.len = c->max;
		c->buf.data[c->buf.len] = '\0';
	}
}

static void capture_finish(struct capture *c)
{
	if (c->keep_tail && c->buf.len > c->max) {
		memmove(c->buf.data, c->buf.data + c->buf.len - c->max, c->max);
		c->buf.len = c->max;
		c->buf.data[c->buf.len] = '\0';
	}
}

/* Read what is there: 0 = more may come, 1 = EOF or error (fd closed). */
static int capture_read(struct capture *c)
{
	char chunk[65536];

	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		if (n > 0) {
			capture_add(c, chunk, (size_t) n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		qc_closep(&c->fd);
		return 1;
	}
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int qc_spawn_run(const struct qc_spawn_opts *o, struct qc_spawn_result *res, struct qc_error *err)
{
	struct qc_spawn_result local;
	int stdio[3];
	pid_t pid;
	size_t max = o->capture_max ? o->capture_max : DEFAULT_CAPTURE_MAX;
	struct capture out = {.fd = -1, .max = max},
		       errc = {.fd = -1, .max = max, .keep_tail = true};
	int64_t deadline = qc_deadline_ms(o->timeout_ms > 0 ? o->timeout_ms : -1);
	const char *input = o->input;
	size_t input_left = o->input_len;
	bool exited = false, timed_out = false;
	int in_w, pidfd = -1, status = 0, r;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if ((r = qc_spawn_fork(o, &pid, stdio, err)) < 0)
		return r;
	in_w = stdio[0];
	out.fd = stdio[1];
	errc.fd = stdio[2];
	if ((in_w >= 0 && set_nonblock(in_w) < 0) || (out.fd >= 0 && set_nonblock(out.fd) < 0) ||
		(errc.fd >= 0 && set_nonblock(errc.fd) < 0)) {
		r = qc_error_errno(err, errno, "%s: fcntl", argv0(o));
		goto fail;
	}
	if (in_w >= 0 && (!input || input_left == 0))
		qc_closep(&in_w);
	/* Without pidfds (kernel < 5.3) fall back to polling waitpid() every 20 ms. */
	pidfd = (int) syscall(SYS_pidfd_open, pid, 0);

	while (!exited) {
		struct pollfd pfd[4];
		int np = 0, i_out = -1, i_err = -1, i_in = -1, i_pid = -1, timeout, pr;

		if (out.fd >= 0) {
			i_out = np;
			pfd[np++] = (struct pollfd){.fd = out.fd, .events = POLLIN};
		}
		if (errc.fd >= 0) {
			i_err = np;
			pfd[np++] = (struct pollfd){.fd = errc.fd, .events = POLLIN};
		}
		if (in_w >= 0) {
			i_in = np;
			pfd[np++] = (struct pollfd){.fd = in_w, .events = POLLOUT};
		}
		if (pidfd >= 0) {
			i_pid = np;
			pfd[np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		}
		timeout = qc_time_left_ms(deadline);
		if (timeout == 0) {
			(void) kill(pid, SIGKILL);
			qc_pid_reap(pid, &status);
			timed_out = true;
			break;
		}
		if (pidfd < 0 && (timeout < 0 || timeout > 20))
			timeout = 20;
		pr = poll(pfd, (nfds_t) np, timeout);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			r = qc_error_errno(err, errno, "%s: poll", argv0(o));
			goto fail;
		}
		if (i_out >= 0 && pfd[i_out].revents)
			capture_read(&out);
		if (i_err >= 0 && pfd[i_err].revents)
			capture_read(&errc);
		if (i_in >= 0 && pfd[i_in].revents) {
			size_t chunk = input_left < 65536 ? input_left : 65536;
			ssize_t n = write_nosigpipe(in_w, input, chunk);
			if (n > 0) {
				input += n;
				input_left -= (size_t) n;
				if (input_left == 0)
					qc_closep(&in_w);
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* EPIPE: the child does not want the rest; that is its business. */
				qc_closep(&in_w);
			}
		}
		if (i_pid >= 0 && pfd[i_pid].revents) {
			qc_pid_reap(pid, &status);
			exited = true;
		} else if (pidfd < 0) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				exited = true;
		}
	}
	/*
	 * The child is gone; what it wrote is in the pipes.  Read it without
	 * waiting for EOF: a grandchild may still hold the write ends.
	 */
	qc_closep(&in_w);
	if (out.fd >= 0)
		capture_read(&out);
	if (errc.fd >= 0)
		capture_read(&errc);
	qc_closep(&out.fd);
	qc_closep(&errc.fd);
	qc_closep(&pidfd);
	capture_finish(&errc);

	res->status = status;
	res->timed_out = timed_out;
	if (WIFSIGNALED(status)) {
		res->term_signal = WTERMSIG(status);
		res->exit_code = 128 + res->term_signal;
	} else {
		res->exit_code = WEXITSTATUS(status);
	}
	if (o->out == QC_STDIO_CAPTURE) {
		res->out_len = out.buf.len;
		res->out = qc_buf_steal(&out.buf);
	}
	if (o->errout == QC_STDIO_CAPTURE) {
		res->err_len = errc.buf.len;
		res->err = qc_buf_steal(&errc.buf);
	}
	qc_buf_free(&out.buf);
	qc_buf_free(&errc.buf);
	if (res == &local)
		qc_spawn_result_free(&local);
	return 0;
fail:
	qc_pid_killp(&pid);
	qc_closep(&in_w);
	qc_closep(&out.fd);
	qc_closep(&errc.fd);
	qc_closep(&pidfd);
	qc_buf_free(&out.buf);
	qc_buf_free(&errc.buf);
	return r;
}

/*
 * The last ~400 characters of stderr on one line, for an error message:
 * lines joined with "; ", runs of white space and control characters
 * squeezed to one space.
 */
static void stderr_tail(const char *s, size_t len, char *buf, size_t size)
{
	/* Each input byte yields at most 3 output bytes ("; x"). */
	char tmp[6 * TAIL_CHARS + 8];
	size_t start = len > 2 * TAIL_CHARS ? len - 2 * TAIL_CHARS : 0, n = 0, from = 0;
	bool space = false, nl = false, cut = start > 0;

	for (size_t i = start; i < len; i++) {
		unsigned char ch = (unsigned char) s[i];
		if (ch == '\n') {
			nl = true;
			continue;
		}
		if (ch <= 0x20 || ch == 0x7f) {
			space = true;
			continue;
		}
		if (n > 0 && nl) {
			tmp[n++] = ';';
			tmp[n++] = ' ';
		} else if (n > 0 && space) {
			tmp[n++] = ' ';
		}
		nl = space = false;
		tmp[n++] = (char) ch;
	}
	if (n > TAIL_CHARS) {
		from = n - TAIL_CHARS;
		/* Do not start in the middle of a UTF-8 sequence. */
		while (from < n && ((unsigned char) tmp[from] & 0xc0) == 0x80)
			from++;
		cut = true;
	}
	snprintf(buf, size, "%s%.*s", cut && n > 0 ? "..." : "", (int) (n - from), tmp + from);
}

int qc_spawn_check(const struct qc_spawn_opts *o, struct qc_spawn_result *res, struct qc_error *err)
{
	struct qc_spawn_result local = {0};
	struct qc_spawn_result *rr = res ? res : &local;
	struct qc_spawn_opts copy = *o;
	char tail[TAIL_CHARS + 16] = "";
	char ws[96];
	int r;

	/* The error promises a stderr tail: capture it unless the caller routed it elsewhere. */
	if (copy.errout == QC_STDIO_NULL)
		copy.errout = QC_STDIO_CAPTURE;
	if ((r = qc_spawn_run(&copy, rr, err)) < 0)
		return r;
	if (!rr->timed_out && WIFEXITED(rr->status) && WEXITSTATUS(rr->status) == 0) {
		if (o->errout != QC_STDIO_CAPTURE) {
			free(rr->err);
			rr->err = NULL;
			rr->err_len = 0;
		}
		qc_spawn_result_free(&local);
		return 0;
	}
	if (rr->err)
		stderr_tail(rr->err, rr->err_len, tail, sizeof(tail));
	if (rr->timed_out) {
		snprintf(ws, sizeof(ws), "timed out after %g s", o->timeout_ms / 1000.0);
	} else if (WIFSIGNALED(rr->status)) {
		char sig[64];
		qc_format_wait_status(rr->status, sig, sizeof(sig));
		snprintf(ws, sizeof(ws), "killed by %s", sig);
	} else {
		qc_format_wait_status(rr->status, ws, sizeof(ws));
	}
	r = qc_error_set(
		err, QC_ERR_CHILD, "%s: %s%s%s", o->argv[0], ws, tail[0] ? ": " : "", tail);
	if (o->errout != QC_STDIO_CAPTURE) {
		free(rr->err);
		rr->err = NULL;
		rr->err_len = 0;
	}
	qc_spawn_result_free(&local);
	return r;
}
