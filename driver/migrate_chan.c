/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The migration channel's framing (driver/migrate_chan.h): lines of JSON and
 * file data of an announced size followed by its SHA-256.  Everything read
 * is bounded: a line longer than QC_MIGRATE_LINE_MAX, a reply that is not
 * a JSON object, a checksum that does not match end the transfer.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/migrate_chan.h"
#include "driver/network.h"
#include "driver/vmop.h"

#define CHUNK (256 * 1024)

/* The channel's user asked to give up. */
static int cancelled(const struct qc_mig_chan *c, struct qc_error *err)
{
	if (c->cancel && *c->cancel)
		return qc_error_set(err, ECANCELED, "cancelled");
	return 0;
}

/*
 * With a cancel flag: wait until fd is ready for events, looking at the flag
 * every 250 ms (a signal that came just before a blocking call is seen).
 */
static int wait_ready(const struct qc_mig_chan *c, int fd, short events, struct qc_error *err)
{
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	if (!c->cancel)
		return 0;
	for (;;) {
		if ((rc = cancelled(c, err)) < 0)
			return rc;
		rc = poll(&p, 1, 250);
		if (rc > 0)
			return 0;
		if (rc < 0 && errno != EINTR)
			return qc_error_errno(err, errno, "poll on the migration channel");
	}
}

/* Write all of buf; on a socket without SIGPIPE (a peer gone is EPIPE). */
static int chan_write(
	const struct qc_mig_chan *c, const void *buf, size_t len, struct qc_error *err)
{
	const char *p = buf;
	int rc;

	while (len > 0) {
		ssize_t n;

		if ((rc = wait_ready(c, c->out, POLLOUT, err)) < 0)
			return rc;
		n = send(c->out, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			return qc_write_all(c->out, p, len, err);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return qc_error_errno(err, errno, "write to the migration channel");
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

void qc_mig_chan_init(struct qc_mig_chan *c, int in, int out)
{
	memset(c, 0, sizeof(*c));
	c->in = in;
	c->out = out;
	c->buf = qc_xzalloc(QC_MIGRATE_LINE_MAX);
}

void qc_mig_chan_clear(struct qc_mig_chan *c)
{
	free(c->buf);
	c->buf = NULL;
}

int qc_mig_send(struct qc_mig_chan *c, struct qc_jgen *g, struct qc_error *err)
{
	cleanup_free char *doc = NULL;
	size_t len;
	int rc;

	if ((rc = qc_jgen_finish(g, &doc, &len, err)) < 0)
		return rc;
	doc[len] = '\n'; /* the NUL becomes the line's end */
	return chan_write(c, doc, len + 1, err);
}

/* Fill the buffer after what is unread; 0 at EOF. */
static ssize_t fill(struct qc_mig_chan *c, struct qc_error *err)
{
	ssize_t n;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == QC_MIGRATE_LINE_MAX)
		return qc_error_set(err, QC_ERR_PROTO, "a message longer than %d bytes",
			QC_MIGRATE_LINE_MAX);
	do {
		if ((n = wait_ready(c, c->in, POLLIN, err)) < 0)
			return n;
		n = read(c->in, c->buf + c->len, QC_MIGRATE_LINE_MAX - c->len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return qc_error_errno(err, errno, "read from the migration channel");
	c->len += (size_t) n;
	return n;
}

int qc_mig_recv(struct qc_mig_chan *c, qc_json **ret, struct qc_error *err)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		ssize_t n;

		if (nl) {
			size_t len = (size_t) (nl - (c->buf + c->off));
			int rc = qc_json_parse(c->buf + c->off, len, ret, err);

			c->off += len + 1;
			if (rc < 0)
				return qc_error_prefix(err, "a malformed message");
			if (qc_json_type(*ret) != QC_JSON_OBJECT) {
				qc_json_free(*ret);
				*ret = NULL;
				return qc_error_set(err, QC_ERR_PROTO, "a message that is not an object");
			}
			return 0;
		}
		if ((n = fill(c, err)) < 0)
			return (int) n;
		if (n == 0)
			return qc_error_set(err, QC_ERR_EOF, "the connection closed");
	}
}

int qc_mig_send_error(struct qc_mig_chan *c, const char *msg, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "error", msg);
	qc_jgen_map_close(g);
	return qc_mig_send(c, g, err);
}

int qc_mig_reply(struct qc_mig_chan *c, qc_json **ret, struct qc_error *err)
{
	const char *msg;
	int rc;

	if ((rc = qc_mig_recv(c, ret, err)) < 0)
		return rc;
	if ((msg = qc_json_string(qc_json_get(*ret, "error")))) {
		rc = qc_error_set(err, QC_ERR_STATE, "the target: %s", msg);
		qc_json_free(*ret);
		*ret = NULL;
		return rc;
	}
	return 0;
}

int qc_mig_send_data(struct qc_mig_chan *c, int fd, uint64_t size,
	char hex[QC_SHA256_HEX_LEN + 1], struct qc_error *err)
{
	cleanup_sha256 struct qc_sha256 *sha = qc_sha256_new();
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *chunk = qc_xzalloc(CHUNK);
	uint64_t left = size;
	int rc;

	while (left > 0) {
		ssize_t n = read(fd, chunk, left < CHUNK ? (size_t) left : CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return qc_error_errno(err, errno, "read");
		if (n == 0)
			return qc_error_set(err, QC_ERR_STATE, "the file shrank while being sent");
		qc_sha256_update(sha, chunk, (size_t) n);
		if ((rc = chan_write(c, chunk, (size_t) n, err)) < 0)
			return rc;
		left -= (uint64_t) n;
		c->sent += (uint64_t) n;
		if (c->on_sent)
			c->on_sent(c);
	}
	qc_sha256_final(sha, hex);
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "sha256", hex);
	qc_jgen_map_close(g);
	return qc_mig_send(c, g, err);
}

int qc_mig_recv_data(struct qc_mig_chan *c, int fd, uint64_t size,
	char hex[QC_SHA256_HEX_LEN + 1], struct qc_error *err)
{
	cleanup_sha256 struct qc_sha256 *sha = qc_sha256_new();
	cleanup_json qc_json *trailer = NULL;
	uint64_t left = size;
	const char *want;
	int rc;

	while (left > 0) {
		size_t have = c->len - c->off, n;
		ssize_t r;

		if (have == 0) {
			c->off = c->len = 0;
			if ((r = fill(c, err)) < 0)
				return (int) r;
			if (r == 0)
				return qc_error_set(err, QC_ERR_EOF,
					"the connection closed with %llu bytes of the file to come",
					(unsigned long long) left);
			continue;
		}
		n = have < left ? have : (size_t) left;
		qc_sha256_update(sha, c->buf + c->off, n);
		if ((rc = qc_write_all(fd, c->buf + c->off, n, err)) < 0)
			return rc;
		c->off += n;
		left -= n;
		c->received += n;
	}
	qc_sha256_final(sha, hex);
	if ((rc = qc_mig_recv(c, &trailer, err)) < 0)
		return rc;
	if (!(want = qc_json_string(qc_json_get(trailer, "sha256"))) || strcmp(want, hex) != 0)
		return qc_error_set(err, QC_ERR_CHECKSUM,
			"the data's SHA-256 is %s, the sender announced %s", hex,
			want ? want : "none");
	return 0;
}

bool qc_mig_host_record(const char *name)
{
	static const char *const v[] = {QC_VM_LOCK, QC_VM_MONITOR_LOCK, QC_VM_STATE, QC_VM_DOMAIN,
		QC_VM_DOMAIN_CACHE, QC_VM_OP_RECORD, "summary.json", QC_VM_QEMU_LOG, QC_VM_EVENTS,
		QC_VM_MIGRATED_TO, QC_NETWORK_RUNTIME};

	if (name[0] == '.' || qc_str_has_prefix(name, QC_VM_CONSOLE_LOG))
		return true;
	for (size_t i = 0; i < QC_ARRAY_SIZE(v); i++)
		if (strcmp(name, v[i]) == 0)
			return true;
	return false;
}
