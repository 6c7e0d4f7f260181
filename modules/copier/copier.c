/* SPDX-License-Identifier: MIT */
/*
 * copier - format conversion and fan-out: one input to one or more outputs
 * (up to PT_MAX_PINS) of the same rate and channels, each in any sample
 * format; every output gets the whole stream.
 *
 * No parameters. The conversion is exact wherever the target can hold the
 * value, and otherwise rounds to nearest and saturates:
 *   same format     bytes copied unchanged
 *   int -> int      through a 32-bit left-justified value: widening shifts
 *                   left (exact), narrowing rounds half up and saturates
 *                   (S32 0x7fffffff -> S16 32767, not -32768)
 *   int -> float    s / 2^(bits-1), computed in double, rounded once to
 *                   float (exact for S16 and S24; S32 keeps 24 bits)
 *   float -> int    x * 2^(bits-1) rounded to nearest, ties to even, then
 *                   saturated to the target range; NaN becomes the minimum
 *   float -> float  copied
 * S24_4LE reads the low 24 bits and writes them sign-extended.
 */
#include <errno.h>
#include <math.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

static const char *const copier_keys[] = { NULL };

struct copier {
	unsigned in_sample, channels, nsinks;
	unsigned out_sample[PT_MAX_PINS];
};

/* Left-justified 32-bit value of an integer sample. */
static inline int32_t copier_ljust(unsigned sample, const uint8_t *p, size_t i)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE:
		return (int32_t)((uint32_t)(int32_t)((const int16_t *)p)[i] << 16);
	case PT_SAMPLE_S24_4LE:
		return (int32_t)((uint32_t)((const int32_t *)p)[i] << 8);
	default:
		return ((const int32_t *)p)[i];
	}
}

/* Narrows a left-justified value to @bits, rounding half up, saturating. */
static inline int32_t copier_narrow(int32_t l, unsigned bits)
{
	unsigned shift = 32 - bits;
	int64_t v, max = ((int64_t)1 << (bits - 1)) - 1;

	if (shift == 0)
		return l;
	v = ((int64_t)l + ((int64_t)1 << (shift - 1))) >> shift;
	return (int32_t)(v > max ? max : v);
}

static inline unsigned copier_bits(unsigned sample)
{
	return sample == PT_SAMPLE_S16_LE ? 16 : sample == PT_SAMPLE_S24_4LE ? 24 : 32;
}

/* Converts @n contiguous samples from @in (format @is) to @out (@os). */
static void copier_convert(unsigned is, const uint8_t *in, unsigned os,
			   uint8_t *out, size_t n)
{
	if (is == os) {
		memcpy(out, in, n * pt_sample_bytes(is));
		return;
	}
	if (is == PT_SAMPLE_FLOAT_LE) {
		const float *f = (const float *)in;
		double full = (double)((int64_t)1 << (copier_bits(os) - 1));

		for (size_t i = 0; i < n; i++) {
			double v = (double)f[i] * full;
			int32_t s;

			if (!(v > -full))
				s = (int32_t)-full;
			else if (v >= full - 1.0)
				s = (int32_t)(full - 1.0);
			else
				s = (int32_t)lrint(v);
			if (os == PT_SAMPLE_S16_LE)
				((int16_t *)out)[i] = (int16_t)s;
			else
				((int32_t *)out)[i] = s;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int32_t l = copier_ljust(is, in, i);

		switch (os) {
		case PT_SAMPLE_FLOAT_LE:
			((float *)out)[i] = (float)((double)l * (1.0 / 2147483648.0));
			break;
		case PT_SAMPLE_S16_LE:
			((int16_t *)out)[i] = (int16_t)copier_narrow(l, 16);
			break;
		case PT_SAMPLE_S24_4LE:
			((int32_t *)out)[i] = copier_narrow(l, 24);
			break;
		default:
			((int32_t *)out)[i] = l;
			break;
		}
	}
}

static int copier_init(struct pt_module *mod, const void *data, size_t size)
{
	struct copier *c;
	int ret = pt_params_known(mod, data, size, copier_keys);

	if (ret)
		return ret;
	c = pt_mod_alloc(mod, sizeof(*c));
	if (!c)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	pt_mod_set_priv(mod, c);
	return 0;
}

static int copier_prepare(struct pt_module *mod,
			  struct pt_source *const *sources, unsigned nsources,
			  struct pt_sink *const *sinks, unsigned nsinks)
{
	struct copier *c = pt_mod_priv(mod);
	const struct pt_format *in, *out;

	if (nsinks < 1) {
		pt_log(mod, PT_LOG_ERR, "needs at least 1 output");
		return -EINVAL;
	}
	/* Every output is checked against the input as a one-to-one pair. */
	for (unsigned k = 0; k < nsinks; k++) {
		if (pcm_one_to_one(mod, sources, nsources, &sinks[k], 1, &in, &out))
			return -EINVAL;
		c->out_sample[k] = out->sample;
	}
	c->in_sample = in->sample;
	c->channels = in->channels;
	c->nsinks = nsinks;
	return 0;
}

static int copier_process(struct pt_module *mod,
			  struct pt_source *const *sources, unsigned nsources,
			  struct pt_sink *const *sinks, unsigned nsinks)
{
	struct copier *c = pt_mod_priv(mod);
	uint32_t frames = pt_mod_period_frames(mod);
	struct pcm_cursor in, out;
	int ret = 0;

	(void)nsources;
	for (unsigned k = 0; !ret && k < nsinks; k++) {
		ret = pcm_source_cursor(sources[0], frames, &in);
		if (!ret)
			ret = pcm_sink_cursor(sinks[k], frames, &out);
		if (ret)
			return ret;
		/* Convert run by run, each run contiguous on both sides. */
		for (size_t left = frames; left;) {
			size_t n = pcm_run(&out, pcm_run(&in, left));

			copier_convert(c->in_sample, in.pos, c->out_sample[k],
				       out.pos, n * c->channels);
			pcm_advance(&in, n);
			pcm_advance(&out, n);
			left -= n;
		}
		ret = pt_sink_commit(sinks[k], (size_t)frames * out.frame);
	}
	if (!ret)
		ret = pt_source_release(sources[0],
					(size_t)frames * pt_frame_bytes(pt_source_format(sources[0])));
	return ret;
}

static int copier_set_config(struct pt_module *mod, uint32_t param,
			     const void *data, size_t size)
{
	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	return pt_params_known(mod, data, size, copier_keys);
}

static int copier_get_config(struct pt_module *mod, uint32_t param, void *data,
			     size_t *size)
{
	struct pt_params_text txt = { .len = 0 };

	(void)mod;
	return pt_params_reply(&txt, param, data, size);
}

static void copier_free(struct pt_module *mod)
{
	pt_mod_free(mod, pt_mod_priv(mod));
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops copier_ops = {
	.init = copier_init,
	.prepare = copier_prepare,
	.process = copier_process,
	.set_config = copier_set_config,
	.get_config = copier_get_config,
	.free = copier_free,
};

PT_MODULE(copier, copier_ops, .name = "copier",
	  .uuid = { 0xc5, 0xed, 0x9c, 0xbb, 0x5a, 0x9c, 0x40, 0xe3, 0x83, 0x50,
		    0xcd, 0x97, 0x8f, 0x12, 0x20, 0xd6 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = PT_MAX_PINS);
