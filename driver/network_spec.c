/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --net SPEC: user[,hostfwd=...], network=NAME, bridge=BR or none, with
 * a MAC, model and forwards, parsed into a NIC of the definition; and the
 * default NIC (user-mode, ssh forwarded from an automatic host port).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "driver/network.h"
#include "net/net.h"

static void add_fwd(struct qc_nic *nic, const struct qc_hostfwd *f)
{
	nic->fwds = qc_xrealloc(nic->fwds, (nic->n_fwds + 1) * sizeof(*nic->fwds));
	nic->fwds[nic->n_fwds++] = *f;
}

static void add_ssh_fwd(struct qc_nic *nic)
{
	struct qc_hostfwd ssh = {.proto = "tcp", .host_port = 0, .guest_port = 22};

	for (size_t i = 0; i < nic->n_fwds; i++)
		if (nic->fwds[i].guest_port == 22 && !strcmp(nic->fwds[i].proto, "tcp"))
			return;
	add_fwd(nic, &ssh);
}

void qc_network_default_nic(struct qc_nic *nic)
{
	nic->type = QC_NIC_USER;
	add_ssh_fwd(nic);
}

static int parse_port(const char *spec, const char *what, const char *s, unsigned min,
	unsigned *ret, struct qc_error *err)
{
	uint64_t v;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5 ||
		(v = strtoull(s, NULL, 10)) > 65535 || v < min)
		return qc_error_set(err, QC_ERR_INVALID,
			"--net '%s': bad %s '%s' (expected %u-65535)", spec, what, s, min);
	*ret = (unsigned) v;
	return 0;
}

/* hostfwd=tcp:[ADDR]:HOSTPORT-[:]GUESTPORT, also the short tcp:HOSTPORT-:GUESTPORT. */
static int parse_hostfwd(
	const char *spec, const char *val, struct qc_hostfwd *f, struct qc_error *err)
{
	cleanup_free char *s = qc_xstrdup(val);
	char *colon, *dash, *host, *guest, *addr = NULL;
	int r;

	memset(f, 0, sizeof(*f));
	colon = strchr(s, ':');
	dash = strchr(s, '-');
	if (!colon || !dash || dash < colon)
		return qc_error_set(err, QC_ERR_INVALID,
			"--net '%s': bad hostfwd '%s' (expected tcp:[ADDR]:HOSTPORT-:GUESTPORT, "
			"e.g. tcp::8080-:80)",
			spec, val);
	*colon = 0;
	*dash = 0;
	if (strcmp(s, "tcp") && strcmp(s, "udp"))
		return qc_error_set(err, QC_ERR_INVALID,
			"--net '%s': hostfwd protocol '%s' is not tcp or udp", spec, s);
	snprintf(f->proto, sizeof(f->proto), "%s", s);
	host = colon + 1;
	/* host part: "PORT" or "ADDR:PORT" or ":PORT" */
	if ((colon = strrchr(host, ':'))) {
		*colon = 0;
		addr = host;
		host = colon + 1;
	}
	if (addr && *addr) {
		uint32_t a;

		if ((r = qc_net_parse_ipv4("hostfwd address", addr, &a, err)) < 0)
			return qc_error_prefix(err, "--net '%s'", spec);
		snprintf(f->host_addr, sizeof(f->host_addr), "%s", addr);
	}
	if ((r = parse_port(spec, "hostfwd host port", host, 0, &f->host_port, err)) < 0)
		return r;
	guest = dash + 1;
	if (*guest == ':')
		guest++;
	else if (strchr(guest, ':'))
		return qc_error_set(err, QC_ERR_INVALID,
			"--net '%s': hostfwd '%s': a guest address is not supported (use "
			"-:GUESTPORT)",
			spec, val);
	return parse_port(spec, "hostfwd guest port", guest, 1, &f->guest_port, err);
}

int qc_network_parse_spec(
	const char *spec, struct qc_nic *nic, bool *ret_none, struct qc_error *err)
{
	cleanup_free char *copy = NULL;
	struct qc_nic n = {0};
	char *save = NULL, *tok;
	bool first = true, have_ip = false;
	int r;

	*ret_none = false;
	if (!spec || !*spec)
		return qc_error_set(err, QC_ERR_INVALID,
			"--net: empty spec (expected user[,hostfwd=...], network=NAME, bridge=BR "
			"or none)");
	if (!strcmp(spec, "none")) {
		*ret_none = true;
		return 0;
	}
	copy = qc_xstrdup(spec);
	for (tok = strtok_r(copy, ",", &save); tok;
		tok = strtok_r(NULL, ",", &save), first = false) {
		char *eq = strchr(tok, '=');
		const char *key = tok, *val = eq ? eq + 1 : NULL;

		if (eq)
			*eq = 0;
		if (first) {
			if (!strcmp(key, "user") && !val) {
				n.type = QC_NIC_USER;
			} else if (!strcmp(key, "network") && val) {
				n.type = QC_NIC_NETWORK;
				if ((r = qc_validate_name("network", val, err)) < 0)
					goto fail_prefix;
				n.network = qc_xstrdup(val);
			} else if (!strcmp(key, "bridge") && val) {
				n.type = QC_NIC_BRIDGE;
				if ((r = qc_net_validate_ifname("bridge", val, err)) < 0)
					goto fail_prefix;
				n.bridge = qc_xstrdup(val);
			} else {
				r = qc_error_set(err, QC_ERR_INVALID,
					"--net '%s': unknown kind '%s%s%s' (expected user, "
					"network=NAME, bridge=BR or none)",
					spec, key, val ? "=" : "", val ? val : "");
				goto fail;
			}
			continue;
		}
		if (!val) {
			r = qc_error_set(err, QC_ERR_INVALID,
				"--net '%s': option '%s' needs a value", spec, key);
			goto fail;
		}
		if (!strcmp(key, "mac")) {
			if ((r = qc_net_parse_mac("mac", val, n.mac, err)) < 0)
				goto fail_prefix;
		} else if (!strcmp(key, "hostfwd") && n.type == QC_NIC_USER) {
			struct qc_hostfwd f;

			if ((r = parse_hostfwd(spec, val, &f, err)) < 0)
				goto fail;
			for (size_t i = 0; i < n.n_fwds; i++) {
				if (f.host_port && n.fwds[i].host_port == f.host_port &&
					!strcmp(n.fwds[i].proto, f.proto)) {
					r = qc_error_set(err, QC_ERR_INVALID,
						"--net '%s': host port %s/%u is forwarded twice",
						spec, f.proto, f.host_port);
					goto fail;
				}
			}
			add_fwd(&n, &f);
		} else if (!strcmp(key, "ip") && n.type == QC_NIC_NETWORK && !have_ip) {
			struct qc_net_cidr c;
			uint32_t a;

			if (strchr(val, '/')) {
				if ((r = qc_net_parse_cidr("ip", val, false, &c, err)) < 0)
					goto fail_prefix;
			} else if ((r = qc_net_parse_ipv4("ip", val, &a, err)) < 0) {
				goto fail_prefix;
			}
			n.ip = qc_xstrdup(val);
			have_ip = true;
		} else {
			const char *allowed = n.type == QC_NIC_USER	 ? "hostfwd=, mac="
					      : n.type == QC_NIC_NETWORK ? "ip=, mac="
									 : "mac=";
			r = qc_error_set(err, QC_ERR_INVALID,
				"--net '%s': unknown or repeated option '%s' (this kind takes %s)",
				spec, key, allowed);
			goto fail;
		}
	}
	if (n.type == QC_NIC_USER)
		add_ssh_fwd(&n);
	/* Hand over the parsed fields; name and model stay the caller's. */
	nic->type = n.type;
	if (n.mac[0])
		memcpy(nic->mac, n.mac, sizeof(nic->mac));
	free(nic->network);
	nic->network = n.network;
	free(nic->bridge);
	nic->bridge = n.bridge;
	free(nic->ip);
	nic->ip = n.ip;
	free(nic->fwds);
	nic->fwds = n.fwds;
	nic->n_fwds = n.n_fwds;
	return 0;
fail_prefix:
	qc_error_prefix(err, "--net '%s'", spec);
fail:
	qc_nic_clear(&n);
	return r;
}
