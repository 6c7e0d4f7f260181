/* SPDX-License-Identifier: MIT */
/* host/trace - trace-event JSON (see trace.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/trace/trace.h"

#define TRACE_NAME_MAX 48
#define TRACE_TRACKS_MAX 1024

struct span {
	uint64_t start_ns, dur_ns;
	int tid;
	char name[TRACE_NAME_MAX];
};

struct track {
	int tid;
	char name[TRACE_NAME_MAX * 2];
};

struct pt_trace {
	pthread_mutex_t lock;
	FILE *f;
	struct span *spans;
	size_t nspans, cap;
	struct track tracks[TRACE_TRACKS_MAX];
	size_t ntracks;
	uint64_t base_ns; /* when the trace opened: timestamps count from it */
	int pid;
};

FILE *pt_report_fopen(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC,
		      0666);
	FILE *f;

	if (fd < 0)
		return NULL;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

struct pt_trace *pt_trace_open(const char *path, char *err, size_t errlen)
{
	struct pt_trace *t = calloc(1, sizeof(*t));
	struct timespec now;

	if (!t) {
		snprintf(err, errlen, "out of host memory");
		return NULL;
	}
	t->f = pt_report_fopen(path);
	if (!t->f) {
		snprintf(err, errlen, "cannot write trace '%s': %s", path,
			 errno == ENXIO ? "a FIFO that nobody reads" : strerror(errno));
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->pid = (int)getpid();
	clock_gettime(CLOCK_MONOTONIC, &now);
	t->base_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	return t;
}

void pt_trace_track(struct pt_trace *t, int tid, const char *name)
{
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < t->ntracks; i++) {
		if (t->tracks[i].tid == tid) {
			snprintf(t->tracks[i].name, sizeof(t->tracks[i].name),
				 "%s", name);
			pthread_mutex_unlock(&t->lock);
			return;
		}
	}
	if (t->ntracks < TRACE_TRACKS_MAX) {
		t->tracks[t->ntracks].tid = tid;
		snprintf(t->tracks[t->ntracks].name,
			 sizeof(t->tracks[t->ntracks].name), "%s", name);
		t->ntracks++;
	}
	pthread_mutex_unlock(&t->lock);
}

void pt_trace_span(struct pt_trace *t, int tid, const char *name,
		   uint64_t start_ns, uint64_t dur_ns)
{
	struct span *s;

	pthread_mutex_lock(&t->lock);
	if (t->nspans == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		struct span *n = realloc(t->spans, cap * sizeof(*n));

		if (!n) { /* keep what we have; the file says how many */
			pthread_mutex_unlock(&t->lock);
			return;
		}
		t->spans = n;
		t->cap = cap;
	}
	s = &t->spans[t->nspans++];
	s->start_ns = start_ns;
	s->dur_ns = dur_ns;
	s->tid = tid;
	snprintf(s->name, sizeof(s->name), "%s", name);
	pthread_mutex_unlock(&t->lock);
}

size_t pt_trace_spans(const struct pt_trace *t)
{
	return t->nspans;
}

void pt_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int pt_trace_close(struct pt_trace *t)
{
	int ret = 0;

	if (!t)
		return 0;
	fprintf(t->f, "{\"displayTimeUnit\": \"ns\", \"traceEvents\": [\n");
	fprintf(t->f, "{\"name\": \"process_name\", \"ph\": \"M\", \"ts\": 0, \"pid\": %d, "
		      "\"tid\": 0, \"args\": {\"name\": \"partita\"}}", t->pid);
	for (size_t i = 0; i < t->ntracks; i++) {
		fprintf(t->f, ",\n{\"name\": \"thread_name\", \"ph\": \"M\", \"ts\": 0, "
			      "\"pid\": %d, \"tid\": %d, \"args\": {\"name\": ",
			t->pid, t->tracks[i].tid);
		pt_json_string(t->f, t->tracks[i].name);
		fprintf(t->f, "}}");
	}
	for (size_t i = 0; i < t->nspans; i++) {
		const struct span *s = &t->spans[i];

		fprintf(t->f, ",\n{\"name\": ");
		pt_json_string(t->f, s->name);
		/* Timestamps are microseconds with nanosecond decimals. */
		fprintf(t->f, ", \"ph\": \"X\", \"ts\": %.3f, \"dur\": %.3f, "
			      "\"pid\": %d, \"tid\": %d}",
			(double)(int64_t)(s->start_ns - t->base_ns) / 1e3,
			(double)s->dur_ns / 1e3, t->pid, s->tid);
	}
	fprintf(t->f, "\n]}\n");
	if (ferror(t->f))
		ret = -EIO;
	if (fclose(t->f))
		ret = -errno;
	pthread_mutex_destroy(&t->lock);
	free(t->spans);
	free(t);
	return ret;
}
