/* SPDX-License-Identifier: MIT */
/*
 * lib/sof/adapter.c - a firmware module (struct module_interface) as a
 * Partita module (struct pt_module_ops).
 *
 * The firmware's module source, its headers and its own buffer code
 * (comp_buffer, audio_stream, sink/source API, data blobs) are compiled
 * unmodified into the library with this file (partita-sof-build). Each
 * Partita callback becomes the firmware call the firmware's module adapter
 * would make:
 *
 *   init          -> kept; the firmware's init runs at the first prepare,
 *                    when the pins' formats give its IPC4 base config
 *                    (ibs, obs, audio format); config set before then is
 *                    kept and given right after that init
 *   bind          -> the firmware's bind at prepare (its sources and sinks
 *                    exist then)
 *   prepare       -> prepare(sources, sinks) over comp_buffers whose
 *                    audio_stream is Partita's buffer
 *   is_ready      -> is_ready_to_process, or one period on every pin
 *   process       -> process (sink/source API) or process_audio_stream
 *                    (audio_stream views), one period per call
 *   set_config    -> set_configuration in FIRST/MIDDLE/LAST (or SINGLE)
 *                    fragments of the firmware's IPC4 payload size
 *   get_config    -> get_configuration
 *   trigger       -> trigger(COMP_TRIGGER_*)
 *   set_processing_mode -> set_processing_mode, else -ENOTSUP (the host
 *                    bypasses)
 *   reset, free   -> reset, free
 *
 * The library holds one firmware module: its constructor registers the
 * module's component driver (comp_register, see platform.c) when the
 * library is loaded, in the domain or in the host.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <partita/module.h>

#include <sof/audio/module_adapter/module/generic.h>
#include <sof/audio/buffer.h>
#include <sof/audio/component.h>
#include <sof/audio/audio_stream.h>
#include <sof/audio/sink_api.h>
#include <sof/audio/source_api.h>
#include <sof/list.h>
#include <ipc/stream.h>
#include <ipc4/base-config.h>
#include <ipc4/module.h>
#include <sof/audio/pipeline.h>

#include "sof.h"

extern const unsigned char pt_sof_uuid[16];

/* Bytes of one set_configuration fragment: the firmware's IPC4 mailbox
 * payload less its large-config header. */
#define FRAGMENT_BYTES 4000u
/* Config blobs kept until the firmware's init has run. */
#define PENDING_MAX 4

struct pending_blob {
	uint32_t param;
	size_t size;
	uint8_t *data;
};

struct sof_instance {
	struct processing_module mod;
	struct comp_dev dev;
	struct sof_ipc_stream_params params;
	struct pipeline pipe;      /* the pipeline the module believes it is in */
	struct comp_dev peer;      /* the other end of every pin: in the same
				      state as the module (Partita moves whole
				      pipelines) */
	const struct comp_driver *drv;
	const struct module_interface *ops;
	bool inited;               /* the firmware's init ran */
	unsigned nsrc, nsnk;
	struct comp_buffer *src[PT_MAX_PINS], *snk[PT_MAX_PINS];
	struct input_stream_buffer in[PT_MAX_PINS];
	struct output_stream_buffer out[PT_MAX_PINS];
	size_t src_avail[PT_MAX_PINS], snk_free[PT_MAX_PINS];
	struct pending_blob pending[PENDING_MAX];
	unsigned npending;
};

static struct sof_instance *inst_of(struct pt_module *mod)
{
	return pt_mod_priv(mod);
}

/* ---- formats ---- */

static int frame_fmt(uint32_t sample, enum sof_ipc_frame *f, uint32_t *depth,
		     uint32_t *valid, enum ipc4_sample_type *type)
{
	*type = IPC4_TYPE_SIGNED_INTEGER;
	switch (sample) {
	case PT_SAMPLE_S16_LE:
		*f = SOF_IPC_FRAME_S16_LE;
		*depth = *valid = 16;
		return 0;
	case PT_SAMPLE_S24_4LE:
		*f = SOF_IPC_FRAME_S24_4LE;
		*depth = 32;
		*valid = 24;
		return 0;
	case PT_SAMPLE_S32_LE:
		*f = SOF_IPC_FRAME_S32_LE;
		*depth = *valid = 32;
		return 0;
	case PT_SAMPLE_FLOAT_LE:
		*f = SOF_IPC_FRAME_FLOAT;
		*depth = *valid = 32;
		*type = IPC4_TYPE_FLOAT;
		return 0;
	}
	return -EINVAL;
}

/* The IPC4 base config the firmware's IPC would have sent: the first
 * input's format (else the first output's), one period in and out. */
static int base_config(struct pt_module *mod, struct sof_instance *s,
		       struct pt_source *const *src, unsigned nsrc,
		       struct pt_sink *const *snk, unsigned nsnk)
{
	struct ipc4_base_module_cfg *b = &s->mod.priv.cfg.base_cfg;
	const struct pt_format *f = nsrc ? pt_source_format(src[0]) :
				    nsnk ? pt_sink_format(snk[0]) : NULL;
	uint32_t period = pt_mod_period_frames(mod), depth, valid;
	enum ipc4_sample_type type;
	enum sof_ipc_frame ff;

	if (!f || frame_fmt(f->sample, &ff, &depth, &valid, &type))
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->audio_fmt.sampling_frequency = f->rate;
	b->audio_fmt.depth = depth;
	b->audio_fmt.valid_bit_depth = valid;
	b->audio_fmt.channels_count = f->channels;
	b->audio_fmt.s_type = type;
	b->audio_fmt.interleaving_style = IPC4_CHANNELS_INTERLEAVED;
	b->audio_fmt.ch_cfg = f->channels == 1 ? IPC4_CHANNEL_CONFIG_MONO :
			      f->channels == 2 ? IPC4_CHANNEL_CONFIG_STEREO :
						 IPC4_CHANNEL_CONFIG_INVALID;
	b->audio_fmt.ch_map = 0xFFFFFFFFu;
	for (unsigned c = 0; c < f->channels && c < 8; c++)
		b->audio_fmt.ch_map = (b->audio_fmt.ch_map & ~(0xFu << (4 * c))) |
				      (c << (4 * c));
	b->ibs = nsrc ? period * pt_frame_bytes(pt_source_format(src[0])) : 0;
	b->obs = nsnk ? period * pt_frame_bytes(pt_sink_format(snk[0])) : 0;
	s->dev.ibs = b->ibs;
	s->dev.obs = b->obs;
	s->mod.period_bytes = period * pt_frame_bytes(f);
	s->dev.frames = period;
	/* The period in microseconds, as the firmware's pipeline has it. */
	s->dev.period = (uint32_t)((uint64_t)period * 1000000u / f->rate);
	s->mod.priv.cfg.nb_input_pins = (uint8_t)nsrc;
	s->mod.priv.cfg.nb_output_pins = (uint8_t)nsnk;
	return 0;
}

static void stream_format(struct comp_buffer *b, const struct pt_format *f)
{
	enum sof_ipc_frame ff = SOF_IPC_FRAME_S32_LE;
	enum ipc4_sample_type type;
	uint32_t depth, valid;

	frame_fmt(f->sample, &ff, &depth, &valid, &type);
	audio_stream_set_frm_fmt(&b->stream, ff);
	audio_stream_set_valid_fmt(&b->stream, ff);
	audio_stream_set_rate(&b->stream, f->rate);
	audio_stream_set_channels(&b->stream, f->channels);
	audio_stream_set_buffer_fmt(&b->stream, SOF_IPC_BUFFER_INTERLEAVED);
	audio_stream_recalc_align(&b->stream);
}

/* What a firmware module is given must be what its IPC4 base config says,
 * or it processes the stream as something else: IPC4 modules pick their
 * processing by the base config's bit depth alone (a float stream would be
 * taken as S32), none converts sample formats, and without an init payload
 * (where a module's own output format is given, mux) one audio format
 * holds for every pin. */
static int formats_check(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	const struct pt_format *b = nsrc ? pt_source_format(src[0]) :
				    nsnk ? pt_sink_format(snk[0]) : NULL;
	const void *payload;
	size_t psize;

	if (!b)
		return 0;
	pt_mod_init_payload(mod, &payload, &psize);
	for (unsigned i = 0; i < nsrc + nsnk; i++) {
		const struct pt_format *f = i < nsrc ? pt_source_format(src[i]) :
					    pt_sink_format(snk[i - nsrc]);
		const char *pin = i < nsrc ? "input" : "output";
		unsigned n = i < nsrc ? i : i - nsrc;

		if (f->sample == PT_SAMPLE_FLOAT_LE && !pt_sof_float) {
			pt_log(mod, PT_LOG_ERR, "%s %u is FLOAT_LE: a firmware module takes "
			       "S16_LE, S24_4LE or S32_LE (IPC4 modules choose their processing "
			       "by bit depth alone; build with partita-sof-build --float for "
			       "one that handles float)", pin, n);
			return -EINVAL;
		}
		if (f->sample != b->sample) {
			pt_log(mod, PT_LOG_ERR, "%s %u is %s, %s 0 %s: a firmware module's "
			       "pins carry one sample format (convert with a copier instance)",
			       pin, n, pt_sample_name(f->sample), nsrc ? "input" : "output",
			       pt_sample_name(b->sample));
			return -EINVAL;
		}
		if (!psize && (f->rate != b->rate || f->channels != b->channels)) {
			pt_log(mod, PT_LOG_ERR, "%s %u is %u Hz, %u channels, %s 0 %u Hz, %u "
			       "channels: with no init payload (init_blob:) the module has only "
			       "the IPC4 base config, one format for every pin",
			       pin, n, f->rate, f->channels, nsrc ? "input" : "output",
			       b->rate, b->channels);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- buffers: Partita's views as the firmware's comp_buffers ---- */

/* A comp_buffer whose memory is Partita's: the firmware's buffer code
 * allocates it with a little memory of its own, which is given back. */
static struct comp_buffer *pin_buffer_new(void)
{
	struct comp_buffer *b = buffer_alloc(NULL, 64, 0, 8, false);

	if (!b)
		return NULL;
	sof_heap_free(NULL, audio_stream_get_addr(&b->stream));
	audio_stream_set_addr(&b->stream, NULL);
	return b;
}

/* Points @b's stream at a view: [base, base + size), @offset where reading
 * (or writing) starts, @fill bytes of data. */
static void stream_view(struct comp_buffer *b, void *base, size_t size,
			size_t offset, size_t fill)
{
	struct audio_stream *st = &b->stream;

	st->addr = base;
	st->size = (uint32_t)size;
	st->end_addr = (uint8_t *)base + size;
	st->r_ptr = (uint8_t *)base + offset;
	st->w_ptr = (uint8_t *)base + (offset + fill) % size;
	st->avail = (uint32_t)fill;
	st->free = (uint32_t)(size - fill);
}

static void source_view(struct comp_buffer *b, struct pt_source *src,
			size_t limit)
{
	const void *data, *start;
	size_t size, avail = pt_source_available(src);

	if (avail > limit)
		avail = limit;
	pt_source_get_data(src, 0, &data, &start, &size);
	stream_view(b, (void *)start, size,
		    (size_t)((const uint8_t *)data - (const uint8_t *)start), avail);
}

static void sink_view(struct comp_buffer *b, struct pt_sink *snk, size_t limit)
{
	void *data, *start;
	size_t size, room = pt_sink_free_size(snk);

	if (room > limit)
		room = limit;
	pt_sink_get_buffer(snk, 0, &data, &start, &size);
	/* The data before the write position is what the reader has not
	 * taken yet: room is what is free. */
	stream_view(b, start, size,
		    ((size_t)((uint8_t *)data - (uint8_t *)start) + room) % size,
		    size - room);
	b->stream.w_ptr = data;
}

/* Builds the comp_buffers for the pins and links them to the device. */
static int buffers_make(struct sof_instance *s, struct pt_source *const *src,
			unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	for (unsigned i = 0; i < nsrc; i++) {
		if (!s->src[i] && !(s->src[i] = pin_buffer_new()))
			return -ENOMEM;
		stream_format(s->src[i], pt_source_format(src[i]));
		source_view(s->src[i], src[i], 0);
	}
	for (unsigned i = 0; i < nsnk; i++) {
		if (!s->snk[i] && !(s->snk[i] = pin_buffer_new()))
			return -ENOMEM;
		stream_format(s->snk[i], pt_sink_format(snk[i]));
		sink_view(s->snk[i], snk[i], 0);
	}
	list_init(&s->dev.bsource_list);
	list_init(&s->dev.bsink_list);
	/* Buffer ids as the firmware's IPC4 bind makes them: the source queue
	 * (the writer's pin) below, the sink queue (this pin) above. */
	for (unsigned i = 0; i < nsrc; i++) {
		s->src[i]->stream.runtime_stream_params.id = IPC4_COMP_ID(0, i);
		/* each input's writer as if in a pipeline of its own, which
		 * is how the firmware tells inputs apart (mux) */
		s->src[i]->stream.runtime_stream_params.pipeline_id = 100 + i;
	}
	for (unsigned i = 0; i < nsnk; i++) {
		s->snk[i]->stream.runtime_stream_params.id = IPC4_COMP_ID(i, 0);
		s->snk[i]->stream.runtime_stream_params.pipeline_id = s->pipe.pipeline_id;
	}
	for (unsigned i = 0; i < nsrc; i++) {
		list_init(&s->src[i]->sink_list);
		list_item_append(&s->src[i]->sink_list, &s->dev.bsource_list);
		s->src[i]->sink = &s->dev;
		s->src[i]->source = &s->peer;
		s->mod.sources[i] = audio_buffer_get_source(&s->src[i]->audio_buffer);
	}
	for (unsigned i = 0; i < nsnk; i++) {
		list_init(&s->snk[i]->source_list);
		list_item_append(&s->snk[i]->source_list, &s->dev.bsink_list);
		s->snk[i]->source = &s->dev;
		s->snk[i]->sink = &s->peer;
		s->mod.sinks[i] = audio_buffer_get_sink(&s->snk[i]->audio_buffer);
	}
	s->nsrc = s->mod.num_of_sources = nsrc;
	s->nsnk = s->mod.num_of_sinks = nsnk;
	s->mod.input_buffers = s->in;
	s->mod.output_buffers = s->out;
	s->mod.source_comp_buffer = nsrc ? s->src[0] : NULL;
	s->mod.sink_comp_buffer = nsnk ? s->snk[0] : NULL;
	return 0;
}

/* Views of this call, at most one period on each pin. */
static void views_set(struct pt_module *mod, struct sof_instance *s,
		      struct pt_source *const *src, struct pt_sink *const *snk)
{
	uint32_t period = pt_mod_period_frames(mod);

	s->peer.state = s->dev.state;
	for (unsigned i = 0; i < s->nsrc; i++) {
		source_view(s->src[i], src[i],
			    (size_t)period * pt_frame_bytes(pt_source_format(src[i])));
		s->src_avail[i] = audio_stream_get_avail_bytes(&s->src[i]->stream);
	}
	for (unsigned i = 0; i < s->nsnk; i++) {
		sink_view(s->snk[i], snk[i],
			  (size_t)period * pt_frame_bytes(pt_sink_format(snk[i])));
		s->snk_free[i] = audio_stream_get_free_bytes(&s->snk[i]->stream);
	}
}

/* Moves Partita's views by what the firmware consumed and produced. */
static int views_settle(struct sof_instance *s, struct pt_source *const *src,
			struct pt_sink *const *snk)
{
	int ret = 0;

	for (unsigned i = 0; i < s->nsrc && !ret; i++)
		ret = pt_source_release(src[i], s->src_avail[i] -
					audio_stream_get_avail_bytes(&s->src[i]->stream));
	for (unsigned i = 0; i < s->nsnk && !ret; i++)
		ret = pt_sink_commit(snk[i], s->snk_free[i] -
				     audio_stream_get_free_bytes(&s->snk[i]->stream));
	return ret;
}

/* ---- the firmware's init and configuration ---- */

static int fragments(struct sof_instance *s, uint32_t param, const uint8_t *data,
		     size_t size)
{
	int ret = 0;

	if (!s->ops->set_configuration)
		return -EOPNOTSUPP;
	for (size_t off = 0; off < size && !ret;) {
		size_t n = size - off < FRAGMENT_BYTES ? size - off : FRAGMENT_BYTES;
		bool first = off == 0, last = off + n == size;

		/* The first fragment says the blob's size, the others where
		 * they start (the firmware's data_offset_size). */
		ret = s->ops->set_configuration(&s->mod, param,
						first_last_block_to_frag_pos(first, last),
						first ? (uint32_t)size : (uint32_t)off,
						data + off, n, NULL, 0);
		off += n;
	}
	return ret;
}

static int firmware_init(struct pt_module *mod, struct sof_instance *s,
			 struct pt_source *const *src, unsigned nsrc,
			 struct pt_sink *const *snk, unsigned nsnk)
{
	const void *payload;
	uint8_t *init;
	size_t psize;
	int ret = base_config(mod, s, src, nsrc, snk, nsnk);

	if (ret) {
		pt_log(mod, PT_LOG_ERR, "no pin with a format the firmware knows");
		return ret;
	}
	/* The IPC4 init payload as the firmware's IPC hands it to a module:
	 * the base config, then the module's own part (the binary init
	 * payload, a topology's init_blob). */
	pt_mod_init_payload(mod, &payload, &psize);
	init = pt_mod_alloc(mod, sizeof(s->mod.priv.cfg.base_cfg) + psize);
	if (!init)
		return -ENOMEM;
	memcpy(init, &s->mod.priv.cfg.base_cfg, sizeof(s->mod.priv.cfg.base_cfg));
	if (psize)
		memcpy(init + sizeof(s->mod.priv.cfg.base_cfg), payload, psize);
	s->mod.priv.cfg.init_data = init;
	s->mod.priv.cfg.size = sizeof(s->mod.priv.cfg.base_cfg) + psize;
	ret = s->ops->init ? s->ops->init(&s->mod) : 0;
	if (ret) {
		pt_log(mod, PT_LOG_ERR, "firmware init failed: %d%s", ret,
		       ret == -ENOMEM ? " (out of memory: a larger heap_size?)" :
		       ret == -EINVAL && !psize ? " (it was given no init payload: does "
						  "the module need one, init_blob:?)" : "");
		return ret;
	}
	s->inited = true;
	for (unsigned i = 0; i < s->npending; i++) {
		struct pending_blob *p = &s->pending[i];

		if (!ret && (ret = fragments(s, p->param, p->data, p->size)))
			pt_log(mod, PT_LOG_ERR, "configuration %u refused: %d", p->param, ret);
		pt_mod_free(mod, p->data);
	}
	s->npending = 0;
	return ret;
}

/* ---- Partita callbacks ---- */

static int sof_init(struct pt_module *mod, const void *data, size_t size)
{
	const struct comp_driver *drv = pt_sof_driver();
	struct sof_instance *s;

	(void)data;
	(void)size;
	if (!drv && (drv = pt_sof_driver_other())) {
		char have[37], want[37];

		pt_sof_uuid_text(drv->uid, have);
		pt_sof_uuid_text(pt_sof_uuid, want);
		pt_log(mod, PT_LOG_ERR, "the firmware module has UUID %s, the manifest "
		       "(the .toml entry) %s", have, want);
		return -ENOENT;
	}
	if (!drv || !drv->adapter_ops) {
		pt_log(mod, PT_LOG_ERR, "the library registered no firmware module");
		return -ENOENT;
	}
	pt_sof_enter(mod);
	s = pt_mod_alloc(mod, sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->drv = drv;
	s->ops = drv->adapter_ops;
	s->dev.drv = drv;
	s->dev.mod = &s->mod;
	s->dev.state = COMP_STATE_READY;
	s->dev.ipc_config.id = 1;
	/* A playback pipeline of its own, the module at both of its ends. */
	s->pipe.pipeline_id = 1;
	s->pipe.source_comp = &s->dev;
	s->pipe.sink_comp = &s->dev;
	s->dev.pipeline = &s->pipe;
	s->dev.direction = SOF_IPC_STREAM_PLAYBACK;
	s->dev.direction_set = true;
	s->dev.ipc_config.core = 0;
	list_init(&s->dev.bsource_list);
	list_init(&s->dev.bsink_list);
	s->mod.dev = &s->dev;
	s->mod.stream_params = &s->params;
	s->mod.max_sources = PT_MAX_PINS;
	s->mod.max_sinks = PT_MAX_PINS;
	s->mod.proc_type = s->ops->process ? MODULE_PROCESS_TYPE_SOURCE_SINK :
			   MODULE_PROCESS_TYPE_STREAM;
	s->dev.priv_data = &s->mod;
	pt_mod_set_priv(mod, s);
	return 0;
}

static int sof_prepare(struct pt_module *mod, struct pt_source *const *src,
		       unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	struct sof_instance *s = inst_of(mod);
	int ret;

	pt_sof_enter(mod);
	ret = formats_check(mod, src, nsrc, snk, nsnk);
	if (ret)
		return ret;
	if (!s->inited && (ret = firmware_init(mod, s, src, nsrc, snk, nsnk)))
		return ret;
	ret = buffers_make(s, src, nsrc, snk, nsnk);
	if (ret)
		return ret;
	if (nsrc) {
		const struct pt_format *f = pt_source_format(src[0]);
		enum sof_ipc_frame ff = SOF_IPC_FRAME_S32_LE;
		enum ipc4_sample_type type;
		uint32_t depth, valid;

		frame_fmt(f->sample, &ff, &depth, &valid, &type);
		s->params.frame_fmt = ff;
		s->params.rate = f->rate;
		s->params.channels = f->channels;
		s->params.sample_container_bytes = (uint16_t)(depth / 8);
		s->params.sample_valid_bytes = (uint16_t)(valid / 8);
		s->params.buffer_fmt = SOF_IPC_BUFFER_INTERLEAVED;
	}
	/* The firmware's bind, now that its sources and sinks exist: the
	 * API's own records first (module_bind's sink_bind/source_bind). */
	for (unsigned i = 0; i < nsrc; i++)
		source_bind(s->mod.sources[i], &s->mod);
	for (unsigned i = 0; i < nsnk; i++)
		sink_bind(s->mod.sinks[i], &s->mod);
	if (s->ops->bind) {
		for (unsigned i = 0; i < nsrc + nsnk; i++) {
			struct bind_info b = { .ipc4_data = NULL };

			if (i < nsrc) {
				b.bind_type = COMP_BIND_TYPE_SOURCE;
				b.source = s->mod.sources[i];
			} else {
				b.bind_type = COMP_BIND_TYPE_SINK;
				b.sink = s->mod.sinks[i - nsrc];
			}
			ret = s->ops->bind(&s->mod, &b);
			if (ret) {
				pt_log(mod, PT_LOG_ERR, "firmware bind failed: %d", ret);
				return ret;
			}
		}
	}
	ret = s->ops->prepare ? s->ops->prepare(&s->mod, s->mod.sources, (int)nsrc,
						 s->mod.sinks, (int)nsnk) : 0;
	if (ret)
		pt_log(mod, PT_LOG_ERR, "firmware prepare failed: %d", ret);
	s->dev.state = COMP_STATE_PREPARE;
	return ret;
}

static bool sof_is_ready(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	struct sof_instance *s = inst_of(mod);

	if (!s->inited || !s->ops->is_ready_to_process || nsrc != s->nsrc ||
	    nsnk != s->nsnk)
		return pt_default_ready_rule(mod, src, nsrc, snk, nsnk);
	pt_sof_enter(mod);
	views_set(mod, s, src, snk);
	return s->ops->is_ready_to_process(&s->mod, s->mod.sources, (int)nsrc,
					   s->mod.sinks, (int)nsnk);
}

/* process_audio_stream: the firmware's module adapter gives frames that
 * every input has and every output has room for; the module says what it
 * consumed (bytes) and produced (bytes), the adapter moves the streams. */
static int process_stream(struct sof_instance *s)
{
	uint32_t frames = UINT32_MAX;
	int ret;

	for (unsigned i = 0; i < s->nsrc; i++)
		for (unsigned k = 0; k < s->nsnk; k++) {
			uint32_t f = audio_stream_avail_frames_aligned(&s->src[i]->stream,
								       &s->snk[k]->stream);
			frames = f < frames ? f : frames;
		}
	if (frames == UINT32_MAX)
		frames = 0;
	for (unsigned i = 0; i < s->nsrc; i++)
		s->in[i] = (struct input_stream_buffer){ .data = &s->src[i]->stream,
							 .size = frames };
	for (unsigned i = 0; i < s->nsnk; i++)
		s->out[i] = (struct output_stream_buffer){ .data = &s->snk[i]->stream };
	ret = s->ops->process_audio_stream(&s->mod, s->in, (int)s->nsrc, s->out,
					   (int)s->nsnk);
	if (ret == -ENOSPC || ret == -ENODATA)
		ret = 0;
	if (ret)
		return ret;
	for (unsigned i = 0; i < s->nsrc; i++) {
		if (s->in[i].consumed > audio_stream_get_avail_bytes(&s->src[i]->stream))
			return -EPROTO;
		if (s->in[i].consumed)
			audio_stream_consume(&s->src[i]->stream, s->in[i].consumed);
	}
	for (unsigned i = 0; i < s->nsnk; i++) {
		if (s->out[i].size > audio_stream_get_free_bytes(&s->snk[i]->stream))
			return -EPROTO;
		if (s->out[i].size)
			audio_stream_produce(&s->snk[i]->stream, s->out[i].size);
	}
	return 0;
}

static int sof_process(struct pt_module *mod, struct pt_source *const *src,
		       unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	struct sof_instance *s = inst_of(mod);
	int ret;

	if (!s->inited || nsrc != s->nsrc || nsnk != s->nsnk)
		return -EINVAL;
	pt_sof_enter(mod);
	views_set(mod, s, src, snk);
	if (s->ops->process)
		ret = s->ops->process(&s->mod, s->mod.sources, (int)nsrc, s->mod.sinks,
				      (int)nsnk);
	else if (s->ops->process_audio_stream)
		ret = process_stream(s);
	else
		ret = -ENOTSUP;
	if (ret == -ENODATA || ret == -ENOSPC)
		ret = 0;
	if (ret)
		return ret;
	return views_settle(s, src, snk);
}

static int sof_set_config(struct pt_module *mod, uint32_t param,
			  const void *data, size_t size)
{
	struct sof_instance *s = inst_of(mod);
	struct pending_blob *p;
	int ret;

	pt_sof_enter(mod);
	if (!size)
		return -EINVAL;
	if (s->inited) {
		ret = fragments(s, param, data, size);
		if (ret)
			pt_log(mod, PT_LOG_ERR, "configuration %u refused: %d", param, ret);
		return ret;
	}
	/* Before the firmware's init: kept, the latest per param. */
	for (p = s->pending; p < s->pending + s->npending && p->param != param; p++)
		;
	if (p == s->pending + PENDING_MAX)
		return -ENOSPC;
	if (p == s->pending + s->npending)
		s->npending++;
	else
		pt_mod_free(mod, p->data);
	p->param = param;
	p->size = size;
	p->data = pt_mod_alloc(mod, size);
	if (!p->data) {
		s->npending--;
		return -ENOMEM;
	}
	memcpy(p->data, data, size);
	return 0;
}

static int sof_get_config(struct pt_module *mod, uint32_t param, void *data,
			  size_t *size)
{
	struct sof_instance *s = inst_of(mod);
	uint32_t offset = 0;
	int ret;

	pt_sof_enter(mod);
	if (!s->inited || !s->ops->get_configuration)
		return -EOPNOTSUPP;
	memset(data, 0, *size);
	ret = s->ops->get_configuration(&s->mod, param, &offset, data, *size);
	if (ret)
		return ret;
	/* IPC4: the module says its reply's length in data_offset_size; one
	 * that answers with an IPC control header says it there. */
	*size = offset && offset <= *size ? offset : pt_sof_reply_size(data, *size);
	return 0;
}

static int sof_reset(struct pt_module *mod)
{
	struct sof_instance *s = inst_of(mod);

	pt_sof_enter(mod);
	s->dev.state = COMP_STATE_READY;
	return s->inited && s->ops->reset ? s->ops->reset(&s->mod) : 0;
}

static void sof_free(struct pt_module *mod)
{
	struct sof_instance *s = inst_of(mod);

	pt_sof_enter(mod);
	if (s->inited && s->ops->free)
		s->ops->free(&s->mod);
}

static int sof_trigger(struct pt_module *mod, uint32_t cmd)
{
	static const int map[] = { [PT_TRIGGER_START] = COMP_TRIGGER_START,
				   [PT_TRIGGER_PAUSE] = COMP_TRIGGER_PAUSE,
				   [PT_TRIGGER_RELEASE] = COMP_TRIGGER_RELEASE,
				   [PT_TRIGGER_STOP] = COMP_TRIGGER_STOP };
	struct sof_instance *s = inst_of(mod);

	if (cmd >= sizeof(map) / sizeof(map[0]) || !cmd)
		return -EINVAL;
	pt_sof_enter(mod);
	if (cmd == PT_TRIGGER_START || cmd == PT_TRIGGER_RELEASE)
		s->dev.state = COMP_STATE_ACTIVE;
	else if (cmd == PT_TRIGGER_PAUSE)
		s->dev.state = COMP_STATE_PAUSED;
	else
		s->dev.state = COMP_STATE_PREPARE;
	return s->inited && s->ops->trigger ? s->ops->trigger(&s->mod, map[cmd]) : 0;
}

static int sof_set_mode(struct pt_module *mod, uint32_t mode)
{
	struct sof_instance *s = inst_of(mod);

	pt_sof_enter(mod);
	if (!s->inited || !s->ops->set_processing_mode)
		return -ENOTSUP;
	return s->ops->set_processing_mode(&s->mod, mode == PT_MODE_BYPASS ?
						    MODULE_PROCESSING_BYPASS :
						    MODULE_PROCESSING_NORMAL);
}

const struct pt_module_ops pt_sof_ops = {
	.init = sof_init,
	.prepare = sof_prepare,
	.process = sof_process,
	.is_ready = sof_is_ready,
	.set_config = sof_set_config,
	.get_config = sof_get_config,
	.reset = sof_reset,
	.free = sof_free,
	.trigger = sof_trigger,
	.set_processing_mode = sof_set_mode,
};
