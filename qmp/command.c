/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QMP commands: building {"execute", "arguments", "id"}, turning replies
 * into a return value or a QC_ERR_QMP error, fd passing helpers (getfd,
 * closefd, add-fd, remove-fd) and the raw passthrough of `qemuctl qmp`.
 *
 * Model: libvirt src/qemu/qemu_monitor_json.c (qemuMonitorJSONCheckError:
 * the error names the command and carries QEMU's desc).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "qmp/qmp.h"

static void put_id(struct qc_jgen *g, uint64_t id)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "qc-%" PRIu64, id);
	qc_jgen_kstring(g, "id", buf);
}

/* {"execute": cmd, "arguments": args, "id": "qc-<id>"} */
static int build_command(const char *cmd, const qc_json *args, uint64_t id, char **ret,
	size_t *ret_len, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "execute", cmd);
	if (args) {
		qc_jgen_key(g, "arguments");
		qc_jgen_value(g, args);
	}
	put_id(g, id);
	qc_jgen_map_close(g);
	if (qc_jgen_finish(g, ret, ret_len, err) < 0)
		return qc_error_prefix(err, "QMP '%s'", cmd);
	return 0;
}

/* Turn a reply into the caller's result: "return" (taken out of the reply) or the error. */
static int reply_result(const char *cmd, qc_json *reply, qc_json **ret, struct qc_error *err)
{
	const qc_json *e = qc_json_get(reply, "error");

	if (e) {
		const char *cls = qc_json_string(qc_json_get(e, "class"));
		const char *desc = qc_json_string(qc_json_get(e, "desc"));

		return qc_error_set(err, QC_ERR_QMP, "QMP '%s': %s: %s", cmd,
			cls ? cls : "GenericError", desc ? desc : "(no description)");
	}
	if (!ret)
		return 0;
	/* The return value outlives the reply: the caller gets that subtree itself. */
	if (!(*ret = qc_json_take(reply, "return")))
		return qc_error_set(
			err, QC_ERR_PROTO, "QMP '%s': reply without a return value", cmd);
	return 0;
}

static int execute_fd(struct qc_qmp *q, const char *cmd, const qc_json *args, int fd,
	int timeout_ms, qc_json **ret, struct qc_error *err)
{
	cleanup_json qc_json *reply = NULL;
	cleanup_free char *line = NULL;
	size_t len = 0;
	uint64_t id;
	int r;

	if (!cmd || !*cmd)
		return qc_error_set(err, QC_ERR_INVALID, "QMP: empty command name");
	if (args && qc_json_type(args) != QC_JSON_OBJECT)
		return qc_error_set(
			err, QC_ERR_INVALID, "QMP '%s': arguments must be a JSON object", cmd);
	id = qc_qmp_new_id(q);
	if ((r = build_command(cmd, args, id, &line, &len, err)) < 0)
		return r;
	if ((r = qc_qmp_transact(q, cmd, id, line, len, fd, timeout_ms, &reply, err)) < 0)
		return r;
	return reply_result(cmd, reply, ret, err);
}

int qc_qmp_execute(struct qc_qmp *q, const char *cmd, const qc_json *args, int timeout_ms,
	qc_json **ret, struct qc_error *err)
{
	return execute_fd(q, cmd, args, -1, timeout_ms, ret, err);
}

int qc_qmp_execute_all(struct qc_qmp *q, const char *const *cmds, size_t n, int timeout_ms,
	qc_json **rets, struct qc_error *err)
{
	qc_json *replies[QC_QMP_MAX_BATCH] = {0};
	cleanup_buf struct qc_buf text = {0};
	uint64_t first = 0;
	int r = 0;

	if (n == 0 || n > QC_QMP_MAX_BATCH)
		return qc_error_set(err, QC_ERR_INVALID, "QMP: %zu commands at once", n);
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *line = NULL;
		uint64_t id;
		size_t len;

		if (!cmds[i] || !*cmds[i])
			return qc_error_set(err, QC_ERR_INVALID, "QMP: empty command name");
		id = qc_qmp_new_id(q);
		if (i == 0)
			first = id;
		if ((r = build_command(cmds[i], NULL, id, &line, &len, err)) < 0)
			return r;
		if (i)
			qc_buf_putc(&text, '\n');
		qc_buf_append(&text, line, len);
	}
	if ((r = qc_qmp_transact_n(
		     q, cmds[0], first, n, text.data, text.len, -1, timeout_ms, replies, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		rets[i] = NULL;
		if (r == 0)
			r = reply_result(cmds[i], replies[i], &rets[i], err);
		qc_json_free(replies[i]);
	}
	if (r < 0)
		for (size_t i = 0; i < n; i++) {
			qc_json_free(rets[i]);
			rets[i] = NULL;
		}
	return r;
}

static int parse_args(const char *cmd, const char *args_json, qc_json **ret, struct qc_error *err)
{
	struct qc_error perr = {0};

	*ret = NULL;
	if (!args_json)
		return 0;
	if (qc_json_parse(args_json, strlen(args_json), ret, &perr) < 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"QMP '%s': arguments are not valid JSON: %s", cmd ? cmd : "", perr.msg);
	return 0;
}

int qc_qmp_execute_text(struct qc_qmp *q, const char *cmd, const char *args_json, int timeout_ms,
	qc_json **ret, struct qc_error *err)
{
	cleanup_json qc_json *args = NULL;
	int r;

	if ((r = parse_args(cmd, args_json, &args, err)) < 0)
		return r;
	return execute_fd(q, cmd, args, -1, timeout_ms, ret, err);
}

int qc_qmp_execute_with_fd(struct qc_qmp *q, const char *cmd, const char *args_json, int fd,
	int timeout_ms, qc_json **ret, struct qc_error *err)
{
	cleanup_json qc_json *args = NULL;
	int r;

	if (fd < 0)
		return qc_error_set(
			err, EBADF, "QMP '%s': no fd to pass (fd %d)", cmd ? cmd : "", fd);
	if ((r = parse_args(cmd, args_json, &args, err)) < 0)
		return r;
	return execute_fd(q, cmd, args, fd, timeout_ms, ret, err);
}

/* Arguments built with the generator (escaping names properly). */
static int gen_args(struct qc_jgen *g, const char *cmd, qc_json **ret, struct qc_error *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct qc_error perr = {0};

	if (qc_jgen_finish(g, &text, &len, err) < 0)
		return qc_error_prefix(err, "QMP '%s'", cmd);
	if (qc_json_parse(text, len, ret, &perr) < 0)
		return qc_error_set(err, QC_ERR_INTERNAL, "QMP '%s': %s", cmd, perr.msg);
	return 0;
}

/* The arguments {"fdname": fdname} of cmd (getfd, closefd). */
static int fdname_args(const char *cmd, const char *fdname, qc_json **ret, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	if (!fdname || !*fdname)
		return qc_error_set(err, QC_ERR_INVALID, "QMP '%s': empty fd name", cmd);
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "fdname", fdname);
	qc_jgen_map_close(g);
	return gen_args(g, cmd, ret, err);
}

int qc_qmp_getfd(struct qc_qmp *q, int fd, const char *fdname, int timeout_ms, struct qc_error *err)
{
	cleanup_json qc_json *args = NULL;
	int r;

	if (fd < 0)
		return qc_error_set(err, EBADF, "QMP 'getfd': no fd to pass (fd %d)", fd);
	if ((r = fdname_args("getfd", fdname, &args, err)) < 0)
		return r;
	return execute_fd(q, "getfd", args, fd, timeout_ms, NULL, err);
}

int qc_qmp_closefd(struct qc_qmp *q, const char *fdname, int timeout_ms, struct qc_error *err)
{
	cleanup_json qc_json *args = NULL;
	int r;

	if ((r = fdname_args("closefd", fdname, &args, err)) < 0)
		return r;
	return execute_fd(q, "closefd", args, -1, timeout_ms, NULL, err);
}

int qc_qmp_add_fd(struct qc_qmp *q, int fd, int64_t fdset_id, const char *opaque, int timeout_ms,
	int64_t *ret_fdset_id, int64_t *ret_fd, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *args = NULL, *rv = NULL;
	int64_t set, num;
	int r;

	if (fd < 0)
		return qc_error_set(err, EBADF, "QMP 'add-fd': no fd to pass (fd %d)", fd);
	qc_jgen_map_open(g);
	if (fdset_id >= 0)
		qc_jgen_kint(g, "fdset-id", fdset_id);
	if (opaque)
		qc_jgen_kstring(g, "opaque", opaque);
	qc_jgen_map_close(g);
	if ((r = gen_args(g, "add-fd", &args, err)) < 0)
		return r;
	if ((r = execute_fd(q, "add-fd", args, fd, timeout_ms, &rv, err)) < 0)
		return r;
	if ((r = qc_json_get_int(rv, "fdset-id", &set, err)) < 0 ||
		(r = qc_json_get_int(rv, "fd", &num, err)) < 0)
		return qc_error_prefix(err, "QMP 'add-fd': unexpected reply");
	if (ret_fdset_id)
		*ret_fdset_id = set;
	if (ret_fd)
		*ret_fd = num;
	return 0;
}

int qc_qmp_remove_fd(
	struct qc_qmp *q, int64_t fdset_id, int64_t fd, int timeout_ms, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_json qc_json *args = NULL;
	int r;

	qc_jgen_map_open(g);
	qc_jgen_kint(g, "fdset-id", fdset_id);
	if (fd >= 0)
		qc_jgen_kint(g, "fd", fd);
	qc_jgen_map_close(g);
	if ((r = gen_args(g, "remove-fd", &args, err)) < 0)
		return r;
	return execute_fd(q, "remove-fd", args, -1, timeout_ms, NULL, err);
}

/* --------------------------------------------------------------------- raw */

/* A generator in an open map that holds the members of obj but its "id". */
static struct qc_jgen *gen_without_id(const qc_json *obj)
{
	struct qc_jgen *g = qc_jgen_new(false);

	qc_jgen_map_open(g);
	for (size_t i = 0; i < qc_json_len(obj); i++) {
		if (strcmp(qc_json_key_at(obj, i), "id") == 0)
			continue;
		qc_jgen_key(g, qc_json_key_at(obj, i));
		qc_jgen_value(g, qc_json_at(obj, i));
	}
	return g;
}

int qc_qmp_raw(
	struct qc_qmp *q, const char *json, int timeout_ms, char **ret_reply, struct qc_error *err)
{
	cleanup_json qc_json *cmdv = NULL, *reply = NULL;
	cleanup_jgen struct qc_jgen *g = NULL;
	cleanup_free char *line = NULL;
	struct qc_error perr = {0};
	const qc_json *user_id;
	const char *cmd;
	size_t len = 0;
	uint64_t id;
	int r;

	if (!json || qc_json_parse(json, strlen(json), &cmdv, &perr) < 0)
		return qc_error_set(err, QC_ERR_INVALID, "QMP: command is not valid JSON: %s",
			json ? perr.msg : "(none)");
	if (qc_json_type(cmdv) != QC_JSON_OBJECT)
		return qc_error_set(err, QC_ERR_INVALID,
			"QMP: a command must be a JSON object like "
			"{\"execute\": \"query-status\"}");
	if (qc_json_get(cmdv, "exec-oob"))
		return qc_error_set(err, QC_ERR_INVALID,
			"QMP: \"exec-oob\" is not supported (out-of-band is not negotiated); use "
			"\"execute\"");
	cmd = qc_json_string(qc_json_get(cmdv, "execute"));
	if (!cmd || !*cmd)
		return qc_error_set(err, QC_ERR_INVALID,
			"QMP: a command needs \"execute\" with a command name, like "
			"{\"execute\": \"query-status\"}");

	/* The user's members, our id. */
	id = qc_qmp_new_id(q);
	g = gen_without_id(cmdv);
	put_id(g, id);
	qc_jgen_map_close(g);
	if ((r = qc_jgen_finish(g, &line, &len, err)) < 0)
		return qc_error_prefix(err, "QMP '%s'", cmd);
	qc_jgen_free(TAKE_PTR(g));

	if ((r = qc_qmp_transact(q, cmd, id, line, len, -1, timeout_ms, &reply, err)) < 0)
		return r;

	/* QEMU's reply, with the user's id instead of ours. */
	user_id = qc_json_get(cmdv, "id");
	g = gen_without_id(reply);
	if (user_id) {
		qc_jgen_key(g, "id");
		qc_jgen_value(g, user_id);
	}
	qc_jgen_map_close(g);
	if ((r = qc_jgen_finish(g, ret_reply, &len, err)) < 0)
		return qc_error_prefix(err, "QMP '%s'", cmd);
	return 0;
}
