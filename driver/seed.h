/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/seed.c: the glue between a domain and cloudinit/.  Internal to
 * driver/; the public part is qc_seed_build() in driver/qemuctl.h.
 *
 * How create/start use it (the lifecycle code):
 *   1. at create, read the --ssh-key files once into key lines
 *      (qc_driver_seed_read_keys) and keep them in d->seed.ssh_keys, so the
 *      domain does not depend on the files later; --user-data and
 *      --network-config are copied into the VM's directory, which the
 *      domain names, and those copies are read at every build;
 *   2. call qc_driver_seed_build(d, vm_dfd, root, &changed) at create and
 *      before every start; when it reports changed, save domain.xml (the
 *      generation and content hash moved);
 *   3. qc_driver_seed_disk(d, vm_dir) adds the read-only "seed" disk once.
 */
#ifndef QC_DRIVER_SEED_H
#define QC_DRIVER_SEED_H

#include <stdbool.h>

#include "driver/domain.h"
#include "driver/qemuctl.h"
#include "driver/seed_hostkey.h"
#include "util/util.h"

/* Where qemuctl's own key pair lives: <root>/ssh/id_ed25519{,.pub}. */
#define QC_SEED_OWN_KEY_DIR "ssh"
#define QC_SEED_OWN_KEY "id_ed25519"

/*
 * qemuctl's own public key (one line, no newline), made on first use with
 * ssh-keygen -t ed25519 -N '' under <root>/ssh/ (0700), atomically and under
 * a lock, so concurrent first uses agree on one pair.  `qemuctl ssh` logs in
 * with its private half; every generated seed injects the public half.
 */
int qc_driver_seed_own_pubkey(const char *root, char **ret, struct qc_error *err);

/*
 * The guest user a VM gets when create is told none (a fresh string): the
 * caller's own login name, which is what ssh and Lima use ($SUDO_USER for
 * root under sudo); "debian", the default user of Debian's cloud images,
 * when that is root or a name cloud-init's useradd would refuse.  A
 * definition without a user (made before it was recorded) keeps the one
 * its seed made: QC_SEED_LEGACY_USER.
 */
char *qc_driver_seed_default_user(void);
#define QC_SEED_FALLBACK_USER "debian"
#define QC_SEED_LEGACY_USER "qemuctl"

/*
 * Key lines from --ssh-key files (each must be readable and hold at least
 * one public key).  With no files (files NULL or empty) and use_default,
 * the invoking user's ~/.ssh/id_*.pub, in name order, when present ($HOME;
 * unreadable or malformed defaults are skipped with a warning).  *ret is a
 * NULL-terminated vector (possibly just { NULL }), free with qc_strv_free.
 */
int qc_driver_seed_read_keys(
	const char *const *files, bool use_default, char ***ret, struct qc_error *err);

/*
 * Build the seed of d into vm_dfd/seed.iso when its content changed, or when
 * the file is missing:
 *   meta-data       instance-id "iid-<uuid>-<generation>", local-hostname
 *                   (d->seed.hostname, else the VM name when it is a valid
 *                   host name)
 *   user-data       d->seed.user_data verbatim (checked), else #cloud-config
 *                   with the hostname, d->seed.user (default "qemuctl") with
 *                   sudo NOPASSWD, d->seed.ssh_keys plus qemuctl's own key
 *                   (when root is not NULL), the VM's sshd host key
 *                   (qc_driver_seed_host_key), 9p mounts of d->shares
 *   vendor-data     with a verbatim user-data: that #cloud-config; its host
 *                   key only when qc_cloudinit_user_data_keeps_host_keys()
 *                   says the user-data leaves it in place
 * and vm_dfd/known_hosts lists the host key when the seed carries it and
 * is removed when it does not (see QC_SEED_KNOWN_HOSTS).
 *   network-config  d->seed.network_config verbatim (checked), else v2 from
 *                   the NICs that have an ip (gateway: the subnet's first
 *                   host address, as net/'s IPAM assigns it); none when no
 *                   NIC is static
 * The content hash (SHA-256 of everything but the instance id) is compared
 * with d->seed.content_hash: when it differs, d->seed.generation is bumped
 * and content_hash replaced, so cloud-init sees a new instance and applies
 * the seed again.  *ret_changed (may be NULL) says whether d changed and
 * seed.iso was rewritten; the caller saves domain.xml then.  A disabled
 * seed (d->seed.enabled false) only removes known_hosts.  On failure d and
 * seed.iso are unchanged; the message names the file or option at fault,
 * not the VM (callers prefix "VM 'NAME': seed").
 */
int qc_driver_seed_build(
	struct qc_domain *d, int vm_dfd, const char *root, bool *ret_changed, struct qc_error *err);

/*
 * Add the "seed" disk (raw, read-only, role SEED, device and bus from the
 * arch table) pointing at <vm_dir>/seed.iso unless d has one.
 */
void qc_driver_seed_disk(struct qc_domain *d, const char *vm_dir);

/* SHA-256 of len bytes as 64 hex digits + NUL. */
void qc_driver_sha256_hex(const void *data, size_t len, char out[65]);

#endif
