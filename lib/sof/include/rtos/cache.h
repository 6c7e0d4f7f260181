/* SPDX-License-Identifier: MIT */
/* lib/sof: a host CPU's caches are coherent: nothing to write back or
 * invalidate, and no uncached alias. */
#ifndef PT_SOF_RTOS_CACHE_H
#define PT_SOF_RTOS_CACHE_H

#include <stddef.h>

#define DCACHE_LINE_SIZE 64
#define PLATFORM_DCACHE_ALIGN DCACHE_LINE_SIZE

static inline void dcache_writeback_region(void *addr, size_t size)
{
	(void)addr;
	(void)size;
}

static inline void dcache_invalidate_region(void *addr, size_t size)
{
	(void)addr;
	(void)size;
}

static inline void dcache_writeback_invalidate_region(void *addr, size_t size)
{
	(void)addr;
	(void)size;
}

#define cache_to_uncache(addr) (addr)
#define uncache_to_cache(addr) (addr)
#define is_uncached(addr) 0

#endif
