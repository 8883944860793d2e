/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * liblzma and zlib are dlopen()ed by the first .xz or .gz decoded
 * (decompress.c), not linked: only importing a compressed image needs
 * them, and linked they cost every qemuctl process ~0.15 ms at exec.
 *
 * Each is bound lazily, as a linked library is (RTLD_NOW would resolve
 * every PLT entry at load), and RTLD_LOCAL: its symbols stay out of the
 * process's global scope, so nothing loaded later binds to them by
 * accident.
 *
 * This file defines the functions decompress.c calls, under their own
 * names and with the prototypes of <lzma.h> and <zlib.h> (the compiler
 * checks each definition against its declaration), as hidden symbols:
 * each loads its library once (pthread_once) and calls the real function.
 * Hidden, they never interpose the libraries' own symbols, whether those
 * are loaded here or linked by a program that also calls them.  zlib's
 * inflateInit2() is a macro over inflateInit2_(), which is defined here.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#pragma GCC visibility push(hidden)
#include <lzma.h>
#include <zlib.h>
#pragma GCC visibility pop

#include "storage/storage.h"

/* A library loaded once: its soname, the Debian package that ships it, the outcome. */
struct lib {
	const char *name, *soname, *package;
	pthread_once_t once;
	bool loaded;
	char error[600];
};

static struct lib lzma_lib = {"liblzma", "liblzma.so.5", "liblzma5", PTHREAD_ONCE_INIT, false, ""};
static struct lib zlib_lib = {"zlib", "libz.so.1", "zlib1g", PTHREAD_ONCE_INIT, false, ""};

static void *open_lib(struct lib *l)
{
	void *dl = dlopen(l->soname, RTLD_LAZY | RTLD_LOCAL);

	if (!dl)
		snprintf(l->error, sizeof(l->error),
			"cannot load %s: %s; install the Debian package %s (apt-get install %s)",
			l->name, dlerror(), l->package, l->package);
	return dl;
}

static void missing(struct lib *l, void *dl, const char *name)
{
	snprintf(l->error, sizeof(l->error),
		"cannot load %s: %s has no %s; install the Debian package %s", l->name, l->soname,
		name, l->package);
	dlclose(dl);
}

/* X(return type, name, (parameters), (arguments), value when the library is missing) */
#define LZMA_FUNCTIONS(X, XV)                                                                     \
	X(lzma_ret, lzma_code, (lzma_stream * strm, lzma_action action), (strm, action),          \
		LZMA_PROG_ERROR)                                                                  \
	XV(lzma_end, (lzma_stream * strm), (strm))                                                \
	X(uint64_t, lzma_memusage, (const lzma_stream *strm), (strm), 0)                          \
	X(lzma_ret, lzma_stream_decoder, (lzma_stream * strm, uint64_t memlimit, uint32_t flags), \
		(strm, memlimit, flags), LZMA_PROG_ERROR)

#define ZLIB_FUNCTIONS(X, XV)                                                           \
	X(int, inflate, (z_streamp strm, int flush), (strm, flush), Z_STREAM_ERROR)     \
	X(int, inflateEnd, (z_streamp strm), (strm), Z_STREAM_ERROR)                    \
	X(int, inflateInit2_,                                                           \
		(z_streamp strm, int windowBits, const char *version, int stream_size), \
		(strm, windowBits, version, stream_size), Z_STREAM_ERROR)               \
	X(int, inflateReset, (z_streamp strm), (strm), Z_STREAM_ERROR)

#define MEMBER(type, name, params, args, fail) __typeof__(name) *name;
#define MEMBER_V(name, params, args) __typeof__(name) *name;
static struct {
	LZMA_FUNCTIONS(MEMBER, MEMBER_V)
} lzma_fns;
static struct {
	ZLIB_FUNCTIONS(MEMBER, MEMBER_V)
} zlib_fns;

#define RESOLVE(lib, name)                                       \
	if (!(t.name = (__typeof__(t.name)) dlsym(dl, #name))) { \
		missing(&lib, dl, #name);                        \
		return;                                          \
	}
#define RESOLVE_LZMA(type, name, params, args, fail) RESOLVE(lzma_lib, name)
#define RESOLVE_LZMA_V(name, params, args) RESOLVE(lzma_lib, name)
#define RESOLVE_ZLIB(type, name, params, args, fail) RESOLVE(zlib_lib, name)
#define RESOLVE_ZLIB_V(name, params, args) RESOLVE(zlib_lib, name)

static void load_lzma(void)
{
	__typeof__(lzma_fns) t;
	void *dl = open_lib(&lzma_lib);

	if (!dl)
		return;
	LZMA_FUNCTIONS(RESOLVE_LZMA, RESOLVE_LZMA_V)
	lzma_fns = t;
	lzma_lib.loaded = true;
}

static void load_zlib(void)
{
	__typeof__(zlib_fns) t;
	void *dl = open_lib(&zlib_lib);

	if (!dl)
		return;
	ZLIB_FUNCTIONS(RESOLVE_ZLIB, RESOLVE_ZLIB_V)
	zlib_fns = t;
	zlib_lib.loaded = true;
}

static bool ready(struct lib *l)
{
	pthread_once(&l->once, l == &lzma_lib ? load_lzma : load_zlib);
	return l->loaded;
}

static int load(struct lib *l, struct qc_error *err)
{
	if (!ready(l))
		return qc_error_set(err, QC_ERR_UNSUPPORTED, "%s", l->error);
	return 0;
}

int qc_lzma_load(struct qc_error *err)
{
	return load(&lzma_lib, err);
}

int qc_zlib_load(struct qc_error *err)
{
	return load(&zlib_lib, err);
}

#define DEFINE(lib, type, name, params, args, fail) \
	QC_DL_FORWARD(ready(&lib##_lib), lib##_fns, type, name, params, args, fail)
#define DEFINE_V(lib, name, params, args) \
	QC_DL_FORWARD_VOID(ready(&lib##_lib), lib##_fns, name, params, args)
#define DEFINE_LZMA(type, name, params, args, fail) DEFINE(lzma, type, name, params, args, fail)
#define DEFINE_LZMA_V(name, params, args) DEFINE_V(lzma, name, params, args)
#define DEFINE_ZLIB(type, name, params, args, fail) DEFINE(zlib, type, name, params, args, fail)
#define DEFINE_ZLIB_V(name, params, args) DEFINE_V(zlib, name, params, args)
LZMA_FUNCTIONS(DEFINE_LZMA, DEFINE_LZMA_V)
ZLIB_FUNCTIONS(DEFINE_ZLIB, DEFINE_ZLIB_V)
