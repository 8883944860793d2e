/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemuctl command line.  main.c holds the table of every command (its
 * options, positionals, handler); parse.c parses argv against it; cli.c
 * and json.c hold the helpers every command uses; each cmd_*.c holds one
 * command group.  Only the public API in driver/qemuctl.h is used.
 */
#ifndef QC_CLI_H
#define QC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <yajl/yajl_tree.h>

#include "driver/qemuctl.h"

/* Owned resources freed when they go out of scope. */
void cli_freep(void *p); /* p points to a pointer */
void cli_closep(int *fd);
void cli_strv_freep(char ***v);
#define autofree __attribute__((cleanup(cli_freep)))
#define autoclose __attribute__((cleanup(cli_closep)))
#define autostrv __attribute__((cleanup(cli_strv_freep)))
#define CLI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Strings: these abort when memory runs out. */
char *cli_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *cli_strdup(const char *s);
/* v (NULL-terminated, may be NULL) joined with sep. */
char *cli_strv_join(char *const *v, const char *sep);
void cli_strv_free(char **v);
/* Times: CLOCK_MONOTONIC in ms; "2026-11-25T08:02:40.123Z" into buf (>= 32 bytes). */
int64_t cli_now_ms(void);
void cli_format_time_utc(int64_t realtime_ms, char *buf, size_t size);

/* Exit codes: 0 ok, 1 error, 2 usage. */
enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

struct cli {
	const char *root; /* --root, or NULL */
	bool json; /* --json */
	int verbosity; /* -q: -1, default 0, -v: 1, -vv: 2 */
	bool tty; /* stdout is a terminal */
	qc_ctx *ctx; /* opened lazily by cli_ctx() */
};

/* Open the context on first use; prints the error and returns NULL on failure. */
qc_ctx *cli_ctx(struct cli *c);
/* msg with its control characters shown, not obeyed (it may quote a file's text) */
char *cli_shown(const char *msg);
/* "qemuctl: error: MSG" on stderr; returns CLI_ERROR. */
int cli_error(const struct qc_error *err);
/* cli_error() of "MSG: strerror(e)". */
int cli_error_errno(int e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* All of buf to fd (blocking, EINTR retried): 0, or -errno (a closed pipe: -EPIPE). */
int cli_write_all(int fd, const void *buf, size_t n);
/* JSON output (json.c): yajl_gen; a NULL string is null. */
struct cli_json;
struct cli_json *cli_json_new(bool pretty);
void cli_json_freep(struct cli_json **j);
#define autojson __attribute__((cleanup(cli_json_freep)))
void cli_json_map_open(struct cli_json *j);
void cli_json_map_close(struct cli_json *j);
void cli_json_array_open(struct cli_json *j);
void cli_json_array_close(struct cli_json *j);
void cli_json_key(struct cli_json *j, const char *key);
void cli_json_string(struct cli_json *j, const char *s);
void cli_json_null(struct cli_json *j);
void cli_json_kstring(struct cli_json *j, const char *key, const char *s);
void cli_json_kint(struct cli_json *j, const char *key, int64_t v);
void cli_json_kuint(struct cli_json *j, const char *key, uint64_t v);
void cli_json_kbool(struct cli_json *j, const char *key, bool v);
/* An array opened under key; the caller fills and closes it. */
void cli_json_karray_open(struct cli_json *j, const char *key);
/* v, or null when !known */
void cli_json_kuint_or_null(struct cli_json *j, const char *key, bool known, uint64_t v);
/* An object opened under key (the caller fills and closes it), or null when !present;
 * returns present. */
bool cli_json_kmap_open_or_null(struct cli_json *j, const char *key, bool present);
/* The strings of v (NULL-terminated; a NULL v is an empty array). */
void cli_json_kstrv(struct cli_json *j, const char *key, char *const *v);
/* Finish j and print it with a newline; CLI_OK, or the error and CLI_ERROR. */
int cli_print_json(struct cli_json *j);
/* The finished document without its trailing newline (free()), or NULL with err set. */
char *cli_json_finish(struct cli_json *j, struct qc_error *err);
/*
 * --json errors: from cli_json_errors(true) on, cli_error() and
 * cli_usage_error() print {"error": {...}} (one line) instead of text, and
 * log messages are {"log": {...}} lines; the exit codes stay.
 * code: "usage", or qc_error_name() of the error's code.
 */
void cli_json_errors(bool on);
bool cli_json_errors_on(void);
void cli_json_error_print(const char *code, const char *msg, const char *hint);
void cli_json_log_print(const char *level, const char *msg);
/* v as compact JSON (a fresh string), or NULL. */
char *cli_json_dump(yajl_val v);
/*
 * GROUP rm NAME: rm(), then "NOUN 'NAME' removed" or {"removed":NAME}.
 * a has the one positional; group names the help to try.
 */
struct cli_args;
int cli_remove(struct cli *c, const struct cli_args *a, const char *group, const char *noun,
	int (*rm)(qc_ctx *ctx, const char *name, struct qc_error *err));
/* "qemuctl: error: ..." + a usage hint; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The library's log messages on stderr: "qemuctl: LEVEL: MSG". */
void cli_log_to_stderr(int level, const char *msg, void *opaque);

/* ------------------------------------------------------- the parser (parse.c) */

/* Every option any command knows; each command lists those it takes. */
enum cli_opt {
	OPT_IMAGE,
	OPT_DISK_IMAGE,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_APPEND,
	OPT_ARCH,
	OPT_ACCEL,
	OPT_CPUS,
	OPT_MEMORY,
	OPT_DISK_SIZE,
	OPT_DISK,
	OPT_NET,
	OPT_SHARE,
	OPT_HOSTNAME,
	OPT_SSH_KEY,
	OPT_USER_DATA,
	OPT_NETCFG,
	OPT_NO_SEED,
	OPT_SEED_BUS,
	OPT_CONSOLE,
	OPT_RM,
	OPT_PAUSED,
	OPT_TIMEOUT,
	OPT_FORCE,
	OPT_FOLLOW,
	OPT_RAW,
	OPT_JSON,
	OPT_WAIT,
	OPT_STREAM,
	OPT_NAME,
	OPT_MAX_SIZE,
	OPT_SHA256, /* image */
	OPT_SUBNET,
	OPT_BRIDGE,
	OPT_MTU, /* net */
	OPT_META_DATA,
	OPT_INSTANCE_ID,
	OPT_USER,
	OPT_NO_DEFAULT_KEYS,
	OPT_NO_QEMUCTL_KEY, /* seed */
	OPT_IDENTITY,
	OPT_NO_WAIT, /* ssh */
	OPT_DISABLE,
	OPT_RUN,
	OPT_SHUTDOWN, /* autostart */
	OPT_PERSIST,
	OPT_NIC, /* port */
	OPT_WATCH, /* stats */
	OPT_SNAPSHOT, /* clone */
	OPT_NO_QUIESCE, /* snapshot create */
	OPT_FRESH, /* start */
	OPT_TPM,
	OPT_SECURE_BOOT, /* create */
	OPT_CONNECT,
	OPT_VIA, /* exec */
	OPT_DISPLAY, /* create */
	OPT_LISTEN, /* vnc */
	OPT_OFFLINE,
	OPT_SSH_OPTION,
	OPT_REMOTE_QEMUCTL, /* migrate */
	OPT_ROOT,
	OPT_QUIET,
	OPT_VERBOSE,
	OPT_VERSION, /* global */
	OPT_WITH_MEMORY, /* snapshot create --memory (a flag; --memory SIZE is OPT_MEMORY) */
	OPT_COPY_STORAGE, /* migrate */
	OPT_COUNT
};
/* A command's options: OPT_ 0..63 in .opts (CLI_OPT), 64..127 in .opts_hi (CLI_OPT_HI). */
#define CLI_OPT(x) ((x) < 64 ? 1ULL << ((x) & 63) : 0)
#define CLI_OPT_HI(x) ((x) >= 64 ? 1ULL << ((x) & 63) : 0)
_Static_assert(OPT_COUNT <= 128, "a command's options are two 64-bit masks: widen them first");

#define CLI_MAX_POS 8

/* What the parser found; cli_args_clear() frees it. */
struct cli_args {
	const char *val[OPT_COUNT]; /* the value given last */
	bool set[OPT_COUNT];
	unsigned count[OPT_COUNT]; /* times given */
	const char **multi[OPT_COUNT]; /* every value of a repeatable option, NULL-terminated */
	const char *pos[CLI_MAX_POS];
	int n_pos;
	char **rest; /* CLI_REST: the words after the positionals or after "--" */
	int n_rest;
	char prefix[64]; /* "create", "image sync": how messages name the command */
};
void cli_args_clear(struct cli_args *a);

/* How usage errors are worded; each group keeps the wording its users know. */
enum cli_style {
	CLI_STYLE_VM, /* "create: unknown option '--x'", "create: --x needs a value" */
	CLI_STYLE_PREFIX, /* like VM, the option shown as typed, "--flag=V" unknown */
	CLI_STYLE_BARE, /* like PREFIX, "--x needs a value", "--x given twice" */
	CLI_STYLE_GETOPT, /* "bad option '--x' for 'doctor'", "unexpected argument 'x'" */
	CLI_STYLE_GLOBAL, /* "unknown global option '--x'", "--root needs a directory" */
};

enum {
	CLI_LAST_WINS = 1 << 0, /* an option given twice keeps the last value */
	CLI_DASH_ARGS = 1 << 1, /* "-x" is a positional ("-1G", JSON) */
	CLI_REST = 1 << 2, /* after max_pos positionals (or "--") the rest is not parsed */
	CLI_ABBREV = 1 << 3, /* a unique prefix names a long option ("--shut") */
	/* a group of one subcommand: alone it prints its help (exit 2); an unknown one is
	 * "unknown seed command 'x' (expected: build)" */
	CLI_ONE_SUBCMD = 1 << 4,
};

struct cli;
struct cli_cmd {
	const char *name, *alias;
	const char *synopsis; /* after the name, for the generated help */
	const char *summary;
	const char *help; /* the generated help's option lines, or NULL */
	void (*usage)(FILE *f, const char *name); /* a written help instead */
	const char *line; /* its line in `qemuctl --help`; NULL: synopsis and summary, "": none */
	uint64_t opts; /* CLI_OPT(O_...) of the options it takes */
	uint64_t opts_hi; /* CLI_OPT_HI(O_...): those from 64 on */
	int min_pos, max_pos;
	const char *pos_names; /* "NAME DISK SIZE": "missing DISK" names the first one absent */
	const char *hint; /* the end of its "unknown option" message */
	enum cli_style style;
	unsigned flags;
	int (*fn)(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a);
	const struct cli_cmd *subs; /* a group: its subcommands, ended by a NULL name */
	/* per positional: CLI_FILE_IN a local file it reads, CLI_FILE_OUT one it writes,
	 * '-' neither (--connect sends the first, brings back the second); NULL: none */
	const char *pos_files;
	const char *subs_list; /* "sync, import, list, rm" */
};

/* A group's subcommand: its help is the group's; options as BARE words them. */
#define CLI_SUBCMD(n, a, grp_usage, o, max, f, ...)                                   \
	{                                                                             \
		.name = n, .alias = a, .usage = grp_usage, .opts = o, .max_pos = max, \
		.style = CLI_STYLE_BARE, .flags = CLI_LAST_WINS, .fn = f, __VA_ARGS__ \
	}

/*
 * Parse argv[1..] for cmd into a (argv[0] is the command).  1: --help was
 * printed; 0: parsed; -1: a usage error was printed (exit CLI_USAGE).
 * try names the command of the "Try 'qemuctl TRY --help'" hint.
 */
int cli_parse(
	const struct cli_cmd *cmd, const char *try, int argc, char **argv, struct cli_args *a);
/* Files named on the command line: read ('i') or written ('o') by the command. */
#define CLI_FILE_IN 'i'
#define CLI_FILE_OUT 'o'
/* CLI_FILE_IN, CLI_FILE_OUT or 0: what option k's value names */
char cli_opt_file(int k);
/* name (or an alias) in table, ended by a NULL name; NULL when absent */
const struct cli_cmd *cli_find_cmd(const struct cli_cmd *table, const char *name);
/* Find argv[0] in table (ended by a NULL name), parse, run; an exit code. */
int cli_dispatch(struct cli *c, const struct cli_cmd *table, int argc, char **argv);
/*
 * A size as qc_size_parse() reads it, but a bare number other than 0 is
 * refused (QC_ERR_INVALID, the units named): "1" is one byte, never 1G.
 */
int cli_size_parse(const char *what, const char *text, uint64_t *ret, struct qc_error *err);
/* text is digits only, not all zeros */
bool cli_size_lacks_unit(const char *text);
/* the advice, its example made of two strings ("+", "1") */
#define CLI_SIZE_UNITS "add K, M, G or T (powers of 1024, e.g. %s%sG), or B for bytes"
/* suggest.c: edit distance (with swaps); the candidate close to word, or NULL */
unsigned cli_edit_distance(const char *a, const char *b);
const char *cli_suggest(const char *word, const char *const *cands);
/* The "Commands:" lines of `qemuctl --help`. */
void cli_list_commands(FILE *f, const struct cli_cmd *table);

/*
 * progress.c: a transfer's progress, ctx's progress callback set by
 * cli_progress_begin: on a terminal (stderr; not --json or -q) one line
 * redrawn in place; with --json and json_lines, JSON lines
 * {"progress":{"what","done","total","rate"}} on stderr.  cli_progress_end
 * unhooks it and ends the line.
 */
struct cli_progress {
	bool bar;  /* draw a bar on stderr (a terminal) */
	bool json; /* JSON lines on stderr */
	int64_t t0, last;
	uint64_t last_done;
	int64_t last_t;
	double rate;
	bool drawn;
	char what[128]; /* drawn last */
};
void cli_progress_begin(struct cli *c, qc_ctx *ctx, struct cli_progress *p, bool json_lines);
void cli_progress_end(qc_ctx *ctx, struct cli_progress *p);

/*
 * A spinner for waits on a terminal (stderr): the library's progress text,
 * the elapsed time and the VM's last console line, redrawn in place.  Set it
 * with qc_ctx_set_progress(ctx, cli_spin_progress, &spin); erase with
 * "\r\033[K" when spin.drawn.
 */
struct cli_spin {
	qc_ctx *ctx;
	const char *name;
	unsigned tick;
	bool drawn;
	int64_t last_tail_ms;
	char last[96];
};
void cli_spin_progress(const char *what, uint64_t done, uint64_t total, void *opaque);
/* The spinner on for ctx's waits (stderr a terminal, not --json or -q); off, erased. */
void cli_spin_begin(struct cli *c, qc_ctx *ctx, const char *name, struct cli_spin *s);
void cli_spin_end(struct cli_spin *s);
/* A failed wait: the error and, when it timed out or the VM stopped, the console's tail. */
int cli_wait_error(qc_ctx *ctx, const char *name, const struct qc_error *err);

/* ------------------------------------------------- the commands (main.c's table) */

#define CLI_HANDLER(fn) int fn(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
/* cmd_vm.c */
CLI_HANDLER(cli_vm_create);
CLI_HANDLER(cli_vm_run);
CLI_HANDLER(cli_vm_define);
CLI_HANDLER(cli_vm_dumpxml);
CLI_HANDLER(cli_vm_simple); /* undefine, destroy, reboot, pause, resume, save */
CLI_HANDLER(cli_vm_start);
CLI_HANDLER(cli_vm_stop);
CLI_HANDLER(cli_vm_delete);
CLI_HANDLER(cli_vm_list);
CLI_HANDLER(cli_vm_info);
CLI_HANDLER(cli_vm_qmp);
/* cmd_vm_io.c */
CLI_HANDLER(cli_vm_console);
CLI_HANDLER(cli_vm_log);
CLI_HANDLER(cli_vm_events);
/* Attach the terminal to NAME's console until Ctrl-] or the VM stops (run --console too). */
int cli_console_attach(struct cli *c, const char *name);
/* the groups: their subcommands and help */
extern const struct cli_cmd cli_image_cmds[]; /* cmd_image.c */
void cli_image_usage(FILE *f, const char *name);
extern const struct cli_cmd cli_net_cmds[]; /* cmd_net.c */
void cli_net_usage(FILE *f, const char *name);
extern const struct cli_cmd cli_seed_cmds[]; /* cmd_seed.c */
void cli_seed_usage(FILE *f, const char *name);
extern const struct cli_cmd cli_port_cmds[]; /* cmd_port.c */
void cli_port_usage(FILE *f, const char *name);
CLI_HANDLER(cli_stats); /* cmd_stats.c */
CLI_HANDLER(cli_screenshot); /* cmd_screenshot.c */
CLI_HANDLER(cli_vnc); /* cmd_vnc.c */
void cli_vnc_usage(FILE *f, const char *name);
void cli_stats_usage(FILE *f, const char *name);
/* the other commands, one file each */
CLI_HANDLER(cli_ssh);
void cli_ssh_usage(FILE *f, const char *name);
CLI_HANDLER(cli_ssh_config); /* cmd_ssh.c */
CLI_HANDLER(cli_cp);
void cli_cp_usage(FILE *f, const char *name);
CLI_HANDLER(cli_exec);
void cli_exec_usage(FILE *f, const char *name); /* cmd_cp.c */
/* s in single quotes for a POSIX shell; each word of v so (shquote.c) */
char *cli_sh_quote(const char *s);
char **cli_sh_quote_argv(char *const *v);
CLI_HANDLER(cli_doctor);
void cli_doctor_usage(FILE *f, const char *name);
CLI_HANDLER(cli_autostart);
void cli_autostart_usage(FILE *f, const char *name);
CLI_HANDLER(cli_snapshot);
void cli_snapshot_usage(FILE *f, const char *name);
CLI_HANDLER(cli_hotplug); /* attach-disk, detach-disk, attach-net, detach-net */
void cli_hotplug_usage(FILE *f, const char *name);
CLI_HANDLER(cli_wait);
void cli_wait_usage(FILE *f, const char *name);
CLI_HANDLER(cli_resize);
void cli_resize_usage(FILE *f, const char *name);
CLI_HANDLER(cli_clone);
CLI_HANDLER(cli_migrate);
CLI_HANDLER(cli_migrate_receive);
void cli_migrate_usage(FILE *f, const char *name);
void cli_clone_usage(FILE *f, const char *name);

/*
 * Wait for NAME's ready marker and say so (timeout_ms 0: the default);
 * start: start it first, in the same operation (qc_vm_start_ready).
 */
int cli_wait_ready(
	struct cli *c, const char *name, int timeout_ms, const struct qc_vm_start_opts *start);
int cli_parse_wait_timeout(const char *cmd, const char *val, int *ret_ms);

#endif
