/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/portfwd_live.c's specs of `port add` and `port rm`: the accepted
 * forms and every refusal (range, protocol, address, shape) with the value
 * named in the message.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "driver/network.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

static struct qc_hostfwd parse_ok(const char *spec, bool with_guest)
{
	struct qc_error err = {0};
	struct qc_hostfwd f;

	memset(&f, 0x5a, sizeof(f));
	ck_assert_qc_ok(qc_driver_portfwd_parse(spec, with_guest, &f, &err), &err);
	return f;
}

START_TEST(spec_forms)
{
	struct qc_hostfwd f = parse_ok("8080:80", true);

	ck_assert_str_eq(f.proto, "tcp");
	ck_assert_str_eq(f.host_addr, "");
	ck_assert_uint_eq(f.host_port, 8080);
	ck_assert_uint_eq(f.guest_port, 80);

	f = parse_ok("0.0.0.0:5353:53/udp", true);
	ck_assert_str_eq(f.proto, "udp");
	ck_assert_str_eq(f.host_addr, "0.0.0.0");
	ck_assert_uint_eq(f.host_port, 5353);
	ck_assert_uint_eq(f.guest_port, 53);

	/* the default address is stored as the definition stores it: "" */
	f = parse_ok("127.0.0.1:65535:1/tcp", true);
	ck_assert_str_eq(f.host_addr, "");
	ck_assert_uint_eq(f.host_port, 65535);
	ck_assert_uint_eq(f.guest_port, 1);

	f = parse_ok("2222", false);
	ck_assert_str_eq(f.proto, "tcp");
	ck_assert_uint_eq(f.host_port, 2222);
	f = parse_ok("10.0.0.1:2222/udp", false);
	ck_assert_str_eq(f.host_addr, "10.0.0.1");
	ck_assert_str_eq(f.proto, "udp");
}
END_TEST

START_TEST(spec_refused)
{
	static const struct {
		const char *spec;
		bool guest;
		const char *msg;
	} bad[] = {
		{"", true, "port spec '': expected [ADDR:]HOSTPORT:GUESTPORT[/udp]"},
		{"8080", true, "expected [ADDR:]HOSTPORT:GUESTPORT[/udp]"},
		{"8080:80", false, "expected [ADDR:]HOSTPORT[/udp]"},
		{"1:2:3:4", true, "expected"},
		{"0:80", true, "host port 0 is outside 1-65535"},
		{"65536:80", true, "host port 65536 is outside 1-65535"},
		{"8080:0", true, "guest port 0 is outside 1-65535"},
		{"8080:99999", true, "guest port 99999 is outside 1-65535"},
		{"123456:80", true, "host port '123456' is not a number"},
		{"-1:80", true, "host port '-1' is not a number"},
		{"80a:80", true, "host port '80a' is not a number"},
		{":80", true, "host port '' is not a number"},
		{"8080:80/sctp", true, "protocol 'sctp' is not tcp or udp"},
		{"8080:80/", true, "protocol '' is not tcp or udp"},
		{"::1:8080:80", true, "expected"},
		{"localhost:8080:80", true, "'localhost' is not an IPv4 address"},
		{"1.2.3.256:8080:80", true, "'1.2.3.256' is not an IPv4 address"},
		{"1.2.3.4,hostfwd=x:8080:80", true, "is not an IPv4 address"},
		{"8080/udp/tcp", false, "protocol 'udp/tcp' is not tcp or udp"},
	};

	for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++) {
		struct qc_error err = {0};
		struct qc_hostfwd f;

		ck_assert_qc_fail(qc_driver_portfwd_parse(bad[i].spec, bad[i].guest, &f, &err),
			&err, QC_ERR_INVALID, bad[i].msg);
	}
}
END_TEST

static Suite *portfwd_suite(void)
{
	Suite *s = suite_create("portfwd");

	unit_tcase(s, "spec", spec_forms, spec_refused, NULL);
	return s;
}

UNIT_MAIN(portfwd_suite)
