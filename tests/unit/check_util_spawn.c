/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/spawn.c, util/spawn_run.c, util/process.c: real children (sh, cat, sleep), no mocks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* No child of ours may be left unreaped. */
static void assert_no_children(void)
{
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}

static int run(const char *const *argv, struct qc_spawn_result *res, struct qc_error *e)
{
	struct qc_spawn_opts o = {
		.argv = argv, .out = QC_STDIO_CAPTURE, .errout = QC_STDIO_CAPTURE};
	return qc_spawn_run(&o, res, e);
}

START_TEST(spawn_exit_codes)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	int fds = unit_count_fds();

	ck_assert_qc_ok(run(ARGV("sh", "-c", "echo out; echo err >&2; exit 3"), &r, &e), &e);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 3);
	ck_assert_int_eq(r.term_signal, 0);
	ck_assert(!r.timed_out);
	ck_assert_str_eq(r.out, "out\n");
	ck_assert_uint_eq(r.out_len, 4);
	ck_assert_str_eq(r.err, "err\n");
	ck_assert_uint_eq(r.err_len, 4);
	qc_spawn_result_free(&r);
	ck_assert_ptr_null(r.out);

	ck_assert_qc_ok(run(ARGV("true"), &r, &e), &e);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_str_eq(r.out, "");
	ck_assert_str_eq(r.err, "");
	qc_spawn_result_free(&r);

	/* not captured: NULL */
	struct qc_spawn_opts o = {.argv = ARGV("sh", "-c", "echo lost; exit 0")};
	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	ck_assert_ptr_null(r.out);
	ck_assert_ptr_null(r.err);
	qc_spawn_result_free(&r);
	/* res may be NULL */
	ck_assert_qc_ok(qc_spawn_run(&o, NULL, &e), &e);

	assert_no_children();
	ck_assert_int_eq(unit_count_fds(), fds);
}
END_TEST

START_TEST(spawn_signal)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};

	ck_assert_qc_ok(run(ARGV("sh", "-c", "echo bye >&2; kill -TERM $$"), &r, &e), &e);
	ck_assert_int_eq(r.term_signal, SIGTERM);
	ck_assert_int_eq(r.exit_code, 128 + SIGTERM);
	ck_assert(!r.timed_out);
	qc_spawn_result_free(&r);

	struct qc_spawn_opts o = {.argv = ARGV("sh", "-c", "echo bye >&2; kill -KILL $$")};
	ck_assert_qc_fail(qc_spawn_check(&o, NULL, &e), &e, QC_ERR_CHILD, NULL);
	ck_assert_str_eq(e.msg, "sh: killed by signal 9 (Killed): bye");
	assert_no_children();
}
END_TEST

START_TEST(spawn_timeout)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	struct qc_spawn_opts o = {.argv = ARGV("sleep", "30"),
		.timeout_ms = 300,
		.out = QC_STDIO_CAPTURE,
		.errout = QC_STDIO_CAPTURE};
	int64_t t0 = qc_now_ms();

	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	ck_assert_int_ge(qc_now_ms() - t0, 300);
	ck_assert_int_lt(qc_now_ms() - t0, 2000);
	ck_assert(r.timed_out);
	ck_assert_int_eq(r.term_signal, SIGKILL);
	ck_assert_int_eq(r.exit_code, 128 + SIGKILL);
	qc_spawn_result_free(&r);
	assert_no_children();

	t0 = qc_now_ms();
	ck_assert_qc_fail(qc_spawn_check(&o, NULL, &e), &e, QC_ERR_CHILD, NULL);
	ck_assert_str_eq(e.msg, "sleep: timed out after 0.3 s");
	ck_assert_int_lt(qc_now_ms() - t0, 2000);

	/* a child that closes its stdio and keeps running is still bounded */
	struct qc_spawn_opts o2 = {.argv = ARGV("sh", "-c", "exec >&- 2>&-; sleep 30"),
		.timeout_ms = 300,
		.out = QC_STDIO_CAPTURE,
		.errout = QC_STDIO_CAPTURE};
	t0 = qc_now_ms();
	ck_assert_qc_ok(qc_spawn_run(&o2, &r, &e), &e);
	ck_assert(r.timed_out);
	ck_assert_int_lt(qc_now_ms() - t0, 2000);
	qc_spawn_result_free(&r);
	assert_no_children();
}
END_TEST

START_TEST(spawn_grandchild_holds_pipe)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	int64_t t0 = qc_now_ms();

	/* the background sleep keeps stdout open: we must not wait for its EOF */
	ck_assert_qc_ok(run(ARGV("sh", "-c", "sleep 3 & echo done"), &r, &e), &e);
	ck_assert_int_lt(qc_now_ms() - t0, 2000);
	ck_assert_str_eq(r.out, "done\n");
	ck_assert_int_eq(r.exit_code, 0);
	qc_spawn_result_free(&r);
}
END_TEST

static bool all_bytes(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

START_TEST(spawn_big_output)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};

	/* 3 MB on each stream at the same time: one poll() loop, no deadlock */
	ck_assert_qc_ok(run(ARGV("sh", "-c",
				    "head -c 3000000 /dev/zero | tr '\\0' e >&2 & "
				    "head -c 3000000 /dev/zero | tr '\\0' o; wait"),
				&r, &e),
		&e);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_uint_eq(r.out_len, 1 << 20);
	ck_assert_uint_eq(r.err_len, 1 << 20);
	ck_assert(all_bytes(r.out, r.out_len, 'o'));
	ck_assert(all_bytes(r.err, r.err_len, 'e'));
	ck_assert_int_eq(r.out[r.out_len], '\0');
	ck_assert_int_eq(r.err[r.err_len], '\0');
	qc_spawn_result_free(&r);

	/* exactly 1 MiB on both, sequentially, is kept whole */
	ck_assert_qc_ok(run(ARGV("sh", "-c",
				    "head -c 1048576 /dev/zero | tr '\\0' o; "
				    "head -c 1048576 /dev/zero | tr '\\0' e >&2"),
				&r, &e),
		&e);
	ck_assert_uint_eq(r.out_len, 1 << 20);
	ck_assert_uint_eq(r.err_len, 1 << 20);
	qc_spawn_result_free(&r);
}
END_TEST

START_TEST(spawn_capture_bounds)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	struct qc_spawn_opts o = {
		.argv = ARGV("sh", "-c",
			"echo HEAD; head -c 100000 /dev/zero | tr '\\0' x; echo TAIL; "
			"echo START >&2; head -c 100000 /dev/zero | tr '\\0' y >&2; echo END >&2"),
		.out = QC_STDIO_CAPTURE,
		.errout = QC_STDIO_CAPTURE,
		.capture_max = 1000,
	};

	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	/* stdout: the first bytes; stderr: the last ones (that is where the reason is) */
	ck_assert_uint_eq(r.out_len, 1000);
	ck_assert(qc_str_has_prefix(r.out, "HEAD\nxxx"));
	ck_assert_uint_eq(r.err_len, 1000);
	ck_assert(qc_str_has_suffix(r.err, "yyyEND\n"));
	ck_assert_uint_eq(strlen(r.err), 1000);
	qc_spawn_result_free(&r);
}
END_TEST

START_TEST(spawn_stdin)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	size_t n = 3 << 20;
	char *in = qc_xmalloc(n);

	for (size_t i = 0; i < n; i++)
		in[i] = (char) ('a' + i % 26);
	struct qc_spawn_opts o = {.argv = ARGV("cat"),
		.in = QC_STDIO_CAPTURE,
		.input = in,
		.input_len = n,
		.out = QC_STDIO_CAPTURE,
		.capture_max = 4 << 20};
	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_uint_eq(r.out_len, n);
	ck_assert_int_eq(memcmp(r.out, in, n), 0);
	qc_spawn_result_free(&r);

	/* a child that never reads its input: no SIGPIPE for us, no hang */
	struct qc_spawn_opts o2 = {.argv = ARGV("sh", "-c", "exec <&-; echo ok"),
		.in = QC_STDIO_CAPTURE,
		.input = in,
		.input_len = n,
		.out = QC_STDIO_CAPTURE};
	ck_assert_qc_ok(qc_spawn_run(&o2, &r, &e), &e);
	ck_assert_str_eq(r.out, "ok\n");
	qc_spawn_result_free(&r);
	struct qc_spawn_opts o3 = {
		.argv = ARGV("true"), .in = QC_STDIO_CAPTURE, .input = in, .input_len = n};
	ck_assert_qc_ok(qc_spawn_run(&o3, &r, &e), &e);
	ck_assert_int_eq(r.exit_code, 0);
	qc_spawn_result_free(&r);

	/* capture without input: EOF at once */
	struct qc_spawn_opts o4 = {.argv = ARGV("cat"),
		.in = QC_STDIO_CAPTURE,
		.out = QC_STDIO_CAPTURE,
		.timeout_ms = 5000};
	ck_assert_qc_ok(qc_spawn_run(&o4, &r, &e), &e);
	ck_assert(!r.timed_out);
	ck_assert_str_eq(r.out, "");
	qc_spawn_result_free(&r);
	/* default stdin is /dev/null */
	ck_assert_qc_ok(run(ARGV("cat"), &r, &e), &e);
	ck_assert_str_eq(r.out, "");
	qc_spawn_result_free(&r);
	free(in);
}
END_TEST

/* The shell's open fds, one a line ("0\n1\n2\n"), listed by ls from outside. */
#define LIST_FDS "ls /proc/$$/fd; true" /* "; true": the shell must not exec ls */

START_TEST(spawn_fd_map)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	int p[2];
	char buf[64] = "";

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct qc_fdmap map[] = {{.src = p[1], .dst = 3}};
	struct qc_spawn_opts o = {.argv = ARGV("sh", "-c", "echo via-fd3 >&3; " LIST_FDS),
		.fds = map,
		.n_fds = 1,
		.out = QC_STDIO_CAPTURE};
	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	close(p[1]);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf) - 1), 8);
	ck_assert_str_eq(buf, "via-fd3\n");
	close(p[0]);
	ck_assert_str_eq(r.out, "0\n1\n2\n3\n");
	qc_spawn_result_free(&r);
}
END_TEST

START_TEST(spawn_fd_swap)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	int a[2], b[2];
	char buf[16] = "";

	/* parent fds 7 and 8 swap places in the child: the moves must not clobber */
	ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);
	/* out of the way first, so that 7 and 8 are free */
	int *all[] = {&a[0], &a[1], &b[0], &b[1]};
	for (size_t i = 0; i < 4; i++) {
		int high = fcntl(*all[i], F_DUPFD_CLOEXEC, 100);
		ck_assert_int_ge(high, 100);
		close(*all[i]);
		*all[i] = high;
	}
	ck_assert_int_eq(dup3(a[1], 7, O_CLOEXEC), 7);
	ck_assert_int_eq(dup3(b[1], 8, O_CLOEXEC), 8);
	close(a[1]);
	close(b[1]);
	struct qc_fdmap map[] = {{.src = 7, .dst = 8}, {.src = 8, .dst = 7}, {.src = 7, .dst = 5}};
	struct qc_spawn_opts o = {.argv = ARGV("sh", "-c", "echo A >&8; echo B >&7; echo C >&5"),
		.fds = map,
		.n_fds = 3};
	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	ck_assert_int_eq(r.exit_code, 0);
	close(7);
	close(8);
	ck_assert_int_eq(read(a[0], buf, sizeof(buf) - 1), 4);
	ck_assert_str_eq(buf, "A\nC\n");
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(read(b[0], buf, sizeof(buf) - 1), 2);
	ck_assert_str_eq(buf, "B\n");
	close(a[0]);
	close(b[0]);

	/* src == dst: the fd keeps its number and loses FD_CLOEXEC in the child only */
	ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);
	struct qc_fdmap same[] = {{.src = a[1], .dst = a[1]}};
	char *script = qc_xasprintf("echo same >&%d", a[1]);
	struct qc_spawn_opts o2 = {.argv = ARGV("sh", "-c", script), .fds = same, .n_fds = 1};
	ck_assert_qc_ok(qc_spawn_run(&o2, &r, &e), &e);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_int_ne(fcntl(a[1], F_GETFD) & FD_CLOEXEC, 0);
	close(a[1]);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(read(a[0], buf, sizeof(buf) - 1), 5);
	close(a[0]);
	free(script);

	/* bad maps are refused before fork */
	struct qc_fdmap dup_dst[] = {{.src = 0, .dst = 3}, {.src = 1, .dst = 3}};
	struct qc_spawn_opts o3 = {.argv = ARGV("true"), .fds = dup_dst, .n_fds = 2};
	ck_assert_qc_fail(qc_spawn_run(&o3, &r, &e), &e, EINVAL, "destination 3 appears twice");
	struct qc_fdmap stdio_dst[] = {{.src = 0, .dst = 1}};
	o3.fds = stdio_dst;
	o3.n_fds = 1;
	ck_assert_qc_fail(qc_spawn_run(&o3, &r, &e), &e, EINVAL, "is stdio");
	struct qc_fdmap closed_src[] = {{.src = 999, .dst = 3}};
	o3.fds = closed_src;
	ck_assert_qc_fail(qc_spawn_run(&o3, &r, &e), &e, EBADF, "fd 999 is not open");
	assert_no_children();
}
END_TEST

START_TEST(spawn_no_inherit)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	/* a careless fd without O_CLOEXEC in the parent */
	int leak = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(leak, 0);
	ck_assert_int_eq(dup2(leak, 50), 50);
	ck_assert_int_eq(fcntl(50, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_qc_ok(run(ARGV("sh", "-c", LIST_FDS), &r, &e), &e);
	ck_assert_str_eq(r.out, "0\n1\n2\n");
	qc_spawn_result_free(&r);
	/* still open and untouched in the parent */
	ck_assert_int_eq(fcntl(50, F_GETFD) & FD_CLOEXEC, 0);
	close(50);
	close(leak);
}
END_TEST

/* In util/spawn.c for tests only: 1 = no close_range(), 2 = no close_range() and no /proc. */
void qc_spawn_test_set_fallback(int mode);

START_TEST(spawn_no_inherit_fallback)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	int p[2];
	char buf[16] = "";

	/* careless fds at both ends of the range the fallback loop walks */
	ck_assert_int_eq(dup2(0, 50), 50);
	ck_assert_int_eq(dup2(0, 1000), 1000);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct qc_fdmap map[] = {{.src = p[1], .dst = 3}};
	struct qc_spawn_opts o = {.argv = ARGV("sh", "-c", "echo x >&3; " LIST_FDS),
		.fds = map,
		.n_fds = 1,
		.out = QC_STDIO_CAPTURE};
	for (int mode = 1; mode <= 2; mode++) {
		qc_spawn_test_set_fallback(mode);
		ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
		ck_assert_msg(strcmp(r.out, "0\n1\n2\n3\n") == 0, "mode %d: %s", mode, r.out);
		qc_spawn_result_free(&r);
	}
	qc_spawn_test_set_fallback(0);
	close(p[1]);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf) - 1), 4);
	ck_assert_str_eq(buf, "x\nx\n");
	close(p[0]);
	close(50);
	close(1000);
}
END_TEST

START_TEST(spawn_stdio_modes)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	int p[2];
	char buf[32] = "";

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	struct qc_spawn_opts o = {.argv = ARGV("sh", "-c", "echo to-fd; echo err-to-fd >&2"),
		.out = QC_STDIO_FD,
		.out_fd = p[1],
		.errout = QC_STDIO_FD,
		.err_fd = p[1]};
	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	close(p[1]);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf) - 1), 16);
	ck_assert_str_eq(buf, "to-fd\nerr-to-fd\n");
	close(p[0]);
	/* stdin from an fd */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(write(p[1], "piped", 5), 5);
	close(p[1]);
	struct qc_spawn_opts o2 = {
		.argv = ARGV("cat"), .in = QC_STDIO_FD, .in_fd = p[0], .out = QC_STDIO_CAPTURE};
	ck_assert_qc_ok(qc_spawn_run(&o2, &r, &e), &e);
	ck_assert_str_eq(r.out, "piped");
	qc_spawn_result_free(&r);
	close(p[0]);
	/* a closed fd */
	o2.in_fd = 999;
	ck_assert_qc_fail(qc_spawn_run(&o2, &r, &e), &e, EBADF, "stdin: fd 999 is not open");
	/* inherit: the child writes to our stderr; just check it runs */
	struct qc_spawn_opts o3 = {.argv = ARGV("true"),
		.in = QC_STDIO_INHERIT,
		.out = QC_STDIO_INHERIT,
		.errout = QC_STDIO_INHERIT};
	ck_assert_qc_ok(qc_spawn_run(&o3, &r, &e), &e);
	ck_assert_int_eq(r.exit_code, 0);
}
END_TEST

START_TEST(spawn_env_cwd)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	struct qc_spawn_opts o = {.argv = ARGV("env"),
		.envp = ARGV("FOO=bar baz", "PATH=/usr/bin:/bin"),
		.out = QC_STDIO_CAPTURE};

	/* exactly the given environment, nothing inherited */
	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	ck_assert_str_eq(r.out, "FOO=bar baz\nPATH=/usr/bin:/bin\n");
	qc_spawn_result_free(&r);
	o.argv = ARGV("pwd");
	o.cwd = "/usr";
	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	ck_assert_str_eq(r.out, "/usr\n");
	qc_spawn_result_free(&r);

	/* NULL envp: inherited */
	setenv("QC_SPAWN_TEST", "inherited", 1);
	o.envp = NULL;
	o.argv = ARGV("sh", "-c", "echo $QC_SPAWN_TEST");
	ck_assert_qc_ok(qc_spawn_run(&o, &r, &e), &e);
	ck_assert_str_eq(r.out, "inherited\n");
	qc_spawn_result_free(&r);

	o.cwd = "/nonexistent-dir";
	ck_assert_qc_fail(qc_spawn_run(&o, &r, &e), &e, ENOENT, NULL);
	ck_assert_str_eq(e.msg,
		"sh: cannot change directory to '/nonexistent-dir': No such file or directory");
	assert_no_children();
}
END_TEST

START_TEST(spawn_missing_program)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	int fds = unit_count_fds();

	ck_assert_qc_fail(run(ARGV("/nonexistent/prog", "x"), &r, &e), &e, ENOENT, NULL);
	ck_assert_str_eq(e.msg, "cannot execute '/nonexistent/prog': No such file or directory");
	ck_assert_ptr_null(r.out);
	ck_assert_qc_fail(run(ARGV("no-such-program-qc"), &r, &e), &e, ENOENT,
		"cannot execute 'no-such-program-qc': No such file or directory");
	/* not executable */
	ck_assert_qc_fail(run(ARGV("/etc/passwd"), &r, &e), &e, EACCES, NULL);
	ck_assert_str_eq(e.msg, "cannot execute '/etc/passwd': Permission denied");
	/* empty argv */
	ck_assert_qc_fail(run(ARGV(NULL), &r, &e), &e, EINVAL, "empty argv");
	/* check() says the same */
	struct qc_spawn_opts o = {.argv = ARGV("/nonexistent/prog")};
	ck_assert_qc_fail(qc_spawn_check(&o, NULL, &e), &e, ENOENT, "cannot execute");
	assert_no_children();
	ck_assert_int_eq(unit_count_fds(), fds);
}
END_TEST

START_TEST(spawn_check_messages)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	struct qc_spawn_opts o = {
		.argv = ARGV("sh", "-c",
			"echo noise; echo first >&2; echo '  boom: disk full  ' >&2; exit 2")};

	ck_assert_qc_fail(qc_spawn_check(&o, NULL, &e), &e, QC_ERR_CHILD, NULL);
	ck_assert_str_eq(e.msg, "sh: exit 2: first; boom: disk full");
	/* with res: filled, the caller frees; stderr not requested is not returned */
	ck_assert_qc_fail(qc_spawn_check(&o, &r, &e), &e, QC_ERR_CHILD, NULL);
	ck_assert_int_eq(r.exit_code, 2);
	ck_assert_ptr_null(r.err);
	qc_spawn_result_free(&r);

	o.argv = ARGV("false");
	ck_assert_qc_fail(qc_spawn_check(&o, NULL, &e), &e, QC_ERR_CHILD, NULL);
	ck_assert_str_eq(e.msg, "false: exit 1");

	/* a long stderr: only its tail, on one line */
	o.argv = ARGV("sh", "-c",
		"i=0; while [ $i -lt 300 ]; do echo line $i >&2; i=$((i+1)); done; "
		"echo the-real-reason >&2; exit 1");
	ck_assert_qc_fail(qc_spawn_check(&o, NULL, &e), &e, QC_ERR_CHILD, "the-real-reason");
	ck_assert(qc_str_has_prefix(e.msg, "sh: exit 1: ..."));
	ck_assert(qc_str_has_suffix(e.msg, "line 299; the-real-reason"));
	ck_assert_int_lt(strlen(e.msg), 450);
	ck_assert_ptr_null(strchr(e.msg, '\n'));

	o.argv = ARGV("sh", "-c", "echo fine >&2");
	o.errout = QC_STDIO_CAPTURE;
	ck_assert_qc_ok(qc_spawn_check(&o, &r, &e), &e);
	ck_assert_str_eq(r.err, "fine\n");
	qc_spawn_result_free(&r);
	assert_no_children();
}
END_TEST

START_TEST(spawn_signals_reset)
{
	struct qc_spawn_result r;
	struct qc_error e = {0};
	sigset_t set;

	/* the parent ignores SIGTERM and blocks SIGUSR1: the child must not inherit either */
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ck_assert_qc_ok(run(ARGV("grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"), &r, &e), &e);
	ck_assert_str_eq(r.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	qc_spawn_result_free(&r);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}
END_TEST

/* valgrind (3.19) does not know pidfd_open: say so instead of failing or passing silently. */
static bool have_pidfd(void)
{
	struct qc_error e = {0};
	int fd = qc_pidfd_open(getpid(), &e);

	if (fd >= 0) {
		close(fd);
		return true;
	}
	ck_assert_int_eq(e.code, ENOSYS);
	fprintf(stderr, "NOTE: pidfd_open is not available here (valgrind?): pidfd checks "
			"skipped, spawn uses its waitpid() fallback\n");
	return false;
}

START_TEST(spawn_start_daemon)
{
	struct qc_error e = {0};
	pid_t pid = 0;
	int pidfd = -1, status;

	if (!have_pidfd()) {
		struct qc_spawn_opts o = {.argv = ARGV("sleep", "0.1"), .new_session = true};
		ck_assert_qc_ok(qc_spawn_start(&o, &pid, NULL, &e), &e);
		ck_assert_int_eq(getsid(pid), pid);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		ck_assert_qc_fail(qc_spawn_start(&o, &pid, &pidfd, &e), &e, ENOSYS, "pidfd_open");
		assert_no_children();
		return;
	}

	struct qc_spawn_opts o = {.argv = ARGV("sleep", "0.2"), .new_session = true};
	ck_assert_qc_ok(qc_spawn_start(&o, &pid, &pidfd, &e), &e);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(getsid(pid), pid);
	ck_assert_int_ne(fcntl(pidfd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(qc_pidfd_wait(pidfd, 0), 0);
	ck_assert_int_eq(qc_pidfd_wait(pidfd, 5000), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pidfd);

	/* signals through the pidfd */
	o.argv = ARGV("sleep", "30");
	o.new_session = false;
	ck_assert_qc_ok(qc_spawn_start(&o, &pid, &pidfd, &e), &e);
	ck_assert_qc_ok(qc_pidfd_send_signal(pidfd, SIGTERM, &e), &e);
	ck_assert_int_eq(qc_pidfd_wait(pidfd, 5000), 1);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	/* after the reap the pidfd still works but the process is gone */
	ck_assert_qc_fail(qc_pidfd_send_signal(pidfd, SIGTERM, &e), &e, ESRCH, "send signal 15");
	close(pidfd);

	/* ret_pidfd may be NULL */
	o.argv = ARGV("true");
	ck_assert_qc_ok(qc_spawn_start(&o, &pid, NULL, &e), &e);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);

	/* capture is refused */
	o.out = QC_STDIO_CAPTURE;
	ck_assert_qc_fail(qc_spawn_start(&o, &pid, NULL, &e), &e, EINVAL, "cannot capture");
	o.out = QC_STDIO_NULL;
	o.argv = ARGV("/nonexistent");
	ck_assert_qc_fail(qc_spawn_start(&o, &pid, NULL, &e), &e, ENOENT, "cannot execute");
	ck_assert_qc_fail(qc_pidfd_open(-5, &e), &e, EINVAL, "pidfd_open -5");
	assert_no_children();
}
END_TEST

/* A child with a parent-death signal dies with its parent, after a uid drop too. */
static void check_pdeathsig(bool as_nobody)
{
	int p[2], status;
	pid_t mid, daemon_pid = 0;

	/* we adopt orphans, so the daemon comes back to us when its parent dies */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	mid = fork();
	ck_assert_int_ge(mid, 0);
	if (mid == 0) {
		struct qc_spawn_opts o = {.argv = ARGV("sleep", "30"),
			.pdeathsig = SIGKILL,
			.set_user = as_nobody,
			.uid = 65534,
			.gid = 65534};
		pid_t d;
		struct qc_error e = {0};
		if (qc_spawn_start(&o, &d, NULL, &e) < 0) {
			fprintf(stderr, "spawn_pdeathsig: %s\n", e.msg);
			_exit(1);
		}
		if (write(p[1], &d, sizeof(d)) != sizeof(d))
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &daemon_pid, sizeof(daemon_pid)), sizeof(daemon_pid));
	close(p[0]);
	ck_assert_int_eq(waitpid(mid, &status, 0), mid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	int64_t t0 = qc_now_ms();
	ck_assert_int_eq(waitpid(daemon_pid, &status, 0), daemon_pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert_int_lt(qc_now_ms() - t0, 5000);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

START_TEST(spawn_pdeathsig)
{
	check_pdeathsig(false);
	/* setuid() clears the parent-death signal: it must be set after the drop */
	if (geteuid() == 0)
		check_pdeathsig(true);
}
END_TEST

START_TEST(spawn_cleanup_pid)
{
	struct qc_error e = {0};
	struct qc_spawn_opts o = {.argv = ARGV("sleep", "30")};
	pid_t kept;

	{
		cleanup_pid pid_t pid = -1;
		ck_assert_qc_ok(qc_spawn_start(&o, &pid, NULL, &e), &e);
		ck_assert_int_eq(kill(pid, 0), 0);
	}
	/* killed and reaped on scope exit */
	assert_no_children();
	{
		cleanup_pid pid_t pid = -1;
		ck_assert_qc_ok(qc_spawn_start(&o, &pid, NULL, &e), &e);
		kept = TAKE_PID(pid);
		ck_assert_int_eq(pid, -1);
	}
	ck_assert_int_eq(kill(kept, 0), 0);
	errno = 4321;
	qc_pid_killp(&kept);
	ck_assert_int_eq(errno, 4321);
	ck_assert_int_eq(kept, -1);
	assert_no_children();
}
END_TEST

START_TEST(spawn_helpers)
{
	char buf[64];
	cleanup_free char *sh = qc_find_program("sh");
	cleanup_free char *abs = qc_find_program("/bin/sh");

	ck_assert_ptr_nonnull(sh);
	ck_assert_int_eq(sh[0], '/');
	ck_assert_str_eq(abs, "/bin/sh");
	ck_assert_ptr_null(qc_find_program("no-such-program-qc"));
	ck_assert_ptr_null(qc_find_program("/nonexistent/x"));
	ck_assert_ptr_null(qc_find_program(""));
	/* directories on PATH named like the program do not count */
	cleanup_free char *saved_path = qc_xstrdup(getenv("PATH"));
	setenv("PATH", "/:/usr/bin", 1);
	cleanup_free char *etc = qc_find_program("etc");
	ck_assert_ptr_null(etc);
	cleanup_free char *ls = qc_find_program("ls");
	ck_assert_str_eq(ls, "/usr/bin/ls");
	if (saved_path)
		setenv("PATH", saved_path, 1);
	else
		unsetenv("PATH");

	qc_format_wait_status(3 << 8, buf, sizeof(buf));
	ck_assert_str_eq(buf, "exit 3");
	qc_format_wait_status(SIGKILL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "signal 9 (Killed)");
	qc_format_wait_status(SIGSEGV | 0x80, buf, sizeof(buf));
	ck_assert_str_eq(buf, "signal 11 (Segmentation fault), core dumped");
	qc_spawn_result_free(NULL);
}
END_TEST

/*
 * qc_access_as (as root only): the child really runs as the other user, and
 * /proc/self/fd/N checks the inode alone: a 0644 file in a 0700 directory
 * opens through its fd but not by path; a 0600 file opens in neither way.
 */
/* One "Key:\tvalue" line of the child's /proc/self/status, read by the child itself. */
static char *child_status_line(struct qc_spawn_opts *o, const char *key)
{
	cleanup_free char *script = qc_xasprintf("grep '^%s:' /proc/self/status", key);
	struct qc_spawn_result res = {0};
	struct qc_error e = {0};
	char *line;

	o->argv = ARGV("sh", "-c", script);
	o->out = QC_STDIO_CAPTURE;
	o->errout = QC_STDIO_CAPTURE;
	ck_assert_qc_ok(qc_spawn_check(o, &res, &e), &e);
	line = qc_xstrdup(res.out ? res.out : "");
	qc_spawn_result_free(&res);
	line[strcspn(line, "\n")] = '\0';
	return line;
}

START_TEST(spawn_no_new_privs)
{
	struct qc_spawn_opts o = {0};
	cleanup_free char *off = NULL, *on = NULL;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		return; /* already set for this test run: the off case cannot be seen */
	off = child_status_line(&o, "NoNewPrivs");
	ck_assert_str_eq(off, "NoNewPrivs:\t0");
	o = (struct qc_spawn_opts){.no_new_privs = true};
	on = child_status_line(&o, "NoNewPrivs");
	ck_assert_str_eq(on, "NoNewPrivs:\t1");
	/* and the parent is untouched */
	ck_assert_int_eq(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0);
	assert_no_children();
}
END_TEST

START_TEST(spawn_set_user)
{
	static const gid_t groups[] = {65534, 4};
	struct qc_spawn_opts o;
	struct qc_error e = {0};
	cleanup_free char *uid = NULL, *gid = NULL, *none = NULL, *some = NULL, *kept = NULL;
	int p[2], status;
	pid_t pid;

	if (geteuid() != 0)
		return; /* setgroups() needs root */
	o = (struct qc_spawn_opts){.set_user = true, .uid = 65534, .gid = 65534};
	uid = child_status_line(&o, "Uid");
	ck_assert_str_eq(uid, "Uid:\t65534\t65534\t65534\t65534");
	gid = child_status_line(&o, "Gid");
	ck_assert_str_eq(gid, "Gid:\t65534\t65534\t65534\t65534");
	/* no supplementary groups unless asked for */
	none = child_status_line(&o, "Groups");
	ck_assert_str_eq(none, "Groups:\t ");
	o = (struct qc_spawn_opts){
		.set_user = true, .uid = 65534, .gid = 65534, .groups = groups, .n_groups = 2};
	some = child_status_line(&o, "Groups");
	ck_assert_str_eq(some, "Groups:\t4 65534 ");
	/* without set_user the child keeps ours */
	o = (struct qc_spawn_opts){0};
	kept = child_status_line(&o, "Uid");
	ck_assert_str_eq(kept, "Uid:\t0\t0\t0\t0");

	/* the drop failing is reported by the child, before exec */
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct qc_spawn_opts up = {.argv = ARGV("true"), .set_user = true};

		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		if (qc_spawn_run(&up, NULL, &e) == 0)
			_exit(3);
		if (write(p[1], e.msg, strlen(e.msg) + 1) < 0)
			_exit(4);
		_exit(e.code == EPERM ? 0 : 5);
	}
	close(p[1]);
	{
		char msg[1024] = "";
		ck_assert_int_gt(read(p[0], msg, sizeof(msg) - 1), 0);
		ck_assert_str_eq(msg, "true: cannot change to uid 0 gid 0: Operation not permitted");
	}
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	assert_no_children();
}
END_TEST

START_TEST(access_as_user)
{
	char *dir;
	cleanup_free char *priv = NULL, *pub = NULL, *secret = NULL, *pub_fd = NULL,
			  *secret_fd = NULL;
	struct qc_error err = {0};
	size_t idx = 99;
	int e = 0, fd_pub, fd_secret;

	if (geteuid() != 0)
		return; /* setgroups() needs root; tests/integration/confine.sh covers the rest */
	dir = unit_mkdtemp();
	ck_assert_int_eq(chmod(dir, 0711), 0);
	priv = qc_xasprintf("%s/private", dir);
	ck_assert_int_eq(mkdir(priv, 0700), 0);
	pub = qc_xasprintf("%s/pub", priv);
	secret = qc_xasprintf("%s/secret", dir);
	fd_pub = open(pub, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	fd_secret = open(secret, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd_pub, 0);
	ck_assert_int_ge(fd_secret, 0);
	ck_assert_int_eq(fchmod(fd_pub, 0644), 0); /* whatever the umask */
	pub_fd = qc_xasprintf("/proc/self/fd/%d", fd_pub);
	secret_fd = qc_xasprintf("/proc/self/fd/%d", fd_secret);
	{
		const char *ok_paths[] = {pub_fd, "/etc/passwd"};
		int ok_flags[] = {O_RDONLY, O_RDONLY};
		const char *paths[] = {pub_fd, pub};
		int flags[] = {O_RDONLY, O_RDONLY};
		const char *paths2[] = {secret_fd};
		const char *paths3[] = {"/etc/passwd"};
		int flags3[] = {O_RDWR};

		ck_assert_int_eq(
			qc_access_as(65534, 65534, ok_paths, ok_flags, 2, &idx, &e, &err), 0);
		ck_assert_int_eq(qc_access_as(65534, 65534, paths, flags, 2, &idx, &e, &err), 1);
		ck_assert_uint_eq(idx, 1);
		ck_assert_int_eq(e, EACCES);
		ck_assert_int_eq(qc_access_as(65534, 65534, paths2, flags, 1, &idx, &e, &err), 1);
		ck_assert_uint_eq(idx, 0);
		ck_assert_int_eq(e, EACCES);
		ck_assert_int_eq(qc_access_as(65534, 65534, paths3, flags3, 1, &idx, &e, &err), 1);
		ck_assert_int_eq(qc_access_as(0, 0, paths3, flags3, 1, &idx, &e, &err), 0);
	}
	close(fd_pub);
	close(fd_secret);
	unit_rmdir(dir);
}
END_TEST

/*
 * qc_access_anyone: yes only when the answer cannot depend on the user.
 * The tree is made in a fresh 0755 directory and named relative to it
 * (the directories above $TMPDIR are not this test's to judge).
 */
struct anyone_tree {
	char *dir;
	int cwd; /* to go back to */
};

static void anyone_mk(const char *path, mode_t mode)
{
	int fd;

	if (mode & S_IFDIR) {
		ck_assert_int_eq(mkdir(path, 0700), 0);
		ck_assert_int_eq(chmod(path, mode & 07777), 0);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, mode), 0); /* whatever the umask */
	close(fd);
}

/* An access ACL: the owner rw, user 65534 nothing, the mask, group and others r (0644). */
static void anyone_acl(const char *path)
{
	struct __attribute__((packed)) {
		uint32_t version;
		struct __attribute__((packed)) {
			uint16_t tag, perm;
			uint32_t id;
		} e[5];
	} acl = {2, {{0x01, 6, UINT32_MAX}, {0x02, 0, 65534}, {0x04, 4, UINT32_MAX},
			    {0x10, 4, UINT32_MAX}, {0x20, 4, UINT32_MAX}}};

	ck_assert_msg(setxattr(path, "system.posix_acl_access", &acl, sizeof(acl), 0) == 0,
		"set an ACL on %s: %s", path, strerror(errno));
}

static void anyone_setup(struct anyone_tree *t)
{
	t->dir = unit_mkdtemp();
	ck_assert_int_eq(chmod(t->dir, 0755), 0);
	t->cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(t->cwd, 0);
	ck_assert_int_eq(chdir(t->dir), 0);
	ck_assert_msg(qc_access_anyone(".", O_RDONLY | O_DIRECTORY),
		"%s (0755) is not decided by mode bits: $TMPDIR on a filesystem other than "
		"ext2/3/4, xfs, btrfs or tmpfs?",
		t->dir);
	anyone_mk("pub", S_IFDIR | 0755);
	anyone_mk("pub/f", 0644);
	anyone_mk("pub/ro", 0444);
	anyone_mk("pub/g", 0640); /* not others */
	anyone_mk("pub/o", 0604); /* not the group */
	anyone_mk("pub/u", 0044); /* not the owner */
	anyone_mk("priv", S_IFDIR | 0700);
	anyone_mk("priv/f", 0644);
	anyone_mk("srch", S_IFDIR | 0711); /* searchable, not listable */
	anyone_mk("srch/f", 0644);
	anyone_mk("grp", S_IFDIR | 0710);
	anyone_mk("grp/f", 0644);
	anyone_mk("nox", S_IFDIR | 0754); /* others may list, not search */
	anyone_mk("nox/f", 0644);
	anyone_mk("acl", 0644);
	anyone_acl("acl");
	anyone_mk("acldir", S_IFDIR | 0755);
	anyone_mk("acldir/f", 0644);
	anyone_acl("acldir");
	ck_assert_int_eq(symlink("pub/f", "link"), 0);
	ck_assert_int_eq(symlink("pub", "linkdir"), 0);
	ck_assert_int_eq(mkfifo("pub/fifo", 0666), 0);
	ck_assert_int_eq(chmod("pub/fifo", 0666), 0);
}

static void anyone_teardown(struct anyone_tree *t)
{
	ck_assert_int_eq(fchdir(t->cwd), 0);
	close(t->cwd);
	unit_rmdir(t->dir);
}

/* Can user 65534 open path with flags?  A child as that user tries (root only). */
static bool opens_as_nobody(const char *path, int flags)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		_exit(open(path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY) >= 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) < 2, "child: status 0x%x", status);
	return WEXITSTATUS(status) == 0;
}

START_TEST(access_anyone_decides)
{
	static const struct {
		const char *path;
		int flags;
		bool anyone; /* what qc_access_anyone says */
		bool nobody; /* what an open as user 65534 says (when root) */
	} cases[] = {
		{"pub/f", O_RDONLY, true, true},
		{"pub/ro", O_RDONLY, true, true},
		{"./pub//f", O_RDONLY, true, true},
		{"srch/f", O_RDONLY, true, true},
		{"pub", O_RDONLY | O_DIRECTORY, true, true},
		{"pub/", O_RDONLY | O_DIRECTORY, true, true},
		{".", O_RDONLY | O_DIRECTORY, true, true},
		/* a mode that depends on who asks: the forked check decides */
		{"pub/g", O_RDONLY, false, false},
		{"pub/o", O_RDONLY, false, true},
		{"pub/u", O_RDONLY, false, true},
		{"priv/f", O_RDONLY, false, false},
		{"grp/f", O_RDONLY, false, false},
		{"nox/f", O_RDONLY, false, false},
		{"srch", O_RDONLY | O_DIRECTORY, false, false}, /* 0711: not readable */
		/* an ACL on the file or on a directory on the way */
		{"acl", O_RDONLY, false, false},
		{"acldir/f", O_RDONLY, false, false},
		/* symlinks, "..", the wrong type, other flags */
		{"link", O_RDONLY, false, true},
		{"linkdir/f", O_RDONLY, false, true},
		{"pub/../pub/f", O_RDONLY, false, true},
		{"pub/f/", O_RDONLY, false, false},
		{"pub/f", O_RDONLY | O_DIRECTORY, false, false},
		{"pub", O_RDONLY, false, true},
		{"pub/fifo", O_RDONLY, false, true},
		{"pub/missing", O_RDONLY, false, false},
		{"pub/f", O_RDWR, false, false},
		{"pub/f", O_RDONLY | O_TRUNC, false, false},
		{"", O_RDONLY, false, false},
		/* not a filesystem decided by mode bits */
		{"/proc/version", O_RDONLY, false, true},
	};
	struct anyone_tree t;

	anyone_setup(&t);
	for (size_t i = 0; i < QC_ARRAY_SIZE(cases); i++) {
		ck_assert_msg(qc_access_anyone(cases[i].path, cases[i].flags) == cases[i].anyone,
			"qc_access_anyone('%s', 0%o) should be %d", cases[i].path,
			(unsigned) cases[i].flags, cases[i].anyone);
		/* a yes is never wrong: the kernel agrees for another user */
		if (geteuid() == 0)
			ck_assert_msg(
				opens_as_nobody(cases[i].path, cases[i].flags) == cases[i].nobody,
				"open('%s') as 65534 should be %d", cases[i].path, cases[i].nobody);
	}
	ck_assert(!qc_access_anyone(NULL, O_RDONLY));
	anyone_teardown(&t);
	assert_no_children();
}
END_TEST

/* "/proc/self/fd/N": the inode of fd N alone, wherever it sits. */
START_TEST(access_anyone_fd)
{
	struct anyone_tree t;
	char path[64];
	int fd;

	anyone_setup(&t);
	fd = open("priv/f", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ck_assert(qc_access_anyone(path, O_RDONLY));
	ck_assert(!qc_access_anyone(path, O_RDONLY | O_DIRECTORY));
	ck_assert(!qc_access_anyone(path, O_RDWR));
	close(fd);
	ck_assert(!qc_access_anyone(path, O_RDONLY)); /* closed */
	fd = open("pub/g", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ck_assert(!qc_access_anyone(path, O_RDONLY));
	close(fd);
	fd = open("acl", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ck_assert(!qc_access_anyone(path, O_RDONLY));
	close(fd);
	fd = open("pub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ck_assert(qc_access_anyone(path, O_RDONLY | O_DIRECTORY));
	ck_assert(!qc_access_anyone(path, O_RDONLY));
	snprintf(path, sizeof(path), "/proc/self/fd/%dx", fd);
	ck_assert(!qc_access_anyone(path, O_RDONLY | O_DIRECTORY));
	close(fd);
	anyone_teardown(&t);
}
END_TEST

/* Make every new process fail (clone, clone3: EPERM) from here on. */
static void deny_fork(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {.len = QC_ARRAY_SIZE(f), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		_exit(10);
}

/* qc_access_as forks no child when every path is open to anyone, and does otherwise. */
START_TEST(access_as_no_fork)
{
	struct anyone_tree t;
	int status;
	pid_t pid;

	anyone_setup(&t);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char fdpath[64];
		const char *open_paths[] = {"pub/f", fdpath, "pub"};
		int open_flags[] = {O_RDONLY, O_RDONLY, O_RDONLY | O_DIRECTORY};
		const char *other[] = {"pub/f", "pub/g"};
		int other_flags[] = {O_RDONLY, O_RDONLY};
		struct qc_error err = {0};
		size_t idx = 99;
		int e = 0, fd = open("priv/f", O_RDONLY | O_CLOEXEC);

		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		deny_fork();
		if (fork() != -1 || errno != EPERM)
			_exit(11); /* the filter is not in force */
		if (qc_access_as(65534, 65534, open_paths, open_flags, 3, &idx, &e, &err) != 0)
			_exit(12);
		if (qc_access_as(65534, 65534, other, other_flags, 2, &idx, &e, &err) != -EPERM ||
			strcmp(err.msg, "access check: fork: Operation not permitted") != 0)
			_exit(13);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status 0x%x", status);
	anyone_teardown(&t);
}
END_TEST

Suite *util_spawn_suite(void)
{
	Suite *s = suite_create("util-spawn");
	TCase *tc = unit_tcase(s, "spawn", spawn_exit_codes, spawn_signal, spawn_timeout,
		spawn_grandchild_holds_pipe, spawn_big_output, spawn_capture_bounds, spawn_stdin,
		spawn_fd_map, spawn_fd_swap, spawn_no_inherit, spawn_no_inherit_fallback,
		spawn_stdio_modes, spawn_env_cwd, spawn_missing_program, access_as_user,
		spawn_check_messages, spawn_signals_reset, spawn_start_daemon, spawn_pdeathsig,
		spawn_no_new_privs, spawn_set_user, spawn_cleanup_pid, spawn_helpers, NULL);
	TCase *access = unit_tcase(
		s, "access", access_anyone_decides, access_anyone_fd, access_as_no_fork, NULL);

	tcase_set_timeout(tc, 30);
	tcase_set_timeout(access, 30);
	return s;
}
