/* SPDX-License-Identifier: MIT */
/*
 * partita bench sof - a firmware module (the firmware's own dcblock, built
 * from a firmware tree with partita-sof-build) rendered offline trusted and
 * isolated in the same run, taking turns: tone -> dcblock -> eq_iir (both
 * firmware modules, with the firmware's own configuration blobs) -> file,
 * 48 kHz stereo S32, 1 ms periods. Prints wall time and the ratio of
 * isolated against trusted (the floor).
 *
 * The libraries are found with --dir DIR (default: tests/sof beside the
 * partita binary, where the build puts them when a firmware tree is there);
 * without them the benchmark says so and is skipped.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "host/graph/graph.h"
#include "host/sched/sched.h"

#define ROUNDS_DEFAULT 5

/* The DC blocker's coefficient (Q2.30, about 0.98) for every channel, as
 * the firmware's unit test sets it. */
static void dcblock_blob(int32_t *r)
{
	for (unsigned i = 0; i < 8; i++)
		r[i] = 1052266987;
}

/* Renders @seconds; returns wall seconds, or a negative value with @err. */
static double render(const char *dir, bool isolated, double seconds,
		     const char *out, char *err, size_t errlen)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000,
				       .offline = true };
	const struct pt_format f = { 48000, 2, PT_SAMPLE_S32_LE };
	struct pt_graph *g = pt_graph_new(&cfg, err, errlen);
	struct pt_sched *s = NULL;
	char dc[PATH_MAX], file[PATH_MAX + 8];
	uint64_t periods = (uint64_t)(seconds * 1000.0);
	int32_t r[8];
	double wall = -1.0;
	int ret;

	if (!g)
		return -1.0;
	snprintf(dc, sizeof(dc), "%s/pt_sof_dcblock.so", dir);
	snprintf(file, sizeof(file), "file=%s", out);
	ret = pt_graph_pipeline_create(g, 1, "bench", err, errlen);
	if (!ret)
		ret = pt_graph_instance_create(g, &(struct pt_instance_desc){
			.id = 1, .pipeline = 1, .name = "tone", .module = "tone",
			.init = "wave=sine freq=997 amplitude_db=-6",
			.init_size = strlen("wave=sine freq=997 amplitude_db=-6") }, err, errlen);
	if (!ret)
		ret = pt_graph_instance_create(g, &(struct pt_instance_desc){
			.id = 2, .pipeline = 1, .name = "dc", .library = dc,
			.isolation = isolated ? PT_ISOLATION_PROCESS : PT_ISOLATION_NONE,
			.isolation_set = true, .sched = PT_SCHED_DP, .sched_set = true },
			err, errlen);
	if (!ret)
		ret = pt_graph_instance_create(g, &(struct pt_instance_desc){
			.id = 3, .pipeline = 1, .name = "out", .module = "output",
			.init = file, .init_size = strlen(file) }, err, errlen);
	dcblock_blob(r);
	if (!ret)
		ret = pt_graph_config_set(g, 2, 0, r, sizeof(r), err, errlen);
	if (!ret)
		ret = pt_graph_bind(g, 1, 0, 2, 0, &f, 0, err, errlen);
	if (!ret)
		ret = pt_graph_bind(g, 2, 0, 3, 0, &f, 0, err, errlen);
	if (!ret)
		ret = pt_graph_set_state(g, 1, PT_STATE_RUNNING, err, errlen);
	if (!ret && !(s = pt_sched_new(g, err, errlen)))
		ret = -ENOMEM;
	if (!ret)
		ret = pt_bench_run(s, periods, &wall, err, errlen);
	if (!ret && pt_graph_instance(g, 2)->stats.faults) {
		snprintf(err, errlen, "dcblock faulted: %s",
			 pt_graph_instance(g, 2)->stats.fault_reason);
		ret = -EIO;
	}
	pt_sched_free(s);
	pt_graph_free(g);
	return ret ? -1.0 : wall;
}

int pt_bench_sof(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "dir", required_argument, NULL, 'd' },
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char dir[PATH_MAX] = "", lib[PATH_MAX + 32], out[64], err[PT_ERR_MAX];
	double seconds = 10.0, t[2][16], med[2];
	unsigned rounds = ROUNDS_DEFAULT;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'd':
			snprintf(dir, sizeof(dir), "%s", optarg);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'r':
			rounds = (unsigned)atoi(optarg);
			break;
		case 'h':
			printf("usage: partita bench sof [--dir DIR] [--seconds S] [--rounds N] [--json]\n"
			       "Renders tone -> the firmware's dcblock (built with partita-sof-build,\n"
			       "found in DIR, default tests/sof beside the partita binary) -> file,\n"
			       "trusted and isolated taking turns; prints the ratio isolated/trusted.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (seconds <= 0 || seconds > 600 || rounds < 1 || rounds > 16) {
		fprintf(stderr, "bench sof: --seconds 0..600, --rounds 1..16\n");
		return 2;
	}
	if (!dir[0]) {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		char *slash;

		dir[n > 0 ? n : 0] = 0;
		slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
		strncat(dir, "/tests/sof", sizeof(dir) - strlen(dir) - 1);
	}
	snprintf(lib, sizeof(lib), "%s/pt_sof_dcblock.so", dir);
	if (access(lib, R_OK)) {
		printf("bench sof: skipped: no %s (build a firmware module with partita-sof-build, docs/sof.md)\n",
		       lib);
		return 0;
	}
	snprintf(out, sizeof(out), "/tmp/partita-bench-sof-%d.wav", (int)getpid());
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned k = 0; k < 2; k++) {
			t[k][r] = render(dir, k == 1, seconds, out, err, sizeof(err));
			if (t[k][r] < 0) {
				fprintf(stderr, "bench sof: %s: %s\n", k ? "isolated" : "trusted", err);
				unlink(out);
				return 1;
			}
		}
	}
	unlink(out);
	for (unsigned k = 0; k < 2; k++) {
		qsort(t[k], rounds, sizeof(double), pt_bench_cmp_double);
		med[k] = t[k][rounds / 2];
	}
	if (json) {
		printf("{\"rows\": [{\"name\": \"sof_dcblock\", \"seconds\": %.1f, \"trusted_s\": %.4f, "
		       "\"isolated_s\": %.4f, \"isolated_vs_trusted\": %.3f}]}\n",
		       seconds, med[0], med[1], med[1] / med[0]);
		return 0;
	}
	printf("firmware dcblock (tone -> dcblock -> file, 48 kHz stereo S32, 1 ms): %.1f s of audio, median of %u\n",
	       seconds, rounds);
	printf("  %-10s %8.4f s  %7.1fx real time  1.000 (floor)\n", "trusted", med[0],
	       seconds / med[0]);
	printf("  %-10s %8.4f s  %7.1fx real time  %.3f of trusted\n", "isolated", med[1],
	       seconds / med[1], med[1] / med[0]);
	return 0;
}
