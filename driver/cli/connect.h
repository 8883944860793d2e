/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --connect ssh://[USER@]HOST[:PORT][/ROOT]: the local qemuctl runs
 * `qemuctl serve-stdio` on HOST through ssh and the two speak in frames
 * over the channel: one type byte, a 4-byte big-endian length, the
 * payload.  Both sides send a hello first ({"protocol": N, "version": V});
 * the client then sends the request ({"argv": [...], "root", "tty",
 * "columns", "rows", "env": {...}, "files": [...]}), the contents of the
 * files it names, and its standard input; the server runs the command and
 * sends its output, the files it wrote (entries with "out": true) when
 * it succeeded and, last, its exit code.
 */
#ifndef QC_CLI_CONNECT_H
#define QC_CLI_CONNECT_H

#include <stddef.h>
#include <sys/types.h>

#include "driver/cli/cli.h"

#define CONNECT_PROTOCOL 1
#define CONNECT_FRAME_MAX (1u << 20) /* a payload larger than this is a protocol error */
#define CONNECT_CHUNK 65536          /* data frames carry at most this much */
#define CONNECT_MAX_FILES 64

enum {
	CF_HELLO = 'h',     /* both ways, first: JSON */
	CF_REQUEST = 'r',   /* client: JSON, once */
	CF_FILE = 'f',      /* client: the next bytes of the request's files, in order */
	CF_STDIN = 'i',     /* client: standard input */
	CF_STDIN_END = 'I', /* client: standard input ended */
	CF_WINSIZE = 'w',   /* client: a terminal resized: columns, rows (2 x 2 bytes) */
	CF_STDOUT = 'o',    /* server */
	CF_STDERR = 'e',    /* server */
	CF_EXIT = 'x',      /* server: the command's exit code (4 bytes), last */
	CF_ERROR = 'E',     /* server: it could not run the request: the message */
	CF_OUTPUT = 'O',     /* server: a file the command wrote (its index, 4 bytes)... */
	CF_OUTPUT_END = 'F', /* ...its bytes in CF_FILE frames, then this (the index) */
};

/* The whole frame to fd (blocking); 0, or -errno. */
int cf_write(int fd, char type, const void *p, size_t n);

/* Frames read from a byte stream. */
struct cf_reader {
	char *buf;
	size_t len, off, cap;
};
void cf_reader_free(struct cf_reader *r);
/* One read() from fd into r: the bytes read, 0 at EOF, -errno. */
ssize_t cf_fill(struct cf_reader *r, int fd);
/*
 * The next complete frame in r: 1 (*p valid until the next cf_fill), 0
 * when none is complete yet, -1 when the length is over CONNECT_FRAME_MAX.
 */
int cf_next(struct cf_reader *r, char *type, const char **p, size_t *n);
/* Blocking: the next frame; 1, 0 at EOF (or a frame cut short), -1 bad or a read error. */
int cf_read(struct cf_reader *r, int fd, char *type, const char **p, size_t *n);

/* Our hello frame's payload (free()). */
char *cf_hello(void);
/* A hello's protocol number (-1: not a hello) and the peer's version into vbuf. */
int cf_hello_parse(const char *p, size_t n, char *vbuf, size_t vsize);

/* The client: argv (n_global global options, then the command) on url's host. */
int cli_connect(struct cli *c, const char *url, const struct cli_cmd *table, int argc,
	char **argv, int n_global);
/* The server: `qemuctl serve-stdio`, a hidden command. */
CLI_HANDLER(cli_serve_stdio);

#endif
