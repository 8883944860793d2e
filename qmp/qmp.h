/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp/: a QMP (QEMU Machine Protocol) client.
 *
 * One struct qc_qmp is one connection to one QEMU monitor socket.  Every
 * call that can block takes its own timeout in milliseconds (< 0: no
 * deadline; do not use that outside tests).  Not thread-safe: one
 * connection is used by one thread at a time.
 *
 * Protocol, as this client speaks it (QEMU docs/interop/qmp-spec.rst):
 *  - the server speaks first: {"QMP": {"version": {"qemu": {"major": ..,
 *    "minor": .., "micro": ..}, "package": ".."}, "capabilities": [..]}};
 *    we send {"execute": "qmp_capabilities"} (no "oob") right after
 *    connecting, without waiting for it: QEMU reads a client's commands
 *    only once it has sent the greeting and answers them in order, so the
 *    greeting and the reply arrive after one round trip.  The first
 *    message must still be a valid greeting, checked as before; anything
 *    else kills the connection.
 *  - messages are JSON objects, one per line; a line is split on "\n" and
 *    a trailing "\r" is dropped.  A message longer than QC_QMP_MAX_MSG
 *    bytes kills the connection.
 *  - every command we send carries "id": "qc-N", N unique and increasing
 *    per connection.  One command is in flight at a time, or one batch
 *    sent in a single write (qc_qmp_execute_all).
 *  - a reply whose id is ours but belongs to an earlier command (one that
 *    timed out) is dropped silently (logged at debug level): a late answer
 *    is normal after a timeout and the connection stays usable.  A reply
 *    without an id, or with an id we never sent, is a protocol error
 *    (QC_ERR_PROTO) and kills the connection: we cannot know which
 *    command it answers.
 *  - messages with "event" are queued in arrival order, whenever they
 *    arrive (before, between or during commands), until popped.  The
 *    queue holds at most QC_QMP_MAX_EVENTS; beyond that the oldest are
 *    dropped and counted (qc_qmp_events_dropped).
 *
 * Errors (struct qc_error codes):
 *  - QC_ERR_QMP    QEMU answered with "error": "QMP 'cmd': <class>: <desc>".
 *                  The connection stays usable.
 *  - ETIMEDOUT     no reply in time: "QMP 'cmd': no reply within N ms".
 *                  The connection stays usable (the late reply is dropped).
 *  - QC_ERR_EOF    QEMU closed the socket (quit, crash, kill):
 *                  "QMP 'cmd': connection closed by QEMU".
 *  - QC_ERR_PROTO  malformed JSON (yajl's message), a message over 16 MiB
 *                  ("QMP: message larger than 16 MiB"), a bad greeting,
 *                  an id we did not send.
 *  - errno values  socket errors (ECONNREFUSED, ENOENT, EPIPE...).
 * After EOF, a protocol error or a socket error the connection is dead:
 * every later call fails at once with the same code and reason (sticky),
 * but events queued before the end can still be popped and waited for.
 * In messages, "QMP 'cmd': " names the command a call was running and
 * "QMP: " is used when there is none (events, reads, greeting).
 */
#ifndef QC_QMP_H
#define QC_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define QC_QMP_MAX_MSG (16u * 1024 * 1024) /* bytes in one message (line) */
#define QC_QMP_MAX_BATCH 8 /* commands qc_qmp_execute_all sends at once */
#define QC_QMP_MAX_EVENTS 4096 /* queued events kept */
#define QC_QMP_TIMEOUT_MS 30000 /* a sensible default per call */

struct qc_qmp;

/* What the greeting said. */
struct qc_qmp_greeting {
	int major, minor, micro; /* QEMU version */
	const char *package; /* "Debian 1:7.2+dfsg-7+deb12u7", may be "" */
	char **capabilities; /* NULL-terminated, e.g. {"oob", NULL} */
};

/* One event.  json is the whole message; data points into it. */
struct qc_qmp_event {
	char *name; /* "SHUTDOWN", "STOP", "RESUME"... */
	qc_json *json; /* {"event": .., "data": .., "timestamp": ..} */
	const qc_json *data; /* the "data" member, NULL when absent */
	int64_t seconds; /* "timestamp" (host wall clock), -1 if absent */
	int64_t microseconds;
	char *line; /* the message as received (no newline) */
};
void qc_qmp_event_free(struct qc_qmp_event *ev);
void qc_qmp_event_freep(struct qc_qmp_event **ev);
#define cleanup_qmp_event __attribute__((cleanup(qc_qmp_event_freep)))

/* ------------------------------------------------------------ connection */

/*
 * Connect to the unix socket at path, read the greeting and negotiate
 * capabilities, all within timeout_ms.  ENOENT and ECONNREFUSED are retried
 * until the deadline (QEMU creates and listens on the socket a moment after
 * exec); the error then says "QMP socket '<path>': ...".  A socket whose
 * listener (SO_PEERCRED) is neither our uid nor the one given to
 * qc_unix_peer_allow (confined QEMU's) is refused (-EPERM) before anything
 * is read or sent.
 */
int qc_qmp_connect(const char *path, int timeout_ms, struct qc_qmp **ret, struct qc_error *err);
/*
 * The same, giving up early (QC_ERR_EOF "QMP socket '<path>': QEMU exited
 * before accepting connections") when watch_fd (>= 0) polls readable or
 * hung up while we retry: a pidfd of QEMU, or the read end of a pipe whose
 * write end only QEMU holds.  Saves waiting the whole timeout for a QEMU
 * that died on a bad command line.
 */
int qc_qmp_connect_watch(
	const char *path, int watch_fd, int timeout_ms, struct qc_qmp **ret, struct qc_error *err);

/*
 * Connect as qc_qmp_connect does and run n (0..QC_QMP_MAX_BATCH - 1)
 * commands without arguments in the same write as qmp_capabilities: the
 * greeting, the negotiation and the commands take one round trip.  rets[i]
 * is cmds[i]'s "return" value as qc_qmp_execute_all gives it; on failure
 * neither a connection nor a result is kept.  Errors are those of
 * qc_qmp_connect, then those of qc_qmp_execute_all.
 */
int qc_qmp_connect_all(const char *path, const char *const *cmds, size_t n, int timeout_ms,
	struct qc_qmp **ret, qc_json **rets, struct qc_error *err);

/*
 * The same over an already-connected stream socket (tests use socketpair(),
 * the monitor may inherit one).  Takes ownership of fd in every case; the
 * fd is made non-blocking and close-on-exec.
 */
int qc_qmp_open_fd(int fd, int timeout_ms, struct qc_qmp **ret, struct qc_error *err);
int qc_qmp_open_fd_all(int fd, const char *const *cmds, size_t n, int timeout_ms,
	struct qc_qmp **ret, qc_json **rets, struct qc_error *err);
/*
 * Take fd as a connection that has read nothing yet: the first message
 * that arrives is checked as QEMU's greeting (io.c).
 */
int qc_qmp_adopt_fd(int fd, struct qc_qmp **ret, struct qc_error *err);

void qc_qmp_close(struct qc_qmp *q); /* NULL is fine */
void qc_qmp_closep(struct qc_qmp **q);
#define cleanup_qmp __attribute__((cleanup(qc_qmp_closep)))

const struct qc_qmp_greeting *qc_qmp_get_greeting(const struct qc_qmp *q);

/*
 * 0 while the connection is usable; otherwise the sticky negative code,
 * with the reason copied into err ("QMP: connection closed by QEMU").
 */
int qc_qmp_check_alive(const struct qc_qmp *q, struct qc_error *err);

/* --------------------------------------------------------------- commands */

/*
 * Run cmd with optional arguments (an object, or NULL) and wait for its
 * reply.  On success *ret (when ret is not NULL) is the "return" value as a
 * fresh tree the caller frees (qc_json_free); often an empty object.
 */
int qc_qmp_execute(struct qc_qmp *q, const char *cmd, const qc_json *args, int timeout_ms,
	qc_json **ret, struct qc_error *err);
/*
 * Run n (1..QC_QMP_MAX_BATCH) commands without arguments, sent in one write
 * and answered in one wait (a round trip each saved); rets[i] is cmds[i]'s
 * "return" value as qc_qmp_execute gives it.  The first command's error
 * fails the batch, no result is kept then.
 */
int qc_qmp_execute_all(struct qc_qmp *q, const char *const *cmds, size_t n, int timeout_ms,
	qc_json **rets, struct qc_error *err);
/* The same with arguments as JSON text ("{\"fdname\":\"x\"}"), or NULL. */
int qc_qmp_execute_text(struct qc_qmp *q, const char *cmd, const char *args_json, int timeout_ms,
	qc_json **ret, struct qc_error *err);
/*
 * The same, passing fd (>= 0) with SCM_RIGHTS in the sendmsg() that sends
 * the command itself.  The caller keeps its fd; QEMU receives a copy.
 */
int qc_qmp_execute_with_fd(struct qc_qmp *q, const char *cmd, const char *args_json, int fd,
	int timeout_ms, qc_json **ret, struct qc_error *err);

/* getfd: QEMU keeps a copy of fd under fdname (for netdev fd=NAME etc.). */
int qc_qmp_getfd(
	struct qc_qmp *q, int fd, const char *fdname, int timeout_ms, struct qc_error *err);
/* closefd: QEMU closes its copy named fdname. */
int qc_qmp_closefd(struct qc_qmp *q, const char *fdname, int timeout_ms, struct qc_error *err);
/*
 * add-fd: put a copy of fd into fd set fdset_id (< 0: QEMU picks a new
 * set); opaque (may be NULL) is a free-form note.  Returns QEMU's fdset-id
 * and fd number in its own table (use "/dev/fdset/<id>" as a file name).
 * ret_fdset_id and ret_fd may be NULL.
 */
int qc_qmp_add_fd(struct qc_qmp *q, int fd, int64_t fdset_id, const char *opaque, int timeout_ms,
	int64_t *ret_fdset_id, int64_t *ret_fd, struct qc_error *err);
/* remove-fd: remove fd (< 0: every fd) from fd set fdset_id. */
int qc_qmp_remove_fd(
	struct qc_qmp *q, int64_t fdset_id, int64_t fd, int timeout_ms, struct qc_error *err);

/*
 * Raw passthrough for `qemuctl qmp NAME JSON`: json must be an object with
 * a string "execute" (QC_ERR_INVALID otherwise, the connection untouched);
 * our id replaces the user's for the round trip.  Returns 0 when QEMU
 * answered, whether with "return" or "error": *ret_reply is QEMU's reply as
 * compact JSON text, with the user's "id" put back (or no id when the user
 * gave none).  < 0 only for invalid input, timeout, EOF, protocol errors.
 */
int qc_qmp_raw(
	struct qc_qmp *q, const char *json, int timeout_ms, char **ret_reply, struct qc_error *err);

/* ----------------------------------------------------------------- events */

/*
 * Wait for the first queued or arriving event named name (NULL: any
 * event) and remove it from the queue; other events stay queued in their
 * order.  Events queued before the connection died are still found; then
 * the sticky error is returned.  Timeout: ETIMEDOUT "QMP: no 'NAME' event
 * within N ms".
 */
int qc_qmp_wait_event(struct qc_qmp *q, const char *name, int timeout_ms, struct qc_qmp_event **ret,
	struct qc_error *err);
/* Pop the oldest queued event without reading: 1 = *ret set, 0 = queue empty. */
int qc_qmp_pop_event(struct qc_qmp *q, struct qc_qmp_event **ret);
size_t qc_qmp_events_pending(const struct qc_qmp *q);
uint64_t qc_qmp_events_dropped(const struct qc_qmp *q);

/*
 * For a caller's own poll() loop: the socket (poll it for POLLIN; never
 * read it directly), and a call that reads whatever is there without
 * blocking and queues the events in it.  Returns the number of events
 * queued by this call (>= 0), or the (sticky) error: QC_ERR_EOF when QEMU
 * has gone away (events that came before it stay queued: pop them).
 * Events can also be queued by any other call (execute, wait_event), and
 * then the socket is not readable any more: pop after every call, not only
 * after POLLIN.
 */
int qc_qmp_fd(const struct qc_qmp *q);
int qc_qmp_read_available(struct qc_qmp *q, struct qc_error *err);

/* ------------------------------------------ internal to qmp/ (io.c, command.c) */

/* A fresh command id for q (never reused on this connection). */
uint64_t qc_qmp_new_id(struct qc_qmp *q);
/*
 * Send line (a complete command carrying "id": "qc-<id>", no newline),
 * with fd attached when >= 0, and wait for the reply with that id.
 * *ret_reply is the whole reply message ("return" or "error" inside).
 * cmd names the command in error messages.
 */
int qc_qmp_transact(struct qc_qmp *q, const char *cmd, uint64_t id, const char *line, size_t len,
	int fd, int timeout_ms, qc_json **ret_reply, struct qc_error *err);
/*
 * The same for n (1..QC_QMP_MAX_BATCH) commands sent in one write: text
 * holds n lines joined by "\n" (no final one), with the ids id..id+n-1;
 * ret_replies[i] gets the reply to id+i, whatever order they come in.
 * On failure no reply is kept.
 */
int qc_qmp_transact_n(struct qc_qmp *q, const char *cmd, uint64_t id, size_t n, const char *text,
	size_t len, int fd, int timeout_ms, qc_json **ret_replies, struct qc_error *err);

#endif
