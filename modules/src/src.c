/* SPDX-License-Identifier: MIT */
/*
 * src - sample-rate conversion with speexdsp's resampler (third-party code:
 * it allocates its filter with malloc, which a domain routes to the private
 * heap). One input, one output with the same channels; the input rate comes
 * from the source's format, the output rate from the sink's; sample formats
 * are free (through float, see modules/pcm.h).
 *
 * Each process call consumes exactly one period of input,
 * pt_mod_period_frames() frames counted at the INPUT rate, and commits what
 * the resampler gives for it: floor or ceiling of period * out / in, so the
 * count varies from call to call (44 or 45 for 48 -> 44.1 kHz with 48-frame
 * periods). The resampler works on the exact rational ratio, so over a run
 * nothing drifts: after n input frames it has produced exactly
 * ceil(n * out / in) frames (rates reduced by their gcd), which the tests
 * check. The output is delayed by the filter's latency (zeros first), never
 * shortened: no input frame is dropped.
 *
 * Because the output per period varies, src overrides readiness: it is
 * ready when the source holds one period and the sink has room for the
 * largest output of one period, ceil(period * out / in) + 1 frames. Its
 * output buffer must hold at least that many frames.
 *
 * Parameters (init and PT_PARAM_TEXT):
 *   quality=Q   speexdsp quality [0, 10], default 4; fixed once prepared
 *               (-EBUSY): another filter length would shift the stream
 *
 * Heap (measured, see docs/modules.md): the module's own buffers,
 * 4 * channels * (period + max output) bytes, plus speexdsp's filter state,
 * which grows with quality and with the ratio's denominator.
 */
#include <errno.h>

#include <speex/speex_resampler.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

struct src {
	double quality;
	SpeexResamplerState *st; /* NULL until prepared */
	uint32_t in_rate, out_rate;
	unsigned channels;
	uint32_t max_out;        /* frames one period can produce, plus one */
	float *in, *out;         /* one period in, max_out frames out */
};

static const char *const src_keys[] = { "quality", NULL };

static int src_parse(struct pt_module *mod, const void *blob, size_t size,
		     double *quality)
{
	int ret = pt_params_known(mod, blob, size, src_keys);

	if (ret)
		return ret;
	if (pt_params_number(mod, blob, size, "quality", SPEEX_RESAMPLER_QUALITY_MIN,
			  SPEEX_RESAMPLER_QUALITY_MAX, quality) < 0)
		return -EINVAL;
	if (*quality != (int)*quality) {
		pt_log(mod, PT_LOG_ERR, "quality=%g is not a whole number",
		       *quality);
		return -EINVAL;
	}
	return 0;
}

static int src_init(struct pt_module *mod, const void *data, size_t size)
{
	double q = SPEEX_RESAMPLER_QUALITY_DEFAULT;
	struct src *s;
	int ret = src_parse(mod, data, size, &q);

	if (ret)
		return ret;
	s = pt_mod_alloc(mod, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct src){ .quality = q };
	pt_mod_set_priv(mod, s);
	return 0;
}

static void src_release(struct pt_module *mod, struct src *s)
{
	if (s->st)
		speex_resampler_destroy(s->st);
	s->st = NULL;
	pt_mod_free(mod, s->in);
	pt_mod_free(mod, s->out);
	s->in = s->out = NULL;
}

static int src_prepare(struct pt_module *mod, struct pt_source *const *sources,
		       unsigned nsources, struct pt_sink *const *sinks,
		       unsigned nsinks)
{
	struct src *s = pt_mod_priv(mod);
	const struct pt_format *in, *out;
	uint64_t period = pt_mod_period_frames(mod);
	int err = 0;

	if (nsources != 1 || nsinks != 1) {
		pt_log(mod, PT_LOG_ERR, "needs 1 input and 1 output, got %u and %u",
		       nsources, nsinks);
		return -EINVAL;
	}
	in = pt_source_format(sources[0]);
	out = pt_sink_format(sinks[0]);
	if (in->channels != out->channels) {
		pt_log(mod, PT_LOG_ERR, "input has %u channels, output %u",
		       in->channels, out->channels);
		return -EINVAL;
	}
	src_release(mod, s);
	s->in_rate = in->rate;
	s->out_rate = out->rate;
	s->channels = in->channels;
	s->max_out = (uint32_t)((period * out->rate + in->rate - 1) / in->rate) + 1;
	s->in = pt_mod_alloc(mod, period * s->channels * sizeof(float));
	s->out = pt_mod_alloc(mod, (size_t)s->max_out * s->channels * sizeof(float));
	if (s->in && s->out)
		s->st = speex_resampler_init(s->channels, s->in_rate, s->out_rate,
					     (int)s->quality, &err);
	if (!s->st) {
		pt_log(mod, PT_LOG_ERR, "cannot set up %u -> %u Hz x%u: %s",
		       s->in_rate, s->out_rate, s->channels,
		       err ? speex_resampler_strerror(err) : "out of heap");
		src_release(mod, s);
		return err ? -EINVAL : -ENOMEM;
	}
	return 0;
}

static bool src_is_ready(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	struct src *s = pt_mod_priv(mod);

	if (nsources != 1 || nsinks != 1 || !s->st)
		return false;
	return pt_source_frames_available(sources[0]) >= pt_mod_period_frames(mod) &&
	       pt_sink_frames_free(sinks[0]) >= s->max_out;
}

static int src_process(struct pt_module *mod, struct pt_source *const *sources,
		       unsigned nsources, struct pt_sink *const *sinks,
		       unsigned nsinks)
{
	struct src *s = pt_mod_priv(mod);
	uint32_t frames = pt_mod_period_frames(mod);
	spx_uint32_t in_len = frames, out_len;
	struct pcm_cursor in, out;
	int ret;

	(void)nsources;
	(void)nsinks;
	ret = pcm_source_cursor(sources[0], frames, &in);
	if (ret)
		return ret;
	/* Room for the most one period can give, checked before any state
	 * moves: a short sink must not make speexdsp hold input back. */
	out_len = (spx_uint32_t)pt_sink_frames_free(sinks[0]);
	if (out_len < s->max_out)
		return -ENOSPC;
	out_len = s->max_out;
	pcm_get(&in, s->in, frames);
	ret = speex_resampler_process_interleaved_float(s->st, s->in, &in_len,
							s->out, &out_len);
	if (ret != RESAMPLER_ERR_SUCCESS || in_len != frames) {
		pt_log(mod, PT_LOG_ERR, "resampler took %u of %u frames: %s",
		       in_len, frames, speex_resampler_strerror(ret));
		return -EIO;
	}
	ret = pcm_sink_cursor(sinks[0], out_len, &out);
	if (ret)
		return ret;
	pcm_put(&out, s->out, out_len);
	ret = pt_source_release(sources[0], (size_t)frames * in.frame);
	if (!ret)
		ret = pt_sink_commit(sinks[0], (size_t)out_len * out.frame);
	return ret;
}

static int src_set_config(struct pt_module *mod, uint32_t param,
			  const void *data, size_t size)
{
	struct src *s = pt_mod_priv(mod);
	double q = s->quality;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = src_parse(mod, data, size, &q);
	if (ret)
		return ret;
	/* Another quality is another filter length, so another latency: the
	 * stream would lose or repeat frames where it changed. Refused while
	 * running; before prepare (and on a restart's replay) it is fine. */
	if (s->st && q != s->quality) {
		pt_log(mod, PT_LOG_ERR,
		       "quality=%g: cannot change while prepared (it would shift "
		       "the stream by the change in filter latency)",
		       q);
		return -EBUSY;
	}
	s->quality = q;
	return 0;
}

static int src_get_config(struct pt_module *mod, uint32_t param, void *data,
			  size_t *size)
{
	struct src *s = pt_mod_priv(mod);
	struct pt_params_text txt = { .len = 0 };

	pt_params_printf(&txt, "quality=%d", (int)s->quality);
	return pt_params_reply(&txt, param, data, size);
}

/* speex_resampler_reset_mem() does not bring back the output of a fresh
 * resampler (the test reset_restarts shows it), so the resampler is made
 * again, with the quality in force. */
static int src_reset(struct pt_module *mod)
{
	struct src *s = pt_mod_priv(mod);
	SpeexResamplerState *st;
	int err = 0;

	if (!s->st)
		return 0;
	st = speex_resampler_init(s->channels, s->in_rate, s->out_rate,
				  (int)s->quality, &err);
	if (!st) {
		pt_log(mod, PT_LOG_ERR, "reset: cannot make the resampler again: %s",
		       err ? speex_resampler_strerror(err) : "out of heap");
		return err ? -EINVAL : -ENOMEM;
	}
	speex_resampler_destroy(s->st);
	s->st = st;
	return 0;
}

static void src_free(struct pt_module *mod)
{
	struct src *s = pt_mod_priv(mod);

	src_release(mod, s);
	pt_mod_free(mod, s);
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops src_ops = {
	.init = src_init,
	.prepare = src_prepare,
	.process = src_process,
	.is_ready = src_is_ready,
	.set_config = src_set_config,
	.get_config = src_get_config,
	.reset = src_reset,
	.free = src_free,
};

PT_MODULE(src, src_ops, .name = "src",
	  .uuid = { 0xfc, 0xf8, 0xf3, 0x3b, 0xaf, 0x3d, 0x4e, 0x53, 0x86, 0xf2,
		    0xb5, 0x5a, 0xc3, 0x86, 0x33, 0xda },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 65536,
	  .stack_size = 65536,
	  .flags = PT_MOD_FLAG_ISOLATABLE | PT_MOD_FLAG_CUSTOM_READY,
	  .max_sources = 1, .max_sinks = 1);
