/* SPDX-License-Identifier: MIT */
/* `partita bench ring` without the rest of partita: the ring_bench test runs
 * it (under strace for the syscall cross-check). */
#include "bench/bench.h"

int main(int argc, char **argv)
{
	return pt_bench_ring(argc - 1, argv + 1);
}
