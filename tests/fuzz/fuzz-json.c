/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util/json.c (every JSON qemuctl reads: QMP, state.json, catalog entries,
 * qemu-img info, streams) and the qemu-img info parser on top of it.
 * Invariants: dump(parse(x)) parses again to the same dump; the generator
 * embedding a parsed tree gives the same text as dump; the typed getters
 * never crash on any node.
 */
#include "config.h"

#include "storage/storage.h"
#include "tests/fuzz/fuzz.h"

static void walk(const qc_json *j, int depth)
{
	int64_t i;
	uint64_t u;
	double d;
	bool b;

	(void) qc_json_string(j);
	(void) qc_json_as_int(j, &i);
	(void) qc_json_as_uint(j, &u);
	(void) qc_json_as_double(j, &d);
	(void) qc_json_as_bool(j, &b);
	if (depth > 64)
		return;
	for (size_t k = 0; k < qc_json_len(j); k++) {
		if (qc_json_type(j) == QC_JSON_OBJECT) {
			const char *key = qc_json_key_at(j, k);

			FUZZ_CHECK(key != NULL, "object member %zu without a key", k);
		}
		walk(qc_json_at(j, k), depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_json qc_json *j = NULL, *j2 = NULL;
	cleanup_free char *d1 = NULL, *d2 = NULL, *g1 = NULL;
	cleanup_jgen struct qc_jgen *g = NULL;
	struct qc_img_info *info = NULL;
	struct qc_error err = {0};
	const char *s;
	int64_t i;
	int r;

	r = qc_img_info_parse((const char *) data, size, &info, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		qc_img_info_free(info);

	r = qc_json_parse((const char *) data, size, &j, &err);
	fuzz_check_error(r, &err);
	if (r < 0)
		return 0;
	walk(j, 0);
	(void) qc_json_path(j, "a/b/c");
	(void) qc_json_get_string(j, "QMP/version/package", &s, &err);
	(void) qc_json_get_int(j, "return/0/id", &i, &err);

	d1 = qc_json_dump(j);
	FUZZ_CHECK(d1 != NULL, "dump failed");
	r = qc_json_parse(d1, strlen(d1), &j2, &err);
	FUZZ_CHECK(r == 0, "dump does not parse: %s\n%s", err.msg, d1);
	d2 = qc_json_dump(j2);
	FUZZ_CHECK(d2 && strcmp(d1, d2) == 0, "dump not stable:\n%s\n%s", d1, d2);

	g = qc_jgen_new(false);
	qc_jgen_value(g, j);
	r = qc_jgen_finish(g, &g1, NULL, &err);
	FUZZ_CHECK(r == 0, "generator refused a parsed tree: %s", err.msg);
	FUZZ_CHECK(strcmp(g1, d1) == 0, "generator and dump differ:\n%s\n%s", g1, d1);
	return 0;
}
