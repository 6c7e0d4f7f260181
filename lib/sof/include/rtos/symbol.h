/* SPDX-License-Identifier: MIT */
/* lib/sof: the firmware exports symbols to its loadable modules; on
 * Partita a module and the adapter are linked into one library. */
#ifndef PT_SOF_RTOS_SYMBOL_H
#define PT_SOF_RTOS_SYMBOL_H

#define EXPORT_SYMBOL(x)

#endif
