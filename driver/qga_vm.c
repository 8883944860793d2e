/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest agent of a running VM: found through QEMU (query-chardev says
 * whether the guest opened its end of the port, so a guest without an
 * agent costs one QMP query and no wait), then spoken to over
 * <rundir>/qga.sock (driver/qga.c).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver/qga.h"
#include "driver/vmop.h"

/* How long stop waits for the agent before it goes on with the ACPI button alone. */
#define QC_QGA_SHUTDOWN_MS 1000

/* Is the guest's end of the agent port open (query-chardev "frontend-open")? */
static bool port_open(struct qc_vmop *op, struct qc_qmp *q, int timeout_ms)
{
	cleanup_json qc_json *r = NULL;

	/*
	 * QEMU takes one client at a time on qmp.sock: the caller's, or op's
	 * own, connected within timeout_ms (one held by another command means
	 * no agent now, not a wait).
	 */
	if (!q && (op->q || qc_vmop_qmp_connect(op, timeout_ms, &op->q, NULL) == 0))
		q = op->q;
	if (!q || qc_qmp_execute(q, "query-chardev", NULL, QC_VMOP_QMP_QUICK_MS, &r, NULL) < 0)
		return false;
	for (size_t i = 0; i < qc_json_len(r); i++) {
		const qc_json *c = qc_json_at(r, i);
		const char *label = qc_json_string(qc_json_get(c, "label"));
		bool open = false;

		if (label && strcmp(label, "qga0") == 0)
			return qc_json_as_bool(qc_json_get(c, "frontend-open"), &open) && open;
	}
	return false;
}

int qc_driver_qga_open(struct qc_vmop *op, struct qc_qmp *q, int timeout_ms, struct qc_qga **ret,
	struct qc_error *err)
{
	cleanup_free char *path = NULL;

	*ret = NULL;
	if (!op->live.monitor_alive || !op->live.st.run_dir ||
		!port_open(op, q, timeout_ms))
		return 0;
	path = qc_xasprintf("%s/%s", op->live.st.run_dir, QC_QGA_SOCK);
	return qc_qga_connect(path, timeout_ms, ret, err);
}

struct qc_qga *qc_driver_qga_shutdown(struct qc_vmop *op, struct qc_qmp *q)
{
	cleanup_qga struct qc_qga *g = NULL;

	if (qc_driver_qga_open(op, q, QC_QGA_SHUTDOWN_MS, &g, NULL) < 0 || !g ||
		qc_qga_send(g, "guest-shutdown", "{\"mode\":\"powerdown\"}", NULL) < 0)
		return NULL;
	return TAKE_PTR(g);
}

struct qc_qga *qc_driver_qga_freeze(struct qc_vmop *op)
{
	cleanup_qga struct qc_qga *g = NULL;
	struct qc_error e = {0};

	if (qc_driver_qga_open(op, NULL, QC_QGA_SHUTDOWN_MS, &g, NULL) < 0 || !g)
		return NULL;
	if (qc_qga_execute(g, "guest-fsfreeze-freeze", NULL, QC_QGA_FREEZE_MS, NULL, &e) < 0) {
		qc_warn("VM '%s': %s; the snapshot is taken without freezing the file systems",
			op->name, e.msg);
		/* a freeze that timed out may still happen: undo it */
		(void) qc_qga_execute(g, "guest-fsfreeze-thaw", NULL, QC_QGA_FREEZE_MS, NULL, NULL);
		return NULL;
	}
	return TAKE_PTR(g);
}

void qc_driver_qga_thaw(struct qc_vmop *op, struct qc_qga *g, bool *ret_quiesced)
{
	struct qc_error e = {0};
	int rc;

	if (ret_quiesced)
		*ret_quiesced = false;
	if (!g)
		return;
	rc = qc_qga_execute(g, "guest-fsfreeze-thaw", NULL, QC_QGA_FREEZE_MS, NULL, &e);
	if (rc < 0)
		qc_warn("VM '%s': %s; the guest's file systems may still be frozen: "
			"run 'fsfreeze -u MOUNTPOINT' in the guest",
			op->name, e.msg);
	else if (ret_quiesced)
		*ret_quiesced = true;
	qc_qga_close(g);
}

QC_PUBLIC void qc_vm_guest_free(struct qc_vm_guest *g)
{
	if (!g)
		return;
	qc_strv_free(g->addresses);
	qc_free_all(g->os, g->kernel);
	free(g);
}

QC_PUBLIC int qc_vm_guest_info(
	qc_ctx *ctx, const char *name, int timeout_ms, struct qc_vm_guest **ret, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_qga struct qc_qga *g = NULL;
	cleanup_json qc_json *ifaces = NULL, *os = NULL;
	struct qc_qga_guest gi = {0};
	struct qc_vm_guest *out;
	int step_ms = timeout_ms > 0 ? timeout_ms : QC_QGA_INFO_MS;
	int rc;

	*ret = NULL;
	if ((rc = qc_vmop_begin(ctx, name, QC_VMOP_NO_LOCK, &op, err)) < 0)
		return rc;
	/* no agent, or none in time: nothing to show, not an error */
	if (qc_driver_qga_open(&op, NULL, step_ms, &g, NULL) < 0 || !g)
		return 0;
	/* an agent that synced gets the same time for each question */
	if (qc_qga_execute(g, "guest-network-get-interfaces", NULL, step_ms, &ifaces, NULL) < 0)
		ifaces = NULL;
	if (qc_qga_execute(g, "guest-get-osinfo", NULL, step_ms, &os, NULL) < 0)
		os = NULL;
	qc_qga_guest_parse(ifaces, os, &gi);
	out = qc_xzalloc(sizeof(*out));
	out->os = TAKE_PTR(gi.os);
	out->kernel = TAKE_PTR(gi.kernel);
	out->addresses = TAKE_PTR(gi.addrs);
	qc_qga_guest_clear(&gi);
	*ret = out;
	return 0;
}
