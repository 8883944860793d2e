/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqemuctl: the public C API of qemuctl.  The qemuctl CLI uses only what
 * is declared here.  Every function returns 0 (or a count) on success and a
 * negative code on failure, filling the optional struct qc_error.
 */
#ifndef QEMUCTL_H
#define QEMUCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef QC_PUBLIC
#define QC_PUBLIC __attribute__((visibility("default")))
#endif

#ifndef QC_ERROR_DEFINED
#define QC_ERROR_DEFINED
struct qc_error {
	int code; /* errno value, or QC_ERR_* (> 4096); 0 = no error */
	char msg[1024];
};
#endif

/* ------------------------------------------------------------ the context */

/* A handle on a state root.  root NULL: $QEMUCTL_ROOT, else the default. */
typedef struct qc_ctx qc_ctx;
QC_PUBLIC int qc_ctx_open(const char *root, qc_ctx **ret, struct qc_error *err);
QC_PUBLIC void qc_ctx_close(qc_ctx *ctx);
QC_PUBLIC const char *qc_ctx_root(const qc_ctx *ctx);
/* Progress of long operations (downloads, conversions, waits). */
typedef void (*qc_ctx_progress_fn)(const char *what, uint64_t done, uint64_t total,
	void *opaque);
QC_PUBLIC void qc_ctx_set_progress(qc_ctx *ctx, qc_ctx_progress_fn fn, void *opaque);

/* ------------------------------------------------- VMs (driver/lifecycle.c) */

/* ------------------------------------------------- images (driver/image.c) */

/* --------------------------------------------- networks (driver/network.c) */

/*
 * Named networks: a bridge with the gateway address (the first host address
 * of the subnet) and an address allocator whose leases reach the guests as
 * static network-config.  Definitions live under <root>/networks/.
 */
struct qc_network_create_opts {
	const char *name;
	const char *subnet; /* CIDR, "10.10.0.0/24" (prefix 8..30) */
	const char *bridge; /* NULL: "qc-<name>" (shortened to 15 bytes with a hash) */
	unsigned mtu;       /* 0: the kernel's default */
};
/*
 * Create the network and its bridge (or adopt an existing bridge of that
 * name).  Refused: a name in use, a subnet overlapping another network's,
 * a bridge another network uses, a link of that name that is not a bridge.
 * A failure leaves nothing behind (no bridge, no file).
 */
QC_PUBLIC int qc_network_create(qc_ctx *ctx, const struct qc_network_create_opts *o,
	struct qc_error *err);
/* Remove the network and the bridge it created; refused while VMs hold addresses (named). */
QC_PUBLIC int qc_network_remove(qc_ctx *ctx, const char *name, struct qc_error *err);

struct qc_network_lease_info {
	char *vm;  /* VM name */
	char *nic; /* "net0" */
	char *ip;  /* "10.10.0.2" */
};
struct qc_network_info {
	char *name, *subnet, *gateway, *bridge;
	unsigned mtu;          /* 0: kernel default */
	bool bridge_created;   /* made by qemuctl (removed with the network) */
	bool bridge_present;   /* the bridge exists now (false after a host reboot until a start) */
	unsigned used, capacity; /* guest addresses leased / available in all */
	char **vms;            /* VMs with an address here, sorted, NULL-terminated */
	struct qc_network_lease_info *leases;
	size_t n_leases;
};
/* Every network, sorted by name. */
QC_PUBLIC int qc_network_list(qc_ctx *ctx, struct qc_network_info ***ret, size_t *ret_n,
	struct qc_error *err);
QC_PUBLIC int qc_network_get(qc_ctx *ctx, const char *name, struct qc_network_info **ret,
	struct qc_error *err);
QC_PUBLIC void qc_network_info_free(struct qc_network_info *info);
QC_PUBLIC void qc_network_list_free(struct qc_network_info **v, size_t n);

/*
 * The ssh command line for `qemuctl ssh NAME [-- CMD...]`: to 127.0.0.1 and
 * the forwarded port of guest port 22 (user-mode), else to the address of
 * the first named-network NIC; as the seed's user; with qemuctl's own key
 * (or identity, when not NULL); host keys neither checked nor recorded.
 * cmd (NULL-terminated, may be NULL) is run remotely.  Refused when the VM
 * is not running or has no reachable address.
 */
QC_PUBLIC int qc_vm_ssh_argv(qc_ctx *ctx, const char *name, const char *identity,
	const char *const *cmd, char ***ret_argv, struct qc_error *err);

/* ---------------------------------------------------- seeds (driver/seed.c) */

#ifdef __cplusplus
}
#endif
#endif
