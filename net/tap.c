/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Taps handed to QEMU as file descriptors.
 *
 * `-netdev tap,ifname=X` makes QEMU create the tap itself, in whatever
 * namespace QEMU runs in, and persistent taps (`ip tuntap add`) outlive a
 * crashed QEMU as stale interfaces.  Here the tap is opened by qemuctl in
 * its own namespace, never made persistent (no TUNSETPERSIST), and its fd
 * is inherited by QEMU (`-netdev tap,fd=N`): when the last holder of the fd
 * exits, however it exits, the kernel deletes the interface.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "net/net.h"

int qc_net_tap_open(struct qc_net_nl *nl, const char *name, const char *bridge, unsigned mtu,
	char *ret_name, int *ret_fd, struct qc_error *err)
{
	return qc_net_tap_open_group(nl, name, bridge, mtu, 0, ret_name, ret_fd, err);
}

int qc_net_tap_open_group(struct qc_net_nl *nl, const char *name, const char *bridge, unsigned mtu,
	uint32_t group, char *ret_name, int *ret_fd, struct qc_error *err)
{
	cleanup_close int fd = -1;
	cleanup_rtnl_link struct rtnl_link *orig = NULL;
	cleanup_rtnl_link struct rtnl_link *change = NULL;
	struct qc_net_link_info br = {0};
	struct ifreq ifr;
	int r;

	if (name && (r = qc_net_validate_ifname("tap", name, err)) < 0)
		return r;
	if (bridge && (r = qc_net_bridge_get(nl, bridge, &br, err)) < 0)
		return r;
	if (mtu == 0)
		mtu = br.mtu;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		return qc_error_errno(err, e, "tap '%s': open /dev/net/tun%s",
			name ? name : "qctap%d",
			e == EACCES || e == EPERM
				? " (needs CAP_NET_ADMIN: run as root, or use --net user)"
			: e == ENOENT ? " (is the tun module loaded? modprobe tun)"
				      : "");
	}
	memset(&ifr, 0, sizeof(ifr));
	/* VNET_HDR lets QEMU (and vhost-net) pass checksum/GSO offloads through. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name ? name : "qctap%d");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		if (e == EBUSY)
			return qc_error_set(err, EBUSY,
				"tap '%s': the interface exists and is held by another process (is "
				"the VM already running?)",
				ifr.ifr_name);
		if (e == EINVAL)
			return qc_error_set(err, QC_ERR_INVALID,
				"tap '%s': a link of that name exists and is not a tap",
				ifr.ifr_name);
		return qc_error_errno(err, e, "tap '%s': TUNSETIFF%s", ifr.ifr_name,
			e == EPERM ? " (needs CAP_NET_ADMIN: run as root, or use --net user)" : "");
	}

	/*
	 * Master, MTU and IFF_UP in one RTM_NEWLINK addressed by name: the
	 * tap's ifindex is not even needed, so one round trip per tap.
	 */
	orig = rtnl_link_alloc();
	change = rtnl_link_alloc();
	if (!orig || !change)
		abort();
	rtnl_link_set_name(change, ifr.ifr_name);
	if (bridge)
		rtnl_link_set_master(change, br.ifindex);
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	if (group)
		rtnl_link_set_group(change, group);
	rtnl_link_set_flags(change, IFF_UP);
	if ((r = rtnl_link_change(nl->sk, orig, change, 0)) < 0) {
		if (bridge)
			return qc_net_nl_error(err, r,
				"tap '%s': enslave to bridge '%s', MTU %u, up", ifr.ifr_name,
				bridge, mtu);
		return qc_net_nl_error(err, r, "tap '%s': set MTU %u, up", ifr.ifr_name, mtu);
	}
	if (ret_name)
		snprintf(ret_name, QC_NET_IFNAME_MAX + 1, "%s", ifr.ifr_name);
	*ret_fd = TAKE_FD(fd);
	return 0;
}
