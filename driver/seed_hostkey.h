/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's sshd host key and the known_hosts line that lists it
 * (driver/seed_hostkey.c).  Internal to driver/.
 */
#ifndef QC_DRIVER_SEED_HOSTKEY_H
#define QC_DRIVER_SEED_HOSTKEY_H

#include "util/util.h"

/*
 * The guest's own sshd host key, in the VM's directory: made once per VM
 * with ssh-keygen -t ed25519 (private half 0600) and kept, so a rebuilt
 * seed carries the same key; the seed hands it to cloud-init (ssh_keys).
 */
#define QC_SEED_HOST_KEY "ssh_host_ed25519_key"
#define QC_SEED_HOST_KEY_TYPE "ed25519"
/*
 * <vm>/known_hosts: written by the seed build, from the .pub, whenever the
 * seed carries the host key; `qemuctl ssh` then accepts only that key.
 * <vm>/known_hosts.tofu: for a VM whose seed does not carry it (no seed,
 * or a --user-data that may bring its own keys), filled by ssh itself on
 * the first connection (StrictHostKeyChecking=accept-new).  Both list the
 * key under the alias qc_driver_ssh_host_alias() gives (ssh's HostKeyAlias),
 * so the address and the forwarded port, which change between runs, do not
 * matter.
 */
#define QC_SEED_KNOWN_HOSTS "known_hosts"
#define QC_SEED_KNOWN_HOSTS_TOFU "known_hosts.tofu"

/* "qemuctl-<vm name>": the name the VM's host key is listed under. */
char *qc_driver_ssh_host_alias(const char *vm_name);
/*
 * The known_hosts line "<alias> <type> <base64>\n" for a public key line
 * ("<type> <base64> [comment]"; the comment is dropped).  Refused: an alias
 * or key with characters known_hosts would read as separators, patterns or
 * markers.
 */
int qc_driver_known_hosts_line(
	const char *alias, const char *pubkey, char **ret, struct qc_error *err);
/*
 * A new ssh key pair dfd/name and dfd/name.pub (ssh-keygen -t type -C
 * comment, writing through dfd), the public half renamed into place first.
 */
int qc_driver_ssh_keygen(
	int dfd, const char *name, const char *type, const char *comment, struct qc_error *err);
/*
 * The VM's host key pair from vm_dfd (made there when missing; vm_name is
 * the key's comment): *ret_private (the OpenSSH private key text) and
 * *ret_public (one line, no newline).  The private key must be a regular
 * file of the caller's with no group or other access.
 */
int qc_driver_seed_host_key(int vm_dfd, const char *vm_name, char **ret_private, char **ret_public,
	struct qc_error *err);

#endif
