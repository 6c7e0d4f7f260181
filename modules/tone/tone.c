/* SPDX-License-Identifier: MIT */
/*
 * tone - a signal generator: sine, sweep or white noise, the same on every
 * channel of its one output. Deterministic: the phase is a double that
 * advances by freq/rate per frame, the noise is a seeded xorshift32, so two
 * runs (trusted or isolated) give the same bits.
 *
 * Parameters (init and PT_PARAM_TEXT):
 *   wave=sine|sweep|noise   default sine
 *   freq=HZ                 sine frequency, default 1000, below rate/2
 *   amplitude_db=DB         peak level in dBFS, [-144, 0], default -6
 *   start=HZ end=HZ         sweep range, default 20 .. 20000 (clamped to
 *                           below rate/2 at prepare)
 *   seconds=S               sweep length, default 5; the sweep repeats
 *   log=0|1                 logarithmic sweep, default 1
 *   seed=N                  noise seed, [1, 4294967295], default 1
 */
#include <errno.h>
#include <math.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

enum tone_wave { TONE_SINE, TONE_SWEEP, TONE_NOISE };

struct tone_params {
	enum tone_wave wave;
	double freq, amplitude_db, start, end, seconds, log;
	double seed;
};

struct tone {
	struct tone_params p;
	uint32_t rate;     /* 0 until prepared */
	unsigned channels;
	double phase;      /* cycles, [0, 1) */
	uint64_t sweep_pos; /* frames into the current sweep */
	uint32_t rng;
};

static const char *const tone_keys[] = { "wave", "freq", "amplitude_db", "start",
					 "end", "seconds", "log", "seed", NULL };

static const char *const wave_names[] = { "sine", "sweep", "noise" };

/* Checks frequencies against Nyquist once the rate is known. */
static int tone_check_rate(struct pt_module *mod, const struct tone_params *p,
			   uint32_t rate)
{
	double nyq = rate / 2.0;

	if (p->wave == TONE_SINE && p->freq >= nyq) {
		pt_log(mod, PT_LOG_ERR, "freq=%g must be below rate/2 (%g)",
		       p->freq, nyq);
		return -EINVAL;
	}
	if (p->wave == TONE_SWEEP && (p->start >= nyq || p->end >= nyq)) {
		pt_log(mod, PT_LOG_ERR,
		       "sweep start=%g end=%g must be below rate/2 (%g)",
		       p->start, p->end, nyq);
		return -EINVAL;
	}
	return 0;
}

static int tone_parse(struct pt_module *mod, const void *blob, size_t size,
		      struct tone_params *p, uint32_t rate)
{
	char wave[16];
	int ret = pt_params_known(mod, blob, size, tone_keys);

	if (ret)
		return ret;
	ret = pt_param_string(blob, size, "wave", wave, sizeof(wave));
	if (ret >= 0) {
		unsigned i;

		for (i = 0; i < 3; i++)
			if (!strcmp(wave, wave_names[i]))
				break;
		if (i == 3) {
			pt_log(mod, PT_LOG_ERR,
			       "wave=%s: expected sine, sweep or noise", wave);
			return -EINVAL;
		}
		p->wave = (enum tone_wave)i;
	} else if (ret != -ENOENT) {
		pt_log(mod, PT_LOG_ERR, "wave: expected sine, sweep or noise");
		return -EINVAL;
	}
	if (pt_params_number(mod, blob, size, "freq", 0.001, 96000, &p->freq) < 0 ||
	    pt_params_number(mod, blob, size, "amplitude_db", -144, 0,
			  &p->amplitude_db) < 0 ||
	    pt_params_number(mod, blob, size, "start", 0.001, 96000, &p->start) < 0 ||
	    pt_params_number(mod, blob, size, "end", 0.001, 96000, &p->end) < 0 ||
	    pt_params_number(mod, blob, size, "seconds", 0.001, 86400,
			  &p->seconds) < 0 ||
	    pt_params_number(mod, blob, size, "log", 0, 1, &p->log) < 0 ||
	    pt_params_number(mod, blob, size, "seed", 1, 4294967295.0, &p->seed) < 0)
		return -EINVAL;
	if (p->log != 0 && p->log != 1) {
		pt_log(mod, PT_LOG_ERR, "log=%g: expected 0 or 1", p->log);
		return -EINVAL;
	}
	if (p->seed != floor(p->seed)) {
		pt_log(mod, PT_LOG_ERR, "seed=%g: expected an integer", p->seed);
		return -EINVAL;
	}
	if (rate)
		return tone_check_rate(mod, p, rate);
	return 0;
}

static int tone_init(struct pt_module *mod, const void *data, size_t size)
{
	struct tone_params p = { .wave = TONE_SINE, .freq = 1000,
				 .amplitude_db = -6, .start = 20, .end = 20000,
				 .seconds = 5, .log = 1, .seed = 1 };
	struct tone *t;
	int ret = tone_parse(mod, data, size, &p, 0);

	if (ret)
		return ret;
	t = pt_mod_alloc(mod, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct tone){ .p = p, .rng = (uint32_t)p.seed };
	pt_mod_set_priv(mod, t);
	return 0;
}

static int tone_prepare(struct pt_module *mod, struct pt_source *const *sources,
			unsigned nsources, struct pt_sink *const *sinks,
			unsigned nsinks)
{
	struct tone *t = pt_mod_priv(mod);
	const struct pt_format *f;

	(void)sources;
	if (nsources != 0 || nsinks != 1) {
		pt_log(mod, PT_LOG_ERR, "needs 0 inputs and 1 output, got %u and %u",
		       nsources, nsinks);
		return -EINVAL;
	}
	f = pt_sink_format(sinks[0]);
	if (t->p.wave == TONE_SWEEP) {
		/* A default sweep at a low rate ends below Nyquist. */
		double top = f->rate * 0.45;
		if (t->p.end >= f->rate / 2.0 && t->p.end == 20000)
			t->p.end = top;
	}
	if (tone_check_rate(mod, &t->p, f->rate))
		return -EINVAL;
	t->rate = f->rate;
	t->channels = f->channels;
	return 0;
}

/* One output value per frame, advancing the generator. */
static float tone_next(struct tone *t, double amp)
{
	double v, f;

	switch (t->p.wave) {
	case TONE_NOISE:
		t->rng ^= t->rng << 13;
		t->rng ^= t->rng >> 17;
		t->rng ^= t->rng << 5;
		return (float)(amp * ((double)(int32_t)t->rng / 2147483648.0));
	case TONE_SWEEP: {
		double len = t->p.seconds * t->rate, x = t->sweep_pos / len;

		if (t->p.log)
			f = t->p.start * pow(t->p.end / t->p.start, x);
		else
			f = t->p.start + (t->p.end - t->p.start) * x;
		if (++t->sweep_pos >= (uint64_t)len)
			t->sweep_pos = 0;
		break;
	}
	default:
		f = t->p.freq;
		break;
	}
	v = amp * sin(2.0 * M_PI * t->phase);
	t->phase += f / t->rate;
	if (t->phase >= 1.0)
		t->phase -= 1.0;
	return (float)v;
}

static int tone_process(struct pt_module *mod, struct pt_source *const *sources,
			unsigned nsources, struct pt_sink *const *sinks,
			unsigned nsinks)
{
	struct tone *t = pt_mod_priv(mod);
	uint32_t frames = pt_mod_period_frames(mod);
	double amp = pow(10.0, t->p.amplitude_db / 20.0);
	float buf[PCM_CHUNK * PT_CHANNELS_MAX];
	struct pcm_cursor out;
	int ret;

	(void)sources;
	(void)nsources;
	(void)nsinks;
	ret = pcm_sink_cursor(sinks[0], frames, &out);
	if (ret)
		return ret;
	for (uint32_t done = 0; done < frames;) {
		uint32_t n = frames - done < PCM_CHUNK ? frames - done : PCM_CHUNK;

		for (uint32_t i = 0; i < n; i++) {
			float v = tone_next(t, amp);
			for (unsigned c = 0; c < t->channels; c++)
				buf[i * t->channels + c] = v;
		}
		pcm_put(&out, buf, n);
		done += n;
	}
	return pt_sink_commit(sinks[0], (size_t)frames * out.frame);
}

static int tone_set_config(struct pt_module *mod, uint32_t param,
			   const void *data, size_t size)
{
	struct tone *t = pt_mod_priv(mod);
	struct tone_params p = t->p;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = tone_parse(mod, data, size, &p, t->rate);
	if (ret)
		return ret;
	if (p.wave != t->p.wave || p.start != t->p.start || p.end != t->p.end ||
	    p.seconds != t->p.seconds || p.log != t->p.log)
		t->sweep_pos = 0;
	if (p.seed != t->p.seed)
		t->rng = (uint32_t)p.seed;
	t->p = p;
	return 0;
}

static int tone_get_config(struct pt_module *mod, uint32_t param, void *data,
			   size_t *size)
{
	struct tone *t = pt_mod_priv(mod);
	struct pt_params_text txt = { .len = 0 };

	pt_params_printf(&txt,
		      "wave=%s freq=%.17g amplitude_db=%.17g start=%.17g "
		      "end=%.17g seconds=%.17g log=%d seed=%.0f",
		      wave_names[t->p.wave], t->p.freq, t->p.amplitude_db,
		      t->p.start, t->p.end, t->p.seconds, (int)t->p.log,
		      t->p.seed);
	return pt_params_reply(&txt, param, data, size);
}

static int tone_reset(struct pt_module *mod)
{
	struct tone *t = pt_mod_priv(mod);

	t->phase = 0;
	t->sweep_pos = 0;
	t->rng = (uint32_t)t->p.seed;
	return 0;
}

static void tone_free(struct pt_module *mod)
{
	pt_mod_free(mod, pt_mod_priv(mod));
	pt_mod_set_priv(mod, NULL);
}

static const struct pt_module_ops tone_ops = {
	.init = tone_init,
	.prepare = tone_prepare,
	.process = tone_process,
	.set_config = tone_set_config,
	.get_config = tone_get_config,
	.reset = tone_reset,
	.free = tone_free,
};

PT_MODULE(tone, tone_ops, .name = "tone",
	  .uuid = { 0xb9, 0x78, 0x1a, 0x6a, 0xa8, 0x90, 0x4a, 0xc7, 0xa3, 0x85,
		    0x3f, 0xc0, 0x24, 0x59, 0x76, 0x40 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 0, .max_sinks = 1);
