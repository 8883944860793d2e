/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Confinement: the unprivileged user QEMU runs as when qemuctl runs as root.
 *
 * The user is $QEMUCTL_USER, else "qemuctl" (a system user and group,
 * created on the first start that needs it); "root" or "none" runs QEMU
 * unconfined as root.  Without root there is nothing to drop: QEMU runs as
 * the invoking user.  qemuctl-monitor does the drop in the QEMU child after
 * every fd is open and before exec (driver/monitor/qemu.c).
 *
 * QEMU opens no file of the VM by path: disks, their backing chains, the
 * seed and the UEFI files are opened by the caller and passed as fds
 * (driver/fdpass.c), kernel and initrd as /dev/fd/N.  So the VM's
 * directory stays the caller's 0700 and its files the caller's 0600; a
 * file left to that user by an older qemuctl is taken back at start.
 * What QEMU still opens by path is a share (virtio-9p's fsdev needs a
 * directory path): for a scratch share under the VM's directory the state
 * root, vms/ and the VM's directory become searchable (not listable) by
 * the user's group and the scratch directory the user's; any share, the
 * kernel and the initrd are opened as that user in a child first, so one
 * it cannot use is a clear error naming the file and the fix.
 * One user serves every VM, and no file of any VM belongs to it: a QEMU
 * that escapes its sandbox holds its own VM's files only (as fds); it may
 * still reach the other QEMU processes of that user, not their files, root's
 * files or the definitions.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/confine.h"
#include "driver/domain.h"
#include "driver/driver.h"

#define USERADD_TIMEOUT_MS 30000
#define UNCONFINED_FIX "or set QEMUCTL_USER=root to run QEMU unconfined"

const char *qc_driver_confine_user_name(void)
{
	const char *u = getenv("QEMUCTL_USER");

	return u && u[0] ? u : QC_CONFINE_DEFAULT_USER;
}

static bool valid_user_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
			    s[i] == '-'))
			return false;
	return true;
}

static int create_user(const char *name, struct qc_error *err)
{
	const char *argv[16];
	size_t n = 0;
	struct qc_spawn_opts o = {.argv = argv, .timeout_ms = USERADD_TIMEOUT_MS};
	cleanup_free char *prog = qc_find_program("useradd");
	cleanup_close int run = -1, lock = -1;
	int rc;

	if (!prog)
		prog = qc_find_program("/usr/sbin/useradd");
	if (!prog)
		return qc_error_set(err, ENOENT,
			"user '%s' that QEMU runs as does not exist and useradd is not "
			"installed; create it (useradd --system --user-group --no-create-home "
			"--home-dir /nonexistent --shell /usr/sbin/nologin %s) " UNCONFINED_FIX,
			name, name);
	argv[n++] = prog;
	argv[n++] = "--system";
	argv[n++] = "--no-create-home";
	argv[n++] = "--home-dir";
	argv[n++] = "/nonexistent";
	argv[n++] = "--shell";
	argv[n++] = "/usr/sbin/nologin";
	argv[n++] = "--comment";
	argv[n++] = "qemuctl QEMU processes";
	/* a group of that name left behind (userdel keeps a used group) is reused */
	if (getgrnam(name)) {
		argv[n++] = "--gid";
		argv[n++] = name;
	} else {
		argv[n++] = "--user-group";
	}
	argv[n++] = name;
	argv[n] = NULL;
	/*
	 * Parallel starts must not both run useradd: two of them at once can
	 * both add the name (seen with shadow 4.13).  One at a time, and the
	 * later ones find the user made.
	 */
	run = open("/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run < 0)
		return qc_error_errno(err, errno, "open /run");
	if ((rc = qc_lock_open(run, "qemuctl-useradd.lock", LOCK_EX, USERADD_TIMEOUT_MS,
		     "user creation", &lock, err)) < 0)
		return rc;
	if (getpwnam(name))
		return 1;
	rc = qc_spawn_check(&o, NULL, err);
	if (rc < 0)
		return qc_error_prefix(err,
			"user '%s' that QEMU runs as does not exist and could not be created "
			"(create it by hand, " UNCONFINED_FIX ")",
			name);
	return 0;
}

int qc_driver_confine_user(bool create, struct qc_confine *ret, struct qc_error *err)
{
	const char *name = qc_driver_confine_user_name();
	struct passwd *pw;
	int rc;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	if (geteuid() != 0) {
		ret->why = "qemuctl does not run as root: QEMU runs as the invoking user";
		return 0;
	}
	if (strcmp(name, "root") == 0 || strcmp(name, "none") == 0) {
		ret->why = "QEMUCTL_USER says so: QEMU runs as root, unconfined";
		return 0;
	}
	if (!valid_user_name(name))
		return qc_error_set(err, QC_ERR_INVALID,
			"QEMUCTL_USER '%s' is not a valid user name ([a-z_][a-z0-9_-]*, at most 32 "
			"characters); use a system user's name, or root to run QEMU unconfined",
			name);
	pw = getpwnam(name);
	if (!pw && !create) {
		ret->missing = true;
		return 0;
	}
	if (!pw) {
		if ((rc = create_user(name, err)) < 0)
			return rc;
		pw = getpwnam(name);
		if (!pw)
			return qc_error_set(err, QC_ERR_INTERNAL,
				"user '%s' was created but cannot be looked up", name);
		ret->created = rc == 0; /* 1: another qemuctl made it meanwhile */
		if (ret->created)
			qc_warn("created the system user '%s' (uid %u) that QEMU runs as (set "
				"QEMUCTL_USER to pick another, root to run QEMU unconfined)",
				name, (unsigned) pw->pw_uid);
	}
	if (pw->pw_uid == 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"user '%s' that QEMU should run as has uid 0; pick an unprivileged user "
			"with QEMUCTL_USER, or QEMUCTL_USER=root to run QEMU unconfined",
			name);
	ret->active = true;
	ret->uid = pw->pw_uid;
	ret->gid = pw->pw_gid;
	return 0;
}

int qc_driver_confine_of_pid(pid_t pid, struct qc_confine *ret)
{
	cleanup_free char *path = qc_xasprintf("/proc/%d/status", (int) pid);
	cleanup_free char *text = NULL;
	unsigned uid = 0, gid = 0;
	const char *u, *g;
	struct passwd *pw;

	memset(ret, 0, sizeof(*ret));
	if (pid <= 0 || qc_read_file(AT_FDCWD, path, 1 << 16, &text, NULL, NULL) < 0)
		return -ESRCH;
	u = strstr(text, "\nUid:");
	g = strstr(text, "\nGid:");
	if (!u || !g || sscanf(u + 5, "%u", &uid) != 1 || sscanf(g + 5, "%u", &gid) != 1)
		return -EINVAL;
	if (uid == geteuid())
		return 0;
	pw = getpwuid(uid);
	snprintf(ret->name, sizeof(ret->name), "%s", pw ? pw->pw_name : "?");
	ret->active = true;
	ret->uid = uid;
	ret->gid = gid;
	return 0;
}

/* Give an existing file (no symlink) to QEMU: writable for the user, else readable by the group. */
static int give_at(const struct qc_confine *c, int dfd, const char *name, const char *shown,
	bool writable, bool dir, struct qc_error *err)
{
	int fd = openat(dfd, name,
		O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
			(dir ? O_DIRECTORY : 0));
	uid_t owner = writable ? c->uid : 0;
	mode_t mode = dir ? 0700 : writable ? 0600 : 0640;
	int e;

	if (fd < 0)
		return qc_error_errno(err, errno, "open '%s'", shown);
	if (fchown(fd, owner, c->gid) < 0 || fchmod(fd, mode) < 0) {
		e = errno;
		close(fd);
		return qc_error_errno(
			err, e, "give '%s' to user '%s' that QEMU runs as", shown, c->name);
	}
	close(fd);
	return 0;
}

/* Is path directly in dir?  Returns the base name, else NULL. */
static const char *in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!path || strncmp(path, dir, n) != 0 || path[n] != '/' || strchr(path + n + 1, '/'))
		return NULL;
	return path + n + 1;
}

/* The writable scratch share of d named name in vm_dir, or NULL. */
static const struct qc_share *scratch_share(
	const struct qc_domain *d, const char *vm_dir, const char *name)
{
	const char *b;

	for (size_t i = 0; i < d->n_shares; i++)
		if (d->shares[i].empty && !d->shares[i].readonly &&
			(b = in_dir(d->shares[i].path, vm_dir)) && strcmp(b, name) == 0)
			return &d->shares[i];
	return NULL;
}

static bool has_scratch_share(const struct qc_domain *d, const char *vm_dir)
{
	for (size_t i = 0; i < d->n_shares; i++)
		if (d->shares[i].empty && in_dir(d->shares[i].path, vm_dir))
			return true;
	return false;
}

/* A file of the VM that an older qemuctl gave to that user: the caller's again, 0600. */
static int take_back(const struct qc_confine *c, int dfd, const char *name, const char *vm_dir,
	struct qc_error *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	int rc = 0;

	if (fd < 0)
		return 0; /* a socket, a FIFO someone left: not ours to fix */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		((c->active && (st.st_uid == c->uid || st.st_gid == c->gid)) ||
			(st.st_mode & 0077)) &&
		(fchown(fd, geteuid(), getegid()) < 0 || fchmod(fd, 0600) < 0))
		rc = qc_error_errno(
			err, errno, "take back '%s/%s' from user '%s'", vm_dir, name, c->name);
	close(fd);
	return rc;
}

/*
 * The VM's directory: 0700 and every file the caller's 0600; with a scratch
 * share 0710 for the user's group (QEMU opens that share by path) and the
 * share directory the user's.
 */
static int settle_vm_dir(const struct qc_confine *c, const struct qc_domain *d, int vm_dfd,
	const char *vm_dir, struct qc_error *err)
{
	cleanup_dir DIR *dir = NULL;
	bool scratch = has_scratch_share(d, vm_dir);
	struct dirent *de;
	int rc;

	if ((rc = qc_opendir_at(vm_dfd, NULL, 0, &dir)) < 0)
		return qc_error_errno(err, -rc, "open '%s'", vm_dir);
	rc = 0;
	scratch = scratch && c->active;
	if (fchown(dirfd(dir), (uid_t) -1, scratch ? c->gid : getegid()) < 0 ||
		fchmod(dirfd(dir), scratch ? 0710 : 0700) < 0)
		return qc_error_errno(err, errno, "'%s': set owner and mode", vm_dir);
	while (rc == 0 && (de = qc_readdir(dir))) {
		cleanup_free char *shown = NULL;
		struct stat st;

		if (fstatat(vm_dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && scratch && scratch_share(d, vm_dir, de->d_name)) {
			shown = qc_xasprintf("%s/%s", vm_dir, de->d_name);
			rc = give_at(c, vm_dfd, de->d_name, shown, true, true, err);
		} else if (S_ISREG(st.st_mode)) {
			rc = take_back(c, vm_dfd, de->d_name, vm_dir, err);
		}
	}
	return rc;
}

/* Others may search (not list) a directory of ours QEMU's files are under. */
static int searchable(const char *dir, struct qc_error *err)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return errno == ENOENT ? 0 : qc_error_errno(err, errno, "stat '%s'", dir);
	if ((st.st_mode & 0011) == 0011)
		return 0;
	if (chmod(dir, (st.st_mode & 07777) | 0011) < 0)
		return qc_error_errno(err, errno, "chmod o+x '%s'", dir);
	return 0;
}

struct check {
	const char *path; /* what the child opens */
	const char *shown; /* what the message names */
	const char *what;
	int flags;
	bool inherited;
};

static void add_check(struct check *v, size_t *n, const char *path, const char *shown,
	const char *what, int flags, bool inherited)
{
	v[*n] = (struct check){path, shown ? shown : path, what, flags, inherited};
	(*n)++;
}

static int denied(const struct qc_confine *c, const struct check *k, int e, struct qc_error *err)
{
	bool rw = (k->flags & O_ACCMODE) == O_RDWR;

	if (k->inherited)
		return qc_error_errno(err, e,
			"%s '%s': user '%s' (uid %u) that QEMU runs as cannot read it; make the "
			"file readable by that user (chmod o+r %s), " UNCONFINED_FIX,
			k->what, k->shown, c->name, (unsigned) c->uid, k->shown);
	return qc_error_errno(err, e,
		"%s '%s': user '%s' (uid %u) that QEMU runs as cannot open it for %s; give it "
		"access (the file %s by that user, every directory above it searchable: chmod "
		"o+x), " UNCONFINED_FIX,
		k->what, k->shown, c->name, (unsigned) c->uid, rw ? "writing" : "reading",
		rw ? "writable" : "readable");
}

int qc_driver_confine_prepare(const char *root, const struct qc_domain *d, int vm_dfd,
	const char *vm_dir, const struct qc_confine *c, int *ret_kernel_fd, int *ret_initrd_fd,
	struct qc_error *err)
{
	cleanup_free char *vms = qc_xasprintf("%s/vms", root);
	cleanup_free struct check *v = NULL;
	cleanup_strvec struct qc_strv paths = {0};
	cleanup_free int *flags = NULL;
	cleanup_close int kfd = -1, ifd = -1;
	size_t n = 0, idx = 0;
	struct stat st;
	int e = 0, rc;

	*ret_kernel_fd = *ret_initrd_fd = -1;
	/*
	 * A QEMU running as root with a passthrough share stores the guest's
	 * owners and modes as they are: a guest could leave a setuid-root
	 * program in a host directory.
	 */
	for (size_t i = 0; geteuid() == 0 && !c->active && i < d->n_shares; i++)
		if (d->shares[i].security_model &&
			strcmp(d->shares[i].security_model, "passthrough") == 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"share '%s': accessmode 'passthrough' with QEMU running as root "
				"would let the guest create root's files (setuid programs "
				"included) in '%s'; use accessmode 'mapped', or run QEMU "
				"confined (QEMUCTL_USER unset or a system user)",
				d->shares[i].tag, d->shares[i].path ? d->shares[i].path : "");
	if ((rc = settle_vm_dir(c, d, vm_dfd, vm_dir, err)) < 0)
		return rc;
	if (!c->active)
		return 0;
	if (!has_scratch_share(d, vm_dir))
		goto opened_by_fd;
	if (stat(root, &st) < 0)
		return qc_error_errno(err, errno, "state root '%s'", root);
	/* A root of ours made 0700 (by an older qemuctl, mktemp -d) becomes 0711. */
	if (!(st.st_mode & S_IXOTH) && st.st_uid == geteuid() && (rc = searchable(root, err)) < 0)
		return rc;
	if (stat(root, &st) < 0)
		return qc_error_errno(err, errno, "state root '%s'", root);
	if (!(st.st_mode & S_IXOTH) && !(st.st_gid == c->gid && (st.st_mode & S_IXGRP)))
		return qc_error_set(err, EACCES,
			"state root '%s' (mode %04o) is not searchable by user '%s' that QEMU runs "
			"as; run chmod 0711 %s, " UNCONFINED_FIX,
			root, (unsigned) (st.st_mode & 07777), c->name, root);
	if ((rc = searchable(vms, err)) < 0)
		return rc;

opened_by_fd:
	if (d->kernel) {
		kfd = open(d->kernel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (kfd < 0)
			return qc_error_errno(err, errno, "kernel '%s'", d->kernel);
	}
	if (d->kernel && d->initrd) {
		ifd = open(d->initrd, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (ifd < 0)
			return qc_error_errno(err, errno, "initrd '%s'", d->initrd);
	}

	/* disks, seed and firmware go by fd (driver/fdpass.c): no check needed */
	v = qc_xzalloc((d->n_shares + 4) * sizeof(*v));
	for (size_t i = 0; i < d->n_shares; i++)
		if (d->shares[i].path)
			add_check(v, &n, d->shares[i].path, NULL, "share", O_RDONLY | O_DIRECTORY,
				false);
	if (kfd >= 0) {
		qc_strv_pushf(&paths, "/proc/self/fd/%d", kfd);
		add_check(v, &n, paths.v[paths.n - 1], d->kernel, "kernel", O_RDONLY, true);
	}
	if (ifd >= 0) {
		qc_strv_pushf(&paths, "/proc/self/fd/%d", ifd);
		add_check(v, &n, paths.v[paths.n - 1], d->initrd, "initrd", O_RDONLY, true);
	}
	{
		cleanup_free const char **pv = qc_xzalloc((n + 1) * sizeof(*pv));

		flags = qc_xzalloc((n + 1) * sizeof(*flags));
		for (size_t i = 0; i < n; i++) {
			pv[i] = v[i].path;
			flags[i] = v[i].flags;
		}
		rc = qc_access_as(c->uid, c->gid, pv, flags, n, &idx, &e, err);
	}
	if (rc < 0)
		return rc;
	if (rc == 1)
		return denied(c, &v[idx], e, err);
	*ret_kernel_fd = TAKE_FD(kfd);
	*ret_initrd_fd = TAKE_FD(ifd);
	return 0;
}

bool qc_driver_confine_may(const struct stat *st, uid_t uid, gid_t gid, bool writable)
{
	mode_t r = S_IROTH, w = S_IWOTH;

	if (st->st_uid == uid) {
		r = S_IRUSR;
		w = S_IWUSR;
	} else if (st->st_gid == gid) {
		r = S_IRGRP;
		w = S_IWGRP;
	}
	return (st->st_mode & r) && (!writable || (st->st_mode & w));
}
