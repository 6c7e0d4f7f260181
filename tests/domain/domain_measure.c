/* SPDX-License-Identifier: MIT */
/*
 * domain_measure - what a domain costs: start time, memory beyond its
 * private heap, and the round trip of a PROCESS that does nothing (the
 * request path's own cost), awake (the domain still spinning) and asleep
 * (the domain parked on its futex). Prints a table, or one JSON object with
 * --json. With --quick it runs few iterations (the ctest entry).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/domain/domain.h"
#include "lib/abi/abi.h"
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

#define CHAIN 6

/* One stage of the chain run trusted: the module in this process. */
struct trusted_stage {
	const struct pt_module_entry *entry;
	struct pt_module mod;
	void *heap;
};

/* Takes the views of @inst's pin 0 buffers as they are now. */
static void views_of(struct pt_instance *inst, struct pt_source *src, struct pt_sink *snk)
{
	struct pt_buffer *bi = inst->in[0], *bo = inst->out[0];

	pt_source_view(src, bi->data, bi->size, bi->rd % bi->size, pt_buffer_fill(bi), &bi->fmt);
	pt_sink_view(snk, bo->data, bo->size, bo->wr % bo->size, pt_buffer_room(bo), &bo->fmt);
}

/*
 * A chain of CHAIN probes, DP-pipelined as the scheduler runs it: each
 * period every stage whose input holds a period and whose output has room
 * gets the views taken at the period's start; all run, then all commit.
 * Isolated: one sweep of submits, one flush, then the reaps. Trusted: the
 * same views, process called in-process one after another. Returns the
 * wall seconds of @periods periods.
 */
static double run_chain(struct pt_instance *inst, struct trusted_stage *tr,
			struct pt_buffer *bufs, unsigned periods, unsigned batch)
{
	float pcm[RIG_PERIOD * RIG_CHANNELS], *sink;
	size_t period_bytes = RIG_PERIOD * RIG_CHANNELS * sizeof(float);
	uint64_t t0 = pt_mono_ns();

	sink = malloc(bufs[CHAIN].size);
	if (!sink)
		return -1;
	for (unsigned k = 0; k < periods; k += batch) {
		struct pt_source src[CHAIN];
		struct pt_sink snk[CHAIN];
		unsigned run[CHAIN];

		for (unsigned j = 0; j < batch && pt_buffer_room(&bufs[0]) >= period_bytes; j++) {
			rig_signal(pcm, RIG_PERIOD, k + j);
			rig_feed(&bufs[0], pcm, RIG_PERIOD);
		}
		for (unsigned i = 0; i < CHAIN; i++) {
			size_t a, f;

			views_of(&inst[i], &src[i], &snk[i]);
			a = src[i].avail / period_bytes;
			f = snk[i].free / period_bytes;
			run[i] = (unsigned)(a < f ? a : f);
			if (run[i] > batch)
				run[i] = batch;
		}
		for (unsigned i = 0; i < CHAIN; i++) {
			if (!run[i])
				continue;
			if (tr) {
				/* Period by period, as the domain does. */
				for (unsigned j = 0; j < run[i]; j++) {
					struct pt_source *sp = &src[i];
					struct pt_sink *kp = &snk[i];

					views_of(&inst[i], &src[i], &snk[i]);
					tr[i].entry->ops->process(&tr[i].mod, &sp, 1, &kp, 1);
					inst[i].in[0]->rd += src[i].consumed;
					inst[i].out[0]->wr += snk[i].produced;
				}
			} else if (pt_exec_submit_batch(&inst[i], &src[i], 1, &snk[i], 1,
							run[i], k + 1)) {
				free(sink);
				return -1;
			}
		}
		if (!tr)
			pt_exec_flush();
		for (unsigned i = 0; i < CHAIN && !tr; i++) {
			size_t consumed = 0, produced = 0;
			char why[128];
			int sig;

			if (!run[i])
				continue;
			if (pt_exec_reap(&inst[i], k + 1, pt_mono_ns() + 1000000000ull,
					 &consumed, &produced, &sig, why, sizeof(why))) {
				fprintf(stderr, "chain stage %u: %s\n", i, why);
				free(sink);
				return -1;
			}
			inst[i].in[0]->rd += consumed;
			inst[i].out[0]->wr += produced;
		}
		rig_take(&bufs[CHAIN], sink, bufs[CHAIN].size / (RIG_CHANNELS * sizeof(float)));
	}
	free(sink);
	return (double)(pt_mono_ns() - t0) / 1e9;
}

struct chain_result {
	double trusted_s, isolated_s, futex_per_period;
	unsigned periods, batch;
};

static int chain_measure(struct pt_budget *budget, unsigned periods,
			 unsigned batch, struct chain_result *res)
{
	const char *lib = rig_built("tests/hostile/pt_probe.so");
	struct pt_buffer bufs[CHAIN + 1];
	struct pt_instance inst[CHAIN];
	struct trusted_stage tr[CHAIN];
	void *dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	uint64_t f0 = 0, f1 = 0;
	char err[256];

	if (!dl)
		return -ENOENT;
	/* DP buffers hold two batches, as offline runs have them. */
	for (unsigned i = 0; i <= CHAIN; i++)
		rig_buffer_deep(budget, &bufs[i], 100 + i, 2 * batch < 4 ? 4 : 2 * batch);
	for (unsigned i = 0; i < CHAIN; i++) {
		char name[16];
		struct pt_source src, *sp = &src;
		struct pt_sink snk, *kp = &snk;

		snprintf(name, sizeof(name), "stage%u", i);
		rig_instance(&inst[i], 200 + i, name, lib, "gain=0.9", NULL);
		rig_bind_in(&inst[i], &bufs[i]);
		rig_bind_out(&inst[i], &bufs[i + 1]);
		if (pt_exec_create(budget, &inst[i], RIG_PERIOD, err, sizeof(err)) ||
		    pt_exec_prepare(&inst[i], err, sizeof(err))) {
			fprintf(stderr, "chain: %s\n", err);
			return -1;
		}
		tr[i].entry = dlsym(dl, PT_MODULE_ENTRY_SYMBOL);
		tr[i].heap = aligned_alloc(64, 1 << 16);
		if (pt_module_init(&tr[i].mod, tr[i].entry, name, RIG_PERIOD, tr[i].heap,
				   1 << 16, "gain=0.9", 8))
			return -1;
		views_of(&inst[i], &src, &snk);
		tr[i].entry->ops->prepare(&tr[i].mod, &sp, 1, &kp, 1);
	}
	res->periods = periods;
	res->batch = batch;
	/* Warm both paths, then alternate so that load changes hit both. */
	run_chain(inst, tr, bufs, 100, batch);
	run_chain(inst, NULL, bufs, 100, batch);
	res->trusted_s = res->isolated_s = 0;
	for (unsigned r = 0; r < 4; r++) {
		double t = run_chain(inst, tr, bufs, periods / 4, batch), iso;

		for (unsigned i = 0; i < CHAIN; i++)
			f0 += pt_exec_futex_calls(&inst[i]);
		iso = run_chain(inst, NULL, bufs, periods / 4, batch);
		for (unsigned i = 0; i < CHAIN; i++)
			f1 += pt_exec_futex_calls(&inst[i]);
		if (t < 0 || iso < 0)
			return -1;
		res->trusted_s += t;
		res->isolated_s += iso;
	}
	res->futex_per_period = (double)(f1 - f0) / (periods / 4 * 4);
	for (unsigned i = 0; i < CHAIN; i++) {
		pt_exec_destroy(&inst[i]);
		pt_module_free(&tr[i].mod);
		free(tr[i].heap);
	}
	for (unsigned i = 0; i <= CHAIN; i++)
		rig_buffer_free(&bufs[i]);
	dlclose(dl);
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
	struct chain_result chain, offline;
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
		else if (!strcmp(argv[i], "--spin") && i + 1 < argc) {
			struct pt_exec_tuning t = { 0 };

			if (sscanf(argv[++i], "%u,%u", &t.host_spin_us, &t.domain_spin_us) != 2 ||
			    pt_exec_tune(&t)) {
				fprintf(stderr, "--spin HOST_US,DOMAIN_US (0..1000 each)\n");
				return 2;
			}
		}
		else {
			fprintf(stderr, "usage: domain_measure [--json] [--quick] [--smaps FILE] [--spin HOST_US,DOMAIN_US]\n");
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
	if (chain_measure(&budget, quick ? 200 : 4000, 1, &chain) ||
	    chain_measure(&budget, quick ? 256 : 8192, 32, &offline)) {
		fprintf(stderr, "chain measurement failed\n");
		return 1;
	}
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
		       "\"futex_calls_per_round_trip_asleep\": %.3f, "
		       "\"chain_stages\": %d, \"chain_periods\": %u, \"trusted_wall_s\": %.4f, "
		       "\"isolated_wall_s\": %.4f, \"ratio\": %.3f, \"realtime_factor\": %.1f, "
		       "\"futex_calls_per_period\": %.2f, \"offline_batch\": %u, "
		       "\"offline_trusted_wall_s\": %.4f, \"offline_isolated_wall_s\": %.4f, "
		       "\"offline_ratio\": %.3f, \"offline_futex_calls_per_period\": %.3f}\n",
		       start_med / 1e6, start_max / 1e6, mem.rss_kib, mem.partition_kib,
		       mem.other_kib, mem.other_pss_kib, mem.other_private_kib, awake.median_us, awake.p99_us, awake.futex_per_rt,
		       asleep.median_us, asleep.p99_us, asleep.futex_per_rt, CHAIN,
		       chain.periods, chain.trusted_s, chain.isolated_s,
		       chain.isolated_s / chain.trusted_s,
		       chain.periods * 0.001 / chain.isolated_s, chain.futex_per_period,
		       offline.batch, offline.trusted_s, offline.isolated_s,
		       offline.isolated_s / offline.trusted_s, offline.futex_per_period);
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
		printf("%d-stage chain, 1 ms periods, as fast as it goes (%u periods):\n"
		       "  trusted %.4f s, isolated %.4f s, ratio %.3f, real-time factor %.1f, "
		       "%.2f futex calls per period\n", CHAIN, chain.periods, chain.trusted_s,
		       chain.isolated_s, chain.isolated_s / chain.trusted_s,
		       chain.periods * 0.001 / chain.isolated_s, chain.futex_per_period);
		printf("  offline, up to %u periods per request (%u periods): trusted %.4f s, "
		       "isolated %.4f s, ratio %.3f, %.3f futex calls per period\n",
		       offline.batch, offline.periods, offline.trusted_s, offline.isolated_s,
		       offline.isolated_s / offline.trusted_s, offline.futex_per_period);
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
