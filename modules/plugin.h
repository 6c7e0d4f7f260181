/* SPDX-License-Identifier: MIT */
/*
 * modules/plugin.h - what the plugin adapters (modules/lv2, modules/ladspa)
 * share: control ports as parameters by symbol, and audio ports bound to
 * one interleaved input pin and one output pin.
 *
 * Header-only on the public ABI, like pcm.h and params.h.
 *
 * Channels: a plugin with as many audio inputs as the input stream has
 * channels runs once; a mono plugin (one audio input, one output) on a
 * stream of N channels runs as N plugin instances, one per channel, as
 * other hosts do, all with the same control values (the output controls
 * reported are the first instance's). Any other combination is refused at
 * prepare with the counts named. The output stream has handles * outputs
 * channels.
 */
#ifndef PT_MODULES_PLUGIN_H
#define PT_MODULES_PLUGIN_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <partita/module.h>

#include <partita/params.h>
#include "modules/pcm.h"

#define PLUG_SYMBOL_MAX 48
/* Plugin instances one adapter instance may run (one per channel). */
#define PLUG_HANDLES_MAX PT_CHANNELS_MAX

struct plug_control {
	char symbol[PLUG_SYMBOL_MAX];
	uint32_t port;        /* the plugin's port index */
	bool output;
	bool has_min, has_max;
	bool integer, toggled;
	bool latency;         /* reports the plugin's latency in frames */
	float min, max, def;
};

struct plug_audio {
	uint32_t nin, nout;   /* audio ports of one plugin instance */
	uint32_t *in, *out;   /* their port indexes */
	unsigned handles;     /* plugin instances running (0 before prepare) */
	uint32_t frames;      /* period */
	unsigned in_ch, out_ch;
	float *bufs;          /* per handle: nin then nout buffers of frames */
	float *inter;         /* interleaved scratch, frames * max channels */
};

struct plug {
	struct plug_control *ctl;
	unsigned nctl;
	float *value;         /* [nctl]: inputs, and outputs of handle 0 */
	float *next;          /* [nctl]: plug_set_text's scratch */
	float *outs;          /* [PLUG_HANDLES_MAX * nctl]: outputs of the others */
	bool latency_said;    /* a latency that is no frame count was logged */
	struct plug_audio a;
};

/* Whether @file is one of the colon-separated paths of @list (a listing's
 * skip=: what killed an earlier listing domain). */
static inline bool plug_in_list(const char *list, const char *file)
{
	size_t n = strlen(file);

	for (const char *s = list; s && *s;) {
		const char *end = strchr(s, ':');
		size_t k = end ? (size_t)(end - s) : strlen(s);

		if (k == n && !memcmp(s, file, n))
			return true;
		s += k + (end ? 1 : 0);
	}
	return false;
}

/* The input controls' values in force must fit their bounds, which for
 * rate-relative controls are known only at prepare (@rate). */
static inline int plug_check_ranges(struct pt_module *mod, const struct plug *p,
				    uint32_t rate)
{
	for (unsigned i = 0; i < p->nctl; i++) {
		const struct plug_control *c = &p->ctl[i];

		if (!c->output && ((c->has_min && p->value[i] < c->min) ||
				   (c->has_max && p->value[i] > c->max))) {
			pt_log(mod, PT_LOG_ERR, "%s=%.9g is out of range %.9g..%.9g at %u Hz",
			       c->symbol, (double)p->value[i], (double)c->min,
			       (double)c->max, rate);
			return -ERANGE;
		}
	}
	return 0;
}

static inline int plug_find(const struct plug *p, const char *key, size_t n)
{
	for (unsigned i = 0; i < p->nctl; i++)
		if (strlen(p->ctl[i].symbol) == n && !memcmp(p->ctl[i].symbol, key, n))
			return (int)i;
	return -1;
}

/* Lists the input control symbols into @out (for error messages). */
static inline void plug_symbols(const struct plug *p, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < p->nctl && n + 1 < len; i++) {
		int k;

		if (p->ctl[i].output)
			continue;
		k = snprintf(out + n, len - n, "%s%s", n ? " " : "", p->ctl[i].symbol);
		if (k < 0)
			break;
		n += (size_t)k;
	}
	if (!n)
		snprintf(out, len, "(none)");
}

/* Applies the "symbol=value" items of @blob to the input controls, except
 * @reserved keys. All or nothing: an unknown symbol, a bad number, a value
 * out of the plugin's range or an output control refuses the blob with one
 * log line naming it. */
static inline int plug_set_text(struct pt_module *mod, struct plug *p,
				const void *blob, size_t size,
				const char *const *reserved)
{
	float *next = p->next;
	const char *s = blob, *end = s + size, *item, *eq;
	int ret;

	memcpy(next, p->value, p->nctl * sizeof(float));
	while (s && (ret = pt_params_item(mod, &s, end, &item, &eq))) {
		char num[64], *stop;
		struct plug_control *c;
		double v;
		int k;

		if (ret < 0)
			return ret;
		if (pt_params_in(reserved, item, (size_t)(eq - item)))
			continue;
		k = plug_find(p, item, (size_t)(eq - item));
		if (k < 0 || p->ctl[k].output) {
			char syms[512];

			plug_symbols(p, syms, sizeof(syms));
			pt_log(mod, PT_LOG_ERR, "%s '%.*s' (the plugin's input controls: %s)",
			       k < 0 ? "no control port" : "output control port cannot be set:",
			       (int)(eq - item), item, syms);
			return -EINVAL;
		}
		c = &p->ctl[k];
		if ((size_t)(s - eq - 1) >= sizeof(num) || s == eq + 1) {
			pt_log(mod, PT_LOG_ERR, "%s: bad value", c->symbol);
			return -EINVAL;
		}
		memcpy(num, eq + 1, (size_t)(s - eq - 1));
		num[s - eq - 1] = '\0';
		v = strtod(num, &stop);
		if (*stop || !isfinite(v)) {
			pt_log(mod, PT_LOG_ERR, "%s=%s is not a number", c->symbol, num);
			return -EINVAL;
		}
		if ((c->has_min && (float)v < c->min) || (c->has_max && (float)v > c->max)) {
			pt_log(mod, PT_LOG_ERR, "%s=%s is out of range %.9g..%.9g",
			       c->symbol, num, c->has_min ? c->min : -INFINITY,
			       c->has_max ? c->max : INFINITY);
			return -ERANGE;
		}
		next[k] = (float)v;
	}
	memcpy(p->value, next, p->nctl * sizeof(float));
	return 0;
}

/* "symbol=value" for every control port, inputs then outputs as the
 * plugin lists them; %.9g round-trips a float. */
static inline void plug_get_text(const struct plug *p, struct pt_params_text *t)
{
	for (unsigned i = 0; i < p->nctl; i++)
		pt_params_printf(t, "%s%s=%.9g", t->len ? " " : "", p->ctl[i].symbol,
			      (double)p->value[i]);
}

/* The address a plugin instance @h connects control @i to. */
static inline float *plug_control_at(struct plug *p, unsigned h, unsigned i)
{
	if (!p->ctl[i].output || h == 0)
		return &p->value[i];
	return &p->outs[(h - 1) * p->nctl + i];
}

/* Decides how many plugin instances the stream needs. 0, or -EINVAL after
 * logging why the plugin does not fit. */
static inline int plug_layout(struct pt_module *mod, struct plug *p,
			      const struct pt_format *in, const struct pt_format *out)
{
	struct plug_audio *a = &p->a;
	unsigned h;

	if (a->nin == 0 || a->nout == 0) {
		pt_log(mod, PT_LOG_ERR, "the plugin has %u audio inputs and %u outputs: "
		       "plugins without audio inputs or outputs are not supported",
		       a->nin, a->nout);
		return -EINVAL;
	}
	if (in->channels == a->nin)
		h = 1;
	else if (a->nin == 1 && a->nout == 1)
		h = in->channels; /* one per channel */
	else {
		pt_log(mod, PT_LOG_ERR, "the plugin has %u audio inputs, the stream %u channels "
		       "(a mono plugin runs once per channel; other counts must match)",
		       a->nin, in->channels);
		return -EINVAL;
	}
	if (out->channels != h * a->nout) {
		pt_log(mod, PT_LOG_ERR, "the output stream has %u channels, the plugin gives %u "
		       "(%u instance%s of %u audio outputs)", out->channels, h * a->nout,
		       h, h > 1 ? "s" : "", a->nout);
		return -EINVAL;
	}
	if (in->rate != out->rate) {
		pt_log(mod, PT_LOG_ERR, "input rate %u and output rate %u differ", in->rate,
		       out->rate);
		return -EINVAL;
	}
	a->handles = h;
	a->in_ch = in->channels;
	a->out_ch = out->channels;
	return 0;
}

/* Audio buffers for a->handles instances of @frames; 0 or -ENOMEM. */
static inline int plug_buffers(struct pt_module *mod, struct plug *p, uint32_t frames)
{
	struct plug_audio *a = &p->a;
	unsigned ch = a->in_ch > a->out_ch ? a->in_ch : a->out_ch;

	pt_mod_free(mod, a->bufs);
	pt_mod_free(mod, a->inter);
	a->frames = frames;
	a->bufs = pt_mod_alloc(mod, (size_t)a->handles * (a->nin + a->nout) * frames * sizeof(float));
	a->inter = pt_mod_alloc(mod, (size_t)frames * ch * sizeof(float));
	if (!a->bufs || !a->inter) {
		pt_log(mod, PT_LOG_ERR, "no heap for %u frames of audio buffers", frames);
		return -ENOMEM;
	}
	memset(a->bufs, 0, (size_t)a->handles * (a->nin + a->nout) * frames * sizeof(float));
	return 0;
}

static inline float *plug_in_buf(struct plug *p, unsigned h, unsigned i)
{
	return p->a.bufs + ((size_t)h * (p->a.nin + p->a.nout) + i) * p->a.frames;
}

static inline float *plug_out_buf(struct plug *p, unsigned h, unsigned i)
{
	return p->a.bufs + ((size_t)h * (p->a.nin + p->a.nout) + p->a.nin + i) * p->a.frames;
}

/* One period: reads the input, splits it over the instances' input
 * buffers, calls @run(ctx, handle, frames) for each instance, writes the
 * interleaved outputs. */
static inline int plug_process(struct plug *p, struct pt_source *src,
			       struct pt_sink *snk,
			       void (*run)(void *ctx, unsigned h, uint32_t frames),
			       void *ctx)
{
	struct plug_audio *a = &p->a;
	struct pcm_cursor in, out;
	uint32_t n = a->frames;
	int ret;

	if ((ret = pcm_source_cursor(src, n, &in)) || (ret = pcm_sink_cursor(snk, n, &out)))
		return ret;
	pcm_get(&in, a->inter, n);
	for (unsigned h = 0; h < a->handles; h++)
		for (unsigned i = 0; i < a->nin; i++) {
			float *b = plug_in_buf(p, h, i);
			unsigned ch = h * a->nin + i;

			for (uint32_t f = 0; f < n; f++)
				b[f] = a->inter[(size_t)f * a->in_ch + ch];
		}
	for (unsigned h = 0; h < a->handles; h++)
		run(ctx, h, n);
	for (unsigned h = 0; h < a->handles; h++)
		for (unsigned i = 0; i < a->nout; i++) {
			const float *b = plug_out_buf(p, h, i);
			unsigned ch = h * a->nout + i;

			for (uint32_t f = 0; f < n; f++)
				a->inter[(size_t)f * a->out_ch + ch] = b[f];
		}
	pcm_put(&out, a->inter, n);
	ret = pt_source_release(src, (size_t)n * in.frame);
	if (!ret)
		ret = pt_sink_commit(snk, (size_t)n * out.frame);
	return ret;
}

/* Reports the latency port's value, if the plugin has one. A value that
 * is no frame count (negative, not a number, beyond 10 s at the highest
 * rate) is reported as 0 and said once. */
static inline void plug_report_latency(struct pt_module *mod, struct plug *p)
{
	for (unsigned i = 0; i < p->nctl; i++)
		if (p->ctl[i].latency && p->ctl[i].output) {
			float v = p->value[i];
			bool ok = v >= 0 && v <= 10.0f * PT_RATE_MAX;

			if (!ok && !p->latency_said) {
				pt_log(mod, PT_LOG_WARN, "the plugin's latency port %s says %g "
				       "frames, not a latency (0..%u): reported as 0",
				       p->ctl[i].symbol, (double)v, 10u * PT_RATE_MAX);
				p->latency_said = true;
			}
			pt_mod_set_latency(mod, ok ? (uint32_t)v : 0);
			return;
		}
}

/* Checks prepare's pins: one input and one output, on an instance that
 * runs a plugin (not a listing). 0, or -EINVAL after logging. */
static inline int plug_pins(struct pt_module *mod, unsigned nsrc, unsigned nsnk,
			    bool listing)
{
	if (nsrc != 1 || nsnk != 1 || listing) {
		pt_log(mod, PT_LOG_ERR, listing ? "a listing (list=1) does not process"
						: "bind one input and one output pin");
		return -EINVAL;
	}
	return 0;
}

/* Connects plugin instance @h's control and audio ports through
 * @connect(ctx, h, port, at). */
static inline void plug_connect(struct plug *p, unsigned h,
				void (*connect)(void *ctx, unsigned h, uint32_t port, void *at),
				void *ctx)
{
	for (unsigned i = 0; i < p->nctl; i++)
		connect(ctx, h, p->ctl[i].port, plug_control_at(p, h, i));
	for (unsigned i = 0; i < p->a.nin; i++)
		connect(ctx, h, p->a.in[i], plug_in_buf(p, h, i));
	for (unsigned i = 0; i < p->a.nout; i++)
		connect(ctx, h, p->a.out[i], plug_out_buf(p, h, i));
}

/* ---- listing (partita plugins) ----------------------------------------
 * An adapter initialised with list=1 describes every plugin along its path
 * instead of running one: the text and the JSON are built once, in the
 * domain, and read back page by page with get_config. */

/* get_config ids: page k of the text listing, of the JSON array. */
#define PLUG_LIST_TEXT 0x100u
#define PLUG_LIST_JSON 0x200u
#define PLUG_LIST_PAGES 0x100u
#define PLUG_LIST_PAGE (64u * 1024u)

struct plug_text {
	char *buf;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3)))
static inline void plug_printf(struct plug_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if (t->buf && (size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		{
			size_t cap = (t->cap ? t->cap * 2 : 65536) + (size_t)n;
			char *b = realloc(t->buf, cap);

			if (!b) {
				t->failed = true;
				return;
			}
			t->buf = b;
			t->cap = cap;
		}
	}
}

/* Appends @s as a JSON string (quoted, escaped, ASCII only). */
static inline void plug_json_string(struct plug_text *t, const char *s)
{
	plug_printf(t, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			plug_printf(t, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			plug_printf(t, "\\u%04x", c);
		else
			plug_printf(t, "%c", c);
	}
	plug_printf(t, "\"");
}

/* A number for JSON: null when not finite. */
static inline void plug_json_number(struct plug_text *t, double v)
{
	if (isfinite(v))
		plug_printf(t, "%.9g", v);
	else
		plug_printf(t, "null");
}

/* Ends a listing begun with "[" in @json: 0, or -ENOMEM after logging
 * that it did not fit. */
static inline int plug_list_end(struct pt_module *mod, struct plug_text *text,
				struct plug_text *json)
{
	plug_printf(json, "\n]\n");
	if (text->failed || json->failed) {
		pt_log(mod, PT_LOG_ERR, "the listing did not fit the heap: give a larger heap_size");
		return -ENOMEM;
	}
	return 0;
}

/* Page @param of a listing into a get_config reply: 0, -ENOSPC, -EINVAL. */
static inline int plug_list_page(const struct plug_text *text, const struct plug_text *json,
				 uint32_t param, void *data, size_t *size)
{
	const struct plug_text *t = param >= PLUG_LIST_JSON ? json : text;
	uint32_t base = param >= PLUG_LIST_JSON ? PLUG_LIST_JSON : PLUG_LIST_TEXT;
	size_t off, n;

	if (param < PLUG_LIST_TEXT || param >= PLUG_LIST_JSON + PLUG_LIST_PAGES ||
	    (param >= PLUG_LIST_TEXT + PLUG_LIST_PAGES && param < PLUG_LIST_JSON) || t->failed)
		return -EINVAL;
	off = (size_t)(param - base) * PLUG_LIST_PAGE;
	n = off >= t->len ? 0 : t->len - off;
	if (n > PLUG_LIST_PAGE)
		n = PLUG_LIST_PAGE;
	if (n > *size)
		return -ENOSPC;
	if (n)
		memcpy(data, t->buf + off, n);
	*size = n;
	return 0;
}

#endif /* PT_MODULES_PLUGIN_H */
