/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqemuctl: other hosts, as <qemuctl.h> includes it (include <qemuctl.h>,
 * not this file): a VM moved to another host's qemuctl, and the ssh command
 * line that reaches one.
 */
#ifndef QEMUCTL_REMOTE_H
#define QEMUCTL_REMOTE_H

#include <signal.h> /* sig_atomic_t */
#include <stdbool.h>
#include <stdint.h>

#include <qemuctl/error.h> /* QC_ERR_*, struct qc_error */

#ifndef QC_PUBLIC
#define QC_PUBLIC __attribute__((visibility("default")))
#endif
typedef struct qc_ctx qc_ctx;

/*
 * Migration (driver/migrate.c, migrate_recv.c): VM name to the qemuctl at
 * url (ssh://[USER@]HOST[:PORT][/ROOT]) through one ssh connection (the
 * user's ssh config, keys and agent; BatchMode) to `qemuctl migrate-receive`
 * there.  offline: a stopped VM's definition and files move; a backing
 * image outside the VM's directory comes from the target's catalog when it
 * holds the same file (SHA-256), else it is sent.  A running VM (without
 * offline) moves live (pre-copy): its writable disks are mirrored and its
 * RAM migrated while it runs, all through the one ssh connection; its CPUs
 * stop only for QEMU's last round, the target's run, then this host's QEMU
 * ends.  On failure before that it runs on here.  The source's copy is
 * removed only once the target committed the VM; on failure the source is
 * untouched and the target removes what it received.
 *
 * interrupted: a flag the caller's signal handler sets to the signal's
 * number (SIGINT, SIGTERM, SIGHUP; installed without SA_RESTART).  Before
 * the definition is sent for the commit (a running VM: before its
 * migration completed), the move is then cancelled: the
 * target removes what it received (waited for, at most 10 s), a running VM
 * runs on here, the error's code is ECANCELED.  From the commit request on
 * the flag is not looked at: the move completes (or fails as without it),
 * so the VM is never on both hosts nor on neither.
 */
struct qc_migrate_opts {
	bool offline;                   /* move a stopped VM */
	const char *const *ssh_options; /* each given to ssh as -o OPTION; NULL-terminated */
	const char *remote_qemuctl;     /* the target's qemuctl command; NULL: "qemuctl" */
	const volatile sig_atomic_t *interrupted; /* non-zero: cancel (see above); or NULL */
};
struct qc_migrate_result {
	uint64_t bytes;         /* file bytes sent */
	unsigned images_sent;   /* backing images sent */
	unsigned images_reused; /* backing images the target's catalog had */
	int64_t total_ms;
	bool live;              /* a running VM moved: it runs on the target */
	int64_t downtime_ms;    /* live: from its CPUs' stop here to their start there */
	int64_t qemu_downtime_ms; /* live: the downtime QEMU reported for its migration */
	uint64_t ram_bytes;     /* live: RAM bytes QEMU's migration transferred */
	uint64_t disk_bytes;    /* live: bytes of the disks the mirrors covered */
};
QC_PUBLIC int qc_vm_migrate(qc_ctx *ctx, const char *name, const char *url,
	const struct qc_migrate_opts *o, struct qc_migrate_result *ret, struct qc_error *err);
/* The target's side, on in_fd/out_fd (qemuctl migrate-receive: stdin/stdout). */
QC_PUBLIC int qc_vm_migrate_receive(qc_ctx *ctx, int in_fd, int out_fd, struct qc_error *err);

/*
 * Another host's qemuctl (driver/remote.c): the ssh command line for
 * url, "ssh://[USER@]HOST[:PORT][/ROOT]" (QC_ERR_INVALID with what to fix
 * otherwise): "ssh", ssh_options, the port and user, "--", HOST, then
 * remote_cmd's words (both NULL-terminated, or NULL).  *ret_root: ROOT, or
 * NULL when the address names none (free()).  Free *ret_argv's strings
 * and the array with free().
 */
QC_PUBLIC int qc_remote_ssh_argv(const char *url, const char *const *ssh_options,
	const char *const *remote_cmd, char ***ret_argv, char **ret_root, struct qc_error *err);

/* s as one word of a POSIX shell command line, in single quotes (free() it). */
QC_PUBLIC char *qc_shell_quote(const char *s);

#endif
