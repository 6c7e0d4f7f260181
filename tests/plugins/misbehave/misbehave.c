/* SPDX-License-Identifier: MIT */
/*
 * An LV2 plugin that misbehaves on purpose, one URI per way: a module
 * crash, a hang, a leak, reading a file it was not given (at instantiate
 * and in run), and a feature Partita lacks. Until it misbehaves (after
 * `after` seconds) each copies its input times `gain`, and it reports a
 * latency of `latency` frames: the tests check the stream around it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lv2/core/lv2.h>

#define BASE "http://partita.invalid/plugins/"

enum way { WAY_CRASH, WAY_HANG, WAY_LEAK, WAY_SPY, WAY_SPY_RUN, WAY_NEEDS, WAY_COUNT };

enum { P_IN, P_OUT, P_GAIN, P_AFTER, P_LATENCY_IN, P_LATENCY, P_COUNT };

struct plugin {
	enum way way;
	double rate;
	uint64_t frames;
	float *port[P_COUNT];
	void *leaked;
	unsigned long leaks;
};

static LV2_Handle instantiate(const LV2_Descriptor *d, double rate, const char *bundle,
			      const LV2_Feature *const *features)
{
	struct plugin *p = calloc(1, sizeof(*p));

	(void)bundle;
	(void)features;
	if (!p)
		return NULL;
	for (int w = 0; w < WAY_COUNT; w++)
		if (strstr(d->URI, (const char *[]){ "crash", "hang", "leak", "spy", "spy_run", "needs" }[w]))
			p->way = (enum way)w;
	p->rate = rate;
	if (p->way == WAY_SPY && !strstr(d->URI, "spy_run")) {
		FILE *f = fopen("/etc/passwd", "r");

		if (f)
			fclose(f);
	}
	return p;
}

static void connect_port(LV2_Handle h, uint32_t port, void *data)
{
	struct plugin *p = h;

	if (port < P_COUNT)
		p->port[port] = data;
}

static void run(LV2_Handle h, uint32_t n)
{
	struct plugin *p = h;
	float gain = *p->port[P_GAIN];
	int bad = p->frames >= (uint64_t)(*p->port[P_AFTER] * p->rate);

	*p->port[P_LATENCY] = *p->port[P_LATENCY_IN];
	for (uint32_t i = 0; i < n; i++)
		p->port[P_OUT][i] = p->port[P_IN][i] * gain;
	p->frames += n;
	if (!bad)
		return;
	switch (p->way) {
	case WAY_CRASH:
		{
			volatile int *volatile nowhere = NULL;

			*nowhere = 1;
		}
		break;
	case WAY_HANG:
		for (volatile int spin = 1; spin;)
			;
		break;
	case WAY_LEAK: {
		/* 64 KiB a period, never freed, every page touched. */
		void **block = malloc(65536);

		if (block) {
			memset(block, 0x5a, 65536);
			block[0] = p->leaked;
			p->leaked = block;
			p->leaks++;
		}
		break;
	}
	case WAY_SPY_RUN: {
		FILE *f = fopen("/etc/passwd", "r");

		if (f)
			fclose(f);
		break;
	}
	default:
		break;
	}
}

static void cleanup(LV2_Handle h)
{
	struct plugin *p = h;

	while (p->leaked) {
		void **b = p->leaked;

		p->leaked = b[0];
		free(b);
	}
	free(p);
}

#define DESC(name) { BASE name, instantiate, connect_port, NULL, run, NULL, cleanup, NULL }

static const LV2_Descriptor descriptors[] = {
	DESC("crash"), DESC("hang"), DESC("leak"), DESC("spy"), DESC("spy_run"), DESC("needs"),
};

extern const LV2_Descriptor stateful_descriptor; /* stateful.c */

LV2_SYMBOL_EXPORT const LV2_Descriptor *lv2_descriptor(uint32_t index)
{
	const size_t n = sizeof(descriptors) / sizeof(descriptors[0]);

	return index < n ? &descriptors[index] : index == n ? &stateful_descriptor : NULL;
}
