/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tree of an ISO image being built (cloudinit/iso.c lays it out): the
 * caller's paths checked and turned into nodes, then per directory the
 * three names of every child: its POSIX name (Rock Ridge NM), an ECMA-119
 * level 1 name (8.3 d-characters, ";1" on files) and a Joliet name (UCS-2,
 * at most 64 units), each unique among its siblings and each tree sorted
 * as its readers expect (9.3 for ISO 9660, code units for Joliet); serial
 * numbers and link counts for Rock Ridge PX.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cloudinit/cloudinit.h"

#define MAX_DIR_LEVELS 7 /* below the root */
#define BLK 2048u

void qc_cloudinit_iso_node_free(struct qc_iso_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_kids; i++)
		qc_cloudinit_iso_node_free(n->kids[i]);
	free(n->kids);
	free(n->iso_kids);
	free(n->j_kids);
	free(n->name);
	free(n);
}

struct qc_iso_node *qc_cloudinit_iso_node_new(
	struct qc_iso_node *parent, const char *name, size_t len, bool dir)
{
	struct qc_iso_node *n = qc_xzalloc(sizeof(*n));

	n->name = qc_xstrndup(name, len);
	n->dir = dir;
	n->mode = dir ? 0755 : 0644;
	n->parent = parent;
	if (parent) {
		parent->kids =
			qc_xrealloc(parent->kids, (parent->n_kids + 1) * sizeof(*parent->kids));
		parent->kids[parent->n_kids++] = n;
	}
	return n;
}

static struct qc_iso_node *find_kid(struct qc_iso_node *d, const char *name, size_t len)
{
	for (size_t i = 0; i < d->n_kids; i++)
		if (strlen(d->kids[i]->name) == len && !memcmp(d->kids[i]->name, name, len))
			return d->kids[i];
	return NULL;
}

static int check_component(const char *path, const char *c, size_t len, struct qc_error *err)
{
	if (len == 0)
		return qc_error_set(
			err, QC_ERR_INVALID, "ISO path '%s': empty name component", path);
	if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
		return qc_error_set(
			err, QC_ERR_INVALID, "ISO path '%s': '.' and '..' are not names", path);
	if (len > 255)
		return qc_error_set(err, QC_ERR_INVALID,
			"ISO path '%s': a name is %zu bytes; Rock Ridge names are limited to 255",
			path, len);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char) c[i] < 0x20 || c[i] == 0x7f)
			return qc_error_set(err, QC_ERR_INVALID,
				"ISO path '%s': control character 0x%02x in a name", path,
				(unsigned char) c[i]);
	if (!qc_utf8_valid(c, len))
		return qc_error_set(
			err, QC_ERR_INVALID, "ISO path '%s': name is not valid UTF-8", path);
	return 0;
}

int qc_cloudinit_iso_add(
	struct qc_iso_node *root, const struct qc_iso_entry *e, struct qc_error *err)
{
	const char *p = e->path, *slash;
	struct qc_iso_node *cur = root;
	unsigned level = 0;
	int r;

	if (!p || !*p || *p == '/')
		return qc_error_set(err, QC_ERR_INVALID,
			"ISO path '%s': must be a non-empty relative path", p ? p : "(null)");
	if (e->len > UINT32_MAX - BLK)
		return qc_error_set(err, QC_ERR_INVALID,
			"ISO path '%s': %zu bytes is too large for one ISO 9660 extent", p, e->len);
	for (;;) {
		slash = strchr(p, '/');
		size_t len = slash ? (size_t) (slash - p) : strlen(p);
		bool last = !slash || slash[1] == '\0';

		if ((r = check_component(e->path, p, len, err)) < 0)
			return r;
		struct qc_iso_node *k = find_kid(cur, p, len);
		bool want_dir = !last || e->dir;

		if (want_dir && ++level > MAX_DIR_LEVELS)
			return qc_error_set(err, QC_ERR_INVALID,
				"ISO path '%s': more than %d directory levels (ISO 9660 allows 8 "
				"counting the root)",
				e->path, MAX_DIR_LEVELS);
		if (k && k->dir != want_dir)
			return qc_error_set(err, QC_ERR_INVALID,
				"ISO path '%s': '%.*s' is used both as a file and as a directory",
				e->path, (int) len, p);
		if (last) {
			if (k && (!k->dir || k->data == (const void *) k))
				return qc_error_set(
					err, QC_ERR_EXISTS, "ISO path '%s': given twice", e->path);
			if (!k)
				k = qc_cloudinit_iso_node_new(cur, p, len, want_dir);
			if (e->mode)
				k->mode = e->mode & 07777;
			if (want_dir)
				k->data = (const void *) k; /* marks an explicit directory entry */
			else {
				k->data = e->data;
				k->len = e->len;
				if (e->len && !e->data)
					return qc_error_set(err, QC_ERR_INVALID,
						"ISO path '%s': no data for %zu bytes", e->path,
						e->len);
			}
			return 0;
		}
		if (!k)
			k = qc_cloudinit_iso_node_new(cur, p, len, true);
		cur = k;
		p = slash + 1;
	}
}

/* ------------------------------------------------------------- names */

static char d_char(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return (char) (c - 'a' + 'A');
	if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
		return (char) c;
	return '_';
}

/* Map [s, s+len) to at most max d-characters; one '_' per non-ASCII character. */
static void map_dchars(const char *s, size_t len, char *out, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o < max; i++) {
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x80 && c < 0xc0)
			continue; /* UTF-8 continuation byte */
		out[o++] = d_char(c);
	}
	out[o] = '\0';
}

static int cmp_iso(const void *a, const void *b)
{
	const struct qc_iso_node *x = *(struct qc_iso_node *const *) a,
				 *y = *(struct qc_iso_node *const *) b;
	int c = strcmp(x->iso_base, y->iso_base);

	/* 9.3: name parts first, then extensions; shorter = padded with 0x20, sorts first */
	return c ? c : strcmp(x->iso_ext, y->iso_ext);
}

static int cmp_joliet(const void *a, const void *b)
{
	const struct qc_iso_node *x = *(struct qc_iso_node *const *) a,
				 *y = *(struct qc_iso_node *const *) b;
	size_t n = x->jid_units < y->jid_units ? x->jid_units : y->jid_units;

	for (size_t i = 0; i < n; i++)
		if (x->jid[i] != y->jid[i])
			return x->jid[i] < y->jid[i] ? -1 : 1;
	return (int) x->jid_units - (int) y->jid_units;
}

static int cmp_name(const void *a, const void *b)
{
	const struct qc_iso_node *x = *(struct qc_iso_node *const *) a,
				 *y = *(struct qc_iso_node *const *) b;

	return strcmp(x->name, y->name);
}

static bool iso_taken(struct qc_iso_node *d, size_t upto, const char *base, const char *ext)
{
	for (size_t i = 0; i < upto; i++)
		if (!strcmp(d->kids[i]->iso_base, base) && !strcmp(d->kids[i]->iso_ext, ext))
			return true;
	return false;
}

static void iso_names(struct qc_iso_node *d)
{
	for (size_t i = 0; i < d->n_kids; i++) {
		struct qc_iso_node *k = d->kids[i];
		const char *dot = k->dir ? NULL : strrchr(k->name, '.');
		char base[9], ext[4];

		if (dot == k->name)
			dot = NULL; /* ".profile": all name, no extension */
		map_dchars(k->name, dot ? (size_t) (dot - k->name) : strlen(k->name), base, 8);
		if (!base[0])
			strcpy(base, "_");
		if (dot)
			map_dchars(dot + 1, strlen(dot + 1), ext, 3);
		else
			ext[0] = '\0';
		/* Unique among the siblings named before (kids are in name order). */
		strcpy(k->iso_base, base);
		for (unsigned n = 1; iso_taken(d, i, k->iso_base, ext); n++) {
			char num[12];
			int nl = snprintf(num, sizeof(num), "%u", n);
			size_t keep =
				strlen(base) < (size_t) (8 - nl) ? strlen(base) : (size_t) (8 - nl);

			memcpy(k->iso_base, base, keep);
			memcpy(k->iso_base + keep, num, (size_t) nl + 1);
		}
		strcpy(k->iso_ext, ext);
		if (k->dir)
			k->iso_id_len = (uint8_t) snprintf(
				(char *) k->iso_id, sizeof(k->iso_id), "%s", k->iso_base);
		else
			k->iso_id_len = (uint8_t) snprintf((char *) k->iso_id, sizeof(k->iso_id),
				"%s.%s;1", k->iso_base, k->iso_ext);
	}
}

static uint32_t utf8_next(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	int n = 0;

	if (c >= 0xf0)
		c &= 0x07, n = 3;
	else if (c >= 0xe0)
		c &= 0x0f, n = 2;
	else if (c >= 0xc0)
		c &= 0x1f, n = 1;
	for (int i = 1; i <= n; i++)
		c = (c << 6) | (s[i] & 0x3f);
	*p = s + 1 + n;
	return c;
}

static bool joliet_taken(struct qc_iso_node *d, size_t upto, const uint16_t *id, size_t units)
{
	for (size_t i = 0; i < upto; i++)
		if (d->kids[i]->jid_units == units && !memcmp(d->kids[i]->jid, id, units * 2))
			return true;
	return false;
}

static void joliet_names(struct qc_iso_node *d)
{
	/* No ";1" version suffix: genisoimage writes none either, and isoinfo -J -x wants none. */
	for (size_t i = 0; i < d->n_kids; i++) {
		struct qc_iso_node *k = d->kids[i];
		size_t len = 0;
		uint16_t name[QC_ISO_JOLIET_MAX];
		const unsigned char *p = (const unsigned char *) k->name;

		while (*p && len < QC_ISO_JOLIET_MAX) {
			uint32_t c = utf8_next(&p);

			if (c > 0xffff || c < 0x20 || strchr("*/:;?\\", (int) c))
				c = '_';
			name[len++] = (uint16_t) c;
		}
		memcpy(k->jid, name, len * 2);
		k->jid_units = (uint8_t) len;
		/* unique among the siblings named before: replace the tail with a number */
		for (unsigned num = 1; joliet_taken(d, i, k->jid, k->jid_units); num++) {
			char digits[12];
			size_t nl = (size_t) snprintf(digits, sizeof(digits), "%u", num);
			size_t keep = len < QC_ISO_JOLIET_MAX - nl ? len : QC_ISO_JOLIET_MAX - nl;

			memcpy(k->jid, name, keep * 2);
			for (size_t j = 0; j < nl; j++)
				k->jid[keep + j] = (uint16_t) digits[j];
			k->jid_units = (uint8_t) (keep + nl);
		}
	}
}

/* Depth-first, name order: names, serial numbers, link counts, sorted children. */
void qc_cloudinit_iso_prepare(struct qc_iso_node *d, uint32_t *ino)
{
	if (d->n_kids) /* an empty directory has kids == NULL: not for qsort or memcpy */
		qsort(d->kids, d->n_kids, sizeof(*d->kids), cmp_name);
	iso_names(d);
	joliet_names(d);
	d->ino = (*ino)++;
	d->nlink = 2;
	for (size_t i = 0; i < d->n_kids; i++)
		if (d->kids[i]->dir)
			d->nlink++;
	d->iso_kids = qc_xmalloc((d->n_kids + 1) * sizeof(*d->iso_kids));
	d->j_kids = qc_xmalloc((d->n_kids + 1) * sizeof(*d->j_kids));
	if (d->n_kids) {
		memcpy(d->iso_kids, d->kids, d->n_kids * sizeof(*d->kids));
		memcpy(d->j_kids, d->kids, d->n_kids * sizeof(*d->kids));
		qsort(d->iso_kids, d->n_kids, sizeof(*d->kids), cmp_iso);
		qsort(d->j_kids, d->n_kids, sizeof(*d->kids), cmp_joliet);
	}
	for (size_t i = 0; i < d->n_kids; i++) {
		struct qc_iso_node *k = d->kids[i];

		if (k->dir)
			qc_cloudinit_iso_prepare(k, ino);
		else {
			k->ino = (*ino)++;
			k->nlink = 1;
		}
	}
}
