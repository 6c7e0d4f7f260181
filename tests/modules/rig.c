/* SPDX-License-Identifier: MIT */
#include "tests/modules/rig.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <partita/heap.h>

#include "modules/builtin.h"

static void rig_log(void *ctx, const char *instance, int level, const char *line)
{
	struct rig *r = ctx;

	(void)level;
	snprintf(r->log, sizeof(r->log), "%s", line);
	if (getenv("RIG_VERBOSE"))
		fprintf(stderr, "[%s] %s\n", instance, line);
}

int rig_init(struct rig *r, const char *name, uint32_t period,
	     const char *init, size_t heap_size)
{
	const struct pt_module_entry *e = pt_builtin_find(name);

	assert(e && "no such built-in");
	return rig_init_entry(r, e, name, period, init, heap_size);
}

int rig_init_entry(struct rig *r, const struct pt_module_entry *entry,
		   const char *name, uint32_t period, const char *init,
		   size_t heap_size)
{
	char text[512];
	ssize_t len;
	int ret, saved, cap;

	memset(r, 0, sizeof(*r));
	r->entry = entry;
	r->heap_size = heap_size ? heap_size : r->entry->manifest->heap_size;
	r->heap = aligned_alloc(PT_HEAP_ALIGN, (r->heap_size + 15) & ~(size_t)15);
	assert(r->heap);
	r->mod.log = rig_log;
	r->mod.log_ctx = r;
	/* A lib/abi that resets the log sink in pt_module_init sends init's
	 * lines to stderr: catch those too. */
	fflush(stderr);
	saved = dup(2);
	cap = memfd_create("rig-stderr", 0);
	assert(saved >= 0 && cap >= 0);
	dup2(cap, 2);
	ret = pt_module_init(&r->mod, r->entry, name, period, r->heap,
			     r->heap_size, init, init ? strlen(init) : 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	len = pread(cap, text, sizeof(text) - 1, 0);
	close(cap);
	if (len > 0 && !r->log[0]) {
		char *nl;

		text[len] = '\0';
		nl = strchr(text, '\n');
		if (nl)
			*nl = '\0';
		snprintf(r->log, sizeof(r->log), "%s", text);
	}
	r->mod.log = rig_log;
	r->mod.log_ctx = r;
	r->live = ret == 0;
	return ret;
}

static void ring_make(struct rig_ring *b, const struct pt_format *fmt,
		      size_t frames, size_t offset)
{
	b->fmt = *fmt;
	b->frame = pt_frame_bytes(fmt);
	assert(b->frame);
	b->size = frames * b->frame;
	/* Poisoned, so a module reading what was never written shows. */
	b->data = malloc(b->size);
	assert(b->data);
	memset(b->data, 0xa5, b->size);
	b->rd = b->wr = (uint64_t)(offset % frames) * b->frame;
}

void rig_add_in(struct rig *r, const struct pt_format *fmt, size_t frames,
		size_t offset)
{
	assert(r->nin < PT_MAX_PINS);
	ring_make(&r->in[r->nin++], fmt, frames, offset);
}

void rig_add_out(struct rig *r, const struct pt_format *fmt, size_t frames,
		 size_t offset)
{
	assert(r->nout < PT_MAX_PINS);
	ring_make(&r->out[r->nout++], fmt, frames, offset);
}

struct rig_views {
	struct pt_source src[PT_MAX_PINS];
	struct pt_sink sink[PT_MAX_PINS];
	struct pt_source *srcp[PT_MAX_PINS];
	struct pt_sink *sinkp[PT_MAX_PINS];
};

static void rig_views(struct rig *r, struct rig_views *v)
{
	for (unsigned i = 0; i < r->nin; i++) {
		struct rig_ring *b = &r->in[i];

		pt_source_view(&v->src[i], b->data, b->size, b->rd % b->size,
			       (size_t)(b->wr - b->rd), &b->fmt);
		v->srcp[i] = &v->src[i];
	}
	for (unsigned i = 0; i < r->nout; i++) {
		struct rig_ring *b = &r->out[i];

		pt_sink_view(&v->sink[i], b->data, b->size, b->wr % b->size,
			     b->size - (size_t)(b->wr - b->rd), &b->fmt);
		v->sinkp[i] = &v->sink[i];
	}
}

int rig_prepare(struct rig *r)
{
	struct rig_views v;

	if (!r->entry->ops->prepare)
		return 0;
	rig_views(r, &v);
	return r->entry->ops->prepare(&r->mod, v.srcp, r->nin, v.sinkp, r->nout);
}

static void ring_copy(struct rig_ring *b, uint64_t pos, void *buf, size_t bytes,
		      bool to_ring)
{
	uint8_t *p = buf;

	while (bytes) {
		size_t off = pos % b->size, n = b->size - off;

		if (n > bytes)
			n = bytes;
		if (to_ring)
			memcpy(b->data + off, p, n);
		else
			memcpy(p, b->data + off, n);
		p += n;
		pos += n;
		bytes -= n;
	}
}

void rig_push(struct rig *r, unsigned pin, const void *samples, size_t frames)
{
	struct rig_ring *b = &r->in[pin];
	size_t bytes = frames * b->frame;

	assert(b->size - (b->wr - b->rd) >= bytes);
	ring_copy(b, b->wr, (void *)samples, bytes, true);
	b->wr += bytes;
}

size_t rig_pull(struct rig *r, unsigned pin, void *samples, size_t frames)
{
	struct rig_ring *b = &r->out[pin];
	size_t have = (size_t)(b->wr - b->rd) / b->frame;

	if (frames > have)
		frames = have;
	ring_copy(b, b->rd, samples, frames * b->frame, false);
	b->rd += frames * b->frame;
	return frames;
}

bool rig_ready(struct rig *r)
{
	struct rig_views v;

	rig_views(r, &v);
	return pt_module_is_ready(&r->mod, v.srcp, r->nin, v.sinkp, r->nout);
}

int rig_process(struct rig *r)
{
	struct rig_views v;
	int ret;

	rig_views(r, &v);
	ret = r->entry->ops->process(&r->mod, v.srcp, r->nin, v.sinkp, r->nout);
	/* A host moves positions only from what the views recorded. */
	for (unsigned i = 0; i < r->nin; i++) {
		r->last_consumed[i] = v.src[i].consumed;
		r->in[i].rd += v.src[i].consumed;
	}
	for (unsigned i = 0; i < r->nout; i++) {
		r->last_produced[i] = v.sink[i].produced;
		r->out[i].wr += v.sink[i].produced;
	}
	return ret;
}

int rig_set(struct rig *r, const char *text)
{
	if (!r->entry->ops->set_config)
		return -ENOTSUP;
	return r->entry->ops->set_config(&r->mod, PT_PARAM_TEXT, text,
					 strlen(text));
}

int rig_get(struct rig *r, char *text, size_t room)
{
	size_t size = room - 1;
	int ret;

	if (!r->entry->ops->get_config)
		return -ENOTSUP;
	ret = r->entry->ops->get_config(&r->mod, PT_PARAM_TEXT, text, &size);
	text[ret ? 0 : size] = '\0';
	return ret;
}

void rig_free(struct rig *r)
{
	if (r->live)
		pt_module_free(&r->mod);
	r->live = false;
	for (unsigned i = 0; i < r->nin; i++)
		free(r->in[i].data);
	for (unsigned i = 0; i < r->nout; i++)
		free(r->out[i].data);
	free(r->heap);
	r->heap = NULL;
	r->nin = r->nout = 0;
}

void rig_heap_stats(struct rig *r, size_t *peak, size_t *now)
{
	struct pt_heap_stats st;

	pt_heap_stats(r->mod.heap, &st);
	if (peak)
		*peak = st.peak_allocated;
	if (now)
		*now = st.allocated;
}

void rig_push_f(struct rig *r, unsigned pin, const float *x, size_t frames)
{
	assert(r->in[pin].fmt.sample == PT_SAMPLE_FLOAT_LE);
	rig_push(r, pin, x, frames);
}

size_t rig_pull_f(struct rig *r, unsigned pin, float *x, size_t frames)
{
	assert(r->out[pin].fmt.sample == PT_SAMPLE_FLOAT_LE);
	return rig_pull(r, pin, x, frames);
}

size_t rig_run_f(struct rig *r, const float *x, float *y, size_t frames)
{
	uint32_t period = r->mod.period_frames;
	unsigned ch = r->in[0].fmt.channels;
	size_t got = 0;

	assert(frames % period == 0);
	for (size_t done = 0; done < frames; done += period) {
		rig_push_f(r, 0, x + done * ch, period);
		if (!rig_ready(r) || rig_process(r))
			return got;
		got += rig_pull_f(r, 0, y + got * ch, frames - got);
	}
	return got;
}
