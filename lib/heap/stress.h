/* SPDX-License-Identifier: MIT */
/*
 * lib/heap/stress - the seeded heap workload that tests/heap and
 * `partita bench heap` share, in the style of Zephyr's sys_heap stress rig.
 *
 * Each step either allocates or frees. With fullness f (requested bytes in
 * use / heap_bytes, in whole percent as Zephyr computes it) below the
 * target t, the chance to free is f / (2 t), so the chance to allocate
 * falls from 1 toward 1/2; at or above the target it always frees. With no
 * block live it always allocates; with the block table full it always
 * frees. A free picks a live block uniformly.
 *
 * Workloads (request sizes):
 * - PT_HEAP_WORKLOAD_ZEPHYR: Zephyr's heavy tail. With r a random 32-bit
 *   word, scale = 4 + (leading zeros of r), size = random & (2^scale - 1):
 *   half the requests are under 16 bytes and each doubling of size halves
 *   the frequency. A draw of 0 becomes 1 (sys_heap refuses 0 bytes).
 * - PT_HEAP_WORKLOAD_BUFFERS: log-uniform sizes from 64 B to 16 KiB.
 *
 * The rig is deterministic for a seed until the first failed allocation;
 * only what happens after depends on the allocator. It uses libc freely:
 * it is never linked into a domain's allocation path.
 */
#ifndef PT_LIB_HEAP_STRESS_H
#define PT_LIB_HEAP_STRESS_H

#include <stddef.h>
#include <stdint.h>

enum pt_heap_workload {
	PT_HEAP_WORKLOAD_ZEPHYR,
	PT_HEAP_WORKLOAD_BUFFERS,
};

/* The allocator under test. @check, if set, runs after every step and
 * returns NULL or what is wrong. */
struct pt_heap_stress_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr);
	const char *(*check)(void *ctx);
	void *ctx;
};

struct pt_heap_stress_block {
	void *ptr;
	size_t size;
};

struct pt_heap_stress_config {
	enum pt_heap_workload workload;
	size_t heap_bytes;       /* the arena fullness is measured against */
	unsigned target_percent; /* 1..100 */
	uint64_t ops;            /* steps to run */
	uint64_t seed;
	int stop_at_failure;     /* end the run at the first failed alloc */
	int fill;                /* write each block, verify it when freed */
	/* Scratch for the live blocks (about heap_bytes / 16 entries are
	 * enough); the rig never allocates. */
	struct pt_heap_stress_block *blocks;
	size_t nblocks;
	/* When set, the duration of every successful alloc and of every
	 * free, in ticks of pt_heap_stress_clock (up to ops entries each). */
	uint32_t *alloc_ticks, *free_ticks;
};

struct pt_heap_stress_result {
	uint64_t steps;            /* steps actually run */
	uint64_t allocs;           /* allocation attempts */
	uint64_t successful_allocs;
	uint64_t frees;
	uint64_t alloc_samples, free_samples; /* entries in alloc_/free_ticks */
	int failed;                /* an allocation failed */
	uint64_t first_failure_step;
	size_t first_failure_request;  /* bytes asked for */
	size_t in_use_at_failure;      /* requested bytes live at that moment */
	double used_at_first_failure;  /* in_use_at_failure / heap_bytes */
	double mean_in_use;            /* mean requested bytes / heap_bytes */
	size_t peak_in_use;            /* most requested bytes live at once */
	size_t live_blocks;            /* blocks still allocated at the end */
	const char *invalid;       /* from check() or a damaged block, or NULL */
	uint64_t invalid_step;
};

/* Runs the workload against @a. Returns 0, or -EINVAL when the config is
 * unusable, or -EFAULT when check() reported a problem or a block's bytes
 * changed (result->invalid says what). Blocks still live at the end stay
 * allocated and are listed in cfg->blocks[0 .. live_blocks). */
int pt_heap_stress_run(const struct pt_heap_stress_config *cfg,
		       const struct pt_heap_stress_allocator *a,
		       struct pt_heap_stress_result *result);

/* Frees the blocks a run left live. */
void pt_heap_stress_release(const struct pt_heap_stress_config *cfg,
			    const struct pt_heap_stress_allocator *a,
			    struct pt_heap_stress_result *result);

/* An allocator that fails only when the request exceeds the bytes not yet
 * requested: the bound no real allocator can beat. Its pointers are
 * tokens, not memory (run it without fill). */
struct pt_heap_stress_ideal {
	size_t limit, used;
};

void pt_heap_stress_ideal_init(struct pt_heap_stress_allocator *a,
			       struct pt_heap_stress_ideal *state, size_t limit);

/* The rig's clock: the CPU's invariant time-stamp counter on x86-64
 * (clock_gettime's resolution here is 10 ns or worse), otherwise
 * CLOCK_MONOTONIC in nanoseconds. */
uint64_t pt_heap_stress_clock(void);

/* Nanoseconds per tick of pt_heap_stress_clock (calibrated against
 * CLOCK_MONOTONIC over 20 ms on the first call). */
double pt_heap_stress_tick_ns(void);

/* Returns the name of @w ("zephyr", "buffers"). */
const char *pt_heap_workload_name(enum pt_heap_workload w);

#endif
