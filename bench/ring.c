/* SPDX-License-Identifier: MIT */
/*
 * bench/ring.c - `partita bench ring`: host to domain round trip over the
 * rings, against the machine's own floors, in one run.
 *
 * Each mode runs in a fresh process pair (fork; both sides map one memfd):
 *   spin_floor   raw shared-memory ping-pong, both sides spinning
 *   futex_floor  raw futex ping-pong: store, FUTEX_WAKE, FUTEX_WAIT, always
 *   ring_spin    one request and its completion through lib/ring, both
 *                sides allowed to spin (no syscalls expected)
 *   ring_sleep   the same with spin 0: every wait goes to sleep
 * Per mode: median and p99 round-trip time, ratio to the matching floor,
 * and futex syscalls per round trip, counted on both sides as they are
 * made (the ring's own stats counters for the ring modes).
 */
#include "bench/bench.h"
#include "lib/ring/ring.h"

#include <errno.h>
#include <stdalign.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RING_ENTRIES 64
#define WAIT_LIMIT_NS 5000000000ll
#define SPIN_FOREVER_NS 10000000000ull
#define SEGMENTS 5

enum mode { SPIN_FLOOR, FUTEX_FLOOR, RING_SPIN, RING_SLEEP, MODES };

static const char *const mode_names[MODES] = {
	"spin_floor", "futex_floor", "ring_spin", "ring_sleep"
};
/* the floor each mode is compared with */
static const enum mode mode_floor[MODES] = {
	SPIN_FLOOR, FUTEX_FLOOR, SPIN_FLOOR, FUTEX_FLOOR
};

/* Futex calls one side made, split at the end of the warm-up. */
struct side_count {
	uint64_t wakes, waits;        /* after the warm-up */
	uint64_t total;               /* all futex calls, warm-up included */
};

/* The page the two processes share besides the ring block. */
struct bench_shared {
	alignas(64) uint32_t ping; /* floors: host writes */
	alignas(64) uint32_t pong; /* floors: domain writes */
	alignas(64) struct side_count domain; /* the domain's counts */
};

struct result {
	bool ran;
	int64_t p50, p99;
	int64_t *samples; /* timed round trips of all segments */
	uint64_t rounds;  /* samples so far */
	struct side_count host, domain;
};

struct bench {
	uint64_t rounds, warmup;
	int cpu_host, cpu_domain; /* -1: not pinned */
	int fd;
	void *ring_block;
	size_t ring_size;
	struct bench_shared *sh;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

static long futex(uint32_t *word, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, word, op, val, ts, NULL, 0);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Host and domain on two different CPUs, the first two this process may
 * use, so that every mode measures a cross-CPU round trip (left to the
 * scheduler, the pair sometimes shares a CPU and a futex wake becomes a
 * cheap local switch, which makes runs incomparable). */
static void choose_cpus(struct bench *b, const cpu_set_t *allowed)
{
	b->cpu_host = b->cpu_domain = -1;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, allowed))
			continue;
		if (b->cpu_host < 0) {
			b->cpu_host = c;
		} else {
			b->cpu_domain = c;
			break;
		}
	}
	if (b->cpu_domain < 0)
		b->cpu_host = -1;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* ---- the domain side of each mode, in the child ---- */

static int domain_spin_floor(struct bench *b, uint64_t n)
{
	for (uint32_t i = 1; i <= n; i++) {
		while (pt_ring_load_acquire(&b->sh->ping) != i)
			cpu_relax();
		pt_ring_store_release(&b->sh->pong, i);
	}
	return 0;
}

static int domain_futex_floor(struct bench *b, uint64_t n)
{
	struct side_count *c = &b->sh->domain;
	struct timespec limit = { WAIT_LIMIT_NS / 1000000000, 0 };
	uint64_t total = 0;

	for (uint32_t i = 1; i <= n; i++) {
		while (pt_ring_load_acquire(&b->sh->ping) != i) {
			futex(&b->sh->ping, FUTEX_WAIT, i - 1, &limit);
			c->waits++;
		}
		pt_ring_store_release(&b->sh->pong, i);
		futex(&b->sh->pong, FUTEX_WAKE, 1, NULL);
		c->wakes++;
		if (i == b->warmup) {
			total = c->wakes + c->waits;
			c->wakes = c->waits = 0;
		}
	}
	c->total = total + c->wakes + c->waits;
	return 0;
}

static int domain_ring(struct bench *b, uint64_t n, uint64_t spin_ns)
{
	struct side_count *c = &b->sh->domain;
	struct pt_ring dom;
	struct pt_ring_entry req, *e;
	struct pt_ring_stats s, at_warmup = { 0 };

	if (pt_ring_attach(&dom, b->ring_block, b->ring_size, PT_RING_DOMAIN,
			   0))
		return 1;
	for (uint64_t i = 1; i <= n; i++) {
		if (pt_ring_wait(&dom, spin_ns, WAIT_LIMIT_NS) ||
		    pt_ring_peek(&dom, &req))
			return 1;
		e = pt_ring_get_entry(&dom);
		if (!e)
			return 1;
		e->opcode = req.opcode;
		e->tag = req.tag;
		e->result = 0;
		pt_ring_advance(&dom, 1);
		if (pt_ring_submit(&dom) != 1)
			return 1;
		if (i == b->warmup)
			pt_ring_stats(&dom, &at_warmup);
	}
	pt_ring_stats(&dom, &s);
	c->wakes = s.wakes - at_warmup.wakes;
	c->waits = s.waits - at_warmup.waits;
	c->total = s.wakes + s.waits;
	return 0;
}

/* ---- the host side, timing each round trip ---- */

static int host_spin_floor(struct bench *b, int64_t *rtt, uint64_t n)
{
	for (uint32_t i = 1; i <= n; i++) {
		int64_t t0 = now_ns();

		pt_ring_store_release(&b->sh->ping, i);
		while (pt_ring_load_acquire(&b->sh->pong) != i)
			cpu_relax();
		rtt[i - 1] = now_ns() - t0;
	}
	return 0;
}

static int host_futex_floor(struct bench *b, int64_t *rtt, uint64_t n,
			    struct side_count *c)
{
	struct timespec limit = { WAIT_LIMIT_NS / 1000000000, 0 };
	uint64_t total = 0;

	for (uint32_t i = 1; i <= n; i++) {
		int64_t t0 = now_ns();

		pt_ring_store_release(&b->sh->ping, i);
		futex(&b->sh->ping, FUTEX_WAKE, 1, NULL);
		c->wakes++;
		while (pt_ring_load_acquire(&b->sh->pong) != i) {
			if (futex(&b->sh->pong, FUTEX_WAIT, i - 1, &limit) &&
			    errno == ETIMEDOUT)
				return -ETIMEDOUT;
			c->waits++;
		}
		rtt[i - 1] = now_ns() - t0;
		if (i == b->warmup) {
			total = c->wakes + c->waits;
			c->wakes = c->waits = 0;
		}
	}
	c->total = total + c->wakes + c->waits;
	return 0;
}

static int host_ring(struct bench *b, int64_t *rtt, uint64_t n,
		     uint64_t spin_ns, struct side_count *c)
{
	struct pt_ring host;
	struct pt_ring_entry *e, got;
	struct pt_ring_stats s, at_warmup = { 0 };
	int rc;

	rc = pt_ring_attach(&host, b->ring_block, b->ring_size, PT_RING_HOST,
			    RING_ENTRIES);
	if (rc)
		return rc;
	for (uint64_t i = 1; i <= n; i++) {
		int64_t t0 = now_ns();

		e = pt_ring_get_entry(&host);
		if (!e)
			return -ENOSPC;
		e->opcode = 1;
		e->tag = i;
		if (pt_ring_submit(&host) != 1)
			return -EPROTO;
		rc = pt_ring_wait(&host, spin_ns, WAIT_LIMIT_NS);
		if (rc)
			return rc;
		rc = pt_ring_peek(&host, &got);
		if (rc)
			return rc;
		pt_ring_advance(&host, 1);
		rtt[i - 1] = now_ns() - t0;
		if (got.tag != i)
			return -EPROTO;
		if (i == b->warmup)
			pt_ring_stats(&host, &at_warmup);
	}
	pt_ring_stats(&host, &s);
	c->wakes = s.wakes - at_warmup.wakes;
	c->waits = s.waits - at_warmup.waits;
	c->total = s.wakes + s.waits;
	return 0;
}

/* Runs one segment of mode @m (a fresh process pair: warm-up, then
 * @rounds timed round trips) and adds its samples and counts to @res. */
static int run_mode(struct bench *b, enum mode m, uint64_t rounds,
		    struct result *res)
{
	uint64_t n = b->warmup + rounds;
	struct side_count host = { 0 };
	int64_t *rtt;
	pid_t pid;
	int rc = 0, status;

	memset(b->sh, 0, sizeof(*b->sh));
	if (m == RING_SPIN || m == RING_SLEEP) {
		rc = pt_ring_block_init(b->ring_block, b->ring_size,
					RING_ENTRIES);
		if (rc)
			return rc;
	}
	rtt = calloc(n, sizeof(*rtt));
	if (!rtt)
		return -ENOMEM;

	pid = fork();
	if (pid < 0) {
		rc = -errno;
		free(rtt);
		return rc;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pin(b->cpu_domain);
		switch (m) {
		case SPIN_FLOOR: rc = domain_spin_floor(b, n); break;
		case FUTEX_FLOOR: rc = domain_futex_floor(b, n); break;
		case RING_SPIN: rc = domain_ring(b, n, SPIN_FOREVER_NS); break;
		default: rc = domain_ring(b, n, 0); break;
		}
		_exit(rc ? 1 : 0);
	}

	switch (m) {
	case SPIN_FLOOR: rc = host_spin_floor(b, rtt, n); break;
	case FUTEX_FLOOR: rc = host_futex_floor(b, rtt, n, &host); break;
	case RING_SPIN:
		rc = host_ring(b, rtt, n, SPIN_FOREVER_NS, &host);
		break;
	default: rc = host_ring(b, rtt, n, 0, &host); break;
	}
	if (rc)
		kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		rc = rc ? rc : -ECHILD;
	if (rc == 0) {
		res->host.wakes += host.wakes;
		res->host.waits += host.waits;
		res->host.total += host.total;
		res->domain.wakes += b->sh->domain.wakes;
		res->domain.waits += b->sh->domain.waits;
		res->domain.total += b->sh->domain.total;
		memcpy(res->samples + res->rounds, rtt + b->warmup,
		       rounds * sizeof(*rtt));
		res->rounds += rounds;
	}
	free(rtt);
	return rc;
}

static void summarize(struct result *res)
{
	qsort(res->samples, res->rounds, sizeof(*res->samples), cmp_i64);
	res->p50 = res->samples[res->rounds / 2];
	res->p99 = res->samples[(res->rounds * 99) / 100];
	res->ran = true;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: partita bench ring [--rounds N] [--json] [--no-pin] "
		   "[--mode spin_floor|futex_floor|ring_spin|ring_sleep]\n");
}

static double per_rtt(const struct result *r, uint64_t calls)
{
	return r->rounds ? (double)calls / (double)r->rounds : 0.0;
}

int pt_bench_ring(int argc, char **argv)
{
	struct bench b = { .rounds = 20000, .fd = -1 };
	cpu_set_t allowed;
	bool pinning = true;
	struct result res[MODES] = { 0 };
	bool json = false, want[MODES] = { true, true, true, true };
	size_t shared_size, page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *map;
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			json = true;
		} else if (strcmp(a, "--rounds") == 0 && i + 1 < argc) {
			char *end;

			b.rounds = strtoull(argv[++i], &end, 10);
			if (*end || b.rounds < 100 || b.rounds > 100000000) {
				fprintf(stderr, "bench ring: --rounds must be "
						"100..100000000, got %s\n",
					argv[i]);
				return 2;
			}
		} else if (strcmp(a, "--mode") == 0 && i + 1 < argc) {
			int m;

			for (m = 0; m < MODES; m++)
				if (strcmp(argv[i + 1], mode_names[m]) == 0)
					break;
			if (m == MODES) {
				fprintf(stderr, "bench ring: unknown mode "
						"'%s'\n",
					argv[i + 1]);
				usage(stderr);
				return 2;
			}
			memset(want, 0, sizeof(want));
			want[m] = true;
			i++;
		} else if (strcmp(a, "--no-pin") == 0) {
			pinning = false;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (a[0] != '-' && i == 0) {
			continue; /* the command's own name */
		} else {
			fprintf(stderr, "bench ring: unknown argument '%s'\n",
				a);
			usage(stderr);
			return 2;
		}
	}
	b.warmup = b.rounds / SEGMENTS / 10 < 100 ? 100
						      : b.rounds / SEGMENTS / 10;

	b.ring_size = pt_ring_block_size(RING_ENTRIES);
	shared_size = (sizeof(struct bench_shared) + page - 1) / page * page;
	b.fd = memfd_create("partita-bench-ring", MFD_CLOEXEC);
	if (b.fd < 0 || ftruncate(b.fd, (off_t)(b.ring_size + shared_size))) {
		perror("bench ring: memfd");
		return 1;
	}
	map = mmap(NULL, b.ring_size + shared_size, PROT_READ | PROT_WRITE,
		   MAP_SHARED, b.fd, 0);
	if (map == MAP_FAILED) {
		perror("bench ring: mmap");
		close(b.fd);
		return 1;
	}
	b.ring_block = map;
	b.sh = (struct bench_shared *)(map + b.ring_size);
	b.cpu_host = b.cpu_domain = -1;
	if (pinning && sched_getaffinity(0, sizeof(allowed), &allowed) == 0)
		choose_cpus(&b, &allowed);
	pin(b.cpu_host);

	/* The modes take turns, SEGMENTS times over, so that a change in
	 * machine load during the run falls on floors and rings alike. */
	for (int m = 0; m < MODES; m++) {
		if (want[m] && !(res[m].samples = calloc(b.rounds,
							 sizeof(int64_t))))
			rc = -ENOMEM;
	}
	for (int seg = 0; seg < SEGMENTS && rc == 0; seg++) {
		uint64_t n = b.rounds / SEGMENTS +
			     (seg == SEGMENTS - 1 ? b.rounds % SEGMENTS : 0);

		for (int m = 0; m < MODES && rc == 0; m++) {
			if (!want[m])
				continue;
			rc = run_mode(&b, (enum mode)m, n, &res[m]);
			if (rc)
				fprintf(stderr, "bench ring: %s failed: %s\n",
					mode_names[m], strerror(-rc));
		}
	}
	for (int m = 0; m < MODES && rc == 0; m++)
		if (want[m])
			summarize(&res[m]);
	if (b.cpu_host >= 0)
		sched_setaffinity(0, sizeof(allowed), &allowed);
	munmap(map, b.ring_size + shared_size);
	close(b.fd);
	if (rc) {
		for (int m = 0; m < MODES; m++)
			free(res[m].samples);
		return 1;
	}

	if (json)
		printf("{\"rows\": [");
	else if (b.cpu_host >= 0)
		printf("host on cpu %d, domain on cpu %d\n", b.cpu_host,
		       b.cpu_domain);
	else
		printf("host and domain not pinned\n");
	if (!json)
		printf("ring round trip: process pair, one memfd, %" PRIu64
		       " rounds in %d turns (+%" PRIu64 " warm-up each), "
		       "%u-entry ring\n"
		       "%-12s %10s %10s %9s %9s %13s %11s  %s\n",
		       b.rounds, SEGMENTS, b.warmup, RING_ENTRIES, "mode",
		       "p50 ns",
		       "p99 ns", "x p50", "x p99", "syscalls/rtt",
		       "wakes/sig", "floor");
	for (int m = 0, first = 1; m < MODES; m++) {
		const struct result *r = &res[m], *f = &res[mode_floor[m]];
		double sys = per_rtt(r, r->host.wakes + r->host.waits +
					       r->domain.wakes +
					       r->domain.waits);
		/* two signalling events per round trip: request, reply */
		double wakes_sig = per_rtt(r, r->host.wakes + r->domain.wakes) /
				   2.0;
		double x50 = f->ran && f->p50 ? (double)r->p50 / (double)f->p50
					      : 0.0;
		double x99 = f->ran && f->p99 ? (double)r->p99 / (double)f->p99
					      : 0.0;

		if (!r->ran)
			continue;
		if (json) {
			printf("%s\n  {\"mode\": \"%s\", \"rounds\": %" PRIu64
			       ", \"rtt_ns_p50\": %" PRId64
			       ", \"rtt_ns_p99\": %" PRId64
			       ", \"syscalls_per_rtt\": %.3f"
			       ", \"wakes_per_signal\": %.3f"
			       ", \"floor\": \"%s\", \"pinned\": %s",
			       first ? "" : ",", mode_names[m], r->rounds,
			       r->p50, r->p99, sys, wakes_sig,
			       mode_names[mode_floor[m]],
			       b.cpu_host >= 0 ? "true" : "false");
			if (f->ran)
				printf(", \"ratio_p50\": %.3f, "
				       "\"ratio_p99\": %.3f",
				       x50, x99);
			printf(", \"host_wakes_per_rtt\": %.3f"
			       ", \"host_waits_per_rtt\": %.3f"
			       ", \"domain_wakes_per_rtt\": %.3f"
			       ", \"domain_waits_per_rtt\": %.3f"
			       ", \"futex_calls_total\": %" PRIu64 "}",
			       per_rtt(r, r->host.wakes),
			       per_rtt(r, r->host.waits),
			       per_rtt(r, r->domain.wakes),
			       per_rtt(r, r->domain.waits),
			       r->host.total + r->domain.total);
		} else {
			printf("%-12s %10" PRId64 " %10" PRId64, mode_names[m],
			       r->p50, r->p99);
			if (f->ran)
				printf(" %9.2f %9.2f", x50, x99);
			else
				printf(" %9s %9s", "-", "-");
			printf(" %13.3f %11.3f  %s\n", sys, wakes_sig,
			       mode_names[mode_floor[m]]);
		}
		first = 0;
	}
	if (json)
		printf("\n]}\n");
	fflush(stdout);
	for (int m = 0; m < MODES; m++)
		free(res[m].samples);
	return 0;
}
