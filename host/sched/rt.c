/* SPDX-License-Identifier: MIT */
/* Real-time scheduling of the host's period thread (see rt.h). */
#include "host/sched/rt.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static atomic_bool warned;

int pt_rt_enter(int priority, const char *who)
{
	struct sched_param sp = { .sched_priority = priority };
	struct rlimit rl;
	int ret;

	if (priority < 1)
		return 0;
	if (priority > PT_RT_PRIORITY_MAX)
		priority = sp.sched_priority = PT_RT_PRIORITY_MAX;
	ret = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	/* Unprivileged, RLIMIT_RTPRIO is the ceiling. */
	if (ret == EPERM && !getrlimit(RLIMIT_RTPRIO, &rl) && rl.rlim_cur > 0 &&
	    rl.rlim_cur < (rlim_t)priority) {
		sp.sched_priority = (int)rl.rlim_cur;
		ret = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	if (ret) {
		if (!atomic_exchange(&warned, true))
			fprintf(stderr,
				"partita: %s: real-time priority %d not permitted (%s): running in the ordinary class\n",
				who, priority, strerror(ret));
		return 0;
	}
	return sp.sched_priority;
}

int pt_rt_chain_cpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int cpu = sched_getcpu();

	if (n < 2 || cpu < 0 || cpu >= CPU_SETSIZE)
		return -1;
	return cpu;
}

void pt_rt_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int pt_rt_lock_memory(void)
{
	return mlockall(MCL_CURRENT | MCL_FUTURE) ? -errno : 0;
}
