/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/net: set up and tear down N taps on one bridge,
 *   A) through net/ (libnl-route-3 + /dev/net/tun, fd-held taps: teardown
 *      is close()),
 *   B) through ip(8) shell-outs, the way scripts do it:
 *      `ip tuntap add X mode tap` + `ip link set X master BR mtu M up`,
 *      then `ip link del X`.
 * Runs in a private network namespace it makes itself (root only), so the
 * host's interfaces are never touched.  Prints both times and the ratio.
 *
 * usage: net-bench [-n TAPS] [-r ROUNDS]   (defaults 50 taps, 3 rounds; best round counts)
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/net.h"

#define BRIDGE "qcbench0"

extern char **environ;

static void die(const char *what, const struct qc_error *err)
{
	fprintf(stderr, "net-bench: %s: %s\n", what, err ? err->msg : strerror(errno));
	exit(1);
}

static void run(const char *const argv[])
{
	pid_t pid;
	int status, r;

	r = posix_spawnp(&pid, argv[0], NULL, NULL, (char *const *) argv, environ);
	if (r != 0) {
		errno = r;
		die(argv[0], NULL);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "net-bench: %s %s %s failed\n", argv[0], argv[1], argv[2]);
		exit(1);
	}
}

struct times {
	int64_t setup, teardown;
};

static void check_gone(struct qc_net_nl *nl, const char *prefix, int n)
{
	struct qc_error err = {0};
	struct qc_net_link_info info;
	char name[16];

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		if (qc_net_link_get(nl, name, &info, &err) != 0) {
			fprintf(stderr, "net-bench: tap %s survived the teardown\n", name);
			exit(1);
		}
	}
}

/*
 * A) netlink.  batch: taps are opened into one interface group and torn
 * down with a single RTM_DELLINK for the group (then the fds are closed);
 * !batch: the product's crash path, close() per fd, one kernel unregister
 * (and its RCU grace periods) per tap.
 */
static struct times bench_netlink(struct qc_net_nl *nl, int n, bool batch)
{
	struct qc_error err = {0};
	int *fds = qc_xzalloc(sizeof(int) * (size_t) n);
	struct times t;
	char name[16];
	int64_t t0 = qc_now_us();

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "qcn%d", i);
		if (qc_net_tap_open_group(
			    nl, name, BRIDGE, 0, batch ? 4242 : 0, NULL, &fds[i], &err) < 0)
			die("netlink tap", &err);
	}
	t.setup = qc_now_us() - t0;
	t0 = qc_now_us();
	if (batch && qc_net_links_delete_group(nl, 4242, &err) < 0)
		die("netlink group delete", &err);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	t.teardown = qc_now_us() - t0;
	check_gone(nl, "qcn", n);
	free(fds);
	return t;
}

/* B) ip(8): what a shell script does, three spawns per tap. */
static struct times bench_ip(struct qc_net_nl *nl, int n)
{
	struct times t;
	char name[16];
	int64_t t0 = qc_now_us();

	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "qcs%d", i);
		run((const char *const[]){"ip", "tuntap", "add", name, "mode", "tap", NULL});
		run((const char *const[]){
			"ip", "link", "set", name, "master", BRIDGE, "mtu", "1500", "up", NULL});
	}
	t.setup = qc_now_us() - t0;
	t0 = qc_now_us();
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "qcs%d", i);
		run((const char *const[]){"ip", "link", "del", name, NULL});
	}
	t.teardown = qc_now_us() - t0;
	check_gone(nl, "qcs", n);
	return t;
}

static double ms(int64_t us)
{
	return (double) us / 1000.0;
}

int main(int argc, char **argv)
{
	struct qc_net_nl *nl = NULL;
	struct qc_error err = {0};
	int n = 50, rounds = 3, opt;
	struct times nlb = {INT64_MAX, INT64_MAX}, nlc = {INT64_MAX, INT64_MAX},
		     ipt = {INT64_MAX, INT64_MAX};

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else
			return 2;
	}
	if (n <= 0 || rounds <= 0)
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "net-bench: SKIP: needs root for a private network namespace\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0)
		die("unshare(CLONE_NEWNET)", NULL);
	if (qc_net_nl_open(&nl, &err) < 0)
		die("netlink", &err);
	if (qc_net_bridge_create(nl, BRIDGE, 1500, NULL, &err) < 0)
		die("bridge", &err);
	for (int r = 0; r < rounds; r++) {
		struct times a = bench_netlink(nl, n, true), c = bench_netlink(nl, n, false),
			     b = bench_ip(nl, n);

		printf("round %d: netlink setup %.1f ms + group delete %.1f ms | netlink setup "
		       "%.1f ms + "
		       "close() per fd %.1f ms | ip(8) setup %.1f ms + del %.1f ms\n",
			r + 1, ms(a.setup), ms(a.teardown), ms(c.setup), ms(c.teardown),
			ms(b.setup), ms(b.teardown));
		/* Best of the rounds, per phase. */
		nlb.setup = a.setup < nlb.setup ? a.setup : nlb.setup;
		nlb.teardown = a.teardown < nlb.teardown ? a.teardown : nlb.teardown;
		nlc.setup = c.setup < nlc.setup ? c.setup : nlc.setup;
		nlc.teardown = c.teardown < nlc.teardown ? c.teardown : nlc.teardown;
		ipt.setup = b.setup < ipt.setup ? b.setup : ipt.setup;
		ipt.teardown = b.teardown < ipt.teardown ? b.teardown : ipt.teardown;
	}
	printf("net: %d taps on one bridge, best of %d rounds\n", n, rounds);
	printf("  setup:    netlink %8.1f ms   ip(8) %8.1f ms   ratio %5.1fx\n", ms(nlb.setup),
		ms(ipt.setup), (double) ipt.setup / (double) nlb.setup);
	printf("  teardown: netlink group delete %8.1f ms   close() per fd %8.1f ms   ip link del "
	       "%8.1f ms\n",
		ms(nlb.teardown), ms(nlc.teardown), ms(ipt.teardown));
	printf("  setup+teardown: netlink (group delete) %.1f ms vs ip(8) %.1f ms: ratio %.1fx\n",
		ms(nlb.setup + nlb.teardown), ms(ipt.setup + ipt.teardown),
		(double) (ipt.setup + ipt.teardown) / (double) (nlb.setup + nlb.teardown));
	printf("  setup+teardown: netlink (close per fd)  %.1f ms vs ip(8) %.1f ms: ratio %.1fx\n",
		ms(nlc.setup + nlc.teardown), ms(ipt.setup + ipt.teardown),
		(double) (ipt.setup + ipt.teardown) / (double) (nlc.setup + nlc.teardown));
	qc_net_nl_close(nl);
	return 0;
}
