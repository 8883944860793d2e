/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A start whose automatic host port another program took before QEMU
 * bound it: QEMU's refusal read, the forward given a fresh port, the
 * run's records rewritten, and the start tried again.
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

int qc_network_fwd_taken(const char *vm, const struct qc_nic *nic, size_t f, unsigned port,
	int attempt, bool hotplug, struct qc_error *err)
{
	const struct qc_hostfwd *w = &nic->fwds[f];
	char who[128];

	qc_net_port_holder(w->proto, port, who, sizeof(who));
	if (w->host_port)
		return qc_error_set(err, EADDRINUSE,
			"VM '%s': NIC '%s': hostfwd %s:%u-:%u: host port %u was taken%s%s%s %s; "
			"free it or pick another HOSTPORT (0 picks a free one)",
			vm, nic->name, w->proto, port, w->guest_port, port, who[0] ? " (by " : "",
			who, who[0] ? ")" : "",
			hotplug ? "before QEMU bound it" : "while QEMU started");
	if (attempt >= QC_NETWORK_FWD_TRIES)
		return qc_error_set(err, EADDRINUSE,
			"VM '%s': NIC '%s': the automatic host port of its forward to guest %s "
			"port %u was taken by another program before QEMU bound it, %d times "
			"in a row (last: port %u%s%s); %s it again",
			vm, nic->name, w->proto, w->guest_port, attempt, port,
			who[0] ? ", by " : "", who, hotplug ? "attach" : "start");
	qc_warn("VM '%s': NIC '%s': host port %u was taken before QEMU bound it%s%s%s; "
		"%s again with fresh automatic ports",
		vm, nic->name, port, who[0] ? " (by " : "", who, who[0] ? ")" : "",
		hotplug ? "trying" : "starting");
	qc_error_clear(err);
	return 1;
}

int qc_network_fwd_retry(qc_ctx *ctx, int vm_dfd, const struct qc_domain *d,
	struct qc_network_start *st, int attempt, struct qc_error *err)
{
	char proto[4];
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
	if ((rc = qc_network_fwd_taken(d->name, &d->nics[i], f, port, attempt, false, err)) < 0)
		return rc;
	for (flat = 0; flat < st->n_ports; flat++)
		if (fwd_at(d, flat, &i, &f) && !d->nics[i].fwds[f].host_port &&
			(rc = repick(d, st, i, f, flat, err)) < 0)
			return rc;
	console_log_unrotate(vm_dfd);
	(void) qc_network_start_save(ctx, d, st, NULL);
	qc_error_clear(err);
	return 1;
}
