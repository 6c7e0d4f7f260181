/* SPDX-License-Identifier: MIT */
/*
 * LADSPA plugins that misbehave on purpose, one label per way (the tests
 * check each is refused or contained, naming it): a rate-relative default,
 * a descriptor with NULL names, one with NULL port arrays, a latency port
 * reporting nonsense, and plugins that crash, spin or write outside their
 * buffers. Each copies its input times `gain` until it misbehaves.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ladspa.h>

enum { P_IN, P_OUT, P_GAIN, P_LAT, P_COUNT };

/* A pointer the compiler cannot see is NULL. */
static volatile int *volatile nowhere;

struct plugin {
	LADSPA_Data *port[P_COUNT];
	unsigned long rate;
	int way;
	unsigned long runs;
};

enum way { W_FREQ, W_NULLNAMES, W_NULLPORTS, W_LATENCY, W_NANLATENCY, W_CRASH_INST,
	   W_SPIN_ACT, W_CRASH_RUN, W_OOB, W_COUNT };

static const char *const labels[W_COUNT] = { "freq_default", "null_names", "null_ports",
	"huge_latency", "nan_latency", "crash_instantiate", "spin_activate", "crash_run",
	"out_of_bounds" };

static LADSPA_Handle instantiate(const LADSPA_Descriptor *d, unsigned long rate)
{
	struct plugin *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->rate = rate;
	p->way = (int)(d->UniqueID - 7700);
	if (p->way == W_CRASH_INST)
		*nowhere = 1;
	return p;
}

static void connect_port(LADSPA_Handle h, unsigned long port, LADSPA_Data *at)
{
	struct plugin *p = h;

	if (port < P_COUNT)
		p->port[port] = at;
}

static void activate(LADSPA_Handle h)
{
	struct plugin *p = h;

	while (p->way == W_SPIN_ACT)
		;
}

static void run(LADSPA_Handle h, unsigned long n)
{
	struct plugin *p = h;
	float g = *p->port[P_GAIN];

	/* freq_default: its "gain" is a frequency; the output is the input
	 * times frequency / (rate / 2). */
	if (p->way == W_FREQ)
		g = g / (float)(p->rate / 2);
	for (unsigned long i = 0; i < n; i++)
		p->port[P_OUT][i] = p->port[P_IN][i] * g;
	if (p->port[P_LAT])
		*p->port[P_LAT] = p->way == W_LATENCY ? 5e8f : p->way == W_NANLATENCY ? NAN : 0;
	if (++p->runs > 50) {
		if (p->way == W_CRASH_RUN)
			*nowhere = 1;
		if (p->way == W_OOB)
			memset(p->port[P_OUT], 0x7f, 64 << 20);
	}
}

static void cleanup(LADSPA_Handle h)
{
	free(h);
}

static const LADSPA_PortDescriptor pdesc[P_COUNT] = {
	LADSPA_PORT_INPUT | LADSPA_PORT_AUDIO, LADSPA_PORT_OUTPUT | LADSPA_PORT_AUDIO,
	LADSPA_PORT_INPUT | LADSPA_PORT_CONTROL, LADSPA_PORT_OUTPUT | LADSPA_PORT_CONTROL };
static const char *const pnames[P_COUNT] = { "In", "Out", "Gain", "latency" };
static const char *const pnames_null[P_COUNT] = { NULL, "Out", NULL, NULL };
static const LADSPA_PortRangeHint hints[P_COUNT] = {
	{ 0, 0, 0 }, { 0, 0, 0 },
	{ LADSPA_HINT_BOUNDED_BELOW | LADSPA_HINT_BOUNDED_ABOVE | LADSPA_HINT_DEFAULT_1, 0, 4 },
	{ 0, 0, 0 } };
static const LADSPA_PortRangeHint hints_freq[P_COUNT] = {
	{ 0, 0, 0 }, { 0, 0, 0 },
	{ LADSPA_HINT_BOUNDED_BELOW | LADSPA_HINT_BOUNDED_ABOVE | LADSPA_HINT_SAMPLE_RATE |
	  LADSPA_HINT_DEFAULT_MIDDLE, 0.001f, 0.5f },
	{ 0, 0, 0 } };

static LADSPA_Descriptor desc[W_COUNT];

const LADSPA_Descriptor *ladspa_descriptor(unsigned long i)
{
	LADSPA_Descriptor *d;

	if (i >= W_COUNT)
		return NULL;
	d = &desc[i];
	d->UniqueID = 7700 + i;
	d->Label = labels[i];
	d->Name = labels[i];
	d->Maker = "Partita tests";
	d->Copyright = "MIT";
	d->PortCount = P_COUNT;
	d->PortDescriptors = pdesc;
	d->PortNames = pnames;
	d->PortRangeHints = i == W_FREQ ? hints_freq : hints;
	d->instantiate = instantiate;
	d->connect_port = connect_port;
	d->activate = activate;
	d->run = run;
	d->cleanup = cleanup;
	if (i == W_NULLNAMES) {
		d->Name = NULL;
		d->Maker = NULL;
		d->PortNames = pnames_null;
	}
	if (i == W_NULLPORTS) {
		d->PortDescriptors = NULL;
		d->PortNames = NULL;
		d->PortRangeHints = NULL;
	}
	return d;
}
