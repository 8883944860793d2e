/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host ports of a VM's user-mode forwards (fixed in the definition or
 * picked at start and recorded), and from them where ssh reaches the guest:
 * what `info`, `list` and `qemuctl ssh` all report the same way.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"
#include "driver/network.h"

unsigned qc_network_fwd_port(
	const struct qc_domain *d, size_t nic, size_t fwd, const unsigned *ports, size_t n_ports)
{
	size_t flat = 0;

	if (nic >= d->n_nics || d->nics[nic].type != QC_NIC_USER || fwd >= d->nics[nic].n_fwds)
		return 0;
	if (d->nics[nic].fwds[fwd].host_port)
		return d->nics[nic].fwds[fwd].host_port;
	flat = qc_network_fwd_index(d, nic) + fwd;
	return ports && flat < n_ports ? ports[flat] : 0;
}

size_t qc_network_fwd_index(const struct qc_domain *d, size_t nic)
{
	size_t flat = 0;

	for (size_t i = 0; i < nic && i < d->n_nics; i++)
		if (d->nics[i].type == QC_NIC_USER)
			flat += d->nics[i].n_fwds;
	return flat;
}

struct qc_ssh_route *qc_network_ssh_routes(const struct qc_domain *d, size_t *ret_n)
{
	struct qc_ssh_route *v = NULL;
	size_t n = 0;

	/* A user-mode forward of guest tcp/22 first: it works without routes. */
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_nic *nic = &d->nics[i];

		for (size_t f = 0; nic->type == QC_NIC_USER && f < nic->n_fwds; f++) {
			const char *a = nic->fwds[f].host_addr;

			if (nic->fwds[f].guest_port != 22 || strcmp(nic->fwds[f].proto, "tcp"))
				continue;
			v = qc_xrealloc(v, (n + 2) * sizeof(*v));
			/* A forward bound on every address (0.0.0.0) answers on loopback too. */
			snprintf(v[n].host, sizeof(v[n].host), "%s",
				a[0] && strcmp(a, "0.0.0.0") ? a : "127.0.0.1");
			v[n].port = nic->fwds[f].host_port;
			v[n++].index = qc_network_fwd_index(d, i) + f;
		}
	}
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_nic *nic = &d->nics[i];
		size_t len;

		if (nic->type != QC_NIC_NETWORK || !nic->ip || !*nic->ip)
			continue;
		len = strcspn(nic->ip, "/");
		if (len >= sizeof(v->host))
			break;
		v = qc_xrealloc(v, (n + 2) * sizeof(*v));
		memcpy(v[n].host, nic->ip, len);
		v[n].host[len] = 0;
		v[n].port = 22;
		v[n++].index = 0;
		break;
	}
	*ret_n = n;
	return v;
}

char *qc_network_ssh_route_pick(const struct qc_ssh_route *v, size_t n, const unsigned *ports,
	size_t n_ports, unsigned *ret_port)
{
	for (size_t i = 0; i < n; i++) {
		unsigned port = v[i].port ? v[i].port
					  : ports && v[i].index < n_ports ? ports[v[i].index] : 0;

		if (port) {
			*ret_port = port;
			return qc_xstrdup(v[i].host);
		}
	}
	return NULL;
}

char *qc_network_ssh_endpoint(
	const struct qc_domain *d, const unsigned *ports, size_t n_ports, unsigned *ret_port)
{
	size_t n;
	cleanup_free struct qc_ssh_route *v = qc_network_ssh_routes(d, &n);

	return qc_network_ssh_route_pick(v, n, ports, n_ports, ret_port);
}

int qc_network_reserve_ports(
	const struct qc_nic *nic, int *fds, unsigned *ports, struct qc_error *err)
{
	cleanup_free struct qc_net_fwd *f = qc_xzalloc(sizeof(*f) * (nic->n_fwds + 1));

	for (size_t k = 0; k < nic->n_fwds; k++) {
		f[k].proto = nic->fwds[k].proto;
		f[k].host_addr = nic->fwds[k].host_addr;
		f[k].host_port = nic->fwds[k].host_port;
		f[k].guest_port = nic->fwds[k].guest_port;
	}
	return qc_net_ports_reserve(nic->name, f, nic->n_fwds, fds, ports, err);
}
