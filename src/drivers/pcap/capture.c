/* SPDX-License-Identifier: MIT */
/*
 * drivers/pcap/capture.c - pcap capture files, written and read with libpcap.
 *
 * Implements ustack/capture.h. The file format is the classic libpcap one
 * (draft-ietf-opsawg-pcap): a 24-byte file header, then per frame a 16-byte
 * record header (seconds, sub-second part, captured length, wire length) and
 * the bytes. The writer uses the nanosecond variant (magic 0xa1b23c4d), so the
 * sub-second field holds nanoseconds; libpcap's pcap_dump() copies
 * pcap_pkthdr.ts.tv_usec there as given, so we put nanoseconds in it.
 *
 * Read first: include/ustack/capture.h, then pcap_dump(3PCAP) and
 * pcap_next_ex(3PCAP).
 */
#include <ustack/capture.h>

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"

#define FILE_HDR_BYTES 24u   /* struct pcap_file_header */
#define RECORD_HDR_BYTES 16u /* the on-disk record header */
#define USEC_PER_SEC 1000000

struct us_pcap_writer {
	pcap_t *dead;          /* a capture handle with no device: link type and precision */
	pcap_dumper_t *dumper; /* the open file; NULL after a failed rotation */
	char *path;
	us_time_t origin_us;
	uint64_t max_bytes;    /* 0: no rotation */
	unsigned max_files;
	uint64_t file_bytes;   /* bytes in the current file, header included */
	uint64_t file_records;
	uint8_t *copy;         /* us_pcap_writer_write_partial(): US_PBUF_LARGE bytes */
};

struct us_pcap_reader {
	pcap_t *pcap;
};

/* (Re)creates w->path and writes the file header. */
static int open_file(struct us_pcap_writer *w)
{
	FILE *f = fopen(w->path, "wbe");

	if (!f)
		return -errno;
	/*
	 * For DLT_EN10MB pcap_dump_fopen() fails only when writing the file
	 * header fails, and then it has closed f itself.
	 */
	w->dumper = pcap_dump_fopen(w->dead, f);
	if (!w->dumper)
		return -EIO;
	w->file_bytes = FILE_HDR_BYTES;
	w->file_records = 0;
	return 0;
}

static int close_file(struct us_pcap_writer *w)
{
	int err = 0;

	if (!w->dumper)
		return 0;
	if (pcap_dump_flush(w->dumper) != 0 || ferror(pcap_dump_file(w->dumper)))
		err = -EIO;
	pcap_dump_close(w->dumper);
	w->dumper = NULL;
	return err;
}

struct us_pcap_writer *us_pcap_writer_open(const char *path, int *err)
{
	struct us_pcap_writer *w;
	int e = -ENOMEM;

	if (!path || !*path) {
		e = -EINVAL;
		goto fail;
	}
	w = calloc(1, sizeof *w);
	if (!w)
		goto fail;
	w->path = strdup(path);
	w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)US_PCAP_SNAPLEN,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (w->path && w->dead) {
		e = open_file(w);
		if (e == 0)
			return w;
	}
	if (w->dead)
		pcap_close(w->dead);
	free(w->path);
	free(w);
fail:
	if (err)
		*err = e;
	return NULL;
}

void us_pcap_writer_set_origin(struct us_pcap_writer *w, us_time_t realtime_at_zero_us)
{
	w->origin_us = realtime_at_zero_us;
}

int us_pcap_writer_set_limit(struct us_pcap_writer *w, uint64_t max_bytes, unsigned max_files)
{
	if (max_bytes && !max_files)
		return -EINVAL;
	w->max_bytes = max_bytes;
	w->max_files = max_files;
	return 0;
}

/* path.N for N >= 1, path itself for 0. */
static int numbered_name(char *buf, size_t cap, const char *path, unsigned n)
{
	int len = n ? snprintf(buf, cap, "%s.%u", path, n) : snprintf(buf, cap, "%s", path);

	return len < 0 || (size_t)len >= cap ? -ENAMETOOLONG : 0;
}

/* path.<max_files-2> -> path.<max_files-1>, ..., path -> path.1 (rename()
 * replaces the oldest), then a fresh path. */
static int rotate(struct us_pcap_writer *w)
{
	size_t cap = strlen(w->path) + 16;
	char *from = malloc(cap), *to = malloc(cap);
	int err = close_file(w);

	if (!from || !to) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned n = w->max_files - 1; n >= 1 && !err; n--) {
		err = numbered_name(from, cap, w->path, n - 1);
		if (!err)
			err = numbered_name(to, cap, w->path, n);
		if (!err && rename(from, to) != 0 && errno != ENOENT)
			err = -errno;
	}
	if (!err)
		err = open_file(w);
out:
	free(from);
	free(to);
	return err;
}

int us_pcap_writer_write(struct us_pcap_writer *w, us_time_t ts, const uint8_t *frame, size_t len)
{
	struct pcap_pkthdr hdr;
	us_time_t t;
	uint32_t caplen;
	int err;

	if ((!frame && len) || len > UINT32_MAX)
		return -EINVAL;
	if ((w->origin_us > 0 && ts > INT64_MAX - w->origin_us) ||
	    (w->origin_us < 0 && ts < INT64_MIN - w->origin_us))
		return -ERANGE;
	t = w->origin_us + ts;
	if (t < 0)
		return -EINVAL;
	/* The record's seconds field is 32 bits, unsigned. */
	if (t / USEC_PER_SEC > (us_time_t)UINT32_MAX)
		return -ERANGE;

	caplen = len > US_PCAP_SNAPLEN ? US_PCAP_SNAPLEN : (uint32_t)len;
	if (w->max_bytes && w->file_records > 0 &&
	    w->file_bytes + RECORD_HDR_BYTES + caplen > w->max_bytes) {
		err = rotate(w);
		if (err)
			return err;
	}
	if (!w->dumper)
		return -EIO;

	memset(&hdr, 0, sizeof hdr);
	hdr.ts.tv_sec = (time_t)(t / USEC_PER_SEC);
	hdr.ts.tv_usec = (suseconds_t)(t % USEC_PER_SEC * 1000); /* nanoseconds, see above */
	hdr.caplen = caplen;
	hdr.len = (uint32_t)len;
	pcap_dump((u_char *)w->dumper, &hdr, frame);
	if (ferror(pcap_dump_file(w->dumper)))
		return -EIO;
	w->file_bytes += RECORD_HDR_BYTES + caplen;
	w->file_records++;
	return 0;
}

int us_pcap_writer_write_partial(struct us_pcap_writer *w, us_time_t ts, const uint8_t *frame,
				 size_t len, uint16_t csum_start, uint16_t csum_offset)
{
	if (!frame || len > US_PBUF_LARGE || (size_t)csum_start + csum_offset + 2 > len)
		return us_pcap_writer_write(w, ts, frame, len);
	if (!w->copy && !(w->copy = malloc(US_PBUF_LARGE)))
		return us_pcap_writer_write(w, ts, frame, len);
	memcpy(w->copy, frame, len);
	/* The field holds the pseudo-header sum (virtio 1.x §5.1.6.2): the
	 * sum over it and the rest, folded and complemented, completes it. */
	uint8_t *l4 = w->copy + csum_start;
	us_put_be16(l4 + csum_offset, us_csum_fold(us_csum_partial(l4, len - csum_start, 0)));
	return us_pcap_writer_write(w, ts, w->copy, len);
}

int us_pcap_writer_flush(struct us_pcap_writer *w)
{
	if (!w->dumper)
		return -EIO;
	if (pcap_dump_flush(w->dumper) != 0 || ferror(pcap_dump_file(w->dumper)))
		return -EIO;
	return 0;
}

void us_pcap_writer_close(struct us_pcap_writer *w)
{
	if (!w)
		return;
	close_file(w);
	pcap_close(w->dead);
	free(w->path);
	free(w->copy);
	free(w);
}

struct us_pcap_reader *us_pcap_reader_open(const char *path, int *err)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct us_pcap_reader *r;
	pcap_t *p;
	FILE *f;
	int e;

	if (!path || !*path) {
		e = -EINVAL;
		goto fail;
	}
	f = fopen(path, "rbe");
	if (!f) {
		e = -errno;
		goto fail;
	}
	/* On failure the f variant leaves f open (pcap_open_offline closes it). */
	p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p) {
		fclose(f);
		e = -EINVAL;
		goto fail;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		pcap_close(p);
		e = -EPROTO;
		goto fail;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		pcap_close(p);
		e = -ENOMEM;
		goto fail;
	}
	r->pcap = p;
	return r;
fail:
	if (err)
		*err = e;
	return NULL;
}

int us_pcap_reader_next(struct us_pcap_reader *r, us_time_t *ts, const uint8_t **data, size_t *len)
{
	struct pcap_pkthdr *hdr;
	const u_char *bytes;

	switch (pcap_next_ex(r->pcap, &hdr, &bytes)) {
	case 1:
		break;
	case PCAP_ERROR_BREAK: /* -2: no more records */
		return 0;
	default:
		return -EIO;
	}
	/* The file's seconds are unsigned 32 bits; libpcap may sign-extend them. */
	*ts = (us_time_t)(uint32_t)hdr->ts.tv_sec * USEC_PER_SEC + hdr->ts.tv_usec / 1000;
	*data = bytes;
	*len = hdr->caplen;
	return 1;
}

void us_pcap_reader_close(struct us_pcap_reader *r)
{
	if (!r)
		return;
	pcap_close(r->pcap);
	free(r);
}
