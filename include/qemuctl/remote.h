/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqemuctl: other hosts, as <qemuctl.h> includes it (include <qemuctl.h>,
 * not this file): a VM moved to another host's qemuctl, the ssh command
 * line that reaches one, and commands run there.
 */
#ifndef QEMUCTL_REMOTE_H
#define QEMUCTL_REMOTE_H

#include <signal.h> /* sig_atomic_t */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

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

/*
 * qemuctl commands on another host (driver/remote.c, remote_run.c): a
 * handle holds one ssh connection to the host at url
 * (ssh://[USER@]HOST[:PORT][/ROOT]; ROOT: the state root there) and runs
 * each command as a session on it, so a program that drives many hosts
 * pays one ssh handshake per host, not one per command.  Each command runs
 * `REMOTE_QEMUCTL serve-stdio` there, which speaks the frames below: the
 * same as `qemuctl --connect`, whose errors these are too.
 *
 * qc_remote_open: ssh (the user's ssh config, keys and agent; BatchMode)
 * logs in as an OpenSSH master (ControlMaster, its ControlPath in a
 * private 0700 directory, ControlPersist off); it returns once the master
 * listens.  The master is a child of the calling thread (it ends when
 * that thread does: PR_SET_PDEATHSIG) until qc_remote_close (`ssh -O
 * exit`).  Errors: QC_ERR_INVALID (the address, remote_qemuctl),
 * QC_ERR_CHILD (ssh could not log in, the host key refused: ssh's words
 * in the message), ETIMEDOUT (no login within 120 s).  direct: no master;
 * each qc_remote_run is an ssh connection of its own, without BatchMode
 * (ssh may ask on the terminal): one command, as `qemuctl --connect` runs.
 */
typedef struct qc_remote qc_remote;
struct qc_remote_opts {
	const char *const *ssh_options; /* each given to ssh as -o OPTION; NULL-terminated */
	const char *remote_qemuctl; /* its absolute path there ([A-Za-z0-9/._+-]); NULL: "qemuctl" */
	bool direct;                /* no master connection (see above) */
};
QC_PUBLIC int qc_remote_open(const char *url, const struct qc_remote_opts *o, qc_remote **ret,
	struct qc_error *err);
/* Ends the master (ssh -O exit, else SIGTERM after 5 s) and removes its directory; NULL is fine. */
QC_PUBLIC void qc_remote_close(qc_remote *r);

/*
 * qc_remote_run: argv (the words after "qemuctl", global options
 * included) run there.  Returns 0 when the command ran, whatever its exit
 * code (ret->exit_code: 0, 1 refused, 2 usage, as the CLI's), and on the
 * way its standard output and error; < 0 when it could not: QC_ERR_CHILD
 * (ssh failed, or the connection ended before the command did),
 * QC_ERR_NOTFOUND (no remote qemuctl there), QC_ERR_PROTO (a qemuctl that
 * speaks another protocol), QC_ERR_STATE (the remote qemuctl refused the
 * request), QC_ERR_INVALID or errno (a local file that cannot be sent,
 * output over 64 MiB), ENOSPC and others (a file the command wrote that
 * cannot be written here).  ret is filled only on 0; free it with
 * qc_remote_result_free.  in may be NULL: no input, no files.
 *
 * files: argv words (from offset on) that name local files: a file the
 * command reads is sent (regular files only) and the command sees a
 * private copy; one it writes (out) comes back, written beside it
 * through a temporary file and a rename, when the command succeeded.
 * env: "NAME=value" for the command (NO_COLOR, COLUMNS, TERM only: the
 * server refuses others, QC_ERR_STATE).
 * stream: instead of stdin_data and the captured result, in_fd is copied
 * to the command's input as it comes (-1: none) and its output to out_fd
 * and err_fd as it comes, ssh's own messages to err_fd too (the errors
 * then say "its message is above" instead of quoting them); tty: the
 * command gets a terminal of columns x rows there, resized when the flag
 * *resized is set (by the caller's SIGWINCH handler, installed without
 * SA_RESTART) to out_fd's size.
 */
struct qc_remote_file {
	int arg;       /* the argv word that names it */
	size_t offset; /* where the path starts in it ("--user-data=F": 12) */
	bool out;      /* written by the command: brought back */
};
struct qc_remote_input {
	const void *stdin_data; /* the command's standard input, then its end */
	size_t stdin_len;
	const struct qc_remote_file *files;
	size_t n_files;
	const char *const *env;
	bool stream;
	int in_fd, out_fd, err_fd;
	bool tty;
	unsigned short columns, rows;
	const volatile sig_atomic_t *resized;
};
struct qc_remote_result {
	int exit_code;          /* the remote command's */
	char *out, *err;        /* its output, NUL-terminated (NULL when streamed) */
	size_t out_len, err_len;
};
QC_PUBLIC int qc_remote_run(qc_remote *r, const char *const *argv,
	const struct qc_remote_input *in, struct qc_remote_result *ret, struct qc_error *err);
QC_PUBLIC void qc_remote_result_free(struct qc_remote_result *res);

/*
 * The protocol's frames, for its server (`qemuctl serve-stdio`): one type
 * byte, a 4-byte big-endian length, the payload.  Both sides send a hello
 * first ({"protocol": N, "version": V}); the client then sends the request
 * ({"argv": [...], "root", "tty", "columns", "rows", "env": {...},
 * "files": [{"arg", "offset", "name", "size" | "out": true}]}), the files'
 * bytes and its standard input; the server runs the command and sends its
 * output, the files it wrote when it succeeded and, last, its exit code.
 */
#define QC_REMOTE_PROTOCOL 1
#define QC_REMOTE_FRAME_MAX (1u << 20) /* a longer payload is a protocol error */
#define QC_REMOTE_CHUNK 65536          /* data frames carry at most this much */
#define QC_REMOTE_MAX_FILES 64
enum {
	QC_RF_HELLO = 'h',      /* both ways, first: JSON */
	QC_RF_REQUEST = 'r',    /* client: JSON, once */
	QC_RF_FILE = 'f',       /* client: the next bytes of the request's files, in order */
	QC_RF_STDIN = 'i',      /* client: standard input */
	QC_RF_STDIN_END = 'I',  /* client: standard input ended */
	QC_RF_WINSIZE = 'w',    /* client: a terminal resized: columns, rows (2 x 2 bytes) */
	QC_RF_STDOUT = 'o',     /* server */
	QC_RF_STDERR = 'e',     /* server */
	QC_RF_EXIT = 'x',       /* server: the command's exit code (4 bytes), last */
	QC_RF_ERROR = 'E',      /* server: it could not run the request: the message */
	QC_RF_OUTPUT = 'O',     /* server: a file the command wrote (its index, 4 bytes)... */
	QC_RF_OUTPUT_END = 'F', /* ...its bytes in QC_RF_FILE frames, then this (the index) */
};
/* The whole frame to fd (blocking); 0, or -errno. */
QC_PUBLIC int qc_remote_frame_write(int fd, char type, const void *p, size_t n);
/* Frames read from a byte stream ({0} to start). */
struct qc_remote_reader {
	char *buf;
	size_t len, off, cap;
};
QC_PUBLIC void qc_remote_reader_free(struct qc_remote_reader *r);
/* One read() from fd into r: the bytes read, 0 at EOF, -errno. */
QC_PUBLIC ssize_t qc_remote_reader_fill(struct qc_remote_reader *r, int fd);
/*
 * The next complete frame in r: 1 (*p valid until the next fill), 0 when
 * none is complete yet, -1 when its length is over QC_REMOTE_FRAME_MAX.
 */
QC_PUBLIC int qc_remote_reader_next(struct qc_remote_reader *r, char *type, const char **p,
	size_t *n);
/* Blocking: the next frame; 1, 0 at EOF (or a frame cut short), -1 bad or a read error. */
QC_PUBLIC int qc_remote_reader_read(struct qc_remote_reader *r, int fd, char *type,
	const char **p, size_t *n);
/* This side's hello payload (free()). */
QC_PUBLIC char *qc_remote_hello(void);
/* A hello's protocol number (-1: not a hello) and the peer's version into vbuf. */
QC_PUBLIC int qc_remote_hello_parse(const char *p, size_t n, char *vbuf, size_t vsize);

/* s as one word of a POSIX shell command line, in single quotes (free() it). */
QC_PUBLIC char *qc_shell_quote(const char *s);

#endif
