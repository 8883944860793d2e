/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scp command line of `qemuctl cp`: qc_driver_ssh_argv's connection
 * and host key settings, over SFTP, with the paths made so scp reads each
 * as the side it is on.
 */
#include "config.h"

#include <string.h>

#include "driver/network_ssh.h"

/* A path on this host as scp takes it: never "host:path" or "scp://" */
static void push_host_path(struct qc_strv *a, const char *p)
{
	/* scp reads a ':' before the first '/' as a remote path's */
	if (p[0] != '/' && strchr(p, ':'))
		qc_strv_pushf(a, "./%s", p);
	else
		qc_strv_push(a, p);
}

/* HOST:PATH, IPv6 in brackets; a source's glob characters escaped (sftp globs them) */
static void push_guest_path(struct qc_strv *a, const char *host, const char *p, bool source)
{
	cleanup_buf struct qc_buf b = {0};
	cleanup_free char *s = NULL;

	qc_buf_printf(&b, strchr(host, ':') ? "[%s]:" : "%s:", host);
	for (; *p; p++) {
		if (source && strchr("*?[]\\", *p))
			qc_buf_putc(&b, '\\');
		qc_buf_putc(&b, *p);
	}
	s = qc_buf_steal(&b);
	qc_strv_push(a, s);
}

int qc_driver_scp_argv(const struct qc_ssh_target *t, unsigned flags, const char *const *sources,
	const char *dest, char ***ret, struct qc_error *err)
{
	cleanup_strvec struct qc_strv a = {0};
	bool up = flags & QC_SCP_TO_GUEST;
	int r;

	if ((r = qc_driver_ssh_check_target(t, err)) < 0)
		return r;
	if (flags & ~(unsigned) (QC_SCP_RECURSIVE | QC_SCP_TO_GUEST))
		return qc_error_set(err, QC_ERR_INVALID, "scp: unknown flags %#x", flags);
	if (!sources || !sources[0] || !dest)
		return qc_error_set(
			err, QC_ERR_INVALID, "scp: a source and a destination are needed");
	for (size_t i = 0; sources[i]; i++)
		if (!*sources[i])
			return qc_error_set(
				err, QC_ERR_INVALID, "scp: source %zu is an empty path", i + 1);
	if (!*dest)
		return qc_error_set(err, QC_ERR_INVALID, "scp: the destination is an empty path");

	/* -s: SFTP, so no remote shell ever parses a path */
	qc_strv_push(&a, "scp");
	qc_strv_push(&a, "-s");
	qc_strv_push(&a, "-P");
	qc_strv_pushf(&a, "%u", t->port);
	qc_strv_push(&a, "-o");
	qc_strv_pushf(&a, "User=%s", t->user);
	qc_driver_ssh_push_settings(t, &a);
	if (flags & QC_SCP_RECURSIVE)
		qc_strv_push(&a, "-r");
	qc_strv_push(&a, "--");
	for (size_t i = 0; sources[i]; i++) {
		if (up)
			push_host_path(&a, sources[i]);
		else
			push_guest_path(&a, t->host, sources[i], true);
	}
	if (up)
		push_guest_path(&a, t->host, dest, false);
	else
		push_host_path(&a, dest);
	*ret = qc_strv_steal(&a);
	return 0;
}
