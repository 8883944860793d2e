/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest agent protocol (driver/qga.h): framing, the sync handshake,
 * commands with deadlines, and what info keeps of the replies.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/qga.h"

struct qc_qga {
	int fd;
	char *buf; /* cap bytes, grown up to max (QC_QGA_LINE_MAX unless set) */
	size_t len, cap, max;
};

void qc_qga_close(struct qc_qga *g)
{
	if (!g)
		return;
	if (g->fd >= 0)
		close(g->fd);
	free(g->buf);
	free(g);
}

QC_DEFINE_CLEANUP_FUNC(qc_qga_closep, struct qc_qga, qc_qga_close)

static int wait_io(struct qc_qga *g, short ev, int64_t deadline, const char *what,
	struct qc_error *err)
{
	for (;;) {
		struct pollfd p = {.fd = g->fd, .events = ev};
		int ms = qc_time_left_ms(deadline), n;

		if (ms == 0)
			return qc_error_set(err, ETIMEDOUT, "guest agent: no reply to '%s'", what);
		n = poll(&p, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return qc_error_errno(err, errno, "guest agent: poll");
		if (n > 0)
			return 0;
	}
}

static int send_all(struct qc_qga *g, const char *data, size_t len, int64_t deadline,
	const char *what, struct qc_error *err)
{
	while (len) {
		ssize_t n = send(g->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			data += n;
			len -= (size_t) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return qc_error_errno(err, errno, "guest agent: send '%s'", what);
		if ((rc = wait_io(g, POLLOUT, deadline, what, err)) < 0)
			return rc;
	}
	return 0;
}

/* More bytes into the buffer: at least one, or an error (EOF, deadline, a line too long). */
static int fill(struct qc_qga *g, int64_t deadline, const char *what, struct qc_error *err)
{
	for (;;) {
		ssize_t n;
		int rc;

		if (g->len == g->cap && g->cap == g->max)
			return qc_error_set(err, QC_ERR_PROTO,
				"guest agent: reply to '%s' longer than %zu bytes", what, g->max);
		if (g->len == g->cap) {
			g->cap = g->cap > g->max / 2 ? g->max : 2 * g->cap;
			g->buf = qc_xrealloc(g->buf, g->cap);
		}
		n = read(g->fd, g->buf + g->len, g->cap - g->len);
		if (n > 0) {
			g->len += (size_t) n;
			return 0;
		}
		if (n == 0)
			return qc_error_set(err, QC_ERR_EOF,
				"guest agent: connection closed before the reply to '%s'", what);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return qc_error_errno(err, errno, "guest agent: read");
		if ((rc = wait_io(g, POLLIN, deadline, what, err)) < 0)
			return rc;
	}
}

static void consume(struct qc_qga *g, size_t n)
{
	memmove(g->buf, g->buf + n, g->len - n);
	g->len -= n;
}

/* Drop everything up to and including the next 0xFF. */
static int skip_delimiter(struct qc_qga *g, int64_t deadline, const char *what,
	struct qc_error *err)
{
	for (;;) {
		char *ff = memchr(g->buf, 0xff, g->len);
		int rc;

		if (ff) {
			consume(g, (size_t) (ff - g->buf) + 1);
			return 0;
		}
		g->len = 0;
		if ((rc = fill(g, deadline, what, err)) < 0)
			return rc;
	}
}

/* The next non-empty line (without "\r\n"), parsed. */
static int read_reply(
	struct qc_qga *g, int64_t deadline, const char *what, qc_json **ret, struct qc_error *err)
{
	for (;;) {
		char *nl = memchr(g->buf, '\n', g->len);
		size_t n;
		int rc;

		if (!nl) {
			if ((rc = fill(g, deadline, what, err)) < 0)
				return rc;
			continue;
		}
		n = (size_t) (nl - g->buf);
		while (n && (g->buf[n - 1] == '\r' || g->buf[n - 1] == ' '))
			n--;
		if (n == 0) {
			consume(g, (size_t) (nl - g->buf) + 1);
			continue;
		}
		rc = qc_json_parse(g->buf, n, ret, err);
		consume(g, (size_t) (nl - g->buf) + 1);
		if (rc < 0)
			return qc_error_prefix(err, "guest agent: bad reply to '%s'", what);
		if (qc_json_type(*ret) != QC_JSON_OBJECT) {
			qc_json_freep(ret);
			return qc_error_set(err, QC_ERR_PROTO,
				"guest agent: reply to '%s' is not a JSON object", what);
		}
		return 0;
	}
}

static int do_sync(struct qc_qga *g, int64_t deadline, struct qc_error *err)
{
	static const char what[] = "guest-sync-delimited";
	cleanup_free char *line = NULL;
	uint32_t id = 0;
	int rc;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint32_t) qc_realtime_ms() ^ (uint32_t) getpid();
	id &= 0x7fffffff;
	line = qc_xasprintf("\xff{\"execute\":\"%s\",\"arguments\":{\"id\":%u}}\n", what, id);
	if ((rc = send_all(g, line, strlen(line), deadline, what, err)) < 0)
		return rc;
	for (;;) {
		cleanup_json qc_json *r = NULL;
		int64_t got;

		if ((rc = skip_delimiter(g, deadline, what, err)) < 0 ||
			(rc = read_reply(g, deadline, what, &r, err)) < 0)
			return rc;
		if (qc_json_as_int(qc_json_get(r, "return"), &got) && got == (int64_t) id)
			return 0;
		/* a late reply to an earlier client's sync: wait for ours */
	}
}

int qc_qga_open_fd(int fd, int timeout_ms, struct qc_qga **ret, struct qc_error *err)
{
	struct qc_qga *g = qc_xzalloc(sizeof(*g));
	int rc;

	g->fd = fd;
	g->cap = g->max = QC_QGA_LINE_MAX;
	g->buf = qc_xmalloc(g->cap);
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		rc = qc_error_errno(err, errno, "guest agent: fcntl");
		qc_qga_close(g);
		return rc;
	}
	if ((rc = do_sync(g, qc_deadline_ms(timeout_ms), err)) < 0) {
		qc_qga_close(g);
		return rc;
	}
	*ret = g;
	return 0;
}

int qc_qga_connect(const char *path, int timeout_ms, struct qc_qga **ret, struct qc_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return qc_error_set(err, QC_ERR_INVALID, "guest agent: socket path too long: '%s'",
			path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return qc_error_errno(err, errno, "guest agent: socket");
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		rc = qc_error_errno(err, errno, "guest agent: connect '%s'", path);
		close(fd);
		return rc;
	}
	/* only the socket the monitor made for QEMU (our uid, or QEMU's user) */
	if ((rc = qc_unix_peer_check(fd, "guest agent socket", path, err)) < 0) {
		close(fd);
		return rc;
	}
	return qc_qga_open_fd(fd, timeout_ms, ret, err);
}

void qc_qga_set_line_max(struct qc_qga *g, size_t max)
{
	if (max > g->cap)
		g->max = max;
}

int qc_qga_base64_decode(const char *s, char **ret, size_t *ret_len, struct qc_error *err)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	cleanup_free char *out = NULL;

	if (n % 4)
		return qc_error_set(err, QC_ERR_PROTO,
			"guest agent: base64 data of %zu characters (not a multiple of 4)", n);
	out = qc_xmalloc(n / 4 * 3 + 1);
	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = 0;
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			const char *c = s[i + k] ? strchr(abc, s[i + k]) : NULL;

			/* '=' only as the last one or two characters of the text */
			if (s[i + k] == '=' && i + 4 == n && k >= 2 &&
				(k == 3 || s[i + 3] == '=')) {
				pad++;
				v <<= 6;
				continue;
			}
			if (!c || pad)
				return qc_error_set(err, QC_ERR_PROTO,
					"guest agent: bad base64 character at offset %zu", i + k);
			v = v << 6 | (uint32_t) (c - abc);
		}
		out[o++] = (char) (v >> 16);
		if (pad < 2)
			out[o++] = (char) (v >> 8);
		if (pad < 1)
			out[o++] = (char) v;
	}
	out[o] = 0;
	*ret = TAKE_PTR(out);
	*ret_len = o;
	return 0;
}

static char *command_line(const char *cmd, const char *args)
{
	return qc_xasprintf("{\"execute\":\"%s\"%s%s}\n", cmd, args ? ",\"arguments\":" : "",
		args ? args : "");
}

int qc_qga_send(struct qc_qga *g, const char *cmd, const char *args, struct qc_error *err)
{
	cleanup_free char *line = command_line(cmd, args);

	return send_all(g, line, strlen(line), qc_deadline_ms(1000), cmd, err);
}

int qc_qga_execute(struct qc_qga *g, const char *cmd, const char *args, int timeout_ms,
	qc_json **ret, struct qc_error *err)
{
	cleanup_free char *line = command_line(cmd, args);
	cleanup_json qc_json *r = NULL;
	int64_t deadline = qc_deadline_ms(timeout_ms);
	const qc_json *e;
	int rc;

	if ((rc = send_all(g, line, strlen(line), deadline, cmd, err)) < 0 ||
		(rc = read_reply(g, deadline, cmd, &r, err)) < 0)
		return rc;
	if ((e = qc_json_get(r, "error"))) {
		const char *desc = qc_json_string(qc_json_get(e, "desc"));

		return qc_error_set(err, QC_ERR_PROTO, "guest agent: '%s' failed: %.200s", cmd,
			desc && qc_domain_check_text("desc", desc, 200, NULL) == 0
				? desc
				: "(no readable description)");
	}
	if (!qc_json_get(r, "return"))
		return qc_error_set(
			err, QC_ERR_PROTO, "guest agent: reply to '%s' has no \"return\"", cmd);
	if (ret)
		*ret = TAKE_PTR(r);
	return 0;
}

/* ------------------------------------------------------------- for info */

void qc_qga_guest_clear(struct qc_qga_guest *gi)
{
	free(gi->os);
	free(gi->kernel);
	qc_strv_free(gi->addrs);
	*gi = (struct qc_qga_guest){0};
}

/* A string member of o that is short printable text, else NULL. */
static const char *text_of(const qc_json *o, const char *key, size_t max)
{
	const char *s = qc_json_string(qc_json_get(o, key));

	return s && s[0] && qc_domain_check_text(key, s, max, NULL) == 0 ? s : NULL;
}

/* "NAME ADDR/PREFIX" for one entry of ip-addresses, or NULL when it does not check. */
static char *address_of(const char *ifname, const qc_json *a)
{
	const char *type = qc_json_string(qc_json_get(a, "ip-address-type"));
	const char *ip = qc_json_string(qc_json_get(a, "ip-address"));
	unsigned char bin[16];
	int64_t prefix;
	int af;

	if (!type || !ip || !qc_json_as_int(qc_json_get(a, "prefix"), &prefix))
		return NULL;
	af = strcmp(type, "ipv4") == 0 ? AF_INET : strcmp(type, "ipv6") == 0 ? AF_INET6 : 0;
	if (!af || strlen(ip) > 45 || inet_pton(af, ip, bin) != 1 || prefix < 0 ||
		prefix > (af == AF_INET ? 32 : 128))
		return NULL;
	return qc_xasprintf("%s %s/%d", ifname, ip, (int) prefix);
}

void qc_qga_guest_parse(const qc_json *ifaces, const qc_json *osinfo, struct qc_qga_guest *gi)
{
	cleanup_strvec struct qc_strv addrs = {0};
	const qc_json *v = qc_json_get(ifaces, "return");

	for (size_t i = 0; i < qc_json_len(v) && addrs.n < QC_QGA_MAX_ADDRS; i++) {
		const qc_json *nic = qc_json_at(v, i);
		const char *name = text_of(nic, "name", 15);
		const qc_json *ips = qc_json_get(nic, "ip-addresses");

		if (qc_json_type(nic) != QC_JSON_OBJECT || !name || strchr(name, ' ') ||
			strcmp(name, "lo") == 0)
			continue;
		for (size_t k = 0; k < qc_json_len(ips) && addrs.n < QC_QGA_MAX_ADDRS; k++) {
			char *a = address_of(name, qc_json_at(ips, k));

			if (a)
				qc_strv_push_take(&addrs, a);
		}
	}
	if (qc_json_type(v) == QC_JSON_ARRAY)
		gi->addrs = qc_strv_steal(&addrs);
	v = qc_json_get(osinfo, "return");
	if (qc_json_type(v) == QC_JSON_OBJECT) {
		const char *pretty = text_of(v, "pretty-name", 128);
		const char *name = text_of(v, "name", 64), *ver = text_of(v, "version", 64);
		const char *kernel = text_of(v, "kernel-release", 128);

		if (pretty)
			gi->os = qc_xstrdup(pretty);
		else if (name)
			gi->os = ver ? qc_xasprintf("%s %s", name, ver) : qc_xstrdup(name);
		if (kernel)
			gi->kernel = qc_xstrdup(kernel);
	}
}
