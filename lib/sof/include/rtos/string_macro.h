/* SPDX-License-Identifier: MIT */
/* lib/sof: token pasting and stringizing, as the firmware names them. */
#ifndef PT_SOF_RTOS_STRING_MACRO_H
#define PT_SOF_RTOS_STRING_MACRO_H

#define _STRINGIFY(x) #x
#define STRINGIFY(x) _STRINGIFY(x)
#define _CONCAT_(x, y) x##y
#define _CONCAT(x, y) _CONCAT_(x, y)

#endif
