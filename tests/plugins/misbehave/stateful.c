/* SPDX-License-Identifier: MIT */
/*
 * An LV2 plugin that behaves and needs what ordinary plugins need: it
 * requires urid:map and worker:schedule, and has a state interface. Its
 * output is its input times `level`; a change of the `target` control is
 * sent to the worker, whose response sets `level` (so the new level holds
 * from the period after the change); `level` is what it saves and restores
 * as state, and it reports it on the output control `level_out`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/state/state.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>

#define PLUGIN_URI "http://partita.invalid/plugins/stateful"
#define LEVEL_KEY PLUGIN_URI "#level"

enum { P_IN, P_OUT, P_TARGET, P_LEVEL_OUT, P_COUNT };

struct stateful {
	float *port[P_COUNT];
	float level, asked;
	LV2_URID key, t_float;
	LV2_Worker_Schedule *sched;
};

static LV2_Handle instantiate(const LV2_Descriptor *d, double rate, const char *bundle,
			      const LV2_Feature *const *features)
{
	struct stateful *p = calloc(1, sizeof(*p));
	LV2_URID_Map *map = NULL;

	(void)d;
	(void)rate;
	(void)bundle;
	for (int i = 0; features && features[i]; i++) {
		if (!strcmp(features[i]->URI, LV2_URID__map))
			map = features[i]->data;
		else if (!strcmp(features[i]->URI, LV2_WORKER__schedule))
			p->sched = features[i]->data;
	}
	if (!p || !map || !p->sched) {
		free(p);
		return NULL;
	}
	p->key = map->map(map->handle, LEVEL_KEY);
	p->t_float = map->map(map->handle, LV2_ATOM__Float);
	p->level = 1.0f;
	p->asked = 1.0f;
	return p;
}

static void connect_port(LV2_Handle h, uint32_t port, void *data)
{
	struct stateful *p = h;

	if (port < P_COUNT)
		p->port[port] = data;
}

static void run(LV2_Handle h, uint32_t n)
{
	struct stateful *p = h;
	float target = *p->port[P_TARGET];

	for (uint32_t i = 0; i < n; i++)
		p->port[P_OUT][i] = p->port[P_IN][i] * p->level;
	if (target != p->asked) {
		p->asked = target;
		p->sched->schedule_work(p->sched->handle, sizeof(target), &target);
	}
	*p->port[P_LEVEL_OUT] = p->level;
}

static LV2_Worker_Status work(LV2_Handle h, LV2_Worker_Respond_Function respond,
			      LV2_Worker_Respond_Handle rh, uint32_t size, const void *data)
{
	(void)h;
	return size == sizeof(float) ? respond(rh, size, data) : LV2_WORKER_ERR_UNKNOWN;
}

static LV2_Worker_Status work_response(LV2_Handle h, uint32_t size, const void *data)
{
	struct stateful *p = h;

	if (size == sizeof(float))
		memcpy(&p->level, data, sizeof(float));
	return LV2_WORKER_SUCCESS;
}

static LV2_State_Status save(LV2_Handle h, LV2_State_Store_Function store,
			     LV2_State_Handle sh, uint32_t flags, const LV2_Feature *const *f)
{
	struct stateful *p = h;

	(void)flags;
	(void)f;
	return store(sh, p->key, &p->level, sizeof(float), p->t_float,
		     LV2_STATE_IS_POD | LV2_STATE_IS_PORTABLE);
}

static LV2_State_Status restore(LV2_Handle h, LV2_State_Retrieve_Function retrieve,
				LV2_State_Handle sh, uint32_t flags, const LV2_Feature *const *f)
{
	struct stateful *p = h;
	size_t size;
	uint32_t type, fl;
	const void *v = retrieve(sh, p->key, &size, &type, &fl);

	(void)flags;
	(void)f;
	if (!v || size != sizeof(float) || type != p->t_float)
		return LV2_STATE_ERR_NO_PROPERTY;
	memcpy(&p->level, v, sizeof(float));
	return LV2_STATE_SUCCESS;
}

static const void *extension_data(const char *uri)
{
	static const LV2_Worker_Interface worker = { work, work_response, NULL };
	static const LV2_State_Interface state = { save, restore };

	if (!strcmp(uri, LV2_WORKER__interface))
		return &worker;
	if (!strcmp(uri, LV2_STATE__interface))
		return &state;
	return NULL;
}

static void cleanup(LV2_Handle h)
{
	free(h);
}

const LV2_Descriptor stateful_descriptor = {
	PLUGIN_URI, instantiate, connect_port, NULL, run, NULL, cleanup, extension_data,
};
