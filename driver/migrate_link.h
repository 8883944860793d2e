/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The source's end of a migration (driver/migrate_link.c): one ssh
 * connection to `qemuctl [--root ROOT] migrate-receive` on the target, every
 * word of that remote command quoted for the remote shell, the channel of
 * driver/migrate_chan.h over ssh's stdin/stdout (ssh's stderr kept in a
 * memfd to tell an ssh failure, a host key problem and a missing qemuctl
 * apart), requests and files sent, the progress reported.  Internal to
 * driver/.
 */
#ifndef QC_DRIVER_MIGRATE_LINK_H
#define QC_DRIVER_MIGRATE_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "driver/driver.h"
#include "driver/migrate_chan.h"

struct qc_mig_link {
	struct qc_mig_chan ch; /* first: on_sent's link */
	pid_t pid;
	int ssh_fd; /* ssh's stdin and stdout (a socket); ch's too until the switch */
	struct qc_mux *mux; /* after the switch to frames: ch is its control stream */
	int err_fd; /* ssh's stderr (memfd) */
	const char *host;
	char *target_root;
	qc_ctx *ctx; /* its progress callback */
	const char *name; /* the VM's */
	bool paused; /* the guest's CPUs stopped for the move */
	uint64_t total; /* bytes to send, as far as known */
	char what[160]; /* the progress's phase */
};

/* ssh [-o OPT]... -T -p PORT -l USER -- HOST 'qemuctl' ['--root' 'ROOT'] 'migrate-receive' */
int qc_mig_link_open(struct qc_mig_link *l, const struct qc_ssh_url *u,
	const struct qc_migrate_opts *o, const char *remote_qemuctl, struct qc_error *err);
/* The target's hello (protocol version, root), then ours. */
int qc_mig_link_hello(struct qc_mig_link *l, const char *remote_qemuctl, struct qc_error *err);
/*
 * The connection broke while this side wrote or read: the target's last
 * reply (an error it gave before it went) says more than the broken pipe;
 * else ssh's exit and message.
 */
int qc_mig_link_lost(struct qc_mig_link *l, const char *remote_qemuctl, struct qc_error *err);
/*
 * A cancelled move: the target sees the connection end and removes what it
 * received; its end (at most 10 s) is waited for, a second signal included.
 */
void qc_mig_link_cancel(struct qc_mig_link *l);
/* ssh ended (SIGTERM, reaped), everything freed. */
void qc_mig_link_close(struct qc_mig_link *l);
/* Send one request (g holds an open map) and read its reply (ret NULL: not read). */
int qc_mig_request(struct qc_mig_link *l, struct qc_jgen *g, qc_json **ret, struct qc_error *err);
/* A request of one word ({"op":OP}) and its reply. */
int qc_mig_request_op(struct qc_mig_link *l, const char *op, struct qc_error *err);
/* Send the file open as fd (name: for errors) as the target's base name as. */
int qc_mig_send_fd(
	struct qc_mig_link *l, int fd, const char *name, const char *as, struct qc_error *err);
/* Send file dfd/name as the target's base name as ("sending AS" the progress). */
int qc_mig_send_file(
	struct qc_mig_link *l, int dfd, const char *name, const char *as, struct qc_error *err);
/*
 * The context's progress: "migrate VM: [guest paused, ]PHASE" (fmt, or NULL
 * for the last one again), the bytes sent of l->total.
 */
void qc_mig_progress(struct qc_mig_link *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
