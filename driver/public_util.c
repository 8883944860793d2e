/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The helpers qemuctl.h offers programs built on the library (sizes,
 * numbers, logging, guest text on a terminal, raw QMP commands): thin
 * wrappers over util/, whose names stay internal.
 */
#include "config.h"

#include <string.h>

#include "driver/qemuctl.h"
#include "util/util.h"

int qc_size_parse(const char *what, const char *text, uint64_t *ret, struct qc_error *err)
{
	return qc_parse_size(what, text, ret, err);
}

const char *qc_error_name(int code)
{
	return qc_error_code_name(code);
}

void qc_size_format(uint64_t bytes, char *buf, size_t size)
{
	qc_format_size(bytes, buf, size);
}

char *qc_shell_quote(const char *s)
{
	return qc_sh_quote(s);
}

int qc_uint_parse(const char *what, const char *text, uint64_t min, uint64_t max, uint64_t *ret,
	struct qc_error *err)
{
	return qc_parse_uint(what, text, min, max, ret, err);
}

void qc_log_handler_set(qc_log_handler_fn fn, void *opaque, enum qc_log_level max_level)
{
	qc_log_set_handler(fn, opaque, (int) max_level);
}

/* One chunk through util's escaper, the state carried in the public struct. */
static char *filter(struct qc_term_filter *st, const void *in, size_t n, bool end, size_t *ret_len)
{
	struct qc_term_escape esc = {.cr = st->cr, .lead = st->lead, .cont = st->cont};
	struct qc_buf b = {0};
	char *out;

	if (end)
		qc_term_escape_end(&esc, &b);
	else
		qc_term_escape(&esc, in, n, &b);
	st->cr = esc.cr;
	st->lead = esc.lead;
	st->cont = esc.cont;
	if (ret_len)
		*ret_len = b.len;
	out = qc_buf_steal(&b);
	return out;
}

char *qc_term_filter(struct qc_term_filter *st, const void *in, size_t n, size_t *ret_len)
{
	return filter(st, in, n, false, ret_len);
}

char *qc_term_filter_end(struct qc_term_filter *st, size_t *ret_len)
{
	return filter(st, NULL, 0, true, ret_len);
}

int qc_qmp_command_check(const char *json, struct qc_error *err)
{
	cleanup_json qc_json *j = NULL;
	const char *ex;
	int r;

	if (!json)
		return qc_error_set(err, QC_ERR_JSON, "JSON: no text");
	if ((r = qc_json_parse(json, strlen(json), &j, err)) < 0)
		return r;
	ex = qc_json_string(qc_json_get(j, "execute"));
	if (qc_json_type(j) != QC_JSON_OBJECT || !ex || !*ex)
		return qc_error_set(err, QC_ERR_INVALID,
			"QMP: a command is a JSON object with \"execute\", like "
			"{\"execute\": \"query-status\"}");
	return 0;
}
