/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Directory helpers: mkdir -p, rm -rf within one file system, mount and symlink checks. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

int qc_opendir_at(int dirfd, const char *path, int flags, DIR **ret)
{
	int fd = openat(dirfd, path ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		errno = e;
		return -e;
	}
	*ret = d;
	return 0;
}

struct dirent *qc_readdir(DIR *d)
{
	struct dirent *de;

	do {
		errno = 0;
		de = readdir(d);
	} while (de && de->d_name[0] == '.' &&
		 (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])));
	return de;
}

void qc_closedirp(DIR **d)
{
	if (*d) {
		int e = errno;

		closedir(*d);
		errno = e;
	}
}

int qc_mkdir_p(const char *path, mode_t mode, struct qc_error *err)
{
	cleanup_free char *p = NULL;
	struct stat st;
	char *s;

	if (!path || *path == '\0')
		return qc_error_set(err, EINVAL, "mkdir: empty path");
	p = qc_xstrdup(path);
	s = p;
	for (;;) {
		while (*s == '/')
			s++;
		s = strchr(s, '/');
		if (s)
			*s = '\0';
		if (mkdir(p, mode) < 0) {
			int e = errno;
			/* An existing directory is fine (EACCES/EROFS too: "/" or "/home"). */
			if (stat(p, &st) < 0 || (e != EEXIST && !S_ISDIR(st.st_mode)))
				return qc_error_errno(err, e, "mkdir '%s'", p);
			if (!S_ISDIR(st.st_mode))
				return qc_error_set(err, ENOTDIR,
					"mkdir '%s': '%s' exists and is not a directory", path, p);
		}
		if (!s)
			break;
		*s++ = '/';
		if (*s == '\0')
			break;
	}
	return 0;
}

static int rm_rf_children(int dfd, const char *path, dev_t *dev, struct qc_error *err);

static int rm_rf(int dirfd, const char *name, dev_t *dev, struct qc_error *err);

int qc_rm_rf_at(int dirfd, const char *name, struct qc_error *err)
{
	cleanup_free char *copy = NULL;
	const char *base;
	size_t n;

	if (!name || !*name)
		return qc_error_set(err, EINVAL, "remove: empty path");
	/*
	 * "link/" would make the kernel follow a symlink to a directory and we
	 * would empty the target: drop trailing slashes.
	 */
	n = strlen(name);
	if (name[n - 1] == '/') {
		copy = qc_xstrdup(name);
		while (n > 0 && copy[n - 1] == '/')
			copy[--n] = '\0';
		name = copy;
	}
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!*name || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return qc_error_set(err, EINVAL, "refusing to remove '%s'", name);
	return rm_rf(dirfd, name, NULL, err);
}

/*
 * A bind mount of a directory of the same file system has the same st_dev:
 * only the kernel's mount-root attribute tells it (Linux 5.8; older kernels
 * answer "unknown", and the st_dev check is all there is).
 */
static bool is_mount_root(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, 0, &stx) < 0)
		return false;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
			s[3] >= '0' && s[3] <= '7') {
			*w++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int qc_dir_find_mount(int dfd, char **ret_path, struct qc_error *err)
{
	char link[64], dir[PATH_MAX];
	cleanup_free char *line = NULL;
	size_t cap = 0, dlen;
	ssize_t n;
	FILE *f;
	int r = 0;

	*ret_path = NULL;
	(void) err;
	/* Without /proc (a bare chroot) nothing is known: qc_rm_rf_at still stops at mounts. */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dfd);
	n = readlink(link, dir, sizeof(dir) - 1);
	if (n < 0)
		return 0;
	dir[n] = '\0';
	dlen = (size_t) n;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return 0;
	/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...": the fifth field. */
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *mnt = strtok_r(line, " ", &save);

		for (int i = 0; mnt && i < 4; i++)
			mnt = strtok_r(NULL, " ", &save);
		if (!mnt)
			continue;
		unescape_octal(mnt);
		if (strncmp(mnt, dir, dlen) == 0 &&
			(mnt[dlen] == '\0' || mnt[dlen] == '/' || dlen == 1)) {
			*ret_path = qc_xstrdup(mnt);
			r = 1;
			break;
		}
	}
	fclose(f);
	return r;
}

/* dev: the top directory's file system (NULL until it is opened). */
static int rm_rf(int dirfd, const char *name, dev_t *dev, struct qc_error *err)
{
	cleanup_close int fd = -1;
	struct stat st;
	dev_t top;
	int r;

	/* Plain files and symlinks (never followed) go away with unlinkat. */
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return qc_error_errno(err, errno, "remove '%s'", name);
	int unlink_errno = errno;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		/* Not a directory after all: the unlink error is the real one. */
		return qc_error_errno(err,
			errno == ENOTDIR || errno == ELOOP ? unlink_errno : errno, "remove '%s'",
			name);
	}
	/* Like rm --one-file-system: what is mounted inside is not ours to empty. */
	if (fstat(fd, &st) < 0)
		return qc_error_errno(err, errno, "stat '%s'", name);
	if (!dev) {
		top = st.st_dev;
		dev = &top;
	} else if (st.st_dev != *dev || is_mount_root(fd)) {
		return qc_error_set(err, EXDEV,
			"'%s' is a mount point (another file system); nothing in it is removed: "
			"unmount it first",
			name);
	}
	if ((r = rm_rf_children(fd, name, dev, err)) < 0)
		return r;
	close(TAKE_FD(fd));
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return qc_error_errno(err, errno, "remove directory '%s'", name);
	return 0;
}

/* dfd stays the caller's. */
static int rm_rf_children(int dfd, const char *path, dev_t *dev, struct qc_error *err)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	int r = 0;

	if ((r = qc_opendir_at(dfd, NULL, 0, &d)) < 0)
		return qc_error_errno(err, -r, "read directory '%s'", path);
	for (;;) {
		de = qc_readdir(d);
		if (!de) {
			if (errno)
				r = qc_error_errno(err, errno, "read directory '%s'", path);
			break;
		}
		if ((r = rm_rf(dirfd(d), de->d_name, dev, err)) < 0) {
			qc_error_prefix(err, "in '%s'", path);
			break;
		}
	}
	return r;
}

int qc_refuse_symlink(int dirfd, const char *name, const char *path, struct qc_error *err)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
		return 0;
	n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	return qc_error_set(err, ELOOP,
		"'%s' is a symbolic link (to '%s'); qemuctl does not follow symbolic links in "
		"its state root, so it neither writes nor deletes through one: remove the link "
		"(rm '%s')",
		path, target, path);
}

int qc_dir_find_symlink(int dfd, char **ret_name, struct qc_error *err)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *de;
	int r;

	/* A fresh open of ".", not a dup: readdir must not move dfd's position. */
	if ((r = qc_opendir_at(dfd, NULL, 0, &d)) < 0)
		return qc_error_errno(err, -r, "open directory");
	for (;;) {
		struct stat st;

		de = qc_readdir(d);
		if (!de) {
			r = errno ? qc_error_errno(err, errno, "read directory") : 0;
			break;
		}
		if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		if (de->d_type == DT_UNKNOWN &&
			(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				!S_ISLNK(st.st_mode)))
			continue;
		*ret_name = qc_xstrdup(de->d_name);
		r = 1;
		break;
	}
	return r;
}
