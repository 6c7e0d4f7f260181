/* SPDX-License-Identifier: MIT */
/*
 * host/sched/rt - real-time scheduling for the threads that run periods.
 *
 * The host's period thread (and the scheduler's DP workers) run at
 * SCHED_FIFO where the process is permitted: as root (CAP_SYS_NICE) or up
 * to RLIMIT_RTPRIO. Where it is not, the thread stays in the ordinary class
 * and one warning says so. RTKit (asking a D-Bus service for the priority)
 * is not used. Domains get their priority at spawn (host/domain) and are
 * bounded by RLIMIT_RTTIME there.
 */
#ifndef PT_HOST_SCHED_RT_H
#define PT_HOST_SCHED_RT_H

#include <stdbool.h>

/* The host's default SCHED_FIFO priority of its period thread; domains run
 * one below it. */
#define PT_RT_PRIORITY_DEFAULT 70
#define PT_RT_PRIORITY_MAX 98

/* Puts the calling thread at SCHED_FIFO @priority (1..PT_RT_PRIORITY_MAX),
 * or as high as RLIMIT_RTPRIO allows. Returns the priority it got, or 0
 * when real time is not permitted (one warning on stderr per process,
 * naming @who). */
int pt_rt_enter(int priority, const char *who);

/* The CPU in-period chains (and the period thread) run on: the one the
 * calling thread runs on now, so that hosts started side by side spread
 * over the CPUs; -1 on a single CPU. */
int pt_rt_chain_cpu(void);

/* Pins the calling thread to @cpu (nothing for -1). */
void pt_rt_pin(int cpu);

/* Locks the host's memory (mlockall: current and future mappings, which
 * also populates them) where permitted, so no page fault happens in a
 * period. Returns 0 or -errno (quietly: the host runs unlocked). */
int pt_rt_lock_memory(void);

#endif
