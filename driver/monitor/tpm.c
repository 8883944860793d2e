/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM's TPM 2.0: a swtpm per VM, the monitor's child like QEMU.
 *
 * Its state is vm_dir/tpm (swtpm's tpm2-00.permall), so it survives
 * restarts and goes with `delete`.  swtpm runs as QEMU's user with no new
 * privileges and PR_SET_PDEATHSIG; it is started in vm_dir/tpm with
 * "--tpmstate dir=." (the VM's directory stays the caller's 0700: a
 * process needs no search permission on the directories above its working
 * directory), so nothing decides a path it opens but this file.
 *
 * The control socket is run_dir/swtpm/swtpm.sock, made and listening here
 * before swtpm starts (--ctrl fd=3), so QEMU can connect at once.  QEMU
 * 7.2's emulator backend sends swtpm the data channel over that socket,
 * which a chardev given as fd=N cannot do (only a unix *path* chardev has
 * fd passing), so QEMU connects by path: through the directory fd it
 * inherits, /proc/self/fd/3/swtpm.sock, which needs no access to the
 * runtime dir above it.  That directory and the socket are QEMU's user's.
 *
 * swtpm exits by itself when QEMU shuts it down (CMD_SHUTDOWN) or drops the
 * connection (--terminate).  A swtpm that exits while QEMU runs leaves the
 * guest without its TPM: after a short grace (QEMU may be on its way out)
 * QEMU is stopped and the run ends as crashed, naming swtpm and its log.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

#define TPM_STATE_DIR "tpm"
#define TPM_RUN_DIR "swtpm"
/* swtpm gone, QEMU not (yet): how long QEMU may take to exit on its own */
#define SWTPM_GRACE_MS 1000
/* QEMU gone: how long swtpm may take to save its state and exit */
#define SWTPM_STOP_MS 3000

/* A directory of QEMU's user at dfd/name, made when missing; never a symlink. */
static int own_dir(
	struct qc_monitor *m, int dfd, const char *name, const char *shown, struct qc_error *err)
{
	struct stat st;

	if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
		return qc_error_errno(err, errno, "TPM: mkdir '%s'", shown);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return qc_error_errno(err, errno, "TPM: '%s'", shown);
	if (!S_ISDIR(st.st_mode))
		return qc_error_set(err, QC_ERR_INVALID,
			"TPM: '%s' is not a directory; move it away so qemuctl can make its own",
			shown);
	if (fchmodat(dfd, name, 0700, 0) < 0)
		return qc_error_errno(err, errno, "TPM: chmod '%s'", shown);
	if (m->a.set_user && fchownat(dfd, name, m->a.uid, m->a.gid, AT_SYMLINK_NOFOLLOW) < 0)
		return qc_error_errno(err, errno, "TPM: chown '%s'", shown);
	return 0;
}

/* The state files too (QEMU's user may have changed since they were written). */
static int own_state_files(struct qc_monitor *m, struct qc_error *err)
{
	int fd = openat(m->vm_dfd, TPM_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir;
	struct dirent *e;

	if (fd < 0)
		return qc_error_errno(err, errno, "TPM: open '%s/%s'", m->a.vm_dir, TPM_STATE_DIR);
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return qc_error_errno(err, errno, "TPM: '%s/%s'", m->a.vm_dir, TPM_STATE_DIR);
	}
	while ((e = readdir(dir))) {
		struct stat st;

		/*
		 * Only swtpm's own files: plain files with one link (a hard link
		 * QEMU's user made to someone else's file is never given to it).
		 */
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			!S_ISREG(st.st_mode) || st.st_nlink != 1)
			continue;
		if (fchownat(dirfd(dir), e->d_name, m->a.uid, m->a.gid, AT_SYMLINK_NOFOLLOW) < 0 &&
			errno != ENOENT) {
			int e2 = errno;

			closedir(dir);
			return qc_error_errno(err, e2, "TPM: chown '%s/%s/%s'", m->a.vm_dir,
				TPM_STATE_DIR, e->d_name);
		}
	}
	closedir(dir);
	return 0;
}

/* run_dir/swtpm/swtpm.sock listening and QEMU's user's; the directory as an O_PATH fd. */
static int make_ctrl_socket(struct qc_monitor *m, int *ret_listen, struct qc_error *err)
{
	cleanup_free char *dir = qc_monitor_run_path(m, TPM_RUN_DIR);
	cleanup_free char *sock = qc_xasprintf("%s/%s", dir, QC_ARGV_TPM_SOCK);
	cleanup_close int run_dfd = -1, dfd = -1;
	int rc;

	run_dfd = open(m->a.run_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (run_dfd < 0)
		return qc_error_errno(err, errno, "TPM: open '%s'", m->a.run_dir);
	if ((rc = own_dir(m, run_dfd, TPM_RUN_DIR, dir, err)) < 0)
		return rc;
	if ((rc = qc_monitor_listen_unix(sock, ret_listen, err)) < 0)
		return qc_error_prefix(err, "TPM");
	if (m->a.set_user && chown(sock, m->a.uid, m->a.gid) < 0)
		return qc_error_errno(err, errno, "TPM: chown '%s'", sock);
	dfd = openat(run_dfd, TPM_RUN_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return qc_error_errno(err, errno, "TPM: open '%s'", dir);
	m->tpm_dir_fd = fcntl(dfd, F_DUPFD_CLOEXEC, QC_MONITOR_FD_OWN);
	if (m->tpm_dir_fd < 0)
		return qc_error_errno(err, errno, "fcntl");
	return 0;
}

int qc_monitor_start_swtpm(struct qc_monitor *m, struct qc_error *err)
{
	cleanup_free char *state = qc_xasprintf("%s/%s", m->a.vm_dir, TPM_STATE_DIR);
	cleanup_close int listen_fd = -1, log_fd = -1;
	const char *argv[] = {m->a.swtpm, "socket", "--tpm2", "--tpmstate", "dir=.", "--ctrl",
		"type=unixio,fd=3", "--log", "fd=4,level=1", "--terminate", NULL};
	struct qc_fdmap map[2];
	struct qc_spawn_opts so = {0};
	int rc;

	if ((rc = own_dir(m, m->vm_dfd, TPM_STATE_DIR, state, err)) < 0 ||
		(m->a.set_user && (rc = own_state_files(m, err)) < 0) ||
		(rc = make_ctrl_socket(m, &listen_fd, err)) < 0)
		return rc;
	log_fd = openat(m->vm_dfd, QC_VM_SWTPM_LOG,
		O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (log_fd < 0)
		return qc_error_errno(err, errno, "TPM: open %s/%s", m->a.vm_dir, QC_VM_SWTPM_LOG);
	map[0] = (struct qc_fdmap){.src = listen_fd, .dst = 3};
	map[1] = (struct qc_fdmap){.src = log_fd, .dst = 4};
	qc_monitor_confined_spawn(m, &so, log_fd);
	so.argv = argv;
	so.cwd = state;
	so.fds = map;
	so.n_fds = 2;
	if ((rc = qc_spawn_start(&so, &m->swtpm_pid, NULL, err)) < 0) {
		(void) dprintf(log_fd, "qemuctl-monitor: cannot start swtpm: %s\n", err->msg);
		return qc_error_prefix(
			err, "TPM: cannot start swtpm (log: %s/%s)", m->a.vm_dir, QC_VM_SWTPM_LOG);
	}
	return 0;
}

char *qc_monitor_swtpm_report(struct qc_monitor *m)
{
	cleanup_free char *tail = qc_monitor_log_tail(m, QC_VM_SWTPM_LOG);
	char st[64] = "still running";

	if (m->swtpm_exited)
		qc_format_wait_status(m->swtpm_status, st, sizeof(st));
	return qc_xasprintf("swtpm (the VM's TPM): %s; its log %s/%s: %s",
		m->swtpm_exited ? st : "was running", m->a.vm_dir, QC_VM_SWTPM_LOG, tail);
}

bool qc_monitor_swtpm_logged(struct qc_monitor *m)
{
	struct stat st;

	return fstatat(m->vm_dfd, QC_VM_SWTPM_LOG, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > 0;
}

void qc_monitor_stop_swtpm(struct qc_monitor *m)
{
	int64_t deadline = qc_deadline_ms(SWTPM_STOP_MS);
	int sig = SIGTERM;

	if (m->swtpm_pid <= 0)
		return;
	while (!m->swtpm_exited) {
		(void) qc_monitor_reap(m);
		if (m->swtpm_exited)
			break;
		if (qc_time_left_ms(deadline) == 0) {
			kill(m->swtpm_pid, sig);
			sig = SIGKILL;
			deadline = qc_deadline_ms(SWTPM_STOP_MS);
		}
		qc_sleep_ms(5);
	}
}

int qc_monitor_swtpm_wait_ms(const struct qc_monitor *m)
{
	if (!m->swtpm_grace_end || m->swtpm_died)
		return -1;
	return qc_time_left_ms(m->swtpm_grace_end);
}

void qc_monitor_check_swtpm(struct qc_monitor *m)
{
	if (m->swtpm_pid <= 0 || !m->swtpm_exited || m->qemu_exited || m->swtpm_died)
		return;
	if (!m->swtpm_grace_end) {
		m->swtpm_grace_end = qc_deadline_ms(SWTPM_GRACE_MS);
		return;
	}
	if (qc_time_left_ms(m->swtpm_grace_end) > 0)
		return;
	/* QEMU shuts down on SIGTERM (its block devices flushed): the reason is set in exit.c */
	m->swtpm_died = true;
	kill(m->qemu_pid, SIGTERM);
}
