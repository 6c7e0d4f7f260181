/* SPDX-License-Identifier: MIT */
/*
 * eq_iir - a cascade of up to 16 biquads, the same on every channel, in
 * transposed direct form II with double coefficients and double state per
 * channel. One input, one output of the same rate and channels; any sample
 * formats (converted through float, see modules/pcm.h).
 *
 * Parameters (init and PT_PARAM_TEXT; give coefs or bands, not both; with
 * neither the filter passes the signal through):
 *   coefs=b0,b1,b2,a1,a2,...   5 numbers per stage, normalised (a0 = 1);
 *                              each stage must be stable
 *                              (|a2| < 1, |a1| < 1 + a2)
 *   bands=TYPE:FREQ:Q[:GAIN_DB],...   (or the same items all separated by
 *                              commas, as a YAML list gives them)
 *        TYPE peaking|lowshelf|highshelf|lowpass|highpass, designed with
 *        the RBJ audio EQ cookbook formulas at the stream rate;
 *        FREQ (0, rate/2), Q [0.05, 100], GAIN_DB [-48, 48] (ignored by
 *        lowpass and highpass)
 * A change at run time keeps the filter state when the number of stages
 * stays the same, so a sweep of a band's gain does not click.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

#define EQ_STAGES 16
#define EQ_BANDS_TEXT 1024

enum eq_type { EQ_PEAKING, EQ_LOWSHELF, EQ_HIGHSHELF, EQ_LOWPASS, EQ_HIGHPASS };

static const char *const eq_type_names[] = { "peaking", "lowshelf", "highshelf",
					     "lowpass", "highpass" };

struct eq_band {
	enum eq_type type;
	double freq, q, gain_db;
};

struct eq_biquad {
	double b0, b1, b2, a1, a2;
};

/* A filter description as parsed: either raw stages or bands to design. */
struct eq_spec {
	unsigned nstages;
	bool from_bands;
	struct eq_biquad stage[EQ_STAGES]; /* when !from_bands */
	struct eq_band band[EQ_STAGES];    /* when from_bands */
};

struct eq_iir {
	struct eq_spec spec;
	struct eq_biquad stage[EQ_STAGES]; /* in force */
	unsigned nstages;
	uint32_t rate;
	unsigned channels;
	double state[PT_CHANNELS_MAX][EQ_STAGES][2];
};

static const char *const eq_keys[] = { "coefs", "bands", NULL };

/* RBJ cookbook biquad for @b at @rate, normalised by a0. */
static struct eq_biquad eq_design(const struct eq_band *b, uint32_t rate)
{
	double w0 = 2.0 * M_PI * b->freq / rate, cw = cos(w0), sw = sin(w0);
	double alpha = sw / (2.0 * b->q), A = pow(10.0, b->gain_db / 40.0);
	double sa = 2.0 * sqrt(A) * alpha;
	double b0, b1, b2, a0, a1, a2;

	switch (b->type) {
	case EQ_PEAKING:
		b0 = 1 + alpha * A;
		b1 = -2 * cw;
		b2 = 1 - alpha * A;
		a0 = 1 + alpha / A;
		a1 = -2 * cw;
		a2 = 1 - alpha / A;
		break;
	case EQ_LOWSHELF:
		b0 = A * ((A + 1) - (A - 1) * cw + sa);
		b1 = 2 * A * ((A - 1) - (A + 1) * cw);
		b2 = A * ((A + 1) - (A - 1) * cw - sa);
		a0 = (A + 1) + (A - 1) * cw + sa;
		a1 = -2 * ((A - 1) + (A + 1) * cw);
		a2 = (A + 1) + (A - 1) * cw - sa;
		break;
	case EQ_HIGHSHELF:
		b0 = A * ((A + 1) + (A - 1) * cw + sa);
		b1 = -2 * A * ((A - 1) + (A + 1) * cw);
		b2 = A * ((A + 1) + (A - 1) * cw - sa);
		a0 = (A + 1) - (A - 1) * cw + sa;
		a1 = 2 * ((A - 1) - (A + 1) * cw);
		a2 = (A + 1) - (A - 1) * cw - sa;
		break;
	case EQ_LOWPASS:
		b0 = (1 - cw) / 2;
		b1 = 1 - cw;
		b2 = (1 - cw) / 2;
		a0 = 1 + alpha;
		a1 = -2 * cw;
		a2 = 1 - alpha;
		break;
	default: /* EQ_HIGHPASS */
		b0 = (1 + cw) / 2;
		b1 = -(1 + cw);
		b2 = (1 + cw) / 2;
		a0 = 1 + alpha;
		a1 = -2 * cw;
		a2 = 1 - alpha;
		break;
	}
	return (struct eq_biquad){ b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0 };
}

static int eq_type_of(const char *word)
{
	for (int t = 0; t < 5; t++)
		if (!strcmp(word, eq_type_names[t]))
			return t;
	return -1;
}

/* Parses bands in either spelling, "TYPE:F:Q:G,TYPE:F:Q" or the flat list a
 * YAML sequence becomes, "TYPE,F,Q,G,TYPE,F,Q": a band starts at a type
 * name and takes the numbers that follow it. */
static int eq_parse_bands(struct pt_module *mod, char *text, struct eq_spec *s)
{
	char *save = NULL, *tok = strtok_r(text, ",:", &save);

	s->nstages = 0;
	s->from_bands = true;
	while (tok) {
		double v[3] = { 0, 0, 0 };
		unsigned nv = 0, i = s->nstages;
		int t = eq_type_of(tok);

		if (t < 0) {
			pt_log(mod, PT_LOG_ERR,
			       "bands[%u]: '%s' is not peaking, lowshelf, "
			       "highshelf, lowpass or highpass",
			       i, tok);
			return -EINVAL;
		}
		if (i == EQ_STAGES) {
			pt_log(mod, PT_LOG_ERR, "bands: more than %d bands",
			       EQ_STAGES);
			return -EINVAL;
		}
		for (tok = strtok_r(NULL, ",:", &save); tok && eq_type_of(tok) < 0;
		     tok = strtok_r(NULL, ",:", &save)) {
			char *end;

			if (nv == 3) {
				pt_log(mod, PT_LOG_ERR,
				       "bands[%u]: expected TYPE:FREQ:Q[:GAIN_DB]", i);
				return -EINVAL;
			}
			errno = 0;
			v[nv] = strtod(tok, &end);
			if (*end || errno || !isfinite(v[nv])) {
				pt_log(mod, PT_LOG_ERR,
				       "bands[%u]: '%s' is not a number", i, tok);
				return -EINVAL;
			}
			nv++;
		}
		if (nv < 2 || (nv == 2 && t <= EQ_HIGHSHELF)) {
			pt_log(mod, PT_LOG_ERR,
			       "bands[%u]: %s needs FREQ:Q%s", i, eq_type_names[t],
			       t <= EQ_HIGHSHELF ? ":GAIN_DB" : "");
			return -EINVAL;
		}
		if (!(v[0] > 0 && v[0] <= 96000) || !(v[1] >= 0.05 && v[1] <= 100) ||
		    !(v[2] >= -48 && v[2] <= 48)) {
			pt_log(mod, PT_LOG_ERR,
			       "bands[%u]: freq %g (0, 96000], q %g [0.05, 100], "
			       "gain_db %g [-48, 48] out of range",
			       i, v[0], v[1], v[2]);
			return -EINVAL;
		}
		s->band[s->nstages++] = (struct eq_band){ (enum eq_type)t, v[0],
							  v[1], v[2] };
	}
	if (s->nstages == 0) {
		pt_log(mod, PT_LOG_ERR, "bands: empty");
		return -EINVAL;
	}
	return 0;
}

static int eq_parse(struct pt_module *mod, const void *blob, size_t size,
		    struct eq_spec *s)
{
	double c[EQ_STAGES * 5];
	char text[EQ_BANDS_TEXT];
	int n, ret = pt_params_known(mod, blob, size, eq_keys);

	if (ret)
		return ret;
	n = pt_params_list(mod, blob, size, "coefs", -1e6, 1e6, c, EQ_STAGES * 5);
	if (n < 0)
		return n;
	ret = pt_param_string(blob, size, "bands", text, EQ_BANDS_TEXT);
	if (ret >= 0 && n > 0) {
		pt_log(mod, PT_LOG_ERR, "give coefs or bands, not both");
		ret = -EINVAL;
	} else if (ret >= 0) {
		ret = eq_parse_bands(mod, text, s);
	} else if (ret == -E2BIG) {
		pt_log(mod, PT_LOG_ERR, "bands: longer than %d characters",
		       EQ_BANDS_TEXT - 1);
		ret = -EINVAL;
	} else if (n > 0) {
		ret = 0;
		if (n % 5) {
			pt_log(mod, PT_LOG_ERR,
			       "coefs: %d numbers, expected 5 per stage", n);
			ret = -EINVAL;
		}
		s->from_bands = false;
		s->nstages = (unsigned)n / 5;
		for (unsigned i = 0; !ret && i < s->nstages; i++) {
			struct eq_biquad *q = &s->stage[i];

			*q = (struct eq_biquad){ c[5 * i], c[5 * i + 1],
						 c[5 * i + 2], c[5 * i + 3],
						 c[5 * i + 4] };
			if (!(fabs(q->a2) < 1.0 && fabs(q->a1) < 1.0 + q->a2)) {
				pt_log(mod, PT_LOG_ERR,
				       "coefs: stage %u (a1=%g a2=%g) is unstable",
				       i, q->a1, q->a2);
				ret = -EINVAL;
			}
		}
	} else {
		ret = 0; /* neither key: keep the spec in force */
	}
	return ret;
}

/* Computes the stages of @s at @rate into @out. Returns 0, or -EINVAL when
 * a band is not below Nyquist. */
static int eq_stages(struct pt_module *mod, const struct eq_spec *s,
		     uint32_t rate, struct eq_biquad *out)
{
	for (unsigned i = 0; i < s->nstages; i++) {
		if (!s->from_bands) {
			out[i] = s->stage[i];
			continue;
		}
		if (s->band[i].freq >= rate / 2.0) {
			pt_log(mod, PT_LOG_ERR,
			       "bands[%u]: freq %g is not below rate/2 (%g)", i,
			       s->band[i].freq, rate / 2.0);
			return -EINVAL;
		}
		out[i] = eq_design(&s->band[i], rate);
	}
	return 0;
}

static int eq_init(struct pt_module *mod, const void *data, size_t size)
{
	struct eq_iir *e = pt_mod_alloc(mod, sizeof(*e));
	int ret;

	if (!e)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	ret = eq_parse(mod, data, size, &e->spec);
	if (ret) {
		pt_mod_free(mod, e);
		return ret;
	}
	pt_mod_set_priv(mod, e);
	return 0;
}

static int eq_prepare(struct pt_module *mod, struct pt_source *const *sources,
		      unsigned nsources, struct pt_sink *const *sinks,
		      unsigned nsinks)
{
	struct eq_iir *e = pt_mod_priv(mod);
	const struct pt_format *in, *out;
	int ret;

	if (pcm_one_to_one(mod, sources, nsources, sinks, nsinks, &in, &out))
		return -EINVAL;
	ret = eq_stages(mod, &e->spec, in->rate, e->stage);
	if (ret)
		return ret;
	e->nstages = e->spec.nstages;
	e->rate = in->rate;
	e->channels = in->channels;
	memset(e->state, 0, sizeof(e->state));
	return 0;
}

static void eq_chunk(void *ctx, float *buf, uint32_t n)
{
	struct eq_iir *e = ctx;
	unsigned ch = e->channels;

	for (unsigned c = 0; c < ch; c++) {
		for (unsigned s = 0; s < e->nstages; s++) {
			const struct eq_biquad q = e->stage[s];
			double s1 = e->state[c][s][0], s2 = e->state[c][s][1];

			for (uint32_t i = 0; i < n; i++) {
				double x = buf[i * ch + c];
				double y = q.b0 * x + s1;

				s1 = q.b1 * x - q.a1 * y + s2;
				s2 = q.b2 * x - q.a2 * y;
				buf[i * ch + c] = (float)y;
			}
			/* A decaying tail would otherwise sink into subnormals,
			 * which cost ~100x per operation. */
			e->state[c][s][0] = fabs(s1) < 1e-30 ? 0.0 : s1;
			e->state[c][s][1] = fabs(s2) < 1e-30 ? 0.0 : s2;
		}
	}
}

static int eq_process(struct pt_module *mod, struct pt_source *const *sources,
		      unsigned nsources, struct pt_sink *const *sinks,
		      unsigned nsinks)
{
	(void)nsources;
	(void)nsinks;
	return pcm_period_in_place(sources[0], sinks[0], pt_mod_period_frames(mod),
				   eq_chunk, pt_mod_priv(mod));
}

static int eq_set_config(struct pt_module *mod, uint32_t param,
			 const void *data, size_t size)
{
	struct eq_iir *e = pt_mod_priv(mod);
	struct eq_biquad stage[EQ_STAGES];
	struct eq_spec s;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	s = e->spec;
	ret = eq_parse(mod, data, size, &s);
	if (!ret && e->rate)
		ret = eq_stages(mod, &s, e->rate, stage);
	if (ret)
		return ret;
	if (e->rate) {
		if (s.nstages != e->nstages)
			memset(e->state, 0, sizeof(e->state));
		memcpy(e->stage, stage, sizeof(stage));
		e->nstages = s.nstages;
	}
	e->spec = s;
	return 0;
}

static int eq_get_config(struct pt_module *mod, uint32_t param, void *data,
			 size_t *size)
{
	struct eq_iir *e = pt_mod_priv(mod);
	const struct eq_spec *s = &e->spec;
	struct pt_params_text txt = { .len = 0 };

	if (s->nstages == 0)
		pt_params_printf(&txt, "coefs=1,0,0,0,0");
	else if (s->from_bands) {
		pt_params_printf(&txt, "bands=");
		for (unsigned i = 0; i < s->nstages; i++)
			pt_params_printf(&txt, "%s%s:%.17g:%.17g:%.17g", i ? "," : "",
				      eq_type_names[s->band[i].type],
				      s->band[i].freq, s->band[i].q,
				      s->band[i].gain_db);
	} else {
		pt_params_printf(&txt, "coefs=");
		for (unsigned i = 0; i < s->nstages; i++) {
			const struct eq_biquad *q = &s->stage[i];

			pt_params_printf(&txt, "%s%.17g,%.17g,%.17g,%.17g,%.17g",
				      i ? "," : "", q->b0, q->b1, q->b2, q->a1,
				      q->a2);
		}
	}
	return pt_params_reply(&txt, param, data, size);
}

static int eq_reset(struct pt_module *mod)
{
	struct eq_iir *e = pt_mod_priv(mod);

	memset(e->state, 0, sizeof(e->state));
	return 0;
}

static void eq_free(struct pt_module *mod)
{
	pt_mod_free(mod, pt_mod_priv(mod));
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops eq_ops = {
	.init = eq_init,
	.prepare = eq_prepare,
	.process = eq_process,
	.set_config = eq_set_config,
	.get_config = eq_get_config,
	.reset = eq_reset,
	.free = eq_free,
};

PT_MODULE(eq_iir, eq_ops, .name = "eq_iir",
	  .uuid = { 0x1e, 0xa9, 0x46, 0xe9, 0xea, 0xea, 0x4a, 0xba, 0x9c, 0x45,
		    0x76, 0xc9, 0xdd, 0xca, 0xb2, 0xd5 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
