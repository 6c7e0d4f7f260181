/* SPDX-License-Identifier: MIT */
/*
 * modules/lv2 - runs an LV2 plugin as a module instance.
 *
 * Parameters: uri=PLUGIN_URI, path= (the LV2 search path, which the host
 * fills in from $LV2_PATH or the standard folders), or bundle=FOLDER (only
 * that bundle is read, and only it is granted), and the plugin's input
 * control ports by symbol. Defaults and ranges come from the plugin's data,
 * read with lilv; a value outside the range is refused naming it.
 *
 * init uses lilv to find the plugin and copy what the adapter needs (ports,
 * ranges, the library and bundle paths), then frees lilv's world: the
 * plugin's own allocations get the heap back. The library is dlopened here
 * and instantiated at prepare, when the rate and the channels are known.
 * In a domain both run before the domain seals (its first process), with
 * Landlock granting read access to the LV2 folders only (docs/plugins.md).
 *
 * Features: urid:map, urid:unmap, options:options (block lengths, sample
 * rate), buf-size:boundedBlockLength and fixedBlockLength (process always
 * runs one whole period), powerOf2BlockLength when the period is one,
 * worker:schedule (the work runs at once in the same thread: a domain has
 * no threads), log:log, lv2:inPlaceBroken (buffers never alias). A plugin
 * that requires another feature is refused naming its URI. State:
 * get_config/set_config with PT_PARAM_LV2_STATE save and restore the
 * plugin's state interface (POD values) as a binary blob.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#include <partita/module.h>

#include "modules/plugin.h"

/* get_config/set_config id of the plugin's saved state (binary). */
#define PT_PARAM_LV2_STATE 1u

#define URID_MAX 128
#define ATOM_BYTES 8192
#define WORK_BYTES 16384

struct lv2;

/* One plugin instance and what its worker queued. */
struct lv2_handle {
	struct lv2 *owner;
	LV2_Handle h;
	const LV2_Worker_Interface *worker;
	const LV2_State_Interface *state;
	uint8_t responses[WORK_BYTES];
	size_t nresp;
	bool in_work;
};

struct atom_port {
	uint32_t port;
	bool output;
};

struct lv2 {
	struct pt_module *mod;
	void *dl;
	const LV2_Descriptor *d;
	char *bundle;                  /* bundle folder, '/'-terminated */
	struct lv2_handle hd[PLUG_HANDLES_MAX];
	bool active;
	bool listing;                  /* list=1: describes, never runs */
	struct plug_text text, json;
	uint32_t rate;
	struct plug p;
	/* [nctl]: lv2:sampleRate bounds (multiples of the rate, NAN if none),
	 * applied at prepare when the rate is known */
	float *sr_lo, *sr_hi;
	bool *sr;
	struct atom_port *atom;
	unsigned natom;
	uint8_t *atom_bufs;            /* per handle per atom port */
	uint32_t *optional;            /* ports connected to NULL */
	unsigned noptional;
	char *urid[URID_MAX];          /* URID i+1 */
	unsigned nurid;
	/* features */
	LV2_URID_Map map;
	LV2_URID_Unmap unmap;
	LV2_Log_Log log;
	LV2_Worker_Schedule sched[PLUG_HANDLES_MAX];
	LV2_Options_Option options[6];
	int32_t block_min, block_max, block_nominal;
	float sample_rate;
	LV2_Feature f_map, f_unmap, f_log, f_options, f_bounded, f_fixed, f_pow2,
		f_sched[PLUG_HANDLES_MAX];
	const LV2_Feature *features[PLUG_HANDLES_MAX][10];
};

static const char *const reserved[] = { "uri", "path", "bundle", "list", NULL };

/* ---- urid ---- */

static LV2_URID urid_map(LV2_URID_Map_Handle handle, const char *uri)
{
	struct lv2 *l = handle;
	size_t n;

	for (unsigned i = 0; i < l->nurid; i++)
		if (!strcmp(l->urid[i], uri))
			return i + 1;
	if (l->nurid == URID_MAX)
		return 0;
	n = strlen(uri) + 1;
	l->urid[l->nurid] = pt_mod_alloc(l->mod, n);
	if (!l->urid[l->nurid])
		return 0;
	memcpy(l->urid[l->nurid], uri, n);
	return ++l->nurid;
}

static const char *urid_unmap(LV2_URID_Unmap_Handle handle, LV2_URID urid)
{
	struct lv2 *l = handle;

	return urid >= 1 && urid <= l->nurid ? l->urid[urid - 1] : NULL;
}

/* ---- log ---- */

static int log_vprintf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, va_list ap)
{
	struct lv2 *l = handle;
	char line[256];
	const char *t = urid_unmap(l, type);
	int level = t && !strcmp(t, LV2_LOG__Error) ? PT_LOG_ERR :
		    t && !strcmp(t, LV2_LOG__Warning) ? PT_LOG_WARN :
		    t && !strcmp(t, LV2_LOG__Trace) ? PT_LOG_DEBUG : PT_LOG_INFO;
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	while (n > 0 && (size_t)n < sizeof(line) && line[n - 1] == '\n')
		line[--n] = '\0';
	pt_log(l->mod, level, "plugin: %s", line);
	return n;
}

static int log_printf(LV2_Log_Handle handle, LV2_URID type, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = log_vprintf(handle, type, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- worker: the work runs at once, its responses after run ---- */

static LV2_Worker_Status respond(LV2_Worker_Respond_Handle handle, uint32_t size,
				 const void *data)
{
	struct lv2_handle *hd = handle;

	if (hd->nresp + sizeof(uint32_t) + size > sizeof(hd->responses))
		return LV2_WORKER_ERR_NO_SPACE;
	memcpy(hd->responses + hd->nresp, &size, sizeof(size));
	memcpy(hd->responses + hd->nresp + sizeof(size), data, size);
	hd->nresp += sizeof(size) + size;
	return LV2_WORKER_SUCCESS;
}

static LV2_Worker_Status schedule_work(LV2_Worker_Schedule_Handle handle,
				       uint32_t size, const void *data)
{
	struct lv2_handle *hd = handle;
	LV2_Worker_Status st;

	if (!hd->worker || !hd->worker->work || hd->in_work)
		return LV2_WORKER_ERR_UNKNOWN;
	hd->in_work = true;
	st = hd->worker->work(hd->h, respond, hd, size, data);
	hd->in_work = false;
	return st;
}

static void deliver_responses(struct lv2_handle *hd)
{
	size_t off = 0;

	if (!hd->worker)
		return;
	while (off + sizeof(uint32_t) <= hd->nresp) {
		uint32_t size;

		memcpy(&size, hd->responses + off, sizeof(size));
		off += sizeof(size);
		if (hd->worker->work_response)
			hd->worker->work_response(hd->h, size, hd->responses + off);
		off += size;
	}
	hd->nresp = 0;
	if (hd->worker->end_run)
		hd->worker->end_run(hd->h);
}

/* ---- discovery with lilv ---- */

static bool feature_supported(struct lv2 *l, const char *uri, uint32_t frames)
{
	static const char *const known[] = {
		LV2_URID__map, LV2_URID__unmap, LV2_OPTIONS__options,
		LV2_BUF_SIZE__boundedBlockLength, LV2_BUF_SIZE__fixedBlockLength,
		LV2_WORKER__schedule, LV2_LOG__log, LV2_CORE__inPlaceBroken,
		LV2_CORE__hardRTCapable, LV2_CORE__isLive, NULL
	};

	(void)l;
	for (unsigned i = 0; known[i]; i++)
		if (!strcmp(uri, known[i]))
			return true;
	return !strcmp(uri, LV2_BUF_SIZE__powerOf2BlockLength) && frames &&
	       !(frames & (frames - 1));
}

static char *heap_strdup(struct pt_module *mod, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = pt_mod_alloc(mod, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* Copies what the adapter keeps of @plugin. 0 or -errno after a log line. */
static int describe(struct pt_module *mod, struct lv2 *l, LilvWorld *w,
		    const LilvPlugin *plugin, char *lib, size_t liblen)
{
	uint32_t n = lilv_plugin_get_num_ports(plugin);
	LilvNode *in = lilv_new_uri(w, LV2_CORE__InputPort);
	LilvNode *out = lilv_new_uri(w, LV2_CORE__OutputPort);
	LilvNode *audio = lilv_new_uri(w, LV2_CORE__AudioPort);
	LilvNode *control = lilv_new_uri(w, LV2_CORE__ControlPort);
	LilvNode *atom = lilv_new_uri(w, LV2_ATOM__AtomPort);
	LilvNode *optional = lilv_new_uri(w, LV2_CORE__connectionOptional);
	LilvNode *integer = lilv_new_uri(w, LV2_CORE__integer);
	LilvNode *toggled = lilv_new_uri(w, LV2_CORE__toggled);
	LilvNode *latency = lilv_new_uri(w, LV2_CORE__reportsLatency);
	LilvNode *srate = lilv_new_uri(w, LV2_CORE__sampleRate);
	LilvNodes *req = lilv_plugin_get_required_features(plugin);
	float *mins = pt_mod_alloc(mod, (n + 1) * sizeof(float));
	float *maxs = pt_mod_alloc(mod, (n + 1) * sizeof(float));
	float *defs = pt_mod_alloc(mod, (n + 1) * sizeof(float));
	char *path;
	int ret = -ENOMEM;

	l->p.ctl = pt_mod_alloc(mod, (n + 1) * sizeof(*l->p.ctl));
	l->p.value = pt_mod_alloc(mod, (n + 1) * sizeof(float));
	l->p.next = pt_mod_alloc(mod, (n + 1) * sizeof(float));
	l->p.outs = pt_mod_alloc(mod, (PLUG_HANDLES_MAX * n + 1) * sizeof(float));
	l->p.a.in = pt_mod_alloc(mod, (n + 1) * sizeof(uint32_t));
	l->p.a.out = pt_mod_alloc(mod, (n + 1) * sizeof(uint32_t));
	l->atom = pt_mod_alloc(mod, (n + 1) * sizeof(*l->atom));
	l->optional = pt_mod_alloc(mod, (n + 1) * sizeof(uint32_t));
	l->sr_lo = pt_mod_alloc(mod, (n + 1) * sizeof(float));
	l->sr_hi = pt_mod_alloc(mod, (n + 1) * sizeof(float));
	l->sr = pt_mod_alloc(mod, n + 1);
	if (!in || !out || !audio || !control || !atom || !optional || !integer ||
	    !toggled || !latency || !srate || !l->sr_lo || !l->sr_hi || !l->sr ||
	    !mins || !maxs || !defs ||
	    !l->p.ctl || !l->p.value || !l->p.next || !l->p.outs || !l->p.a.in || !l->p.a.out ||
	    !l->atom || !l->optional) {
		pt_log(mod, PT_LOG_ERR, "no heap for the plugin's %u ports", n);
		goto out;
	}
	memset(l->p.ctl, 0, (n + 1) * sizeof(*l->p.ctl));
	memset(l->p.outs, 0, (PLUG_HANDLES_MAX * n + 1) * sizeof(float));
	ret = -ENOTSUP;
	LILV_FOREACH (nodes, i, req) {
		const char *f = lilv_node_as_uri(lilv_nodes_get(req, i));

		if (!feature_supported(l, f, pt_mod_period_frames(mod))) {
			pt_log(mod, PT_LOG_ERR, "the plugin requires feature %s, which Partita does not provide", f);
			goto out;
		}
	}
	lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
	for (uint32_t i = 0; i < n; i++) {
		const LilvPort *port = lilv_plugin_get_port_by_index(plugin, i);
		bool is_in = lilv_port_is_a(plugin, port, in);
		bool is_out = lilv_port_is_a(plugin, port, out);
		bool opt = lilv_port_has_property(plugin, port, optional);
		const char *sym = lilv_node_as_string(lilv_port_get_symbol(plugin, port));

		if (lilv_port_is_a(plugin, port, control) && (is_in || is_out)) {
			struct plug_control *c = &l->p.ctl[l->p.nctl];
			float def = defs[i];

			snprintf(c->symbol, sizeof(c->symbol), "%s", sym ? sym : "port");
			c->port = i;
			c->output = is_out;
			c->has_min = !isnan(mins[i]);
			c->has_max = !isnan(maxs[i]);
			c->min = mins[i];
			c->max = maxs[i];
			c->integer = lilv_port_has_property(plugin, port, integer);
			c->toggled = lilv_port_has_property(plugin, port, toggled);
			c->latency = lilv_port_has_property(plugin, port, latency) ||
				     (is_out && lilv_plugin_has_latency(plugin) &&
				      lilv_plugin_get_latency_port_index(plugin) == i);
			/* lv2:sampleRate: the bounds (not the default) are
			 * multiples of the rate, open until prepare. */
			l->sr[l->p.nctl] = lilv_port_has_property(plugin, port, srate);
			l->sr_lo[l->p.nctl] = mins[i];
			l->sr_hi[l->p.nctl] = maxs[i];
			if (l->sr[l->p.nctl])
				c->has_min = c->has_max = false;
			/* As lv2apply: no default is 0 (inside the range). */
			if (isnan(def))
				def = c->has_min && c->min > 0 ? c->min : c->has_max && c->max < 0 ? c->max : 0;
			c->def = def;
			l->p.value[l->p.nctl++] = def;
		} else if (lilv_port_is_a(plugin, port, audio) && (is_in || is_out)) {
			if (is_in)
				l->p.a.in[l->p.a.nin++] = i;
			else
				l->p.a.out[l->p.a.nout++] = i;
		} else if (lilv_port_is_a(plugin, port, atom) && (is_in || is_out)) {
			l->atom[l->natom++] = (struct atom_port){ i, is_out };
		} else if (opt) {
			l->optional[l->noptional++] = i;
		} else {
			pt_log(mod, PT_LOG_ERR, "port %u (%s) has a type Partita does not support "
			       "(audio, control and atom ports are)", i, sym ? sym : "?");
			goto out;
		}
	}
	path = lilv_file_uri_parse(lilv_node_as_uri(lilv_plugin_get_library_uri(plugin)), NULL);
	if (!path || strlen(path) >= liblen) {
		pt_log(mod, PT_LOG_ERR, "the plugin's library is not a local file");
		lilv_free(path);
		goto out;
	}
	snprintf(lib, liblen, "%s", path);
	lilv_free(path);
	path = lilv_file_uri_parse(lilv_node_as_uri(lilv_plugin_get_bundle_uri(plugin)), NULL);
	l->bundle = path ? heap_strdup(mod, path) : NULL;
	lilv_free(path);
	ret = l->bundle ? 0 : -ENOMEM;
out:
	lilv_nodes_free(req);
	lilv_node_free(in);
	lilv_node_free(out);
	lilv_node_free(audio);
	lilv_node_free(control);
	lilv_node_free(atom);
	lilv_node_free(optional);
	lilv_node_free(integer);
	lilv_node_free(toggled);
	lilv_node_free(latency);
	lilv_node_free(srate);
	pt_mod_free(mod, mins);
	pt_mod_free(mod, maxs);
	pt_mod_free(mod, defs);
	return ret;
}

/* A lilv world that has read every bundle along @path (absolute folders
 * only: lilv takes a relative one for a URI), or only @bundle when it is
 * given; NULL when lilv has no heap. */
static LilvWorld *world_open(struct pt_module *mod, const char *path, const char *bundle)
{
	LilvWorld *w = lilv_world_new();
	char abs[2048];
	size_t n = 0;
	LilvNode *p;

	if (!w) {
		pt_log(mod, PT_LOG_ERR, "no heap for lilv");
		return NULL;
	}
	for (const char *s = path; *s;) {
		const char *end = strchr(s, ':');
		size_t k = end ? (size_t)(end - s) : strlen(s);

		if (k && s[0] == '/' && n + k + 2 < sizeof(abs)) {
			if (n)
				abs[n++] = ':';
			memcpy(abs + n, s, k);
			n += k;
		}
		s += k + (end ? 1 : 0);
	}
	abs[n] = '\0';
	p = lilv_new_string(w, abs);
	lilv_world_set_option(w, LILV_OPTION_LV2_PATH, p);
	lilv_node_free(p);
	if (bundle && bundle[0] == '/') {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s%s", bundle,
			 bundle[strlen(bundle) - 1] == '/' ? "" : "/");
		p = lilv_new_file_uri(w, NULL, dir);
		if (p)
			lilv_world_load_bundle(w, p);
		lilv_node_free(p);
	} else
		lilv_world_load_all(w);
	return w;
}

/* Finds @uri along @path with lilv and copies what is needed; lilv's world
 * is gone when this returns. */
static int discover(struct pt_module *mod, struct lv2 *l, const char *uri,
		    const char *path, const char *bundle, char *lib, size_t liblen)
{
	LilvWorld *w = world_open(mod, path, bundle);
	LilvNode *u;
	const LilvPlugin *plugin;
	int ret;

	if (!w)
		return -ENOMEM;
	u = lilv_new_uri(w, uri);
	plugin = u ? lilv_plugins_get_by_uri(lilv_world_get_all_plugins(w), u) : NULL;
	lilv_node_free(u);
	if (!plugin) {
		pt_log(mod, PT_LOG_ERR, "no LV2 plugin <%s> %s %s", uri,
		       bundle ? "in bundle" : "along", bundle ? bundle : path);
		ret = -ENOENT;
	} else
		ret = describe(mod, l, w, plugin, lib, liblen);
	lilv_world_free(w);
	return ret;
}

static int cmp_uri(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One plugin of the listing: text like lv2info's, JSON for tools. */
static void list_plugin(struct lv2 *l, LilvWorld *w, const LilvPlugin *plugin,
			struct plug_text *t, struct plug_text *j, bool first)
{
	static const struct { const char *uri, *name; } types[] = {
		{ LV2_CORE__AudioPort, "audio" }, { LV2_CORE__ControlPort, "control" },
		{ LV2_ATOM__AtomPort, "atom" }, { LV2_CORE__CVPort, "cv" },
	};
	uint32_t n = lilv_plugin_get_num_ports(plugin);
	float *mins = malloc((n + 1) * sizeof(float)), *maxs = malloc((n + 1) * sizeof(float));
	float *defs = malloc((n + 1) * sizeof(float));
	LilvNode *name = lilv_plugin_get_name(plugin), *in = lilv_new_uri(w, LV2_CORE__InputPort);
	LilvNode *optional = lilv_new_uri(w, LV2_CORE__connectionOptional);
	LilvNode *srate = lilv_new_uri(w, LV2_CORE__sampleRate);
	LilvNodes *req = lilv_plugin_get_required_features(plugin);
	const char *uri = lilv_node_as_uri(lilv_plugin_get_uri(plugin));
	const char *missing = NULL;

	/* In URI order: the store's own order differs between a listing read
	 * in the host and one read in a domain. */
	unsigned nreq = 0;
	const char **reqs = calloc(lilv_nodes_size(req) + 1, sizeof(*reqs));

	LILV_FOREACH (nodes, i, req)
		if (reqs)
			reqs[nreq++] = lilv_node_as_uri(lilv_nodes_get(req, i));
	if (nreq > 1)
		qsort(reqs, nreq, sizeof(*reqs), cmp_uri);
	for (unsigned i = 0; i < nreq && !missing; i++)
		if (!feature_supported(l, reqs[i], pt_mod_period_frames(l->mod)))
			missing = reqs[i];
	if (mins && maxs && defs)
		lilv_plugin_get_port_ranges_float(plugin, mins, maxs, defs);
	char *bundle = lilv_file_uri_parse(lilv_node_as_uri(lilv_plugin_get_bundle_uri(plugin)), NULL);

	plug_printf(t, "%s\n  name: %s\n  bundle: %s\n", uri, name ? lilv_node_as_string(name) : "?",
		    bundle ? bundle : "?");
	if (missing)
		plug_printf(t, "  not supported: requires %s\n", missing);
	plug_printf(j, "%s\n  {\"uri\": ", first ? "" : ",");
	plug_json_string(j, uri);
	plug_printf(j, ", \"name\": ");
	plug_json_string(j, name ? lilv_node_as_string(name) : "");
	plug_printf(j, ", \"bundle\": ");
	plug_json_string(j, bundle ? bundle : "");
	lilv_free(bundle);
	plug_printf(j, ", \"required_features\": [");
	{
		for (unsigned i = 0; i < nreq; i++) {
			plug_printf(j, "%s", i ? ", " : "");
			plug_json_string(j, reqs[i]);
		}
	}
	plug_printf(j, "], \"supported\": %s, \"latency_port\": ", missing ? "false" : "true");
	if (lilv_plugin_has_latency(plugin))
		plug_printf(j, "%u", lilv_plugin_get_latency_port_index(plugin));
	else
		plug_printf(j, "null");
	plug_printf(j, ", \"ports\": [");
	for (uint32_t i = 0; i < n; i++) {
		const LilvPort *port = lilv_plugin_get_port_by_index(plugin, i);
		const char *sym = lilv_node_as_string(lilv_port_get_symbol(plugin, port));
		LilvNode *pname = lilv_port_get_name(plugin, port);
		const char *type = "other";
		bool input = lilv_port_is_a(plugin, port, in);
		bool sr = srate && lilv_port_has_property(plugin, port, srate);

		for (unsigned k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
			LilvNode *tn = lilv_new_uri(w, types[k].uri);

			if (tn && lilv_port_is_a(plugin, port, tn))
				type = types[k].name;
			lilv_node_free(tn);
		}
		plug_printf(t, "  port %u %-8s %-6s %s", i, type, input ? "in" : "out", sym ? sym : "?");
		if (!strcmp(type, "control") && mins && maxs && defs)
			plug_printf(t, " = %.9g (%.9g%s..%.9g%s)", (double)defs[i], (double)mins[i],
				    sr ? "*rate" : "", (double)maxs[i], sr ? "*rate" : "");
		plug_printf(t, "  \"%s\"\n", pname ? lilv_node_as_string(pname) : "");
		plug_printf(j, "%s{\"index\": %u, \"symbol\": ", i ? ", " : "", i);
		plug_json_string(j, sym ? sym : "");
		plug_printf(j, ", \"name\": ");
		plug_json_string(j, pname ? lilv_node_as_string(pname) : "");
		plug_printf(j, ", \"type\": \"%s\", \"direction\": \"%s\", \"optional\": %s",
			    type, input ? "input" : "output",
			    lilv_port_has_property(plugin, port, optional) ? "true" : "false");
		if (!strcmp(type, "control") && mins && maxs && defs) {
			plug_printf(j, ", \"min\": ");
			plug_json_number(j, mins[i]);
			plug_printf(j, ", \"max\": ");
			plug_json_number(j, maxs[i]);
			plug_printf(j, ", \"default\": ");
			plug_json_number(j, defs[i]);
			plug_printf(j, ", \"times_rate\": %s", sr ? "true" : "false");
		}
		plug_printf(j, "}");
		lilv_node_free(pname);
	}
	plug_printf(j, "]}");
	lilv_nodes_free(req);
	lilv_node_free(name);
	lilv_node_free(in);
	lilv_node_free(optional);
	lilv_node_free(srate);
	free(reqs);
	free(mins);
	free(maxs);
	free(defs);
}

/* list=1: every plugin along @path but those of the bundles in @skip,
 * into l->text and l->json. */
static int list_all(struct pt_module *mod, struct lv2 *l, const char *path,
		    const char *skip)
{
	LilvWorld *w = world_open(mod, path, NULL);
	const LilvPlugins *all;
	bool first = true;

	if (!w)
		return -ENOMEM;
	all = lilv_world_get_all_plugins(w);
	plug_printf(&l->json, "[");
	LILV_FOREACH (plugins, i, all) {
		const LilvPlugin *p = lilv_plugins_get(all, i);
		char *bundle = lilv_file_uri_parse(lilv_node_as_uri(lilv_plugin_get_bundle_uri(p)),
						   NULL);

		/* Said before lilv reads the plugin's ports: if that kills the
		 * domain, the death names the bundle (the host lists again
		 * without it). */
		if (bundle)
			pt_log(mod, PT_LOG_INFO, "listing %s", bundle);
		if (!bundle || !plug_in_list(skip, bundle)) {
			list_plugin(l, w, p, &l->text, &l->json, first);
			first = false;
		}
		lilv_free(bundle);
	}
	lilv_world_free(w);
	return plug_list_end(mod, &l->text, &l->json);
}

static void handles_drop(struct lv2 *l)
{
	for (unsigned h = 0; h < PLUG_HANDLES_MAX; h++) {
		if (!l->hd[h].h)
			continue;
		if (l->active && l->d->deactivate)
			l->d->deactivate(l->hd[h].h);
		l->d->cleanup(l->hd[h].h);
		l->hd[h].h = NULL;
	}
	l->active = false;
}

static void lv2_free(struct pt_module *mod)
{
	struct lv2 *l = pt_mod_priv(mod);

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

static void features_init(struct lv2 *l, uint32_t frames)
{
	l->map = (LV2_URID_Map){ l, urid_map };
	l->unmap = (LV2_URID_Unmap){ l, urid_unmap };
	l->log = (LV2_Log_Log){ l, log_printf, log_vprintf };
	l->f_map = (LV2_Feature){ LV2_URID__map, &l->map };
	l->f_unmap = (LV2_Feature){ LV2_URID__unmap, &l->unmap };
	l->f_log = (LV2_Feature){ LV2_LOG__log, &l->log };
	l->f_options = (LV2_Feature){ LV2_OPTIONS__options, l->options };
	l->f_bounded = (LV2_Feature){ LV2_BUF_SIZE__boundedBlockLength, NULL };
	l->f_fixed = (LV2_Feature){ LV2_BUF_SIZE__fixedBlockLength, NULL };
	l->f_pow2 = (LV2_Feature){ LV2_BUF_SIZE__powerOf2BlockLength, NULL };
	l->block_min = l->block_max = l->block_nominal = (int32_t)frames;
	for (unsigned h = 0; h < PLUG_HANDLES_MAX; h++) {
		unsigned k = 0;

		l->hd[h].owner = l;
		l->sched[h] = (LV2_Worker_Schedule){ &l->hd[h], schedule_work };
		l->f_sched[h] = (LV2_Feature){ LV2_WORKER__schedule, &l->sched[h] };
		l->features[h][k++] = &l->f_map;
		l->features[h][k++] = &l->f_unmap;
		l->features[h][k++] = &l->f_log;
		l->features[h][k++] = &l->f_options;
		l->features[h][k++] = &l->f_bounded;
		l->features[h][k++] = &l->f_fixed;
		if (frames && !(frames & (frames - 1)))
			l->features[h][k++] = &l->f_pow2;
		l->features[h][k++] = &l->f_sched[h];
		l->features[h][k] = NULL;
	}
}

/* The options every instance gets: block lengths and the sample rate. */
static void options_set(struct lv2 *l, uint32_t rate)
{
	LV2_URID i32 = urid_map(l, LV2_ATOM__Int), f32 = urid_map(l, LV2_ATOM__Float);
	unsigned k = 0;

	l->sample_rate = (float)rate;
	l->options[k++] = (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0,
		urid_map(l, LV2_BUF_SIZE__minBlockLength), sizeof(int32_t), i32, &l->block_min };
	l->options[k++] = (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0,
		urid_map(l, LV2_BUF_SIZE__maxBlockLength), sizeof(int32_t), i32, &l->block_max };
	l->options[k++] = (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0,
		urid_map(l, LV2_BUF_SIZE__nominalBlockLength), sizeof(int32_t), i32,
		&l->block_nominal };
	l->options[k++] = (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0,
		urid_map(l, LV2_PARAMETERS__sampleRate), sizeof(float), f32, &l->sample_rate };
	l->options[k] = (LV2_Options_Option){ LV2_OPTIONS_INSTANCE, 0, 0, 0, 0, NULL };
}

static int lv2_init(struct pt_module *mod, const void *data, size_t size)
{
	struct lv2 *l = pt_mod_alloc(mod, sizeof(*l));
	char uri[1024], path[2048], lib[PATH_MAX], bundle[PATH_MAX] = "";
	LV2_Descriptor_Function fn;
	int ret;

	if (!l)
		return -ENOMEM;
	memset(l, 0, sizeof(*l));
	l->mod = mod;
	pt_mod_set_priv(mod, l);
	features_init(l, pt_mod_period_frames(mod));
	if (pt_param_string(data, size, "path", path, sizeof(path)) <= 0)
		snprintf(path, sizeof(path), "/usr/local/lib/lv2:/usr/lib/lv2");
	if (pt_param_double(data, size, "list", &(double){ 0 }) == 0) {
		l->listing = true;
		if (pt_param_string(data, size, "skip", lib, sizeof(lib)) <= 0)
			lib[0] = '\0';
		if ((ret = list_all(mod, l, path, lib)))
			goto fail;
		return 0;
	}
	if (pt_param_string(data, size, "uri", uri, sizeof(uri)) <= 0) {
		pt_log(mod, PT_LOG_ERR, "give uri= (see partita plugins)");
		ret = -EINVAL;
		goto fail;
	}
	if (pt_param_string(data, size, "bundle", bundle, sizeof(bundle)) > 0 && bundle[0] != '/') {
		pt_log(mod, PT_LOG_ERR, "bundle=%s: give the bundle's absolute folder", bundle);
		ret = -EINVAL;
		goto fail;
	}
	if ((ret = discover(mod, l, uri, path, bundle[0] == '/' ? bundle : NULL, lib,
			    sizeof(lib))))
		goto fail;
	/* Plugins count on the host's libm being global (some do not link
	 * it); the adapter links it, this makes it visible to them. */
	dlopen("libm.so.6", RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
	l->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!l->dl) {
		pt_log(mod, PT_LOG_ERR, "library %s: %s", lib, dlerror());
		ret = -ENOEXEC;
		goto fail;
	}
	*(void **)&fn = dlsym(l->dl, "lv2_descriptor");
	for (uint32_t i = 0; fn && (l->d = fn(i)); i++)
		if (l->d->URI && !strcmp(l->d->URI, uri))
			break;
	if (!l->d || !l->d->instantiate || !l->d->connect_port || !l->d->run ||
	    !l->d->cleanup) {
		pt_log(mod, PT_LOG_ERR, "library %s has no complete descriptor for <%s>", lib, uri);
		l->d = NULL;
		ret = -ENOEXEC;
		goto fail;
	}
	if ((ret = plug_set_text(mod, &l->p, data, size, reserved)))
		goto fail;
	return 0;
fail:
	lv2_free(mod);
	return ret;
}

static uint8_t *atom_buf(struct lv2 *l, unsigned h, unsigned i)
{
	return l->atom_bufs + ((size_t)h * l->natom + i) * ATOM_BYTES;
}

/* Atom inputs carry an empty sequence, outputs get their whole room. */
static void atoms_reset(struct lv2 *l)
{
	LV2_URID seq = urid_map(l, LV2_ATOM__Sequence), chunk = urid_map(l, LV2_ATOM__Chunk);

	for (unsigned h = 0; h < l->p.a.handles; h++)
		for (unsigned i = 0; i < l->natom; i++) {
			LV2_Atom_Sequence *s = (LV2_Atom_Sequence *)atom_buf(l, h, i);

			if (l->atom[i].output) {
				s->atom.type = chunk;
				s->atom.size = ATOM_BYTES - sizeof(LV2_Atom);
			} else {
				s->atom.type = seq;
				s->atom.size = sizeof(LV2_Atom_Sequence_Body);
				s->body.unit = 0;
				s->body.pad = 0;
			}
		}
}

static void connect_one(void *ctx, unsigned h, uint32_t port, void *at)
{
	struct lv2 *l = ctx;

	l->d->connect_port(l->hd[h].h, port, at);
}

static int lv2_prepare(struct pt_module *mod, struct pt_source *const *src,
		       unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	struct lv2 *l = pt_mod_priv(mod);
	const struct pt_format *in, *out;
	int ret;

	if ((ret = plug_pins(mod, nsrc, nsnk, l->listing)))
		return ret;
	in = pt_source_format(src[0]);
	out = pt_sink_format(snk[0]);
	handles_drop(l);
	if ((ret = plug_layout(mod, &l->p, in, out)) ||
	    (ret = plug_buffers(mod, &l->p, pt_mod_period_frames(mod))))
		return ret;
	/* lv2:sampleRate bounds for this rate: the values in force must fit. */
	for (unsigned i = 0; i < l->p.nctl; i++) {
		struct plug_control *c = &l->p.ctl[i];

		if (!l->sr[i])
			continue;
		c->has_min = !isnan(l->sr_lo[i]);
		c->has_max = !isnan(l->sr_hi[i]);
		c->min = l->sr_lo[i] * (float)in->rate;
		c->max = l->sr_hi[i] * (float)in->rate;
	}
	if ((ret = plug_check_ranges(mod, &l->p, in->rate)))
		return ret;
	pt_mod_free(mod, l->atom_bufs);
	l->atom_bufs = NULL;
	if (l->natom) {
		l->atom_bufs = pt_mod_alloc(mod, (size_t)l->p.a.handles * l->natom * ATOM_BYTES);
		if (!l->atom_bufs)
			return -ENOMEM;
		memset(l->atom_bufs, 0, (size_t)l->p.a.handles * l->natom * ATOM_BYTES);
	}
	options_set(l, in->rate);
	l->rate = in->rate;
	for (unsigned h = 0; h < l->p.a.handles; h++) {
		struct lv2_handle *hd = &l->hd[h];

		hd->h = l->d->instantiate(l->d, in->rate, l->bundle, l->features[h]);
		if (!hd->h) {
			pt_log(mod, PT_LOG_ERR, "<%s>: instantiate failed (the plugin refused: a feature it wants, or its heap is full)", l->d->URI);
			handles_drop(l);
			return -ENOMEM;
		}
		hd->worker = l->d->extension_data ? l->d->extension_data(LV2_WORKER__interface) : NULL;
		hd->state = l->d->extension_data ? l->d->extension_data(LV2_STATE__interface) : NULL;
		hd->nresp = 0;
		plug_connect(&l->p, h, connect_one, l);
		for (unsigned i = 0; i < l->natom; i++)
			l->d->connect_port(hd->h, l->atom[i].port, atom_buf(l, h, i));
		for (unsigned i = 0; i < l->noptional; i++)
			l->d->connect_port(hd->h, l->optional[i], NULL);
	}
	atoms_reset(l);
	for (unsigned h = 0; h < l->p.a.handles; h++)
		if (l->d->activate)
			l->d->activate(l->hd[h].h);
	l->active = true;
	return 0;
}

static void run_one(void *ctx, unsigned h, uint32_t frames)
{
	struct lv2 *l = ctx;

	l->d->run(l->hd[h].h, frames);
	deliver_responses(&l->hd[h]);
}

static int lv2_process(struct pt_module *mod, struct pt_source *const *src,
		       unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	struct lv2 *l = pt_mod_priv(mod);
	int ret;

	if (nsrc != 1 || nsnk != 1 || !l->active)
		return -EINVAL;
	if (l->natom)
		atoms_reset(l);
	ret = plug_process(&l->p, src[0], snk[0], run_one, l);
	plug_report_latency(mod, &l->p);
	return ret;
}

/* ---- state: [u32 key_len][key][u32 type_len][type][u32 flags][u32 size][value] ---- */

struct state_io {
	struct lv2 *l;
	uint8_t *buf;
	size_t len, room;
	const uint8_t *in;
	size_t in_len;
	bool overflow;
};

static void put_bytes(struct state_io *s, const void *p, size_t n)
{
	if (s->len + n > s->room) {
		s->overflow = true;
		return;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void put_str(struct state_io *s, const char *str)
{
	uint32_t n = str ? (uint32_t)strlen(str) : 0;

	put_bytes(s, &n, sizeof(n));
	put_bytes(s, str ? str : "", n);
}

static LV2_State_Status state_store(LV2_State_Handle handle, uint32_t key,
				    const void *value, size_t size, uint32_t type,
				    uint32_t flags)
{
	struct state_io *s = handle;
	uint32_t f = flags, n = (uint32_t)size;

	if (!(flags & LV2_STATE_IS_POD))
		return LV2_STATE_ERR_BAD_FLAGS;
	put_str(s, urid_unmap(s->l, key));
	put_str(s, urid_unmap(s->l, type));
	put_bytes(s, &f, sizeof(f));
	put_bytes(s, &n, sizeof(n));
	put_bytes(s, value, size);
	return s->overflow ? LV2_STATE_ERR_NO_SPACE : LV2_STATE_SUCCESS;
}

/* Finds @key in the saved blob; the blob was checked by state_check. */
static const void *state_retrieve(LV2_State_Handle handle, uint32_t key, size_t *size,
				  uint32_t *type, uint32_t *flags)
{
	struct state_io *s = handle;
	const char *want = urid_unmap(s->l, key);
	size_t off = 0;

	while (want && off < s->in_len) {
		uint32_t kl, tl, f, n;
		const char *k, *t;

		memcpy(&kl, s->in + off, 4);
		k = (const char *)s->in + off + 4;
		off += 4 + kl;
		memcpy(&tl, s->in + off, 4);
		t = (const char *)s->in + off + 4;
		off += 4 + tl;
		memcpy(&f, s->in + off, 4);
		memcpy(&n, s->in + off + 4, 4);
		off += 8;
		if (kl == strlen(want) && !memcmp(k, want, kl)) {
			char tname[256];

			snprintf(tname, sizeof(tname), "%.*s", (int)tl, t);
			*size = n;
			*type = urid_map(s->l, tname);
			*flags = f;
			return s->in + off;
		}
		off += n;
	}
	return NULL;
}

/* Every record of a blob fits inside it. */
static bool state_check(const uint8_t *b, size_t len)
{
	size_t off = 0;

	while (off < len) {
		uint32_t v;

		for (int field = 0; field < 2; field++) {
			if (len - off < 4)
				return false;
			memcpy(&v, b + off, 4);
			if (v > 255 || len - off - 4 < v)
				return false;
			off += 4 + v;
		}
		if (len - off < 8)
			return false;
		memcpy(&v, b + off + 4, 4);
		off += 8;
		if (len - off < v)
			return false;
		off += v;
	}
	return true;
}

static int lv2_set_config(struct pt_module *mod, uint32_t param,
			  const void *data, size_t size)
{
	struct lv2 *l = pt_mod_priv(mod);
	static const char *const none[] = { NULL };
	struct state_io s = { .l = l, .in = data, .in_len = size };

	if (l->listing)
		return -EINVAL;
	if (param == PT_PARAM_TEXT)
		return plug_set_text(mod, &l->p, data, size, none);
	if (param != PT_PARAM_LV2_STATE)
		return -EINVAL;
	if (!l->hd[0].h || !l->hd[0].state || !l->hd[0].state->restore) {
		pt_log(mod, PT_LOG_ERR, "state: the plugin %s", l->hd[0].h ?
		       "has no state interface" : "is not instantiated yet (restore after prepare)");
		return -ENOTSUP;
	}
	if (!state_check(data, size)) {
		pt_log(mod, PT_LOG_ERR, "state: malformed blob of %zu bytes", size);
		return -EINVAL;
	}
	for (unsigned h = 0; h < l->p.a.handles; h++)
		if (l->hd[h].state->restore(l->hd[h].h, state_retrieve, &s, 0,
					    l->features[h]) != LV2_STATE_SUCCESS) {
			pt_log(mod, PT_LOG_ERR, "state: the plugin refused it");
			return -EINVAL;
		}
	return 0;
}

static int lv2_get_config(struct pt_module *mod, uint32_t param, void *data,
			  size_t *size)
{
	struct lv2 *l = pt_mod_priv(mod);
	struct pt_params_text t = { .len = 0 };
	struct state_io s = { .l = l, .buf = data, .room = *size };

	if (l->listing)
		return plug_list_page(&l->text, &l->json, param, data, size);
	if (param == PT_PARAM_TEXT) {
		plug_get_text(&l->p, &t);
		return pt_params_reply(&t, param, data, size);
	}
	if (param != PT_PARAM_LV2_STATE)
		return -EINVAL;
	if (!l->hd[0].h || !l->hd[0].state || !l->hd[0].state->save)
		return -ENOTSUP;
	if (l->hd[0].state->save(l->hd[0].h, state_store, &s, LV2_STATE_IS_POD,
				 l->features[0]) != LV2_STATE_SUCCESS || s.overflow)
		return s.overflow ? -ENOSPC : -EIO;
	*size = s.len;
	return 0;
}

static int lv2_reset(struct pt_module *mod)
{
	handles_drop(pt_mod_priv(mod));
	return 0;
}

static const struct pt_module_ops lv2_ops = {
	.init = lv2_init,
	.prepare = lv2_prepare,
	.process = lv2_process,
	.set_config = lv2_set_config,
	.get_config = lv2_get_config,
	.reset = lv2_reset,
	.free = lv2_free,
};

PT_MODULE(lv2, lv2_ops, .name = "lv2",
	  .uuid = { 0x6c, 0x76, 0x32, 0x00, 0x70, 0x6c, 0x4d, 0x2a, 0x8b, 0x11,
		    0x2c, 0x5e, 0x90, 0x0d, 0x44, 0x17 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 8u * 1024 * 1024,
	  .stack_size = 256 * 1024, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
