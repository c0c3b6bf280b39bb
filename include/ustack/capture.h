/* SPDX-License-Identifier: MIT */
/*
 * ustack/capture.h - writing and reading pcap capture files.
 *
 * The runtime and the packet-script tests record every frame the stack sees
 * and sends in a pcap file that Wireshark and tcpdump open (link type
 * DLT_EN10MB, nanosecond timestamps, the libpcap file format). The reader
 * gives frames back in order with their timestamps, for replay and for
 * tests that check what was written.
 *
 * The code is src/drivers/pcap/capture.c, built on libpcap.
 */
#ifndef USTACK_CAPTURE_H
#define USTACK_CAPTURE_H

#include <ustack/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes kept of each frame: a 64 KB GSO super-frame is kept whole. */
#define US_PCAP_SNAPLEN 262144u

/*
 * The writer. Not thread-safe: calls on one writer must not overlap (the
 * runtime calls it with its core lock held).
 */
struct us_pcap_writer;

/* Creates (truncates) path. Returns the writer, or NULL with *err set to a
 * negative errno (err may be NULL). */
struct us_pcap_writer *us_pcap_writer_open(const char *path, int *err);

/*
 * Timestamps given to us_pcap_writer_write() are microseconds since an
 * origin; the file records origin + ts. The origin is 0 unless set, so a test
 * on a virtual clock writes small timestamps (1970-01-01 in Wireshark). A
 * runtime on the monotonic clock passes the wall-clock time, in microseconds
 * since the epoch, that its monotonic zero corresponds to.
 */
void us_pcap_writer_set_origin(struct us_pcap_writer *w, us_time_t realtime_at_zero_us);

/*
 * Appends one frame. A frame longer than US_PCAP_SNAPLEN is cut there (the
 * record keeps its real length). Returns 0, or a negative errno: -EINVAL for
 * a time before 1970 or a NULL frame with len > 0, -ERANGE for a time past
 * what the format holds (2106), -EIO when the file cannot be written.
 */
int us_pcap_writer_write(struct us_pcap_writer *w, us_time_t ts, const uint8_t *frame, size_t len);

/*
 * The same for a frame whose checksum the link completes (TAP offloads:
 * struct us_frame's csum_partial, struct us_rx_meta's csum_partial): the
 * field at csum_start + csum_offset holds the pseudo-header sum. It is
 * completed in a copy, so the record shows what the segments carry on a
 * wire and Wireshark reports no bad checksum. A frame too short for the
 * offsets, or over 64 KB + 256, is written as it is.
 */
int us_pcap_writer_write_partial(struct us_pcap_writer *w, us_time_t ts, const uint8_t *frame,
				 size_t len, uint16_t csum_start, uint16_t csum_offset);

/* Pushes buffered records to the file. Returns 0 or a negative errno. */
int us_pcap_writer_flush(struct us_pcap_writer *w);

/*
 * Rotation, as `tcpdump -C -W`: once writing a record would take the file
 * past max_bytes (header included), the file is closed and renamed path.1,
 * the previous path.1 becomes path.2 and so on; at most max_files files exist
 * (path itself and path.1 ... path.<max_files-1>), the oldest is deleted. A
 * file always takes at least one record, however large. max_bytes 0 turns
 * rotation off (the default). Returns 0, or -EINVAL when max_bytes is set but
 * max_files is 0.
 */
int us_pcap_writer_set_limit(struct us_pcap_writer *w, uint64_t max_bytes, unsigned max_files);

/* Flushes and closes the file, and frees w. NULL is a no-op. */
void us_pcap_writer_close(struct us_pcap_writer *w);

/* The reader. */
struct us_pcap_reader;

/* Opens a pcap file. Returns the reader, or NULL with *err set (err may be
 * NULL): -ENOENT and the like from the OS, -EINVAL when the file is not a
 * pcap file, -EPROTO when its link type is not Ethernet (DLT_EN10MB). */
struct us_pcap_reader *us_pcap_reader_open(const char *path, int *err);

/*
 * The next frame: returns 1 and sets *ts (the recorded time in microseconds
 * since the epoch: a file written with origin 0 gives back the writer's ts
 * unchanged; nanoseconds are truncated), *data and *len (the bytes captured,
 * which may be fewer than were on the wire when the capture cut them);
 * returns 0 at the end of the file, or a negative errno (-EIO for a damaged
 * file). *data stays valid until the next call on r.
 */
int us_pcap_reader_next(struct us_pcap_reader *r, us_time_t *ts, const uint8_t **data, size_t *len);

/* Closes the file and frees r. NULL is a no-op. */
void us_pcap_reader_close(struct us_pcap_reader *r);

#ifdef __cplusplus
}
#endif
#endif
