/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Debian's cloud image tree, the pure part: map a release ("12",
 * "bookworm", "13-genericcloud") to its directory and file names, and pick
 * the image for an arch out of that directory's SHA512SUMS.  No I/O, so
 * unit tests cover it directly; sync.c fetches.
 *
 * Layout (https://cloud.debian.org/images/cloud/):
 *   <codename>/latest/SHA512SUMS                   "<sha512 hex>  <file>" lines
 *   <codename>/latest/debian-<N>-<flavour>-<arch>.qcow2
 * flavour "generic" (amd64, arm64, ppc64el) or "genericcloud" (amd64,
 * arm64: fewer drivers, a smaller kernel for VMs).
 */
#include "config.h"

#include <string.h>

#include "storage/storage.h"

static const struct {
	const char *version, *codename;
} releases[] = {
	{"12", "bookworm"},
	{"13", "trixie"},
};

static const char *const flavours[] = {"generic", "genericcloud"};

int qc_debian_ref_parse(const char *release, struct qc_debian_ref *ret, struct qc_error *err)
{
	const char *dash = release ? strchr(release, '-') : NULL;
	size_t n = dash ? (size_t) (dash - release) : (release ? strlen(release) : 0);
	const char *flavour = "generic";

	if (dash) {
		flavour = NULL;
		for (size_t i = 0; i < QC_ARRAY_SIZE(flavours); i++)
			if (strcmp(dash + 1, flavours[i]) == 0)
				flavour = flavours[i];
		if (!flavour)
			return qc_error_set(err, QC_ERR_INVALID,
				"debian:%s: unknown flavour '%s'; use generic or genericcloud "
				"(e.g. debian:12-genericcloud)",
				release, dash + 1);
	}
	for (size_t i = 0; release && i < QC_ARRAY_SIZE(releases); i++) {
		if ((strlen(releases[i].version) == n &&
			    strncmp(release, releases[i].version, n) == 0) ||
			(strlen(releases[i].codename) == n &&
				strncasecmp(release, releases[i].codename, n) == 0)) {
			ret->version = releases[i].version;
			ret->codename = releases[i].codename;
			ret->flavour = flavour;
			return 0;
		}
	}
	return qc_error_set(err, QC_ERR_NOTFOUND,
		"unknown Debian release '%.*s'; known releases: 12 (bookworm), 13 (trixie)",
		(int) n, release ? release : "");
}

char *qc_debian_sums_path(const struct qc_debian_ref *r)
{
	return qc_xasprintf("%s/latest/SHA512SUMS", r->codename);
}

/*
 * One line of SHA512SUMS: "<128 hex>  <file>" (or " *<file>", binary
 * mode).  On success the checksum starts the line and *file points into
 * it, *file_len bytes long (not terminated).
 */
static bool sums_line(const char *line, size_t len, const char **file, size_t *file_len)
{
	size_t i;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len < QC_SHA512_HEX_LEN + 3)
		return false;
	for (i = 0; i < QC_SHA512_HEX_LEN; i++)
		if (!((line[i] >= '0' && line[i] <= '9') || (line[i] >= 'a' && line[i] <= 'f') ||
			    (line[i] >= 'A' && line[i] <= 'F')))
			return false;
	if (line[i] != ' ' || (line[i + 1] != ' ' && line[i + 1] != '*'))
		return false;
	*file = line + i + 2;
	*file_len = len - i - 2;
	return true;
}

int qc_debian_select(const char *sums, size_t len, const struct qc_debian_ref *r, const char *arch,
	const char *sums_url, struct qc_ss_item *ret, struct qc_error *err)
{
	const char *darch = qc_storage_arch_debian(arch);
	cleanup_free char *prefix = qc_xasprintf("debian-%s-%s-", r->version, r->flavour);
	cleanup_free char *want = NULL;
	cleanup_buf struct qc_buf seen = {0};
	const char *found = NULL;
	size_t plen = strlen(prefix);

	if (!darch)
		return qc_error_set(err, QC_ERR_INVALID, "unknown arch '%s'", arch);
	want = qc_xasprintf("%s%s.qcow2", prefix, darch);
	for (size_t off = 0; off < len;) {
		const char *line = sums + off, *nl = memchr(line, '\n', len - off), *file;
		size_t llen = nl ? (size_t) (nl - line) : len - off, flen;

		off += llen + 1;
		if (memchr(line, '\0', llen))
			break; /* text ends at a NUL: nothing after it is trusted */
		if (!sums_line(line, llen, &file, &flen))
			continue;
		if (flen == strlen(want) && memcmp(file, want, flen) == 0) {
			if (found && strncasecmp(found, line, QC_SHA512_HEX_LEN) != 0)
				return qc_error_set(err, QC_ERR_CHECKSUM,
					"%s lists %s twice, with different SHA-512s; refusing it",
					sums_url, want);
			found = line;
		}
		/* "debian-12-generic-ARCH.qcow2": note ARCH for the error below. */
		if (flen > plen + 6 && memcmp(file, prefix, plen) == 0 &&
			memcmp(file + flen - 6, ".qcow2", 6) == 0 &&
			!memchr(file + plen, '-', flen - plen - 6)) {
			if (seen.len)
				qc_buf_append(&seen, ", ", 2);
			qc_buf_append(&seen, file + plen, flen - plen - 6);
		}
	}
	if (!found && seen.len)
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"Debian %s (%s) has no %s image for arch %s (%s): %s does not list %s; "
			"it lists the %s image for: %s",
			r->version, r->codename, r->flavour, darch, qc_storage_arch_canonical(arch),
			sums_url, want, r->flavour, seen.data);
	if (!found)
		return qc_error_set(err, QC_ERR_NOTFOUND,
			"Debian %s (%s): %s lists no %s qcow2 image (want %s)", r->version,
			r->codename, sums_url, r->flavour, want);
	memset(ret, 0, sizeof(*ret));
	ret->product = qc_xstrdup(want);
	ret->sha512 = qc_xstrndup(found, QC_SHA512_HEX_LEN);
	for (char *c = ret->sha512; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char) (*c - 'A' + 'a');
	/* latest/ names no version: the start of the checksum tells versions apart. */
	ret->version = qc_xasprintf("sha512:%.12s", ret->sha512);
	ret->release = qc_xstrdup(r->codename);
	ret->release_version = qc_xstrdup(r->version);
	ret->codename = qc_xstrdup(r->codename);
	ret->arch = qc_xstrdup(darch);
	ret->path = qc_xasprintf("%s/latest/%s", r->codename, want);
	ret->ftype = qc_xstrdup("qcow2");
	ret->name = strcmp(r->flavour, "generic") == 0
			    ? qc_xasprintf("%s-%s", r->codename, darch)
			    : qc_xasprintf("%s-%s-%s", r->codename, r->flavour, darch);
	return 0;
}
