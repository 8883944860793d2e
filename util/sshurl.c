/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ssh://[USER@]HOST[:PORT][/ROOT]: where another qemuctl is reached.
 *
 * The parts end up as separate words of an ssh command line (never a
 * shell string), so the checks here are about what ssh itself would take
 * for something else: a host or user that starts with '-' is an option,
 * a control character or white space has no place in either, and ROOT is
 * an absolute path of printable characters.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define URL_MAX 1024

static bool user_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* An IPv6 literal between the brackets: hex digits, ':' and '.' (v4 tail). */
static bool ipv6_ok(const char *s, size_t n)
{
	if (n < 2 || n > 45)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		if (!(isxdigit(c) || c == ':' || c == '.'))
			return false;
	}
	return true;
}

static bool root_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

void qc_ssh_url_clear(struct qc_ssh_url *u)
{
	if (!u)
		return;
	free(u->user);
	free(u->host);
	free(u->root);
	memset(u, 0, sizeof(*u));
}

int qc_ssh_url_parse(const char *text, struct qc_ssh_url *ret, struct qc_error *err)
{
	static const char fix[] = "write it as ssh://[USER@]HOST[:PORT][/ROOT]";
	struct qc_ssh_url u = {0};
	const char *p, *host, *host_end, *slash, *at;
	bool bracketed = false;
	char *host_text;
	int rc;

	memset(ret, 0, sizeof(*ret));
	if (!text || strncmp(text, "ssh://", 6) != 0)
		return qc_error_set(err, QC_ERR_INVALID, "'%s' is not an ssh:// address: %s",
			text ? text : "", fix);
	if (strlen(text) > URL_MAX)
		return qc_error_set(err, QC_ERR_INVALID,
			"ssh:// address is %zu characters long, at most %d are allowed",
			strlen(text), URL_MAX);
	p = text + 6;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	at = memchr(p, '@', (size_t) (slash - p));
	if (at) {
		if (!user_ok(p, (size_t) (at - p)))
			return qc_error_set(err, QC_ERR_INVALID,
				"'%s': the user name must be 1 to 64 letters, digits, '.', '_' or '-', "
				"not starting with '-'",
				text);
		u.user = qc_xstrndup(p, (size_t) (at - p));
		p = at + 1;
	}

	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t) (slash - p));
		if (!close || !ipv6_ok(p + 1, (size_t) (close - p - 1))) {
			qc_ssh_url_clear(&u);
			return qc_error_set(err, QC_ERR_INVALID,
				"'%s': a bracketed host must be an IPv6 address such as [::1]", text);
		}
		host = p + 1;
		host_end = close;
		p = close + 1;
		bracketed = true;
	} else {
		host = p;
		while (p < slash && *p != ':')
			p++;
		host_end = p;
	}
	host_text = qc_xstrndup(host, (size_t) (host_end - host));
	if (!bracketed && (rc = qc_validate_hostname(host_text, err)) < 0) {
		free(host_text);
		qc_ssh_url_clear(&u);
		return qc_error_prefix(err, "'%s'", text), rc;
	}
	u.host = host_text;

	if (p < slash && *p == ':') {
		cleanup_free char *port = qc_xstrndup(p + 1, (size_t) (slash - p - 1));
		uint64_t v;
		if ((rc = qc_parse_uint("ssh port", port, 1, 65535, &v, err)) < 0) {
			qc_ssh_url_clear(&u);
			return qc_error_prefix(err, "'%s'", text), rc;
		}
		u.port = (int) v;
	} else if (p != slash) {
		qc_ssh_url_clear(&u);
		return qc_error_set(err, QC_ERR_INVALID, "'%s': unexpected text after the host: %s",
			text, fix);
	}

	if (*slash == '/' && slash[1] != '\0') {
		if (!root_ok(slash)) {
			qc_ssh_url_clear(&u);
			return qc_error_set(err, QC_ERR_INVALID,
				"'%s': the state root holds a control character", text);
		}
		u.root = qc_xstrdup(slash);
	}
	*ret = u;
	return 0;
}

char **qc_ssh_url_argv(const struct qc_ssh_url *u)
{
	struct qc_strv v = {0};

	qc_strv_push(&v, "ssh");
	if (u->port)
		qc_strv_pushf(&v, "-p%d", u->port);
	if (u->user) {
		qc_strv_push(&v, "-l");
		qc_strv_push(&v, u->user);
	}
	qc_strv_push(&v, "--");
	qc_strv_push(&v, u->host);
	return qc_strv_steal(&v);
}

/* s as one word for a POSIX shell: in single quotes, a quote as '\''. */
char *qc_sh_quote(const char *s)
{
	size_t n = 2, k = 0;
	char *q;

	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	if (!(q = malloc(n + 1)))
		abort();
	q[k++] = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			/* close the quote, an escaped quote, reopen */
			memcpy(q + k, "'\\''", 4);
			k += 4;
		} else {
			q[k++] = *p;
		}
	}
	q[k++] = '\'';
	q[k] = '\0';
	return q;
}
