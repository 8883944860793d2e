/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* VM commands (cmd_vm.c, cmd_vm_io.c), dispatched from main.c. */
#ifndef QC_CLI_CMD_VM_H
#define QC_CLI_CMD_VM_H

#include <stdio.h>

#include "driver/cli/cli.h"

/* argv[0] is the command name; unknown commands are a usage error. */
int cli_vm_main(struct cli *c, int argc, char **argv);
/* One line per command for `qemuctl --help`. */
void cli_vm_list_commands(FILE *f);

/* cmd_vm_io.c */
int cli_cmd_console(struct cli *c, const char *name);
int cli_cmd_log(struct cli *c, const char *name, bool follow, bool raw);
int cli_cmd_events(struct cli *c, const char *name, bool follow);

#endif
