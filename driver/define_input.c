/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files a user names when defining a VM.  --user-data and --network-config
 * are read once at create and copied into the VM's directory, so what the
 * guest gets never changes behind the definition's back.  A kernel or
 * initrd QEMU boots as root must not be writable by anyone else: not the
 * file, not a directory on its path (a sticky directory, like /tmp, lets
 * nobody else replace a root file in it).  As root, the files a definition
 * hands a confined QEMU from outside the state root must be files QEMU's
 * user could open itself: root opens them, and a definition must not pass
 * the guest a root-only file of the host.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cloudinit/cloudinit.h"
#include "driver/confine.h"
#include "driver/domain.h"
#include "driver/driver.h"

static int writable_by_others(const struct stat *st, bool dir)
{
	if (st->st_uid != 0)
		return 1;
	if (dir && (st->st_mode & S_ISVTX))
		return 0;
	return (st->st_mode & 022) != 0;
}

/*
 * abs, a regular file, opened read-only: *ret_fd and *st.  Errors name it
 * "WHAT 'PATH'", with open_note after it when it cannot be opened.
 */
static int open_regular(const char *what, const char *path, const char *abs, const char *open_note,
	int *ret_fd, struct stat *st, struct qc_error *err)
{
	cleanup_close int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return qc_error_errno(err, errno, "%s '%s'%s", what, path, open_note);
	if (fstat(fd, st) < 0)
		return qc_error_errno(err, errno, "%s '%s'", what, path);
	if (!S_ISREG(st->st_mode))
		return qc_error_set(err, QC_ERR_INVALID, "%s '%s': not a regular file", what, path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int qc_driver_open_input(const char *what, const char *path, char **ret, int *ret_fd,
	struct stat *ret_st, struct qc_error *err)
{
	cleanup_free char *abs = NULL;
	cleanup_close int fd = -1;
	struct stat st;
	int r;

	if (!path || !path[0])
		return qc_error_set(err, QC_ERR_INVALID, "%s: empty path", what);
	if ((r = qc_abspath(path, &abs, err)) < 0)
		return qc_error_prefix(err, "%s '%s'", what, path);
	if ((r = open_regular(what, path, abs, ": cannot read", &fd, &st, err)) < 0)
		return r;
	*ret = TAKE_PTR(abs);
	if (ret_fd)
		*ret_fd = TAKE_FD(fd);
	if (ret_st)
		*ret_st = st;
	return 0;
}

int qc_driver_check_root_file(const char *what, const char *path, struct qc_error *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *dir = NULL;
	struct stat st;
	int r;

	if (geteuid() != 0)
		return 0; /* a user's QEMU runs with the user's own rights */
	if ((r = open_regular(what, path, path, "", &fd, &st, err)) < 0)
		return r;
	if (writable_by_others(&st, false))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' can be written by another user (owner uid %u, mode %04o); QEMU "
			"runs it as root: make it root's and not group/other-writable",
			what, path, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
	dir = qc_xstrdup(path);
	for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
		*slash = 0;
		if (stat(dir[0] ? dir : "/", &st) < 0)
			return qc_error_errno(err, errno, "%s '%s': directory '%s'", what, path,
				dir[0] ? dir : "/");
		if (writable_by_others(&st, true))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s': directory '%s' can be written by another user (owner "
				"uid %u, mode %04o), who could replace the file; move it to a "
				"directory only root can write",
				what, path, dir[0] ? dir : "/", (unsigned) st.st_uid,
				(unsigned) (st.st_mode & 07777));
		if (!dir[0])
			break;
	}
	return 0;
}

/*
 * A file a definition names that qemuctl opens as root and hands to the
 * guest (kernel, initrd): whoever wrote the definition must have been able
 * to read it, and qemuctl does not know who that was, so it must be one any
 * user can read (others may read it and search every directory above it).
 * Otherwise <initrd>/etc/shadow</initrd> would load root's secrets into a
 * guest the definition's author controls.
 */
int qc_driver_check_public_file(const char *what, const char *path, struct qc_error *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *dir = NULL;
	struct statfs fs;
	struct stat st;

	if (geteuid() != 0)
		return 0; /* read with the caller's own rights */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	/* a missing file gives the guest nothing: start says it is missing */
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return qc_error_errno(err, errno, "%s '%s'", what, path);
	if (fstat(fd, &st) < 0 || fstatfs(fd, &fs) < 0)
		return qc_error_errno(err, errno, "%s '%s'", what, path);
	/* what these give depends on who reads: /proc/kallsyms shows root the addresses */
	if (qc_domain_pseudo_fs((unsigned long) fs.f_type))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is a file of a kernel pseudo file system (/proc, /sys...), "
			"whose content depends on who reads it; give a kernel image file",
			what, path);
	if (!(st.st_mode & S_IROTH))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is not readable by every user (mode %04o); a definition may "
			"hand the guest only a file anyone may read: chmod o+r it or use "
			"'qemuctl create --kernel/--initrd'",
			what, path, (unsigned) (st.st_mode & 07777));
	dir = qc_xstrdup(path);
	for (char *slash = strrchr(dir, '/'); slash && slash != dir; slash = strrchr(dir, '/')) {
		*slash = 0;
		if (stat(dir, &st) < 0)
			return qc_error_errno(err, errno, "%s '%s': directory '%s'", what, path, dir);
		if (!(st.st_mode & S_IXOTH))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s': directory '%s' is not searchable by every user (mode "
				"%04o); a definition may hand the guest only a file anyone may read",
				what, path, dir, (unsigned) (st.st_mode & 07777));
	}
	return 0;
}

/*
 * A definition replaces an existing VM's only when it is that VM's (same
 * UUID, as dumpxml gives it): a definition of another VM that only shares
 * the name would take over this VM's disks and files, its snapshots and
 * directory.  libvirt refuses the same.  An existing definition that no
 * longer loads may be replaced (that is how it is repaired).
 */
int qc_driver_check_same_vm(
	qc_ctx *ctx, const struct qc_domain *d, const char *xml_path, struct qc_error *err)
{
	cleanup_free char *dir = qc_driver_vm_dir(ctx, d->name);
	cleanup_free char *path = qc_xasprintf("%s/%s", dir, QC_VM_DOMAIN);
	cleanup_domain struct qc_domain *old = NULL;

	if (qc_domain_load(path, NULL, NULL, &old, NULL) < 0)
		return 0;
	if (memcmp(old->uuid, d->uuid, sizeof(d->uuid)) == 0)
		return 0;
	return qc_error_set(err, QC_ERR_EXISTS,
		"%s: VM '%s' already exists with UUID %s, and this definition's is %s (a "
		"definition without <uuid> gets a new one); pick another <name>, or edit "
		"'qemuctl dumpxml %s' and define that",
		xml_path, d->name, old->uuid_str, d->uuid_str, d->name);
}

void qc_driver_captured_clear(struct qc_driver_captured *c)
{
	free(c->user_data);
	free(c->network_config);
	memset(c, 0, sizeof(*c));
}

static int capture(const char *opt, const char *path, size_t max,
	int (*check)(const char *, const char *, size_t, struct qc_error *), char **ret,
	size_t *ret_len, struct qc_error *err)
{
	cleanup_free char *text = NULL, *what = qc_xasprintf("%s '%s'", opt, path);
	size_t len;
	int r;

	if (!path[0])
		return qc_error_set(err, QC_ERR_INVALID, "%s: empty path", opt);
	/* a regular file (no FIFO, device or directory): O_NONBLOCK, a FIFO never blocks */
	{
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		struct stat st;

		if (fd < 0)
			return qc_error_errno(err, errno, "%s: cannot read", what);
		if (fstat(fd, &st) < 0)
			return qc_error_errno(err, errno, "%s", what);
		if (!S_ISREG(st.st_mode))
			return qc_error_set(err, QC_ERR_INVALID, "%s: not a regular file", what);
	}
	/* at most max bytes; then cloud-init's checks (UTF-8 text, no NUL, its syntax) */
	if ((r = qc_read_file(AT_FDCWD, path, max, &text, &len, err)) < 0)
		return qc_error_prefix(err, "%s", opt);
	if ((r = check(what, text, len, err)) < 0)
		return r;
	*ret = TAKE_PTR(text);
	*ret_len = len;
	return 0;
}

int qc_driver_capture_seed_files(const char *user_data, const char *network_config,
	struct qc_driver_captured *c, struct qc_error *err)
{
	int r;

	if (user_data && (r = capture("--user-data", user_data, QC_SEED_USER_DATA_MAX,
				  qc_cloudinit_check_user_data, &c->user_data, &c->ud_len, err)) < 0)
		return r;
	if (network_config &&
		(r = capture("--network-config", network_config, QC_SEED_NETWORK_CONFIG_MAX,
			 qc_cloudinit_check_network_config, &c->network_config, &c->nc_len,
			 err)) < 0)
		return r;
	return 0;
}

int qc_driver_captured_write(const struct qc_driver_captured *c, int dfd, struct qc_error *err)
{
	int r;

	if (c->user_data && (r = qc_write_atomic(dfd, QC_VM_USER_DATA, c->user_data, c->ud_len,
				     0600, err)) < 0)
		return r;
	if (c->network_config && (r = qc_write_atomic(dfd, QC_VM_NETWORK_CONFIG,
					  c->network_config, c->nc_len, 0600, err)) < 0)
		return r;
	return 0;
}

/* Does old (the VM a define replaces, or NULL) already hand QEMU path? */
static bool kept_file(const struct qc_domain *old, const char *path)
{
	for (size_t i = 0; old && i < old->n_disks; i++)
		if (strcmp(old->disks[i].path, path) == 0 ||
			(old->disks[i].backing && strcmp(old->disks[i].backing, path) == 0))
			return true;
	return old && old->nvram && strcmp(old->nvram, path) == 0;
}

static int check_qemu_file(const struct qc_confine *cf, const struct qc_domain *old,
	const char *root, const char *what, const char *path, bool writable, struct qc_error *err)
{
	size_t n = strlen(root);
	struct stat st;

	/* the state root's files are held to the VM's own (driver/domain_home.c) */
	if ((strncmp(path, root, n) == 0 && path[n] == '/') || kept_file(old, path))
		return 0;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : qc_error_errno(err, errno, "%s '%s'", what, path);
	if (qc_driver_confine_may(&st, cf->uid, cf->gid, writable))
		return 0;
	return qc_error_set(err, EACCES,
		"%s '%s' (owner uid %u, gid %u, mode %04o): user '%s' that QEMU runs as may not %s "
		"it; a definition may hand the guest only files QEMU's user could open itself: "
		"chgrp %s and chmod g+%s the file, or use 'qemuctl create' (its files are the "
		"caller's choice)",
		what, path, (unsigned) st.st_uid, (unsigned) st.st_gid,
		(unsigned) (st.st_mode & 07777), cf->name, writable ? "write" : "read", cf->name,
		writable ? "rw" : "r");
}

int qc_driver_check_qemu_files(qc_ctx *ctx, const struct qc_domain *d, struct qc_error *err)
{
	cleanup_free char *dir = qc_driver_vm_dir(ctx, d->name);
	cleanup_free char *path = qc_xasprintf("%s/%s", dir, QC_VM_DOMAIN);
	cleanup_domain struct qc_domain *old = NULL;
	const char *root = qc_ctx_root(ctx);
	struct qc_confine cf;
	int rc;

	if (geteuid() != 0 || qc_driver_confine_user(false, &cf, NULL) < 0 ||
		(!cf.active && !cf.missing))
		return 0;
	if (cf.missing) {
		/* made at the first start, in no group of an existing file */
		cf.uid = (uid_t) -1;
		cf.gid = (gid_t) -1;
	}
	if (qc_domain_load(path, NULL, NULL, &old, NULL) == 0 &&
		memcmp(old->uuid, d->uuid, sizeof(d->uuid)) != 0)
		qc_domain_freep(&old);
	for (size_t i = 0; i < d->n_disks; i++) {
		const struct qc_disk *k = &d->disks[i];
		cleanup_free char *what = qc_xasprintf("disk '%s'", k->name);
		bool rw = !k->readonly && k->device != QC_DEVICE_CDROM;

		if ((!k->owned && (rc = check_qemu_file(&cf, old, root, what, k->path, rw, err)) < 0) ||
			(k->backing && (rc = check_qemu_file(&cf, old, root, "backing file",
					       k->backing, false, err)) < 0))
			return qc_error_prefix(err, "VM '%s'", d->name);
	}
	if (d->nvram && (rc = check_qemu_file(&cf, old, root, "<nvram>", d->nvram, true, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", d->name);
	return 0;
}
