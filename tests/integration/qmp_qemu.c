/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp/ against a real QEMU: qemu-system-x86_64 -S under TCG with a QMP unix
 * socket, no guest.  Each test starts its own QEMU and kills it in the
 * teardown; every wait is bounded.  Without qemu-system-x86_64 the test
 * fails (it must not pass silently).
 *
 * Also prints the time from exec to the greeting and to qmp_capabilities
 * answered (the lifecycle benchmark cares), as "qmp-timing:" lines.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qmp/qmp.h"
#include "tests/unit/check_main.h"

#define QEMU "qemu-system-x86_64"
#define T_MS 20000 /* per QMP step: generous, TCG on a loaded 2-core CI box */

static char dir[64];
static char sock[96];
static pid_t qemu_pid = -1;
static struct qc_qmp *q;

/* Start QEMU; machine overrides the -machine value; hold (>= 0) is passed as fd 3. */
static void start_qemu_with(const char *machine, int hold)
{
	const char *argv[] = {QEMU, "-S", "-machine", machine, "-nodefaults", "-no-user-config",
		"-display", "none", "-qmp", NULL, NULL};
	struct qc_fdmap map[] = {{.src = hold, .dst = 3}};
	cleanup_free char *qmparg = NULL;
	struct qc_spawn_opts o = {0};
	struct qc_error err = {0};

	snprintf(dir, sizeof(dir), "/tmp/qmp_qemu.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/qmp.sock", dir);
	qmparg = qc_xasprintf("unix:%s,server=on,wait=off", sock);
	argv[9] = qmparg;
	o.argv = argv;
	o.in = QC_STDIO_NULL;
	o.out = QC_STDIO_NULL;
	o.errout = hold >= 0 ? QC_STDIO_NULL : QC_STDIO_INHERIT;
	o.pdeathsig = SIGKILL;
	if (hold >= 0) {
		o.fds = map;
		o.n_fds = 1;
	}
	ck_assert_msg(qc_spawn_start(&o, &qemu_pid, NULL, &err) == 0, "%s", err.msg);
}

static void start_qemu(void)
{
	start_qemu_with("q35,accel=tcg", -1);
}

static void stop_qemu(void)
{
	qc_qmp_close(q);
	q = NULL;
	if (qemu_pid > 0) {
		kill(qemu_pid, SIGKILL);
		(void) waitpid(qemu_pid, NULL, 0);
		qemu_pid = -1;
	}
	if (dir[0]) {
		unlink(sock);
		rmdir(dir);
		dir[0] = '\0';
	}
}

static void setup(void)
{
	struct qc_error err = {0};

	start_qemu();
	ck_assert_msg(qc_qmp_connect(sock, T_MS, &q, &err) == 0, "%s", err.msg);
}

/* "QEMU emulator version 7.2.22 (Debian ...)" -> 7, 2, 22 */
START_TEST(greeting_matches_version)
{
	const char *argv[] = {QEMU, "--version", NULL};
	struct qc_spawn_opts o = {.argv = argv, .out = QC_STDIO_CAPTURE, .timeout_ms = T_MS};
	struct qc_spawn_result res = {0};
	const struct qc_qmp_greeting *g = qc_qmp_get_greeting(q);
	struct qc_error err = {0};
	int major, minor, micro;
	const char *p;
	bool found = false;

	ck_assert_msg(qc_spawn_check(&o, &res, &err) == 0, "%s", err.msg);
	p = strstr(res.out, "version ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "version %d.%d.%d", &major, &minor, &micro), 3);
	ck_assert_int_eq(g->major, major);
	ck_assert_int_eq(g->minor, minor);
	ck_assert_int_eq(g->micro, micro);
	/* The package string is the part in parentheses, when there is one. */
	if (g->package[0])
		ck_assert_ptr_nonnull(strstr(res.out, g->package));
	for (char **c = g->capabilities; c && *c; c++)
		found |= strcmp(*c, "oob") == 0;
	ck_assert(found);
	qc_spawn_result_free(&res);
}
END_TEST

static void assert_status(const char *want, bool want_running)
{
	cleanup_json qc_json *rv = NULL;
	struct qc_error err = {0};
	const char *status;
	bool running;

	ck_assert_msg(qc_qmp_execute(q, "query-status", NULL, T_MS, &rv, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_json_get_string(rv, "status", &status, &err), 0);
	ck_assert_str_eq(status, want);
	ck_assert_int_eq(qc_json_get_bool(rv, "running", &running, &err), 0);
	ck_assert_int_eq(running, want_running);
}

START_TEST(cont_stop_events)
{
	cleanup_qmp_event struct qc_qmp_event *resume = NULL, *stop = NULL;
	struct qc_error err = {0};

	assert_status("prelaunch", false);
	ck_assert_msg(qc_qmp_execute(q, "cont", NULL, T_MS, NULL, &err) == 0, "%s", err.msg);
	ck_assert_msg(qc_qmp_wait_event(q, "RESUME", T_MS, &resume, &err) == 0, "%s", err.msg);
	ck_assert_int_gt(resume->seconds, 0);
	assert_status("running", true);
	ck_assert_msg(qc_qmp_execute(q, "stop", NULL, T_MS, NULL, &err) == 0, "%s", err.msg);
	ck_assert_msg(qc_qmp_wait_event(q, "STOP", T_MS, &stop, &err) == 0, "%s", err.msg);
	assert_status("paused", false);
}
END_TEST

START_TEST(fd_passing)
{
	cleanup_json qc_json *sets = NULL;
	struct qc_error err = {0};
	int64_t set = -1, num = -1;
	int p[2], r;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_msg(qc_qmp_getfd(q, p[0], "mypipe", T_MS, &err) == 0, "%s", err.msg);
	ck_assert_msg(qc_qmp_closefd(q, "mypipe", T_MS, &err) == 0, "%s", err.msg);
	/* Closed: a second closefd is QEMU's error. */
	r = qc_qmp_closefd(q, "mypipe", T_MS, &err);
	ck_assert_int_eq(r, -QC_ERR_QMP);
	ck_assert_msg(qc_str_has_prefix(err.msg, "QMP 'closefd': GenericError: "), "%s", err.msg);

	ck_assert_msg(qc_qmp_add_fd(q, p[1], -1, "test-pipe", T_MS, &set, &num, &err) == 0, "%s",
		err.msg);
	ck_assert_int_ge(set, 0);
	ck_assert_int_ge(num, 0);
	ck_assert_msg(
		qc_qmp_execute(q, "query-fdsets", NULL, T_MS, &sets, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_json_len(sets), 1);
	{
		int64_t id;
		const char *opaque;

		ck_assert_int_eq(qc_json_get_int(qc_json_at(sets, 0), "fdset-id", &id, &err), 0);
		ck_assert_int_eq(id, set);
		ck_assert_int_eq(
			qc_json_get_string(qc_json_at(qc_json_get(qc_json_at(sets, 0), "fds"), 0),
				"opaque", &opaque, &err),
			0);
		ck_assert_str_eq(opaque, "test-pipe");
	}
	ck_assert_msg(qc_qmp_remove_fd(q, set, num, T_MS, &err) == 0, "%s", err.msg);
	close(p[0]);
	close(p[1]);
}
END_TEST

/*
 * Commands sent with qmp_capabilities before the greeting is read: QEMU
 * greets, then answers them in order (QEMU serves one QMP client at a
 * time, so the fixture's connection is closed first).
 */
static void connect_all_real(void)
{
	static const char *const cmds[] = {"query-status", "query-cpus-fast", "query-blockstats"};
	static const char *const bad[] = {"query-status", "no-such-command"};
	qc_json *rets[3] = {NULL, NULL, NULL};
	struct qc_error err = {0};
	const char *status;
	int r;

	qc_qmp_close(q);
	q = NULL;
	ck_assert_msg(qc_qmp_connect_all(sock, cmds, 3, T_MS, &q, rets, &err) == 0, "%s", err.msg);
	ck_assert_int_gt(qc_qmp_get_greeting(q)->major, 0);
	ck_assert_int_eq(qc_json_get_string(rets[0], "status", &status, &err), 0);
	ck_assert_str_eq(status, "prelaunch");
	ck_assert_int_eq(qc_json_type(rets[1]), QC_JSON_ARRAY);
	ck_assert_int_eq(qc_json_len(rets[1]), 1);
	ck_assert_int_eq(qc_json_type(rets[2]), QC_JSON_ARRAY);
	for (size_t i = 0; i < 3; i++)
		qc_json_free(rets[i]);
	assert_status("prelaunch", false);
	qc_qmp_close(q);
	q = NULL;

	r = qc_qmp_connect_all(sock, bad, 2, T_MS, &q, rets, &err);
	ck_assert_int_eq(r, -QC_ERR_QMP);
	ck_assert_str_eq(err.msg,
		"QMP 'no-such-command': CommandNotFound: The command no-such-command has not been "
		"found");
	ck_assert_ptr_null(q);
	ck_assert_ptr_null(rets[0]);
}

START_TEST(unknown_command)
{
	cleanup_free char *reply = NULL;
	struct qc_error err = {0};
	int r;

	r = qc_qmp_execute(q, "no-such-command", NULL, T_MS, NULL, &err);
	ck_assert_int_eq(r, -QC_ERR_QMP);
	ck_assert_str_eq(err.msg,
		"QMP 'no-such-command': CommandNotFound: The command no-such-command has not been "
		"found");
	/* Bad arguments are QEMU's error too, and the connection lives on. */
	r = qc_qmp_execute_text(q, "getfd", "{\"nofdname\": 1}", T_MS, NULL, &err);
	ck_assert_int_eq(r, -QC_ERR_QMP);
	ck_assert_msg(qc_str_has_prefix(err.msg, "QMP 'getfd': GenericError: "), "%s", err.msg);
	ck_assert_int_eq(qc_qmp_raw(q, "{\"execute\": \"query-version\", \"id\": \"x\"}", T_MS,
				 &reply, &err),
		0);
	ck_assert_msg(strstr(reply, "\"qemu\":{") && qc_str_has_suffix(reply, ",\"id\":\"x\"}"),
		"%s", reply);
	assert_status("prelaunch", false);
	connect_all_real();
}
END_TEST

START_TEST(quit_shutdown_then_eof)
{
	cleanup_qmp_event struct qc_qmp_event *ev = NULL;
	struct qc_error err = {0};
	const char *reason;
	int64_t t0;
	int r;

	ck_assert_msg(qc_qmp_execute(q, "quit", NULL, T_MS, NULL, &err) == 0, "%s", err.msg);
	ck_assert_msg(qc_qmp_wait_event(q, "SHUTDOWN", T_MS, &ev, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_json_get_string(ev->data, "reason", &reason, &err), 0);
	ck_assert_str_eq(reason, "host-qmp-quit");
	t0 = qc_now_ms();
	r = qc_qmp_wait_event(q, "NEVER", T_MS, NULL, &err);
	ck_assert_int_eq(r, -QC_ERR_EOF);
	ck_assert_str_eq(err.msg, "QMP: connection closed by QEMU");
	ck_assert_int_lt(qc_now_ms() - t0, T_MS / 2); /* EOF, not a timeout */
	r = qc_qmp_execute(q, "query-status", NULL, T_MS, NULL, &err);
	ck_assert_int_eq(r, -QC_ERR_EOF);
	ck_assert_str_eq(err.msg, "QMP 'query-status': connection closed by QEMU");
	/* QEMU exits by itself (no pidfd here: valgrind does not know pidfd_open). */
	for (t0 = qc_now_ms(); waitpid(qemu_pid, &r, WNOHANG) == 0; qc_sleep_ms(10))
		ck_assert_int_lt(qc_now_ms() - t0, T_MS);
	ck_assert(WIFEXITED(r) && WEXITSTATUS(r) == 0);
	qemu_pid = -1;
}
END_TEST

START_TEST(killed_is_eof)
{
	struct qc_error err = {0};
	int r;

	ck_assert_int_eq(kill(qemu_pid, SIGKILL), 0);
	r = qc_qmp_execute(q, "query-status", NULL, T_MS, NULL, &err);
	ck_assert_int_eq(r, -QC_ERR_EOF);
	ck_assert_msg(qc_str_has_prefix(err.msg, "QMP 'query-status': connection closed by QEMU"),
		"%s", err.msg);
}
END_TEST

/* A QEMU that fails on its command line: connect_watch notices, no long wait. */
START_TEST(qemu_dies_before_socket)
{
	struct qc_error err = {0};
	int p[2], r;
	int64_t t0;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	t0 = qc_now_ms();
	start_qemu_with("no-such-machine-type", p[1]);
	close(p[1]); /* now only QEMU holds the write end */
	r = qc_qmp_connect_watch(sock, p[0], T_MS, &q, &err);
	close(p[0]);
	ck_assert_int_eq(r, -QC_ERR_EOF);
	ck_assert_msg(qc_str_has_suffix(err.msg, "QEMU exited before accepting connections"), "%s",
		err.msg);
	ck_assert_int_lt(qc_now_ms() - t0, T_MS / 2);
}
END_TEST

/* Exec -> greeting line, by hand, on a fresh QEMU. */
static int64_t time_to_greeting(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int64_t t0 = qc_now_us(), deadline = qc_deadline_ms(T_MS);
	char c;
	int fd;

	start_qemu();
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	while (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		ck_assert(errno == ENOENT || errno == ECONNREFUSED);
		ck_assert_int_gt(qc_time_left_ms(deadline), 0);
		qc_sleep_ms(1);
	}
	/* The greeting is written at once on connect: read up to its newline. */
	do
		ck_assert_int_eq(read(fd, &c, 1), 1);
	while (c != '\n');
	close(fd);
	t0 = qc_now_us() - t0;
	stop_qemu();
	return t0;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

START_TEST(timing)
{
	int64_t greet[5], ready[5];
	struct qc_error err = {0};
	size_t i;

	for (i = 0; i < 5; i++) {
		greet[i] = time_to_greeting();
		int64_t t0 = qc_now_us();

		start_qemu();
		ck_assert_msg(qc_qmp_connect(sock, T_MS, &q, &err) == 0, "%s", err.msg);
		ready[i] = qc_now_us() - t0;
		stop_qemu();
	}
	qsort(greet, 5, sizeof(greet[0]), cmp64);
	qsort(ready, 5, sizeof(ready[0]), cmp64);
	printf("qmp-timing: exec -> greeting: median %.1f ms (min %.1f, max %.1f)\n",
		greet[2] / 1000.0, greet[0] / 1000.0, greet[4] / 1000.0);
	printf("qmp-timing: exec -> qmp_capabilities answered: median %.1f ms (min %.1f, max "
	       "%.1f)\n",
		ready[2] / 1000.0, ready[0] / 1000.0, ready[4] / 1000.0);
	fflush(stdout);
}
END_TEST

static Suite *qmp_qemu_suite(void)
{
	Suite *s = suite_create("qmp-qemu");
	TCase *tc = unit_tcase(s, "qemu", greeting_matches_version, cont_stop_events, fd_passing,
		unknown_command, quit_shutdown_then_eof, killed_is_eof, NULL);
	TCase *tt = unit_tcase(s, "own-qemu", qemu_dies_before_socket, timing, NULL);

	tcase_add_checked_fixture(tc, setup, stop_qemu);
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tt, NULL, stop_qemu);
	tcase_set_timeout(tt, 240);
	return s;
}

int main(void)
{
	cleanup_free char *qemu = qc_find_program(QEMU);
	SRunner *sr;
	int failed;

	if (!qemu) {
		fprintf(stderr, "qmp_qemu: %s not found in PATH; install qemu-system-x86\n", QEMU);
		return EXIT_FAILURE; /* never a silent pass */
	}
	sr = srunner_create(qmp_qemu_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
