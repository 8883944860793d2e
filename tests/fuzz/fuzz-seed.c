/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NoCloud seed content: the checks on verbatim --user-data,
 * --network-config and --meta-data files, ssh key files, instance ids, and
 * the generators.  Whole input: every checker.  Split input
 * "ID\n---8<---\nHOSTNAME\n---8<---\nUSER\n---8<---\nKEYS": whatever
 * meta-data, user-data and network-config the generators produce from it
 * must pass qemuctl's own checks for user files.
 */
#include "config.h"

#include "cloudinit/cloudinit.h"
#include "tests/fuzz/fuzz.h"

/* Next field of a split input; NULL when none is left. */
static char *field(const uint8_t **data, size_t *size)
{
	size_t rest, n;
	char *s;

	if (!*data)
		return NULL;
	n = fuzz_split(*data, *size, &rest);
	s = fuzz_strndup(*data, n);
	if (rest >= *size && n == *size)
		*data = NULL;
	else {
		*data += rest;
		*size -= rest;
	}
	return s;
}

static void generated(const uint8_t *data, size_t size)
{
	cleanup_free char *id = field(&data, &size), *host = field(&data, &size);
	cleanup_free char *user = field(&data, &size), *keys = field(&data, &size);
	cleanup_free char *md = NULL, *ud = NULL, *nc = NULL;
	struct qc_strv kv = {0};
	struct qc_error err = {0};
	const char *dns[] = {"10.0.0.1", NULL};
	struct qc_seed_nic nic = {"52:54:00:12:34:56", "10.0.0.5/24", "10.0.0.1", dns};
	struct qc_seed_share share = {"data", true};
	struct qc_seed_config c = {
		.instance_id = id,
		.hostname = host && *host ? host : NULL,
		.user = user && *user ? user : NULL,
		.shares = &share,
		.n_shares = 1,
		.nics = &nic,
		.n_nics = 1,
	};
	int r;

	if (!id)
		return;
	if (keys && qc_cloudinit_parse_ssh_keys("keys", keys, strlen(keys), &kv, NULL) == 0)
		c.ssh_keys = (const char *const *) kv.v;
	r = qc_cloudinit_meta_data(&c, &md, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		r = qc_cloudinit_check_meta_data("meta-data", md, strlen(md), &err);
		FUZZ_CHECK(r == 0, "generated meta-data refused: %s\n%s", err.msg, md);
	}
	r = qc_cloudinit_user_data(&c, &ud, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		r = qc_cloudinit_check_user_data("user-data", ud, strlen(ud), &err);
		FUZZ_CHECK(r == 0, "generated user-data refused: %s\n%s", err.msg, ud);
	}
	r = qc_cloudinit_network_config(&c, &nc, &err);
	fuzz_check_error(r, &err);
	if (r == 0 && nc) {
		r = qc_cloudinit_check_network_config("network-config", nc, strlen(nc), &err);
		FUZZ_CHECK(r == 0, "generated network-config refused: %s\n%s", err.msg, nc);
	}
	qc_strv_clear(&kv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const need[] = {"version", "network", NULL};
	cleanup_free char *s = fuzz_strndup(data, size);
	const char *t = (const char *) data;
	struct qc_error err = {0};
	struct qc_strv keys = {0};
	int r;

	r = qc_cloudinit_check_user_data("--user-data 'u'", t, size, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		FUZZ_CHECK(!memchr(t, 0, size), "user-data with NUL accepted");
	r = qc_cloudinit_check_network_config("--network-config 'n'", t, size, &err);
	fuzz_check_error(r, &err);
	r = qc_cloudinit_check_meta_data("--meta-data 'm'", t, size, &err);
	fuzz_check_error(r, &err);
	r = qc_cloudinit_yaml_check("f", t, size, need, &err);
	fuzz_check_error(r, &err);
	r = qc_cloudinit_parse_ssh_keys("--ssh-key 'k'", t, size, &keys, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		FUZZ_CHECK(keys.n > 0, "no keys but success");
		for (size_t i = 0; i < keys.n; i++)
			FUZZ_CHECK(!strchr(keys.v[i], '\n') && keys.v[i][0] != ' ',
				"key line not trimmed: '%s'", keys.v[i]);
	}
	qc_strv_clear(&keys);
	r = qc_cloudinit_validate_instance_id(s, &err);
	fuzz_check_error(r, &err);
	generated(data, size);
	return 0;
}
