/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A command in a running VM's guest through its guest agent (qemuctl.h
 * qc_vm_exec_agent): guest-exec with captured output, then
 * guest-exec-status polled until the process exited.  The agent keeps the
 * output until then and sends it base64-encoded in one reply, up to 16 MiB
 * per stream (qemu-guest-agent's cap, flagged "out-truncated").
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver/qga.h"
#include "driver/vmop.h"

/* How long the agent gets to sync and to answer each request. */
#define QC_QGA_EXEC_OPEN_MS 1000
#define QC_QGA_EXEC_CALL_MS 10000
/* A status reply carries both streams: 2 x 16 MiB as base64, and the JSON around them. */
#define QC_QGA_EXEC_LINE_MAX (48u << 20)
/* guest-exec-status polls start at 1 ms and back off to this. */
#define QC_QGA_EXEC_POLL_MAX_MS 50

static int exec_args(const char *const *argv, char **ret, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *j = qc_jgen_new(false);

	qc_jgen_map_open(j);
	qc_jgen_kstring(j, "path", argv[0]);
	qc_jgen_key(j, "arg");
	qc_jgen_array_open(j);
	for (size_t i = 1; argv[i]; i++)
		qc_jgen_string(j, argv[i]);
	qc_jgen_array_close(j);
	qc_jgen_kbool(j, "capture-output", true);
	qc_jgen_map_close(j);
	return qc_jgen_finish(j, ret, NULL, err);
}

/* One stream of an exited process's status, decoded and handed to out. */
static int relay(const qc_json *st, const char *key, int stream, qc_vm_exec_output_fn out,
	void *opaque, struct qc_error *err)
{
	const qc_json *v = qc_json_get(st, key);
	cleanup_free char *data = NULL;
	size_t len;
	int rc;

	if (!v)
		return 0;
	if (!qc_json_string(v))
		return qc_error_set(err, QC_ERR_PROTO, "guest agent: \"%s\" is not a string", key);
	if ((rc = qc_qga_base64_decode(qc_json_string(v), &data, &len, err)) < 0)
		return qc_error_prefix(err, "guest-exec-status \"%s\"", key);
	if (out && len)
		out(stream, data, len, opaque);
	return 0;
}

/* The status of an exited process: its exit code, or 128 + the signal that ended it. */
static int exit_status(const qc_json *st, int *ret, struct qc_error *err)
{
	int64_t v;

	if (qc_json_as_int(qc_json_get(st, "exitcode"), &v)) {
		if (v < 0 || v > 255)
			return qc_error_set(err, QC_ERR_PROTO,
				"guest agent: exit code %lld is not 0 to 255", (long long) v);
		*ret = (int) v;
		return 0;
	}
	if (qc_json_as_int(qc_json_get(st, "signal"), &v)) {
		if (v < 1 || v > 127)
			return qc_error_set(err, QC_ERR_PROTO,
				"guest agent: signal %lld is not 1 to 127", (long long) v);
		*ret = 128 + (int) v;
		return 0;
	}
	return qc_error_set(
		err, QC_ERR_PROTO, "guest agent: an exited process with no exit code or signal");
}

static int run(struct qc_qga *g, const char *const *argv, qc_vm_exec_output_fn out, void *opaque,
	int *ret_status, struct qc_error *err)
{
	cleanup_free char *args = NULL, *status_args = NULL;
	cleanup_json qc_json *started = NULL;
	int64_t pid;
	int wait_ms = 1, rc;

	if ((rc = exec_args(argv, &args, err)) < 0)
		return rc;
	if ((rc = qc_qga_execute(g, "guest-exec", args, QC_QGA_EXEC_CALL_MS, &started, err)) < 0) {
		/* the agent's refusal (qga.c's "'CMD' failed: desc"): no such program, no right */
		if (rc == -QC_ERR_PROTO && err && strstr(err->msg, "'guest-exec' failed: "))
			rc = -(err->code = QC_ERR_CHILD);
		return qc_error_prefix(err, "'%s'", argv[0]);
	}
	if (!qc_json_as_int(qc_json_path(started, "return/pid"), &pid) || pid <= 0)
		return qc_error_set(err, QC_ERR_PROTO, "guest agent: guest-exec gave no pid");
	status_args = qc_xasprintf("{\"pid\":%lld}", (long long) pid);
	for (;;) {
		cleanup_json qc_json *r = NULL;
		const qc_json *st;
		bool exited = false;

		if ((rc = qc_qga_execute(g, "guest-exec-status", status_args, QC_QGA_EXEC_CALL_MS,
			     &r, err)) < 0)
			return rc;
		st = qc_json_get(r, "return");
		if (!qc_json_as_bool(qc_json_get(st, "exited"), &exited))
			return qc_error_set(err, QC_ERR_PROTO,
				"guest agent: guest-exec-status has no \"exited\"");
		if (exited) {
			if ((rc = relay(st, "out-data", 1, out, opaque, err)) < 0 ||
				(rc = relay(st, "err-data", 2, out, opaque, err)) < 0 ||
				(rc = exit_status(st, ret_status, err)) < 0)
				return rc;
			return 0;
		}
		qc_sleep_ms(wait_ms);
		wait_ms = wait_ms * 2 > QC_QGA_EXEC_POLL_MAX_MS ? QC_QGA_EXEC_POLL_MAX_MS
								: wait_ms * 2;
	}
}

QC_PUBLIC int qc_vm_exec_agent(qc_ctx *ctx, const char *name, const char *const *argv,
	qc_vm_exec_output_fn out, void *opaque, int *ret_status, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_qga struct qc_qga *g = NULL;
	struct qc_error e = {0};
	int rc;

	if (!argv || !argv[0] || !argv[0][0])
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': exec: no command", name);
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK, &op, err)) < 0)
		return rc;
	if (!op.live.monitor_alive)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is not running; start it with 'qemuctl start %s'", name, name);
	if (op.live.st.qemu_status && strcmp(op.live.st.qemu_status, "paused") == 0)
		return qc_error_set(err, QC_ERR_STATE,
			"VM '%s' is paused: its guest agent cannot answer; resume it with "
			"'qemuctl resume %s'",
			name, name);
	/* an agent that does not sync is as good as none: the command never started */
	if (qc_driver_qga_open(&op, NULL, QC_QGA_EXEC_OPEN_MS, &g, &e) < 0)
		return qc_error_set(err, QC_ERR_UNSUPPORTED, "VM '%s': %s", name, e.msg);
	if (!g)
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"VM '%s': no guest agent runs in the guest (install and start "
			"qemu-guest-agent there, or use ssh)",
			name);
	qc_qga_set_line_max(g, QC_QGA_EXEC_LINE_MAX);
	if ((rc = run(g, argv, out, opaque, ret_status, err)) < 0)
		return qc_error_prefix(err, "VM '%s': exec", name);
	return 0;
}
