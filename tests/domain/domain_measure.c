/* SPDX-License-Identifier: MIT */
/*
 * domain_measure - what a domain costs: start time, memory beyond its
 * private heap, and the round trip of a PROCESS that does nothing (the
 * request path's own cost), awake (the domain still spinning) and asleep
 * (the domain parked on its futex). Prints a table, or one JSON object with
 * --json. With --quick it runs few iterations (the ctest entry).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/domain/domain.h"
#include "tests/domain/rig.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[(size_t)(p * (double)(n - 1))];
}

struct round_trip {
	double median_us, p99_us, futex_per_rt;
};

/* @gap_ns between requests lets the domain fall asleep. */
static int round_trips(struct pt_instance *inst, unsigned n, uint64_t gap_ns,
		       uint64_t *tag, struct round_trip *out)
{
	uint64_t *t = calloc(n, sizeof(*t)), f0 = pt_exec_futex_calls(inst);
	char why[256];
	int sig;

	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0;
		int ret;

		if (gap_ns) {
			struct timespec ts = { 0, (long)gap_ns };
			nanosleep(&ts, NULL);
		}
		t0 = pt_mono_ns();
		ret = rig_step(inst, ++*tag, 1000000000ull, &sig, why, sizeof(why));
		t[i] = pt_mono_ns() - t0;
		if (ret) {
			fprintf(stderr, "round trip: %s\n", why);
			free(t);
			return ret;
		}
	}
	out->futex_per_rt = (double)(pt_exec_futex_calls(inst) - f0) / n;
	out->median_us = pct(t, n, 0.5) / 1000.0;
	out->p99_us = pct(t, n, 0.99) / 1000.0;
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	bool json = false, quick = false;
	const char *smaps_copy = NULL;
	unsigned starts, trips;
	struct pt_budget budget;
	struct pt_buffer in, out;
	struct pt_instance inst;
	struct pt_domain_memory mem = { 0 };
	struct round_trip awake, asleep;
	uint64_t *st, tag = 0;
	char err[256];
	double start_med, start_max;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--smaps") && i + 1 < argc)
			smaps_copy = argv[++i];
		else {
			fprintf(stderr, "usage: domain_measure [--json] [--quick] [--smaps FILE]\n");
			return 2;
		}
	}
	starts = quick ? 5 : 50;
	trips = quick ? 200 : 20000;
	pt_budget_init(&budget, 64 << 20);
	st = calloc(starts, sizeof(*st));
	rig_buffer(&budget, &in, 1);
	rig_buffer(&budget, &out, 2);

	/* Start time: spawn until confined and serving, plus load and init of
	 * a small library. */
	for (unsigned i = 0; i < starts; i++) {
		uint64_t t0 = pt_mono_ns();

		rig_instance(&inst, 1, "noop", rig_built("tests/hostile/pt_probe.so"),
			     "act=noop", NULL);
		inst.heap_size = 64 * 1024;
		if (pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err))) {
			fprintf(stderr, "create: %s\n", err);
			return 1;
		}
		st[i] = pt_mono_ns() - t0;
		if (i + 1 < starts)
			pt_exec_destroy(&inst);
	}
	start_max = 0;
	for (unsigned i = 0; i < starts; i++)
		if (st[i] > start_max)
			start_max = (double)st[i];
	start_med = pct(st, starts, 0.5);

	rig_bind_in(&inst, &in);
	rig_bind_out(&inst, &out);
	if (pt_exec_prepare(&inst, err, sizeof(err))) {
		fprintf(stderr, "prepare: %s\n", err);
		return 1;
	}
	if (round_trips(&inst, trips, 0, &tag, &awake) ||
	    round_trips(&inst, quick ? 50 : 2000, 300000, &tag, &asleep))
		return 1;
	if (pt_exec_domain_memory(&inst, &mem)) {
		fprintf(stderr, "domain memory: cannot read smaps\n");
		return 1;
	}
	if (json) {
		printf("{\"domain_start_ms\": %.3f, \"domain_start_max_ms\": %.3f, "
		       "\"domain_rss_kib\": %zu, \"domain_partition_rss_kib\": %zu, "
		       "\"domain_other_rss_kib\": %zu, \"domain_other_pss_kib\": %zu, "
		       "\"domain_other_private_kib\": %zu, "
		       "\"noop_round_trip_awake_us\": %.2f, \"noop_round_trip_awake_p99_us\": %.2f, "
		       "\"futex_calls_per_round_trip_awake\": %.3f, "
		       "\"noop_round_trip_asleep_us\": %.2f, \"noop_round_trip_asleep_p99_us\": %.2f, "
		       "\"futex_calls_per_round_trip_asleep\": %.3f}\n",
		       start_med / 1e6, start_max / 1e6, mem.rss_kib, mem.partition_kib,
		       mem.other_kib, mem.other_pss_kib, mem.other_private_kib, awake.median_us, awake.p99_us, awake.futex_per_rt,
		       asleep.median_us, asleep.p99_us, asleep.futex_per_rt);
	} else {
		printf("domain start (spawn, confine, load, init)  median %.3f ms, max %.3f ms (%u starts)\n",
		       start_med / 1e6, start_max / 1e6, starts);
		printf("domain RSS                                  %zu KiB: %zu in partitions (heap, rings, buffers), %zu beyond them\n",
		       mem.rss_kib, mem.partition_kib, mem.other_kib);
		printf("  beyond the partitions                     PSS %zu KiB, private to the domain %zu KiB\n",
		       mem.other_pss_kib, mem.other_private_kib);
		printf("no-op PROCESS round trip, domain awake      median %.2f us, p99 %.2f us, %.3f futex calls each (%u trips)\n",
		       awake.median_us, awake.p99_us, awake.futex_per_rt, trips);
		printf("no-op PROCESS round trip, domain asleep     median %.2f us, p99 %.2f us, %.3f futex calls each\n",
		       asleep.median_us, asleep.p99_us, asleep.futex_per_rt);
	}
	if (smaps_copy) {
		/* The domain's whole smaps, to see where its memory goes. */
		char src[64], buf[4096];
		FILE *f, *o = fopen(smaps_copy, "w");
		size_t k;

		snprintf(src, sizeof(src), "/proc/%d/smaps", inst.domain_pid);
		f = fopen(src, "r");
		while (f && o && (k = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, k, o);
		if (f)
			fclose(f);
		if (o)
			fclose(o);
	}
	pt_exec_destroy(&inst);
	rig_buffer_free(&in);
	rig_buffer_free(&out);
	free(st);
	return 0;
}
