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
#include "util/util.h"

int cli_ssh_main(struct cli *c, int argc, char **argv)
{
	const char *name = NULL, *identity = NULL;
	const char *const *cmd = NULL;
	struct qc_error err = {0};
	char **sargv = NULL;
	qc_ctx *ctx;
	int i;

	for (i = 1; i < argc; i++) {
		const char *v;
		bool missing;

		if (!strcmp(argv[i], "--")) {
			cmd = (const char *const *) &argv[i + 1];
			break;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts("usage: qemuctl ssh NAME [-i FILE] [-- CMD...]");
			return CLI_OK;
		}
		if ((v = cli_opt_value(argc, argv, &i, "-i", &missing)) ||
			(!missing && (v = cli_opt_value(argc, argv, &i, "--identity", &missing))))
			identity = v;
		else if (missing)
			return cli_usage_error("ssh", "%s needs a key file", argv[i]);
		else if (argv[i][0] == '-')
			return cli_usage_error("ssh",
				"ssh: unknown option '%s' (ssh options go "
				"in ~/.ssh/config; a command goes after --)",
				argv[i]);
		else if (!name)
			name = argv[i];
		else {
			/* `qemuctl ssh vm uname -a` works like ssh: the rest is the command */
			cmd = (const char *const *) &argv[i];
			break;
		}
	}
	if (!name)
		return cli_usage_error("ssh", "ssh: missing VM NAME");
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_ssh_argv(ctx, name, identity, cmd, &sargv, &err) < 0)
		return cli_error(&err);
	if (c->verbosity > 0) {
		cleanup_free char *line = qc_strv_join(sargv, " ");

		fprintf(stderr, "qemuctl: %s\n", line);
	}
	fflush(stdout);
	fflush(stderr);
	execvp(sargv[0], sargv);
	qc_error_errno(&err, errno, "ssh: cannot run '%s'%s", sargv[0],
		errno == ENOENT ? " (install openssh-client)" : "");
	qc_strv_free(sargv);
	return cli_error(&err);
}
