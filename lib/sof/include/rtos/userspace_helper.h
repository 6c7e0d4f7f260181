/* SPDX-License-Identifier: MIT */
/* lib/sof: the firmware's userspace helpers. On Partita the isolation is
 * the domain a module instance runs in, not a Zephyr user thread. */
#ifndef PT_SOF_RTOS_USERSPACE_HELPER_H
#define PT_SOF_RTOS_USERSPACE_HELPER_H
#endif
