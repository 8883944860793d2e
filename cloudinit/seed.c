/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The content of a NoCloud seed: meta-data, #cloud-config user-data and
 * network-config v2 generated from options, and the checks applied to the
 * files a user hands over verbatim.  Every string a user controls goes
 * through qc_cloudinit_yaml_scalar/quoted, so a quote, a colon, a '#' or a
 * newline in it cannot change the structure of the document.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloudinit/cloudinit.h"

int qc_cloudinit_validate_instance_id(const char *id, struct qc_error *err)
{
	size_t l = id ? strlen(id) : 0;

	if (l == 0 || l > 128)
		return qc_error_set(err, QC_ERR_INVALID,
			"instance id '%s': must be 1..128 characters", id ? id : "");
	for (size_t i = 0; i < l; i++)
		if (id[i] <= 0x20 || id[i] >= 0x7f)
			return qc_error_set(err, QC_ERR_INVALID,
				"instance id '%s': only printable ASCII without blanks is allowed",
				id);
	return 0;
}

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define ALNUM LOWER "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/* s is 1..max characters of chars, the first of them one of first. */
static bool name_of(const char *s, size_t max, const char *first, const char *chars)
{
	size_t l = strlen(s);

	return l >= 1 && l <= max && strchr(first, s[0]) && strspn(s, chars) == l;
}

int qc_cloudinit_validate_user(const char *u, struct qc_error *err)
{
	if (name_of(u, 32, LOWER "_", LOWER "0123456789_-"))
		return 0;
	return qc_error_set(err, QC_ERR_INVALID,
		"user name '%s': use 1..32 characters of [a-z0-9_-], starting with a letter or '_'",
		u);
}

static int validate_tag(const char *t, struct qc_error *err)
{
	if (name_of(t, 31, ALNUM "_", ALNUM "._-"))
		return 0;
	return qc_error_set(err, QC_ERR_INVALID,
		"share tag '%s': use 1..31 characters of [A-Za-z0-9._-] (it becomes /mnt/<tag>)",
		t);
}

static int validate_mac(const char *m, struct qc_error *err)
{
	if (!m || strlen(m) != 17)
		goto bad;
	for (int i = 0; i < 17; i++)
		if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char) m[i]))
			goto bad;
	return 0;
bad:
	return qc_error_set(
		err, QC_ERR_INVALID, "MAC address '%s': expected xx:xx:xx:xx:xx:xx", m ? m : "");
}

/* An address, optionally with /prefix; only what inet_pton accepts reaches the YAML. */
static int validate_ip(const char *what, const char *s, bool cidr, struct qc_error *err)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	unsigned char bin[16];
	size_t l = slash ? (size_t) (slash - s) : strlen(s);
	int af;

	if (l >= sizeof(buf) || (cidr && !slash) || (!cidr && slash))
		goto bad;
	memcpy(buf, s, l);
	buf[l] = '\0';
	af = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, buf, bin) != 1)
		goto bad;
	if (slash) {
		char *end;
		long p = strtol(slash + 1, &end, 10);

		if (!slash[1] || *end || p < 0 || p > (af == AF_INET ? 32 : 128) ||
			!isdigit((unsigned char) slash[1]))
			goto bad;
	}
	return 0;
bad:
	return qc_error_set(err, QC_ERR_INVALID, "%s '%s': expected an IP address%s", what, s,
		cidr ? " with a /prefix (10.0.0.5/24)" : "");
}

int qc_cloudinit_meta_data(const struct qc_seed_config *c, char **ret, struct qc_error *err)
{
	cleanup_buf struct qc_buf b = {0};
	int r;

	if ((r = qc_cloudinit_validate_instance_id(c->instance_id, err)) < 0)
		return r;
	if (c->hostname && (r = qc_validate_hostname(c->hostname, err)) < 0)
		return r;
	qc_buf_puts(&b, "instance-id: ");
	qc_cloudinit_yaml_scalar(&b, c->instance_id);
	qc_buf_putc(&b, '\n');
	if (c->hostname) {
		qc_buf_puts(&b, "local-hostname: ");
		qc_cloudinit_yaml_scalar(&b, c->hostname);
		qc_buf_putc(&b, '\n');
	}
	*ret = qc_buf_steal(&b);
	return 0;
}

static void key_list(struct qc_buf *b, const char *indent, const char *const *keys)
{
	for (size_t i = 0; keys && keys[i]; i++) {
		qc_buf_printf(b, "%s- ", indent);
		qc_cloudinit_yaml_quoted(b, keys[i]);
		qc_buf_putc(b, '\n');
	}
}

static const char *const host_key_types[][2] = {
	{"ed25519", "ssh-ed25519 "},
	{"ecdsa", "ecdsa-sha2-nistp"},
	{"rsa", "ssh-rsa "},
};

#define PRIVATE_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define PRIVATE_END "-----END OPENSSH PRIVATE KEY-----\n"
#define HOST_KEY_MAX (16u << 10)

static bool is_base64(char ch)
{
	return isalnum((unsigned char) ch) || ch == '+' || ch == '/' || ch == '=';
}

size_t qc_cloudinit_base64_word(const char *s)
{
	size_t n = strcspn(s, " ");

	for (size_t i = 0; i < n; i++)
		if (!is_base64(s[i]))
			return 0;
	return n;
}

int qc_cloudinit_check_host_key(
	const char *what, const struct qc_seed_host_key *k, struct qc_error *err)
{
	const char *prefix = NULL, *p, *end;
	size_t l;

	for (size_t i = 0; k->type && i < QC_ARRAY_SIZE(host_key_types); i++)
		if (!strcmp(k->type, host_key_types[i][0]))
			prefix = host_key_types[i][1];
	if (!prefix)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: type '%s' is not ed25519, ecdsa or rsa", what, k->type ? k->type : "");
	/* The private key becomes a YAML block: only base64 lines between the markers. */
	l = k->private_key ? strlen(k->private_key) : 0;
	if (l > HOST_KEY_MAX ||
		!qc_str_has_prefix(k->private_key ? k->private_key : "", PRIVATE_BEGIN) ||
		l < strlen(PRIVATE_BEGIN) + strlen(PRIVATE_END) ||
		strcmp(k->private_key + l - strlen(PRIVATE_END), PRIVATE_END))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: the private key is not one OpenSSH private key block "
			"(as ssh-keygen writes it)",
			what);
	p = k->private_key + strlen(PRIVATE_BEGIN);
	end = k->private_key + l - strlen(PRIVATE_END);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t) (end - p));

		if (!eol || eol == p)
			goto bad_private;
		for (const char *q = p; q < eol; q++)
			if (!is_base64(*q))
				goto bad_private;
		p = eol + 1;
	}
	if (p == k->private_key + strlen(PRIVATE_BEGIN))
		goto bad_private;
	/* The public key: "<type> <base64>[ <comment>]", one line. */
	l = k->public_key ? strlen(k->public_key) : 0;
	if (!l || l > HOST_KEY_MAX || !qc_str_has_prefix(k->public_key, prefix) ||
		!qc_utf8_valid(k->public_key, l))
		goto bad_public;
	for (size_t i = 0; i < l; i++)
		if ((unsigned char) k->public_key[i] < 0x20 || k->public_key[i] == 0x7f)
			goto bad_public;
	p = strchr(k->public_key, ' ');
	if (!p || !qc_cloudinit_base64_word(p + 1))
		goto bad_public;
	return 0;
bad_private:
	return qc_error_set(err, QC_ERR_INVALID,
		"%s: the private key holds something other than base64 lines", what);
bad_public:
	return qc_error_set(err, QC_ERR_INVALID,
		"%s: the public key is not one '%s<base64> [comment]' line", what, prefix);
}

/*
 * cloud-init's cc_ssh (per instance): ssh_deletekeys removes the image's
 * /etc/ssh/ssh_host_*key*, ssh_keys writes these, and with ssh_keys given it
 * generates none; ssh_genkeytypes names the same types in case a later
 * module or another config source asks for generation.
 */
static void host_keys(struct qc_buf *b, const struct qc_seed_host_key *k, size_t n)
{
	qc_buf_puts(b, "ssh_deletekeys: true\nssh_genkeytypes: [");
	for (size_t i = 0; i < n; i++)
		qc_buf_printf(b, "%s%s", i ? ", " : "", k[i].type);
	qc_buf_puts(b, "]\nssh_keys:\n");
	for (size_t i = 0; i < n; i++) {
		const char *p = k[i].private_key;

		/* checked: base64 lines between the markers, each ending in '\n' */
		qc_buf_printf(b, "  %s_private: |\n", k[i].type);
		while (*p) {
			const char *eol = strchr(p, '\n');

			qc_buf_printf(b, "    %.*s\n", (int) (eol - p), p);
			p = eol + 1;
		}
		qc_buf_printf(b, "  %s_public: ", k[i].type);
		qc_cloudinit_yaml_quoted(b, k[i].public_key);
		qc_buf_putc(b, '\n');
	}
}

int qc_cloudinit_user_data(const struct qc_seed_config *c, char **ret, struct qc_error *err)
{
	cleanup_buf struct qc_buf b = {0};
	const char *user = c->user ? c->user : "qemuctl";
	bool keys = c->ssh_keys && c->ssh_keys[0];
	int r;

	if (c->hostname && (r = qc_validate_hostname(c->hostname, err)) < 0)
		return r;
	if ((r = qc_cloudinit_validate_user(user, err)) < 0)
		return r;
	for (size_t i = 0; i < c->n_host_keys; i++) {
		cleanup_free char *what = qc_xasprintf("host key %zu", i + 1);

		if ((r = qc_cloudinit_check_host_key(what, &c->host_keys[i], err)) < 0)
			return r;
	}
	for (size_t i = 0; keys && c->ssh_keys[i]; i++)
		if (!qc_utf8_valid(c->ssh_keys[i], strlen(c->ssh_keys[i])) ||
			strchr(c->ssh_keys[i], '\n'))
			return qc_error_set(err, QC_ERR_INVALID,
				"ssh key %zu: must be one line of UTF-8 text", i + 1);
	for (size_t i = 0; i < c->n_shares; i++)
		if ((r = validate_tag(c->shares[i].tag, err)) < 0)
			return r;

	qc_buf_puts(&b, "#cloud-config\n");
	if (c->hostname) {
		qc_buf_puts(&b, "hostname: ");
		qc_cloudinit_yaml_scalar(&b, c->hostname);
		qc_buf_puts(&b, "\nmanage_etc_hosts: true\n");
	}
	qc_buf_puts(&b, "users:\n  - default\n  - name: ");
	qc_cloudinit_yaml_scalar(&b, user);
	qc_buf_puts(&b, "\n    sudo: \"ALL=(ALL) NOPASSWD:ALL\"\n"
			"    shell: /bin/bash\n"
			"    lock_passwd: true\n");
	if (keys) {
		qc_buf_puts(&b, "    ssh_authorized_keys:\n");
		key_list(&b, "      ", c->ssh_keys);
		/* the image's own default user (debian, ubuntu...) gets them too */
		qc_buf_puts(&b, "ssh_authorized_keys:\n");
		key_list(&b, "  ", c->ssh_keys);
	}
	if (c->n_host_keys)
		host_keys(&b, c->host_keys, c->n_host_keys);
	if (c->n_shares) {
		qc_buf_puts(&b, "mounts:\n");
		for (size_t i = 0; i < c->n_shares; i++) {
			const struct qc_seed_share *s = &c->shares[i];
			cleanup_free char *mp = qc_xasprintf("/mnt/%s", s->tag);

			qc_buf_puts(&b, "  - [");
			qc_cloudinit_yaml_quoted(&b, s->tag);
			qc_buf_puts(&b, ", ");
			qc_cloudinit_yaml_quoted(&b, mp);
			qc_buf_printf(&b,
				", \"9p\", \"trans=virtio,version=9p2000.L,nofail%s\", "
				"\"0\", \"0\"]\n",
				s->readonly ? ",ro" : "");
		}
	}
	qc_buf_puts(&b, "growpart:\n  mode: auto\n  devices: [\"/\"]\n");
	/*
	 * The end of every boot, on the console, for `qemuctl wait`: a script
	 * in per-boot/, which cloud-init's scripts_per_boot runs in the final
	 * stage of every boot (write_files puts it there on the instance's
	 * first boot, before that stage).  The id is read in the guest, so this
	 * text does not depend on it (the seed's content hash excludes the
	 * instance id); final_message cannot carry the instance id.
	 */
	qc_buf_puts(&b, "write_files:\n"
			"  - path: " QC_CLOUDINIT_READY_SCRIPT "\n"
			"    permissions: \"0755\"\n"
			"    content: |\n"
			"      #!/bin/sh\n"
			"      # qemuctl: the end of this boot, for `qemuctl wait`\n"
			"      echo \"QEMUCTL-READY $(cat /run/cloud-init/.instance-id 2>/dev/null "
			"|| cat /var/lib/cloud/data/instance-id)\" >/dev/console\n");
	*ret = qc_buf_steal(&b);
	return 0;
}

int qc_cloudinit_network_config(const struct qc_seed_config *c, char **ret, struct qc_error *err)
{
	cleanup_buf struct qc_buf b = {0};
	bool any = false;
	int r;

	for (size_t i = 0; i < c->n_nics; i++) {
		const struct qc_seed_nic *n = &c->nics[i];

		if ((r = validate_mac(n->mac, err)) < 0)
			return r;
		if (n->address) {
			any = true;
			if ((r = validate_ip("address", n->address, true, err)) < 0)
				return r;
		}
		if (n->gateway && (r = validate_ip("gateway", n->gateway, false, err)) < 0)
			return r;
		for (size_t j = 0; n->dns && n->dns[j]; j++)
			if ((r = validate_ip("nameserver", n->dns[j], false, err)) < 0)
				return r;
	}
	if (!any) {
		*ret = NULL;
		return 0;
	}
	qc_buf_puts(&b, "version: 2\nethernets:\n");
	for (size_t i = 0; i < c->n_nics; i++) {
		const struct qc_seed_nic *n = &c->nics[i];

		qc_buf_printf(&b, "  net%zu:\n    match:\n      macaddress: ", i);
		qc_cloudinit_yaml_quoted(&b, n->mac);
		qc_buf_printf(&b, "\n    set-name: eth%zu\n", i);
		if (!n->address) {
			qc_buf_puts(&b, "    dhcp4: true\n");
			continue;
		}
		/* validated above: addresses are plain scalars, as the test guest expects */
		qc_buf_printf(&b, "    addresses:\n      - %s\n", n->address);
		if (n->gateway)
			qc_buf_printf(&b, "    routes:\n      - to: default\n        via: %s\n",
				n->gateway);
		if (n->dns && n->dns[0]) {
			qc_buf_puts(&b, "    nameservers:\n      addresses:\n");
			for (size_t j = 0; n->dns[j]; j++)
				qc_buf_printf(&b, "        - %s\n", n->dns[j]);
		}
	}
	*ret = qc_buf_steal(&b);
	return 0;
}

/* ------------------------------------------------------- verbatim files */

/* Headers cloud-init's user-data handlers know (compared without case, as cloud-init does). */
static const char *const user_data_headers[] = {
	"#cloud-config", /* also #cloud-config-archive, #cloud-config-jsonp */
	"#!",
	"#include", /* also #include-once */
	"#cloud-boothook",
	"## template: jinja",
	"#part-handler",
	"#upstart-job",
	"content-type: multipart/",
};

int qc_cloudinit_check_user_data(
	const char *what, const char *text, size_t len, struct qc_error *err)
{
	char ex[48];
	size_t n = 0;
	int r;

	if ((r = qc_cloudinit_check_text(what, text, len, QC_SEED_USER_DATA_MAX, err)) < 0)
		return r;
	if (len == 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: empty; start it with '#cloud-config' or '#!'", what);
	for (size_t i = 0; i < QC_ARRAY_SIZE(user_data_headers); i++) {
		size_t hl = strlen(user_data_headers[i]);

		if (len >= hl && !strncasecmp(text, user_data_headers[i], hl))
			return 0;
	}
	for (size_t i = 0; i < len && n < 40 && text[i] != '\n' && text[i] != '\r'; i++)
		ex[n++] = (unsigned char) text[i] < 0x20 || text[i] == 0x7f ? '?' : text[i];
	ex[n] = '\0';
	return qc_error_set(err, QC_ERR_INVALID,
		"%s: starts with '%s', which cloud-init does not recognise; the first line must "
		"be '#cloud-config', '#!<interpreter>', '#include', '#cloud-boothook', "
		"'## template: jinja' or 'Content-Type: multipart/...'",
		what, ex);
}

bool qc_cloudinit_user_data_keeps_host_keys(const char *text, size_t len)
{
	static const char *const overrides[] = {
		"ssh_keys", "vendor_data", "merge_how", "merge_type", "\\x", "\\u", "\\U"};

	/* a script runs beside vendor-data's cloud-config; it cannot replace it */
	if (len >= 2 && !memcmp(text, "#!", 2))
		return true;
	/* "#cloud-config" exactly: "#cloud-config-archive" is a list of parts */
	if (!(len >= 14 && !memcmp(text, "#cloud-config", 13) &&
		    (text[13] == '\n' || text[13] == '\r' || text[13] == ' ')))
		return false;
	for (size_t i = 0; i < QC_ARRAY_SIZE(overrides); i++)
		if (memmem(text, len, overrides[i], strlen(overrides[i])))
			return false;
	return true;
}

int qc_cloudinit_check_network_config(
	const char *what, const char *text, size_t len, struct qc_error *err)
{
	static const char *const need[] = {"version", "network", NULL};
	int r;

	if ((r = qc_cloudinit_check_text(what, text, len, QC_SEED_NETWORK_CONFIG_MAX, err)) < 0)
		return r;
	return qc_cloudinit_yaml_check(what, text, len, need, err);
}

int qc_cloudinit_check_meta_data(
	const char *what, const char *text, size_t len, struct qc_error *err)
{
	int r;

	if ((r = qc_cloudinit_check_text(what, text, len, QC_SEED_META_DATA_MAX, err)) < 0)
		return r;
	return qc_cloudinit_yaml_check(what, text, len, NULL, err);
}

static bool has_key_type(const char *line, size_t len)
{
	static const char *const types[] = {"ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-"};

	for (size_t i = 0; i < len; i++) {
		if (i > 0 && line[i - 1] != ' ' && line[i - 1] != '\t' && line[i - 1] != ',')
			continue;
		for (size_t t = 0; t < QC_ARRAY_SIZE(types); t++)
			if (len - i > strlen(types[t]) &&
				!strncmp(line + i, types[t], strlen(types[t])))
				return true;
	}
	return false;
}

int qc_cloudinit_parse_ssh_keys(
	const char *what, const char *text, size_t len, struct qc_strv *keys, struct qc_error *err)
{
	const char *p = text, *end = text + len;
	cleanup_strvec struct qc_strv found = {0}; /* all or nothing */
	unsigned line = 0;
	int r;

	if ((r = qc_cloudinit_check_text(what, text, len, QC_SEED_SSH_KEY_FILE_MAX, err)) < 0)
		return r;
	if (memmem(text, len, "PRIVATE KEY-----", 16))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: this is a private key; pass the public key (the .pub file)", what);
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t) (end - p));
		const char *e = eol ? eol : end;

		line++;
		while (p < e && isspace((unsigned char) *p))
			p++;
		while (e > p && isspace((unsigned char) e[-1]))
			e--;
		if (p < e && *p != '#') {
			if (!has_key_type(p, (size_t) (e - p)))
				return qc_error_set(err, QC_ERR_INVALID,
					"%s: line %u is not an ssh public key (no ssh-*, ecdsa-* "
					"or "
					"sk-* key type)",
					what, line);
			qc_strv_push_take(&found, qc_xstrndup(p, (size_t) (e - p)));
		}
		p = eol ? eol + 1 : end;
	}
	if (!found.n)
		return qc_error_set(err, QC_ERR_INVALID, "%s: no ssh public key in the file", what);
	for (size_t i = 0; i < found.n; i++)
		qc_strv_push(keys, found.v[i]);
	return 0;
}
