/* SPDX-License-Identifier: MIT */
/*
 * A template Partita module: scales its input by gain_db. Copy this folder,
 * rename the module (NAME in the Makefile, .name and .uuid below) and
 * replace process() with your DSP.
 *
 * It handles every sample format, 1..8 channels, one period per call, and
 * takes gain_db both at init (topology `params: {gain_db: -6}`) and at run
 * time (`partita ctl --socket S set-config INSTANCE gain_db=-12`).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <partita/module.h>
#include <partita/params.h>

struct scale {
	double gain_db;
	double gain; /* linear */
};

/* Every key the module takes: any other is refused, so a misspelt one
 * (gain_bd=-6) is an error, not silently ignored. */
static const char *const scale_keys[] = { "gain_db", NULL };

/* Reads the parameters in a text blob into @s; an absent key leaves its
 * value. On a refusal (logged, naming the key) nothing changes. */
static int read_params(struct pt_module *mod, struct scale *s,
		       const void *blob, size_t size)
{
	double db = s->gain_db;
	int ret = pt_params_known(mod, blob, size, scale_keys);

	if (!ret)
		ret = pt_params_number(mod, blob, size, "gain_db", -120.0, 24.0, &db);
	if (ret < 0)
		return ret;
	s->gain_db = db;
	s->gain = pow(10.0, db / 20.0);
	return 0;
}

static int scale_init(struct pt_module *mod, const void *data, size_t size)
{
	struct scale *s = pt_mod_alloc(mod, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->gain_db = 0.0;
	s->gain = 1.0;
	ret = read_params(mod, s, data, size);
	if (ret) {
		pt_mod_free(mod, s);
		return ret;
	}
	pt_mod_set_priv(mod, s);
	return 0;
}

static int scale_set_config(struct pt_module *mod, uint32_t param,
			    const void *data, size_t size)
{
	struct scale *s = pt_mod_priv(mod), next;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	next = *s;
	ret = read_params(mod, &next, data, size);
	if (!ret)
		*s = next; /* all or nothing */
	return ret;
}

static int scale_get_config(struct pt_module *mod, uint32_t param, void *data,
			    size_t *size)
{
	const struct scale *s = pt_mod_priv(mod);
	int n;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	n = snprintf(data, *size, "gain_db=%.3f", s->gain_db);
	if (n < 0 || (size_t)n >= *size)
		return -ENOSPC;
	*size = (size_t)n;
	return 0;
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Scales one sample of format @fmt in place from @in to @out. */
static void scale_sample(unsigned fmt, const uint8_t *in, uint8_t *out, double g)
{
	int16_t s16;
	int32_t s32;
	float f;

	switch (fmt) {
	case PT_SAMPLE_S16_LE:
		memcpy(&s16, in, 2);
		s16 = (int16_t)lrint(clamp(s16 * g, -32768.0, 32767.0));
		memcpy(out, &s16, 2);
		break;
	case PT_SAMPLE_S24_4LE:
		memcpy(&s32, in, 4);
		s32 = (int32_t)((uint32_t)s32 << 8) >> 8; /* sign-extend 24 bits */
		s32 = (int32_t)lrint(clamp(s32 * g, -8388608.0, 8388607.0));
		memcpy(out, &s32, 4);
		break;
	case PT_SAMPLE_S32_LE:
		memcpy(&s32, in, 4);
		s32 = (int32_t)llrint(clamp(s32 * g, -2147483648.0, 2147483647.0));
		memcpy(out, &s32, 4);
		break;
	case PT_SAMPLE_FLOAT_LE:
		memcpy(&f, in, 4);
		f = (float)(f * g);
		memcpy(out, &f, 4);
		break;
	}
}

static int scale_process(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	const struct scale *s = pt_mod_priv(mod);
	const struct pt_format *fmt;
	const void *in, *in_start;
	void *out, *out_start;
	size_t in_size, out_size, bytes, sample;
	int ret;

	if (nsources != 1 || nsinks != 1)
		return -EINVAL;
	fmt = pt_source_format(sources[0]);
	sample = pt_sample_bytes(fmt->sample);
	bytes = (size_t)pt_mod_period_frames(mod) * pt_frame_bytes(fmt);
	if ((ret = pt_source_get_data(sources[0], bytes, &in, &in_start, &in_size)) ||
	    (ret = pt_sink_get_buffer(sinks[0], bytes, &out, &out_start, &out_size)))
		return ret;
	/* Both buffers are whole frames, so a sample never straddles a wrap. */
	for (size_t done = 0; done < bytes; done += sample) {
		const uint8_t *ip = (const uint8_t *)in_start +
			((size_t)((const uint8_t *)in - (const uint8_t *)in_start) + done) % in_size;
		uint8_t *op = (uint8_t *)out_start +
			((size_t)((uint8_t *)out - (uint8_t *)out_start) + done) % out_size;

		scale_sample(fmt->sample, ip, op, s->gain);
	}
	pt_source_release(sources[0], bytes);
	return pt_sink_commit(sinks[0], bytes);
}

static void scale_free(struct pt_module *mod)
{
	pt_mod_free(mod, pt_mod_priv(mod));
}

static const struct pt_module_ops scale_ops = {
	.init = scale_init,
	.process = scale_process,
	.set_config = scale_set_config,
	.get_config = scale_get_config,
	.free = scale_free,
};

/* Give your module its own name and a fresh UUID (e.g. from uuidgen). */
PT_MODULE(template, scale_ops, .name = "template",
	  .uuid = { 0x5c, 0x2e, 0x61, 0x0b, 0x93, 0x7d, 0x4f, 0x0e, 0xa4, 0x18,
		    0x6b, 0x21, 0xc0, 0x9f, 0x3d, 0x42 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 65536, .max_sources = 1, .max_sinks = 1,
	  .flags = PT_MOD_FLAG_ISOLATABLE);
