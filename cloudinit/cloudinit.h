/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cloudinit/: NoCloud seeds.  Everything here is pure (no environment, no
 * clock, no $HOME): the driver decides which files and keys to use and hands
 * their bytes in.
 *
 *   iso.c   a native ISO 9660 writer (level 1 names) with Rock Ridge
 *           (SUSP 1.12 / RRIP 1.12: SP, ER, CE, RR, PX, TF, NM) and Joliet
 *           (UCS-2 level 3); deterministic: same input, same bytes.
 *           iso_write.c writes the image to its file.
 *   yaml.c  YAML scalar quoting and the light checks for user files.
 *   seed.c  meta-data, #cloud-config user-data, network-config v2, and the
 *           checks on verbatim --user-data / --network-config / --meta-data.
 */
#ifndef QC_CLOUDINIT_H
#define QC_CLOUDINIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"

/* ---------------------------------------------------------------- iso.c */

/*
 * One file (or an empty directory) of the image.  path is relative with '/'
 * separators ("meta-data", "dir/sub/file"); parent directories are implied.
 * Names: UTF-8, 1..255 bytes per component, no control characters, not "."
 * or ".."; at most 7 directory levels below the root (ISO 9660 allows 8
 * levels counting the root).  Names reach readers unchanged through Rock
 * Ridge; the ISO 9660 8.3 names and the Joliet names (64 UCS-2 units,
 * characters outside the BMP and * / : ; ? \ become '_') are derived.
 */
struct qc_iso_entry {
	const char *path;
	const void *data; /* file bytes (NULL when len is 0 or dir) */
	size_t len;
	mode_t mode; /* permission bits; 0: 0644 for files, 0755 for directories */
	bool dir; /* an (empty or not) directory of its own */
};

/* The fixed time stamp of every record unless opts ask for another. */
#define QC_ISO_DEFAULT_TIME INT64_C(946684800) /* 2000-01-01T00:00:00Z */
/* Zero blocks at the end of every image (see iso.c for why). */
#define QC_ISO_PAD_BLOCKS 150
/* Refuse to build images larger than this in memory. */
#define QC_ISO_MAX_BYTES (1024u * 1024u * 1024u)

struct qc_iso_opts {
	const char *volume_id; /* NULL: "cidata"; 1..16 bytes of [A-Za-z0-9_-] */
	bool set_time; /* use time instead of QC_ISO_DEFAULT_TIME */
	int64_t time; /* seconds since the epoch, UTC, >= 1970 and < 2100 */
	/*
	 * qc_cloudinit_iso_write only: temp file + rename (mode 0644 less the
	 * umask), still atomic for readers, but without the two fsyncs (for files
	 * a user asked for and can rebuild, as cp or genisoimage write them; a
	 * VM's seed.iso keeps them).
	 */
	bool no_fsync;
};

/* Build the image in memory.  *ret is freed with free(). */
int qc_cloudinit_iso_build(const struct qc_iso_entry *entries, size_t n,
	const struct qc_iso_opts *opts, uint8_t **ret, size_t *ret_len, struct qc_error *err);
/* Build and write dirfd/name atomically (mode 0644); nothing is left on failure. */
int qc_cloudinit_iso_write(int dirfd, const char *name, const struct qc_iso_entry *entries,
	size_t n, const struct qc_iso_opts *opts, struct qc_error *err);

/*
 * Internals shared by iso.c (layout, SUSP, writing) and iso_tree.c (paths,
 * names, order): the tree of the image being built.
 */
#define QC_ISO_JOLIET_MAX 64 /* UCS-2 units in a Joliet name */

enum { QC_ISO_REC_ENTRY, QC_ISO_REC_SELF, QC_ISO_REC_PARENT, QC_ISO_REC_N };

struct qc_iso_rec {
	uint16_t su_len; /* system use bytes kept in the record */
	uint16_t ce_len; /* bytes in the continuation area (0: no CE) */
	uint32_t ce_blk; /* relative, then absolute block of the CE area */
	uint16_t ce_off;
};

struct qc_iso_node {
	char *name; /* the POSIX name (Rock Ridge NM) */
	bool dir;
	mode_t mode;
	const uint8_t *data;
	size_t len;
	struct qc_iso_node *parent;
	struct qc_iso_node **kids; /* insertion order */
	size_t n_kids;
	struct qc_iso_node **iso_kids, **j_kids; /* sorted for each tree */
	char iso_base[9], iso_ext[4];
	uint8_t iso_id[16];
	uint8_t iso_id_len;
	uint16_t jid[QC_ISO_JOLIET_MAX];
	uint8_t jid_units; /* UCS-2 units (no ";1": see iso_tree.c) */
	uint32_t ino;
	uint32_t nlink;
	uint32_t extent; /* file data, or the ISO directory extent */
	uint32_t size; /* ISO directory size */
	uint32_t jextent, jsize;
	uint16_t num, jnum; /* path table numbers (1 = root) */
	struct qc_iso_rec rec[QC_ISO_REC_N];
};

struct qc_iso_node *qc_cloudinit_iso_node_new(
	struct qc_iso_node *parent, const char *name, size_t len, bool dir);
void qc_cloudinit_iso_node_free(struct qc_iso_node *n);
/* Add one entry (and its implied parent directories) below root. */
int qc_cloudinit_iso_add(
	struct qc_iso_node *root, const struct qc_iso_entry *e, struct qc_error *err);
/* Names, sorted children, serial numbers (from *ino up) and link counts, recursively. */
void qc_cloudinit_iso_prepare(struct qc_iso_node *d, uint32_t *ino);

/* --------------------------------------------------------------- yaml.c */

/*
 * Append s as a YAML scalar: plain when that is unambiguous (letters, digits,
 * '.', '_', '-', '/', starting with a letter, and not a YAML 1.1 boolean or
 * null word), else double-quoted with escapes for '"', '\\', control
 * characters and the Unicode line breaks.  s must be valid UTF-8.
 */
void qc_cloudinit_yaml_scalar(struct qc_buf *b, const char *s);
/* Always double-quoted. */
void qc_cloudinit_yaml_quoted(struct qc_buf *b, const char *s);
/* Text at most max bytes, without NUL, valid UTF-8; what names it in messages. */
int qc_cloudinit_check_text(
	const char *what, const char *text, size_t len, size_t max, struct qc_error *err);

/*
 * Light check that text is a YAML mapping document (what cloud-init wants
 * for meta-data and network-config): valid UTF-8 without NUL, no tab in
 * indentation, every top-level line is "key:" or "key: value" (or a
 * comment, a blank line, "---" / "..."), and keys in need (may be NULL,
 * NULL-terminated) are present at the top level.  what names the file in
 * the messages ("--network-config 'net.yaml'").
 */
int qc_cloudinit_yaml_check(const char *what, const char *text, size_t len,
	const char *const *need_one_of, struct qc_error *err);

/* --------------------------------------------------------------- seed.c */

#define QC_SEED_USER_DATA_MAX (16u << 20) /* cloud-init's own limit is larger; ours */
#define QC_SEED_NETWORK_CONFIG_MAX (1u << 20)
#define QC_SEED_META_DATA_MAX (1u << 20)
#define QC_SEED_SSH_KEY_FILE_MAX (64u << 10)
/*
 * The guest script qemuctl's user-data installs: cloud-init's scripts_per_boot
 * runs it at the end of every boot; it prints "QEMUCTL-READY <instance-id>".
 */
#define QC_CLOUDINIT_READY_SCRIPT "/var/lib/cloud/scripts/per-boot/qemuctl-ready"

/* A static address for one NIC; the others get DHCP when any NIC is static. */
struct qc_seed_nic {
	const char *mac; /* "52:54:00:12:34:56" */
	const char *address; /* "10.77.0.5/24", or NULL for DHCP */
	const char *gateway; /* "10.77.0.1", or NULL for no default route */
	const char *const *dns; /* NULL-terminated, or NULL: no nameservers block */
};

struct qc_seed_share {
	const char *tag; /* 9p mount_tag; mounted at /mnt/<tag> */
	bool readonly;
};

/*
 * A host key pair for the guest's sshd, through cloud-init's ssh_keys (with
 * ssh_deletekeys, so the image's own host keys go, and ssh_genkeytypes
 * naming only these types).
 */
struct qc_seed_host_key {
	const char *type; /* "ed25519", "ecdsa" or "rsa" */
	const char *private_key; /* OpenSSH format: "-----BEGIN OPENSSH PRIVATE KEY-----\n..." */
	const char *public_key; /* one line: "ssh-ed25519 AAAA... comment" */
};

struct qc_seed_config {
	const char *instance_id; /* required */
	const char *hostname; /* NULL: none (cloud-init keeps the image's) */
	const char *user; /* default user to create; NULL: "qemuctl" */
	const char *const *ssh_keys; /* public key lines, NULL-terminated, may be NULL */
	const struct qc_seed_share *shares;
	size_t n_shares;
	const struct qc_seed_nic *nics;
	size_t n_nics;
	const struct qc_seed_host_key *host_keys; /* user-data only; may be NULL */
	size_t n_host_keys;
};

/* "instance-id: ...\nlocal-hostname: ...\n" */
int qc_cloudinit_meta_data(const struct qc_seed_config *c, char **ret, struct qc_error *err);
/* A #cloud-config document from the options. */
int qc_cloudinit_user_data(const struct qc_seed_config *c, char **ret, struct qc_error *err);
/*
 * network-config v2 for the NICs; *ret = NULL (and 0 returned) when no NIC
 * has a static address, so cloud-init keeps its DHCP fallback.
 */
int qc_cloudinit_network_config(const struct qc_seed_config *c, char **ret, struct qc_error *err);

/*
 * Checks on verbatim user files; what names the file in messages.
 * user-data: <= 16 MiB, UTF-8 without NUL, and starts with a header
 * cloud-init knows (#cloud-config, #!, #include, #cloud-boothook,
 * ## template: jinja, #part-handler, #upstart-job, Content-Type: multipart/).
 */
int qc_cloudinit_check_user_data(
	const char *what, const char *text, size_t len, struct qc_error *err);
int qc_cloudinit_check_network_config(
	const char *what, const char *text, size_t len, struct qc_error *err);
int qc_cloudinit_check_meta_data(
	const char *what, const char *text, size_t len, struct qc_error *err);
/*
 * Split an authorized_keys-style text into key lines (blank lines and '#'
 * comments dropped, surrounding blanks trimmed), appending to keys.  Each
 * line must be UTF-8 and contain a key type (ssh-*, ecdsa-*, sk-*); a text
 * without any key is an error.
 */
int qc_cloudinit_parse_ssh_keys(
	const char *what, const char *text, size_t len, struct qc_strv *keys, struct qc_error *err);
/* User names: 1..32 bytes of [a-z0-9_-], starting with a letter or '_'. */
int qc_cloudinit_validate_user(const char *user, struct qc_error *err);
/*
 * A host key pair as qc_cloudinit_user_data takes it: a known type, a
 * private key that is one OpenSSH PEM block of base64 lines (what
 * `ssh-keygen` writes), a public key line of that type; what names it.
 */
int qc_cloudinit_check_host_key(
	const char *what, const struct qc_seed_host_key *k, struct qc_error *err);
/*
 * The length of the word at s (up to a space or the end) when it is
 * base64, as the key of a public key line "<type> <base64> [comment]" is;
 * 0 when it is empty or holds anything else.
 */
size_t qc_cloudinit_base64_word(const char *s);
/*
 * Whether a verbatim user-data leaves the host keys given in vendor-data in
 * place: true for a "#!" script (it runs beside vendor-data's cloud-config)
 * and for a plain "#cloud-config" document that mentions none of ssh_keys,
 * vendor_data, merge_how, merge_type and uses no YAML escapes (backslash
 * x, u, U) that could spell them; false for every other kind (#include,
 * multipart, boothooks, templates), which may bring keys of their own.
 * Conservative: false only costs a key pinned on first use instead of one
 * known in advance.
 */
bool qc_cloudinit_user_data_keeps_host_keys(const char *text, size_t len);
/* Instance ids: 1..128 bytes of printable ASCII without blanks. */
int qc_cloudinit_validate_instance_id(const char *id, struct qc_error *err);

#endif
