/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/fileio.c, util/dirs.c and util/lock.c */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

static char *tmp;
static int tmpfd = -1;

static void setup(void)
{
	tmp = unit_mkdtemp();
	tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(tmpfd, 0);
}

static void teardown(void)
{
	qc_closep(&tmpfd);
	unit_rmdir(tmp);
	tmp = NULL;
}

/* Sorted, space-separated names in dir (relative to tmpfd), "" when empty. */
static char *list_dir(const char *dir)
{
	int fd = openat(tmpfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent **names;
	struct qc_buf b = {0};
	int n;

	ck_assert_int_ge(fd, 0);
	cleanup_free char *path = qc_xasprintf("/proc/self/fd/%d", fd);
	n = scandir(path, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			if (b.len)
				qc_buf_putc(&b, ' ');
			qc_buf_puts(&b, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	close(fd);
	return qc_buf_steal(&b);
}

static void write_file(const char *name, const char *content)
{
	int fd = openat(tmpfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t) strlen(content));
	close(fd);
}

static char *slurp(int dfd, const char *name)
{
	struct qc_error e = {0};
	char *s = NULL;

	ck_assert_qc_ok(qc_read_file(dfd, name, 1 << 20, &s, NULL, &e), &e);
	return s;
}

/* ----------------------------------------------------------------- atomic */

/* The test dir holds state.json alone (no temp files), with content and mode. */
static void assert_state_json(const char *content, mode_t mode)
{
	cleanup_free char *c = slurp(tmpfd, "state.json");
	cleanup_free char *l = list_dir(".");
	struct stat st;

	ck_assert_str_eq(c, content);
	ck_assert_int_eq(fstatat(tmpfd, "state.json", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 07777, mode);
	ck_assert_str_eq(l, "state.json");
}

START_TEST(atomic_write)
{
	struct qc_error e = {0};
	struct stat st;
	mode_t old = umask(077);

	ck_assert_qc_ok(qc_write_atomic(tmpfd, "state.json", "{\"a\":1}", 7, 0640, &e), &e);
	umask(old);
	/* the umask does not weaken or change the mode */
	assert_state_json("{\"a\":1}", 0640);

	/* replace: new content, new mode, still no temp files */
	ck_assert_qc_ok(qc_write_atomic(tmpfd, "state.json", "x", 1, 0600, &e), &e);
	assert_state_json("x", 0600);

	/* empty content */
	ck_assert_qc_ok(qc_write_atomic(tmpfd, "empty", "", 0, 0600, &e), &e);
	ck_assert_int_eq(fstatat(tmpfd, "empty", &st, 0), 0);
	ck_assert_int_eq(st.st_size, 0);
}
END_TEST

/* QC_WRITE_NOSYNC: the same atomic replace, without the fsyncs. */
START_TEST(atomic_write_nosync)
{
	struct qc_error e = {0};
	mode_t old = umask(077);

	ck_assert_qc_ok(
		qc_write_atomic_at(tmpfd, "state.json", "{\"a\":1}", 7, 0640, QC_WRITE_NOSYNC, &e),
		&e);
	umask(old);
	/* like the durable writer: the exact mode, no temp file left */
	assert_state_json("{\"a\":1}", 0640);
	ck_assert_qc_ok(
		qc_write_atomic_at(tmpfd, "state.json", "x", 1, 0600, QC_WRITE_NOSYNC, &e), &e);
	assert_state_json("x", 0600);
	/* a directory that is not there: an error naming the file, nothing written */
	ck_assert_int_eq(
		qc_write_atomic_at(tmpfd, "no/state.json", "y", 1, 0600, QC_WRITE_NOSYNC, &e),
		-ENOENT);
	ck_assert_str_eq(e.msg, "cannot create a temporary file for 'no/state.json': No such "
				"file or directory");
	assert_state_json("x", 0600);
}
END_TEST

/* QC_WRITE_UMASK: a file made for the user gets mode less the umask. */
START_TEST(atomic_write_umask)
{
	struct qc_error e = {0};
	struct stat st;
	mode_t old = umask(027);

	ck_assert_qc_ok(qc_write_atomic_at(tmpfd, "seed.iso", "iso", 3, 0644,
				QC_WRITE_NOSYNC | QC_WRITE_UMASK, &e),
		&e);
	ck_assert_qc_ok(
		qc_write_atomic_at(tmpfd, "shot.png", "png", 3, 0644, QC_WRITE_UMASK, &e), &e);
	umask(old);
	ck_assert_int_eq(fstatat(tmpfd, "seed.iso", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(fstatat(tmpfd, "shot.png", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	cleanup_free char *l = list_dir(".");
	ck_assert_str_eq(l, "seed.iso shot.png");
}
END_TEST

/* ".NAME.tmp-PID.TAG", in NAME's directory, NAME cut to 200 bytes. */
START_TEST(temp_name)
{
	char big[256];
	cleanup_free char *a = qc_temp_name("state.json", "download");
	cleanup_free char *b = qc_temp_name("sub/dir/domain.xml", "Ab12Cd");
	cleanup_free char *c = qc_temp_name("/x.iso", "new");
	cleanup_free char *want_a = qc_xasprintf(".state.json.tmp-%d.download", (int) getpid());
	cleanup_free char *want_b =
		qc_xasprintf("sub/dir/.domain.xml.tmp-%d.Ab12Cd", (int) getpid());
	cleanup_free char *want_c = qc_xasprintf("/.x.iso.tmp-%d.new", (int) getpid());

	ck_assert_str_eq(a, want_a);
	ck_assert_str_eq(b, want_b);
	ck_assert_str_eq(c, want_c);
	memset(big, 'n', 250);
	big[250] = '\0';
	cleanup_free char *d = qc_temp_name(big, "Ab12Cd");
	cleanup_free char *want_d = qc_xasprintf(".%.200s.tmp-%d.Ab12Cd", big, (int) getpid());
	ck_assert_str_eq(d, want_d);
	ck_assert_uint_le(strlen(d), NAME_MAX);
}
END_TEST

/* qc_temp_create + qc_temp_commit: a temp of the scheme, renamed over NAME. */
START_TEST(temp_create_commit)
{
	struct qc_error e = {0};
	cleanup_free char *tmpname = NULL;
	cleanup_free char *prefix = qc_xasprintf(".shot.png.tmp-%d.", (int) getpid());
	int fd = -1;

	ck_assert_qc_ok(qc_temp_create(tmpfd, "shot.png", 0600, 0, &tmpname, &fd, &e), &e);
	ck_assert(qc_str_has_prefix(tmpname, prefix));
	ck_assert_uint_eq(strlen(tmpname), strlen(prefix) + 6);
	ck_assert_uint_eq(strspn(tmpname + strlen(prefix),
				  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
		6);
	/* our own temp: the sweep leaves it */
	ck_assert_int_eq(qc_sweep_temps(tmpfd, NULL), 0);
	ck_assert_int_eq(write(fd, "png", 3), 3);
	ck_assert_qc_ok(qc_temp_commit(tmpfd, tmpname, fd, "shot.png", QC_WRITE_NOSYNC, &e), &e);
	cleanup_free char *c = slurp(tmpfd, "shot.png");
	ck_assert_str_eq(c, "png");
	cleanup_free char *l = list_dir(".");
	ck_assert_str_eq(l, "shot.png");

	/* a commit that fails (NAME is a non-empty directory) closes fd, removes the temp */
	free(tmpname);
	tmpname = NULL;
	ck_assert_int_eq(mkdirat(tmpfd, "d", 0700), 0);
	ck_assert_int_eq(mkdirat(tmpfd, "d/x", 0700), 0);
	ck_assert_qc_ok(qc_temp_create(tmpfd, "d", 0600, 0, &tmpname, &fd, &e), &e);
	ck_assert_int_lt(qc_temp_commit(tmpfd, tmpname, fd, "d", 0, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "rename '"));
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	cleanup_free char *l2 = list_dir(".");
	ck_assert_str_eq(l2, "d shot.png");
}
END_TEST

START_TEST(atomic_paths)
{
	struct qc_error e = {0};
	char big[200000];

	ck_assert_int_eq(mkdirat(tmpfd, "sub", 0700), 0);
	/* a name with '/' relative to dirfd: the temp file lives in sub/ */
	memset(big, 'q', sizeof(big));
	ck_assert_qc_ok(qc_write_atomic(tmpfd, "sub/domain.xml", big, sizeof(big), 0600, &e), &e);
	cleanup_free char *l = list_dir("sub");
	ck_assert_str_eq(l, "domain.xml");
	cleanup_free char *top = list_dir(".");
	ck_assert_str_eq(top, "sub");
	char *s = NULL;
	size_t len = 0;
	ck_assert_qc_ok(qc_read_file(tmpfd, "sub/domain.xml", sizeof(big), &s, &len, &e), &e);
	ck_assert_uint_eq(len, sizeof(big));
	ck_assert_int_eq(memcmp(s, big, len), 0);
	free(s);

	/* AT_FDCWD with an absolute path */
	cleanup_free char *abs = qc_xasprintf("%s/sub/abs.txt", tmp);
	ck_assert_qc_ok(qc_write_atomic(AT_FDCWD, abs, "abs", 3, 0644, &e), &e);
	cleanup_free char *c = slurp(tmpfd, "sub/abs.txt");
	ck_assert_str_eq(c, "abs");

	/* AT_FDCWD with a relative name */
	ck_assert_int_eq(fchdir(tmpfd), 0);
	ck_assert_qc_ok(qc_write_atomic(AT_FDCWD, "rel.txt", "rel", 3, 0644, &e), &e);
	ck_assert_int_eq(chdir("/"), 0);
	cleanup_free char *r = slurp(tmpfd, "rel.txt");
	ck_assert_str_eq(r, "rel");
	cleanup_free char *l2 = list_dir(".");
	ck_assert_str_eq(l2, "rel.txt sub");
}
END_TEST

START_TEST(atomic_failures)
{
	struct qc_error e = {0};

	/* missing directory: an error naming the file, nothing created */
	ck_assert_qc_fail(qc_write_atomic(tmpfd, "nodir/x.json", "x", 1, 0600, &e), &e, ENOENT,
		"'nodir/x.json'");
	cleanup_free char *l1 = list_dir(".");
	ck_assert_str_eq(l1, "");

	/* rename over a directory fails after the temp file was written: it is removed */
	ck_assert_int_eq(mkdirat(tmpfd, "d", 0700), 0);
	ck_assert_int_lt(qc_write_atomic(tmpfd, "d", "data", 4, 0600, &e), 0);
	ck_assert_ptr_nonnull(strstr(e.msg, "'d'"));
	cleanup_free char *l2 = list_dir(".");
	ck_assert_str_eq(l2, "d");
	cleanup_free char *l3 = list_dir("d");
	ck_assert_str_eq(l3, "");

	/* the old content survives a failed replace */
	write_file("keep", "old");
	ck_assert_int_eq(fchmod(tmpfd, 0500), 0);
	if (geteuid() != 0) {
		ck_assert_qc_fail(
			qc_write_atomic(tmpfd, "keep", "new", 3, 0600, &e), &e, EACCES, "keep");
		cleanup_free char *c = slurp(tmpfd, "keep");
		ck_assert_str_eq(c, "old");
	}
	ck_assert_int_eq(fchmod(tmpfd, 0700), 0);

	/* a directory name is refused before anything is created */
	ck_assert_int_lt(qc_write_atomic(tmpfd, "d/", "x", 1, 0600, &e), 0);
	cleanup_free char *l4 = list_dir("d");
	ck_assert_str_eq(l4, "");

	/* write errors are reported */
	int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(full, 0);
	ck_assert_qc_fail(qc_write_all(full, "x", 1, &e), &e, ENOSPC, "write");
	close(full);
}
END_TEST

START_TEST(write_fails_midway)
{
	struct qc_error e = {0};
	struct rlimit old, small = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
	char big[10000];

	/* a write that fails after 4 KiB (file size limit): nothing half-written stays */
	memset(big, 'w', sizeof(big));
	write_file("keep", "old content");
	ck_assert_qc_ok(qc_write_atomic(tmpfd, "src", big, sizeof(big), 0600, &e), &e);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
	ck_assert_qc_fail(qc_write_atomic(tmpfd, "keep", big, sizeof(big), 0600, &e), &e, EFBIG,
		"'keep': write");
	cleanup_free char *src = qc_xasprintf("%s/src", tmp);
	ck_assert_qc_fail(qc_copy_file(src, tmpfd, "copy", 0600, &e), &e, EFBIG, "'copy'");
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	cleanup_free char *l = list_dir(".");
	ck_assert_str_eq(l, "keep src");
	cleanup_free char *c = slurp(tmpfd, "keep");
	ck_assert_str_eq(c, "old content");
}
END_TEST

/* An empty file name in dfd; name, which the caller frees. */
static char *put_temp(int dfd, char *name)
{
	ck_assert_int_eq(qc_write_atomic(dfd, name, "", 0, 0600, NULL), 0);
	return name;
}

/*
 * The temp naming scheme: a temp goes when its writer is gone, whatever
 * its NAME or the bases given, and never while its writer lives, even
 * with bases NULL (qc_write_atomic_at's random TAG looks like the pid-less
 * ".BASE.XXXXXX" of older versions).  Older versions' names are swept too.
 */
START_TEST(sweep_temps_scheme)
{
	const char *const bases[] = {"other.json", NULL};
	int go[2], done[2];
	char c;
	pid_t dead = fork(), live;

	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
	/* a live writer in another process (as the monitor is): a temp of its own, then wait */
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);
	live = fork();
	ck_assert_int_ge(live, 0);
	if (live == 0) {
		char *t = NULL;
		int fd = -1;

		if (qc_temp_create(tmpfd, "state.json", 0600, 0, &t, &fd, NULL) < 0 ||
			write(done[1], "x", 1) != 1)
			_exit(1);
		(void) read(go[0], &c, 1); /* until the parent swept */
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	ck_assert_int_eq(read(done[0], &c, 1), 1);
	close(done[0]);

	char *gone[] = {
		put_temp(tmpfd, qc_xasprintf(".state.json.tmp-%d.Ab12Cd", (int) dead)),
		put_temp(tmpfd, qc_xasprintf(".img.tmp-%d.download", (int) dead)),
		put_temp(tmpfd, qc_xasprintf(".host_key.tmp-%d.new.pub", (int) dead)),
		/* the names older qemuctl versions left: swept for one release more */
		put_temp(tmpfd, qc_xasprintf(".op.json.%d.tmp", (int) dead)),
		put_temp(tmpfd, qc_xasprintf(".seed.iso.tmp-%d-3", (int) dead)),
		put_temp(tmpfd, qc_xasprintf(".tmp-%d-host_key", (int) dead)),
		put_temp(tmpfd, qc_xasprintf(".tmp-%d-host_key.pub", (int) dead)),
		put_temp(tmpfd, qc_xstrdup(".other.json.Qw12Er")),
	};
	cleanup_free char *self_tmp =
		put_temp(tmpfd, qc_xasprintf(".summary.json.tmp-%d.Xy12Zw", (int) getpid()));
	cleanup_free char *old_live =
		put_temp(tmpfd, qc_xasprintf(".op.json.%d.tmp", (int) getpid()));

	ck_assert_int_eq(qc_sweep_temps(tmpfd, bases), QC_ARRAY_SIZE(gone));
	for (size_t i = 0; i < QC_ARRAY_SIZE(gone); i++) {
		ck_assert_msg(faccessat(tmpfd, gone[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
				      errno == ENOENT,
			"%s was not swept", gone[i]);
		free(gone[i]);
	}
	cleanup_free char *all = list_dir(".");
	cleanup_free char *live_prefix = qc_xasprintf(".state.json.tmp-%d.", (int) live);
	cleanup_free char *want = qc_xasprintf("%s %s", old_live, self_tmp);
	/* left: the live child's temp, ours (new and old name) */
	ck_assert_msg(strstr(all, live_prefix) && strstr(all, old_live) && strstr(all, self_tmp) &&
			      strlen(all) == strlen(want) + 1 + strlen(live_prefix) + 6,
		"%s", all);
	ck_assert_int_eq(qc_sweep_temps(tmpfd, NULL), 0);

	/* the writer gone, its temp goes */
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(live, NULL, 0), live);
	ck_assert_int_eq(qc_sweep_temps(tmpfd, NULL), 1);
	cleanup_free char *after = list_dir(".");
	ck_assert_str_eq(after, want);
}
END_TEST

/* ------------------------------------------------------------------- read */

/* qc_sweep_temps: which leftovers go, which files stay. */
START_TEST(sweep_temps)
{
	char *dir = unit_mkdtemp();
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char dead_tmp[64], dead_iso[64], live_tmp[64];
	pid_t pid = fork();
	static const char *const keep[] = {"domain.xml", "lock", ".a.lock", ".a.json.Ab12C",
		".a.json.Ab-12C", ".x.pending-bridge", "seed.iso"};
	const char *const bases[] = {"a.json", NULL};

	ck_assert_int_ge(dfd, 0);
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid); /* pid is now dead */
	snprintf(dead_tmp, sizeof(dead_tmp), ".state.json.%d.tmp", (int) pid);
	snprintf(dead_iso, sizeof(dead_iso), ".seed.iso.tmp-%d-0", (int) pid);
	snprintf(live_tmp, sizeof(live_tmp), ".state.json.%d.tmp", (int) getpid());
	for (size_t i = 0; i < QC_ARRAY_SIZE(keep); i++)
		ck_assert_int_eq(qc_write_atomic(dfd, keep[i], "", 0, 0600, NULL), 0);
	ck_assert_int_eq(qc_write_atomic(dfd, ".a.json.Xy12Zw", "", 0, 0600, NULL), 0);
	ck_assert_int_eq(qc_write_atomic(dfd, ".b.json.Xy12Zw", "", 0, 0600, NULL), 0);
	ck_assert_int_eq(qc_write_atomic(dfd, dead_tmp, "", 0, 0600, NULL), 0);
	ck_assert_int_eq(qc_write_atomic(dfd, dead_iso, "", 0, 0600, NULL), 0);
	ck_assert_int_eq(qc_write_atomic(dfd, live_tmp, "", 0, 0600, NULL), 0);

	/* bases: only a.json's atomic temp, and whatever a dead pid left */
	ck_assert_int_eq(qc_sweep_temps(dfd, bases), 3);
	ck_assert_int_eq(faccessat(dfd, ".a.json.Xy12Zw", F_OK, 0), -1);
	ck_assert_int_eq(faccessat(dfd, dead_tmp, F_OK, 0), -1);
	ck_assert_int_eq(faccessat(dfd, dead_iso, F_OK, 0), -1);
	ck_assert_int_eq(faccessat(dfd, ".b.json.Xy12Zw", F_OK, 0), 0);
	/* no bases: every atomic temp; a live pid's file stays */
	ck_assert_int_eq(qc_sweep_temps(dfd, NULL), 1);
	ck_assert_int_eq(faccessat(dfd, ".b.json.Xy12Zw", F_OK, 0), -1);
	ck_assert_int_eq(faccessat(dfd, live_tmp, F_OK, 0), 0);
	for (size_t i = 0; i < QC_ARRAY_SIZE(keep); i++)
		ck_assert_msg(faccessat(dfd, keep[i], F_OK, 0) == 0, "%s was removed", keep[i]);
	close(dfd);
	unit_rmdir(dir);
}
END_TEST

START_TEST(read_file)
{
	struct qc_error e = {0};
	char *s = NULL;
	size_t len = 99;

	write_file("f", "hello");
	ck_assert_qc_ok(qc_read_file(tmpfd, "f", 5, &s, &len, &e), &e);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(s, "hello");
	free(s);
	/* ret_len may be NULL */
	ck_assert_qc_ok(qc_read_file(tmpfd, "f", 100, &s, NULL, &e), &e);
	ck_assert_str_eq(s, "hello");
	free(s);
	/* empty file */
	write_file("empty", "");
	ck_assert_qc_ok(qc_read_file(tmpfd, "empty", 0, &s, &len, &e), &e);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(s, "");
	free(s);
	/* files in /proc say size 0 but have content */
	ck_assert_qc_ok(qc_read_file(AT_FDCWD, "/proc/self/status", 1 << 20, &s, &len, &e), &e);
	ck_assert(qc_str_has_prefix(s, "Name:"));
	ck_assert_uint_eq(strlen(s), len);
	free(s);
	/* and one bigger than the first read buffer */
	ck_assert_qc_ok(qc_read_file(AT_FDCWD, "/proc/self/smaps", 16 << 20, &s, &len, &e), &e);
	ck_assert_uint_gt(len, 8192);
	ck_assert_uint_eq(strlen(s), len);
	free(s);
	ck_assert_qc_fail(qc_read_file(AT_FDCWD, "/proc/self/smaps", 6000, &s, &len, &e), &e, EFBIG,
		"'/proc/self/smaps' is too large (more than 6000 bytes, the limit is 6000)");
}
END_TEST

START_TEST(read_refuses)
{
	struct qc_error e = {0};
	char *s = (char *) "untouched";
	size_t len = 99;

	ck_assert_int_eq(mkdirat(tmpfd, "dir", 0700), 0);
	ck_assert_qc_fail(qc_read_file(tmpfd, "dir", 100, &s, &len, &e), &e, EISDIR, NULL);
	ck_assert_str_eq(e.msg, "'dir' is a directory");

	/* a FIFO without a writer: refused at once, no hang */
	ck_assert_int_eq(mkfifoat(tmpfd, "fifo", 0600), 0);
	int64_t t0 = qc_now_ms();
	ck_assert_qc_fail(qc_read_file(tmpfd, "fifo", 100, &s, &len, &e), &e, QC_ERR_INVALID, NULL);
	ck_assert_str_eq(e.msg, "'fifo' is not a regular file (FIFO)");
	ck_assert_int_lt(qc_now_ms() - t0, 1000);

	ck_assert_qc_fail(qc_read_file(AT_FDCWD, "/dev/null", 100, &s, &len, &e), &e,
		QC_ERR_INVALID, "'/dev/null' is not a regular file (character device)");

	write_file("big", "0123456789");
	ck_assert_qc_fail(qc_read_file(tmpfd, "big", 9, &s, &len, &e), &e, EFBIG, NULL);
	ck_assert_str_eq(e.msg, "'big' is too large (10 bytes, the limit is 9)");

	/* a /proc file larger than the limit (st_size says 0) */
	ck_assert_qc_fail(qc_read_file(AT_FDCWD, "/proc/self/status", 16, &s, &len, &e), &e, EFBIG,
		"the limit is 16");

	ck_assert_qc_fail(qc_read_file(tmpfd, "missing", 100, &s, &len, &e), &e, ENOENT, NULL);
	ck_assert_str_eq(e.msg, "open 'missing': No such file or directory");

	/* nothing returned on failure */
	ck_assert_str_eq(s, "untouched");
	ck_assert_uint_eq(len, 99);
}
END_TEST

/* --------------------------------------------------------- dirs and paths */

START_TEST(fsync_dir)
{
	struct qc_error e = {0};

	ck_assert_qc_ok(qc_fsync_dir(tmpfd, &e), &e);
	ck_assert_qc_ok(qc_fsync_dir(AT_FDCWD, &e), &e);
	ck_assert_qc_fail(qc_fsync_dir(9999, &e), &e, EBADF, "fsync directory");
}
END_TEST

START_TEST(mkdir_p)
{
	struct qc_error e = {0};
	struct stat st;
	mode_t old = umask(022);

	cleanup_free char *p = qc_xasprintf("%s/a/b//c/", tmp);
	ck_assert_qc_ok(qc_mkdir_p(p, 0700, &e), &e);
	umask(old);
	ck_assert_int_eq(fstatat(tmpfd, "a/b/c", &st, 0), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(fstatat(tmpfd, "a", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	/* existing: fine, and existing dirs keep their mode */
	ck_assert_int_eq(fchmodat(tmpfd, "a", 0755, 0), 0);
	ck_assert_qc_ok(qc_mkdir_p(p, 0700, &e), &e);
	ck_assert_int_eq(fstatat(tmpfd, "a", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0755);
	ck_assert_qc_ok(qc_mkdir_p("/", 0700, &e), &e);
	ck_assert_qc_ok(qc_mkdir_p("/tmp", 0700, &e), &e);
	/* a file in the way */
	write_file("a/file", "x");
	cleanup_free char *q = qc_xasprintf("%s/a/file/sub", tmp);
	ck_assert_qc_fail(qc_mkdir_p(q, 0700, &e), &e, ENOTDIR, "exists and is not a directory");
	cleanup_free char *q2 = qc_xasprintf("%s/a/file", tmp);
	ck_assert_qc_fail(qc_mkdir_p(q2, 0700, &e), &e, ENOTDIR, "is not a directory");
	ck_assert_qc_fail(qc_mkdir_p("", 0700, &e), &e, EINVAL, NULL);
	/* relative */
	ck_assert_int_eq(fchdir(tmpfd), 0);
	ck_assert_qc_ok(qc_mkdir_p("rel/x", 0700, &e), &e);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(fstatat(tmpfd, "rel/x", &st, 0), 0);
}
END_TEST

START_TEST(rm_rf)
{
	struct qc_error e = {0};
	struct stat st;

	/* an outside directory reached through symlinks must survive */
	ck_assert_int_eq(mkdirat(tmpfd, "outside", 0700), 0);
	write_file("outside/precious", "keep me");
	ck_assert_int_eq(mkdirat(tmpfd, "victim", 0700), 0);
	ck_assert_int_eq(mkdirat(tmpfd, "victim/d1", 0700), 0);
	ck_assert_int_eq(mkdirat(tmpfd, "victim/d1/d2", 0000), 0);
	ck_assert_int_eq(mkdirat(tmpfd, "victim/d1/d3", 0700), 0);
	write_file("victim/f", "x");
	write_file("victim/d1/d3/g", "y");
	cleanup_free char *outside = qc_xasprintf("%s/outside", tmp);
	ck_assert_int_eq(symlinkat(outside, tmpfd, "victim/link-abs"), 0);
	ck_assert_int_eq(symlinkat("../../outside", tmpfd, "victim/d1/link-rel"), 0);
	ck_assert_int_eq(symlinkat("dangling", tmpfd, "victim/dangling"), 0);
	ck_assert_int_eq(mkfifoat(tmpfd, "victim/d1/fifo", 0600), 0);
	if (geteuid() != 0)
		ck_assert_int_eq(fchmodat(tmpfd, "victim/d1/d2", 0700, 0), 0);

	ck_assert_qc_ok(qc_rm_rf_at(tmpfd, "victim", &e), &e);
	ck_assert_int_lt(fstatat(tmpfd, "victim", &st, AT_SYMLINK_NOFOLLOW), 0);
	cleanup_free char *c = slurp(tmpfd, "outside/precious");
	ck_assert_str_eq(c, "keep me");

	/* a symlink to a directory as the top: the link goes, the target stays */
	ck_assert_int_eq(symlinkat("outside", tmpfd, "toplink"), 0);
	ck_assert_qc_ok(qc_rm_rf_at(tmpfd, "toplink", &e), &e);
	ck_assert_int_lt(fstatat(tmpfd, "toplink", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_int_eq(fstatat(tmpfd, "outside/precious", &st, 0), 0);

	/* "link/" must not make the kernel follow the link into the target */
	ck_assert_int_eq(symlinkat("outside", tmpfd, "slashlink"), 0);
	ck_assert_qc_ok(qc_rm_rf_at(tmpfd, "slashlink//", &e), &e);
	ck_assert_int_lt(fstatat(tmpfd, "slashlink", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_int_eq(fstatat(tmpfd, "outside/precious", &st, 0), 0);
	/* nonsense is refused */
	ck_assert_qc_fail(qc_rm_rf_at(AT_FDCWD, "/", &e), &e, EINVAL, "refusing to remove");
	ck_assert_qc_fail(qc_rm_rf_at(tmpfd, ".", &e), &e, EINVAL, "refusing to remove '.'");
	ck_assert_qc_fail(qc_rm_rf_at(tmpfd, "outside/..", &e), &e, EINVAL, NULL);
	ck_assert_qc_fail(qc_rm_rf_at(tmpfd, "", &e), &e, EINVAL, NULL);
	ck_assert_int_eq(fstatat(tmpfd, "outside/precious", &st, 0), 0);

	/* missing is not an error; a plain file is removed */
	ck_assert_qc_ok(qc_rm_rf_at(tmpfd, "missing", &e), &e);
	ck_assert_qc_ok(qc_rm_rf_at(tmpfd, "outside/precious", &e), &e);
	cleanup_free char *l = list_dir("outside");
	ck_assert_str_eq(l, "");

	/* absolute path with AT_FDCWD */
	ck_assert_qc_ok(qc_rm_rf_at(AT_FDCWD, outside, &e), &e);
	cleanup_free char *l2 = list_dir(".");
	ck_assert_str_eq(l2, "");
}
END_TEST

/* A file system mounted inside is neither entered nor emptied (root only: a mount). */
/*
 * Root only: a private mount namespace for this test (each Check test runs in
 * its own process), with tmpfd opened again in it (an fd from before
 * unshare() walks the old namespace's mounts).  false: not run, and said why.
 */
static bool private_mount_ns(const char *test)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		fprintf(stderr, "%s: needs root and a mount namespace; not run\n", test);
		return false;
	}
	close(tmpfd);
	tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(tmpfd, 0);
	return true;
}

/*
 * Removing dir (below tmp) stops at the mount point mnt, dir/d/<name>, with
 * EXDEV; precious (in the mounted tree) still reads "keep me"; then mnt is
 * unmounted.
 */
static void assert_rm_rf_stops_at(const char *mnt, const char *dir, const char *precious)
{
	struct qc_error e = {0};
	cleanup_free char *want = qc_xasprintf("in '%s': in 'd': '%s' is a mount point (another "
					       "file system); nothing in it is removed",
		dir, strrchr(mnt, '/') + 1);
	cleanup_free char *c = NULL;

	ck_assert_qc_fail(qc_rm_rf_at(tmpfd, dir, &e), &e, EXDEV, want);
	c = slurp(tmpfd, precious);
	ck_assert_str_eq(c, "keep me");
	ck_assert_int_eq(umount(mnt), 0);
}

START_TEST(rm_rf_mount)
{
	struct qc_error e = {0};
	cleanup_free char *mnt = qc_xasprintf("%s/victim/d/mnt", tmp);
	struct stat st;

	if (!private_mount_ns("rm_rf_mount"))
		return;
	ck_assert_int_eq(mkdirat(tmpfd, "victim", 0700), 0);
	ck_assert_int_eq(mkdirat(tmpfd, "victim/d", 0700), 0);
	ck_assert_int_eq(mkdirat(tmpfd, "victim/d/mnt", 0700), 0);
	ck_assert_int_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=64k"), 0);
	write_file("victim/d/mnt/precious", "keep me");
	write_file("victim/f", "x");
	assert_rm_rf_stops_at(mnt, "victim", "victim/d/mnt/precious");
	ck_assert_qc_ok(qc_rm_rf_at(tmpfd, "victim", &e), &e);
	ck_assert_int_lt(fstatat(tmpfd, "victim", &st, AT_SYMLINK_NOFOLLOW), 0);
}
END_TEST

/* A bind mount of the same file system: same st_dev, still a mount. */
START_TEST(rm_rf_bind_mount)
{
	struct qc_error e = {0};
	cleanup_free char *bind = qc_xasprintf("%s/v2/d/bind", tmp);
	cleanup_free char *spaced = qc_xasprintf("%s/v3/a b", tmp);
	cleanup_free char *src = qc_xasprintf("%s/v1/src", tmp);
	cleanup_free char *found = NULL;
	cleanup_close int v1 = -1, v2 = -1, v3 = -1;

	if (!private_mount_ns("rm_rf_bind_mount"))
		return;
	ck_assert_int_eq(qc_mkdir_p(src, 0700, &e), 0);
	ck_assert_int_eq(qc_mkdir_p(bind, 0700, &e), 0);
	ck_assert_int_eq(qc_mkdir_p(spaced, 0700, &e), 0);
	write_file("v1/src/precious", "keep me");
	ck_assert_int_eq(mount(src, bind, NULL, MS_BIND, NULL), 0);
	ck_assert_int_eq(mount(src, spaced, NULL, MS_BIND, NULL), 0);
	v1 = openat(tmpfd, "v1", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	v2 = openat(tmpfd, "v2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	v3 = openat(tmpfd, "v3", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* the bind source holds no mount; the targets do (a space escaped as \\040) */
	ck_assert_int_eq(qc_dir_find_mount(v1, &found, &e), 0);
	ck_assert_ptr_null(found);
	ck_assert_int_eq(qc_dir_find_mount(v2, &found, &e), 1);
	ck_assert_str_eq(found, bind);
	free(found);
	ck_assert_int_eq(qc_dir_find_mount(v3, &found, &e), 1);
	ck_assert_str_eq(found, spaced);
	assert_rm_rf_stops_at(bind, "v2", "v1/src/precious");
	ck_assert_int_eq(umount(spaced), 0);
	ck_assert_qc_ok(qc_rm_rf_at(tmpfd, "v2", &e), &e);
}
END_TEST

START_TEST(symlink_checks)
{
	struct qc_error e = {0};
	cleanup_free char *name = NULL;
	char buf[512];
	int dfd;

	/* a file, a directory, nothing: all fine */
	write_file("f", "x");
	ck_assert_int_eq(mkdirat(tmpfd, "d", 0700), 0);
	ck_assert_qc_ok(qc_refuse_symlink(tmpfd, "f", "root/f", &e), &e);
	ck_assert_qc_ok(qc_refuse_symlink(tmpfd, "d", "root/d", &e), &e);
	ck_assert_qc_ok(qc_refuse_symlink(tmpfd, "missing", "root/missing", &e), &e);
	/* a link, dangling or not, is named with its target and the fix */
	ck_assert_int_eq(symlinkat("/etc/passwd", tmpfd, "d/ln"), 0);
	ck_assert_qc_fail(qc_refuse_symlink(tmpfd, "d/ln", "root/d/ln", &e), &e, ELOOP,
		"'root/d/ln' is a symbolic link (to '/etc/passwd'); qemuctl does not follow "
		"symbolic links in its state root");
	ck_assert_ptr_nonnull(strstr(e.msg, "remove the link (rm 'root/d/ln')"));
	ck_assert_int_eq(symlinkat("nowhere", tmpfd, "dangling"), 0);
	ck_assert_qc_fail(
		qc_refuse_symlink(tmpfd, "dangling", "x", &e), &e, ELOOP, "(to 'nowhere')");
	ck_assert_int_eq(qc_refuse_symlink(tmpfd, "dangling", "x", NULL), -ELOOP);

	/* the first link directly in a directory; the fd's position is untouched */
	dfd = openat(tmpfd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	while (syscall(SYS_getdents64, dfd, buf, sizeof(buf)) > 0)
		; /* dfd at the end of the directory: a dup() would see nothing */
	ck_assert_int_eq(qc_dir_find_symlink(dfd, &name, &e), 1);
	ck_assert_str_eq(name, "ln");
	free(TAKE_PTR(name));
	ck_assert_int_eq(syscall(SYS_getdents64, dfd, buf, sizeof(buf)), 0);
	ck_assert_int_eq(unlinkat(dfd, "ln", 0), 0);
	write_file("d/plain", "y");
	ck_assert_int_eq(mkdirat(dfd, "sub", 0700), 0);
	ck_assert_int_eq(symlinkat("/", dfd, "sub/deeper"), 0); /* not recursive */
	ck_assert_int_eq(qc_dir_find_symlink(dfd, &name, &e), 0);
	ck_assert_ptr_null(name);
	close(dfd);
	ck_assert_int_eq(qc_dir_find_symlink(tmpfd, &name, &e), 1);
	ck_assert_str_eq(name, "dangling");
}
END_TEST

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* qc_opendir_at + qc_readdir: flags, errors as -errno, dirfd's offset kept. */
START_TEST(opendir_at)
{
	cleanup_strvec struct qc_strv seen = {0};
	struct dirent *de;
	char buf[512];
	DIR *d = NULL;
	int dfd;

	ck_assert_int_eq(mkdirat(tmpfd, "d", 0700), 0);
	write_file("d/a", "1");
	write_file("d/b", "2");
	ck_assert_int_eq(mkdirat(tmpfd, "d/sub", 0700), 0);
	ck_assert_int_eq(symlinkat("d", tmpfd, "ln"), 0);
	write_file("f", "x");

	ck_assert_int_eq(qc_opendir_at(tmpfd, "d", 0, &d), 0);
	while ((de = qc_readdir(d)))
		qc_strv_push(&seen, de->d_name);
	ck_assert_int_eq(errno, 0);
	qc_closedirp(&d);
	ck_assert_uint_eq(seen.n, 3); /* no "." nor ".." */
	qsort(seen.v, seen.n, sizeof(char *), cmp_str);
	ck_assert_str_eq(seen.v[0], "a");
	ck_assert_str_eq(seen.v[1], "b");
	ck_assert_str_eq(seen.v[2], "sub");

	/* a link is followed unless the caller says O_NOFOLLOW */
	d = NULL;
	ck_assert_int_eq(qc_opendir_at(tmpfd, "ln", 0, &d), 0);
	qc_closedirp(&d);
	d = NULL;
	ck_assert_int_eq(qc_opendir_at(tmpfd, "ln", O_NOFOLLOW, &d), -ENOTDIR);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(qc_opendir_at(tmpfd, "missing", 0, &d), -ENOENT);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(qc_opendir_at(tmpfd, "f", 0, &d), -ENOTDIR);
	ck_assert_ptr_null(d);

	/* NULL reads dirfd itself from the start, wherever dirfd's offset is */
	dfd = openat(tmpfd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	while (syscall(SYS_getdents64, dfd, buf, sizeof(buf)) > 0)
		;
	ck_assert_int_eq(qc_opendir_at(dfd, NULL, 0, &d), 0);
	ck_assert_ptr_nonnull(qc_readdir(d));
	qc_closedirp(&d);
	ck_assert_int_eq(syscall(SYS_getdents64, dfd, buf, sizeof(buf)), 0);
	close(dfd);
}
END_TEST

START_TEST(copy_file)
{
	struct qc_error e = {0};
	struct stat st;
	char big[300000];

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char) (i * 7);
	ck_assert_qc_ok(qc_write_atomic(tmpfd, "src", big, sizeof(big), 0644, &e), &e);
	cleanup_free char *src = qc_xasprintf("%s/src", tmp);
	ck_assert_qc_ok(qc_copy_file(src, tmpfd, "dst", 0600, &e), &e);
	char *s;
	size_t len;
	ck_assert_qc_ok(qc_read_file(tmpfd, "dst", sizeof(big), &s, &len, &e), &e);
	ck_assert_uint_eq(len, sizeof(big));
	ck_assert_int_eq(memcmp(s, big, len), 0);
	free(s);
	ck_assert_int_eq(fstatat(tmpfd, "dst", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);

	/* a /proc file (size 0, real content): the read/write path */
	ck_assert_qc_ok(qc_copy_file("/proc/self/status", tmpfd, "status", 0600, &e), &e);
	cleanup_free char *status = slurp(tmpfd, "status");
	ck_assert(qc_str_has_prefix(status, "Name:"));
	ck_assert_int_eq(unlinkat(tmpfd, "status", 0), 0);

	/* failures leave nothing at the destination */
	ck_assert_qc_fail(qc_copy_file("/nonexistent/x", tmpfd, "dst2", 0600, &e), &e, ENOENT,
		"'/nonexistent/x'");
	ck_assert_qc_fail(qc_copy_file(tmp, tmpfd, "dst2", 0600, &e), &e, EISDIR, "is a directory");
	ck_assert_qc_fail(qc_copy_file("/dev/null", tmpfd, "dst2", 0600, &e), &e, QC_ERR_INVALID,
		"not a regular file");
	ck_assert_qc_fail(qc_copy_file(src, tmpfd, "nodir/dst2", 0600, &e), &e, ENOENT, NULL);
	cleanup_free char *l = list_dir(".");
	ck_assert_str_eq(l, "dst src");
}
END_TEST

START_TEST(abspath)
{
	struct qc_error e = {0};
	char *p = NULL;
	cleanup_free char *real = realpath(tmp, NULL);

	ck_assert_int_eq(mkdirat(tmpfd, "d", 0700), 0);
	ck_assert_int_eq(symlinkat("d", tmpfd, "ln"), 0);
	ck_assert_int_eq(fchdir(tmpfd), 0);

	static const struct {
		const char *in, *want; /* want relative to the real tmp dir; "/" = exactly "/" */
	} t[] = {
		{".", ""}, {"new", "/new"}, {"d/new", "/d/new"}, {"d/", "/d"}, {"./d//x", "/d/x"},
		{"ln/x", "/d/x"}, {"d/..", ""}, {"d/../d/./y", "/d/y"},
		{"ln", "/ln"}, /* the last component is not resolved */
	};
	for (size_t i = 0; i < QC_ARRAY_SIZE(t); i++) {
		cleanup_free char *want = qc_xasprintf("%s%s", real, t[i].want);
		ck_assert_qc_ok(qc_abspath(t[i].in, &p, &e), &e);
		ck_assert_msg(strcmp(p, want) == 0, "%s: got %s, want %s", t[i].in, p, want);
		free(p);
	}
	ck_assert_qc_ok(qc_abspath("/", &p, &e), &e);
	ck_assert_str_eq(p, "/");
	free(p);
	ck_assert_qc_ok(qc_abspath("/etc", &p, &e), &e);
	ck_assert_str_eq(p, "/etc");
	free(p);
	ck_assert_qc_ok(qc_abspath("//etc//", &p, &e), &e);
	ck_assert_str_eq(p, "/etc");
	free(p);
	p = NULL;
	ck_assert_qc_fail(qc_abspath("missing/x", &p, &e), &e, ENOENT, "'missing/x'");
	ck_assert_qc_fail(qc_abspath("", &p, &e), &e, EINVAL, NULL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(chdir("/"), 0);
}
END_TEST

START_TEST(self_dir)
{
	struct qc_error e = {0};
	cleanup_free char *d = NULL;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	ck_assert_int_gt(n, 0);
	exe[n] = '\0';
	ck_assert_qc_ok(qc_self_dir(&d, &e), &e);
	ck_assert_int_eq(d[0], '/');
	ck_assert(qc_str_has_prefix(exe, d));
	ck_assert_int_eq(exe[strlen(d)], '/');
	ck_assert_ptr_null(strchr(exe + strlen(d) + 1, '/'));
}
END_TEST

/* ------------------------------------------------------------------ locks */

/* A child holding an exclusive lock on tmp/lock until its stdin pipe closes or hold_ms passes. */
static pid_t hold_lock(int hold_ms)
{
	int ready[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = -1;
		if (qc_lock_open(tmpfd, "lock", LOCK_EX, 0, "test", &fd, NULL) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		qc_sleep_ms(hold_ms);
		_exit(0);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

START_TEST(lock_timeout)
{
	struct qc_error e = {0};
	int fd = -1, status;
	pid_t pid = hold_lock(10000);
	int64_t t0;

	ck_assert_int_eq(qc_lock_is_held(tmpfd, "lock"), 1);
	t0 = qc_now_ms();
	ck_assert_qc_fail(qc_lock_open(tmpfd, "lock", LOCK_EX, 300, "VM 'web'", &fd, &e), &e,
		QC_ERR_BUSY, "VM 'web' is busy");
	ck_assert_int_ge(qc_now_ms() - t0, 300);
	ck_assert_int_lt(qc_now_ms() - t0, 1000);
	ck_assert_int_eq(fd, -1);
	/* shared is refused as well; timeout 0 tries exactly once */
	t0 = qc_now_ms();
	ck_assert_qc_fail(qc_lock_open(tmpfd, "lock", LOCK_SH, 0, "VM 'web'", &fd, &e), &e,
		QC_ERR_BUSY, NULL);
	ck_assert_int_lt(qc_now_ms() - t0, 100);

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(qc_lock_is_held(tmpfd, "lock"), 0);
	ck_assert_qc_ok(qc_lock_open(tmpfd, "lock", LOCK_EX, 0, "VM 'web'", &fd, &e), &e);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	/* our own lock counts as held for another open file description */
	ck_assert_int_eq(qc_lock_is_held(tmpfd, "lock"), 1);
	close(fd);
	ck_assert_int_eq(qc_lock_is_held(tmpfd, "lock"), 0);
}
END_TEST

START_TEST(lock_wait)
{
	struct qc_error e = {0};
	int fd = -1, status;
	pid_t pid = hold_lock(300);
	int64_t t0 = qc_now_ms();

	/* the holder goes away after 300 ms: a 5 s wait succeeds soon after */
	ck_assert_qc_ok(qc_lock_open(tmpfd, "lock", LOCK_SH, 5000, "VM 'web'", &fd, &e), &e);
	ck_assert_int_ge(qc_now_ms() - t0, 200);
	ck_assert_int_lt(qc_now_ms() - t0, 2000);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	/* a second shared lock coexists; flock_timeout on an fd directly */
	int fd2 = openat(tmpfd, "lock", O_RDONLY | O_CLOEXEC);
	ck_assert_qc_ok(qc_flock_timeout(fd2, LOCK_SH, 0, "x", &e), &e);
	ck_assert_qc_fail(qc_flock_timeout(fd2, LOCK_EX | LOCK_NB, 0, "x", &e), &e, EINVAL, NULL);
	/* forever (-1) returns at once when free */
	close(fd);
	ck_assert_qc_ok(qc_flock_timeout(fd2, LOCK_EX, -1, "x", &e), &e);
	close(fd2);
}
END_TEST

START_TEST(lock_misc)
{
	struct qc_error e = {0};
	int fd = -1;

	ck_assert_int_eq(qc_lock_is_held(tmpfd, "missing"), 0);
	ck_assert_qc_fail(
		qc_flock_timeout(9999, LOCK_EX, 0, "VM 'x'", &e), &e, EBADF, "VM 'x': flock");
	/* O_NOFOLLOW: a symlinked lock file is refused */
	ck_assert_int_eq(symlinkat("target", tmpfd, "symlock"), 0);
	ck_assert_qc_fail(qc_lock_open(tmpfd, "symlock", LOCK_EX, 0, "VM 'x'", &fd, &e), &e, ELOOP,
		"open lock file 'symlock'");
	struct stat st;
	ck_assert_int_lt(fstatat(tmpfd, "target", &st, 0), 0);
	ck_assert_qc_ok(qc_lock_open(tmpfd, "new", LOCK_EX, 0, NULL, &fd, &e), &e);
	ck_assert_int_eq(fstatat(tmpfd, "new", &st, 0), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	close(fd);
}
END_TEST

Suite *util_file_suite(void)
{
	Suite *s = suite_create("util-file");
	TCase *tc;

	tc = unit_tcase(s, "file", atomic_write, atomic_write_nosync, atomic_write_umask, temp_name,
		temp_create_commit, atomic_paths, atomic_failures, write_fails_midway, sweep_temps,
		sweep_temps_scheme, read_file, read_refuses, fsync_dir, mkdir_p, rm_rf, rm_rf_mount,
		rm_rf_bind_mount, symlink_checks, opendir_at, copy_file, abspath, self_dir, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tc = unit_tcase(s, "lock", lock_timeout, lock_wait, lock_misc, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	return s;
}
