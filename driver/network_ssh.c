/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `qemuctl ssh NAME`: the ssh command line to a running VM.  The key that
 * authenticates the user is qemuctl's own, which every seed injects.  The
 * guest's host key is the one its seed gave it (driver/seed_hostkey.c),
 * listed in the VM's known_hosts and required; a VM whose seed does not
 * carry it has its key learned on the first connection and required from
 * then on (known_hosts.tofu).  Both are listed under the alias qemuctl-NAME,
 * so the address and port, which change between runs, do not matter.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"
#include "driver/driver.h"
#include "driver/network.h"
#include "driver/network_ssh.h"
#include "driver/seed.h"
#include "driver/vmop.h"

/*
 * A file name ssh takes as it is: it expands %-tokens, ${VAR} and a leading
 * ~ in IdentityFile and UserKnownHostsFile, and splits -o values on blanks
 * and quotes.
 */
#define SAFE_PATH_HINT                                                                        \
	"use a path of printable ASCII without blanks, %%, $, ~, quotes, backslashes or '#' " \
	"(for the state root: --root or $QEMUCTL_ROOT)"

static int check_ssh_path(const char *what, const char *p, bool absolute, struct qc_error *err)
{
	if (!p || !*p || (absolute && p[0] != '/'))
		return qc_error_set(err, QC_ERR_INVALID, "ssh: %s '%s' is not an absolute path",
			what, p ? p : "");
	for (const char *c = p; *c; c++) {
		unsigned char u = (unsigned char) *c;

		if (u <= 0x20 || u >= 0x7f)
			return qc_error_set(err, QC_ERR_INVALID,
				"ssh: %s '%s' holds a blank, control or non-ASCII character, which "
				"ssh's option parser would split or mangle; " SAFE_PATH_HINT,
				what, p);
		if (strchr("%$~\"'\\#", u))
			return qc_error_set(err, QC_ERR_INVALID,
				"ssh: %s '%s' holds '%c', which ssh would expand or "
				"split; " SAFE_PATH_HINT,
				what, p, u);
	}
	return 0;
}

int qc_driver_ssh_argv(const struct qc_ssh_target *t, char ***ret, struct qc_error *err)
{
	cleanup_strvec struct qc_strv a = {0};
	unsigned char bin[16];
	int r;

	if ((r = qc_cloudinit_validate_user(t->user ? t->user : "", err)) < 0)
		return qc_error_prefix(err, "ssh");
	if (!t->host ||
		(inet_pton(AF_INET, t->host, bin) != 1 && inet_pton(AF_INET6, t->host, bin) != 1))
		return qc_error_set(err, QC_ERR_INVALID, "ssh: host '%s' is not an IP address",
			t->host ? t->host : "");
	if (t->port < 1 || t->port > 65535)
		return qc_error_set(
			err, QC_ERR_INVALID, "ssh: port %u is not in 1..65535", t->port);
	if (!t->alias || !*t->alias ||
		strspn(t->alias, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(t->alias))
		return qc_error_set(err, QC_ERR_INVALID,
			"ssh: host key alias '%s' is not made of [A-Za-z0-9._-]",
			t->alias ? t->alias : "");
	if ((r = check_ssh_path("known_hosts file", t->known_hosts, true, err)) < 0 ||
		(t->identity && (r = check_ssh_path("key file", t->identity, false, err)) < 0))
		return r;

	qc_strv_push(&a, "ssh");
	qc_strv_push(&a, "-l");
	qc_strv_push(&a, t->user);
	qc_strv_push(&a, "-p");
	qc_strv_pushf(&a, "%u", t->port);
	qc_strv_push(&a, "-o");
	qc_strv_push(
		&a, t->pinned ? "StrictHostKeyChecking=yes" : "StrictHostKeyChecking=accept-new");
	qc_strv_push(&a, "-o");
	qc_strv_pushf(&a, "UserKnownHostsFile=%s", t->known_hosts);
	qc_strv_push(&a, "-o");
	qc_strv_push(&a, "GlobalKnownHostsFile=/dev/null");
	qc_strv_push(&a, "-o");
	qc_strv_pushf(&a, "HostKeyAlias=%s", t->alias);
	qc_strv_push(&a, "-o");
	qc_strv_push(&a, "CheckHostIP=no");
	qc_strv_push(&a, "-o");
	qc_strv_push(&a, "UpdateHostKeys=no");
	/* the file is the VM's own: a key learned on first use stays readable */
	qc_strv_push(&a, "-o");
	qc_strv_push(&a, "HashKnownHosts=no");
	qc_strv_push(&a, "-o");
	qc_strv_push(&a, "LogLevel=ERROR");
	if (t->identity) {
		/* Only this key: many agent keys would exhaust MaxAuthTries first. */
		qc_strv_push(&a, "-i");
		qc_strv_push(&a, t->identity);
		qc_strv_push(&a, "-o");
		qc_strv_push(&a, "IdentitiesOnly=yes");
	}
	/* after "--" ssh parses no option: the host, then the remote command */
	qc_strv_push(&a, "--");
	qc_strv_push(&a, t->host);
	for (size_t i = 0; t->cmd && t->cmd[i]; i++)
		qc_strv_push(&a, t->cmd[i]);
	*ret = qc_strv_steal(&a);
	return 0;
}

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

/* The ports of this run: state.json when the lifecycle records them, else network.json. */
static int run_ports(qc_ctx *ctx, const char *name, const struct qc_live *live, unsigned **ret,
	size_t *ret_n, struct qc_error *err)
{
	if (!live->st.n_ports)
		return qc_network_load_ports(ctx, name, ret, ret_n, err);
	*ret_n = live->st.n_ports;
	*ret = qc_xzalloc(sizeof(unsigned) * *ret_n);
	memcpy(*ret, live->st.ports, sizeof(unsigned) * *ret_n);
	return 0;
}

QC_PUBLIC int qc_vm_ssh_argv(qc_ctx *ctx, const char *name, const char *identity,
	const char *const *cmd, char ***ret_argv, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_free char *key = NULL, *host = NULL, *kh = NULL, *alias = NULL;
	const struct qc_domain *d;
	struct qc_ssh_target t = {0};
	struct stat st;
	cleanup_free unsigned *ports = NULL;
	size_t n_ports = 0;
	unsigned port = 0;
	int r;

	if ((r = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_DOMAIN, &op, err)) < 0)
		return r;
	d = op.d;
	if (op.live.state != QC_VM_RUNNING && op.live.state != QC_VM_PAUSED)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is not running; start it with 'qemuctl start %s'", name, name);

	if ((r = run_ports(ctx, name, &op.live, &ports, &n_ports, err)) < 0)
		return r;

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
			/* A forward bound on every address (0.0.0.0) answers on loopback too. */
			host = qc_xstrdup(nic->fwds[f].host_addr[0] &&
							  strcmp(nic->fwds[f].host_addr, "0.0.0.0")
						  ? nic->fwds[f].host_addr
						  : "127.0.0.1");
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

	/*
	 * known_hosts is the seed build's: present only while the VM's seed
	 * carries the host key.  Anything else learns the key on first use.
	 */
	t.pinned = fstatat(op.dfd, QC_SEED_KNOWN_HOSTS, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		   S_ISREG(st.st_mode);
	kh = qc_xasprintf(
		"%s/%s", op.vm_dir, t.pinned ? QC_SEED_KNOWN_HOSTS : QC_SEED_KNOWN_HOSTS_TOFU);
	alias = qc_driver_ssh_host_alias(name);
	t.user = d->seed.user && *d->seed.user ? d->seed.user : "qemuctl";
	t.host = host;
	t.port = port;
	t.identity = key;
	t.known_hosts = kh;
	t.alias = alias;
	t.cmd = cmd;
	if ((r = qc_driver_ssh_argv(&t, ret_argv, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	if (!t.pinned && (fstatat(op.dfd, QC_SEED_KNOWN_HOSTS_TOFU, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				 st.st_size == 0))
		qc_warn("VM '%s': qemuctl did not give this guest its ssh host key (its seed does "
			"not carry one); trusting the key it presents now and requiring it from "
			"then on (%s)",
			name, kh);
	return 0;
}

/* ------------------------------------------------------------ NIC views */

QC_PUBLIC void qc_vm_nics_free(struct qc_vm_nic_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].type);
		free(v[i].mac);
		free(v[i].network);
		free(v[i].bridge);
		free(v[i].ip);
		free(v[i].tap);
		free(v[i].fwds);
		free(v[i].model);
	}
	free(v);
}

/* Tap names of the current run from <vm>/network.json (NULL-terminated, may be empty). */
static char **load_taps(int vm_dfd)
{
	cleanup_free char *text = NULL;
	cleanup_json qc_json *j = NULL;
	struct qc_strv v = {0};
	const qc_json *taps;
	size_t len;

	if (qc_read_file(vm_dfd, QC_NETWORK_RUNTIME, 1u << 20, &text, &len, NULL) < 0 ||
		qc_json_parse(text, len, &j, NULL) < 0)
		return qc_xzalloc(sizeof(char *));
	taps = qc_json_get(j, "taps");
	for (size_t i = 0; i < qc_json_len(taps); i++) {
		const char *t = qc_json_string(qc_json_at(taps, i));

		qc_strv_push(&v, t ? t : "");
	}
	return v.v ? qc_strv_steal(&v) : qc_xzalloc(sizeof(char *));
}

QC_PUBLIC int qc_vm_nics(qc_ctx *ctx, const char *name, struct qc_vm_nic_info **ret, size_t *ret_n,
	struct qc_error *err)
{
	static const char *const types[] = {"user", "network", "bridge"};
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_free unsigned *ports = NULL;
	cleanup_strv char **taps = NULL;
	const struct qc_domain *d;
	struct qc_vm_nic_info *v;
	size_t n_ports = 0, n_taps = 0;
	bool running;
	int r;

	if ((r = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_DOMAIN, &op, err)) < 0)
		return r;
	d = op.d;
	running = op.live.state == QC_VM_RUNNING || op.live.state == QC_VM_PAUSED;
	if (running)
		(void) run_ports(ctx, name, &op.live, &ports, &n_ports, NULL);
	taps = running ? load_taps(op.dfd) : qc_xzalloc(sizeof(char *));
	while (taps[n_taps])
		n_taps++;

	v = qc_xzalloc(sizeof(*v) * (d->n_nics + 1));
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_nic *nic = &d->nics[i];

		v[i].name = qc_xstrdup(nic->name ? nic->name : "");
		v[i].type = qc_xstrdup(types[nic->type]);
		v[i].mac = qc_xstrdup(nic->mac);
		v[i].network = nic->network ? qc_xstrdup(nic->network) : NULL;
		v[i].bridge = nic->bridge ? qc_xstrdup(nic->bridge) : NULL;
		v[i].ip = nic->ip ? qc_xstrdup(nic->ip) : NULL;
		v[i].tap = i < n_taps && taps[i][0] ? qc_xstrdup(taps[i]) : NULL;
		v[i].model = qc_xstrdup(nic->model ? nic->model : "virtio-net-pci");
		v[i].fwds = qc_xzalloc(sizeof(*v[i].fwds) * (nic->n_fwds + 1));
		v[i].n_fwds = nic->n_fwds;
		for (size_t f = 0; f < nic->n_fwds; f++) {
			struct qc_vm_fwd_info *o = &v[i].fwds[f];

			snprintf(o->proto, sizeof(o->proto), "%s", nic->fwds[f].proto);
			snprintf(o->host_addr, sizeof(o->host_addr), "%s",
				nic->fwds[f].host_addr[0] ? nic->fwds[f].host_addr : "127.0.0.1");
			o->host_port = nic->fwds[f].host_port
					       ? nic->fwds[f].host_port
					       : qc_network_fwd_port(d, i, f, ports, n_ports);
			o->guest_port = nic->fwds[f].guest_port;
		}
	}
	*ret = v;
	*ret_n = d->n_nics;
	return 0;
}
