/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPv4, CIDR, MAC and interface-name parsing, MAC generation: pure, no syscalls. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

/*
 * inet_pton() accepts nothing but dotted quads, but it also says nothing
 * about what was wrong; parse by hand for precise messages and to refuse
 * leading zeros ("010.0.0.1" is octal to some tools, decimal to others).
 */
int qc_net_parse_ipv4(const char *what, const char *s, uint32_t *ret, struct qc_error *err)
{
	uint32_t addr = 0;
	const char *p = s;
	int i;

	if (!s || !*s)
		return qc_error_set(err, QC_ERR_INVALID, "%s: empty IPv4 address", what);
	for (i = 0; i < 4; i++) {
		unsigned v = 0;
		int digits = 0;

		while (isdigit((unsigned char) *p)) {
			v = v * 10 + (unsigned) (*p - '0');
			if (++digits > 3 || v > 255)
				goto bad;
			p++;
		}
		if (digits == 0 || (digits > 1 && p[-digits] == '0'))
			goto bad;
		addr = (addr << 8) | v;
		if (i < 3) {
			if (*p != '.')
				goto bad;
			p++;
		}
	}
	if (*p)
		goto bad;
	*ret = addr;
	return 0;
bad:
	return qc_error_set(err, QC_ERR_INVALID,
		"%s: '%s' is not an IPv4 address (expected four numbers 0-255, like 10.0.0.5)",
		what, s);
}

uint32_t qc_net_prefix_mask(unsigned prefix)
{
	if (prefix == 0)
		return 0;
	if (prefix >= 32)
		return 0xffffffffu;
	return 0xffffffffu << (32 - prefix);
}

int qc_net_parse_cidr(const char *what, const char *s, bool network, struct qc_net_cidr *ret,
	struct qc_error *err)
{
	cleanup_free char *ip = NULL;
	const char *slash;
	uint64_t prefix;
	uint32_t addr;
	int r;

	if (!s || !*s)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: empty subnet (expected CIDR like 10.0.0.0/24)", what);
	slash = strchr(s, '/');
	if (!slash)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: '%s' has no prefix length (expected CIDR like 10.0.0.0/24)", what, s);
	ip = qc_xstrndup(s, (size_t) (slash - s));
	if ((r = qc_net_parse_ipv4(what, ip, &addr, err)) < 0)
		return r;
	if (!slash[1] || strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
		strlen(slash + 1) > 2 || (prefix = strtoull(slash + 1, NULL, 10)) > 32)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: '%s': bad prefix length '%s' (expected 0-32)", what, s, slash + 1);
	if (network && (addr & ~qc_net_prefix_mask((unsigned) prefix))) {
		char net[16];

		qc_net_format_ipv4(addr & qc_net_prefix_mask((unsigned) prefix), net, sizeof(net));
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: '%s' has host bits set; did you mean %s/%u?", what, s, net,
			(unsigned) prefix);
	}
	ret->addr = addr;
	ret->prefix = (unsigned) prefix;
	return 0;
}

void qc_net_format_ipv4(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

void qc_net_format_cidr(const struct qc_net_cidr *c, char *buf, size_t size)
{
	char ip[16];

	qc_net_format_ipv4(c->addr, ip, sizeof(ip));
	snprintf(buf, size, "%s/%u", ip, c->prefix);
}

bool qc_net_cidr_contains(const struct qc_net_cidr *net, uint32_t addr)
{
	uint32_t m = qc_net_prefix_mask(net->prefix);

	return (addr & m) == (net->addr & m);
}

bool qc_net_cidr_overlap(const struct qc_net_cidr *a, const struct qc_net_cidr *b)
{
	/* Two prefixes overlap iff they agree on the shorter prefix. */
	uint32_t m = qc_net_prefix_mask(a->prefix < b->prefix ? a->prefix : b->prefix);

	return (a->addr & m) == (b->addr & m);
}

int qc_net_parse_mac(const char *what, const char *s, char out[18], struct qc_error *err)
{
	unsigned char b[6];
	int i;

	if (!s || strlen(s) != 17)
		goto bad;
	for (i = 0; i < 6; i++) {
		const char *p = s + 3 * i;

		if (!isxdigit((unsigned char) p[0]) || !isxdigit((unsigned char) p[1]) ||
			(i < 5 && p[2] != ':'))
			goto bad;
		if (sscanf(p, "%2hhx", &b[i]) != 1)
			goto bad;
	}
	if (b[0] & 1)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: '%s' is a multicast address (the first byte must be even, e.g. "
			"52:54:00:...)",
			what, s);
	if (!(b[0] | b[1] | b[2] | b[3] | b[4] | b[5]))
		return qc_error_set(
			err, QC_ERR_INVALID, "%s: '%s' is the all-zero address", what, s);
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	return 0;
bad:
	return qc_error_set(err, QC_ERR_INVALID,
		"%s: '%s' is not a MAC address (expected six hex pairs like 52:54:00:12:34:56)",
		what, s ? s : "");
}

/*
 * 52:54:00 (QEMU's OUI) + 24 bits: FNV-1a of the seed (a VM's uuid), plus index times an
 * odd constant.  An odd multiplier is invertible modulo 2^24, so indices
 * 0..2^24-1 of one seed always give distinct MACs; different seeds spread
 * over the 2^24 space.
 */
void qc_net_mac_gen(const uint8_t seed[16], unsigned index, char out[18])
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < 16; i++) {
		h ^= seed[i];
		h *= 16777619u;
	}
	h ^= h >> 24;
	h = (h + index * 0x9e3779u) & 0xffffff;
	snprintf(out, 18, "52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
}

int qc_net_validate_ifname(const char *what, const char *name, struct qc_error *err)
{
	size_t len = name ? strlen(name) : 0;
	const char *p;

	if (len == 0)
		return qc_error_set(err, QC_ERR_INVALID, "%s: empty interface name", what);
	if (len > QC_NET_IFNAME_MAX)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: interface name '%s' is %zu bytes long; Linux allows at most %d", what,
			name, len, QC_NET_IFNAME_MAX);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return qc_error_set(
			err, QC_ERR_INVALID, "%s: '%s' is not a valid interface name", what, name);
	for (p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p == ',' || isspace((unsigned char) *p) ||
			!isprint((unsigned char) *p))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s: interface name '%s' contains '%c' (not allowed)", what, name,
				isprint((unsigned char) *p) ? *p : '?');
	return 0;
}
