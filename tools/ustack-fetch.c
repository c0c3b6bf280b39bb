/* SPDX-License-Identifier: MIT */
/*
 * ustack-fetch - downloads one http:// URL through ustack: brings a runtime
 * up on a TAP device, connects over the stack's own TCP and sends one
 * HTTP/1.1 GET (RFC 9110 §9.3.1, RFC 9112).
 *
 *   ustack-fetch [--tap NAME] [--ip4 ADDR/LEN|none] [--ip6 ADDR/LEN|none]
 *                [--gw4 ADDR] [--mac MAC] [--mtu N] [--pcap FILE]
 *                [--log LEVEL] [--dns ADDR] [--host NAME=ADDR]...
 *                [--timeout SECONDS] URL [-o FILE] [--sha256]
 *
 * URL is http://HOST[:PORT][/PATH]: HOST a numeric IPv4 address, an IPv6
 * address in brackets (RFC 3986 §3.2.2), or a name for us_getaddrinfo()
 * (the --host table, then DNS to --dns). Every address the name has is
 * tried in turn.
 *
 * The response (RFC 9112 §6.3, "Message Body Length"): interim 1xx
 * responses are skipped; 204 and 304 have no content; otherwise
 * "Transfer-Encoding: chunked" (RFC 9112 §7.1, chunk extensions and
 * trailer fields read and ignored), else Content-Length, else everything
 * until the server closes. The content streams to FILE (or stdout) through
 * one buffer, hashed on the way with --sha256, so a 100 MB body needs no
 * more memory than a small one. Redirects are not followed: the status line
 * (and a Location) is printed on stderr.
 *
 * Output: the status line on stderr; with --sha256 "sha256 HEX" of the
 * content, on stdout when the content goes to FILE, else on stderr.
 * Exit status: 0 for a 2xx status, 1 for any other status, 2 for a network
 * error (no connection, a reset, a timeout, a malformed or cut response)
 * or a bad command line, with a message on stderr.
 *
 * Not implemented: https, redirects, content codings, keep-alive (the
 * request says "Connection: close").
 *
 * Read tools/cli.h and include/ustack/ustack.h first.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ustack/ustack.h>

#include "cli.h"
#include "sha256.h"

static const char usage[] =
    "usage: ustack-fetch [--tap NAME] [--ip4 ADDR/LEN|none] [--ip6 ADDR/LEN|none]\n"
    "                    [--gw4 ADDR] [--mac MAC] [--mtu N] [--pcap FILE]\n"
    "                    [--log quiet|info|drop|debug] [--dns ADDR] [--host NAME=ADDR]...\n"
    "                    [--timeout SECONDS] URL [-o FILE] [--sha256]\n"
    "\n"
    "Brings ustack up on a TAP device (created when missing) and fetches URL\n"
    "(http://HOST[:PORT]/PATH; HOST an IPv4 address, [IPv6] or a name) with one\n"
    "HTTP/1.1 GET over the stack's TCP. The content goes to FILE (default\n"
    "stdout); redirects are not followed. The status line goes to stderr;\n"
    "--sha256 prints \"sha256 HEX\" of the content (stdout with -o, else\n"
    "stderr). --timeout: the longest wait for any step (default 60 s).\n"
    "Exit status: 0 for 2xx, 1 for another status, 2 for a network error or\n"
    "bad flags. Link defaults as ustack-demo, --log quiet.\n";

#define LINK_TIMEOUT_MS 3000
#define DAD_TIMEOUT_MS	10000
#define DEFAULT_TIMEOUT 60.0
#define RBUF		(256 * 1024)
#define LINE_MAX_BYTES	8192
#define HEAD_MAX_BYTES	65536
#define FIELDS_MAX	200

#define EXIT_OK	    0
#define EXIT_STATUS 1
#define EXIT_NET    2

static void die_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ustack-fetch: %s%s%s\n\n%s", msg, arg ? ": " : "", arg ? arg : "", usage);
	exit(EXIT_NET);
}

/* ---- The URL --------------------------------------------------------------- */

struct url {
	char host[256]; /* without brackets */
	bool bracketed; /* an IPv6 literal */
	uint16_t port;
	char authority[300]; /* for the Host field: as written in the URL */
	const char *path;    /* origin-form: "/..." with the query */
};

/* RFC 3986 §3: http://authority path-abempty [ "?" query ] [ "#" fragment ]. */
static const char *parse_url(const char *text, struct url *u)
{
	memset(u, 0, sizeof *u);
	u->port = 80;
	if (strncasecmp(text, "http://", 7)) {
		if (strstr(text, "://"))
			return "only http:// URLs are supported";
		return "URL must start with http://";
	}
	const char *a = text + 7;
	size_t alen = strcspn(a, "/?#");
	if (alen == 0)
		return "URL has no host";
	if (alen >= sizeof u->authority)
		return "host too long";
	memcpy(u->authority, a, alen);
	u->authority[alen] = '\0';
	if (strchr(u->authority, '@'))
		return "user information in URLs is not supported";
	const char *port = NULL;
	if (u->authority[0] == '[') {
		char *close = strchr(u->authority, ']');
		if (!close)
			return "missing ']' after an IPv6 address";
		size_t hl = (size_t)(close - u->authority - 1);
		memcpy(u->host, u->authority + 1, hl);
		u->host[hl] = '\0';
		u->bracketed = true;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return "unexpected text after ']'";
	} else {
		char *colon = strchr(u->authority, ':');
		size_t hl = colon ? (size_t)(colon - u->authority) : alen;
		memcpy(u->host, u->authority, hl);
		u->host[hl] = '\0';
		if (colon)
			port = colon + 1;
	}
	if (!u->host[0])
		return "URL has no host";
	if (port && *port) {
		long v;
		if (us_cli_long(port, 1, 65535, &v))
			return "port must be 1..65535";
		u->port = (uint16_t)v;
	}
	const char *rest = a + alen;
	if (*rest == '#' || !*rest)
		u->path = "/";
	else
		u->path = rest; /* "/..." or "?..." */
	return NULL;
}

/* ---- Errors ---------------------------------------------------------------- */

__attribute__((format(printf, 1, 2))) static void net_error(const char *fmt, ...)
{
	va_list ap;
	fputs("ustack-fetch: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- Reading the response --------------------------------------------------- */

struct reader {
	int sock;
	uint8_t *buf;
	size_t pos, len;
	bool eof;
	int err; /* errno of a failed receive, else 0 */
};

/* More bytes into the buffer; false at end of stream or on an error. */
static bool fill(struct reader *r)
{
	if (r->eof || r->err)
		return false;
	if (r->pos == r->len)
		r->pos = r->len = 0;
	if (r->len == RBUF) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	for (;;) {
		ssize_t n = us_recv(r->sock, r->buf + r->len, RBUF - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->err = errno;
			return false;
		}
		if (n == 0) {
			r->eof = true;
			return false;
		}
		r->len += (size_t)n;
		return true;
	}
}

/* One line without its CR LF into out; false on end of stream, error, or a
 * line longer than cap - 1 (*too_long). */
static bool read_line(struct reader *r, char *out, size_t cap, bool *too_long)
{
	size_t o = 0;
	*too_long = false;
	for (;;) {
		while (r->pos < r->len) {
			char ch = (char)r->buf[r->pos++];
			if (ch == '\n') {
				if (o && out[o - 1] == '\r')
					o--;
				out[o] = '\0';
				return true;
			}
			if (o + 1 >= cap) {
				*too_long = true;
				return false;
			}
			out[o++] = ch;
		}
		if (!fill(r))
			return false;
	}
}

/* Where the content goes: a file descriptor and, with --sha256, a digest. */
struct sink {
	int fd;
	const char *name;
	struct us_sha256 *hash;
	unsigned long long bytes;
	bool failed;
};

static bool sink_write(struct sink *s, const uint8_t *p, size_t n)
{
	if (s->hash)
		us_sha256_update(s->hash, p, n);
	s->bytes += n;
	while (n > 0 && !s->failed) {
		ssize_t w = write(s->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			net_error("write %s: %s", s->name, strerror(errno));
			s->failed = true;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	return !s->failed;
}

/* Exactly len bytes (or, with len UNTIL_EOF, everything until the server
 * closes) from the reader to the sink. 0, or an exit status. */
#define UNTIL_EOF (~0ULL)

static int copy_body(struct reader *r, struct sink *s, unsigned long long len)
{
	unsigned long long left = len;
	while (left > 0) {
		if (r->pos == r->len) {
			r->pos = r->len = 0;
			if (!fill(r))
				break;
		}
		size_t n = r->len - r->pos;
		if (n > left)
			n = (size_t)left;
		if (!sink_write(s, r->buf + r->pos, n))
			return EXIT_NET;
		r->pos += n;
		if (len != UNTIL_EOF)
			left -= n;
	}
	if (r->err) {
		net_error("receiving the content: %s (after %llu bytes)", strerror(r->err),
			  s->bytes);
		return EXIT_NET;
	}
	if (len != UNTIL_EOF && left > 0) {
		net_error("the server closed the connection after %llu of %llu bytes", len - left,
			  len);
		return EXIT_NET;
	}
	return 0;
}

static void report_cut(const struct reader *r, const char *what)
{
	if (r->err)
		net_error("%s: %s", what, strerror(r->err));
	else
		net_error("%s: the server closed the connection", what);
}

/* RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF,
 * ended by last-chunk and the trailer section. */
static int copy_chunked(struct reader *r, struct sink *s)
{
	char line[LINE_MAX_BYTES];
	bool too_long;
	for (;;) {
		if (!read_line(r, line, sizeof line, &too_long)) {
			if (too_long)
				net_error("malformed chunked content: a chunk-size line too long");
			else
				report_cut(r, "chunked content cut short");
			return EXIT_NET;
		}
		char *end;
		errno = 0;
		unsigned long long size = strtoull(line, &end, 16);
		if (end == line || errno || (*end && *end != ';' && *end != ' ' && *end != '\t')) {
			net_error("malformed chunked content: chunk size \"%.40s\"", line);
			return EXIT_NET;
		}
		if (size == 0)
			break;
		int rc = copy_body(r, s, size);
		if (rc)
			return rc;
		if (!read_line(r, line, sizeof line, &too_long) || line[0]) {
			if (!too_long && !line[0])
				report_cut(r, "chunked content cut short");
			else
				net_error("malformed chunked content: no CRLF after a chunk");
			return EXIT_NET;
		}
	}
	/* The trailer section, up to its empty line. */
	for (int i = 0; i < FIELDS_MAX; i++) {
		if (!read_line(r, line, sizeof line, &too_long)) {
			report_cut(r, "chunked content: trailer cut short");
			return EXIT_NET;
		}
		if (!line[0])
			return 0;
	}
	net_error("malformed chunked content: too many trailer fields");
	return EXIT_NET;
}

struct response {
	int status;
	int minor;
	bool chunked;
	bool has_length;
	unsigned long long length;
	char location[1024];
};

/* The status line and header fields of one response. 0, or an exit status. */
static int read_head(struct reader *r, struct response *resp)
{
	char line[LINE_MAX_BYTES];
	bool too_long;
	memset(resp, 0, sizeof *resp);
	if (!read_line(r, line, sizeof line, &too_long)) {
		if (too_long)
			net_error("malformed response: status line too long");
		else
			report_cut(r, "no response");
		return EXIT_NET;
	}
	/* RFC 9112 §4: HTTP-version SP status-code SP [ reason-phrase ]. */
	if (strncmp(line, "HTTP/1.", 7) || line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' || line[11] < '0' ||
	    line[11] > '9' || (line[12] && line[12] != ' ')) {
		net_error("malformed response: status line \"%.80s\"", line);
		return EXIT_NET;
	}
	resp->minor = line[7] - '0';
	resp->status = atoi(line + 9);
	fprintf(stderr, "%s\n", line);

	size_t total = strlen(line);
	for (int fields = 0;; fields++) {
		if (!read_line(r, line, sizeof line, &too_long)) {
			if (too_long)
				net_error("malformed response: a header field too long");
			else
				report_cut(r, "response head cut short");
			return EXIT_NET;
		}
		if (!line[0])
			return 0;
		total += strlen(line);
		if (fields >= FIELDS_MAX || total > HEAD_MAX_BYTES) {
			net_error("malformed response: head too large");
			return EXIT_NET;
		}
		char *colon = strchr(line, ':');
		if (!colon)
			continue; /* not a field: ignored, as RFC 9112 §5 lets a client */
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		char *e = v + strlen(v);
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (!strcasecmp(line, "Transfer-Encoding")) {
			/* RFC 9112 §6.3: chunked as the final coding frames the
			 * content; any other coding leaves it to the close. */
			const char *last = strrchr(v, ',');
			last = last ? last + 1 : v;
			while (*last == ' ' || *last == '\t')
				last++;
			resp->chunked = !strcasecmp(last, "chunked");
			if (!resp->chunked)
				resp->has_length = false;
		} else if (!strcasecmp(line, "Content-Length")) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (errno || end == v || *end || *v == '-' ||
			    (resp->has_length && n != resp->length)) {
				net_error("malformed response: Content-Length \"%.40s\"", v);
				return EXIT_NET;
			}
			resp->has_length = true;
			resp->length = n;
		} else if (!strcasecmp(line, "Location")) {
			snprintf(resp->location, sizeof resp->location, "%s", v);
		}
	}
}

/* ---- Connecting ------------------------------------------------------------ */

/* A connected socket to u, trying each address; -1 with a message. */
static int connect_url(struct us_runtime *rt, const struct us_cli_link *l, const struct url *u,
		       double timeout)
{
	struct us_addr one;
	struct us_addrinfo *res = NULL, single = {0};
	if (us_addr_parse(u->host, u->port, &one) == 0) {
		if (u->bracketed != (one.family == US_AF_INET6)) {
			net_error("%s: an IPv6 address goes in brackets, an IPv4 one does not",
				  u->authority);
			return -1;
		}
		single.family = one.family;
		single.addr = one;
	} else if (u->bracketed) {
		net_error("[%s]: not an IPv6 address", u->host);
		return -1;
	} else {
		/* A name: its query may go over IPv6, from an address that
		 * must be through DAD (RFC 4862 §5.4). */
		us_cli_wait_ipv6_dad(rt, l, DAD_TIMEOUT_MS);
		int gai = us_getaddrinfo(rt, u->host, u->port, &res);
		if (gai) {
			int saved = errno;
			net_error("%s: %s%s%s", u->host, us_gai_strerror(gai),
				  gai == US_EAI_SYSTEM ? ": " : "",
				  gai == US_EAI_SYSTEM ? strerror(saved) : "");
			return -1;
		}
	}
	const struct us_addrinfo *list = res ? res : &single;
	int sock = -1;
	for (const struct us_addrinfo *ai = list; ai && sock < 0; ai = ai->next) {
		char txt[US_ADDR_TEXT_MAX];
		us_addr_format(&ai->addr, txt, sizeof txt);
		if (ai->family == US_AF_INET6 && !res) {
			int dad = us_cli_wait_ipv6_dad(rt, l, DAD_TIMEOUT_MS);
			if (dad == -2)
				net_error("the stack's IPv6 address is in use by another node");
		}
		int s = us_socket(rt, ai->family, US_SOCK_STREAM, 0);
		if (s < 0) {
			net_error("socket: %s", strerror(errno));
			continue;
		}
		us_settimeout(s, timeout);
		if (us_connect(s, &ai->addr) < 0) {
			net_error("connect to %s: %s", txt, strerror(errno));
			us_close(s);
			continue;
		}
		sock = s;
	}
	us_freeaddrinfo(res);
	return sock;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The whole exchange on a connected socket; an exit status. */
static int fetch(int sock, const struct url *u, struct sink *out)
{
	char req[4096];
	/* "http://host?q": the path is empty (RFC 9112 §3.2.1: "/" then). */
	int n = snprintf(req, sizeof req,
			 "GET %s%s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "User-Agent: ustack-fetch/0.1\r\n"
			 "Accept: */*\r\n"
			 "Connection: close\r\n"
			 "\r\n",
			 u->path[0] == '?' ? "/" : "", u->path, u->authority);
	if (n < 0 || (size_t)n >= sizeof req) {
		net_error("URL too long");
		return EXIT_NET;
	}
	if (us_sendall(sock, req, (size_t)n, NULL) < 0) {
		net_error("sending the request: %s", strerror(errno));
		return EXIT_NET;
	}

	struct reader r = {.sock = sock, .buf = malloc(RBUF)};
	if (!r.buf) {
		net_error("out of memory");
		return EXIT_NET;
	}
	struct response resp;
	int rc;
	/* RFC 9110 §15.2: interim responses come before the final one. */
	do {
		rc = read_head(&r, &resp);
	} while (!rc && resp.status >= 100 && resp.status < 200);
	if (!rc) {
		if (resp.location[0])
			fprintf(stderr, "Location: %s (not followed)\n", resp.location);
		if (resp.status == 204 || resp.status == 304)
			rc = 0;
		else if (resp.chunked)
			rc = copy_chunked(&r, out);
		else if (resp.has_length)
			rc = copy_body(&r, out, resp.length);
		else
			rc = copy_body(&r, out, UNTIL_EOF);
	}
	free(r.buf);
	if (rc)
		return rc;
	return resp.status >= 200 && resp.status < 300 ? EXIT_OK : EXIT_STATUS;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    US_CLI_LINK_OPTIONS,
	    US_CLI_NAME_OPTIONS,
	    {"output", required_argument, 0, 'o'},
	    {"sha256", no_argument, 0, 'S'},
	    {"timeout", required_argument, 0, 't'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	static struct us_cli_link l; /* cfg.hosts points into it */
	us_cli_link_defaults(&l, US_CLI_LOG_QUIET);
	const char *out_path = NULL;
	bool want_sha = false;
	double timeout = DEFAULT_TIMEOUT;

	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		const char *err = NULL;
		switch (c) {
		case 'o':
			out_path = optarg;
			break;
		case 'S':
			want_sha = true;
			break;
		case 't':
			err = us_cli_seconds(optarg, 0.001, 1e6, &timeout);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case ':':
			die_usage("option needs an argument", argv[optind - 1]);
			break;
		default:
			if (!us_cli_link_option(&l, c, optarg, &err))
				die_usage("unknown option", argv[optind - 1]);
		}
		if (err)
			die_usage(err, optarg);
	}
	if (optind == argc)
		die_usage("no URL", NULL);
	if (optind + 1 < argc)
		die_usage("unexpected argument", argv[optind + 1]);
	struct url u;
	const char *err = parse_url(argv[optind], &u);
	if (err)
		die_usage(err, argv[optind]);
	err = us_cli_link_check(&l);
	if (err)
		die_usage(err, NULL);
	us_cli_link_trace(&l);

	struct sink sink = {.fd = STDOUT_FILENO, .name = "stdout"};
	if (out_path && strcmp(out_path, "-")) {
		sink.fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		sink.name = out_path;
		if (sink.fd < 0) {
			fprintf(stderr, "ustack-fetch: %s: %s\n", out_path, strerror(errno));
			return EXIT_NET;
		}
	}
	struct us_sha256 hash;
	if (want_sha) {
		us_sha256_init(&hash);
		sink.hash = &hash;
	}

	int rc;
	struct us_runtime *rt = us_runtime_start(&l.cfg, &rc);
	if (!rt) {
		fprintf(stderr, "ustack-fetch: cannot start on %s: %s\n", l.cfg.tap_name,
			strerror(-rc));
		return EXIT_NET;
	}
	if (!us_cli_wait_link_running(l.cfg.tap_name, LINK_TIMEOUT_MS))
		fprintf(stderr,
			"ustack-fetch: the kernel side of %s is not running after %d ms; "
			"going on\n",
			l.cfg.tap_name, LINK_TIMEOUT_MS);

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int status = EXIT_NET;
	int sock = connect_url(rt, &l, &u, timeout);
	if (sock >= 0) {
		status = fetch(sock, &u, &sink);
		us_close(sock);
	}
	us_runtime_stop(rt);

	if (sink.fd != STDOUT_FILENO && close(sink.fd) < 0 && !sink.failed) {
		fprintf(stderr, "ustack-fetch: %s: %s\n", sink.name, strerror(errno));
		status = EXIT_NET;
	}
	if (sock >= 0 && status != EXIT_NET) {
		double dt = seconds_since(&t0);
		fprintf(stderr, "ustack-fetch: %llu bytes in %.3f s (%.1f MB/s)\n", sink.bytes, dt,
			dt > 0 ? (double)sink.bytes / dt / 1e6 : 0.0);
	}
	if (want_sha && status != EXIT_NET) {
		uint8_t d[US_SHA256_DIGEST];
		char hex[US_SHA256_HEX];
		us_sha256_final(&hash, d);
		us_sha256_hex(d, hex);
		fprintf(sink.fd == STDOUT_FILENO ? stderr : stdout, "sha256 %s\n", hex);
	}
	return status;
}
