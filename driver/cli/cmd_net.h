/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmd_net.c entry points besides cli_net_main (declared in cli.h). */
#ifndef QC_CLI_CMD_NET_H
#define QC_CLI_CMD_NET_H

#include "driver/cli/cli.h"

/*
 * qemuctl ssh NAME [-i FILE] [-- CMD...]: execs ssh (argv[0] is "ssh").
 * Returns only on failure (CLI_ERROR / CLI_USAGE).
 */
int cli_ssh_main(struct cli *c, int argc, char **argv);

#endif
