/* SPDX-License-Identifier: MIT */
/* lib/sof: the platform's memory constants, for a host. */
#ifndef PT_SOF_LIB_MEMORY_H
#define PT_SOF_LIB_MEMORY_H

#include <rtos/cache.h>

#define SHARED_DATA
#define PLATFORM_HEAP_SYSTEM 1
#define PLATFORM_HEAP_SYSTEM_RUNTIME 1
#define PLATFORM_HEAP_RUNTIME 1
#define PLATFORM_HEAP_BUFFER 2
#define HEAP_BUFFER_SIZE (1024 * 1024)

#endif
