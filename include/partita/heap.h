/* SPDX-License-Identifier: MIT */
/*
 * partita/heap.h - pt_heap, a region allocator that works in any block.
 *
 * The heap keeps all of its metadata inside the block it is given and
 * refers to chunks by offset, never by address, so a module's private heap
 * partition is self-contained. It makes no system calls and takes no locks
 * (one heap per module, one thread at a time); its only library calls are
 * memcpy and memset. Layout and algorithm: lib/heap/heap.c.
 *
 * Bounds (checked by static_asserts in heap.c and by tests/heap):
 * - Every call is O(1). pt_heap_alloc examines at most 20 free chunks:
 *   2 of the request's size class, 2 of the next non-empty larger class,
 *   and, only when those fail, PT_HEAP_SCAN_LIMIT (16) of its own class;
 *   a request of the largest class instead examines every chunk of that
 *   class, which holds at most 15. pt_heap_aligned_alloc is the same
 *   search; pt_heap_realloc is a free-path check plus either an in-place
 *   resize or one search and one memcpy; pt_heap_free reads at most 5
 *   chunk headers and the links of 6 list neighbours. No loop runs
 *   longer as the heap holds more chunks; only pt_heap_validate walks
 *   the whole heap.
 * - Overhead: PT_HEAP_OVERHEAD (8) bytes per allocation, plus rounding of
 *   the request up to a multiple of 16 bytes; the usable size of a chunk is
 *   16 * n - 8 bytes. Fixed cost per heap: PT_HEAP_FIXED_COST (112)
 *   bytes for a block whose size is a multiple of 16 (a 104-byte struct
 *   and the 8 bytes after the last chunk), at most 119 for any size.
 * - Sizes: a heap needs at least PT_HEAP_MIN_SIZE bytes and uses at most
 *   PT_HEAP_MAX_SIZE bytes of its block (the rest of a bigger block is left
 *   alone). A zero-byte request returns a unique minimal block.
 * - Utilisation: a request fails only if no free chunk can hold it, or
 *   the only ones that can are in the request's own size class (classes
 *   are half an octave wide up to 4 KiB, in heaps under 1 MiB) and not
 *   among the first PT_HEAP_SCAN_LIMIT chunks of its list. Requests of
 *   64 KiB and more get the best fit among all free chunks that big.
 *   Free chunks are always merged with free neighbours. Measured figures:
 *   `partita bench heap`.
 *
 * Hardening. Each chunk header carries a 15-bit keyed check over its index
 * and fields, and neighbours cross-check each other's sizes. Detected, with
 * an error return (or NULL), a counter, and no change to the heap:
 * - a double free (the chunk is free, or was merged into a free chunk);
 * - a free or realloc of a pointer this heap never returned: outside the
 *   heap, misaligned, or inside a chunk (a check collision, probability
 *   about 2^-15 per attempt, is the only way through);
 * - a header overwritten by a buffer overflow or stray write, when that
 *   chunk or a neighbour is freed or reallocated, when it is examined by an
 *   allocation search, or by pt_heap_validate;
 * - free-list links overwritten in a free chunk (a use after free), when
 *   the chunk is unlinked or examined by a search.
 * Not detected: damage to payload bytes; an overflow that rewrites a
 * header with its own correct value; a free of a stale pointer whose chunk
 * was reallocated at the same address (it frees the new allocation); damage
 * to struct pt_heap itself beyond what pt_heap_validate checks. A damaged
 * heap is never repaired: operations that would touch the damage fail.
 */
#ifndef PARTITA_HEAP_H
#define PARTITA_HEAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pt_heap;

/* Alignment of every pointer pt_heap_alloc() returns. */
#define PT_HEAP_ALIGN 16u
/* Bytes of header in front of every allocation. */
#define PT_HEAP_OVERHEAD 8u
/* Bytes of every heap taken by its own bookkeeping. */
#define PT_HEAP_FIXED_COST 112u
/* The smallest block pt_heap_init accepts (one 8-byte allocation). */
#define PT_HEAP_MIN_SIZE 120u
/* The most of a block a heap uses: 2^24 units of 16 bytes. */
#define PT_HEAP_MAX_SIZE ((size_t)256 << 20)
/* Free-list size classes, and the bound on chunks examined by a search of
 * one class (see above). */
#define PT_HEAP_CLASSES 20u
#define PT_HEAP_SCAN_LIMIT 16u

struct pt_heap_stats {
	size_t capacity;       /* bytes of chunks, headers included */
	size_t allocated;      /* bytes in live allocations, headers included */
	size_t peak_allocated; /* highest value of allocated */
	size_t peak_request;   /* largest size ever asked for */
	uint64_t allocations;  /* successful allocations (realloc not counted) */
	uint64_t failures;     /* allocations that returned NULL */
	uint64_t bad_frees;    /* frees/reallocs refused: double free, foreign
				  pointer, damaged header */
	uint64_t damaged;      /* damaged headers or links found (by free,
				  realloc or an allocation search) */
};

/* Sets up a heap in [block, block + size). @block must be PT_HEAP_ALIGN
 * aligned and @size at least PT_HEAP_MIN_SIZE. Returns the heap handle (at
 * @block), or NULL if the block is too small or misaligned. */
struct pt_heap *pt_heap_init(void *block, size_t size);

/* Returns @size bytes aligned to PT_HEAP_ALIGN, or NULL. */
void *pt_heap_alloc(struct pt_heap *heap, size_t size);

/* Returns @size bytes aligned to @align (a power of two), or NULL. Needs a
 * free chunk of @size + @align - 16 bytes; the gap before the aligned block
 * is returned to the heap. */
void *pt_heap_aligned_alloc(struct pt_heap *heap, size_t align, size_t size);

/* Returns @n * @size zeroed bytes, or NULL (also on overflow). */
void *pt_heap_calloc(struct pt_heap *heap, size_t n, size_t size);

/* Resizes @ptr, in place when it shrinks or the chunk after it is free and
 * big enough. NULL @ptr allocates; zero @size frees and returns NULL. On
 * failure returns NULL and @ptr is untouched (a refused @ptr counts as a
 * bad free). */
void *pt_heap_realloc(struct pt_heap *heap, void *ptr, size_t size);

/* Releases @ptr. Returns 0, or -EINVAL when @ptr was refused (not from this
 * heap, already free, header damaged); a refused free changes nothing but
 * the bad_frees (and damaged) counters. NULL returns 0. */
int pt_heap_free(struct pt_heap *heap, void *ptr);

/* Returns the usable size of a live allocation, or 0 if @ptr is not one. */
size_t pt_heap_usable_size(struct pt_heap *heap, const void *ptr);

/* Fills @stats. */
void pt_heap_stats(const struct pt_heap *heap, struct pt_heap_stats *stats);

/* Walks the whole heap (O(chunks)). Returns NULL when every invariant holds,
 * otherwise a static string saying what is wrong. */
const char *pt_heap_validate(const struct pt_heap *heap);

#ifdef __cplusplus
}
#endif

#endif /* PARTITA_HEAP_H */
