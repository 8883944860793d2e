/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/cli/: the parser (cli_parse) and dispatch (cli_dispatch) of
 * cli.c against a table made here, then main.c's table through the built
 * qemuctl binary ($QC_BUILDDIR/qemuctl) on an empty private state root:
 * exit codes (0 ok, 1 error, 2 usage), messages and per-command help.
 */
#include "config.h"

#include <stdio.h>

#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"
#include "driver/cli/cli.h"

UNIT_TMPDIR_FIXTURE(root)

/* ------------------------------------------------------ cli_parse, cli_dispatch */

static char parse_msg[2048]; /* what the parser printed on stderr */

/* cli_parse(cmd, argv...) with stderr caught in parse_msg. */
static int parse(const struct cli_cmd *cmd, struct cli_args *a, const char *const *words)
{
	static char *argv[16]; /* a->rest points into it */
	int argc = 0, saved, r;
	FILE *f = tmpfile();
	size_t n;

	ck_assert_ptr_nonnull(f);
	argv[argc++] = (char *) cmd->name;
	for (; *words; words++)
		argv[argc++] = (char *) *words;
	argv[argc] = NULL;
	cli_args_clear(a);
	memset(a, 0, sizeof(*a));
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fileno(f), STDERR_FILENO);
	r = cli_parse(cmd, cmd->name, argc, argv, a);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(parse_msg, 1, sizeof(parse_msg) - 1, f);
	parse_msg[n] = 0;
	fclose(f);
	return r;
}

#define PARSE(cmd, a, ...) parse((cmd), (a), (const char *const[]){__VA_ARGS__, NULL})

static const struct cli_cmd t_stop = {.name = "stop",
	.synopsis = "NAME",
	.summary = "stop",
	.opts = CLI_OPT(OPT_TIMEOUT) | CLI_OPT(OPT_FORCE) | CLI_OPT(OPT_DISK),
	.min_pos = 1,
	.max_pos = 1};

START_TEST(parse_forms)
{
	struct cli_args a = {0};

	/* --opt value and --opt=value; a flag; a repeatable option keeps every value */
	ck_assert_int_eq(
		PARSE(&t_stop, &a, "vm", "--timeout", "5", "--force", "--disk=a", "--disk", "b"),
		0);
	ck_assert_str_eq(a.pos[0], "vm");
	ck_assert_str_eq(a.val[OPT_TIMEOUT], "5");
	ck_assert(a.set[OPT_FORCE] && !a.val[OPT_FORCE]);
	ck_assert_str_eq(a.multi[OPT_DISK][0], "a");
	ck_assert_str_eq(a.multi[OPT_DISK][1], "b");
	ck_assert_ptr_null(a.multi[OPT_DISK][2]);
	cli_args_clear(&a);
	ck_assert_int_eq(PARSE(&t_stop, &a, "--timeout=7", "vm"), 0);
	ck_assert_str_eq(a.val[OPT_TIMEOUT], "7");
	/* after --, words are positionals */
	ck_assert_int_eq(PARSE(&t_stop, &a, "--", "--force"), 0);
	ck_assert_str_eq(a.pos[0], "--force");
	ck_assert(!a.set[OPT_FORCE]);
	/* a lone - is a positional */
	ck_assert_int_eq(PARSE(&t_stop, &a, "-"), 0);
	ck_assert_str_eq(a.pos[0], "-");
	/* --help ends parsing: what follows is not looked at */
	ck_assert_int_eq(PARSE(&t_stop, &a, "vm", "--help", "--bogus"), 1);
	cli_args_clear(&a);
}
END_TEST

START_TEST(parse_errors)
{
	struct cli_args a = {0};

	ck_assert_int_eq(PARSE(&t_stop, &a, "vm", "--paused"), -1);
	unit_assert_contains(parse_msg, "qemuctl: error: stop: unknown option '--paused'");
	unit_assert_contains(parse_msg, "Try 'qemuctl stop --help'.");
	ck_assert_int_eq(PARSE(&t_stop, &a, "vm", "--bogus=1"), -1);
	unit_assert_contains(parse_msg, "stop: unknown option '--bogus'\n");
	ck_assert_int_eq(PARSE(&t_stop, &a, "vm", "-x"), -1);
	unit_assert_contains(parse_msg, "stop: unknown option '-x'");
	ck_assert_int_eq(PARSE(&t_stop, &a, "vm", "--timeout"), -1);
	unit_assert_contains(parse_msg, "stop: --timeout needs a value");
	ck_assert_int_eq(PARSE(&t_stop, &a, "vm", "--force=yes"), -1);
	unit_assert_contains(parse_msg, "stop: --force takes no value");
	ck_assert_int_eq(PARSE(&t_stop, &a, "vm", "--force", "--force"), -1);
	unit_assert_contains(parse_msg, "stop: --force given twice");
	ck_assert_int_eq(PARSE(&t_stop, &a, "vm", "other"), -1);
	unit_assert_contains(parse_msg, "stop: unexpected argument 'other'");
	ck_assert_int_eq(PARSE(&t_stop, &a, "--force"), -1);
	unit_assert_contains(parse_msg, "stop: missing NAME");
	cli_args_clear(&a);
}
END_TEST

START_TEST(parse_styles)
{
	static const struct cli_cmd bare = {.name = "sync",
		.opts = CLI_OPT(OPT_ARCH),
		.max_pos = 1,
		.style = CLI_STYLE_BARE,
		.flags = CLI_LAST_WINS};
	static const struct cli_cmd getopt = {.name = "autostart",
		.opts = CLI_OPT(OPT_RUN) | CLI_OPT(OPT_SHUTDOWN),
		.style = CLI_STYLE_GETOPT,
		.flags = CLI_ABBREV};
	static const struct cli_cmd resize = {.name = "resize",
		.max_pos = 3,
		.pos_names = "NAME DISK SIZE",
		.min_pos = 3,
		.flags = CLI_DASH_ARGS};
	static const struct cli_cmd ssh = {.name = "ssh",
		.opts = CLI_OPT(OPT_IDENTITY),
		.max_pos = 1,
		.style = CLI_STYLE_BARE,
		.flags = CLI_REST};
	static const struct cli_cmd global = {.name = "qemuctl",
		.opts = CLI_OPT(OPT_ROOT) | CLI_OPT(OPT_QUIET) | CLI_OPT(OPT_VERBOSE),
		.style = CLI_STYLE_GLOBAL,
		.flags = CLI_REST};
	struct cli_args a = {0};

	ck_assert_int_eq(PARSE(&bare, &a, "--arch"), -1);
	unit_assert_contains(parse_msg, "qemuctl: error: --arch needs a value");
	ck_assert_int_eq(PARSE(&bare, &a, "--arch", "a", "--arch", "b"), 0);
	ck_assert_str_eq(a.val[OPT_ARCH], "b");
	ck_assert_int_eq(PARSE(&getopt, &a, "--bogus"), -1);
	unit_assert_contains(parse_msg, "bad option '--bogus' for 'autostart'");
	ck_assert_int_eq(PARSE(&getopt, &a, "--shut"), 0);
	ck_assert(a.set[OPT_SHUTDOWN]);
	ck_assert_int_eq(PARSE(&getopt, &a, "x"), -1);
	unit_assert_contains(parse_msg, "qemuctl: error: unexpected argument 'x'");
	ck_assert_int_eq(PARSE(&resize, &a, "vm", "disk0", "-1G"), 0);
	ck_assert_str_eq(a.pos[2], "-1G");
	ck_assert_int_eq(PARSE(&resize, &a, "vm"), -1);
	unit_assert_contains(parse_msg, "resize: missing DISK");
	/* ssh: -i FILE, then NAME, then the remote command as it is */
	ck_assert_int_eq(PARSE(&ssh, &a, "-i", "k", "vm", "uname", "-a"), 0);
	ck_assert_str_eq(a.val[OPT_IDENTITY], "k");
	ck_assert_int_eq(a.n_rest, 2);
	ck_assert_str_eq(a.rest[1], "-a");
	ck_assert_int_eq(PARSE(&ssh, &a, "--identity"), -1);
	unit_assert_contains(parse_msg, "--identity needs a key file");
	/* the global options: up to the command; -q resets -v; -vv counts twice */
	ck_assert_int_eq(PARSE(&global, &a, "-v", "-q", "-vv", "list", "--root"), 0);
	ck_assert(a.set[OPT_QUIET]);
	ck_assert_int_eq(a.count[OPT_VERBOSE], 2);
	ck_assert_int_eq(a.n_rest, 2);
	ck_assert_str_eq(a.rest[0], "list");
	ck_assert_int_eq(PARSE(&global, &a, "-qv"), -1);
	unit_assert_contains(parse_msg, "unknown global option '-qv'");
	ck_assert_int_eq(PARSE(&global, &a, "--root"), -1);
	unit_assert_contains(parse_msg, "--root needs a directory");
	cli_args_clear(&a);
}
END_TEST

static int t_fn(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	(void) c;
	(void) a;
	return strcmp(cmd->name, "list") == 0 ? 42 : 43;
}

static void t_usage(FILE *f, const char *name)
{
	fprintf(f, "usage of %s\n", name);
}

START_TEST(dispatch_table)
{
	static const struct cli_cmd subs[] = {
		{.name = "list", .alias = "ls", .fn = t_fn},
		{.name = "rm", .max_pos = 1, .fn = t_fn},
		{0},
	};
	static const struct cli_cmd table[] = {
		{.name = "net", .usage = t_usage, .subs = subs, .subs_list = "list, rm"},
		{.name = "info", .min_pos = 1, .max_pos = 1, .opts = CLI_OPT(OPT_JSON), .fn = t_fn},
		{0},
	};
	struct cli c = {0};
	char *argv[8] = {NULL};

#define DISPATCH(...)                               \
	({                                          \
		const char *w_[] = {__VA_ARGS__};   \
		int n_ = (int) CLI_ARRAY_SIZE(w_);  \
		for (int i_ = 0; i_ < n_; i_++)     \
			argv[i_] = (char *) w_[i_]; \
		argv[n_] = NULL;                    \
		cli_dispatch(&c, table, n_, argv);  \
	})
	ck_assert_int_eq(DISPATCH("net", "list"), 42);
	ck_assert_int_eq(DISPATCH("net", "ls"), 42);
	ck_assert_int_eq(DISPATCH("net", "rm", "x"), 43);
	ck_assert_int_eq(DISPATCH("net", "rm", "x", "y"), CLI_USAGE);
	ck_assert_int_eq(DISPATCH("net", "frob"), CLI_USAGE);
	ck_assert_int_eq(DISPATCH("net"), CLI_USAGE);
	ck_assert_int_eq(DISPATCH("net", "--help"), CLI_OK);
	ck_assert_int_eq(DISPATCH("frob"), CLI_USAGE);
	ck_assert_int_eq(DISPATCH("info"), CLI_USAGE);
	ck_assert(!c.json);
	ck_assert_int_eq(DISPATCH("info", "vm", "--json"), 43);
	ck_assert(c.json);
#undef DISPATCH
}
END_TEST

/* ------------------------------------------- did you mean, sizes with units */

START_TEST(suggest_distance)
{
	ck_assert_uint_eq(cli_edit_distance("", ""), 0);
	ck_assert_uint_eq(cli_edit_distance("list", "list"), 0);
	ck_assert_uint_eq(cli_edit_distance("lsit", "list"), 1); /* a swap is one edit */
	ck_assert_uint_eq(cli_edit_distance("forse", "force"), 1);
	ck_assert_uint_eq(cli_edit_distance("stp", "stop"), 1);
	ck_assert_uint_eq(cli_edit_distance("kitten", "sitting"), 3);
	ck_assert_uint_eq(cli_edit_distance("", "abc"), 3);
	ck_assert_uint_eq(cli_edit_distance("abc", ""), 3);
}
END_TEST

START_TEST(suggest_close_only)
{
	static const char *const cmds[] = {"list", "start", "stop", "delete", "rm", "run", NULL};
	static const char *const opts[] = {"timeout", "force", NULL};

	ck_assert_str_eq(cli_suggest("lsit", cmds), "list");
	ck_assert_str_eq(cli_suggest("stpo", cmds), "stop");
	ck_assert_str_eq(cli_suggest("delte", cmds), "delete");
	ck_assert_str_eq(cli_suggest("timout", opts), "timeout");
	ck_assert_str_eq(cli_suggest("forse", opts), "force");
	/* far words get no guess: two edits in a short word, every letter changed */
	ck_assert_ptr_null(cli_suggest("frob", cmds));
	ck_assert_ptr_null(cli_suggest("ab", cmds));
	ck_assert_ptr_null(cli_suggest("x", cmds));
	ck_assert_ptr_null(cli_suggest("", cmds));
	ck_assert_ptr_null(cli_suggest("bogus", opts));
	/* an exact word is no typo */
	ck_assert_ptr_null(cli_suggest("list", (const char *const[]){"list", NULL}));
}
END_TEST

START_TEST(size_needs_unit)
{
	struct qc_error err = {0};
	uint64_t v = 7;

	ck_assert(cli_size_lacks_unit("1"));
	ck_assert(cli_size_lacks_unit("10"));
	ck_assert(!cli_size_lacks_unit("0"));
	ck_assert(!cli_size_lacks_unit("000"));
	ck_assert(!cli_size_lacks_unit("1G"));
	ck_assert(!cli_size_lacks_unit(""));
	ck_assert_int_eq(cli_size_parse("--memory", "512", &v, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "--memory '512' has no unit: add K, M, G or T (powers of 1024, "
				  "e.g. 512G), or B for bytes");
	ck_assert_uint_eq(v, 7); /* untouched */
	ck_assert_int_eq(cli_size_parse("--memory", "512M", &v, &err), 0);
	ck_assert_uint_eq(v, 512ULL << 20);
	ck_assert_int_eq(cli_size_parse("SIZE", "1B", &v, &err), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(cli_size_parse("SIZE", "1.5K", &v, &err), 0);
	ck_assert_uint_eq(v, 1536);
	ck_assert_int_eq(cli_size_parse("SIZE", "0", &v, &err), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cli_size_parse("SIZE", "lots", &v, &err), -QC_ERR_INVALID);
}
END_TEST

/* ------------------------------------------------------------ the qemuctl binary */

/* Run qemuctl --root ROOT args...; returns the exit code, output in res. */
static int run(
	struct qc_spawn_result *res, const char *a1, const char *a2, const char *a3, const char *a4)
{
	const char *b = getenv("QC_BUILDDIR");
	cleanup_free char *prog = qc_xasprintf("%s/qemuctl", b && *b ? b : ".");
	const char *argv[8] = {prog, "--root", root, a1, a2, a3, a4, NULL};
	struct qc_spawn_opts o = {0};
	struct qc_error err = {0};

	o.argv = argv;
	o.out = o.errout = QC_STDIO_CAPTURE;
	o.timeout_ms = 20000;
	memset(res, 0, sizeof(*res));
	ck_assert_msg(qc_spawn_run(&o, res, &err) == 0, "%s", err.msg);
	return res->exit_code;
}

/* Drop whitespace in place. */
static char *squeeze(char *s)
{
	char *w = s, *p;

	for (p = s; *p; p++)
		if (*p != ' ' && *p != '\n')
			*w++ = *p;
	*w = 0;
	return s;
}

#define EXPECT(code, stream, text, ...)                                                            \
	do {                                                                                       \
		struct qc_spawn_result r;                                                          \
		int c = run(&r, __VA_ARGS__);                                                      \
		ck_assert_msg(c == (code), "exit %d, expected %d; stderr: %s", c, (code), r.err);  \
		ck_assert_msg(strstr(r.stream, (text)) != NULL, #stream " lacks '%s': %s", (text), \
			r.stream);                                                                 \
		qc_spawn_result_free(&r);                                                          \
	} while (0)

START_TEST(cli_global)
{
	EXPECT(0, out, "qemuctl " PACKAGE_VERSION, "--version", NULL, NULL, NULL);
	EXPECT(0, out, "create NAME", "--help", NULL, NULL, NULL);
	EXPECT(0, out, "doctor", "--help", NULL, NULL, NULL);
	EXPECT(2, err, "usage: qemuctl", NULL, NULL, NULL, NULL);
	EXPECT(2, err, "qemuctl: error: unknown global option '--bogus'", "--bogus", NULL, NULL,
		NULL);
	EXPECT(2, err, "qemuctl: error: unknown command 'frob'", "frob", NULL, NULL, NULL);
	/* did you mean: commands, options, global options, subcommands; only when close */
	EXPECT(2, err, "unknown command 'lsit' (did you mean 'list'?)", "lsit", NULL, NULL, NULL);
	EXPECT(2, err, "unknown command 'shel' (did you mean 'shell'?)", "shel", NULL, NULL, NULL);
	EXPECT(2, err, "stop: unknown option '--forse' (did you mean '--force'?)", "stop", "a",
		"--forse", NULL);
	EXPECT(2, err, "create: unknown option '--memroy' (did you mean '--memory'?)", "create",
		"a", "--memroy=1G", NULL);
	EXPECT(2, err, "unknown global option '--jsno' (did you mean '--json'?)", "--jsno", "list",
		NULL, NULL);
	EXPECT(2, err, "bad option '--acel' for 'doctor' (did you mean '--accel'?)", "doctor",
		"--acel", NULL, NULL);
	EXPECT(2, err, "image: unknown subcommand 'lsit' (sync, import, list, rm) (did you mean "
		       "'list'?)",
		"image", "lsit", NULL, NULL);
	EXPECT(2, err, "unknown seed command 'biuld' (expected: build) (did you mean 'build'?)",
		"seed", "biuld", NULL, NULL);
	EXPECT(2, err, "snapshot: unknown subcommand 'lst' (did you mean 'list'?)", "snapshot",
		"lst", "a", NULL);
	EXPECT(2, err, "unknown option '--bogus'\nTry", "stop", "a", "--bogus", NULL);
	/* aliases: ls, rm, shell, snapshot ls */
	EXPECT(0, out, "NAME", "ls", NULL, NULL, NULL);
	EXPECT(0, out, "usage: qemuctl delete NAME", "rm", "--help", NULL, NULL);
	EXPECT(1, err, "VM 'nope' does not exist", "rm", "nope", NULL, NULL);
	EXPECT(1, err, "VM 'nope' does not exist", "shell", "nope", NULL, NULL);
	EXPECT(1, err, "VM 'nope' does not exist", "snapshot", "ls", "nope", NULL);
	/* an explicit --root must exist (the last --root wins over run()'s) */
	EXPECT(1, err, "--root '/nonexistent/qc': no such state root (create it with 'mkdir -m 0700 "
		       "/nonexistent/qc'",
		"--root", "/nonexistent/qc", "list", NULL);
}
END_TEST

START_TEST(cli_errors_as_json)
{
	/* one JSON object on stderr, nothing on stdout, the exit code kept */
	EXPECT(2, err,
		"{\"error\":{\"code\":\"usage\",\"message\":\"unknown command 'frob'\",\"hint\":"
		"\"Try 'qemuctl --help'.\"}}\n",
		"--json", "frob", NULL, NULL);
	EXPECT(2, err, "{\"error\":{\"code\":\"usage\",\"message\":\"stop: unknown option",
		"stop", "a", "--bogus", "--json");
	EXPECT(1, err,
		"{\"error\":{\"code\":\"not-found\",\"message\":\"VM 'nope' does not exist (see "
		"'qemuctl list')\"}}\n",
		"info", "nope", "--json", NULL);
	EXPECT(1, err, "{\"error\":{\"code\":\"ENOENT\",\"message\":\"--root",
		"--json", "--root", "/nonexistent/qc", "list");
	/* without --json: text */
	EXPECT(1, err, "qemuctl: error: VM 'nope' does not exist", "info", "nope", NULL, NULL);
}
END_TEST

START_TEST(cli_command_usage)
{
	EXPECT(0, out, "usage: qemuctl stop NAME [--timeout S] [--force]", "stop", "--help", NULL,
		NULL);
	EXPECT(2, err, "missing NAME", "start", NULL, NULL, NULL);
	EXPECT(2, err, "Try 'qemuctl start --help'", "start", NULL, NULL, NULL);
	EXPECT(2, err, "unexpected argument 'b'", "info", "a", "b", NULL);
	EXPECT(2, err, "unknown option '--paused'", "stop", "a", "--paused", NULL);
	EXPECT(2, err, "--timeout", "stop", "a", "--timeout", "soon");
	EXPECT(2, err, "--timeout needs a value", "stop", "a", "--timeout", NULL);
	EXPECT(2, err, "--force takes no value", "delete", "a", "--force=yes", NULL);
	EXPECT(2, err, "--memory", "create", "a", "--memory", "lots");
	EXPECT(2, err, "missing JSON", "qmp", "a", NULL, NULL);
	/* both value forms */
	EXPECT(2, err, "--memory: invalid size 'lots'", "create", "a", "--memory=lots", NULL);
	EXPECT(2, err, "--memory: invalid size 'lots'", "create", "a", "--memory", "lots");
	EXPECT(2, err, "--disk-size '10' has no unit", "create", "a", "--disk-size", "10");
	EXPECT(2, err, "resize: SIZE '+1' has no unit: add K, M, G or T (powers of 1024, e.g. +1G)",
		"resize", "a", "disk0", "+1");
}
END_TEST

START_TEST(cli_groups)
{
	struct qc_spawn_result res;

	EXPECT(2, err, "image: missing subcommand (sync, import, list, rm)", "image", NULL, NULL,
		NULL);
	EXPECT(2, err, "net: unknown subcommand 'frob' (create, list, rm)", "net", "frob", NULL,
		NULL);
	EXPECT(2, err, "unknown seed command 'frob' (expected: build)", "seed", "frob", NULL, NULL);
	EXPECT(2, err, "usage: qemuctl seed build", "seed", NULL, NULL, NULL);
	EXPECT(0, out, "usage: qemuctl image sync REF", "image", "sync", "--help", NULL);
	EXPECT(0, out, "NAME", "image", "ls", NULL, NULL);
	EXPECT(2, err, "image sync: unknown option '--bogus'", "image", "sync", "x", "--bogus");
	EXPECT(2, err, "--max-size needs a value", "image", "sync", "x", "--max-size");
	EXPECT(2, err, "wait: unexpected argument 'b'", "wait", "a", "b", NULL);
	EXPECT(2, err, "bad option '--bogus' for 'autostart'", "autostart", "--bogus", NULL, NULL);
	EXPECT(2, err, "ssh: missing VM NAME", "ssh", NULL, NULL, NULL);
	/* a unique prefix names an autostart option, as getopt_long allowed */
	ck_assert_int_eq(run(&res, "autostart", "--shut", NULL, NULL), 0);
	qc_spawn_result_free(&res);
	EXPECT(2, err, "unknown global option '-qv'", "-qv", "list", NULL, NULL);
	EXPECT(0, out, "NAME", "-vv", "list", NULL, NULL);
}
END_TEST

START_TEST(cli_errors_exit_1)
{
	EXPECT(1, err, "qemuctl: error: VM 'nope' does not exist", "info", "nope", NULL, NULL);
	EXPECT(1, err, "qemuctl: error: VM name '../x' is invalid", "start", "../x", NULL, NULL);
	EXPECT(1, err, "nothing to boot", "create", "a", NULL, NULL);
	/* None of that created anything. */
	cleanup_free char *vms = qc_xasprintf("%s/vms", root);
	ck_assert_int_ne(access(vms, F_OK), 0);
}
END_TEST

START_TEST(cli_list_empty)
{
	struct qc_spawn_result r;

	ck_assert_int_eq(run(&r, "list", NULL, NULL, NULL), 0);
	ck_assert_msg(strncmp(r.out, "NAME", 4) == 0, "%s", r.out);
	ck_assert_ptr_null(strchr(r.out, '\n') ? strchr(strchr(r.out, '\n') + 1, '\n') : NULL);
	qc_spawn_result_free(&r);
	/* --json before or after the command. */
	ck_assert_int_eq(run(&r, "--json", "list", NULL, NULL), 0);
	ck_assert_str_eq(squeeze(r.out), "[]");
	qc_spawn_result_free(&r);
	ck_assert_int_eq(run(&r, "list", "--json", NULL, NULL), 0);
	ck_assert_str_eq(squeeze(r.out), "[]");
	qc_spawn_result_free(&r);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *tc;

	unit_tcase(s, "parser", parse_forms, parse_errors, parse_styles, dispatch_table,
		suggest_distance, suggest_close_only, size_needs_unit, NULL);
	tc = unit_tcase(s, "core", cli_global, cli_command_usage, cli_groups, cli_errors_as_json,
		cli_errors_exit_1, cli_list_empty, NULL);
	tcase_add_checked_fixture(tc, root_setup, root_teardown);
	return s;
}

UNIT_MAIN(cli_suite)
