/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/seed.c: qemuctl's own key pair, reading key files, the per-VM seed
 * (content hash, generation bump, rewrite only on change, nothing changed
 * on failure), the VM's sshd host key (made once, carried by every seed,
 * listed in known_hosts) and the public qc_seed_build().  Seeds are read back with
 * isoinfo through Rock Ridge.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"
#include "driver/seed.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

static char tmp[64];
static int tmp_dfd = -1;

static void setup(void)
{
	strcpy(tmp, "/tmp/check_driver_seed.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	tmp_dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(tmp_dfd, 0);
}

static void teardown(void)
{
	struct qc_error err = {0};

	close(tmp_dfd);
	qc_rm_rf_at(AT_FDCWD, tmp, &err);
}

static void put(const char *name, const char *text)
{
	struct qc_error err = {0};

	ck_assert_msg(
		qc_write_atomic(tmp_dfd, name, text, strlen(text), 0644, &err) == 0, "%s", err.msg);
}

static char *path(const char *name)
{
	return qc_xasprintf("%s/%s", tmp, name);
}

/* A file of the ISO, through Rock Ridge. */
static char *iso_file(const char *iso, const char *file)
{
	cleanup_free char *isoinfo = qc_find_program("isoinfo");

	ck_assert_msg(isoinfo != NULL, "isoinfo is needed (apt-get install genisoimage)");
	const char *argv[] = {isoinfo, "-R", "-i", iso, "-x", file, NULL};

	return unit_spawn_out(argv, NULL);
}

START_TEST(own_key_once)
{
	struct qc_error err = {0};
	cleanup_free char *k1 = NULL, *k2 = NULL, *priv = path("ssh/id_ed25519");
	struct stat st;

	ck_assert_msg(qc_driver_seed_own_pubkey(tmp, &k1, &err) == 0, "%s", err.msg);
	ck_assert(qc_str_has_prefix(k1, "ssh-ed25519 "));
	ck_assert_ptr_null(strchr(k1, '\n'));
	ck_assert_int_eq(qc_driver_seed_own_pubkey(tmp, &k2, &err), 0);
	ck_assert_str_eq(k1, k2);
	ck_assert_int_eq(stat(priv, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(fstatat(tmp_dfd, "ssh", &st, 0), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	/* no temp files left (they are dot files); the pair is there */
	cleanup_free char *ls = NULL, *ssh = path("ssh");
	DIR *d = opendir(ssh);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		ck_assert_msg(
			e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."),
			"left in ssh/: %s", e->d_name);
		n += !strcmp(e->d_name, QC_SEED_OWN_KEY) ||
		     !strcmp(e->d_name, QC_SEED_OWN_KEY ".pub");
	}
	closedir(d);
	ck_assert_int_eq(n, 2);
	/* a broken .pub is reported, not silently replaced */
	put("ssh/id_ed25519.pub", "garbage\n");
	ck_assert_int_lt(qc_driver_seed_own_pubkey(tmp, &ls, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not an ed25519 public key"));
}
END_TEST

START_TEST(read_keys)
{
	struct qc_error err = {0};
	cleanup_free char *a = path("a.pub"), *missing = path("missing.pub"), *home = path("home");
	char **keys = NULL;

	put("a.pub", "ssh-ed25519 AAAA one\nssh-rsa BBBB two\n");
	const char *files[] = {a, NULL};

	ck_assert_int_eq(qc_driver_seed_read_keys(files, true, &keys, &err), 0);
	ck_assert_str_eq(keys[0], "ssh-ed25519 AAAA one");
	ck_assert_str_eq(keys[1], "ssh-rsa BBBB two");
	ck_assert_ptr_null(keys[2]);
	qc_strv_free(keys);

	const char *bad[] = {a, missing, NULL};

	ck_assert_int_eq(qc_driver_seed_read_keys(bad, true, &keys, &err), -ENOENT);
	cleanup_free char *want =
		qc_xasprintf("ssh key: open '%s': No such file or directory", missing);

	ck_assert_str_eq(err.msg, want);
	const char *dir[] = {tmp, NULL};

	ck_assert_int_lt(qc_driver_seed_read_keys(dir, true, &keys, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "is a directory"));

	/* defaults: ~/.ssh/id_*.pub in name order, only when no file is given */
	ck_assert_int_eq(mkdirat(tmp_dfd, "home", 0700), 0);
	ck_assert_int_eq(mkdirat(tmp_dfd, "home/.ssh", 0700), 0);
	put("home/.ssh/id_rsa.pub", "ssh-rsa RRRR rsa\n");
	put("home/.ssh/id_ed25519.pub", "ssh-ed25519 EEEE ed\n");
	put("home/.ssh/id_bad.pub", "not a key\n");
	setenv("HOME", home, 1);
	ck_assert_int_eq(qc_driver_seed_read_keys(NULL, true, &keys, &err), 0);
	ck_assert_str_eq(keys[0], "ssh-ed25519 EEEE ed");
	ck_assert_str_eq(keys[1], "ssh-rsa RRRR rsa");
	ck_assert_ptr_null(keys[2]);
	qc_strv_free(keys);
	ck_assert_int_eq(qc_driver_seed_read_keys(NULL, false, &keys, &err), 0);
	ck_assert_ptr_null(keys[0]);
	qc_strv_free(keys);
}
END_TEST

static struct qc_domain *test_domain(void)
{
	struct qc_domain *d = qc_domain_new();
	static const char *const keys[] = {"ssh-ed25519 AAAA user@host", NULL};

	d->name = qc_xstrdup("web1");
	qc_domain_gen_uuid(d);
	d->seed.enabled = true;
	d->seed.ssh_keys = qc_xzalloc(2 * sizeof(char *));
	d->seed.ssh_keys[0] = qc_xstrdup(keys[0]);
	struct qc_nic *n = qc_domain_add_nic(d);

	n->name = qc_xstrdup("net0");
	n->type = QC_NIC_NETWORK;
	strcpy(n->mac, "52:54:00:12:34:56");
	n->ip = qc_xstrdup("10.77.0.5/24");
	struct qc_share *s = qc_domain_add_share(d);

	s->tag = qc_xstrdup("data");
	s->path = qc_xstrdup("/srv/data");
	return d;
}

START_TEST(vm_seed_generations)
{
	struct qc_error err = {0};
	cleanup_domain struct qc_domain *d = test_domain();
	cleanup_free char *iso = path("seed.iso");
	bool changed;
	struct stat st1, st2;

	ck_assert_msg(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err) == 0, "%s", err.msg);
	ck_assert(changed);
	ck_assert_uint_eq(d->seed.generation, 1);
	ck_assert_uint_eq(strlen(d->seed.content_hash), 64);
	{
		cleanup_free char *md = iso_file(iso, "/meta-data");
		cleanup_free char *want =
			qc_xasprintf("instance-id: iid-%s-1\nlocal-hostname: web1\n", d->uuid_str);
		cleanup_free char *ud = iso_file(iso, "/user-data");
		cleanup_free char *nc = iso_file(iso, "/network-config");
		cleanup_free char *own = NULL;

		ck_assert_str_eq(md, want);
		ck_assert(qc_str_has_prefix(ud, "#cloud-config\n"));
		ck_assert_ptr_nonnull(strstr(ud, "\"ssh-ed25519 AAAA user@host\""));
		ck_assert_int_eq(qc_driver_seed_own_pubkey(tmp, &own, &err), 0);
		ck_assert_ptr_nonnull(strstr(ud, own));
		ck_assert_ptr_nonnull(strstr(ud, "[\"data\", \"/mnt/data\", \"9p\""));
		ck_assert_ptr_nonnull(strstr(nc, "      - 10.77.0.5/24\n"
						 "    routes:\n"
						 "      - to: default\n"
						 "        via: 10.77.0.1\n"));
	}
	/* same content: nothing rewritten, same generation */
	ck_assert_int_eq(stat(iso, &st1), 0);
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert(!changed);
	ck_assert_uint_eq(d->seed.generation, 1);
	ck_assert_int_eq(stat(iso, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);

	/* a changed option: a new generation, so cloud-init runs again */
	free(d->seed.hostname);
	d->seed.hostname = qc_xstrdup("h2");
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert(changed);
	ck_assert_uint_eq(d->seed.generation, 2);
	{
		cleanup_free char *md = iso_file(iso, "/meta-data");
		cleanup_free char *want =
			qc_xasprintf("instance-id: iid-%s-2\nlocal-hostname: h2\n", d->uuid_str);

		ck_assert_str_eq(md, want);
	}
	/* a lost seed.iso is rebuilt without a new generation */
	ck_assert_int_eq(unlinkat(tmp_dfd, "seed.iso", 0), 0);
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert(changed);
	ck_assert_uint_eq(d->seed.generation, 2);
	ck_assert_int_eq(access(iso, F_OK), 0);

	/* a bad verbatim file: an error, and neither d nor seed.iso change */
	cleanup_free char *ud = path("ud.bin");
	cleanup_free char *hash = qc_xstrdup(d->seed.content_hash);

	put("ud.bin", "hello: world\n");
	d->seed.user_data = qc_xstrdup(ud);
	ck_assert_int_eq(stat(iso, &st1), 0);
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), -QC_ERR_INVALID);
	cleanup_free char *want = qc_xasprintf(
		"--user-data '%s': starts with "
		"'hello: world', which cloud-init does not recognise; the first line must be "
		"'#cloud-config', '#!<interpreter>', '#include', '#cloud-boothook', "
		"'## template: jinja' or 'Content-Type: multipart/...'",
		ud);

	ck_assert_str_eq(err.msg, want);
	ck_assert(!changed);
	ck_assert_uint_eq(d->seed.generation, 2);
	ck_assert_str_eq(d->seed.content_hash, hash);
	ck_assert_int_eq(stat(iso, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);
	/* a good one: verbatim */
	put("ud.bin", "#!/bin/sh\necho hi\n");
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert(changed);
	ck_assert_uint_eq(d->seed.generation, 3);
	cleanup_free char *got = iso_file(iso, "/user-data");

	ck_assert_str_eq(got, "#!/bin/sh\necho hi\n");
	/* next to it qemuctl's own #cloud-config as vendor-data: its user and key */
	cleanup_free char *vd = iso_file(iso, "/vendor-data");

	ck_assert_ptr_nonnull(vd);
	ck_assert_ptr_nonnull(strstr(vd, "#cloud-config\n"));
	ck_assert_ptr_nonnull(strstr(vd, "  - name: qemuctl\n"));
	ck_assert_ptr_nonnull(strstr(vd, "ssh_authorized_keys:\n"));

	/* disabled: nothing */
	d->seed.enabled = false;
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert(!changed);
	/* the seed disk is added once */
	qc_driver_seed_disk(d, tmp);
	qc_driver_seed_disk(d, tmp);
	ck_assert_uint_eq(d->n_disks, 1);
	ck_assert_str_eq(d->disks[0].path, iso);
	ck_assert(d->disks[0].readonly);
}
END_TEST

static char *read_text(const char *name)
{
	struct qc_error err = {0};
	char *text = NULL;

	ck_assert_msg(qc_read_file(tmp_dfd, name, 1 << 20, &text, NULL, &err) == 0, "%s", err.msg);
	return text;
}

/* Every line of the private key file, indented as the YAML block holds it. */
static void assert_carries_key(const char *doc, const char *priv, const char *pub)
{
	cleanup_free char *quoted = qc_xasprintf("  ed25519_public: \"%s\"\n", pub);
	const char *p = priv;

	ck_assert_ptr_nonnull(strstr(doc, "ssh_deletekeys: true\n"));
	ck_assert_ptr_nonnull(strstr(doc, "ssh_keys:\n  ed25519_private: |\n"));
	while (*p) {
		const char *eol = strchr(p, '\n');
		cleanup_free char *line = qc_xasprintf("    %.*s\n", (int) (eol - p), p);

		ck_assert_msg(strstr(doc, line) != NULL, "no '%s' in:\n%s", line, doc);
		p = eol + 1;
	}
	ck_assert_msg(strstr(doc, quoted) != NULL, "no '%s' in:\n%s", quoted, doc);
}

START_TEST(vm_seed_host_key)
{
	struct qc_error err = {0};
	cleanup_domain struct qc_domain *d = test_domain();
	cleanup_free char *iso = path("seed.iso"), *priv = NULL, *pub = NULL, *kh = NULL;
	cleanup_free char *ud = NULL;
	bool changed;
	struct stat st;

	ck_assert_msg(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err) == 0, "%s", err.msg);
	/* made once, private half 0600, comment: the VM */
	ck_assert_int_eq(fstatat(tmp_dfd, QC_SEED_HOST_KEY, &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	priv = read_text(QC_SEED_HOST_KEY);
	pub = read_text(QC_SEED_HOST_KEY ".pub");
	pub[strcspn(pub, "\n")] = '\0';
	ck_assert(qc_str_has_prefix(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
	ck_assert(qc_str_has_prefix(pub, "ssh-ed25519 "));
	ck_assert(qc_str_has_suffix(pub, " web1"));
	ud = iso_file(iso, "/user-data");
	assert_carries_key(ud, priv, pub);
	/* known_hosts: the key under the VM's alias, without the comment */
	kh = read_text(QC_SEED_KNOWN_HOSTS);
	{
		cleanup_free char *want =
			qc_xasprintf("qemuctl-web1 %.*s\n", (int) (strrchr(pub, ' ') - pub), pub);

		ck_assert_str_eq(kh, want);
	}

	/* a rebuilt seed (new generation) carries the same key */
	free(d->seed.hostname);
	d->seed.hostname = qc_xstrdup("h2");
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert(changed);
	ck_assert_uint_eq(d->seed.generation, 2);
	{
		cleanup_free char *priv2 = read_text(QC_SEED_HOST_KEY);
		cleanup_free char *pub2 = read_text(QC_SEED_HOST_KEY ".pub");
		cleanup_free char *ud2 = iso_file(iso, "/user-data");
		cleanup_free char *kh2 = read_text(QC_SEED_KNOWN_HOSTS);

		ck_assert_str_eq(priv2, priv);
		ck_assert(qc_str_has_prefix(pub2, pub));
		ck_assert_str_eq(kh2, kh);
		assert_carries_key(ud2, priv, pub);
	}
	/* same content, known_hosts lost: written again, seed untouched */
	ck_assert_int_eq(unlinkat(tmp_dfd, QC_SEED_KNOWN_HOSTS, 0), 0);
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert(!changed);
	{
		cleanup_free char *kh2 = read_text(QC_SEED_KNOWN_HOSTS);

		ck_assert_str_eq(kh2, kh);
	}

	/* a verbatim script: the key goes in with vendor-data */
	cleanup_free char *udp = path("ud");

	put("ud", "#!/bin/sh\necho hi\n");
	d->seed.user_data = qc_xstrdup(udp);
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	{
		cleanup_free char *vd = iso_file(iso, "/vendor-data");
		cleanup_free char *u = iso_file(iso, "/user-data");

		assert_carries_key(vd, priv, pub);
		ck_assert_str_eq(u, "#!/bin/sh\necho hi\n");
		ck_assert_int_eq(faccessat(tmp_dfd, QC_SEED_KNOWN_HOSTS, F_OK, 0), 0);
	}
	/* a #cloud-config with its own ssh_keys: no key of ours, no known_hosts */
	put("ud", "#cloud-config\nssh_keys:\n  rsa_private: x\n");
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert(changed);
	{
		cleanup_free char *vd = iso_file(iso, "/vendor-data");

		ck_assert_ptr_null(strstr(vd, "ssh_keys"));
		ck_assert_ptr_null(strstr(vd, "BEGIN OPENSSH"));
		ck_assert_int_eq(faccessat(tmp_dfd, QC_SEED_KNOWN_HOSTS, F_OK, 0), -1);
	}
	/* the key files stay for when the seed carries the key again */
	put("ud", "#cloud-config\nruncmd: [true]\n");
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	{
		cleanup_free char *vd = iso_file(iso, "/vendor-data");
		cleanup_free char *kh2 = read_text(QC_SEED_KNOWN_HOSTS);

		assert_carries_key(vd, priv, pub);
		ck_assert_str_eq(kh2, kh);
	}
	/* no seed: no known_hosts (ssh learns the key on first use) */
	d->seed.enabled = false;
	ck_assert_int_eq(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert_int_eq(faccessat(tmp_dfd, QC_SEED_KNOWN_HOSTS, F_OK, 0), -1);
}
END_TEST

/* A private key others can read, or a symlink in its place, fails the build. */
START_TEST(vm_seed_host_key_refused)
{
	struct qc_error err = {0};
	cleanup_domain struct qc_domain *d = test_domain();
	cleanup_free char *iso = path("seed.iso");
	bool changed;
	struct stat st1, st2;

	ck_assert_msg(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(stat(iso, &st1), 0);
	free(d->seed.hostname);
	d->seed.hostname = qc_xstrdup("h2");

	ck_assert_int_eq(fchmodat(tmp_dfd, QC_SEED_HOST_KEY, 0644, 0), 0);
	ck_assert_int_lt(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert_msg(strstr(err.msg, "ssh host key: '" QC_SEED_HOST_KEY
				      "' must be a regular file of uid") != NULL,
		"%s", err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, "mode 0644"));
	ck_assert(!changed);
	ck_assert_uint_eq(d->seed.generation, 1);
	ck_assert_int_eq(stat(iso, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino);

	ck_assert_int_eq(renameat(tmp_dfd, QC_SEED_HOST_KEY, tmp_dfd, "elsewhere"), 0);
	ck_assert_int_eq(fchmodat(tmp_dfd, "elsewhere", 0600, 0), 0);
	ck_assert_int_eq(symlinkat("elsewhere", tmp_dfd, QC_SEED_HOST_KEY), 0);
	ck_assert_int_lt(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert_msg(strstr(err.msg, "open '" QC_SEED_HOST_KEY "'") != NULL, "%s", err.msg);
	ck_assert_uint_eq(d->seed.generation, 1);

	/* a private key that is not one: refused, not carried into the YAML */
	ck_assert_int_eq(unlinkat(tmp_dfd, QC_SEED_HOST_KEY, 0), 0);
	ck_assert_int_eq(qc_write_atomic(tmp_dfd, QC_SEED_HOST_KEY,
				 "-----BEGIN OPENSSH PRIVATE KEY-----\nruncmd: [x]\n"
				 "-----END OPENSSH PRIVATE KEY-----\n",
				 83, 0600, &err),
		0);
	ck_assert_int_lt(qc_driver_seed_build(d, tmp_dfd, tmp, &changed, &err), 0);
	ck_assert_msg(strstr(err.msg, "other than base64 lines") != NULL, "%s", err.msg);
	ck_assert_uint_eq(d->seed.generation, 1);
}
END_TEST

START_TEST(known_hosts_line)
{
	struct qc_error err = {0};
	cleanup_free char *line = NULL;
	static const char *const bad_alias[] = {"", "*", "a,b", "!x", "@cert-authority", "a b",
		"a\nb", "[127.0.0.1]:22", "|1|x", "a#b", NULL};
	static const char *const bad_key[] = {"", "ssh-ed25519", "ssh-ed25519 ",
		"ssh-ed25519 AA\nqemuctl-x ssh-rsa BB", "ssh-ed25519 AA,*", "x*y AAAA",
		"ssh-ed25519  AAAA", NULL};

	ck_assert_qc_ok(qc_driver_known_hosts_line("qemuctl-web1",
				"ssh-ed25519 AAAAC3Nz+/= web1 comment", &line, &err),
		&err);
	ck_assert_str_eq(line, "qemuctl-web1 ssh-ed25519 AAAAC3Nz+/=\n");
	free(line);
	/* the comment is dropped, whatever it holds */
	ck_assert_qc_ok(qc_driver_known_hosts_line("qemuctl-web1",
				"ssh-ed25519 AAAA c\nqemuctl-web1 ssh-rsa BB", &line, &err),
		&err);
	ck_assert_str_eq(line, "qemuctl-web1 ssh-ed25519 AAAA\n");
	for (size_t i = 0; bad_alias[i]; i++) {
		char *l = NULL;

		ck_assert_qc_fail(
			qc_driver_known_hosts_line(bad_alias[i], "ssh-ed25519 AAAA", &l, &err),
			&err, QC_ERR_INVALID, "is not made of [A-Za-z0-9._-]");
		ck_assert_ptr_null(l);
	}
	for (size_t i = 0; bad_key[i]; i++) {
		char *l = NULL;

		ck_assert_qc_fail(qc_driver_known_hosts_line("qemuctl-web1", bad_key[i], &l, &err),
			&err, QC_ERR_INVALID, "public key line");
		ck_assert_ptr_null(l);
	}
	free(line);
	line = qc_driver_ssh_host_alias("web1");
	ck_assert_str_eq(line, "qemuctl-web1");
}
END_TEST

START_TEST(standalone_build)
{
	struct qc_error err = {0};
	cleanup_free char *ud = path("user-data"), *nc = path("net.yaml"), *md = path("md.yaml");
	cleanup_free char *out = path("out.iso"), *out2 = path("out2.iso");
	cleanup_free uint8_t *a = NULL, *b = NULL;
	size_t la, lb;

	put("user-data", "#cloud-config\nruncmd: [true]\n");
	put("net.yaml", "version: 2\nethernets: {}\n");
	put("md.yaml", "instance-id: mine\n");
	struct qc_seed_build_opts o = {
		.hostname = "h1", .user_data = ud, .network_config = nc, .instance_id = "iid-test"};

	ck_assert_msg(qc_seed_build(NULL, &o, out, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_seed_build(NULL, &o, out2, &err), 0);
	ck_assert_int_eq(qc_read_file(AT_FDCWD, out, 1 << 20, (char **) &a, &la, &err), 0);
	ck_assert_int_eq(qc_read_file(AT_FDCWD, out2, 1 << 20, (char **) &b, &lb, &err), 0);
	ck_assert_uint_eq(la, lb);
	ck_assert(!memcmp(a, b, la)); /* deterministic */
	cleanup_free char *m = iso_file(out, "/meta-data"), *u = iso_file(out, "/user-data");
	cleanup_free char *n = iso_file(out, "/network-config");

	ck_assert_str_eq(m, "instance-id: iid-test\nlocal-hostname: h1\n");
	ck_assert_str_eq(u, "#cloud-config\nruncmd: [true]\n");
	ck_assert_str_eq(n, "version: 2\nethernets: {}\n");

	/* verbatim meta-data, generated user-data with an explicit key, no defaults */
	cleanup_free char *key = path("k.pub");

	put("k.pub", "ssh-ed25519 KKKK k\n");
	const char *keys[] = {key, NULL};
	struct qc_seed_build_opts o2 = {.meta_data = md, .ssh_keys = keys};

	ck_assert_msg(qc_seed_build(NULL, &o2, out, &err) == 0, "%s", err.msg);
	cleanup_free char *m2 = iso_file(out, "/meta-data"), *u2 = iso_file(out, "/user-data");

	ck_assert_str_eq(m2, "instance-id: mine\n");
	ck_assert_ptr_nonnull(strstr(u2, "\"ssh-ed25519 KKKK k\""));

	/* bad input: clear errors, no output file */
	cleanup_free char *none = path("none.iso");
	struct qc_seed_build_opts bad = {.meta_data = md, .instance_id = "x"};

	ck_assert_int_eq(qc_seed_build(NULL, &bad, none, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "seed: --instance-id and --meta-data exclude each other (the "
				  "meta-data file holds the instance id)");
	bad = (struct qc_seed_build_opts){.hostname = "-bad-"};
	ck_assert_int_eq(qc_seed_build(NULL, &bad, none, &err), -QC_ERR_INVALID);
	ck_assert(qc_str_has_prefix(err.msg, "seed: --hostname: "));
	put("bin", "#!/bin/sh\n\x01\x02\xff");
	cleanup_free char *bin = path("bin");

	bad = (struct qc_seed_build_opts){.user_data = bin};
	ck_assert_int_eq(qc_seed_build(NULL, &bad, none, &err), -QC_ERR_INVALID);
	cleanup_free char *want = qc_xasprintf("seed: --user-data '%s': not valid UTF-8 text", bin);

	ck_assert_str_eq(err.msg, want);
	bad = (struct qc_seed_build_opts){.network_config = ud};
	ck_assert_int_eq(qc_seed_build(NULL, &bad, none, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(access(none, F_OK), -1);
	cleanup_free char *nodir = path("nodir/x.iso");

	ck_assert_int_lt(qc_seed_build(NULL, &o, nodir, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file or directory"));
}
END_TEST

/* create's guest user without --user: the caller's name ($SUDO_USER as root), else debian */
START_TEST(default_user)
{
	static const char *const refused[] = {"root", "Alice", "a b", "-oProxyCommand=x", "",
		"abcdefghijklmnopqrstuvwxyz0123456", NULL};
	struct passwd *pw = getpwuid(geteuid());
	char *u;

	if (geteuid() != 0) {
		/* a user: the login name, whatever $SUDO_USER says */
		ck_assert_int_eq(setenv("SUDO_USER", "alice", 1), 0);
		u = qc_driver_seed_default_user();
		ck_assert_str_eq(u, pw && qc_domain_check_user(pw->pw_name, NULL) == 0
					    ? pw->pw_name
					    : QC_SEED_FALLBACK_USER);
		free(u);
		return;
	}
	ck_assert_int_eq(setenv("SUDO_USER", "alice", 1), 0);
	u = qc_driver_seed_default_user();
	ck_assert_str_eq(u, "alice");
	free(u);
	for (size_t i = 0; refused[i]; i++) {
		ck_assert_int_eq(setenv("SUDO_USER", refused[i], 1), 0);
		u = qc_driver_seed_default_user();
		ck_assert_str_eq(u, "debian");
		free(u);
	}
	ck_assert_int_eq(unsetenv("SUDO_USER"), 0);
	u = qc_driver_seed_default_user();
	ck_assert_str_eq(u, "debian");
	free(u);
}
END_TEST

static Suite *seed_driver_suite(void)
{
	Suite *s = suite_create("seed_driver");
	TCase *t;

	t = unit_tcase(s, "driver", own_key_once, read_keys, vm_seed_generations, vm_seed_host_key,
		vm_seed_host_key_refused, known_hosts_line, standalone_build, default_user, NULL);
	tcase_add_checked_fixture(t, setup, teardown);
	return s;
}

UNIT_MAIN(seed_driver_suite)
