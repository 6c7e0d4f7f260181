/* SPDX-License-Identifier: MIT */
/*
 * modules/ladspa - runs a LADSPA plugin as a module instance.
 *
 * Parameters: library=NAME (found along path=, which the host fills in from
 * $LADSPA_PATH or the standard folders, or an absolute file), label=LABEL,
 * and the plugin's input control ports by symbol (the port name in lower
 * case, every run of other characters one '_': "Gain (dB)" is gain_db).
 * Defaults and ranges come from the descriptor's hints; a value outside the
 * range is refused naming it.
 *
 * In a domain, init (dlopen of the plugin library) and the first prepare
 * (instantiate, activate) run before the domain seals, with Landlock
 * granting read access to that one library file (docs/plugins.md).
 */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ladspa.h>

#include <partita/module.h>

#include "modules/plugin.h"

struct ladspa {
	void *dl;
	const LADSPA_Descriptor *d;
	LADSPA_Handle h[PLUG_HANDLES_MAX];
	bool active;
	uint32_t rate;               /* the handles' sample rate */
	bool *srate;                 /* [nctl]: bounds scale with the rate */
	bool *deflt;                 /* [nctl]: at its rate-relative default,
					recomputed at prepare for the rate */
	float *lo, *hi;              /* [nctl]: bounds before scaling */
	struct plug p;
	bool listing;                /* list=1: describes, never runs */
	struct plug_text text, json;
};

static const char *const reserved[] = { "library", "label", "path", "list", NULL };

/* "Gain (dB)" -> "gain_db". */
static void port_symbol(const char *name, char *out, size_t len)
{
	size_t n = 0;
	bool sep = false;

	for (const char *s = name; *s && n + 1 < len; s++) {
		if (isalnum((unsigned char)*s)) {
			if (sep && n)
				out[n++] = '_';
			sep = false;
			if (n + 1 < len)
				out[n++] = (char)tolower((unsigned char)*s);
		} else
			sep = true;
	}
	out[n] = '\0';
	if (!n)
		snprintf(out, len, "port");
}

/* The hint's default (ladspa.h), bounds already scaled by the rate. */
static float hint_default(LADSPA_PortRangeHintDescriptor hd, float lo, float hi)
{
	bool lg = LADSPA_IS_HINT_LOGARITHMIC(hd) && lo > 0 && hi > 0;

	switch (hd & LADSPA_HINT_DEFAULT_MASK) {
	case LADSPA_HINT_DEFAULT_MINIMUM: return lo;
	case LADSPA_HINT_DEFAULT_LOW:
		return lg ? expf(logf(lo) * 0.75f + logf(hi) * 0.25f) : lo * 0.75f + hi * 0.25f;
	case LADSPA_HINT_DEFAULT_MIDDLE:
		return lg ? sqrtf(lo * hi) : 0.5f * (lo + hi);
	case LADSPA_HINT_DEFAULT_HIGH:
		return lg ? expf(logf(lo) * 0.25f + logf(hi) * 0.75f) : lo * 0.25f + hi * 0.75f;
	case LADSPA_HINT_DEFAULT_MAXIMUM: return hi;
	case LADSPA_HINT_DEFAULT_0: return 0;
	case LADSPA_HINT_DEFAULT_1: return 1;
	case LADSPA_HINT_DEFAULT_100: return 100;
	case LADSPA_HINT_DEFAULT_440: return 440;
	default: return 0;
	}
}

/* Sets the bounds and defaults for @rate (1 before the rate is known:
 * rate-relative bounds are then left open). */
static void set_bounds(struct ladspa *l, uint32_t rate, bool defaults)
{
	for (unsigned i = 0; i < l->p.nctl; i++) {
		struct plug_control *c = &l->p.ctl[i];
		const LADSPA_PortRangeHint *h = &l->d->PortRangeHints[c->port];
		float k = l->srate[i] ? (float)rate : 1.0f;

		c->has_min = LADSPA_IS_HINT_BOUNDED_BELOW(h->HintDescriptor) &&
			     (!l->srate[i] || rate);
		c->has_max = LADSPA_IS_HINT_BOUNDED_ABOVE(h->HintDescriptor) &&
			     (!l->srate[i] || rate);
		c->min = l->lo[i] * k;
		c->max = l->hi[i] * k;
		if (LADSPA_IS_HINT_TOGGLED(h->HintDescriptor)) {
			c->has_min = c->has_max = c->toggled = true;
			c->min = 0;
			c->max = 1;
		}
		if (c->output || (!defaults && !l->deflt[i]))
			continue;
		if (h->HintDescriptor & LADSPA_HINT_DEFAULT_MASK)
			c->def = hint_default(h->HintDescriptor, c->min, c->max);
		else
			c->def = c->has_min ? c->min : 0;
		if (c->has_max && c->def > c->max)
			c->def = c->max;
		l->p.value[i] = c->def;
	}
}

/* plug_set_text, keeping track of the rate-relative controls still at
 * their default (marked NAN while it runs: what it sets is a number). */
static int set_text(struct pt_module *mod, struct ladspa *l, const void *data,
		    size_t size, const char *const *skip)
{
	int ret;

	for (unsigned i = 0; i < l->p.nctl; i++)
		if (l->deflt[i])
			l->p.value[i] = NAN;
	ret = plug_set_text(mod, &l->p, data, size, skip);
	for (unsigned i = 0; i < l->p.nctl; i++)
		if (l->deflt[i]) {
			if (isnan(l->p.value[i]))
				l->p.value[i] = l->p.ctl[i].def;
			else
				l->deflt[i] = false;
		}
	return ret;
}

/* Finds @lib along @path the way the host did (access() first, so that
 * only the file the domain was granted is ever opened). */
static void *open_library(struct pt_module *mod, const char *lib, const char *path)
{
	char f[PATH_MAX];
	void *dl;

	if (lib[0] == '/') {
		dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
		if (!dl)
			pt_log(mod, PT_LOG_ERR, "library %s: %s", lib, dlerror());
		return dl;
	}
	if (strchr(lib, '/')) {
		pt_log(mod, PT_LOG_ERR, "library %s: give a file name found along path, or an absolute path", lib);
		return NULL;
	}
	for (const char *s = path; *s;) {
		const char *end = strchr(s, ':');
		int k = (int)(end ? (size_t)(end - s) : strlen(s));

		if (k && snprintf(f, sizeof(f), "%.*s/%s", k, s, lib) < (int)sizeof(f) &&
		    access(f, R_OK) == 0) {
			dl = dlopen(f, RTLD_NOW | RTLD_LOCAL);
			if (!dl)
				pt_log(mod, PT_LOG_ERR, "library %s: %s", f, dlerror());
			return dl;
		}
		s += k + (end ? 1 : 0);
	}
	pt_log(mod, PT_LOG_ERR, "library %s: not found along %s", lib, path);
	return NULL;
}

static int describe(struct pt_module *mod, struct ladspa *l)
{
	const LADSPA_Descriptor *d = l->d;
	unsigned nctl = 0, nin = 0, nout = 0;

	for (unsigned long i = 0; i < d->PortCount; i++) {
		LADSPA_PortDescriptor pd = d->PortDescriptors[i];

		if (LADSPA_IS_PORT_CONTROL(pd))
			nctl++;
		else if (LADSPA_IS_PORT_AUDIO(pd))
			LADSPA_IS_PORT_INPUT(pd) ? nin++ : nout++;
	}
	l->p.ctl = pt_mod_alloc(mod, (nctl + 1) * sizeof(*l->p.ctl));
	l->p.value = pt_mod_alloc(mod, (nctl + 1) * sizeof(float));
	l->p.next = pt_mod_alloc(mod, (nctl + 1) * sizeof(float));
	l->p.outs = pt_mod_alloc(mod, (PLUG_HANDLES_MAX * nctl + 1) * sizeof(float));
	l->srate = pt_mod_alloc(mod, nctl + 1);
	l->deflt = pt_mod_alloc(mod, nctl + 1);
	l->lo = pt_mod_alloc(mod, (nctl + 1) * sizeof(float));
	l->hi = pt_mod_alloc(mod, (nctl + 1) * sizeof(float));
	l->p.a.in = pt_mod_alloc(mod, (nin + 1) * sizeof(uint32_t));
	l->p.a.out = pt_mod_alloc(mod, (nout + 1) * sizeof(uint32_t));
	if (!l->p.ctl || !l->p.value || !l->p.next || !l->p.outs || !l->srate || !l->deflt || !l->lo || !l->hi ||
	    !l->p.a.in || !l->p.a.out)
		return -ENOMEM;
	memset(l->p.ctl, 0, (nctl + 1) * sizeof(*l->p.ctl));
	memset(l->p.outs, 0, (PLUG_HANDLES_MAX * nctl + 1) * sizeof(float));
	for (unsigned long i = 0; i < d->PortCount; i++) {
		LADSPA_PortDescriptor pd = d->PortDescriptors[i];
		struct plug_control *c;
		const LADSPA_PortRangeHint *h = &d->PortRangeHints[i];

		if (LADSPA_IS_PORT_AUDIO(pd)) {
			if (LADSPA_IS_PORT_INPUT(pd))
				l->p.a.in[l->p.a.nin++] = (uint32_t)i;
			else
				l->p.a.out[l->p.a.nout++] = (uint32_t)i;
			continue;
		}
		if (!LADSPA_IS_PORT_CONTROL(pd))
			continue;
		c = &l->p.ctl[l->p.nctl];
		port_symbol(d->PortNames[i] ? d->PortNames[i] : "", c->symbol, sizeof(c->symbol));
		/* Names are not unique in every library: number repeats. */
		for (unsigned k = 0, dup = 1; k < l->p.nctl; k++)
			if (!strcmp(l->p.ctl[k].symbol, c->symbol)) {
				char s[PLUG_SYMBOL_MAX];

				snprintf(s, sizeof(s), "%.40s_%u", c->symbol, ++dup);
				memcpy(c->symbol, s, sizeof(s));
				k = (unsigned)-1;
			}
		c->port = (uint32_t)i;
		c->output = LADSPA_IS_PORT_OUTPUT(pd);
		c->integer = LADSPA_IS_HINT_INTEGER(h->HintDescriptor);
		c->latency = c->output && !strcmp(c->symbol, "latency");
		l->srate[l->p.nctl] = LADSPA_IS_HINT_SAMPLE_RATE(h->HintDescriptor);
		l->deflt[l->p.nctl] = l->srate[l->p.nctl] && !c->output;
		l->lo[l->p.nctl] = h->LowerBound;
		l->hi[l->p.nctl] = h->UpperBound;
		l->p.value[l->p.nctl] = 0;
		l->p.nctl++;
	}
	set_bounds(l, 0, true);
	return 0;
}

/* What makes a descriptor unusable (its data cannot be read as ladspa.h
 * says), or NULL. */
static const char *desc_flaw(const LADSPA_Descriptor *d)
{
	if (!d->Label)
		return "no label";
	if (d->PortCount > 1024)
		return "more than 1024 ports";
	if (d->PortCount && (!d->PortDescriptors || !d->PortRangeHints))
		return "no port descriptors or range hints";
	return NULL;
}

/* Descriptors read from one library at most (a descriptor function that
 * never returns NULL would not end). */
#define DESCRIPTORS_MAX 4096

/* One library's plugins into the listing (like listplugins and
 * analyseplugin). */
static void list_library(struct pt_module *mod, struct ladspa *l, const char *file,
			 const char *base, bool *first)
{
	void *dl;
	LADSPA_Descriptor_Function fn;
	const LADSPA_Descriptor *d;

	/* Said before the library's code runs: if it kills the domain, the
	 * death names it (the host lists again without it). */
	pt_log(mod, PT_LOG_INFO, "listing %s", file);
	dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		return;
	*(void **)&fn = dlsym(dl, "ladspa_descriptor");
	for (unsigned long i = 0; fn && i < DESCRIPTORS_MAX && (d = fn(i)); i++) {
		char sym[PLUG_SYMBOL_MAX];
		const char *flaw = desc_flaw(d);

		if (flaw) {
			plug_printf(&l->text, "%s #%lu: skipped: %s\n", base, i, flaw);
			continue;
		}
		plug_printf(&l->text, "%s %s (%lu)\n  name: %s\n", base, d->Label, d->UniqueID,
			    d->Name ? d->Name : "?");
		plug_printf(&l->json, "%s\n  {\"library\": ", *first ? "" : ",");
		plug_json_string(&l->json, base);
		plug_printf(&l->json, ", \"label\": ");
		plug_json_string(&l->json, d->Label);
		plug_printf(&l->json, ", \"id\": %lu, \"name\": ", d->UniqueID);
		plug_json_string(&l->json, d->Name ? d->Name : "");
		plug_printf(&l->json, ", \"ports\": [");
		for (unsigned long k = 0; k < d->PortCount; k++) {
			LADSPA_PortDescriptor pd = d->PortDescriptors[k];
			const LADSPA_PortRangeHint *h = &d->PortRangeHints[k];
			const char *type = LADSPA_IS_PORT_AUDIO(pd) ? "audio" : "control";
			const char *dir = LADSPA_IS_PORT_INPUT(pd) ? "input" : "output";
			bool sr = LADSPA_IS_HINT_SAMPLE_RATE(h->HintDescriptor);

			port_symbol(d->PortNames && d->PortNames[k] ? d->PortNames[k] : "", sym, sizeof(sym));
			plug_printf(&l->text, "  port %lu %-8s %-6s %s", k, type,
				    LADSPA_IS_PORT_INPUT(pd) ? "in" : "out", sym);
			plug_printf(&l->json, "%s{\"index\": %lu, \"symbol\": ", k ? ", " : "", k);
			plug_json_string(&l->json, sym);
			plug_printf(&l->json, ", \"name\": ");
			plug_json_string(&l->json, d->PortNames && d->PortNames[k] ? d->PortNames[k] : "");
			plug_printf(&l->json, ", \"type\": \"%s\", \"direction\": \"%s\"", type, dir);
			if (LADSPA_IS_PORT_CONTROL(pd) && LADSPA_IS_PORT_INPUT(pd)) {
				/* The default the adapter takes (set_bounds):
				 * one that follows the bounds scales with the
				 * rate as they do. */
				LADSPA_PortRangeHintDescriptor hd = h->HintDescriptor;
				unsigned m = hd & LADSPA_HINT_DEFAULT_MASK;
				bool tg = LADSPA_IS_HINT_TOGGLED(hd);
				float lo = tg ? 0 : h->LowerBound, hi = tg ? 1 : h->UpperBound;
				float v = m ? hint_default(hd, lo, hi) :
					  LADSPA_IS_HINT_BOUNDED_BELOW(hd) || tg ? lo : 0;
				bool rel = sr && !tg && (m ? m <= LADSPA_HINT_DEFAULT_MAXIMUM :
							   LADSPA_IS_HINT_BOUNDED_BELOW(hd));

				if ((LADSPA_IS_HINT_BOUNDED_ABOVE(hd) || tg) && v > hi && (!sr || rel))
					v = hi;
				plug_printf(&l->text, " = %.9g%s", (double)v, rel ? "*rate" : "");
				plug_printf(&l->json, ", \"default\": ");
				plug_json_number(&l->json, v);
				plug_printf(&l->json, ", \"default_times_rate\": %s", rel ? "true" : "false");
			}
			if (LADSPA_IS_PORT_CONTROL(pd)) {
				plug_printf(&l->text, " (");
				plug_printf(&l->json, ", \"min\": ");
				if (LADSPA_IS_HINT_BOUNDED_BELOW(h->HintDescriptor)) {
					plug_printf(&l->text, "%.9g%s", (double)h->LowerBound, sr ? "*rate" : "");
					plug_json_number(&l->json, h->LowerBound);
				} else
					plug_printf(&l->json, "null");
				plug_printf(&l->text, "..");
				plug_printf(&l->json, ", \"max\": ");
				if (LADSPA_IS_HINT_BOUNDED_ABOVE(h->HintDescriptor)) {
					plug_printf(&l->text, "%.9g%s", (double)h->UpperBound, sr ? "*rate" : "");
					plug_json_number(&l->json, h->UpperBound);
				} else
					plug_printf(&l->json, "null");
				plug_printf(&l->text, ")");
				plug_printf(&l->json, ", \"times_rate\": %s", sr ? "true" : "false");
			}
			plug_printf(&l->text, "  \"%s\"\n",
				    d->PortNames && d->PortNames[k] ? d->PortNames[k] : "");
			plug_printf(&l->json, "}");
		}
		plug_printf(&l->json, "]}");
		*first = false;
	}
	dlclose(dl);
}

/* list=1: every library along @path but those in @skip. */
static int list_all(struct pt_module *mod, struct ladspa *l, const char *path,
		    const char *skip)
{
	bool first = true;

	plug_printf(&l->json, "[");
	for (const char *s = path; *s;) {
		const char *end = strchr(s, ':');
		int k = (int)(end ? (size_t)(end - s) : strlen(s));
		char dir[PATH_MAX];
		DIR *dp;
		struct dirent *de;

		snprintf(dir, sizeof(dir), "%.*s", k, s);
		s += k + (end ? 1 : 0);
		if (dir[0] != '/' || !(dp = opendir(dir)))
			continue;
		while ((de = readdir(dp))) {
			size_t n = strlen(de->d_name);
			char f[PATH_MAX];

			if (n < 4 || strcmp(de->d_name + n - 3, ".so") ||
			    snprintf(f, sizeof(f), "%s/%s", dir, de->d_name) >= (int)sizeof(f) ||
			    plug_in_list(skip, f))
				continue;
			list_library(mod, l, f, de->d_name, &first);
		}
		closedir(dp);
	}
	return plug_list_end(mod, &l->text, &l->json);
}

static void handles_drop(struct ladspa *l)
{
	for (unsigned h = 0; h < PLUG_HANDLES_MAX; h++) {
		if (!l->h[h])
			continue;
		if (l->active && l->d->deactivate)
			l->d->deactivate(l->h[h]);
		l->d->cleanup(l->h[h]);
		l->h[h] = NULL;
	}
	l->active = false;
}

static void ladspa_free(struct pt_module *mod)
{
	struct ladspa *l = pt_mod_priv(mod);

	if (!l)
		return;
	if (l->d)
		handles_drop(l);
	if (l->dl)
		dlclose(l->dl);
	free(l->text.buf);
	free(l->json.buf);
	pt_mod_set_priv(mod, NULL);
}

static int ladspa_init(struct pt_module *mod, const void *data, size_t size)
{
	struct ladspa *l = pt_mod_alloc(mod, sizeof(*l));
	char lib[PATH_MAX], label[128], path[2048];
	LADSPA_Descriptor_Function fn;
	int ret;

	if (!l)
		return -ENOMEM;
	memset(l, 0, sizeof(*l));
	pt_mod_set_priv(mod, l);
	if (pt_param_double(data, size, "list", &(double){ 0 }) == 0) {
		if (pt_param_string(data, size, "path", path, sizeof(path)) <= 0)
			snprintf(path, sizeof(path), "/usr/local/lib/ladspa:/usr/lib/ladspa");
		dlopen("libm.so.6", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
		l->listing = true;
		if (pt_param_string(data, size, "skip", lib, sizeof(lib)) <= 0)
			lib[0] = '\0';
		if ((ret = list_all(mod, l, path, lib)))
			goto fail;
		return 0;
	}
	if (pt_param_string(data, size, "library", lib, sizeof(lib)) <= 0 ||
	    pt_param_string(data, size, "label", label, sizeof(label)) <= 0) {
		pt_log(mod, PT_LOG_ERR, "give library= and label= (see partita plugins)");
		ret = -EINVAL;
		goto fail;
	}
	if (pt_param_string(data, size, "path", path, sizeof(path)) <= 0)
		snprintf(path, sizeof(path), "/usr/local/lib/ladspa:/usr/lib/ladspa");
	/* Plugins count on the host's libm being global (some do not link
	 * it); the adapter links it, this makes it visible to them. */
	dlopen("libm.so.6", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
	l->dl = open_library(mod, lib, path);
	if (!l->dl) {
		ret = -ENOENT;
		goto fail;
	}
	*(void **)&fn = dlsym(l->dl, "ladspa_descriptor");
	if (!fn) {
		pt_log(mod, PT_LOG_ERR, "library %s: no ladspa_descriptor", lib);
		ret = -ENOEXEC;
		goto fail;
	}
	for (unsigned long i = 0; i < DESCRIPTORS_MAX && (l->d = fn(i)); i++)
		if (l->d->Label && !strcmp(l->d->Label, label))
			break;
	if (l->d && (!l->d->Label || strcmp(l->d->Label, label)))
		l->d = NULL;
	if (!l->d) {
		pt_log(mod, PT_LOG_ERR, "library %s has no plugin labelled '%s'", lib, label);
		ret = -ENOENT;
		goto fail;
	}
	if (!l->d->instantiate || !l->d->connect_port || !l->d->run || !l->d->cleanup ||
	    desc_flaw(l->d)) {
		pt_log(mod, PT_LOG_ERR, "plugin %s: incomplete descriptor (%s)", label,
		       desc_flaw(l->d) ? desc_flaw(l->d) : "a function missing");
		ret = -ENOEXEC;
		goto fail;
	}
	if ((ret = describe(mod, l))) {
		pt_log(mod, PT_LOG_ERR, "plugin %s: no heap for its %lu ports", label,
		       l->d->PortCount);
		goto fail;
	}
	ret = set_text(mod, l, data, size, reserved);
	if (ret)
		goto fail;
	return 0;
fail:
	ladspa_free(mod);
	return ret;
}

static void connect_one(void *ctx, unsigned h, uint32_t port, void *at)
{
	struct ladspa *l = ctx;

	l->d->connect_port(l->h[h], port, at);
}

static int ladspa_prepare(struct pt_module *mod, struct pt_source *const *src,
			  unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	struct ladspa *l = pt_mod_priv(mod);
	const struct pt_format *in, *out;
	int ret;

	if ((ret = plug_pins(mod, nsrc, nsnk, l->listing)))
		return ret;
	in = pt_source_format(src[0]);
	out = pt_sink_format(snk[0]);
	handles_drop(l);
	if ((ret = plug_layout(mod, &l->p, in, out)))
		return ret;
	/* Rate-relative bounds are known now: the values in force must fit
	 * (defaults of rate-relative controls are the rate's). */
	set_bounds(l, in->rate, false);
	if ((ret = plug_check_ranges(mod, &l->p, in->rate)) ||
	    (ret = plug_buffers(mod, &l->p, pt_mod_period_frames(mod))))
		return ret;
	l->rate = in->rate;
	for (unsigned h = 0; h < l->p.a.handles; h++) {
		l->h[h] = l->d->instantiate(l->d, in->rate);
		if (!l->h[h]) {
			pt_log(mod, PT_LOG_ERR, "plugin %s: instantiate failed (heap full?)",
			       l->d->Label);
			handles_drop(l);
			return -ENOMEM;
		}
		plug_connect(&l->p, h, connect_one, l);
	}
	for (unsigned h = 0; h < l->p.a.handles; h++)
		if (l->d->activate)
			l->d->activate(l->h[h]);
	l->active = true;
	return 0;
}

static void run_one(void *ctx, unsigned h, uint32_t frames)
{
	struct ladspa *l = ctx;

	l->d->run(l->h[h], frames);
}

static int ladspa_process(struct pt_module *mod, struct pt_source *const *src,
			  unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	struct ladspa *l = pt_mod_priv(mod);
	int ret;

	if (nsrc != 1 || nsnk != 1 || !l->active)
		return -EINVAL;
	ret = plug_process(&l->p, src[0], snk[0], run_one, l);
	plug_report_latency(mod, &l->p);
	return ret;
}

static int ladspa_set_config(struct pt_module *mod, uint32_t param,
			     const void *data, size_t size)
{
	struct ladspa *l = pt_mod_priv(mod);
	static const char *const none[] = { NULL };

	if (param != PT_PARAM_TEXT || l->listing)
		return -EINVAL;
	return set_text(mod, l, data, size, none);
}

static int ladspa_get_config(struct pt_module *mod, uint32_t param, void *data,
			     size_t *size)
{
	struct ladspa *l = pt_mod_priv(mod);
	struct pt_params_text t = { .len = 0 };

	if (l->listing)
		return plug_list_page(&l->text, &l->json, param, data, size);
	plug_get_text(&l->p, &t);
	return pt_params_reply(&t, param, data, size);
}

/* Back to the state after init: a LADSPA plugin clears its state in
 * activate, which the next prepare calls. */
static int ladspa_reset(struct pt_module *mod)
{
	handles_drop(pt_mod_priv(mod));
	return 0;
}

static const struct pt_module_ops ladspa_ops = {
	.init = ladspa_init,
	.prepare = ladspa_prepare,
	.process = ladspa_process,
	.set_config = ladspa_set_config,
	.get_config = ladspa_get_config,
	.reset = ladspa_reset,
	.free = ladspa_free,
};

PT_MODULE(ladspa, ladspa_ops, .name = "ladspa",
	  .uuid = { 0x6c, 0x61, 0x64, 0x73, 0x70, 0x61, 0x4e, 0x1b, 0x9a, 0x2e,
		    0x51, 0x0c, 0x3d, 0x77, 0x18, 0x02 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 2 * 1024 * 1024,
	  .stack_size = 128 * 1024, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
