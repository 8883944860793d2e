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
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"
#include "driver/driver.h"
#include "driver/network.h"
#include "driver/network_ssh.h"
#include "driver/ready.h"
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

int qc_driver_ssh_check_target(const struct qc_ssh_target *t, struct qc_error *err)
{
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
	return 0;
}

/*
 * The settings both the argv and the configuration carry, as key, value
 * pairs: the host key is checked against known_hosts only (the system-wide
 * file is not read, ssh neither records the address nor adds keys the
 * server offers later, a key learned on first use is written in clear), and
 * a guest that does not answer (paused, hung) ends the connection.
 */
static void host_settings(const struct qc_ssh_target *t, struct qc_strv *kv)
{
	qc_strv_push(kv, "StrictHostKeyChecking");
	qc_strv_push(kv, t->pinned ? "yes" : "accept-new");
	qc_strv_push(kv, "UserKnownHostsFile");
	qc_strv_push(kv, t->known_hosts);
	qc_strv_push(kv, "GlobalKnownHostsFile");
	qc_strv_push(kv, "/dev/null");
	qc_strv_push(kv, "HostKeyAlias");
	qc_strv_push(kv, t->alias);
	qc_strv_push(kv, "CheckHostIP");
	qc_strv_push(kv, "no");
	qc_strv_push(kv, "UpdateHostKeys");
	qc_strv_push(kv, "no");
	qc_strv_push(kv, "HashKnownHosts");
	qc_strv_push(kv, "no");
	qc_strv_push(kv, "LogLevel");
	qc_strv_push(kv, "ERROR");
	qc_strv_push(kv, "ConnectTimeout");
	qc_strv_pushf(kv, "%d", QC_SSH_CONNECT_TIMEOUT);
	qc_strv_push(kv, "ServerAliveInterval");
	qc_strv_pushf(kv, "%d", QC_SSH_ALIVE_INTERVAL);
	qc_strv_push(kv, "ServerAliveCountMax");
	qc_strv_pushf(kv, "%d", QC_SSH_ALIVE_COUNT);
}

void qc_driver_ssh_push_settings(const struct qc_ssh_target *t, struct qc_strv *a)
{
	cleanup_strvec struct qc_strv kv = {0};

	host_settings(t, &kv);
	for (size_t i = 0; kv.v && kv.v[i]; i += 2) {
		qc_strv_push(a, "-o");
		qc_strv_pushf(a, "%s=%s", kv.v[i], kv.v[i + 1]);
	}
	if (t->identity) {
		/* Only this key: many agent keys would exhaust MaxAuthTries first. */
		qc_strv_push(a, "-i");
		qc_strv_push(a, t->identity);
		qc_strv_push(a, "-o");
		qc_strv_push(a, "IdentitiesOnly=yes");
	}
}

int qc_driver_ssh_argv(const struct qc_ssh_target *t, char ***ret, struct qc_error *err)
{
	cleanup_strvec struct qc_strv a = {0};
	int r;

	if ((r = qc_driver_ssh_check_target(t, err)) < 0 ||
		(t->opts && (r = qc_driver_ssh_check_opts(t->opts, err)) < 0))
		return r;

	qc_strv_push(&a, "ssh");
	qc_strv_push(&a, "-l");
	qc_strv_push(&a, t->user);
	qc_strv_push(&a, "-p");
	qc_strv_pushf(&a, "%u", t->port);
	/* first: for most settings ssh keeps the first value it is given */
	for (size_t i = 0; t->opts && t->opts[i]; i++)
		qc_strv_push(&a, t->opts[i]);
	qc_driver_ssh_push_settings(t, &a);
	/* after "--" ssh parses no option: the host, then the remote command */
	qc_strv_push(&a, "--");
	qc_strv_push(&a, t->host);
	for (size_t i = 0; t->cmd && t->cmd[i]; i++)
		qc_strv_push(&a, t->cmd[i]);
	*ret = qc_strv_steal(&a);
	return 0;
}

int qc_driver_ssh_config(
	const char *name, const struct qc_ssh_target *t, char **ret, struct qc_error *err)
{
	cleanup_strvec struct qc_strv kv = {0};
	cleanup_buf struct qc_buf b = {0};
	int r;

	if ((r = qc_validate_name("VM", name, err)) < 0 ||
		(r = qc_driver_ssh_check_target(t, err)) < 0)
		return r;
	qc_buf_printf(&b, "Host %s\n  HostName %s\n  Port %u\n  User %s\n", name, t->host,
		t->port, t->user);
	if (t->identity)
		qc_buf_printf(&b, "  IdentityFile %s\n  IdentitiesOnly yes\n", t->identity);
	host_settings(t, &kv);
	for (size_t i = 0; kv.v && kv.v[i]; i += 2)
		qc_buf_printf(&b, "  %s %s\n", kv.v[i], kv.v[i + 1]);
	*ret = qc_buf_steal(&b);
	return 0;
}

/* -------------------------------------------------- ssh options passed on */

/* Flags without a value: agent, compression, forwarding, tty, verbosity, X11. */
#define SSH_FLAGS "AaCfgNnqTtvXxY"
/* Flags with a value: forwards and -o. */
#define SSH_VALUE_FLAGS "LRDo"
#define SSH_OPTS_HINT                                                                         \
	"qemuctl ssh passes on -A -a -C -f -g -N -n -q -T -t -v -X -x -Y, -L/-R/-D SPEC and -o " \
	"KEY=VALUE for connection and forwarding settings; for anything else use ssh itself "    \
	"with 'qemuctl ssh-config NAME' (ssh -F FILE NAME)"

/* -o keys that touch neither the address, port, user and key nor the host key check */
static const char *const o_allowed[] = {"BatchMode", "ClearAllForwardings", "Compression",
	"ConnectionAttempts", "ConnectTimeout", "DynamicForward", "EscapeChar",
	"ExitOnForwardFailure", "ForkAfterAuthentication", "ForwardAgent", "ForwardX11",
	"ForwardX11Timeout", "ForwardX11Trusted", "GatewayPorts", "IPQoS", "LocalForward",
	"LogLevel", "PermitRemoteOpen", "RekeyLimit", "RemoteForward", "RequestTTY", "SendEnv",
	"ServerAliveCountMax", "ServerAliveInterval", "SessionType", "SetEnv", "StdinNull",
	"StreamLocalBindMask", "StreamLocalBindUnlink", "TCPKeepAlive", NULL};
/* -o keys that would let ssh accept a host key the VM's known_hosts does not list */
static const char *const o_host_key[] = {"CheckHostIP", "GlobalKnownHostsFile",
	"HashKnownHosts", "HostKeyAlgorithms", "HostKeyAlias", "KnownHostsCommand",
	"NoHostAuthenticationForLocalhost", "RevokedHostKeys", "StrictHostKeyChecking",
	"UpdateHostKeys", "UserKnownHostsFile", "VerifyHostKeyDNS", NULL};

static bool in_list(const char *const *l, const char *k, size_t n)
{
	for (; *l; l++)
		if (strlen(*l) == n && strncasecmp(*l, k, n) == 0)
			return true;
	return false;
}

/* printable ASCII, blanks only where ssh's own parser splits them (-o) */
static int check_opt_value(char f, const char *v, struct qc_error *err)
{
	size_t n = strlen(v), k;

	if (n == 0 || n > 1024)
		return qc_error_set(err, QC_ERR_INVALID,
			"ssh option -%c: the value must be 1..1024 characters", f);
	for (const char *c = v; *c; c++)
		if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f ||
			(*c == ' ' && f != 'o'))
			return qc_error_set(err, QC_ERR_INVALID,
				"ssh option -%c '%s': only printable ASCII%s is allowed", f, v,
				f == 'o' ? "" : " without blanks");
	if (f != 'o')
		return 0;
	/* "Key=Value", "Key Value", "Key = Value": ssh's own split */
	k = strcspn(v, " \t=");
	if (in_list(o_host_key, v, k))
		return qc_error_set(err, QC_ERR_INVALID,
			"ssh option -o %.*s: refused, it would defeat the check of the guest's host "
			"key against the VM's known_hosts, which qemuctl ssh always makes (a VM "
			"whose seed gave no key has the one seen first recorded)",
			(int) k, v);
	if (!in_list(o_allowed, v, k))
		return qc_error_set(err, QC_ERR_INVALID,
			"ssh option -o %.*s: not passed on; " SSH_OPTS_HINT, (int) k, v);
	if (!v[k] || !v[k + strspn(v + k, " \t=")])
		return qc_error_set(
			err, QC_ERR_INVALID, "ssh option -o %.*s needs a value", (int) k, v);
	return 0;
}

int qc_driver_ssh_check_opt(const char *const *w, struct qc_error *err)
{
	const char *s = w[0];

	if (!s || s[0] != '-' || !s[1] || s[1] == '-')
		return qc_error_set(err, QC_ERR_INVALID, "ssh option '%s': not an option of ssh",
			s ? s : "");
	for (const char *p = s + 1; *p; p++) {
		const char *v;
		int r;

		if (strchr(SSH_FLAGS, *p))
			continue;
		if (!strchr(SSH_VALUE_FLAGS, *p))
			return qc_error_set(err, QC_ERR_INVALID,
				"ssh option '-%c': %s; " SSH_OPTS_HINT, isprint((unsigned char) *p) ? *p : '?',
				*p == 'p'   ? "the port is the VM's forwarded one"
				: *p == 'l' ? "the user is the VM's (create --user NAME)"
					    : "not passed on");
		v = p[1] ? p + 1 : w[1];
		if (!v)
			return qc_error_set(err, QC_ERR_INVALID, "ssh option -%c needs a value", *p);
		if ((r = check_opt_value(*p, v, err)) < 0)
			return r;
		return p[1] ? 1 : 2;
	}
	return 1;
}

int qc_driver_ssh_check_opts(const char *const *opts, struct qc_error *err)
{
	for (size_t i = 0; opts[i];) {
		int r = qc_driver_ssh_check_opt(opts + i, err);

		if (r < 0)
			return r;
		i += (size_t) r;
	}
	return 0;
}

QC_PUBLIC int qc_ssh_option_words(const char *const *words, struct qc_error *err)
{
	return qc_driver_ssh_check_opt(words, err);
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

void qc_driver_ssh_resolved_clear(struct qc_ssh_resolved *r)
{
	qc_free_all(r->user, r->host, r->key, r->kh, r->alias);
}

/* Refused unless running with its CPUs going: a paused guest never answers. */
static int check_answering(const char *name, enum qc_vm_state state, struct qc_error *err)
{
	if (state == QC_VM_PAUSED)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is paused: its guest cannot answer ssh; resume it with 'qemuctl "
			"resume %s'",
			name, name);
	if (state != QC_VM_RUNNING)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is not running; start it with 'qemuctl start %s' (with --wait: "
			"until it is ready)",
			name, name);
	return 0;
}

/*
 * The address, port, user, key and known_hosts of a running (or paused:
 * paused_ok) VM.
 */
static int resolve(qc_ctx *ctx, const char *name, const char *identity, bool paused_ok,
	struct qc_ssh_resolved *res, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	const struct qc_domain *d;
	struct stat st;
	cleanup_free unsigned *ports = NULL;
	size_t n_ports = 0;
	unsigned port = 0;
	int r;

	if ((r = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_DOMAIN, &op, err)) < 0)
		return r;
	d = op.d;
	/* stopped first; paused after the address, which no resume would give it */
	if (op.live.state != QC_VM_RUNNING && (r = check_answering(name, op.live.state, err)) < 0)
		return r;

	if ((r = run_ports(ctx, name, &op.live, &ports, &n_ports, err)) < 0)
		return r;

	res->host = qc_network_ssh_endpoint(d, ports, n_ports, &port);
	if (!res->host)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' has no address qemuctl knows: it needs a user-mode NIC forwarding "
			"guest port 22 or a named-network NIC (--net user or --net network=NAME)",
			name);
	if (!paused_ok && (r = check_answering(name, qc_driver_live_state(&op.live), err)) < 0)
		return r;

	if (identity) {
		if (access(identity, R_OK) < 0)
			return qc_error_errno(err, errno, "ssh key '%s'", identity);
		res->key = qc_xstrdup(identity);
	} else {
		res->key = own_key(ctx);
	}

	/*
	 * known_hosts is the seed build's: present only while the VM's seed
	 * carries the host key.  Anything else learns the key on first use.
	 */
	res->t.pinned = fstatat(op.dfd, QC_SEED_KNOWN_HOSTS, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			S_ISREG(st.st_mode);
	res->kh = qc_xasprintf("%s/%s", op.vm_dir,
		res->t.pinned ? QC_SEED_KNOWN_HOSTS : QC_SEED_KNOWN_HOSTS_TOFU);
	res->alias = qc_driver_ssh_host_alias(name);
	res->user = qc_xstrdup(qc_driver_seed_user(d));
	res->t.user = res->user;
	res->t.host = res->host;
	res->t.port = port;
	res->t.identity = res->key;
	res->t.known_hosts = res->kh;
	res->t.alias = res->alias;
	if (!res->t.pinned &&
		(fstatat(op.dfd, QC_SEED_KNOWN_HOSTS_TOFU, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			st.st_size == 0))
		qc_warn("VM '%s': qemuctl did not give this guest its ssh host key (its seed does "
			"not carry one); trusting the key it presents now and requiring it from "
			"then on (%s)",
			name, res->kh);
	return 0;
}

/*
 * A VM still booting (running, its ready marker not seen yet): wait for it,
 * or refuse with no_wait.  A VM without a marker is taken as it is.
 */
static int wait_booted(
	qc_ctx *ctx, const char *name, const struct qc_vm_ssh_opts *o, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	int r;

	if ((r = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_DOMAIN, &op, err)) < 0)
		return r;
	/* resolve() refuses the others, with the reason */
	if (op.live.state != QC_VM_RUNNING || op.live.st.ready ||
		qc_driver_ready_check(op.d, NULL) < 0 ||
		qc_driver_live_state(&op.live) != QC_VM_RUNNING)
		return 0;
	if (o->no_wait)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is still booting (not ready yet); wait with 'qemuctl wait %s', "
			"or leave out --no-wait",
			name, name);
	return qc_driver_wait_ready(&op, o->wait_timeout_ms, NULL, err);
}

int qc_driver_ssh_reach(qc_ctx *ctx, const char *name, const struct qc_vm_ssh_opts *o,
	struct qc_ssh_resolved *res, struct qc_error *err)
{
	int r;

	if ((r = wait_booted(ctx, name, o, err)) < 0)
		return r;
	return resolve(ctx, name, o->identity, false, res, err);
}

QC_PUBLIC int qc_vm_ssh_command(qc_ctx *ctx, const char *name, const struct qc_vm_ssh_opts *o,
	char ***ret_argv, struct qc_error *err)
{
	static const struct qc_vm_ssh_opts none = {0};
	cleanup_resolved struct qc_ssh_resolved res = {0};
	int r;

	if (!o)
		o = &none;
	/* options first: a refused one fails before any wait */
	if (o->ssh_options && (r = qc_driver_ssh_check_opts(o->ssh_options, err)) < 0)
		return r;
	if ((r = qc_driver_ssh_reach(ctx, name, o, &res, err)) < 0)
		return r;
	res.t.opts = o->ssh_options;
	res.t.cmd = o->cmd;
	if ((r = qc_driver_ssh_argv(&res.t, ret_argv, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	return 0;
}

QC_PUBLIC int qc_vm_ssh_argv(qc_ctx *ctx, const char *name, const char *identity,
	const char *const *cmd, char ***ret_argv, struct qc_error *err)
{
	struct qc_vm_ssh_opts o = {.identity = identity, .cmd = cmd};

	return qc_vm_ssh_command(ctx, name, &o, ret_argv, err);
}

QC_PUBLIC int qc_vm_ssh_config(qc_ctx *ctx, const char *name, struct qc_vm_ssh_config *ret,
	struct qc_error *err)
{
	cleanup_resolved struct qc_ssh_resolved res = {0};
	cleanup_free char *text = NULL;
	int r;

	if ((r = resolve(ctx, name, NULL, true, &res, err)) < 0)
		return r;
	if ((r = qc_driver_ssh_config(name, &res.t, &text, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	*ret = (struct qc_vm_ssh_config){.config = TAKE_PTR(text),
		.host = TAKE_PTR(res.host),
		.port = res.t.port,
		.user = TAKE_PTR(res.user),
		.identity_file = TAKE_PTR(res.key),
		.known_hosts = TAKE_PTR(res.kh),
		.host_key_alias = TAKE_PTR(res.alias),
		.pinned = res.t.pinned};
	return 0;
}

QC_PUBLIC void qc_vm_ssh_config_clear(struct qc_vm_ssh_config *c)
{
	qc_free_all(
		c->config, c->host, c->user, c->identity_file, c->known_hosts, c->host_key_alias);
	*c = (struct qc_vm_ssh_config){0};
}

/* ------------------------------------------------------------ NIC views */

QC_PUBLIC void qc_vm_nics_free(struct qc_vm_nic_info *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		qc_free_all(v[i].name, v[i].type, v[i].mac, v[i].network, v[i].bridge, v[i].ip,
			v[i].tap, v[i].fwds, v[i].model);
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
		v[i].type = qc_xstrdup(qc_nic_type_name(nic->type));
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
