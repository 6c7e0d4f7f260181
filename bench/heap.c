/* SPDX-License-Identifier: MIT */
/*
 * partita bench heap - pt_heap against glibc malloc on the same seeded
 * workloads (lib/heap/stress.h), in the same run:
 *   zephyr  - Zephyr's sys_heap stress sizes, 256 KiB heap, target 100 %;
 *   buffers - log-uniform 64 B .. 16 KiB, 1 MiB heap, target 100 %.
 *
 * Utilisation: requested bytes in use / heap size when the first
 * allocation fails, the mean over --seeds seeds. pt_heap fails when it
 * returns NULL. glibc never fails, so each glibc run happens in a forked
 * child (a fresh copy of this early process) with M_TOP_PAD 0 (the arena
 * grows page by page, not 128 KiB at a time); an allocation "fails" when,
 * after it, the bytes glibc holds from the system (mallinfo2 arena +
 * hblkhd) less the bytes already in use before the run exceed the heap
 * size. Free space the child inherited counts as held, so reusing it is
 * no free gift. The "ideal" column is
 * the rig's counting allocator: it fails only when the request exceeds
 * the bytes not yet requested, a bound no allocator can beat.
 *
 * Overhead: bytes held by the allocator minus bytes requested, per live
 * block, at that first failure (headers plus rounding).
 *
 * Time: --repeat runs of --ops steps per allocator and workload, every
 * alloc and free timed with the rig's clock (the TSC on x86-64; its own
 * cost, printed as the floor, is included); each percentile is the least
 * over the runs. Requests larger than the heap are refused before
 * glibc sees them, as pt_heap refuses them.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <partita/heap.h>
#include "bench/bench.h"
#include "lib/heap/stress.h"

#define SEED 0x5eed2026u

struct workload {
	enum pt_heap_workload kind;
	size_t heap_bytes;
	unsigned target;
};

static const struct workload workloads[] = {
	{ PT_HEAP_WORKLOAD_ZEPHYR, 256 * 1024, 100 },
	{ PT_HEAP_WORKLOAD_BUFFERS, 1024 * 1024, 100 },
};
#define NWORKLOAD (sizeof(workloads) / sizeof(workloads[0]))

enum { PT_HEAP, GLIBC, NALLOC };
static const char *alloc_name[] = { "pt_heap", "glibc" };

struct row {
	double used, used_min, used_max, ideal;
	double overhead;      /* bytes per live block at first failure */
	double alloc_p50, alloc_p99, free_p50, free_p99;
};

/* ---- the allocators under test ---- */

static void *heap_alloc(void *ctx, size_t size)
{
	return pt_heap_alloc(ctx, size);
}

static void heap_free(void *ctx, void *ptr)
{
	pt_heap_free(ctx, ptr);
}

struct glibc_ctx {
	size_t limit;     /* refuse requests above this, as a heap would */
	size_t base;      /* bytes in use (uordblks + hblkhd) when the run
			     began: anything glibc holds beyond them counts */
	int count_arena;  /* fail when the arena outgrows limit */
};

static size_t glibc_arena(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.arena + mi.hblkhd;
}

static void *glibc_alloc(void *ctx, size_t size)
{
	struct glibc_ctx *g = ctx;
	void *p;

	if (size > g->limit)
		return NULL;
	p = malloc(size);
	if (p && g->count_arena && glibc_arena() - g->base > g->limit) {
		free(p);
		return NULL;
	}
	return p;
}

static void glibc_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

/* ---- utilisation ---- */

struct failure {
	double used;
	double overhead;
};

static struct pt_heap_stress_config util_config(const struct workload *w,
						uint64_t seed,
						struct pt_heap_stress_block *blocks)
{
	return (struct pt_heap_stress_config){
		.workload = w->kind,
		.heap_bytes = w->heap_bytes,
		.target_percent = w->target,
		.ops = 10000000,
		.seed = seed,
		.stop_at_failure = 1,
		.blocks = blocks,
		.nblocks = w->heap_bytes / 16,
	};
}

static int heap_failure(const struct workload *w, uint64_t seed,
			struct failure *out)
{
	struct pt_heap_stress_block *blocks = calloc(w->heap_bytes / 16, sizeof(*blocks));
	void *block = aligned_alloc(PT_HEAP_ALIGN, w->heap_bytes);
	struct pt_heap *h = block ? pt_heap_init(block, w->heap_bytes) : NULL;
	struct pt_heap_stress_config cfg = util_config(w, seed, blocks);
	struct pt_heap_stress_allocator a = { heap_alloc, heap_free, NULL, h };
	struct pt_heap_stress_result r;
	struct pt_heap_stats st;
	int ret = -ENOMEM;

	if (blocks && h && pt_heap_stress_run(&cfg, &a, &r) == 0 && r.failed) {
		pt_heap_stats(h, &st);
		out->used = r.used_at_first_failure;
		out->overhead = r.live_blocks ?
			(double)(st.allocated - r.in_use_at_failure) / (double)r.live_blocks : 0;
		ret = 0;
	}
	free(blocks);
	free(block);
	return ret;
}

/* Runs in a forked child so glibc starts from this process's early state
 * and nothing it keeps afterwards skews the next run. */
static int glibc_failure(const struct workload *w, uint64_t seed,
			 struct failure *out)
{
	int fds[2], status;
	pid_t pid;
	ssize_t got;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct pt_heap_stress_block *blocks;
		struct pt_heap_stress_config cfg;
		struct glibc_ctx g = { .limit = w->heap_bytes, .count_arena = 1 };
		struct pt_heap_stress_allocator a = { glibc_alloc, glibc_free, NULL, &g };
		struct pt_heap_stress_result r;
		struct failure f = { -1, 0 };
		struct mallinfo2 mi;

		close(fds[0]);
		mallopt(M_TOP_PAD, 0);
		mallopt(M_TRIM_THRESHOLD, 64 << 20);
		blocks = calloc(w->heap_bytes / 16, sizeof(*blocks));
		cfg = util_config(w, seed, blocks);
		malloc_trim(0);
		mi = mallinfo2();
		g.base = mi.uordblks + mi.hblkhd;
		if (blocks && pt_heap_stress_run(&cfg, &a, &r) == 0 && r.failed) {
			mi = mallinfo2();
			f.used = r.used_at_first_failure;
			f.overhead = r.live_blocks ?
				((double)(mi.uordblks + mi.hblkhd) - (double)g.base -
				 (double)r.in_use_at_failure) /
				(double)r.live_blocks : 0;
		}
		if (write(fds[1], &f, sizeof(f)) != sizeof(f))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	got = read(fds[0], out, sizeof(*out));
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (got != sizeof(*out) || out->used < 0)
		return -EIO;
	return 0;
}

static double ideal_failure(const struct workload *w, uint64_t seed)
{
	struct pt_heap_stress_block *blocks = calloc(w->heap_bytes / 16, sizeof(*blocks));
	struct pt_heap_stress_config cfg = util_config(w, seed, blocks);
	struct pt_heap_stress_ideal state;
	struct pt_heap_stress_allocator a;
	struct pt_heap_stress_result r;
	double used = 1.0;

	pt_heap_stress_ideal_init(&a, &state, w->heap_bytes);
	if (blocks && pt_heap_stress_run(&cfg, &a, &r) == 0 && r.failed)
		used = r.used_at_first_failure;
	free(blocks);
	return used;
}

static int measure_utilisation(const struct workload *w, int which,
			       unsigned seeds, struct row *row)
{
	double sum = 0, over = 0, ideal = 0;

	row->used_min = 1;
	row->used_max = 0;
	for (unsigned s = 0; s < seeds; s++) {
		uint64_t seed = SEED + 7919ull * s;
		struct failure f;
		int ret = which == PT_HEAP ? heap_failure(w, seed, &f) :
					     glibc_failure(w, seed, &f);

		if (ret)
			return ret;
		sum += f.used;
		over += f.overhead;
		if (f.used < row->used_min)
			row->used_min = f.used;
		if (f.used > row->used_max)
			row->used_max = f.used;
		ideal += ideal_failure(w, seed);
	}
	row->used = sum / seeds;
	row->overhead = over / seeds;
	row->ideal = ideal / seeds;
	return 0;
}

/* ---- time ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double percentile(uint32_t *v, uint64_t n, double q)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u32);
	return v[(uint64_t)(q * (double)(n - 1))];
}

static int measure_time(const struct workload *w, int which, uint64_t ops,
			struct row *row)
{
	struct pt_heap_stress_block *blocks = calloc(w->heap_bytes / 16, sizeof(*blocks));
	uint32_t *alloc_ticks = calloc(ops, sizeof(uint32_t));
	uint32_t *free_ticks = calloc(ops, sizeof(uint32_t));
	void *block = aligned_alloc(PT_HEAP_ALIGN, w->heap_bytes);
	struct glibc_ctx g = { .limit = w->heap_bytes };
	struct pt_heap_stress_config cfg = {
		.workload = w->kind,
		.heap_bytes = w->heap_bytes,
		.target_percent = w->target,
		.ops = ops,
		.seed = SEED,
		.blocks = blocks,
		.nblocks = w->heap_bytes / 16,
		.alloc_ticks = alloc_ticks,
		.free_ticks = free_ticks,
	};
	struct pt_heap_stress_allocator a;
	struct pt_heap_stress_result r;
	double tick = pt_heap_stress_tick_ns();
	int ret = -ENOMEM;

	if (!blocks || !alloc_ticks || !free_ticks || !block)
		goto out;
	if (which == PT_HEAP)
		a = (struct pt_heap_stress_allocator){
			heap_alloc, heap_free, NULL,
			pt_heap_init(block, w->heap_bytes)
		};
	else
		a = (struct pt_heap_stress_allocator){ glibc_alloc, glibc_free, NULL, &g };
	ret = pt_heap_stress_run(&cfg, &a, &r);
	if (ret)
		goto out;
	pt_heap_stress_release(&cfg, &a, &r);
	row->alloc_p50 = tick * percentile(alloc_ticks, r.alloc_samples, 0.50);
	row->alloc_p99 = tick * percentile(alloc_ticks, r.alloc_samples, 0.99);
	row->free_p50 = tick * percentile(free_ticks, r.free_samples, 0.50);
	row->free_p99 = tick * percentile(free_ticks, r.free_samples, 0.99);
out:
	free(blocks);
	free(alloc_ticks);
	free(free_ticks);
	free(block);
	return ret;
}

static void keep_least(struct row *r, const struct row *t, int first)
{
	if (first || t->alloc_p50 < r->alloc_p50)
		r->alloc_p50 = t->alloc_p50;
	if (first || t->alloc_p99 < r->alloc_p99)
		r->alloc_p99 = t->alloc_p99;
	if (first || t->free_p50 < r->free_p50)
		r->free_p50 = t->free_p50;
	if (first || t->free_p99 < r->free_p99)
		r->free_p99 = t->free_p99;
}

/* The cost of the two clock reads around each operation, in ns. */
static double timer_floor_ns(void)
{
	enum { N = 20001 };
	static uint32_t v[N];

	for (int i = 0; i < N; i++) {
		uint64_t a = pt_heap_stress_clock();

		v[i] = (uint32_t)(pt_heap_stress_clock() - a);
	}
	return pt_heap_stress_tick_ns() * percentile(v, N, 0.5);
}

/* ---- output ---- */

static void print_json(const struct row rows[NWORKLOAD][NALLOC], unsigned seeds,
		       unsigned repeat, double floor)
{
	printf("{\"rows\": [");
	for (size_t w = 0; w < NWORKLOAD; w++)
		for (int a = 0; a < NALLOC; a++) {
			const struct row *r = &rows[w][a];

			printf("%s{\"allocator\": \"%s\", \"workload\": \"%s\", "
			       "\"heap_bytes\": %zu, \"target\": %.2f, "
			       "\"used_at_first_failure\": %.4f, "
			       "\"alloc_ns_p50\": %.1f, \"alloc_ns_p99\": %.1f, "
			       "\"free_ns_p50\": %.1f, \"free_ns_p99\": %.1f, "
			       "\"used_min\": %.4f, \"used_max\": %.4f, "
			       "\"ideal\": %.4f, \"overhead_bytes_per_block\": %.1f, "
			       "\"seeds\": %u}",
			       w || a ? ", " : "", alloc_name[a],
			       pt_heap_workload_name(workloads[w].kind),
			       workloads[w].heap_bytes, workloads[w].target / 100.0,
			       r->used, r->alloc_p50, r->alloc_p99, r->free_p50,
			       r->free_p99, r->used_min, r->used_max, r->ideal,
			       r->overhead, seeds);
		}
	printf("], \"timer_floor_ns\": %.1f, \"time_runs\": %u, \"header_bytes\": %u, "
	       "\"heap_fixed_bytes\": %u}\n", floor, repeat, PT_HEAP_OVERHEAD,
	       PT_HEAP_FIXED_COST);
}

static void print_table(const struct row rows[NWORKLOAD][NALLOC], unsigned seeds,
			uint64_t ops, unsigned repeat, double floor)
{
	printf("pt_heap vs glibc malloc, target 100 %%, %u seeds for utilisation, "
	       "least of %u runs of %llu steps for time\n", seeds, repeat,
	       (unsigned long long)ops);
	printf("%-8s %-8s %8s | %6s %6s %6s %6s | %6s %6s %6s %6s | %8s\n",
	       "workload", "alloc", "heap", "used", "min", "max", "ideal",
	       "a p50", "a p99", "f p50", "f p99", "overhead");
	for (size_t w = 0; w < NWORKLOAD; w++)
		for (int a = 0; a < NALLOC; a++) {
			const struct row *r = &rows[w][a];

			printf("%-8s %-8s %7zuK | %5.1f%% %5.1f%% %5.1f%% %5.1f%% | "
			       "%6.0f %6.0f %6.0f %6.0f | %6.1f B\n",
			       pt_heap_workload_name(workloads[w].kind), alloc_name[a],
			       workloads[w].heap_bytes / 1024, 100 * r->used,
			       100 * r->used_min, 100 * r->used_max, 100 * r->ideal,
			       r->alloc_p50, r->alloc_p99, r->free_p50, r->free_p99,
			       r->overhead);
		}
	printf("ratios pt_heap / glibc:\n");
	for (size_t w = 0; w < NWORKLOAD; w++) {
		const struct row *p = &rows[w][PT_HEAP], *g = &rows[w][GLIBC];

		printf("  %-8s used %.2fx  alloc p50 %.2fx p99 %.2fx  free p50 %.2fx p99 %.2fx\n",
		       pt_heap_workload_name(workloads[w].kind), p->used / g->used,
		       p->alloc_p50 / g->alloc_p50, p->alloc_p99 / g->alloc_p99,
		       p->free_p50 / g->free_p50, p->free_p99 / g->free_p99);
	}
	printf("times in ns per call including the timer floor of %.0f ns; "
	       "overhead = bytes held - bytes asked, per live block\n", floor);
	printf("pt_heap: %u header bytes per allocation, %u bytes per heap; "
	       "figures to beat at first failure: zephyr 256K sys_heap 55%%, "
	       "TLSF 29%%; buffers 1M TLSF 88%%, sys_heap 81%%\n",
	       PT_HEAP_OVERHEAD, PT_HEAP_FIXED_COST);
}

int pt_bench_heap(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "seeds", required_argument, NULL, 's' },
		{ "ops", required_argument, NULL, 'o' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct row rows[NWORKLOAD][NALLOC];
	unsigned long seeds = 16;
	unsigned long long ops = 200000;
	unsigned long repeat = 3;
	int json = 0, c;
	double floor;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'j':
			json = 1;
			break;
		case 's':
			seeds = strtoul(optarg, &end, 10);
			if (*end || !seeds || seeds > 1000) {
				fprintf(stderr, "bench heap: --seeds must be 1..1000\n");
				return 2;
			}
			break;
		case 'o':
			ops = strtoull(optarg, &end, 10);
			if (*end || ops < 1000 || ops > 100000000) {
				fprintf(stderr, "bench heap: --ops must be 1000..100000000\n");
				return 2;
			}
			break;
		case 'r':
			repeat = strtoul(optarg, &end, 10);
			if (*end || !repeat || repeat > 100) {
				fprintf(stderr, "bench heap: --repeat must be 1..100\n");
				return 2;
			}
			break;
		case 'h':
			printf("usage: partita bench heap [--json] [--seeds N] [--ops N] [--repeat N]\n"
			       "pt_heap and glibc malloc on the zephyr (256 KiB) and buffers\n"
			       "(1 MiB) workloads: utilisation at first failure (mean of N\n"
			       "seeds, default 16), ns per alloc and free over N steps\n"
			       "(default 200000; each percentile the least of --repeat runs,\n"
			       "default 3), overhead per block.\n");
			return 0;
		default:
			return 2;
		}
	}
	memset(rows, 0, sizeof(rows));
	/* glibc first, while this process's own heap is still small. */
	for (int a = NALLOC - 1; a >= 0; a--)
		for (size_t w = 0; w < NWORKLOAD; w++) {
			int ret = measure_utilisation(&workloads[w], a, (unsigned)seeds,
						      &rows[w][a]);

			if (ret) {
				fprintf(stderr, "bench heap: %s %s utilisation: %s\n",
					alloc_name[a], pt_heap_workload_name(workloads[w].kind),
					strerror(-ret));
				return 1;
			}
		}
	floor = timer_floor_ns();
	/* Each figure is the least over --repeat runs, taken in turns, so a
	 * neighbour's burst on this shared machine hits both allocators alike
	 * and rarely survives. */
	for (unsigned long rep = 0; rep < repeat; rep++)
		for (size_t w = 0; w < NWORKLOAD; w++)
			for (int a = 0; a < NALLOC; a++) {
				struct row t;
				int ret = measure_time(&workloads[w], a, ops, &t);

				if (ret) {
					fprintf(stderr, "bench heap: %s %s time: %s\n",
						alloc_name[a],
						pt_heap_workload_name(workloads[w].kind),
						strerror(-ret));
					return 1;
				}
				keep_least(&rows[w][a], &t, rep == 0);
			}
	if (json)
		print_json(rows, (unsigned)seeds, (unsigned)repeat, floor);
	else
		print_table(rows, (unsigned)seeds, ops, (unsigned)repeat, floor);
	return 0;
}
