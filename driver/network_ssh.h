/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ssh command line of `qemuctl ssh`, as a pure function of checked
 * values (driver/network_ssh.c), so a unit test covers it without a VM.
 */
#ifndef QC_DRIVER_NETWORK_SSH_H
#define QC_DRIVER_NETWORK_SSH_H

#include <stdbool.h>

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
	const char *const *cmd; /* remote command, NULL-terminated, or NULL: a shell */
};

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

#endif
