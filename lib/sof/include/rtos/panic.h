/* SPDX-License-Identifier: MIT */
/* lib/sof: a firmware assertion or panic ends the instance (in a domain,
 * the domain: the host sees the fault and contains it). */
#ifndef PT_SOF_RTOS_PANIC_H
#define PT_SOF_RTOS_PANIC_H

#include <assert.h>
#include <stdlib.h>

#define SOF_IPC_PANIC_ASSERT 0x0e
#define sof_panic(code) abort()
#define k_panic() abort()
#define k_oops() abort()
/* The firmware checks that cold code does not run from the LL thread;
 * Partita has no cold memory. */
#define assert_can_be_cold() do { } while (0)

#endif
