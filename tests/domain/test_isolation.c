/* SPDX-License-Identifier: MIT */
/*
 * tests/domain/test_isolation - hostile modules try to break out of their
 * domains and are stopped; the host and the other domains keep running.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/domain/domain.h"
#include "tests/domain/rig.h"
#include "tests/hostile/reach.h"

static struct pt_budget budget;

/* One isolated probe between two host-owned buffers. */
struct lane {
	struct pt_buffer in, out;
	struct pt_instance inst;
	uint64_t tag;
};

static int lane_open_library(struct lane *l, uint32_t id, const char *name,
			     const char *library, const char *init, const char *domain,
			     char *err, size_t errlen)
{
	int ret;

	rig_buffer(&budget, &l->in, id * 10 + 1);
	rig_buffer(&budget, &l->out, id * 10 + 2);
	rig_instance(&l->inst, id, name, rig_built(library), init, domain);
	rig_bind_in(&l->inst, &l->in);
	rig_bind_out(&l->inst, &l->out);
	l->tag = 0;
	ret = pt_exec_create(&budget, &l->inst, RIG_PERIOD, err, errlen);
	if (!ret)
		ret = pt_exec_prepare(&l->inst, err, errlen);
	return ret;
}

static int lane_open(struct lane *l, uint32_t id, const char *name,
		     const char *init, const char *domain, char *err, size_t errlen)
{
	return lane_open_library(l, id, name, "tests/hostile/pt_probe.so", init, domain,
				 err, errlen);
}

static void lane_close(struct lane *l)
{
	pt_exec_destroy(&l->inst);
	rig_buffer_free(&l->in);
	rig_buffer_free(&l->out);
}

/* Feeds one period and runs it; returns rig_step's result. */
static int lane_period(struct lane *l, int *sig, char *why, size_t whylen)
{
	float pcm[RIG_PERIOD * RIG_CHANNELS];

	rig_signal(pcm, RIG_PERIOD, l->tag);
	rig_feed(&l->in, pcm, RIG_PERIOD);
	return rig_step(&l->inst, ++l->tag, 2000000000ull, sig, why, whylen);
}

/* An honest lane still produces a full period after the incident. */
static void assert_lane_healthy(struct lane *l)
{
	float out[RIG_PERIOD * RIG_CHANNELS];
	char why[256];
	int sig = -1;

	if (lane_period(l, &sig, why, sizeof(why)))
		fail_msg("neighbour %s: %s", l->inst.name, why);
	assert_int_equal(rig_take(&l->out, out, RIG_PERIOD), RIG_PERIOD);
}

static void open_lane(struct lane *l, uint32_t id, const char *name, const char *init)
{
	char err[256];

	if (lane_open(l, id, name, init, NULL, err, sizeof(err)))
		fail_msg("%s: %s", name, err);
}

/* Reading another domain's private heap faults; nobody else notices. */
static void test_peek_other_heap(void **state)
{
	struct lane victim, thief;
	char init[128], why[256];
	int sig = 0;

	(void)state;
	open_lane(&victim, 1, "victim", "gain=0.5");
	assert_lane_healthy(&victim);
	assert_true(pt_exec_heap_addr(&victim.inst) != 0);
	snprintf(init, sizeof(init), "act=peek addr=%llu",
		 (unsigned long long)pt_exec_heap_addr(&victim.inst));
	open_lane(&thief, 2, "thief", init);
	assert_int_equal(lane_period(&thief, &sig, why, sizeof(why)), -EPIPE);
	assert_int_equal(sig, SIGSEGV);
	assert_lane_healthy(&victim);
	lane_close(&thief);
	assert_lane_healthy(&victim);
	lane_close(&victim);
}

/* A reader that writes to its input dies; the writer goes on. */
static void test_write_readonly_input(void **state)
{
	struct pt_buffer in, mid, out;
	struct pt_instance writer, reader;
	float pcm[RIG_PERIOD * RIG_CHANNELS];
	uint8_t before[64];
	char err[256], why[256];
	int sig = 0;

	(void)state;
	rig_buffer(&budget, &in, 31);
	rig_buffer(&budget, &mid, 32);
	rig_buffer(&budget, &out, 33);
	rig_instance(&writer, 31, "writer", rig_built("tests/hostile/pt_probe.so"),
		     NULL, NULL);
	rig_instance(&reader, 32, "reader", rig_built("tests/hostile/pt_probe.so"),
		     "act=write_input", NULL);
	rig_bind_in(&writer, &in);
	rig_bind_out(&writer, &mid);
	rig_bind_in(&reader, &mid);
	rig_bind_out(&reader, &out);
	assert_int_equal(pt_exec_create(&budget, &writer, RIG_PERIOD, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_create(&budget, &reader, RIG_PERIOD, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_prepare(&writer, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_prepare(&reader, err, sizeof(err)), 0);
	/* The domains map the buffer as granted: writer rw, reader ro. */
	assert_int_equal(pt_access_of(writer.domain_pid, mid.part), PT_ACCESS_WRITE);
	assert_int_equal(pt_access_of(reader.domain_pid, mid.part), PT_ACCESS_READ);

	rig_signal(pcm, RIG_PERIOD, 0);
	rig_feed(&in, pcm, RIG_PERIOD);
	assert_int_equal(rig_step(&writer, 1, 2000000000ull, &sig, why, sizeof(why)), 0);
	memcpy(before, mid.data, sizeof(before));
	assert_int_equal(rig_step(&reader, 1, 2000000000ull, &sig, why, sizeof(why)), -EPIPE);
	assert_int_equal(sig, SIGSEGV);
	assert_memory_equal(before, mid.data, sizeof(before));
	/* The writer keeps writing. */
	rig_feed(&in, pcm, RIG_PERIOD);
	assert_int_equal(rig_step(&writer, 2, 2000000000ull, &sig, why, sizeof(why)), 0);
	assert_int_equal(pt_buffer_fill(&mid), 2 * RIG_PERIOD * RIG_CHANNELS * sizeof(float));
	pt_exec_destroy(&reader);
	pt_exec_destroy(&writer);
	rig_buffer_free(&in);
	rig_buffer_free(&mid);
	rig_buffer_free(&out);
}

/* Every escape through a system call is killed by the filter, with the
 * call named in the domain's last words. */
static void test_syscalls_killed(void **state)
{
	static const struct {
		const char *act, *name;
	} acts[] = {
		{ "open", "open" },   /* glibc's open is openat */
		{ "socket", "socket" },
		{ "connect", "connect" },
		{ "execve", "execve" },
		{ "fork", "clone" },  /* glibc's fork is clone */
		{ "clone", "clone" },
		{ "ptrace", "ptrace" },
		{ "kill_host", "kill" },
		{ "exec_mem", "mprotect" },
	};
	static const char *const other_arch = "int80";
	struct lane bystander;

	(void)state;
	open_lane(&bystander, 40, "bystander", NULL);
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		struct lane l;
		char init[96], why[256];
		int sig = 0, ret;

		snprintf(init, sizeof(init), "act=%s pid=%d", acts[i].act, (int)getpid());
		open_lane(&l, 41 + (uint32_t)i, acts[i].act, init);
		ret = lane_period(&l, &sig, why, sizeof(why));
		print_message("  %-10s -> %s\n", acts[i].act, why);
		assert_int_equal(ret, -EPIPE);
		assert_int_equal(sig, SIGSYS);
		assert_non_null(strstr(why, "SIGSYS"));
		assert_non_null(strstr(why, acts[i].name));
		assert_non_null(strstr(why, "denied"));
		lane_close(&l);
		assert_lane_healthy(&bystander);
	}
#if defined(__x86_64__)
	{
		/* A system call through the 32-bit entry is not a way around
		 * the filter: another architecture kills outright. */
		struct lane l;
		char why[256];
		int sig = 0;

		open_lane(&l, 59, other_arch, "act=int80");
		assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), -EPIPE);
		print_message("  %-10s -> %s\n", other_arch, why);
		assert_int_equal(sig, SIGSYS);
		lane_close(&l);
	}
#endif
	lane_close(&bystander);
}

/* Resizing a partition fails everywhere (sealed; refused by the filter in
 * the domain); mapping beyond a grant finds no fd to map and cannot grow a
 * mapping. The host's mappings stay whole. */
static void test_truncate_and_map_beyond(void **state)
{
	struct lane l;
	char why[256];
	struct stat st;
	int sig = 0;

	(void)state;
	open_lane(&l, 60, "truncator", "act=ftruncate");
	/* The host itself cannot resize a sealed partition either. */
	assert_int_equal(ftruncate(l.in.part->fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), 0);
	assert_non_null(strstr(pt_exec_last_log(&l.inst), "ftruncate refused"));
	assert_int_equal(fstat(l.out.part->fd, &st), 0);
	assert_int_equal((size_t)st.st_size, l.out.part->size);
	memset(l.out.part->map, 0x11, l.out.part->size); /* no SIGBUS here */
	lane_close(&l);

	open_lane(&l, 61, "mapper", "act=mmap_beyond");
	assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), 0);
	assert_non_null(strstr(pt_exec_last_log(&l.inst), "no mapping beyond"));
	memset(l.in.part->map, 0x22, l.in.part->size);
	lane_close(&l);
}

/* A module that eats its heap gets NULL from malloc and pt_mod_alloc, and
 * anonymous mmap and brk refuse it too; its neighbour does not notice. */
static void test_heap_exhaustion(void **state)
{
	struct lane glutton, neighbour;
	char why[256];
	int sig = 0;

	(void)state;
	open_lane(&neighbour, 70, "neighbour", NULL);
	open_lane(&glutton, 71, "glutton", "act=exhaust");
	if (lane_period(&glutton, &sig, why, sizeof(why)))
		fail_msg("glutton: %s (%s)", why, pt_exec_last_log(&glutton.inst));
	assert_non_null(strstr(pt_exec_last_log(&glutton.inst), "mmap and brk refused"));
	/* Nearly the whole heap is in use, and not a byte more. */
	assert_true(pt_exec_heap_used(&glutton.inst) > glutton.inst.exec->heap_size / 10 * 9);
	assert_true(pt_exec_heap_used(&glutton.inst) <= glutton.inst.exec->heap_size);
	assert_lane_healthy(&neighbour);
	lane_close(&glutton);
	assert_lane_healthy(&neighbour);
	lane_close(&neighbour);
}

/* A library whose constructor reaches out is stopped at load time, with an
 * error that names the library, and nothing it tried happened. */
static void test_constructor_stopped(void **state)
{
	static const char *const libs[][2] = {
		{ "pt_ctor_create.so", "open" },
		{ "pt_ctor_read.so", "/etc/passwd" },
		{ "pt_ctor_socket.so", "socket" },
		{ "pt_ctor_fork.so", "clone" },
		{ "pt_ctor_chmod.so", "chmod" },
	};
	const char *marker = "/tmp/partita-ctor-marker";
	struct lane bystander;

	(void)state;
	unlink(marker);
	open_lane(&bystander, 80, "bystander", NULL);
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		struct pt_instance inst;
		char path[64], err[256];
		size_t left = pt_budget_left(&budget);

		snprintf(path, sizeof(path), "tests/hostile/%s", libs[i][0]);
		rig_instance(&inst, 81 + (uint32_t)i, "ctor", rig_built(path), NULL, NULL);
		assert_int_equal(pt_exec_create(&budget, &inst, RIG_PERIOD, err, sizeof(err)), -EPERM);
		print_message("  %s\n", err);
		assert_non_null(strstr(err, libs[i][0]));
		assert_non_null(strstr(err, "constructor was stopped"));
		assert_non_null(strstr(err, libs[i][1]));
		assert_null(inst.exec);
		assert_int_equal(pt_budget_left(&budget), left);
		assert_lane_healthy(&bystander);
	}
	assert_int_equal(access(marker, F_OK), -1);
	lane_close(&bystander);
}

/* A hung module misses its deadline; killing its domain is clean. */
static void test_hang_and_kill(void **state)
{
	struct lane l, other;
	char why[256];
	int sig = 0;

	(void)state;
	open_lane(&other, 90, "other", NULL);
	open_lane(&l, 91, "hang", "act=hang");
	{
		float pcm[RIG_PERIOD * RIG_CHANNELS];
		size_t consumed[1], produced[1];
		struct pt_source src;
		struct pt_sink snk;

		rig_signal(pcm, RIG_PERIOD, 0);
		rig_feed(&l.in, pcm, RIG_PERIOD);
		pt_source_view(&src, l.in.data, l.in.size, 0, pt_buffer_fill(&l.in), &l.in.fmt);
		pt_sink_view(&snk, l.out.data, l.out.size, 0, l.out.size, &l.out.fmt);
		assert_int_equal(pt_exec_submit(&l.inst, &src, 1, &snk, 1, 1), 0);
		pt_exec_flush();
		assert_int_equal(pt_exec_reap(&l.inst, 1, pt_mono_ns() + 20000000ull, consumed,
					      produced, &sig, why, sizeof(why)), -ETIMEDOUT);
		assert_int_equal(pt_exec_kill(&l.inst), 0);
		assert_int_equal(pt_exec_reap(&l.inst, 1, pt_mono_ns() + 20000000ull, consumed,
					      produced, &sig, why, sizeof(why)), -EPIPE);
		assert_int_equal(sig, SIGKILL);
	}
	assert_lane_healthy(&other);
	lane_close(&l);
	lane_close(&other);
}

/* Module code runs on its instance's stack in the private partition, and
 * overflowing it faults on the guard page. */
static void test_private_stack(void **state)
{
	struct lane l;
	char cfg[128], why[256], err[256];
	int sig = 0;

	(void)state;
	open_lane(&l, 120, "stacker", NULL);
	/* The stack sits just below the heap in the private partition. */
	snprintf(cfg, sizeof(cfg), "act=stack addr=%llu size=%u",
		 (unsigned long long)pt_exec_heap_addr(&l.inst),
		 (unsigned)PT_EXEC_DEFAULT_STACK_SIZE);
	assert_int_equal(pt_exec_config_set(&l.inst, PT_PARAM_TEXT, cfg, strlen(cfg),
					    err, sizeof(err)), 0);
	if (lane_period(&l, &sig, why, sizeof(why)))
		fail_msg("not on the private stack: %s", why);
	assert_int_equal(pt_exec_config_set(&l.inst, PT_PARAM_TEXT, "act=deep", 8,
					    err, sizeof(err)), 0);
	assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), -EPIPE);
	assert_int_equal(sig, SIGSEGV);
	lane_close(&l);
}

/* Two instances share a named domain: one process, a heap each. */
static void test_shared_domain(void **state)
{
	struct lane a, b;
	char err[256];

	(void)state;
	/* Members are all created before the first prepare: the domain seals
	 * (tight filter) at its first init, after which nothing is loaded. */
	rig_buffer(&budget, &a.in, 1001);
	rig_buffer(&budget, &a.out, 1002);
	rig_buffer(&budget, &b.in, 1011);
	rig_buffer(&budget, &b.out, 1012);
	rig_instance(&a.inst, 100, "a", rig_built("tests/hostile/pt_probe.so"), "gain=0.5", "pair");
	rig_instance(&b.inst, 101, "b", rig_built("tests/hostile/pt_probe.so"), "gain=0.25", "pair");
	rig_bind_in(&a.inst, &a.in);
	rig_bind_out(&a.inst, &a.out);
	rig_bind_in(&b.inst, &b.in);
	rig_bind_out(&b.inst, &b.out);
	a.tag = b.tag = 0;
	if (pt_exec_create(&budget, &a.inst, RIG_PERIOD, err, sizeof(err)) ||
	    pt_exec_create(&budget, &b.inst, RIG_PERIOD, err, sizeof(err)))
		fail_msg("shared: %s", err);
	/* Config given before the (deferred) init reaches the module after it. */
	assert_int_equal(pt_exec_config_set(&a.inst, PT_PARAM_TEXT, "gain=0.125", 10, err,
					    sizeof(err)), 0);
	if (pt_exec_prepare(&a.inst, err, sizeof(err)) ||
	    pt_exec_prepare(&b.inst, err, sizeof(err)))
		fail_msg("shared: %s", err);
	{
		char text[32];
		size_t n = sizeof(text) - 1;

		assert_int_equal(pt_exec_config_get(&a.inst, PT_PARAM_TEXT, text, &n, err,
						    sizeof(err)), 0);
		text[n] = '\0';
		assert_string_equal(text, "gain=0.125");
	}
	assert_int_equal(a.inst.domain_pid, b.inst.domain_pid);
	assert_true(pt_exec_heap_addr(&a.inst) != pt_exec_heap_addr(&b.inst));
	/* Each instance has its own copy of the library's static data. */
	{
		char text[32];
		size_t n = sizeof(text) - 1;

		assert_int_equal(pt_exec_config_get(&a.inst, 2, text, &n, err, sizeof(err)), 0);
		text[n] = '\0';
		assert_string_equal(text, "inits=1");
		n = sizeof(text) - 1;
		assert_int_equal(pt_exec_config_get(&b.inst, 2, text, &n, err, sizeof(err)), 0);
		text[n] = '\0';
		assert_string_equal(text, "inits=1");
	}
	assert_lane_healthy(&a);
	assert_lane_healthy(&b);
	/* Sealed after the first init: a late joiner is refused, clearly. */
	{
		struct lane late;

		assert_true(lane_open(&late, 102, "late", NULL, "pair", err, sizeof(err)) < 0);
		assert_non_null(strstr(err, "sealed"));
		rig_buffer_free(&late.in);
		rig_buffer_free(&late.out);
	}
	/* One member eats its heap; its neighbour in the same domain, with a
	 * heap of its own, does not notice. */
	{
		size_t a_used = pt_exec_heap_used(&a.inst);
		char why[256];
		int sig = 0;

		assert_int_equal(pt_exec_config_set(&b.inst, PT_PARAM_TEXT, "act=exhaust", 11,
						    err, sizeof(err)), 0);
		assert_int_equal(lane_period(&b, &sig, why, sizeof(why)), 0);
		assert_true(pt_exec_heap_used(&b.inst) > b.inst.exec->heap_size / 10 * 9);
		assert_lane_healthy(&a);
		assert_int_equal(pt_exec_heap_used(&a.inst), a_used);
	}
	lane_close(&b);
	assert_lane_healthy(&a);
	lane_close(&a);
}

/* A domain dies with its host (PR_SET_PDEATHSIG): a host that exits
 * without cleaning up leaves nothing behind. */
static void test_dies_with_host(void **state)
{
	int p[2];
	pid_t host, domain = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	host = fork();
	assert_true(host >= 0);
	if (host == 0) {
		struct lane l;
		char err[256];

		close(p[0]);
		if (lane_open(&l, 130, "orphan", NULL, NULL, err, sizeof(err)))
			_exit(1);
		(void)!write(p[1], &l.inst.domain_pid, sizeof(pid_t));
		_exit(0); /* no destroy: the host just goes */
	}
	close(p[1]);
	assert_int_equal(read(p[0], &domain, sizeof(domain)), sizeof(domain));
	close(p[0]);
	waitpid(host, NULL, 0);
	for (int i = 0; i < 200 && kill(domain, 0) == 0; i++) {
		/* Gone, or a zombie waiting for init: either way not running. */
		char path[64], st = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)domain);
		f = fopen(path, "r");
		if (f) {
			int r = fscanf(f, "%*d %*s %c", &st);
			fclose(f);
			if (r == 1 && (st == 'Z' || st == 'X'))
				break;
		}
		usleep(5000);
		st = 0;
		if (i == 199)
			fail_msg("domain %d outlived its host", (int)domain);
	}
}

/* Submits one period and waits (without reaping) until the domain has
 * published its completion. */
static void submit_and_wait_published(struct lane *l)
{
	float pcm[RIG_PERIOD * RIG_CHANNELS];
	struct pt_domain *d = l->inst.exec->dom;
	struct pt_source src;
	struct pt_sink snk;

	rig_signal(pcm, RIG_PERIOD, 0);
	rig_feed(&l->in, pcm, RIG_PERIOD);
	pt_source_view(&src, l->in.data, l->in.size, l->in.rd % l->in.size,
		       pt_buffer_fill(&l->in), &l->in.fmt);
	pt_sink_view(&snk, l->out.data, l->out.size, l->out.wr % l->out.size,
		     pt_buffer_room(&l->out), &l->out.fmt);
	assert_int_equal(pt_exec_submit(&l->inst, &src, 1, &snk, 1, ++l->tag), 0);
	pt_exec_flush();
	for (int i = 0; i < 2000; i++) {
		struct pt_ring_entry e;

		/* Completions of earlier control requests come first. */
		if (pt_ring_peek(&d->ring, &e) == 0) {
			if (e.opcode == PT_DOP_PROCESS)
				return;
			pt_ring_advance(&d->ring, 1);
			continue;
		}
		usleep(1000);
	}
	fail_msg("no completion published");
}

/* What a domain says is checked before anything is committed; a domain
 * caught lying is ended. */
static void test_lies_refused(void **state)
{
	size_t consumed[1], produced[1];
	struct lane l;
	char why[256], err[256], buf[64];
	size_t n = sizeof(buf);
	int sig = 0;

	(void)state;
	/* A module answering for the domain on the control socket. */
	open_lane(&l, 140, "forger", "act=forge_reply");
	assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), 0);
	assert_int_equal(pt_exec_config_get(&l.inst, PT_PARAM_TEXT, buf, &n, err,
					    sizeof(err)), -EPROTO);
	print_message("  forged reply -> %s\n", err);
	assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), -EPIPE);
	lane_close(&l);

	/* A module that hangs up the control socket and goes on running: the
	 * domain is killed, not just forgotten, before its partitions are
	 * let go. */
	{
		size_t left = pt_budget_left(&budget);
		pid_t pid;

		open_lane(&l, 144, "hangup", "act=hang_up");
		pid = l.inst.domain_pid;
		assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), 0);
		n = sizeof(buf);
		assert_int_equal(pt_exec_config_get(&l.inst, PT_PARAM_TEXT, buf, &n, err,
						    sizeof(err)), -EPIPE);
		print_message("  hung up      -> %s\n", err);
		assert_int_equal(kill(pid, 0), -1); /* gone and reaped */
		lane_close(&l);
		assert_int_equal(pt_budget_left(&budget), left);
	}

	/* A completion claiming more output than there was room for. */
	open_lane(&l, 141, "overclaim", NULL);
	submit_and_wait_published(&l);
	{
		struct pt_domain *d = l.inst.exec->dom;
		struct pt_ring_entry *e = (struct pt_ring_entry *)
			&d->ring.cons_entries[d->ring.cons_local & d->ring.mask];
		uint32_t huge = 1u << 30;

		/* words: heap, nsrc, nsnk, futex, periods, consumed, produced */
		memcpy(e->payload + 6 * 4, &huge, 4);
	}
	assert_int_equal(pt_exec_reap(&l.inst, l.tag, pt_mono_ns() + 1000000000ull, consumed,
				      produced, &sig, why, sizeof(why)), -EPROTO);
	print_message("  overclaim    -> %s\n", why);
	assert_non_null(strstr(why, "produced"));
	assert_int_equal(pt_buffer_fill(&l.out), 0); /* nothing committed */
	assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), -EPIPE);
	lane_close(&l);

	/* A completion index pushed past anything submitted. */
	open_lane(&l, 142, "indexer", NULL);
	submit_and_wait_published(&l);
	{
		struct pt_domain *d = l.inst.exec->dom;

		*(uint32_t *)d->ring.cons_tail += 1000;
	}
	assert_int_equal(pt_exec_reap(&l.inst, l.tag, pt_mono_ns() + 1000000000ull, consumed,
				      produced, &sig, why, sizeof(why)), -EPROTO);
	print_message("  bad index    -> %s\n", why);
	lane_close(&l);

	/* A completion for a tag that was never asked. */
	open_lane(&l, 143, "tagger", NULL);
	submit_and_wait_published(&l);
	{
		struct pt_domain *d = l.inst.exec->dom;
		struct pt_ring_entry *e = (struct pt_ring_entry *)
			&d->ring.cons_entries[d->ring.cons_local & d->ring.mask];

		e->tag ^= 0x5555;
	}
	assert_int_equal(pt_exec_reap(&l.inst, l.tag, pt_mono_ns() + 1000000000ull, consumed,
				      produced, &sig, why, sizeof(why)), -EPROTO);
	print_message("  wrong tag    -> %s\n", why);
	/* Counted as the ring's own index checks are. */
	{
		struct pt_ring_stats st;

		pt_ring_stats(&l.inst.exec->dom->ring, &st);
		assert_true(st.corrupt >= 1);
	}
	lane_close(&l);
}


/* ---- callbacks other than process that crash, spin, flood, hog, lie ---- */

/* Drives callback @cb of lane @l once; returns the host's answer. */
static int drive_callback(struct lane *l, const char *cb, char *err, size_t errlen)
{
	if (!strcmp(cb, "reset"))
		return pt_exec_reset(&l->inst, err, errlen);
	if (!strcmp(cb, "set"))
		return pt_exec_config_set(&l->inst, PT_PARAM_TEXT, "gain=0.5", 8, err, errlen);
	if (!strcmp(cb, "get")) {
		char buf[64];
		size_t n = sizeof(buf);

		return pt_exec_config_get(&l->inst, PT_PARAM_TEXT, buf, &n, err, errlen);
	}
	if (!strcmp(cb, "trigger"))
		return pt_exec_trigger(&l->inst, PT_TRIGGER_START, err, errlen);
	if (!strcmp(cb, "bind")) {
		struct pt_pin_info pin = { .dir = PT_PIN_SOURCE, .fmt = rig_fmt };

		snprintf(pin.peer, sizeof(pin.peer), "peer");
		return pt_exec_pin(&l->inst, &pin, true, err, errlen);
	}
	return -EINVAL;
}

/* Each callback crashing, spinning, flooding its log with binary junk,
 * taking all the memory it can, or returning a value outside the ABI:
 * the host answers with an error that says what happened, ends the domain
 * where it must, stays up, keeps the budget whole, and a bystander's
 * output is untouched. A domain that floods its log while the host waits
 * for it cannot keep the host reading. */
static void test_callbacks_misbehave(void **state)
{
	static const struct {
		const char *cb, *how, *want; /* want: in the error; NULL: fine */
		int ret;
	} cases[] = {
		{ "init", "crash", "SIGSEGV", -EPIPE },
		{ "init", "lie", "module returned 7", -EBADE },
		{ "init", "alloc", NULL, 0 },
		{ "prepare", "crash", "SIGSEGV", -EPIPE },
		{ "prepare", "lie", "module returned 7", -EBADE },
		{ "prepare", "alloc", NULL, 0 },
		{ "reset", "crash", "SIGSEGV", -EPIPE },
		{ "reset", "lie", "module returned 7", -EBADE },
		{ "reset", "alloc", NULL, 0 },
		{ "set", "crash", "SIGSEGV", -EPIPE },
		{ "set", "lie", "module returned 7", -EBADE },
		{ "set", "alloc", NULL, 0 },
		{ "get", "crash", "SIGSEGV", -EPIPE },
		{ "get", "alloc", NULL, 0 },
		{ "trigger", "crash", "SIGSEGV", -EPIPE },
		{ "trigger", "lie", "module returned 7", -EBADE },
		{ "bind", "crash", "SIGSEGV", -EPIPE },
		{ "bind", "lie", "module returned 7", -EBADE },
		{ "free", "crash", NULL, 0 },
		{ "free", "spin", NULL, 0 },
		{ "free", "flood", NULL, 0 },
	};
	static float seen[32][RIG_PERIOD * RIG_CHANNELS];
	size_t nseen = 0;
	struct lane bystander;

	(void)state;
	open_lane(&bystander, 60, "bystander", NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t left = pt_budget_left(&budget);
		char init[96], err[512] = "", name[32];
		struct lane l;
		pid_t pid = 0;
		int ret;

		snprintf(init, sizeof(init), "in=%s do=%s", cases[i].cb, cases[i].how);
		snprintf(name, sizeof(name), "%s_%s", cases[i].cb, cases[i].how);
		ret = lane_open(&l, 61 + (uint32_t)i, name, init, NULL, err, sizeof(err));
		if (!strcmp(cases[i].cb, "init") || !strcmp(cases[i].cb, "prepare")) {
			/* refused at create or prepare */
		} else if (ret) {
			fail_msg("%s: %s", name, err);
		} else if (!strcmp(cases[i].cb, "free")) {
			pid = l.inst.domain_pid;
			assert_int_equal(lane_period(&l, &(int){ 0 }, err, sizeof(err)), 0);
			pt_exec_destroy(&l.inst);
			/* Gone and reaped, whatever its free did. */
			assert_int_equal(kill(pid, 0), -1);
		} else {
			ret = drive_callback(&l, cases[i].cb, err, sizeof(err));
		}
		print_message("  %-14s -> %d %s\n", name, ret, ret ? err : "");
		assert_int_equal(ret, cases[i].ret);
		if (cases[i].want)
			assert_non_null(strstr(err, cases[i].want));
		for (const char *c = err; *c; c++)
			assert_true(*c >= 0x20 && *c <= 0x7e);
		if (!ret && l.inst.exec) {
			/* Misbehaved and was answered: still works. */
			char why[256];
			int sig = 0;

			assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), 0);
		}
		if (l.inst.exec)
			lane_close(&l);
		else {
			rig_buffer_free(&l.in);
			rig_buffer_free(&l.out);
		}
		assert_int_equal(pt_budget_left(&budget), left);
		{
			char why[256];
			int sig = 0;

			if (lane_period(&bystander, &sig, why, sizeof(why)))
				fail_msg("bystander: %s", why);
			assert_int_equal(rig_take(&bystander.out, seen[nseen++], RIG_PERIOD),
					 RIG_PERIOD);
		}
	}
	/* The bystander's output, period by period, is what a probe run
	 * with no misbehaving neighbour gives. */
	{
		struct lane fresh;
		float b[RIG_PERIOD * RIG_CHANNELS];
		char why[256];
		int sig = 0;

		open_lane(&fresh, 91, "fresh", NULL);
		for (size_t k = 0; k < nseen; k++) {
			assert_int_equal(lane_period(&fresh, &sig, why, sizeof(why)), 0);
			assert_int_equal(rig_take(&fresh.out, b, RIG_PERIOD), RIG_PERIOD);
			assert_memory_equal(seen[k], b, sizeof(b));
		}
		lane_close(&fresh);
	}
	lane_close(&bystander);
}

/* ---- kernel objects, signals and memory (tests/hostile/reach.h) ---- */

/* What a probe would leave behind, seen from the host: System V objects
 * (counted, and the probe's key looked up), the probe's message queue,
 * the probe's key in the keyrings the host can see. */
struct leftovers {
	int sysv[3];
};

static int count_lines(const char *path)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void leftovers_take(struct leftovers *l)
{
	l->sysv[0] = count_lines("/proc/sysvipc/shm");
	l->sysv[1] = count_lines("/proc/sysvipc/msg");
	l->sysv[2] = count_lines("/proc/sysvipc/sem");
}

static void assert_nothing_left(const struct leftovers *before, const char *what)
{
	struct leftovers now;
	char line[512];
	FILE *f;

	leftovers_take(&now);
	for (int i = 0; i < 3; i++)
		if (now.sysv[i] != before->sysv[i])
			fail_msg("%s: System V objects %d -> %d", what, before->sysv[i], now.sysv[i]);
	if (shmget(PT_REACH_KEY, 0, 0) >= 0 || msgget(PT_REACH_KEY, 0) >= 0 ||
	    semget(PT_REACH_KEY, 0, 0) >= 0)
		fail_msg("%s: the probe's System V object exists", what);
	if (syscall(SYS_mq_open, PT_REACH_MQ, O_RDONLY, 0, NULL) >= 0 || errno != ENOENT)
		fail_msg("%s: the probe's message queue exists", what);
	f = fopen("/proc/keys", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "partita-probe"))
			fail_msg("%s: the probe's key exists: %s", what, line);
	if (f)
		fclose(f);
}

/* Every class, tried in a library constructor (the load stage): stopped
 * with the call named, or (memory) refused; nothing outlives the domain;
 * the budget is whole afterwards. */
static void test_reach_load_stage(void **state)
{
	struct leftovers before;
	struct lane bystander;

	(void)state;
	leftovers_take(&before);
	open_lane(&bystander, 150, "bystander", NULL);
	for (size_t i = 0; i < sizeof(pt_reach_classes) / sizeof(pt_reach_classes[0]); i++) {
		const struct pt_reach_class *c = &pt_reach_classes[i];
		size_t left = pt_budget_left(&budget);
		char lib[96], err[256];
		struct lane l;
		int ret;

		/* The loader makes code writable to relocate it (never
		 * executable again): a run-stage class only. */
		if (!strcmp(c->what, "code_write"))
			continue;
		snprintf(lib, sizeof(lib), "tests/hostile/pt_ctor_%s.so", c->what);
		ret = lane_open_library(&l, 151 + (uint32_t)i, c->what, lib, NULL, NULL, err,
					sizeof(err));
		if (!strcmp(c->what, "fixed")) {
			/* Kept memory got round the data limit: found after
			 * the load, which fails; the domain is gone. */
			print_message("  %-10s -> %s\n", c->what, err);
			assert_int_equal(ret, -ENOMEM);
			assert_non_null(strstr(err, "beyond its allowance"));
			assert_null(l.inst.exec);
		} else if (!strcmp(c->what, "seccomp")) {
			/* A filter of its own is allowed by the load stage's
			 * (the domain installs the run stage's with the same
			 * call): the host counts the filters in force after
			 * the load, and the load fails. */
			print_message("  %-10s -> %s\n", c->what, err);
			assert_int_equal(ret, -EPERM);
			assert_non_null(strstr(err, "seccomp filter of its own"));
			assert_null(l.inst.exec);
		} else if (c->call) {
			print_message("  %-10s -> %s\n", c->what, err);
			assert_int_equal(ret, -EPERM);
			assert_non_null(strstr(err, "constructor was stopped"));
			assert_non_null(strstr(err, c->call));
			assert_null(l.inst.exec);
		} else {
			char why[256];
			int sig = 0;

			if (ret)
				fail_msg("%s: %s", c->what, err);
			/* What the constructor got is what process returns. */
			ret = lane_period(&l, &sig, why, sizeof(why));
			print_message("  %-10s -> refused (%d %s), charged %zu beyond the partitions\n",
				      c->what, ret, ret ? why : "", l.inst.exec->dom->data_charged);
			assert_int_equal(ret, 0);
			assert_true(l.inst.exec->dom->data_charged <= PT_DOMAIN_LOAD_SLACK);
			lane_close(&l);
		}
		rig_buffer_free(&l.in);
		rig_buffer_free(&l.out);
		assert_int_equal(pt_budget_left(&budget), left);
		assert_nothing_left(&before, c->what);
		assert_lane_healthy(&bystander);
	}
	lane_close(&bystander);
}

/* The same classes from module code (the run stage). */
static void test_reach_run_stage(void **state)
{
	struct leftovers before;
	struct lane bystander;

	(void)state;
	leftovers_take(&before);
	open_lane(&bystander, 180, "bystander", NULL);
	for (size_t i = 0; i < sizeof(pt_reach_classes) / sizeof(pt_reach_classes[0]); i++) {
		const struct pt_reach_class *c = &pt_reach_classes[i];
		char init[128], why[256];
		struct lane l;
		int sig = 0, ret;

		snprintf(init, sizeof(init), "act=reach reach=%s pid=%d", c->what, (int)getpid());
		open_lane(&l, 181 + (uint32_t)i, c->what, init);
		ret = lane_period(&l, &sig, why, sizeof(why));
		print_message("  %-10s -> %s\n", c->what, c->call ? why : "refused");
		if (c->call) {
			assert_int_equal(ret, -EPIPE);
			assert_int_equal(sig, SIGSYS);
			assert_non_null(strstr(why, c->call));
		} else {
			assert_int_equal(ret, 0);
			assert_lane_healthy(&l);
		}
		lane_close(&l);
		assert_nothing_left(&before, c->what);
		assert_lane_healthy(&bystander);
	}
	lane_close(&bystander);
}

/* A file a library opened while loading, kept: after the seal it can be
 * mapped (read-only or private), but never in place, where the kernel would
 * count private pages net of the read-only ones they replace. */
static void test_fixed_over_file_after_seal(void **state)
{
	char err[256], why[256];
	struct lane l;
	int sig = 0;

	(void)state;
	if (lane_open_library(&l, 198, "keepfd", "tests/hostile/pt_ctor_keepfd.so", NULL, NULL,
			      err, sizeof(err)))
		fail_msg("keepfd: %s", err);
	assert_int_equal(lane_period(&l, &sig, why, sizeof(why)), -EPIPE);
	print_message("  keepfd -> %s\n", why);
	assert_int_equal(sig, SIGSYS);
	assert_non_null(strstr(why, "mmap denied"));
	lane_close(&l);
}

/* A domain has an IPC namespace of its own (System V objects and POSIX
 * message queues): a second layer under the filter. */
static void test_ipc_namespace(void **state)
{
	char mine[64], theirs[64], path[64];
	struct lane l;
	ssize_t n;

	(void)state;
	open_lane(&l, 199, "ns", NULL);
	n = readlink("/proc/self/ns/ipc", mine, sizeof(mine) - 1);
	assert_true(n > 0);
	mine[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/ns/ipc", (int)l.inst.domain_pid);
	n = readlink(path, theirs, sizeof(theirs) - 1);
	assert_true(n > 0);
	theirs[n] = '\0';
	print_message("  host %s, domain %s\n", mine, theirs);
	assert_string_not_equal(mine, theirs);
	lane_close(&l);
}

/* Who maps what, read from the running processes. */
static void test_access_matrix(void **state)
{
	struct pt_buffer in, mid, out;
	struct pt_instance a, b;
	char err[256];

	(void)state;
	rig_buffer(&budget, &in, 111);
	rig_buffer(&budget, &mid, 112);
	rig_buffer(&budget, &out, 113);
	rig_instance(&a, 111, "a", rig_built("tests/hostile/pt_probe.so"), NULL, NULL);
	rig_instance(&b, 112, "b", rig_built("tests/hostile/pt_probe.so"), NULL, NULL);
	rig_bind_in(&a, &in);
	rig_bind_out(&a, &mid);
	rig_bind_in(&b, &mid);
	rig_bind_out(&b, &out);
	assert_int_equal(pt_exec_create(&budget, &a, RIG_PERIOD, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_create(&budget, &b, RIG_PERIOD, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_prepare(&a, err, sizeof(err)), 0);
	assert_int_equal(pt_exec_prepare(&b, err, sizeof(err)), 0);
	assert_int_equal(pt_access_of(a.domain_pid, in.part), PT_ACCESS_READ);
	assert_int_equal(pt_access_of(a.domain_pid, mid.part), PT_ACCESS_WRITE);
	assert_int_equal(pt_access_of(a.domain_pid, out.part), PT_ACCESS_NONE);
	assert_int_equal(pt_access_of(b.domain_pid, in.part), PT_ACCESS_NONE);
	assert_int_equal(pt_access_of(b.domain_pid, mid.part), PT_ACCESS_READ);
	assert_int_equal(pt_access_of(b.domain_pid, out.part), PT_ACCESS_WRITE);
	assert_int_equal(pt_access_of(getpid(), mid.part), PT_ACCESS_WRITE);
	/* Private heaps: each domain its own, nobody else's. */
	assert_int_equal(pt_access_of(a.domain_pid, b.exec->priv), PT_ACCESS_NONE);
	assert_int_equal(pt_access_of(b.domain_pid, a.exec->priv), PT_ACCESS_NONE);
	pt_exec_destroy(&a);
	pt_exec_destroy(&b);
	rig_buffer_free(&in);
	rig_buffer_free(&mid);
	rig_buffer_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek_other_heap),
		cmocka_unit_test(test_write_readonly_input),
		cmocka_unit_test(test_syscalls_killed),
		cmocka_unit_test(test_truncate_and_map_beyond),
		cmocka_unit_test(test_heap_exhaustion),
		cmocka_unit_test(test_constructor_stopped),
		cmocka_unit_test(test_hang_and_kill),
		cmocka_unit_test(test_private_stack),
		cmocka_unit_test(test_shared_domain),
		cmocka_unit_test(test_access_matrix),
		cmocka_unit_test(test_dies_with_host),
		cmocka_unit_test(test_lies_refused),
		cmocka_unit_test(test_callbacks_misbehave),
		cmocka_unit_test(test_reach_load_stage),
		cmocka_unit_test(test_reach_run_stage),
		cmocka_unit_test(test_ipc_namespace),
		cmocka_unit_test(test_fixed_over_file_after_seal),
	};

	pt_budget_init(&budget, 64 << 20);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
