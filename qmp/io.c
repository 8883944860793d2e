/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP connection: socket I/O, line splitting, message dispatch (greeting,
 * replies matched by id, queued events), sticky death, greeting and
 * capabilities negotiation.  Commands are built in command.c; connect.c
 * connects to QEMU's socket.
 *
 * Model: libvirt src/qemu/qemu_monitor.c (capped buffer, sticky lastError,
 * qemuMonitorIOWriteWithFD) and qemu_monitor_json.c (line dispatch).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp/qmp.h"

#define READ_CHUNK (64 * 1024)
/* Reads per qmp_read_some() call, so a peer that never stops talking
 * cannot keep a caller past its deadline. */
#define READS_PER_CALL 16
#define EXCERPT 120

struct qc_qmp {
	int fd;
	bool have_greeting;
	struct qc_qmp_greeting greeting;

	char *rbuf; /* bytes received and not yet dispatched */
	size_t rlen, rcap;
	size_t scanned; /* rbuf[0..scanned) holds no '\n' */

	uint64_t next_id; /* the next id handed out; ids start at 1 */
	/* the commands waiting for replies: ids pending_id..+n_pending, 0 = none */
	uint64_t pending_id;
	size_t n_pending;
	qc_json **replies; /* [n_pending]: each reply once seen */

	struct qc_qmp_event **ev; /* queued events, oldest first */
	size_t n_ev, cap_ev;
	uint64_t dropped;

	int dead; /* 0, or the positive sticky code */
	char dead_reason[800];
};

/* ---------------------------------------------------------------- helpers */

/* "QMP 'cmd'" or "QMP" for messages. */
static void ctx_name(char *buf, size_t size, const char *cmd)
{
	if (cmd)
		snprintf(buf, size, "QMP '%s'", cmd);
	else
		snprintf(buf, size, "QMP");
}

static int sticky_error(const struct qc_qmp *q, const char *cmd, struct qc_error *err)
{
	char ctx[160];

	ctx_name(ctx, sizeof(ctx), cmd);
	return qc_error_set(err, q->dead, "%s: %s", ctx, q->dead_reason);
}

__attribute__((format(printf, 5, 6))) static int die(
	struct qc_qmp *q, int code, const char *cmd, struct qc_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!q->dead) {
		va_start(ap, fmt);
		vsnprintf(q->dead_reason, sizeof(q->dead_reason), fmt, ap);
		va_end(ap);
		q->dead = code;
		qc_debug("QMP: connection dead: %s", q->dead_reason);
	}
	/* Before the greeting no command of ours has been seen by QEMU yet. */
	return sticky_error(q, q->have_greeting ? cmd : NULL, err);
}

/* A printable excerpt of a message for error texts. */
static void excerpt(char *buf, size_t size, const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 4 < size && n < EXCERPT; i++)
		buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < len && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

void qc_qmp_event_free(struct qc_qmp_event *ev)
{
	if (!ev)
		return;
	qc_json_free(ev->json);
	qc_free_all(ev->name, ev->line);
	free(ev);
}

QC_DEFINE_CLEANUP_FUNC(qc_qmp_event_freep, struct qc_qmp_event, qc_qmp_event_free)

/* --------------------------------------------------------------- dispatch */

static int queue_event(struct qc_qmp *q, qc_json *tree, const char *line, size_t len,
	const char *cmd, struct qc_error *err)
{
	const char *name = qc_json_string(qc_json_get(tree, "event"));
	const qc_json *ts = qc_json_get(tree, "timestamp");
	struct qc_qmp_event *ev;
	char ex[EXCERPT + 8];

	if (!name) {
		excerpt(ex, sizeof(ex), line, len);
		qc_json_free(tree);
		return die(q, QC_ERR_PROTO, cmd, err, "event without a name: %s", ex);
	}
	ev = qc_xzalloc(sizeof(*ev));
	ev->name = qc_xstrdup(name);
	ev->line = qc_xstrndup(line, len);
	ev->json = tree;
	ev->data = qc_json_get(tree, "data");
	if (!qc_json_as_int(qc_json_get(ts, "seconds"), &ev->seconds))
		ev->seconds = -1;
	if (!qc_json_as_int(qc_json_get(ts, "microseconds"), &ev->microseconds))
		ev->microseconds = -1;

	if (q->n_ev == QC_QMP_MAX_EVENTS) {
		/* Nobody is popping: keep the newest, count the loss. */
		qc_qmp_event_free(q->ev[0]);
		memmove(q->ev, q->ev + 1, (q->n_ev - 1) * sizeof(*q->ev));
		q->n_ev--;
		q->dropped++;
	}
	if (q->n_ev == q->cap_ev) {
		q->cap_ev = q->cap_ev ? q->cap_ev * 2 : 16;
		q->ev = qc_xrealloc(q->ev, q->cap_ev * sizeof(*q->ev));
	}
	q->ev[q->n_ev++] = ev;
	return 0;
}

static int parse_greeting(struct qc_qmp *q, const qc_json *tree)
{
	const qc_json *g = qc_json_get(tree, "QMP");
	const qc_json *caps = qc_json_get(g, "capabilities");
	const char *pkg = qc_json_string(qc_json_path(g, "version/package"));
	int64_t v[3];
	size_t i;

	if (!qc_json_as_int(qc_json_path(g, "version/qemu/major"), &v[0]) ||
		!qc_json_as_int(qc_json_path(g, "version/qemu/minor"), &v[1]) ||
		!qc_json_as_int(qc_json_path(g, "version/qemu/micro"), &v[2]) ||
		qc_json_type(caps) != QC_JSON_ARRAY || v[0] < 0 || v[0] > INT32_MAX || v[1] < 0 ||
		v[1] > INT32_MAX || v[2] < 0 || v[2] > INT32_MAX)
		return -1;
	for (i = 0; i < qc_json_len(caps); i++)
		if (!qc_json_string(qc_json_at(caps, i)))
			return -1;

	q->greeting.major = (int) v[0];
	q->greeting.minor = (int) v[1];
	q->greeting.micro = (int) v[2];
	q->greeting.package = qc_xstrdup(pkg ? pkg : "");
	q->greeting.capabilities = qc_xzalloc((qc_json_len(caps) + 1) * sizeof(char *));
	for (i = 0; i < qc_json_len(caps); i++)
		q->greeting.capabilities[i] = qc_xstrdup(qc_json_string(qc_json_at(caps, i)));
	q->have_greeting = true;
	return 0;
}

/* A reply: ours (kept), late (dropped) or foreign (fatal). */
static int take_reply(struct qc_qmp *q, qc_json *tree, const char *line, size_t len,
	const char *cmd, struct qc_error *err)
{
	const qc_json *idv = qc_json_get(tree, "id");
	const char *id = qc_json_string(idv);
	char ex[EXCERPT + 8];
	uint64_t n = 0;
	char *end;

	excerpt(ex, sizeof(ex), line, len);
	if (!idv) {
		qc_json_free(tree);
		return die(q, QC_ERR_PROTO, cmd, err, "reply without an id: %s", ex);
	}
	if (id && qc_str_has_prefix(id, "qc-") && id[3] >= '1' && id[3] <= '9') {
		errno = 0;
		n = strtoull(id + 3, &end, 10);
		if (errno || *end)
			n = 0;
	}
	if (n == 0 || n >= q->next_id) {
		qc_json_free(tree);
		return die(q, QC_ERR_PROTO, cmd, err, "reply with an id we never sent: %s", ex);
	}
	if (n < q->pending_id || n - q->pending_id >= q->n_pending ||
		q->replies[n - q->pending_id]) {
		/* The answer to a command that timed out earlier. */
		qc_debug("QMP: dropping late reply %s", ex);
		qc_json_free(tree);
		return 0;
	}
	q->replies[n - q->pending_id] = tree;
	return 0;
}

static int dispatch_line(
	struct qc_qmp *q, const char *line, size_t len, const char *cmd, struct qc_error *err)
{
	struct qc_error perr = {0};
	char ex[EXCERPT + 8];
	qc_json *tree = NULL;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > QC_QMP_MAX_MSG)
		return die(q, QC_ERR_PROTO, cmd, err, "message larger than 16 MiB");
	if (len == 0)
		return 0;
	qc_debug("QMP recv: %.*s", len > 512 ? 512 : (int) len, line);

	if (qc_json_parse(line, len, &tree, &perr) < 0)
		return die(q, QC_ERR_PROTO, cmd, err, "malformed message: %s", perr.msg);
	excerpt(ex, sizeof(ex), line, len);
	if (qc_json_type(tree) != QC_JSON_OBJECT) {
		qc_json_free(tree);
		return die(q, QC_ERR_PROTO, cmd, err, "message is not a JSON object: %s", ex);
	}

	if (!q->have_greeting) {
		int r = parse_greeting(q, tree);

		qc_json_free(tree);
		if (r < 0)
			return die(q, QC_ERR_PROTO, cmd, err, "not a QMP greeting: %s", ex);
		return 0;
	}
	if (qc_json_get(tree, "event"))
		return queue_event(q, tree, line, len, cmd, err);
	if (qc_json_get(tree, "return") || qc_json_get(tree, "error"))
		return take_reply(q, tree, line, len, cmd, err);
	qc_json_free(tree);
	return die(q, QC_ERR_PROTO, cmd, err, "unexpected message: %s", ex);
}

/* Dispatch every complete line in the buffer; enforce the size cap. */
static int dispatch_buffer(struct qc_qmp *q, const char *cmd, struct qc_error *err)
{
	size_t start = 0;
	char *nl;
	int r = 0;

	while (!q->dead && (nl = memchr(q->rbuf + q->scanned, '\n', q->rlen - q->scanned))) {
		size_t end = (size_t) (nl - q->rbuf);

		r = dispatch_line(q, q->rbuf + start, end - start, cmd, err);
		start = end + 1;
		q->scanned = start;
		if (r < 0)
			return r;
	}
	if (start > 0) {
		memmove(q->rbuf, q->rbuf + start, q->rlen - start);
		q->rlen -= start;
		q->scanned -= start;
	}
	q->scanned = q->rlen;
	if (q->rlen > QC_QMP_MAX_MSG + 1) /* + 1: a '\r' that would be dropped */
		return die(q, QC_ERR_PROTO, cmd, err, "message larger than 16 MiB");
	return 0;
}

/* ------------------------------------------------------------------- I/O */

/*
 * Read what the socket has (a bounded number of chunks) and dispatch it.
 * Returns 0 (possibly having read nothing) or the sticky error.
 */
static int read_some(struct qc_qmp *q, const char *cmd, struct qc_error *err)
{
	int i;

	for (i = 0; i < READS_PER_CALL; i++) {
		ssize_t n;
		int r;

		if (q->rcap - q->rlen < READ_CHUNK) {
			/* rlen <= QC_QMP_MAX_MSG + 1 here (dispatch_buffer checks): the
			 * buffer never needs more than that plus one chunk. */
			size_t cap = q->rcap ? q->rcap * 2 : 2 * READ_CHUNK;

			if (cap > QC_QMP_MAX_MSG + 1 + READ_CHUNK)
				cap = QC_QMP_MAX_MSG + 1 + READ_CHUNK;
			q->rcap = cap;
			q->rbuf = qc_xrealloc(q->rbuf, q->rcap);
		}
		n = read(q->fd, q->rbuf + q->rlen, READ_CHUNK);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return 0;
			/* QEMU exiting with unread input in its socket: still an EOF. */
			if (e == ECONNRESET) {
				qc_debug("QMP: connection reset");
				return die(q, QC_ERR_EOF, cmd, err, "connection closed by QEMU");
			}
			return die(q, e, cmd, err, "read: %s", strerror(e));
		}
		if (n == 0) {
			/* Lines before the EOF still count (quit: reply, SHUTDOWN, EOF). */
			if ((r = dispatch_buffer(q, cmd, err)) < 0)
				return r;
			if (q->rlen)
				return die(q, QC_ERR_EOF, cmd, err,
					"connection closed by QEMU (in the middle of a "
					"message, %zu bytes dropped)",
					q->rlen);
			return die(q, QC_ERR_EOF, cmd, err, "connection closed by QEMU");
		}
		q->rlen += (size_t) n;
		if ((r = dispatch_buffer(q, cmd, err)) < 0)
			return r;
	}
	return 0;
}

/*
 * Wait until the socket is readable or the deadline passes, then read.
 * 1: read something (or tried), 0: deadline passed, < 0: sticky error.
 */
static int pump(struct qc_qmp *q, int64_t deadline, const char *cmd, struct qc_error *err)
{
	for (;;) {
		struct pollfd p = {.fd = q->fd, .events = POLLIN};
		int ms = qc_time_left_ms(deadline), r;

		if (ms == 0)
			return 0;
		r = poll(&p, 1, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue; /* recompute the time left */
			return die(q, errno, cmd, err, "poll: %s", strerror(errno));
		}
		if (r == 0)
			continue;
		if ((r = read_some(q, cmd, err)) < 0)
			return r;
		return 1;
	}
}

/*
 * Send all of buf; fd (>= 0) rides on the first sendmsg() with SCM_RIGHTS.
 * A timeout before the first byte leaves the connection usable; after a
 * partial write it is dead (QEMU holds half a command).
 */
static int send_all(struct qc_qmp *q, const char *cmd, const char *buf, size_t len, int fd,
	int64_t deadline, int timeout_ms, struct qc_error *err)
{
	size_t done = 0;

	while (done < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = {.iov_base = (char *) buf + done, .iov_len = len - done};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;

		if (fd >= 0 && done == 0) {
			struct cmsghdr *c;

			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = sizeof(u.buf);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &fd, sizeof(int));
		}
		n = sendmsg(q->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			int e = errno;
			struct pollfd p = {.fd = q->fd, .events = POLLOUT};
			int ms, r;

			if (e == EINTR)
				continue;
			if (e == EPIPE || e == ECONNRESET) {
				/* Commands sent with the connection, before the greeting:
				 * what QEMU said before it hung up (a bad greeting) is
				 * the reason to report, so read it first. */
				if (!q->have_greeting)
					(void) read_some(q, cmd, NULL);
				return die(q, QC_ERR_EOF, cmd, err, "connection closed by QEMU");
			}
			if (e != EAGAIN && e != EWOULDBLOCK)
				return die(q, e, cmd, err, "send: %s", strerror(e));
			ms = qc_time_left_ms(deadline);
			if (ms == 0) {
				if (done == 0)
					return qc_error_set(err, ETIMEDOUT,
						"QMP '%s': could not send within %d ms", cmd,
						timeout_ms);
				return die(q, ETIMEDOUT, cmd, err,
					"timed out in the middle of sending a command");
			}
			r = poll(&p, 1, ms);
			if (r < 0 && errno != EINTR)
				return die(q, errno, cmd, err, "poll: %s", strerror(errno));
			continue;
		}
		done += (size_t) n;
	}
	return 0;
}

/* --------------------------------------------------------------- commands */

uint64_t qc_qmp_new_id(struct qc_qmp *q)
{
	return q->next_id++;
}

/* Replies of the pending commands seen so far. */
static size_t replies_seen(const struct qc_qmp *q)
{
	size_t n = 0;

	for (size_t i = 0; i < q->n_pending; i++)
		n += q->replies[i] != NULL;
	return n;
}

int qc_qmp_transact_n(struct qc_qmp *q, const char *cmd, uint64_t id, size_t n, const char *text,
	size_t len, int fd, int timeout_ms, qc_json **ret_replies, struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);
	cleanup_free char *msg = NULL;
	int r;

	if (q->dead)
		return sticky_error(q, cmd, err);
	if (n == 0 || n > QC_QMP_MAX_BATCH)
		return qc_error_set(err, QC_ERR_INVALID, "QMP '%s': %zu commands at once", cmd, n);
	msg = qc_xmalloc(len + 1);
	memcpy(msg, text, len);
	msg[len] = '\n';
	qc_debug("QMP send: %.*s%s", len > 512 ? 512 : (int) len, text, fd >= 0 ? " (+fd)" : "");

	for (size_t i = 0; i < n; i++)
		ret_replies[i] = NULL;
	q->pending_id = id;
	q->n_pending = n;
	q->replies = ret_replies;
	if ((r = send_all(q, cmd, msg, len + 1, fd, deadline, timeout_ms, err)) < 0)
		goto out;
	while (replies_seen(q) < n) {
		struct qc_error lerr = {0};

		/* A reply followed by EOF in one read still counts (quit). */
		r = pump(q, deadline, cmd, &lerr);
		if (replies_seen(q) == n)
			break;
		if (r < 0) {
			if (err)
				*err = lerr;
			goto out;
		}
		if (r == 0) {
			if (!q->have_greeting)
				r = qc_error_set(err, ETIMEDOUT, "QMP: no greeting within %d ms",
					timeout_ms);
			else
				r = qc_error_set(err, ETIMEDOUT, "QMP '%s': no reply within %d ms",
					cmd, timeout_ms);
			goto out;
		}
	}
	r = 0;
out:
	if (r < 0)
		for (size_t i = 0; i < n; i++) {
			qc_json_free(ret_replies[i]);
			ret_replies[i] = NULL;
		}
	q->pending_id = 0;
	q->n_pending = 0;
	q->replies = NULL;
	return r;
}

int qc_qmp_transact(struct qc_qmp *q, const char *cmd, uint64_t id, const char *line, size_t len,
	int fd, int timeout_ms, qc_json **ret_reply, struct qc_error *err)
{
	return qc_qmp_transact_n(q, cmd, id, 1, line, len, fd, timeout_ms, ret_reply, err);
}

/* ----------------------------------------------------------------- events */

static int find_event(struct qc_qmp *q, const char *name, struct qc_qmp_event **ret)
{
	size_t i;

	for (i = 0; i < q->n_ev; i++) {
		if (name && strcmp(q->ev[i]->name, name) != 0)
			continue;
		*ret = q->ev[i];
		memmove(q->ev + i, q->ev + i + 1, (q->n_ev - i - 1) * sizeof(*q->ev));
		q->n_ev--;
		return 1;
	}
	return 0;
}

int qc_qmp_wait_event(struct qc_qmp *q, const char *name, int timeout_ms, struct qc_qmp_event **ret,
	struct qc_error *err)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);

	for (;;) {
		struct qc_error lerr = {0};
		int r;

		if (find_event(q, name, ret))
			return 0;
		if (q->dead)
			return sticky_error(q, NULL, err);
		r = pump(q, deadline, NULL, &lerr);
		if (find_event(q, name, ret))
			return 0;
		if (r < 0) {
			if (err)
				*err = lerr;
			return r;
		}
		if (r == 0) {
			if (name)
				return qc_error_set(err, ETIMEDOUT,
					"QMP: no '%s' event within %d ms", name, timeout_ms);
			return qc_error_set(
				err, ETIMEDOUT, "QMP: no event within %d ms", timeout_ms);
		}
	}
}

int qc_qmp_pop_event(struct qc_qmp *q, struct qc_qmp_event **ret)
{
	return find_event(q, NULL, ret);
}

size_t qc_qmp_events_pending(const struct qc_qmp *q)
{
	return q->n_ev;
}

uint64_t qc_qmp_events_dropped(const struct qc_qmp *q)
{
	return q->dropped;
}

int qc_qmp_fd(const struct qc_qmp *q)
{
	return q->fd;
}

int qc_qmp_read_available(struct qc_qmp *q, struct qc_error *err)
{
	size_t before = q->n_ev;
	uint64_t dropped = q->dropped;
	int r;

	if (q->dead)
		return sticky_error(q, NULL, err);
	if ((r = read_some(q, NULL, err)) < 0)
		return r;
	return (int) (q->n_ev - before + (q->dropped - dropped));
}

int qc_qmp_check_alive(const struct qc_qmp *q, struct qc_error *err)
{
	if (q->dead)
		return sticky_error(q, NULL, err);
	return 0;
}

/* ------------------------------------------------------------- lifecycle */

const struct qc_qmp_greeting *qc_qmp_get_greeting(const struct qc_qmp *q)
{
	return &q->greeting;
}

void qc_qmp_close(struct qc_qmp *q)
{
	size_t i;

	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->rbuf);
	for (i = 0; i < q->n_ev; i++)
		qc_qmp_event_free(q->ev[i]);
	free(q->ev);
	free((char *) q->greeting.package);
	qc_strv_free(q->greeting.capabilities);
	free(q);
}

QC_DEFINE_CLEANUP_FUNC(qc_qmp_closep, struct qc_qmp, qc_qmp_close)

int qc_qmp_adopt_fd(int fd, struct qc_qmp **ret, struct qc_error *err)
{
	cleanup_qmp struct qc_qmp *q = NULL;
	int fl;

	if (fd < 0)
		return qc_error_set(err, EBADF, "QMP: no socket (fd %d)", fd);
	q = qc_xzalloc(sizeof(*q));
	q->fd = fd;
	q->next_id = 1;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return qc_error_errno(err, errno, "QMP: socket fd %d", fd);
	*ret = TAKE_PTR(q);
	return 0;
}
