/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/link.c and net/tap.c against the real kernel, inside a network
 * namespace this program makes for itself (unshare(CLONE_NEWNET) before
 * any test runs; the namespace dies with the process, so nothing can leak
 * onto the host).  Results are cross-checked with `ip -j link`.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/net.h"
#include "tests/unit/check_main.h"

/* Each test's netlink socket: opened before it, closed after it. */
static struct qc_net_nl *nl;

static void nl_setup(void)
{
	struct qc_error err = {0};

	ck_assert_msg(qc_net_nl_open(&nl, &err) == 0, "%s", err.msg);
}

static void nl_teardown(void)
{
	qc_net_nl_close(nl);
	nl = NULL;
}

/* Output of `ip -j ... ` (a short JSON document) as a fresh string. */
static char *run_ip(const char *args)
{
	char cmd[256], *out = qc_xzalloc(65536);
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip %s 2>&1", args);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, 65535, f);
	out[n] = 0;
	pclose(f);
	return out;
}

/*
 * A link that is not a bridge: a dummy where the dummy module exists, else
 * a veth pair (some CI kernels lack CONFIG_DUMMY).  Returns its kind.
 */
static const char *make_nonbridge(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "ip link add %s type dummy 2>/dev/null", name);
	if (system(cmd) == 0)
		return "dummy";
	snprintf(cmd, sizeof(cmd), "ip link add %s type veth peer name %sp", name, name);
	ck_assert_int_eq(system(cmd), 0);
	return "veth";
}

static bool link_exists(const char *name)
{
	struct qc_net_link_info info;

	return qc_net_link_get(nl, name, &info, NULL) == 1;
}

START_TEST(bridge_lifecycle)
{
	struct qc_net_cidr gw = {.addr = 0x0a050001u, .prefix = 24};
	struct qc_net_link_info info;
	struct qc_error err = {0};
	char *out;

	ck_assert_msg(qc_net_bridge_create(nl, "qcbr-a", 1400, &gw, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_net_bridge_get(nl, "qcbr-a", &info, &err), 0);
	ck_assert_str_eq(info.kind, "bridge");
	ck_assert_uint_eq(info.mtu, 1400);
	ck_assert(info.up);

	out = run_ip("-j -d link show dev qcbr-a");
	ck_assert_msg(strstr(out, "\"ifname\":\"qcbr-a\""), "%s", out);
	ck_assert_msg(strstr(out, "\"info_kind\":\"bridge\""), "%s", out);
	ck_assert_msg(strstr(out, "\"mtu\":1400"), "%s", out);
	ck_assert_msg(strstr(out, "\"UP\""), "%s", out);
	free(out);
	out = run_ip("-j addr show dev qcbr-a");
	ck_assert_msg(strstr(out, "\"local\":\"10.5.0.1\",\"prefixlen\":24"), "%s", out);
	free(out);

	/* Creating it again is refused; adding the same address again is not an error. */
	ck_assert_int_eq(qc_net_bridge_create(nl, "qcbr-a", 0, NULL, &err), -QC_ERR_EXISTS);
	ck_assert_str_eq(err.msg, "bridge 'qcbr-a' already exists");
	ck_assert_int_eq(qc_net_link_ensure_addr_up(nl, "qcbr-a", &gw, &err), 0);

	ck_assert_msg(qc_net_bridge_delete(nl, "qcbr-a", &err) == 0, "%s", err.msg);
	ck_assert(!link_exists("qcbr-a"));
	out = run_ip("-j link show");
	ck_assert_msg(!strstr(out, "qcbr-a"), "%s", out);
	free(out);
	ck_assert_int_eq(qc_net_bridge_delete(nl, "qcbr-a", &err), -QC_ERR_NOTFOUND);
	ck_assert_str_eq(err.msg, "bridge 'qcbr-a': no such interface");
}
END_TEST

START_TEST(bridge_bad_names)
{
	struct qc_error err = {0};
	const char *kind;
	char *out, want[256];

	ck_assert_int_eq(
		qc_net_bridge_create(nl, "qc-bridge-name-16", 0, NULL, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "bridge: interface name 'qc-bridge-name-16' is 17 bytes long; "
				  "Linux allows at most 15");

	kind = make_nonbridge("qcdummy0");
	ck_assert_int_eq(qc_net_bridge_create(nl, "qcdummy0", 0, NULL, &err), -QC_ERR_EXISTS);
	snprintf(want, sizeof(want),
		"bridge 'qcdummy0': a link of that name exists and is not a bridge (kind '%s')",
		kind);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(qc_net_bridge_get(nl, "qcdummy0", NULL, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_net_bridge_delete(nl, "qcdummy0", &err), -QC_ERR_INVALID);
	/* Refusing left the dummy alone. */
	out = run_ip("-j -d link show dev qcdummy0");
	snprintf(want, sizeof(want), "\"info_kind\":\"%s\"", kind);
	ck_assert_msg(strstr(out, want), "%s", out);
	free(out);
	ck_assert_int_eq(qc_net_link_delete(nl, "qcdummy0", &err), 0);
}
END_TEST

START_TEST(tap_on_bridge)
{
	struct qc_net_link_info br, tap;
	struct qc_error err = {0};
	char name[16], *out;
	int fd = -1;

	ck_assert_msg(qc_net_bridge_create(nl, "qcbr-t", 1450, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_net_bridge_get(nl, "qcbr-t", &br, &err), 0);
	ck_assert_msg(
		qc_net_tap_open(nl, "qctap-t1", "qcbr-t", 0, name, &fd, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(name, "qctap-t1");
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(qc_net_link_get(nl, "qctap-t1", &tap, &err), 1);
	ck_assert_str_eq(tap.kind, "tun");
	ck_assert_int_eq(tap.master, br.ifindex);
	ck_assert_uint_eq(tap.mtu, 1450);
	ck_assert(tap.up);
	out = run_ip("-j link show dev qctap-t1");
	ck_assert_msg(strstr(out, "\"master\":\"qcbr-t\""), "%s", out);
	ck_assert_msg(strstr(out, "\"mtu\":1450"), "%s", out);
	free(out);

	/* A second open of a held tap is refused, not silently shared. */
	{
		int fd2 = -1;

		ck_assert_int_eq(
			qc_net_tap_open(nl, "qctap-t1", "qcbr-t", 0, NULL, &fd2, &err), -EBUSY);
		ck_assert_int_eq(fd2, -1);
		ck_assert_msg(strstr(err.msg, "held by another process"), "%s", err.msg);
	}

	/* Kernel-chosen name. */
	{
		int fd3 = -1;

		ck_assert_int_eq(qc_net_tap_open(nl, NULL, "qcbr-t", 1400, name, &fd3, &err), 0);
		ck_assert(qc_str_has_prefix(name, "qctap"));
		ck_assert_int_eq(qc_net_link_get(nl, name, &tap, &err), 1);
		ck_assert_uint_eq(tap.mtu, 1400);
		close(fd3);
		ck_assert(!link_exists(name));
	}

	/* Closing the fd is the whole teardown. */
	close(fd);
	ck_assert(!link_exists("qctap-t1"));
	out = run_ip("-j link show");
	ck_assert_msg(!strstr(out, "qctap-t1"), "%s", out);
	free(out);
	ck_assert_int_eq(qc_net_bridge_delete(nl, "qcbr-t", &err), 0);
}
END_TEST

START_TEST(tap_errors)
{
	struct qc_error err = {0};
	int fd = -1;

	ck_assert_int_eq(
		qc_net_tap_open(nl, "qctap-e1", "qcbr-none", 0, NULL, &fd, &err), -QC_ERR_NOTFOUND);
	ck_assert_str_eq(err.msg, "bridge 'qcbr-none': no such interface");
	(void) make_nonbridge("qcdummy1");
	ck_assert_int_eq(
		qc_net_tap_open(nl, "qctap-e1", "qcdummy1", 0, NULL, &fd, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(
		qc_net_tap_open(nl, "qcdummy1", NULL, 0, NULL, &fd, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "tap 'qcdummy1': a link of that name exists and is not a tap");
	ck_assert_int_eq(qc_net_tap_open(nl, "qctap-name-too-long", NULL, 0, NULL, &fd, &err),
		-QC_ERR_INVALID);
	ck_assert_int_eq(fd, -1);
	ck_assert(!link_exists("qctap-e1"));
	ck_assert_int_eq(qc_net_link_delete(nl, "qcdummy1", &err), 0);
}
END_TEST

/* The point of fd passing: a SIGKILLed holder leaves no interface behind. */
START_TEST(tap_gone_after_sigkill)
{
	struct qc_error err = {0};
	int p[2], status, i;
	char c;
	pid_t pid;

	ck_assert_msg(qc_net_bridge_create(nl, "qcbr-k", 0, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct qc_net_nl *cnl = NULL;
		int fd;

		if (qc_net_nl_open(&cnl, NULL) < 0 ||
			qc_net_tap_open(cnl, "qctap-k1", "qcbr-k", 0, NULL, &fd, NULL) < 0)
			_exit(1);
		(void) !write(p[1], "r", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert(link_exists("qctap-k1"));
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	/* The kernel unregisters the device as the last fd closes; allow it a moment. */
	for (i = 0; i < 100 && link_exists("qctap-k1"); i++)
		usleep(20000);
	ck_assert(!link_exists("qctap-k1"));
	{
		char *out = run_ip("-j link show");

		ck_assert_msg(!strstr(out, "qctap-k1"), "%s", out);
		free(out);
	}
	ck_assert_int_eq(qc_net_bridge_delete(nl, "qcbr-k", &err), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("net_link");

	TCase *tc = unit_tcase(s, "netns", bridge_lifecycle, bridge_bad_names, tap_on_bridge,
		tap_errors, tap_gone_after_sigkill, NULL);

	tcase_add_checked_fixture(tc, nl_setup, nl_teardown);
	return s;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr,
			"check_net_link: SKIP: needs root (CAP_NET_ADMIN) for a private netns\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "check_net_link: SKIP: unshare(CLONE_NEWNET): %s\n",
			strerror(errno));
		return 77;
	}
	if (access("/dev/net/tun", R_OK | W_OK) < 0) {
		fprintf(stderr, "check_net_link: FAIL: /dev/net/tun: %s\n", strerror(errno));
		return 1;
	}
	return unit_run(suite(), NULL);
}
