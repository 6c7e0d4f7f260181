/* SPDX-License-Identifier: MIT */
/*
 * modules/pcm.h - sample conversion over the circular buffers of the ABI.
 *
 * Header-only and built on the public ABI alone, so each module library
 * carries its own copy, as a third-party module would. A pcm_cursor walks
 * the frames a module got from pt_source_get_data or pt_sink_get_buffer,
 * wrapping at the buffer's end; pcm_get/pcm_put convert between the stream
 * format and interleaved float.
 *
 * Float scale: an integer sample s of b bits maps to s / 2^(b-1), so every
 * integer format spans [-1, 1). Float to integer rounds to nearest (ties to
 * even, the default FP environment) and saturates; float to FLOAT_LE passes
 * values through unclamped. S32_LE goes through float, so it keeps 24 bits
 * of precision in the modules that use this path (the copier does not).
 * S24_4LE is read from the low 24 bits (the top byte is ignored) and written
 * sign-extended to 32 bits.
 */
#ifndef PT_MODULES_PCM_H
#define PT_MODULES_PCM_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <partita/module.h>

/* Frames converted per step: bounds the stack scratch of a module to
 * PCM_CHUNK * PT_CHANNELS_MAX floats whatever the period. */
#define PCM_CHUNK 64

struct pcm_cursor {
	uint8_t *pos;       /* next frame */
	uint8_t *start;     /* circular buffer */
	uint8_t *end;
	unsigned frame;     /* bytes per frame */
	unsigned channels;
	unsigned sample;    /* enum pt_sample_format */
};

/* Starts a cursor over @frames frames readable from @src. Returns 0 or the
 * error of pt_source_get_data (-ENODATA when they are not there). */
static inline int pcm_source_cursor(struct pt_source *src, size_t frames,
				    struct pcm_cursor *c)
{
	const struct pt_format *f = pt_source_format(src);
	const void *data, *start;
	size_t size;
	int ret = pt_source_get_data(src, frames * pt_frame_bytes(f), &data,
				     &start, &size);

	if (ret)
		return ret;
	c->pos = (uint8_t *)data; /* never written through: see pcm_get */
	c->start = (uint8_t *)start;
	c->end = c->start + size;
	c->frame = pt_frame_bytes(f);
	c->channels = f->channels;
	c->sample = f->sample;
	return 0;
}

/* Starts a cursor over @frames frames of free space in @sink. Returns 0 or
 * the error of pt_sink_get_buffer (-ENOSPC when there is no room). */
static inline int pcm_sink_cursor(struct pt_sink *sink, size_t frames,
				  struct pcm_cursor *c)
{
	const struct pt_format *f = pt_sink_format(sink);
	void *data, *start;
	size_t size;
	int ret = pt_sink_get_buffer(sink, frames * pt_frame_bytes(f), &data,
				     &start, &size);

	if (ret)
		return ret;
	c->pos = data;
	c->start = start;
	c->end = c->start + size;
	c->frame = pt_frame_bytes(f);
	c->channels = f->channels;
	c->sample = f->sample;
	return 0;
}

/* Returns the frames that can be accessed at c->pos before the wrap (the
 * buffer holds whole frames, so a frame never straddles the end). */
static inline size_t pcm_run(const struct pcm_cursor *c, size_t frames)
{
	size_t room = (size_t)(c->end - c->pos) / c->frame;

	return room < frames ? room : frames;
}

static inline void pcm_advance(struct pcm_cursor *c, size_t frames)
{
	c->pos += frames * c->frame;
	if (c->pos >= c->end)
		c->pos = c->start;
}

static inline int32_t pcm_s24(int32_t raw)
{
	return (int32_t)((uint32_t)raw << 8) >> 8;
}

/* Float to integer: scale, saturate, round. The comparisons are written so
 * that NaN takes the lower bound. */
static inline int16_t pcm_float_to_s16(float x)
{
	float v = x * 32768.0f;

	if (!(v > -32768.0f))
		return INT16_MIN;
	if (v >= 32767.0f)
		return INT16_MAX;
	return (int16_t)lrintf(v);
}

static inline int32_t pcm_float_to_s24(float x)
{
	float v = x * 8388608.0f;

	if (!(v > -8388608.0f))
		return -8388608;
	if (v >= 8388607.0f)
		return 8388607;
	return (int32_t)lrintf(v);
}

static inline int32_t pcm_float_to_s32(float x)
{
	/* 2^31 - 1 is not a float: anything at or past 2^31 saturates. */
	float v = x * 2147483648.0f;

	if (!(v > -2147483648.0f))
		return INT32_MIN;
	if (v >= 2147483648.0f)
		return INT32_MAX;
	return (int32_t)lrintf(v);
}

/* Converts @n contiguous samples of @sample at @in to float. */
static inline void pcm_to_float(unsigned sample, const void *in, float *out,
				size_t n)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE: {
		const int16_t *s = in;
		for (size_t i = 0; i < n; i++)
			out[i] = (float)s[i] * (1.0f / 32768.0f);
		break;
	}
	case PT_SAMPLE_S24_4LE: {
		const int32_t *s = in;
		for (size_t i = 0; i < n; i++)
			out[i] = (float)pcm_s24(s[i]) * (1.0f / 8388608.0f);
		break;
	}
	case PT_SAMPLE_S32_LE: {
		const int32_t *s = in;
		for (size_t i = 0; i < n; i++)
			out[i] = (float)s[i] * (1.0f / 2147483648.0f);
		break;
	}
	case PT_SAMPLE_FLOAT_LE:
		memcpy(out, in, n * sizeof(float));
		break;
	}
}

/* Converts @n floats to contiguous samples of @sample at @out. */
static inline void pcm_from_float(unsigned sample, const float *in, void *out,
				  size_t n)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE: {
		int16_t *s = out;
		for (size_t i = 0; i < n; i++)
			s[i] = pcm_float_to_s16(in[i]);
		break;
	}
	case PT_SAMPLE_S24_4LE: {
		int32_t *s = out;
		for (size_t i = 0; i < n; i++)
			s[i] = pcm_float_to_s24(in[i]);
		break;
	}
	case PT_SAMPLE_S32_LE: {
		int32_t *s = out;
		for (size_t i = 0; i < n; i++)
			s[i] = pcm_float_to_s32(in[i]);
		break;
	}
	case PT_SAMPLE_FLOAT_LE:
		memcpy(out, in, n * sizeof(float));
		break;
	}
}

/* Reads @frames frames at the cursor as interleaved float into @out and
 * advances past them, following the wrap. */
static inline void pcm_get(struct pcm_cursor *c, float *out, size_t frames)
{
	while (frames) {
		size_t n = pcm_run(c, frames);

		pcm_to_float(c->sample, c->pos, out, n * c->channels);
		out += n * c->channels;
		frames -= n;
		pcm_advance(c, n);
	}
}

/* Writes @frames interleaved float frames from @in at the cursor and
 * advances past them, following the wrap. */
static inline void pcm_put(struct pcm_cursor *c, const float *in, size_t frames)
{
	while (frames) {
		size_t n = pcm_run(c, frames);

		pcm_from_float(c->sample, in, c->pos, n * c->channels);
		in += n * c->channels;
		frames -= n;
		pcm_advance(c, n);
	}
}



/* The check of a module with one input and one output of the same rate and
 * channel count (the sample formats may differ: the module converts).
 * Returns 0 with *@in and *@out set, or -EINVAL after logging what is
 * wrong. */
static inline int pcm_one_to_one(struct pt_module *mod,
				 struct pt_source *const *sources, unsigned nsources,
				 struct pt_sink *const *sinks, unsigned nsinks,
				 const struct pt_format **in,
				 const struct pt_format **out)
{
	if (nsources != 1 || nsinks != 1) {
		pt_log(mod, PT_LOG_ERR, "needs 1 input and 1 output, got %u and %u",
		       nsources, nsinks);
		return -EINVAL;
	}
	*in = pt_source_format(sources[0]);
	*out = pt_sink_format(sinks[0]);
	if ((*in)->rate != (*out)->rate || (*in)->channels != (*out)->channels) {
		pt_log(mod, PT_LOG_ERR,
		       "input %u Hz x%u and output %u Hz x%u differ in rate or channels (src changes the rate)",
		       (*in)->rate, (*in)->channels, (*out)->rate, (*out)->channels);
		return -EINVAL;
	}
	return 0;
}


/* Runs one period of @frames frames from @src to @snk through @fn, a
 * chunk at a time: reads up to PCM_CHUNK frames as interleaved float,
 * calls fn(ctx, buf, n) to change them in place, writes them, and at the
 * end releases and commits the period. The shape of a one-in, one-out
 * module; inlined, so @fn costs no call. */
static inline int pcm_period_in_place(struct pt_source *src, struct pt_sink *snk,
				      uint32_t frames,
				      void (*fn)(void *ctx, float *buf, uint32_t n),
				      void *ctx)
{
	float buf[PCM_CHUNK * PT_CHANNELS_MAX];
	struct pcm_cursor in, out;
	int ret = pcm_source_cursor(src, frames, &in);

	if (!ret)
		ret = pcm_sink_cursor(snk, frames, &out);
	if (ret)
		return ret;
	for (uint32_t done = 0; done < frames;) {
		uint32_t n = frames - done < PCM_CHUNK ? frames - done : PCM_CHUNK;

		pcm_get(&in, buf, n);
		fn(ctx, buf, n);
		pcm_put(&out, buf, n);
		done += n;
	}
	ret = pt_source_release(src, (size_t)frames * in.frame);
	if (!ret)
		ret = pt_sink_commit(snk, (size_t)frames * out.frame);
	return ret;
}

#endif /* PT_MODULES_PCM_H */
