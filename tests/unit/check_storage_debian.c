/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage/debian.c: Debian release names and the choice of an image out of
 * a SHA512SUMS file.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"
#include "tests/unit/check_main.h"

#define H64(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define SUM_A H64("aa") H64("aa")
#define SUM_B H64("bb") H64("bb")
#define SUM_C H64("CC") H64("CC")
#define URL "https://example.org/bookworm/latest/SHA512SUMS"

/* What Debian publishes: images, raw disks, tarballs, build info. */
static const char sums[] = SUM_A
	"  debian-12-generic-amd64.qcow2\n" SUM_B "  debian-12-generic-amd64.raw\n" SUM_B
	" *debian-12-generic-arm64.qcow2\r\n" SUM_C "  debian-12-genericcloud-amd64.qcow2\n" SUM_A
	"  debian-12-generic-amd64.json\n" SUM_A "  debian-12-nocloud-ppc64el.qcow2\n" SUM_A
	"  debian-12-generic-amd64-20240211-1657.qcow2\n"
	"not a checksum line\n"
	"\n";

START_TEST(ref_parse)
{
	struct qc_debian_ref r;
	struct qc_error err = {0};
	cleanup_free char *p = NULL;

	ck_assert_int_eq(qc_debian_ref_parse("12", &r, &err), 0);
	ck_assert_str_eq(r.codename, "bookworm");
	ck_assert_str_eq(r.flavour, "generic");
	ck_assert_int_eq(qc_debian_ref_parse("Trixie-genericcloud", &r, &err), 0);
	ck_assert_str_eq(r.version, "13");
	ck_assert_str_eq(r.flavour, "genericcloud");
	p = qc_debian_sums_path(&r);
	ck_assert_str_eq(p, "trixie/latest/SHA512SUMS");
	ck_assert_int_eq(qc_debian_ref_parse("11", &r, &err), -QC_ERR_NOTFOUND);
	ck_assert_str_eq(
		err.msg, "unknown Debian release '11'; known releases: 12 (bookworm), 13 (trixie)");
	ck_assert_int_eq(qc_debian_ref_parse("1", &r, &err), -QC_ERR_NOTFOUND);
	ck_assert_int_eq(qc_debian_ref_parse("bookwormx", &r, &err), -QC_ERR_NOTFOUND);
	ck_assert_int_eq(qc_debian_ref_parse("sid-generic", &r, &err), -QC_ERR_NOTFOUND);
	ck_assert_str_eq(err.msg,
		"unknown Debian release 'sid'; known releases: 12 (bookworm), 13 (trixie)");
	ck_assert_int_eq(qc_debian_ref_parse("12-nocloud", &r, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "debian:12-nocloud: unknown flavour 'nocloud'; use generic "
				  "or genericcloud (e.g. debian:12-genericcloud)");
	ck_assert_int_eq(qc_debian_ref_parse("12-", &r, &err), -QC_ERR_INVALID);
}
END_TEST

START_TEST(select_image)
{
	struct qc_debian_ref r;
	struct qc_ss_item it = {0};
	struct qc_error err = {0};

	ck_assert_int_eq(qc_debian_ref_parse("bookworm", &r, &err), 0);
	ck_assert_int_eq(qc_debian_select(sums, strlen(sums), &r, "x86_64", URL, &it, &err), 0);
	ck_assert_str_eq(it.sha512, SUM_A);
	ck_assert_ptr_null(it.sha256);
	ck_assert_str_eq(it.path, "bookworm/latest/debian-12-generic-amd64.qcow2");
	ck_assert_str_eq(it.name, "bookworm-amd64");
	ck_assert_str_eq(it.release, "bookworm");
	ck_assert_str_eq(it.release_version, "12");
	ck_assert_str_eq(it.version, "sha512:aaaaaaaaaaaa");
	ck_assert_str_eq(it.arch, "amd64");
	qc_ss_item_clear(&it);

	/* binary-mode marker and CRLF */
	ck_assert_int_eq(qc_debian_select(sums, strlen(sums), &r, "arm64", URL, &it, &err), 0);
	ck_assert_str_eq(it.sha512, SUM_B);
	ck_assert_str_eq(it.name, "bookworm-arm64");
	qc_ss_item_clear(&it);

	/* the other flavour; upper-case hex comes out lower-case */
	ck_assert_int_eq(qc_debian_ref_parse("12-genericcloud", &r, &err), 0);
	ck_assert_int_eq(qc_debian_select(sums, strlen(sums), &r, "amd64", URL, &it, &err), 0);
	ck_assert_str_eq(it.sha512, H64("cc") H64("cc"));
	ck_assert_str_eq(it.name, "bookworm-genericcloud-amd64");
	ck_assert_str_eq(it.path, "bookworm/latest/debian-12-genericcloud-amd64.qcow2");
	qc_ss_item_clear(&it);
}
END_TEST

START_TEST(select_errors)
{
	struct qc_debian_ref r;
	struct qc_ss_item it = {0};
	struct qc_error err = {0};
	static const char twice[] =
		SUM_A "  debian-12-generic-amd64.qcow2\n" SUM_B "  debian-12-generic-amd64.qcow2\n";
	static const char same_twice[] =
		SUM_A "  debian-12-generic-amd64.qcow2\n" SUM_A "  debian-12-generic-amd64.qcow2\n";
	static const char nul[] = "x\n\0" SUM_A "  debian-12-generic-amd64.qcow2\n";

	ck_assert_int_eq(qc_debian_ref_parse("12", &r, &err), 0);
	ck_assert_int_eq(qc_debian_select(sums, strlen(sums), &r, "ppc64el", URL, &it, &err),
		-QC_ERR_NOTFOUND);
	ck_assert_str_eq(err.msg,
		"Debian 12 (bookworm) has no generic image for arch ppc64el (ppc64le): " URL
		" does not list debian-12-generic-ppc64el.qcow2; it lists the generic image "
		"for: amd64, arm64");
	ck_assert_int_eq(qc_debian_select("", 0, &r, "amd64", URL, &it, &err), -QC_ERR_NOTFOUND);
	ck_assert_str_eq(err.msg, "Debian 12 (bookworm): " URL " lists no generic qcow2 image "
				  "(want debian-12-generic-amd64.qcow2)");
	ck_assert_int_eq(qc_debian_select(twice, strlen(twice), &r, "amd64", URL, &it, &err),
		-QC_ERR_CHECKSUM);
	ck_assert_str_eq(err.msg, URL " lists debian-12-generic-amd64.qcow2 twice, with "
				      "different SHA-512s; refusing it");
	ck_assert_int_eq(
		qc_debian_select(same_twice, strlen(same_twice), &r, "amd64", URL, &it, &err), 0);
	qc_ss_item_clear(&it);
	/* nothing after a NUL counts */
	ck_assert_int_eq(qc_debian_select(nul, sizeof(nul) - 1, &r, "amd64", URL, &it, &err),
		-QC_ERR_NOTFOUND);
	/* a short hash, a missing separator, a name with a path */
	{
		static const char bad[] = H64("aa") "  debian-12-generic-amd64.qcow2\n" SUM_A
						    "debian-12-generic-amd64.qcow2\n" SUM_A
						    "  ../debian-12-generic-amd64.qcow2\n";

		ck_assert_int_eq(qc_debian_select(bad, strlen(bad), &r, "amd64", URL, &it, &err),
			-QC_ERR_NOTFOUND);
	}
	ck_assert_int_eq(
		qc_debian_select(sums, strlen(sums), &r, "sparc", URL, &it, &err), -QC_ERR_INVALID);
}
END_TEST

/* Whatever bytes SHA512SUMS holds, select neither crashes nor reads past len. */
START_TEST(select_survives_garbage)
{
	struct qc_debian_ref r;
	struct qc_error err = {0};
	char buf[400];
	unsigned seed = 1;

	ck_assert_int_eq(qc_debian_ref_parse("12", &r, &err), 0);
	for (int round = 0; round < 2000; round++) {
		struct qc_ss_item it = {0};
		size_t n = (size_t) (rand_r(&seed) % sizeof(buf));

		for (size_t i = 0; i < n; i++) {
			int k = rand_r(&seed) % 4;

			buf[i] = k == 0 ? ' ' : k == 1 ? '\n' : k == 2 ? 'a' : (char) rand_r(&seed);
		}
		if (qc_debian_select(buf, n, &r, "amd64", URL, &it, &err) == 0)
			ck_assert(qc_sha512_valid(it.sha512));
		qc_ss_item_clear(&it);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("storage_debian");

	unit_tcase(
		s, "pure", ref_parse, select_image, select_errors, select_survives_garbage, NULL);
	return s;
}

UNIT_MAIN(suite)
