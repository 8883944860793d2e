/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a definition may name as qemuctl's own: the files qemuctl made for a
 * VM live directly in its directory <root>/vms/<name>/ (a plain file name,
 * a regular file or not there yet, never a symlink), and an overlay's
 * backing is a layer there, the catalog image it was made from
 * (<root>/images/<image>.qcow2) or, for --disk-image, a file outside the
 * state root that qemuctl only reads.  Every record in <metadata> that makes
 * qemuctl remove, rebase, write or create a file is held to this when the
 * definition is loaded, so later commands act only on checked paths.
 */
#include "config.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/network.h"
#include "driver/seed.h"

#define QC_HOME_NAME_MAX 255

/* A file name qemuctl makes: [A-Za-z0-9][A-Za-z0-9._-]*, no "..", at most 255 bytes. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > QC_HOME_NAME_MAX || s[0] == '.' || s[0] == '-' || strstr(s, ".."))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* path's base name when path is vm_dir/NAME with a plain NAME, else NULL. */
const char *qc_domain_home_base(const char *vm_dir, const char *path)
{
	size_t n = strlen(vm_dir);

	if (!path || strncmp(path, vm_dir, n) != 0 || path[n] != '/' || !plain_name(path + n + 1))
		return NULL;
	return path + n + 1;
}

char *qc_domain_home_dir(const char *root, const char *name)
{
	return qc_xasprintf("%s/vms/%s", root, name);
}

/* qemuctl's own records in the VM's directory: never a disk, layer or seed file */
static bool reserved(const char *base)
{
	static const char *const names[] = {QC_VM_LOCK, QC_VM_MONITOR_LOCK, QC_VM_STATE,
		QC_VM_DOMAIN, QC_VM_DOMAIN_CACHE, QC_VM_EVENTS, QC_VM_QEMU_LOG, "summary.json",
		"kill-requested", QC_NETWORK_RUNTIME, QC_PORTFWD_RECORDS, QC_SEED_KNOWN_HOSTS,
		QC_SEED_KNOWN_HOSTS_TOFU, QC_SEED_HOST_KEY, QC_SEED_HOST_KEY ".pub",
		QC_VM_SAVED_STATE, QC_VM_MIGRATED_TO};

	for (size_t i = 0; i < QC_ARRAY_SIZE(names); i++)
		if (strcmp(base, names[i]) == 0)
			return true;
	/* console.log and its rotations; events.jsonl.1 */
	return qc_str_has_prefix(base, QC_VM_CONSOLE_LOG) || qc_str_has_prefix(base, QC_VM_EVENTS);
}

int qc_domain_home_file(
	const char *vm_dir, const char *what, const char *path, bool dir, struct qc_error *err)
{
	const char *base = qc_domain_home_base(vm_dir, path);
	struct stat st;

	if (!base)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is not a file of this VM: it must be a plain file name directly "
			"in %s/",
			what, path ? path : "", vm_dir);
	if (reserved(base))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is one of qemuctl's own records of the VM, not a file it may "
			"name",
			what, path);
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0; /* made later (the seed at start, a varstore from its template) */
		return qc_error_errno(err, errno, "%s '%s'", what, path);
	}
	if (S_ISLNK(st.st_mode))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is a symbolic link; a VM's own files are never links", what,
			path);
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return qc_error_set(err, QC_ERR_INVALID, "%s '%s' is not a %s", what, path,
			dir ? "directory" : "regular file");
	return 0;
}

bool qc_domain_pseudo_fs(unsigned long type)
{
	static const unsigned long types[] = {PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC,
		TRACEFS_MAGIC, SECURITYFS_MAGIC, EFIVARFS_MAGIC, BPF_FS_MAGIC};

	for (size_t i = 0; i < QC_ARRAY_SIZE(types); i++)
		if (type == types[i])
			return true;
	return false;
}

static bool in_root(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return path && path[0] == '/';
	return path && strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == 0);
}

/*
 * A file a definition names outside the state root, as it resolves now: a
 * symlink (or /proc/self/root) leading into the root is refused like the
 * path itself, and so are per-process names (/proc, /dev/fd) whose meaning
 * changes with the process that opens them.  An existing file must be of
 * the type named (a disk of type 'file' is never a device or a FIFO).
 */
static int outside_root(const char *root, const char *what, const char *path, mode_t type,
	struct qc_error *err)
{
	cleanup_free char *real_root = realpath(root, NULL), *real = NULL, *dir = NULL;
	struct stat st;

	if (qc_str_has_prefix(path, "/proc/") || qc_str_has_prefix(path, "/dev/fd/") ||
		qc_str_has_prefix(path, "/dev/std"))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' names a file through a process's own view; name the file itself",
			what, path);
	if (stat(path, &st) == 0) {
		struct statfs fs;

		/* a symlink into /proc or /sys: a file whose meaning depends on the reader */
		if (statfs(path, &fs) == 0 && qc_domain_pseudo_fs((unsigned long) fs.f_type))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s' is a file of a kernel pseudo file system (/proc, /sys...)",
				what, path);
		if ((st.st_mode & S_IFMT) != type)
			return qc_error_set(err, QC_ERR_INVALID, "%s '%s' is not a %s", what, path,
				type == S_IFDIR ? "directory" : "regular file");
		real = realpath(path, NULL);
	} else if (errno == ENOENT && lstat(path, &st) == 0) {
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is a symbolic link to a missing file", what, path);
	} else if (errno == ENOENT) {
		/* the nearest directory that exists: the file may appear there later */
		dir = qc_xstrdup(path);
		do
			*strrchr(dir, '/') = 0;
		while (!(real = realpath(dir[0] ? dir : "/", NULL)) && errno == ENOENT && dir[0]);
	} else {
		return qc_error_errno(err, errno, "%s '%s'", what, path);
	}
	if (real && real_root && in_root(real_root, real))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' resolves to '%s' in the state root %s; give a file outside it",
			what, path, real, root);
	return 0;
}

int qc_domain_home_backing(const char *root, const char *vm_dir, const char *image,
	const char *backing, struct qc_error *err)
{
	cleanup_free char *want = NULL;

	if (qc_domain_home_base(vm_dir, backing))
		return qc_domain_home_file(vm_dir, "backing file", backing, false, err);
	if (image) {
		if (qc_validate_name("backing image", image, err) < 0)
			return -QC_ERR_INVALID;
		want = qc_xasprintf("%s/images/%s.qcow2", root, image);
		if (strcmp(backing, want) != 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"backing file '%s' is not catalog image '%s' (%s) it was made "
				"from",
				backing, image, want);
		return 0;
	}
	if (in_root(root, backing))
		return qc_error_set(err, QC_ERR_INVALID,
			"backing file '%s' lies in the state root but is neither a file of this "
			"VM nor a catalog image",
			backing);
	return outside_root(root, "backing file", backing, S_IFREG, err);
}

int qc_domain_home_disk(
	const char *root, const char *vm_dir, const struct qc_disk *k, struct qc_error *err)
{
	int r;

	/* the seed is written by qemuctl whatever the record says: it must be ours */
	if (k->role == QC_ROLE_SEED && !k->owned)
		return qc_error_set(err, QC_ERR_INVALID,
			"disk '%s': the seed disk is always owned by the VM", k->name);
	if (!k->owned) {
		if (k->backing_image)
			return qc_error_set(err, QC_ERR_INVALID,
				"disk '%s': a backing image is recorded only for an owned disk",
				k->name);
		/* QEMU may write a user's disk: never another VM's files or the catalog */
		if (in_root(root, k->path))
			return qc_error_set(err, QC_ERR_INVALID,
				"disk '%s': '%s' lies in the state root %s but is not a disk this "
				"VM owns; give a file outside it",
				k->name, k->path, root);
		if (outside_root(root, "disk", k->path, S_IFREG, err) < 0)
			return qc_error_prefix(err, "disk '%s'", k->name);
		return 0;
	}
	if ((r = qc_domain_home_file(vm_dir, "owned disk", k->path, false, err)) < 0)
		return qc_error_prefix(err, "disk '%s'", k->name);
	if (k->backing && (r = qc_domain_home_backing(
				   root, vm_dir, k->backing_image, k->backing, err)) < 0)
		return qc_error_prefix(err, "disk '%s'", k->name);
	if (!k->backing && k->backing_image)
		return qc_error_set(err, QC_ERR_INVALID,
			"disk '%s': backing image '%s' is recorded but the disk has no backing "
			"file",
			k->name, k->backing_image);
	return 0;
}

int qc_domain_home_seed_file(
	const char *vm_dir, const char *what, const char *path, struct qc_error *err)
{
	const char *want = strcmp(what, "user-data") == 0 ? QC_VM_USER_DATA : QC_VM_NETWORK_CONFIG;
	int r;

	/* a definition from before create copied the file names the user's original */
	if (!qc_domain_home_base(vm_dir, path))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is not a file of this VM: it must be a plain file name directly "
			"in %s/; to keep it, copy it to %s/%s and name the copy in "
			"<qemuctl:%s>",
			what, path, vm_dir, vm_dir, want, what);
	if ((r = qc_domain_home_file(vm_dir, what, path, false, err)) < 0)
		return r;
	/* only the copy create makes: never a disk of the VM fed to cloud-init */
	if (strcmp(qc_domain_home_base(vm_dir, path), want) != 0)
		return qc_error_set(err, QC_ERR_INVALID, "%s '%s' must be %s/%s", what, path,
			vm_dir, want);
	return 0;
}

int qc_domain_home_seed(const char *vm_dir, const struct qc_seed_opts *s, struct qc_error *err)
{
	int r;

	if (s->user_data &&
		(r = qc_domain_home_seed_file(vm_dir, "user-data", s->user_data, err)) < 0)
		return qc_error_prefix(err, "seed");
	if (s->network_config &&
		(r = qc_domain_home_seed_file(vm_dir, "network-config", s->network_config, err)) < 0)
		return qc_error_prefix(err, "seed");
	return 0;
}

int qc_domain_home_share(
	const char *root, const char *vm_dir, const struct qc_share *s, struct qc_error *err)
{
	int r;

	if (s->empty && (r = qc_domain_home_file(vm_dir, "scratch directory", s->path, true, err)) < 0)
		return qc_error_prefix(err, "share '%s'", s->tag);
	if (!s->empty && in_root(root, s->path))
		return qc_error_set(err, QC_ERR_INVALID,
			"share '%s': '%s' lies in the state root %s; share a directory outside it",
			s->tag, s->path, root);
	if (!s->empty && outside_root(root, "shared directory", s->path, S_IFDIR, err) < 0)
		return qc_error_prefix(err, "share '%s'", s->tag);
	/* a directory above the root ("/", /var/lib) shares every VM's files too */
	if (!s->empty) {
		cleanup_free char *real_root = realpath(root, NULL);
		cleanup_free char *real = realpath(s->path, NULL);

		if ((real && real_root && in_root(real, real_root)) || in_root(s->path, root))
			return qc_error_set(err, QC_ERR_INVALID,
				"share '%s': '%s' holds the state root %s (every VM's disks); "
				"share a directory beside it",
				s->tag, s->path, root);
	}
	return 0;
}

int qc_domain_home_nvram(
	const char *root, const char *vm_dir, const char *nvram, struct qc_error *err)
{
	const char *slash = strrchr(nvram, '/');

	/* in the VM's directory: ours, made from the template when missing */
	if (slash && (size_t) (slash - nvram) == strlen(vm_dir) &&
		strncmp(nvram, vm_dir, strlen(vm_dir)) == 0)
		return qc_domain_home_file(vm_dir, "nvram", nvram, false, err);
	if (in_root(root, nvram))
		return qc_error_set(err, QC_ERR_INVALID,
			"nvram '%s' lies in the state root %s but is not a file of this VM (%s/)",
			nvram, root, vm_dir);
	/* elsewhere: an existing varstore of the user's, which qemuctl never creates */
	return outside_root(root, "nvram", nvram, S_IFREG, err);
}

/* The guest reads its firmware flash: never a file in the state root. */
static int home_loader(const char *root, const char *loader, struct qc_error *err)
{
	if (in_root(root, loader))
		return qc_error_set(err, QC_ERR_INVALID,
			"firmware loader '%s' lies in the state root %s; give a firmware file "
			"outside it",
			loader, root);
	return outside_root(root, "firmware loader", loader, S_IFREG, err);
}

int qc_domain_check_owned(const struct qc_domain *d, const char *root, struct qc_error *err)
{
	cleanup_free char *vm_dir = qc_domain_home_dir(root, d->name);
	int r;

	for (size_t i = 0; i < d->n_disks; i++)
		if ((r = qc_domain_home_disk(root, vm_dir, &d->disks[i], err)) < 0)
			return qc_error_prefix(err, "VM '%s'", d->name);
	for (size_t i = 0; i < d->n_shares; i++)
		if ((r = qc_domain_home_share(root, vm_dir, &d->shares[i], err)) < 0)
			return qc_error_prefix(err, "VM '%s'", d->name);
	if ((r = qc_domain_home_seed(vm_dir, &d->seed, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", d->name);
	if (d->nvram && (r = qc_domain_home_nvram(root, vm_dir, d->nvram, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", d->name);
	if (d->loader && (r = home_loader(root, d->loader, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", d->name);
	return 0;
}
