/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/sshurl.c */
#include "config.h"

#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

START_TEST(sshurl_forms)
{
	static const struct {
		const char *text, *user, *host, *root;
		int port;
	} ok[] = {
		{"ssh://host", NULL, "host", NULL, 0},
		{"ssh://host/", NULL, "host", NULL, 0},
		{"ssh://root@host.example.org", "root", "host.example.org", NULL, 0},
		{"ssh://a.b_c-d@127.0.0.1:2222", "a.b_c-d", "127.0.0.1", NULL, 2222},
		{"ssh://h:22/var/lib/qemuctl", NULL, "h", "/var/lib/qemuctl", 22},
		{"ssh://u@[::1]:65535/srv/q root", "u", "::1", "/srv/q root", 65535},
		{"ssh://[fe80::1]", NULL, "fe80::1", NULL, 0},
	};
	struct qc_error e = {0};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct qc_ssh_url u;
		ck_assert_qc_ok(qc_ssh_url_parse(ok[i].text, &u, &e), &e);
		ck_assert_pstr_eq(u.user, ok[i].user);
		ck_assert_str_eq(u.host, ok[i].host);
		ck_assert_pstr_eq(u.root, ok[i].root);
		ck_assert_int_eq(u.port, ok[i].port);
		qc_ssh_url_clear(&u);
	}
}
END_TEST

START_TEST(sshurl_refused)
{
	static const struct unit_case bad[] = {
		{"host", "not an ssh:// address"},
		{"qemu+ssh://host", "not an ssh:// address"},
		{"ssh://", "host name is empty"},
		{"ssh://-oProxyCommand=x", "only letters, digits"},
		{"ssh://-host", "host name"},
		{"ssh://-l@host", "user name"},
		{"ssh://@host", "user name"},
		{"ssh://a b@host", "user name"},
		{"ssh://host name", "only letters"},
		{"ssh://host:0", "ssh port"},
		{"ssh://host:65536", "ssh port"},
		{"ssh://host:22x", "ssh port"},
		{"ssh://host:", "ssh port"},
		{"ssh://[::1", "IPv6"},
		{"ssh://[host]", "IPv6"},
		{"ssh://[::1]x", "unexpected text"},
		{"ssh://host/a\nb", "control character"},
	};
	struct qc_error e = {0};

	for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++) {
		struct qc_ssh_url u;
		ck_assert_qc_fail(
			qc_ssh_url_parse(bad[i].in, &u, &e), &e, QC_ERR_INVALID, bad[i].want);
		ck_assert_ptr_null(u.host);
		ck_assert_ptr_null(u.user);
	}
}
END_TEST

START_TEST(sshurl_argv)
{
	static const char *const cases[][2] = {
		{"ssh://me@[::1]:2200/r", "ssh -p2200 -l me -- ::1"},
		{"ssh://h", "ssh -- h"},
	};
	struct qc_error e = {0};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qc_ssh_url u;
		ck_assert_qc_ok(qc_ssh_url_parse(cases[i][0], &u, &e), &e);
		cleanup_strv char **v = qc_ssh_url_argv(&u);
		cleanup_free char *s = qc_strv_join(v, " ");
		ck_assert_str_eq(s, cases[i][1]);
		qc_ssh_url_clear(&u);
	}
}
END_TEST

Suite *util_sshurl_suite(void)
{
	Suite *s = suite_create("util-sshurl");

	unit_tcase(s, "sshurl", sshurl_forms, sshurl_refused, sshurl_argv, NULL);
	return s;
}
