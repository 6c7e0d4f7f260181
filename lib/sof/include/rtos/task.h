/* SPDX-License-Identifier: MIT */
/*
 * lib/sof: the firmware's scheduler task, as a type only. Partita's own
 * scheduler runs a firmware module (LL in the host's pass or DP in its
 * domain); no firmware task is ever created for it.
 */
#ifndef PT_SOF_RTOS_TASK_H
#define PT_SOF_RTOS_TASK_H

#include <stdint.h>

#include <sof/list.h>

struct comp_dev;
struct schedule_data;
struct sof;
struct sof_uuid_entry;

enum task_state {
	SOF_TASK_STATE_INIT = 0,
	SOF_TASK_STATE_QUEUED,
	SOF_TASK_STATE_PENDING,
	SOF_TASK_STATE_RUNNING,
	SOF_TASK_STATE_PREEMPTED,
	SOF_TASK_STATE_COMPLETED,
	SOF_TASK_STATE_FREE,
	SOF_TASK_STATE_CANCEL,
	SOF_TASK_STATE_RESCHEDULE,
};

#define SOF_TASK_PRI_HIGH 0
#define SOF_TASK_PRI_MED 4
#define SOF_TASK_PRI_LOW 9
#define SOF_TASK_PRI_IDC SOF_TASK_PRI_LOW
#define SOF_TASK_PRI_IPC SOF_TASK_PRI_LOW

struct task_ops {
	enum task_state (*run)(void *data);
	void (*complete)(void *data);
	uint64_t (*get_deadline)(void *data);
};

struct task {
	uint64_t start;
	const struct sof_uuid_entry *uid;
	uint16_t type;
	uint16_t priority;
	uint16_t core;
	uint16_t flags;
	enum task_state state;
	void *data;
	struct list_item list;
	void *priv_data;
	struct task_ops ops;
	struct schedule_data *sch;
};

#endif
