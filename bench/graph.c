/* SPDX-License-Identifier: MIT */
/*
 * partita bench graph - module chains rendered offline in each placement in
 * the same run, taking turns: all LL in the host pass, trusted DP on host
 * worker threads (the floor isolation is measured against: the same
 * schedule), and isolated in one domain per instance. Two chains: the DSP
 * chain of the shipped modules (48 kHz stereo, 1 ms) and the voice chain of
 * the third-party speexdsp code (denoise and src, 48 kHz mono to 44.1 kHz,
 * 10 ms), and a chain of real plugins people already have (swh-lv2,
 * fomp, mda-lv2 and tap-plugins through modules/lv2 and modules/ladspa; left
 * out with a note when they are not installed). Prints wall time, ratios and the real-time factor; for the DSP
 * chain also the syscalls per period and what a domain costs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "host/domain/exec.h"
#include "host/graph/graph.h"
#include "host/io/io.h"
#include "host/sched/sched.h"

struct chain_stage {
	const char *name;
	const char *module;
	const char *params;
	struct pt_format out; /* the format of its output binding */
};

struct chain {
	const char *name;
	uint32_t period_us;
	const struct chain_stage *stage; /* the first one generates */
	unsigned nstage;
};

#define F2 { 48000, 2, PT_SAMPLE_FLOAT_LE }

/* Six instances from the generator to the file. */
static const struct chain_stage dsp_stages[] = {
	{ "tone", "tone", "wave=sine freq=997 amplitude_db=-6", F2 },
	{ "eq", "eq_iir", "bands=lowshelf:120:0.707:4,peaking:3000:1.2:-5,highshelf:9000:0.707:2", F2 },
	{ "fir", "fir", "taps=0.05,0.1,0.2,0.3,0.2,0.1,0.05", F2 },
	{ "dc", "dcblock", "r=0.995", F2 },
	{ "drc", "drc", "threshold_db=-20 ratio=4 attack_ms=5 release_ms=50 makeup_db=3", F2 },
	{ "gain", "gain", "gain_db=-3", F2 },
};

/* A noisy source cleaned and resampled by third-party code (speexdsp). */
static const struct chain_stage voice_stages[] = {
	{ "noise", "tone", "wave=noise amplitude_db=-20", { 48000, 1, PT_SAMPLE_S16_LE } },
	{ "nr", "denoise", "suppress_db=-30", { 48000, 1, PT_SAMPLE_S16_LE } },
	{ "eq", "eq_iir", "bands=highpass:80:0.707,peaking:3000:1:3", { 48000, 1, PT_SAMPLE_S32_LE } },
	{ "comp", "drc", "threshold_db=-18 ratio=3 makeup_db=3", { 48000, 1, PT_SAMPLE_S32_LE } },
	{ "rs", "src", "", { 44100, 1, PT_SAMPLE_S16_LE } },
};

/* Installed LV2 and LADSPA plugins from four packages (scripts/deps.sh). */
static const struct chain_stage plugin_stages[] = {
	{ "tone", "tone", "wave=sine freq=997 amplitude_db=-6", F2 },
	{ "amp", "lv2", "uri=http://plugin.org.uk/swh-plugins/amp gain=3", F2 },
	{ "eq", "lv2", "uri=http://drobilla.net/plugins/fomp/parametric1 gain=1.2", F2 },
	{ "lim", "lv2", "uri=http://drobilla.net/plugins/mda/Limiter thresh=0.4", F2 },
	{ "boost", "ladspa", "library=tap_sigmoid.so label=tap_sigmoid pre_gain_db=2", F2 },
};

static const struct chain chains[] = {
	{ "dsp", 1000, dsp_stages, sizeof(dsp_stages) / sizeof(dsp_stages[0]) },
	{ "voice", 10000, voice_stages, sizeof(voice_stages) / sizeof(voice_stages[0]) },
	{ "plugins", 1000, plugin_stages, sizeof(plugin_stages) / sizeof(plugin_stages[0]) },
};
/* The plugins chain needs packages a build does not: without them it is
 * skipped, not an error. */
#define PLUGIN_CHAIN 2
#define NSTAGE (sizeof(dsp_stages) / sizeof(dsp_stages[0]))
#define NCHAIN (sizeof(chains) / sizeof(chains[0]))

enum placement { PLACE_LL, PLACE_DP, PLACE_ISOLATED };

static const char *place_name[] = { "trusted_ll", "trusted_dp", "isolated" };

/* What the isolated run measured of its domains. */
struct domain_figures {
	double syscalls_per_period; /* futex calls, host and domains */
	double rss_kib;             /* mean per domain, beyond its partitions */
	double pss_kib;             /* the same, shared pages divided */
	double start_ms;            /* mean spawn-to-serving time */
	unsigned domains;
};

/* Renders @seconds of the chain; returns wall seconds, or a negative value
 * with @err set. */
static double render(const struct chain *c, enum placement place,
		     double seconds, const char *out, uint32_t batch,
		     struct domain_figures *df, char *err, size_t errlen)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = c->period_us,
				       .offline = true, .dp_batch = batch };
	struct pt_graph *g = pt_graph_new(&cfg, err, errlen);
	struct pt_sched *s = NULL;
	char file[4200];
	uint64_t periods = (uint64_t)(seconds * 1e6 / c->period_us);
	double wall = -1.0;
	int ret;

	if (!g)
		return -1.0;
	ret = pt_graph_pipeline_create(g, 1, "bench", err, errlen);
	for (unsigned i = 0; !ret && i < c->nstage; i++) {
		struct pt_instance_desc d = {
			.id = i + 1, .pipeline = 1, .name = c->stage[i].name,
			.module = c->stage[i].module, .init = c->stage[i].params,
			.init_size = strlen(c->stage[i].params),
			.sched = place == PLACE_LL ? PT_SCHED_LL : PT_SCHED_DP,
			.sched_set = i > 0,
			.isolation = place == PLACE_ISOLATED ? PT_ISOLATION_PROCESS :
							       PT_ISOLATION_NONE,
			.isolation_set = i > 0,
		};

		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	if (!ret) {
		struct pt_instance_desc d = { .id = c->nstage + 1, .pipeline = 1,
					      .name = "out", .module = "output" };

		snprintf(file, sizeof(file), "file=%s", out);
		d.init = file;
		d.init_size = strlen(file);
		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	for (unsigned i = 0; !ret && i < c->nstage; i++)
		ret = pt_graph_bind(g, i + 1, 0, i + 2, 0, &c->stage[i].out, 0, err,
				    errlen);
	if (!ret)
		ret = pt_graph_set_state(g, 1, PT_STATE_PAUSED, err, errlen);
	if (!ret)
		ret = pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, errlen);
	if (!ret && !(s = pt_sched_new(g, err, errlen)))
		ret = -ENOMEM;
	if (!ret) {
		uint64_t futex0 = 0, futex1 = 0;
		struct pt_instance *inst;

		for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
			if (inst->exec)
				futex0 += pt_exec_futex_calls(inst);
		ret = pt_bench_run(s, periods, &wall, err, errlen);
		memset(df, 0, sizeof(*df));
		for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
			struct pt_domain_memory m;

			if (!inst->exec)
				continue;
			futex1 += pt_exec_futex_calls(inst);
			df->start_ms += (double)pt_exec_start_ns(inst) / 1e6;
			if (!pt_exec_domain_memory(inst, &m)) {
				df->rss_kib += (double)m.other_kib;
				df->pss_kib += (double)m.other_pss_kib;
			}
			df->domains++;
		}
		if (df->domains) {
			df->start_ms /= df->domains;
			df->rss_kib /= df->domains;
			df->pss_kib /= df->domains;
			df->syscalls_per_period = (double)(futex1 - futex0) /
						  (double)pt_sched_periods(s);
		}
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
		{ "dp-batch", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	double seconds = 10.0, wall[NCHAIN][3];
	bool skipped[NCHAIN] = { false };
	char skip_why[512] = "";
	struct domain_figures df = { 0 }, unused;
	uint32_t batch = PT_DP_BATCH_OFFLINE;
	unsigned rounds = 5;
	double turns[3][16];
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
		case 'b':
			batch = (uint32_t)atoi(optarg);
			if (batch < 1 || batch > PT_DP_BATCH_MAX) {
				fprintf(stderr, "bench graph: --dp-batch must be 1..%u\n",
					PT_DP_BATCH_MAX);
				return 2;
			}
			break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			if (rounds < 1 || rounds > 16) {
				fprintf(stderr, "bench graph: --rounds must be 1..16\n");
				return 2;
			}
			break;
		case 'h':
			printf("usage: partita bench graph [--json] [--seconds S] [--dp-batch N] [--rounds R]\n"
			       "Renders a %zu-module chain (tone, eq_iir, fir, dcblock, drc, gain;\n"
			       "48 kHz stereo float, 1 ms periods), and the voice chain (noise,\n"
			       "denoise, eq_iir, drc, src to 44.1 kHz; 10 ms), and a chain of real\n"
			       "plugins (swh amp, fomp parametric1, mda Limiter LV2, tap_sigmoid\n"
			       "LADSPA; 1 ms), for S seconds of audio\n"
			       "(default 10), offline, three ways taking turns R times (default 5,\n"
			       "medians reported): all LL in the host\n"
			       "pass, trusted DP on host threads, and isolated in one domain per\n"
			       "instance (DP). The ratio is isolated over trusted DP: the same\n"
			       "schedule, so the difference is the price of isolation. Also:\n"
			       "real-time factor, futex syscalls per period, memory per domain\n"
			       "beyond its partitions, domain start time.\n", NSTAGE);
			return 0;
		default:
			return 2;
		}
	}
	snprintf(out, sizeof(out), "/tmp/partita-bench-%d.wav", (int)getpid());
	/* The placements take turns, so a change in the machine's load hits
	 * all of them; each figure is the median of its turns. */
	for (unsigned k = 0; k < NCHAIN; k++) {
		for (unsigned r = 0; r < rounds && !skipped[k]; r++) {
			for (int p = PLACE_LL; p <= PLACE_ISOLATED; p++) {
				turns[p][r] = render(&chains[k], (enum placement)p,
						     seconds, out, batch,
						     p == PLACE_ISOLATED && k == 0 ?
							     &df : &unused,
						     err, sizeof(err));
				if (turns[p][r] < 0.0 && k == PLUGIN_CHAIN) {
					skipped[k] = true;
					snprintf(skip_why, sizeof(skip_why), "%s", err);
					break;
				}
				if (turns[p][r] < 0.0) {
					unlink(out);
					fprintf(stderr, "bench graph: %s chain, %s: %s\n",
						chains[k].name, place_name[p], err);
					return 1;
				}
			}
		}
		for (int p = PLACE_LL; p <= PLACE_ISOLATED && !skipped[k]; p++)
			wall[k][p] = pt_bench_median(turns[p], rounds);
	}
	unlink(out);
	if (json) {
		printf("{\"seconds_of_audio\": %.3f, \"dp_batch\": %u, "
		       "\"trusted_ll_wall_s\": %.6f, \"trusted_wall_s\": %.6f, "
		       "\"isolated_wall_s\": %.6f, \"ratio\": %.4f, "
		       "\"ratio_to_ll\": %.4f, \"realtime_factor\": %.2f, "
		       "\"syscalls_per_period\": %.3f, \"domain_rss_kib\": %.0f, "
		       "\"domain_pss_kib\": %.0f, \"domain_start_ms\": %.2f, "
		       "\"domains\": %u, \"voice_trusted_wall_s\": %.6f, "
		       "\"voice_isolated_wall_s\": %.6f, \"voice_ratio\": %.4f, "
		       "\"voice_realtime_factor\": %.2f",
		       seconds, batch, wall[0][PLACE_LL], wall[0][PLACE_DP],
		       wall[0][PLACE_ISOLATED],
		       wall[0][PLACE_ISOLATED] / wall[0][PLACE_DP],
		       wall[0][PLACE_ISOLATED] / wall[0][PLACE_LL],
		       seconds / wall[0][PLACE_ISOLATED], df.syscalls_per_period,
		       df.rss_kib, df.pss_kib, df.start_ms, df.domains,
		       wall[1][PLACE_DP], wall[1][PLACE_ISOLATED],
		       wall[1][PLACE_ISOLATED] / wall[1][PLACE_DP],
		       seconds / wall[1][PLACE_ISOLATED]);
		if (!skipped[PLUGIN_CHAIN])
			printf(", \"plugins_trusted_wall_s\": %.6f, \"plugins_isolated_wall_s\": %.6f, "
			       "\"plugins_ratio\": %.4f, \"plugins_realtime_factor\": %.2f",
			       wall[2][PLACE_DP], wall[2][PLACE_ISOLATED],
			       wall[2][PLACE_ISOLATED] / wall[2][PLACE_DP],
			       seconds / wall[2][PLACE_ISOLATED]);
		printf("}\n");
		return 0;
	}
	for (unsigned k = 0; k < NCHAIN; k++) {
		if (skipped[k]) {
			printf("%s chain: skipped (%s; scripts/deps.sh installs the plugins)\n",
			       chains[k].name, skip_why);
			continue;
		}
		printf("%s chain (%u modules, %u us periods): %.1f s of audio, DP batch %u, median of %u\n",
		       chains[k].name, chains[k].nstage, chains[k].period_us, seconds,
		       batch, rounds);
		printf("%-12s %10s %12s %12s\n", "placement", "wall s", "x realtime",
		       "vs trusted");
		for (int p = PLACE_LL; p <= PLACE_ISOLATED; p++)
			printf("%-12s %10.4f %12.1f %12.3f\n", place_name[p], wall[k][p],
			       seconds / wall[k][p], wall[k][p] / wall[k][PLACE_DP]);
	}
	printf("isolated dsp chain: %.3f futex syscalls per period; %u domains, each %.0f KiB "
	       "resident beyond its partitions (%.0f KiB proportional), started in %.2f ms\n",
	       df.syscalls_per_period, df.domains, df.rss_kib, df.pss_kib,
	       df.start_ms);
	return 0;
}
