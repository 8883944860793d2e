/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The frames of the remote protocol (<qemuctl/remote.h>): qc_remote_run's
 * client and `qemuctl serve-stdio` exchange them over ssh.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/qemuctl.h"
#include "util/util.h"

int qc_remote_frame_write(int fd, char type, const void *p, size_t n)
{
	unsigned char h[5] = {(unsigned char) type, (unsigned char) (n >> 24),
		(unsigned char) (n >> 16), (unsigned char) (n >> 8), (unsigned char) n};
	struct qc_error err = {0};

	if (qc_write_all(fd, h, sizeof(h), &err) < 0 || qc_write_all(fd, p, n, &err) < 0)
		return -err.code;
	return 0;
}

void qc_remote_reader_free(struct qc_remote_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

ssize_t qc_remote_reader_fill(struct qc_remote_reader *r, int fd)
{
	ssize_t n;

	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->cap - r->len < QC_REMOTE_CHUNK) {
		r->cap = r->len + 2 * QC_REMOTE_CHUNK;
		r->buf = qc_xrealloc(r->buf, r->cap);
	}
	do
		n = read(fd, r->buf + r->len, r->cap - r->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->len += (size_t) n;
	return n;
}

int qc_remote_reader_next(struct qc_remote_reader *r, char *type, const char **p, size_t *n)
{
	const unsigned char *h;
	size_t len;

	if (r->len - r->off < 5)
		return 0;
	h = (const unsigned char *) r->buf + r->off;
	len = (size_t) h[1] << 24 | (size_t) h[2] << 16 | (size_t) h[3] << 8 | h[4];
	if (len > QC_REMOTE_FRAME_MAX)
		return -1;
	if (r->len - r->off < 5 + len)
		return 0;
	*type = (char) h[0];
	*p = r->buf + r->off + 5;
	*n = len;
	r->off += 5 + len;
	return 1;
}

int qc_remote_reader_read(struct qc_remote_reader *r, int fd, char *type, const char **p, size_t *n)
{
	for (;;) {
		int k = qc_remote_reader_next(r, type, p, n);
		ssize_t got;

		if (k != 0)
			return k;
		if ((got = qc_remote_reader_fill(r, fd)) <= 0)
			return got == 0 ? 0 : -1;
	}
}

char *qc_remote_hello(void)
{
	return qc_xasprintf("{\"protocol\":%d,\"version\":\"%s\"}", QC_REMOTE_PROTOCOL,
		PACKAGE_VERSION);
}

int qc_remote_hello_parse(const char *p, size_t n, char *vbuf, size_t vsize)
{
	cleanup_json qc_json *t = NULL;
	const char *s;
	int64_t proto = -1;

	snprintf(vbuf, vsize, "unknown");
	if (n > 4096 || qc_json_parse(p, n, &t, NULL) < 0)
		return -1;
	if (!qc_json_as_int(qc_json_get(t, "protocol"), &proto) || proto < 0 || proto >= 1000000)
		proto = -1;
	s = qc_json_string(qc_json_get(t, "version"));
	if (s && strspn(s, "0123456789abcdefghijklmnopqrstuvwxyz.+-~") == strlen(s))
		snprintf(vbuf, vsize, "%s", s);
	return (int) proto;
}
