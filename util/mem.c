/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Memory, strings and string vectors. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

static void __attribute__((noreturn)) oom(void)
{
	static const char msg[] = "qemuctl: out of memory\n";
	ssize_t r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void) r;
	abort();
}

void *qc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *qc_xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *qc_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *qc_xstrdup(const char *s)
{
	char *p;

	if (!s)
		return NULL;
	p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *qc_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *qc_xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

char *qc_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = qc_xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void qc_freep(void *p)
{
	free(*(void **) p);
}

void qc_free_many(void *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

void qc_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -1;
	}
}

void qc_fclosep(FILE **f)
{
	if (*f) {
		int saved = errno;
		fclose(*f);
		errno = saved;
		*f = NULL;
	}
}

void qc_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

QC_DEFINE_CLEANUP_FUNC(qc_strv_freep, char *, qc_strv_free)

/* ---------------------------------------------------------------- buffers */

static void buf_reserve(struct qc_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need < b->len)
		oom();
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			oom();
		cap *= 2;
	}
	b->data = qc_xrealloc(b->data, cap);
	b->cap = cap;
}

void qc_buf_append(struct qc_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void qc_buf_puts(struct qc_buf *b, const char *s)
{
	qc_buf_append(b, s, strlen(s));
}

void qc_buf_putc(struct qc_buf *b, char c)
{
	qc_buf_append(b, &c, 1);
}

void qc_buf_printf(struct qc_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	buf_reserve(b, (size_t) n);
	vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t) n;
}

char *qc_buf_steal(struct qc_buf *b)
{
	char *p = b->data ? b->data : qc_xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void qc_buf_free(struct qc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void qc_buf_freep(struct qc_buf *b)
{
	qc_buf_free(b);
}

/* ------------------------------------------------------------ string vecs */

void qc_strv_push_take(struct qc_strv *s, char *str)
{
	if (s->n + 2 > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = qc_xrealloc(s->v, s->cap * sizeof(char *));
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
}

void qc_strv_push(struct qc_strv *s, const char *str)
{
	qc_strv_push_take(s, qc_xstrdup(str));
}

void qc_strv_pushf(struct qc_strv *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	qc_strv_push_take(s, qc_xvasprintf(fmt, ap));
	va_end(ap);
}

char **qc_strv_steal(struct qc_strv *s)
{
	char **v = s->v;

	if (!v)
		v = qc_xzalloc(sizeof(char *));
	s->v = NULL;
	s->n = s->cap = 0;
	return v;
}

void qc_strv_clear(struct qc_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

void qc_strv_clearp(struct qc_strv *s)
{
	qc_strv_clear(s);
}

char *qc_strv_join(char *const *v, const char *sep)
{
	struct qc_buf b = {0};

	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			qc_buf_puts(&b, sep);
		qc_buf_puts(&b, v[i]);
	}
	return qc_buf_steal(&b);
}

bool qc_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool qc_str_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool qc_streq_null(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool qc_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, out of range */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
			cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}
