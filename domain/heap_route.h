/* SPDX-License-Identifier: MIT */
/*
 * domain/heap_route - malloc inside a domain.
 *
 * partita-domain defines malloc and its family, so every allocation in the
 * process (libc, the dynamic loader, the module and the libraries it pulls
 * in) comes from a pt_heap: the current instance's private heap while that
 * instance's code runs (constructors, callbacks), else a small static
 * bootstrap heap that the loader and the request loop use. A free goes back
 * to whichever registered heap holds the pointer. Nothing here can grow the
 * process: when a heap is full, malloc returns NULL.
 */
#ifndef PT_DOMAIN_HEAP_ROUTE_H
#define PT_DOMAIN_HEAP_ROUTE_H

#include <stddef.h>

struct pt_heap;

/* Makes [@block, +@size) a registered heap and returns it, or NULL. */
struct pt_heap *pt_route_add(void *block, size_t size);

/* Forgets the heap at @block; frees into it are ignored from now on. */
void pt_route_remove(struct pt_heap *heap);

/* Routes malloc to @heap (NULL: the bootstrap heap); returns the previous. */
struct pt_heap *pt_route_enter(struct pt_heap *heap);

/* Bytes in use in @heap. */
size_t pt_route_used(struct pt_heap *heap);

#endif
