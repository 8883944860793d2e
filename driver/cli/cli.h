/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemuctl command line.  main.c parses the global options and dispatches;
 * each command group lives in its own file (cmd_vm.c, cmd_image.c, cmd_net.c,
 * cmd_seed.c) and uses only the public API in driver/qemuctl.h.
 */
#ifndef QC_CLI_H
#define QC_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/qemuctl.h"

/* Exit codes: 0 ok, 1 error, 2 usage. */
enum { CLI_OK = 0, CLI_ERROR = 1, CLI_USAGE = 2 };

struct cli {
	const char *root; /* --root, or NULL */
	bool json;        /* --json */
	int verbosity;    /* -q: -1, default 0, -v: 1, -vv: 2 */
	bool tty;         /* stdout is a terminal */
	qc_ctx *ctx;      /* opened lazily by cli_ctx() */
};

/* Open the context on first use; prints the error and returns NULL on failure. */
qc_ctx *cli_ctx(struct cli *c);
/* msg with its control characters shown, not obeyed (it may quote a file's text) */
char *cli_shown(const char *msg);
/* "qemuctl: error: MSG" on stderr; returns CLI_ERROR. */
int cli_error(const struct qc_error *err);
/* Finish g and print it with a newline; CLI_OK, or the error and CLI_ERROR. */
struct qc_jgen;
int cli_print_json(struct qc_jgen *g);
/* {"removed":NAME}: the --json answer of the rm commands. */
int cli_print_removed(const char *name);
/* "qemuctl: error: ..." + a usage hint; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The library's log messages on stderr: "qemuctl: LEVEL: MSG". */
void cli_log_to_stderr(int level, const char *msg, void *opaque);

/*
 * Value of "--opt VALUE" or "--opt=VALUE" at argv[*i] (advancing *i past a
 * separate VALUE); NULL when argv[*i] is not opt, or when VALUE is missing,
 * which *missing then says.
 */
const char *cli_opt_value(int argc, char **argv, int *i, const char *opt, bool *missing);

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

/* Command groups implemented outside cmd_vm.c; argv[0] is the group name. */
int cli_image_main(struct cli *c, int argc, char **argv); /* cmd_image.c: image sync|import|list|rm */
int cli_net_main(struct cli *c, int argc, char **argv);   /* cmd_net.c: net create|list|rm */
int cli_ssh_main(struct cli *c, int argc, char **argv);   /* cmd_ssh.c: execs ssh */
int cli_seed_main(struct cli *c, int argc, char **argv);  /* cmd_seed.c: seed build */
int cli_doctor_main(struct cli *c, int argc, char **argv); /* cmd_doctor.c: doctor */
int cli_autostart_main(struct cli *c, int argc, char **argv); /* cmd_autostart.c */
int cli_snapshot_main(struct cli *c, int argc, char **argv); /* cmd_snapshot.c */
int cli_hotplug_main(struct cli *c, int argc, char **argv); /* cmd_hotplug.c: attach-/detach-disk|net */
bool cli_is_hotplug(const char *cmd);
int cli_wait_main(struct cli *c, int argc, char **argv);   /* cmd_wait.c */
int cli_resize_main(struct cli *c, int argc, char **argv); /* cmd_resize.c */
/* Wait for NAME's ready marker and say so (timeout_ms 0: the default). */
int cli_wait_ready(struct cli *c, const char *name, int timeout_ms);
int cli_parse_wait_timeout(const char *cmd, const char *val, int *ret_ms);

#endif
