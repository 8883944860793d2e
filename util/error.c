/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

int qc_error_setv(struct qc_error *err, int code, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = QC_ERR_INTERNAL;
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return -code;
}

int qc_error_set(struct qc_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = qc_error_setv(err, code, fmt, ap);
	va_end(ap);
	return r;
}

int qc_error_errno(struct qc_error *err, int e, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (e <= 0)
		e = EIO;
	if (!err)
		return -e;
	err->code = e;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(e));
	return -e;
}

int qc_error_prefix(struct qc_error *err, const char *fmt, ...)
{
	char prefix[sizeof(err->msg)];
	char old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -QC_ERR_INTERNAL;
	if (err->code <= 0)
		err->code = QC_ERR_INTERNAL;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is fine: the start of the message matters most. */
	size_t n = strnlen(prefix, sizeof(err->msg) - 1);
	memcpy(err->msg, prefix, n);
	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg + n, ": ", 2);
		n += 2;
	}
	size_t m = strnlen(old, sizeof(err->msg) - 1 - n);
	memcpy(err->msg + n, old, m);
	err->msg[n + m] = '\0';
	return -err->code;
}

void qc_error_clear(struct qc_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

static const char *const code_names[] = {
	[QC_ERR_INVALID - QC_ERR_BASE] = "invalid",
	[QC_ERR_NOTFOUND - QC_ERR_BASE] = "not-found",
	[QC_ERR_EXISTS - QC_ERR_BASE] = "exists",
	[QC_ERR_STATE - QC_ERR_BASE] = "state",
	[QC_ERR_BUSY - QC_ERR_BASE] = "busy",
	[QC_ERR_CHILD - QC_ERR_BASE] = "child",
	[QC_ERR_QMP - QC_ERR_BASE] = "qmp",
	[QC_ERR_PROTO - QC_ERR_BASE] = "protocol",
	[QC_ERR_EOF - QC_ERR_BASE] = "eof",
	[QC_ERR_JSON - QC_ERR_BASE] = "json",
	[QC_ERR_XML - QC_ERR_BASE] = "xml",
	[QC_ERR_NET - QC_ERR_BASE] = "net",
	[QC_ERR_HTTP - QC_ERR_BASE] = "http",
	[QC_ERR_CHECKSUM - QC_ERR_BASE] = "checksum",
	[QC_ERR_UNSUPPORTED - QC_ERR_BASE] = "unsupported",
	[QC_ERR_INTERNAL - QC_ERR_BASE] = "internal",
};
QC_TABLE_COVERS(code_names, QC_ERR_MAX - QC_ERR_BASE);

const char *qc_error_code_name(int code)
{
	if (code < 0)
		code = -code;
	if (code > QC_ERR_BASE && code < QC_ERR_MAX)
		return code_names[code - QC_ERR_BASE];
	if (code == ETIMEDOUT)
		return "timeout";
	if (code > 0 && code < QC_ERR_BASE) {
		const char *n = strerrorname_np(code);
		return n ? n : "errno";
	}
	return "unknown";
}
