/* SPDX-License-Identifier: MIT */
/* lib/sof: the platform a firmware module sees on Partita. Channels follow
 * Partita's own limit; the rest are the firmware's usual host values. */
#ifndef PT_SOF_PLATFORM_PLATFORM_H
#define PT_SOF_PLATFORM_PLATFORM_H

#include <partita/module.h>

#define PLATFORM_MAX_CHANNELS PT_CHANNELS_MAX
#define PLATFORM_MAX_STREAMS 16
#define PLATFORM_CORE_COUNT 1
#define PLATFORM_DEFAULT_CLOCK 0
#define PLATFORM_INLINE static inline

#endif
