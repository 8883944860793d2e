/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ISO 9660 + Rock Ridge + Joliet writer: random file sets are written
 * with qc_cloudinit_iso_build, then the directory tree is read back from
 * the image's bytes by the small reader below (PVD, directory records,
 * SUSP with CE continuation areas, RRIP NM and PX; the Joliet SVD) and
 * must match what went in: every path with its type, mode and bytes, and
 * nothing else; the Joliet tree has the same shape.  Every offset the
 * image holds is bounds-checked: an image pointing outside itself fails.
 *
 * Input: records of [flags][path length][path][data length (2 bytes LE)]
 * [data]; flags bit 0: directory, bit 1: explicit mode (next 2 bytes).
 */
#include "config.h"

#include <sys/stat.h>

#include "cloudinit/cloudinit.h"
#include "tests/fuzz/fuzz.h"

#define BLK 2048u
#define MAX_ENTRIES 48

struct rd {
	const uint8_t *img;
	size_t len;
	struct qc_strv paths; /* "d:path" / "f:path" of everything found */
	const struct qc_iso_entry *e;
	size_t n;
	size_t joliet_nodes, rr_nodes;
};

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static const uint8_t *at(struct rd *r, uint64_t off, uint64_t n)
{
	FUZZ_CHECK(off <= r->len && n <= r->len - off, "range %llu+%llu outside the %zu-byte image",
		(unsigned long long) off, (unsigned long long) n, r->len);
	return r->img + off;
}

/* The expected entry for path (last one given), or NULL. */
static const struct qc_iso_entry *find_entry(struct rd *r, const char *path)
{
	const struct qc_iso_entry *found = NULL;

	for (size_t i = 0; i < r->n; i++) {
		size_t l = strlen(r->e[i].path);

		if (l && r->e[i].path[l - 1] == '/')
			l--;
		if (strlen(path) == l && memcmp(path, r->e[i].path, l) == 0)
			found = &r->e[i];
	}
	return found;
}

/* SUSP entries of a record's system use area, following CE; NM and PX out. */
static void susp(struct rd *r, const uint8_t *su, size_t su_len, char *name, size_t *name_len,
	uint32_t *mode, bool *have_px)
{
	int hops = 0;

	*name_len = 0;
	while (su) {
		const uint8_t *next = NULL;
		size_t next_len = 0;

		for (size_t o = 0; o + 4 <= su_len;) {
			uint8_t l = su[o + 2];

			if (l < 4)
				break; /* padding */
			FUZZ_CHECK(o + l <= su_len, "SUSP entry %.2s runs past its area", su + o);
			if (!memcmp(su + o, "NM", 2) && l >= 5) {
				FUZZ_CHECK(*name_len + (l - 5u) <= 255, "NM longer than 255");
				memcpy(name + *name_len, su + o + 5, l - 5u);
				*name_len += l - 5u;
			} else if (!memcmp(su + o, "PX", 2) && l >= 36) {
				*mode = le32(su + o + 4);
				*have_px = true;
			} else if (!memcmp(su + o, "CE", 2) && l >= 28) {
				uint32_t blk = le32(su + o + 4), off = le32(su + o + 12),
					 cl = le32(su + o + 20);

				next = at(r, (uint64_t) blk * BLK + off, cl);
				next_len = cl;
			} else if (!memcmp(su + o, "ST", 2))
				break;
			o += l;
		}
		su = next;
		su_len = next_len;
		FUZZ_CHECK(++hops < 64, "CE chain loops");
	}
}

static void walk(
	struct rd *r, uint32_t extent, uint32_t size, const char *prefix, int depth, bool joliet)
{
	FUZZ_CHECK(depth <= 8, "directory tree deeper than 8 levels");
	FUZZ_CHECK(size % BLK == 0 && size > 0, "directory size %u", size);
	const uint8_t *d = at(r, (uint64_t) extent * BLK, size);

	for (uint32_t o = 0; o < size;) {
		uint8_t rl = d[o];

		if (rl == 0) { /* rest of the block is padding */
			o = (o / BLK + 1) * BLK;
			continue;
		}
		FUZZ_CHECK(rl >= 34 && o % BLK + rl <= BLK, "record length %u at %u", rl, o);
		const uint8_t *rec = d + o;
		uint8_t nl = rec[32];

		FUZZ_CHECK(33u + nl <= rl, "name length %u in a %u-byte record", nl, rl);
		o += rl;
		if (nl == 1 && (rec[33] == 0 || rec[33] == 1))
			continue; /* "." and ".." */
		uint32_t kext = le32(rec + 2), ksize = le32(rec + 10);
		bool dir = rec[25] & 2;

		if (joliet) {
			r->joliet_nodes++;
			FUZZ_CHECK(nl % 2 == 0 && nl <= 2 * QC_ISO_JOLIET_MAX,
				"Joliet name length %u", nl);
			if (dir)
				walk(r, kext, ksize, "", depth + 1, true);
			else
				(void) at(r, (uint64_t) kext * BLK, ksize);
			continue;
		}
		size_t su_off = 33u + nl + (nl % 2 == 0);
		char name[256];
		size_t name_len = 0;
		uint32_t mode = 0;
		bool have_px = false;

		susp(r, rec + su_off, su_off < rl ? rl - su_off : 0, name, &name_len, &mode,
			&have_px);
		FUZZ_CHECK(name_len > 0, "record without a Rock Ridge name");
		FUZZ_CHECK(have_px, "record without PX");
		name[name_len] = 0;
		FUZZ_CHECK(strlen(name) == name_len, "NUL in a Rock Ridge name");
		r->rr_nodes++;

		cleanup_free char *path = qc_xasprintf("%s%s%s", prefix, *prefix ? "/" : "", name);
		const struct qc_iso_entry *e = find_entry(r, path);

		FUZZ_CHECK(
			S_ISDIR(mode) == dir, "'%s': PX mode %o against record flags", path, mode);
		qc_strv_push_take(&r->paths, qc_xasprintf("%c:%s", dir ? 'd' : 'f', path));
		if (e && e->mode)
			FUZZ_CHECK((mode & 07777) == (e->mode & 07777), "'%s': mode %o, wanted %o",
				path, mode & 07777, e->mode & 07777);
		else if (e || dir)
			FUZZ_CHECK((mode & 07777) == (dir ? 0755u : 0644u), "'%s': default mode %o",
				path, mode & 07777);
		if (dir) {
			walk(r, kext, ksize, path, depth + 1, false);
			continue;
		}
		FUZZ_CHECK(e != NULL, "'%s' is in the image but was never given", path);
		FUZZ_CHECK(!e->dir, "'%s' given as a directory, read back as a file", path);
		FUZZ_CHECK(ksize == e->len, "'%s': %u bytes, wanted %zu", path, ksize, e->len);
		FUZZ_CHECK(
			ksize == 0 || !memcmp(at(r, (uint64_t) kext * BLK, ksize), e->data, ksize),
			"'%s': content differs", path);
	}
}

static bool has_path(struct rd *r, char type, const char *p, size_t l)
{
	for (size_t i = 0; i < r->paths.n; i++)
		if (r->paths.v[i][0] == type && strlen(r->paths.v[i] + 2) == l &&
			!memcmp(r->paths.v[i] + 2, p, l))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qc_iso_entry e[MAX_ENTRIES];
	char *paths[MAX_ENTRIES];
	size_t n = 0, o = 0;
	cleanup_free uint8_t *img = NULL;
	size_t len = 0;
	struct qc_error err = {0};
	int rc;

	while (o + 2 <= size && n < MAX_ENTRIES) {
		uint8_t fl = data[o], pl = data[o + 1];

		o += 2;
		if (o + pl > size)
			break;
		memset(&e[n], 0, sizeof(e[n]));
		paths[n] = fuzz_strndup(data + o, pl);
		e[n].path = paths[n];
		e[n].dir = fl & 1;
		o += pl;
		if ((fl & 2) && o + 2 <= size) {
			e[n].mode = (mode_t) ((data[o] | data[o + 1] << 8) & 07777);
			o += 2;
		}
		if (!e[n].dir && o + 2 <= size) {
			size_t dl = data[o] | (size_t) data[o + 1] << 8;

			o += 2;
			if (dl > size - o)
				dl = size - o;
			e[n].data = dl ? data + o : NULL;
			e[n].len = dl;
			o += dl;
		}
		n++;
	}

	rc = qc_cloudinit_iso_build(e, n, NULL, &img, &len, &err);
	fuzz_check_error(rc, &err);
	if (rc == 0) {
		struct rd r = {.img = img, .len = len, .e = e, .n = n};
		const uint8_t *pvd = at(&r, 16 * BLK, BLK), *root;
		uint32_t vol_blocks = le32(pvd + 80);

		FUZZ_CHECK(len % BLK == 0 && pvd[0] == 1 && !memcmp(pvd + 1, "CD001", 5),
			"no primary volume descriptor");
		FUZZ_CHECK((uint64_t) vol_blocks * BLK == len,
			"volume is %u blocks, image %zu bytes", vol_blocks, len);
		root = pvd + 156;
		walk(&r, le32(root + 2), le32(root + 10), "", 0, false);

		/* Every entry (and each parent directory it implies) was read back. */
		for (size_t i = 0; i < n; i++) {
			const char *p = e[i].path;
			size_t l = strlen(p);

			if (l && p[l - 1] == '/')
				l--;
			for (size_t k = 0; k < l; k++)
				if (p[k] == '/')
					FUZZ_CHECK(has_path(&r, 'd', p, k),
						"parent of '%s' missing", p);
			FUZZ_CHECK(has_path(&r, e[i].dir ? 'd' : 'f', p, l), "'%s' missing", p);
		}

		/* The Joliet tree (second descriptor) has the same number of nodes. */
		const uint8_t *svd = at(&r, 17 * BLK, BLK);

		FUZZ_CHECK(svd[0] == 2 && !memcmp(svd + 1, "CD001", 5), "no Joliet descriptor");
		walk(&r, le32(svd + 156 + 2), le32(svd + 156 + 10), "", 0, true);
		FUZZ_CHECK(r.joliet_nodes == r.rr_nodes, "Joliet has %zu nodes, Rock Ridge %zu",
			r.joliet_nodes, r.rr_nodes);
		qc_strv_clear(&r.paths);
	}
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	return 0;
}
