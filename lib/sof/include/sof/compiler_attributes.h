/* SPDX-License-Identifier: MIT */
/* lib/sof: the firmware's attribute names, for gcc on Linux. */
#ifndef PT_SOF_COMPILER_ATTRIBUTES_H
#define PT_SOF_COMPILER_ATTRIBUTES_H

#ifndef __packed
#define __packed __attribute__((packed))
#endif
#ifndef __aligned
#define __aligned(x) __attribute__((aligned(x)))
#endif
#ifndef __section
#define __section(x) __attribute__((section(x)))
#endif
#ifndef __unused
#define __unused __attribute__((unused))
#endif
#ifndef __must_check
#define __must_check __attribute__((warn_unused_result))
#endif
#ifndef __cold
#define __cold
#endif
#define __cold_rodata
#define __sparse_cache
#define __sparse_force
#ifndef __maybe_unused
#define __maybe_unused __attribute__((unused))
#endif
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#define SHARED_DATA
#define APP_TASK_DATA
#define APP_SYSUSER_BSS
#define APP_TASK_BSS

#endif
