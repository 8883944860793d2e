/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "util/util.h"

static qc_log_fn log_fn;
static void *log_opaque;
static int log_max = -1;

void qc_log_set_handler(qc_log_fn fn, void *opaque, int max_level)
{
	log_fn = fn;
	log_opaque = opaque;
	log_max = max_level;
}

void qc_log(int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	int saved = errno;

	if (!log_fn || level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(level, msg, log_opaque);
	errno = saved;
}
