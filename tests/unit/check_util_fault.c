/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/fault.c: QEMUCTL_FAULT_AT / QEMUCTL_FAULT_TRACE */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

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

Suite *util_fault_suite(void)
{
	Suite *s = suite_create("util_fault");
	TCase *tc;

	tc = unit_tcase(s, "fault", fault_unset, NULL);
	tcase_add_loop_test(tc, fault_at_n, 0, 4);
	unit_add_tests(tc, fault_past_end, fault_by_name, fault_trace, NULL);
	return s;
}
