/* SPDX-License-Identifier: MIT */
/* lib/sof: the host mailbox windows of a DSP. A module on Partita talks to
 * no host driver; the windows are a small array of the adapter's own, so a
 * stray write lands in the instance's own memory. */
#ifndef PT_SOF_PLATFORM_LIB_MAILBOX_H
#define PT_SOF_PLATFORM_LIB_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#define PT_SOF_MAILBOX_WINDOW 4096
extern uint8_t pt_sof_mailbox[6 * PT_SOF_MAILBOX_WINDOW];

#define MAILBOX_BASE ((uintptr_t)pt_sof_mailbox)
#define MAILBOX_EXCEPTION_BASE (MAILBOX_BASE + 0 * PT_SOF_MAILBOX_WINDOW)
#define MAILBOX_EXCEPTION_SIZE PT_SOF_MAILBOX_WINDOW
#define MAILBOX_DSPBOX_BASE (MAILBOX_BASE + 1 * PT_SOF_MAILBOX_WINDOW)
#define MAILBOX_DSPBOX_SIZE PT_SOF_MAILBOX_WINDOW
#define MAILBOX_HOSTBOX_BASE (MAILBOX_BASE + 2 * PT_SOF_MAILBOX_WINDOW)
#define MAILBOX_HOSTBOX_SIZE PT_SOF_MAILBOX_WINDOW
#define MAILBOX_DEBUG_BASE (MAILBOX_BASE + 3 * PT_SOF_MAILBOX_WINDOW)
#define MAILBOX_DEBUG_SIZE PT_SOF_MAILBOX_WINDOW
#define MAILBOX_STREAM_BASE (MAILBOX_BASE + 4 * PT_SOF_MAILBOX_WINDOW)
#define MAILBOX_STREAM_SIZE PT_SOF_MAILBOX_WINDOW
#define MAILBOX_TRACE_BASE (MAILBOX_BASE + 5 * PT_SOF_MAILBOX_WINDOW)
#define MAILBOX_TRACE_SIZE PT_SOF_MAILBOX_WINDOW

#define MAILBOX_SW_REG_BASE MAILBOX_DEBUG_BASE
#define MAILBOX_SW_REG_SIZE MAILBOX_DEBUG_SIZE

/* A module's registers for the host driver (peak meters): kept in the
 * window, read by no one. */
static inline void mailbox_sw_regs_write(size_t offset, const void *src, size_t bytes)
{
	if (offset <= MAILBOX_SW_REG_SIZE && bytes <= MAILBOX_SW_REG_SIZE - offset)
		__builtin_memcpy((void *)(MAILBOX_SW_REG_BASE + offset), src, bytes);
}

#endif
