/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU opens nothing by path: at start the caller opens every file the VM
 * needs (each disk's whole backing chain, the seed, the UEFI code and
 * varstore) and qemuctl-monitor hands them to QEMU as inherited fds in fd
 * sets (-add-fd, /dev/fdset/N in argv, driver/argv.c).  So:
 *  - QEMU's unprivileged user needs no access to the files or the
 *    directories above them: the VM's files stay the caller's, 0600;
 *  - the chain is the one the definition and the snapshot records name
 *    (qc_driver_disk_chain), never a backing path read from an image
 *    header, which whoever wrote the image (QEMU, so the guest side) could
 *    have changed; every qcow2 node gets its backing node explicitly and
 *    the bottom one none;
 *  - a qcow2 file with an external data file (which QEMU would open by the
 *    path in the header) is refused, and so is a bottom layer whose header
 *    names a backing file the definition does not (QEMU would show the
 *    guest a disk without its base).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/confine.h"
#include "driver/fdpass.h"
#include "storage/storage.h"

/* The snapshot record of disk's frozen layer file: it names that layer's backing. */
static const struct qc_snap_disk *frozen_layer(
	const struct qc_snaps *snaps, const char *disk, const char *file)
{
	for (size_t i = 0; snaps && i < snaps->n; i++)
		for (size_t k = 0; k < snaps->v[i].n_disks; k++) {
			const struct qc_snap_disk *dk = &snaps->v[i].disks[k];

			if (strcmp(dk->disk, disk) == 0 && strcmp(dk->file, file) == 0)
				return dk;
		}
	return NULL;
}

int qc_driver_disk_chain(const struct qc_domain *d, const struct qc_snaps *snaps, size_t i,
	struct qc_chain_layer *ret, size_t *ret_n, struct qc_error *err)
{
	const struct qc_disk *k = &d->disks[i];
	const char *cur = k->backing, *fmt = k->backing_format;
	size_t n = 0;

	if (!k->path || !k->format)
		return qc_error_set(
			err, QC_ERR_INVALID, "disk '%s' names no file or format", k->name);
	ret[n++] = (struct qc_chain_layer){k->path, k->format};
	while (cur) {
		const struct qc_snap_disk *dk;

		if (!fmt)
			return qc_error_set(err, QC_ERR_INVALID,
				"disk '%s': backing file '%s' has no recorded format", k->name,
				cur);
		for (size_t j = 0; j < n; j++)
			if (strcmp(ret[j].path, cur) == 0)
				return qc_error_set(err, QC_ERR_INVALID,
					"disk '%s': '%s' is its own backing file (a loop in the "
					"snapshot records)",
					k->name, cur);
		if (n == QC_CHAIN_MAX)
			return qc_error_set(err, QC_ERR_INVALID,
				"disk '%s': more than %d layers; remove snapshots", k->name,
				QC_CHAIN_MAX);
		ret[n++] = (struct qc_chain_layer){cur, fmt};
		dk = frozen_layer(snaps, k->name, cur);
		if (!dk)
			break;
		cur = dk->backing;
		fmt = dk->backing_format;
	}
	*ret_n = n;
	return 0;
}

/* The name of path within vm_dir when it lies directly in it, else NULL. */
static const char *vm_dir_entry(const char *path, const char *vm_dir)
{
	size_t n = strlen(vm_dir);

	if (strncmp(path, vm_dir, n) != 0 || path[n] != '/' || !path[n + 1] ||
		strchr(path + n + 1, '/') || strcmp(path + n + 1, "..") == 0 ||
		strcmp(path + n + 1, ".") == 0)
		return NULL;
	return path + n + 1;
}

/*
 * A file outside the VM's directory that root opened for a confined QEMU
 * (fd, st: what was opened).  Either QEMU's user could open it itself, or
 * only root can have put it where the path leads: every directory on the
 * path, as written and as resolved, is root's and not writable by others
 * (sticky aside), and the resolved path is the file opened.  Otherwise a
 * user who controls a directory on the path could swap the file for one of
 * root's after the definition was checked.
 */
static int check_confined(int fd, const char *what, const char *path, const struct stat *st,
	bool writable, struct qc_error *err)
{
	static const char fix[] = "make the file one QEMU's user may open (chgrp and chmod g+r, "
				  "g+rw when written), or keep it in directories only root can change";
	cleanup_free char *real = NULL, *dir = NULL, *rdir = NULL;
	char self[64];
	struct qc_confine cf;
	struct stat rst;
	int rc;

	if (geteuid() != 0 || qc_driver_confine_user(false, &cf, NULL) < 0 || !cf.active ||
		qc_driver_confine_may(st, cf.uid, cf.gid, writable))
		return 0;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	real = realpath(self, NULL);
	if (!real || stat(real, &rst) < 0 || rst.st_dev != st->st_dev || rst.st_ino != st->st_ino)
		return qc_error_set(err, EACCES, "%s '%s': cannot tell where the file opened lies; %s",
			what, path, fix);
	dir = qc_xstrndup(path, (size_t) (strrchr(path, '/') - path));
	rdir = qc_xstrndup(real, (size_t) (strrchr(real, '/') - real));
	if ((rc = qc_path_check_trusted(dir[0] ? dir : "/", 0, QC_DIR_ANCESTOR, what, fix, err)) < 0 ||
		(rc = qc_path_check_trusted(rdir[0] ? rdir : "/", 0, QC_DIR_ANCESTOR, what, fix, err)) < 0)
		return qc_error_prefix(err,
			"%s '%s' (mode %04o) is not one user '%s' that QEMU runs as may %s, and "
			"another user could have put it there",
			what, path, (unsigned) (st->st_mode & 07777), cf.name,
			writable ? "write" : "read");
	return 0;
}

int qc_driver_fdpass_open_file(int vm_dfd, const char *vm_dir, const char *what, const char *path,
	const char *format, bool writable, bool no_backing, int *ret_fd, struct qc_error *err)
{
	int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	const char *entry = vm_dir ? vm_dir_entry(path, vm_dir) : NULL;
	cleanup_close int fd = -1;
	struct stat st;
	int fl, rc;

	if (path[0] != '/')
		return qc_error_set(
			err, QC_ERR_INVALID, "%s '%s': not an absolute path", what, path);
	/* the VM's own files: no symlink in their place; others are the caller's choice */
	if (entry)
		fd = openat(vm_dfd, entry, flags | O_NOFOLLOW);
	else
		fd = open(path, flags);
	if (fd < 0)
		return qc_error_errno(err, errno, "%s '%s': open for %s", what, path,
			writable ? "writing" : "reading");
	if (fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "%s '%s'", what, path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is not a regular file or block device", what, path);
	if (!entry && (rc = check_confined(fd, what, path, &st, writable, err)) < 0)
		return rc;
	/* O_NONBLOCK was only for the open (a FIFO in its place must not block) */
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return qc_error_errno(err, errno, "%s '%s': fcntl", what, path);
	if (format && strcmp(format, "qcow2") == 0) {
		struct qc_qcow2_header h;

		if ((rc = qc_img_qcow2_header(fd, path, &h, err)) < 0)
			return qc_error_prefix(err, "%s", what);
		if (h.data_file)
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s' keeps its data in an external file named in its header, "
				"which qemuctl does not open; make a self-contained copy (qemu-img "
				"convert -O qcow2 %s NEW) and use that",
				what, path, path);
		if (no_backing && h.has_backing)
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s' names a backing file in its header that the definition "
				"does not; qemuctl opens only the backing files the definition and "
				"its snapshot records name, never one an image header names "
				"(whoever "
				"wrote the image could have changed it); make a standalone copy "
				"(qemu-img convert -O qcow2 %s NEW) and use that",
				what, path, path);
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Take fd into fd set set (0: the next new one); returns the set's id (> 0). */
static int add_fd(struct qc_fdpass *p, int fd, char *note, int set, struct qc_error *err)
{
	size_t i = p->n;

	if (i == QC_FDPASS_MAX) {
		close(fd);
		free(note);
		return qc_error_set(err, QC_ERR_INVALID,
			"more than %d files for QEMU (disk layers, seed, firmware); remove "
			"snapshots "
			"or disks",
			QC_FDPASS_MAX);
	}
	p->fds[i] = fd;
	p->notes[i] = note;
	if (!set)
		set = ++p->n_sets;
	p->qfds[i] = (struct qc_argv_fd){QC_QEMU_FD_FILES + (int) i, set, note};
	p->n++;
	return set;
}

static int open_add(struct qc_fdpass *p, int vm_dfd, const char *vm_dir, const char *what,
	const char *path, const char *format, bool writable, bool no_backing, char *note,
	struct qc_error *err)
{
	int fd = -1, rc;

	if ((rc = qc_driver_fdpass_open_file(
		     vm_dfd, vm_dir, what, path, format, writable, no_backing, &fd, err)) < 0) {
		free(note);
		return rc;
	}
	return add_fd(p, fd, note, 0, err);
}

/* A read-only fd of the file the last fd added holds, into the same set. */
static int add_readonly(
	struct qc_fdpass *p, int set, const char *what, const char *shown, struct qc_error *err)
{
	char self[64];
	int fd;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", p->fds[p->n - 1]);
	fd = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return qc_error_errno(err, errno, "%s '%s': reopen read-only", what, shown);
	return add_fd(p, fd, qc_xstrdup(p->notes[p->n - 1]), set, err);
}

/* The driver name of a format qemuctl runs disks in, as a static string; NULL: not one. */
static const char *known_format(const char *f)
{
	static const char *const fmts[] = {"qcow2", "raw", "vmdk", "vhdx", "vpc", "qcow", "vdi"};

	for (size_t i = 0; f && i < QC_ARRAY_SIZE(fmts); i++)
		if (strcmp(f, fmts[i]) == 0)
			return fmts[i];
	return NULL;
}

static int open_disks(const struct qc_domain *d, const struct qc_snaps *snaps, int vm_dfd,
	const char *vm_dir, struct qc_fdpass *p, struct qc_error *err)
{
	struct qc_chain_layer chain[QC_CHAIN_MAX];
	size_t used = 0;
	int rc;

	for (size_t i = 0; i < d->n_disks; i++) {
		const struct qc_disk *k = &d->disks[i];
		bool ro = k->readonly || k->device == QC_DEVICE_CDROM;
		size_t n = 0;

		if ((rc = qc_driver_disk_chain(d, snaps, i, chain, &n, err)) < 0)
			return rc;
		p->disks[i].layers = &p->layers[used];
		for (size_t j = 0; j < n; j++) {
			cleanup_free char *what =
				j ? qc_xasprintf("disk '%s': backing file", k->name)
				  : qc_xasprintf("disk '%s'", k->name);
			const char *fmt = known_format(chain[j].format);

			if (!fmt)
				return qc_error_set(err, QC_ERR_INVALID,
					"%s '%s': format '%s' is not "
					"one qemuctl runs disks in",
					what, chain[j].path, chain[j].format);
			rc = open_add(p, vm_dfd, vm_dir, what, chain[j].path, fmt, j == 0 && !ro,
				j + 1 == n,
				j ? qc_xasprintf("%s.%zu", k->name, j) : qc_xstrdup(k->name), err);
			if (rc < 0)
				return rc;
			p->paths[p->n - 1] = qc_xstrdup(chain[j].path);
			p->layers[used++] = (struct qc_argv_layer){rc, fmt, p->paths[p->n - 1]};
			p->disks[i].n_layers++;
		}
	}
	return 0;
}

int qc_driver_fdpass_open(const struct qc_domain *d, int vm_dfd, const char *vm_dir,
	struct qc_fdpass *ret, struct qc_error *err)
{
	struct qc_snaps snaps = {0};
	const char *code = qc_argv_firmware_code(d);
	int rc;

	memset(ret, 0, sizeof(*ret));
	if ((rc = qc_snaps_load(d, &snaps, err)) < 0)
		return rc;
	ret->disks = qc_xzalloc((d->n_disks + 1) * sizeof(*ret->disks));
	ret->layers = qc_xzalloc((d->n_disks * QC_CHAIN_MAX + 1) * sizeof(*ret->layers));
	rc = open_disks(d, &snaps, vm_dfd, vm_dir, ret, err);
	qc_snaps_clear(&snaps);
	if (rc >= 0 && code) {
		rc = open_add(ret, vm_dfd, vm_dir, "UEFI firmware", code, NULL, false, false,
			qc_xstrdup("loader"), err);
		if (rc > 0)
			ret->loader_set = rc;
	}
	if (rc >= 0 && code && d->nvram) {
		rc = open_add(ret, vm_dfd, vm_dir, "UEFI varstore", d->nvram, NULL, true, false,
			qc_xstrdup("nvram"), err);
		if (rc > 0)
			ret->nvram_set = rc;
		/*
		 * -drive if=pflash opens its file read-only first (auto-read-only)
		 * and reopens it read-write: the set needs a read-only fd of the
		 * same file too, reopened through the fd we have.
		 */
		if (rc > 0)
			rc = add_readonly(ret, ret->nvram_set, "UEFI varstore", d->nvram, err);
	}
	if (rc < 0) {
		qc_driver_fdpass_clear(ret);
		return rc;
	}
	return 0;
}

void qc_driver_fdpass_clear(struct qc_fdpass *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->fds[i] >= 0)
			close(p->fds[i]);
		free(p->notes[i]);
		free(p->paths[i]);
	}
	free(p->disks);
	free(p->layers);
	memset(p, 0, sizeof(*p));
}
