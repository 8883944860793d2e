/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host ports of a VM's user-mode forwards (fixed in the definition or
 * picked at start and recorded), and from them where ssh reaches the guest:
 * what `info`, `list` and `qemuctl ssh` all report the same way.
 */
#include "config.h"

#include <string.h>

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

char *qc_network_ssh_endpoint(
	const struct qc_domain *d, const unsigned *ports, size_t n_ports, unsigned *ret_port)
{
	/* A user-mode forward of guest tcp/22 first: it works without routes. */
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_nic *nic = &d->nics[i];

		for (size_t f = 0; nic->type == QC_NIC_USER && f < nic->n_fwds; f++) {
			const char *a = nic->fwds[f].host_addr;
			unsigned port;

			if (nic->fwds[f].guest_port != 22 || strcmp(nic->fwds[f].proto, "tcp"))
				continue;
			if (!(port = qc_network_fwd_port(d, i, f, ports, n_ports)))
				continue;
			*ret_port = port;
			/* A forward bound on every address (0.0.0.0) answers on loopback too. */
			return qc_xstrdup(a[0] && strcmp(a, "0.0.0.0") ? a : "127.0.0.1");
		}
	}
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_nic *nic = &d->nics[i];

		if (nic->type == QC_NIC_NETWORK && nic->ip && *nic->ip) {
			*ret_port = 22;
			return qc_xstrndup(nic->ip, strcspn(nic->ip, "/"));
		}
	}
	return NULL;
}
