/* SPDX-License-Identifier: MIT */
/*
 * gain - one input, one output of the same rate and channels (any sample
 * formats on either side), every sample multiplied by a gain.
 *
 * Parameters (init and PT_PARAM_TEXT):
 *   gain_db=DB    [-144, 48], default 0; -144 is taken as silence (gain 0)
 *   ramp_ms=MS    [0, 10000], default 10: a change made at run time moves
 *                 the gain linearly (in amplitude) from its current value
 *                 to the target over this time, and lands exactly on the
 *                 target on the ramp's last frame. The init value applies
 *                 from the first frame with no ramp.
 *
 * Processing is in float (see modules/pcm.h); the gain itself is a double
 * stepped once per frame.
 */
#include <errno.h>
#include <math.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

struct gain {
	double gain_db, ramp_ms;
	double current;     /* linear gain applied to the next frame */
	double target;      /* linear gain of gain_db */
	double step;        /* per-frame change while ramping */
	uint64_t ramp_left; /* frames until current == target */
	uint32_t rate;
	unsigned channels;
};

static const char *const gain_keys[] = { "gain_db", "ramp_ms", NULL };

static double gain_linear(double db)
{
	return db <= -144.0 ? 0.0 : pow(10.0, db / 20.0);
}

static int gain_parse(struct pt_module *mod, const void *blob, size_t size,
		      double *gain_db, double *ramp_ms)
{
	int ret = pt_params_known(mod, blob, size, gain_keys);

	if (ret)
		return ret;
	if (pt_params_number(mod, blob, size, "gain_db", -144, 48, gain_db) < 0 ||
	    pt_params_number(mod, blob, size, "ramp_ms", 0, 10000, ramp_ms) < 0)
		return -EINVAL;
	return 0;
}

static int gain_init(struct pt_module *mod, const void *data, size_t size)
{
	double db = 0, ramp = 10;
	struct gain *g;
	int ret = gain_parse(mod, data, size, &db, &ramp);

	if (ret)
		return ret;
	g = pt_mod_alloc(mod, sizeof(*g));
	if (!g)
		return -ENOMEM;
	*g = (struct gain){ .gain_db = db, .ramp_ms = ramp,
			    .current = gain_linear(db), .target = gain_linear(db) };
	pt_mod_set_priv(mod, g);
	return 0;
}

static int gain_prepare(struct pt_module *mod, struct pt_source *const *sources,
			unsigned nsources, struct pt_sink *const *sinks,
			unsigned nsinks)
{
	struct gain *g = pt_mod_priv(mod);
	const struct pt_format *in, *out;

	if (pcm_one_to_one(mod, sources, nsources, sinks, nsinks, &in, &out))
		return -EINVAL;
	g->rate = in->rate;
	g->channels = in->channels;
	return 0;
}

static void gain_chunk(void *ctx, float *buf, uint32_t n)
{
	struct gain *g = ctx;
	unsigned ch = g->channels;

	if (g->ramp_left) {
		for (uint32_t i = 0; i < n; i++) {
			float k;

			if (g->ramp_left) {
				/* The last ramp frame lands on the target
				 * itself, not on a sum of steps. */
				if (--g->ramp_left == 0)
					g->current = g->target;
				else
					g->current += g->step;
			}
			k = (float)g->current;
			for (unsigned c = 0; c < ch; c++)
				buf[i * ch + c] *= k;
		}
	} else if (g->current != 1.0) {
		float k = (float)g->current;

		for (uint32_t i = 0; i < n * ch; i++)
			buf[i] *= k;
	}
}

static int gain_process(struct pt_module *mod, struct pt_source *const *sources,
			unsigned nsources, struct pt_sink *const *sinks,
			unsigned nsinks)
{
	(void)nsources;
	(void)nsinks;
	return pcm_period_in_place(sources[0], sinks[0], pt_mod_period_frames(mod),
				   gain_chunk, pt_mod_priv(mod));
}

static int gain_set_config(struct pt_module *mod, uint32_t param,
			   const void *data, size_t size)
{
	struct gain *g = pt_mod_priv(mod);
	double db = g->gain_db, ramp = g->ramp_ms;
	uint64_t frames;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = gain_parse(mod, data, size, &db, &ramp);
	if (ret)
		return ret;
	g->gain_db = db;
	g->ramp_ms = ramp;
	g->target = gain_linear(db);
	/* Before prepare the rate is unknown: jump, there is no audio yet. */
	frames = g->rate ? (uint64_t)llround(ramp * g->rate / 1000.0) : 0;
	if (frames == 0 || g->current == g->target) {
		g->current = g->target;
		g->ramp_left = 0;
	} else {
		g->step = (g->target - g->current) / (double)frames;
		g->ramp_left = frames;
	}
	return 0;
}

static int gain_get_config(struct pt_module *mod, uint32_t param, void *data,
			   size_t *size)
{
	struct gain *g = pt_mod_priv(mod);
	struct pt_params_text txt = { .len = 0 };

	pt_params_printf(&txt, "gain_db=%.17g ramp_ms=%.17g", g->gain_db,
		      g->ramp_ms);
	return pt_params_reply(&txt, param, data, size);
}

static int gain_reset(struct pt_module *mod)
{
	struct gain *g = pt_mod_priv(mod);

	g->current = g->target;
	g->ramp_left = 0;
	return 0;
}

static void gain_free(struct pt_module *mod)
{
	pt_mod_free(mod, pt_mod_priv(mod));
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops gain_ops = {
	.init = gain_init,
	.prepare = gain_prepare,
	.process = gain_process,
	.set_config = gain_set_config,
	.get_config = gain_get_config,
	.reset = gain_reset,
	.free = gain_free,
};

PT_MODULE(gain, gain_ops, .name = "gain",
	  .uuid = { 0x11, 0x4a, 0x84, 0xff, 0x86, 0x67, 0x4a, 0x23, 0x9d, 0x41,
		    0x49, 0x17, 0x74, 0x99, 0x39, 0x42 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
