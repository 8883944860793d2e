/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The scp command line of `qemuctl cp`: qc_driver_ssh_argv's connection
 * and host key settings, over SFTP, with the paths made so scp reads each
 * as the side it is on.
 */
#include "config.h"

#include <string.h>

#include "driver/network_scp.h"

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

QC_PUBLIC int qc_vm_scp_command(qc_ctx *ctx, const char *name, const struct qc_vm_ssh_opts *o,
	unsigned flags, const char *const *sources, const char *dest, char ***ret_argv,
	struct qc_error *err)
{
	static const struct qc_vm_ssh_opts none = {0};
	cleanup_resolved struct qc_ssh_resolved res = {0};
	int r;

	if (!o)
		o = &none;
	if (o->ssh_options || o->cmd)
		return qc_error_set(err, QC_ERR_INVALID,
			"scp: ssh options and a remote command are not taken (only the identity "
			"and the wait settings)");
	if ((r = qc_driver_ssh_reach(ctx, name, o, &res, err)) < 0)
		return r;
	if ((r = qc_driver_scp_argv(&res.t, flags, sources, dest, ret_argv, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", name);
	return 0;
}
