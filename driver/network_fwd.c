/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host ports of a VM's user-mode forwards (fixed in the definition or
 * picked at start and recorded), and from them where ssh reaches the guest:
 * what `info`, `list` and `qemuctl ssh` all report the same way.  A start
 * whose automatic port another program took before QEMU bound it is tried
 * again with fresh ones.
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

int qc_network_fwd_bind_failed(const char *msg, char ret_proto[4], unsigned *ret_port)
{
	static const char what[] = "Could not set up host forwarding rule '";
	const char *p = msg ? strstr(msg, what) : NULL;
	unsigned long port = 0;
	size_t n;

	if (!p)
		return 0;
	p += sizeof(what) - 1;
	/* PROTO:ADDR:PORT-GUESTADDR:GUESTPORT, as QEMU echoes our own rule */
	if (strncmp(p, "tcp:", 4) != 0 && strncmp(p, "udp:", 4) != 0)
		return 0;
	memcpy(ret_proto, p, 3);
	ret_proto[3] = 0;
	p += 4;
	p += strcspn(p, ":-'");
	if (*p != ':')
		return 0;
	p++;
	n = strspn(p, "0123456789");
	if (n == 0 || n > 5 || p[n] != '-')
		return 0;
	port = strtoul(p, NULL, 10);
	if (port == 0 || port > 65535)
		return 0;
	*ret_port = (unsigned) port;
	return 1;
}

/*
 * The failed attempt's monitor moved the last run's console log to
 * console.log.1 and began an empty one QEMU never wrote to: undone, so
 * the next attempt's rotation keeps the last run's log where one start
 * would have put it.
 */
static void console_log_unrotate(int vm_dfd)
{
	struct stat st;

	if (fstatat(vm_dfd, QC_VM_CONSOLE_LOG, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		!S_ISREG(st.st_mode) || st.st_size != 0)
		return;
	if (renameat(vm_dfd, QC_VM_CONSOLE_LOG ".1", vm_dfd, QC_VM_CONSOLE_LOG) < 0 &&
		errno == ENOENT)
		(void) unlinkat(vm_dfd, QC_VM_CONSOLE_LOG, 0);
}

/* Forward flat (NIC/forward order) of d: its NIC and forward indexes. */
static bool fwd_at(const struct qc_domain *d, size_t flat, size_t *ret_nic, size_t *ret_fwd)
{
	for (size_t i = 0; i < d->n_nics; i++) {
		if (d->nics[i].type != QC_NIC_USER)
			continue;
		if (flat < d->nics[i].n_fwds) {
			*ret_nic = i;
			*ret_fwd = flat;
			return true;
		}
		flat -= d->nics[i].n_fwds;
	}
	return false;
}

/* A fresh automatic host port for forward f of nic i, held like the first (network.h). */
static int repick(const struct qc_domain *d, struct qc_network_start *st, size_t i, size_t f,
	size_t flat, struct qc_error *err)
{
	const struct qc_hostfwd *w = &d->nics[i].fwds[f];
	struct qc_net_fwd nf = {
		.proto = w->proto, .host_addr = w->host_addr, .guest_port = w->guest_port};
	unsigned port;
	int fd, rc;

	if ((rc = qc_net_ports_reserve(d->nics[i].name, &nf, 1, &fd, &port, err)) < 0)
		return rc;
	if (st->held[flat] >= 0)
		close(st->held[flat]);
	st->held[flat] = -1;
	if (strcmp(w->proto, "tcp") == 0)
		st->held[flat] = fd;
	else
		close(fd);
	st->fwd_ports[i][f] = port;
	st->ports[flat] = port;
	return 0;
}

int qc_network_fwd_retry(qc_ctx *ctx, int vm_dfd, const struct qc_domain *d,
	struct qc_network_start *st, int attempt, struct qc_error *err)
{
	char proto[4], who[128];
	size_t i, f, flat;
	unsigned port;
	int rc;

	if (!qc_network_fwd_bind_failed(err->msg, proto, &port))
		return 0;
	for (flat = 0; flat < st->n_ports; flat++)
		if (st->ports[flat] == port && fwd_at(d, flat, &i, &f) &&
			strcmp(d->nics[i].fwds[f].proto, proto) == 0)
			break;
	if (flat == st->n_ports)
		return 0;
	qc_net_port_holder(proto, port, who, sizeof(who));
	if (d->nics[i].fwds[f].host_port)
		return qc_error_set(err, EADDRINUSE,
			"VM '%s': NIC '%s': hostfwd %s:%u-:%u: host port %u was taken%s%s%s "
			"while QEMU started; free it or pick another HOSTPORT (0 picks a free one)",
			d->name, d->nics[i].name, proto, port, d->nics[i].fwds[f].guest_port, port,
			who[0] ? " (by " : "", who, who[0] ? ")" : "");
	if (attempt >= QC_NETWORK_FWD_TRIES)
		return qc_error_set(err, EADDRINUSE,
			"VM '%s': NIC '%s': the automatic host port of its forward to guest %s "
			"port %u was taken by another program before QEMU bound it, %d times "
			"in a row (last: port %u%s%s); start it again",
			d->name, d->nics[i].name, proto, d->nics[i].fwds[f].guest_port, attempt,
			port, who[0] ? ", by " : "", who);
	qc_warn("VM '%s': NIC '%s': host port %u was taken before QEMU bound it%s%s%s; "
		"starting again with fresh automatic ports",
		d->name, d->nics[i].name, port, who[0] ? " (by " : "", who, who[0] ? ")" : "");
	for (flat = 0; flat < st->n_ports; flat++)
		if (fwd_at(d, flat, &i, &f) && !d->nics[i].fwds[f].host_port &&
			(rc = repick(d, st, i, f, flat, err)) < 0)
			return rc;
	console_log_unrotate(vm_dfd);
	(void) qc_network_start_save(ctx, d, st, NULL);
	qc_error_clear(err);
	return 1;
}
