/* SPDX-License-Identifier: MIT */
/*
 * lib/sof: the firmware's trace macros with its dictionary logger off
 * (no CONFIG_TRACE): a line's arguments are still evaluated for their
 * types, nothing is printed. The firmware's trace levels only exist in its
 * Zephyr logging build, so on Partita a module's failures surface through
 * the return codes the adapter reports (pt_log names the callback).
 */
#ifndef PT_SOF_TRACE_PREPROC_H
#define PT_SOF_TRACE_PREPROC_H

static inline void pt_sof_trace_unused(int unused, ...)
{
	(void)unused;
}

#define SOF_TRACE_UNUSED(ctx, id_1, id_2, ...)                                 \
	do {                                                                   \
		if (0)                                                         \
			pt_sof_trace_unused(0, ctx, id_1, id_2, ##__VA_ARGS__); \
	} while (0)

#define META_COUNT_VARAGS_BEFORE_COMPILE(...) 0

#endif
