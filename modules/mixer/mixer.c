/* SPDX-License-Identifier: MIT */
/*
 * mixer - up to 8 inputs summed into one output, each with its own gain.
 * Every input must have the output's rate and channels; sample formats may
 * differ (each is converted to float, see modules/pcm.h). The sum saturates
 * when the output is an integer format and is left unclamped in FLOAT_LE.
 *
 * Parameters (init and PT_PARAM_TEXT):
 *   gains_db=DB,DB,...   one gain per bound input in pin order (the packed
 *                        order of the sources), each [-144, 48]; -144 is
 *                        silence. Missing entries are 0 dB. A change takes
 *                        effect at the next period, without a ramp.
 */
#include <errno.h>
#include <math.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

#define MIXER_INPUTS 8

struct mixer {
	double gains_db[MIXER_INPUTS];
	float gains[MIXER_INPUTS];
	unsigned channels;
};

static const char *const mixer_keys[] = { "gains_db", NULL };

static int mixer_parse(struct pt_module *mod, const void *blob, size_t size,
		       double *gains_db)
{
	double v[MIXER_INPUTS];
	int n = pt_params_known(mod, blob, size, mixer_keys);

	if (n)
		return n;
	n = pt_params_list(mod, blob, size, "gains_db", -144, 48, v, MIXER_INPUTS);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		gains_db[i] = v[i];
	return 0;
}

static void mixer_apply(struct mixer *m)
{
	for (unsigned i = 0; i < MIXER_INPUTS; i++)
		m->gains[i] = m->gains_db[i] <= -144.0
				      ? 0.0f
				      : (float)pow(10.0, m->gains_db[i] / 20.0);
}

static int mixer_init(struct pt_module *mod, const void *data, size_t size)
{
	double db[MIXER_INPUTS] = { 0 };
	struct mixer *m;
	int ret = mixer_parse(mod, data, size, db);

	if (ret)
		return ret;
	m = pt_mod_alloc(mod, sizeof(*m));
	if (!m)
		return -ENOMEM;
	*m = (struct mixer){ .channels = 0 };
	memcpy(m->gains_db, db, sizeof(db));
	mixer_apply(m);
	pt_mod_set_priv(mod, m);
	return 0;
}

static int mixer_prepare(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	struct mixer *m = pt_mod_priv(mod);
	const struct pt_format *out;

	if (nsources < 1 || nsources > MIXER_INPUTS || nsinks != 1) {
		pt_log(mod, PT_LOG_ERR,
		       "needs 1..%d inputs and 1 output, got %u and %u",
		       MIXER_INPUTS, nsources, nsinks);
		return -EINVAL;
	}
	out = pt_sink_format(sinks[0]);
	for (unsigned i = 0; i < nsources; i++) {
		const struct pt_format *in = pt_source_format(sources[i]);

		if (in->rate != out->rate || in->channels != out->channels) {
			pt_log(mod, PT_LOG_ERR,
			       "input %u is %u Hz x%u but the output is %u Hz x%u",
			       i, in->rate, in->channels, out->rate,
			       out->channels);
			return -EINVAL;
		}
	}
	m->channels = out->channels;
	return 0;
}

static int mixer_process(struct pt_module *mod,
			 struct pt_source *const *sources, unsigned nsources,
			 struct pt_sink *const *sinks, unsigned nsinks)
{
	struct mixer *m = pt_mod_priv(mod);
	uint32_t frames = pt_mod_period_frames(mod);
	float acc[PCM_CHUNK * PT_CHANNELS_MAX], buf[PCM_CHUNK * PT_CHANNELS_MAX];
	struct pcm_cursor in[MIXER_INPUTS], out;
	int ret;

	(void)nsinks;
	for (unsigned i = 0; i < nsources; i++) {
		ret = pcm_source_cursor(sources[i], frames, &in[i]);
		if (ret)
			return ret;
	}
	ret = pcm_sink_cursor(sinks[0], frames, &out);
	if (ret)
		return ret;
	for (uint32_t done = 0; done < frames;) {
		uint32_t n = frames - done < PCM_CHUNK ? frames - done : PCM_CHUNK;
		size_t samples = (size_t)n * m->channels;

		memset(acc, 0, samples * sizeof(float));
		for (unsigned i = 0; i < nsources; i++) {
			float k = m->gains[i];

			pcm_get(&in[i], buf, n);
			for (size_t s = 0; s < samples; s++)
				acc[s] += k * buf[s];
		}
		pcm_put(&out, acc, n);
		done += n;
	}
	for (unsigned i = 0; i < nsources; i++) {
		ret = pt_source_release(sources[i], (size_t)frames * in[i].frame);
		if (ret)
			return ret;
	}
	return pt_sink_commit(sinks[0], (size_t)frames * out.frame);
}

static int mixer_set_config(struct pt_module *mod, uint32_t param,
			    const void *data, size_t size)
{
	struct mixer *m = pt_mod_priv(mod);
	double db[MIXER_INPUTS];
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	memcpy(db, m->gains_db, sizeof(db));
	ret = mixer_parse(mod, data, size, db);
	if (ret)
		return ret;
	memcpy(m->gains_db, db, sizeof(db));
	mixer_apply(m);
	return 0;
}

static int mixer_get_config(struct pt_module *mod, uint32_t param, void *data,
			    size_t *size)
{
	struct mixer *m = pt_mod_priv(mod);
	struct pt_params_text txt = { .len = 0 };

	pt_params_printf(&txt, "gains_db=");
	for (unsigned i = 0; i < MIXER_INPUTS; i++)
		pt_params_printf(&txt, "%s%.17g", i ? "," : "", m->gains_db[i]);
	return pt_params_reply(&txt, param, data, size);
}

static void mixer_free(struct pt_module *mod)
{
	pt_mod_free(mod, pt_mod_priv(mod));
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops mixer_ops = {
	.init = mixer_init,
	.prepare = mixer_prepare,
	.process = mixer_process,
	.set_config = mixer_set_config,
	.get_config = mixer_get_config,
	.free = mixer_free,
};

PT_MODULE(mixer, mixer_ops, .name = "mixer",
	  .uuid = { 0x8f, 0x10, 0xdc, 0x21, 0xba, 0xcb, 0x45, 0x2f, 0xba, 0xa3,
		    0x71, 0x28, 0xa5, 0x39, 0xf4, 0x43 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = MIXER_INPUTS, .max_sinks = 1);
