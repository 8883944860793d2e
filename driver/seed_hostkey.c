/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's sshd host key: one ed25519 pair per VM, made by ssh-keygen in
 * the VM's directory and kept, so every seed of the VM hands cloud-init the
 * same key and `qemuctl ssh` knows it in advance; and the known_hosts line
 * that lists it under the VM's alias.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"
#include "driver/seed_hostkey.h"

char *qc_driver_ssh_host_alias(const char *vm_name)
{
	return qc_xasprintf("qemuctl-%s", vm_name);
}

int qc_driver_known_hosts_line(
	const char *alias, const char *pubkey, char **ret, struct qc_error *err)
{
	const char *sp = strchr(pubkey, ' ');
	size_t tl = sp ? (size_t) (sp - pubkey) : 0, bl;

	/* the alias is a host pattern: no wildcards, negation, markers or separators */
	if (!*alias || alias[0] == '@' || alias[0] == '|' || alias[0] == '[')
		goto bad_alias;
	for (const char *p = alias; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '.' || *p == '_' || *p == '-'))
			goto bad_alias;
	if (!tl)
		goto bad_key;
	for (size_t i = 0; i < tl; i++)
		if (!(isalnum((unsigned char) pubkey[i]) || pubkey[i] == '-' || pubkey[i] == '.' ||
			    pubkey[i] == '@'))
			goto bad_key;
	bl = qc_cloudinit_base64_word(sp + 1);
	if (!bl)
		goto bad_key;
	*ret = qc_xasprintf("%s %.*s %.*s\n", alias, (int) tl, pubkey, (int) bl, sp + 1);
	return 0;
bad_alias:
	return qc_error_set(err, QC_ERR_INVALID,
		"known_hosts: host alias '%s' is not made of [A-Za-z0-9._-]", alias);
bad_key:
	return qc_error_set(err, QC_ERR_INVALID,
		"known_hosts: '%.40s' is not a '<type> <base64> [comment]' public key line",
		pubkey);
}

/* dfd/name: a regular file of ours that nobody else can read, not a symlink. */
static int read_private(int dfd, const char *name, char **ret, struct qc_error *err)
{
	cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	cleanup_free char *proc = NULL;
	struct stat st;

	if (fd < 0)
		return qc_error_errno(err, errno, "open '%s'", name);
	if (fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "stat '%s'", name);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return qc_error_set(err, QC_ERR_INVALID,
			"'%s' must be a regular file of uid %u with mode 0600 (it is %s, uid %u, "
			"mode %04o); remove it and its .pub so qemuctl makes a new pair",
			name, (unsigned) geteuid(), S_ISREG(st.st_mode) ? "a file" : "not a file",
			(unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
	proc = qc_xasprintf("/proc/self/fd/%d", fd);
	return qc_read_file(AT_FDCWD, proc, QC_SEED_SSH_KEY_FILE_MAX, ret, NULL, err);
}

int qc_driver_ssh_keygen(
	int dfd, const char *name, const char *type, const char *comment, struct qc_error *err)
{
	cleanup_free char *keygen = NULL, *tmp = NULL, *tmp_pub = NULL, *tmp_path = NULL;
	cleanup_free char *name_pub = qc_xasprintf("%s.pub", name);
	const struct qc_fdmap map[] = {{dfd, 3}};
	int r;

	if (!(keygen = qc_find_program("ssh-keygen")))
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"ssh-keygen not found in PATH; install openssh-client");
	tmp = qc_temp_name(name, "new");
	tmp_pub = qc_xasprintf("%s.pub", tmp);
	tmp_path = qc_xasprintf("/proc/self/fd/3/%s", tmp);
	(void) unlinkat(dfd, tmp, 0);
	(void) unlinkat(dfd, tmp_pub, 0);
	{
		const char *argv[] = {
			keygen, "-q", "-t", type, "-N", "", "-C", comment, "-f", tmp_path, NULL};
		struct qc_spawn_opts o = {.argv = argv,
			.fds = map,
			.n_fds = 1,
			.in = QC_STDIO_NULL,
			.out = QC_STDIO_CAPTURE,
			.errout = QC_STDIO_CAPTURE,
			.timeout_ms = 30000};

		if ((r = qc_spawn_check(&o, NULL, err)) < 0)
			goto fail;
	}
	/* the public half first: a private key without its .pub is never visible */
	if (renameat(dfd, tmp_pub, dfd, name_pub) < 0 || renameat(dfd, tmp, dfd, name) < 0) {
		r = qc_error_errno(err, errno, "rename '%s'", tmp);
		goto fail;
	}
	return qc_fsync_dir(dfd, err);
fail:
	(void) unlinkat(dfd, tmp, 0);
	(void) unlinkat(dfd, tmp_pub, 0);
	return r;
}

int qc_driver_seed_host_key(int vm_dfd, const char *vm_name, char **ret_private, char **ret_public,
	struct qc_error *err)
{
	cleanup_free char *priv = NULL, *pub = NULL;
	struct qc_seed_host_key k = {.type = QC_SEED_HOST_KEY_TYPE};
	size_t len;
	int r;

	if (faccessat(vm_dfd, QC_SEED_HOST_KEY, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		(r = qc_driver_ssh_keygen(
			 vm_dfd, QC_SEED_HOST_KEY, QC_SEED_HOST_KEY_TYPE, vm_name, err)) < 0)
		return qc_error_prefix(err, "ssh host key");
	if ((r = read_private(vm_dfd, QC_SEED_HOST_KEY, &priv, err)) < 0 ||
		(r = qc_read_file(vm_dfd, QC_SEED_HOST_KEY ".pub", QC_SEED_SSH_KEY_FILE_MAX, &pub,
			 &len, err)) < 0)
		return qc_error_prefix(err, "ssh host key");
	while (len && (pub[len - 1] == '\n' || pub[len - 1] == '\r'))
		pub[--len] = '\0';
	k.private_key = priv;
	k.public_key = pub;
	if ((r = qc_cloudinit_check_host_key(QC_SEED_HOST_KEY, &k, err)) < 0)
		return qc_error_prefix(err, "ssh host key (remove it and its .pub so qemuctl makes "
					    "a new pair)");
	*ret_private = TAKE_PTR(priv);
	*ret_public = TAKE_PTR(pub);
	return 0;
}
