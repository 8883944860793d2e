/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl seed ...: placeholder until the seed work lands. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "driver/cli/cli.h"

int cli_seed_main(struct cli *c, int argc, char **argv)
{
	struct qc_error err = {.code = ENOSYS};

	(void) c;
	(void) argc;
	(void) argv;
	snprintf(err.msg, sizeof(err.msg), "'seed' commands are not available in this build yet");
	return cli_error(&err);
}
