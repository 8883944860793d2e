/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net/addr.c and net/ipam.c: pure parsing and the address allocator. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "tests/unit/check_main.h"

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	ck_assert_int_eq(qc_net_parse_ipv4("test", s, &a, NULL), 0);
	return a;
}

static struct qc_net_cidr cidr(const char *s)
{
	struct qc_net_cidr c;

	ck_assert_int_eq(qc_net_parse_cidr("test", s, true, &c, NULL), 0);
	return c;
}

/* An allocator for subnet s, which must be one it takes. */
static struct qc_net_ipam ipam_of(const char *s)
{
	struct qc_net_cidr sub = cidr(s);
	struct qc_net_ipam ipam;

	ck_assert_int_eq(qc_net_ipam_init(&ipam, &sub, NULL), 0);
	return ipam;
}

START_TEST(ipv4_good)
{
	char buf[16];

	ck_assert_uint_eq(ip("10.0.0.5"), 0x0a000005u);
	ck_assert_uint_eq(ip("255.255.255.255"), 0xffffffffu);
	ck_assert_uint_eq(ip("0.0.0.0"), 0);
	qc_net_format_ipv4(0xc0a80101u, buf, sizeof(buf));
	ck_assert_str_eq(buf, "192.168.1.1");
}
END_TEST

START_TEST(ipv4_bad)
{
	static const char *const bad[] = {"", "10.0.0", "10.0.0.0.1", "256.1.1.1", "1.2.3.4 ",
		"a.b.c.d", "010.0.0.1", "1..2.3", "1.2.3.-4", "1.2.3.4/24", "1234.1.1.1"};
	struct qc_error err = {0};
	uint32_t a = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(qc_net_parse_ipv4("ip=", bad[i], &a, &err), -QC_ERR_INVALID);
		ck_assert_uint_eq(a, 42);
	}
	ck_assert_int_eq(qc_net_parse_ipv4("ip=", "300.0.0.1", &a, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ip=: '300.0.0.1' is not an IPv4 address (expected four numbers "
				  "0-255, like 10.0.0.5)");
}
END_TEST

START_TEST(cidr_parse)
{
	struct qc_net_cidr c;
	struct qc_error err = {0};
	char buf[24];

	c = cidr("10.1.2.0/24");
	ck_assert_uint_eq(c.addr, 0x0a010200u);
	ck_assert_uint_eq(c.prefix, 24);
	qc_net_format_cidr(&c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.1.2.0/24");

	ck_assert_int_eq(
		qc_net_parse_cidr("--subnet", "10.1.2.3/24", true, &c, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(
		err.msg, "--subnet: '10.1.2.3/24' has host bits set; did you mean 10.1.2.0/24?");
	ck_assert_int_eq(qc_net_parse_cidr("ip", "10.1.2.3/24", false, &c, &err), 0);
	ck_assert_uint_eq(c.addr, 0x0a010203u);

	ck_assert_int_eq(
		qc_net_parse_cidr("--subnet", "10.0.0.0", true, &c, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg,
		"--subnet: '10.0.0.0' has no prefix length (expected CIDR like 10.0.0.0/24)");
	ck_assert_int_eq(
		qc_net_parse_cidr("--subnet", "10.0.0.0/33", true, &c, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(
		err.msg, "--subnet: '10.0.0.0/33': bad prefix length '33' (expected 0-32)");
	ck_assert_int_eq(
		qc_net_parse_cidr("--subnet", "10.0.0.0/", true, &c, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(
		qc_net_parse_cidr("--subnet", "10.0.0.0/2a", true, &c, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(
		qc_net_parse_cidr("--subnet", "10.0.0.0/-1", true, &c, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_net_parse_cidr("--subnet", "lan/24", true, &c, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_net_parse_cidr("--subnet", "", true, &c, &err), -QC_ERR_INVALID);
}
END_TEST

START_TEST(cidr_overlap)
{
	struct qc_net_cidr a = cidr("10.0.0.0/24"), b = cidr("10.0.0.128/25"),
			   c = cidr("10.0.1.0/24"), d = cidr("10.0.0.0/16");

	ck_assert(qc_net_cidr_overlap(&a, &b));
	ck_assert(qc_net_cidr_overlap(&b, &a));
	ck_assert(!qc_net_cidr_overlap(&a, &c));
	ck_assert(qc_net_cidr_overlap(&c, &d));
	ck_assert(qc_net_cidr_overlap(&a, &a));
	ck_assert(qc_net_cidr_contains(&a, ip("10.0.0.255")));
	ck_assert(!qc_net_cidr_contains(&a, ip("10.0.1.0")));
}
END_TEST

START_TEST(mac_parse)
{
	struct qc_error err = {0};
	char m[18];

	ck_assert_int_eq(qc_net_parse_mac("mac=", "52:54:00:AB:cd:01", m, &err), 0);
	ck_assert_str_eq(m, "52:54:00:ab:cd:01");
	ck_assert_int_eq(qc_net_parse_mac("mac=", "52:54:00:ab:cd", m, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_net_parse_mac("mac=", "52-54-00-ab-cd-01", m, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_net_parse_mac("mac=", "52:54:00:ab:cd:0g", m, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "mac=: '52:54:00:ab:cd:0g' is not a MAC address (expected six "
				  "hex pairs like 52:54:00:12:34:56)");
	ck_assert_int_eq(qc_net_parse_mac("mac=", "01:00:5e:00:00:01", m, &err), -QC_ERR_INVALID);
	ck_assert(strstr(err.msg, "multicast"));
	ck_assert_int_eq(qc_net_parse_mac("mac=", "00:00:00:00:00:00", m, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "mac=: '00:00:00:00:00:00' is the all-zero address");
}
END_TEST

/* The one MAC check of qemuctl: CLI specs and domain definitions both use it. */
START_TEST(mac_parse_cases)
{
	static const struct {
		const char *in, *out; /* out NULL: refused */
	} cases[] = {
		{"52:54:00:12:34:56", "52:54:00:12:34:56"},
		{"52:54:00:AB:CD:EF", "52:54:00:ab:cd:ef"}, /* upper case */
		{"52:54:00:aB:Cd:eF", "52:54:00:ab:cd:ef"}, /* mixed case */
		{"02:00:00:00:00:01", "02:00:00:00:00:01"}, /* locally administered */
		{"00:00:00:00:00:01", "00:00:00:00:00:01"}, /* zero OUI, not all-zero */
		{"00:00:00:00:00:00", NULL}, /* all-zero */
		{"01:00:5e:00:00:01", NULL}, /* multicast bit */
		{"33:33:00:00:00:01", NULL}, /* IPv6 multicast */
		{"ff:ff:ff:ff:ff:ff", NULL}, /* broadcast */
		{"FF:FF:FF:FF:FF:FF", NULL},
		{"52-54-00-12-34-56", NULL}, /* wrong separators */
		{"52.54.00.12.34.56", NULL},
		{"5254.0012.3456", NULL},
		{"52:54:00:12:34-56", NULL},
		{"525400123456", NULL},
		{"52:54:00:12:34", NULL}, /* short */
		{"52:54:00:12:34:5", NULL},
		{"52:54:00:12:34:567", NULL}, /* long */
		{"52:54:00:12:34:56:78", NULL},
		{"52:54:00:12:34:56 ", NULL},
		{" 52:54:00:12:34:56", NULL},
		{"52:54:00:12:34:+6", NULL}, /* sscanf would take a sign */
		{"52:54:00:12:34:0x", NULL},
		{"", NULL},
		{NULL, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qc_error err = {0};
		char m[18] = "";
		int r = qc_net_parse_mac("mac", cases[i].in, m, &err);

		if (cases[i].out) {
			ck_assert_msg(r == 0, "'%s': %s", cases[i].in, err.msg);
			ck_assert_str_eq(m, cases[i].out);
		} else {
			ck_assert_msg(r == -QC_ERR_INVALID, "'%s' was accepted as '%s'",
				cases[i].in ? cases[i].in : "(null)", m);
			ck_assert_str_eq(m, "");
			ck_assert_msg(strncmp(err.msg, "mac: '", 6) == 0, "%s", err.msg);
		}
	}
}
END_TEST

START_TEST(ifname_validate)
{
	struct qc_error err = {0};

	ck_assert_int_eq(qc_net_validate_ifname("bridge", "br-lan", &err), 0);
	ck_assert_int_eq(qc_net_validate_ifname("bridge", "123456789012345", &err), 0);
	ck_assert_int_eq(
		qc_net_validate_ifname("bridge", "1234567890123456", &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "bridge: interface name '1234567890123456' is 16 bytes long; "
				  "Linux allows at most 15");
	ck_assert_int_eq(qc_net_validate_ifname("bridge", "a/b", &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_net_validate_ifname("bridge", "a b", &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_net_validate_ifname("bridge", "", &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_net_validate_ifname("bridge", "..", &err), -QC_ERR_INVALID);
}
END_TEST

START_TEST(ipam_sequence)
{
	struct qc_net_ipam ipam = ipam_of("10.0.0.0/24");
	uint32_t a, b, c;
	char buf[16];

	ck_assert_uint_eq(ipam.gateway, ip("10.0.0.1"));
	ck_assert_uint_eq(qc_net_ipam_capacity(&ipam), 253);
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u1/net0", "a", 0, &a, NULL), 0);
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u2/net0", "b", 0, &b, NULL), 0);
	qc_net_format_ipv4(a, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.0.0.2");
	ck_assert_uint_eq(b, ip("10.0.0.3"));
	/* Same key: same address (stable across restarts). */
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u1/net0", "a", 0, &c, NULL), 0);
	ck_assert_uint_eq(c, a);
	ck_assert_uint_eq(ipam.n_leases, 2);
	/* Release fills the gap lowest-first. */
	ck_assert_int_eq(qc_net_ipam_release(&ipam, "u1/net0"), 1);
	ck_assert_int_eq(qc_net_ipam_release(&ipam, "u1/net0"), 0);
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u3/net0", "c", 0, &c, NULL), 0);
	ck_assert_uint_eq(c, ip("10.0.0.2"));
	ck_assert_ptr_nonnull(qc_net_ipam_find(&ipam, "u3/net0"));
	ck_assert_ptr_null(qc_net_ipam_find(&ipam, "u1/net0"));
	qc_net_ipam_clear(&ipam);
}
END_TEST

START_TEST(ipam_requested)
{
	struct qc_net_ipam ipam = ipam_of("192.168.7.0/24");
	struct qc_error err = {0};
	uint32_t a;

	ck_assert_int_eq(
		qc_net_ipam_alloc(&ipam, "u1/net0", "web", ip("192.168.7.50"), &a, &err), 0);
	ck_assert_uint_eq(a, ip("192.168.7.50"));
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u2/net0", "db", ip("192.168.7.50"), &a, &err),
		-QC_ERR_EXISTS);
	ck_assert_str_eq(err.msg, "address 192.168.7.50 is already leased to web");
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u2/net0", "db", ip("192.168.7.1"), &a, &err),
		-QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "address 192.168.7.1 is the gateway of 192.168.7.0/24");
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u2/net0", "db", ip("192.168.7.255"), &a, &err),
		-QC_ERR_INVALID);
	ck_assert_str_eq(err.msg,
		"address 192.168.7.255 is the network or broadcast address of 192.168.7.0/24");
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u2/net0", "db", ip("10.0.0.9"), &a, &err),
		-QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "address 10.0.0.9 is not in subnet 192.168.7.0/24");
	/* Unrequested allocation skips the taken .50 only when it reaches it. */
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u2/net0", "db", 0, &a, &err), 0);
	ck_assert_uint_eq(a, ip("192.168.7.2"));
	/* A key may move to another free address. */
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u2/net0", "db", ip("192.168.7.9"), &a, &err), 0);
	ck_assert_uint_eq(ipam.n_leases, 2);
	ck_assert_uint_eq(qc_net_ipam_find(&ipam, "u2/net0")->addr, ip("192.168.7.9"));
	/* Leases are sorted by address. */
	ck_assert_uint_eq(ipam.leases[0].addr, ip("192.168.7.9"));
	ck_assert_uint_eq(ipam.leases[1].addr, ip("192.168.7.50"));
	qc_net_ipam_clear(&ipam);
}
END_TEST

/* lease.c: a NIC's ip= as given ("A", "A/PREFIX", none) becomes "A/PREFIX". */
START_TEST(lease_take)
{
	struct qc_net_cidr sub = cidr("10.9.0.0/24");
	struct qc_net_def n = {.name = (char *) "lan"};
	struct qc_error err = {0};
	char *c = NULL;

	ck_assert_int_eq(qc_net_ipam_init(&n.ipam, &sub, NULL), 0);
	ck_assert_int_eq(qc_net_lease_take(&n, "u1/net0", "web", NULL, &c, &err), 0);
	ck_assert_str_eq(c, "10.9.0.2/24");
	free(c);
	ck_assert_int_eq(qc_net_lease_take(&n, "u1/net0", "web", "", &c, &err), 0);
	ck_assert_str_eq(c, "10.9.0.2/24"); /* the key's lease again */
	free(c);
	ck_assert_int_eq(qc_net_lease_take(&n, "u2/net0", "db", "10.9.0.7", &c, &err), 0);
	ck_assert_str_eq(c, "10.9.0.7/24");
	free(c);
	ck_assert_int_eq(qc_net_lease_take(&n, "u3/net0", "x", "10.9.0.8/24", &c, &err), 0);
	ck_assert_str_eq(c, "10.9.0.8/24");
	free(c);
	c = NULL;
	ck_assert_int_eq(
		qc_net_lease_take(&n, "u4/net0", "y", "10.9.0.9/16", &c, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ip=10.9.0.9/16: prefix /16 does not match network 'lan' (/24)");
	ck_assert_int_eq(
		qc_net_lease_take(&n, "u4/net0", "y", "10.9.0.7", &c, &err), -QC_ERR_EXISTS);
	ck_assert_str_eq(err.msg, "network 'lan': address 10.9.0.7 is already leased to db");
	ck_assert_int_lt(qc_net_lease_take(&n, "u4/net0", "y", "10.9.0", &c, &err), 0);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(n.ipam.n_leases, 3);
	qc_net_ipam_clear(&n.ipam);
}
END_TEST

START_TEST(ipam_exhausted_slash30)
{
	struct qc_net_ipam ipam = ipam_of("10.9.0.4/30");
	struct qc_error err = {0};
	uint32_t a;

	ck_assert_uint_eq(qc_net_ipam_capacity(&ipam), 1);
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u1/net0", "a", 0, &a, &err), 0);
	ck_assert_uint_eq(a, ip("10.9.0.6"));
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "u2/net0", "b", 0, &a, &err), -ENOSPC);
	ck_assert_str_eq(err.msg, "subnet 10.9.0.4/30 is exhausted: all 1 guest addresses are "
				  "leased; free one (delete a VM) or use a larger subnet");
	ck_assert_uint_eq(ipam.n_leases, 1);
	qc_net_ipam_clear(&ipam);
}
END_TEST

START_TEST(ipam_bad_subnets)
{
	struct qc_net_ipam ipam;
	struct qc_net_cidr s31 = cidr("10.0.0.0/31"), s4 = cidr("16.0.0.0/4");
	struct qc_error err = {0};

	ck_assert_int_eq(qc_net_ipam_init(&ipam, &s31, &err), -QC_ERR_INVALID);
	ck_assert(strstr(err.msg, "too small"));
	ck_assert_int_eq(qc_net_ipam_init(&ipam, &s4, &err), -QC_ERR_INVALID);
	ck_assert(strstr(err.msg, "too large"));
}
END_TEST

START_TEST(ipam_release_prefix_and_add)
{
	struct qc_net_ipam ipam = ipam_of("10.0.0.0/24");
	struct qc_error err = {0};
	uint32_t a;

	ck_assert_int_eq(qc_net_ipam_add(&ipam, "vm1/net0", "vm1", ip("10.0.0.7"), &err), 0);
	ck_assert_int_eq(qc_net_ipam_add(&ipam, "vm1/net1", "vm1", ip("10.0.0.3"), &err), 0);
	ck_assert_int_eq(
		qc_net_ipam_add(&ipam, "vm2/net0", "vm2", ip("10.0.0.3"), &err), -QC_ERR_EXISTS);
	ck_assert_int_eq(
		qc_net_ipam_add(&ipam, "vm1/net0", "vm1", ip("10.0.0.9"), &err), -QC_ERR_EXISTS);
	ck_assert_int_eq(qc_net_ipam_add(&ipam, "vm2/net0", "vm2", ip("10.0.0.9"), &err), 0);
	ck_assert_uint_eq(qc_net_ipam_release_prefix(&ipam, "vm1/"), 2);
	ck_assert_uint_eq(ipam.n_leases, 1);
	ck_assert_int_eq(qc_net_ipam_alloc(&ipam, "vm3/net0", NULL, 0, &a, &err), 0);
	ck_assert_uint_eq(a, ip("10.0.0.2"));
	qc_net_ipam_clear(&ipam);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("net_ipam");

	unit_tcase(s, "pure", ipv4_good, ipv4_bad, cidr_parse, cidr_overlap, mac_parse,
		mac_parse_cases, ifname_validate, ipam_sequence, ipam_requested,
		ipam_exhausted_slash30, ipam_bad_subnets, ipam_release_prefix_and_add, lease_take,
		NULL);
	return s;
}

UNIT_MAIN(suite)
