/* SPDX-License-Identifier: MIT */
/* lib/sof: a module instance runs on one core: core 0, the primary. */
#ifndef PT_SOF_LIB_CPU_H
#define PT_SOF_LIB_CPU_H

#include <stdbool.h>

#define PLATFORM_PRIMARY_CORE_ID 0

static inline int cpu_get_id(void)
{
	return 0;
}

static inline bool cpu_is_primary(int id)
{
	return id == PLATFORM_PRIMARY_CORE_ID;
}

static inline bool cpu_is_me(int id)
{
	return id == cpu_get_id();
}

#endif
