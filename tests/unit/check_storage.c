/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage/, the pure parts: simplestreams selection, REF parsing, arch
 * names, qemu-img info JSON parsing, SHA-256, xz/gz streaming decompression.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lzma.h>
#include <zlib.h>

#include "storage/storage.h"
#include "tests/unit/check_main.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define SHA_D "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

/* Two amd64 versions with disk1.img, a newer one without, a newer arm64 one. */
static const char products[] =
	"{\"content_id\":\"com.ubuntu.cloud:released:download\",\"format\":\"products:1.0\","
	"\"products\":{"
	"\"com.ubuntu.cloud:server:24.04:amd64\":{\"arch\":\"amd64\",\"release\":\"noble\","
	"\"version\":\"24.04\",\"aliases\":\"24.04,n,noble,lts\",\"release_codename\":\"Noble "
	"Numbat\",\"versions\":{"
	"\"20240101\":{\"items\":{\"disk1.img\":{\"ftype\":\"disk1.img\",\"path\":\"a/old.img\","
	"\"sha256\":\"" SHA_A "\",\"size\":100}}},"
	"\"20240423.1\":{\"items\":{\"disk1.img\":{\"ftype\":\"disk1.img\",\"path\":\"a/new.img\","
	"\"sha256\":\"" SHA_B "\",\"size\":200},\"manifest\":{\"ftype\":\"manifest\",\"path\":"
	"\"a/m\"}}},"
	"\"20240423\":{\"items\":{\"disk1.img\":{\"ftype\":\"disk1.img\",\"path\":\"a/mid.img\","
	"\"sha256\":\"" SHA_C "\",\"size\":150}}},"
	"\"20240501\":{\"items\":{\"tar.gz\":{\"ftype\":\"tar.gz\",\"path\":\"a/x.tgz\"}}}}},"
	"\"com.ubuntu.cloud:server:24.04:arm64\":{\"arch\":\"arm64\",\"release\":\"noble\","
	"\"version\":\"24.04\",\"versions\":{"
	"\"20240601\":{\"items\":{\"disk1.img\":{\"ftype\":\"disk1.img\",\"path\":\"b/arm.img\","
	"\"sha256\":\"" SHA_D "\",\"size\":300}}}}},"
	"\"com.ubuntu.cloud:server:22.04:ppc64el\":{\"arch\":\"ppc64el\",\"release\":\"jammy\","
	"\"version\":\"22.04\",\"versions\":{"
	"\"20230101\":{\"items\":{\"root.tar.xz\":{\"ftype\":\"root.tar.xz\",\"path\":\"c\"}}}}}"
	"}}";

static const char index_json[] =
	"{\"format\":\"index:1.0\",\"index\":{"
	"\"com.ubuntu.cloud:released:aws\":{\"datatype\":\"image-ids\",\"path\":"
	"\"streams/v1/aws.json\",\"products\":[\"com.ubuntu.cloud:server:24.04:amd64\"]},"
	"\"com.ubuntu.cloud:released:download\":{\"datatype\":\"image-downloads\",\"path\":"
	"\"streams/v1/com.ubuntu.cloud:released:download.json\",\"products\":["
	"\"com.ubuntu.cloud:server:24.04:amd64\"]}}}";

static void select_ok(
	const char *release, const char *arch, const char *want_path, const char *want_version)
{
	struct qc_ss_item it;
	struct qc_error err = {0};

	ck_assert_msg(qc_ss_select(products, strlen(products), release, arch, &it, &err) == 0,
		"%s/%s: %s", release, arch, err.msg);
	ck_assert_str_eq(it.path, want_path);
	ck_assert_str_eq(it.version, want_version);
	ck_assert_str_eq(it.ftype, "disk1.img");
	ck_assert_str_eq(it.release, "noble");
	qc_ss_item_clear(&it);
}

START_TEST(ss_select_newest_for_arch)
{
	struct qc_ss_item it;

	/* 20240423.1 > 20240423 > 20240101; 20240501 has no disk1.img. */
	select_ok("noble", "amd64", "a/new.img", "20240423.1");
	select_ok("24.04", "x86_64", "a/new.img", "20240423.1");
	select_ok("n", "amd64", "a/new.img", "20240423.1");
	select_ok("NOBLE", "amd64", "a/new.img", "20240423.1");
	select_ok("noble", "aarch64", "b/arm.img", "20240601");
	select_ok("noble", "arm64", "b/arm.img", "20240601");

	ck_assert_int_eq(qc_ss_select(products, strlen(products), "noble", "amd64", &it, NULL), 0);
	ck_assert_str_eq(it.sha256, SHA_B);
	ck_assert_uint_eq(it.size, 200);
	ck_assert_str_eq(it.arch, "amd64");
	ck_assert_str_eq(it.product, "com.ubuntu.cloud:server:24.04:amd64");
	ck_assert_str_eq(it.release_version, "24.04");
	ck_assert_str_eq(it.codename, "Noble Numbat");
	qc_ss_item_clear(&it);
}
END_TEST

/* qc_ss_select() of RELEASE/ARCH in products fails with code and exactly msg. */
static void ss_select_fails(const char *release, const char *arch, int code, const char *msg)
{
	struct qc_ss_item it;
	struct qc_error err = {0};

	ck_assert_int_eq(qc_ss_select(products, strlen(products), release, arch, &it, &err), -code);
	ck_assert_str_eq(err.msg, msg);
}

START_TEST(ss_select_errors)
{
	struct qc_ss_item it;
	struct qc_error err = {0};

	ss_select_fails("oracular", "amd64", QC_ERR_NOTFOUND,
		"release 'oracular' is not in the stream; known releases: noble, jammy");
	ss_select_fails("noble", "ppc64le", QC_ERR_NOTFOUND,
		"release 'noble' has no disk1.img for arch ppc64el (ppc64le); arches offered: "
		"amd64, arm64");
	/* jammy exists for ppc64el, but without a disk1.img item. */
	ss_select_fails("jammy", "ppc64el", QC_ERR_NOTFOUND,
		"release 'jammy' has no disk1.img for arch ppc64el (ppc64le); arches offered: "
		"none");

	ck_assert_int_eq(qc_ss_select(products, strlen(products), "noble", "sparc", &it, &err),
		-QC_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown arch 'sparc'"));

	ck_assert_int_eq(
		qc_ss_select("{\"products\": [", 14, "noble", "amd64", &it, &err), -QC_ERR_JSON);
	ck_assert_ptr_nonnull(strstr(err.msg, "stream products: "));

	ck_assert_int_eq(qc_ss_select("{}", 2, "noble", "amd64", &it, &err), -QC_ERR_JSON);
	ck_assert_str_eq(err.msg, "stream products: no \"products\" object");
}
END_TEST

/* Paths a stream may not hand us (JSON-escaped). */
static const char *const bad_paths[] = {
	"", "/etc/passwd", "a/../../b", "http://evil.example/x.img", "a\\nb", "a\\u007fb",
};

START_TEST(ss_select_rejects_bad_items)
{
	const char *evil =
		"{\"products\":{\"p\":{\"arch\":\"amd64\",\"release\":\"x\",\"versions\":{"
		"\"1\":{\"items\":{\"d\":{\"ftype\":\"disk1.img\",\"path\":\"../../etc/"
		"passwd\",\"sha256\":\"" SHA_A "\",\"size\":1}}}}}}}";
	const char *nosha =
		"{\"products\":{\"p\":{\"arch\":\"amd64\",\"release\":\"x\",\"versions\":{"
		"\"1\":{\"items\":{\"d\":{\"ftype\":\"disk1.img\",\"path\":\"a\","
		"\"sha256\":\"xyz\",\"size\":1}}}}}}}";
	struct qc_ss_item it;
	struct qc_error err = {0};

	ck_assert_int_eq(qc_ss_select(evil, strlen(evil), "x", "amd64", &it, &err), -QC_ERR_JSON);
	ck_assert_str_eq(err.msg, "stream products: bad item path '../../etc/passwd' (want a "
				  "relative path below the stream)");
	/* Empty, a URL of its own, a control character: refused the same way. */
	for (size_t i = 0; i < QC_ARRAY_SIZE(bad_paths); i++) {
		cleanup_free char *doc = qc_xasprintf(
			"{\"products\":{\"p\":{\"arch\":\"amd64\",\"release\":\"x\",\"versions\":{"
			"\"1\":{\"items\":{\"d\":{\"ftype\":\"disk1.img\",\"path\":\"%s\","
			"\"sha256\":\"" SHA_A "\",\"size\":1}}}}}}}",
			bad_paths[i]);

		ck_assert_int_eq(qc_ss_select(doc, strlen(doc), "x", "amd64", &it, &err), -QC_ERR_JSON);
		ck_assert_ptr_nonnull(strstr(err.msg, "stream products: bad item path"));
	}
	ck_assert_int_eq(qc_ss_select(nosha, strlen(nosha), "x", "amd64", &it, &err), -QC_ERR_JSON);
	ck_assert_str_eq(err.msg, "stream products: p version 1: disk1.img has no valid sha256");
}
END_TEST

/* Every prefix and many one-byte mutations: an answer or an error, never a crash. */
START_TEST(ss_select_survives_garbage)
{
	size_t n = strlen(products);
	char *buf = qc_xmalloc(n + 1);
	unsigned seed = 12345;
	struct qc_ss_item it;
	char *path = NULL;

	for (size_t len = 0; len < n; len++) {
		memcpy(buf, products, len);
		ck_assert_int_lt(qc_ss_select(buf, len, "noble", "amd64", &it, NULL), 0);
	}
	for (int i = 0; i < 3000; i++) {
		memcpy(buf, products, n);
		seed = seed * 1103515245u + 12345u;
		buf[(seed >> 8) % n] = (char) (seed >> 24);
		if (qc_ss_select(buf, n, "noble", "amd64", &it, NULL) == 0) {
			ck_assert_ptr_nonnull(it.path);
			ck_assert(qc_sha256_valid(it.sha256));
			qc_ss_item_clear(&it);
		}
		if (qc_ss_index_products_path(buf, n, "ubuntu", &path, NULL) == 0)
			free(path);
	}
	free(buf);
}
END_TEST

START_TEST(ss_index)
{
	struct qc_error err = {0};
	char *path = NULL;

	ck_assert_int_eq(
		qc_ss_index_products_path(index_json, strlen(index_json), "ubuntu", &path, &err),
		0);
	ck_assert_str_eq(path, "streams/v1/com.ubuntu.cloud:released:download.json");
	free(path);

	ck_assert_int_lt(qc_ss_index_products_path("{\"index\": {", 11, "ubuntu", &path, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "stream index: "));
	ck_assert_int_eq(qc_ss_index_products_path("{\"format\":\"index:1.0\",\"index\":{}}", 33,
				 "ubuntu", &path, &err),
		-QC_ERR_NOTFOUND);
	ck_assert_str_eq(err.msg, "stream index: no image-downloads content listed");
	ck_assert_int_eq(
		qc_ss_index_products_path("{\"format\":\"index:2.0\"}", 22, "ubuntu", &path, &err),
		-QC_ERR_JSON);
	ck_assert_str_eq(err.msg, "stream index: format 'index:2.0' is not supported (want "
				  "index:1.0)");
	ck_assert_int_eq(qc_ss_index_products_path("[1]", 3, "ubuntu", &path, &err), -QC_ERR_JSON);

	/* The products path must stay below the stream (fuzz finding: an empty path). */
	for (size_t i = 0; i < QC_ARRAY_SIZE(bad_paths); i++) {
		cleanup_free char *doc = qc_xasprintf(
			"{\"format\":\"index:1.0\",\"index\":{\"a:download\":{"
			"\"datatype\":\"image-downloads\",\"path\":\"%s\"}}}",
			bad_paths[i]);

		path = NULL;
		ck_assert_int_eq(qc_ss_index_products_path(doc, strlen(doc), "ubuntu", &path, &err),
			-QC_ERR_JSON);
		ck_assert_ptr_null(path);
		ck_assert_ptr_nonnull(strstr(err.msg, "stream index: bad products path"));
	}
}
END_TEST

START_TEST(ss_ref)
{
	struct qc_ss_ref r = {0};
	struct qc_error err = {0};

	ck_assert_int_eq(qc_ss_ref_parse("ubuntu:24.04", &r, &err), 0);
	ck_assert_str_eq(r.distro, "ubuntu");
	ck_assert_str_eq(r.release, "24.04");
	qc_ss_ref_clear(&r);
	ck_assert_int_eq(qc_ss_ref_parse("Ubuntu:noble", &r, &err), 0);
	ck_assert_str_eq(r.distro, "ubuntu");
	ck_assert_str_eq(r.release, "noble");
	qc_ss_ref_clear(&r);
	ck_assert_int_eq(qc_ss_ref_parse("jammy", &r, &err), 0);
	ck_assert_str_eq(r.distro, "ubuntu");
	qc_ss_ref_clear(&r);

	ck_assert_int_eq(qc_ss_ref_parse("ubuntu:", &r, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(
		err.msg, "image reference 'ubuntu:': use DISTRO:RELEASE, e.g. ubuntu:24.04");
	ck_assert_int_eq(qc_ss_ref_parse("", &r, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_ss_ref_parse("ubuntu:no/ble", &r, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "image reference 'ubuntu:no/ble': bad character in release");
}
END_TEST

START_TEST(arch_names)
{
	ck_assert_str_eq(qc_storage_arch_canonical("amd64"), "x86_64");
	ck_assert_str_eq(qc_storage_arch_canonical("x86_64"), "x86_64");
	ck_assert_str_eq(qc_storage_arch_canonical("arm64"), "aarch64");
	ck_assert_str_eq(qc_storage_arch_canonical("ppc64el"), "ppc64le");
	ck_assert_str_eq(qc_storage_arch_debian("aarch64"), "arm64");
	ck_assert_str_eq(qc_storage_arch_debian("ppc64le"), "ppc64el");
	ck_assert_ptr_null(qc_storage_arch_canonical("vax"));
	ck_assert_ptr_nonnull(qc_storage_arch_host());
}
END_TEST

START_TEST(img_info_parse)
{
	static const char chain[] =
		"[{\"backing-filename-format\":\"qcow2\",\"virtual-size\":67108864,\"filename\":"
		"\"ov.qcow2\",\"cluster-size\":65536,\"format\":\"qcow2\",\"actual-size\":200704,"
		"\"format-specific\":{\"type\":\"qcow2\",\"data\":{\"corrupt\":false}},"
		"\"full-backing-filename\":\"/i/base.qcow2\",\"backing-filename\":\"base.qcow2\","
		"\"dirty-flag\":false},"
		"{\"virtual-size\":1048576,\"filename\":\"/i/base.qcow2\",\"format\":\"raw\","
		"\"actual-size\":4096,\"dirty-flag\":true,\"format-specific\":{\"type\":\"qcow2\","
		"\"data\":{\"corrupt\":true}}}]";
	struct qc_img_info *info = NULL;
	struct qc_error err = {0};

	ck_assert_int_eq(qc_img_info_parse(chain, strlen(chain), &info, &err), 0);
	ck_assert_uint_eq(info->n_chain, 2);
	ck_assert_str_eq(info->chain[0].format, "qcow2");
	ck_assert_uint_eq(info->chain[0].virtual_size, 67108864);
	ck_assert_uint_eq(info->chain[0].actual_size, 200704);
	ck_assert_uint_eq(info->chain[0].cluster_size, 65536);
	ck_assert_str_eq(info->chain[0].backing, "/i/base.qcow2");
	ck_assert_str_eq(info->chain[0].backing_format, "qcow2");
	ck_assert(!info->chain[0].dirty && !info->chain[0].corrupt);
	ck_assert_str_eq(info->chain[1].format, "raw");
	ck_assert_ptr_null(info->chain[1].backing);
	ck_assert(info->chain[1].dirty && info->chain[1].corrupt);
	qc_img_info_free(info);

	ck_assert_int_eq(qc_img_info_parse("{\"format\":\"raw\"}", 16, &info, &err), -QC_ERR_JSON);
	ck_assert_ptr_nonnull(strstr(err.msg, "qemu-img info: "));
	ck_assert_ptr_nonnull(strstr(err.msg, "virtual-size"));
	ck_assert_int_eq(qc_img_info_parse("[]", 2, &info, &err), -QC_ERR_JSON);
	ck_assert_str_eq(err.msg, "qemu-img info: empty backing chain");
	ck_assert_int_lt(qc_img_info_parse("nope", 4, &info, &err), 0);
}
END_TEST

START_TEST(sha256_vectors)
{
	struct qc_sha256 *s = qc_sha256_new();
	char hex[65];

	qc_sha256_update(s, "abc", 3);
	qc_sha256_final(s, hex);
	qc_sha256_free(s);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	s = qc_sha256_new();
	qc_sha256_final(s, hex);
	qc_sha256_free(s);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert(qc_sha256_valid(SHA_A));
	ck_assert(qc_sha256_valid(
		"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	ck_assert(!qc_sha256_valid("abc"));
	ck_assert(!qc_sha256_valid(SHA_A "0"));
	ck_assert(!qc_sha256_valid(
		"gaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}
END_TEST

/* FIPS 180-2 examples: SHA-512 of "abc" and of nothing, fed in pieces. */
START_TEST(sha512_vectors)
{
	struct qc_sha256 *s = qc_sha512_new();
	char hex[QC_SHA512_HEX_LEN + 1];

	qc_sha256_update(s, "a", 1);
	qc_sha256_update(s, "bc", 2);
	qc_sha512_final(s, hex);
	qc_sha256_free(s);
	ck_assert_str_eq(hex, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
			      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	s = qc_sha512_new();
	qc_sha512_final(s, hex);
	qc_sha256_free(s);
	ck_assert_str_eq(hex, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
			      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
	ck_assert(qc_sha512_valid(hex));
	ck_assert(!qc_sha512_valid(SHA_A));
	ck_assert(!qc_sha512_valid(NULL));
}
END_TEST

/* ---- decompression round trips through real liblzma / zlib encoders */

#define PLAIN_LEN (3u << 20) /* several decoder chunks */

static unsigned char *plain_data(void)
{
	unsigned char *p = qc_xmalloc(PLAIN_LEN);

	for (size_t i = 0; i < PLAIN_LEN; i++)
		p[i] = (unsigned char) ((i * 2654435761u) >> 13);
	return p;
}

static size_t xz_compress(const unsigned char *in, size_t n, unsigned char **out)
{
	size_t cap = lzma_stream_buffer_bound(n), pos = 0;

	*out = qc_xmalloc(cap);
	ck_assert_int_eq(lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, NULL, in, n, *out, &pos, cap),
		LZMA_OK);
	return pos;
}

static size_t gz_compress(const unsigned char *in, size_t n, unsigned char **out)
{
	z_stream z;
	size_t cap = n + n / 100 + 1024;

	memset(&z, 0, sizeof(z));
	*out = qc_xmalloc(cap);
	ck_assert_int_eq(
		deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *) in;
	z.avail_in = (uInt) n;
	z.next_out = *out;
	z.avail_out = (uInt) cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

/* The bound run_decompress applies (NULL: none). */
static const struct qc_bound *test_bound;

/* Decompress buf[0..n) through temp files; returns the result code, output in *ret. */
static int run_decompress(const unsigned char *buf, size_t n, unsigned char **ret, size_t *ret_len,
	char hex[65], struct qc_error *err)
{
	char src[] = "/tmp/qc-check-storage-src.XXXXXX", dst[] = "/tmp/qc-check-storage-dst.XXXXXX";
	int in = mkostemp(src, O_CLOEXEC), out = mkostemp(dst, O_CLOEXEC), r;
	struct qc_sha256 *s = qc_sha256_new();
	off_t len;

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	unlink(src);
	unlink(dst);
	ck_assert_int_eq(qc_write_all(in, buf, n, NULL), 0);
	lseek(in, 0, SEEK_SET);
	r = qc_decompress_fd(
		qc_compression_detect(buf, n), in, out, s, "test.img", test_bound, NULL, NULL, err);
	qc_sha256_final(s, hex);
	qc_sha256_free(s);
	len = lseek(out, 0, SEEK_END);
	*ret = qc_xmalloc((size_t) len + 1);
	ck_assert_int_eq(pread(out, *ret, (size_t) len, 0), len);
	*ret_len = (size_t) len;
	close(in);
	close(out);
	return r;
}

static void round_trip(bool xz)
{
	unsigned char *plain = plain_data(), *comp = NULL, *back = NULL;
	size_t clen =
		xz ? xz_compress(plain, PLAIN_LEN, &comp) : gz_compress(plain, PLAIN_LEN, &comp);
	size_t blen = 0;
	char hex[65], want[65];
	struct qc_sha256 *s = qc_sha256_new();
	struct qc_error err = {0};

	ck_assert_int_eq(qc_compression_detect(comp, clen), xz ? QC_COMP_XZ : QC_COMP_GZIP);
	ck_assert_msg(run_decompress(comp, clen, &back, &blen, hex, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(blen, PLAIN_LEN);
	ck_assert(memcmp(back, plain, PLAIN_LEN) == 0);
	/* The hash is over the compressed bytes, as published. */
	qc_sha256_update(s, comp, clen);
	qc_sha256_final(s, want);
	qc_sha256_free(s);
	ck_assert_str_eq(hex, want);
	free(back);

	/* Truncated: a clear error, never a silently short image. */
	ck_assert_int_eq(run_decompress(comp, clen / 2, &back, &blen, hex, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, xz ? "test.img: xz: compressed data is truncated"
				     : "test.img: gzip: compressed data is truncated");
	free(back);

	/* Corrupt in the middle. */
	comp[clen / 2] ^= 0xff;
	comp[clen / 2 + 1] ^= 0xff;
	ck_assert_int_eq(run_decompress(comp, clen, &back, &blen, hex, &err), -QC_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, xz ? "test.img: xz: " : "test.img: gzip: "));
	free(back);
	free(comp);
	free(plain);
}

START_TEST(decompress_xz)
{
	round_trip(true);
}
END_TEST

START_TEST(decompress_gz)
{
	round_trip(false);
}
END_TEST

START_TEST(decompress_plain)
{
	unsigned char *back = NULL;
	size_t blen = 0;
	char hex[65];

	ck_assert_int_eq(qc_compression_detect("QFI\xfb", 4), QC_COMP_NONE);
	ck_assert_int_eq(
		run_decompress((const unsigned char *) "abc", 3, &back, &blen, hex, NULL), 0);
	ck_assert_uint_eq(blen, 3);
	ck_assert(memcmp(back, "abc", 3) == 0);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	free(back);
}
END_TEST

/* A bomb: small compressed, large output; it stops at the bound, whichever limit it is. */
START_TEST(decompress_bounded)
{
	unsigned char *zero = qc_xzalloc(PLAIN_LEN), *comp = NULL, *back = NULL;
	struct qc_bound b = {.max = 1u << 20, .max_size = 1u << 20, .room = 1ull << 40, .margin = 1u << 20};
	struct qc_error err = {0};
	size_t blen = 0;
	char hex[65];

	test_bound = &b;
	for (int k = 0; k < 3; k++) {
		size_t clen = k == 0 ? xz_compress(zero, PLAIN_LEN, &comp)
				     : k == 1 ? gz_compress(zero, PLAIN_LEN, &comp)
					      : (comp = qc_xmalloc(PLAIN_LEN),
						memcpy(comp, zero, PLAIN_LEN), PLAIN_LEN);

		b.max = b.max_size = 1u << 20;
		b.room = 1ull << 40;
		ck_assert_int_eq(run_decompress(comp, clen, &back, &blen, hex, &err), -EFBIG);
		ck_assert_str_eq(err.msg, "test.img decompresses to more than 1 MiB (1048576 "
					  "bytes), the --max-size limit; nothing was kept; give "
					  "a larger --max-size if this image really is that big");
		ck_assert_uint_le(blen, 1u << 20);
		free(back);
		/* Free space is the smaller limit: ENOSPC, naming it. */
		b.room = b.max = 2u << 20;
		b.max_size = 1ull << 30;
		ck_assert_int_eq(run_decompress(comp, clen, &back, &blen, hex, &err), -ENOSPC);
		ck_assert_ptr_nonnull(strstr(err.msg, "more than the 2 MiB (2097152 bytes) the "
						      "file system of images/ has free (keeping 1 MiB spare); nothing was kept: No space left on device"));
		free(back);
		/* Exactly at the bound is fine. */
		b.max = b.max_size = PLAIN_LEN;
		ck_assert_msg(run_decompress(comp, clen, &back, &blen, hex, &err) == 0, "%s",
			err.msg);
		ck_assert_uint_eq(blen, PLAIN_LEN);
		free(back);
		free(comp);
	}
	test_bound = NULL;
	free(zero);
}
END_TEST

/*
 * An .xz whose LZMA2 dictionary is 1.5 GiB: the decoder would allocate
 * that much.  Made by patching the dictionary-size byte of a small
 * stream's block header (and its CRC32): encoding with such a dictionary
 * would itself need gigabytes.
 */
START_TEST(decompress_xz_memlimit)
{
	unsigned char *plain = plain_data(), *comp = NULL, *back = NULL;
	size_t clen = xz_compress(plain, 4096, &comp), blen = 0, p = 2;
	unsigned char *h = comp + 12; /* the block header, after the stream header */
	size_t hsize = ((size_t) h[0] + 1) * 4;
	struct qc_error err = {0};
	uint32_t crc;
	char hex[65];

	ck_assert_uint_gt(clen, 12 + hsize);
	if (h[1] & 0x40) /* compressed size */
		while (h[p++] & 0x80)
			;
	if (h[1] & 0x80) /* uncompressed size */
		while (h[p++] & 0x80)
			;
	ck_assert_uint_eq(h[p], 0x21); /* LZMA2 */
	ck_assert_uint_eq(h[p + 1], 1); /* one byte of properties */
	h[p + 2] = 37; /* (2 | 1) << (37 / 2 + 11) = 1.5 GiB */
	crc = lzma_crc32(h, hsize - 4, 0);
	for (int i = 0; i < 4; i++)
		h[hsize - 4 + i] = (unsigned char) (crc >> (8 * i));
	ck_assert_int_eq(run_decompress(comp, clen, &back, &blen, hex, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "test.img: xz: decoding needs 1536 MiB of memory, more than "
				  "the 256 MiB allowed (it was compressed with a huge "
				  "dictionary); recompress it with xz -9 or less");
	ck_assert_uint_eq(blen, 0);
	free(back);
	free(comp);
	free(plain);
}
END_TEST

START_TEST(url_schemes)
{
	struct qc_error err = {0};

	ck_assert_int_eq(qc_http_check_url("https://x/", false, &err), 0);
	ck_assert_int_eq(qc_http_check_url("file:///x", false, &err), 0);
	ck_assert_int_eq(qc_http_check_url("http://x/", true, &err), 0);
	ck_assert_int_eq(qc_http_check_url("http://x/", false, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "'http://x/': plain http is not allowed here; use https://");
	ck_assert_int_eq(qc_http_check_url("ftp://x/", true, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(
		err.msg, "'ftp://x/': unsupported URL scheme; use https://, http:// or file://");
}
END_TEST

/* refs.c: one pass over the VMs, a VM counted by image name or by backing path. */
struct refs_fake {
	const char *root;
	int calls;
};

static void fake_backings(
	int vms_dfd, const char *vm, struct qc_strv *images, struct qc_strv *paths, void *opaque)
{
	struct refs_fake *f = opaque;

	(void) vms_dfd;
	f->calls++;
	if (!strcmp(vm, "a") || qc_str_has_prefix(vm, ".create-"))
		qc_strv_push(images, "noble");
	if (!strcmp(vm, "b"))
		qc_strv_push_take(paths, qc_xasprintf("%s/images/jammy.qcow2", f->root));
	qc_strv_push(paths, "/elsewhere/noble.qcow2"); /* not the catalog's file */
}

START_TEST(refs_users)
{
	char tmpl[] = "/tmp/qc-refs-XXXXXX";
	char *root = mkdtemp(tmpl);
	const char *names[] = {"noble", "jammy", "none"};
	struct refs_fake f = {.root = root};
	struct qc_error err = {0};
	cleanup_free char *vms = NULL;
	char **users[3] = {0};
	char *j;
	int dfd;

	ck_assert_ptr_nonnull(root);
	vms = qc_xasprintf("%s/vms", root);
	ck_assert_int_eq(mkdir(vms, 0700), 0);
	dfd = open(vms, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(mkdirat(dfd, "a", 0700), 0);
	ck_assert_int_eq(mkdirat(dfd, "b", 0700), 0);
	ck_assert_int_eq(mkdirat(dfd, ".create-c.123", 0700), 0);
	ck_assert_int_eq(qc_refs_users(root, dfd, names, 3, fake_backings, &f, users, &err), 0);
	ck_assert_int_eq(f.calls, 3); /* each VM asked once for all images */
	j = qc_strv_join(users[0], ",");
	ck_assert_str_eq(j, ".create-c.123,a"); /* sorted */
	free(j);
	j = qc_strv_join(users[1], ",");
	ck_assert_str_eq(j, "b");
	free(j);
	ck_assert_ptr_null(users[2][0]);
	for (int i = 0; i < 3; i++)
		qc_strv_free(users[i]);

	/* no vms/ yet: nobody uses anything */
	ck_assert_int_eq(qc_refs_users(root, -1, names, 3, fake_backings, &f, users, &err), 0);
	ck_assert_int_eq(f.calls, 3);
	ck_assert_ptr_null(users[0][0]);
	for (int i = 0; i < 3; i++)
		qc_strv_free(users[i]);
	close(dfd);
	ck_assert_int_eq(qc_rm_rf_at(AT_FDCWD, root, &err), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("storage");

	unit_tcase(s, "pure", ss_select_newest_for_arch, decompress_bounded, decompress_xz_memlimit,
		ss_select_errors, ss_select_rejects_bad_items, ss_select_survives_garbage, ss_index,
		ss_ref, arch_names, img_info_parse, sha256_vectors, sha512_vectors, decompress_xz, decompress_gz,
		decompress_plain, url_schemes, refs_users, NULL);
	return s;
}

UNIT_MAIN(suite)
