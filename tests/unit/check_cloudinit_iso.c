/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cloudinit/iso.c: the layout byte by byte (volume descriptors, path tables,
 * directory records, SUSP/RRIP entries, Joliet names), determinism, bad
 * input, and property tests: random file sets read back byte-exactly by
 * isoinfo (Rock Ridge and Joliet) and xorriso.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

#define BLK 2048

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t) (p[0] << 8 | p[1]);
}

/* both-endian fields must agree */
static uint32_t both32(const uint8_t *p)
{
	ck_assert_uint_eq(le32(p), be32(p + 4));
	return le32(p);
}

static const char META[] = "instance-id: iid-1\nlocal-hostname: h1\n";
static const char USER[] = "#cloud-config\nhostname: h1\n";
static const char NET[] = "version: 2\n";

static uint8_t *build_basic(size_t *len)
{
	struct qc_iso_entry e[] = {
		{.path = "user-data", .data = USER, .len = sizeof(USER) - 1, .mode = 0600},
		{.path = "meta-data", .data = META, .len = sizeof(META) - 1},
		{.path = "network-config", .data = NET, .len = sizeof(NET) - 1},
		{.path = "dir/sub/file.txt", .data = "x", .len = 1},
	};
	struct qc_error err = {0};
	uint8_t *img = NULL;

	ck_assert_msg(qc_cloudinit_iso_build(e, QC_ARRAY_SIZE(e), NULL, &img, len, &err) == 0, "%s",
		err.msg);
	return img;
}

/* Find a record by identifier bytes in a directory extent; NULL if absent. */
static const uint8_t *find_rec(
	const uint8_t *img, uint32_t extent, uint32_t size, const void *id, size_t idl)
{
	for (uint32_t off = 0; off < size;) {
		const uint8_t *r = img + (size_t) extent * BLK + off;

		if (r[0] == 0) { /* rest of the block is padding */
			off = (off / BLK + 1) * BLK;
			continue;
		}
		ck_assert_uint_le(off % BLK + r[0], BLK); /* never crosses a block */
		ck_assert_uint_eq(r[0] % 2, 0);
		if (r[32] == idl && !memcmp(r + 33, id, idl))
			return r;
		off += r[0];
	}
	return NULL;
}

/* Find a SUSP entry in a record's system use area (following one CE). */
static const uint8_t *find_su(const uint8_t *img, const uint8_t *rec, const char sig[2])
{
	size_t so = 33 + rec[32] + ((33 + rec[32]) & 1);
	const uint8_t *p = rec + so, *end = rec + rec[0];

	for (int pass = 0; pass < 2; pass++) {
		const uint8_t *ce = NULL;

		while (p + 4 <= end && p[2] >= 4) {
			if (!memcmp(p, sig, 2))
				return p;
			if (!memcmp(p, "CE", 2))
				ce = p;
			p += p[2];
		}
		if (!ce)
			break;
		ck_assert_uint_le(both32(ce + 12) + both32(ce + 20), BLK);
		p = img + (size_t) both32(ce + 4) * BLK + both32(ce + 12);
		end = p + both32(ce + 20);
	}
	return NULL;
}

START_TEST(pvd_fields)
{
	size_t len;
	cleanup_free uint8_t *img = build_basic(&len);
	const uint8_t *p = img + 16 * BLK;

	ck_assert_uint_eq(len % BLK, 0);
	for (size_t i = 0; i < 16 * BLK; i++)
		ck_assert_uint_eq(img[i], 0);
	ck_assert_uint_eq(p[0], 1);
	ck_assert(!memcmp(p + 1, "CD001", 5));
	ck_assert_uint_eq(p[6], 1);
	ck_assert(!memcmp(p + 40, "cidata                          ", 32));
	ck_assert_uint_eq(both32(p + 80), len / BLK);
	ck_assert_uint_eq(le16(p + 128), BLK);
	ck_assert_uint_eq(be16(p + 130), BLK);
	ck_assert_uint_eq(le16(p + 120), 1);
	ck_assert_uint_eq(be16(p + 122), 1);
	ck_assert_uint_eq(both32(p + 132), 10 + 12 + 12); /* root (1+1 pad), DIR, SUB (3+1 pad) */
	ck_assert_uint_eq(p[156], 34);
	ck_assert_uint_eq(p[156 + 25], 2);
	ck_assert_uint_eq(p[156 + 32], 1);
	ck_assert_uint_eq(p[156 + 33], 0);
	ck_assert(!memcmp(p + 813, "2000010100000000", 16));
	ck_assert_uint_eq(p[881], 1);
	/* terminator */
	ck_assert(!memcmp(img + 18 * BLK,
		"\xff"
		"CD001\x01",
		7));
}
END_TEST

START_TEST(svd_joliet)
{
	size_t len;
	cleanup_free uint8_t *img = build_basic(&len);
	const uint8_t *p = img + 17 * BLK;
	static const uint8_t volid[] = {0, 'c', 0, 'i', 0, 'd', 0, 'a', 0, 't', 0, 'a', 0, ' '};
	static const uint8_t meta[] = {
		0, 'm', 0, 'e', 0, 't', 0, 'a', 0, '-', 0, 'd', 0, 'a', 0, 't', 0, 'a'};

	ck_assert_uint_eq(p[0], 2);
	ck_assert(!memcmp(p + 1, "CD001", 5));
	ck_assert(!memcmp(p + 88, "%/E", 3));
	ck_assert(!memcmp(p + 40, volid, sizeof(volid)));
	ck_assert_uint_eq(both32(p + 80), len / BLK);
	uint32_t root = both32(p + 156 + 2), size = both32(p + 156 + 10);
	const uint8_t *r = find_rec(img, root, size, meta, sizeof(meta));

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(both32(r + 10), sizeof(META) - 1);
	ck_assert(!memcmp(img + (size_t) both32(r + 2) * BLK, META, sizeof(META) - 1));
	/* Joliet records carry no Rock Ridge */
	ck_assert_uint_eq(r[0], 33 + sizeof(meta) + 1);
}
END_TEST

START_TEST(path_tables)
{
	size_t len;
	cleanup_free uint8_t *img = build_basic(&len);
	const uint8_t *pvd = img + 16 * BLK;
	const uint8_t *l = img + (size_t) le32(pvd + 140) * BLK;
	const uint8_t *m = img + (size_t) be32(pvd + 148) * BLK;
	uint32_t root = both32(pvd + 156 + 2);

	/* root: id length 1, id 0, parent 1 */
	ck_assert_uint_eq(l[0], 1);
	ck_assert_uint_eq(le32(l + 2), root);
	ck_assert_uint_eq(le16(l + 6), 1);
	ck_assert_uint_eq(m[0], 1);
	ck_assert_uint_eq(be32(m + 2), root);
	ck_assert_uint_eq(be16(m + 6), 1);
	/* DIR (parent 1), then SUB (parent 2) */
	ck_assert_uint_eq(l[10], 3);
	ck_assert(!memcmp(l + 18, "DIR", 3));
	ck_assert_uint_eq(le16(l + 16), 1);
	ck_assert_uint_eq(be16(m + 16), 1);
	ck_assert_uint_eq(be32(m + 12), le32(l + 12));
	ck_assert(!memcmp(l + 30, "SUB", 3));
	ck_assert_uint_eq(le16(l + 28), 2);
	/* the table's extent for DIR is the record's extent */
	const uint8_t *d = find_rec(img, root, both32(pvd + 156 + 10), "DIR", 3);

	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(both32(d + 2), le32(l + 12));
	ck_assert_uint_eq(d[25], 2);
}
END_TEST

START_TEST(dir_records_rock_ridge)
{
	size_t len;
	cleanup_free uint8_t *img = build_basic(&len);
	const uint8_t *pvd = img + 16 * BLK;
	uint32_t root = both32(pvd + 156 + 2), size = both32(pvd + 156 + 10);
	const uint8_t *dot = img + (size_t) root * BLK;

	/* "." then "..", then sorted 8.3 names */
	ck_assert_uint_eq(dot[32], 1);
	ck_assert_uint_eq(dot[33], 0);
	ck_assert_uint_eq(both32(dot + 2), root);
	const uint8_t *dotdot = dot + dot[0];

	ck_assert_uint_eq(dotdot[33], 1);
	ck_assert_uint_eq(both32(dotdot + 2), root);
	const uint8_t *n1 = dotdot + dotdot[0], *n2 = n1 + n1[0], *n3 = n2 + n2[0],
		      *n4 = n3 + n3[0];

	ck_assert(!memcmp(n1 + 33, "DIR", 3));
	ck_assert(!memcmp(n2 + 33, "META_DAT.;1", 11));
	ck_assert(!memcmp(n3 + 33, "NETWORK_.;1", 11));
	ck_assert(!memcmp(n4 + 33, "USER_DAT.;1", 11));

	/* SP first in the root's ".", ER (via CE) names RRIP 1.12 */
	ck_assert(!memcmp(dot + 34, "SP\x07\x01\xbe\xef\x00", 7));
	const uint8_t *er = find_su(img, dot, "ER");

	ck_assert_ptr_nonnull(er);
	ck_assert_uint_eq(er[4], 10);
	ck_assert(!memcmp(er + 8, "IEEE_P1282", 10));
	ck_assert_ptr_nonnull(find_su(img, dot, "CE"));

	/* user-data: NM, PX 0100600 nlink 1 uid 0 gid 0, RR flags */
	const uint8_t *nm = find_su(img, n4, "NM"), *px = find_su(img, n4, "PX");
	const uint8_t *rr = find_su(img, n4, "RR"), *tf = find_su(img, n4, "TF");

	ck_assert_ptr_nonnull(nm);
	ck_assert_uint_eq(nm[2], 5 + 9);
	ck_assert(!memcmp(nm + 5, "user-data", 9));
	ck_assert_ptr_nonnull(px);
	ck_assert_uint_eq(px[2], 44);
	ck_assert_uint_eq(both32(px + 4), 0100600);
	ck_assert_uint_eq(both32(px + 12), 1);
	ck_assert_uint_eq(both32(px + 20), 0);
	ck_assert_uint_eq(both32(px + 28), 0);
	ck_assert_ptr_nonnull(rr);
	ck_assert_uint_eq(rr[4], 0x89);
	ck_assert_ptr_nonnull(tf);
	ck_assert_uint_eq(tf[4], 0x0e);
	ck_assert_uint_eq(tf[5], 100); /* 2000 - 1900 */
	/* root PX: a directory with 3 links (., .., DIR) */
	px = find_su(img, dot, "PX");
	ck_assert_uint_eq(both32(px + 4), 040755);
	ck_assert_uint_eq(both32(px + 12), 3);
	ck_assert_ptr_null(find_rec(img, root, size, "NOPE", 4));
}
END_TEST

START_TEST(deterministic)
{
	size_t l1, l2, l3;
	cleanup_free uint8_t *a = build_basic(&l1);
	cleanup_free uint8_t *b = build_basic(&l2);
	cleanup_free uint8_t *c = NULL;
	struct qc_iso_opts o = {.set_time = true, .time = 1700000000};
	struct qc_iso_entry e = {.path = "meta-data", .data = META, .len = sizeof(META) - 1};
	struct qc_error err = {0};

	ck_assert_uint_eq(l1, l2);
	ck_assert(!memcmp(a, b, l1));
	ck_assert_int_eq(qc_cloudinit_iso_build(&e, 1, &o, &c, &l3, &err), 0);
	ck_assert(!memcmp(c + 16 * BLK + 813, "2023111422132000", 16));
}
END_TEST

START_TEST(name_collisions)
{
	struct qc_iso_entry e[12];
	char names[12][32];
	struct qc_error err = {0};
	cleanup_free uint8_t *img = NULL;
	size_t len;

	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "averylongname-%02d.config", i);
		e[i] = (struct qc_iso_entry){.path = names[i], .data = names[i], .len = 3};
	}
	ck_assert_int_eq(qc_cloudinit_iso_build(e, 12, NULL, &img, &len, &err), 0);
	const uint8_t *pvd = img + 16 * BLK;
	uint32_t root = both32(pvd + 156 + 2), size = both32(pvd + 156 + 10);
	char seen[14][16];
	int n = 0;

	for (uint32_t off = 0; off < size; n++) {
		const uint8_t *r = img + (size_t) root * BLK + off;

		if (!r[0]) {
			off = (off / BLK + 1) * BLK;
			n--;
			continue;
		}
		off += r[0];
		if (r[33] == 0 && r[32] == 1) {
			n--;
			continue; /* "." */
		}
		memcpy(seen[n], r + 33, r[32]);
		seen[n][r[32]] = 0;
		for (int j = 0; j < n; j++)
			ck_assert_str_ne(seen[j], seen[n]);
		if (n > 1) /* sorted */
			ck_assert_int_lt(strcmp(seen[n - 1], seen[n]), 0);
	}
	ck_assert_int_eq(n, 13); /* ".." + 12 */
}
END_TEST

START_TEST(joliet_collisions)
{
	/* 70-character names equal in their first 64: Joliet keeps 64 units, made unique */
	enum { N = 15 };
	struct qc_iso_entry e[N];
	char names[N][80];
	struct qc_error err = {0};
	cleanup_free uint8_t *img = NULL;
	size_t len;

	for (int i = 0; i < N; i++) {
		memset(names[i], 'j', 68);
		snprintf(names[i] + 68, 12, "%02d", i);
		e[i] = (struct qc_iso_entry){.path = names[i], .data = "x", .len = 1};
	}
	ck_assert_int_eq(qc_cloudinit_iso_build(e, N, NULL, &img, &len, &err), 0);
	const uint8_t *svd = img + 17 * BLK;
	uint32_t root = both32(svd + 156 + 2), size = both32(svd + 156 + 10);
	uint8_t seen[N + 2][130];
	uint8_t seen_len[N + 2];
	int n = 0;

	for (uint32_t off = 0; off < size;) {
		const uint8_t *r = img + (size_t) root * BLK + off;

		if (!r[0]) {
			off = (off / BLK + 1) * BLK;
			continue;
		}
		off += r[0];
		if (r[32] == 1)
			continue; /* "." and ".." */
		ck_assert_uint_le(r[32], 128);
		ck_assert_uint_eq(r[32] % 2, 0);
		memcpy(seen[n], r + 33, r[32]);
		seen_len[n] = r[32];
		for (int j = 0; j < n; j++)
			ck_assert(seen_len[j] != seen_len[n] ||
				  memcmp(seen[j], seen[n], seen_len[n]));
		n++;
	}
	ck_assert_int_eq(n, N);
}
END_TEST

static int build_one(const char *path, bool dir, struct qc_error *err)
{
	struct qc_iso_entry e[] = {
		{.path = "a", .data = "x", .len = 1}, {.path = path, .dir = dir}};
	uint8_t *img = NULL;
	size_t len;
	int r = qc_cloudinit_iso_build(e, 2, NULL, &img, &len, err);

	free(img);
	return r;
}

START_TEST(bad_input)
{
	struct qc_error err = {0};

	ck_assert_int_eq(build_one("a", false, &err), -QC_ERR_EXISTS);
	ck_assert_str_eq(err.msg, "ISO path 'a': given twice");
	ck_assert_int_eq(build_one("a/b", false, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ISO path 'a/b': 'a' is used both as a file and as a directory");
	ck_assert_int_eq(build_one("x/../y", false, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ISO path 'x/../y': '.' and '..' are not names");
	ck_assert_int_eq(build_one("x//y", false, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ISO path 'x//y': empty name component");
	ck_assert_int_eq(build_one("/abs", false, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(build_one("bad\nname", false, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ISO path 'bad\nname': control character 0x0a in a name");
	ck_assert_int_eq(build_one("bad\xff", false, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(build_one("1/2/3/4/5/6/7/f", false, &err), 0);
	ck_assert_int_eq(build_one("1/2/3/4/5/6/7/8", true, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ISO path '1/2/3/4/5/6/7/8': more than 7 directory levels "
				  "(ISO 9660 allows 8 counting the root)");
	ck_assert_int_eq(build_one("1/2/3/4/5/6/7/8/f", false, &err), -QC_ERR_INVALID);

	char longname[300];

	memset(longname, 'n', 256);
	longname[256] = 0;
	ck_assert_int_eq(build_one(longname, false, &err), -QC_ERR_INVALID);
	longname[255] = 0;
	ck_assert_int_eq(build_one(longname, false, &err), 0);

	/* an empty image: just the root */
	{
		uint8_t *e0 = NULL;
		size_t l0;

		ck_assert_int_eq(qc_cloudinit_iso_build(NULL, 0, NULL, &e0, &l0, &err), 0);
		ck_assert_uint_eq(both32(e0 + 16 * BLK + 80), l0 / BLK);
		free(e0);
	}

	struct qc_iso_opts o = {.volume_id = "bad id"};
	uint8_t *img = NULL;
	size_t len;

	ck_assert_int_eq(qc_cloudinit_iso_build(NULL, 0, &o, &img, &len, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(
		err.msg, "ISO volume id 'bad id': only letters, digits, '_' and '-' are allowed");

	/* nothing is written into a directory that fails; nothing at all into a missing one */
	char tmpl[] = "/tmp/check_cloudinit_iso.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	int dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct qc_iso_entry dup[] = {{.path = "a"}, {.path = "a"}};

	ck_assert_int_lt(qc_cloudinit_iso_write(dfd, "seed.iso", dup, 2, NULL, &err), 0);
	ck_assert_int_eq(faccessat(dfd, "seed.iso", F_OK, 0), -1);
	DIR *d = opendir(tmpl);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	ck_assert_int_eq(n, 0);
	ck_assert_int_lt(qc_cloudinit_iso_write(dfd, "missing/seed.iso", dup, 1, NULL, &err), 0);
	close(dfd);
	rmdir(tmpl);
}
END_TEST

START_TEST(write_modes)
{
	/* fsync'd (qc_write_atomic) and temp+rename write the same bytes; no temp file left */
	char tmpl[] = "/tmp/check_cloudinit_iso.XXXXXX";
	struct qc_iso_entry e = {.path = "meta-data", .data = META, .len = sizeof(META) - 1};
	struct qc_iso_opts fast = {.no_fsync = true};
	struct qc_error err = {0};
	cleanup_free uint8_t *mem = NULL;
	cleanup_free char *a = NULL, *b = NULL;
	size_t lm, la, lb;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	int dfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_eq(qc_cloudinit_iso_build(&e, 1, NULL, &mem, &lm, &err), 0);
	ck_assert_int_eq(qc_cloudinit_iso_write(dfd, "a.iso", &e, 1, NULL, &err), 0);
	ck_assert_int_eq(qc_cloudinit_iso_write(dfd, "b.iso", &e, 1, &fast, &err), 0);
	ck_assert_int_eq(qc_cloudinit_iso_write(dfd, "b.iso", &e, 1, &fast, &err), 0); /* replace */
	ck_assert_int_eq(qc_read_file(dfd, "a.iso", 1 << 20, &a, &la, &err), 0);
	ck_assert_int_eq(qc_read_file(dfd, "b.iso", 1 << 20, &b, &lb, &err), 0);
	ck_assert_uint_eq(la, lm);
	ck_assert_uint_eq(lb, lm);
	ck_assert(!memcmp(a, mem, lm) && !memcmp(b, mem, lm));
	ck_assert_int_lt(qc_cloudinit_iso_write(dfd, "no/such/dir.iso", &e, 1, &fast, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file or directory"));
	DIR *d = opendir(tmpl);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)))
		n += de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."));
	closedir(d);
	ck_assert_int_eq(n, 2);
	close(dfd);
	ck_assert_int_eq(qc_rm_rf_at(AT_FDCWD, tmpl, &err), 0);
}
END_TEST

/* ------------------------------------------------------ property tests */

static void need_tool(const char *name)
{
	cleanup_free char *p = qc_find_program(name);

	ck_assert_msg(p != NULL, "%s is not installed (apt-get install %s)", name,
		strcmp(name, "isoinfo") ? name : "genisoimage");
}

/* The ISO's file path, read by isoinfo through Rock Ridge ("-R") or Joliet ("-J"), is data. */
static void assert_iso_file(
	const char *iso, const char *ext, const char *path, const void *data, size_t len)
{
	cleanup_free char *p = qc_xasprintf("/%s", path);
	const char *argv[] = {"isoinfo", ext, "-i", iso, "-x", p, NULL};
	size_t got;
	cleanup_free char *out = unit_spawn_out(argv, &got);

	ck_assert_msg(got == len, "isoinfo %s -x '%s': %zu bytes, expected %zu", ext, p, got, len);
	ck_assert(!memcmp(out, data, len));
}

static const char *const name_parts[] = {"a", "b", "Z", "0", "7", "-", "_", ".", " ", "é", "日本",
	"user", "data", "config", "ünï", "LONG", ";", "*", "?", ":", "\\", "\"", "'", "#", "&", "~",
	"%"};

static void random_name(char *out, size_t max)
{
	size_t want = 1 + (size_t) rand() % (rand() % 8 == 0 ? 250 : 24), n = 0;

	out[0] = 0;
	while (n < want) {
		const char *p = name_parts[rand() % QC_ARRAY_SIZE(name_parts)];

		if (n + strlen(p) > max)
			break;
		memcpy(out + n, p, strlen(p) + 1);
		n += strlen(p);
	}
	if (!strcmp(out, ".") || !strcmp(out, "..") || n == 0)
		strcpy(out, "dot");
}

struct pfile {
	char path[2048];
	uint8_t *data;
	size_t len;
	mode_t mode;
};

START_TEST(roundtrip_random)
{
	need_tool("isoinfo");
	need_tool("xorriso");
	srand(1000 + (unsigned) _i);
	size_t n = 1 + (size_t) rand() % 12;
	struct pfile *f = qc_xzalloc(n * sizeof(*f));
	struct qc_iso_entry *e = qc_xzalloc(n * sizeof(*e));
	char dirs[4][600];
	size_t ndirs = 0;

	for (size_t i = 0; i < n; i++) {
		char name[256];
		int depth;

		/* reuse a directory now and then, to get several files per directory */
		if (ndirs && rand() % 2) {
			strcpy(f[i].path, dirs[rand() % ndirs]);
		} else {
			f[i].path[0] = 0;
			depth = rand() % 8;
			for (int d = 0; d < depth && strlen(f[i].path) < 1400; d++) {
				random_name(name, 40);
				strcat(f[i].path, name);
				strcat(f[i].path, "/");
			}
			if (ndirs < 4)
				strcpy(dirs[ndirs++], f[i].path);
		}
		random_name(name, 255);
		snprintf(f[i].path + strlen(f[i].path), sizeof(f[i].path) - strlen(f[i].path),
			"%s-%zu", name, i);
		if (strlen(strrchr(f[i].path, '/') ? strrchr(f[i].path, '/') + 1 : f[i].path) > 255)
			snprintf(f[i].path, sizeof(f[i].path), "f%zu", i);
		if (i == 0) /* one plain ASCII name, so the Joliet check below always runs */
			snprintf(f[i].path, sizeof(f[i].path), "plain-ascii name_0.txt");
		f[i].len = rand() % 5 == 0 ? 0 : (size_t) rand() % (200 * 1024 + 1);
		f[i].data = qc_xmalloc(f[i].len + 1);
		for (size_t j = 0; j < f[i].len; j++)
			f[i].data[j] = (uint8_t) rand();
		f[i].mode = rand() % 2 ? 0644 : 0600;
		e[i] = (struct qc_iso_entry){f[i].path, f[i].data, f[i].len, f[i].mode, false};
	}

	char tmpl[] = "/tmp/check_cloudinit_iso.XXXXXX";
	struct qc_error err = {0};

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	cleanup_free char *iso = qc_xasprintf("%s/seed.iso", tmpl);
	cleanup_free char *ex = qc_xasprintf("%s/x", tmpl);

	ck_assert_msg(qc_cloudinit_iso_write(AT_FDCWD, iso, e, n, NULL, &err) == 0, "%s", err.msg);

	/* isoinfo, through Rock Ridge: every file byte-exact */
	for (size_t i = 0; i < n; i++) {
		assert_iso_file(iso, "-R", f[i].path, f[i].data, f[i].len);
	}

	/* xorriso -find lists exactly the files */
	{
		const char *argv[] = {
			"xorriso", "-indev", iso, "-find", "/", "-type", "f", "--", NULL};
		size_t len;
		cleanup_free char *out = unit_spawn_out(argv, &len);
		size_t lines = 0;

		for (size_t i = 0; i < len; i++)
			lines += out[i] == '\n';
		ck_assert_uint_eq(lines, n);
		for (size_t i = 0; i < n; i++) {
			/* xorriso quotes names in '...', an embedded ' as '"'"' */
			struct qc_buf qb = {0};

			qc_buf_puts(&qb, "'/");
			for (const char *c = f[i].path; *c; c++)
				if (*c == '\'')
					qc_buf_puts(&qb, "'\"'\"'");
				else
					qc_buf_putc(&qb, *c);
			qc_buf_puts(&qb, "'\n");
			cleanup_free char *q = qc_buf_steal(&qb);

			ck_assert_msg(strstr(out, q), "xorriso -find misses %s", q);
		}
	}

	/* xorriso -osirrox extract: bytes and modes */
	{
		const char *argv[] = {
			"xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/", ex, NULL};
		size_t len;

		free(unit_spawn_out(argv, &len));
		for (size_t i = 0; i < n; i++) {
			cleanup_free char *p = qc_xasprintf("%s/%s", ex, f[i].path);
			cleanup_free char *data = NULL;
			size_t dl;
			struct stat st;

			ck_assert_msg(qc_read_file(AT_FDCWD, p, 1 << 20, &data, &dl, &err) == 0,
				"%s", err.msg);
			ck_assert_uint_eq(dl, f[i].len);
			ck_assert(!memcmp(data, f[i].data, dl));
			ck_assert_int_eq(stat(p, &st), 0);
			ck_assert_uint_eq(st.st_mode & 07777, f[i].mode);
		}
	}

	/* Joliet: ASCII paths whose components fit 64 units read back byte-exact */
	for (size_t i = 0; i < n; i++) {
		bool fits = true;
		size_t comp = 0;

		for (const char *c = f[i].path; *c; c++) {
			comp = *c == '/' ? 0 : comp + 1;
			/* Joliet maps * : ; ? \\ to '_' */
			fits = fits && (unsigned char) *c < 0x80 && comp <= 64 &&
			       !strchr("*:;?\\", *c);
		}
		if (!fits)
			continue;
		assert_iso_file(iso, "-J", f[i].path, f[i].data, f[i].len);
	}

	/* Joliet: the tree reads with the same file count */
	{
		const char *argv[] = {"isoinfo", "-J", "-l", "-i", iso, NULL};
		size_t len;
		cleanup_free char *out = unit_spawn_out(argv, &len);
		size_t files = 0;

		for (char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			files += l[0] == '-';
		ck_assert_uint_eq(files, n);
	}

	ck_assert_int_eq(qc_rm_rf_at(AT_FDCWD, tmpl, &err), 0);
	for (size_t i = 0; i < n; i++)
		free(f[i].data);
	free(f);
	free(e);
}
END_TEST

START_TEST(many_files_one_dir)
{
	/* enough records that directories span several blocks, and CE areas too */
	need_tool("isoinfo");
	enum { N = 300 };
	struct qc_iso_entry *e = qc_xzalloc(N * sizeof(*e));
	char(*names)[300] = qc_xzalloc(N * sizeof(*names));
	char tmpl[] = "/tmp/check_cloudinit_iso.XXXXXX";
	struct qc_error err = {0};

	for (int i = 0; i < N; i++) {
		memset(names[i], 'q', 240);
		snprintf(names[i] + 240, 60, "-%03d", i);
		e[i] = (struct qc_iso_entry){.path = names[i], .data = names[i], .len = 244};
	}
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	cleanup_free char *iso = qc_xasprintf("%s/many.iso", tmpl);

	ck_assert_msg(qc_cloudinit_iso_write(AT_FDCWD, iso, e, N, NULL, &err) == 0, "%s", err.msg);
	for (int i = 0; i < N; i += 37) {
		assert_iso_file(iso, "-R", names[i], names[i], 244);
	}
	const char *argv[] = {"isoinfo", "-R", "-l", "-i", iso, NULL};
	size_t len;
	cleanup_free char *out = unit_spawn_out(argv, &len);

	ck_assert_ptr_nonnull(strstr(out, names[N - 1]));
	ck_assert_int_eq(qc_rm_rf_at(AT_FDCWD, tmpl, &err), 0);
	free(e);
	free(names);
}
END_TEST

static Suite *iso_suite(void)
{
	Suite *s = suite_create("iso");
	TCase *t;

	unit_tcase(s, "layout", pvd_fields, svd_joliet, path_tables, dir_records_rock_ridge,
		deterministic, name_collisions, joliet_collisions, bad_input, write_modes, NULL);
	t = unit_tcase(s, "roundtrip", NULL);
	tcase_set_timeout(t, 120);
	tcase_add_loop_test(t, roundtrip_random, 0, 24);
	unit_add_tests(t, many_files_one_dir, NULL);
	return s;
}

UNIT_MAIN(iso_suite)
