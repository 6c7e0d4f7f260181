/* SPDX-License-Identifier: MIT */
/*
 * partita/heap.h - pt_heap, a region allocator that works in any block.
 *
 * The heap keeps all of its metadata inside the block it is given, so a
 * module's private heap partition is self-contained. The bounds it keeps are
 * stated here and checked by the tests (see lib/heap for the layout).
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

struct pt_heap_stats {
	size_t capacity;       /* bytes that can ever be handed out */
	size_t allocated;      /* bytes handed out now (usable sizes) */
	size_t peak_allocated; /* highest value of allocated */
	size_t peak_request;   /* largest size ever asked for */
	uint64_t allocations;  /* successful allocations */
	uint64_t failures;     /* allocations that returned NULL */
	uint64_t bad_frees;    /* frees/reallocs refused: double free, foreign
				  pointer, damaged header */
};

/* Sets up a heap in [block, block + size). @block must be PT_HEAP_ALIGN
 * aligned. Returns the heap handle (at @block), or NULL if the block is too
 * small or misaligned. */
struct pt_heap *pt_heap_init(void *block, size_t size);

/* Returns @size bytes aligned to PT_HEAP_ALIGN, or NULL. */
void *pt_heap_alloc(struct pt_heap *heap, size_t size);

/* Returns @size bytes aligned to @align (a power of two), or NULL. */
void *pt_heap_aligned_alloc(struct pt_heap *heap, size_t align, size_t size);

/* Returns @n * @size zeroed bytes, or NULL (also on overflow). */
void *pt_heap_calloc(struct pt_heap *heap, size_t n, size_t size);

/* Resizes @ptr, in place when it can. NULL @ptr allocates; zero @size frees
 * and returns NULL. On failure returns NULL and @ptr is untouched. */
void *pt_heap_realloc(struct pt_heap *heap, void *ptr, size_t size);

/* Releases @ptr. Returns 0, or -EINVAL when @ptr was refused (not from this
 * heap, already free, header damaged); a refused free changes nothing but
 * the bad_frees counter. NULL returns 0. */
int pt_heap_free(struct pt_heap *heap, void *ptr);

/* Returns the usable size of a live allocation, or 0 if @ptr is not one. */
size_t pt_heap_usable_size(struct pt_heap *heap, const void *ptr);

/* Fills @stats. */
void pt_heap_stats(const struct pt_heap *heap, struct pt_heap_stats *stats);

/* Walks the whole heap. Returns NULL when every invariant holds, otherwise
 * a static string saying what is wrong. */
const char *pt_heap_validate(const struct pt_heap *heap);

#ifdef __cplusplus
}
#endif

#endif /* PARTITA_HEAP_H */
