/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NoCloud seeds for VMs and standalone: gathers the content (files the user
 * named, generated documents, qemuctl's own ssh key, the VM's sshd host
 * key), hashes it, bumps the domain's seed generation when it changed and
 * writes the ISO atomically, with the VM's known_hosts next to it.
 * The documents and the ISO come from cloudinit/, which stays pure.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"
#include "driver/driver.h"
#include "driver/seed.h"
#include "storage/storage.h"

/* storage/'s SHA-256: libcrypto is loaded on first use, not at every start-up. */
void qc_driver_sha256_hex(const void *data, size_t len, char out[65])
{
	cleanup_sha256 struct qc_sha256 *h = qc_sha256_new();

	qc_sha256_update(h, data, len);
	qc_sha256_final(h, out);
}

/* ------------------------------------------------------ qemuctl's own key */

static int read_pubkey(int dfd, const char *name, char **ret, struct qc_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	int r;

	if ((r = qc_read_file(dfd, name, QC_SEED_SSH_KEY_FILE_MAX, &text, &len, err)) < 0)
		return r;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (!len || strchr(text, '\n') || !qc_str_has_prefix(text, "ssh-ed25519 "))
		return qc_error_set(err, QC_ERR_INVALID,
			"'%s' is not an ed25519 public key; remove it and its private key so "
			"qemuctl makes a new pair",
			name);
	*ret = TAKE_PTR(text);
	return 0;
}

int qc_driver_seed_own_pubkey(const char *root, char **ret, struct qc_error *err)
{
	cleanup_free char *dir = qc_xasprintf("%s/" QC_SEED_OWN_KEY_DIR, root);
	cleanup_close int dfd = -1, lock = -1;
	int r;

	if ((r = qc_mkdir_p(dir, 0700, err)) < 0)
		return qc_error_prefix(err, "qemuctl's ssh key");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return qc_error_errno(err, errno, "qemuctl's ssh key: open '%s'", dir);
	if ((r = qc_lock_open(
		     dfd, "lock", LOCK_EX, 30000, "qemuctl's ssh key directory", &lock, err)) < 0)
		return r;
	if (faccessat(dfd, QC_SEED_OWN_KEY, F_OK, 0) == 0 &&
		faccessat(dfd, QC_SEED_OWN_KEY ".pub", F_OK, 0) == 0) {
		if ((r = read_pubkey(dfd, QC_SEED_OWN_KEY ".pub", ret, err)) < 0)
			return qc_error_prefix(err, "qemuctl's ssh key in '%s'", dir);
		return 0;
	}

	if ((r = qc_driver_ssh_keygen(dfd, QC_SEED_OWN_KEY, "ed25519", "qemuctl", err)) < 0)
		return qc_error_prefix(err, "qemuctl's ssh key");
	if ((r = read_pubkey(dfd, QC_SEED_OWN_KEY ".pub", ret, err)) < 0)
		return qc_error_prefix(err, "qemuctl's ssh key in '%s'", dir);
	return 0;
}

/* vm_dfd/known_hosts: the host key's line when the seed carries it, else no file. */
static int sync_known_hosts(int vm_dfd, const char *vm_name, const char *pub, struct qc_error *err)
{
	cleanup_free char *alias = qc_driver_ssh_host_alias(vm_name), *line = NULL, *old = NULL;
	int r;

	if (!pub) {
		if (unlinkat(vm_dfd, QC_SEED_KNOWN_HOSTS, 0) < 0 && errno != ENOENT)
			return qc_error_errno(err, errno, "remove '%s'", QC_SEED_KNOWN_HOSTS);
		return 0;
	}
	if ((r = qc_driver_known_hosts_line(alias, pub, &line, err)) < 0)
		return r;
	if (qc_read_file(vm_dfd, QC_SEED_KNOWN_HOSTS, 1u << 16, &old, NULL, NULL) == 0 &&
		!strcmp(old, line))
		return 0;
	return qc_write_atomic(vm_dfd, QC_SEED_KNOWN_HOSTS, line, strlen(line), 0600, err);
}

/* ------------------------------------------------------------ guest user */

static bool usable_user(const char *u)
{
	return u && strcmp(u, "root") != 0 && qc_domain_check_user(u, NULL) == 0;
}

char *qc_driver_seed_default_user(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (geteuid() == 0)
		return qc_xstrdup(usable_user(sudo) ? sudo : QC_SEED_FALLBACK_USER);
	pw = getpwuid(geteuid());
	return qc_xstrdup(pw && usable_user(pw->pw_name) ? pw->pw_name : QC_SEED_FALLBACK_USER);
}

const char *qc_driver_seed_user(const struct qc_domain *d)
{
	return d->seed.user && *d->seed.user ? d->seed.user : QC_SEED_LEGACY_USER;
}

/* ------------------------------------------------------------- user keys */

static int read_key_file(const char *path, struct qc_strv *keys, struct qc_error *err)
{
	cleanup_free char *text = NULL;
	cleanup_free char *what = qc_xasprintf("ssh key '%s'", path);
	size_t len;
	int r;

	if ((r = qc_read_file(AT_FDCWD, path, QC_SEED_SSH_KEY_FILE_MAX, &text, &len, err)) < 0)
		return qc_error_prefix(err, "ssh key");
	return qc_cloudinit_parse_ssh_keys(what, text, len, keys, err);
}

int qc_driver_seed_read_keys(
	const char *const *files, bool use_default, char ***ret, struct qc_error *err)
{
	cleanup_strvec struct qc_strv keys = {0};
	int r;

	for (size_t i = 0; files && files[i]; i++)
		if ((r = read_key_file(files[i], &keys, err)) < 0)
			return r;
	if ((!files || !files[0]) && use_default && getenv("HOME")) {
		cleanup_free char *pat = qc_xasprintf("%s/.ssh/id_*.pub", getenv("HOME"));
		glob_t g = {0};

		if (glob(pat, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++) {
				struct qc_error e2 = {0};

				if (read_key_file(g.gl_pathv[i], &keys, &e2) < 0)
					qc_warn("skipping default key: %s", e2.msg);
			}
		}
		globfree(&g);
	}
	*ret = keys.v ? qc_strv_steal(&keys) : qc_xzalloc(sizeof(char *));
	return 0;
}

/* ------------------------------------------------------------- content */

struct content {
	char *user_data, *network_config, *meta_data; /* network_config may be NULL */
	char *vendor_data; /* qemuctl's #cloud-config next to a user's --user-data, or NULL */
	size_t ud_len, nc_len, md_len, vd_len;
	char *hostname; /* for the generated meta-data */
	char hash[65];
};

static void content_clear(struct content *c)
{
	qc_free_all(c->user_data, c->network_config, c->meta_data, c->vendor_data, c->hostname);
}

static int read_checked(const char *opt, const char *path, size_t max,
	int (*check)(const char *, const char *, size_t, struct qc_error *), char **ret,
	size_t *ret_len, struct qc_error *err)
{
	cleanup_free char *text = NULL;
	cleanup_free char *what = qc_xasprintf("%s '%s'", opt, path);
	size_t len;
	int r;

	if ((r = qc_read_file(AT_FDCWD, path, max, &text, &len, err)) < 0)
		return qc_error_prefix(err, "%s", opt);
	if ((r = check(what, text, len, err)) < 0)
		return r;
	*ret = TAKE_PTR(text);
	*ret_len = len;
	return 0;
}

static void hash_part(struct qc_sha256 *h, const char *name, const char *data, size_t len)
{
	char head[64];
	int n = snprintf(head, sizeof(head), "%s %zu%c", name, data ? len : (size_t) -1, '\0');

	qc_sha256_update(h, head, (size_t) n + 1);
	if (data)
		qc_sha256_update(h, data, len);
}

/* Callers have run qc_sha256_load(): libcrypto is loaded on first use. */
static void content_hash(struct content *c)
{
	cleanup_sha256 struct qc_sha256 *h = qc_sha256_new();

	hash_part(h, "user-data", c->user_data, c->ud_len);
	hash_part(h, "network-config", c->network_config, c->nc_len);
	hash_part(h, "meta-data", c->meta_data, c->md_len);
	hash_part(h, "hostname", c->hostname, c->hostname ? strlen(c->hostname) : 0);
	if (c->vendor_data) /* absent: the same hash as before vendor-data existed */
		hash_part(h, "vendor-data", c->vendor_data, c->vd_len);
	qc_sha256_final(h, c->hash);
}

/* The subnet's first host address: the gateway net/'s IPAM gives every named network. */
static bool first_host(const char *cidr, char out[16])
{
	char addr[16];
	const char *slash = strchr(cidr, '/');
	struct in_addr in;
	long prefix;

	if (!slash || (size_t) (slash - cidr) >= sizeof(addr))
		return false;
	memcpy(addr, cidr, (size_t) (slash - cidr));
	addr[slash - cidr] = '\0';
	prefix = strtol(slash + 1, NULL, 10);
	if (inet_pton(AF_INET, addr, &in) != 1 || prefix < 1 || prefix > 30)
		return false;
	uint32_t a = ntohl(in.s_addr), mask = prefix ? ~0u << (32 - prefix) : 0;
	uint32_t gw = (a & mask) + 1;

	if (gw == a)
		return false;
	in.s_addr = htonl(gw);
	return inet_ntop(AF_INET, &in, out, 16) != NULL;
}

struct gen_opts {
	const char *hostname, *user;
	const char *const *keys; /* user's key lines */
	const char *own_key; /* or NULL */
	const struct qc_domain *d; /* shares and NICs, or NULL */
	const struct qc_seed_host_key *host_key; /* the guest's sshd key, or NULL */
};

static int generate_user_data(const struct gen_opts *g, struct content *c, struct qc_error *err)
{
	cleanup_strvec struct qc_strv keys = {0};
	struct qc_seed_share *shares = NULL;
	struct qc_seed_config cfg = {
		.instance_id = "unused", .hostname = g->hostname, .user = g->user};
	int r;

	for (size_t i = 0; g->keys && g->keys[i]; i++)
		qc_strv_push(&keys, g->keys[i]);
	if (g->own_key)
		qc_strv_push(&keys, g->own_key);
	cfg.ssh_keys = (const char *const *) keys.v;
	if (g->host_key) {
		cfg.host_keys = g->host_key;
		cfg.n_host_keys = 1;
	}
	if (g->d && g->d->n_shares) {
		shares = qc_xzalloc(g->d->n_shares * sizeof(*shares));
		for (size_t i = 0; i < g->d->n_shares; i++) {
			shares[i].tag = g->d->shares[i].tag;
			shares[i].readonly = g->d->shares[i].readonly;
		}
		cfg.shares = shares;
		cfg.n_shares = g->d->n_shares;
	}
	r = qc_cloudinit_user_data(&cfg, &c->user_data, err);
	free(shares);
	if (r < 0)
		return r;
	c->ud_len = strlen(c->user_data);
	return 0;
}

static int generate_network_config(
	const struct qc_domain *d, struct content *c, struct qc_error *err)
{
	struct qc_seed_nic *nics = qc_xzalloc((d->n_nics + 1) * sizeof(*nics));
	char(*gws)[16] = qc_xzalloc((d->n_nics + 1) * sizeof(*gws));
	struct qc_seed_config cfg = {.instance_id = "unused", .nics = nics, .n_nics = d->n_nics};
	int r;

	for (size_t i = 0; i < d->n_nics; i++) {
		nics[i].mac = d->nics[i].mac;
		nics[i].address = d->nics[i].ip;
		if (d->nics[i].ip && first_host(d->nics[i].ip, gws[i]))
			nics[i].gateway = gws[i];
	}
	r = qc_cloudinit_network_config(&cfg, &c->network_config, err);
	free(nics);
	free(gws);
	if (r < 0)
		return qc_error_prefix(err, "network-config");
	c->nc_len = c->network_config ? strlen(c->network_config) : 0;
	return 0;
}

static int write_iso(int dfd, const char *name, const char *instance_id, struct content *c,
	bool durable, struct qc_error *err)
{
	struct qc_iso_opts opts = {.no_fsync = !durable};
	cleanup_free char *md = NULL;
	struct qc_seed_config cfg = {.instance_id = instance_id, .hostname = c->hostname};
	struct qc_iso_entry e[4];
	size_t n = 0;
	int r;

	if (!c->meta_data && (r = qc_cloudinit_meta_data(&cfg, &md, err)) < 0)
		return r;
	e[n++] = (struct qc_iso_entry){.path = "meta-data",
		.data = c->meta_data ? c->meta_data : md,
		.len = c->meta_data ? c->md_len : strlen(md)};
	e[n++] = (struct qc_iso_entry){.path = "user-data", .data = c->user_data, .len = c->ud_len};
	if (c->network_config)
		e[n++] = (struct qc_iso_entry){
			.path = "network-config", .data = c->network_config, .len = c->nc_len};
	if (c->vendor_data)
		e[n++] = (struct qc_iso_entry){
			.path = "vendor-data", .data = c->vendor_data, .len = c->vd_len};
	return qc_cloudinit_iso_write(dfd, name, e, n, &opts, err);
}

int qc_driver_seed_build(
	struct qc_domain *d, int vm_dfd, const char *root, bool *ret_changed, struct qc_error *err)
{
	struct content c = {0};
	cleanup_free char *own = NULL, *iid = NULL, *ud = NULL, *hk_priv = NULL, *hk_pub = NULL;
	size_t ud_len = 0;
	unsigned gen;
	bool changed, carry;
	int r;

	if (ret_changed)
		*ret_changed = false;
	if (!d->seed.enabled)
		return sync_known_hosts(vm_dfd, d->name, NULL, err);
	if (d->seed.hostname)
		c.hostname = qc_xstrdup(d->seed.hostname);
	else if (qc_validate_hostname(d->name, NULL) == 0)
		c.hostname = qc_xstrdup(d->name);

	/* A verbatim user-data first: whether it leaves the host key in place. */
	r = 0;
	if (d->seed.user_data)
		r = read_checked("--user-data", d->seed.user_data, QC_SEED_USER_DATA_MAX,
			qc_cloudinit_check_user_data, &ud, &ud_len, err);
	carry = r >= 0 && (!ud || qc_cloudinit_user_data_keeps_host_keys(ud, ud_len));
	if (r >= 0 && carry)
		r = qc_driver_seed_host_key(vm_dfd, d->name, &hk_priv, &hk_pub, err);
	if (r >= 0) {
		/*
		 * qemuctl's #cloud-config (hostname, the user with --ssh-key keys and
		 * qemuctl's own key, the host key, growpart) is the user-data; next
		 * to a user's --user-data it goes in as vendor-data, which
		 * cloud-init merges below the user's (their keys win), so 'qemuctl
		 * ssh' works with both.
		 */
		struct qc_seed_host_key hk = {QC_SEED_HOST_KEY_TYPE, hk_priv, hk_pub};
		struct gen_opts g = {.hostname = c.hostname,
			.user = d->seed.user,
			.keys = (const char *const *) d->seed.ssh_keys,
			.d = d,
			.host_key = hk_pub ? &hk : NULL};

		r = root ? qc_driver_seed_own_pubkey(root, &own, err) : 0;
		g.own_key = own;
		if (r >= 0)
			r = generate_user_data(&g, &c, err);
	}
	if (r >= 0 && ud) {
		c.vendor_data = TAKE_PTR(c.user_data);
		c.vd_len = c.ud_len;
		c.user_data = TAKE_PTR(ud);
		c.ud_len = ud_len;
	}
	if (r >= 0) {
		if (d->seed.network_config)
			r = read_checked("--network-config", d->seed.network_config,
				QC_SEED_NETWORK_CONFIG_MAX, qc_cloudinit_check_network_config,
				&c.network_config, &c.nc_len, err);
		else
			r = generate_network_config(d, &c, err);
	}
	if (r >= 0)
		r = qc_sha256_load(err);
	if (r < 0) {
		content_clear(&c);
		return r;
	}
	content_hash(&c);
	/* before the ISO: a seed with the key is never there without its known_hosts */
	if ((r = sync_known_hosts(vm_dfd, d->name, hk_pub, err)) < 0) {
		content_clear(&c);
		return qc_error_prefix(err, "ssh host key");
	}

	changed = !d->seed.content_hash || strcmp(d->seed.content_hash, c.hash) != 0;
	if (!changed && faccessat(vm_dfd, "seed.iso", F_OK, 0) == 0) {
		content_clear(&c);
		return 0;
	}
	gen = changed ? d->seed.generation + 1 : d->seed.generation;
	iid = qc_xasprintf("iid-%s-%u", d->uuid_str, gen);
	r = write_iso(vm_dfd, "seed.iso", iid, &c, true, err);
	if (r < 0) {
		content_clear(&c);
		return r;
	}
	if (changed) {
		d->seed.generation = gen;
		free(d->seed.content_hash);
		d->seed.content_hash = qc_xstrdup(c.hash);
	}
	if (ret_changed)
		*ret_changed = true;
	content_clear(&c);
	return 0;
}

void qc_driver_seed_disk(struct qc_domain *d, const char *vm_dir)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);
	struct qc_disk *k;

	for (size_t i = 0; i < d->n_disks; i++)
		if (d->disks[i].role == QC_ROLE_SEED)
			return;
	k = qc_domain_add_disk(d);
	k->name = qc_xstrdup("seed");
	k->role = QC_ROLE_SEED;
	k->device = ai ? ai->seed_device : QC_DEVICE_CDROM;
	k->bus = ai ? ai->seed_bus : QC_BUS_SATA;
	k->path = qc_xasprintf("%s/seed.iso", vm_dir);
	k->format = qc_xstrdup("raw");
	k->readonly = true;
	k->owned = true;
}

/* ----------------------------------------------------- the public build */

QC_PUBLIC int qc_seed_build(
	qc_ctx *ctx, const struct qc_seed_build_opts *o, const char *out_path, struct qc_error *err)
{
	struct content c = {0};
	cleanup_free char *own = NULL, *iid = NULL, *dir = NULL;
	cleanup_strv char **keys = NULL;
	cleanup_close int dfd = -1;
	const char *base;
	int r;

	if (!o)
		return qc_error_set(err, QC_ERR_INVALID, "seed: no options given (this is a bug)");
	if (!out_path || !*out_path)
		return qc_error_set(err, QC_ERR_INVALID, "seed: an output file is required");
	if (o->meta_data && o->instance_id)
		return qc_error_set(err, QC_ERR_INVALID,
			"seed: --instance-id and --meta-data exclude each other (the meta-data "
			"file holds the instance id)");
	if (o->user_data && o->ssh_keys && o->ssh_keys[0])
		return qc_error_set(err, QC_ERR_INVALID,
			"seed: --ssh-key has no effect with --user-data (the file is used "
			"verbatim); add the keys to the file instead");
	if (o->hostname && (r = qc_validate_hostname(o->hostname, err)) < 0)
		return qc_error_prefix(err, "seed: --hostname");
	if (o->instance_id && (r = qc_cloudinit_validate_instance_id(o->instance_id, err)) < 0)
		return qc_error_prefix(err, "seed");
	{
		struct stat st;

		if (stat(out_path, &st) == 0 && S_ISDIR(st.st_mode))
			return qc_error_set(err, QC_ERR_INVALID,
				"seed: output '%s' is a directory; give a file name, e.g. %s/seed.iso",
				out_path, out_path);
	}
	if (o->hostname)
		c.hostname = qc_xstrdup(o->hostname);

	/* The user's files first: a bad one fails before qemuctl's own key is made. */
	r = 0;
	if (o->network_config)
		r = read_checked("--network-config", o->network_config, QC_SEED_NETWORK_CONFIG_MAX,
			qc_cloudinit_check_network_config, &c.network_config, &c.nc_len, err);
	if (r >= 0 && o->meta_data)
		r = read_checked("--meta-data", o->meta_data, QC_SEED_META_DATA_MAX,
			qc_cloudinit_check_meta_data, &c.meta_data, &c.md_len, err);
	if (r >= 0 && o->user_data)
		r = read_checked("--user-data", o->user_data, QC_SEED_USER_DATA_MAX,
			qc_cloudinit_check_user_data, &c.user_data, &c.ud_len, err);
	else if (r >= 0) {
		r = qc_driver_seed_read_keys(o->ssh_keys, !o->no_default_keys, &keys, err);
		if (r >= 0 && ctx && !o->no_own_key)
			r = qc_driver_seed_own_pubkey(qc_ctx_root(ctx), &own, err);
		if (r >= 0) {
			struct gen_opts g = {.hostname = o->hostname,
				.user = o->user,
				.keys = (const char *const *) keys,
				.own_key = own};

			r = generate_user_data(&g, &c, err);
		}
	}
	/* The content hash only names a generated meta-data's instance id: with
	 * --meta-data or --instance-id, libcrypto is not even loaded (start-up
	 * cost, bench/README.md "seed"). */
	if (r >= 0 && !o->instance_id && !c.meta_data)
		r = qc_sha256_load(err);
	if (r < 0) {
		content_clear(&c);
		return qc_error_prefix(err, "seed");
	}
	if (o->instance_id)
		iid = qc_xstrdup(o->instance_id);
	else if (!c.meta_data) {
		content_hash(&c);
		iid = qc_xasprintf("iid-qemuctl-%.16s", c.hash);
	}

	/* the output: atomically, in its own directory */
	base = strrchr(out_path, '/');
	dir = base ? qc_xstrndup(out_path, (size_t) (base - out_path)) : qc_xstrdup(".");
	base = base ? base + 1 : out_path;
	if (!*dir) {
		free(dir);
		dir = qc_xstrdup("/");
	}
	if (!*base) {
		content_clear(&c);
		return qc_error_set(
			err, QC_ERR_INVALID, "seed: '%s' names a directory, not a file", out_path);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = qc_error_errno(err, errno, "seed: output directory '%s'", dir);
		content_clear(&c);
		return r;
	}
	/* like cp or genisoimage: atomic for readers, no fsync (the user can rebuild it) */
	r = write_iso(dfd, base, iid, &c, false, err);
	content_clear(&c);
	if (r < 0)
		return qc_error_prefix(err, "seed '%s'", out_path);
	return 0;
}
