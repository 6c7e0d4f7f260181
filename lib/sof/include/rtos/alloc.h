/* SPDX-License-Identifier: MIT */
/*
 * lib/sof: the firmware's allocators on Partita. Every allocation a
 * firmware module makes (rmalloc, rzalloc, rballoc, sof_heap_alloc, its
 * mod_alloc) comes from the private heap of the instance being called
 * (pt_mod_alloc): the adapter names that instance before every call into
 * module code. Flags (user, coherent, DMA, large buffer) have no meaning on
 * a host and are ignored. Outside a call there is no instance: NULL.
 */
#ifndef PT_SOF_RTOS_ALLOC_H
#define PT_SOF_RTOS_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include <rtos/bit.h>

#define SOF_MEM_FLAG_KERNEL BIT(0)
#define SOF_MEM_FLAG_USER BIT(1)
#define SOF_MEM_FLAG_SHARED BIT(2)
#define SOF_MEM_FLAG_NO_COPY BIT(3)
#define SOF_MEM_FLAG_DMA BIT(4)
#define SOF_MEM_FLAG_L3 BIT(5)
#define SOF_MEM_FLAG_LOW_POWER BIT(6)
#define SOF_MEM_FLAG_COHERENT BIT(7)
#define SOF_MEM_FLAG_USER_SHARED_BUFFER BIT(8)
#define SOF_MEM_FLAG_LARGE_BUFFER BIT(9)

struct k_heap;

void *rmalloc(uint32_t flags, size_t bytes);
void *rzalloc(uint32_t flags, size_t bytes);
void *rballoc_align(uint32_t flags, size_t bytes, uint32_t alignment);
void *rbrealloc_align(void *ptr, uint32_t flags, size_t bytes, size_t old_bytes,
		      uint32_t alignment);
void rfree(void *ptr);

static inline void *rballoc(uint32_t flags, size_t bytes)
{
	return rballoc_align(flags, bytes, 8);
}

static inline void *rbrealloc(void *ptr, uint32_t flags, size_t bytes,
			      size_t old_bytes)
{
	return rbrealloc_align(ptr, flags, bytes, old_bytes, 8);
}

void *sof_heap_alloc(struct k_heap *heap, uint32_t flags, size_t bytes,
		     size_t alignment);
void sof_heap_free(struct k_heap *heap, void *ptr);
struct k_heap *sof_sys_heap_get(void);
struct k_heap *sof_sys_user_heap_get(void);

/* Where a buffer's memory comes from: on Partita, the instance's heap
 * whatever the context says. */
struct vregion;
struct mod_alloc_ctx {
	struct k_heap *heap;
	struct vregion *vreg;
};

static inline void *sof_ctx_alloc(struct mod_alloc_ctx *ctx, uint32_t flags,
				  size_t bytes, size_t alignment)
{
	return sof_heap_alloc(ctx ? ctx->heap : NULL, flags, bytes, alignment);
}

static inline void sof_ctx_free(struct mod_alloc_ctx *ctx, void *ptr)
{
	sof_heap_free(ctx ? ctx->heap : NULL, ptr);
}

#endif
