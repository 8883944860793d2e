/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The simplestreams parsers a (possibly hostile) image server feeds:
 * index.json -> products path (qc_ss_index_products_path) and products ->
 * the chosen image (qc_ss_select).  Input: "INDEX\n---8<---\nPRODUCTS" (no
 * separator: the same bytes serve as both).  What comes out must be safe to
 * use: a relative path without "..", a lowercase 64-hex SHA-256.
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
		check_path(it.path);
		FUZZ_CHECK(it.sha256 && strlen(it.sha256) == 64, "sha256");
		for (const char *c = it.sha256; *c; c++)
			FUZZ_CHECK(isdigit((unsigned char) *c) || (*c >= 'a' && *c <= 'f'),
				"sha256 '%s' not lowercase hex", it.sha256);
		FUZZ_CHECK(it.product && it.version && it.arch, "item fields missing");
		qc_ss_item_clear(&it);
	}
	return 0;
}
