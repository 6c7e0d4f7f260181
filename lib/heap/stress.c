/* SPDX-License-Identifier: MIT */
#include "lib/heap/stress.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/* splitmix64: a seeded generator with no state beyond one word. */
static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rand32(uint64_t *s)
{
	return (uint32_t)(next_random(s) >> 32);
}

static size_t draw_size(enum pt_heap_workload w, uint64_t *s)
{
	if (w == PT_HEAP_WORKLOAD_BUFFERS) {
		/* 2^(6 + 8u), u uniform in [0, 1): 64 B .. 16 KiB. */
		double u = (double)(next_random(s) >> 11) * 0x1p-53;

		return (size_t)exp2(6.0 + 8.0 * u);
	}
	{
		uint32_t r = rand32(s);
		unsigned scale = 4 + (r ? (unsigned)__builtin_clz(r) : 32);
		uint64_t size = next_random(s) & ((1ull << scale) - 1);

		return size ? (size_t)size : 1;
	}
}

static int choose_alloc(const struct pt_heap_stress_config *cfg, size_t live,
			size_t bytes, uint64_t *s)
{
	uint64_t full_pct;
	uint32_t free_chance = 0xffffffffu;

	if (live == 0)
		return 1;
	if (live >= cfg->nblocks)
		return 0;
	full_pct = 100 * (uint64_t)bytes / cfg->heap_bytes;
	if (full_pct < cfg->target_percent)
		free_chance = (uint32_t)full_pct *
			      (0x80000000u / cfg->target_percent);
	return rand32(s) > free_chance;
}

static uint8_t block_tag(const void *p, size_t size)
{
	uintptr_t x = (uintptr_t)p >> 4 ^ size * 0x9e3779b1u;

	return (uint8_t)(x ^ x >> 8 ^ x >> 16);
}

static int block_intact(const struct pt_heap_stress_block *b)
{
	const uint8_t *p = b->ptr;
	uint8_t tag = block_tag(b->ptr, b->size);

	for (size_t i = 0; i < b->size; i++)
		if (p[i] != tag)
			return 0;
	return 1;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pt_heap_stress_clock(void)
{
#if defined(__x86_64__)
	uint64_t t;

	/* The fences keep the timed call's loads from straddling the read. */
	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
#else
	return monotonic_ns();
#endif
}

double pt_heap_stress_tick_ns(void)
{
	static double tick_ns;

	if (!tick_ns) {
#if defined(__x86_64__)
		uint64_t n0 = monotonic_ns(), t0 = pt_heap_stress_clock(), n1, t1;

		do {
			n1 = monotonic_ns();
		} while (n1 - n0 < 20000000u);
		t1 = pt_heap_stress_clock();
		tick_ns = (double)(n1 - n0) / (double)(t1 - t0);
#else
		tick_ns = 1.0;
#endif
	}
	return tick_ns;
}

static uint32_t clamp_ticks(uint64_t ticks)
{
	return ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
}

int pt_heap_stress_run(const struct pt_heap_stress_config *cfg,
		       const struct pt_heap_stress_allocator *a,
		       struct pt_heap_stress_result *r)
{
	uint64_t seed, step;
	size_t live = 0, bytes = 0;
	double accumulated = 0;
	int timed = cfg->alloc_ticks && cfg->free_ticks;

	memset(r, 0, sizeof(*r));
	if (!cfg->heap_bytes || !cfg->target_percent ||
	    cfg->target_percent > 100 || !cfg->blocks || !cfg->nblocks ||
	    !a->alloc || !a->free)
		return -EINVAL;
	seed = cfg->seed;
	for (step = 0; step < cfg->ops; step++) {
		if (choose_alloc(cfg, live, bytes, &seed)) {
			size_t size = draw_size(cfg->workload, &seed);
			uint64_t t0 = timed ? pt_heap_stress_clock() : 0;
			void *p = a->alloc(a->ctx, size);

			r->allocs++;
			if (p) {
				if (timed)
					cfg->alloc_ticks[r->alloc_samples++] =
						clamp_ticks(pt_heap_stress_clock() - t0);
				r->successful_allocs++;
				cfg->blocks[live] = (struct pt_heap_stress_block){ p, size };
				if (cfg->fill)
					memset(p, block_tag(p, size), size);
				live++;
				bytes += size;
				if (bytes > r->peak_in_use)
					r->peak_in_use = bytes;
			} else if (!r->failed) {
				r->failed = 1;
				r->first_failure_step = step;
				r->first_failure_request = size;
				r->in_use_at_failure = bytes;
				r->used_at_first_failure =
					(double)bytes / (double)cfg->heap_bytes;
				if (cfg->stop_at_failure) {
					step++;
					accumulated += (double)bytes;
					break;
				}
			}
		} else {
			size_t k = rand32(&seed) % live;
			struct pt_heap_stress_block b = cfg->blocks[k];
			uint64_t t0;

			if (cfg->fill && !block_intact(&b)) {
				r->invalid = "a live block's bytes changed";
				r->invalid_step = step;
				break;
			}
			cfg->blocks[k] = cfg->blocks[--live];
			bytes -= b.size;
			t0 = timed ? pt_heap_stress_clock() : 0;
			a->free(a->ctx, b.ptr);
			if (timed)
				cfg->free_ticks[r->free_samples++] =
					clamp_ticks(pt_heap_stress_clock() - t0);
			r->frees++;
		}
		if (a->check) {
			const char *why = a->check(a->ctx);

			if (why) {
				r->invalid = why;
				r->invalid_step = step;
				step++;
				break;
			}
		}
		accumulated += (double)bytes;
	}
	r->steps = step;
	r->live_blocks = live;
	if (step)
		r->mean_in_use = accumulated / (double)step / (double)cfg->heap_bytes;
	return r->invalid ? -EFAULT : 0;
}

void pt_heap_stress_release(const struct pt_heap_stress_config *cfg,
			    const struct pt_heap_stress_allocator *a,
			    struct pt_heap_stress_result *r)
{
	while (r->live_blocks)
		a->free(a->ctx, cfg->blocks[--r->live_blocks].ptr);
}

static void *ideal_alloc(void *ctx, size_t size)
{
	struct pt_heap_stress_ideal *s = ctx;

	if (size > s->limit - s->used)
		return NULL;
	s->used += size;
	/* A token that carries the size back to ideal_free. */
	return (void *)(((uintptr_t)size << 1) | 1);
}

static void ideal_free(void *ctx, void *ptr)
{
	struct pt_heap_stress_ideal *s = ctx;

	s->used -= (size_t)((uintptr_t)ptr >> 1);
}

void pt_heap_stress_ideal_init(struct pt_heap_stress_allocator *a,
			       struct pt_heap_stress_ideal *state, size_t limit)
{
	state->limit = limit;
	state->used = 0;
	*a = (struct pt_heap_stress_allocator){ .alloc = ideal_alloc,
						.free = ideal_free,
						.ctx = state };
}

const char *pt_heap_workload_name(enum pt_heap_workload w)
{
	return w == PT_HEAP_WORKLOAD_BUFFERS ? "buffers" : "zephyr";
}
