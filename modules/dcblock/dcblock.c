/* SPDX-License-Identifier: MIT */
/*
 * dcblock - DC blocking high-pass, y[n] = x[n] - x[n-1] + r * y[n-1], per
 * channel with double state. One input, one output of the same rate and
 * channels; any sample formats (through float, see modules/pcm.h).
 *
 * Parameters (init and PT_PARAM_TEXT):
 *   r=R    pole radius [0.9, 0.99999], default 0.995; the -3 dB corner is
 *          about (1 - r) * rate / (2 pi): 38 Hz at 48 kHz for the default.
 */
#include <errno.h>
#include <math.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

struct dcblock {
	double r;
	unsigned channels;
	double x1[PT_CHANNELS_MAX], y1[PT_CHANNELS_MAX];
};

static const char *const dcblock_keys[] = { "r", NULL };

static int dcblock_parse(struct pt_module *mod, const void *blob, size_t size,
			 double *r)
{
	int ret = pt_params_known(mod, blob, size, dcblock_keys);

	if (ret)
		return ret;
	return pt_params_number(mod, blob, size, "r", 0.9, 0.99999, r) < 0 ? -EINVAL : 0;
}

static int dcblock_init(struct pt_module *mod, const void *data, size_t size)
{
	double r = 0.995;
	struct dcblock *d;
	int ret = dcblock_parse(mod, data, size, &r);

	if (ret)
		return ret;
	d = pt_mod_alloc(mod, sizeof(*d));
	if (!d)
		return -ENOMEM;
	*d = (struct dcblock){ .r = r };
	pt_mod_set_priv(mod, d);
	return 0;
}

static int dcblock_prepare(struct pt_module *mod,
			   struct pt_source *const *sources, unsigned nsources,
			   struct pt_sink *const *sinks, unsigned nsinks)
{
	struct dcblock *d = pt_mod_priv(mod);
	const struct pt_format *in, *out;

	if (pcm_one_to_one(mod, sources, nsources, sinks, nsinks, &in, &out))
		return -EINVAL;
	d->channels = in->channels;
	memset(d->x1, 0, sizeof(d->x1));
	memset(d->y1, 0, sizeof(d->y1));
	return 0;
}

static void dcblock_chunk(void *ctx, float *buf, uint32_t n)
{
	struct dcblock *d = ctx;
	unsigned ch = d->channels;

	for (unsigned c = 0; c < ch; c++) {
		double x1 = d->x1[c], y1 = d->y1[c];

		for (uint32_t i = 0; i < n; i++) {
			double x = buf[i * ch + c];

			y1 = x - x1 + d->r * y1;
			x1 = x;
			buf[i * ch + c] = (float)y1;
		}
		d->x1[c] = x1;
		/* Silence would otherwise decay y1 through the subnormals,
		 * which cost ~100x per operation. */
		d->y1[c] = fabs(y1) < 1e-30 ? 0.0 : y1;
	}
}

static int dcblock_process(struct pt_module *mod,
			   struct pt_source *const *sources, unsigned nsources,
			   struct pt_sink *const *sinks, unsigned nsinks)
{
	(void)nsources;
	(void)nsinks;
	return pcm_period_in_place(sources[0], sinks[0], pt_mod_period_frames(mod),
				   dcblock_chunk, pt_mod_priv(mod));
}

static int dcblock_set_config(struct pt_module *mod, uint32_t param,
			      const void *data, size_t size)
{
	struct dcblock *d = pt_mod_priv(mod);
	double r = d->r;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = dcblock_parse(mod, data, size, &r);
	if (!ret)
		d->r = r;
	return ret;
}

static int dcblock_get_config(struct pt_module *mod, uint32_t param, void *data,
			      size_t *size)
{
	struct dcblock *d = pt_mod_priv(mod);
	struct pt_params_text txt = { .len = 0 };

	pt_params_printf(&txt, "r=%.17g", d->r);
	return pt_params_reply(&txt, param, data, size);
}

static int dcblock_reset(struct pt_module *mod)
{
	struct dcblock *d = pt_mod_priv(mod);

	memset(d->x1, 0, sizeof(d->x1));
	memset(d->y1, 0, sizeof(d->y1));
	return 0;
}

static void dcblock_free(struct pt_module *mod)
{
	pt_mod_free(mod, pt_mod_priv(mod));
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops dcblock_ops = {
	.init = dcblock_init,
	.prepare = dcblock_prepare,
	.process = dcblock_process,
	.set_config = dcblock_set_config,
	.get_config = dcblock_get_config,
	.reset = dcblock_reset,
	.free = dcblock_free,
};

PT_MODULE(dcblock, dcblock_ops, .name = "dcblock",
	  .uuid = { 0x96, 0x1f, 0x51, 0xad, 0xc4, 0xbc, 0x43, 0xc7, 0xb3, 0x31,
		    0x66, 0xb6, 0x97, 0x94, 0x87, 0x53 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
