/* SPDX-License-Identifier: MIT */
/*
 * delay - delays each channel by a whole number of frames. One input, one
 * output in the same format (rate, channels and sample format equal): the
 * samples are moved, not converted, so the output is the input shifted,
 * bit for bit, with silence (zero samples) in front.
 *
 * Parameters (init and PT_PARAM_TEXT):
 *   samples=N[,N...]   one delay for every channel, or one per channel;
 *                      each [0, 192000] frames; default 0
 * A change at run time restarts every delay line with silence.
 *
 * Heap: the lines hold sum(samples) * sample_bytes bytes, plus the state.
 */
#include <errno.h>
#include <math.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

#define DELAY_MAX 192000

struct delay {
	uint32_t samples[PT_CHANNELS_MAX];
	unsigned nsamples;        /* values given: 1 (all channels) or per channel */
	unsigned channels;        /* 0 until prepared */
	unsigned sbytes;          /* bytes per sample */
	uint8_t *lines;           /* all channels' lines, back to back */
	size_t line_off[PT_CHANNELS_MAX]; /* byte offset of each line */
	uint32_t pos[PT_CHANNELS_MAX];    /* oldest sample of each line */
};

static const char *const delay_keys[] = { "samples", NULL };

static int delay_parse(struct pt_module *mod, const void *blob, size_t size,
		       uint32_t *samples, unsigned *nsamples)
{
	double v[PT_CHANNELS_MAX];
	int n = pt_params_known(mod, blob, size, delay_keys);

	if (n)
		return n;
	n = pt_params_list(mod, blob, size, "samples", 0, DELAY_MAX, v,
			PT_CHANNELS_MAX);
	if (n <= 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (v[i] != floor(v[i])) {
			pt_log(mod, PT_LOG_ERR, "samples[%d]=%g is not a whole number",
			       i, v[i]);
			return -EINVAL;
		}
		samples[i] = (uint32_t)v[i];
	}
	*nsamples = (unsigned)n;
	return 0;
}

static uint32_t delay_of(const uint32_t *samples, unsigned nsamples, unsigned c)
{
	return nsamples == 1 ? samples[0] : samples[c];
}

/* Builds silent lines for @samples on the prepared channels; on failure the
 * lines in force stay. */
static int delay_lines(struct pt_module *mod, struct delay *d,
		       const uint32_t *samples, unsigned nsamples)
{
	size_t off[PT_CHANNELS_MAX], total = 0;
	uint8_t *lines;

	if (nsamples != 1 && nsamples != d->channels) {
		pt_log(mod, PT_LOG_ERR,
		       "samples has %u values for %u channels (give 1 or %u)",
		       nsamples, d->channels, d->channels);
		return -EINVAL;
	}
	for (unsigned c = 0; c < d->channels; c++) {
		off[c] = total;
		total += (size_t)delay_of(samples, nsamples, c) * d->sbytes;
	}
	lines = pt_mod_alloc(mod, total ? total : 1);
	if (!lines) {
		pt_log(mod, PT_LOG_ERR, "heap too small for %zu bytes of delay lines",
		       total);
		return -ENOMEM;
	}
	memset(lines, 0, total);
	pt_mod_free(mod, d->lines);
	d->lines = lines;
	memcpy(d->line_off, off, sizeof(off));
	memset(d->pos, 0, sizeof(d->pos));
	return 0;
}

static int delay_init(struct pt_module *mod, const void *data, size_t size)
{
	struct delay *d = pt_mod_alloc(mod, sizeof(*d));
	int ret;

	if (!d)
		return -ENOMEM;
	*d = (struct delay){ .nsamples = 1 };
	ret = delay_parse(mod, data, size, d->samples, &d->nsamples);
	if (ret) {
		pt_mod_free(mod, d);
		return ret;
	}
	pt_mod_set_priv(mod, d);
	return 0;
}

static int delay_prepare(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	struct delay *d = pt_mod_priv(mod);
	const struct pt_format *in, *out;

	if (nsources != 1 || nsinks != 1) {
		pt_log(mod, PT_LOG_ERR, "needs 1 input and 1 output, got %u and %u",
		       nsources, nsinks);
		return -EINVAL;
	}
	in = pt_source_format(sources[0]);
	out = pt_sink_format(sinks[0]);
	if (in->rate != out->rate || in->channels != out->channels ||
	    in->sample != out->sample) {
		pt_log(mod, PT_LOG_ERR,
		       "input %u Hz x%u %s and output %u Hz x%u %s differ "
		       "(put a copier after the delay to convert)",
		       in->rate, in->channels, pt_sample_name(in->sample),
		       out->rate, out->channels, pt_sample_name(out->sample));
		return -EINVAL;
	}
	d->channels = in->channels;
	d->sbytes = pt_sample_bytes(in->sample);
	return delay_lines(mod, d, d->samples, d->nsamples);
}

static int delay_process(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	struct delay *d = pt_mod_priv(mod);
	uint32_t frames = pt_mod_period_frames(mod);
	struct pcm_cursor in, out;
	unsigned ch = d->channels, sb = d->sbytes;
	int ret;

	(void)nsources;
	(void)nsinks;
	ret = pcm_source_cursor(sources[0], frames, &in);
	if (!ret)
		ret = pcm_sink_cursor(sinks[0], frames, &out);
	if (ret)
		return ret;
	for (size_t left = frames; left;) {
		size_t n = pcm_run(&out, pcm_run(&in, left));

		for (unsigned c = 0; c < ch; c++) {
			uint32_t len = delay_of(d->samples, d->nsamples, c);
			const uint8_t *src = in.pos + c * sb;
			uint8_t *dst = out.pos + c * sb;

			if (len == 0) {
				for (size_t i = 0; i < n; i++)
					memcpy(dst + i * in.frame,
					       src + i * in.frame, sb);
				continue;
			}
			/* The line holds the last len inputs; the oldest
			 * leaves as the newest enters. */
			uint8_t *line = d->lines + d->line_off[c];
			uint32_t pos = d->pos[c];

			for (size_t i = 0; i < n; i++) {
				uint8_t *slot = line + (size_t)pos * sb;

				memcpy(dst + i * out.frame, slot, sb);
				memcpy(slot, src + i * in.frame, sb);
				if (++pos == len)
					pos = 0;
			}
			d->pos[c] = pos;
		}
		pcm_advance(&in, n);
		pcm_advance(&out, n);
		left -= n;
	}
	ret = pt_source_release(sources[0], (size_t)frames * in.frame);
	if (!ret)
		ret = pt_sink_commit(sinks[0], (size_t)frames * out.frame);
	return ret;
}

static int delay_set_config(struct pt_module *mod, uint32_t param,
			    const void *data, size_t size)
{
	struct delay *d = pt_mod_priv(mod);
	uint32_t samples[PT_CHANNELS_MAX];
	unsigned nsamples = d->nsamples;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	memcpy(samples, d->samples, sizeof(samples));
	ret = delay_parse(mod, data, size, samples, &nsamples);
	if (!ret && d->channels)
		ret = delay_lines(mod, d, samples, nsamples);
	if (ret)
		return ret;
	memcpy(d->samples, samples, sizeof(samples));
	d->nsamples = nsamples;
	return 0;
}

static int delay_get_config(struct pt_module *mod, uint32_t param, void *data,
			    size_t *size)
{
	struct delay *d = pt_mod_priv(mod);
	struct pt_params_text txt = { .len = 0 };

	pt_params_printf(&txt, "samples=");
	for (unsigned i = 0; i < d->nsamples; i++)
		pt_params_printf(&txt, "%s%u", i ? "," : "", d->samples[i]);
	return pt_params_reply(&txt, param, data, size);
}

static int delay_reset(struct pt_module *mod)
{
	struct delay *d = pt_mod_priv(mod);
	size_t total = 0;

	for (unsigned c = 0; c < d->channels; c++)
		total += (size_t)delay_of(d->samples, d->nsamples, c) * d->sbytes;
	if (d->lines)
		memset(d->lines, 0, total);
	memset(d->pos, 0, sizeof(d->pos));
	return 0;
}

static void delay_free(struct pt_module *mod)
{
	struct delay *d = pt_mod_priv(mod);

	pt_mod_free(mod, d->lines);
	pt_mod_free(mod, d);
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops delay_ops = {
	.init = delay_init,
	.prepare = delay_prepare,
	.process = delay_process,
	.set_config = delay_set_config,
	.get_config = delay_get_config,
	.reset = delay_reset,
	.free = delay_free,
};

PT_MODULE(delay, delay_ops, .name = "delay",
	  .uuid = { 0xd2, 0xc1, 0x10, 0x4a, 0xaa, 0xbf, 0x4c, 0xc1, 0x8f, 0xd2,
		    0x67, 0x05, 0xbd, 0xae, 0xc7, 0x29 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 131072,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
