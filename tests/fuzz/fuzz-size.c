/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sizes, counts, names and host names: qc_parse_size, qc_parse_uint,
 * qc_validate_name, qc_validate_hostname and the domain XML's memory units.
 * What the validators accept must obey the documented grammar, checked here
 * by hand; a size must parse back from its decimal value.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>

#include "driver/domain.h"
#include "tests/fuzz/fuzz.h"

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63 || !isalnum((unsigned char) s[0]) || s[0] & 0x80)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] > 0 && (isalnum((unsigned char) s[i]) || strchr("._-", s[i]))))
			return false;
	return true;
}

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n < 1 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (label < 1 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!(s[i] > 0 && (isalnum((unsigned char) s[i]) || s[i] == '-')))
			return false;
		label++;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_free char *s = fuzz_strndup(data, size);
	struct qc_error err = {0};
	uint64_t v = 0, v2 = 0;
	char buf[64];
	size_t rest;
	int r;

	r = qc_parse_size("--memory", s, &v, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		/* A size is digits and a unit: some digit, no sign, no blank inside. */
		FUZZ_CHECK(strpbrk(s, "0123456789") != NULL, "size '%s' without digits", s);
		FUZZ_CHECK(!strchr(s, '-'), "negative size '%s' accepted as %" PRIu64, s, v);
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
		FUZZ_CHECK(qc_parse_size("x", buf, &v2, NULL) == 0 && v2 == v,
			"'%s' -> %s does not parse back", s, buf);
	} else {
		FUZZ_CHECK(strstr(err.msg, "--memory"), "message does not name the option: %s",
			err.msg);
	}

	r = qc_parse_uint("--cpus", s, 1, 1024, &v, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		FUZZ_CHECK(v >= 1 && v <= 1024, "'%s' -> %" PRIu64 " out of range", s, v);

	r = qc_validate_name("VM", s, &err);
	fuzz_check_error(r, &err);
	FUZZ_CHECK((r == 0) == name_ok(s), "name '%s': validate says %d", s, r);

	r = qc_validate_hostname(s, &err);
	fuzz_check_error(r, &err);
	FUZZ_CHECK((r == 0) == hostname_ok(s), "hostname '%s': validate says %d", s, r);

	/* "<value>\n---8<---\n<unit>" for the domain XML's <memory unit=...> */
	{
		size_t n = fuzz_split(data, size, &rest);
		cleanup_free char *value = fuzz_strndup(data, n);
		cleanup_free char *unit = fuzz_strndup(data + rest, size - rest);

		r = qc_xml_parse_memory(value, rest < size ? unit : NULL, &v, &err);
		fuzz_check_error(r, &err);
	}
	return 0;
}
