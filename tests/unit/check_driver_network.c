/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/network*.c: --net SPEC parsing (pure), then named networks, leases,
 * taps and host ports against the real kernel in a private network
 * namespace (unshare(CLONE_NEWNET) in main) and a temporary state root.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/domain.h"
#include "driver/network.h"
#include "driver/qemuctl.h"
#include "net/net.h"
#include "tests/unit/check_main.h"

static bool in_netns;
static char root[64];

/* ----------------------------------------------------------- spec parsing */

static struct qc_nic parse_ok(const char *spec)
{
	struct qc_nic nic = {0};
	struct qc_error err = {0};
	bool none = true;

	ck_assert_msg(qc_network_parse_spec(spec, &nic, &none, &err) == 0, "%s: %s", spec, err.msg);
	ck_assert(!none);
	return nic;
}

static void parse_bad(const char *spec, const char *want)
{
	struct qc_nic nic = {0};
	struct qc_error err = {0};
	bool none;

	ck_assert_int_eq(qc_network_parse_spec(spec, &nic, &none, &err), -QC_ERR_INVALID);
	ck_assert_msg(strstr(err.msg, want), "%s: got '%s', want '%s'", spec, err.msg, want);
	ck_assert_int_eq(nic.type, 0);
	ck_assert_ptr_null(nic.fwds);
}

START_TEST(spec_user)
{
	struct qc_nic nic = parse_ok("user");

	ck_assert_int_eq(nic.type, QC_NIC_USER);
	ck_assert_uint_eq(nic.n_fwds, 1);
	ck_assert_str_eq(nic.fwds[0].proto, "tcp");
	ck_assert_uint_eq(nic.fwds[0].host_port, 0);
	ck_assert_uint_eq(nic.fwds[0].guest_port, 22);
	qc_nic_clear(&nic);

	nic = parse_ok(
		"user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.2:5353-:53,hostfwd=tcp:2222-:22,"
		"mac=52:54:00:AA:bb:01");
	ck_assert_uint_eq(nic.n_fwds, 3); /* explicit 22 forward: no default added */
	ck_assert_uint_eq(nic.fwds[0].host_port, 8080);
	ck_assert_uint_eq(nic.fwds[0].guest_port, 80);
	ck_assert_str_eq(nic.fwds[0].host_addr, "");
	ck_assert_str_eq(nic.fwds[1].proto, "udp");
	ck_assert_str_eq(nic.fwds[1].host_addr, "127.0.0.2");
	ck_assert_uint_eq(nic.fwds[2].host_port, 2222);
	ck_assert_str_eq(nic.mac, "52:54:00:aa:bb:01");
	qc_nic_clear(&nic);
}
END_TEST

START_TEST(spec_network_bridge_none)
{
	struct qc_nic nic = parse_ok("network=lan,ip=10.0.0.7,mac=52:54:00:00:00:07");
	struct qc_error err = {0};
	bool none = false;

	ck_assert_int_eq(nic.type, QC_NIC_NETWORK);
	ck_assert_str_eq(nic.network, "lan");
	ck_assert_str_eq(nic.ip, "10.0.0.7");
	ck_assert_uint_eq(nic.n_fwds, 0);
	qc_nic_clear(&nic);
	nic = parse_ok("bridge=br0");
	ck_assert_int_eq(nic.type, QC_NIC_BRIDGE);
	ck_assert_str_eq(nic.bridge, "br0");
	qc_nic_clear(&nic);
	memset(&nic, 0, sizeof(nic));
	ck_assert_int_eq(qc_network_parse_spec("none", &nic, &none, &err), 0);
	ck_assert(none);
}
END_TEST

/* The ways ssh reaches a guest, in the order it tries them, and the pick given a run's ports. */
START_TEST(ssh_routes)
{
	struct qc_domain *d = qc_domain_new();
	struct qc_ssh_route *v;
	unsigned ports[] = {1111, 5555, 0, 7777}, port = 0;
	size_t n;
	bool none;
	char *host;

	ck_assert_int_eq(qc_network_parse_spec("user,hostfwd=udp::0-:22,hostfwd=tcp::0-:80",
				 qc_domain_add_nic(d), &none, NULL),
		0);
	ck_assert_int_eq(qc_network_parse_spec("user,hostfwd=tcp::0-:22,hostfwd=tcp:0.0.0.0:2200-:22",
				 qc_domain_add_nic(d), &none, NULL),
		0);
	ck_assert_int_eq(qc_network_parse_spec("network=n1", qc_domain_add_nic(d), &none, NULL), 0);
	d->nics[2].ip = qc_xstrdup("10.91.0.9/24");

	/* NIC 0's udp/22 and tcp/80 are no ssh; its default tcp/22 forward is its third */
	v = qc_network_ssh_routes(d, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(v[0].host, "127.0.0.1");
	ck_assert_uint_eq(v[0].port, 0); /* picked at start: the run's port at index 2 */
	ck_assert_uint_eq(v[0].index, 2);
	ck_assert_uint_eq(v[1].port, 0);
	ck_assert_uint_eq(v[1].index, 3); /* NIC 1's first forward, after NIC 0's three */
	ck_assert_str_eq(v[2].host, "127.0.0.1"); /* bound on every address: loopback answers */
	ck_assert_uint_eq(v[2].port, 2200);
	ck_assert_str_eq(v[3].host, "10.91.0.9");
	ck_assert_uint_eq(v[3].port, 22);

	/* the run's port at index 2 is 0 (not known): the next route */
	host = qc_network_ssh_route_pick(v, n, ports, 4, &port);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 7777);
	free(host);
	/* a shorter list of the run's ports: the fixed port */
	host = qc_network_ssh_route_pick(v, n, ports, 3, &port);
	ck_assert_uint_eq(port, 2200);
	free(host);
	host = qc_network_ssh_route_pick(v + 3, 1, NULL, 0, &port);
	ck_assert_str_eq(host, "10.91.0.9");
	ck_assert_uint_eq(port, 22);
	free(host);
	ck_assert_ptr_null(qc_network_ssh_route_pick(v, 2, ports, 3, &port));
	/* the one-step form agrees */
	host = qc_network_ssh_endpoint(d, ports, 4, &port);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_uint_eq(port, 7777);
	free(host);
	free(v);
	qc_domain_free(d);
}
END_TEST

START_TEST(spec_errors)
{
	parse_bad("", "empty spec");
	parse_bad("tap",
		"--net 'tap': unknown kind 'tap' (expected user, network=NAME, bridge=BR or none)");
	parse_bad("user,hostfwd=tcp:8080:80", "bad hostfwd 'tcp:8080:80'");
	parse_bad("user,hostfwd=sctp::1-:2", "hostfwd protocol 'sctp' is not tcp or udp");
	parse_bad(
		"user,hostfwd=tcp::70000-:80", "bad hostfwd host port '70000' (expected 0-65535)");
	parse_bad("user,hostfwd=tcp::80-:0", "bad hostfwd guest port '0' (expected 1-65535)");
	parse_bad("user,hostfwd=tcp:1.2.3:80-:80", "is not an IPv4 address");
	parse_bad("user,hostfwd=tcp::80-10.0.2.15:80", "a guest address is not supported");
	parse_bad("user,hostfwd=tcp::80-:80,hostfwd=tcp::80-:81",
		"host port tcp/80 is forwarded twice");
	parse_bad("user,ip=10.0.0.1",
		"unknown or repeated option 'ip' (this kind takes hostfwd=, mac=)");
	parse_bad("network=lan,ip=10.0.0.300", "'10.0.0.300' is not an IPv4 address");
	parse_bad("network=lan,ip=10.0.0.3,ip=10.0.0.4", "unknown or repeated option 'ip'");
	parse_bad("network=bad/name", "--net 'network=bad/name'");
	parse_bad("network=lan,mac=01:00:00:00:00:01", "multicast");
	parse_bad("bridge=a-very-long-bridge", "is 18 bytes long; Linux allows at most 15");
	parse_bad("bridge=br0,hostfwd=tcp::1-:2", "this kind takes mac=");
	parse_bad("network=lan,ip", "option 'ip' needs a value");
}
END_TEST

START_TEST(default_bridge_names)
{
	char a[16], b[16];

	qc_net_default_bridge("lan", a);
	ck_assert_str_eq(a, "qc-lan");
	qc_net_default_bridge("123456789012", a);
	ck_assert_str_eq(a, "qc-123456789012");
	qc_net_default_bridge("project-alpha", a);
	qc_net_default_bridge("project-beta", b);
	ck_assert_uint_eq(strlen(a), 15);
	ck_assert(qc_str_has_prefix(a, "qc-project-"));
	ck_assert_str_ne(a, b);
}
END_TEST

/* --------------------------------------------- networks in a netns + root */

/* The netns tests' context on root: opened before each, closed after it. */
static qc_ctx *ctx;

static void ctx_setup(void)
{
	struct qc_error err = {0};

	ck_assert_msg(qc_ctx_open(root, &ctx, &err) == 0, "%s", err.msg);
}

static void ctx_teardown(void)
{
	qc_ctx_close(ctx);
	ctx = NULL;
}

static bool exists(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return access(p, F_OK) == 0;
}

/*
 * Through netlink: /sys/class/net shows the namespace sysfs was mounted in.
 * 1 with *info filled when link NAME exists, 0 when not.
 */
static int link_get(const char *name, struct qc_net_link_info *info)
{
	struct qc_net_nl *nl = NULL;
	int r;

	ck_assert_int_eq(qc_net_nl_open(&nl, NULL), 0);
	r = qc_net_link_get(nl, name, info, NULL);
	qc_net_nl_close(nl);
	return r;
}

static bool link_exists(const char *name)
{
	struct qc_net_link_info info;

	return link_get(name, &info) == 1;
}

/* The link NAME, which must exist. */
static struct qc_net_link_info link_info(const char *name)
{
	struct qc_net_link_info info = {0};

	ck_assert_int_eq(link_get(name, &info), 1);
	return info;
}

/* A VM skeleton: the directory (so leases count as live) and a domain. */
static struct qc_domain *vm(const char *name, const char *spec)
{
	struct qc_domain *d = qc_domain_new();
	struct qc_nic *nic;
	char p[256];
	bool none;
	int fd;

	d->name = qc_xstrdup(name);
	qc_domain_gen_uuid(d);
	nic = qc_domain_add_nic(d);
	nic->name = qc_xstrdup("net0");
	ck_assert_int_eq(qc_network_parse_spec(spec, nic, &none, NULL), 0);
	snprintf(p, sizeof(p), "%s/vms/%s", root, name);
	ck_assert_int_eq(qc_mkdir_p(p, 0700, NULL), 0);
	snprintf(p, sizeof(p), "%s/vms/%s/domain.xml", root, name);
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	return d;
}

START_TEST(networks_and_leases)
{
	struct qc_error err = {0};
	struct qc_network_create_opts o = {.name = "tiny", .subnet = "10.77.0.0/30"};
	struct qc_network_info *info = NULL;
	struct qc_domain *a, *b, *c;
	char gw[16];
	unsigned prefix;

	ck_assert_msg(qc_network_create(ctx, &o, &err) == 0, "%s", err.msg);
	ck_assert(link_exists("qc-tiny"));
	ck_assert(exists("networks/tiny.json"));
	ck_assert_int_eq(qc_network_gateway(ctx, "tiny", gw, &prefix, &err), 0);
	ck_assert_str_eq(gw, "10.77.0.1");
	ck_assert_uint_eq(prefix, 30);

	/* One guest address in a /30: the second VM is refused, nothing leased for it. */
	a = vm("a", "network=tiny");
	ck_assert_msg(qc_network_domain_create(ctx, a, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(a->nics[0].ip, "10.77.0.2/30");
	ck_assert_str_eq(a->nics[0].bridge, "qc-tiny");
	/* Again (a restart or re-create with the same uuid): the same address. */
	free(a->nics[0].ip);
	a->nics[0].ip = NULL;
	ck_assert_int_eq(qc_network_domain_create(ctx, a, &err), 0);
	ck_assert_str_eq(a->nics[0].ip, "10.77.0.2/30");

	b = vm("b", "network=tiny");
	ck_assert_int_eq(qc_network_domain_create(ctx, b, &err), -ENOSPC);
	ck_assert_str_eq(err.msg,
		"network 'tiny': subnet 10.77.0.0/30 is exhausted: all 1 "
		"guest addresses are leased; free one (delete a VM) or use a larger subnet");
	ck_assert_int_eq(qc_network_get(ctx, "tiny", &info, &err), 0);
	ck_assert_uint_eq(info->used, 1);
	ck_assert_str_eq(info->vms[0], "a");
	ck_assert_ptr_null(info->vms[1]);
	ck_assert(info->bridge_present);
	qc_network_info_free(info);

	/* net rm refused while a VM holds an address, naming it. */
	ck_assert_int_eq(qc_network_remove(ctx, "tiny", &err), -QC_ERR_BUSY);
	ck_assert_str_eq(
		err.msg, "network 'tiny' is in use by VM a; delete it first (qemuctl delete NAME)");
	ck_assert(link_exists("qc-tiny"));

	/* Unknown network at create. */
	c = vm("c", "network=nope");
	ck_assert_int_eq(qc_network_domain_create(ctx, c, &err), -QC_ERR_NOTFOUND);
	ck_assert_msg(strstr(err.msg, "network 'nope' does not exist"), "%s", err.msg);

	/* Delete releases; then b gets the address and rm is refused for b. */
	ck_assert_int_eq(qc_network_domain_release(ctx, a, &err), 0);
	ck_assert_int_eq(qc_network_domain_create(ctx, b, &err), 0);
	ck_assert_str_eq(b->nics[0].ip, "10.77.0.2/30");
	ck_assert_int_eq(qc_network_domain_release(ctx, b, &err), 0);
	ck_assert_int_eq(qc_network_remove(ctx, "tiny", &err), 0);
	ck_assert(!link_exists("qc-tiny"));
	ck_assert(!exists("networks/tiny.json"));
	ck_assert(!exists("networks/tiny.leases.json"));
	qc_domain_free(a);
	qc_domain_free(b);
	qc_domain_free(c);
}
END_TEST

START_TEST(requested_ip)
{
	struct qc_error err = {0};
	struct qc_network_create_opts o = {
		.name = "req", .subnet = "10.78.0.0/24", .bridge = "qcbr-req"};
	struct qc_domain *a, *b;

	ck_assert_msg(qc_network_create(ctx, &o, &err) == 0, "%s", err.msg);
	a = vm("ra", "network=req,ip=10.78.0.50");
	ck_assert_int_eq(qc_network_domain_create(ctx, a, &err), 0);
	ck_assert_str_eq(a->nics[0].ip, "10.78.0.50/24");
	b = vm("rb", "network=req,ip=10.78.0.50");
	ck_assert_int_eq(qc_network_domain_create(ctx, b, &err), -QC_ERR_EXISTS);
	ck_assert_str_eq(err.msg, "network 'req': address 10.78.0.50 is already leased to ra");
	free(b->nics[0].ip);
	b->nics[0].ip = qc_xstrdup("10.78.0.1");
	ck_assert_int_eq(qc_network_domain_create(ctx, b, &err), -QC_ERR_INVALID);
	ck_assert_msg(strstr(err.msg, "is the gateway"), "%s", err.msg);
	ck_assert_int_eq(qc_network_domain_release(ctx, a, &err), 0);
	ck_assert_int_eq(qc_network_remove(ctx, "req", &err), 0);
	qc_domain_free(a);
	qc_domain_free(b);
}
END_TEST

/*
 * Creating network name on subnet (and bridge, if given) is refused with
 * code and, if want is given, that message; err keeps the error.
 */
static void create_refused(struct qc_error *err, const char *name, const char *subnet,
	const char *bridge, int code, const char *want)
{
	struct qc_network_create_opts o = {.name = name, .subnet = subnet, .bridge = bridge};

	ck_assert_int_eq(qc_network_create(ctx, &o, err), -code);
	if (want)
		ck_assert_str_eq(err->msg, want);
}

START_TEST(create_refusals_leave_nothing)
{
	struct qc_error err = {0};
	struct qc_network_create_opts o = {.name = "one", .subnet = "10.80.0.0/16"};

	ck_assert_msg(qc_network_create(ctx, &o, &err) == 0, "%s", err.msg);

	create_refused(&err, "two", "10.80.5.0/24", NULL, QC_ERR_INVALID,
		"network 'two': subnet 10.80.5.0/24 overlaps network 'one' "
		"(10.80.0.0/16); pick a disjoint --subnet");
	ck_assert(!link_exists("qc-two"));
	ck_assert(!exists("networks/two.json"));

	create_refused(&err, "one", "10.81.0.0/24", NULL, QC_ERR_EXISTS,
		"network 'one' already exists");
	create_refused(&err, "two", "10.81.0.0/24", "qc-one", QC_ERR_EXISTS,
		"network 'two': bridge 'qc-one' is already used by network 'one'; "
		"pick another --bridge");
	create_refused(&err, "two", "10.81.0.0/24", "0123456789abcdef", QC_ERR_INVALID,
		"network 'two': --bridge: interface name '0123456789abcdef' is 16 "
		"bytes long; Linux allows at most 15");

	ck_assert_int_eq(system("ip link add qcveth0 type veth peer name qcveth0p"), 0);
	create_refused(&err, "two", "10.81.0.0/24", "qcveth0", QC_ERR_INVALID,
		"network 'two': bridge 'qcveth0': a link of that name exists and is "
		"not a bridge (kind 'veth'); pick another --bridge");
	ck_assert(link_exists("qcveth0"));

	create_refused(&err, "two", "10.81.0.0/31", NULL, QC_ERR_INVALID, NULL);
	ck_assert_msg(strstr(err.msg, "too small"), "%s", err.msg);
	create_refused(&err, "two", "10.81.0.0", NULL, QC_ERR_INVALID, NULL);
	create_refused(&err, "two/x", "10.81.0.0/24", NULL, QC_ERR_INVALID, NULL);
	ck_assert(!exists("networks/two.json"));
	ck_assert(!link_exists("qc-two"));

	/* An existing bridge is adopted and left in place by rm. */
	ck_assert_int_eq(system("ip link add qcbr-own type bridge"), 0);
	o = (struct qc_network_create_opts){
		.name = "two", .subnet = "10.81.0.0/24", .bridge = "qcbr-own"};
	ck_assert_int_eq(qc_network_create(ctx, &o, &err), 0);
	ck_assert_int_eq(qc_network_remove(ctx, "two", &err), 0);
	ck_assert(link_exists("qcbr-own"));
	ck_assert_int_eq(qc_network_remove(ctx, "one", &err), 0);
	ck_assert(!link_exists("qc-one"));
}
END_TEST

/* QEMU's words when it cannot bind a forward's host port, and what they name. */
START_TEST(fwd_bind_failed)
{
	char proto[4] = "";
	unsigned port = 0;

	ck_assert_int_eq(qc_network_fwd_bind_failed("VM 'a': start failed: QEMU exited during start "
						    "(exit status 1): qemu-system-x86_64: -netdev "
						    "user,id=n0,hostfwd=tcp:127.0.0.1:4567-:22: Could "
						    "not set up host forwarding rule "
						    "'tcp:127.0.0.1:4567-:22'",
				 proto, &port),
		1);
	ck_assert_str_eq(proto, "tcp");
	ck_assert_uint_eq(port, 4567);
	ck_assert_int_eq(qc_network_fwd_bind_failed(
				 "Could not set up host forwarding rule 'udp:0.0.0.0:65535-:53'", proto,
				 &port),
		1);
	ck_assert_str_eq(proto, "udp");
	ck_assert_uint_eq(port, 65535);
	ck_assert_int_eq(qc_network_fwd_bind_failed(
				 "Could not set up host forwarding rule 'tcp::80-:8080'", proto, &port),
		1);
	ck_assert_uint_eq(port, 80);
	/* anything else is not a port taken: no retry */
	port = 9;
	ck_assert_int_eq(qc_network_fwd_bind_failed(NULL, proto, &port), 0);
	ck_assert_int_eq(qc_network_fwd_bind_failed("", proto, &port), 0);
	ck_assert_int_eq(qc_network_fwd_bind_failed("QEMU exited during start: kvm: no", proto,
				 &port),
		0);
	ck_assert_int_eq(qc_network_fwd_bind_failed(
				 "Could not set up host forwarding rule 'sctp:1.2.3.4:80-:80'", proto,
				 &port),
		0);
	ck_assert_int_eq(qc_network_fwd_bind_failed(
				 "Could not set up host forwarding rule 'tcp:1.2.3.4:0-:80'", proto, &port),
		0);
	ck_assert_int_eq(qc_network_fwd_bind_failed(
				 "Could not set up host forwarding rule 'tcp:1.2.3.4:70000-:80'", proto,
				 &port),
		0);
	ck_assert_int_eq(qc_network_fwd_bind_failed(
				 "Could not set up host forwarding rule 'tcp:1.2.3.4:123456-:80'", proto,
				 &port),
		0);
	ck_assert_int_eq(qc_network_fwd_bind_failed(
				 "Could not set up host forwarding rule 'tcp:1.2.3.4:80'", proto, &port),
		0);
	ck_assert_int_eq(qc_network_fwd_bind_failed(
				 "Could not set up host forwarding rule 'tcp:1.2.3.4'", proto, &port),
		0);
	ck_assert_uint_eq(port, 9);
}
END_TEST

/* bind 127.0.0.1:port (SO_REUSEADDR on request, then listen): 0, else errno */
static int try_bind(unsigned port, bool reuse, int *ret_fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons((uint16_t) port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	ck_assert_int_ge(fd, 0);
	if (reuse)
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
		e = errno;
		close(fd);
		return e;
	}
	*ret_fd = fd;
	return 0;
}

/*
 * st's automatic TCP port (net1's first) is held: no plain bind gets it, a
 * bind with SO_REUSEADDR and listen (QEMU's slirp) does.  That one taken,
 * a retry picks fresh automatic ports and records them; a fixed port, or
 * the last try, is an error naming the port.
 */
static void held_port_cases(struct qc_domain *d, struct qc_network_start *st)
{
	cleanup_free char *dir = qc_xasprintf("%s/vms/%s", root, d->name);
	struct qc_error err = {0};
	unsigned taken = st->fwd_ports[1][0], other = st->fwd_ports[1][1], *ports = NULL;
	int thief = -1, fd = -1, dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char want[512];
	size_t n = 0;

	ck_assert_int_ge(dfd, 0);
	ck_assert_int_ge(st->held[0], 0);
	ck_assert_int_eq(try_bind(taken, false, &fd), EADDRINUSE);
	ck_assert_int_eq(try_bind(taken, true, &thief), 0);
	/* not QEMU's words about a port: not retried, the error kept */
	qc_error_set(&err, QC_ERR_CHILD, "start failed: no kvm");
	ck_assert_int_eq(qc_network_fwd_retry(ctx, dfd, d, st, 1, &err), 0);
	ck_assert_str_eq(err.msg, "start failed: no kvm");
	qc_error_set(&err, QC_ERR_CHILD,
		"VM 'st1': start failed: Could not set up host forwarding rule "
		"'tcp:127.0.0.1:%u-:80'",
		taken);
	ck_assert_int_eq(
		qc_network_fwd_retry(ctx, dfd, d, st, QC_NETWORK_FWD_TRIES, &err), -EADDRINUSE);
	snprintf(want, sizeof(want),
		"VM 'st1': NIC 'net1': the automatic host port of its forward to guest tcp port "
		"80 was taken by another program before QEMU bound it, %d times in a row (last: "
		"port %u, by pid %d ",
		QC_NETWORK_FWD_TRIES, taken, (int) getpid());
	ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s", err.msg);
	ck_assert_uint_eq(st->fwd_ports[1][0], taken);
	qc_error_set(&err, QC_ERR_CHILD,
		"VM 'st1': start failed: Could not set up host forwarding rule "
		"'tcp:127.0.0.1:%u-:80'",
		taken);
	ck_assert_int_eq(qc_network_fwd_retry(ctx, dfd, d, st, 1, &err), 1);
	ck_assert_int_eq(err.code, 0);
	ck_assert_uint_ne(st->fwd_ports[1][0], taken);
	ck_assert_uint_ne(st->fwd_ports[1][0], 0);
	ck_assert_uint_ne(st->fwd_ports[1][1], 0);
	ck_assert_uint_ne(st->fwd_ports[1][0], st->fwd_ports[1][1]);
	ck_assert_uint_eq(st->ports[0], st->fwd_ports[1][0]);
	ck_assert_int_eq(try_bind(st->fwd_ports[1][0], false, &fd), EADDRINUSE);
	ck_assert_int_eq(qc_network_load_ports(ctx, d->name, &ports, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ports[0], st->fwd_ports[1][0]);
	ck_assert_uint_eq(ports[1], st->fwd_ports[1][1]);
	free(ports);
	(void) other;
	close(thief);
	close(dfd);
}

START_TEST(start_taps_and_ports)
{
	struct qc_error err = {0};
	struct qc_network_create_opts o = {.name = "st", .subnet = "10.90.0.0/24"};
	struct qc_network_start st = {0};
	struct qc_domain *d;
	struct qc_nic *nic;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	char tap[16], tap1[16], want[512];
	bool none;
	int busy;

	ck_assert_int_eq(system("ip link set lo up"), 0);
	ck_assert_msg(qc_network_create(ctx, &o, &err) == 0, "%s", err.msg);
	d = vm("st1", "network=st");
	nic = qc_domain_add_nic(d);
	nic->name = qc_xstrdup("net1");
	ck_assert_int_eq(qc_network_parse_spec("user,hostfwd=tcp::0-:80", nic, &none, NULL), 0);
	ck_assert_int_eq(qc_network_domain_create(ctx, d, &err), 0);

	/* Simulate a host reboot: the bridge is gone and comes back at start. */
	ck_assert_int_eq(system("ip link del qc-st"), 0);
	ck_assert_msg(qc_network_domain_start(ctx, d, &st, &err) == 0, "%s", err.msg);
	ck_assert(link_exists("qc-st"));
	qc_network_tap_name(d, 0, tap);
	ck_assert_str_eq(st.tap_names[0], tap);
	ck_assert(link_exists(tap));
	ck_assert_int_ge(st.tap_fds[0], 0);
	ck_assert_int_eq(st.tap_fds[1], -1);
	ck_assert_uint_eq(st.n_ports, 2);
	ck_assert_uint_ne(st.fwd_ports[1][0], 0);
	ck_assert_uint_ne(st.fwd_ports[1][1], 0);
	ck_assert_uint_ne(st.fwd_ports[1][0], st.fwd_ports[1][1]);
	ck_assert_uint_eq(qc_network_fwd_port(d, 1, 1, st.ports, st.n_ports), st.fwd_ports[1][1]);
	{
		unsigned *ports = NULL;
		size_t n = 0;

		ck_assert_int_eq(qc_network_load_ports(ctx, "st1", &ports, &n, &err), 0);
		ck_assert_uint_eq(n, 2);
		ck_assert_uint_eq(ports[1], st.fwd_ports[1][1]);
		free(ports);
	}
	ck_assert_int_eq(link_info(tap).master, link_info("qc-st").ifindex);
	held_port_cases(d, &st);
	/* Starting again while the taps are held: refused, the first run untouched. */
	{
		struct qc_network_start st2 = {0};

		ck_assert_int_eq(qc_network_domain_start(ctx, d, &st2, &err), -EBUSY);
		ck_assert_msg(strstr(err.msg, "held by another process"), "%s", err.msg);
		ck_assert(link_exists(tap));
	}
	qc_network_start_clear(&st);
	ck_assert(!link_exists(tap));

	/* Hot-plug path: one NIC's tap alone; a user NIC has none. */
	{
		char name[16];
		int fd = -1;

		ck_assert_msg(
			qc_network_nic_open_tap(ctx, d, 0, name, &fd, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(name, tap);
		ck_assert_int_eq(link_info(tap).master, link_info("qc-st").ifindex);
		close(fd);
		ck_assert(!link_exists(tap));
		ck_assert_int_eq(
			qc_network_nic_open_tap(ctx, d, 1, name, &fd, &err), -QC_ERR_INVALID);
	}

	/* A fixed host port in use: a clear error, and no tap left behind. */
	busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(busy, (struct sockaddr *) &sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(busy, 1), 0);
	ck_assert_int_eq(getsockname(busy, (struct sockaddr *) &sa, &len), 0);
	nic = qc_domain_add_nic(d);
	nic->name = qc_xstrdup("net2");
	snprintf(want, sizeof(want), "user,hostfwd=tcp::%u-:8080", ntohs(sa.sin_port));
	ck_assert_int_eq(qc_network_parse_spec(want, nic, &none, NULL), 0);
	ck_assert_int_eq(qc_network_domain_start(ctx, d, &st, &err), -EADDRINUSE);
	snprintf(want, sizeof(want),
		"NIC 'net2': hostfwd tcp:127.0.0.1:%u-:8080: host port %u is in use; "
		"pick another HOSTPORT (0 picks a free one)",
		ntohs(sa.sin_port), ntohs(sa.sin_port));
	ck_assert_str_eq(err.msg, want);
	qc_network_tap_name(d, 0, tap1);
	ck_assert(!link_exists(tap1));
	close(busy);

	ck_assert_int_eq(qc_network_domain_release(ctx, d, &err), 0);
	ck_assert_int_eq(qc_network_remove(ctx, "st", &err), 0);
	qc_domain_free(d);
}
END_TEST

START_TEST(nic_views)
{
	struct qc_error err = {0};
	struct qc_network_create_opts o = {.name = "nv", .subnet = "10.91.0.0/24"};
	struct qc_vm_nic_info *v = NULL;
	struct qc_domain *d;
	struct qc_nic *nic;
	char dir[256];
	size_t n = 0;
	bool none;
	int dfd;

	ck_assert_msg(qc_network_create(ctx, &o, &err) == 0, "%s", err.msg);
	d = vm("nv1", "network=nv,ip=10.91.0.9,mac=52:54:00:00:00:09");
	nic = qc_domain_add_nic(d);
	nic->name = qc_xstrdup("net1");
	ck_assert_int_eq(qc_network_parse_spec(
				 "user,hostfwd=tcp::2222-:22,hostfwd=udp::0-:53", nic, &none, NULL),
		0);
	qc_net_mac_gen(d->uuid, 1, nic->mac);
	d->memory = 128 << 20;
	d->cpus = 1;
	ck_assert_int_eq(qc_network_domain_create(ctx, d, &err), 0);
	snprintf(dir, sizeof(dir), "%s/vms/nv1", root);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_msg(qc_domain_save(d, dfd, "domain.xml", &err) == 0, "%s", err.msg);
	close(dfd);

	ck_assert_msg(qc_vm_nics(ctx, "nv1", &v, &n, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].name, "net0");
	ck_assert_str_eq(v[0].type, "network");
	ck_assert_str_eq(v[0].mac, "52:54:00:00:00:09");
	ck_assert_str_eq(v[0].network, "nv");
	ck_assert_str_eq(v[0].bridge, "qc-nv");
	ck_assert_str_eq(v[0].ip, "10.91.0.9/24");
	ck_assert_ptr_null(v[0].tap); /* not running */
	ck_assert_str_eq(v[1].type, "user");
	ck_assert_uint_eq(v[1].n_fwds, 2);
	ck_assert_str_eq(v[1].fwds[0].host_addr, "127.0.0.1");
	ck_assert_uint_eq(v[1].fwds[0].host_port, 2222);
	ck_assert_uint_eq(v[1].fwds[0].guest_port, 22);
	ck_assert_str_eq(v[1].fwds[1].proto, "udp");
	ck_assert_uint_eq(v[1].fwds[1].host_port, 0); /* chosen at start */
	qc_vm_nics_free(v, n);
	ck_assert_int_eq(qc_vm_nics(ctx, "nope", &v, &n, &err), -QC_ERR_NOTFOUND);

	ck_assert_int_eq(qc_network_domain_release(ctx, d, &err), 0);
	ck_assert_int_eq(qc_network_remove(ctx, "nv", &err), 0);
	qc_domain_free(d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("net_driver");

	unit_tcase(s, "spec", spec_user, spec_network_bridge_none, spec_errors, default_bridge_names,
		ssh_routes, fwd_bind_failed, NULL);
	if (in_netns) {
		TCase *tc = unit_tcase(s, "netns", networks_and_leases, requested_ip,
			create_refusals_leave_nothing, start_taps_and_ports, nic_views, NULL);

		tcase_add_checked_fixture(tc, ctx_setup, ctx_teardown);
	}
	return s;
}

int main(void)
{
	int rc;
	char cmd[128];

	if (geteuid() == 0 && unshare(CLONE_NEWNET) == 0)
		in_netns = true;
	else
		fprintf(stderr,
			"check_driver_network: netns tests need root and unshare(CLONE_NEWNET); "
			"only the pure tests run\n");
	snprintf(root, sizeof(root), "/tmp/qc-check-net-XXXXXX");
	if (!mkdtemp(root))
		return 99;
	rc = unit_run(suite(), NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "check_driver_network: could not remove %s\n", root);
	if (rc != EXIT_SUCCESS)
		return rc;
	/* The netns half did not run: say so through the exit code (77 = skip). */
	return in_netns ? EXIT_SUCCESS : 77;
}
