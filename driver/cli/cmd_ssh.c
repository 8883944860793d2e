/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl ssh NAME [-i FILE] [-- CMD...]: execs ssh to the VM's forwarded
 * port; returns only on failure (CLI_ERROR / CLI_USAGE).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/cli.h"

void cli_ssh_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl ssh NAME [-i FILE] [-- CMD...]\n", f);
}

int cli_ssh(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	const char *name = a->pos[0], *identity = a->val[OPT_IDENTITY];
	/* `qemuctl ssh vm uname -a` works like ssh: the words after NAME are the command */
	const char *const *rest = (const char *const *) a->rest;
	struct qc_error err = {0};
	char **sargv = NULL;
	qc_ctx *ctx;
	int e, rc;

	(void) cmd;
	if (name && name[0] == '-')
		return cli_usage_error("ssh",
			"ssh: unknown option '%s' (ssh options go in ~/.ssh/config; a command goes "
			"after --)",
			name);
	if (!name)
		return cli_usage_error("ssh", "ssh: missing VM NAME");
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_ssh_argv(ctx, name, identity, rest, &sargv, &err) < 0)
		return cli_error(&err);
	if (c->verbosity > 0) {
		autofree char *line = cli_strv_join(sargv, " ");

		fprintf(stderr, "qemuctl: %s\n", line);
	}
	fflush(stdout);
	fflush(stderr);
	execvp(sargv[0], sargv);
	e = errno;
	rc = cli_error_errno(e, "ssh: cannot run '%s'%s", sargv[0],
		e == ENOENT ? " (install openssh-client)" : "");
	cli_strv_free(sargv);
	return rc;
}
