/* SPDX-License-Identifier: MIT */
/* lib/sof: the compiler a module was built with, as the firmware reports
 * it in its version information. */
#ifndef PT_SOF_COMPILER_INFO_H
#define PT_SOF_COMPILER_INFO_H

#define CC_MAJOR __GNUC__
#define CC_MINOR __GNUC_MINOR__
#define CC_MICRO __GNUC_PATCHLEVEL__
#define CC_NAME "GCC"
#define CC_DESC ""

#endif
