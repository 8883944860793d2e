/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/: host networking for qemuctl, without shell-outs.
 *
 *   addr.c     IPv4 / CIDR / MAC parsing and formatting, MAC generation (pure)
 *   ipam.c     the address allocator of a named network (pure)
 *   network.c  named networks on disk: definitions, leases, the lock, bridge names
 *   lease.c    taking and giving back a network's addresses
 *   portfwd.c  host ports for user-mode forwards
 *   link.c     bridges, links and addresses over libnl-route-3
 *   nl_dl.c    libnl-3 and libnl-route-3, dlopen()ed by the first qc_net_nl_open()
 *   tap.c      taps: /dev/net/tun + TUNSETIFF, then enslave, MTU, up
 *
 * Taps are never persistent: the fd returned by qc_net_tap_open() is the
 * only thing that keeps the interface alive, so when QEMU (which inherits
 * it) exits or crashes the kernel removes the tap; no stale interfaces.
 * Nothing here includes driver/ or prints.
 */
#ifndef QC_NET_H
#define QC_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define QC_NET_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

/* ------------------------------------------------------- addr.c (pure) */

/* An IPv4 address (host byte order) with a prefix length. */
struct qc_net_cidr {
	uint32_t addr;
	unsigned prefix; /* 0..32 */
};

/* Dotted quad "10.0.0.1" (no prefix). what names the value in messages. */
int qc_net_parse_ipv4(const char *what, const char *s, uint32_t *ret, struct qc_error *err);
/* "10.0.0.0/24".  When network is true the host bits must be zero. */
int qc_net_parse_cidr(const char *what, const char *s, bool network, struct qc_net_cidr *ret,
	struct qc_error *err);
/* buf >= 16 ("255.255.255.255") / >= 19 with the prefix. */
void qc_net_format_ipv4(uint32_t addr, char *buf, size_t size);
void qc_net_format_cidr(const struct qc_net_cidr *c, char *buf, size_t size);
uint32_t qc_net_prefix_mask(unsigned prefix);
bool qc_net_cidr_contains(const struct qc_net_cidr *net, uint32_t addr);
bool qc_net_cidr_overlap(const struct qc_net_cidr *a, const struct qc_net_cidr *b);

/* "52:54:00:AB:cd:01" -> "52:54:00:ab:cd:01"; unicast only. */
int qc_net_parse_mac(const char *what, const char *s, char out[18], struct qc_error *err);
/* A NIC's MAC, 52:54:00:xx:xx:xx, from a 16-byte seed (the VM's uuid) and the
 * NIC's index: distinct for distinct indices of one seed. */
void qc_net_mac_gen(const uint8_t seed[16], unsigned index, char out[18]);

/* Interface names: 1..15 bytes, no '/', ':', whitespace, not "." / "..". */
int qc_net_validate_ifname(const char *what, const char *name, struct qc_error *err);

/* ------------------------------------------------------- ipam.c (pure) */

/*
 * The allocator of one subnet.  The network address, the gateway (the first
 * host address) and the broadcast address are never handed out, so a /30
 * has exactly one address for guests.  A lease is keyed by an opaque string
 * (the driver uses "<vm uuid>/<nic name>"); asking again with the same key
 * returns the same address, which is what keeps addresses stable across
 * restarts.  Leases are kept sorted by address.
 */
struct qc_net_lease {
	char *key;
	char *owner; /* for messages and listings (the VM name); may be NULL */
	uint32_t addr;
};

struct qc_net_ipam {
	struct qc_net_cidr subnet; /* network address + prefix */
	uint32_t gateway;
	struct qc_net_lease *leases;
	size_t n_leases;
};

/* Check the subnet (network address, prefix 8..30) and set the gateway. */
int qc_net_ipam_init(
	struct qc_net_ipam *ipam, const struct qc_net_cidr *subnet, struct qc_error *err);
void qc_net_ipam_clear(struct qc_net_ipam *ipam);
/* Number of addresses guests can get (excludes network, gateway, broadcast). */
uint32_t qc_net_ipam_capacity(const struct qc_net_ipam *ipam);
/*
 * Lease an address for key.  want = 0: the key's existing lease, else the
 * lowest free address.  want != 0: that address (must be a guest address of
 * the subnet, free or already the key's).  Errors: QC_ERR_INVALID (outside,
 * reserved), QC_ERR_EXISTS (held by another key: the message names the
 * owner), ENOSPC (exhausted).
 */
int qc_net_ipam_alloc(struct qc_net_ipam *ipam, const char *key, const char *owner, uint32_t want,
	uint32_t *ret, struct qc_error *err);
/* Insert a lease read from disk (validated like alloc with want != 0). */
int qc_net_ipam_add(struct qc_net_ipam *ipam, const char *key, const char *owner, uint32_t addr,
	struct qc_error *err);
/* Release key's lease; returns 1 when there was one, 0 when not. */
int qc_net_ipam_release(struct qc_net_ipam *ipam, const char *key);
/* Release every lease whose key starts with prefix; returns how many. */
size_t qc_net_ipam_release_prefix(struct qc_net_ipam *ipam, const char *prefix);
const struct qc_net_lease *qc_net_ipam_find(const struct qc_net_ipam *ipam, const char *key);

/* ---------------------------------------------------------- network.c */

/*
 * <root>/networks/ (root: the caller's state root):
 *   <name>.json             definition: name, subnet, gateway, bridge, mtu,
 *                           bridge_created, gateway_added
 *   <name>.leases.json      {"leases":[{"key","vm","ip"}...]}
 *   .<name>.pending-bridge  a net create making that bridge (see below)
 *   lock                    flock: every change to any network
 */
struct qc_net_def {
	char *name;
	char *bridge;
	bool bridge_created; /* net rm deletes only a bridge it made */
	bool gateway_added; /* on an adopted bridge: net rm removes the address it added */
	unsigned mtu;
	struct qc_net_ipam ipam; /* subnet, gateway and (when loaded) leases */
};
void qc_net_def_clear(struct qc_net_def *n);
void qc_net_def_clearp(struct qc_net_def *n);
#define cleanup_net_def __attribute__((cleanup(qc_net_def_clearp)))
/*
 * <root>/networks as a dir fd (-1 when missing and !create), locked with
 * lock_op when ret_lock.  Under LOCK_EX the leftovers of a killed writer
 * (temp files, a pending-bridge note whose definition exists) are removed.
 */
int qc_net_dir_open(const char *root, bool create, int lock_op, int *ret_dfd, int *ret_lock,
	struct qc_error *err);
/* Names of every defined network, sorted; NULL-terminated (dfd -1: none). */
int qc_net_dir_names(int dfd, char ***ret, struct qc_error *err);
/*
 * Load network name (with its leases when leases); QC_ERR_NOTFOUND with a
 * hint when it is not defined; a symlinked file is refused.
 */
int qc_net_def_load(
	int dfd, const char *name, bool leases, struct qc_net_def *ret, struct qc_error *err);
/* Write <name>.json atomically. */
int qc_net_def_save(int dfd, const struct qc_net_def *n, struct qc_error *err);
/*
 * Default bridge of a network: "qc-<name>" when that fits in 15 bytes,
 * else "qc-" + the first 7 bytes + "-" + 4 hex digits of a hash of the
 * whole name.
 */
void qc_net_default_bridge(const char *name, char out[16]);
/*
 * .<name>.pending-bridge: written before net create makes the bridge,
 * dropped once <name>.json records it, so a retry of a killed create
 * knows the bridge as its own.
 */
int qc_net_pending_write(int dfd, const char *name, const char *bridge, struct qc_error *err);
bool qc_net_pending_is(int dfd, const char *name, const char *bridge);
void qc_net_pending_drop(int dfd, const char *name);
/*
 * At VM start, the bridge of network as its definition
 * says now, in bridge: re-created with the gateway address when missing
 * (host reboot), its address and link state ensured otherwise.  The lease
 * of key must still exist; a lost one is taken again for ip ("A/PREFIX")
 * when that is free.  Takes networks/lock.
 */
struct qc_net_nl;
int qc_net_bridge_up(const char *root, struct qc_net_nl *nl, const char *network, const char *key,
	const char *owner, const char *ip, char bridge[16], struct qc_error *err);

/* Read <name>.leases.json into n->ipam (missing: no leases). */
int qc_net_leases_load(int dfd, struct qc_net_def *n, struct qc_error *err);
/* Write n's leases to <name>.leases.json atomically. */
int qc_net_leases_save(int dfd, const struct qc_net_def *n, struct qc_error *err);

/* ------------------------------------------------------------ lease.c */

/*
 * Lease an address of network n (leases loaded) for key (owner names it
 * in messages): ip as asked ("A", or "A/PREFIX" whose prefix must be the
 * network's), NULL or "" for the key's lease or the lowest free address.
 * *ret_cidr: a fresh "A/PREFIX".  In memory only: save with
 * qc_net_leases_save().
 */
int qc_net_lease_take(struct qc_net_def *n, const char *key, const char *owner, const char *ip,
	char **ret_cidr, struct qc_error *err);
/* Release every lease whose key starts with prefix, in every network of root. */
int qc_net_leases_release(const char *root, const char *prefix, struct qc_error *err);

/* ---------------------------------------------------------- portfwd.c */

/* One user-mode forward: proto:host_addr:host_port-:guest_port. */
struct qc_net_fwd {
	const char *proto; /* "tcp" or "udp" */
	const char *host_addr; /* NULL or "": 127.0.0.1 */
	unsigned host_port; /* 0: any free port */
	unsigned guest_port; /* for messages */
};
/*
 * Choose the host ports of n forwards of NIC nic (named in messages), all
 * held at once: each bound like QEMU's slirp will bind it (SO_REUSEADDR),
 * fds[i] kept open (the caller closes them once every port of the VM is
 * chosen) so two automatic ports are never the same, ports[i] the port.  A
 * fixed port in use or an address the host lacks is an error naming the
 * forward; on failure nothing stays open.
 */
int qc_net_ports_reserve(const char *nic, const struct qc_net_fwd *fwds, size_t n, int *fds,
	unsigned *ports, struct qc_error *err);
/*
 * Who holds host port (proto "tcp": a listening socket, "udp": any) in
 * this network namespace: "pid 1234 python3" into buf, "" when not found
 * (another user's process is found by root only).
 */
void qc_net_port_holder(const char *proto, unsigned port, char *buf, size_t size);

/* ------------------------------------------------------------- link.c */

/* A netlink route socket (libnl).  One per thread of work. */
struct nl_sock;
struct rtnl_link;
struct qc_net_nl {
	struct nl_sock *sk;
};
/*
 * Load libnl-3 and libnl-route-3 (once, nl_dl.c): 0, or QC_ERR_UNSUPPORTED
 * with why they cannot be loaded and the package to install.
 * qc_net_nl_open() calls it first.
 */
int qc_net_nl_load(struct qc_error *err);
int qc_net_nl_open(struct qc_net_nl **ret, struct qc_error *err);
void qc_net_nl_close(struct qc_net_nl *nl);
void qc_net_nl_closep(struct qc_net_nl **nl);
#define cleanup_nl __attribute__((cleanup(qc_net_nl_closep)))

struct qc_net_link_info {
	int ifindex;
	char kind[16]; /* rtnl link type: "bridge", "tun", "dummy"... ("" if none) */
	unsigned mtu;
	bool up;
	int master; /* ifindex of the master, 0 = none */
};

/* 1 and *ret filled when the link exists, 0 when not, < 0 on error. */
int qc_net_link_get(
	struct qc_net_nl *nl, const char *name, struct qc_net_link_info *ret, struct qc_error *err);
/* Name of ifindex into buf (>= 16 bytes); 0 when found. */
int qc_net_link_name(
	struct qc_net_nl *nl, int ifindex, char *buf, size_t size, struct qc_error *err);
/* Delete any link by name.  Missing: QC_ERR_NOTFOUND. */
int qc_net_link_delete(struct qc_net_nl *nl, const char *name, struct qc_error *err);

/*
 * Create a bridge: name validated (<= 15 bytes), mtu (0 = kernel default),
 * optional host address (the gateway, e.g. 10.0.0.1/24), brought up.  One
 * that exists already: QC_ERR_EXISTS ("... is not a bridge" when it is some
 * other kind of link).  A failure after the link was made deletes it again.
 */
int qc_net_bridge_create(struct qc_net_nl *nl, const char *name, unsigned mtu,
	const struct qc_net_cidr *addr, struct qc_error *err);
/*
 * The bridge must exist and be a bridge: 0 and *ret filled; QC_ERR_NOTFOUND
 * when missing, QC_ERR_INVALID when it is another kind of link.
 */
int qc_net_bridge_get(
	struct qc_net_nl *nl, const char *name, struct qc_net_link_info *ret, struct qc_error *err);
/* Delete a bridge (refuses other kinds of links).  Missing: QC_ERR_NOTFOUND. */
int qc_net_bridge_delete(struct qc_net_nl *nl, const char *name, struct qc_error *err);
/*
 * Add addr (may be NULL) to the link unless it is there already; bring the
 * link up.  Returns 1 when the address was added, 0 when it was there.
 */
int qc_net_link_ensure_addr_up(struct qc_net_nl *nl, const char *name,
	const struct qc_net_cidr *addr, struct qc_error *err);
/*
 * Does a host IPv4 address (other than on link exclude, may be NULL; 127/8
 * ignored) fall into or around subnet?  1 and desc ("address 10.0.0.5/24 on
 * host interface 'eth0'") when one does, 0 when none.
 */
int qc_net_addr_conflict(struct qc_net_nl *nl, const struct qc_net_cidr *subnet,
	const char *exclude, char *desc, size_t size, struct qc_error *err);
/* Remove addr from the link; a missing address or link is not an error. */
int qc_net_link_del_addr(struct qc_net_nl *nl, const char *name, const struct qc_net_cidr *addr,
	struct qc_error *err);

/* For net/ only: libnl errors -> qc_error ("<object>: <libnl text>"). */
int qc_net_nl_error(struct qc_error *err, int nlerr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* For net/ only: one RTM_GETLINK by index (or by name when ifindex is 0). */
int qc_net_link_fetch(struct qc_net_nl *nl, int ifindex, const char *name, struct rtnl_link **ret,
	struct qc_error *err);
void qc_net_rtnl_link_putp(struct rtnl_link **l);
#define cleanup_rtnl_link __attribute__((cleanup(qc_net_rtnl_link_putp)))

/* -------------------------------------------------------------- tap.c */

/*
 * Create a tap and return its fd (O_CLOEXEC; hand it to QEMU through a
 * spawn fd map as -netdev tap,fd=N).  name: the interface name wanted, or
 * NULL for a kernel-chosen "qctap%d"; the real name goes to ret_name
 * (>= 16 bytes, may be NULL).  The tap has IFF_TAP|IFF_NO_PI|IFF_VNET_HDR,
 * is enslaved to bridge (unless NULL), gets mtu (0 = the bridge's) and is
 * brought up.  It is not persistent: closing the last fd removes it.
 */
int qc_net_tap_open(struct qc_net_nl *nl, const char *name, const char *bridge, unsigned mtu,
	char *ret_name, int *ret_fd, struct qc_error *err);
/*
 * The same, also putting the tap in interface group (0 = default group),
 * in the same RTM_NEWLINK, so many taps can later be removed in one
 * qc_net_links_delete_group() instead of one unregister each.
 */
int qc_net_tap_open_group(struct qc_net_nl *nl, const char *name, const char *bridge, unsigned mtu,
	uint32_t group, char *ret_name, int *ret_fd, struct qc_error *err);
/*
 * Delete every link of interface group (> 0) in one RTM_DELLINK: the kernel
 * unregisters them as one batch, paying the RCU grace periods once instead
 * of once per device (~20 ms each on some kernels).  Taps still held by an
 * fd are detached from it.  No link in the group: QC_ERR_NOTFOUND.
 */
int qc_net_links_delete_group(struct qc_net_nl *nl, uint32_t group, struct qc_error *err);

#endif
