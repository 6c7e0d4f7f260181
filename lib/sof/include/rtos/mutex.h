/* SPDX-License-Identifier: MIT */
/*
 * lib/sof: the firmware's mutex on Partita. A module instance is only ever
 * called from one thread at a time (the host's graph thread, or its
 * domain's one request loop), so the locks have nothing to exclude.
 */
#ifndef PT_SOF_RTOS_MUTEX_H
#define PT_SOF_RTOS_MUTEX_H

#include <stdint.h>

#define K_FOREVER ((k_timeout_t){ -1 })
#define K_NO_WAIT ((k_timeout_t){ 0 })

typedef struct { int64_t ticks; } k_timeout_t;

struct k_mutex {
	int locked;
};

struct sys_mutex {
	int locked;
};

static inline int k_mutex_init(struct k_mutex *m)
{
	m->locked = 0;
	return 0;
}

static inline int k_mutex_lock(struct k_mutex *m, k_timeout_t t)
{
	(void)t;
	m->locked++;
	return 0;
}

static inline int k_mutex_unlock(struct k_mutex *m)
{
	m->locked--;
	return 0;
}

#endif
