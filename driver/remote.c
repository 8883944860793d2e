/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ssh command line that reaches another host's qemuctl: the checked
 * parts of an ssh://[USER@]HOST[:PORT][/ROOT] address (util/sshurl.c) as
 * separate words, the caller's ssh options before "--", the remote
 * command's words after the host.
 */
#include "config.h"

#include <string.h>

#include "driver/qemuctl.h"
#include "util/util.h"

int qc_remote_ssh_argv(const char *url, const char *const *ssh_options,
	const char *const *remote_cmd, char ***ret_argv, char **ret_root, struct qc_error *err)
{
	struct qc_ssh_url u = {0};
	cleanup_strv char **base = NULL;
	struct qc_strv v = {0};
	int r;

	if ((r = qc_ssh_url_parse(url, &u, err)) < 0)
		return r;
	base = qc_ssh_url_argv(&u);
	qc_strv_push(&v, base[0]);
	for (size_t i = 0; ssh_options && ssh_options[i]; i++)
		qc_strv_push(&v, ssh_options[i]);
	for (size_t i = 1; base[i]; i++)
		qc_strv_push(&v, base[i]);
	for (size_t i = 0; remote_cmd && remote_cmd[i]; i++)
		qc_strv_push(&v, remote_cmd[i]);
	*ret_argv = qc_strv_steal(&v);
	if (ret_root) {
		*ret_root = u.root;
		u.root = NULL;
	}
	qc_ssh_url_clear(&u);
	return 0;
}
