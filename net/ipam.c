/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The address allocator of a named network.  Pure: the driver loads the
 * leases from disk under a lock, calls these, and writes them back.
 * Addresses are handed out lowest-first so the same sequence of VMs gets
 * the same addresses on every host, which keeps tests and docs predictable.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

int qc_net_ipam_init(
	struct qc_net_ipam *ipam, const struct qc_net_cidr *subnet, struct qc_error *err)
{
	char buf[24];

	memset(ipam, 0, sizeof(*ipam));
	qc_net_format_cidr(subnet, buf, sizeof(buf));
	if (subnet->addr & ~qc_net_prefix_mask(subnet->prefix))
		return qc_error_set(err, QC_ERR_INVALID, "subnet %s has host bits set", buf);
	/* /31 and /32 leave nothing once the gateway is taken; < /8 is a typo. */
	if (subnet->prefix > 30)
		return qc_error_set(err, QC_ERR_INVALID,
			"subnet %s is too small: it leaves no address for guests next to the "
			"gateway; use /30 or larger",
			buf);
	if (subnet->prefix < 8)
		return qc_error_set(err, QC_ERR_INVALID,
			"subnet %s is too large (prefix < 8); use /8 or longer", buf);
	ipam->subnet = *subnet;
	ipam->gateway = subnet->addr + 1;
	return 0;
}

void qc_net_ipam_clear(struct qc_net_ipam *ipam)
{
	for (size_t i = 0; i < ipam->n_leases; i++) {
		free(ipam->leases[i].key);
		free(ipam->leases[i].owner);
	}
	free(ipam->leases);
	ipam->leases = NULL;
	ipam->n_leases = 0;
}

static uint32_t first_host(const struct qc_net_ipam *ipam)
{
	return ipam->gateway + 1;
}

static uint32_t last_host(const struct qc_net_ipam *ipam)
{
	uint32_t bcast = ipam->subnet.addr | ~qc_net_prefix_mask(ipam->subnet.prefix);

	return bcast - 1;
}

uint32_t qc_net_ipam_capacity(const struct qc_net_ipam *ipam)
{
	return last_host(ipam) - first_host(ipam) + 1;
}

static ssize_t find_key(const struct qc_net_ipam *ipam, const char *key)
{
	for (size_t i = 0; i < ipam->n_leases; i++)
		if (!strcmp(ipam->leases[i].key, key))
			return (ssize_t) i;
	return -1;
}

static ssize_t find_addr(const struct qc_net_ipam *ipam, uint32_t addr)
{
	for (size_t i = 0; i < ipam->n_leases; i++)
		if (ipam->leases[i].addr == addr)
			return (ssize_t) i;
	return -1;
}

const struct qc_net_lease *qc_net_ipam_find(const struct qc_net_ipam *ipam, const char *key)
{
	ssize_t i = find_key(ipam, key);

	return i < 0 ? NULL : &ipam->leases[i];
}

static void insert(struct qc_net_ipam *ipam, const char *key, const char *owner, uint32_t addr)
{
	size_t i = 0;

	while (i < ipam->n_leases && ipam->leases[i].addr < addr)
		i++;
	ipam->leases = qc_xrealloc(ipam->leases, (ipam->n_leases + 1) * sizeof(*ipam->leases));
	memmove(&ipam->leases[i + 1], &ipam->leases[i],
		(ipam->n_leases - i) * sizeof(*ipam->leases));
	ipam->leases[i] = (struct qc_net_lease){
		.key = qc_xstrdup(key),
		.owner = owner ? qc_xstrdup(owner) : NULL,
		.addr = addr,
	};
	ipam->n_leases++;
}

static void remove_at(struct qc_net_ipam *ipam, size_t i)
{
	free(ipam->leases[i].key);
	free(ipam->leases[i].owner);
	memmove(&ipam->leases[i], &ipam->leases[i + 1],
		(ipam->n_leases - i - 1) * sizeof(*ipam->leases));
	ipam->n_leases--;
}

static int check_guest_addr(const struct qc_net_ipam *ipam, uint32_t addr, struct qc_error *err)
{
	char ip[16], sub[24];

	qc_net_format_ipv4(addr, ip, sizeof(ip));
	qc_net_format_cidr(&ipam->subnet, sub, sizeof(sub));
	if (!qc_net_cidr_contains(&ipam->subnet, addr))
		return qc_error_set(err, QC_ERR_INVALID, "address %s is not in subnet %s", ip, sub);
	if (addr == ipam->gateway)
		return qc_error_set(
			err, QC_ERR_INVALID, "address %s is the gateway of %s", ip, sub);
	if (addr < first_host(ipam) || addr > last_host(ipam))
		return qc_error_set(err, QC_ERR_INVALID,
			"address %s is the network or broadcast address of %s", ip, sub);
	return 0;
}

int qc_net_ipam_add(struct qc_net_ipam *ipam, const char *key, const char *owner, uint32_t addr,
	struct qc_error *err)
{
	ssize_t i;
	int r;

	if ((r = check_guest_addr(ipam, addr, err)) < 0)
		return r;
	if (find_key(ipam, key) >= 0)
		return qc_error_set(err, QC_ERR_EXISTS, "duplicate lease for '%s'", key);
	if ((i = find_addr(ipam, addr)) >= 0) {
		char ip[16];

		qc_net_format_ipv4(addr, ip, sizeof(ip));
		return qc_error_set(err, QC_ERR_EXISTS,
			"address %s is leased twice ('%s' and '%s')", ip, ipam->leases[i].key, key);
	}
	insert(ipam, key, owner, addr);
	return 0;
}

int qc_net_ipam_alloc(struct qc_net_ipam *ipam, const char *key, const char *owner, uint32_t want,
	uint32_t *ret, struct qc_error *err)
{
	ssize_t cur = find_key(ipam, key), other;
	uint32_t a;
	int r;

	if (want == 0) {
		if (cur >= 0) {
			*ret = ipam->leases[cur].addr;
			return 0;
		}
		/* Leases are sorted by address: walk them for the first gap. */
		a = first_host(ipam);
		for (size_t i = 0; i < ipam->n_leases && a <= last_host(ipam); i++) {
			if (ipam->leases[i].addr == a)
				a++;
			else if (ipam->leases[i].addr > a)
				break;
		}
		if (a > last_host(ipam) || a < first_host(ipam)) {
			char sub[24];

			qc_net_format_cidr(&ipam->subnet, sub, sizeof(sub));
			return qc_error_set(err, ENOSPC,
				"subnet %s is exhausted: all %u guest addresses are leased; free "
				"one (delete a VM) or use a larger subnet",
				sub, qc_net_ipam_capacity(ipam));
		}
		insert(ipam, key, owner, a);
		*ret = a;
		return 0;
	}

	if ((r = check_guest_addr(ipam, want, err)) < 0)
		return r;
	other = find_addr(ipam, want);
	if (other >= 0 && other != cur) {
		char ip[16];
		const struct qc_net_lease *l = &ipam->leases[other];

		qc_net_format_ipv4(want, ip, sizeof(ip));
		return qc_error_set(err, QC_ERR_EXISTS, "address %s is already leased to %s", ip,
			l->owner ? l->owner : l->key);
	}
	if (other < 0) {
		if (cur >= 0)
			remove_at(ipam, (size_t) cur);
		insert(ipam, key, owner, want);
	}
	*ret = want;
	return 0;
}

int qc_net_ipam_release(struct qc_net_ipam *ipam, const char *key)
{
	ssize_t i = find_key(ipam, key);

	if (i < 0)
		return 0;
	remove_at(ipam, (size_t) i);
	return 1;
}

size_t qc_net_ipam_release_prefix(struct qc_net_ipam *ipam, const char *prefix)
{
	size_t n = 0;

	for (size_t i = 0; i < ipam->n_leases;) {
		if (qc_str_has_prefix(ipam->leases[i].key, prefix)) {
			remove_at(ipam, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}
