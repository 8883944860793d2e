/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl image ...: placeholder until the image work lands. */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "driver/cli/cli.h"

int cli_image_main(struct cli *c, int argc, char **argv)
{
	struct qc_error err = {.code = ENOSYS};

	(void) c;
	(void) argc;
	(void) argv;
	snprintf(err.msg, sizeof(err.msg), "'image' commands are not available in this build yet");
	return cli_error(&err);
}
