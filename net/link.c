/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bridges, links and addresses through libnl-route-3 (dlopen()ed by
 * qc_net_nl_open(), nl_dl.c): no `ip`/`brctl` shell-outs.  Every request
 * is a single rtnetlink round trip on one socket (no link cache is ever
 * filled: dumping every link of a busy host for one lookup is what makes
 * shell-outs and cache users slow).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/cache.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>

#include "net/net.h"

/*
 * The one place a libnl error becomes a qc_error (STYLE §7).  nlerr is a
 * -NLE_* (or NLE_*) value; the message is "<object>: <libnl text>" plus a
 * hint for the errors a user can fix.
 */
int qc_net_nl_error(struct qc_error *err, int nlerr, const char *fmt, ...)
{
	char obj[512];
	va_list ap;
	int code;
	const char *hint = "";

	if (nlerr < 0)
		nlerr = -nlerr;
	va_start(ap, fmt);
	vsnprintf(obj, sizeof(obj), fmt, ap);
	va_end(ap);
	switch (nlerr) {
	case NLE_EXIST:
		code = QC_ERR_EXISTS;
		break;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		code = QC_ERR_NOTFOUND;
		break;
	case NLE_PERM:
	case NLE_NOACCESS:
		code = EPERM;
		hint = " (needs CAP_NET_ADMIN: run as root, or use --net user)";
		break;
	case NLE_BUSY:
		code = EBUSY;
		break;
	case NLE_INVAL:
	case NLE_RANGE:
		code = QC_ERR_INVALID;
		break;
	default:
		code = QC_ERR_NET;
		break;
	}
	return qc_error_set(err, code, "%s: %s%s", obj, nl_geterror(nlerr), hint);
}

int qc_net_nl_open(struct qc_net_nl **ret, struct qc_error *err)
{
	struct qc_net_nl *nl;
	int r;

	/* libnl is dlopen()ed here (nl_dl.c): a missing one names its package. */
	if ((r = qc_net_nl_load(err)) < 0)
		return r;
	nl = qc_xzalloc(sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		abort(); /* libnl allocation failure: like qc_x* */
	if ((r = nl_connect(nl->sk, NETLINK_ROUTE)) < 0) {
		nl_socket_free(nl->sk);
		free(nl);
		return qc_net_nl_error(err, r, "netlink route socket");
	}
	/* libnl >= 3.2.27 already uses SOCK_CLOEXEC; older ones do not. */
	(void) fcntl(nl_socket_get_fd(nl->sk), F_SETFD, FD_CLOEXEC);
	*ret = nl;
	return 0;
}

void qc_net_nl_close(struct qc_net_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk); /* closes the socket */
	free(nl);
}

QC_DEFINE_CLEANUP_FUNC(qc_net_nl_closep, struct qc_net_nl, qc_net_nl_close)

void qc_net_rtnl_link_putp(struct rtnl_link **l)
{
	if (*l)
		rtnl_link_put(*l);
}

/* Fetch a link by name (ifindex 0) or index; 1 found, 0 missing, < 0 error. */
int qc_net_link_fetch(struct qc_net_nl *nl, int ifindex, const char *name, struct rtnl_link **ret,
	struct qc_error *err)
{
	struct rtnl_link *l = NULL;
	int r;

	r = rtnl_link_get_kernel(nl->sk, ifindex, ifindex ? NULL : name, &l);
	if (r == -NLE_OBJ_NOTFOUND || r == -NLE_NODEV)
		return 0;
	if (r < 0) {
		if (ifindex)
			return qc_net_nl_error(err, r, "link #%d", ifindex);
		return qc_net_nl_error(err, r, "link '%s'", name);
	}
	*ret = l;
	return 1;
}

static void fill_info(struct rtnl_link *l, struct qc_net_link_info *info)
{
	const char *kind = rtnl_link_get_type(l);

	memset(info, 0, sizeof(*info));
	info->ifindex = rtnl_link_get_ifindex(l);
	snprintf(info->kind, sizeof(info->kind), "%s", kind ? kind : "");
	info->mtu = rtnl_link_get_mtu(l);
	info->up = rtnl_link_get_flags(l) & IFF_UP;
	info->master = rtnl_link_get_master(l);
}

int qc_net_link_get(
	struct qc_net_nl *nl, const char *name, struct qc_net_link_info *ret, struct qc_error *err)
{
	cleanup_rtnl_link struct rtnl_link *l = NULL;
	int r;

	if ((r = qc_net_validate_ifname("link", name, err)) < 0)
		return r;
	if ((r = qc_net_link_fetch(nl, 0, name, &l, err)) <= 0)
		return r;
	fill_info(l, ret);
	return 1;
}

int qc_net_link_name(
	struct qc_net_nl *nl, int ifindex, char *buf, size_t size, struct qc_error *err)
{
	cleanup_rtnl_link struct rtnl_link *l = NULL;
	int r;

	if ((r = qc_net_link_fetch(nl, ifindex, NULL, &l, err)) < 0)
		return r;
	if (r == 0)
		return qc_error_set(err, QC_ERR_NOTFOUND, "link #%d: no such interface", ifindex);
	snprintf(buf, size, "%s", rtnl_link_get_name(l));
	return 0;
}

int qc_net_link_delete(struct qc_net_nl *nl, const char *name, struct qc_error *err)
{
	cleanup_rtnl_link struct rtnl_link *l = rtnl_link_alloc();
	int r;

	if ((r = qc_net_validate_ifname("link", name, err)) < 0)
		return r;
	rtnl_link_set_name(l, name);
	if ((r = rtnl_link_delete(nl->sk, l)) < 0)
		return qc_net_nl_error(err, r, "link '%s': delete", name);
	return 0;
}

int qc_net_bridge_get(
	struct qc_net_nl *nl, const char *name, struct qc_net_link_info *ret, struct qc_error *err)
{
	struct qc_net_link_info info;
	int r;

	if ((r = qc_net_validate_ifname("bridge", name, err)) < 0)
		return r;
	if ((r = qc_net_link_get(nl, name, &info, err)) < 0)
		return qc_error_prefix(err, "bridge '%s'", name);
	if (r == 0)
		return qc_error_set(err, QC_ERR_NOTFOUND, "bridge '%s': no such interface", name);
	if (strcmp(info.kind, "bridge"))
		return qc_error_set(err, QC_ERR_INVALID,
			"bridge '%s': a link of that name exists and is not a bridge (kind '%s')",
			name, info.kind[0] ? info.kind : "none");
	if (ret)
		*ret = info;
	return 0;
}

/* Add (or delete) the IPv4 address addr on link ifindex: 0 or a libnl error. */
static int change_addr(struct qc_net_nl *nl, int ifindex, const struct qc_net_cidr *addr, bool add)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	uint32_t be = htonl(addr->addr);
	struct nl_addr *local = nl_addr_build(AF_INET, &be, sizeof(be));
	int r;

	if (!a || !local)
		abort();
	nl_addr_set_prefixlen(local, (int) addr->prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_family(a, AF_INET);
	r = rtnl_addr_set_local(a, local);
	nl_addr_put(local);
	if (r >= 0)
		r = add ? rtnl_addr_add(nl->sk, a, 0) : rtnl_addr_delete(nl->sk, a, 0);
	rtnl_addr_put(a);
	return r;
}

int qc_net_link_ensure_addr_up(struct qc_net_nl *nl, const char *name,
	const struct qc_net_cidr *addr, struct qc_error *err)
{
	cleanup_rtnl_link struct rtnl_link *l = NULL;
	cleanup_rtnl_link struct rtnl_link *change = rtnl_link_alloc();
	int r, added = 0;

	if ((r = qc_net_link_fetch(nl, 0, name, &l, err)) < 0)
		return r;
	if (r == 0)
		return qc_error_set(err, QC_ERR_NOTFOUND, "link '%s': no such interface", name);
	if (addr) {
		char buf[24];

		r = change_addr(nl, rtnl_link_get_ifindex(l), addr, true);
		/* The kernel answers EEXIST for an address that is already there. */
		if (r < 0 && r != -NLE_EXIST) {
			qc_net_format_cidr(addr, buf, sizeof(buf));
			return qc_net_nl_error(err, r, "link '%s': add address %s", name, buf);
		}
		added = r >= 0;
	}
	if (!(rtnl_link_get_flags(l) & IFF_UP)) {
		rtnl_link_set_flags(change, IFF_UP);
		if ((r = rtnl_link_change(nl->sk, l, change, 0)) < 0)
			return qc_net_nl_error(err, r, "link '%s': set up", name);
	}
	return added;
}

int qc_net_link_del_addr(struct qc_net_nl *nl, const char *name, const struct qc_net_cidr *addr,
	struct qc_error *err)
{
	struct qc_net_link_info info;
	char buf[24];
	int r;

	if ((r = qc_net_link_get(nl, name, &info, err)) <= 0)
		return r;
	r = change_addr(nl, info.ifindex, addr, false);
	/* Already gone: EADDRNOTAVAIL from the kernel. */
	if (r < 0 && r != -NLE_NOADDR) {
		qc_net_format_cidr(addr, buf, sizeof(buf));
		return qc_net_nl_error(err, r, "link '%s': delete address %s", name, buf);
	}
	return 0;
}

int qc_net_bridge_create(struct qc_net_nl *nl, const char *name, unsigned mtu,
	const struct qc_net_cidr *addr, struct qc_error *err)
{
	cleanup_rtnl_link struct rtnl_link *br = NULL;
	struct qc_net_link_info info;
	struct qc_error scratch = {0};
	int r;

	if ((r = qc_net_validate_ifname("bridge", name, err)) < 0)
		return r;
	if (mtu && (mtu < 68 || mtu > 65535))
		return qc_error_set(err, QC_ERR_INVALID,
			"bridge '%s': MTU %u out of range 68-65535", name, mtu);
	if ((r = qc_net_link_get(nl, name, &info, err)) < 0)
		return qc_error_prefix(err, "bridge '%s'", name);
	if (r > 0) {
		if (strcmp(info.kind, "bridge"))
			return qc_error_set(err, QC_ERR_EXISTS,
				"bridge '%s': a link of that name exists and is not a bridge (kind "
				"'%s')",
				name, info.kind[0] ? info.kind : "none");
		return qc_error_set(err, QC_ERR_EXISTS, "bridge '%s' already exists", name);
	}

	br = rtnl_link_bridge_alloc();
	if (!br)
		abort();
	rtnl_link_set_name(br, name);
	if (mtu)
		rtnl_link_set_mtu(br, mtu);
	/* NLM_F_EXCL: a link made by someone else in between is not ours to adopt. */
	if ((r = rtnl_link_add(nl->sk, br, NLM_F_CREATE | NLM_F_EXCL)) < 0)
		return qc_net_nl_error(err, r, "bridge '%s': create", name);
	qc_fault_step("net:bridge-added");
	if ((r = qc_net_link_ensure_addr_up(nl, name, addr, err)) < 0) {
		(void) qc_net_link_delete(nl, name, &scratch);
		return qc_error_prefix(err, "bridge '%s'", name);
	}
	return 0;
}

int qc_net_bridge_delete(struct qc_net_nl *nl, const char *name, struct qc_error *err)
{
	int r;

	if ((r = qc_net_bridge_get(nl, name, NULL, err)) < 0)
		return r;
	return qc_net_link_delete(nl, name, err);
}

int qc_net_links_delete_group(struct qc_net_nl *nl, uint32_t group, struct qc_error *err)
{
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	struct nl_msg *msg;
	int r;

	if (group == 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"link group 0: refusing to delete the default group (every interface)");
	/* libnl has no helper for this: ifi_index 0 + IFLA_GROUP = "the whole group". */
	msg = nlmsg_alloc_simple(RTM_DELLINK, 0);
	if (!msg)
		abort();
	if ((r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO)) < 0 ||
		(r = nla_put_u32(msg, IFLA_GROUP, group)) < 0) {
		nlmsg_free(msg);
		return qc_net_nl_error(err, r, "link group %u: build request", group);
	}
	r = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (r >= 0)
		r = nl_wait_for_ack(nl->sk);
	if (r < 0)
		return qc_net_nl_error(err, r, "link group %u: delete", group);
	return 0;
}

int qc_net_addr_conflict(struct qc_net_nl *nl, const struct qc_net_cidr *subnet,
	const char *exclude, char *desc, size_t size, struct qc_error *err)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int ex = 0, r, found = 0;

	if (exclude) {
		struct qc_net_link_info info;

		if ((r = qc_net_link_get(nl, exclude, &info, err)) < 0)
			return r;
		ex = r > 0 ? info.ifindex : 0;
	}
	if ((r = rtnl_addr_alloc_cache(nl->sk, &cache)) < 0)
		return qc_net_nl_error(err, r, "list host addresses");
	for (o = nl_cache_get_first(cache); o && !found; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *) o;
		struct nl_addr *local = rtnl_addr_get_local(a);
		struct qc_net_cidr c;
		uint32_t be;

		if (rtnl_addr_get_family(a) != AF_INET || !local ||
			nl_addr_get_len(local) != sizeof(be) || rtnl_addr_get_ifindex(a) == ex)
			continue;
		memcpy(&be, nl_addr_get_binary_addr(local), sizeof(be));
		c.addr = ntohl(be);
		c.prefix = (unsigned) rtnl_addr_get_prefixlen(a);
		/* Loopback (127/8) never collides with a bridge subnet in practice. */
		if ((c.addr >> 24) == 127)
			continue;
		if (qc_net_cidr_overlap(subnet, &c) || qc_net_cidr_contains(subnet, c.addr)) {
			char ifname[16] = "?", buf[24];

			(void) qc_net_link_name(
				nl, rtnl_addr_get_ifindex(a), ifname, sizeof(ifname), NULL);
			qc_net_format_cidr(&c, buf, sizeof(buf));
			snprintf(desc, size, "address %s on host interface '%s'", buf, ifname);
			found = 1;
		}
	}
	nl_cache_free(cache);
	return found;
}
