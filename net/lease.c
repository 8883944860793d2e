/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Taking and giving back a named network's addresses (its leases are
 * read and written by network.c).  Callers hold networks/lock.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "net/net.h"

int qc_net_lease_take(struct qc_net_def *n, const char *key, const char *owner, const char *ip,
	char **ret_cidr, struct qc_error *err)
{
	uint32_t want = 0, got;
	char buf[16];
	int r;

	if (ip && *ip) {
		struct qc_net_cidr c = {0};

		if (strchr(ip, '/')) {
			if ((r = qc_net_parse_cidr("ip", ip, false, &c, err)) < 0)
				return r;
			if (c.prefix != n->ipam.subnet.prefix)
				return qc_error_set(err, QC_ERR_INVALID,
					"ip=%s: prefix /%u does not match network '%s' (/%u)", ip,
					c.prefix, n->name, n->ipam.subnet.prefix);
			want = c.addr;
		} else if ((r = qc_net_parse_ipv4("ip", ip, &want, err)) < 0) {
			return r;
		}
	}
	if ((r = qc_net_ipam_alloc(&n->ipam, key, owner, want, &got, err)) < 0)
		return qc_error_prefix(err, "network '%s'", n->name);
	qc_net_format_ipv4(got, buf, sizeof(buf));
	*ret_cidr = qc_xasprintf("%s/%u", buf, n->ipam.subnet.prefix);
	return 0;
}

int qc_net_leases_release(const char *root, const char *prefix, struct qc_error *err)
{
	cleanup_close int dfd = -1;
	cleanup_close int lock = -1;
	cleanup_strv char **names = NULL;
	int r;

	if ((r = qc_net_dir_open(root, false, LOCK_EX, &dfd, &lock, err)) < 0)
		return r;
	if (dfd < 0)
		return 0;
	if ((r = qc_net_dir_names(dfd, &names, err)) < 0)
		return r;
	for (char **p = names; *p; p++) {
		struct qc_net_def n = {0};
		struct qc_error scratch = {0};

		if (qc_net_def_load(dfd, *p, true, &n, &scratch) < 0)
			continue;
		if (qc_net_ipam_release_prefix(&n.ipam, prefix) > 0 &&
			(r = qc_net_leases_save(dfd, &n, err)) < 0) {
			qc_net_def_clear(&n);
			return r;
		}
		qc_net_def_clear(&n);
	}
	return 0;
}
