/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ssh command line of `qemuctl ssh`, as a pure function of checked
 * values (driver/network_ssh.c), so a unit test covers it without a VM.
 */
#ifndef QC_DRIVER_NETWORK_SSH_H
#define QC_DRIVER_NETWORK_SSH_H

#include <stdbool.h>

#include "driver/qemuctl.h"
#include "util/util.h"

struct qc_ssh_target {
	const char *user; /* a user name as cloud-init creates it ([a-z_][a-z0-9_-]*) */
	const char *host; /* an IPv4 or IPv6 address, nothing else */
	unsigned port; /* 1..65535 */
	const char *identity; /* private key file, or NULL: ssh's own choice */
	const char *known_hosts; /* absolute path of the VM's known_hosts file */
	const char *alias; /* HostKeyAlias: the name the key is listed under */
	bool pinned; /* true: only the key known_hosts lists (it must match);
				  * false: learn the key on the first connection */
	const char *const *opts; /* ssh options passed on (qc_driver_ssh_check_opts), or NULL */
	const char *const *cmd; /* remote command, NULL-terminated, or NULL: a shell */
};

/* Seconds ssh waits to connect and for the guest's banner; then for keepalive answers. */
#define QC_SSH_CONNECT_TIMEOUT 20
#define QC_SSH_ALIVE_INTERVAL 15
#define QC_SSH_ALIVE_COUNT 4

/*
 * ssh -l USER -p PORT -o ... [-i KEY -o IdentitiesOnly=yes] -- HOST [CMD...]:
 * every value from the definition or the state is an option's argument or
 * comes after "--", and is checked first, so none can become an option of
 * ssh (a user "-oProxyCommand=...", a host "-J..."), and the file names
 * hold nothing ssh expands or splits in them (% tokens, ${VAR}, ~, blanks,
 * quotes, '#').  The host key is checked against known_hosts only: the
 * system-wide file is not read, ssh neither records the address nor adds
 * keys the server offers later, and a key learned on first use is written
 * in clear (HashKnownHosts=no).
 */
int qc_driver_ssh_argv(const struct qc_ssh_target *t, char ***ret, struct qc_error *err);
/* t's values checked as qc_driver_ssh_argv checks them */
int qc_driver_ssh_check_target(const struct qc_ssh_target *t, struct qc_error *err);
/* -o KEY=VALUE for the host key check and timeouts, then -i KEY -o IdentitiesOnly=yes */
void qc_driver_ssh_push_settings(const struct qc_ssh_target *t, struct qc_strv *a);

/* What `ssh`, `ssh-config` and `cp` connect with (t's strings are owned here). */
struct qc_ssh_resolved {
	struct qc_ssh_target t;
	char *user, *host, *key, *kh, *alias;
};
void qc_driver_ssh_resolved_clear(struct qc_ssh_resolved *r);
#define cleanup_resolved __attribute__((cleanup(qc_driver_ssh_resolved_clear)))
/*
 * The connection to VM name as `qemuctl ssh` makes it (o's identity and
 * wait settings): a booting VM waited for, a stopped or paused one refused.
 */
int qc_driver_ssh_reach(qc_ctx *ctx, const char *name, const struct qc_vm_ssh_opts *o,
	struct qc_ssh_resolved *res, struct qc_error *err);

/*
 * The same connection as an OpenSSH client configuration: "Host NAME" and
 * the settings the argv gives (HostName, Port, User, IdentityFile, the
 * host key checks, the timeouts), for ssh -F, scp -F, rsync -e and the
 * like.  name is a VM name (no pattern characters).  t->opts and t->cmd
 * are not used.
 */
int qc_driver_ssh_config(
	const char *name, const struct qc_ssh_target *t, char **ret, struct qc_error *err);

/*
 * The ssh options `qemuctl ssh` passes on: how many words of w (1 or 2) the
 * option w[0] takes, or an error naming it.  Taken: -A -a -C -f -g -N -n
 * -q -T -t -v -X -x -Y (several in one word: -At), -L -R -D SPEC, -o
 * KEY=VALUE for a list of keys that neither choose the address, port, user
 * and key nor touch the host key check; refused: everything else, -o
 * StrictHostKeyChecking, UserKnownHostsFile and the other host key
 * settings with a message saying why.
 */
int qc_driver_ssh_check_opt(const char *const *w, struct qc_error *err);
/* Every option of opts (NULL-terminated words), as qc_driver_ssh_check_opt. */
int qc_driver_ssh_check_opts(const char *const *opts, struct qc_error *err);

#endif
