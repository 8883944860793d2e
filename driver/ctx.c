/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context: a handle on a state root, and the layout under it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/confine.h"
#include "qmp/qmp.h"
#include "driver/driver.h"

int qc_driver_default_root(char **ret, struct qc_error *err)
{
	const char *xdg, *home;

	if (geteuid() == 0) {
		*ret = qc_xstrdup("/var/lib/qemuctl");
		return 0;
	}
	xdg = getenv("XDG_DATA_HOME");
	if (xdg && xdg[0] == '/') {
		*ret = qc_xasprintf("%s/qemuctl", xdg);
		return 0;
	}
	home = getenv("HOME");
	if (!home || home[0] != '/') {
		struct passwd *pw = getpwuid(geteuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || home[0] != '/')
		return qc_error_set(err, QC_ERR_INVALID,
			"cannot find a state root: HOME is not set; pass --root DIR or set "
			"QEMUCTL_ROOT");
	*ret = qc_xasprintf("%s/.local/share/qemuctl", home);
	return 0;
}

static char *default_run_base(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0)
		return qc_xstrdup("/run/qemuctl");
	if (xdg && xdg[0] == '/' && strlen(xdg) < 60)
		return qc_xasprintf("%s/qemuctl", xdg);
	return qc_xasprintf("/tmp/qemuctl-%u", (unsigned) geteuid());
}

#define ROOT_FIX "use a state root of your own (--root DIR or QEMUCTL_ROOT)"

/* The deepest existing directory on the way to path (path itself when it exists). */
static char *existing_ancestor(const char *path)
{
	char *p = qc_xstrdup(path);
	struct stat st;

	while (lstat(p, &st) < 0 && strcmp(p, "/") != 0) {
		char *slash = strrchr(p, '/');

		if (slash == p)
			slash[1] = 0;
		else
			*slash = 0;
	}
	return p;
}

static int check_root_mode(const char *root, struct qc_error *err)
{
	static const char *const subdirs[] = {"vms", "images", "networks", "ssh"};
	struct stat st;
	int rc;

	if (lstat(root, &st) < 0 && errno != ENOENT)
		return qc_error_errno(err, errno, "state root '%s'", root);
	if (lstat(root, &st) < 0) {
		/*
		 * Made 0700 by the first create/define, unless someone else can
		 * put a directory of theirs there first (a sticky /tmp): then now,
		 * so that theirs is found and refused below.
		 */
		cleanup_free char *up = existing_ancestor(root);
		cleanup_free char *what = qc_xasprintf("state root '%s'", root);

		if ((rc = qc_path_check_trusted(
			     up, geteuid(), QC_DIR_ANCESTOR, what, ROOT_FIX, err)) < 0)
			return rc;
		if (stat(up, &st) < 0 || !(st.st_mode & (S_IWGRP | S_IWOTH)))
			return 0;
		if ((rc = qc_mkdir_p(root, 0700, err)) < 0)
			return qc_error_prefix(err, "state root '%s'", root);
	}
	/*
	 * Anyone who can write the root or a directory above it can swap a
	 * VM's disk or definition under us: refuse such a root rather than
	 * run VMs from it, and another user's root (root included).
	 */
	if ((rc = qc_path_check_trusted(root, geteuid(), QC_DIR_OWN, "state root", ROOT_FIX, err)) <
		0)
		return rc;
	/* A symlinked top-level directory would redirect every write under it. */
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		cleanup_free char *p = qc_xasprintf("%s/%s", root, subdirs[i]);

		if ((rc = qc_refuse_symlink(AT_FDCWD, p, p, err)) < 0)
			return qc_error_prefix(err, "state root '%s'", root);
	}
	return 0;
}

QC_PUBLIC int qc_ctx_open(const char *root, qc_ctx **ret, struct qc_error *err)
{
	cleanup_free char *r = NULL, *abs = NULL;
	const char *env = getenv("QEMUCTL_ROOT");
	const char *run = getenv("QEMUCTL_RUNDIR");
	qc_ctx *ctx;
	int rc;

	if (root && !root[0])
		return qc_error_set(err, QC_ERR_INVALID, "state root: empty path");
	if (root)
		r = qc_xstrdup(root);
	else if (env && env[0])
		r = qc_xstrdup(env);
	else if ((rc = qc_driver_default_root(&r, err)) < 0)
		return rc;
	/* The root need not exist yet: it is created by the first create/define. */
	if (r[0] == '/') {
		abs = qc_xstrdup(r);
	} else {
		cleanup_free char *cwd = getcwd(NULL, 0);

		if (!cwd)
			return qc_error_errno(err, errno, "state root '%s': getcwd", r);
		abs = qc_xasprintf("%s/%s", cwd, r);
	}
	while (strlen(abs) > 1 && abs[strlen(abs) - 1] == '/')
		abs[strlen(abs) - 1] = 0;
	/*
	 * Anyone who can write the root can swap a VM's disk or definition
	 * under us: refuse such a root rather than run VMs from it.
	 */
	if ((rc = check_root_mode(abs, err)) < 0)
		return rc;
	/*
	 * One spelling of the root (no "//", "..", or links above it): the
	 * paths a definition records are checked against it as strings.
	 */
	{
		char *real = realpath(abs, NULL);

		if (real) {
			free(abs);
			abs = real;
		}
	}
	/* Confined QEMUs listen on their monitor sockets as their own user. */
	if (geteuid() == 0) {
		struct qc_confine cf;

		if (qc_driver_confine_user(false, &cf, NULL) == 0 && cf.active)
			qc_unix_peer_allow(cf.uid);
	}
	ctx = qc_xzalloc(sizeof(*ctx));
	ctx->root = TAKE_PTR(abs);
	ctx->run_base = run && run[0] == '/' ? qc_xstrdup(run) : default_run_base();
	*ret = ctx;
	return 0;
}

QC_PUBLIC void qc_ctx_close(qc_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->root);
	free(ctx->run_base);
	free(ctx);
}

QC_PUBLIC const char *qc_ctx_root(const qc_ctx *ctx)
{
	return ctx->root;
}

QC_PUBLIC void qc_ctx_set_progress(qc_ctx *ctx, qc_ctx_progress_fn fn, void *opaque)
{
	ctx->progress = fn;
	ctx->progress_opaque = opaque;
}

QC_PUBLIC void qc_ctx_set_monitor_as_child(qc_ctx *ctx, bool on)
{
	ctx->monitor_as_child = on;
}

char *qc_driver_vm_dir(const qc_ctx *ctx, const char *name)
{
	return qc_xasprintf("%s/vms/%s", ctx->root, name);
}

int qc_driver_vms_open(const qc_ctx *ctx, bool create, int *ret_dfd, struct qc_error *err)
{
	cleanup_free char *vms = qc_xasprintf("%s/vms", ctx->root);
	int fd, rc;

	if (create && (rc = qc_mkdir_p(vms, 0700, err)) < 0)
		return rc;
	fd = open(vms, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return qc_error_errno(err, errno, "state root '%s': cannot open vms/", ctx->root);
	*ret_dfd = fd;
	return 0;
}

int qc_driver_foreach_vm(const qc_ctx *ctx, qc_driver_vm_fn fn, void *opaque, struct qc_error *err)
{
	cleanup_free char *vms = qc_xasprintf("%s/vms", ctx->root);
	struct dirent *de;
	DIR *dir = opendir(vms);

	if (!dir && errno == ENOENT)
		return 0;
	if (!dir)
		return qc_error_errno(err, errno, "state root '%s': open vms/", ctx->root);
	while ((de = readdir(dir))) {
		int dfd;

		if (de->d_name[0] == '.' || qc_validate_name("VM", de->d_name, NULL) < 0)
			continue;
		dfd = openat(
			dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (dfd < 0)
			continue;
		fn(de->d_name, dfd, opaque);
		close(dfd);
	}
	closedir(dir);
	return 0;
}

char *qc_driver_run_dir(const qc_ctx *ctx, const char *name)
{
	cleanup_free char *dir = qc_driver_vm_dir(ctx, name);
	char id[17];

	qc_state_run_id(dir, id);
	return qc_xasprintf("%s/%s", ctx->run_base, id);
}

/* How to get a runtime directory of one's own, for the messages. */
static const char *run_fix(void)
{
	if (getenv("QEMUCTL_RUNDIR") && getenv("QEMUCTL_RUNDIR")[0] == '/')
		return "remove it or set QEMUCTL_RUNDIR to a directory of your own";
	if (geteuid() == 0)
		return "remove it (or set QEMUCTL_RUNDIR)";
	return "remove it or set XDG_RUNTIME_DIR";
}

/*
 * The runtime directory ($XDG_RUNTIME_DIR/qemuctl, /run/qemuctl,
 * /tmp/qemuctl-UID): ours and 0700, under directories only we or root
 * can change, so nobody else can put a socket where we look for one.
 */
static int run_base_open(const qc_ctx *ctx, int *ret_fd, struct qc_error *err)
{
	cleanup_free char *parent = qc_xstrdup(ctx->run_base);
	cleanup_free char *what = qc_xasprintf("runtime directory '%s'", ctx->run_base);
	char *slash = strrchr(parent, '/');
	int rc;

	if (slash == parent)
		slash[1] = 0;
	else
		*slash = 0;
	if ((rc = qc_mkdir_p(parent, 0700, err)) < 0)
		return qc_error_prefix(err, "runtime directory %s", ctx->run_base);
	if ((rc = qc_path_check_trusted(parent, geteuid(), QC_DIR_ANCESTOR, what, run_fix(), err)) <
		0)
		return rc;
	return qc_open_private_dir(AT_FDCWD, ctx->run_base, ctx->run_base, true,
		"runtime directory", run_fix(), ret_fd, err);
}

int qc_driver_run_dir_prepare(const qc_ctx *ctx, const char *rdir, struct qc_error *err)
{
	cleanup_close int base = -1, fd = -1;
	const char *id = strrchr(rdir, '/');
	int rc;

	if (!id || strncmp(rdir, ctx->run_base, (size_t) (id - rdir)) != 0 ||
		strlen(ctx->run_base) != (size_t) (id - rdir))
		return qc_error_set(err, QC_ERR_INVALID, "runtime directory %s is not in %s", rdir,
			ctx->run_base);
	if ((rc = run_base_open(ctx, &base, err)) < 0)
		return rc;
	return qc_open_private_dir(
		base, id + 1, rdir, true, "runtime directory", run_fix(), &fd, err);
}

int qc_driver_run_dir_check(const char *rdir, struct qc_error *err)
{
	return qc_path_check_trusted(
		rdir, geteuid(), QC_DIR_PRIVATE, "runtime directory", run_fix(), err);
}

int qc_driver_run_qmp(const char *rdir, int timeout_ms, struct qc_qmp **ret, struct qc_error *err)
{
	return qc_driver_run_qmp_all(rdir, NULL, 0, timeout_ms, ret, NULL, err);
}

int qc_driver_run_qmp_all(const char *rdir, const char *const *cmds, size_t n, int timeout_ms,
	struct qc_qmp **ret, qc_json **rets, struct qc_error *err)
{
	cleanup_free char *path = qc_xasprintf("%s/qmp.sock", rdir);
	int rc;

	if ((rc = qc_driver_run_dir_check(rdir, err)) < 0 && rc != -ENOENT)
		return rc;
	qc_error_clear(err);
	return qc_qmp_connect_all(path, cmds, n, timeout_ms, ret, rets, err);
}

/* The VM directory open as vm_dfd was removed (a delete ran meanwhile). */
bool qc_driver_vm_gone(int vm_dfd)
{
	struct stat st;

	return fstat(vm_dfd, &st) < 0 || st.st_nlink == 0 ||
	       faccessat(vm_dfd, QC_VM_DOMAIN, F_OK, 0) < 0;
}

int qc_driver_vm_gone_error(const char *name, struct qc_error *err)
{
	return qc_error_set(err, QC_ERR_NOTFOUND,
		"VM '%s' does not exist: it was deleted while this operation ran "
		"(see 'qemuctl list')",
		name);
}
