/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File helpers: atomic replace and what interrupted ones leave, bounded reads, copies, paths. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

int qc_write_all(int fd, const void *buf, size_t len, struct qc_error *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return qc_error_errno(err, errno, "write");
		}
		if (n == 0)
			return qc_error_errno(err, EIO, "write returned 0");
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* Split "a/b/c" into a fresh "a/b" (NULL when there is no '/') and a pointer to "c". */
static char *dir_part(const char *name, const char **ret_base)
{
	const char *slash = strrchr(name, '/');

	if (!slash) {
		*ret_base = name;
		return NULL;
	}
	*ret_base = slash + 1;
	if (slash == name)
		return qc_xstrdup("/");
	return qc_xstrndup(name, (size_t) (slash - name));
}

char *qc_temp_name(const char *name, const char *tag)
{
	const char *base;
	cleanup_free char *dir = dir_part(name, &base);

	/* NAME cut to 200 bytes: a long one's temp still fits in NAME_MAX */
	if (!dir)
		return qc_xasprintf(".%.200s.tmp-%ld.%s", base, (long) getpid(), tag);
	return qc_xasprintf("%s%s.%.200s.tmp-%ld.%s", dir, strcmp(dir, "/") ? "/" : "", base,
		(long) getpid(), tag);
}

/* Six random [A-Za-z0-9]: one writer's temps of one name apart. */
static void random_tag(char tag[7])
{
	static const char alnum[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static unsigned counter;
	unsigned char rnd[6];

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t) sizeof(rnd)) {
		uint64_t x = (uint64_t) qc_now_us() ^ ((uint64_t) getpid() << 32) ^
			     (uint64_t) __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED) * 7919;
		for (size_t i = 0; i < sizeof(rnd); i++, x >>= 8)
			rnd[i] = (unsigned char) x;
	}
	for (size_t i = 0; i < 6; i++)
		tag[i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
	tag[6] = '\0';
}

/*
 * Not mkostemp(): that works on paths, and we need dirfd-relative names
 * that carry our pid.
 */
int qc_temp_create(int dirfd, const char *name, mode_t mode, unsigned flags, char **ret_tmp,
	int *ret_fd, struct qc_error *err)
{
	const char *slash = strrchr(name, '/');

	if ((slash ? slash[1] : *name) == '\0')
		return qc_error_set(err, EISDIR, "'%s' names a directory, not a file", name);
	for (int attempt = 0; attempt < 100; attempt++) {
		cleanup_free char *tmp = NULL;
		char tag[7];
		int fd;

		random_tag(tag);
		tmp = qc_temp_name(name, tag);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return qc_error_errno(
				err, errno, "cannot create a temporary file for '%s'", name);
		}
		/* The umask must not weaken or change the requested mode. */
		if (!(flags & QC_WRITE_UMASK) && fchmod(fd, mode) < 0) {
			int e = errno;
			close(fd);
			(void) unlinkat(dirfd, tmp, 0);
			return qc_error_errno(err, e, "chmod temporary file for '%s'", name);
		}
		*ret_tmp = TAKE_PTR(tmp);
		*ret_fd = fd;
		return 0;
	}
	return qc_error_set(
		err, EEXIST, "cannot create a temporary file for '%s': too many collisions", name);
}

/* fsync the directory that holds dirfd/name. */
static int fsync_parent(int dirfd, const char *name, struct qc_error *err)
{
	const char *base;
	cleanup_free char *dir = dir_part(name, &base);
	cleanup_close int fd = -1;

	fd = openat(dirfd, dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return qc_error_errno(err, errno, "open directory of '%s'", name);
	return qc_fsync_dir(fd, err);
}

/* fsync and close fd, rename tmp over name, fsync the directory. */
static int commit_temp(
	int dirfd, const char *tmp, int fd, const char *name, unsigned flags, struct qc_error *err)
{
	bool sync = !(flags & QC_WRITE_NOSYNC);

	if (sync && fsync(fd) < 0) {
		int e = errno;
		close(fd);
		return qc_error_errno(err, e, "fsync '%s'", name);
	}
	/* NFS and some FUSE file systems report a failed write (ENOSPC) at close. */
	if (close(fd) < 0 && errno != EINTR)
		return qc_error_errno(err, errno, "close '%s'", name);
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		return qc_error_errno(err, errno, "rename '%s' to '%s'", tmp, name);
	return sync ? fsync_parent(dirfd, name, err) : 0;
}

int qc_temp_commit(
	int dirfd, const char *tmp, int fd, const char *name, unsigned flags, struct qc_error *err)
{
	int r = commit_temp(dirfd, tmp, fd, name, flags, err);

	if (r < 0)
		(void) unlinkat(dirfd, tmp, 0);
	return r;
}

int qc_write_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
	unsigned flags, struct qc_error *err)
{
	cleanup_free char *tmp = NULL;
	int fd = -1, r;

	if ((r = qc_temp_create(dirfd, name, mode, flags, &tmp, &fd, err)) < 0)
		return r;
	if ((r = qc_write_all(fd, buf, len, err)) < 0) {
		close(fd);
		(void) unlinkat(dirfd, tmp, 0);
		return qc_error_prefix(err, "'%s'", name);
	}
	/* The fault steps are those of durable writes; nosync ones are records a kill may lose. */
	if (!(flags & QC_WRITE_NOSYNC))
		qc_fault_stepf("write-tmp %s", name);
	return qc_temp_commit(dirfd, tmp, fd, name, flags, err);
}

int qc_write_atomic(
	int dirfd, const char *name, const void *buf, size_t len, mode_t mode, struct qc_error *err)
{
	return qc_write_atomic_at(dirfd, name, buf, len, mode, 0, err);
}

/* ------------------------------------------ what a killed process left */

/* The pid in digits[0..n) no longer exists. */
static bool pid_gone(const char *digits, size_t n)
{
	char buf[16];
	long pid;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, digits, n);
	buf[n] = 0;
	pid = strtol(buf, NULL, 10);
	return pid > 0 && kill((pid_t) pid, 0) < 0 && errno == ESRCH;
}

/*
 * The writer's pid in a temp's name e, as qc_temp_name makes it:
 * ".NAME.tmp-PID.TAG", the last ".tmp-PID." in e.  Sets *ret_pid and
 * *ret_n to its digits; false when e is not named so.
 */
static bool temp_name_pid(const char *e, const char **ret_pid, size_t *ret_n)
{
	const char *found = NULL;

	if (e[0] != '.')
		return false;
	for (const char *p = strstr(e + 1, ".tmp-"); p; p = strstr(p + 1, ".tmp-")) {
		size_t n = strspn(p + 5, "0123456789");

		if (p > e + 1 && n && p[5 + n] == '.' && p[6 + n]) {
			found = p + 5;
			*ret_n = n;
		}
	}
	*ret_pid = found;
	return found != NULL;
}

/*
 * The names older qemuctl versions gave their temps, recognised for one
 * release more so that what an older version left on disk is still swept:
 * 1 when the pid in ".NAME.PID.tmp", ".NAME.tmp-PID-N" or ".tmp-PID-NAME"
 * no longer exists, 0 when it does or the name carries no pid.
 */
static int old_pid_temp_dead(const char *e)
{
	size_t len = strlen(e), i;
	const char *p;

	if (len > 5 && strcmp(e + len - 4, ".tmp") == 0) {
		i = len - 4;
		while (i > 0 && e[i - 1] >= '0' && e[i - 1] <= '9')
			i--;
		if (i > 1 && e[i - 1] == '.' && i < len - 4)
			return pid_gone(e + i, len - 4 - i);
	}
	for (p = strstr(e, "tmp-"); p; p = strstr(p + 1, "tmp-")) {
		if (p[-1] != '.')
			continue;
		i = strspn(p + 4, "0123456789");
		if (i)
			return pid_gone(p + 4, i);
	}
	return 0;
}

/*
 * ".BASE.XXXXXX", as older qemuctl versions named qc_write_atomic's temps
 * (no pid: recognised for one release more, like old_pid_temp_dead's
 * names): the BASE, or NULL.
 */
static char *old_atomic_temp_base(const char *e)
{
	size_t len = strlen(e);

	if (len < 9 || e[0] != '.' || e[len - 7] != '.')
		return NULL;
	for (size_t i = len - 6; i < len; i++)
		if (!((e[i] >= 'a' && e[i] <= 'z') || (e[i] >= 'A' && e[i] <= 'Z') ||
			    (e[i] >= '0' && e[i] <= '9')))
			return NULL;
	return qc_xstrndup(e + 1, len - 8);
}

int qc_sweep_temps(int dirfd, const char *const *bases)
{
	cleanup_dir DIR *d = NULL;
	struct dirent *e;
	int n = 0;

	if (qc_opendir_at(dirfd, NULL, 0, &d) < 0)
		return 0;
	while ((e = qc_readdir(d))) {
		cleanup_free char *base = NULL;
		const char *pid;
		size_t pid_len;
		bool drop = false;

		if (e->d_name[0] != '.' || e->d_type == DT_DIR)
			continue;
		if (temp_name_pid(e->d_name, &pid, &pid_len)) {
			/* a live writer's temp stays, whatever its name */
			drop = pid_gone(pid, pid_len);
		} else if (old_pid_temp_dead(e->d_name) == 1) {
			drop = true;
		} else if ((base = old_atomic_temp_base(e->d_name))) {
			drop = !bases;
			for (size_t i = 0; bases && bases[i]; i++)
				drop |= strcmp(bases[i], base) == 0;
		}
		if (drop && unlinkat(dirfd, e->d_name, 0) == 0)
			n++;
	}
	return n;
}

static const char *file_type_name(mode_t m)
{
	if (S_ISFIFO(m))
		return "FIFO";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISCHR(m))
		return "character device";
	if (S_ISBLK(m))
		return "block device";
	if (S_ISLNK(m))
		return "symbolic link";
	return "special file";
}

/*
 * Opens dirfd/name for reading and fills *st: a regular file only, opened
 * with O_NONBLOCK so that a FIFO cannot hang us, then made blocking again
 * (but for a reader that does so when a read says EAGAIN: a regular
 * file's reads do not look at O_NONBLOCK, so that read is one syscall
 * less).  Returns the fd.
 */
static int open_regular(
	int dirfd, const char *name, bool keep_nonblock, struct stat *st, struct qc_error *err)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return qc_error_errno(err, errno, "open '%s'", name);
	if (fstat(fd, st) < 0)
		return qc_error_errno(err, errno, "stat '%s'", name);
	if (S_ISDIR(st->st_mode))
		return qc_error_set(err, EISDIR, "'%s' is a directory", name);
	if (!S_ISREG(st->st_mode))
		return qc_error_set(err, QC_ERR_INVALID, "'%s' is not a regular file (%s)", name,
			file_type_name(st->st_mode));
	if (!keep_nonblock && fcntl(fd, F_SETFL, 0) < 0)
		return qc_error_errno(err, errno, "fcntl '%s'", name);
	return TAKE_FD(fd);
}

int qc_read_file(
	int dirfd, const char *name, size_t max, char **ret, size_t *ret_len, struct qc_error *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *data = NULL;
	size_t len = 0, cap;
	bool blocking = false;
	struct stat st;

	if ((fd = open_regular(dirfd, name, true, &st, err)) < 0)
		return fd;
	if ((uint64_t) st.st_size > max)
		return qc_error_set(err, EFBIG, "'%s' is too large (%lld bytes, the limit is %zu)",
			name, (long long) st.st_size, max);

	/* st_size is a hint only (files in /proc say 0, files may grow). */
	cap = (size_t) st.st_size + 1;
	if (cap < 4096)
		cap = 4096;
	if (cap > max + 1)
		cap = max + 1;
	data = qc_xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap > max) /* read max + 1 bytes: too large */
				return qc_error_set(err, EFBIG,
					"'%s' is too large (more than %zu bytes, the limit is %zu)",
					name, max, max);
			cap = cap > max / 2 ? max + 1 : cap * 2;
			data = qc_xrealloc(data, cap + 1);
		}
		n = read(fd, data + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN && !blocking) { /* a file system that does */
				if (fcntl(fd, F_SETFL, 0) < 0)
					return qc_error_errno(err, errno, "fcntl '%s'", name);
				blocking = true;
				continue;
			}
			return qc_error_errno(err, errno, "read '%s'", name);
		}
		if (n == 0)
			break;
		len += (size_t) n;
		if (len > max)
			return qc_error_set(err, EFBIG,
				"'%s' is too large (more than %zu bytes, the limit is %zu)", name,
				max, max);
		/* The size fstat gave, in a read that had room for more: the end, as of then. */
		if (st.st_size > 0 && len == (size_t) st.st_size && len < cap)
			break;
	}
	data[len] = '\0';
	*ret = TAKE_PTR(data);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int qc_fsync_dir(int dirfd, struct qc_error *err)
{
	cleanup_close int own = -1;
	int fd = dirfd;

	if (dirfd == AT_FDCWD) {
		own = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (own < 0)
			return qc_error_errno(err, errno, "open current directory");
		fd = own;
	}
	/* Some file systems cannot fsync a directory (EINVAL): nothing to do there. */
	if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
		return qc_error_errno(err, errno, "fsync directory");
	return 0;
}


int qc_copy_file(
	const char *src, int dst_dirfd, const char *dst_name, mode_t mode, struct qc_error *err)
{
	cleanup_close int in = -1;
	cleanup_free char *tmp = NULL;
	cleanup_free char *buf = NULL;
	struct stat st;
	int out = -1, r;

	if ((in = open_regular(AT_FDCWD, src, false, &st, err)) < 0)
		return in;
	if ((r = qc_temp_create(dst_dirfd, dst_name, mode, 0, &tmp, &out, err)) < 0)
		return r;

	/*
	 * copy_file_range() first: in-kernel, and a reflink where the file
	 * system can.  Only for files that say how big they are: some kernels
	 * return 0 at once for /proc-like files of size 0.  A 0 return (or an
	 * unsupported pair of file systems) falls back to read/write from
	 * where it stopped, which then reads to the real EOF.
	 */
	while (st.st_size > 0) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n > 0)
			continue;
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP &&
			errno != EBADF && errno != EPERM) {
			r = qc_error_errno(err, errno, "copy '%s' to '%s'", src, dst_name);
			close(out);
			goto fail;
		}
		break;
	}
	buf = qc_xmalloc(1 << 17);
	for (;;) {
		ssize_t n = read(in, buf, 1 << 17);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = qc_error_errno(err, errno, "read '%s'", src);
			close(out);
			goto fail;
		}
		if (n == 0)
			break;
		if ((r = qc_write_all(out, buf, (size_t) n, err)) < 0) {
			close(out);
			qc_error_prefix(err, "copy '%s' to '%s'", src, dst_name);
			goto fail;
		}
	}
	qc_fault_stepf("copy-tmp %s", dst_name);
	return qc_temp_commit(dst_dirfd, tmp, out, dst_name, 0, err);
fail:
	(void) unlinkat(dst_dirfd, tmp, 0);
	return r;
}

int qc_abspath(const char *path, char **ret, struct qc_error *err)
{
	cleanup_free char *copy = NULL;
	cleanup_free char *parent = NULL;
	char *base, *slash;
	size_t n;

	if (!path || *path == '\0')
		return qc_error_set(err, EINVAL, "empty path");
	copy = qc_xstrdup(path);
	/* Drop trailing slashes (but keep "/"). */
	n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	slash = strrchr(copy, '/');
	if (!slash) {
		base = copy;
		parent = realpath(".", NULL);
	} else if (slash == copy) {
		base = slash + 1;
		parent = qc_xstrdup("/");
	} else {
		*slash = '\0';
		base = slash + 1;
		parent = realpath(copy, NULL);
	}
	if (!parent)
		return qc_error_errno(err, errno, "resolve the directory of '%s'", path);
	if (*base == '\0') { /* path was "/" */
		*ret = TAKE_PTR(parent);
		return 0;
	}
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		cleanup_free char *joined = qc_xasprintf("%s/%s", parent, base);
		char *res = realpath(joined, NULL);
		if (!res)
			return qc_error_errno(err, errno, "resolve '%s'", path);
		*ret = res;
		return 0;
	}
	*ret = qc_xasprintf("%s%s%s", parent, strcmp(parent, "/") ? "/" : "", base);
	return 0;
}

int qc_self_dir(char **ret, struct qc_error *err)
{
	char buf[PATH_MAX + 1];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n < 0)
		return qc_error_errno(err, errno, "readlink /proc/self/exe");
	if ((size_t) n >= sizeof(buf) - 1)
		return qc_error_set(err, ENAMETOOLONG, "readlink /proc/self/exe: path too long");
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return qc_error_set(
			err, QC_ERR_INTERNAL, "/proc/self/exe is not absolute: '%s'", buf);
	if (slash == buf)
		slash++;
	*slash = '\0';
	*ret = qc_xstrdup(buf);
	return 0;
}
