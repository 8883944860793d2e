/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The CLI's JSON: output written with yajl_gen (the first failure is kept
 * and reported once, when the document is printed), and JSON lines read
 * with yajl_tree (events.jsonl).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "driver/cli/cli.h"

struct cli_json {
	yajl_gen g;
	yajl_gen_status status; /* the first failure */
	int depth;
	char last_key[64]; /* for the error message */
};

struct cli_json *cli_json_new(bool pretty)
{
	struct cli_json *j = calloc(1, sizeof(*j));

	if (!j || !(j->g = yajl_gen_alloc(NULL)))
		abort(); /* out of memory */
	yajl_gen_config(j->g, yajl_gen_beautify, pretty ? 1 : 0);
	if (pretty)
		yajl_gen_config(j->g, yajl_gen_indent_string, "  ");
	/* never invalid UTF-8: every JSON reader would reject the document */
	yajl_gen_config(j->g, yajl_gen_validate_utf8, 1);
	return j;
}

void cli_json_freep(struct cli_json **j)
{
	if (*j)
		yajl_gen_free((*j)->g);
	free(*j);
	*j = NULL;
}

/* Run one generator call unless an earlier one failed; keep the first failure. */
#define GEN(j, call)                                      \
	do {                                              \
		yajl_gen_status st_;                      \
		if ((j)->status != yajl_gen_status_ok)    \
			break;                            \
		if ((st_ = (call)) != yajl_gen_status_ok) \
			(j)->status = st_;                \
	} while (0)

/* Open (d 1) or close (d -1) an object or array. */
static void nest(struct cli_json *j, yajl_gen_status (*fn)(yajl_gen g), int d)
{
	GEN(j, fn(j->g));
	j->depth += d;
}

void cli_json_map_open(struct cli_json *j)
{
	nest(j, yajl_gen_map_open, 1);
}

void cli_json_map_close(struct cli_json *j)
{
	nest(j, yajl_gen_map_close, -1);
}

void cli_json_array_open(struct cli_json *j)
{
	nest(j, yajl_gen_array_open, 1);
}

void cli_json_array_close(struct cli_json *j)
{
	nest(j, yajl_gen_array_close, -1);
}

void cli_json_string(struct cli_json *j, const char *s)
{
	if (!s)
		GEN(j, yajl_gen_null(j->g));
	else
		GEN(j, yajl_gen_string(j->g, (const unsigned char *) s, strlen(s)));
}

void cli_json_key(struct cli_json *j, const char *key)
{
	snprintf(j->last_key, sizeof(j->last_key), "%s", key);
	GEN(j, yajl_gen_string(j->g, (const unsigned char *) key, strlen(key)));
}

void cli_json_null(struct cli_json *j)
{
	GEN(j, yajl_gen_null(j->g));
}

void cli_json_kstring(struct cli_json *j, const char *key, const char *s)
{
	cli_json_key(j, key);
	cli_json_string(j, s);
}

void cli_json_kint(struct cli_json *j, const char *key, int64_t v)
{
	cli_json_key(j, key);
	GEN(j, yajl_gen_integer(j->g, (long long) v));
}

void cli_json_kuint(struct cli_json *j, const char *key, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	cli_json_key(j, key);
	GEN(j, yajl_gen_number(j->g, buf, (size_t) n));
}

void cli_json_kbool(struct cli_json *j, const char *key, bool v)
{
	cli_json_key(j, key);
	GEN(j, yajl_gen_bool(j->g, v ? 1 : 0));
}

void cli_json_karray_open(struct cli_json *j, const char *key)
{
	cli_json_key(j, key);
	cli_json_array_open(j);
}

void cli_json_kuint_or_null(struct cli_json *j, const char *key, bool known, uint64_t v)
{
	if (known) {
		cli_json_kuint(j, key, v);
	} else {
		cli_json_key(j, key);
		cli_json_null(j);
	}
}

bool cli_json_kmap_open_or_null(struct cli_json *j, const char *key, bool present)
{
	cli_json_key(j, key);
	if (present)
		cli_json_map_open(j);
	else
		cli_json_null(j);
	return present;
}

void cli_json_kstrv(struct cli_json *j, const char *key, char *const *v)
{
	cli_json_karray_open(j, key);
	for (; v && *v; v++)
		cli_json_string(j, *v);
	cli_json_array_close(j);
}

/* v as it was read: numbers keep their text. */
static void gen_tree(struct cli_json *j, yajl_val v)
{
	size_t i;

	if (!v) {
		cli_json_null(j);
		return;
	}
	switch (v->type) {
	case yajl_t_string:
		cli_json_string(j, v->u.string);
		break;
	case yajl_t_number:
		GEN(j, yajl_gen_number(j->g, v->u.number.r, strlen(v->u.number.r)));
		break;
	case yajl_t_object:
		cli_json_map_open(j);
		for (i = 0; i < v->u.object.len; i++) {
			cli_json_key(j, v->u.object.keys[i]);
			gen_tree(j, v->u.object.values[i]);
		}
		cli_json_map_close(j);
		break;
	case yajl_t_array:
		cli_json_array_open(j);
		for (i = 0; i < v->u.array.len; i++)
			gen_tree(j, v->u.array.values[i]);
		cli_json_array_close(j);
		break;
	case yajl_t_true:
	case yajl_t_false:
		GEN(j, yajl_gen_bool(j->g, v->type == yajl_t_true));
		break;
	default:
		cli_json_null(j);
		break;
	}
}

/* The finished document without its trailing newline, or NULL with err set. */
char *cli_json_finish(struct cli_json *j, struct qc_error *err)
{
	const unsigned char *buf;
	size_t len;
	char *out;

	if (j->status != yajl_gen_status_ok) {
		const char *why =
			j->status == yajl_gen_invalid_string   ? "a string is not valid UTF-8"
			: j->status == yajl_gen_invalid_number ? "invalid number (NaN or infinity)"
							       : "unknown generator error";

		snprintf(err->msg, sizeof(err->msg), "JSON generator: %s%s%s%s", why,
			j->last_key[0] ? " (after key '" : "", j->last_key,
			j->last_key[0] ? "')" : "");
		err->code = EINVAL;
		return NULL;
	}
	if (j->depth != 0 || yajl_gen_get_buf(j->g, &buf, &len) != yajl_gen_status_ok) {
		snprintf(err->msg, sizeof(err->msg), "JSON generator: incomplete document");
		err->code = EINVAL;
		return NULL;
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	if (!(out = strndup((const char *) buf, len)))
		abort();
	return out;
}

char *cli_json_dump(yajl_val v)
{
	struct cli_json *j = cli_json_new(false);
	struct qc_error err = {0};
	char *out;

	gen_tree(j, v);
	out = cli_json_finish(j, &err);
	cli_json_freep(&j);
	return out;
}

/* ------------------------------------------------------------ --json errors */

static bool json_errors;

void cli_json_errors(bool on)
{
	json_errors = on;
}

bool cli_json_errors_on(void)
{
	return json_errors;
}

/* One compact object on one line of stderr. */
static void print_line(struct cli_json *g)
{
	struct qc_error err = {0};
	autofree char *out = cli_json_finish(g, &err);

	fflush(stdout);
	fprintf(stderr, "%s\n", out ? out : "{\"error\":{\"code\":\"internal\",\"message\":"
					    "\"JSON generator failed\"}}");
}

/* {"KEY": {"K1": V1, "message": MSG[, "hint": HINT]}} on one line of stderr */
static void print_message(
	const char *key, const char *k1, const char *v1, const char *msg, const char *hint)
{
	autojson struct cli_json *g = cli_json_new(false);

	cli_json_map_open(g);
	cli_json_key(g, key);
	cli_json_map_open(g);
	cli_json_kstring(g, k1, v1);
	cli_json_kstring(g, "message", msg);
	if (hint)
		cli_json_kstring(g, "hint", hint);
	cli_json_map_close(g);
	cli_json_map_close(g);
	print_line(g);
}

void cli_json_error_print(const char *code, const char *msg, const char *hint)
{
	print_message("error", "code", code, msg, hint);
}

void cli_json_log_print(const char *level, const char *msg)
{
	print_message("log", "level", level, msg, NULL);
}
