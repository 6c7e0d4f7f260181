/* SPDX-License-Identifier: MIT */
/* bench/ - what the benchmarks share (bench/bench.h). */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "host/sched/sched.h"

int pt_bench_run(struct pt_sched *s, uint64_t periods, double *wall, char *err,
		 size_t errlen)
{
	double t0 = pt_bench_now_s();
	int ret = 0;

	while (pt_sched_periods(s) < periods && !ret)
		ret = pt_sched_period(s);
	*wall = pt_bench_now_s() - t0;
	if (ret)
		snprintf(err, errlen, "scheduler: %s", strerror(-ret));
	return ret;
}
