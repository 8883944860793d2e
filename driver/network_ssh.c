/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `qemuctl ssh NAME`: the ssh command line to a running VM.  The guest's
 * host key is new on every VM (and every re-create at the same address or
 * port), so it is neither checked nor recorded: the connection goes to a
 * loopback port forward or a private bridge qemuctl made, and the key that
 * authenticates is qemuctl's own, which every seed injects.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"
#include "driver/network.h"
#include "driver/seed.h"

/*
 * qemuctl's own private key, made once by the seed code (driver/seed.c)
 * under <root>/ssh/; NULL when no seed ever made it (then ssh falls back to
 * the user's own keys and agent).
 */
static char *own_key(qc_ctx *ctx)
{
	char *p = qc_xasprintf("%s/%s/%s", qc_ctx_root(ctx), QC_SEED_OWN_KEY_DIR, QC_SEED_OWN_KEY);

	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

QC_PUBLIC int qc_vm_ssh_argv(qc_ctx *ctx, const char *name, const char *identity,
	const char *const *cmd, char ***ret_argv, struct qc_error *err)
{
	cleanup_close int vm_dfd = -1;
	cleanup_free char *dir = NULL, *xml = NULL, *key = NULL, *host = NULL;
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_strvec struct qc_strv a = {0};
	struct qc_live live = {0};
	cleanup_free unsigned *ports = NULL;
	size_t n_ports = 0;
	unsigned port = 0;
	int r;

	if ((r = qc_driver_vm_open(ctx, name, &vm_dfd, err)) < 0)
		return r;
	dir = qc_driver_vm_dir(ctx, name);
	xml = qc_xasprintf("%s/%s", dir, QC_VM_DOMAIN);
	if ((r = qc_domain_load(xml, NULL, NULL, &d, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	if ((r = qc_driver_live(vm_dfd, &live, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	if (live.state != QC_VM_RUNNING && live.state != QC_VM_PAUSED) {
		qc_live_clear(&live);
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is not running; start it with 'qemuctl start %s'", name, name);
	}

	/* The ports of this run: state.json when the lifecycle records them, else network.json. */
	if (live.st.n_ports) {
		n_ports = live.st.n_ports;
		ports = qc_xzalloc(sizeof(unsigned) * n_ports);
		memcpy(ports, live.st.ports, sizeof(unsigned) * n_ports);
	} else if ((r = qc_network_load_ports(ctx, name, &ports, &n_ports, err)) < 0) {
		qc_live_clear(&live);
		return r;
	}

	/* A user-mode forward of guest tcp/22 first: it works without routes. */
	for (size_t i = 0; i < d->n_nics && !host; i++) {
		const struct qc_nic *nic = &d->nics[i];

		if (nic->type != QC_NIC_USER)
			continue;
		for (size_t f = 0; f < nic->n_fwds; f++) {
			if (nic->fwds[f].guest_port != 22 || strcmp(nic->fwds[f].proto, "tcp"))
				continue;
			port = qc_network_fwd_port(d, i, f, ports, n_ports);
			if (!port)
				continue;
			host = qc_xstrdup(
				nic->fwds[f].host_addr[0] ? nic->fwds[f].host_addr : "127.0.0.1");
			break;
		}
	}
	for (size_t i = 0; i < d->n_nics && !host; i++) {
		const struct qc_nic *nic = &d->nics[i];

		if (nic->type == QC_NIC_NETWORK && nic->ip && *nic->ip) {
			host = qc_xstrndup(nic->ip, strcspn(nic->ip, "/"));
			port = 22;
		}
	}
	qc_live_clear(&live);
	if (!host)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' has no address qemuctl knows: it needs a user-mode NIC forwarding "
			"guest port 22 or a named-network NIC (--net user or --net network=NAME)",
			name);

	if (identity) {
		if (access(identity, R_OK) < 0)
			return qc_error_errno(err, errno, "ssh key '%s'", identity);
		key = qc_xstrdup(identity);
	} else {
		key = own_key(ctx);
	}

	qc_strv_push(&a, "ssh");
	qc_strv_push(&a, "-p");
	qc_strv_pushf(&a, "%u", port);
	qc_strv_push(&a, "-o");
	qc_strv_push(&a, "StrictHostKeyChecking=no");
	qc_strv_push(&a, "-o");
	qc_strv_push(&a, "UserKnownHostsFile=/dev/null");
	qc_strv_push(&a, "-o");
	qc_strv_push(&a, "LogLevel=ERROR");
	if (key) {
		/* Only this key: many agent keys would exhaust MaxAuthTries first. */
		qc_strv_push(&a, "-i");
		qc_strv_push(&a, key);
		qc_strv_push(&a, "-o");
		qc_strv_push(&a, "IdentitiesOnly=yes");
	}
	qc_strv_pushf(&a, "%s@%s", d->seed.user && *d->seed.user ? d->seed.user : "qemuctl", host);
	if (cmd && cmd[0]) {
		qc_strv_push(&a, "--");
		for (size_t i = 0; cmd[i]; i++)
			qc_strv_push(&a, cmd[i]);
	}
	*ret_argv = qc_strv_steal(&a);
	return 0;
}
