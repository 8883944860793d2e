/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain XML loader: parse -> to_xml -> parse -> to_xml.  Whatever the
 * loader accepts, its own output must load again and serialize to the same
 * bytes (the definition on disk is stable across define/dumpxml/edit).
 * A domain that loads and validates also goes through the pure argv
 * builder (TCG, sandbox, a tap fd per NIC, a host port per forward): no
 * argument is empty.  (Newlines are fine: file names may hold them.)
 */
#include "config.h"

#include "driver/domain.h"
#include "tests/fuzz/fuzz.h"

static void no_warn(const char *msg, void *opaque)
{
	(void) opaque;
	FUZZ_CHECK(msg && *msg, "empty warning");
}

static void argv_of(const struct qc_domain *d)
{
	int taps[64];
	unsigned ports[64][16];
	const unsigned *pp[64];
	struct qc_argv_ctx c = {
		.accel = QC_ACCEL_TCG,
		.qmp_path = "/run/q/qmp.sock",
		.qmp_event_path = "/run/q/ev.sock",
		.serial_path = "/run/q/serial.sock",
		.tap_fds = taps,
		.n_tap_fds = d->n_nics,
		.fwd_ports = pp,
		.sandbox = true,
	};
	struct qc_error err = {0};
	char **argv = NULL;
	int r;

	if (d->n_nics > 64 || qc_domain_validate(d, NULL) < 0)
		return;
	for (size_t i = 0; i < d->n_nics; i++) {
		if (d->nics[i].n_fwds > 16)
			return;
		taps[i] = 100 + (int) i;
		for (size_t k = 0; k < 16; k++)
			ports[i][k] = 20000 + (unsigned) (i * 16 + k);
		pp[i] = ports[i];
	}
	r = qc_build_argv(d, &c, &argv, &err);
	fuzz_check_error(r, &err);
	if (r < 0)
		return;
	FUZZ_CHECK(argv[0] && *argv[0], "argv[0] empty");
	for (char **a = argv; *a; a++)
		FUZZ_CHECK(**a, "empty argument after '%s'", a > argv ? a[-1] : "");
	qc_strv_free(argv);
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
	argv_of(d);
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
