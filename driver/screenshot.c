/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running VM's display as PNG (qemuctl.h "Screenshot"): QMP screendump
 * with format png (QEMU 7.1+) into a temporary file next to FILE that
 * QEMU gets as a descriptor (add-fd, /dev/fdset/N: a confined QEMU opens
 * no host path), checked to be a PNG (signature, IHDR), fsync()ed and
 * renamed over FILE: FILE is never a half-written image.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/vmop.h"

#define PNG_MAX_SIDE 32768

static int png_size(const unsigned char *h, size_t len, unsigned *ret_w, unsigned *ret_h)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	uint32_t w, hh;

	/* signature, then the first chunk: length 13, "IHDR", width, height (big-endian) */
	if (len < 24 || memcmp(h, sig, 8) || memcmp(h + 8, "\0\0\0\x0dIHDR", 8))
		return -EINVAL;
	w = (uint32_t) h[16] << 24 | (uint32_t) h[17] << 16 | (uint32_t) h[18] << 8 | h[19];
	hh = (uint32_t) h[20] << 24 | (uint32_t) h[21] << 16 | (uint32_t) h[22] << 8 | h[23];
	if (!w || !hh || w > PNG_MAX_SIDE || hh > PNG_MAX_SIDE)
		return -EINVAL;
	*ret_w = w;
	*ret_h = hh;
	return 0;
}

/* FILE's directory (opened) and its last component; a FILE that is there must be a regular file. */
static int open_target(const char *file, int *ret_dfd, char **ret_base, struct qc_error *err)
{
	cleanup_free char *dir = NULL;
	const char *slash = strrchr(file, '/');
	const char *base = slash ? slash + 1 : file;
	struct stat st;
	int dfd;

	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return qc_error_set(
			err, QC_ERR_INVALID, "screenshot '%s': not a file name (FILE.png)", file);
	dir = slash ? qc_xstrndup(file, slash == file ? 1 : (size_t) (slash - file))
		    : qc_xstrdup(".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return qc_error_errno(err, errno, "screenshot '%s': directory '%s'", file, dir);
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
		close(dfd);
		return qc_error_set(err, QC_ERR_INVALID,
			"screenshot '%s' exists and is not a regular file (%s); name another file",
			file, S_ISLNK(st.st_mode) ? "a symbolic link" : "a directory or device");
	}
	*ret_dfd = dfd;
	*ret_base = qc_xstrdup(base);
	return 0;
}

/* screendump into fd (through an fd set); the PNG's size once QEMU wrote it. */
static int dump(struct qc_vmop *op, int dfd, const char *tmp, int fd, unsigned *ret_w,
	unsigned *ret_h, struct qc_error *err)
{
	cleanup_free char *args = NULL;
	cleanup_close int rfd = -1;
	unsigned char head[24];
	int64_t set = -1;
	ssize_t n;
	int rc;

	if ((rc = qc_vmop_qmp(op, err)) < 0 ||
		(rc = qc_qmp_add_fd(
			 op->q, fd, -1, "screenshot", QC_VMOP_QMP_TIMEOUT_MS, &set, NULL, err)) < 0)
		return qc_error_prefix(err, "VM '%s': screenshot", op->name);
	args = qc_xasprintf(
		"{\"filename\":\"/dev/fdset/%lld\",\"format\":\"png\"}", (long long) set);
	rc = qc_qmp_execute_text(op->q, "screendump", args, QC_VMOP_QMP_TIMEOUT_MS, NULL, err);
	(void) qc_qmp_remove_fd(op->q, set, -1, QC_VMOP_QMP_TIMEOUT_MS, NULL);
	if (rc < 0)
		return qc_error_prefix(err, "VM '%s': screendump", op->name);
	rfd = openat(dfd, tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	n = rfd < 0 ? -1 : pread(rfd, head, sizeof(head), 0);
	if (n < 0)
		return qc_error_errno(err, errno, "VM '%s': screenshot: read it back", op->name);
	if (png_size(head, (size_t) n, ret_w, ret_h) < 0)
		return qc_error_set(err, QC_ERR_QMP,
			"VM '%s': screendump wrote no PNG (%zd bytes without a PNG header)",
			op->name, n);
	return 0;
}

QC_PUBLIC int qc_vm_screenshot(qc_ctx *ctx, const char *name, const char *file, unsigned *ret_w,
	unsigned *ret_h, struct qc_error *err)
{
	cleanup_vmop struct qc_vmop op = QC_VMOP_INIT;
	cleanup_free char *base = NULL, *tmp = NULL;
	cleanup_close int dfd = -1;
	unsigned w = 0, h = 0;
	int fd, rc;

	if (!file || !*file)
		return qc_error_set(err, QC_ERR_INVALID, "screenshot: no FILE.png given");
	if ((rc = qc_vmop_begin(
		     ctx, name, QC_VMOP_NO_LOCK | QC_VMOP_DOMAIN | QC_VMOP_RUNNING, &op, err)) < 0)
		return rc;
	if (!op.d->video[0])
		return qc_error_set(err, QC_ERR_UNSUPPORTED,
			"VM '%s' has no display: qemuctl's VMs have none unless their definition "
			"asks for one; add <video><model type='vga'/></video> to its <devices> "
			"(qemuctl dumpxml %s, edit, qemuctl define) and restart it",
			name, name);
	if ((rc = open_target(file, &dfd, &base, err)) < 0)
		return rc;
	/* write-only: QEMU's open of /dev/fdset/N takes an fd of the access mode it asks */
	if ((rc = qc_temp_create(dfd, base, 0644, QC_WRITE_UMASK, &tmp, &fd, err)) < 0)
		return qc_error_prefix(err, "screenshot '%s'", file);
	if ((rc = dump(&op, dfd, tmp, fd, &w, &h, err)) < 0) {
		close(fd);
		(void) unlinkat(dfd, tmp, 0);
		return rc;
	}
	if ((rc = qc_temp_commit(dfd, tmp, fd, base, 0, err)) < 0)
		return qc_error_prefix(err, "screenshot '%s'", file);
	if (ret_w)
		*ret_w = w;
	if (ret_h)
		*ret_h = h;
	return 0;
}
