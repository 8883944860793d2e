/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simplestreams parsers a (possibly hostile) image server feeds:
 * index.json -> products path (qc_ss_index_products_path) and products ->
 * the chosen image (qc_ss_select); and Debian's SHA512SUMS -> the chosen
 * image (qc_debian_select).  Input: "INDEX\n---8<---\nPRODUCTS" (no
 * separator: the same bytes serve as both; PRODUCTS doubles as SHA512SUMS).
 * What comes out must be safe to use: a relative path without "..", a
 * lowercase 64-hex SHA-256 or 128-hex SHA-512.
 */
#include "config.h"

#include <ctype.h>

#include "storage/storage.h"
#include "tests/fuzz/fuzz.h"

static void check_path(const char *p)
{
	FUZZ_CHECK(
		p && *p && p[0] != '/' && !strstr(p, ".."), "unsafe path '%s'", p ? p : "(null)");
	FUZZ_CHECK(!strstr(p, "://"), "path is a URL: '%s'", p);
	for (const char *c = p; *c; c++)
		FUZZ_CHECK((unsigned char) *c >= 0x20 && *c != 0x7f, "control character in path");
}

/* A chosen image: a safe path, the checksum len lowercase hex digits, its fields. */
static void check_item(const struct qc_ss_item *it, const char *sum, size_t len)
{
	check_path(it->path);
	FUZZ_CHECK(sum && strlen(sum) == len, "checksum of %zu hex digits", len);
	for (const char *c = sum; *c; c++)
		FUZZ_CHECK(isdigit((unsigned char) *c) || (*c >= 'a' && *c <= 'f'),
			"checksum '%s' not lowercase hex", sum);
	FUZZ_CHECK(it->product && it->version && it->arch, "item fields missing");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const releases[] = {"24.04", "noble", "12", "bookworm", "x"};
	static const char *const arches[] = {"x86_64", "amd64", "aarch64", "ppc64el"};
	struct qc_error err = {0};
	size_t rest, n = fuzz_split(data, size, &rest);
	const char *prod = (const char *) data + (rest < size ? rest : 0);
	size_t prod_len = rest < size ? size - rest : size;
	char *path = NULL;
	int r;

	r = qc_ss_index_products_path((const char *) data, n, "ubuntu", &path, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		check_path(path);
	free(path);

	for (size_t i = 0; i < QC_ARRAY_SIZE(releases); i++) {
		struct qc_ss_item it = {0};

		r = qc_ss_select(
			prod, prod_len, releases[i], arches[i % QC_ARRAY_SIZE(arches)], &it, &err);
		fuzz_check_error(r, &err);
		if (r < 0)
			continue;
		check_item(&it, it.sha256, QC_SHA256_HEX_LEN);
		qc_ss_item_clear(&it);
	}

	for (size_t i = 0; i < QC_ARRAY_SIZE(releases); i++) {
		struct qc_debian_ref dr;
		struct qc_ss_item it = {0};

		if (qc_debian_ref_parse(releases[i], &dr, &err) < 0)
			continue;
		r = qc_debian_select(
			prod, prod_len, &dr, arches[i % QC_ARRAY_SIZE(arches)], "u", &it, &err);
		fuzz_check_error(r, &err);
		if (r < 0)
			continue;
		check_item(&it, it.sha512, QC_SHA512_HEX_LEN);
		FUZZ_CHECK(it.name, "no catalog name");
		qc_ss_item_clear(&it);
	}
	return 0;
}
