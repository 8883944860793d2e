/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection for tests: named steps at every state-changing point of
 * create, start, stop, image sync, net create...  A process-wide counter
 * numbers them.  QEMUCTL_FAULT_AT=N makes the process SIGKILL itself at step
 * N (QEMUCTL_FAULT_AT=NAME: at the first step of that name), so a test can
 * kill the CLI at each step in turn and check that nothing is left half
 * done.  QEMUCTL_FAULT_TRACE=1 writes "qemuctl: fault-step N NAME" to stderr
 * at every step: the only output below driver/cli/, and only on request.
 *
 * The environment is read once, at the first step, and both variables are
 * then removed from it, so the processes this one spawns (qemuctl-monitor,
 * which links the same code) count nothing and are never killed by a fault
 * meant for the CLI.  With neither variable set a step costs one branch.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

static enum { FAULT_UNREAD, FAULT_OFF, FAULT_ON } fault_mode;
static unsigned long fault_count, fault_at;
static char *fault_at_name;
static bool fault_trace;

static void fault_init(void)
{
	const char *at = getenv("QEMUCTL_FAULT_AT");
	const char *trace = getenv("QEMUCTL_FAULT_TRACE");

	fault_mode = FAULT_OFF;
	if (at && *at) {
		char *end = NULL;
		unsigned long n = strtoul(at, &end, 10);

		if (end && *end == '\0' && at[0] >= '0' && at[0] <= '9')
			fault_at = n; /* 0: never */
		else
			fault_at_name = qc_xstrdup(at);
		fault_mode = FAULT_ON;
	}
	if (trace && *trace && strcmp(trace, "0") != 0) {
		fault_trace = true;
		fault_mode = FAULT_ON;
	}
	if (fault_mode == FAULT_ON) {
		(void) unsetenv("QEMUCTL_FAULT_AT");
		(void) unsetenv("QEMUCTL_FAULT_TRACE");
	}
}

void qc_fault_reset(void)
{
	free(fault_at_name);
	fault_at_name = NULL;
	fault_at = fault_count = 0;
	fault_trace = false;
	fault_mode = FAULT_UNREAD;
}

bool qc_fault_active(void)
{
	if (fault_mode == FAULT_UNREAD)
		fault_init();
	return fault_mode == FAULT_ON;
}

void qc_fault_step(const char *name)
{
	unsigned long n;

	qc_step_time(name);
	if (!qc_fault_active())
		return;
	n = ++fault_count;
	if (fault_trace) {
		char line[256];
		int len = snprintf(line, sizeof(line), "qemuctl: fault-step %lu %s\n", n, name);

		if (len > (int) sizeof(line) - 1)
			len = (int) sizeof(line) - 1;
		if (len > 0)
			(void) !write(STDERR_FILENO, line, (size_t) len);
	}
	if ((fault_at && n == fault_at) || (fault_at_name && strcmp(fault_at_name, name) == 0)) {
		(void) kill(getpid(), SIGKILL);
		for (;;)
			pause(); /* SIGKILL is on its way */
	}
}

void qc_fault_stepf(const char *fmt, ...)
{
	char name[160];
	va_list ap;

	if (!qc_fault_active())
		return;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	qc_fault_step(name);
}
