/* SPDX-License-Identifier: MIT */
/*
 * tools/script/script.h - packet scripts: a small packetdrill-like language
 * that says "when this segment arrives, that one must leave", and the runner
 * that drives ustack's sans-I/O core through it on a virtual clock.
 *
 * The pieces, in the order a script goes through them:
 *   lex.c     the lexer: tokens of one line, with their column
 *   parse.c   the parser: lines into events (struct us_script_event)
 *   run.c     the executor: a stack on a virtual clock, segments injected
 *             and expected, socket calls mapped onto us_tcp_* calls
 *   frame.c   frames decoded and printed: tcpdump-like trace lines and
 *             script lines (what pcap2script writes, what mismatches show)
 *   golden.c  the trace compared with its golden file, or refreshed
 *
 * Read first: docs/scripts.md (the language, with examples), then
 * the .pkt files in tests/scripts/. The TCP rules the scripts pin are RFC 9293 §3.10.
 */
#ifndef USTACK_TOOLS_SCRIPT_H
#define USTACK_TOOLS_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ustack/core.h>

/* ---- What a script says -------------------------------------------------- */

/* A number in a segment line, or the wildcard `*`. */
struct us_script_val {
	bool given; /* written at all */
	bool wild;  /* `*`: any value */
	int64_t v;
};

enum us_script_opt_kind {
	US_SOPT_EOL,
	US_SOPT_NOP,
	US_SOPT_MSS,
	US_SOPT_WSCALE,
	US_SOPT_SACKOK,
	US_SOPT_SACK,
	US_SOPT_TS,
};

#define US_SCRIPT_MAX_OPTS 16
#define US_SCRIPT_MAX_SACK 4

struct us_script_opt {
	enum us_script_opt_kind kind;
	struct us_script_val a, b; /* mss / wscale / TS val and ecr */
	int nsack;
	struct us_script_val sack[US_SCRIPT_MAX_SACK][2]; /* relative to the receiver's IRS */
};

/* `< S 0:0(0) win 65535 <mss 1460>` and `> S. 0:0(0) ack 1 <mss 1460>`. */
struct us_script_seg {
	int peer_port;       /* `@40001`; 0: the script's peer_port */
	/* `[ect0]`: the IP header's ECN field (RFC 3168 §5: noecn, ect1, ect0,
	 * ce), as packetdrill writes it. On `<`, what the peer sends (noecn
	 * when not given); on `>`, what the stack must send (not checked when
	 * not given). */
	bool ecn_given;
	uint8_t ecn;         /* US_IP_ECN_* */
	uint8_t flags;       /* US_TCP_* bits */
	struct us_script_val seq, end, len;
	struct us_script_val ack, win;
	/* `gso 1448`: a super-frame (docs/performance.md). On `<`, the peer's
	 * segment is handed over as the kernel hands a TSO frame to a TAP
	 * reader (gso_type TCPv4/TCPv6, this gso_size, NEEDS_CSUM); on `>`,
	 * the stack must send a super-frame with this gso_size. Not given on
	 * `>`: the stack must send a plain segment. */
	struct us_script_val gso;
	bool opts_given;     /* `<...>` written */
	bool opts_wild;      /* `<*>`: any options */
	int nopts;
	struct us_script_opt opts[US_SCRIPT_MAX_OPTS];
};

/* One argument of a socket call. */
enum us_script_arg_kind {
	US_SARG_ELLIPSIS, /* ... */
	US_SARG_INT,
	US_SARG_IDENT,    /* SOCK_STREAM, SHUT_WR, ECONNREFUSED */
	US_SARG_LIST,     /* [1]: one value, as the kernel's int pointer */
	US_SARG_STRUCT,   /* {l_onoff=1, l_linger=0} */
};

#define US_SCRIPT_MAX_ARGS 6
#define US_SCRIPT_MAX_FIELDS 8
#define US_SCRIPT_NAME_MAX 64

struct us_script_arg {
	enum us_script_arg_kind kind;
	int64_t i;                       /* INT; LIST of an int */
	char ident[US_SCRIPT_NAME_MAX];  /* IDENT; LIST of an ident */
	int col;
	int nfields;                     /* STRUCT */
	char field[US_SCRIPT_MAX_FIELDS][US_SCRIPT_NAME_MAX];
	int64_t field_val[US_SCRIPT_MAX_FIELDS];
};

/* `accept(3, ..., ...) = 4`, `read(4, ..., 10) = -1 EAGAIN (...)`. */
struct us_script_call {
	char name[US_SCRIPT_NAME_MAX];
	int nargs;
	struct us_script_arg args[US_SCRIPT_MAX_ARGS];
	bool ret_wild;   /* `= *` */
	int64_t ret;     /* the expected return value */
	int err;         /* expected errno when ret is -1 (positive), else 0 */
	char ret_ident[US_SCRIPT_NAME_MAX]; /* getsocketsta(4) = ESTABLISHED */
	char text[160];  /* the call as written, up to `=` (for the trace) */
};

enum us_script_ev_kind {
	US_SEV_IN,      /* `<` a segment the peer sends */
	US_SEV_OUT,     /* `>` a segment the stack must send */
	US_SEV_NOTHING, /* `> nothing until T` */
	US_SEV_CALL,    /* a socket call */
};

/* A time: `0.1` (absolute), `+0.1` (after the previous event), `*` (any). */
struct us_script_time {
	bool any;
	bool relative;
	us_time_t t;
	bool has_end;       /* `a~b`: a window */
	bool end_relative;
	us_time_t end;
};

struct us_script_event {
	enum us_script_ev_kind kind;
	int line;
	struct us_script_time time;
	struct us_script_time until; /* US_SEV_NOTHING */
	struct us_script_seg seg;    /* US_SEV_IN, US_SEV_OUT */
	struct us_script_call call;  /* US_SEV_CALL */
};

/* `set NAME VALUE` lines, all before the first event. */
struct us_script_config {
	int family;            /* 4 or 6 (`set family ipv6`) */
	uint32_t mtu;          /* the interface MTU (1500) */
	us_time_t msl;         /* MSL (0: the stack's default) */
	/* The stack's port for bind/listen: 4242, which no Wireshark
	 * dissector claims, so its reassembly never takes payload for HTTP. */
	uint16_t local_port;
	uint16_t peer_port;    /* the peer's port (40000) */
	uint32_t irs;          /* the peer's initial sequence number (1000000) */
	us_time_t tolerance;   /* how far from its time an outbound segment may leave (0) */
	/* `set offloads csum,tso`: enum us_offload bits of the runner's
	 * interface (us_iface_config.offloads); 0, plain frames, by default. */
	uint32_t offloads;
};

struct us_script {
	char *path;
	struct us_script_config cfg;
	int nevents;
	struct us_script_event *events;
};

/*
 * Parses text (the whole file) into a script. Returns 0, or -1 after
 * writing "path:line:col: error: ..." and the line with a caret under the
 * column into errbuf.
 */
int us_script_parse(const char *path, const char *text, struct us_script *out, char *errbuf,
		    size_t errcap);
/* "EAGAIN" -> EAGAIN and back (0 / NULL when not in the table). */
int us_script_errno_value(const char *name);
const char *us_script_errno_name(int err);
/* Reads path and parses it. */
int us_script_load(const char *path, struct us_script *out, char *errbuf, size_t errcap);
void us_script_free(struct us_script *sc);

/* ---- Running ------------------------------------------------------------- */

struct us_script_run_opts {
	const char *pcap_path;  /* NULL: no pcap */
	FILE *trace;            /* the text trace is written here (NULL: kept in memory only) */
	FILE *err;              /* where failures are explained (stderr) */
	bool verbose;
};

/*
 * Runs the script. Returns 0 when every event happened as written, 1 when
 * not (explained on opts->err), -1 when the runner itself could not run
 * (stack creation, pcap file). *trace_out receives the text trace (malloc'd;
 * the caller frees it), also when the script failed.
 */
int us_script_run(const struct us_script *sc, const struct us_script_run_opts *opts,
		  char **trace_out);

/* ---- Golden files -------------------------------------------------------- */

/* The golden file next to a script: foo.pkt -> foo.golden. Malloc'd. */
char *us_script_golden_path(const char *script_path);
/* 0 when trace equals the file's content; 1 when not (the first differing
 * lines are shown on err with their line numbers), -1 when the file cannot be
 * read (said on err). */
int us_script_golden_compare(const char *golden_path, const char *trace, FILE *err);
/* Writes trace to golden_path. 0 or -1 (said on err). */
int us_script_golden_write(const char *golden_path, const char *trace, FILE *err);

/* ---- Frames -------------------------------------------------------------- */

enum us_script_frame_kind {
	US_SFRAME_OTHER,
	US_SFRAME_TCP,
	US_SFRAME_ARP,
	US_SFRAME_ICMP4,
	US_SFRAME_ICMP6,
	US_SFRAME_UDP,
};

/* A decoded frame: Ethernet, then IPv4/IPv6 and TCP, or ARP. */
struct us_script_frame {
	enum us_script_frame_kind kind;
	int family;                  /* 4 or 6, for IP frames */
	uint32_t src4, dst4;
	struct us_ip6 src6, dst6;
	uint8_t proto;
	uint8_t tos;                 /* IPv4 TOS / IPv6 Traffic Class (DSCP, ECN) */
	bool ip_bad;                 /* an IP header that does not parse */
	/* TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opts;         /* the raw options */
	size_t opts_len;
	const uint8_t *payload;
	size_t payload_len;
	bool csum_ok;
	/* ARP */
	uint16_t arp_op;
	uint32_t arp_spa, arp_tpa;
	uint8_t arp_sha[US_ETH_ALEN];
	/* ICMP/ICMPv6 */
	uint8_t icmp_type, icmp_code;
	const uint8_t *l4;           /* the IP payload */
	size_t l4_len;
};

/* Returns 0 when the frame is Ethernet (the kind says what it carries). */
int us_script_decode(const uint8_t *f, size_t len, struct us_script_frame *out);

/*
 * The numbers that make sequence numbers relative: seq - seq_base and
 * ack - ack_base, as tcpdump and the scripts show them.
 */
struct us_script_rel {
	uint32_t seq_base, ack_base;
};

/* One tcpdump-like line (no time, no newline): "IP 198.51.100.1.40000 >
 * 198.51.100.2.4242: Flags [S], seq 0, win 65535, options [mss 1460],
 * length 0". rel may be NULL (absolute numbers). */
void us_script_format_frame(const struct us_script_frame *fr, const struct us_script_rel *rel,
			    char *buf, size_t cap);

/* A TCP frame as a script line's segment: "S. 0:0(0) ack 1 win 65535
 * <mss 1460>" (relative numbers). */
void us_script_format_seg(const struct us_script_frame *fr, const struct us_script_rel *rel,
			  char *buf, size_t cap);

/* The options bytes in tcpdump's words: "mss 1460,nop,wscale 7". SACK
 * edges are made relative to sack_base; script_style writes them as a
 * script does ("sack 1001:2001"), else as tcpdump ("sack 1 {1001:2001}"). */
void us_script_format_opts(const uint8_t *opts, size_t len, uint32_t sack_base, bool script_style,
			   char *buf, size_t cap);

/* The ECN codepoint's name in scripts ("noecn", "ect1", "ect0", "ce"),
 * and back (-1: no such name). */
const char *us_script_ecn_name(uint8_t ecn);
int us_script_ecn_value(const char *name);

/* "1.040000" (seconds, 6 decimals). */
void us_script_format_time(us_time_t t, char *buf, size_t cap);

/* The data byte at offset k of every stream the runner makes up: the peer's
 * payloads and the data written by the application. */
static inline uint8_t us_script_pattern(uint64_t k)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	return (uint8_t)digits[k % 36];
}

#endif
