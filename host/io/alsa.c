/* SPDX-License-Identifier: MIT */
/*
 * host/io/alsa - ALSA device endpoints (see alsa.h).
 *
 * The stream format is handed to the device unchanged (interleaved, the
 * same sample format, rate and channels), so nothing is converted here: a
 * device that cannot take the format refuses it in prepare, and "plug"
 * devices (default, plughw:) convert inside alsa-lib.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/graph/graph.h"
#include "host/io/alsa.h"

#ifdef PT_HAVE_ALSA

#include <alsa/asoundlib.h>

#define ALSA_NAME_MAX 256
#define ALSA_BUFFER_PERIODS 4 /* default buffer when buffer_us is not given */

struct alsa_state {
	snd_pcm_t *pcm;
	snd_pcm_stream_t stream;
	char device[ALSA_NAME_MAX];
	uint32_t period_us, buffer_us; /* asked for; 0 = default */
	snd_pcm_uframes_t period, buffer; /* agreed with the device */
	bool prepared;
	unsigned frame;     /* bytes per frame */
	uint64_t frames;    /* frames moved to or from the device */
	uint64_t xruns;
	uint64_t target;    /* playback: frames to play in all */
};

static const char *stream_name(snd_pcm_stream_t s)
{
	return s == SND_PCM_STREAM_PLAYBACK ? "playback" : "capture";
}

/* The ALSA format with the same bytes as @sample: S24_4LE is ALSA's S24_LE
 * (24 bits in the low three bytes of four). */
static snd_pcm_format_t alsa_format(unsigned sample)
{
	switch (sample) {
	case PT_SAMPLE_S16_LE:
		return SND_PCM_FORMAT_S16_LE;
	case PT_SAMPLE_S24_4LE:
		return SND_PCM_FORMAT_S24_LE;
	case PT_SAMPLE_S32_LE:
		return SND_PCM_FORMAT_S32_LE;
	case PT_SAMPLE_FLOAT_LE:
		return SND_PCM_FORMAT_FLOAT_LE;
	default:
		return SND_PCM_FORMAT_UNKNOWN;
	}
}

static int param_us(struct pt_module *mod, const void *data, size_t size,
		    const char *key, uint32_t *out)
{
	double v;
	int ret = pt_param_double(data, size, key, &v);

	if (ret == -ENOENT)
		return 0;
	if (ret || !(v >= 100.0 && v <= 2000000.0)) {
		pt_log(mod, PT_LOG_ERR, "%s= must be 100..2000000 microseconds",
		       key);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* alsa-lib prints its own diagnostics to stderr; the endpoints report each
 * failure themselves, naming the device, so its lines show only with
 * PARTITA_DEBUG. */
static void alsa_lib_error(const char *file, int line, const char *function,
			   int err, const char *fmt, ...)
{
	va_list ap;

	if (!getenv("PARTITA_DEBUG"))
		return;
	fprintf(stderr, "partita: alsa-lib %s:%d (%s): ", file, line, function);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", snd_strerror(err));
	fputc('\n', stderr);
}

static const char *open_hint(int err)
{
	switch (err) {
	case -EBUSY:
		return " (another program is using it)";
	case -ENOENT:
		return " (no such PCM or sound card; 'aplay -L' lists the PCMs)";
	default:
		return "";
	}
}

/* Parses the parameters and opens the device into @st. Returns 0 or
 * -errno, having logged why. */
static int alsa_open(struct pt_module *mod, struct alsa_state *st,
		     const void *data, size_t size)
{
	int ret = pt_param_string(data, size, "device", st->device,
				  sizeof(st->device));

	if (ret == -ENOENT) {
		pt_log(mod, PT_LOG_ERR, "no device= parameter (an ALSA PCM name such as default, hw:0,0 or null)");
		return -EINVAL;
	}
	if (ret < 0) {
		pt_log(mod, PT_LOG_ERR, "device= name is too long");
		return -EINVAL;
	}
	if (!st->device[0]) {
		pt_log(mod, PT_LOG_ERR, "device= is empty");
		return -EINVAL;
	}
	ret = param_us(mod, data, size, "period_us", &st->period_us);
	if (!ret)
		ret = param_us(mod, data, size, "buffer_us", &st->buffer_us);
	if (ret)
		return ret;
	if (st->period_us && st->buffer_us && st->buffer_us < 2 * st->period_us) {
		pt_log(mod, PT_LOG_ERR,
		       "buffer_us=%u must hold at least two periods of period_us=%u",
		       st->buffer_us, st->period_us);
		return -EINVAL;
	}
	snd_lib_error_set_handler(alsa_lib_error);
	/* Non-blocking open: a busy device is refused now instead of making
	 * instance creation wait for whoever holds it. */
	ret = snd_pcm_open(&st->pcm, st->device, st->stream, SND_PCM_NONBLOCK);
	if (ret < 0) {
		st->pcm = NULL;
		pt_log(mod, PT_LOG_ERR, "cannot open %s device '%s': %s%s",
		       stream_name(st->stream), st->device, snd_strerror(ret),
		       open_hint(ret));
		/* Busy and out of memory keep their meaning; any other
		 * reason is this endpoint failing its init (-EIO, which the
		 * control plane reports as a module failure). */
		return ret == -ENOMEM ? -ENOMEM : ret == -EBUSY ? -EBUSY : -EIO;
	}
	ret = snd_pcm_nonblock(st->pcm, 0);
	if (ret < 0) {
		pt_log(mod, PT_LOG_ERR, "device '%s': cannot switch to blocking mode: %s",
		       st->device, snd_strerror(ret));
		return -EIO;
	}
	return 0;
}

static void alsa_free(struct pt_module *mod)
{
	struct alsa_state *st = pt_mod_priv(mod);

	if (!st)
		return;
	if (st->pcm) {
		snd_pcm_drop(st->pcm);
		snd_pcm_close(st->pcm);
	}
	free(st);
	pt_mod_set_priv(mod, NULL);
}

static int alsa_init(struct pt_module *mod, const void *data, size_t size,
		     snd_pcm_stream_t stream)
{
	/* The state holds a host pointer (snd_pcm_t), so it lives in host
	 * memory, not in the private heap. */
	struct alsa_state *st = calloc(1, sizeof(*st));
	int ret;

	if (!st)
		return -ENOMEM;
	pt_mod_set_priv(mod, st);
	st->stream = stream;
	st->target = UINT64_MAX;
	ret = alsa_open(mod, st, data, size);
	/* A failed init is not followed by free: undo it here. */
	if (ret)
		alsa_free(mod);
	return ret;
}

static int playback_init(struct pt_module *mod, const void *data, size_t size)
{
	return alsa_init(mod, data, size, SND_PCM_STREAM_PLAYBACK);
}

static int capture_init(struct pt_module *mod, const void *data, size_t size)
{
	return alsa_init(mod, data, size, SND_PCM_STREAM_CAPTURE);
}

/* Sets the hardware parameters for @f; the device must take the format as
 * it is. Returns 0 or -errno, logging which parameter the device refused. */
static int hw_setup(struct pt_module *mod, struct alsa_state *st,
		    const struct pt_format *f)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_format_t af = alsa_format(f->sample);
	snd_pcm_uframes_t period, buffer;
	unsigned period_frames = pt_mod_period_frames(mod);
	int dir = 0, ret;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	ret = snd_pcm_hw_params_any(st->pcm, hw);
	if (ret < 0) {
		pt_log(mod, PT_LOG_ERR, "device '%s': no hardware configuration: %s",
		       st->device, snd_strerror(ret));
		return -EIO;
	}
	/* Exact rates only: resampling is the graph's job (an src instance),
	 * where its cost shows in the table. */
	snd_pcm_hw_params_set_rate_resample(st->pcm, hw, 0);
	if (snd_pcm_hw_params_set_access(st->pcm, hw,
					 SND_PCM_ACCESS_RW_INTERLEAVED) < 0) {
		pt_log(mod, PT_LOG_ERR, "device '%s' refuses interleaved read/write access",
		       st->device);
		return -EINVAL;
	}
	if (af == SND_PCM_FORMAT_UNKNOWN ||
	    snd_pcm_hw_params_set_format(st->pcm, hw, af) < 0) {
		pt_log(mod, PT_LOG_ERR,
		       "device '%s' refuses the stream's sample format %s (%u Hz, %u channels)",
		       st->device, pt_sample_name(f->sample), f->rate, f->channels);
		return -EINVAL;
	}
	if (snd_pcm_hw_params_set_channels(st->pcm, hw, f->channels) < 0) {
		unsigned lo = 0, hi = 0;

		snd_pcm_hw_params_get_channels_min(hw, &lo);
		snd_pcm_hw_params_get_channels_max(hw, &hi);
		pt_log(mod, PT_LOG_ERR,
		       "device '%s' refuses %u channels (format %s, %u Hz); it takes %u..%u",
		       st->device, f->channels, pt_sample_name(f->sample), f->rate,
		       lo, hi);
		return -EINVAL;
	}
	if (snd_pcm_hw_params_set_rate(st->pcm, hw, f->rate, 0) < 0) {
		unsigned lo = 0, hi = 0;

		snd_pcm_hw_params_get_rate_min(hw, &lo, &dir);
		snd_pcm_hw_params_get_rate_max(hw, &hi, &dir);
		pt_log(mod, PT_LOG_ERR,
		       "device '%s' refuses %u Hz (format %s, %u channels); it takes %u..%u Hz",
		       st->device, f->rate, pt_sample_name(f->sample), f->channels,
		       lo, hi);
		return -EINVAL;
	}
	period = st->period_us ?
			 (snd_pcm_uframes_t)((uint64_t)f->rate * st->period_us / 1000000u) :
			 period_frames;
	if (!period)
		period = 1;
	buffer = st->buffer_us ?
			 (snd_pcm_uframes_t)((uint64_t)f->rate * st->buffer_us / 1000000u) :
			 period * ALSA_BUFFER_PERIODS;
	if (buffer < 2 * period)
		buffer = 2 * period;
	dir = 0;
	ret = snd_pcm_hw_params_set_period_size_near(st->pcm, hw, &period, &dir);
	if (ret >= 0)
		ret = snd_pcm_hw_params_set_buffer_size_near(st->pcm, hw, &buffer);
	if (ret < 0) {
		pt_log(mod, PT_LOG_ERR, "device '%s' agrees to no period or buffer size near %lu/%lu frames: %s",
		       st->device, (unsigned long)period, (unsigned long)buffer,
		       snd_strerror(ret));
		return -EINVAL;
	}
	ret = snd_pcm_hw_params(st->pcm, hw);
	if (ret < 0) {
		pt_log(mod, PT_LOG_ERR,
		       "device '%s' refuses format %s, %u Hz, %u channels: %s",
		       st->device, pt_sample_name(f->sample), f->rate, f->channels,
		       snd_strerror(ret));
		return -EINVAL;
	}
	snd_pcm_hw_params_get_period_size(hw, &st->period, &dir);
	snd_pcm_hw_params_get_buffer_size(hw, &st->buffer);

	/* Playback starts once a period is queued and the writer wakes when
	 * a period is free: the device, not a timer, sets the pace. */
	ret = snd_pcm_sw_params_current(st->pcm, sw);
	if (ret >= 0)
		ret = snd_pcm_sw_params_set_start_threshold(
			st->pcm, sw,
			st->stream == SND_PCM_STREAM_PLAYBACK ? st->period : 1);
	if (ret >= 0)
		ret = snd_pcm_sw_params_set_avail_min(st->pcm, sw, st->period);
	if (ret >= 0)
		ret = snd_pcm_sw_params(st->pcm, sw);
	if (ret < 0) {
		pt_log(mod, PT_LOG_ERR, "device '%s': software parameters refused: %s",
		       st->device, snd_strerror(ret));
		return -EIO;
	}
	ret = snd_pcm_prepare(st->pcm);
	if (ret < 0) {
		pt_log(mod, PT_LOG_ERR, "device '%s' cannot be prepared: %s",
		       st->device, snd_strerror(ret));
		return -EIO;
	}
	pt_log(mod, PT_LOG_INFO,
	       "%s device '%s': %s %u Hz %u ch, period %lu frames, buffer %lu frames",
	       stream_name(st->stream), st->device, pt_sample_name(f->sample),
	       f->rate, f->channels, (unsigned long)st->period,
	       (unsigned long)st->buffer);
	st->frame = pt_frame_bytes(f);
	st->prepared = true;
	return 0;
}

static int playback_prepare(struct pt_module *mod, struct pt_source *const *src,
			    unsigned nsrc, struct pt_sink *const *snk,
			    unsigned nsnk)
{
	struct alsa_state *st = pt_mod_priv(mod);

	(void)snk;
	if (nsrc != 1 || nsnk)
		return -EINVAL;
	st->frames = 0;
	return hw_setup(mod, st, pt_source_format(src[0]));
}

static int capture_prepare(struct pt_module *mod, struct pt_source *const *src,
			   unsigned nsrc, struct pt_sink *const *snk,
			   unsigned nsnk)
{
	struct alsa_state *st = pt_mod_priv(mod);

	(void)src;
	if (nsrc || nsnk != 1)
		return -EINVAL;
	st->frames = 0;
	return hw_setup(mod, st, pt_sink_format(snk[0]));
}

/* Recovers from an xrun or suspend; other errors are returned. */
static int recover(struct pt_module *mod, struct alsa_state *st, long err)
{
	int ret;

	if (err == -EINTR)
		return 0;
	if (err != -EPIPE && err != -ESTRPIPE)
		return (int)err;
	st->xruns++;
	fprintf(stderr,
		"partita: %s: %s on '%s' (xrun %llu), recovered\n",
		pt_mod_name(mod),
		err == -ESTRPIPE ? "suspend" :
		st->stream == SND_PCM_STREAM_PLAYBACK ? "underrun" : "overrun",
		st->device, (unsigned long long)st->xruns);
	ret = snd_pcm_recover(st->pcm, (int)err, 1);
	return ret < 0 ? ret : 0;
}

/* Moves @frames frames between @p and the device, through xruns. */
static int transfer(struct pt_module *mod, struct alsa_state *st, uint8_t *p,
		    size_t frames, bool *lost)
{
	while (frames) {
		snd_pcm_sframes_t n =
			st->stream == SND_PCM_STREAM_PLAYBACK ?
				snd_pcm_writei(st->pcm, p, frames) :
				snd_pcm_readi(st->pcm, p, frames);

		if (n < 0) {
			int ret = recover(mod, st, n);

			if (ret) {
				pt_log(mod, PT_LOG_ERR, "device '%s': %s",
				       st->device, snd_strerror(ret));
				return -EIO;
			}
			if (n != -EINTR && lost)
				*lost = true;
			continue;
		}
		p += (size_t)n * st->frame;
		frames -= (size_t)n;
		st->frames += (uint64_t)n;
	}
	return 0;
}

static int playback_process(struct pt_module *mod, struct pt_source *const *src,
			    unsigned nsrc, struct pt_sink *const *snk,
			    unsigned nsnk)
{
	struct alsa_state *st = pt_mod_priv(mod);
	size_t want = pt_mod_period_frames(mod), done = 0;
	const void *data, *start;
	size_t bsize;
	int ret;

	(void)nsrc;
	(void)snk;
	(void)nsnk;
	ret = pt_source_get_data(src[0], want * st->frame, &data, &start, &bsize);
	if (ret)
		return ret;
	while (done < want) {
		uint8_t *p = (uint8_t *)start +
			     ((size_t)((const uint8_t *)data -
				       (const uint8_t *)start) +
			      done * st->frame) % bsize;
		size_t until_wrap = ((uint8_t *)start + bsize - p) / st->frame;
		size_t n = want - done < until_wrap ? want - done : until_wrap;
		uint64_t left = st->target - st->frames;
		size_t keep = n < left ? n : (size_t)left;

		if (keep) {
			/* snd_pcm_writei takes a non-const pointer; it only
			 * reads. */
			ret = transfer(mod, st, p, keep, NULL);
			if (ret)
				return ret;
		}
		done += n;
	}
	return pt_source_release(src[0], want * st->frame);
}

static int capture_process(struct pt_module *mod, struct pt_source *const *src,
			   unsigned nsrc, struct pt_sink *const *snk,
			   unsigned nsnk)
{
	struct alsa_state *st = pt_mod_priv(mod);
	size_t want = pt_mod_period_frames(mod), done = 0;
	void *data, *start;
	size_t bsize;
	bool lost = false;
	int ret;

	(void)src;
	(void)nsrc;
	(void)nsnk;
	ret = pt_sink_get_buffer(snk[0], want * st->frame, &data, &start, &bsize);
	if (ret)
		return ret;
	while (done < want) {
		uint8_t *p = (uint8_t *)start +
			     ((size_t)((uint8_t *)data - (uint8_t *)start) +
			      done * st->frame) % bsize;
		size_t until_wrap = ((uint8_t *)start + bsize - p) / st->frame;
		size_t n = want - done < until_wrap ? want - done : until_wrap;

		ret = transfer(mod, st, p, n, &lost);
		if (ret)
			return ret;
		done += n;
	}
	if (lost) {
		/* Frames read before the overrun are no longer contiguous
		 * with those after it: the period becomes silence. */
		for (done = 0; done < want;) {
			uint8_t *p = (uint8_t *)start +
				     ((size_t)((uint8_t *)data - (uint8_t *)start) +
				      done * st->frame) % bsize;
			size_t until_wrap = ((uint8_t *)start + bsize - p) / st->frame;
			size_t n = want - done < until_wrap ? want - done : until_wrap;

			memset(p, 0, n * st->frame);
			done += n;
		}
	}
	return pt_sink_commit(snk[0], want * st->frame);
}

static int alsa_reset(struct pt_module *mod)
{
	struct alsa_state *st = pt_mod_priv(mod);

	/* Back to RESET: stop the device now, dropping what is queued; the
	 * next prepare sets it up again. */
	if (st->pcm)
		snd_pcm_drop(st->pcm);
	st->prepared = false;
	return 0;
}

static const struct pt_module_ops playback_ops = {
	.init = playback_init,
	.prepare = playback_prepare,
	.process = playback_process,
	.reset = alsa_reset,
	.free = alsa_free,
};

static const struct pt_manifest playback_manifest = {
	.magic = PT_MANIFEST_MAGIC,
	.abi_version = PT_ABI_VERSION,
	.name = "playback",
	.uuid = { 0x70, 0x74, 0x61, 0x6c, 0x73, 0x61, 0x70, 0x6c, 0x61, 3 },
	.version = PT_VERSION(1, 0, 0),
	.heap_size = 4096,
	.max_sources = 1,
	.max_sinks = 0,
};

static const struct pt_module_entry playback_entry = { &playback_manifest,
						       &playback_ops };

static const struct pt_module_ops capture_ops = {
	.init = capture_init,
	.prepare = capture_prepare,
	.process = capture_process,
	.reset = alsa_reset,
	.free = alsa_free,
};

static const struct pt_manifest capture_manifest = {
	.magic = PT_MANIFEST_MAGIC,
	.abi_version = PT_ABI_VERSION,
	.name = "capture",
	.uuid = { 0x70, 0x74, 0x61, 0x6c, 0x73, 0x61, 0x63, 0x61, 0x70, 4 },
	.version = PT_VERSION(1, 0, 0),
	.heap_size = 4096,
	.max_sources = 0,
	.max_sinks = 1,
};

static const struct pt_module_entry capture_entry = { &capture_manifest,
						      &capture_ops };

const struct pt_module_entry *pt_alsa_find(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "playback"))
		return &playback_entry;
	if (!strcmp(name, "capture"))
		return &capture_entry;
	return NULL;
}

bool pt_alsa_is_playback(const struct pt_instance *inst)
{
	return inst->entry == &playback_entry;
}

bool pt_alsa_is_capture(const struct pt_instance *inst)
{
	return inst->entry == &capture_entry;
}

static struct alsa_state *state_of(const struct pt_instance *inst)
{
	if (!pt_alsa_is_playback(inst) && !pt_alsa_is_capture(inst))
		return NULL;
	return inst->mod.priv;
}

const char *pt_alsa_device(const struct pt_instance *inst)
{
	const struct alsa_state *st = state_of(inst);

	return st ? st->device : NULL;
}

int pt_alsa_sizes(const struct pt_instance *inst, uint32_t *period_frames,
		  uint32_t *buffer_frames)
{
	const struct alsa_state *st = state_of(inst);

	if (!st || !st->prepared)
		return -EINVAL;
	*period_frames = (uint32_t)st->period;
	*buffer_frames = (uint32_t)st->buffer;
	return 0;
}

uint64_t pt_alsa_xruns(const struct pt_instance *inst)
{
	const struct alsa_state *st = state_of(inst);

	return st ? st->xruns : 0;
}

uint64_t pt_alsa_frames(const struct pt_instance *inst)
{
	const struct alsa_state *st = state_of(inst);

	return st ? st->frames : 0;
}

void pt_alsa_playback_length(struct pt_instance *inst, uint64_t frames)
{
	struct alsa_state *st = state_of(inst);

	if (!st || !pt_alsa_is_playback(inst))
		return;
	st->target = frames;
}

bool pt_alsa_playback_done(const struct pt_instance *inst)
{
	const struct alsa_state *st = state_of(inst);

	if (!st || !pt_alsa_is_playback(inst))
		return true;
	return st->frames >= st->target;
}

int pt_alsa_playback_drain(struct pt_instance *inst, char *err, size_t errlen)
{
	struct alsa_state *st = state_of(inst);
	int ret;

	if (!st || !pt_alsa_is_playback(inst) || !st->pcm || !st->prepared)
		return 0;
	if (snd_pcm_state(st->pcm) != SND_PCM_STATE_RUNNING)
		return 0;
	ret = snd_pcm_drain(st->pcm);
	if (ret < 0 && ret != -EPIPE) {
		snprintf(err, errlen, "draining device '%s': %s", st->device,
			 snd_strerror(ret));
		return -EIO;
	}
	return 0;
}

#else /* !PT_HAVE_ALSA: a build without alsa-lib has no device endpoints. */

const struct pt_module_entry *pt_alsa_find(const char *name)
{
	(void)name;
	return NULL;
}

bool pt_alsa_is_playback(const struct pt_instance *inst)
{
	(void)inst;
	return false;
}

bool pt_alsa_is_capture(const struct pt_instance *inst)
{
	(void)inst;
	return false;
}

const char *pt_alsa_device(const struct pt_instance *inst)
{
	(void)inst;
	return NULL;
}

int pt_alsa_sizes(const struct pt_instance *inst, uint32_t *period_frames,
		  uint32_t *buffer_frames)
{
	(void)inst;
	(void)period_frames;
	(void)buffer_frames;
	return -EINVAL;
}

uint64_t pt_alsa_xruns(const struct pt_instance *inst)
{
	(void)inst;
	return 0;
}

uint64_t pt_alsa_frames(const struct pt_instance *inst)
{
	(void)inst;
	return 0;
}

void pt_alsa_playback_length(struct pt_instance *inst, uint64_t frames)
{
	(void)inst;
	(void)frames;
}

bool pt_alsa_playback_done(const struct pt_instance *inst)
{
	(void)inst;
	return true;
}

int pt_alsa_playback_drain(struct pt_instance *inst, char *err, size_t errlen)
{
	(void)inst;
	(void)err;
	(void)errlen;
	return 0;
}

#endif
