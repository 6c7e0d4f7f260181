/* SPDX-License-Identifier: MIT */
/*
 * lib/sof: the firmware configuration (its Kconfig choices) a firmware
 * module is built with on Partita: IPC4, one core, generic C code (no DSP
 * intrinsics), the host library flavour of the headers, every PCM format.
 * Included before anything else (-include), as the firmware's autoconf.h.
 */
#ifndef PT_SOF_ADAPTER_CONFIG_H
#define PT_SOF_ADAPTER_CONFIG_H

#define CONFIG_IPC_MAJOR_4 1
#define CONFIG_LIBRARY 1
#define CONFIG_CORE_COUNT 1
#define CONFIG_SOF_LOG_LEVEL 3
#define CONFIG_FORMAT_S16LE 1
#define CONFIG_FORMAT_S24LE 1
#define CONFIG_FORMAT_S32LE 1
#define CONFIG_FORMAT_FLOAT 1
#define CONFIG_MODULE_MAX_CONNECTIONS 8
#define CONFIG_COMP_BLOB 1
#define CONFIG_MAX_CORE_COUNT 1
#define CONFIG_HP_MEMORY_BANKS 1
#define CONFIG_LP_MEMORY_BANKS 0

#endif
