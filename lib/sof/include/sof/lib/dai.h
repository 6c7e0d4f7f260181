/* SPDX-License-Identifier: MIT */
/* lib/sof: a module on Partita drives no DAI (the host's endpoints move
 * the audio); the types appear only behind pointers in the firmware's
 * component driver ops. */
#ifndef PT_SOF_LIB_DAI_H
#define PT_SOF_LIB_DAI_H

struct dai;
struct dai_data;
struct dai_config;
struct dai_hw_params;
struct dai_ts_data;
struct ipc_config_dai;

#endif
