/* SPDX-License-Identifier: MIT */
/* lib/sof: spinlocks with nothing to exclude (one thread per instance, see
 * rtos/mutex.h). */
#ifndef PT_SOF_RTOS_SPINLOCK_H
#define PT_SOF_RTOS_SPINLOCK_H

struct k_spinlock {
	int held;
};

typedef int k_spinlock_key_t;

static inline void k_spinlock_init(struct k_spinlock *l)
{
	l->held = 0;
}

static inline k_spinlock_key_t k_spin_lock(struct k_spinlock *l)
{
	l->held++;
	return 0;
}

static inline void k_spin_unlock(struct k_spinlock *l, k_spinlock_key_t key)
{
	(void)key;
	l->held--;
}

#endif
