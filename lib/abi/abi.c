/* SPDX-License-Identifier: MIT */
/* The module ABI's functions: views, module services, text parameters. */
#include "lib/abi/abi.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partita/heap.h>

void pt_source_view(struct pt_source *src, const void *base, size_t size,
		    size_t offset, size_t avail, const struct pt_format *fmt)
{
	*src = (struct pt_source){ .base = base, .size = size, .offset = offset,
				   .avail = avail, .frame = pt_frame_bytes(fmt),
				   .fmt = *fmt };
}

void pt_sink_view(struct pt_sink *sink, void *base, size_t size, size_t offset,
		  size_t free, const struct pt_format *fmt)
{
	*sink = (struct pt_sink){ .base = base, .size = size, .offset = offset,
				  .free = free, .frame = pt_frame_bytes(fmt),
				  .fmt = *fmt };
}

size_t pt_source_available(const struct pt_source *src)
{
	return src->avail - src->consumed;
}

size_t pt_source_frames_available(const struct pt_source *src)
{
	return src->frame ? pt_source_available(src) / src->frame : 0;
}

int pt_source_get_data(struct pt_source *src, size_t req, const void **data,
		       const void **buf_start, size_t *buf_size)
{
	if (!src || !data || !buf_start || !buf_size)
		return -EINVAL;
	if (req > pt_source_available(src))
		return -ENODATA;
	*data = src->base + (src->offset + src->consumed) % src->size;
	*buf_start = src->base;
	*buf_size = src->size;
	return 0;
}

int pt_source_release(struct pt_source *src, size_t bytes)
{
	if (bytes > pt_source_available(src) || (src->frame && bytes % src->frame))
		return -EINVAL;
	src->consumed += bytes;
	return 0;
}

const struct pt_format *pt_source_format(const struct pt_source *src)
{
	return &src->fmt;
}

size_t pt_sink_free_size(const struct pt_sink *sink)
{
	return sink->free - sink->produced;
}

size_t pt_sink_frames_free(const struct pt_sink *sink)
{
	return sink->frame ? pt_sink_free_size(sink) / sink->frame : 0;
}

int pt_sink_get_buffer(struct pt_sink *sink, size_t req, void **data,
		       void **buf_start, size_t *buf_size)
{
	if (!sink || !data || !buf_start || !buf_size)
		return -EINVAL;
	if (req > pt_sink_free_size(sink))
		return -ENOSPC;
	*data = sink->base + (sink->offset + sink->produced) % sink->size;
	*buf_start = sink->base;
	*buf_size = sink->size;
	return 0;
}

int pt_sink_commit(struct pt_sink *sink, size_t bytes)
{
	if (bytes > pt_sink_free_size(sink) || (sink->frame && bytes % sink->frame))
		return -EINVAL;
	sink->produced += bytes;
	return 0;
}

const struct pt_format *pt_sink_format(const struct pt_sink *sink)
{
	return &sink->fmt;
}

static int check_alignment(uint32_t byte_align, uint32_t frame_align)
{
	if (byte_align == 0 || byte_align > PT_BUFFER_ALIGN ||
	    (byte_align & (byte_align - 1)) || frame_align == 0)
		return -EINVAL;
	return 0;
}

int pt_source_set_alignment(struct pt_source *src, uint32_t byte_align,
			    uint32_t frame_align)
{
	if (!src || check_alignment(byte_align, frame_align))
		return -EINVAL;
	src->byte_align = byte_align;
	src->frame_align = frame_align;
	return 0;
}

int pt_sink_set_alignment(struct pt_sink *sink, uint32_t byte_align,
			  uint32_t frame_align)
{
	if (!sink || check_alignment(byte_align, frame_align))
		return -EINVAL;
	sink->byte_align = byte_align;
	sink->frame_align = frame_align;
	return 0;
}

int pt_sink_set_format(struct pt_sink *sink, const struct pt_format *fmt)
{
	size_t size;

	if (!sink || !fmt)
		return -EINVAL;
	if (!sink->in_prepare)
		return -EBUSY;
	if (!pt_format_valid(fmt) || fmt->rate != sink->fmt.rate)
		return -EINVAL;
	if (fmt->sample != sink->fmt.sample &&
	    !(sink->open_fields & PT_FMT_OPEN_SAMPLE))
		return -EINVAL;
	if (fmt->channels != sink->fmt.channels &&
	    !(sink->open_fields & PT_FMT_OPEN_CHANNELS))
		return -EINVAL;
	/* The buffer keeps its depth in frames; the new frames must fit the
	 * memory behind it. */
	size = sink->size / sink->frame * pt_frame_bytes(fmt);
	if (size > (sink->capacity ? sink->capacity : sink->size))
		return -EINVAL;
	/* In prepare the buffer is empty: all of it is free. */
	sink->size = size;
	sink->offset = 0;
	sink->free = size;
	sink->produced = 0;
	sink->fmt = *fmt;
	sink->frame = pt_frame_bytes(fmt);
	sink->format_set = 1;
	return 0;
}

int pt_sink_fill_silence(struct pt_sink *sink, size_t frames)
{
	size_t bytes = frames * sink->frame, pos;

	if (bytes > pt_sink_free_size(sink))
		return -ENOSPC;
	pos = (sink->offset + sink->produced) % sink->size;
	for (size_t left = bytes; left;) {
		size_t n = sink->size - pos < left ? sink->size - pos : left;
		memset(sink->base + pos, 0, n);
		left -= n;
		pos = 0;
	}
	sink->produced += bytes;
	return 0;
}

int pt_copy_stream(struct pt_source *src, struct pt_sink *sink, size_t bytes)
{
	size_t rd, wr;

	if (bytes > pt_source_available(src) || bytes > pt_sink_free_size(sink) ||
	    src->frame != sink->frame)
		return -EINVAL;
	rd = (src->offset + src->consumed) % src->size;
	wr = (sink->offset + sink->produced) % sink->size;
	for (size_t left = bytes; left;) {
		size_t n = left;
		if (n > src->size - rd)
			n = src->size - rd;
		if (n > sink->size - wr)
			n = sink->size - wr;
		memcpy(sink->base + wr, src->base + rd, n);
		rd = (rd + n) % src->size;
		wr = (wr + n) % sink->size;
		left -= n;
	}
	src->consumed += bytes;
	sink->produced += bytes;
	return 0;
}

static size_t aligned_frames(size_t n, uint32_t align)
{
	return align > 1 ? n - n % align : n;
}

bool pt_default_ready(uint32_t frames, struct pt_source *const *sources,
		      unsigned nsources, struct pt_sink *const *sinks,
		      unsigned nsinks)
{
	/* A pin with a frame alignment counts only whole multiples of it. */
	for (unsigned i = 0; i < nsources; i++)
		if (aligned_frames(pt_source_frames_available(sources[i]),
				   sources[i]->frame_align) < frames)
			return false;
	for (unsigned i = 0; i < nsinks; i++)
		if (aligned_frames(pt_sink_frames_free(sinks[i]),
				   sinks[i]->frame_align) < frames)
			return false;
	return true;
}

bool pt_module_is_ready(struct pt_module *mod, struct pt_source *const *sources,
			unsigned nsources, struct pt_sink *const *sinks,
			unsigned nsinks)
{
	if (mod->ops.is_ready)
		return mod->ops.is_ready(mod, sources, nsources, sinks, nsinks);
	return pt_default_ready(mod->period_frames, sources, nsources, sinks,
				nsinks);
}

int pt_module_init(struct pt_module *mod, const struct pt_module_entry *entry,
		   const char *name, uint32_t period_frames, void *heap_block,
		   size_t heap_size, const void *init, size_t init_size)
{
	pt_log_fn log = mod->log;
	void *log_ctx = mod->log_ctx;
	const void *payload = mod->init_payload;
	size_t payload_size = mod->init_payload_size;

	/* The caller may have set the log sink and the binary init payload
	 * before; they survive. */
	memset(mod, 0, sizeof(*mod));
	mod->log = log;
	mod->log_ctx = log_ctx;
	mod->init_payload = payload;
	mod->init_payload_size = payload_size;
	mod->entry = entry;
	if (pt_module_ops_copy(entry, &mod->ops))
		return -EPROTO;
	mod->period_frames = period_frames;
	snprintf(mod->name, sizeof(mod->name), "%s", name);
	mod->heap = pt_heap_init(heap_block, heap_size);
	if (!mod->heap)
		return -ENOMEM;
	if (mod->ops.init)
		return mod->ops.init(mod, init, init_size);
	return 0;
}

int pt_module_ops_copy(const struct pt_module_entry *entry,
		       struct pt_module_ops *ops)
{
	uint32_t version = entry->manifest->abi_version;

	memset(ops, 0, sizeof(*ops));
	if (!pt_abi_version_supported(version))
		return -EPROTO;
	memcpy(ops, entry->ops,
	       version == 1 ? offsetof(struct pt_module_ops, bind) : sizeof(*ops));
	return 0;
}

void pt_module_free(struct pt_module *mod)
{
	if (mod->entry && mod->ops.free)
		mod->ops.free(mod);
	mod->entry = NULL;
}

void pt_mod_init_payload(const struct pt_module *mod, const void **data,
			 size_t *size)
{
	*data = mod->init_payload;
	*size = mod->init_payload ? mod->init_payload_size : 0;
}

uint32_t pt_mod_processing_mode(const struct pt_module *mod)
{
	return mod->mode;
}

void pt_mod_set_latency(struct pt_module *mod, uint32_t frames)
{
	/* At most 10 s at the highest rate, what a domain's completion may
	 * carry (a larger one would be taken for a lie): trusted and
	 * isolated report the same. */
	if (frames > 10u * PT_RATE_MAX)
		frames = 10u * PT_RATE_MAX;
	mod->latency_frames = frames;
}

void *pt_mod_alloc(struct pt_module *mod, size_t size)
{
	return pt_heap_alloc(mod->heap, size);
}

void pt_mod_free(struct pt_module *mod, void *ptr)
{
	if (ptr)
		pt_heap_free(mod->heap, ptr);
}

void *pt_mod_priv(const struct pt_module *mod)
{
	return mod->priv;
}

void pt_mod_set_priv(struct pt_module *mod, void *priv)
{
	mod->priv = priv;
}

uint32_t pt_mod_period_frames(const struct pt_module *mod)
{
	return mod->period_frames;
}

const char *pt_mod_name(const struct pt_module *mod)
{
	return mod->name;
}

void pt_log(struct pt_module *mod, int level, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (mod->log)
		mod->log(mod->log_ctx, mod->name, level, line);
	else
		fprintf(stderr, "%s: %s\n", mod->name, line);
}

/* ---- text parameters ---- */

static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' ||
	       c == '\0';
}

/* Finds @key's value in the blob; returns its start and sets *@len. */
const char *pt_abi_text_item(const char **s, const char *end, const char **eq)
{
	const char *item;

	while (*s < end && is_sep(**s))
		(*s)++;
	item = *s;
	while (*s < end && !is_sep(**s))
		(*s)++;
	*eq = memchr(item, '=', (size_t)(*s - item));
	return item;
}

static const char *param_find(const void *blob, size_t size, const char *key,
			      size_t *len)
{
	const char *s = blob, *end = s + size;
	size_t klen = strlen(key);

	if (!blob)
		return NULL;
	while (s < end) {
		const char *eq, *item = pt_abi_text_item(&s, end, &eq);

		if (eq && (size_t)(eq - item) == klen && !memcmp(item, key, klen)) {
			*len = (size_t)(s - eq - 1);
			return eq + 1;
		}
	}
	return NULL;
}

static int parse_number(const char *s, size_t len, double *out)
{
	char tmp[64], *end;

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	if (*end || errno || !isfinite(*out))
		return -EINVAL;
	return 0;
}

int pt_param_double(const void *blob, size_t size, const char *key, double *out)
{
	size_t len;
	const char *v = param_find(blob, size, key, &len);

	if (!v)
		return -ENOENT;
	return parse_number(v, len, out);
}

int pt_param_doubles(const void *blob, size_t size, const char *key, double *out,
		     size_t max)
{
	size_t len, n = 0;
	const char *v = param_find(blob, size, key, &len), *end;

	if (!v)
		return -ENOENT;
	end = v + len;
	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *stop = comma ? comma : end;
		int ret;

		if (n == max)
			return -E2BIG;
		ret = parse_number(v, (size_t)(stop - v), &out[n]);
		if (ret)
			return ret;
		n++;
		v = comma ? comma + 1 : end;
	}
	return (int)n;
}

int pt_param_string(const void *blob, size_t size, const char *key, char *out,
		    size_t max)
{
	size_t len;
	const char *v = param_find(blob, size, key, &len);

	if (!v)
		return -ENOENT;
	if (len + 1 > max)
		return -E2BIG;
	memcpy(out, v, len);
	out[len] = '\0';
	return (int)len;
}
