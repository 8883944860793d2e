/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The frames --connect's client and server exchange (connect.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "driver/cli/cli.h"
#include "driver/cli/connect.h"

int cf_write(int fd, char type, const void *p, size_t n)
{
	unsigned char h[5] = {(unsigned char) type, (unsigned char) (n >> 24),
		(unsigned char) (n >> 16), (unsigned char) (n >> 8), (unsigned char) n};
	int r;

	if ((r = cli_write_all(fd, h, sizeof(h))) < 0)
		return r;
	return cli_write_all(fd, p, n);
}

void cf_reader_free(struct cf_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

ssize_t cf_fill(struct cf_reader *r, int fd)
{
	ssize_t n;

	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->cap - r->len < CONNECT_CHUNK) {
		r->cap = r->len + 2 * CONNECT_CHUNK;
		if (!(r->buf = realloc(r->buf, r->cap)))
			abort();
	}
	do
		n = read(fd, r->buf + r->len, r->cap - r->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->len += (size_t) n;
	return n;
}

int cf_next(struct cf_reader *r, char *type, const char **p, size_t *n)
{
	const unsigned char *h;
	size_t len;

	if (r->len - r->off < 5)
		return 0;
	h = (const unsigned char *) r->buf + r->off;
	len = (size_t) h[1] << 24 | (size_t) h[2] << 16 | (size_t) h[3] << 8 | h[4];
	if (len > CONNECT_FRAME_MAX)
		return -1;
	if (r->len - r->off < 5 + len)
		return 0;
	*type = (char) h[0];
	*p = r->buf + r->off + 5;
	*n = len;
	r->off += 5 + len;
	return 1;
}

int cf_read(struct cf_reader *r, int fd, char *type, const char **p, size_t *n)
{
	for (;;) {
		int k = cf_next(r, type, p, n);
		ssize_t got;

		if (k != 0)
			return k;
		if ((got = cf_fill(r, fd)) <= 0)
			return got == 0 ? 0 : -1;
	}
}

char *cf_hello(void)
{
	return cli_asprintf("{\"protocol\":%d,\"version\":\"%s\"}", CONNECT_PROTOCOL,
		PACKAGE_VERSION);
}

int cf_hello_parse(const char *p, size_t n, char *vbuf, size_t vsize)
{
	static const char *proto_path[] = {"protocol", NULL}, *ver_path[] = {"version", NULL};
	autofree char *text = NULL;
	yajl_val t, v;
	const char *s;
	int proto = -1;

	snprintf(vbuf, vsize, "unknown");
	if (n > 4096)
		return -1;
	text = cli_asprintf("%.*s", (int) n, p);
	if (!(t = yajl_tree_parse(text, NULL, 0)))
		return -1;
	if ((v = yajl_tree_get(t, proto_path, yajl_t_number)) && YAJL_IS_INTEGER(v) &&
		YAJL_GET_INTEGER(v) >= 0 && YAJL_GET_INTEGER(v) < 1000000)
		proto = (int) YAJL_GET_INTEGER(v);
	v = yajl_tree_get(t, ver_path, yajl_t_string);
	s = v ? YAJL_GET_STRING(v) : NULL;
	if (s && strspn(s, "0123456789abcdefghijklmnopqrstuvwxyz.+-~") == strlen(s))
		snprintf(vbuf, vsize, "%s", s);
	yajl_tree_free(t);
	return proto;
}
