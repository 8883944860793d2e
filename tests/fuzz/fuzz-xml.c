/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain XML loader: parse -> to_xml -> parse -> to_xml.  Whatever the
 * loader accepts, its own output must load again and serialize to the same
 * bytes (the definition on disk is stable across define/dumpxml/edit).
 */
#include "config.h"

#include "driver/domain.h"
#include "tests/fuzz/fuzz.h"

static void no_warn(const char *msg, void *opaque)
{
	(void) opaque;
	FUZZ_CHECK(msg && *msg, "empty warning");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_domain struct qc_domain *d = NULL, *d2 = NULL;
	cleanup_free char *x1 = NULL, *x2 = NULL;
	struct qc_error err = {0};
	int r;

	r = qc_domain_from_xml((const char *) data, size, "fuzz.xml", no_warn, NULL, &d, &err);
	fuzz_check_error(r, &err);
	if (r < 0)
		return 0;
	r = qc_domain_to_xml(d, &x1, &err);
	if (r < 0) {
		fuzz_check_error(r, &err);
		return 0; /* refusing to write is allowed; writing garbage is not */
	}
	r = qc_domain_from_xml(x1, strlen(x1), "again.xml", NULL, NULL, &d2, &err);
	FUZZ_CHECK(r == 0, "own output does not load: %s\n%s", err.msg, x1);
	r = qc_domain_to_xml(d2, &x2, &err);
	FUZZ_CHECK(r == 0, "reloaded domain does not serialize: %s", err.msg);
	FUZZ_CHECK(strcmp(x1, x2) == 0, "round trip not stable:\n--- first\n%s\n--- second\n%s", x1,
		x2);
	return 0;
}
