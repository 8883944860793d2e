/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --connect: run the command on another host's qemuctl through ssh, as
 * the library's qc_remote_run does.  The files the command reads (the
 * option table says which) are sent along, those it writes come back when
 * it succeeds; a command that needs a terminal gets one on the remote side
 * and this terminal is put into raw mode, so every key (Ctrl-] included)
 * reaches the remote command.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "driver/cli/connect.h"

/* Exit codes of --connect's own failures (a remote command's are its own). */
enum {
	EXIT_NO_SSH = 255,   /* ssh could not connect (as ssh itself exits) */
	EXIT_MISSING = 127,  /* no qemuctl on HOST */
	EXIT_PROTOCOL = 126, /* a qemuctl that speaks another protocol */
};

/* The files the command names, for qc_remote_run. */
struct conn {
	struct qc_remote_file files[QC_REMOTE_MAX_FILES];
	int n_files;
};

static struct termios saved_tio;
static bool tio_saved;
static volatile sig_atomic_t winch;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
	tio_saved = false;
}

static void on_winch(int sig)
{
	(void) sig;
	winch = 1;
}

/* argv word arg names a file from offset on: one the command reads, or writes (out). */
static int add_file(struct conn *cn, int arg, size_t offset, bool out)
{
	if (cn->n_files >= QC_REMOTE_MAX_FILES)
		return cli_usage_error(NULL, "--connect: more than %d files named",
			QC_REMOTE_MAX_FILES);
	cn->files[cn->n_files++] = (struct qc_remote_file){.arg = arg, .offset = offset, .out = out};
	return CLI_OK;
}

/* The word of argv that holds p (a value cli_parse found there), or -1. */
static int word_of(char **argv, int argc, const char *p, size_t *ret_off)
{
	for (int i = 0; i < argc; i++)
		if (p >= argv[i] && p <= argv[i] + strlen(argv[i])) {
			*ret_off = (size_t) (p - argv[i]);
			return i;
		}
	return -1;
}

/*
 * The local files the command names (parse.c's option table and the
 * command's pos_files say which); an output file is refused.  -1: --help
 * was printed (exit 0); else an exit code.
 */
static int find_files(struct conn *cn, const struct cli_cmd *table, int argc, char **argv,
	int base, bool *ret_console)
{
	const struct cli_cmd *cmd = cli_find_cmd(table, argv[0]), *group = NULL;
	struct cli_args a = {0};
	int rc = CLI_OK, r, first = 0;

	if (!cmd)
		return CLI_OK; /* the remote qemuctl names what is unknown */
	if (cmd->subs) {
		if (argc < 2 || !(cmd = cli_find_cmd(cmd->subs, argv[1])))
			return CLI_OK;
		group = cli_find_cmd(table, argv[0]);
		snprintf(a.prefix, sizeof(a.prefix), "%s %s", group->name, cmd->name);
		first = 1;
	}
	r = cli_parse(cmd, group ? group->name : cmd->name, argc - first, argv + first, &a);
	if (r != 0) {
		cli_args_clear(&a);
		return r > 0 ? -1 : CLI_USAGE;
	}
	*ret_console = !group && (!strcmp(cmd->name, "console") || !strcmp(cmd->name, "ssh") ||
					 (!strcmp(cmd->name, "run") && a.set[OPT_CONSOLE]));
	for (int k = 0; k < OPT_COUNT && rc == CLI_OK; k++) {
		const char *one[2] = {a.val[k], NULL};
		const char **vals = a.multi[k] ? a.multi[k] : one;

		if (!a.set[k] || cli_opt_file(k) != CLI_FILE_IN)
			continue;
		for (int j = 0; vals[j] && rc == CLI_OK; j++) {
			size_t off = 0;
			int w = word_of(argv, argc, vals[j], &off);

			if (w >= 0)
				rc = add_file(cn, base + w, off, false);
		}
	}
	for (int i = 0; cmd->pos_files && cmd->pos_files[i] && i < a.n_pos && rc == CLI_OK; i++) {
		size_t off = 0;
		int w = word_of(argv, argc, a.pos[i], &off);

		if (cmd->pos_files[i] == CLI_FILE_OUT && w >= 0)
			rc = add_file(cn, base + w, off, true);
		else if (cmd->pos_files[i] == CLI_FILE_IN && w >= 0 && off == 0 &&
			 strcmp(a.pos[i], "-") != 0 && !strstr(a.pos[i], "://"))
			rc = add_file(cn, base + w, 0, false);
	}
	cli_args_clear(&a);
	return rc;
}

/* The environment a remote command may take from this terminal. */
static void push_env(char **env, int *n, const char *name)
{
	const char *v = getenv(name);

	if (v && strlen(v) < 64)
		env[(*n)++] = cli_asprintf("%s=%s", name, v);
}

/* A failure of --connect itself: its exit code and its code in --json errors. */
static int conn_error(const struct qc_error *err)
{
	static const struct {
		int code, rc;
		const char *name;
	} map[] = {{QC_ERR_CHILD, EXIT_NO_SSH, "net"}, {QC_ERR_NOTFOUND, EXIT_MISSING, "not-found"},
		{QC_ERR_PROTO, EXIT_PROTOCOL, "protocol"}, {ETIMEDOUT, EXIT_NO_SSH, "net"}};
	autofree char *msg = cli_asprintf("--connect: %s", err->msg);
	autofree char *shown = cli_shown(msg);
	const char *name = qc_error_name(err->code);
	int rc = CLI_ERROR;

	if (err->code == QC_ERR_INVALID) /* the address, QEMUCTL_REMOTE, a file named */
		return cli_usage_error(NULL, "%s", shown);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].code == err->code) {
			name = map[i].name;
			rc = map[i].rc;
		}
	if (cli_json_errors_on())
		cli_json_error_print(name, shown, NULL);
	else
		fprintf(stderr, "qemuctl: error: %s\n", shown);
	return rc;
}

int cli_connect(struct cli *c, const char *url, const struct cli_cmd *table, int argc,
	char **argv, int n_global)
{
	const char *remote = getenv("QEMUCTL_REMOTE");
	struct qc_remote_opts o = {.remote_qemuctl = remote && remote[0] ? remote : NULL,
		.direct = true};
	struct qc_error err = {0};
	struct qc_remote_result res = {0};
	qc_remote *r = NULL;
	struct conn cn = {0};
	char *env[4] = {NULL};
	int n_env = 0;
	struct qc_remote_input in = {.env = (const char *const *) env, .stream = true,
		.in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO, .err_fd = STDERR_FILENO,
		.resized = &winch};
	bool console = false;
	struct winsize ws = {0};
	int rc;

	(void) c;
	if (qc_remote_open(url, &o, &r, &err) < 0)
		return conn_error(&err);
	rc = find_files(&cn, table, argc - n_global, argv + n_global, n_global, &console);
	if (rc != CLI_OK)
		goto out;
	in.files = cn.files;
	in.n_files = (size_t) cn.n_files;
	in.tty = console && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
	/* a terminal's input goes to a command that has one; piped input always */
	if (isatty(STDIN_FILENO) && !in.tty)
		in.in_fd = -1;
	if (in.tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
		in.columns = ws.ws_col;
		in.rows = ws.ws_row;
	}
	push_env(env, &n_env, "NO_COLOR");
	push_env(env, &n_env, "COLUMNS");
	if (in.tty)
		push_env(env, &n_env, "TERM");
	if (in.tty && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		struct sigaction sa = {.sa_handler = on_winch}; /* no SA_RESTART: poll() wakes */

		cfmakeraw(&raw);
		tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		atexit(restore_tty);
		sigaction(SIGWINCH, &sa, NULL);
	}
	rc = qc_remote_run(r, (const char *const *) argv, &in, &res, &err);
	restore_tty();
	rc = rc < 0 ? conn_error(&err) : res.exit_code;
out:
	for (int i = 0; i < n_env; i++)
		free(env[i]);
	qc_remote_close(r);
	return rc < 0 ? CLI_OK : rc;
}
