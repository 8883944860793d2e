/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Step times, for profiling: with QEMUCTL_STEP_TIMES=FILE in the
 * environment every qc_step_time("what") (and every fault step) appends
 *
 *     <CLOCK_MONOTONIC in us> <this process's CPU time in us>
 *     <this thread's time runnable but waiting for a CPU, in us> <pid> <what>
 *
 * to FILE.  Unlike the fault variables it stays in the environment, so
 * qemuctl-monitor (and the benchmark harness that spawned the CLI) write
 * to the same file on the same clock: bench/start-profile lines them up
 * into a wall and CPU time per step of `start`.  Unset: one branch.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

static enum { STEPS_UNREAD, STEPS_OFF, STEPS_ON } steps_mode;
static const char *steps_file;

/* The calling thread's run-queue wait so far (schedstat's second field), -1 if unknown. */
static long long runqueue_us(void)
{
	char buf[128];
	unsigned long long run, wait;
	ssize_t n;
	int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return -1;
	return (long long) (wait / 1000);
}

static int64_t clock_us(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return -1;
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void qc_step_time_reset(void)
{
	steps_mode = STEPS_UNREAD;
	steps_file = NULL;
}

void qc_step_time(const char *name)
{
	char line[256];
	int fd, len;

	if (steps_mode == STEPS_UNREAD) {
		steps_file = getenv("QEMUCTL_STEP_TIMES");
		steps_mode = steps_file && steps_file[0] == '/' ? STEPS_ON : STEPS_OFF;
	}
	if (steps_mode != STEPS_ON)
		return;
	len = snprintf(line, sizeof(line), "%lld %lld %lld %d %s\n",
		(long long) clock_us(CLOCK_MONOTONIC),
		(long long) clock_us(CLOCK_PROCESS_CPUTIME_ID), runqueue_us(), (int) getpid(),
		name);
	if (len <= 0 || len >= (int) sizeof(line))
		return;
	/* one append per line: lines of several processes never mix */
	fd = open(steps_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	(void) !write(fd, line, (size_t) len);
	close(fd);
}
