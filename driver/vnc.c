/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's VNC display (qemuctl.h qc_vm_vnc): --display into the domain,
 * and how to reach a running VM's server: the unix socket the monitor
 * listens on, or the loopback port QEMU chose (query-vnc) and the file
 * holding its password (driver/monitor/vnc.c).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver/domain.h"
#include "driver/monitor/contract.h"
#include "driver/vmop.h"

int qc_domain_set_display(struct qc_domain *d, const char *display, struct qc_error *err)
{
	const char *v;
	int rc;

	if (!display || strcmp(display, "none") == 0)
		return 0;
	if (strcmp(display, "vnc") == 0)
		v = QC_VNC_SOCKET;
	else if (strncmp(display, "vnc=", 4) == 0 && strcmp(display + 4, QC_VNC_SOCKET) != 0)
		v = display + 4;
	else
		return qc_error_set(err, QC_ERR_INVALID,
			"--display '%.64s': use none, vnc (a unix socket) or vnc=127.0.0.1",
			display);
	if ((rc = qc_domain_check_vnc(v, err)) < 0)
		return qc_error_prefix(err, "--display '%.64s'", display);
	snprintf(d->vnc, sizeof(d->vnc), "%s", v);
	if (!d->video[0])
		snprintf(d->video, sizeof(d->video), "%s",
			d->arch == QC_ARCH_AARCH64 ? "virtio" : "vga");
	return 0;
}

/* The port of QEMU's VNC server (query-vnc), checked: one of the -vnc ADDR:0,to=99 range. */
static int tcp_port(struct qc_vmop *op, struct qc_vm_vnc *v, struct qc_error *err)
{
	cleanup_json qc_json *r = NULL;
	const char *service, *host;
	bool on = false;
	uint64_t port;
	int rc;

	if ((rc = qc_vmop_qmp(op, err)) < 0 ||
		(rc = qc_qmp_execute(op->q, "query-vnc", NULL, QC_VMOP_QMP_QUICK_MS, &r, err)) < 0)
		return rc;
	service = qc_json_string(qc_json_get(r, "service"));
	host = qc_json_string(qc_json_get(r, "host"));
	if (!qc_json_as_bool(qc_json_get(r, "enabled"), &on) || !on || !service || !host ||
		qc_parse_uint(NULL, service, 5900, 5999, &port, NULL) < 0 ||
		qc_domain_check_vnc(host, NULL) < 0)
		return qc_error_set(err, QC_ERR_PROTO,
			"VM '%s': QEMU reports no VNC server on a loopback port 5900-5999",
			op->name);
	snprintf(v->host, sizeof(v->host), "%s", host);
	v->port = (unsigned) port;
	return 0;
}

QC_PUBLIC int qc_vm_vnc(qc_ctx *ctx, const char *name, struct qc_vm_vnc *ret, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	struct qc_vm_vnc v = {0};
	const char *run;
	struct stat st;
	int rc;

	if ((rc = qc_vmop_begin(
		     ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_DOMAIN | QC_VMOP_RUNNING, &op, err)) < 0)
		return rc;
	run = op.live.st.run_dir;
	if (!run)
		return qc_error_set(err, QC_ERR_STATE, "VM '%s' has no run directory", name);
	/* what this run has: the socket the monitor made, else QEMU's own TCP server */
	snprintf(v.socket, sizeof(v.socket), "%s/%s", run, QC_MONITOR_VNC_SOCK);
	if (lstat(v.socket, &st) == 0 && S_ISSOCK(st.st_mode)) {
		*ret = v;
		return 0;
	}
	v.socket[0] = 0;
	snprintf(v.password_file, sizeof(v.password_file), "%s/%s", run,
		QC_MONITOR_VNC_PASSWORD_FILE);
	if (lstat(v.password_file, &st) < 0 || !S_ISREG(st.st_mode))
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"VM '%s' has no VNC display in this run%s", name,
			op.d->vnc[0] ? " (its definition has one: restart it)"
				     : ": create it with --display vnc, or add <graphics "
				       "type='vnc'><listen type='socket'/></graphics> to its "
				       "<devices>, and restart it");
	if ((rc = tcp_port(&op, &v, err)) < 0)
		return rc;
	*ret = v;
	return 0;
}
