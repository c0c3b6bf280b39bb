/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns.c - libFuzzer target over the DNS answer parser (src/api/dns.c).
 *
 * The input is an answer from a hostile name server. The parser is asked
 * for it as the answer to the query it echoes (the ID and question are taken
 * from the input itself, so the fuzzer gets past those checks), then as the
 * answer to a fixed query; CNAME chains are followed on what parses.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct us_dns_question q = { 0 };
	struct us_dns_msg m;
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;

	/* The question as the input echoes it: name up to the first zero label. */
	size_t at = 12, n = 0;
	while (at < size && data[at] != 0 && data[at] < 64 && n + data[at] + 1 < sizeof q.name) {
		size_t l = data[at];
		if (at + 1 + l > size)
			break;
		memcpy(q.name + n, data + at, l + 1);
		n += l + 1;
		at += l + 1;
	}
	q.name[n++] = 0;
	q.name_len = n;
	q.qtype = 1;
	q.qclass = 1;
	if (us_dns_response_parse(data, size, id, &q, &m) == 0) {
		const uint8_t *canon;
		size_t canon_len;
		us_dns_cname_chain(&m, &canon, &canon_len);
	}
	q.qtype = 28;
	us_dns_response_parse(data, size, id, &q, &m);

	struct us_dns_question fixed = { 0 };
	if (us_dns_name_from_text("www.example.com", fixed.name, &fixed.name_len) == 0) {
		fixed.qtype = 1;
		fixed.qclass = 1;
		us_dns_response_parse(data, size, 0x1234, &fixed, &m);
	}
	return 0;
}
