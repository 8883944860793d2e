/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/trust.c: who may change a directory, who serves a socket. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

#define ME 1000
#define OTHER 1001

static struct stat dir_st(uid_t uid, mode_t mode)
{
	struct stat st = {0};

	st.st_uid = uid;
	st.st_mode = S_IFDIR | mode;
	return st;
}

/* ------------------------------------------------------------ stat checks */

static const struct {
	uid_t uid;
	mode_t mode; /* S_IFDIR unless a type is given */
	enum qc_dir_role role;
	int want; /* 0 or the errno */
	const char *why; /* substring of the message */
} stat_cases[] = {
	{ME, 0755, QC_DIR_ANCESTOR, 0, NULL},
	{0, 0755, QC_DIR_ANCESTOR, 0, NULL},
	{0, 01777, QC_DIR_ANCESTOR, 0, NULL}, /* /tmp */
	{OTHER, 0755, QC_DIR_ANCESTOR, EPERM, "owned by uid 1001, neither you (uid 1000) nor root"},
	{0, 0777, QC_DIR_ANCESTOR, EPERM, "writable by group or others (mode 0777)"},
	{ME, 0775, QC_DIR_ANCESTOR, EPERM, "run chmod go-w /x"},
	{OTHER, 01777, QC_DIR_ANCESTOR, EPERM, "owned by uid 1001"},
	{ME, 0700, QC_DIR_OWN, 0, NULL},
	{ME, 0711, QC_DIR_OWN, 0, NULL},
	{ME, 0755, QC_DIR_OWN, 0, NULL},
	{0, 0700, QC_DIR_OWN, EPERM, "'/x' is owned by uid 0, not you (uid 1000): FIX"},
	{OTHER, 0700, QC_DIR_OWN, EPERM, "owned by uid 1001, not you (uid 1000)"},
	{ME, 0770, QC_DIR_OWN, EPERM, "writable by group or others (mode 0770); run chmod 0700 /x"},
	{ME, 01777, QC_DIR_OWN, EPERM, "writable by group or others"},
	{ME, 0700, QC_DIR_PRIVATE, 0, NULL},
	{ME, 0710, QC_DIR_PRIVATE, EPERM, "mode 0710, open to group or others; it must be 0700"},
	{ME, 0755, QC_DIR_PRIVATE, EPERM, "run chmod 0700 /x"},
	{OTHER, 0700, QC_DIR_PRIVATE, EPERM, "thing '/x' is owned by uid 1001, not you (uid 1000)"},
	{ME, S_IFLNK | 0777, QC_DIR_PRIVATE, ELOOP, "'/x' is a symbolic link: FIX"},
	{ME, S_IFLNK | 0777, QC_DIR_ANCESTOR, ELOOP, "symbolic link"},
	{ME, S_IFREG | 0600, QC_DIR_OWN, ENOTDIR, "'/x' is not a directory"},
};

START_TEST(stat_check)
{
	struct qc_error e = {0};
	struct stat st = dir_st(stat_cases[_i].uid, stat_cases[_i].mode & 07777);
	int r;

	if (stat_cases[_i].mode & S_IFMT)
		st.st_mode = stat_cases[_i].mode;
	r = qc_dir_stat_check(&st, ME, stat_cases[_i].role, "thing", "/x", "FIX", &e);
	if (!stat_cases[_i].want) {
		ck_assert_qc_ok(r, &e);
		return;
	}
	ck_assert_qc_fail(r, &e, stat_cases[_i].want, stat_cases[_i].why);
}
END_TEST

/* ------------------------------------------------------------ on disk */

UNIT_TMPDIR_FIXTURE(tmp)

START_TEST(private_dir_create)
{
	struct qc_error e = {0};
	cleanup_free char *p = qc_xasprintf("%s/run", tmp);
	cleanup_close int fd = -1;
	struct stat st;

	umask(0);
	ck_assert_qc_ok(
		qc_open_private_dir(AT_FDCWD, p, p, true, "runtime directory", "FIX", &fd, &e), &e);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_uint_eq(st.st_uid, geteuid());
	close(TAKE_FD(fd));
	/* again: the existing one is fine */
	ck_assert_qc_ok(
		qc_open_private_dir(AT_FDCWD, p, p, true, "runtime directory", "FIX", &fd, &e), &e);
	close(TAKE_FD(fd));
	/* missing and not to be created */
	free(p);
	p = qc_xasprintf("%s/none", tmp);
	ck_assert_qc_fail(
		qc_open_private_dir(AT_FDCWD, p, p, false, "runtime directory", "FIX", &fd, &e), &e,
		ENOENT, "runtime directory");
	ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(private_dir_refused)
{
	struct qc_error e = {0};
	cleanup_free char *open_dir = qc_xasprintf("%s/open", tmp);
	cleanup_free char *target = qc_xasprintf("%s/target", tmp);
	cleanup_free char *link = qc_xasprintf("%s/link", tmp);
	cleanup_free char *file = qc_xasprintf("%s/file", tmp);
	int fd = -1;
	struct stat st;

	ck_assert_int_eq(mkdir(open_dir, 0700), 0);
	ck_assert_int_eq(chmod(open_dir, 0755), 0);
	ck_assert_qc_fail(qc_open_private_dir(AT_FDCWD, open_dir, open_dir, true,
				  "runtime directory", "FIX", &fd, &e),
		&e, EPERM, "has mode 0755");
	/* A link to a fine directory is refused, and nothing is made through it. */
	ck_assert_int_eq(mkdir(target, 0700), 0);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_qc_fail(qc_open_private_dir(AT_FDCWD, link, link, true, "runtime directory",
				  "remove it", &fd, &e),
		&e, ELOOP, "is a symbolic link: remove it");
	ck_assert_int_eq(unlink(link), 0);
	free(target);
	target = qc_xasprintf("%s/target/x", tmp);
	ck_assert_int_eq(symlink(target, link), 0);
	ck_assert_qc_fail(qc_open_private_dir(
				  AT_FDCWD, link, link, true, "runtime directory", "FIX", &fd, &e),
		&e, ELOOP, "symbolic link");
	ck_assert_int_eq(lstat(target, &st), -1);
	ck_assert_int_eq(close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
	ck_assert_qc_fail(qc_open_private_dir(
				  AT_FDCWD, file, file, true, "runtime directory", "FIX", &fd, &e),
		&e, ENOTDIR, "not a directory");
	ck_assert_int_eq(fd, -1);
}
END_TEST

/* Root only: a directory of another uid (chown) is refused. */
START_TEST(private_dir_other_owner)
{
	struct qc_error e = {0};
	cleanup_free char *p = qc_xasprintf("%s/theirs", tmp);
	int fd = -1;

	if (geteuid() != 0) {
		fprintf(stderr, "NOTE: private_dir_other_owner needs root; owner checked by "
				"stat_check only\n");
		return;
	}
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(chown(p, 65534, 65534), 0);
	ck_assert_qc_fail(qc_open_private_dir(AT_FDCWD, p, p, true, "runtime directory",
				  "remove it or set XDG_RUNTIME_DIR", &fd, &e),
		&e, EPERM,
		"' is owned by uid 65534, not you (uid 0): remove it or set XDG_RUNTIME_DIR");
}
END_TEST

START_TEST(path_trusted)
{
	struct qc_error e = {0};
	cleanup_free char *wide = qc_xasprintf("%s/wide", tmp);
	cleanup_free char *inner = qc_xasprintf("%s/wide/root", tmp);
	cleanup_free char *link = qc_xasprintf("%s/link", tmp);
	cleanup_free char *via = qc_xasprintf("%s/link/root", tmp);
	cleanup_free char *sticky = qc_xasprintf("%s/sticky", tmp);
	cleanup_free char *ok = qc_xasprintf("%s/sticky/root", tmp);
	cleanup_free char *dots = qc_xasprintf("%s/sticky/../wide/root/", tmp);

	/* mkdtemp's own dir, under /tmp (root-owned, sticky) */
	ck_assert_qc_ok(
		qc_path_check_trusted(tmp, geteuid(), QC_DIR_OWN, "state root", "FIX", &e), &e);
	ck_assert_qc_ok(qc_path_check_trusted("/", 0, QC_DIR_ANCESTOR, "x", "FIX", &e), &e);
	ck_assert_int_eq(mkdir(wide, 0700), 0);
	ck_assert_int_eq(chmod(wide, 0777), 0);
	ck_assert_int_eq(mkdir(inner, 0700), 0);
	ck_assert_qc_fail(
		qc_path_check_trusted(inner, geteuid(), QC_DIR_OWN, "state root", "FIX", &e), &e,
		EPERM, "directory");
	ck_assert_msg(strstr(e.msg, "wide' on its path is writable by group or others (mode 0777)"),
		"%s", e.msg);
	ck_assert_msg(strstr(e.msg, "state root "), "%s", e.msg);
	/* The same through a link, and through "..": the resolved path counts. */
	ck_assert_int_eq(symlink(wide, link), 0);
	ck_assert_qc_fail(
		qc_path_check_trusted(via, geteuid(), QC_DIR_OWN, "state root", "FIX", &e), &e,
		EPERM, "wide' on its path is writable");
	/* A sticky world-writable parent is fine for a root of our own (mktemp -d in /tmp). */
	ck_assert_int_eq(mkdir(sticky, 0700), 0);
	ck_assert_int_eq(chmod(sticky, 01777), 0);
	ck_assert_int_eq(mkdir(ok, 0700), 0);
	ck_assert_qc_ok(
		qc_path_check_trusted(ok, geteuid(), QC_DIR_OWN, "state root", "FIX", &e), &e);
	ck_assert_qc_fail(
		qc_path_check_trusted(dots, geteuid(), QC_DIR_OWN, "state root", "FIX", &e), &e,
		EPERM, "wide' on its path is writable");
	/* ... but the target itself is not a link */
	ck_assert_qc_fail(
		qc_path_check_trusted(link, geteuid(), QC_DIR_OWN, "state root", "FIX", &e), &e,
		ELOOP, "symbolic link");
	ck_assert_qc_fail(
		qc_path_check_trusted("rel/x", geteuid(), QC_DIR_OWN, "state root", "FIX", &e), &e,
		EINVAL, "not an absolute path");
	ck_assert_qc_fail(
		qc_path_check_trusted(tmp, geteuid() + 1, QC_DIR_OWN, "state root", "FIX", &e), &e,
		EPERM, "not you");
}
END_TEST

/* ------------------------------------------------------------ peers */

START_TEST(peer_self)
{
	struct qc_error e = {0};
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_qc_ok(qc_unix_peer_check(sv[0], "QMP socket", "/x", &e), &e);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Root only: a listener that dropped to nobody is refused, and nothing is sent. */
START_TEST(peer_other_uid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct qc_error e = {0};
	socklen_t len;
	int ready[2], fd, status;
	char c, got[16];
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "NOTE: peer_other_uid needs root; the integration test "
				"trust-runtime.sh covers it\n");
		return;
	}
	/* abstract name: no file system permissions in the way */
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "qc-peer-%d", (int) getpid());
	len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1));
	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int l = socket(AF_UNIX, SOCK_STREAM, 0), a;
		ssize_t n;

		if (l < 0 || setgid(65534) < 0 || setuid(65534) < 0 ||
			bind(l, (struct sockaddr *) &sa, len) < 0 || listen(l, 1) < 0)
			_exit(2);
		(void) !write(ready[1], "x", 1);
		a = accept(l, NULL, NULL);
		n = a < 0 ? -1 : read(a, got, sizeof(got));
		_exit(n == 0 ? 0 : 3); /* EOF with nothing read */
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *) &sa, len), 0);
	ck_assert_qc_fail(qc_unix_peer_check(fd, "QMP socket", "/run/x/qmp.sock", &e), &e, EPERM,
		"QMP socket '/run/x/qmp.sock' is served by uid 65534");
	close(fd);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "listener status %d", status);
	close(ready[0]);
}
END_TEST

/* ------------------------------------------------------------ listeners */

/* A stale file of the name is replaced; the socket is 0600 and listens. */
START_TEST(listen_replaces_and_restricts)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	cleanup_free char *path = qc_xasprintf("%s/l.sock", tmp);
	struct qc_error e = {0};
	struct stat st;
	int fd, c;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	fd = qc_unix_listen(path, SOCK_NONBLOCK, 4, &e);
	ck_assert_msg(fd >= 0, "%s", e.msg);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *) &sa, sizeof(sa)), 0);
	close(c);
	close(fd);
}
END_TEST

START_TEST(listen_path_too_long)
{
	char path[sizeof(((struct sockaddr_un *) 0)->sun_path) + 8];
	struct qc_error e = {0};

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = 0;
	ck_assert_qc_fail(qc_unix_listen(path, 0, 1, &e), &e, QC_ERR_INVALID, "socket path too long");
}
END_TEST

Suite *util_trust_suite(void)
{
	Suite *s = suite_create("util_trust");
	TCase *tc;

	tc = unit_tcase(s, "stat", NULL);
	tcase_add_loop_test(tc, stat_check, 0, QC_ARRAY_SIZE(stat_cases));
	tc = unit_tcase(s, "disk", private_dir_create, private_dir_refused, private_dir_other_owner,
		path_trusted, NULL);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	unit_tcase(s, "peer", peer_self, peer_other_uid, NULL);
	tc = unit_tcase(s, "listen", listen_replaces_and_restricts, listen_path_too_long, NULL);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	return s;
}
