/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qc_json_walk: strict JSON as a stream of events, with one depth bound
 * that holds for every input; qc_json_parse: the tree built from those
 * events.
 *
 * yajl_tree_parse() turns comments on and has no depth limit, and
 * yajl_tree_free() recurses: a depth check done by a separate pre-scan of
 * the text can be desynchronised by anything yajl reads differently (a
 * comment holding a '"').  Here yajl's event parser runs with comments off,
 * and the depth is counted on the very events the readers see: a container
 * that would be level MAX_DEPTH + 1 stops the parse before a reader sees
 * it.  Every tree qc_json_free() sees is therefore at most MAX_DEPTH deep,
 * and a reader of the events (summary.json's) gets the same checks as the
 * tree.
 *
 * The nodes are the same yajl_val structures yajl_tree builds (json.c reads
 * them), allocated with malloc and freed here.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "util/util.h"

/*
 * yajl's generator refuses a 128th level (YAJL_MAX_DEPTH): refuse what
 * qc_json_dump could not write back.
 */
#define MAX_DEPTH 127

struct builder {
	yajl_val root;
	yajl_val stack[MAX_DEPTH]; /* open containers, innermost last */
	int depth;
	char *key; /* pending key of the innermost object */
};

static void node_free(yajl_val v)
{
	if (!v)
		return;
	switch (v->type) {
	case yajl_t_string:
		free(v->u.string);
		break;
	case yajl_t_number:
		free(v->u.number.r);
		break;
	case yajl_t_object:
		for (size_t i = 0; i < v->u.object.len; i++) {
			free((char *) v->u.object.keys[i]);
			node_free(v->u.object.values[i]); /* depth <= MAX_DEPTH */
		}
		free(v->u.object.keys);
		free(v->u.object.values);
		break;
	case yajl_t_array:
		for (size_t i = 0; i < v->u.array.len; i++)
			node_free(v->u.array.values[i]);
		free(v->u.array.values);
		break;
	default:
		break;
	}
	free(v);
}

static yajl_val node_new(yajl_type t)
{
	yajl_val v = qc_xzalloc(sizeof(*v));

	v->type = t;
	return v;
}

/*
 * Room for one more element in an array of len: capacities are powers of
 * two, so a long array costs O(n) copying, not O(n^2).
 */
static void *grow(void *p, size_t len, size_t size)
{
	if (len == 0 || (len & (len - 1)) == 0)
		return qc_xrealloc(p, (len ? 2 * len : 1) * size);
	return p;
}

/* Attach v to the innermost container (or make it the root); takes v. */
static int add(struct builder *b, yajl_val v)
{
	yajl_val c;

	if (b->depth == 0) {
		if (b->root) { /* yajl allows no second top-level value; be sure */
			node_free(v);
			return 0;
		}
		b->root = v;
		return 1;
	}
	c = b->stack[b->depth - 1];
	if (c->type == yajl_t_array) {
		c->u.array.values = grow(
			c->u.array.values, c->u.array.len, sizeof(*c->u.array.values));
		c->u.array.values[c->u.array.len++] = v;
		return 1;
	}
	if (!b->key) {
		node_free(v);
		return 0;
	}
	c->u.object.keys = grow(
		(void *) c->u.object.keys, c->u.object.len, sizeof(*c->u.object.keys));
	c->u.object.values = grow(
		c->u.object.values, c->u.object.len, sizeof(*c->u.object.values));
	c->u.object.keys[c->u.object.len] = b->key;
	c->u.object.values[c->u.object.len++] = v;
	b->key = NULL;
	return 1;
}

static int open_container(struct builder *b, yajl_type t)
{
	yajl_val v;

	if (b->depth >= MAX_DEPTH) /* qc_json_walk stops a deeper one first */
		return 0;
	v = node_new(t);
	if (!add(b, v))
		return 0;
	b->stack[b->depth++] = v;
	return 1;
}

static int close_container(struct builder *b)
{
	if (b->depth == 0)
		return 0;
	b->depth--;
	return 1;
}

static int tree_number(struct builder *b, const char *s, size_t len)
{
	yajl_val v = node_new(yajl_t_number);
	char *end;

	v->u.number.r = qc_xstrndup(s, len);
	errno = 0;
	v->u.number.i = strtoll(v->u.number.r, &end, 10);
	/* yajl_tree parses the magnitude, so INT64_MIN is not "integer" there either. */
	if (errno == 0 && *end == '\0' && v->u.number.i != INT64_MIN) {
		v->u.number.flags |= YAJL_NUMBER_INT_VALID;
		/* the nearest double to an integer is what strtod() would give, without its
		 * cost (but for "-0", whose double is -0.0) */
		if (v->u.number.i != 0 || s[0] != '-') {
			v->u.number.d = (double) v->u.number.i;
			v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
			return add(b, v);
		}
	} else {
		v->u.number.i = 0;
	}
	errno = 0;
	v->u.number.d = strtod(v->u.number.r, &end);
	if (errno == 0 && *end == '\0')
		v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
	return add(b, v);
}

/* The tree, one event at a time (qc_json_walk's reader). */
static bool tree_event(void *opaque, enum qc_json_event ev, const char *s, size_t len, int depth)
{
	struct builder *b = opaque;
	yajl_val v;

	(void) depth;
	switch (ev) {
	case QC_JSON_EV_NULL:
		return add(b, node_new(yajl_t_null));
	case QC_JSON_EV_BOOL:
		return add(b, node_new(s[0] == 't' ? yajl_t_true : yajl_t_false));
	case QC_JSON_EV_NUMBER:
		return tree_number(b, s, len);
	case QC_JSON_EV_STRING:
		v = node_new(yajl_t_string);
		v->u.string = qc_xstrndup(s, len);
		return add(b, v);
	case QC_JSON_EV_KEY:
		free(b->key);
		b->key = qc_xstrndup(s, len);
		return true;
	case QC_JSON_EV_MAP_OPEN:
		return open_container(b, yajl_t_object);
	case QC_JSON_EV_ARRAY_OPEN:
		return open_container(b, yajl_t_array);
	case QC_JSON_EV_MAP_CLOSE:
	case QC_JSON_EV_ARRAY_CLOSE:
		return close_container(b);
	}
	return false;
}

/* ------------------------------------------------------------------ walk */

struct walk {
	qc_json_event_fn fn;
	void *opaque;
	int depth; /* open containers */
	bool too_deep, stopped;
};

static int emit(struct walk *w, enum qc_json_event ev, const char *s, size_t len, int depth)
{
	if (w->fn(w->opaque, ev, s, len, depth))
		return 1;
	w->stopped = true;
	return 0; /* yajl_status_client_canceled */
}

static int cb_null(void *ctx)
{
	struct walk *w = ctx;

	return emit(w, QC_JSON_EV_NULL, NULL, 0, w->depth);
}

static int cb_boolean(void *ctx, int val)
{
	struct walk *w = ctx;

	return emit(w, QC_JSON_EV_BOOL, val ? "true" : "false", val ? 4 : 5, w->depth);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct walk *w = ctx;

	return emit(w, QC_JSON_EV_NUMBER, s, len, w->depth);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct walk *w = ctx;

	return emit(w, QC_JSON_EV_STRING, (const char *) s, len, w->depth);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct walk *w = ctx;

	return emit(w, QC_JSON_EV_KEY, (const char *) s, len, w->depth);
}

static int open_event(struct walk *w, enum qc_json_event ev)
{
	if (w->depth >= MAX_DEPTH) {
		w->too_deep = true;
		return 0; /* yajl_status_client_canceled */
	}
	if (!emit(w, ev, NULL, 0, w->depth))
		return 0;
	w->depth++;
	return 1;
}

static int close_event(struct walk *w, enum qc_json_event ev)
{
	if (w->depth == 0) /* yajl closes only what it opened; be sure */
		return 0;
	w->depth--;
	return emit(w, ev, NULL, 0, w->depth);
}

static int cb_start_map(void *ctx)
{
	return open_event(ctx, QC_JSON_EV_MAP_OPEN);
}

static int cb_end_map(void *ctx)
{
	return close_event(ctx, QC_JSON_EV_MAP_CLOSE);
}

static int cb_start_array(void *ctx)
{
	return open_event(ctx, QC_JSON_EV_ARRAY_OPEN);
}

static int cb_end_array(void *ctx)
{
	return close_event(ctx, QC_JSON_EV_ARRAY_CLOSE);
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end_map,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end_array,
};

/*
 * yajl's message is "parse error: <why>\n <context>\n (right here)
 * ------^\n": keep the first line and the context on one line.
 */
static int syntax_error(yajl_handle h, const char *text, size_t len, struct qc_error *err)
{
	unsigned char *m = yajl_get_error(h, 1, (const unsigned char *) text, len);
	cleanup_free char *ebuf = qc_xstrdup(m ? (const char *) m : "");
	char *nl = strchr(ebuf, '\n');
	char *ctx = NULL;
	size_t n;

	if (m)
		yajl_free_error(h, m);
	if (nl) {
		*nl = '\0';
		ctx = nl + 1;
		while (*ctx == ' ')
			ctx++;
		nl = strchr(ctx, '\n');
		if (nl)
			*nl = '\0';
		n = strlen(ctx);
		while (n > 0 && ctx[n - 1] == ' ')
			ctx[--n] = '\0';
		if (strstr(ctx, "(right here)") || n == 0)
			ctx = NULL;
	}
	n = strlen(ebuf);
	while (n > 0 && (ebuf[n - 1] == ' ' || ebuf[n - 1] == '\n'))
		ebuf[--n] = '\0';
	if (!ebuf[0])
		return qc_error_set(err, QC_ERR_JSON, "JSON: malformed input");
	if (ctx)
		return qc_error_set(err, QC_ERR_JSON, "JSON: %s near '%s'", ebuf, ctx);
	return qc_error_set(err, QC_ERR_JSON, "JSON: %s", ebuf);
}

int qc_json_walk(
	const char *text, size_t len, qc_json_event_fn fn, void *opaque, struct qc_error *err)
{
	struct walk w = {.fn = fn, .opaque = opaque};
	yajl_handle h;
	yajl_status st;
	int r = 0;

	if (!text)
		text = "";
	if (memchr(text, '\0', len))
		return qc_error_set(
			err, QC_ERR_JSON, "JSON: invalid input: it contains a NUL byte");
	h = yajl_alloc(&callbacks, NULL, &w);
	if (!h)
		return qc_error_set(err, ENOMEM, "JSON: cannot allocate a parser");
	/* Strict JSON: no comments, one value, valid UTF-8 (yajl's default). */
	yajl_config(h, yajl_allow_comments, 0);
	st = yajl_parse(h, (const unsigned char *) text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (w.too_deep)
		r = qc_error_set(err, QC_ERR_JSON, "JSON: nested deeper than %d levels", MAX_DEPTH);
	else if (w.stopped)
		r = qc_error_set(err, QC_ERR_JSON, "JSON: malformed input");
	else if (st != yajl_status_ok)
		r = syntax_error(h, text, len, err);
	else if (w.depth != 0)
		r = qc_error_set(err, QC_ERR_JSON, "JSON: malformed input");
	yajl_free(h);
	return r;
}

int qc_json_parse(const char *text, size_t len, qc_json **ret, struct qc_error *err)
{
	struct builder b = {0};
	int r = qc_json_walk(text, len, tree_event, &b, err);

	free(b.key);
	if (r == 0 && (!b.root || b.depth != 0))
		r = qc_error_set(err, QC_ERR_JSON, "JSON: malformed input");
	if (r < 0) {
		node_free(b.root);
		return r;
	}
	*ret = (qc_json *) b.root;
	return 0;
}

qc_json *qc_json_take(qc_json *j, const char *key)
{
	yajl_val v = (yajl_val) j, t;

	if (!v || v->type != yajl_t_object)
		return NULL;
	/* the first member of that name, as qc_json_get finds it */
	for (size_t i = 0; i < v->u.object.len; i++) {
		if (strcmp(v->u.object.keys[i], key) != 0)
			continue;
		t = v->u.object.values[i];
		v->u.object.values[i] = node_new(yajl_t_null);
		return (qc_json *) t;
	}
	return NULL;
}

void qc_json_free(qc_json *j)
{
	node_free((yajl_val) j);
}

QC_DEFINE_CLEANUP_FUNC(qc_json_freep, qc_json, qc_json_free)
