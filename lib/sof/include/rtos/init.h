/* SPDX-License-Identifier: MIT */
/*
 * lib/sof: module registration. DECLARE_MODULE_ADAPTER (the firmware's
 * generic.h) already registers the driver from a constructor when the
 * library is loaded (the firmware's CONFIG_LIBRARY flavour), so
 * SOF_MODULE_INIT has nothing left to do.
 */
#ifndef PT_SOF_RTOS_INIT_H
#define PT_SOF_RTOS_INIT_H

#define SOF_MODULE_INIT(name, init)                                           \
	extern void init(void) __attribute__((unused))

#endif
