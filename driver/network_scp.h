/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scp command line of `qemuctl cp` (driver/network_scp.c), as a pure
 * function of checked values, so a unit test covers it without a VM.
 */
#ifndef QC_DRIVER_NETWORK_SCP_H
#define QC_DRIVER_NETWORK_SCP_H

#include "driver/network_ssh.h"

/*
 * scp -s -P PORT -o User=USER -o ... [-i KEY ...] [-r] -- SOURCES... DEST:
 * the settings of qc_driver_ssh_argv, over SFTP (no remote shell parses a
 * path).  flags: QC_SCP_TO_GUEST (sources on this host, dest in the guest;
 * else the other way), QC_SCP_RECURSIVE.  Guest paths become HOST:PATH,
 * a source's glob characters escaped so it names one file; a host path
 * holding ':' that is not absolute gets "./" so scp never reads it as a
 * remote one.  t->opts and t->cmd are not used.
 */
int qc_driver_scp_argv(const struct qc_ssh_target *t, unsigned flags,
	const char *const *sources, const char *dest, char ***ret, struct qc_error *err);

#endif
