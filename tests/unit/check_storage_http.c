/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage/http.c's lazy libcurl: not linked, loaded by the first download,
 * and a clear error naming the Debian package when it cannot be loaded;
 * sha256.c's lazy libcrypto likewise.
 */
#include "config.h"

#include <dlfcn.h>

#include "storage/storage.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static bool curl_mapped(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);

	if (!h)
		return false;
	dlclose(h);
	return true;
}

/* Linking the storage layer does not load libcurl (start-up cost). */
START_TEST(not_loaded_at_start)
{
	ck_assert_msg(!curl_mapped(), "libcurl.so.4 is mapped before any download");
}
END_TEST

/* A file:// GET goes through libcurl, which is then loaded. */
START_TEST(loaded_by_first_download)
{
	struct qc_error err = {0};
	char *dir = unit_mkdtemp();
	char *path = qc_xasprintf("%s/doc", dir);
	char *url = qc_xasprintf("file://%s", path);
	char *got = NULL;
	size_t len = 0;

	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "hello\n", 6), 6);
	close(fd);
	ck_assert(!curl_mapped());
	ck_assert_qc_ok(qc_http_get(url, NULL, 1024, &got, &len, &err), &err);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(got, "hello\n", 6);
	ck_assert(curl_mapped());
	/* the second download reuses the loaded library */
	free(got);
	got = NULL;
	ck_assert_qc_ok(qc_http_get(url, NULL, 1024, &got, &len, &err), &err);
	ck_assert_uint_eq(len, 6);
	free(got);
	free(url);
	free(path);
	unit_rmdir(dir);
}
END_TEST

START_TEST(probe_installed)
{
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_http_curl_probe(NULL, &err), &err);
}
END_TEST

START_TEST(probe_missing_names_package)
{
	struct qc_error err = {0};

	ck_assert_qc_fail(qc_http_curl_probe("libqc-no-such-curl.so.4", &err), &err,
		QC_ERR_UNSUPPORTED, "cannot load libcurl: libqc-no-such-curl.so.4: ");
	unit_assert_contains(
		err.msg, "; install the Debian package libcurl4 (apt-get install libcurl4)");
}
END_TEST

/* libcrypto too is loaded by the first hash, not at start-up. */
START_TEST(crypto_loaded_by_first_hash)
{
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_NOLOAD);
	struct qc_error err = {0};
	struct qc_sha256 *s;
	char hex[QC_SHA256_HEX_LEN + 1];

	ck_assert_msg(h == NULL, "libcrypto.so.3 is mapped before any hash");
	ck_assert_qc_ok(qc_sha256_load(&err), &err);
	s = qc_sha256_new();
	qc_sha256_update(s, "abc", 3);
	qc_sha256_final(s, hex);
	qc_sha256_free(s);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_NOLOAD);
	ck_assert_ptr_nonnull(h);
	dlclose(h);
}
END_TEST

/* A library that loads but is not libcurl: the missing function is named. */
START_TEST(probe_wrong_library)
{
	struct qc_error err = {0};

	ck_assert_qc_fail(qc_http_curl_probe("libz.so.1", &err), &err, QC_ERR_UNSUPPORTED,
		"cannot load libcurl: libz.so.1 has no curl_global_init; install the Debian "
		"package libcurl4 (>= 7.68)");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("storage_http");

	/* crypto_loaded_by_first_hash before any libcurl load: libcurl4 itself links
	 * libcrypto (CK_FORK=no) */
	unit_tcase(s, "dlopen", not_loaded_at_start, crypto_loaded_by_first_hash,
		loaded_by_first_download, probe_installed, probe_missing_names_package,
		probe_wrong_library, NULL);
	return s;
}

UNIT_MAIN(suite)
