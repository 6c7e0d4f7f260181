/* SPDX-License-Identifier: MIT */
/*
 * host/trace - a trace-event JSON file (the format chrome://tracing and the
 * Perfetto UI open): one complete event ("ph": "X") per span, one track per
 * thread id, named with metadata events. Spans may come from any thread;
 * they are buffered in memory and written at close, so tracing adds no I/O
 * to a period.
 */
#ifndef PT_HOST_TRACE_H
#define PT_HOST_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pt_trace;

/* fopen(@path, "w") for a report (a trace, the stats), except that a FIFO
 * nobody reads fails at once (ENXIO) instead of waiting for a reader. */
FILE *pt_report_fopen(const char *path);

/* Creates @path for writing. Returns NULL with @err set. */
struct pt_trace *pt_trace_open(const char *path, char *err, size_t errlen);

/* Names track @tid (e.g. "host LL pass", "domain gain1 (pid 1234)"). */
void pt_trace_track(struct pt_trace *t, int tid, const char *name);

/* Records a span @name on track @tid from @start_ns for @dur_ns
 * (CLOCK_MONOTONIC). @name is copied. Thread-safe. */
void pt_trace_span(struct pt_trace *t, int tid, const char *name,
		   uint64_t start_ns, uint64_t dur_ns);

/* Returns the spans recorded so far. */
size_t pt_trace_spans(const struct pt_trace *t);

/* Writes @s to @f as a JSON string literal, quotes and escapes included. */
void pt_json_string(FILE *f, const char *s);

/* Writes the file and frees @t. Returns 0 or -errno. */
int pt_trace_close(struct pt_trace *t);

#endif
