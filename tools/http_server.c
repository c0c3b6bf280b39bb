/* SPDX-License-Identifier: MIT */
/*
 * tools/http_server.c - a small HTTP/1.1 origin server over the socket API:
 * RFC 9112 (message syntax, persistence) and RFC 9110 (methods, status
 * codes), for ustack-demo. One call of us_http_serve() per connection, on
 * the connection's own thread (tools/demo_tcp.c).
 *
 * What it does, with the rules it enacts:
 * - Messages (RFC 9112 §2.2): the head is read into a buffer of HEAD_MAX
 *   bytes; "a server SHOULD ignore at least one empty line (CRLF) received
 *   prior to the request-line"; a bare LF ends a line too ("a recipient MAY
 *   recognize a single LF as a line terminator"). A request line longer
 *   than the buffer, or a target over TARGET_MAX bytes, gets 414 (RFC 9110
 *   §15.5.15); a head over HEAD_MAX bytes or HEADERS_MAX fields gets 431
 *   (RFC 6585 §5); anything malformed 400, then the connection closes.
 * - "A server MUST respond with a 400 (Bad Request) status code to any
 *   HTTP/1.1 request message that lacks a Host header field and to any
 *   request message that contains more than one Host header field"
 *   (RFC 9112 §3.2). "No whitespace is allowed between the field name and
 *   colon ... A server MUST reject, with a response status code of 400, any
 *   received request message that contains whitespace between a header
 *   field name and colon" (RFC 9112 §5.1); obs-fold is rejected with 400
 *   too (§5.2 allows it).
 * - Methods: GET and HEAD (RFC 9110 §9.3.1, §9.3.2: HEAD is GET without the
 *   content); any other method gets 405 with an Allow field ("The origin
 *   server MUST generate an Allow header field in a 405 response",
 *   RFC 9110 §15.5.6). Request content (Content-Length) is read and thrown
 *   away, so the next request on the connection is found; a request with
 *   Transfer-Encoding is answered, then the connection closes (RFC 9112
 *   §6.1 allows closing: we do not decode request bodies). "If a message
 *   is received with both a Transfer-Encoding and a Content-Length header
 *   field ... the server MUST close the connection after responding"
 *   (RFC 9112 §6.3).
 * - Persistence (RFC 9112 §9.3): HTTP/1.1 stays open unless either side
 *   sends "Connection: close"; HTTP/1.0 closes unless the client sent
 *   "Connection: keep-alive" (then it is echoed). Responses are framed by
 *   Content-Length. A connection idle for IDLE_SECONDS is closed, and so is
 *   one whose response makes no progress for SEND_SECONDS; a client that
 *   stops in the middle of a request head gets 408.
 * - Targets: origin-form ("/path?query") and absolute-form
 *   ("http://host/path": "a server MUST accept the absolute-form in
 *   requests", RFC 9112 §3.2.2). The path is percent-decoded; a path with a
 *   ".." segment (also as %2e%2e) or a NUL byte gets 400.
 * - Files (--http-root DIR): the decoded path under the root's realpath();
 *   the file's own realpath() must stay under the root too (a symbolic link
 *   that points out of it gets 404), and only regular files are served. A
 *   directory is served as its index.html; without a trailing '/' it gets
 *   301 to the same path with one. Content-Type by the file name's
 *   extension. Without a root (or without an index.html in it) "/" is a
 *   built-in page.
 * - /status: the stack's TCP table (us_stack_tcp_table through
 *   us_runtime_with_core), one line per endpoint,
 *   "tcp STATE# STATE_NAME LOCAL REMOTE snd_queued=N rcv_queued=N", then
 *   "total N" (an interface tests rely on); /status.html the same as a
 *   table; /stat the live view of ustack-stat (tools/demo_live.c): every
 *   socket like `ss -tan` with RTT, cwnd and retransmits, then the
 *   counters like `netstat -s`.
 * - Date on every response (RFC 9110 §6.6.1: an origin server with a clock
 *   "MUST generate a Date header field" for 2xx, 3xx and 4xx).
 *
 * Not implemented: conditional and range requests (RFC 9110 §13, §14),
 * Expect: 100-continue, chunked response bodies. Deviation: a HTTP/1.1
 * request with Transfer-Encoding is not decoded but answered and the
 * connection closed, where RFC 9112 §6.1 says a server "MUST be able to
 * parse the chunked transfer coding" (this server takes no content).
 *
 * Read tools/http_server.h first.
 */
#include "http_server.h"

#include "demo_live.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX       8192	     /* request line + fields, bytes */
#define TARGET_MAX     2048	     /* request-target, bytes */
#define HEADERS_MAX    100	     /* header fields per request */
#define IDLE_SECONDS   30.0	     /* keep-alive idle time, and the time to send a head */
#define SEND_SECONDS   300.0	     /* the longest a response may make no progress */
#define BODY_DRAIN_MAX (1024 * 1024) /* request content read and dropped */
#define FILE_CHUNK     65536
#define STATUS_TRY_MAX 8

/* ---- Growable text, for generated bodies ---------------------------------- */

struct text {
	char *p;
	size_t len, cap;
	bool failed; /* out of memory: the response becomes a 500 */
};

static void text_add(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		while (cap < t->len + n + 1)
			cap *= 2;
		char *p = realloc(t->p, cap);
		if (!p) {
			t->failed = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void text_printf(struct text *t, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->failed = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		text_add(t, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big) {
		t->failed = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	text_add(t, big, (size_t)n);
	free(big);
}

/* HTML-escapes s (addresses and paths have no markup, but a path is the
 * client's). */
static void text_html(struct text *t, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			text_str(t, "&lt;");
			break;
		case '>':
			text_str(t, "&gt;");
			break;
		case '&':
			text_str(t, "&amp;");
			break;
		case '"':
			text_str(t, "&quot;");
			break;
		default:
			text_add(t, s, 1);
		}
	}
}

/* ---- Setup --------------------------------------------------------------- */

bool us_http_server_init(struct us_http_server *h, struct us_runtime *rt, const char *root)
{
	memset(h, 0, sizeof *h);
	h->rt = rt;
	if (!root)
		return true;
	if (!realpath(root, h->root)) {
		fprintf(stderr, "ustack-demo: --http-root %s: %s\n", root, strerror(errno));
		return false;
	}
	struct stat st;
	if (stat(h->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "ustack-demo: --http-root %s: not a directory\n", root);
		return false;
	}
	/* "/" alone: the prefix test below then needs no special case. */
	if (!strcmp(h->root, "/"))
		h->root[0] = '\0';
	h->has_root = true;
	return true;
}

/* ---- The request --------------------------------------------------------- */

struct request {
	/* Request line, pointing into the connection's buffer. */
	const char *method;
	const char *target;
	size_t target_len;
	int minor; /* HTTP/1.minor */
	/* Fields we act on. */
	int hosts;
	bool conn_close, conn_keep_alive;
	bool has_te;
	bool has_cl;
	unsigned long long content_length;
};

struct conn {
	const struct us_http_server *h;
	int sock;
	struct us_addr peer;
	char in[HEAD_MAX + 1]; /* + 1: a NUL after what was read */
	size_t have;	       /* bytes in in[] */
	uint8_t *out;	       /* FILE_CHUNK + room for a head */
};

#define OUT_CAP (FILE_CHUNK + 2048)

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 301:
		return "Moved Permanently";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* The head of a response into out (at most cap bytes); its length, or 0
 * when it does not fit. extra holds whole header lines, each ending CRLF. */
static size_t format_head(char *out, size_t cap, int status, const char *type,
			  unsigned long long length, bool keep_alive, bool echo_keep_alive,
			  const char *extra)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	/* RFC 9110 §5.6.7: IMF-fixdate. */
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\n"
			 "Date: %s\r\n"
			 "Server: ustack-demo\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %llu\r\n"
			 "%s"
			 "%s"
			 "\r\n",
			 status, reason_phrase(status), date, type, length,
			 !keep_alive	   ? "Connection: close\r\n"
			 : echo_keep_alive ? "Connection: keep-alive\r\n"
					   : "",
			 extra ? extra : "");
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void log_request(const struct conn *c, const char *method, const char *target,
			size_t target_len, int minor, int status, unsigned long long length)
{
	char txt[US_ADDR_TEXT_MAX];
	us_addr_format(&c->peer, txt, sizeof txt);
	if (target_len > 200)
		target_len = 200;
	printf("http: %s \"%s %.*s HTTP/1.%d\" %d %llu\n", txt, method ? method : "-",
	       (int)target_len, target ? target : "-", minor, status, length);
	fflush(stdout);
}

/* Sends a response whose content is in memory (head and content in one
 * send, so the client gets them in as few segments as possible). */
static bool respond(struct conn *c, int status, const char *type, const void *body, size_t len,
		    bool head_only, bool keep_alive, bool echo_keep_alive, const char *extra)
{
	size_t hl = format_head((char *)c->out, OUT_CAP, status, type, len, keep_alive,
				echo_keep_alive, extra);
	if (!hl)
		return false;
	if (head_only || len == 0)
		return us_sendall(c->sock, c->out, hl, NULL) == 0;
	if (hl + len <= OUT_CAP) {
		memcpy(c->out + hl, body, len);
		return us_sendall(c->sock, c->out, hl + len, NULL) == 0;
	}
	return us_sendall(c->sock, c->out, hl, NULL) == 0 &&
	       us_sendall(c->sock, body, len, NULL) == 0;
}

/* An error page: text/plain, the status and its reason. */
static bool respond_error(struct conn *c, int status, bool head_only, bool keep_alive,
			  const char *extra)
{
	char body[128];
	int n = snprintf(body, sizeof body, "%d %s\n", status, reason_phrase(status));
	return respond(c, status, "text/plain; charset=utf-8", body, (size_t)n, head_only,
		       keep_alive, false, extra);
}

/* ---- Reading the head ----------------------------------------------------- */

enum head_result {
	HEAD_OK,     /* *head_len bytes end with the empty line */
	HEAD_CLOSED, /* the client closed (or went quiet) between requests */
	HEAD_ERROR,  /* *status says which error to send */
};

/* Where the head ends (just after its empty line), or 0. */
static size_t find_head_end(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n')
			continue;
		if (i + 1 < n && p[i + 1] == '\n')
			return i + 2;
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static enum head_result read_head(struct conn *c, size_t *head_len, int *status)
{
	for (;;) {
		/* RFC 9112 §2.2: empty lines before the request line. */
		size_t skip = 0;
		while (skip < c->have && (c->in[skip] == '\r' || c->in[skip] == '\n'))
			skip++;
		if (skip) {
			memmove(c->in, c->in + skip, c->have - skip);
			c->have -= skip;
		}
		size_t end = find_head_end(c->in, c->have);
		if (end) {
			*head_len = end;
			return HEAD_OK;
		}
		if (c->have == HEAD_MAX) {
			*status = memchr(c->in, '\n', c->have) ? 431 : 414;
			return HEAD_ERROR;
		}
		ssize_t n = us_recv(c->sock, c->in + c->have, HEAD_MAX - c->have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == ETIMEDOUT || errno == EAGAIN) && c->have) {
			*status = 408;
			return HEAD_ERROR;
		}
		if (n <= 0)
			return HEAD_CLOSED;
		c->have += (size_t)n;
	}
}

/* ---- Parsing --------------------------------------------------------------- */

/* RFC 9110 §5.6.2: tchar. */
static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* The next line of the head (without CR LF), NUL-terminated in place;
 * *pos moves past it. NULL at the empty line that ends the head. */
static char *next_line(char *head, size_t *pos)
{
	char *line = head + *pos;
	char *nl = strchr(line, '\n');
	if (!nl)
		return NULL;
	*pos = (size_t)(nl + 1 - head);
	if (nl > line && nl[-1] == '\r')
		nl--;
	*nl = '\0';
	return *line ? line : NULL;
}

/* Does the comma-separated list value hold token (case-insensitive)? */
static bool list_has(const char *value, const char *token)
{
	size_t tl = strlen(token);
	const char *p = value;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == tl && !strncasecmp(p, token, tl))
			return true;
		p = e;
	}
	return false;
}

/* Parses the head at c->in (NUL written at its end); 0, or the status of
 * the error to send. */
static int parse_head(char *head, size_t len, struct request *r)
{
	memset(r, 0, sizeof *r);
	r->minor = 1;
	head[len] = '\0';
	if (strlen(head) != len)
		return 400; /* a NUL in the head */
	size_t pos = 0;
	char *line = next_line(head, &pos);
	if (!line)
		return 400;
	/* RFC 9112 §3: method SP request-target SP HTTP-version. */
	char *sp1 = strchr(line, ' ');
	if (!sp1)
		return 400;
	char *sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || strchr(sp2 + 1, ' '))
		return 400;
	*sp1 = '\0';
	*sp2 = '\0';
	r->method = line;
	r->target = sp1 + 1;
	r->target_len = (size_t)(sp2 - (sp1 + 1));
	const char *version = sp2 + 1;
	if (!*r->method || r->target_len == 0)
		return 400;
	for (const char *p = r->method; *p; p++)
		if (!is_tchar(*p))
			return 400;
	for (const char *p = r->target; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return 400;
	/* RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT. */
	if (strncmp(version, "HTTP/", 5) || version[5] < '0' || version[5] > '9' ||
	    version[6] != '.' || version[7] < '0' || version[7] > '9' || version[8])
		return 400;
	r->minor = version[7] - '0';
	if (version[5] != '1')
		return 505;
	if (r->target_len > TARGET_MAX)
		return 414;

	int fields = 0;
	while ((line = next_line(head, &pos))) {
		if (++fields > HEADERS_MAX)
			return 431;
		if (*line == ' ' || *line == '\t')
			return 400; /* obs-fold */
		char *colon = strchr(line, ':');
		if (!colon || colon == line)
			return 400;
		for (char *p = line; p < colon; p++)
			if (!is_tchar(*p))
				return 400; /* includes whitespace before the colon */
		*colon = '\0';
		char *value = colon + 1;
		while (*value == ' ' || *value == '\t')
			value++;
		char *end = value + strlen(value);
		while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!strcasecmp(line, "Host")) {
			r->hosts++;
		} else if (!strcasecmp(line, "Connection")) {
			r->conn_close |= list_has(value, "close");
			r->conn_keep_alive |= list_has(value, "keep-alive");
		} else if (!strcasecmp(line, "Transfer-Encoding")) {
			r->has_te = true;
		} else if (!strcasecmp(line, "Content-Length")) {
			/* RFC 9112 §6.3: an invalid value, or differing
			 * values, is an unrecoverable error. */
			if (*value < '0' || *value > '9')
				return 400;
			char *e;
			errno = 0;
			unsigned long long v = strtoull(value, &e, 10);
			if (errno || *e)
				return 400;
			if (r->has_cl && v != r->content_length)
				return 400;
			r->has_cl = true;
			r->content_length = v;
		}
	}
	if (r->hosts > 1 || (r->minor >= 1 && r->hosts == 0))
		return 400;
	return 0;
}

/* ---- Targets and files ------------------------------------------------------ */

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The target's path, percent-decoded into out (cap bytes): 0, or the
 * status to answer (400 for a bad target, a NUL or a ".." segment). */
static int decode_path(const char *target, size_t len, char *out, size_t cap)
{
	const char *p = target, *end = target + len;
	/* RFC 9112 §3.2.2: absolute-form; the authority is not ours to judge. */
	if (len >= 7 && !strncasecmp(p, "http://", 7)) {
		p += 7;
		while (p < end && *p != '/' && *p != '?')
			p++;
		if (p == end) {
			snprintf(out, cap, "/");
			return 0;
		}
	}
	if (p == end || *p != '/')
		return 400;
	size_t o = 0;
	for (; p < end && *p != '?' && *p != '#'; p++) {
		char ch = *p;
		if (ch == '%') {
			if (end - p < 3 || hex_value(p[1]) < 0 || hex_value(p[2]) < 0)
				return 400;
			ch = (char)(hex_value(p[1]) * 16 + hex_value(p[2]));
			p += 2;
			if (ch == '\0')
				return 400;
		}
		if (o + 1 >= cap)
			return 414;
		out[o++] = ch;
	}
	out[o] = '\0';
	/* No segment may be "..": it would climb out of the root. */
	for (const char *s = out; (s = strstr(s, "..")); s += 2)
		if (s[-1] == '/' && (s[2] == '/' || s[2] == '\0'))
			return 400;
	return 0;
}

static const char *content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {"html", "text/html; charset=utf-8"},
	    {"htm", "text/html; charset=utf-8"},
	    {"txt", "text/plain; charset=utf-8"},
	    {"md", "text/markdown; charset=utf-8"},
	    {"css", "text/css; charset=utf-8"},
	    {"js", "text/javascript; charset=utf-8"},
	    {"json", "application/json"},
	    {"xml", "application/xml"},
	    {"svg", "image/svg+xml"},
	    {"png", "image/png"},
	    {"jpg", "image/jpeg"},
	    {"jpeg", "image/jpeg"},
	    {"gif", "image/gif"},
	    {"webp", "image/webp"},
	    {"ico", "image/x-icon"},
	    {"pdf", "application/pdf"},
	    {"wasm", "application/wasm"},
	    {"pcap", "application/vnd.tcpdump.pcap"},
	    {"gz", "application/gzip"},
	    {"tar", "application/x-tar"},
	    {"zip", "application/zip"},
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');
	if (dot)
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (!strcasecmp(dot + 1, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

enum file_result {
	FILE_SENT,     /* served (or the connection failed while sending) */
	FILE_NONE,     /* no such file: the caller decides (built-in page or 404) */
	FILE_REDIRECT, /* a directory without the trailing '/' */
	FILE_FORBIDDEN,
};

/* Opens root + path as a regular file under the root; fd or -1 with *why. */
static int open_under_root(const struct us_http_server *h, const char *path, enum file_result *why,
			   struct stat *st)
{
	char full[PATH_MAX], real[PATH_MAX];
	*why = FILE_NONE;
	if ((size_t)snprintf(full, sizeof full, "%s%s", h->root, path) >= sizeof full)
		return -1;
	if (!realpath(full, real)) {
		if (errno == EACCES)
			*why = FILE_FORBIDDEN;
		return -1;
	}
	size_t rl = strlen(h->root);
	if (strncmp(real, h->root, rl) || (real[rl] != '/' && real[rl] != '\0'))
		return -1; /* a symbolic link out of the root */
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == EACCES)
			*why = FILE_FORBIDDEN;
		return -1;
	}
	if (fstat(fd, st) < 0) {
		close(fd);
		return -1;
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		*why = FILE_REDIRECT;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends the head, then the file in FILE_CHUNK pieces (the first with the
 * head). false when the connection failed. */
static bool send_file(struct conn *c, int fd, const struct stat *st, const char *path,
		      bool head_only, bool keep_alive, bool echo_keep_alive)
{
	unsigned long long size = (unsigned long long)st->st_size;
	size_t hl = format_head((char *)c->out, OUT_CAP, 200, content_type(path), size, keep_alive,
				echo_keep_alive, NULL);
	if (!hl)
		return false;
	if (head_only)
		return us_sendall(c->sock, c->out, hl, NULL) == 0;
	unsigned long long left = size;
	size_t fill = hl;
	while (left > 0 || fill > 0) {
		size_t want = OUT_CAP - fill;
		if (want > left)
			want = (size_t)left;
		if (want) {
			ssize_t n = read(fd, c->out + fill, want);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* The file shrank under us: the framing is lost;
				 * closing tells the client. */
				return false;
			}
			fill += (size_t)n;
			left -= (unsigned long long)n;
		}
		if (us_sendall(c->sock, c->out, fill, NULL) < 0)
			return false;
		fill = 0;
	}
	return true;
}

/* ---- Pages ------------------------------------------------------------------ */

struct tcp_table {
	struct us_tcp_info *v;
	size_t cap, n;
};

static void read_tcp_table(struct us_stack *s, us_time_t now, void *arg)
{
	(void)now;
	struct tcp_table *t = arg;
	t->n = us_stack_tcp_table(s, t->v, t->cap);
}

/* The stack's TCP endpoints, sorted by state and port; false when out of
 * memory. */
static bool snapshot(const struct us_http_server *h, struct tcp_table *t)
{
	t->cap = 256;
	t->v = NULL;
	for (int i = 0; i < STATUS_TRY_MAX; i++) {
		struct us_tcp_info *v = realloc(t->v, t->cap * sizeof *v);
		if (!v) {
			free(t->v);
			return false;
		}
		t->v = v;
		us_runtime_with_core(h->rt, read_tcp_table, t);
		if (t->n <= t->cap)
			break;
		/* More appeared than fit: a larger table, and read again. */
		t->cap = t->n + t->n / 2;
	}
	if (t->n > t->cap)
		t->n = t->cap;
	qsort(t->v, t->n, sizeof *t->v, us_demo_cmp_tcp_info);
	return true;
}

static void status_text(const struct tcp_table *t, struct text *out)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct us_tcp_info *e = &t->v[i];
		char l[US_ADDR_TEXT_MAX], r[US_ADDR_TEXT_MAX];
		us_addr_format(&e->local, l, sizeof l);
		us_addr_format(&e->remote, r, sizeof r);
		text_printf(out, "tcp %d %s %s %s snd_queued=%u rcv_queued=%u\n", e->state,
			    us_tcp_state_name(e->state), l, r, e->snd_queued, e->rcv_queued);
	}
	text_printf(out, "total %zu\n", t->n);
}

static void status_html(const struct tcp_table *t, struct text *out)
{
	text_str(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
		      "<title>ustack: TCP endpoints</title>\n"
		      "<style>body{font-family:sans-serif}td,th{padding:2px 10px;"
		      "text-align:left;font-family:monospace}</style></head>\n<body>\n"
		      "<h1>ustack: TCP endpoints</h1>\n<table>\n<tr><th>#</th><th>state</th>"
		      "<th>local</th><th>remote</th><th>snd_queued</th><th>rcv_queued</th>"
		      "<th>mss</th><th>cwnd</th><th>srtt (ms)</th><th>note</th></tr>\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct us_tcp_info *e = &t->v[i];
		char l[US_ADDR_TEXT_MAX], r[US_ADDR_TEXT_MAX];
		us_addr_format(&e->local, l, sizeof l);
		us_addr_format(&e->remote, r, sizeof r);
		text_printf(out, "<tr><td>%d</td><td>", e->state);
		text_html(out, us_tcp_state_name(e->state));
		text_str(out, "</td><td>");
		text_html(out, l);
		text_str(out, "</td><td>");
		text_html(out, r);
		text_printf(out,
			    "</td><td>%u</td><td>%u</td><td>%u</td><td>%u</td><td>%.1f</td>"
			    "<td>%s%s</td></tr>\n",
			    e->snd_queued, e->rcv_queued, e->mss, e->cwnd,
			    (double)e->srtt_us / 1000.0, e->orphan ? "orphan " : "",
			    e->listener_child ? "not accepted" : "");
	}
	text_printf(out,
		    "</table>\n<p>total %zu</p>\n<p><a href=\"/status\">as text</a> &middot; "
		    "<a href=\"/\">home</a></p>\n</body></html>\n",
		    t->n);
}

static const char builtin_page[] =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>ustack</title></head>\n"
    "<body>\n"
    "<h1>Hello from ustack</h1>\n"
    "<p>This page came to you over ustack, a user-space TCP/IP stack written in C:\n"
    "its own Ethernet, ARP/NDP, IPv4/IPv6 and TCP, on a TAP device.</p>\n"
    "<ul>\n"
    "<li><a href=\"/status\">/status</a>: every TCP endpoint of the stack (text)</li>\n"
    "<li><a href=\"/status.html\">/status.html</a>: the same as a table</li>\n"
    "<li><a href=\"/stat\">/stat</a>: every socket like <code>ss -tan</code> and the\n"
    "counters like <code>netstat -s</code> (what <code>ustack-stat</code> shows)</li>\n"
    "</ul>\n"
    "<p>Also served: TCP echo (port 7, RFC 862), discard (9, RFC 863), chargen (19,\n"
    "RFC 864) and UDP echo (7).</p>\n"
    "</body></html>\n";

/* ---- One request -------------------------------------------------------------- */

/* Throws away len bytes of request content, taking first what is already
 * in the buffer; false when the connection ended. */
static bool drain_content(struct conn *c, unsigned long long len)
{
	size_t take = c->have < len ? c->have : (size_t)len;
	memmove(c->in, c->in + take, c->have - take);
	c->have -= take;
	len -= take;
	while (len > 0) {
		size_t want = len < HEAD_MAX ? (size_t)len : HEAD_MAX;
		ssize_t n = us_recv(c->sock, c->in, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		len -= (unsigned long long)n;
	}
	c->have = 0;
	return true;
}

/* Answers one request (the head is parsed); false when the connection is
 * to close. */
static bool answer(struct conn *c, const struct request *r, bool keep_alive)
{
	bool head_only = !strcmp(r->method, "HEAD");
	bool echo_ka = keep_alive && r->minor == 0;
	int status = 200;
	unsigned long long length = 0;
	bool ok = true;
	char path[TARGET_MAX + 1];

	if (strcmp(r->method, "GET") && !head_only) {
		status = 405;
		ok = respond_error(c, status, false, keep_alive, "Allow: GET, HEAD\r\n");
		goto done;
	}
	status = decode_path(r->target, r->target_len, path, sizeof path);
	if (status) {
		keep_alive = false;
		ok = respond_error(c, status, head_only, false, NULL);
		goto done;
	}
	status = 200;
	if (!strcmp(path, "/status") || !strcmp(path, "/status.html")) {
		struct tcp_table t;
		struct text body = {0};
		bool html = !strcmp(path, "/status.html");
		if (snapshot(c->h, &t)) {
			if (html)
				status_html(&t, &body);
			else
				status_text(&t, &body);
			free(t.v);
		} else {
			body.failed = true;
		}
		if (body.failed) {
			status = 500;
			ok = respond_error(c, status, head_only, keep_alive, NULL);
		} else {
			length = body.len;
			ok = respond(
			    c, 200, html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8",
			    body.p, body.len, head_only, keep_alive, echo_ka, NULL);
		}
		free(body.p);
		goto done;
	}
	if (!strcmp(path, "/stat")) {
		size_t len;
		char *body = us_demo_stat_text(c->h->rt, US_DEMO_STAT_SOCKETS | US_DEMO_STAT_COUNTERS,
					       &len);
		if (!body) {
			status = 500;
			ok = respond_error(c, status, head_only, keep_alive, NULL);
		} else {
			length = len;
			ok = respond(c, 200, "text/plain; charset=utf-8", body, len, head_only,
				     keep_alive, echo_ka, NULL);
		}
		free(body);
		goto done;
	}
	if (c->h->has_root) {
		char index[TARGET_MAX + 16];
		const char *file = path;
		size_t pl = strlen(path);
		if (path[pl - 1] == '/') {
			snprintf(index, sizeof index, "%sindex.html", path);
			file = index;
		}
		enum file_result why;
		struct stat st;
		int fd = open_under_root(c->h, file, &why, &st);
		if (fd >= 0) {
			length = (unsigned long long)st.st_size;
			ok = send_file(c, fd, &st, file, head_only, keep_alive, echo_ka);
			close(fd);
			goto done;
		}
		if (why == FILE_REDIRECT) {
			char extra[TARGET_MAX + 32];
			snprintf(extra, sizeof extra, "Location: %s/\r\n", path);
			status = 301;
			ok = respond_error(c, status, head_only, keep_alive, extra);
			goto done;
		}
		if (why == FILE_FORBIDDEN) {
			status = 403;
			ok = respond_error(c, status, head_only, keep_alive, NULL);
			goto done;
		}
	}
	if (!strcmp(path, "/")) {
		length = sizeof builtin_page - 1;
		ok = respond(c, 200, "text/html; charset=utf-8", builtin_page, length, head_only,
			     keep_alive, echo_ka, NULL);
		goto done;
	}
	status = 404;
	ok = respond_error(c, status, head_only, keep_alive, NULL);
done:
	log_request(c, r->method, r->target, r->target_len, r->minor, status, length);
	return ok && keep_alive;
}

void us_http_serve(const struct us_http_server *h, int sock, const struct us_addr *peer)
{
	struct conn *c = malloc(sizeof *c);
	uint8_t *out = malloc(OUT_CAP);
	if (!c || !out) {
		free(c);
		free(out);
		return;
	}
	c->h = h;
	c->sock = sock;
	c->peer = *peer;
	c->have = 0;
	c->out = out;
	/* Head and content leave in one send; without Nagle the last partial
	 * segment of a response does not wait for the client's delayed ACK. */
	us_setsockopt_int(sock, US_IPPROTO_TCP, US_TCP_NODELAY, 1);
	us_settimeout(sock, IDLE_SECONDS);

	for (;;) {
		size_t head_len;
		int status = 0;
		enum head_result hr = read_head(c, &head_len, &status);
		if (hr == HEAD_CLOSED)
			break;
		if (hr == HEAD_ERROR) {
			respond_error(c, status, false, false, NULL);
			log_request(c, NULL, NULL, 0, 1, status, 0);
			break;
		}
		/* The head is parsed in place; what follows it (content, or the
		 * next pipelined request) stays in the buffer. */
		char head[HEAD_MAX + 1];
		memcpy(head, c->in, head_len);
		memmove(c->in, c->in + head_len, c->have - head_len);
		c->have -= head_len;

		struct request r;
		status = parse_head(head, head_len, &r);
		if (status) {
			respond_error(c, status, false, false, NULL);
			log_request(c, r.method, r.target, r.target_len, r.minor, status, 0);
			break;
		}
		bool keep_alive = r.minor >= 1 ? !r.conn_close : r.conn_keep_alive && !r.conn_close;
		if (r.has_te) {
			keep_alive = false; /* RFC 9112 §6.1, §6.3: see the top */
		} else if (r.has_cl && r.content_length > 0) {
			if (r.content_length > BODY_DRAIN_MAX ||
			    !drain_content(c, r.content_length))
				keep_alive = false;
		}
		/* A response may take long on a slow or lossy path: only
		 * a stall of SEND_SECONDS ends it. */
		us_settimeout(sock, SEND_SECONDS);
		if (!answer(c, &r, keep_alive))
			break;
		us_settimeout(sock, IDLE_SECONDS);
	}
	/* Closing with unread input would reset the connection and could
	 * destroy the response in flight (RFC 9112 §9.6): end our side, and
	 * read what still comes, briefly. */
	us_shutdown(sock, US_SHUT_WR);
	us_settimeout(sock, 1.0);
	for (int i = 0; i < 16; i++) {
		ssize_t n = us_recv(sock, c->in, HEAD_MAX);
		if (n <= 0)
			break;
	}
	free(out);
	free(c);
}

void us_http_refuse(int sock)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Server: ustack-demo\r\n"
				   "Content-Type: text/plain; charset=utf-8\r\n"
				   "Content-Length: 24\r\n"
				   "Retry-After: 1\r\n"
				   "Connection: close\r\n"
				   "\r\n"
				   "503 Service Unavailable\n";
	us_settimeout(sock, 0);
	us_sendall(sock, busy, sizeof busy - 1, NULL);
	us_shutdown(sock, US_SHUT_WR);
}
