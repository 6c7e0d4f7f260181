/* SPDX-License-Identifier: MIT */
/* lib/sof: messages between DSP cores. A module on Partita has one core:
 * there is never another core to send to. */
#ifndef PT_SOF_RTOS_IDC_H
#define PT_SOF_RTOS_IDC_H

#include <errno.h>
#include <stdint.h>

#define IDC_BLOCKING 0
#define IDC_NON_BLOCKING 1
#define IDC_POWER_UP 2
#define IDC_POWER_DOWN 3

#define IDC_MSG_BIND 1
#define IDC_MSG_UNBIND 2
#define IDC_MSG_GET_ATTRIBUTE 3
#define IDC_MSG_PARAMS 4
#define IDC_MSG_PREPARE 5
#define IDC_MSG_TRIGGER 6
#define IDC_MSG_RESET 7
#define IDC_EXTENSION(x) (x)
#define IDC_MSG_PARAMS_EXT(x) IDC_EXTENSION(x)
#define IDC_MSG_PREPARE_EXT(x) IDC_EXTENSION(x)
#define IDC_MSG_TRIGGER_EXT(x) IDC_EXTENSION(x)
#define IDC_MSG_RESET_EXT(x) IDC_EXTENSION(x)

struct idc_msg {
	uint32_t header;
	uint32_t extension;
	uint32_t core;
	uint32_t size;
	void *payload;
};

static inline int idc_send_msg(struct idc_msg *msg, uint32_t mode)
{
	(void)msg;
	(void)mode;
	return -ENODEV;
}

#endif
