/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU's run state over QMP, the query qc_state_publish_status() runs
 * under its lock: shared by qemuctl-monitor (on run-state events) and the
 * CLI (after pause, resume and reboot).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "driver/driver.h"
#include "qmp/qmp.h"

#define STATUS_QMP_TIMEOUT_MS 2000

int qc_driver_qmp_status(void *qmp, char **ret_status)
{
	cleanup_json qc_json *r = NULL;
	const char *s;
	int rc;

	rc = qc_qmp_execute(qmp, "query-status", NULL, STATUS_QMP_TIMEOUT_MS, &r, NULL);
	if (rc < 0)
		return rc;
	s = qc_json_string(qc_json_get(r, "status"));
	if (!qc_state_status_valid(s))
		return -EPROTO;
	*ret_status = qc_xstrdup(s);
	return 0;
}
