/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqemuctl: a running VM's guest over ssh, as <qemuctl.h> includes it
 * (include <qemuctl.h>, not this file): the ssh and scp command lines
 * `qemuctl ssh` and `qemuctl cp` run, the ssh options they pass on, and the
 * connection for other OpenSSH clients.
 */
#ifndef QEMUCTL_SSH_H
#define QEMUCTL_SSH_H

#include <stdbool.h>

#include <qemuctl/error.h> /* QC_ERR_*, struct qc_error */

#ifndef QC_PUBLIC
#define QC_PUBLIC __attribute__((visibility("default")))
#endif
typedef struct qc_ctx qc_ctx;

/*
 * The ssh command line for `qemuctl ssh NAME [-- CMD...]`: to 127.0.0.1 and
 * the forwarded port of guest port 22 (user-mode), else to the address of
 * the first named-network NIC; as the seed's user; with qemuctl's own key
 * (or identity, when not NULL); the host key must be the one the VM's seed
 * gave it (<vm>/known_hosts), or, when the seed carries none, the one seen
 * on the first connection (<vm>/known_hosts.tofu; a warning says so while
 * none is recorded).  cmd (NULL-terminated, may be NULL) is run remotely,
 * after "--".  Refused when the VM is not running or has no reachable
 * address, and when the user name, the address or a file name could become
 * an ssh option or be expanded by ssh.
 */
QC_PUBLIC int qc_vm_ssh_argv(qc_ctx *ctx, const char *name, const char *identity,
	const char *const *cmd, char ***ret_argv, struct qc_error *err);

struct qc_vm_ssh_opts {
	const char *identity;   /* private key file; NULL: qemuctl's own */
	/* ssh options passed on (each checked as qc_ssh_option_words), NULL-terminated, or NULL */
	const char *const *ssh_options;
	const char *const *cmd; /* remote command, NULL-terminated, or NULL: a shell */
	bool no_wait;           /* a VM still booting: fail at once (QC_ERR_STATE) */
	int wait_timeout_ms;    /* waiting for a booting VM's ready marker (qc_vm_wait); 0: 300 s */
};
/*
 * qc_vm_ssh_argv with ssh options, and aware of the VM's state: a paused
 * or stopped VM is refused (QC_ERR_STATE, naming 'qemuctl resume' or
 * 'qemuctl start'); a running VM whose guest has not shown its ready
 * marker yet is waited for (progress as qc_vm_wait's), unless no_wait.
 * Every argv sets ConnectTimeout and ServerAliveInterval/CountMax, so a
 * guest that stops answering ends ssh rather than hanging it.
 * qc_vm_ssh_argv is this with identity and cmd only.
 */
QC_PUBLIC int qc_vm_ssh_command(qc_ctx *ctx, const char *name, const struct qc_vm_ssh_opts *o,
	char ***ret_argv, struct qc_error *err);
/* qc_vm_scp_command's flags */
enum {
	QC_SCP_RECURSIVE = 1 << 0, /* scp -r: directories and what they hold */
	QC_SCP_TO_GUEST = 1 << 1,  /* sources on this host, dest in the guest (else back) */
};
/*
 * The scp command line copying sources (NULL-terminated, at least one) to
 * dest between this host and the VM's guest, over SFTP (no remote shell
 * sees a path: names with blanks, quotes or $ are taken as they are), with
 * the connection, host key check and state checks of qc_vm_ssh_command
 * (o: identity, no_wait, wait_timeout_ms; ssh_options and cmd must be
 * NULL).  Guest paths are plain paths, relative ones to the user's home.
 */
QC_PUBLIC int qc_vm_scp_command(qc_ctx *ctx, const char *name, const struct qc_vm_ssh_opts *o,
	unsigned flags, const char *const *sources, const char *dest, char ***ret_argv,
	struct qc_error *err);
/*
 * How many words of words (1 or 2) the ssh option words[0] takes
 * ("-A", "-L 8080:localhost:80", "-L8080:localhost:80", "-o Key=Value"),
 * or a negative code with a message when qemuctl ssh does not pass it on:
 * anything choosing the address, port, user or key, and every setting of
 * the host key check (-o StrictHostKeyChecking=no, UserKnownHostsFile...).
 */
QC_PUBLIC int qc_ssh_option_words(const char *const *words, struct qc_error *err);

/* The connection qc_vm_ssh_command makes, for other OpenSSH clients (scp, rsync -e, sftp). */
struct qc_vm_ssh_config {
	char *config;         /* "Host NAME\n  HostName ...\n": an ssh_config(5) block */
	char *host;           /* "127.0.0.1" or the named network's address */
	unsigned port;        /* the forwarded port of this run (or 22) */
	char *user;
	char *identity_file;  /* qemuctl's own key, or NULL when none was made */
	char *known_hosts;    /* the VM's known_hosts (or known_hosts.tofu) */
	char *host_key_alias; /* "qemuctl-NAME": the name the key is listed under */
	bool pinned;          /* StrictHostKeyChecking yes (else accept-new) */
};
/* For a running or paused VM; clear *ret with qc_vm_ssh_config_clear. */
QC_PUBLIC int qc_vm_ssh_config(qc_ctx *ctx, const char *name, struct qc_vm_ssh_config *ret,
	struct qc_error *err);
QC_PUBLIC void qc_vm_ssh_config_clear(struct qc_vm_ssh_config *c);

#endif
