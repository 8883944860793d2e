/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scripted fake QEMU (see qmp_fake.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/util.h"
#include "tests/unit/qmp_fake.h"

__attribute__((format(printf, 2, 3))) static void *fail_with(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->fail, sizeof(f->fail), fmt, ap);
	va_end(ap);
	return NULL;
}

static void set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = 5};

	(void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* 1: a line in *ret, 0: EOF, -1: error or 5 s without data. */
static int read_line(struct fake *f, char **ret)
{
	for (;;) {
		char *nl = memchr(f->buf, '\n', f->len);
		union {
			char b[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} u;
		struct iovec iov;
		struct msghdr mh = {0};
		struct cmsghdr *c;
		ssize_t n;

		if (nl) {
			size_t l = (size_t) (nl - f->buf);

			*ret = qc_xstrndup(f->buf, l);
			memmove(f->buf, nl + 1, f->len - l - 1);
			f->len -= l + 1;
			return 1;
		}
		if (f->len == sizeof(f->buf))
			return -1;
		iov.iov_base = f->buf + f->len;
		iov.iov_len = sizeof(f->buf) - f->len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		n = recvmsg(f->sfd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			size_t k, nfd;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < nfd && f->n_fds < QC_ARRAY_SIZE(f->fds); k++)
				memcpy(&f->fds[f->n_fds++], CMSG_DATA(c) + k * sizeof(int),
					sizeof(int));
		}
		if (n == 0)
			return 0;
		f->len += (size_t) n;
	}
}

static bool send_str(struct fake *f, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(f->sfd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		s += n;
		len -= (size_t) n;
	}
	return true;
}

static void *expect(struct fake *f, const struct fake_step *st)
{
	cleanup_free char *line = NULL, *args = NULL, *id = NULL;
	cleanup_json qc_json *t = NULL;
	const char *exe;
	int r = read_line(f, &line);

	if (r <= 0)
		return fail_with(f, "expected '%s', got %s", st->arg, r == 0 ? "EOF" : "nothing");
	if (qc_json_parse(line, strlen(line), &t, NULL) < 0)
		return fail_with(f, "expected '%s', got bad JSON: %s", st->arg, line);
	exe = qc_json_string(qc_json_get(t, "execute"));
	if (!exe || strcmp(exe, st->arg) != 0)
		return fail_with(f, "expected '%s', got: %s", st->arg, line);
	if (!qc_json_get(t, "id"))
		return fail_with(f, "command without id: %s", line);
	id = qc_json_dump(qc_json_get(t, "id"));
	snprintf(f->last_id, sizeof(f->last_id), "%s", id);
	args = qc_json_get(t, "arguments") ? qc_json_dump(qc_json_get(t, "arguments"))
					   : qc_xstrdup("none");
	if (st->arg2 && strcmp(args, st->arg2) != 0)
		return fail_with(f, "'%s': expected arguments %s, got %s", st->arg, st->arg2, args);
	if (st->op == F_EXPECT_FD) {
		char b[32] = {0};
		ssize_t n;

		if (f->n_fds != 1)
			return fail_with(f, "'%s': expected 1 fd, got %zu", st->arg, f->n_fds);
		n = read(f->fds[0], b, sizeof(b) - 1);
		if (n != 8 || strcmp(b, "hello-fd") != 0)
			return fail_with(f, "'%s': the passed fd read '%s'", st->arg, b);
		if (!(fcntl(f->fds[0], F_GETFD) & FD_CLOEXEC))
			return fail_with(f, "'%s': received fd is not close-on-exec", st->arg);
		close(f->fds[0]);
		f->n_fds = 0;
	} else if (f->n_fds) {
		return fail_with(f, "'%s': unexpected fd", st->arg);
	}
	return f;
}

static bool send_templated(struct fake *f, const char *tmpl)
{
	struct qc_buf b = {0};
	const char *p = tmpl, *q;
	bool ok;

	while ((q = strstr(p, "$ID"))) {
		qc_buf_append(&b, p, (size_t) (q - p));
		qc_buf_puts(&b, f->last_id);
		p = q + 3;
	}
	qc_buf_puts(&b, p);
	qc_buf_putc(&b, '\n');
	ok = send_str(f, b.data, b.len);
	qc_buf_free(&b);
	return ok;
}

static void *run(void *opaque)
{
	struct fake *f = opaque;
	const struct fake_step *st;

	if (f->listen_path) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		qc_sleep_ms(f->listen_delay_ms);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->listen_path);
		if (bind(f->lfd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(f->lfd, 1) < 0)
			return fail_with(f, "bind/listen %s: %s", f->listen_path, strerror(errno));
		set_timeouts(f->lfd);
		f->sfd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (f->sfd < 0)
			return fail_with(f, "accept: %s", strerror(errno));
		set_timeouts(f->sfd);
	}
	for (st = f->script; st->op != F_END; st++) {
		switch (st->op) {
		case F_SEND:
			if (!send_templated(f, st->arg))
				return fail_with(f, "send '%s': %s", st->arg, strerror(errno));
			break;
		case F_SEND_RAW:
			if (!send_str(f, st->arg, strlen(st->arg)))
				return fail_with(f, "send '%s': %s", st->arg, strerror(errno));
			break;
		case F_SEND_BIG: {
			static const char head[] = "{\"event\": \"BIG\", \"data\": {\"s\": \"";
			static const char tail[] = "\"}}\n";
			char *m = qc_xmalloc(st->n + sizeof(head) + sizeof(tail));

			memcpy(m, head, sizeof(head) - 1);
			memset(m + sizeof(head) - 1, 'a', st->n);
			memcpy(m + sizeof(head) - 1 + st->n, tail, sizeof(tail));
			/* The client may stop reading (and close) half way: fine. */
			(void) send_str(f, m, strlen(m));
			free(m);
			break;
		}
		case F_EXPECT:
		case F_EXPECT_FD:
			if (!expect(f, st))
				return NULL;
			break;
		case F_SLEEP:
			qc_sleep_ms((int) st->n);
			break;
		case F_CLOSE:
			close(f->sfd);
			f->sfd = -1;
			break;
		case F_WAIT_EOF: {
			char *line = NULL;
			int r;

			while ((r = read_line(f, &line)) > 0) {
				fail_with(f, "unexpected after the script: %s", line);
				free(line);
				line = NULL;
			}
			if (r < 0)
				return fail_with(f, "client did not close the connection");
			break;
		}
		case F_EVENTS: {
			size_t k;

			for (k = 0; k < st->n; k++) {
				char line[256];

				snprintf(line, sizeof(line),
					"{\"event\": \"%s\", \"data\": {\"i\": %zu}, "
					"\"timestamp\": {\"seconds\": 1700000000, "
					"\"microseconds\": %zu}}\n",
					st->arg, k, k);
				if (!send_str(f, line, strlen(line)))
					return fail_with(f, "send event: %s", strerror(errno));
			}
			break;
		}
		case F_END:
			break;
		}
	}
	return NULL;
}

void fake_start(struct fake *f, const struct fake_step *script)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->lfd = -1;
	f->script = script;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f->cfd = sv[0];
	f->sfd = sv[1];
	set_timeouts(f->sfd);
	ck_assert_int_eq(pthread_create(&f->th, NULL, run, f), 0);
	f->started = true;
}

void fake_start_listen(
	struct fake *f, const char *path, int delay_ms, const struct fake_step *script)
{
	memset(f, 0, sizeof(*f));
	f->cfd = f->sfd = -1;
	f->script = script;
	f->listen_path = path;
	f->listen_delay_ms = delay_ms;
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(pthread_create(&f->th, NULL, run, f), 0);
	f->started = true;
}

void fake_finish(struct fake *f)
{
	size_t i;

	if (!f->started)
		return;
	ck_assert_int_eq(pthread_join(f->th, NULL), 0);
	f->started = false;
	if (f->sfd >= 0)
		close(f->sfd);
	if (f->lfd >= 0)
		close(f->lfd);
	if (f->listen_path)
		unlink(f->listen_path);
	for (i = 0; i < f->n_fds; i++)
		close(f->fds[i]);
	ck_assert_msg(f->fail[0] == '\0', "fake QEMU: %s", f->fail);
}
