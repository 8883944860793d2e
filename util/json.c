/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON over yajl.  This is the only file that includes yajl: yajl is
 * unmaintained upstream (Debian carries the CVE-2023-33460 fix), so every
 * call stays here where it can be swapped without touching the rest.
 * A qc_json * is a yajl_val in disguise.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "util/util.h"

static inline yajl_val V(const qc_json *j)
{
	return (yajl_val) j;
}

static inline const qc_json *J(yajl_val v)
{
	return (const qc_json *) v;
}

/* --------------------------------------------------------------- parsing */

/* qc_json_parse and qc_json_free are in json_parse.c. */

/* --------------------------------------------------------------- getters */

enum qc_json_type qc_json_type(const qc_json *j)
{
	yajl_val v = V(j);

	if (!v)
		return QC_JSON_NULL;
	switch (v->type) {
	case yajl_t_string:
		return QC_JSON_STRING;
	case yajl_t_number:
		return QC_JSON_NUMBER;
	case yajl_t_object:
		return QC_JSON_OBJECT;
	case yajl_t_array:
		return QC_JSON_ARRAY;
	case yajl_t_true:
	case yajl_t_false:
		return QC_JSON_BOOL;
	default:
		return QC_JSON_NULL;
	}
}

static const char *type_name(const qc_json *j)
{
	static const char *const names[] = {
		[QC_JSON_NULL] = "null",
		[QC_JSON_BOOL] = "a boolean",
		[QC_JSON_NUMBER] = "a number",
		[QC_JSON_STRING] = "a string",
		[QC_JSON_OBJECT] = "an object",
		[QC_JSON_ARRAY] = "an array",
	};
	QC_TABLE_COVERS(names, QC_JSON_TYPE_COUNT);
	return names[qc_json_type(j)];
}

static yajl_val get_n(yajl_val v, const char *key, size_t klen)
{
	if (!YAJL_IS_OBJECT(v))
		return NULL;
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];
		if (strncmp(k, key, klen) == 0 && k[klen] == '\0')
			return v->u.object.values[i];
	}
	return NULL;
}

const qc_json *qc_json_get(const qc_json *j, const char *key)
{
	return J(get_n(V(j), key, strlen(key)));
}

const qc_json *qc_json_path(const qc_json *j, const char *path)
{
	yajl_val v = V(j);
	const char *p = path;

	if (!path || !*path)
		return j;
	while (v) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t) (end - p) : strlen(p);

		if (YAJL_IS_ARRAY(v) && n > 0 && strspn(p, "0123456789") == n) {
			/* An array step: "blockdevs/0/file". */
			size_t idx = strtoul(p, NULL, 10);
			v = idx < v->u.array.len ? v->u.array.values[idx] : NULL;
		} else {
			v = get_n(v, p, n);
		}
		if (!end)
			break;
		p = end + 1;
	}
	return J(v);
}

size_t qc_json_len(const qc_json *j)
{
	yajl_val v = V(j);

	if (YAJL_IS_ARRAY(v))
		return v->u.array.len;
	if (YAJL_IS_OBJECT(v))
		return v->u.object.len;
	return 0;
}

const qc_json *qc_json_at(const qc_json *j, size_t i)
{
	yajl_val v = V(j);

	if (YAJL_IS_ARRAY(v))
		return i < v->u.array.len ? J(v->u.array.values[i]) : NULL;
	if (YAJL_IS_OBJECT(v))
		return i < v->u.object.len ? J(v->u.object.values[i]) : NULL;
	return NULL;
}

const char *qc_json_key_at(const qc_json *j, size_t i)
{
	yajl_val v = V(j);

	if (YAJL_IS_OBJECT(v) && i < v->u.object.len)
		return v->u.object.keys[i];
	return NULL;
}

const char *qc_json_string(const qc_json *j)
{
	yajl_val v = V(j);

	return YAJL_IS_STRING(v) ? v->u.string : NULL;
}

bool qc_json_as_int(const qc_json *j, int64_t *ret)
{
	yajl_val v = V(j);

	const char *r;
	char *end;
	long long x;

	if (!YAJL_IS_NUMBER(v))
		return false;
	if (YAJL_IS_INTEGER(v)) {
		*ret = (int64_t) v->u.number.i;
		return true;
	}
	/* yajl overflows on INT64_MIN (it parses the magnitude): try strtoll. */
	r = v->u.number.r;
	if (!r || *r != '-' || !r[1] || strspn(r + 1, "0123456789") != strlen(r + 1))
		return false;
	errno = 0;
	x = strtoll(r, &end, 10);
	if (errno || *end)
		return false;
	*ret = x;
	return true;
}

/* Above INT64_MAX yajl keeps only the text: all digits, in range. */
static bool digits_uint(const char *r, uint64_t *ret)
{
	unsigned long long u;
	char *end;

	if (!r || !*r || strspn(r, "0123456789") != strlen(r))
		return false;
	errno = 0;
	u = strtoull(r, &end, 10);
	if (errno || *end)
		return false;
	*ret = u;
	return true;
}

bool qc_json_as_uint(const qc_json *j, uint64_t *ret)
{
	yajl_val v = V(j);

	if (!YAJL_IS_NUMBER(v))
		return false;
	if (YAJL_IS_INTEGER(v)) {
		if (v->u.number.i < 0)
			return false;
		*ret = (uint64_t) v->u.number.i;
		return true;
	}
	return digits_uint(v->u.number.r, ret);
}

/*
 * The tree's reading: an integer when strtoll() takes the whole text (but
 * INT64_MIN, see json_parse.c), else the digits alone.  A longer text is
 * a fraction, an exponent or more than 20 digits: no uint64_t.
 */
bool qc_json_text_uint(const char *text, size_t len, uint64_t *ret)
{
	char buf[32], *end;
	long long i;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	errno = 0;
	i = strtoll(buf, &end, 10);
	if (errno == 0 && *end == '\0' && i != INT64_MIN) {
		if (i < 0)
			return false;
		*ret = (uint64_t) i;
		return true;
	}
	return digits_uint(buf, ret);
}

bool qc_json_as_double(const qc_json *j, double *ret)
{
	yajl_val v = V(j);

	if (!YAJL_IS_NUMBER(v))
		return false;
	if (YAJL_IS_DOUBLE(v))
		*ret = v->u.number.d;
	else if (YAJL_IS_INTEGER(v))
		*ret = (double) v->u.number.i;
	else
		*ret = strtod(v->u.number.r, NULL);
	return true;
}

bool qc_json_as_bool(const qc_json *j, bool *ret)
{
	yajl_val v = V(j);

	if (YAJL_IS_TRUE(v)) {
		*ret = true;
		return true;
	}
	if (YAJL_IS_FALSE(v)) {
		*ret = false;
		return true;
	}
	return false;
}

/* Why the value v at path (NULL: there is none) is not want, "a string"... */
static int not_a(const qc_json *v, const char *path, const char *want, struct qc_error *err)
{
	if (!v)
		return qc_error_set(err, QC_ERR_JSON, "JSON: '%s' is missing", path);
	return qc_error_set(
		err, QC_ERR_JSON, "JSON: '%s' is not %s (it is %s)", path, want, type_name(v));
}

int qc_json_get_string(const qc_json *j, const char *path, const char **ret, struct qc_error *err)
{
	const qc_json *v = qc_json_path(j, path);

	if (!qc_json_string(v))
		return not_a(v, path, "a string", err);
	*ret = qc_json_string(v);
	return 0;
}

/* Why v at path is no (unsigned) integer: missing, out of range, or its text or type. */
static int not_integer(const qc_json *v, const char *path, bool is_unsigned, struct qc_error *err)
{
	const char *num = qc_json_type(v) == QC_JSON_NUMBER ? V(v)->u.number.r : NULL;
	const char *want = is_unsigned ? "an unsigned integer" : "an integer";

	if (num && !strpbrk(num, is_unsigned ? ".eE-" : ".eE"))
		return qc_error_set(err, QC_ERR_JSON,
			"JSON: '%s' is out of the 64-bit integer range (it is %s)", path, num);
	if (num)
		return qc_error_set(
			err, QC_ERR_JSON, "JSON: '%s' is not %s (it is %s)", path, want, num);
	return not_a(v, path, want, err);
}

int qc_json_get_int(const qc_json *j, const char *path, int64_t *ret, struct qc_error *err)
{
	const qc_json *v = qc_json_path(j, path);

	return v && qc_json_as_int(v, ret) ? 0 : not_integer(v, path, false, err);
}

int qc_json_get_uint(const qc_json *j, const char *path, uint64_t *ret, struct qc_error *err)
{
	const qc_json *v = qc_json_path(j, path);

	return v && qc_json_as_uint(v, ret) ? 0 : not_integer(v, path, true, err);
}

int qc_json_get_bool(const qc_json *j, const char *path, bool *ret, struct qc_error *err)
{
	const qc_json *v = qc_json_path(j, path);

	return v && qc_json_as_bool(v, ret) ? 0 : not_a(v, path, "a boolean", err);
}

/* ------------------------------------------------------------- generator */

struct qc_jgen {
	yajl_gen g;
	yajl_gen_status status; /* the first failure, sticky */
	int depth;
	bool started;
	char last_key[64]; /* for the error message */
};

struct qc_jgen *qc_jgen_new(bool pretty)
{
	struct qc_jgen *g = qc_xzalloc(sizeof(*g));

	g->g = yajl_gen_alloc(NULL);
	if (!g->g)
		abort(); /* only fails on out of memory */
	yajl_gen_config(g->g, yajl_gen_beautify, pretty ? 1 : 0);
	if (pretty)
		yajl_gen_config(g->g, yajl_gen_indent_string, "  ");
	/* Never emit invalid UTF-8: QEMU and every JSON reader would reject it. */
	yajl_gen_config(g->g, yajl_gen_validate_utf8, 1);
	return g;
}

void qc_jgen_free(struct qc_jgen *g)
{
	if (!g)
		return;
	yajl_gen_free(g->g);
	free(g);
}

QC_DEFINE_CLEANUP_FUNC(qc_jgen_freep, struct qc_jgen, qc_jgen_free)

static bool gen_ok(struct qc_jgen *g)
{
	return g && g->status == yajl_gen_status_ok;
}

static void gen_done(struct qc_jgen *g, yajl_gen_status st)
{
	g->started = true;
	if (st != yajl_gen_status_ok && g->status == yajl_gen_status_ok)
		g->status = st;
}

/* Open (depth +1) or close (depth -1) an object or array with yajl's step. */
static void gen_nest(struct qc_jgen *g, yajl_gen_status (*step)(yajl_gen), int depth)
{
	if (!gen_ok(g))
		return;
	gen_done(g, step(g->g));
	g->depth += depth;
}

void qc_jgen_map_open(struct qc_jgen *g)
{
	gen_nest(g, yajl_gen_map_open, 1);
}

void qc_jgen_map_close(struct qc_jgen *g)
{
	gen_nest(g, yajl_gen_map_close, -1);
}

void qc_jgen_array_open(struct qc_jgen *g)
{
	gen_nest(g, yajl_gen_array_open, 1);
}

void qc_jgen_array_close(struct qc_jgen *g)
{
	gen_nest(g, yajl_gen_array_close, -1);
}

void qc_jgen_string_len(struct qc_jgen *g, const char *s, size_t len)
{
	if (!gen_ok(g))
		return;
	if (!s) {
		gen_done(g, yajl_gen_null(g->g));
		return;
	}
	gen_done(g, yajl_gen_string(g->g, (const unsigned char *) s, len));
}

void qc_jgen_string(struct qc_jgen *g, const char *s)
{
	qc_jgen_string_len(g, s, s ? strlen(s) : 0);
}

void qc_jgen_key(struct qc_jgen *g, const char *key)
{
	if (!gen_ok(g))
		return;
	if (!key) {
		gen_done(g, yajl_gen_keys_must_be_strings);
		return;
	}
	snprintf(g->last_key, sizeof(g->last_key), "%s", key);
	gen_done(g, yajl_gen_string(g->g, (const unsigned char *) key, strlen(key)));
}

void qc_jgen_int(struct qc_jgen *g, int64_t v)
{
	if (!gen_ok(g))
		return;
	gen_done(g, yajl_gen_integer(g->g, (long long) v));
}

void qc_jgen_uint(struct qc_jgen *g, uint64_t v)
{
	char buf[24];
	int n;

	if (!gen_ok(g))
		return;
	n = snprintf(buf, sizeof(buf), "%" PRIu64, v);
	gen_done(g, yajl_gen_number(g->g, buf, (size_t) n));
}

void qc_jgen_double(struct qc_jgen *g, double v)
{
	char buf[40];
	int n;

	if (!gen_ok(g))
		return;
	if (!isfinite(v)) {
		gen_done(g, yajl_gen_invalid_number);
		return;
	}
	/* The shortest text that reads back as the same double (yajl uses %.20g). */
	n = snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v)
		n = snprintf(buf, sizeof(buf), "%.17g", v);
	/* "1" would read back as an integer; keep it a JSON number with a fraction. */
	if (!strpbrk(buf, ".eEn"))
		n += snprintf(buf + n, sizeof(buf) - (size_t) n, ".0");
	gen_done(g, yajl_gen_number(g->g, buf, (size_t) n));
}

void qc_jgen_bool(struct qc_jgen *g, bool v)
{
	if (!gen_ok(g))
		return;
	gen_done(g, yajl_gen_bool(g->g, v ? 1 : 0));
}

void qc_jgen_null(struct qc_jgen *g)
{
	if (!gen_ok(g))
		return;
	gen_done(g, yajl_gen_null(g->g));
}

static void gen_tree(struct qc_jgen *g, yajl_val v)
{
	if (!gen_ok(g))
		return;
	if (!v) {
		qc_jgen_null(g);
		return;
	}
	switch (v->type) {
	case yajl_t_string:
		qc_jgen_string(g, v->u.string);
		break;
	case yajl_t_number:
		/* The original text: exact for integers beyond 64 bits and for doubles. */
		gen_done(g, yajl_gen_number(g->g, v->u.number.r, strlen(v->u.number.r)));
		break;
	case yajl_t_object:
		qc_jgen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			qc_jgen_key(g, v->u.object.keys[i]);
			gen_tree(g, v->u.object.values[i]);
		}
		qc_jgen_map_close(g);
		break;
	case yajl_t_array:
		qc_jgen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			gen_tree(g, v->u.array.values[i]);
		qc_jgen_array_close(g);
		break;
	case yajl_t_true:
		qc_jgen_bool(g, true);
		break;
	case yajl_t_false:
		qc_jgen_bool(g, false);
		break;
	default:
		qc_jgen_null(g);
		break;
	}
}

void qc_jgen_value(struct qc_jgen *g, const qc_json *v)
{
	gen_tree(g, V(v));
}

void qc_jgen_kstring(struct qc_jgen *g, const char *key, const char *s)
{
	qc_jgen_key(g, key);
	qc_jgen_string(g, s);
}

void qc_jgen_kint(struct qc_jgen *g, const char *key, int64_t v)
{
	qc_jgen_key(g, key);
	qc_jgen_int(g, v);
}

void qc_jgen_kuint(struct qc_jgen *g, const char *key, uint64_t v)
{
	qc_jgen_key(g, key);
	qc_jgen_uint(g, v);
}

void qc_jgen_kbool(struct qc_jgen *g, const char *key, bool v)
{
	qc_jgen_key(g, key);
	qc_jgen_bool(g, v);
}

static const char *gen_status_text(yajl_gen_status st)
{
	switch (st) {
	case yajl_gen_keys_must_be_strings:
		return "a value was given where an object key was expected";
	case yajl_max_depth_exceeded:
		return "nesting too deep";
	case yajl_gen_in_error_state:
		return "generator in error state";
	case yajl_gen_generation_complete:
		return "a value after the complete document (or a close without an open)";
	case yajl_gen_invalid_number:
		return "invalid number (NaN or infinity)";
	case yajl_gen_no_buf:
		return "no buffer";
	case yajl_gen_invalid_string:
		return "a string is not valid UTF-8";
	default:
		return "unknown generator error";
	}
}

int qc_jgen_finish(struct qc_jgen *g, char **ret, size_t *ret_len, struct qc_error *err)
{
	const unsigned char *buf;
	size_t len;

	if (!g)
		return qc_error_set(err, QC_ERR_INTERNAL, "JSON generator: none");
	if (g->status != yajl_gen_status_ok) {
		/* Bad data (invalid UTF-8, NaN) is the caller's input; the rest are bugs. */
		int code =
			g->status == yajl_gen_invalid_string || g->status == yajl_gen_invalid_number
				? QC_ERR_JSON
				: QC_ERR_INTERNAL;
		if (g->last_key[0])
			return qc_error_set(err, code, "JSON generator: %s (after key '%s')",
				gen_status_text(g->status), g->last_key);
		return qc_error_set(err, code, "JSON generator: %s", gen_status_text(g->status));
	}
	if (!g->started)
		return qc_error_set(err, QC_ERR_INTERNAL, "JSON generator: empty document");
	if (g->depth != 0)
		return qc_error_set(err, QC_ERR_INTERNAL,
			"JSON generator: %d object(s) or array(s) left open", g->depth);
	if (yajl_gen_get_buf(g->g, &buf, &len) != yajl_gen_status_ok)
		return qc_error_set(err, QC_ERR_INTERNAL, "JSON generator: cannot get the buffer");
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	*ret = qc_xstrndup((const char *) buf, len);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int qc_jgen_write_atomic(
	struct qc_jgen *g, int dirfd, const char *name, mode_t mode, struct qc_error *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	int r;

	if ((r = qc_jgen_finish(g, &text, &len, err)) < 0)
		return r;
	return qc_write_atomic(dirfd, name, text, len, mode, err);
}

char *qc_json_dump(const qc_json *j)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	char *s = NULL;

	gen_tree(g, V(j));
	if (qc_jgen_finish(g, &s, NULL, NULL) < 0)
		return NULL;
	return s;
}
