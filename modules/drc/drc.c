/* SPDX-License-Identifier: MIT */
/*
 * drc - a feed-forward compressor/limiter. One input, one output of the
 * same rate and channels; any sample formats (through float, see
 * modules/pcm.h). The channels are linked: one gain for the whole frame.
 *
 * Per frame: the level is the largest |x| of the frame in dBFS (floor
 * -160); the static curve (soft knee of width W around threshold T, ratio
 * R) gives the wanted output level
 *     L            when 2 (L - T) < -W
 *     L + (1/R - 1) (L - T + W/2)^2 / (2 W)   when |2 (L - T)| <= W
 *     T + (L - T) / R                          when 2 (L - T) > W
 * and the gain reduction G = curve(L) - L <= 0 is smoothed in dB with one
 * pole: attack when the reduction grows, release when it shrinks,
 * coefficient exp(-1 / (ms * rate / 1000)) (0 ms: no smoothing). The frame
 * is multiplied by 10^((G_smooth + makeup_db) / 20). With a constant |x|
 * the smoothed gain settles on the static curve, which the tests check.
 *
 * Parameters (init and PT_PARAM_TEXT):
 *   threshold_db  [-80, 0]     default -20
 *   ratio         [1, 100]     default 4 (100 acts as a limiter)
 *   attack_ms     [0, 1000]    default 5
 *   release_ms    [0, 5000]    default 100
 *   makeup_db     [-24, 48]    default 0
 *   knee_db       [0, 24]      default 6 (0: hard knee)
 */
#include <errno.h>
#include <math.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

struct drc_params {
	double threshold_db, ratio, attack_ms, release_ms, makeup_db, knee_db;
};

struct drc {
	struct drc_params p;
	double attack, release; /* smoothing coefficients at the rate */
	double gain_db;         /* smoothed gain reduction, <= 0 */
	uint32_t rate;
	unsigned channels;
};

static const char *const drc_keys[] = { "threshold_db", "ratio", "attack_ms",
					"release_ms", "makeup_db", "knee_db",
					NULL };

static int drc_parse(struct pt_module *mod, const void *blob, size_t size,
		     struct drc_params *p)
{
	int ret = pt_params_known(mod, blob, size, drc_keys);

	if (ret)
		return ret;
	if (pt_params_number(mod, blob, size, "threshold_db", -80, 0,
			  &p->threshold_db) < 0 ||
	    pt_params_number(mod, blob, size, "ratio", 1, 100, &p->ratio) < 0 ||
	    pt_params_number(mod, blob, size, "attack_ms", 0, 1000, &p->attack_ms) < 0 ||
	    pt_params_number(mod, blob, size, "release_ms", 0, 5000,
			  &p->release_ms) < 0 ||
	    pt_params_number(mod, blob, size, "makeup_db", -24, 48, &p->makeup_db) < 0 ||
	    pt_params_number(mod, blob, size, "knee_db", 0, 24, &p->knee_db) < 0)
		return -EINVAL;
	return 0;
}

static double drc_coef(double ms, uint32_t rate)
{
	return ms <= 0 ? 0.0 : exp(-1.0 / (ms * rate / 1000.0));
}

static void drc_apply(struct drc *d)
{
	if (d->rate) {
		d->attack = drc_coef(d->p.attack_ms, d->rate);
		d->release = drc_coef(d->p.release_ms, d->rate);
	}
}

/* The static curve: output level in dB for input level @l. */
static double drc_curve(const struct drc_params *p, double l)
{
	double over = l - p->threshold_db, w = p->knee_db;

	if (2 * over < -w)
		return l;
	if (2 * fabs(over) <= w && w > 0) {
		double t = over + w / 2;
		return l + (1 / p->ratio - 1) * t * t / (2 * w);
	}
	return p->threshold_db + over / p->ratio;
}

static int drc_init(struct pt_module *mod, const void *data, size_t size)
{
	struct drc_params p = { .threshold_db = -20, .ratio = 4, .attack_ms = 5,
				.release_ms = 100, .makeup_db = 0, .knee_db = 6 };
	struct drc *d;
	int ret = drc_parse(mod, data, size, &p);

	if (ret)
		return ret;
	d = pt_mod_alloc(mod, sizeof(*d));
	if (!d)
		return -ENOMEM;
	*d = (struct drc){ .p = p };
	pt_mod_set_priv(mod, d);
	return 0;
}

static int drc_prepare(struct pt_module *mod, struct pt_source *const *sources,
		       unsigned nsources, struct pt_sink *const *sinks,
		       unsigned nsinks)
{
	struct drc *d = pt_mod_priv(mod);
	const struct pt_format *in, *out;

	if (pcm_one_to_one(mod, sources, nsources, sinks, nsinks, &in, &out))
		return -EINVAL;
	d->rate = in->rate;
	d->channels = in->channels;
	d->gain_db = 0;
	drc_apply(d);
	return 0;
}

static void drc_chunk(void *ctx, float *buf, uint32_t n)
{
	struct drc *d = ctx;
	unsigned ch = d->channels;
	double g = d->gain_db;

	for (uint32_t i = 0; i < n; i++) {
		float *x = buf + i * ch, peak = 0, k;
		double l, target, a;

		for (unsigned c = 0; c < ch; c++)
			peak = fmaxf(peak, fabsf(x[c]));
		l = peak > 1e-8f ? 20.0 * log10(peak) : -160.0;
		target = drc_curve(&d->p, l) - l;
		a = target < g ? d->attack : d->release;
		g = a * g + (1 - a) * target;
		k = (float)pow(10.0, (g + d->p.makeup_db) / 20.0);
		for (unsigned c = 0; c < ch; c++)
			x[c] *= k;
	}
	d->gain_db = g;
}

static int drc_process(struct pt_module *mod, struct pt_source *const *sources,
		       unsigned nsources, struct pt_sink *const *sinks,
		       unsigned nsinks)
{
	(void)nsources;
	(void)nsinks;
	return pcm_period_in_place(sources[0], sinks[0], pt_mod_period_frames(mod),
				   drc_chunk, pt_mod_priv(mod));
}

static int drc_set_config(struct pt_module *mod, uint32_t param,
			  const void *data, size_t size)
{
	struct drc *d = pt_mod_priv(mod);
	struct drc_params p = d->p;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = drc_parse(mod, data, size, &p);
	if (ret)
		return ret;
	d->p = p;
	drc_apply(d);
	return 0;
}

static int drc_get_config(struct pt_module *mod, uint32_t param, void *data,
			  size_t *size)
{
	struct drc *d = pt_mod_priv(mod);
	struct pt_params_text txt = { .len = 0 };

	pt_params_printf(&txt,
		      "threshold_db=%.17g ratio=%.17g attack_ms=%.17g "
		      "release_ms=%.17g makeup_db=%.17g knee_db=%.17g",
		      d->p.threshold_db, d->p.ratio, d->p.attack_ms,
		      d->p.release_ms, d->p.makeup_db, d->p.knee_db);
	return pt_params_reply(&txt, param, data, size);
}

static int drc_reset(struct pt_module *mod)
{
	struct drc *d = pt_mod_priv(mod);

	d->gain_db = 0;
	return 0;
}

static void drc_free(struct pt_module *mod)
{
	pt_mod_free(mod, pt_mod_priv(mod));
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops drc_ops = {
	.init = drc_init,
	.prepare = drc_prepare,
	.process = drc_process,
	.set_config = drc_set_config,
	.get_config = drc_get_config,
	.reset = drc_reset,
	.free = drc_free,
};

PT_MODULE(drc, drc_ops, .name = "drc",
	  .uuid = { 0x5b, 0x5d, 0xde, 0xfe, 0x24, 0x40, 0x4c, 0xf9, 0xae, 0x24,
		    0xa2, 0x2e, 0x1a, 0x25, 0x59, 0xcf },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
