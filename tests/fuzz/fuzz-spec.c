/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command-line specs: --net SPEC (qc_network_parse_spec), --share
 * HOSTDIR:TAG[:ro] (define.c's static parse_share, reached by including
 * the file), --disk SIZE|FILE (qc_driver_disk_from_spec), CIDR, MAC, IPv4,
 * interface names, image refs and URL schemes.  What a parser accepts must
 * be usable: valid names, ports in range, MACs that parse again.
 *
 * The harness runs in an empty temp directory holding one directory "d",
 * so relative --share/--disk paths hit nothing else; absolute --disk paths
 * are skipped (they would run qemu-img on host files).  Because of that
 * chdir(), give the harness absolute corpus and -artifact_prefix paths (the
 * make targets do).
 */
#include "config.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

/* For the static parse_share; the archive's define.o is then never pulled in. */
#include "driver/define.c"

#include "driver/image.h"
#include "driver/network.h"
#include "net/net.h"
#include "storage/storage.h"
#include "tests/fuzz/fuzz.h"

static qc_ctx *ctx;
static char tmpdir[] = "/tmp/qc-fuzz-spec-XXXXXX";

static void cleanup_tmp(void)
{
	qc_ctx_close(ctx);
	(void) qc_rm_rf_at(AT_FDCWD, tmpdir, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char root[PATH_MAX];
	struct qc_error err = {0};

	(void) argc;
	(void) argv;
	if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0 || mkdir("d", 0700) < 0)
		abort();
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	if (qc_ctx_open(root, &ctx, &err) < 0) {
		fprintf(stderr, "qc_ctx_open: %s\n", err.msg);
		abort();
	}
	atexit(cleanup_tmp);
	return 0;
}

static void check_nic(const char *s, const struct qc_nic *n)
{
	char mac[18];

	if (n->mac[0])
		FUZZ_CHECK(qc_net_parse_mac("mac", n->mac, mac, NULL) == 0, "'%s': mac '%s'", s,
			n->mac);
	switch (n->type) {
	case QC_NIC_USER:
		FUZZ_CHECK(n->n_fwds >= 1, "'%s': user NIC without the ssh forward", s);
		for (size_t i = 0; i < n->n_fwds; i++) {
			const struct qc_hostfwd *f = &n->fwds[i];

			FUZZ_CHECK(!strcmp(f->proto, "tcp") || !strcmp(f->proto, "udp"),
				"'%s': proto '%s'", s, f->proto);
			FUZZ_CHECK(f->host_port <= 65535 && f->guest_port >= 1 &&
					   f->guest_port <= 65535,
				"'%s': ports %u %u", s, f->host_port, f->guest_port);
			FUZZ_CHECK(memchr(f->host_addr, 0, sizeof(f->host_addr)), "'%s'", s);
		}
		break;
	case QC_NIC_NETWORK:
		FUZZ_CHECK(n->network && qc_validate_name("network", n->network, NULL) == 0,
			"'%s': network '%s'", s, n->network ? n->network : "(null)");
		/* ip=ADDR or ip=ADDR/PREFIX (the prefix is checked against the network later) */
		if (n->ip && strchr(n->ip, '/'))
			FUZZ_CHECK(qc_net_parse_cidr("ip", n->ip, false, &(struct qc_net_cidr){0},
					   NULL) == 0,
				"'%s': ip '%s'", s, n->ip);
		else if (n->ip)
			FUZZ_CHECK(qc_net_parse_ipv4("ip", n->ip, &(uint32_t){0}, NULL) == 0,
				"'%s': ip '%s'", s, n->ip);
		break;
	case QC_NIC_BRIDGE:
		FUZZ_CHECK(n->bridge && qc_net_validate_ifname("bridge", n->bridge, NULL) == 0,
			"'%s': bridge '%s'", s, n->bridge ? n->bridge : "(null)");
		break;
	default:
		FUZZ_CHECK(0, "'%s': NIC type %d", s, (int) n->type);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_free char *s = fuzz_strndup(data, size);
	struct qc_error err = {0};
	struct qc_nic nic = {0};
	struct qc_share sh = {0};
	struct qc_disk disk = {0};
	struct qc_net_cidr cidr;
	struct qc_ss_ref ref = {0};
	uint64_t dsize = 0;
	uint32_t ip;
	bool none = false;
	char mac[18];
	int r;

	r = qc_network_parse_spec(s, &nic, &none, &err);
	fuzz_check_error(r, &err);
	if (r == 0 && !none)
		check_nic(s, &nic);
	qc_nic_clear(&nic);

	r = parse_share(s, &sh, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		FUZZ_CHECK(sh.path && sh.path[0] == '/', "'%s': share path", s);
		FUZZ_CHECK(sh.tag && *sh.tag && strlen(sh.tag) <= 31, "'%s': tag", s);
	} else {
		FUZZ_CHECK(strstr(err.msg, "--share"), "'%s': %s", s, err.msg);
	}
	qc_share_clear(&sh);

	if (s[0] != '/' && !strstr(s, "..")) {
		r = qc_driver_disk_from_spec(ctx, s, 1, "/nonexistent/vm", &disk, &dsize, &err);
		fuzz_check_error(r, &err);
		if (r == 0)
			FUZZ_CHECK(dsize >= (1u << 20) && disk.owned, "'%s': disk size", s);
		qc_disk_clear(&disk);
	}

	r = qc_net_parse_cidr("--subnet", s, true, &cidr, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		FUZZ_CHECK(cidr.prefix <= 32 &&
				   (cidr.prefix == 32 ||
					   (cidr.addr & (0xffffffffu >> cidr.prefix)) == 0),
			"'%s': %08x/%u has host bits", s, cidr.addr, cidr.prefix);
	r = qc_net_parse_mac("mac", s, mac, &err);
	fuzz_check_error(r, &err);
	if (r == 0) {
		char again[18];

		FUZZ_CHECK(strlen(mac) == 17, "'%s' -> '%s'", s, mac);
		FUZZ_CHECK(qc_net_parse_mac("mac", mac, again, NULL) == 0 && !strcmp(mac, again),
			"'%s' -> '%s' does not parse again", s, mac);
	}
	r = qc_net_parse_ipv4("ip", s, &ip, &err);
	fuzz_check_error(r, &err);
	r = qc_net_validate_ifname("--bridge", s, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= 15 && !strchr(s, '/'), "ifname '%s'", s);

	r = qc_ss_ref_parse(s, &ref, &err);
	fuzz_check_error(r, &err);
	if (r == 0)
		FUZZ_CHECK(ref.release && *ref.release, "ref '%s' without a release", s);
	qc_ss_ref_clear(&ref);
	r = qc_http_check_url(s, false, &err);
	fuzz_check_error(r, &err);
	return 0;
}
