/* SPDX-License-Identifier: MIT */
/*
 * partita bench graph - one module chain, 48 kHz stereo, 1 ms periods,
 * rendered offline in each placement in the same run: all LL in the host
 * pass (the floor), trusted DP on host worker threads, and isolated in
 * domains when this build has them. Prints wall time, ratio to the floor
 * and the real-time factor.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "host/graph/graph.h"
#include "host/io/io.h"
#include "host/sched/sched.h"

struct chain_stage {
	const char *name;
	const char *module;
	const char *params;
};

/* Six instances between the generator and the file. */
static const struct chain_stage chain[] = {
	{ "tone", "tone", "wave=sine freq=997 amplitude_db=-6" },
	{ "eq", "eq_iir", "bands=lowshelf:120:0.707:4,peaking:3000:1.2:-5,highshelf:9000:0.707:2" },
	{ "fir", "fir", "taps=0.05,0.1,0.2,0.3,0.2,0.1,0.05" },
	{ "dc", "dcblock", "r=0.995" },
	{ "drc", "drc", "threshold_db=-20 ratio=4 attack_ms=5 release_ms=50 makeup_db=3" },
	{ "gain", "gain", "gain_db=-3" },
};
#define NSTAGE (sizeof(chain) / sizeof(chain[0]))

enum placement { PLACE_LL, PLACE_DP, PLACE_ISOLATED };

static const char *place_name[] = { "trusted_ll", "trusted_dp", "isolated" };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Renders @seconds of the chain; returns wall seconds, or a negative value
 * with @err set. */
static double render(enum placement place, double seconds, const char *out,
		     char *err, size_t errlen)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000,
				       .offline = true };
	struct pt_format fmt = { 48000, 2, PT_SAMPLE_FLOAT_LE };
	struct pt_graph *g = pt_graph_new(&cfg, err, errlen);
	struct pt_sched *s = NULL;
	char file[4200];
	uint64_t periods = (uint64_t)(seconds * 1000.0);
	double t0, wall = -1.0;
	int ret;

	if (!g)
		return -1.0;
	ret = pt_graph_pipeline_create(g, 1, "bench", err, errlen);
	for (unsigned i = 0; !ret && i < NSTAGE; i++) {
		struct pt_instance_desc d = {
			.id = i + 1, .pipeline = 1, .name = chain[i].name,
			.module = chain[i].module, .init = chain[i].params,
			.init_size = strlen(chain[i].params),
			.sched = place == PLACE_LL ? PT_SCHED_LL : PT_SCHED_DP,
			.sched_set = i > 0,
			.isolation = place == PLACE_ISOLATED ? PT_ISOLATION_PROCESS :
							       PT_ISOLATION_NONE,
			.isolation_set = i > 0,
		};

		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	if (!ret) {
		struct pt_instance_desc d = { .id = NSTAGE + 1, .pipeline = 1,
					      .name = "out", .module = "output" };

		snprintf(file, sizeof(file), "file=%s", out);
		d.init = file;
		d.init_size = strlen(file);
		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	for (unsigned i = 0; !ret && i < NSTAGE; i++)
		ret = pt_graph_bind(g, i + 1, 0, i + 2, 0, &fmt, 0, err, errlen);
	if (!ret)
		ret = pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, errlen);
	if (!ret)
		ret = pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, errlen);
	if (!ret && !(s = pt_sched_new(g, err, errlen)))
		ret = -ENOMEM;
	if (!ret) {
		t0 = now_s();
		while (pt_sched_periods(s) < periods && !ret)
			ret = pt_sched_period(s);
		wall = now_s() - t0;
		if (ret)
			snprintf(err, errlen, "scheduler: %s", strerror(-ret));
	}
	for (size_t i = 0; !ret; i++) {
		struct pt_instance *inst = pt_graph_instance_at(g, i);

		if (!inst)
			break;
		if (inst->stats.faults) {
			snprintf(err, errlen, "instance '%s' faulted: %s", inst->name,
				 inst->stats.fault_reason);
			ret = -EIO;
		}
	}
	pt_sched_free(s);
	pt_graph_free(g);
	return ret ? -1.0 : wall;
}

int pt_bench_graph(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "seconds", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	double seconds = 10.0, wall[3] = { -1.0, -1.0, -1.0 };
	char err[512], out[64];
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 's':
			seconds = atof(optarg);
			if (!(seconds > 0.0 && seconds <= 3600.0)) {
				fprintf(stderr, "bench graph: --seconds must be in (0, 3600]\n");
				return 2;
			}
			break;
		case 'h':
			printf("usage: partita bench graph [--json] [--seconds S]\n"
			       "Renders a %zu-module chain (48 kHz stereo, 1 ms periods) for S\n"
			       "seconds of audio (default 10) all-LL, trusted DP and isolated,\n"
			       "and prints wall times, ratios to the all-LL floor and the\n"
			       "real-time factor.\n", NSTAGE);
			return 0;
		default:
			return 2;
		}
	}
	snprintf(out, sizeof(out), "/tmp/partita-bench-%d.wav", (int)getpid());
	for (int p = PLACE_LL; p <= PLACE_ISOLATED; p++) {
		wall[p] = render((enum placement)p, seconds, out, err, sizeof(err));
		if (wall[p] < 0.0 && p != PLACE_ISOLATED) {
			unlink(out);
			fprintf(stderr, "bench graph: %s: %s\n", place_name[p], err);
			return 1;
		}
		if (wall[p] < 0.0)
			fprintf(stderr, "bench graph: isolated run not measured: %s\n",
				err);
	}
	unlink(out);
	if (json) {
		printf("{\"seconds_of_audio\": %.3f, \"trusted_wall_s\": %.6f, "
		       "\"trusted_dp_wall_s\": %.6f, ",
		       seconds, wall[PLACE_LL], wall[PLACE_DP]);
		if (wall[PLACE_ISOLATED] >= 0.0)
			printf("\"isolated_wall_s\": %.6f, \"ratio\": %.4f, "
			       "\"realtime_factor\": %.2f}\n",
			       wall[PLACE_ISOLATED],
			       wall[PLACE_ISOLATED] / wall[PLACE_LL],
			       seconds / wall[PLACE_ISOLATED]);
		else
			printf("\"isolated_wall_s\": null, \"ratio\": null, "
			       "\"realtime_factor\": %.2f}\n",
			       seconds / wall[PLACE_DP]);
		return 0;
	}
	printf("%zu-module chain, 48 kHz stereo float, 1 ms periods, %.1f s of audio\n",
	       NSTAGE, seconds);
	printf("%-12s %10s %10s %12s\n", "placement", "wall s", "ratio", "x realtime");
	for (int p = PLACE_LL; p <= PLACE_ISOLATED; p++) {
		if (wall[p] < 0.0) {
			printf("%-12s %10s %10s %12s\n", place_name[p], "-", "-", "-");
			continue;
		}
		printf("%-12s %10.4f %10.3f %12.1f\n", place_name[p], wall[p],
		       wall[p] / wall[PLACE_LL], seconds / wall[p]);
	}
	return 0;
}
