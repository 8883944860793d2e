/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --connect ssh://[USER@]HOST[:PORT][/ROOT]: the local qemuctl runs
 * `qemuctl serve-stdio` on HOST through ssh and the two speak the remote
 * protocol of <qemuctl/remote.h> over the channel: the client is the
 * library's qc_remote_run, the server serve.c.
 */
#ifndef QC_CLI_CONNECT_H
#define QC_CLI_CONNECT_H

#include "driver/cli/cli.h"

/* The client: argv (n_global global options, then the command) on url's host. */
int cli_connect(struct cli *c, const char *url, const struct cli_cmd *table, int argc,
	char **argv, int n_global);
/* The server: `qemuctl serve-stdio`, a hidden command. */
CLI_HANDLER(cli_serve_stdio);

#endif
