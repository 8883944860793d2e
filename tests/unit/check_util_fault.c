/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/fault.c: QEMUCTL_FAULT_AT / QEMUCTL_FAULT_TRACE; util/steptime.c: QEMUCTL_STEP_TIMES */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

/*
 * Run steps "s1".."s<steps>" in a child with the given environment (NULL:
 * unset).  The child reports each step it survived as one byte on a pipe
 * and its stderr goes to another.  Returns the wait status; *survived is
 * the number of steps passed, err (size n) what the child wrote to stderr.
 */
static int run_child(
	const char *at, const char *trace, int steps, int *survived, char *errbuf, size_t n)
{
	int ok[2], ep[2], status;
	pid_t pid;
	ssize_t r;
	size_t len = 0;
	char buf[256];

	ck_assert_int_eq(pipe2(ok, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(ep, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (at)
			setenv("QEMUCTL_FAULT_AT", at, 1);
		else
			unsetenv("QEMUCTL_FAULT_AT");
		if (trace)
			setenv("QEMUCTL_FAULT_TRACE", trace, 1);
		else
			unsetenv("QEMUCTL_FAULT_TRACE");
		dup2(ep[1], STDERR_FILENO);
		qc_fault_reset(); /* CK_FORK=no: an earlier test may have read the environment */
		for (int i = 1; i <= steps; i++) {
			qc_fault_stepf("s%d", i);
			if (write(ok[1], "x", 1) != 1)
				_exit(3);
		}
		/* Children of this process must not inherit the fault. */
		if (getenv("QEMUCTL_FAULT_AT") || getenv("QEMUCTL_FAULT_TRACE"))
			_exit(4);
		_exit(0);
	}
	close(ok[1]);
	close(ep[1]);
	*survived = 0;
	while ((r = read(ok[0], buf, sizeof(buf))) > 0)
		*survived += (int) r;
	while (len + 1 < n && (r = read(ep[0], errbuf + len, n - 1 - len)) > 0)
		len += (size_t) r;
	errbuf[len] = 0;
	close(ok[0]);
	close(ep[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static bool killed(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

START_TEST(fault_unset)
{
	char err[512];
	int n, st = run_child(NULL, NULL, 50, &n, err, sizeof(err));

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	ck_assert_int_eq(n, 50);
	ck_assert_str_eq(err, "");
}
END_TEST

/* Dies by SIGKILL at step N, and not before. */
START_TEST(fault_at_n)
{
	static const int at[] = {1, 2, 7, 20};
	char err[512], s[16];
	int n, st;

	snprintf(s, sizeof(s), "%d", at[_i]);
	st = run_child(s, NULL, 20, &n, err, sizeof(err));
	ck_assert_msg(killed(st), "step %d: status %d", at[_i], st);
	ck_assert_int_eq(n, at[_i] - 1);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(fault_past_end)
{
	char err[512];
	int n, st = run_child("21", NULL, 20, &n, err, sizeof(err));

	/* also: both variables are gone from the environment (exit 4 otherwise) */
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	ck_assert_int_eq(n, 20);
	st = run_child("0", NULL, 5, &n, err, sizeof(err));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "AT=0: status %d", st);
}
END_TEST

START_TEST(fault_by_name)
{
	char err[512];
	int n, st = run_child("s5", NULL, 9, &n, err, sizeof(err));

	ck_assert_msg(killed(st), "status %d", st);
	ck_assert_int_eq(n, 4);
	st = run_child("nosuchstep", NULL, 9, &n, err, sizeof(err));
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	ck_assert_int_eq(n, 9);
}
END_TEST

START_TEST(fault_trace)
{
	char err[512];
	int n, st = run_child(NULL, "1", 3, &n, err, sizeof(err));

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
	ck_assert_str_eq(err, "qemuctl: fault-step 1 s1\n"
			      "qemuctl: fault-step 2 s2\n"
			      "qemuctl: fault-step 3 s3\n");
	/* trace and kill together: the fatal step is still traced */
	st = run_child("2", "1", 3, &n, err, sizeof(err));
	ck_assert_msg(killed(st), "status %d", st);
	ck_assert_str_eq(err, "qemuctl: fault-step 1 s1\nqemuctl: fault-step 2 s2\n");
	/* TRACE=0 is off */
	st = run_child(NULL, "0", 3, &n, err, sizeof(err));
	ck_assert_str_eq(err, "");
}
END_TEST

/*
 * A child marks steps with QEMUCTL_STEP_TIMES=value (in dir): the lines
 * it appended to dir/steps, or "" when there is no such file.  The child
 * exits 4 when the variable left its environment.
 */
static char *step_child(const char *dir, const char *value)
{
	cleanup_free char *path = qc_xasprintf("%s/steps", dir);
	char *text = NULL;
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		volatile unsigned long spin = 0;

		if (chdir(dir) < 0)
			_exit(3);
		setenv("QEMUCTL_STEP_TIMES", value, 1);
		unsetenv("QEMUCTL_FAULT_AT");
		unsetenv("QEMUCTL_FAULT_TRACE");
		qc_step_time_reset();
		qc_fault_reset();
		qc_step_time("first");
		qc_fault_step("a-fault-step"); /* no fault variable: still a mark */
		for (unsigned long i = 0; i < 20000000; i++)
			spin += i;
		qc_step_time("last");
		if (spin == 0) /* never: the sum is read, so the loop is not optimised away */
			_exit(5);
		_exit(getenv("QEMUCTL_STEP_TIMES") ? 0 : 4);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	if (qc_read_file(AT_FDCWD, path, 1 << 20, &text, NULL, NULL) < 0)
		return qc_xstrdup("");
	unlink(path);
	return text;
}

START_TEST(step_times)
{
	char dir[] = "/tmp/qc-steps.XXXXXX";
	cleanup_free char *abs = NULL, *text = NULL, *rel = NULL;
	long long us[3], cpu[3], rq[3];
	int pid[3];
	char name[3][32];
	const char *p;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	abs = qc_xasprintf("%s/steps", dir);
	text = step_child(dir, abs);
	p = text;
	for (int i = 0; i < 3; i++) {
		int used = 0;

		ck_assert_msg(sscanf(p, "%lld %lld %lld %d %31s\n%n", &us[i], &cpu[i], &rq[i],
				      &pid[i], name[i], &used) == 5,
			"line %d of: %s", i + 1, text);
		p += used;
	}
	ck_assert_str_eq(p, "");
	ck_assert_str_eq(name[0], "first");
	ck_assert_str_eq(name[1], "a-fault-step");
	ck_assert_str_eq(name[2], "last");
	/* one process, one monotonic clock, and its CPU time grows with the work */
	ck_assert_int_eq(pid[0], pid[1]);
	ck_assert_int_eq(pid[1], pid[2]);
	ck_assert(us[0] <= us[1] && us[1] <= us[2]);
	ck_assert(cpu[0] <= cpu[1] && cpu[1] < cpu[2]);
	/* the run-queue wait only grows (-1: no schedstat in this kernel) */
	ck_assert(rq[0] == -1 || (rq[0] <= rq[1] && rq[1] <= rq[2]));
	ck_assert_int_le(cpu[2] - cpu[1], us[2] - us[1] + 1000);
	/* a relative name is not taken: nothing is written in the working dir */
	rel = step_child(dir, "steps");
	ck_assert_str_eq(rel, "");
	rmdir(dir);
}
END_TEST

Suite *util_fault_suite(void)
{
	Suite *s = suite_create("util_fault");
	TCase *tc;

	tc = unit_tcase(s, "fault", fault_unset, NULL);
	tcase_add_loop_test(tc, fault_at_n, 0, 4);
	unit_add_tests(tc, fault_past_end, fault_by_name, fault_trace, step_times, NULL);
	return s;
}
