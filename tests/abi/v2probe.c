/* SPDX-License-Identifier: MIT */
/*
 * v2probe - a test module that uses every callback and service of module
 * ABI version 2 and tells what it saw.
 *
 * One input, up to two outputs, S32_LE only. Output pin i carries input pin
 * 0 negated (normal mode) or halved (its own bypass, with own_mode=1); an
 * output with more channels than the input repeats the input's last one.
 *
 * Init parameters:
 *   own_mode=1        set_processing_mode accepts; else -ENOTSUP (the host
 *                     bypasses)
 *   out_channels=N    prepare sets every sink to N channels (the binding
 *                     must leave channels open: format auto)
 *   frame_align=N     prepare asks its source for multiples of N frames
 *   refuse_bind=1     bind refuses every binding
 * get_config param 1: the events seen so far, one word each ("bind:sink:0:
 *   peer:2ch", "trigger:1", "prepare:src:2ch", "mode:1"), ';'-separated;
 *   param 2: the binary init payload as given.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <partita/module.h>

struct probe {
	char events[1024];
	size_t len;
	double own_mode, out_channels, frame_align, refuse_bind;
};

static void event(struct probe *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void event(struct probe *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->len + 80 >= sizeof(p->events))
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->events + p->len, sizeof(p->events) - p->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len += (size_t)n;
	p->events[p->len++] = ';';
	p->events[p->len] = 0;
}

static int probe_init(struct pt_module *mod, const void *data, size_t size)
{
	struct probe *p = pt_mod_alloc(mod, sizeof(*p));
	const void *payload;
	size_t psize;

	if (!p)
		return -ENOMEM;
	memset(p, 0, sizeof(*p));
	pt_param_double(data, size, "own_mode", &p->own_mode);
	pt_param_double(data, size, "out_channels", &p->out_channels);
	pt_param_double(data, size, "frame_align", &p->frame_align);
	pt_param_double(data, size, "refuse_bind", &p->refuse_bind);
	pt_mod_set_priv(mod, p);
	pt_mod_init_payload(mod, &payload, &psize);
	event(p, "init:payload:%zu", psize);
	return 0;
}

static int probe_pin(struct pt_module *mod, const struct pt_pin_info *pin,
		     const char *what)
{
	struct probe *p = pt_mod_priv(mod);

	event(p, "%s:%s:%u:%s:%u:%uch", what, pin->dir == PT_PIN_SINK ? "sink" : "src",
	      pin->pin, pin->peer, pin->peer_pin, pin->fmt.channels);
	if (p->refuse_bind && !strcmp(what, "bind")) {
		pt_log(mod, PT_LOG_ERR, "refusing the binding to %s", pin->peer);
		return -EPERM;
	}
	return 0;
}

static int probe_bind(struct pt_module *mod, const struct pt_pin_info *pin)
{
	return probe_pin(mod, pin, "bind");
}

static int probe_unbind(struct pt_module *mod, const struct pt_pin_info *pin)
{
	return probe_pin(mod, pin, "unbind");
}

static int probe_trigger(struct pt_module *mod, uint32_t cmd)
{
	event(pt_mod_priv(mod), "trigger:%u", cmd);
	return 0;
}

static int probe_mode(struct pt_module *mod, uint32_t mode)
{
	struct probe *p = pt_mod_priv(mod);

	event(p, "mode:%u", mode);
	return p->own_mode ? 0 : -ENOTSUP;
}

static int probe_prepare(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	struct probe *p = pt_mod_priv(mod);

	if (nsrc != 1 || pt_source_format(src[0])->sample != PT_SAMPLE_S32_LE)
		return -EINVAL;
	event(p, "prepare:src:%uch", pt_source_format(src[0])->channels);
	if (p->frame_align &&
	    pt_source_set_alignment(src[0], 4, (uint32_t)p->frame_align))
		return -EINVAL;
	for (unsigned i = 0; i < nsnk; i++) {
		struct pt_format f = *pt_sink_format(snk[i]);

		if (p->out_channels) {
			f.channels = (uint16_t)p->out_channels;
			f.sample = PT_SAMPLE_S32_LE;
			if (pt_sink_set_format(snk[i], &f)) {
				pt_log(mod, PT_LOG_ERR, "the binding refuses %u channels",
				       f.channels);
				return -EINVAL;
			}
		}
		if (pt_sink_format(snk[i])->sample != PT_SAMPLE_S32_LE)
			return -EINVAL;
		event(p, "prepare:sink:%uch", pt_sink_format(snk[i])->channels);
	}
	return 0;
}

static int probe_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	uint32_t frames = pt_mod_period_frames(mod);
	uint32_t ich = pt_source_format(src[0])->channels;
	bool own_bypass = pt_mod_processing_mode(mod) == PT_MODE_BYPASS;
	const void *in, *ibase;
	size_t isize;

	(void)nsrc;
	if (pt_source_get_data(src[0], (size_t)frames * ich * 4, &in, &ibase, &isize))
		return -ENODATA;
	for (unsigned k = 0; k < nsnk; k++) {
		uint32_t och = pt_sink_format(snk[k])->channels;
		void *out, *obase;
		size_t osize;
		const int32_t *ip = in;
		int32_t *op;

		if (pt_sink_get_buffer(snk[k], (size_t)frames * och * 4, &out, &obase,
				       &osize))
			return -ENOSPC;
		op = out;
		for (uint32_t f = 0; f < frames; f++) {
			for (uint32_t c = 0; c < och; c++) {
				int32_t v = ip[c < ich ? c : ich - 1];

				*op++ = own_bypass ? v / 2 : (v == INT32_MIN ? INT32_MAX : -v);
				if ((uint8_t *)op == (uint8_t *)obase + osize)
					op = obase;
			}
			ip += ich;
			if ((const uint8_t *)ip == (const uint8_t *)ibase + isize)
				ip = ibase;
		}
		pt_sink_commit(snk[k], (size_t)frames * och * 4);
	}
	return pt_source_release(src[0], (size_t)frames * ich * 4);
}

static int probe_get_config(struct pt_module *mod, uint32_t param, void *data,
			    size_t *size)
{
	struct probe *p = pt_mod_priv(mod);
	const void *src = p->events;
	size_t n = p->len;

	if (param == 2)
		pt_mod_init_payload(mod, &src, &n);
	else if (param != 1)
		return -EINVAL;
	if (n > *size)
		return -ENOSPC;
	memcpy(data, src, n);
	*size = n;
	return 0;
}

static int probe_reset(struct pt_module *mod)
{
	event(pt_mod_priv(mod), "reset");
	return 0;
}

static const struct pt_module_ops probe_ops = {
	.init = probe_init,
	.prepare = probe_prepare,
	.process = probe_process,
	.get_config = probe_get_config,
	.reset = probe_reset,
	.bind = probe_bind,
	.unbind = probe_unbind,
	.trigger = probe_trigger,
	.set_processing_mode = probe_mode,
};

PT_MODULE(v2probe, probe_ops, .name = "v2probe",
	  .uuid = { 0x50, 0x72, 0x6f, 0x62, 0x65, 0x32, 0x40, 0x00, 0x80, 0x00,
		    0x00, 0x00, 0x00, 0x00, 0x00, 0x02 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 16384,
	  .stack_size = 32768, .max_sources = 1, .max_sinks = 2,
	  .flags = PT_MOD_FLAG_ISOLATABLE | PT_MOD_FLAG_BINARY_INIT);
