/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The error type of libqemuctl, shared by every layer: util/util.h and the
 * public header qemuctl.h both include it, so it is written once and below
 * every folder (util/ never includes driver/).  Installed as
 * <qemuctl/error.h> next to <qemuctl.h>; programs include <qemuctl.h>.
 */
#ifndef QEMUCTL_ERROR_H
#define QEMUCTL_ERROR_H

/*
 * Error codes: an errno value, or one of these (kept above any errno).  A
 * function that fails returns -code and fills the caller's optional error.
 */
enum {
	QC_ERR_BASE = 4096,
	QC_ERR_INVALID,     /* bad input from the user: name, size, spec, file */
	QC_ERR_NOTFOUND,    /* no such VM, image, network, disk, snapshot */
	QC_ERR_EXISTS,      /* already exists */
	QC_ERR_STATE,       /* wrong state for the operation (running, stopped) */
	QC_ERR_BUSY,        /* a lock is held by someone else */
	QC_ERR_CHILD,       /* a child process failed (exit status, signal) */
	QC_ERR_QMP,         /* QEMU answered a command with an error */
	QC_ERR_PROTO,       /* protocol violation: malformed or oversized message */
	QC_ERR_EOF,         /* the peer closed the connection (QEMU exited) */
	QC_ERR_JSON,        /* malformed JSON or wrong type */
	QC_ERR_XML,         /* malformed or invalid XML */
	QC_ERR_NET,         /* netlink failure */
	QC_ERR_HTTP,        /* download failed */
	QC_ERR_CHECKSUM,    /* a checksum did not match */
	QC_ERR_UNSUPPORTED, /* not supported on this host or arch */
	QC_ERR_INTERNAL,    /* a bug */
	QC_ERR_MAX,
};

/* What failed, on which object, and why. */
struct qc_error {
	int code; /* errno value, or QC_ERR_* (> 4096); 0 = no error */
	char msg[1024];
};

#endif
