/* SPDX-License-Identifier: MIT */
/*
 * tools/script/lex.h - the lexer of packet scripts: the tokens of one line,
 * each with the column it starts at, and errors that point at a column.
 *
 * Read first: script.h (the language as a whole), then parse.c, its only
 * user. A script is read a line at a time: an event never spans two lines.
 */
#ifndef USTACK_TOOLS_SCRIPT_LEX_H
#define USTACK_TOOLS_SCRIPT_LEX_H

#include <stdbool.h>
#include <stddef.h>

enum us_tok_kind {
	US_TOK_END,      /* end of the line (a comment ends it too) */
	US_TOK_NUM,      /* 12, 0.040, .5 */
	US_TOK_IDENT,    /* socket, SOCK_STREAM, mss, sackOK */
	US_TOK_ELLIPSIS, /* ... */
	US_TOK_PUNCT,    /* one of < > : ( ) [ ] { } , = * @ ~ + - . */
};

#define US_TOK_MAX 64

struct us_tok {
	enum us_tok_kind kind;
	int col;              /* 1-based */
	char text[US_TOK_MAX];
};

struct us_lex {
	const char *path;
	int line;             /* 1-based */
	const char *s;        /* the line, without its newline */
	size_t len;
	size_t pos;
	char *err;            /* the first error, formatted */
	size_t errcap;
	bool failed;
};

void us_lex_init(struct us_lex *lx, const char *path, int line, const char *s, size_t len,
		 char *err, size_t errcap);
/* The next token, consumed. */
struct us_tok us_lex_next(struct us_lex *lx);
/* The next token, left in place. */
struct us_tok us_lex_peek(struct us_lex *lx);
/* TCP flags in tcpdump's letters ("S.", "P.", "F.", "R", "."): the run of
 * characters from FSRPUEW. at the cursor. Returns false (and no error) when
 * there is none. */
bool us_lex_flags(struct us_lex *lx, char *out, size_t cap, int *col);
/* The column the cursor is at (after skipping blanks). */
int us_lex_col(struct us_lex *lx);
/* Everything from the cursor to the end of the line, trimmed of a comment. */
size_t us_lex_rest(struct us_lex *lx, const char **start);
/* Records "path:line:col: error: ..." with the line and a caret (only the
 * first error is kept). Returns -1 for the caller to return. */
int us_lex_error(struct us_lex *lx, int col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
