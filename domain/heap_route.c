/* SPDX-License-Identifier: MIT */
#include "domain/heap_route.h"

#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <partita/heap.h>

/* Enough for the dynamic loader's bookkeeping of a few libraries and libc's
 * own start-up allocations. Only touched pages cost memory. */
#define BOOT_HEAP_SIZE (512u * 1024u)

#define MAX_HEAPS 24

struct route {
	uintptr_t begin, end;
	struct pt_heap *heap;
};

static alignas(64) uint8_t boot_block[BOOT_HEAP_SIZE];
static struct pt_heap *boot_heap;
static struct pt_heap *current;
static struct route routes[MAX_HEAPS];

/* The domain is single-threaded (seccomp forbids new threads), so none of
 * this state needs a lock. */

static struct pt_heap *boot(void)
{
	if (!boot_heap)
		boot_heap = pt_heap_init(boot_block, sizeof(boot_block));
	return boot_heap;
}

static struct pt_heap *active(void)
{
	return current ? current : boot();
}

/* Returns the registered heap that holds @p, or NULL. */
static struct pt_heap *owner(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	if (a >= (uintptr_t)boot_block && a < (uintptr_t)boot_block + sizeof(boot_block))
		return boot();
	for (unsigned i = 0; i < MAX_HEAPS; i++)
		if (routes[i].heap && a >= routes[i].begin && a < routes[i].end)
			return routes[i].heap;
	return NULL;
}

struct pt_heap *pt_route_add(void *block, size_t size)
{
	for (unsigned i = 0; i < MAX_HEAPS; i++) {
		if (routes[i].heap)
			continue;
		routes[i].heap = pt_heap_init(block, size);
		if (!routes[i].heap)
			return NULL;
		routes[i].begin = (uintptr_t)block;
		routes[i].end = (uintptr_t)block + size;
		return routes[i].heap;
	}
	return NULL;
}

void pt_route_remove(struct pt_heap *heap)
{
	for (unsigned i = 0; i < MAX_HEAPS; i++)
		if (routes[i].heap == heap)
			routes[i] = (struct route){ 0 };
	if (current == heap)
		current = NULL;
}

struct pt_heap *pt_route_enter(struct pt_heap *heap)
{
	struct pt_heap *prev = current;

	current = heap;
	return prev;
}

size_t pt_route_used(struct pt_heap *heap)
{
	struct pt_heap_stats st;

	pt_heap_stats(heap, &st);
	return st.allocated;
}

/* The first allocation an instance's heap refuses is logged (once per
 * heap): a library that crashes on a NULL malloc (lilv does) then dies
 * with the reason as its last words, and the host's error names it. */
static void exhausted(struct pt_heap *h, size_t size)
{
	static struct pt_heap *told;
	char line[160];
	int n;

	if (!h || h == boot_heap || h == told)
		return;
	told = h;
	for (unsigned i = 0; i < MAX_HEAPS; i++)
		if (routes[i].heap == h) {
			n = snprintf(line, sizeof(line),
				     "private heap of %zu KiB exhausted (an allocation of %zu bytes failed): "
				     "give the instance a larger heap_size\n",
				     (size_t)(routes[i].end - routes[i].begin) / 1024, size);
			if (n > 0)
				(void)!write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
		}
}

/* ---- the malloc family, exported so that every library in the process
 * (libc and the dynamic loader included) binds to these ---- */

#define EXPORT __attribute__((visibility("default")))

EXPORT void *malloc(size_t size)
{
	void *p = pt_heap_alloc(active(), size ? size : 1);

	if (!p) {
		exhausted(current, size);
		errno = ENOMEM;
	}
	return p;
}

EXPORT void free(void *ptr)
{
	struct pt_heap *h;

	if (!ptr)
		return;
	/* A pointer no heap of ours holds (the loader's own start-up memory)
	 * is left alone rather than trusted. */
	h = owner(ptr);
	if (h)
		pt_heap_free(h, ptr);
}

EXPORT void *calloc(size_t n, size_t size)
{
	void *p = pt_heap_calloc(active(), n, size ? size : 1);

	if (!p) {
		exhausted(current, n * size);
		errno = ENOMEM;
	}
	return p;
}

EXPORT void *realloc(void *ptr, size_t size)
{
	struct pt_heap *h;
	void *p;

	if (!ptr)
		return malloc(size);
	if (!size) {
		free(ptr);
		return NULL;
	}
	h = owner(ptr);
	if (!h) {
		errno = EINVAL;
		return NULL;
	}
	p = pt_heap_realloc(h, ptr, size);
	if (!p) {
		exhausted(h, size);
		errno = ENOMEM;
	}
	return p;
}

EXPORT void *reallocarray(void *ptr, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(ptr, total);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = pt_heap_aligned_alloc(active(), align, size ? size : 1);
	if (!p) {
		exhausted(current, size);
		return ENOMEM;
	}
	*out = p;
	return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t size)
{
	void *p;

	if (!align || (align & (align - 1))) {
		errno = EINVAL;
		return NULL;
	}
	p = pt_heap_aligned_alloc(active(), align, size ? size : 1);
	if (!p) {
		exhausted(current, size);
		errno = ENOMEM;
	}
	return p;
}

EXPORT void *memalign(size_t align, size_t size)
{
	return aligned_alloc(align, size);
}

EXPORT void *valloc(size_t size)
{
	return aligned_alloc((size_t)sysconf(_SC_PAGESIZE), size);
}

EXPORT void *pvalloc(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return aligned_alloc(page, (size + page - 1) / page * page);
}

EXPORT size_t malloc_usable_size(void *ptr)
{
	struct pt_heap *h = ptr ? owner(ptr) : NULL;

	return h ? pt_heap_usable_size(h, ptr) : 0;
}
