/* SPDX-License-Identifier: MIT */
/*
 * denoise - speexdsp's preprocessor (spectral noise suppression, optional
 * automatic gain control) as a module: third-party code that allocates its
 * state with malloc, which a domain routes to the private heap. One input,
 * one output of the same rate and channels; any sample formats. One
 * preprocessor per channel, each with frame size = the period.
 *
 * speexdsp's preprocessor takes 16-bit samples, so each period is converted
 * to S16 (rounded, saturated), processed in place, and converted back: the
 * output has 16-bit resolution whatever the stream format. speexdsp is
 * documented for 10-20 ms frames; the tests measure it at 1 ms and 10 ms
 * periods (both suppress noise, see docs/modules.md), and a shorter frame
 * costs more per second of audio.
 *
 * Parameters (init and PT_PARAM_TEXT):
 *   denoise=0|1         noise suppression on, default 1
 *   suppress_db=DB      most attenuation of noise [-90, 0], default -15
 *   agc=0|1             automatic gain control, default 0
 *   agc_level=L         AGC target level [1, 32768] (16-bit scale),
 *                       default 8000
 *
 * Heap (measured, see docs/modules.md): speexdsp's state per channel grows
 * with the period; the module adds 2 * channels * period bytes.
 */
#include <errno.h>
#include <math.h>

#include <speex/speex_preprocess.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

struct denoise_params {
	double denoise, suppress_db, agc, agc_level;
};

struct denoise {
	struct denoise_params p;
	SpeexPreprocessState *st[PT_CHANNELS_MAX]; /* NULL until prepared */
	unsigned channels;
	uint32_t rate;
	int16_t *pcm;      /* channels * period, deinterleaved */
};

static const char *const denoise_keys[] = { "denoise", "suppress_db", "agc",
					    "agc_level", NULL };

static int denoise_flag(struct pt_module *mod, const char *key, double v)
{
	if (v != 0 && v != 1) {
		pt_log(mod, PT_LOG_ERR, "%s=%g: expected 0 or 1", key, v);
		return -EINVAL;
	}
	return 0;
}

static int denoise_parse(struct pt_module *mod, const void *blob, size_t size,
			 struct denoise_params *p)
{
	int ret = pt_params_known(mod, blob, size, denoise_keys);

	if (ret)
		return ret;
	if (pt_params_number(mod, blob, size, "denoise", 0, 1, &p->denoise) < 0 ||
	    pt_params_number(mod, blob, size, "suppress_db", -90, 0,
			  &p->suppress_db) < 0 ||
	    pt_params_number(mod, blob, size, "agc", 0, 1, &p->agc) < 0 ||
	    pt_params_number(mod, blob, size, "agc_level", 1, 32768,
			  &p->agc_level) < 0 ||
	    denoise_flag(mod, "denoise", p->denoise) ||
	    denoise_flag(mod, "agc", p->agc))
		return -EINVAL;
	return 0;
}

/* Pushes the parameters into every channel's preprocessor. */
static void denoise_apply(struct denoise *d)
{
	for (unsigned c = 0; c < d->channels; c++) {
		spx_int32_t on = (spx_int32_t)d->p.denoise;
		spx_int32_t db = (spx_int32_t)lrint(d->p.suppress_db);
		spx_int32_t agc = (spx_int32_t)d->p.agc;
		float level = (float)d->p.agc_level;

		speex_preprocess_ctl(d->st[c], SPEEX_PREPROCESS_SET_DENOISE, &on);
		speex_preprocess_ctl(d->st[c], SPEEX_PREPROCESS_SET_NOISE_SUPPRESS,
				     &db);
		speex_preprocess_ctl(d->st[c], SPEEX_PREPROCESS_SET_AGC, &agc);
		speex_preprocess_ctl(d->st[c], SPEEX_PREPROCESS_SET_AGC_LEVEL,
				     &level);
	}
}

static void denoise_release(struct pt_module *mod, struct denoise *d)
{
	for (unsigned c = 0; c < PT_CHANNELS_MAX; c++) {
		if (d->st[c])
			speex_preprocess_state_destroy(d->st[c]);
		d->st[c] = NULL;
	}
	pt_mod_free(mod, d->pcm);
	d->pcm = NULL;
}

/* Bytes speexdsp allocates for one preprocessor of @frames frames, with a
 * margin: measured by tests/modules/test_modules_heap.c as about
 * 140 * frames + 2.5 KiB (9.1 KiB at 48 frames, 69 KiB at 480, 138 KiB
 * at 960), rounded up here to 160 * frames + 4 KiB. */
static size_t denoise_state_bytes(uint32_t frames)
{
	return (size_t)frames * 160 + 4096;
}

/* Creates one preprocessor per channel for the prepared format.
 * speexdsp does not check its own callocs, so the room is probed first:
 * short of heap this fails with -ENOMEM instead of crashing. In a domain
 * speexdsp's malloc draws on the same private heap as pt_mod_alloc. */
static int denoise_states(struct pt_module *mod, struct denoise *d)
{
	uint32_t period = pt_mod_period_frames(mod);

	for (unsigned c = 0; c < d->channels; c++) {
		void *room = pt_mod_alloc(mod, denoise_state_bytes(period));

		if (!room) {
			pt_log(mod, PT_LOG_ERR,
			       "heap too small for the preprocessor of channel %u "
			       "(about %zu bytes each)",
			       c, denoise_state_bytes(period));
			return -ENOMEM;
		}
		pt_mod_free(mod, room);
		d->st[c] = speex_preprocess_state_init((int)period, (int)d->rate);
		if (!d->st[c]) {
			pt_log(mod, PT_LOG_ERR,
			       "out of heap for the preprocessor of channel %u", c);
			return -ENOMEM;
		}
	}
	denoise_apply(d);
	return 0;
}

static int denoise_init(struct pt_module *mod, const void *data, size_t size)
{
	struct denoise_params p = { .denoise = 1, .suppress_db = -15, .agc = 0,
				    .agc_level = 8000 };
	struct denoise *d;
	int ret = denoise_parse(mod, data, size, &p);

	if (ret)
		return ret;
	d = pt_mod_alloc(mod, sizeof(*d));
	if (!d)
		return -ENOMEM;
	*d = (struct denoise){ .p = p };
	pt_mod_set_priv(mod, d);
	return 0;
}

static int denoise_prepare(struct pt_module *mod,
			   struct pt_source *const *sources, unsigned nsources,
			   struct pt_sink *const *sinks, unsigned nsinks)
{
	struct denoise *d = pt_mod_priv(mod);
	const struct pt_format *in, *out;
	uint32_t period = pt_mod_period_frames(mod);
	int ret;

	if (pcm_one_to_one(mod, sources, nsources, sinks, nsinks, &in, &out))
		return -EINVAL;
	denoise_release(mod, d);
	d->channels = in->channels;
	d->rate = in->rate;
	d->pcm = pt_mod_alloc(mod, (size_t)period * d->channels * sizeof(int16_t));
	if (!d->pcm) {
		pt_log(mod, PT_LOG_ERR, "out of heap for %u frames x%u", period,
		       d->channels);
		return -ENOMEM;
	}
	ret = denoise_states(mod, d);
	if (ret)
		denoise_release(mod, d);
	return ret;
}

static int denoise_process(struct pt_module *mod,
			   struct pt_source *const *sources, unsigned nsources,
			   struct pt_sink *const *sinks, unsigned nsinks)
{
	struct denoise *d = pt_mod_priv(mod);
	uint32_t frames = pt_mod_period_frames(mod);
	float buf[PCM_CHUNK * PT_CHANNELS_MAX];
	struct pcm_cursor in, out;
	unsigned ch = d->channels;
	int ret;

	(void)nsources;
	(void)nsinks;
	/* A reset that ran out of heap leaves no preprocessors: refuse the
	 * period (the host then writes silence) rather than crash. */
	for (unsigned c = 0; c < ch; c++)
		if (!d->st[c])
			return -ENOMEM;
	ret = pcm_source_cursor(sources[0], frames, &in);
	if (!ret)
		ret = pcm_sink_cursor(sinks[0], frames, &out);
	if (ret)
		return ret;
	for (uint32_t done = 0; done < frames;) {
		uint32_t n = frames - done < PCM_CHUNK ? frames - done : PCM_CHUNK;

		pcm_get(&in, buf, n);
		for (unsigned c = 0; c < ch; c++)
			for (uint32_t i = 0; i < n; i++)
				d->pcm[c * frames + done + i] =
					pcm_float_to_s16(buf[i * ch + c]);
		done += n;
	}
	for (unsigned c = 0; c < ch; c++)
		speex_preprocess_run(d->st[c], d->pcm + c * frames);
	for (uint32_t done = 0; done < frames;) {
		uint32_t n = frames - done < PCM_CHUNK ? frames - done : PCM_CHUNK;

		for (unsigned c = 0; c < ch; c++)
			for (uint32_t i = 0; i < n; i++)
				buf[i * ch + c] = d->pcm[c * frames + done + i] *
						  (1.0f / 32768.0f);
		pcm_put(&out, buf, n);
		done += n;
	}
	ret = pt_source_release(sources[0], (size_t)frames * in.frame);
	if (!ret)
		ret = pt_sink_commit(sinks[0], (size_t)frames * out.frame);
	return ret;
}

static int denoise_set_config(struct pt_module *mod, uint32_t param,
			      const void *data, size_t size)
{
	struct denoise *d = pt_mod_priv(mod);
	struct denoise_params p = d->p;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = denoise_parse(mod, data, size, &p);
	if (ret)
		return ret;
	d->p = p;
	denoise_apply(d);
	return 0;
}

static int denoise_get_config(struct pt_module *mod, uint32_t param,
			      void *data, size_t *size)
{
	struct denoise *d = pt_mod_priv(mod);
	struct pt_params_text txt = { .len = 0 };

	pt_params_printf(&txt, "denoise=%d suppress_db=%.17g agc=%d agc_level=%.17g",
		      (int)d->p.denoise, d->p.suppress_db, (int)d->p.agc,
		      d->p.agc_level);
	return pt_params_reply(&txt, param, data, size);
}

/* speexdsp has no reset call: the preprocessors are made again. */
static int denoise_reset(struct pt_module *mod)
{
	struct denoise *d = pt_mod_priv(mod);

	if (!d->pcm)
		return 0;
	for (unsigned c = 0; c < PT_CHANNELS_MAX; c++) {
		if (d->st[c])
			speex_preprocess_state_destroy(d->st[c]);
		d->st[c] = NULL;
	}
	return denoise_states(mod, d);
}

static void denoise_free(struct pt_module *mod)
{
	struct denoise *d = pt_mod_priv(mod);

	denoise_release(mod, d);
	pt_mod_free(mod, d);
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops denoise_ops = {
	.init = denoise_init,
	.prepare = denoise_prepare,
	.process = denoise_process,
	.set_config = denoise_set_config,
	.get_config = denoise_get_config,
	.reset = denoise_reset,
	.free = denoise_free,
};

PT_MODULE(denoise, denoise_ops, .name = "denoise",
	  .uuid = { 0x10, 0x56, 0x29, 0x60, 0xc4, 0xc5, 0x49, 0x79, 0xac, 0x0b,
		    0x07, 0xfa, 0x28, 0x35, 0x43, 0x15 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 262144,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
