/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A handle on another host's qemuctl (<qemuctl/remote.h>), inside the library. */
#ifndef QC_DRIVER_REMOTE_H
#define QC_DRIVER_REMOTE_H

#include <sys/types.h>

#include "driver/qemuctl.h"
#include "util/util.h"

struct qc_remote {
	struct qc_ssh_url url;
	char **ssh_options;   /* "-o", OPTION pairs */
	char *remote_qemuctl; /* the command there */
	char *control;        /* the master's ControlPath, or NULL (direct) */
	char *dir;            /* its private directory */
	pid_t master;         /* or -1 */
	int master_pidfd;
	int master_err;       /* the master's stderr (a memfd), or -1 */
};

/*
 * ssh's words for r: "ssh", ssh's options, then extra (NULL-terminated),
 * the port and user, "--", HOST, then remote (NULL-terminated, or NULL).
 */
char **qc_remote_ssh_words(const struct qc_remote *r, const char *const *extra,
	const char *const *remote);
/*
 * ssh (or the remote command) ended without a hello: why, from its wait
 * status and the tail of its stderr; said: quote ssh's last line (false:
 * the caller showed it, "its message is above").
 */
int qc_remote_ssh_failed(const struct qc_remote *r, int status, const char *tail, bool said,
	struct qc_error *err);
/* ssh could not be started (err says why): QC_ERR_CHILD, as ssh's own failures. */
int qc_remote_spawn_failed(const struct qc_remote *r, struct qc_error *err);

#endif
