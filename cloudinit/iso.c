/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small ISO 9660 writer for NoCloud seeds: ECMA-119 level 1 names, Rock
 * Ridge (SUSP 1.12 + RRIP 1.12) carrying the real POSIX names and modes, and
 * a Joliet tree (UCS-2 level 3) for readers without Rock Ridge.  The whole
 * image is laid out in memory; inputs are small.
 *
 * Layout (2048-byte logical blocks):
 *   0..15   system area (zero)
 *   16      primary volume descriptor
 *   17      supplementary volume descriptor (Joliet)
 *   18      volume descriptor set terminator
 *   19..    path tables: ISO L, ISO M, Joliet L, Joliet M
 *           ISO directories (path table order), Joliet directories
 *           SUSP continuation areas (CE)
 *           file data, one extent per file, in sorted path order
 *           QC_ISO_PAD_BLOCKS zero blocks
 *
 * Quirks this code respects:
 * - Linux isofs prefers Rock Ridge over Joliet only when it has seen an ER
 *   entry (fs/isofs/rock.c sets s_rock = 1 on 'ER'); without ER a disc with
 *   Joliet is read through Joliet and POSIX modes are lost.
 * - A continuation area must lie inside one block (rock_continue() rejects
 *   cont_offset + cont_size > blocksize), and an RR entry without the PX/TF
 *   flags stops the kernel's attribute scan, so RR carries the right flags.
 * - Directory records never cross a block boundary (ECMA-119 6.8.1.1).
 * - Every PX carries a distinct file serial number: libisofs (xorriso)
 *   treats equal numbers as hard links.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"

#define BLK 2048u

struct iso {
	struct qc_iso_node *root;
	struct qc_iso_node **dirs, **jdirs; /* path table order */
	size_t n_dirs;
	struct qc_iso_node **files; /* data order */
	size_t n_files;
	uint8_t *img;
	uint32_t ce_blocks;
	uint8_t date7[7];
	char date17[17];
	char volid[33];
};

/* ----------------------------------------------------------- numbers */

static void put_le16(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (v >> 8) & 0xff;
	p[1] = v & 0xff;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[3 - i] = (v >> (8 * i)) & 0xff;
}

static void put_both16(uint8_t *p, uint32_t v) /* 7.2.3 */
{
	put_le16(p, v);
	put_be16(p + 2, v);
}

static void put_both32(uint8_t *p, uint32_t v) /* 7.3.3 */
{
	put_le32(p, v);
	put_be32(p + 4, v);
}

static uint32_t blocks(uint64_t bytes)
{
	return (uint32_t) ((bytes + BLK - 1) / BLK);
}
/* ------------------------------------------------------ system use (SUSP) */

static const char ER_ID[] = "IEEE_P1282";
static const char ER_DES[] =
	"THE IEEE P1282 PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS.";
static const char ER_SRC[] =
	"PLEASE CONTACT THE IEEE STANDARDS DEPARTMENT, PISCATAWAY, NJ, USA FOR "
	"THE P1282 SPECIFICATION.";

enum { RR_PX = 0x01, RR_NM = 0x08, RR_TF = 0x80 };

/*
 * The SUSP entries of one ISO directory record, appended to out (which has
 * room for 1024 bytes); ends[] receives the end offset of each entry so the
 * list can be split between the record and a continuation area.
 */
static size_t build_su(const struct iso *iso, const struct qc_iso_node *n, int kind, uint8_t *out,
	size_t *ends, size_t *n_ends)
{
	size_t o = 0, e = 0;
	bool name = kind == QC_ISO_REC_ENTRY;

	if (kind == QC_ISO_REC_SELF && n == iso->root) {
		memcpy(out + o, (uint8_t[]){'S', 'P', 7, 1, 0xbe, 0xef, 0}, 7);
		o += 7;
		ends[e++] = o;
	}
	memcpy(out + o, (uint8_t[]){'R', 'R', 5, 1, RR_PX | RR_TF | (name ? RR_NM : 0)}, 5);
	o += 5;
	ends[e++] = o;

	/* PX, RRIP 1.12: mode, links, uid, gid, serial number */
	memcpy(out + o, (uint8_t[]){'P', 'X', 44, 1}, 4);
	put_both32(out + o + 4, (uint32_t) ((n->dir ? S_IFDIR : S_IFREG) | n->mode));
	put_both32(out + o + 12, n->nlink);
	put_both32(out + o + 20, 0);
	put_both32(out + o + 28, 0);
	put_both32(out + o + 36, n->ino);
	o += 44;
	ends[e++] = o;

	/* TF: modify, access, attributes; 7-byte form */
	memcpy(out + o, (uint8_t[]){'T', 'F', 5 + 3 * 7, 1, 0x0e}, 5);
	for (int i = 0; i < 3; i++)
		memcpy(out + o + 5 + 7 * i, iso->date7, 7);
	o += 5 + 3 * 7;
	ends[e++] = o;

	if (name) {
		size_t len = strlen(n->name), done = 0;

		while (done < len) {
			size_t chunk = len - done > 250 ? 250 : len - done;

			out[o] = 'N';
			out[o + 1] = 'M';
			out[o + 2] = (uint8_t) (5 + chunk);
			out[o + 3] = 1;
			out[o + 4] = done + chunk < len ? 1 : 0; /* CONTINUE */
			memcpy(out + o + 5, n->name + done, chunk);
			o += 5 + chunk;
			done += chunk;
			ends[e++] = o;
		}
	}
	if (kind == QC_ISO_REC_SELF && n == iso->root) {
		size_t li = strlen(ER_ID), ld = strlen(ER_DES), ls = strlen(ER_SRC);

		out[o] = 'E';
		out[o + 1] = 'R';
		out[o + 2] = (uint8_t) (8 + li + ld + ls);
		out[o + 3] = 1;
		out[o + 4] = (uint8_t) li;
		out[o + 5] = (uint8_t) ld;
		out[o + 6] = (uint8_t) ls;
		out[o + 7] = 1;
		memcpy(out + o + 8, ER_ID, li);
		memcpy(out + o + 8 + li, ER_DES, ld);
		memcpy(out + o + 8 + li + ld, ER_SRC, ls);
		o += 8 + li + ld + ls;
		ends[e++] = o;
	}
	*n_ends = e;
	return o;
}

/* The node a record of the given kind in directory d describes. */
static const struct qc_iso_node *rec_target(const struct qc_iso_node *n, int kind)
{
	if (kind == QC_ISO_REC_PARENT)
		return n->parent ? n->parent : n;
	return n;
}

static uint8_t id_len_of(const struct qc_iso_node *n, int kind)
{
	return kind == QC_ISO_REC_ENTRY ? n->iso_id_len : 1;
}

/* Record length and the split between record and continuation area. */
static uint16_t measure_rec(const struct iso *iso, struct qc_iso_node *n, int kind)
{
	uint8_t su[1024];
	size_t ends[16], n_ends;
	const struct qc_iso_node *t = rec_target(n, kind);
	size_t total = build_su(iso, t, kind, su, ends, &n_ends);
	size_t base = 33 + id_len_of(n, kind);
	struct qc_iso_rec *r = &n->rec[kind];

	base += base & 1; /* padding field after an even-length identifier */
	/* 254: a record is at most 255 bytes and its length must be even */
	if (base + total <= 254) {
		r->su_len = (uint16_t) total;
		r->ce_len = 0;
	} else {
		size_t keep = 0;

		for (size_t i = 0; i < n_ends; i++)
			if (base + ends[i] + 28 <= 254)
				keep = ends[i];
		r->su_len = (uint16_t) (keep + 28);
		r->ce_len = (uint16_t) (total - keep);
	}
	size_t len = base + r->su_len;

	return (uint16_t) (len + (len & 1));
}

/* ---------------------------------------------------------- directories */

static uint32_t jrec_len(uint32_t id_len)
{
	uint32_t len = 33 + id_len;

	return len + (len & 1);
}

/* A directory's records in order: k 0 is "." (SELF), 1 is ".." (PARENT), then its entries. */
static struct qc_iso_node *rec_node(struct qc_iso_node *d, size_t k)
{
	return k < 2 ? d : d->iso_kids[k - 2];
}

static int rec_kind(size_t k)
{
	return k == 0 ? QC_ISO_REC_SELF : k == 1 ? QC_ISO_REC_PARENT : QC_ISO_REC_ENTRY;
}

static struct qc_iso_rec *dir_rec(struct qc_iso_node *d, size_t k)
{
	return &rec_node(d, k)->rec[rec_kind(k)];
}

static uint32_t dir_size(struct iso *iso, struct qc_iso_node *d, bool joliet)
{
	uint32_t off = 0;
	size_t n = d->n_kids + 2;

	for (size_t i = 0; i < n; i++) {
		uint32_t len;

		if (joliet)
			len = jrec_len(i < 2 ? 1 : 2u * d->j_kids[i - 2]->jid_units);
		else
			len = measure_rec(iso, rec_node(d, i), rec_kind(i));
		if (off % BLK + len > BLK)
			off += BLK - off % BLK;
		off += len;
	}
	return blocks(off) * BLK;
}

static void collect_dirs(struct iso *iso)
{
	size_t cap = 16, head = 0;

	iso->dirs = qc_xmalloc(cap * sizeof(*iso->dirs));
	iso->jdirs = qc_xmalloc(cap * sizeof(*iso->jdirs));
	/* breadth first: level by level, parents in number order, children sorted */
	for (int joliet = 0; joliet < 2; joliet++) {
		struct qc_iso_node ***list = joliet ? &iso->jdirs : &iso->dirs;
		size_t n = 0;

		head = 0;
		(*list)[n++] = iso->root;
		while (head < n) {
			struct qc_iso_node *d = (*list)[head++];
			struct qc_iso_node **kids = joliet ? d->j_kids : d->iso_kids;

			if (joliet)
				d->jnum = (uint16_t) head;
			else
				d->num = (uint16_t) head;
			for (size_t i = 0; i < d->n_kids; i++) {
				if (!kids[i]->dir)
					continue;
				if (n == cap) {
					cap *= 2;
					iso->dirs =
						qc_xrealloc(iso->dirs, cap * sizeof(*iso->dirs));
					iso->jdirs =
						qc_xrealloc(iso->jdirs, cap * sizeof(*iso->jdirs));
					list = joliet ? &iso->jdirs : &iso->dirs;
				}
				(*list)[n++] = kids[i];
			}
		}
		iso->n_dirs = n;
	}
}

static void collect_files(struct iso *iso, struct qc_iso_node *d, size_t *cap)
{
	for (size_t i = 0; i < d->n_kids; i++) {
		struct qc_iso_node *k = d->kids[i];

		if (k->dir) {
			collect_files(iso, k, cap);
			continue;
		}
		if (iso->n_files == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			iso->files = qc_xrealloc(iso->files, *cap * sizeof(*iso->files));
		}
		iso->files[iso->n_files++] = k;
	}
}

static size_t path_table_size(struct iso *iso, bool joliet)
{
	size_t size = 0;

	for (size_t i = 0; i < iso->n_dirs; i++) {
		struct qc_iso_node *d = joliet ? iso->jdirs[i] : iso->dirs[i];
		size_t idl = d == iso->root ? 1 : joliet ? 2u * d->jid_units : d->iso_id_len;

		size += 8 + idl + (idl & 1);
	}
	return size;
}

static void write_path_table(struct iso *iso, bool joliet, bool msb, uint8_t *p)
{
	for (size_t i = 0; i < iso->n_dirs; i++) {
		struct qc_iso_node *d = joliet ? iso->jdirs[i] : iso->dirs[i];
		size_t idl = d == iso->root ? 1 : joliet ? 2u * d->jid_units : d->iso_id_len;
		uint32_t ext = joliet ? d->jextent : d->extent;
		uint32_t parent = d == iso->root ? 1 : joliet ? d->parent->jnum : d->parent->num;

		p[0] = (uint8_t) idl;
		p[1] = 0;
		(msb ? put_be32 : put_le32)(p + 2, ext);
		(msb ? put_be16 : put_le16)(p + 6, parent);
		if (d == iso->root)
			p[8] = 0;
		else if (joliet)
			for (size_t j = 0; j < d->jid_units; j++)
				put_be16(p + 8 + 2 * j, d->jid[j]);
		else
			memcpy(p + 8, d->iso_id, idl);
		p += 8 + idl + (idl & 1);
	}
}

/* Common 33-byte head of a directory record (9.1). */
static void rec_head(const struct iso *iso, uint8_t *p, uint8_t len, uint32_t extent, uint32_t size,
	bool dir, uint8_t id_len)
{
	p[0] = len;
	p[1] = 0;
	put_both32(p + 2, extent);
	put_both32(p + 10, size);
	memcpy(p + 18, iso->date7, 7);
	p[25] = dir ? 0x02 : 0x00;
	p[26] = 0;
	p[27] = 0;
	put_both16(p + 28, 1);
	p[32] = id_len;
}

static void write_iso_dir(struct iso *iso, struct qc_iso_node *d)
{
	uint8_t *base = iso->img + (size_t) d->extent * BLK;
	uint32_t off = 0;

	for (size_t i = 0; i < d->n_kids + 2; i++) {
		struct qc_iso_node *n = rec_node(d, i);
		int kind = rec_kind(i);
		const struct qc_iso_node *t = rec_target(n, kind);
		uint16_t len = measure_rec(iso, n, kind);
		struct qc_iso_rec *r = &n->rec[kind];
		uint8_t su[1024], idl = id_len_of(n, kind);
		size_t ends[16], n_ends, total;

		if (off % BLK + len > BLK)
			off += BLK - off % BLK;
		uint8_t *p = base + off;

		rec_head(iso, p, (uint8_t) len, t->extent, t->dir ? t->size : (uint32_t) t->len,
			t->dir, idl);
		if (kind == QC_ISO_REC_ENTRY)
			memcpy(p + 33, n->iso_id, idl);
		else
			p[33] = kind == QC_ISO_REC_SELF ? 0 : 1;
		size_t so = 33 + idl + ((33 + idl) & 1);

		total = build_su(iso, t, kind, su, ends, &n_ends);
		if (!r->ce_len) {
			memcpy(p + so, su, total);
		} else {
			size_t keep = r->su_len - 28u;
			uint8_t *ce = p + so + keep;

			memcpy(p + so, su, keep);
			memcpy(ce, (uint8_t[]){'C', 'E', 28, 1}, 4);
			put_both32(ce + 4, r->ce_blk);
			put_both32(ce + 12, r->ce_off);
			put_both32(ce + 20, r->ce_len);
			memcpy(iso->img + (size_t) r->ce_blk * BLK + r->ce_off, su + keep,
				r->ce_len);
		}
		off += len;
	}
}

static void write_joliet_dir(struct iso *iso, struct qc_iso_node *d)
{
	uint8_t *base = iso->img + (size_t) d->jextent * BLK;
	uint32_t off = 0;

	for (size_t i = 0; i < d->n_kids + 2; i++) {
		struct qc_iso_node *n =
			i < 2 ? (i == 0 ? d : (d->parent ? d->parent : d)) : d->j_kids[i - 2];
		uint8_t idl = i < 2 ? 1 : (uint8_t) (2 * n->jid_units);
		uint32_t len = jrec_len(idl);
		if (off % BLK + len > BLK)
			off += BLK - off % BLK;
		uint8_t *p = base + off;

		rec_head(iso, p, (uint8_t) len, n->dir ? n->jextent : n->extent,
			n->dir ? n->jsize : (uint32_t) n->len, n->dir, idl);
		if (i < 2)
			p[33] = (uint8_t) i;
		else
			for (size_t j = 0; j < n->jid_units; j++)
				put_be16(p + 33 + 2 * j, n->jid[j]);
		off += len;
	}
}

/* ------------------------------------------------- volume descriptors */

static void fill(uint8_t *p, size_t n, const char *s, bool ucs2)
{
	size_t l = strlen(s);

	for (size_t i = 0; i < n; i += ucs2 ? 2 : 1) {
		size_t c = ucs2 ? i / 2 : i;
		char ch = c < l ? s[c] : ' ';

		if (ucs2) {
			if (i + 1 >= n) { /* odd field length: last byte is a pad */
				p[i] = 0;
				break;
			}
			put_be16(p + i, (unsigned char) ch);
		} else
			p[i] = (uint8_t) ch;
	}
}

static void write_vd(struct iso *iso, uint8_t *p, bool joliet, uint32_t total, size_t pt_size,
	uint32_t l_pt, uint32_t m_pt)
{
	struct qc_iso_node *root = iso->root;

	p[0] = joliet ? 2 : 1;
	memcpy(p + 1, "CD001", 5);
	p[6] = 1;
	fill(p + 8, 32, "LINUX", joliet);
	fill(p + 40, 32, iso->volid, joliet);
	put_both32(p + 80, total);
	if (joliet)
		memcpy(p + 88, "%/E", 3); /* UCS-2 level 3 */
	put_both16(p + 120, 1);
	put_both16(p + 124, 1);
	put_both16(p + 128, BLK);
	put_both32(p + 132, (uint32_t) pt_size);
	put_le32(p + 140, l_pt);
	put_be32(p + 148, m_pt);
	rec_head(iso, p + 156, 34, joliet ? root->jextent : root->extent,
		joliet ? root->jsize : root->size, true, 1);
	p[156 + 33] = 0;
	fill(p + 190, 128, "", joliet); /* volume set */
	fill(p + 318, 128, "", joliet); /* publisher */
	fill(p + 446, 128, "", joliet); /* data preparer */
	fill(p + 574, 128, "QEMUCTL", joliet); /* application */
	fill(p + 702, 37, "", joliet);
	fill(p + 739, 37, "", joliet);
	fill(p + 776, 37, "", joliet);
	memcpy(p + 813, iso->date17, 17); /* creation */
	memcpy(p + 830, iso->date17, 17); /* modification */
	memcpy(p + 847, "0000000000000000", 16); /* expiration: not specified */
	memcpy(p + 864, "0000000000000000", 16); /* effective: not specified */
	p[881] = 1;
}

/* --------------------------------------------------------------- build */

static void iso_free(struct iso *iso)
{
	qc_cloudinit_iso_node_free(iso->root);
	qc_free_all(iso->dirs, iso->jdirs, iso->files, iso->img);
}

static int set_dates(struct iso *iso, const struct qc_iso_opts *o, struct qc_error *err)
{
	int64_t t = o && o->set_time ? o->time : QC_ISO_DEFAULT_TIME;
	struct tm tm;
	time_t tt = (time_t) t;

	if (t < 0 || t >= INT64_C(4102444800)) /* 2100-01-01 */
		return qc_error_set(err, QC_ERR_INVALID,
			"ISO time stamp %lld is outside 1970..2099", (long long) t);
	gmtime_r(&tt, &tm);
	iso->date7[0] = (uint8_t) tm.tm_year;
	iso->date7[1] = (uint8_t) (tm.tm_mon + 1);
	iso->date7[2] = (uint8_t) tm.tm_mday;
	iso->date7[3] = (uint8_t) tm.tm_hour;
	iso->date7[4] = (uint8_t) tm.tm_min;
	iso->date7[5] = (uint8_t) tm.tm_sec;
	iso->date7[6] = 0; /* GMT */
	char buf[96];

	snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02d00", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(iso->date17, buf, 16);
	iso->date17[16] = 0;
	return 0;
}

static int set_volid(struct iso *iso, const struct qc_iso_opts *o, struct qc_error *err)
{
	const char *v = o && o->volume_id ? o->volume_id : "cidata";
	size_t l = strlen(v);

	if (l == 0 || l > 16)
		return qc_error_set(err, QC_ERR_INVALID,
			"ISO volume id '%s': must be 1..16 characters (Joliet holds 16)", v);
	for (size_t i = 0; i < l; i++)
		if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') ||
			    (v[i] >= '0' && v[i] <= '9') || v[i] == '_' || v[i] == '-'))
			return qc_error_set(err, QC_ERR_INVALID,
				"ISO volume id '%s': only letters, digits, '_' and '-' are allowed",
				v);
	memcpy(iso->volid, v, l + 1);
	return 0;
}

int qc_cloudinit_iso_build(const struct qc_iso_entry *entries, size_t n,
	const struct qc_iso_opts *opts, uint8_t **ret, size_t *ret_len, struct qc_error *err)
{
	struct iso iso = {0};
	uint32_t ino = 1;
	size_t fcap = 0;
	int r;

	if ((r = set_dates(&iso, opts, err)) < 0 || (r = set_volid(&iso, opts, err)) < 0)
		return r;
	iso.root = qc_cloudinit_iso_node_new(NULL, "", 0, true);
	for (size_t i = 0; i < n; i++)
		if ((r = qc_cloudinit_iso_add(iso.root, &entries[i], err)) < 0) {
			iso_free(&iso);
			return r;
		}
	qc_cloudinit_iso_prepare(iso.root, &ino);
	collect_dirs(&iso);
	if (iso.n_dirs > UINT16_MAX) { /* path table parent numbers are 16 bits */
		size_t nd = iso.n_dirs;

		iso_free(&iso);
		return qc_error_set(err, QC_ERR_INVALID,
			"ISO image: %zu directories; ISO 9660 path tables hold at most %u", nd,
			UINT16_MAX);
	}
	collect_files(&iso, iso.root, &fcap);

	/* sizes first: records, directory extents, continuation areas */
	for (size_t i = 0; i < iso.n_dirs; i++) {
		iso.dirs[i]->size = dir_size(&iso, iso.dirs[i], false);
		iso.jdirs[i]->jsize = dir_size(&iso, iso.jdirs[i], true);
	}
	uint32_t ce_blk = 0, ce_off = 0;

	for (size_t i = 0; i < iso.n_dirs; i++) {
		struct qc_iso_node *d = iso.dirs[i];

		for (size_t k = 0; k < d->n_kids + 2; k++) {
			struct qc_iso_rec *rc = dir_rec(d, k);

			if (!rc->ce_len)
				continue;
			if (ce_off + rc->ce_len > BLK)
				ce_blk++, ce_off = 0;
			rc->ce_blk = ce_blk;
			rc->ce_off = (uint16_t) ce_off;
			ce_off += rc->ce_len;
		}
	}
	iso.ce_blocks = ce_off ? ce_blk + 1 : 0;

	/* then addresses */
	size_t pt = path_table_size(&iso, false), jpt = path_table_size(&iso, true);
	uint64_t next = 19;
	uint32_t l_pt = (uint32_t) next, m_pt = (uint32_t) (next += blocks(pt));
	uint32_t jl_pt = (uint32_t) (next += blocks(pt)), jm_pt = (uint32_t) (next += blocks(jpt));

	next += blocks(jpt);
	for (size_t i = 0; i < iso.n_dirs; i++) {
		iso.dirs[i]->extent = (uint32_t) next;
		next += iso.dirs[i]->size / BLK;
	}
	for (size_t i = 0; i < iso.n_dirs; i++) {
		iso.jdirs[i]->jextent = (uint32_t) next;
		next += iso.jdirs[i]->jsize / BLK;
	}
	uint32_t ce_base = (uint32_t) next;

	next += iso.ce_blocks;
	for (size_t i = 0; i < iso.n_files; i++) {
		struct qc_iso_node *f = iso.files[i];

		f->extent = (uint32_t) next;
		next += blocks(f->len);
		if (next * BLK > QC_ISO_MAX_BYTES) {
			iso_free(&iso);
			return qc_error_set(err, QC_ERR_INVALID,
				"ISO image would exceed %u MiB; seeds are meant to be small",
				QC_ISO_MAX_BYTES >> 20);
		}
	}
	/* empty files own no block; their extent is 0 (readers never read it) */
	for (size_t i = 0; i < iso.n_files; i++)
		if (!iso.files[i]->len)
			iso.files[i]->extent = 0;
	for (size_t i = 0; i < iso.n_dirs; i++) {
		struct qc_iso_node *d = iso.dirs[i];

		for (size_t k = 0; k < d->n_kids + 2; k++) {
			struct qc_iso_rec *rc = dir_rec(d, k);

			if (rc->ce_len)
				rc->ce_blk += ce_base;
		}
	}

	/*
	 * Trailing zero blocks, counted in the volume size as genisoimage does
	 * (its default -pad): busybox's volume_id (findfs LABEL=cidata in small
	 * guests) reads 0x11000 bytes from the start of the device and finds no
	 * label on anything shorter, and Linux's CD-ROM read-ahead runs past the
	 * last data block of an sr device.
	 */
	next += QC_ISO_PAD_BLOCKS;
	uint32_t total = (uint32_t) next;
	size_t bytes = (size_t) total * BLK;

	iso.img = qc_xzalloc(bytes);
	write_vd(&iso, iso.img + 16 * BLK, false, total, pt, l_pt, m_pt);
	write_vd(&iso, iso.img + 17 * BLK, true, total, jpt, jl_pt, jm_pt);
	memcpy(iso.img + 18 * BLK, (uint8_t[]){255, 'C', 'D', '0', '0', '1', 1}, 7);
	write_path_table(&iso, false, false, iso.img + (size_t) l_pt * BLK);
	write_path_table(&iso, false, true, iso.img + (size_t) m_pt * BLK);
	write_path_table(&iso, true, false, iso.img + (size_t) jl_pt * BLK);
	write_path_table(&iso, true, true, iso.img + (size_t) jm_pt * BLK);
	for (size_t i = 0; i < iso.n_dirs; i++) {
		write_iso_dir(&iso, iso.dirs[i]);
		write_joliet_dir(&iso, iso.jdirs[i]);
	}
	for (size_t i = 0; i < iso.n_files; i++)
		if (iso.files[i]->len)
			memcpy(iso.img + (size_t) iso.files[i]->extent * BLK, iso.files[i]->data,
				iso.files[i]->len);
	*ret = TAKE_PTR(iso.img);
	*ret_len = bytes;
	iso_free(&iso);
	return 0;
}
