/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The physical limit of `qemuctl start` and `qemuctl destroy`: QEMU run
 * directly as a child with the same argv (-S, QMP socket), in a session of
 * its own as the monitor runs QEMU, timed from fork until qmp_capabilities
 * and cont are answered; then `quit` until reaped.
 *
 *   start-stop-raw --runs N --qmp PATH -- QEMU-ARGV...
 *
 * Prints "start_ms <median>" and "quit_ms <median>" (and every sample on stderr).
 *
 *   start-stop-raw --cmd -- ARGV...
 *
 * times one run of a command the same way, from fork until it exits, so
 * that both sides of a ratio are timed from a fork in this program (a
 * Python subprocess adds ~0.4 ms of its own).  The command keeps this
 * program's stdin, stdout and stderr; on stderr follow "qc-bench cmd_ms
 * <wall>", "qc-bench cpu_ms <user + system>", "qc-bench run_ms <time on a
 * CPU>", "qc-bench runqueue_ms <time runnable, waiting for a CPU>" (its
 * /proc/PID/schedstat, read before it is reaped; wall less both is the
 * time it was blocked: on I/O, a lock, a socket) and "qc-bench status N".
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qmp/qmp.h"
#include "util/util.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t) n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * A finished child's /proc/PID/schedstat, read before it is reaped: its
 * time on a CPU and its time runnable but waiting for one, in ns.
 */
static void schedstat(pid_t pid, double *run_ms, double *wait_ms)
{
	char path[64];
	unsigned long long run = 0, wait = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int) pid);
	if ((f = fopen(path, "re"))) {
		if (fscanf(f, "%llu %llu", &run, &wait) != 2)
			run = wait = 0;
		fclose(f);
	}
	*run_ms = (double) run / 1e6;
	*wait_ms = (double) wait / 1e6;
}

static int time_cmd(char **cargv)
{
	struct rusage ru;
	siginfo_t si;
	double run_ms, wait_ms;
	int64_t t0, t1;
	pid_t pid;
	int status;

	qc_step_time("bench:fork");
	t0 = qc_now_us();
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execvp(cargv[0], cargv);
		_exit(127);
	}
	/* exited: the time, then what the scheduler says of it, then reap it */
	if (waitid(P_PID, (id_t) pid, &si, WEXITED | WNOWAIT) < 0)
		return 1;
	t1 = qc_now_us();
	qc_step_time("bench:reaped");
	schedstat(pid, &run_ms, &wait_ms);
	if (wait4(pid, &status, 0, &ru) != pid)
		return 1;
	fprintf(stderr, "qc-bench cmd_ms %.3f\n", (double) (t1 - t0) / 1000.0);
	fprintf(stderr, "qc-bench cpu_ms %.3f\n",
		(double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
			(double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0);
	fprintf(stderr, "qc-bench run_ms %.3f\n", run_ms);
	fprintf(stderr, "qc-bench runqueue_ms %.3f\n", wait_ms);
	fprintf(stderr, "qc-bench status %d\n",
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

int main(int argc, char **argv)
{
	const char *qmp_path = NULL;
	char **qargv = NULL;
	int runs = 10, i;
	double *start_ms, *quit_ms;

	if (argc > 3 && strcmp(argv[1], "--cmd") == 0 && strcmp(argv[2], "--") == 0)
		return time_cmd(&argv[3]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (strcmp(argv[i], "--qmp") == 0 && i + 1 < argc)
			qmp_path = argv[++i];
		else if (strcmp(argv[i], "--") == 0) {
			qargv = &argv[i + 1];
			break;
		}
	}
	if (!qmp_path || !qargv || !qargv[0] || runs < 1) {
		fprintf(stderr, "usage: start-stop-raw --runs N --qmp PATH -- QEMU-ARGV...\n");
		return 2;
	}
	start_ms = qc_xzalloc(sizeof(double) * (size_t) runs);
	quit_ms = qc_xzalloc(sizeof(double) * (size_t) runs);
	for (i = 0; i < runs; i++) {
		struct qc_error err = {0};
		struct qc_qmp *q = NULL;
		int64_t t0, t1, t2;
		pid_t pid;
		int status;

		unlink(qmp_path);
		qc_step_time("raw:fork");
		t0 = qc_now_us();
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			/* a session of its own, as qemuctl's monitor gives QEMU */
			(void) setsid();
			execvp(qargv[0], qargv);
			_exit(127);
		}
		if (qc_qmp_connect(qmp_path, 30000, &q, &err) < 0 ||
			(qc_step_time("raw:qmp-ready"), 0) ||
			qc_qmp_execute(q, "cont", NULL, 10000, NULL, &err) < 0) {
			fprintf(stderr, "start-stop-raw: %s\n", err.msg);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		t1 = qc_now_us();
		qc_step_time("raw:cont");
		(void) qc_qmp_execute(q, "quit", NULL, 10000, NULL, NULL);
		waitpid(pid, &status, 0);
		t2 = qc_now_us();
		qc_qmp_close(q);
		start_ms[i] = (double) (t1 - t0) / 1000.0;
		quit_ms[i] = (double) (t2 - t1) / 1000.0;
		fprintf(stderr, "run %d: start %.1f ms, quit %.1f ms\n", i + 1, start_ms[i],
			quit_ms[i]);
	}
	printf("start_ms %.2f\n", median(start_ms, runs));
	printf("quit_ms %.2f\n", median(quit_ms, runs));
	free(start_ms);
	free(quit_ms);
	return 0;
}
