/* SPDX-License-Identifier: MIT */
/*
 * fir - a finite impulse response filter of up to 4096 taps, the same taps
 * on every channel. One input, one output of the same rate and channels;
 * any sample formats (through float, see modules/pcm.h).
 *
 * Parameters:
 *   taps=h0,h1,...     (init and PT_PARAM_TEXT) 1..4096 numbers, each
 *                      [-1e6, 1e6]; y[n] = sum h[k] x[n-k]. Default: the
 *                      single tap 1 (pass-through).
 *   param id 1         (set_config/get_config) the taps as a binary blob of
 *                      1..4096 native floats.
 * Changing the number of taps at run time clears the history; changing
 * only their values keeps it.
 *
 * The work is one multiply-add per tap per output sample. It is written tap
 * by tap over blocks of eight outputs (y[i..i+7] += h[j] * x[i+j..]), so the
 * additions into each output keep their order (bit-exact across builds and
 * no -ffast-math needed) and gcc -O2 turns the eight-wide body into vector
 * code (checked with -fopt-info-vec).
 *
 * Heap: 4 * (taps + channels * (taps + period + 8) + channels * (period + 8))
 * bytes plus the state struct.
 */
#include <errno.h>
#include <math.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

#define FIR_TAPS_MAX 4096
#define FIR_PARAM_TAPS 1u
#define FIR_LANES 8

struct fir {
	float *taps_rev;   /* taps reversed: taps_rev[j] = h[ntaps - 1 - j] */
	uint32_t ntaps;
	float *hist;       /* per channel: ntaps - 1 old inputs, then the period */
	float *out;        /* per channel: one period of outputs, padded */
	size_t hist_len;   /* floats per channel in hist */
	size_t block;      /* period rounded up to FIR_LANES */
	unsigned channels; /* 0 until prepared */
};

static const char *const fir_keys[] = { "taps", NULL };

/* y[0..nblk*8) += sum over j of h[j] * x[j + i]. */
static void fir_kernel(float *restrict y, const float *restrict x,
		       const float *restrict h, uint32_t ntaps, size_t nblk)
{
	for (uint32_t j = 0; j < ntaps; j++) {
		const float hj = h[j];
		const float *xj = x + j;

		for (size_t b = 0; b < nblk; b++)
			for (unsigned l = 0; l < FIR_LANES; l++)
				y[b * FIR_LANES + l] += hj * xj[b * FIR_LANES + l];
	}
}

/* Allocates the per-channel buffers for @ntaps taps (zeroed history). */
static int fir_alloc_state(struct pt_module *mod, struct fir *f, uint32_t ntaps)
{
	size_t period = pt_mod_period_frames(mod);
	size_t block = (period + FIR_LANES - 1) / FIR_LANES * FIR_LANES;
	size_t hist_len = ntaps - 1 + block;
	float *hist = pt_mod_alloc(mod, f->channels * hist_len * sizeof(float));
	float *out = pt_mod_alloc(mod, f->channels * block * sizeof(float));

	if (!hist || !out) {
		pt_mod_free(mod, hist);
		pt_mod_free(mod, out);
		pt_log(mod, PT_LOG_ERR,
		       "heap too small for %u taps x %u channels", ntaps,
		       f->channels);
		return -ENOMEM;
	}
	memset(hist, 0, f->channels * hist_len * sizeof(float));
	pt_mod_free(mod, f->hist);
	pt_mod_free(mod, f->out);
	f->hist = hist;
	f->out = out;
	f->hist_len = hist_len;
	f->block = block;
	return 0;
}

/* Installs @n taps (double or float source) in place of the current ones. */
static int fir_set_taps(struct pt_module *mod, struct fir *f, const double *d,
			const float *s, uint32_t n)
{
	float *rev = n == f->ntaps ? f->taps_rev : pt_mod_alloc(mod, n * sizeof(float));

	if (!rev) {
		pt_log(mod, PT_LOG_ERR, "heap too small for %u taps", n);
		return -ENOMEM;
	}
	if (n != f->ntaps && f->channels) {
		uint32_t old = f->ntaps;
		int ret;

		f->ntaps = n;
		ret = fir_alloc_state(mod, f, n);
		if (ret) {
			f->ntaps = old;
			pt_mod_free(mod, rev);
			return ret;
		}
	}
	for (uint32_t j = 0; j < n; j++)
		rev[j] = d ? (float)d[n - 1 - j] : s[n - 1 - j];
	if (rev != f->taps_rev) {
		pt_mod_free(mod, f->taps_rev);
		f->taps_rev = rev;
	}
	f->ntaps = n;
	return 0;
}

static int fir_parse(struct pt_module *mod, struct fir *f, const void *blob,
		     size_t size)
{
	size_t count = pt_params_count(blob, size, "taps");
	double *v;
	int n = pt_params_known(mod, blob, size, fir_keys);

	if (n)
		return n;
	if (count == 0)
		return 0;
	if (count > FIR_TAPS_MAX) {
		pt_log(mod, PT_LOG_ERR, "taps: %zu values, at most %d", count,
		       FIR_TAPS_MAX);
		return -EINVAL;
	}
	v = pt_mod_alloc(mod, count * sizeof(double));
	if (!v) {
		pt_log(mod, PT_LOG_ERR, "heap too small to parse %zu taps", count);
		return -ENOMEM;
	}
	n = pt_params_list(mod, blob, size, "taps", -1e6, 1e6, v, count);
	if (n > 0)
		n = fir_set_taps(mod, f, v, NULL, (uint32_t)n);
	pt_mod_free(mod, v);
	return n < 0 ? n : 0;
}

static int fir_init(struct pt_module *mod, const void *data, size_t size)
{
	static const float unit = 1.0f;
	struct fir *f = pt_mod_alloc(mod, sizeof(*f));
	int ret;

	if (!f)
		return -ENOMEM;
	*f = (struct fir){ .ntaps = 0 };
	ret = fir_set_taps(mod, f, NULL, &unit, 1);
	if (!ret)
		ret = fir_parse(mod, f, data, size);
	if (ret) {
		pt_mod_free(mod, f->taps_rev);
		pt_mod_free(mod, f);
		return ret;
	}
	pt_mod_set_priv(mod, f);
	return 0;
}

static int fir_prepare(struct pt_module *mod, struct pt_source *const *sources,
		       unsigned nsources, struct pt_sink *const *sinks,
		       unsigned nsinks)
{
	struct fir *f = pt_mod_priv(mod);
	const struct pt_format *in, *out;

	if (pcm_one_to_one(mod, sources, nsources, sinks, nsinks, &in, &out))
		return -EINVAL;
	f->channels = in->channels;
	return fir_alloc_state(mod, f, f->ntaps);
}

static int fir_process(struct pt_module *mod, struct pt_source *const *sources,
		       unsigned nsources, struct pt_sink *const *sinks,
		       unsigned nsinks)
{
	struct fir *f = pt_mod_priv(mod);
	uint32_t frames = pt_mod_period_frames(mod);
	float buf[PCM_CHUNK * PT_CHANNELS_MAX];
	struct pcm_cursor in, out;
	unsigned ch = f->channels;
	size_t old = f->ntaps - 1;
	int ret;

	(void)nsources;
	(void)nsinks;
	ret = pcm_source_cursor(sources[0], frames, &in);
	if (!ret)
		ret = pcm_sink_cursor(sinks[0], frames, &out);
	if (ret)
		return ret;
	/* Deinterleave the period behind each channel's history. */
	for (uint32_t done = 0; done < frames;) {
		uint32_t n = frames - done < PCM_CHUNK ? frames - done : PCM_CHUNK;

		pcm_get(&in, buf, n);
		for (unsigned c = 0; c < ch; c++) {
			float *x = f->hist + c * f->hist_len + old + done;

			for (uint32_t i = 0; i < n; i++)
				x[i] = buf[i * ch + c];
		}
		done += n;
	}
	for (unsigned c = 0; c < ch; c++) {
		float *x = f->hist + c * f->hist_len, *y = f->out + c * f->block;

		memset(y, 0, f->block * sizeof(float));
		fir_kernel(y, x, f->taps_rev, f->ntaps, f->block / FIR_LANES);
		memmove(x, x + frames, old * sizeof(float));
	}
	for (uint32_t done = 0; done < frames;) {
		uint32_t n = frames - done < PCM_CHUNK ? frames - done : PCM_CHUNK;

		for (unsigned c = 0; c < ch; c++) {
			const float *y = f->out + c * f->block + done;

			for (uint32_t i = 0; i < n; i++)
				buf[i * ch + c] = y[i];
		}
		pcm_put(&out, buf, n);
		done += n;
	}
	ret = pt_source_release(sources[0], (size_t)frames * in.frame);
	if (!ret)
		ret = pt_sink_commit(sinks[0], (size_t)frames * out.frame);
	return ret;
}

static int fir_set_config(struct pt_module *mod, uint32_t param,
			  const void *data, size_t size)
{
	struct fir *f = pt_mod_priv(mod);

	if (param == PT_PARAM_TEXT)
		return fir_parse(mod, f, data, size);
	if (param == FIR_PARAM_TAPS) {
		float *taps;
		int ret;

		if (size == 0 || size % sizeof(float) ||
		    size / sizeof(float) > FIR_TAPS_MAX) {
			pt_log(mod, PT_LOG_ERR,
			       "taps blob of %zu bytes: expected 1..%d floats",
			       size, FIR_TAPS_MAX);
			return -EINVAL;
		}
		/* Copied first: the blob need not be aligned for float. */
		taps = pt_mod_alloc(mod, size);
		if (!taps)
			return -ENOMEM;
		memcpy(taps, data, size);
		ret = 0;
		for (size_t i = 0; i < size / sizeof(float); i++)
			if (!isfinite(taps[i]) || fabsf(taps[i]) > 1e6f) {
				pt_log(mod, PT_LOG_ERR,
				       "taps[%zu] is not finite or beyond 1e6", i);
				ret = -EINVAL;
				break;
			}
		if (!ret)
			ret = fir_set_taps(mod, f, NULL, taps,
					   (uint32_t)(size / sizeof(float)));
		pt_mod_free(mod, taps);
		return ret;
	}
	return -EINVAL;
}

static int fir_get_config(struct pt_module *mod, uint32_t param, void *data,
			  size_t *size)
{
	struct fir *f = pt_mod_priv(mod);

	if (param == FIR_PARAM_TAPS) {
		size_t need = f->ntaps * sizeof(float);

		if (*size < need)
			return -ENOSPC;
		for (uint32_t j = 0; j < f->ntaps; j++) {
			float h = f->taps_rev[f->ntaps - 1 - j];

			memcpy((uint8_t *)data + j * sizeof(float), &h, sizeof(h));
		}
		*size = need;
		return 0;
	}
	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	/* The taps can be longer than any text reply: write them straight
	 * into the caller's room. */
	{
		char *out = data;
		size_t len = 0;

		for (uint32_t j = 0; j < f->ntaps; j++) {
			char item[48];
			int n = snprintf(item, sizeof(item), "%s%.9g",
					 j ? "," : "taps=",
					 (double)f->taps_rev[f->ntaps - 1 - j]);

			if (len + (size_t)n > *size)
				return -ENOSPC;
			memcpy(out + len, item, (size_t)n);
			len += (size_t)n;
		}
		*size = len;
		return 0;
	}
}

static int fir_reset(struct pt_module *mod)
{
	struct fir *f = pt_mod_priv(mod);

	if (f->hist)
		memset(f->hist, 0, f->channels * f->hist_len * sizeof(float));
	return 0;
}

static void fir_free(struct pt_module *mod)
{
	struct fir *f = pt_mod_priv(mod);

	pt_mod_free(mod, f->taps_rev);
	pt_mod_free(mod, f->hist);
	pt_mod_free(mod, f->out);
	pt_mod_free(mod, f);
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops fir_ops = {
	.init = fir_init,
	.prepare = fir_prepare,
	.process = fir_process,
	.set_config = fir_set_config,
	.get_config = fir_get_config,
	.reset = fir_reset,
	.free = fir_free,
};

PT_MODULE(fir, fir_ops, .name = "fir",
	  .uuid = { 0x1a, 0xf4, 0xe3, 0x84, 0x2d, 0x19, 0x4b, 0x47, 0xa3, 0x9c,
		    0xcf, 0xca, 0x76, 0x6c, 0x7d, 0x7a },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 262144,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
