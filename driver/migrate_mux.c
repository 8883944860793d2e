/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Streams over the migration channel (driver/migrate_mux.h): one poll loop
 * relays between the channel and each stream's local socket.  Bounded
 * buffers: the channel is read only into a fixed input buffer, a frame
 * moves on only when its stream's buffer has room for it, and a local
 * socket is read only while the output buffer has room for a whole frame.
 * Every header is checked as it arrives.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver/migrate_mux.h"

#define FRAME (QC_MUX_HEADER + QC_MUX_PAYLOAD_MAX)
#define IBUF (4 * FRAME)
#define OBUF (4 * FRAME)
#define TICK_MS 250

enum { KIND_DATA = 0, KIND_END = 1 };

struct stream {
	int fd;
	bool local_eof; /* the local socket ended; its end frame is queued */
	bool peer_eof; /* the peer's end frame came */
	bool shut; /* the local socket was told the end (SHUT_WR) */
	bool dead; /* the local socket takes no more data: what comes is dropped */
	char *buf; /* towards the local socket */
	size_t off, len;
	uint64_t in, out;
};

struct qc_mux {
	int in, out;
	const volatile sig_atomic_t *cancel;
	size_t n;
	struct stream s[QC_MUX_MAX_STREAMS];
	unsigned char *ibuf, *obuf;
	size_t ioff, ilen, ooff, olen;
	bool chan_eof;
	int stop[2];
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	bool ended;
	int rc;
	struct qc_error err;
};

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		(void) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int qc_mux_new(int in, int out, const int *fds, size_t n, const void *pending, size_t len,
	const volatile sig_atomic_t *cancel, struct qc_mux **ret, struct qc_error *err)
{
	struct qc_mux *m;

	if (n == 0 || n > QC_MUX_MAX_STREAMS || len > IBUF)
		return qc_error_set(
			err, EINVAL, "a relay of %zu streams, %zu bytes pending", n, len);
	m = qc_xzalloc(sizeof(*m));
	m->in = in;
	m->out = out;
	m->cancel = cancel;
	m->n = n;
	m->ibuf = qc_xzalloc(IBUF);
	m->obuf = qc_xzalloc(OBUF);
	if (len > 0)
		memcpy(m->ibuf, pending, len);
	m->ilen = len;
	m->stop[0] = m->stop[1] = -1;
	pthread_mutex_init(&m->lock, NULL);
	for (size_t i = 0; i < n; i++) {
		m->s[i].fd = fds[i];
		m->s[i].buf = qc_xzalloc(QC_MUX_BUFFER);
		set_nonblock(fds[i]);
	}
	set_nonblock(in);
	set_nonblock(out);
	if (pipe2(m->stop, O_CLOEXEC | O_NONBLOCK) < 0) {
		int e = errno;

		qc_mux_free(m);
		return qc_error_errno(err, e, "pipe");
	}
	*ret = m;
	return 0;
}

/* Queue a frame's header into the output buffer (room checked by the caller). */
static void put_header(struct qc_mux *m, size_t id, int kind, size_t len)
{
	unsigned char *h = m->obuf + m->olen;

	h[0] = (unsigned char) id;
	h[1] = (unsigned char) kind;
	h[2] = (unsigned char) (len >> 8);
	h[3] = (unsigned char) (len & 0xff);
}

static bool out_room(struct qc_mux *m)
{
	if (m->ooff > 0 && m->ooff == m->olen)
		m->ooff = m->olen = 0;
	if (m->ooff > 0 && OBUF - m->olen < FRAME) {
		memmove(m->obuf, m->obuf + m->ooff, m->olen - m->ooff);
		m->olen -= m->ooff;
		m->ooff = 0;
	}
	return OBUF - m->olen >= FRAME;
}

/* Read what stream id's local socket has into one frame. */
static int read_local(struct qc_mux *m, size_t id, struct qc_error *err)
{
	struct stream *s = &m->s[id];
	ssize_t n;

	do
		n = read(s->fd, m->obuf + m->olen + QC_MUX_HEADER, QC_MUX_PAYLOAD_MAX);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0 && errno != ECONNRESET)
		return qc_error_errno(err, errno, "stream %zu: read", id);
	if (n <= 0) {
		put_header(m, id, KIND_END, 0);
		m->olen += QC_MUX_HEADER;
		s->local_eof = true;
		return 0;
	}
	put_header(m, id, KIND_DATA, (size_t) n);
	m->olen += QC_MUX_HEADER + (size_t) n;
	__atomic_add_fetch(&s->out, (uint64_t) n, __ATOMIC_RELAXED);
	return 0;
}

/* Write what stream id holds to its local socket; a socket gone drops the rest. */
static int write_local(struct qc_mux *m, size_t id, struct qc_error *err)
{
	struct stream *s = &m->s[id];
	ssize_t n;

	do
		n = send(s->fd, s->buf + s->off, s->len - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
		s->dead = true;
		s->off = s->len = 0;
		return 0;
	}
	if (n < 0)
		return qc_error_errno(err, errno, "stream %zu: write", id);
	s->off += (size_t) n;
	if (s->off == s->len)
		s->off = s->len = 0;
	return 0;
}

/*
 * Move the complete frames of the input buffer to their streams, as far as
 * their buffers take them.  A bad header is refused as soon as it is there.
 */
static int take_frames(struct qc_mux *m, struct qc_error *err)
{
	while (m->ilen - m->ioff >= QC_MUX_HEADER) {
		const unsigned char *h = m->ibuf + m->ioff;
		size_t id = h[0], len = ((size_t) h[2] << 8) | h[3];
		struct stream *s;

		if (id >= m->n)
			return qc_error_set(err, QC_ERR_PROTO,
				"a frame of stream %zu (the channel has %zu)", id, m->n);
		s = &m->s[id];
		if (h[1] == KIND_END) {
			if (len != 0 || s->peer_eof)
				return qc_error_set(err, QC_ERR_PROTO,
					"stream %zu: a malformed end of stream", id);
			s->peer_eof = true;
			m->ioff += QC_MUX_HEADER;
			continue;
		}
		if (h[1] != KIND_DATA)
			return qc_error_set(
				err, QC_ERR_PROTO, "stream %zu: a frame of kind %u", id, h[1]);
		if (len == 0 || len > QC_MUX_PAYLOAD_MAX)
			return qc_error_set(err, QC_ERR_PROTO,
				"stream %zu: a frame of %zu bytes (1 to %d)", id, len,
				QC_MUX_PAYLOAD_MAX);
		if (s->peer_eof)
			return qc_error_set(
				err, QC_ERR_PROTO, "stream %zu: data after its end", id);
		if (m->ilen - m->ioff < QC_MUX_HEADER + len)
			return 0;
		if (!s->dead) {
			if (s->off > 0) {
				memmove(s->buf, s->buf + s->off, s->len - s->off);
				s->len -= s->off;
				s->off = 0;
			}
			if (QC_MUX_BUFFER - s->len < len)
				return 0; /* back-pressure: the channel waits for this stream */
			memcpy(s->buf + s->len, h + QC_MUX_HEADER, len);
			s->len += len;
		}
		__atomic_add_fetch(&s->in, (uint64_t) len, __ATOMIC_RELAXED);
		m->ioff += QC_MUX_HEADER + len;
	}
	return 0;
}

static int read_chan(struct qc_mux *m, struct qc_error *err)
{
	ssize_t n;

	do
		n = read(m->in, m->ibuf + m->ilen, IBUF - m->ilen);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0 && errno != ECONNRESET)
		return qc_error_errno(err, errno, "read from the migration channel");
	if (n <= 0) {
		m->chan_eof = true;
		for (size_t i = 0; i < m->n; i++)
			if (!m->s[i].peer_eof)
				return qc_error_set(err, QC_ERR_EOF,
					"the connection closed with stream %zu open", i);
		return 0;
	}
	m->ilen += (size_t) n;
	return 0;
}

static int write_chan(struct qc_mux *m, struct qc_error *err)
{
	ssize_t n;

	do {
		n = send(m->out, m->obuf + m->ooff, m->olen - m->ooff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == ENOTSOCK)
			n = write(m->out, m->obuf + m->ooff, m->olen - m->ooff);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		return qc_error_errno(err, errno, "write to the migration channel");
	m->ooff += (size_t) n;
	return 0;
}

static bool all_done(struct qc_mux *m)
{
	if (m->ooff != m->olen)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		const struct stream *s = &m->s[i];

		if (!s->local_eof || !s->peer_eof || (!s->shut && !s->dead))
			return false;
	}
	return true;
}

static void close_locals(struct qc_mux *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->s[i].fd >= 0) {
			close(m->s[i].fd);
			m->s[i].fd = -1;
		}
}

/*
 * Stopped: what the control stream's local end wrote last (a final error
 * message) still goes out, for at most a second.
 */
static void flush_control(struct qc_mux *m)
{
	int64_t deadline = qc_deadline_ms(1000);
	struct stream *s = &m->s[QC_MUX_CONTROL];

	while (qc_time_left_ms(deadline) > 0) {
		struct pollfd p = {.fd = s->fd, .events = POLLIN};

		if (!s->local_eof && out_room(m) && poll(&p, 1, 0) == 1 &&
			read_local(m, QC_MUX_CONTROL, NULL) < 0)
			return;
		if (m->olen == m->ooff && (s->local_eof || poll(&p, 1, 0) == 0))
			return;
		p = (struct pollfd){.fd = m->out, .events = POLLOUT};
		if (m->olen > m->ooff && poll(&p, 1, 100) == 1 && write_chan(m, NULL) < 0)
			return;
	}
}

/* One round: poll everything that can move, then move it. 1: the relay is over. */
static int step(struct qc_mux *m, struct qc_error *err)
{
	struct pollfd p[QC_MUX_MAX_STREAMS + 3];
	size_t np = 0, ci = SIZE_MAX, co = SIZE_MAX;
	size_t at[QC_MUX_MAX_STREAMS];
	int rc;

	if (m->cancel && *m->cancel)
		return qc_error_set(err, ECANCELED, "cancelled");
	if ((rc = take_frames(m, err)) < 0)
		return rc;
	for (size_t i = 0; i < m->n; i++) {
		struct stream *s = &m->s[i];

		if (s->peer_eof && !s->shut && !s->dead && s->off == s->len) {
			(void) shutdown(s->fd, SHUT_WR);
			s->shut = true;
		}
	}
	if (all_done(m))
		return 1;
	if (m->ioff > 0) {
		memmove(m->ibuf, m->ibuf + m->ioff, m->ilen - m->ioff);
		m->ilen -= m->ioff;
		m->ioff = 0;
	}
	p[np++] = (struct pollfd){.fd = m->stop[0], .events = POLLIN};
	if (!m->chan_eof && m->ilen < IBUF) {
		ci = np;
		p[np++] = (struct pollfd){.fd = m->in, .events = POLLIN};
	}
	if (m->olen > m->ooff) {
		co = np;
		p[np++] = (struct pollfd){.fd = m->out, .events = POLLOUT};
	}
	for (size_t i = 0; i < m->n; i++) {
		struct stream *s = &m->s[i];
		short ev = 0;

		at[i] = SIZE_MAX;
		if (!s->local_eof && out_room(m))
			ev |= POLLIN;
		if (s->len > s->off && !s->dead)
			ev |= POLLOUT;
		if (ev) {
			at[i] = np;
			p[np++] = (struct pollfd){.fd = s->fd, .events = ev};
		}
	}
	if (poll(p, np, TICK_MS) < 0)
		return errno == EINTR ? 0 : qc_error_errno(err, errno, "poll");
	if (p[0].revents) {
		flush_control(m);
		return 1;
	}
	if (co != SIZE_MAX && p[co].revents && (rc = write_chan(m, err)) < 0)
		return rc;
	if (ci != SIZE_MAX && p[ci].revents && (rc = read_chan(m, err)) < 0)
		return rc;
	for (size_t i = 0; i < m->n; i++) {
		if (at[i] == SIZE_MAX || !p[at[i]].revents)
			continue;
		if ((p[at[i]].events & POLLOUT) && (rc = write_local(m, i, err)) < 0)
			return rc;
		if ((p[at[i]].events & POLLIN) && !m->s[i].local_eof && out_room(m) &&
			(rc = read_local(m, i, err)) < 0)
			return rc;
	}
	return 0;
}

int qc_mux_run(struct qc_mux *m, struct qc_error *err)
{
	int rc;

	while ((rc = step(m, err)) == 0)
		;
	close_locals(m);
	/* the peer's relay sees the end (on a pipe this fails, harmlessly) */
	(void) shutdown(m->out, SHUT_WR);
	return rc < 0 ? rc : 0;
}

static void *thread_main(void *arg)
{
	struct qc_mux *m = arg;
	struct qc_error e = {0};
	int rc = qc_mux_run(m, &e);

	pthread_mutex_lock(&m->lock);
	m->rc = rc;
	m->err = e;
	m->ended = true;
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int qc_mux_start(struct qc_mux *m, struct qc_error *err)
{
	sigset_t all, old;
	int e;

	/* the caller's thread takes the signals that cancel a move */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&m->thread, NULL, thread_main, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return qc_error_errno(err, e, "start the migration relay");
	m->started = true;
	return 0;
}

bool qc_mux_alive(struct qc_mux *m)
{
	bool ended;

	pthread_mutex_lock(&m->lock);
	ended = m->ended;
	pthread_mutex_unlock(&m->lock);
	return !ended;
}

int qc_mux_status(struct qc_mux *m, struct qc_error *err)
{
	int rc;

	pthread_mutex_lock(&m->lock);
	rc = m->rc;
	if (rc < 0 && err)
		*err = m->err;
	pthread_mutex_unlock(&m->lock);
	return rc;
}

uint64_t qc_mux_bytes_in(struct qc_mux *m, size_t id)
{
	return id < m->n ? __atomic_load_n(&m->s[id].in, __ATOMIC_RELAXED) : 0;
}

uint64_t qc_mux_bytes_out(struct qc_mux *m, size_t id)
{
	return id < m->n ? __atomic_load_n(&m->s[id].out, __ATOMIC_RELAXED) : 0;
}

void qc_mux_free(struct qc_mux *m)
{
	if (!m)
		return;
	if (m->started) {
		(void) !write(m->stop[1], "x", 1);
		pthread_join(m->thread, NULL);
	}
	close_locals(m);
	for (size_t i = 0; i < m->n; i++)
		free(m->s[i].buf);
	if (m->stop[0] >= 0)
		close(m->stop[0]);
	if (m->stop[1] >= 0)
		close(m->stop[1]);
	pthread_mutex_destroy(&m->lock);
	free(m->ibuf);
	free(m->obuf);
	free(m);
}
