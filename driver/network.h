/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/network*.c: the NICs of a VM over net/.  Internal to driver/; the
 * public part (net create/list/rm, ssh argv) is in qemuctl.h.
 *
 * net/ keeps named networks on disk (net/network.c, see net/net.h for the
 * files under <root>/networks/), their leases (net/lease.c) and host ports
 * for forwards (net/portfwd.c).  Here: what a VM's NICs need from them.
 * Lease key: "<vm uuid>/<nic name>", so an address is stable across
 * restarts and redefinitions, and released by qc_network_domain_release().
 *
 * How the lifecycle uses this:
 *   create: for each --net SPEC, qc_network_parse_spec() into a fresh NIC
 *           (set nic->name "netN" and nic->mac with qc_net_mac_gen() when
 *           empty; a VM with no --net gets qc_network_default_nic());
 *           then, once d->uuid is set, qc_network_domain_create() (leases
 *           addresses, fills nic->ip and nic->bridge) before domain.xml is
 *           saved; if the create fails later, qc_network_domain_release().
 *   start:  qc_network_domain_start() opens the taps (fds are ours until
 *           mapped into QEMU: pass them through the spawn fd map and put the
 *           child-side numbers in qc_argv_ctx.tap_fds) and picks host ports
 *           (qc_argv_ctx.fwd_ports = st.fwd_ports; st.ports, in NIC/forward
 *           order, are also saved in <vm>/network.json; info shows them with
 *           qc_network_load_ports() + qc_network_fwd_port(); storing them in
 *           state.json "ports" as well is fine, ssh reads either).  qc_network_start_clear()
 *           after QEMU was spawned (or on failure) closes our copies; the
 *           taps live exactly as long as QEMU holds its copies.
 *   hot-plug (driver/hotplug.c, a running VM): qc_network_nic_ports()
 *           chooses a user NIC's host ports, qc_network_runtime_nic() puts
 *           them into (attach) or takes them out of (detach) the run's
 *           records at qc_network_fwd_index(), so info and ssh see them.
 *   delete: qc_network_domain_release().
 */
#ifndef QC_DRIVER_NETWORK_H
#define QC_DRIVER_NETWORK_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/domain.h"
#include "driver/qemuctl.h"

/*
 * Parse one --net SPEC:
 *   user[,hostfwd=tcp|udp:[ADDR]:HOSTPORT-:GUESTPORT]...[,mac=M]
 *   network=NAME[,ip=A][,mac=M]
 *   bridge=BR[,mac=M]
 *   none                         (*ret_none = true, nic untouched)
 * Fills nic->type, fwds (user NICs always get tcp ::0-:22 unless a forward
 * to guest tcp port 22 was given), network, ip (as given, "10.0.0.5", until
 * qc_network_domain_create), bridge, mac (only with mac=).  nic->name and
 * nic->model are left alone.  Errors quote the spec and name the option.
 */
int qc_network_parse_spec(
	const char *spec, struct qc_nic *nic, bool *ret_none, struct qc_error *err);
/* The NIC of a VM with no --net: user-mode, guest port 22 from a free loopback port. */
void qc_network_default_nic(struct qc_nic *nic);

/*
 * At create (d->uuid, d->name and NIC names set): lease an address for every
 * network NIC (the requested ip= or the lowest free one), set nic->ip to
 * "A/PREFIX" and nic->bridge to the network's bridge; check that bridge=
 * NICs name an existing bridge.  On failure nothing stays leased.  Errors
 * name the NIC or network, not the VM (the caller adds "VM 'x': ").
 */
int qc_network_domain_create(qc_ctx *ctx, struct qc_domain *d, struct qc_error *err);
/* At delete: release every lease of the VM (by uuid) in every network. */
int qc_network_domain_release(qc_ctx *ctx, const struct qc_domain *d, struct qc_error *err);

struct qc_network_start {
	int *tap_fds; /* per NIC index, -1 for user NICs; owned (closed by clear) */
	char (*tap_names)[16]; /* per NIC index, "" for user NICs */
	size_t n_nics;
	unsigned **fwd_ports; /* per NIC index: host port of each forward (NULL for taps) */
	unsigned *ports; /* the same flattened in NIC/forward order (for state.json) */
	size_t n_ports;
	/*
	 * per flat forward: the TCP host port's reservation, bound with
	 * SO_REUSEADDR and not listening, held until clear: QEMU's slirp binds
	 * it beside ours (SO_REUSEADDR, then listen), while no other bind
	 * without SO_REUSEADDR, and no bind to port 0, gets it meanwhile.  -1
	 * for UDP: slirp binds those without SO_REUSEADDR, so ours is closed.
	 */
	int *held;
};
/*
 * At start: open a tap for every network/bridge NIC (re-creating a named
 * network's bridge and gateway address when missing, e.g. after a host
 * reboot) and choose host ports for user-mode forwards: a fixed port must
 * be free ("host port 8080 is in use"), port 0 gets a free loopback port.
 * On failure every tap opened so far is closed (and so gone).
 */
int qc_network_domain_start(
	qc_ctx *ctx, const struct qc_domain *d, struct qc_network_start *ret, struct qc_error *err);
void qc_network_start_clear(struct qc_network_start *st);
/* Write <vm>/network.json (QC_NETWORK_RUNTIME) for the run st describes. */
int qc_network_start_save(qc_ctx *ctx, const struct qc_domain *d, const struct qc_network_start *st,
	struct qc_error *err);
/* (network_fwd.c) The host ports of user NIC nic's forwards, held open in fds[] (net/portfwd.c). */
int qc_network_reserve_ports(
	const struct qc_nic *nic, int *fds, unsigned *ports, struct qc_error *err);

/*
 * (network_retry.c) A start fails when QEMU cannot bind a forward's host
 * port: another program bound it between our choice and QEMU's bind (a
 * UDP port, or a TCP one bound with SO_REUSEADDR).  msg is the failed
 * start's message (QEMU's own: "Could not set up host forwarding rule
 * 'tcp:127.0.0.1:PORT-:22'"): 1 with *ret_proto ("tcp"/"udp") and
 * *ret_port when it says so, else 0.  Pure.
 */
int qc_network_fwd_bind_failed(const char *msg, char ret_proto[4], unsigned *ret_port);
/* How many times a start is tried when automatic host ports are taken meanwhile. */
#define QC_NETWORK_FWD_TRIES 3
/*
 * QEMU refused forward f of nic, host port port, because another program
 * took it before QEMU bound it, in attempt (1, 2...) of a start, or of an
 * attach-net when hotplug.  A fixed port: -EADDRINUSE, err naming the port
 * and its holder; QC_NETWORK_FWD_TRIES reached: the same saying so; else
 * warned that fresh automatic ports are tried, err cleared, 1.
 */
int qc_network_fwd_taken(const char *vm, const struct qc_nic *nic, size_t f, unsigned port,
	int attempt, bool hotplug, struct qc_error *err);
/*
 * After attempt (1, 2...) of d's start failed with err: when QEMU could not
 * bind an automatic host port, every automatic port of st is chosen anew
 * (the fixed ones kept), network.json follows, the console log the failed
 * attempt's monitor rotated away is put back, err is cleared and 1
 * returned: start again with st.  A fixed port: -EADDRINUSE with err
 * saying which and who holds it; QC_NETWORK_FWD_TRIES reached: the same
 * saying so; any other failure: 0, err untouched.
 */
int qc_network_fwd_retry(qc_ctx *ctx, int vm_dfd, const struct qc_domain *d,
	struct qc_network_start *st, int attempt, struct qc_error *err);

/*
 * Hot-plug (attach-net): the tap of network/bridge NIC i alone, on its
 * bridge (re-created when missing), named "qc<uuid8>n<N>" with the first N
 * no link has: after a detach, index i's name can belong to a NIC still
 * plugged.  name gets the name.  The caller passes the fd with QMP getfd + netdev_add
 * {"type":"tap","fd":NAME,"vhost":false} + device_add, then closes it.
 */
int qc_network_nic_open_tap(qc_ctx *ctx, const struct qc_domain *d, size_t i, char name[16],
	int *ret_fd, struct qc_error *err);

/*
 * qc_network_domain_start() also records the run's host ports and tap names
 * in <vm>/network.json; this reads the ports back (none: *ret NULL, 0).
 */
#define QC_NETWORK_RUNTIME "network.json"
int qc_network_load_ports(
	qc_ctx *ctx, const char *vm, unsigned **ret, size_t *ret_n, struct qc_error *err);

/*
 * (network_fwd.c) Host port of forward fwd of NIC nic (indexes into d->nics / nic->fwds)
 * given the flattened ports recorded at start (may be NULL/0): the fixed
 * port when there is one, else the recorded one, else 0.
 */
unsigned qc_network_fwd_port(
	const struct qc_domain *d, size_t nic, size_t fwd, const unsigned *ports, size_t n_ports);
/* Index in that flat list of NIC nic's first forward (the forwards of the user NICs before it). */
size_t qc_network_fwd_index(const struct qc_domain *d, size_t nic);
/*
 * Where ssh reaches d's guest with the ports recorded at start (a fresh
 * address and *ret_port), or NULL: the first user-mode forward of guest
 * tcp/22 with a known host port (127.0.0.1 for one bound on every address),
 * else the address of the first named-network NIC that has one, port 22.
 */
char *qc_network_ssh_endpoint(
	const struct qc_domain *d, const unsigned *ports, size_t n_ports, unsigned *ret_port);
/*
 * The same in two steps, so list can keep the first in summary.json: the
 * ways ssh may reach d's guest in the order it tries them (a fresh array,
 * *ret_n of them, NULL when none), and the first of them whose host port
 * is known from the run's ports (a fresh address and *ret_port), or NULL.
 */
struct qc_ssh_route {
	char host[64]; /* an IPv4 address */
	unsigned port; /* the fixed host port, 0: the run's port at index */
	size_t index;  /* in the run's flat list of forward ports */
};
struct qc_ssh_route *qc_network_ssh_routes(const struct qc_domain *d, size_t *ret_n);
char *qc_network_ssh_route_pick(const struct qc_ssh_route *v, size_t n, const unsigned *ports,
	size_t n_ports, unsigned *ret_port);

/*
 * Hot-plug (attach-net) of user NIC nic: choose the host port of each
 * forward as start does, on the address it binds (host_addr, else
 * 127.0.0.1): a fixed port must be free there, 0 gets a free one; every
 * failure is an error naming the forward.  *ret has nic->n_fwds ports;
 * *ret_held the sockets that hold the TCP ones (-1 for UDP) until QEMU
 * has bound them: qc_network_held_close() after netdev_add.
 */
int qc_network_nic_ports(
	const struct qc_nic *nic, unsigned **ret, int **ret_held, struct qc_error *err);
void qc_network_held_close(int *held, size_t n);
/*
 * A live attach (add: its ports, or for a tap NIC its tap name) or detach
 * of NIC i (nic), whose forwards are at flat index at
 * (qc_network_fwd_index): the run's records follow, state.json's ports
 * (atomically, see qc_state_splice_ports) and network.json's ports and taps.
 */
int qc_network_runtime_nic(int vm_dfd, size_t i, const struct qc_nic *nic, size_t at, bool add,
	const unsigned *ports, const char *tap, struct qc_error *err);

/*
 * A forward added to or removed from a running VM's definition (port add
 * --persist, port rm): in the run's flat list of host ports (state.json and
 * network.json), n_del entries at index at become ins[0..n_ins).
 */
int qc_network_runtime_ports(int vm_dfd, size_t at, size_t n_del, const unsigned *ins,
	size_t n_ins, struct qc_error *err);

/*
 * Port forwards added to a running VM (driver/portfwd_live.c).  A spec
 * [ADDR:]HOSTPORT:GUESTPORT[/udp] (with_guest) or [ADDR:]HOSTPORT[/udp]:
 * ports 1-65535, ADDR IPv4 (127.0.0.1, the default, is stored as "").
 */
#define QC_PORTFWD_RECORDS "forwards.json" /* the run's live forwards, in the VM's directory */
int qc_driver_portfwd_parse(
	const char *spec, bool with_guest, struct qc_hostfwd *ret, struct qc_error *err);
/*
 * The live (not persisted) forwards of NIC nic in the run live describes
 * (none when it does not run, or for records of an earlier run); *ret is
 * free()d by the caller.
 */
struct qc_live;
int qc_driver_portfwd_live(int vm_dfd, const struct qc_live *live, const char *nic,
	struct qc_hostfwd **ret, size_t *ret_n);
/* NIC nic left the running VM (detach-net): its live forwards' records go too. */
void qc_driver_portfwd_forget_nic(int vm_dfd, const struct qc_live *live, const char *nic);

/* Gateway ("10.0.0.1") and prefix of a named network, for the seed's network-config. */
int qc_network_gateway(qc_ctx *ctx, const char *network, char gateway[16], unsigned *ret_prefix,
	struct qc_error *err);

/* Deterministic tap name of NIC index i of a VM: "qc" + 8 hex of the uuid + "n" + i. */
void qc_network_tap_name(const struct qc_domain *d, size_t i, char out[16]);

#include "net/net.h"

#endif
