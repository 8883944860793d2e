/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * util/: the bottom layer every other folder builds on.  Errors, cleanup
 * helpers, memory and string helpers, child spawning, atomic file writes,
 * locks, parsing of sizes and names, time, logging and JSON (the only place
 * that knows yajl exists).
 *
 * Nothing here prints to stdout; messages travel in struct qc_error or go to
 * the log callback the caller installed.
 */
#ifndef QC_UTIL_H
#define QC_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <qemuctl/error.h> /* QC_ERR_*, struct qc_error: shared with the public API */

/* ------------------------------------------------------------------ errors */

/* Set *err (when err is not NULL) and return -code. */
int qc_error_set(struct qc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int qc_error_setv(struct qc_error *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* Like qc_error_set with code = e and ": strerror(e)" appended. */
int qc_error_errno(struct qc_error *err, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prepend "ctx: " to the message; returns -err->code (-QC_ERR_INTERNAL if err is NULL). */
int qc_error_prefix(struct qc_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void qc_error_clear(struct qc_error *err);
/* A short stable name for a code: "invalid", "not-found", "ENOENT"... */
const char *qc_error_code_name(int code);

/* ----------------------------------------------------- memory and cleanup */

/* Allocation failures abort: there is nothing sensible a CLI can do. */
void *qc_xmalloc(size_t n);
void *qc_xzalloc(size_t n);
void *qc_xrealloc(void *p, size_t n);
char *qc_xstrdup(const char *s);
char *qc_xstrndup(const char *s, size_t n);
char *qc_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *qc_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

void qc_freep(void *p);     /* p is a pointer to a pointer */
void qc_closep(int *fd);    /* closes when >= 0, keeps errno */
void qc_fclosep(FILE **f);
void qc_strv_freep(char ***v);
void qc_strv_free(char **v); /* NULL-terminated */

#define cleanup_free __attribute__((cleanup(qc_freep)))
#define cleanup_close __attribute__((cleanup(qc_closep)))
#define cleanup_fclose __attribute__((cleanup(qc_fclosep)))
#define cleanup_strv __attribute__((cleanup(qc_strv_freep)))

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _qc_p = (p);                                                         \
		(p) = NULL;                                                                        \
		_qc_p;                                                                             \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _qc_fd = (fd);                                                                 \
		(fd) = -1;                                                                         \
		_qc_fd;                                                                            \
	})

#define QC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/*
 * A table indexed by an enum has one entry for each of its count values:
 * a value added to the enum without its entry fails the build (an entry
 * left out in the middle of a table of [VALUE] = initialisers does not).
 */
#define QC_TABLE_COVERS(table, count)                                                            \
	_Static_assert(QC_ARRAY_SIZE(table) == (size_t) (count),                                  \
		#table ": one entry for each of the " #count " values of its enum")
/* names[i] of a table of names indexed by an enum; fallback outside it or where unnamed. */
#define QC_NAME_OF(names, i, fallback)                                                             \
	((size_t) (i) < QC_ARRAY_SIZE(names) && (names)[i] ? (names)[i] : (fallback))

/* Frees each of the n pointers in v (free(NULL) does nothing). */
void qc_free_many(void *const *v, size_t n);
/* A destructor's fields in one statement: qc_free_all(s->name, s->path, s->format); */
#define qc_free_all(...)                                                                           \
	qc_free_many((void *const[]){__VA_ARGS__}, QC_ARRAY_SIZE(((void *const[]){__VA_ARGS__})))

/* Defines a cleanup function for pointer variables: name(&p) calls func(*p), sets p to NULL. */
#define QC_DEFINE_CLEANUP_FUNC(name, type, func)                                                   \
	void name(type **p)                                                                        \
	{                                                                                          \
		func(*p);                                                                          \
		*p = NULL;                                                                         \
	}

/* Defines name(v, n), which frees a list of n pointers: elem_free on each, then the list. */
#define QC_DEFINE_LIST_FREE(name, type, elem_free)                                                 \
	void name(type **v, size_t n)                                                              \
	{                                                                                          \
		for (size_t i = 0; i < n; i++)                                                     \
			elem_free(v[i]);                                                           \
		free(v);                                                                           \
	}

/* --------------------------------------------------------- strings, lists */

/* A growable byte buffer, always NUL-terminated. */
struct qc_buf {
	char *data;
	size_t len, cap;
};
void qc_buf_append(struct qc_buf *b, const void *p, size_t n);
void qc_buf_puts(struct qc_buf *b, const char *s);
void qc_buf_putc(struct qc_buf *b, char c);
void qc_buf_printf(struct qc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *qc_buf_steal(struct qc_buf *b); /* returns data ("" when empty), resets b */
void qc_buf_free(struct qc_buf *b);
void qc_buf_freep(struct qc_buf *b);
#define cleanup_buf __attribute__((cleanup(qc_buf_freep)))

/*
 * Untrusted output (a guest's console) made safe to print on a terminal
 * (util/term.c): control characters become visible (^[, \x9b, \u009b),
 * valid UTF-8 text, LF, tab and CR before LF pass.  Streaming: state
 * carries across calls; _end flushes what was held back.
 */
struct qc_term_escape {
	bool cr; /* a CR waits for the next byte */
	unsigned char lead; /* lead byte of the UTF-8 sequence in progress, when it matters */
	int cont; /* continuation bytes still expected */
};
void qc_term_escape(struct qc_term_escape *st, const void *in, size_t n, struct qc_buf *out);
void qc_term_escape_end(struct qc_term_escape *st, struct qc_buf *out);

/* A growable NULL-terminated string vector (argv, envp). */
struct qc_strv {
	char **v; /* always NULL-terminated once anything was pushed */
	size_t n, cap;
};
void qc_strv_push(struct qc_strv *s, const char *str);        /* copies */
void qc_strv_push_take(struct qc_strv *s, char *str);         /* takes ownership */
void qc_strv_pushf(struct qc_strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char **qc_strv_steal(struct qc_strv *s);
void qc_strv_clear(struct qc_strv *s);
void qc_strv_clearp(struct qc_strv *s);
#define cleanup_strvec __attribute__((cleanup(qc_strv_clearp)))
/* Join with sep (for messages); a fresh string. */
char *qc_strv_join(char *const *v, const char *sep);

/* ssh://[USER@]HOST[:PORT][/ROOT]: another host's qemuctl (util/sshurl.c). */
struct qc_ssh_url {
	char *user; /* NULL: ssh's own choice (its config, the login name) */
	char *host; /* a host name or an IPv6 literal without its brackets */
	int port;   /* 0: ssh's own choice */
	char *root; /* NULL: the remote qemuctl's default state root */
};
/* Parses and checks text; on failure ret is zeroed and err says what to fix. */
int qc_ssh_url_parse(const char *text, struct qc_ssh_url *ret, struct qc_error *err);
void qc_ssh_url_clear(struct qc_ssh_url *u);
/* "ssh [-pPORT] [-l USER] -- HOST": the caller appends the remote command. */
char **qc_ssh_url_argv(const struct qc_ssh_url *u);
/* s as one word of a POSIX shell command line (ssh joins a remote command's words). */
char *qc_sh_quote(const char *s);

bool qc_str_has_prefix(const char *s, const char *prefix);
bool qc_str_has_suffix(const char *s, const char *suffix);
bool qc_streq_null(const char *a, const char *b); /* both NULL counts as equal */
/* True when the bytes are valid UTF-8 without NUL. */
bool qc_utf8_valid(const char *s, size_t len);

/* ------------------------------------------------------------------- time */

int64_t qc_now_ms(void);      /* CLOCK_MONOTONIC */
int64_t qc_now_us(void);      /* CLOCK_MONOTONIC */
int64_t qc_realtime_ms(void); /* CLOCK_REALTIME, ms since the epoch */
/* timeout_ms < 0: no deadline (returns -1). */
int64_t qc_deadline_ms(int timeout_ms);
/* Time left before deadline, for poll(): -1 = infinite, 0 = expired. */
int qc_time_left_ms(int64_t deadline);
/* "2026-11-25T08:02:40.123Z" into buf (>= 32 bytes). */
void qc_format_time_utc(int64_t realtime_ms, char *buf, size_t size);
void qc_sleep_ms(int ms);

/* ---------------------------------------------------------------- logging */

enum { QC_LOG_ERROR, QC_LOG_WARNING, QC_LOG_INFO, QC_LOG_DEBUG };
typedef void (*qc_log_fn)(int level, const char *msg, void *opaque);
/* Default: nothing is logged.  The CLI installs a stderr handler. */
void qc_log_set_handler(qc_log_fn fn, void *opaque, int max_level);
void qc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define qc_debug(...) qc_log(QC_LOG_DEBUG, __VA_ARGS__)
#define qc_info(...) qc_log(QC_LOG_INFO, __VA_ARGS__)
#define qc_warn(...) qc_log(QC_LOG_WARNING, __VA_ARGS__)

/* Progress of long work: done and total in bytes (total 0 = unknown). */
typedef void (*qc_progress_fn)(uint64_t done, uint64_t total, void *opaque);

/* ---------------------------------------------------------------- parsing */

/*
 * Sizes: "1073741824", "512M", "2G", "1.5T", "64k", "2GiB", "2GB" (all
 * binary multiples: K=1024).  Rejects empty, negative, garbage, overflow,
 * fractions of a byte.  "what" names the value in the message ("--memory").
 */
int qc_parse_size(const char *what, const char *s, uint64_t *ret, struct qc_error *err);
/* "512 MiB", "2 GiB", "1.5 TiB", "0 B" into buf (>= 16 bytes). */
void qc_format_size(uint64_t bytes, char *buf, size_t size);
/* Decimal unsigned integer in [min, max]. */
int qc_parse_uint(const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *ret,
	struct qc_error *err);
/* Object names: [A-Za-z0-9][A-Za-z0-9._-]{0,62}.  what = "VM", "image"... */
int qc_validate_name(const char *what, const char *name, struct qc_error *err);
/* RFC 1123 host name (labels of [A-Za-z0-9-], 1..63, no leading/trailing '-', total <= 253). */
int qc_validate_hostname(const char *name, struct qc_error *err);

/* ---------------------------------------------------------------- file io */

int qc_write_all(int fd, const void *buf, size_t len, struct qc_error *err);
/*
 * Temp files are named ".NAME.tmp-PID.TAG" next to NAME (NAME may have
 * directories in front; its last part is cut to 200 bytes): PID is the
 * writer's, so qc_sweep_temps removes a temp only once its writer is gone;
 * TAG tells one writer's temps apart (random for qc_temp_create, a role
 * such as "download" for temps a streaming writer names itself).  A fresh
 * string.
 */
char *qc_temp_name(const char *name, const char *tag);
enum {
	/* No fsync of the file or its directory: atomic for readers, not durable. */
	QC_WRITE_NOSYNC = 1 << 0,
	/* mode less the umask, as open(2) gives it: for a file made for the user. */
	QC_WRITE_UMASK = 1 << 1,
};
/*
 * Atomically replace dirfd/name with buf: temp file in the same directory
 * (exactly mode unless QC_WRITE_UMASK), write, fsync, renameat, fsync the
 * directory (no fsyncs with QC_WRITE_NOSYNC).  dirfd may be AT_FDCWD.
 * On failure nothing at name has changed and the temp file is gone.
 */
int qc_write_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
	unsigned flags, struct qc_error *err);
/* qc_write_atomic_at with flags 0: durable. */
int qc_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
	struct qc_error *err);
/*
 * The same in two halves, for a writer that fills the temp itself (a
 * descriptor handed to QEMU): create it write-only, named by qc_temp_name
 * with a random TAG; then close fd and rename *ret_tmp over name, fsync'd
 * as flags say.  qc_temp_commit always closes fd and, when it fails,
 * removes tmp; before it, removing tmp is the caller's.
 */
int qc_temp_create(int dirfd, const char *name, mode_t mode, unsigned flags, char **ret_tmp,
	int *ret_fd, struct qc_error *err);
int qc_temp_commit(
	int dirfd, const char *tmp, int fd, const char *name, unsigned flags, struct qc_error *err);
/*
 * Remove what interrupted writes left in dirfd: temps named by
 * qc_temp_name whose writer no longer exists, whatever their NAME, and
 * temps named as older qemuctl versions named them (".BASE.PID.tmp",
 * ".BASE.tmp-PID-N", ".tmp-PID-BASE" of a process that no longer exists;
 * ".BASE.XXXXXX" whose BASE is in bases, NULL: any, where the caller must
 * hold the lock every writer of those files holds).  Returns how many
 * were removed.
 */
int qc_sweep_temps(int dirfd, const char *const *bases);
/*
 * Read a whole regular file (refuses directories, FIFOs, devices and files
 * larger than max bytes, with a message naming the path).  The result is
 * NUL-terminated; ret_len may be NULL.
 */
int qc_read_file(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len,
	struct qc_error *err);
int qc_fsync_dir(int dirfd, struct qc_error *err);
/* Copy a regular file (sparse-aware not required), atomically at the destination. */
int qc_copy_file(const char *src, int dst_dirfd, const char *dst_name, mode_t mode,
	struct qc_error *err);
/* Absolute, normalised path (realpath of the parent dir + last component). */
int qc_abspath(const char *path, char **ret, struct qc_error *err);
/* Directory of the running executable (readlink /proc/self/exe). */
int qc_self_dir(char **ret, struct qc_error *err);

/* ---------------------------------------------------------- directories */

/*
 * A directory stream on dirfd/path (path NULL or "." : dirfd itself).  The
 * directory is opened afresh (O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags,
 * e.g. O_NOFOLLOW), never a dup of dirfd, so reading it does not move
 * dirfd's offset.  0 and *ret, or -errno (nothing allocated, errno kept):
 * the caller words the error.
 */
int qc_opendir_at(int dirfd, const char *path, int flags, DIR **ret);
/* readdir() without "." and ".."; NULL at the end (errno 0) or on error (errno set). */
struct dirent *qc_readdir(DIR *d);
void qc_closedirp(DIR **d);
#define cleanup_dir __attribute__((cleanup(qc_closedirp)))
/* mkdir -p with mode for every directory created; existing ones are kept. */
int qc_mkdir_p(const char *path, mode_t mode, struct qc_error *err);
/*
 * rm -rf of dirfd/name, never following symlinks nor entering another file
 * system mounted inside, a bind mount included (EXDEV, naming it); missing is
 * not an error.
 */
int qc_rm_rf_at(int dirfd, const char *name, struct qc_error *err);
/*
 * The first mount point at or below directory dfd, from /proc/self/mountinfo
 * (what qc_rm_rf_at would refuse to enter): 1 with *ret_path (absolute) set,
 * 0 when there is none or /proc is not mounted.
 */
int qc_dir_find_mount(int dfd, char **ret_path, struct qc_error *err);
/*
 * A state root's entries are never followed: 0 when dirfd/name is not a
 * symbolic link (or does not exist), else -ELOOP and a message naming path
 * (as the user should see it), the link's target and the fix.
 */
int qc_refuse_symlink(int dirfd, const char *name, const char *path, struct qc_error *err);
/*
 * The first symbolic link directly inside directory dfd (not recursive):
 * 1 with *ret_name set, 0 when there is none.  dfd's position is untouched.
 */
int qc_dir_find_symlink(int dfd, char **ret_name, struct qc_error *err);

/* ------------------------------------------------------------------ trust */

/* What a directory is to its user (util/trust.c). */
enum qc_dir_role {
	QC_DIR_ANCESTOR, /* above: owned by the user or root, not group/other-writable unless sticky */
	QC_DIR_OWN, /* the user's own (a state root): owned by the user, not group/other-writable */
	QC_DIR_PRIVATE, /* the user's only (runtime dirs): owned by the user, no group/other bits */
};
struct stat;
/*
 * st (from lstat or fstat) fits role for uid; else -EPERM (-ELOOP for a
 * link, -ENOTDIR) and "<what> <path> is owned by uid N, not you (uid M): <fix>".
 */
int qc_dir_stat_check(const struct stat *st, uid_t uid, enum qc_dir_role role, const char *what,
	const char *path, const char *fix, struct qc_error *err);
/*
 * StrictModes for an absolute path: every directory from / down is an
 * ancestor, path itself has role; checked as written (lstat) and as
 * resolved (realpath).  A missing path fails with -ENOENT.
 */
int qc_path_check_trusted(const char *path, uid_t uid, enum qc_dir_role role, const char *what,
	const char *fix, struct qc_error *err);
/*
 * Open dirfd/name (path is for messages) as a QC_DIR_PRIVATE directory of
 * the effective uid: created 0700 first when create, then opened with
 * O_NOFOLLOW and checked with fstat on the fd.  A link, someone else's
 * directory or one open to group/other is refused.
 */
int qc_open_private_dir(int dirfd, const char *name, const char *path, bool create,
	const char *what, const char *fix, int *ret_fd, struct qc_error *err);
/*
 * 0 when the peer of connected unix socket fd (SO_PEERCRED: who last called
 * listen()) is the effective uid or the uid given to qc_unix_peer_allow;
 * else -EPERM naming what, path and the uid.
 */
int qc_unix_peer_check(int fd, const char *what, const char *path, struct qc_error *err);
/* Also accept uid (not 0): the user confined QEMUs run as, when we are root. */
void qc_unix_peer_allow(uid_t uid);
/*
 * A unix socket listening at path (a file of that name is replaced), mode
 * 0600 before it listens, backlog pending connections; type_flags are
 * or'ed into its type (SOCK_NONBLOCK).  The fd (close-on-exec), or a
 * negative error.
 */
int qc_unix_listen(const char *path, int type_flags, int backlog, struct qc_error *err);

/* ------------------------------------------------------------------ locks */

/*
 * flock() with a timeout: timeout_ms < 0 waits forever, 0 tries once.
 * op is LOCK_SH or LOCK_EX.  Fails with QC_ERR_BUSY when the time is up.
 * what names the lock in the message ("VM 'web'").
 */
int qc_flock_timeout(int fd, int op, int timeout_ms, const char *what, struct qc_error *err);
/* Open (creating, 0600, O_CLOEXEC|O_NOFOLLOW) dirfd/name and lock it. */
int qc_lock_open(int dirfd, const char *name, int op, int timeout_ms, const char *what,
	int *ret_fd, struct qc_error *err);
/*
 * 1 when some process holds a lock on dirfd/name (tested with a
 * non-blocking LOCK_SH that is released at once), 0 when free or missing.
 */
int qc_lock_is_held(int dirfd, const char *name);

/* -------------------------------------------------------------- processes */

enum qc_stdio {
	QC_STDIO_NULL = 0, /* /dev/null */
	QC_STDIO_INHERIT,  /* the parent's fd */
	QC_STDIO_CAPTURE,  /* captured into the result (bounded) */
	QC_STDIO_FD,       /* a given fd */
};

struct qc_fdmap {
	int src; /* fd in the parent */
	int dst; /* fd number in the child */
};

struct qc_spawn_opts {
	const char *const *argv; /* argv[0]: a path, or a name looked up in PATH */
	const char *const *envp; /* NULL: inherit environ */
	const char *cwd;         /* NULL: inherit */
	const struct qc_fdmap *fds;
	size_t n_fds;
	enum qc_stdio in, out, errout;
	int in_fd, out_fd, err_fd; /* for QC_STDIO_FD */
	const void *input;         /* for in == QC_STDIO_CAPTURE: bytes fed to stdin */
	size_t input_len;
	size_t capture_max;        /* bytes kept per captured stream; 0 = 1 MiB */
	int timeout_ms;            /* qc_spawn_run: <= 0 = no timeout */
	bool new_session;          /* setsid() in the child */
	/*
	 * set_user: after the fd map, the child takes groups (none when
	 * n_groups is 0), gid and uid, and fails unless root is out of reach.
	 */
	bool set_user;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t n_groups;
	bool no_new_privs;         /* prctl(PR_SET_NO_NEW_PRIVS) in the child */
	int pdeathsig;             /* prctl(PR_SET_PDEATHSIG) in the child after set_user, 0 = none */
};

struct qc_spawn_result {
	int status;       /* raw wait status */
	int exit_code;    /* WEXITSTATUS, or 128 + signal */
	int term_signal;  /* 0 unless killed by a signal */
	bool timed_out;   /* we killed it at the deadline */
	char *out, *err;  /* captured output, NUL-terminated (NULL if not captured) */
	size_t out_len, err_len;
};
void qc_spawn_result_free(struct qc_spawn_result *r);

/*
 * Run a child to completion.  Returns 0 when it ran (whatever its exit
 * status, see res), < 0 when it could not be started.  A timeout kills it
 * with SIGKILL, reaps it and sets res->timed_out.
 */
int qc_spawn_run(const struct qc_spawn_opts *o, struct qc_spawn_result *res, struct qc_error *err);
/*
 * Run and require exit status 0.  On failure the error says
 * "<argv0>: exit N: <stderr tail>" (or "killed by signal N", "timed out
 * after S s"), code QC_ERR_CHILD.  res may be NULL.
 */
int qc_spawn_check(const struct qc_spawn_opts *o, struct qc_spawn_result *res,
	struct qc_error *err);
/*
 * The fork and exec under qc_spawn_run and qc_spawn_start: on success the
 * child has exec'd and ret_stdio holds the parent ends of the captured
 * stdin, stdout and stderr (-1 where not captured); on failure nothing is
 * left behind and err says why, a failure of the child before exec included.
 */
int qc_spawn_fork(const struct qc_spawn_opts *o, pid_t *ret_pid, int ret_stdio[3],
	struct qc_error *err);
/* Start a child and return at once (no capture allowed). ret_pidfd may be NULL. */
int qc_spawn_start(const struct qc_spawn_opts *o, pid_t *ret_pid, int *ret_pidfd,
	struct qc_error *err);
/* Find an executable in PATH; NULL when absent. */
char *qc_find_program(const char *name);
/*
 * Can uid:gid (no supplementary groups) open these paths?  A forked child
 * drops to those credentials and open()s each path with its flags (plus
 * O_CLOEXEC | O_NOCTTY | O_NONBLOCK); "/proc/self/fd/N" checks an fd the
 * caller holds (the inode's permissions without the directories on the way).
 * When qc_access_anyone says yes to every path, no child is forked.
 * Returns 0 when all open, 1 with *ret_index and *ret_errno of the first
 * that does not, or -errno when the check itself failed.
 */
int qc_access_as(uid_t uid, gid_t gid, const char *const *paths, const int *flags, size_t n,
	size_t *ret_index, int *ret_errno, struct qc_error *err);
/*
 * Would open(path, flags) succeed for any user at all, whoever it is and
 * whatever its groups?  Decided without switching users, and only for
 * flags O_RDONLY, optionally | O_DIRECTORY: true when every directory on
 * the way grants search (x) and the file (a regular one; a directory with
 * O_DIRECTORY) grants read (r) to owner, group and others alike, none has
 * an access ACL, all are on a filesystem that decides by those (ext2/3/4,
 * xfs, btrfs, tmpfs) and no component is a symlink or "..".  For
 * "/proc/self/fd/N": the inode of fd N alone.  false: not decidable here
 * (ask qc_access_as), not a refusal.
 */
bool qc_access_anyone(const char *path, int flags);

int qc_pidfd_open(pid_t pid, struct qc_error *err);
int qc_pidfd_send_signal(int pidfd, int sig, struct qc_error *err);
/* The same, queued with a value (si_code SI_QUEUE, si_int value) a signalfd reader sees. */
int qc_pidfd_send_value(int pidfd, int sig, int value, struct qc_error *err);
/* Wait (poll on the pidfd) until the process exits or timeout; 1 = exited, 0 = timeout. */
int qc_pidfd_wait(int pidfd, int timeout_ms);
/* "exit 3", "signal 9 (Killed)" */
void qc_format_wait_status(int status, char *buf, size_t size);
/* waitpid() for pid, retried on EINTR; ret_status may be NULL. */
void qc_pid_reap(pid_t pid, int *ret_status);

/* ------------------------------------------------------------------- JSON */

/*
 * A parsed JSON tree.  Opaque: only util/json.c knows it is a yajl_val, so
 * yajl can be swapped without touching the rest.  Nodes returned by the
 * getters are owned by the root.
 */
typedef struct qc_json qc_json;

enum qc_json_type {
	QC_JSON_NULL,
	QC_JSON_BOOL,
	QC_JSON_NUMBER,
	QC_JSON_STRING,
	QC_JSON_OBJECT,
	QC_JSON_ARRAY,
	QC_JSON_TYPE_COUNT, /* how many: not a type */
};

/*
 * The events of a JSON text, in order, for a reader that needs no tree.
 * text: a number's text, a string or key (decoded, not NUL-terminated;
 * "\u0000" is a NUL byte in it, where the tree's C string ends), "true"
 * or "false"; else NULL.  depth: the containers
 * around the event (0: the top-level value; a key is at its values'
 * depth; a close at its open's).
 */
enum qc_json_event {
	QC_JSON_EV_NULL,
	QC_JSON_EV_BOOL,
	QC_JSON_EV_NUMBER,
	QC_JSON_EV_STRING,
	QC_JSON_EV_KEY,
	QC_JSON_EV_MAP_OPEN,
	QC_JSON_EV_MAP_CLOSE,
	QC_JSON_EV_ARRAY_OPEN,
	QC_JSON_EV_ARRAY_CLOSE,
};
/* Returns false to stop the walk (which then fails). */
typedef bool (*qc_json_event_fn)(
	void *opaque, enum qc_json_event ev, const char *text, size_t len, int depth);
/*
 * Walk len bytes with the checks of qc_json_parse (strict JSON, no NUL
 * byte, nesting bound): a failure may come after some events.
 */
int qc_json_walk(
	const char *text, size_t len, qc_json_event_fn fn, void *opaque, struct qc_error *err);

/* Parse len bytes (need not be NUL-terminated). Error carries yajl's message. */
int qc_json_parse(const char *text, size_t len, qc_json **ret, struct qc_error *err);
void qc_json_free(qc_json *j);
void qc_json_freep(qc_json **j);
#define cleanup_json __attribute__((cleanup(qc_json_freep)))

enum qc_json_type qc_json_type(const qc_json *j);
/* Member of an object; NULL when j is not an object or has no such key. */
const qc_json *qc_json_get(const qc_json *j, const char *key);
/* Follow "a/b/c" through objects; NULL when any step is missing. */
const qc_json *qc_json_path(const qc_json *j, const char *path);
/* Arrays: element count and element.  Objects: member count, i-th key and value. */
size_t qc_json_len(const qc_json *j);
const qc_json *qc_json_at(const qc_json *j, size_t i);
const char *qc_json_key_at(const qc_json *j, size_t i);
/* Scalars: NULL / false when the type does not match. */
const char *qc_json_string(const qc_json *j);
bool qc_json_as_int(const qc_json *j, int64_t *ret);   /* integral numbers only */
bool qc_json_as_uint(const qc_json *j, uint64_t *ret); /* also > INT64_MAX */
/* A number's text (an event's, len bytes) read as qc_json_as_uint reads the number. */
bool qc_json_text_uint(const char *text, size_t len, uint64_t *ret);
bool qc_json_as_double(const qc_json *j, double *ret);
bool qc_json_as_bool(const qc_json *j, bool *ret);
/* Getters that name the missing or mistyped path in the error (QC_ERR_JSON). */
int qc_json_get_string(const qc_json *j, const char *path, const char **ret, struct qc_error *err);
int qc_json_get_int(const qc_json *j, const char *path, int64_t *ret, struct qc_error *err);
int qc_json_get_uint(const qc_json *j, const char *path, uint64_t *ret, struct qc_error *err);
int qc_json_get_bool(const qc_json *j, const char *path, bool *ret, struct qc_error *err);
/*
 * Detach the value of object j's member key and hand it to the caller (a
 * null takes its place in j); NULL when j is no object or has no such key.
 */
qc_json *qc_json_take(qc_json *j, const char *key);
/* Serialise a (sub)tree back to compact JSON. */
char *qc_json_dump(const qc_json *j);

/* A JSON generator.  Errors are sticky and reported by qc_jgen_finish. */
struct qc_jgen;
struct qc_jgen *qc_jgen_new(bool pretty);
void qc_jgen_free(struct qc_jgen *g);
void qc_jgen_freep(struct qc_jgen **g);
#define cleanup_jgen __attribute__((cleanup(qc_jgen_freep)))
void qc_jgen_map_open(struct qc_jgen *g);
void qc_jgen_map_close(struct qc_jgen *g);
void qc_jgen_array_open(struct qc_jgen *g);
void qc_jgen_array_close(struct qc_jgen *g);
void qc_jgen_key(struct qc_jgen *g, const char *key);
void qc_jgen_string(struct qc_jgen *g, const char *s); /* NULL writes null */
void qc_jgen_string_len(struct qc_jgen *g, const char *s, size_t len);
void qc_jgen_int(struct qc_jgen *g, int64_t v);
void qc_jgen_uint(struct qc_jgen *g, uint64_t v);
void qc_jgen_double(struct qc_jgen *g, double v);
void qc_jgen_bool(struct qc_jgen *g, bool v);
void qc_jgen_null(struct qc_jgen *g);
void qc_jgen_value(struct qc_jgen *g, const qc_json *v); /* embed a parsed tree */
/* Key + value shorthands. */
void qc_jgen_kstring(struct qc_jgen *g, const char *key, const char *s);
void qc_jgen_kint(struct qc_jgen *g, const char *key, int64_t v);
void qc_jgen_kuint(struct qc_jgen *g, const char *key, uint64_t v);
void qc_jgen_kbool(struct qc_jgen *g, const char *key, bool v);
/* The document as a fresh NUL-terminated string (no trailing newline). */
int qc_jgen_finish(struct qc_jgen *g, char **ret, size_t *ret_len, struct qc_error *err);
/* qc_jgen_finish, then qc_write_atomic of the document as dirfd/name. */
int qc_jgen_write_atomic(
	struct qc_jgen *g, int dirfd, const char *name, mode_t mode, struct qc_error *err);

/* ------------------------------------------------- additions (appended) */

/*
 * A child pid that must not outlive an error path: SIGKILL and reap it
 * when > 0 (keeps errno).  Hand it out with TAKE_PID.
 */
void qc_pid_killp(pid_t *pid);
#define cleanup_pid __attribute__((cleanup(qc_pid_killp)))
#define TAKE_PID(pid) TAKE_FD(pid)

/* ------------------------------------------------- dlopen()ed libraries */

/*
 * driver/xml_dl.c, net/nl_dl.c and storage/decompress_dl.c define the
 * functions of a library they dlopen() on first use under the library's
 * own names (hidden), each forwarding to the pointer dlsym() found:
 * QC_DL_FORWARD() defines one that returns fail while the library cannot
 * be loaded (ready false), QC_DL_FORWARD_VOID() one that then does nothing.
 * ready is evaluated once per call and loads the library the first time.
 */
#define QC_DL_FORWARD(ready, fns, type, name, params, args, fail) \
	type name params                                          \
	{                                                         \
		if (!(ready))                                     \
			return fail;                              \
		return (fns).name args;                           \
	}
#define QC_DL_FORWARD_VOID(ready, fns, name, params, args) \
	void name params                                   \
	{                                                  \
		if (ready)                                 \
			(fns).name args;                   \
	}

/* ---------------------------------------------------------- fault steps */

/*
 * Fault injection (util/fault.c), for tests only.  Every state-changing
 * point of an operation calls qc_fault_step("op:what").  With
 * QEMUCTL_FAULT_AT=N in the environment the process SIGKILLs itself at the
 * N-th step (QEMUCTL_FAULT_AT=NAME: at the first step of that name); with
 * QEMUCTL_FAULT_TRACE=1 each step writes "qemuctl: fault-step N NAME" to
 * stderr (the one exception to "nothing below the CLI prints").  The
 * environment is read at the first step and both variables are then
 * removed, so spawned children never inherit them.  Unset: one branch.
 */
void qc_fault_step(const char *name);
void qc_fault_stepf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool qc_fault_active(void); /* either variable was set */
void qc_fault_reset(void); /* unit tests: the next step reads the environment again */

/*
 * Profiling (util/steptime.c): with QEMUCTL_STEP_TIMES=/ABS/FILE each call
 * (and each fault step) appends "<monotonic us> <process CPU us> <run-queue
 * wait us> <pid> NAME" to FILE; the variable is inherited, so spawned helpers add theirs.
 * Unset: one branch.  bench/start-profile reads the file.
 */
void qc_step_time(const char *name);
void qc_step_time_reset(void); /* unit tests: the next mark reads the environment again */

#endif
