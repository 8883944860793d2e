/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/cli/main.c and the option parsing of cmd_vm.c: exit codes (0 ok,
 * 1 error, 2 usage), messages and per-command help, run against the built
 * qemuctl binary ($QC_BUILDDIR/qemuctl) on an empty private state root.
 */
#include "config.h"

#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static char *root;

static void setup(void)
{
	root = unit_mkdtemp();
}

static void teardown(void)
{
	unit_rmdir(root);
	root = NULL;
}

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

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cli_global);
	tcase_add_test(tc, cli_command_usage);
	tcase_add_test(tc, cli_errors_exit_1);
	tcase_add_test(tc, cli_list_empty);
	suite_add_tcase(s, tc);
	return unit_run(s, NULL);
}
