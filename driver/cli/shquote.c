/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Words for a POSIX shell: ssh joins a remote command's words with blanks
 * and hands the line to the guest user's shell, so each word is quoted to
 * arrive as it was given.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"

char *cli_sh_quote(const char *s)
{
	return qc_shell_quote(s);
}

char **cli_sh_quote_argv(char *const *v)
{
	size_t n = 0;
	char **q;

	while (v[n])
		n++;
	if (!(q = calloc(n + 1, sizeof(*q))))
		abort();
	for (size_t i = 0; i < n; i++)
		q[i] = cli_sh_quote(v[i]);
	return q;
}
