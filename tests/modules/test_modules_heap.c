/* SPDX-License-Identifier: MIT */
/*
 * Heap needs of every module, measured as a domain would see them: this
 * binary defines malloc/calloc/realloc/free and, while a module callback
 * runs, routes them into the instance's private pt_heap (as partita-domain
 * does), so speexdsp's own allocations count against the budget. Outside
 * module calls they go to glibc.
 *
 * For each configuration the smallest heap in which init, prepare, 20
 * periods and free all succeed is found by bisection, each attempt in a
 * forked child (third-party code may not survive its own allocation
 * failures). The test checks that every module's default configuration
 * fits its manifest heap_size, that the module leaves nothing allocated
 * after free, that its stack use (measured on a painted stack) fits the
 * manifest's stack_size, and prints the table docs/modules.md quotes.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cmocka.h>

#include <partita/heap.h>

#include "tests/modules/rig.h"

/* ---- malloc routing -------------------------------------------------------- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static struct pt_heap *route;          /* set while a module call runs */
static struct pt_heap *owner;          /* the heap of the live instance */
static const char *owner_lo, *owner_hi; /* its block */

static bool in_owner(const void *p)
{
	return owner && (const char *)p >= owner_lo && (const char *)p < owner_hi;
}

void *malloc(size_t n)
{
	return route ? pt_heap_alloc(route, n) : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return route ? pt_heap_calloc(route, n, size) : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (p && in_owner(p))
		return pt_heap_realloc(owner, p, n);
	if (!p && route)
		return pt_heap_alloc(route, n);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	if (p && in_owner(p))
		pt_heap_free(owner, p);
	else
		__libc_free(p);
}

/* ---- one configuration ------------------------------------------------------ */

struct heap_case {
	const char *module;
	const char *init;
	uint32_t period;
	uint32_t in_rate, out_rate;
	unsigned channels, nin, nout;
	bool manifest_check; /* the default configuration: must fit the manifest */
};

static const struct heap_case cases[] = {
	{ "tone", NULL, 48, 48000, 48000, 2, 0, 1, true },
	{ "gain", NULL, 48, 48000, 48000, 2, 1, 1, true },
	{ "mixer", NULL, 48, 48000, 48000, 2, 8, 1, true },
	{ "eq_iir", "bands=lowshelf:100:0.7:3,peaking:1000:1:-3,highshelf:8000:0.7:2",
	  48, 48000, 48000, 2, 1, 1, true },
	{ "copier", NULL, 48, 48000, 48000, 2, 1, 1, true },
	{ "fir", NULL, 48, 48000, 48000, 2, 1, 1, true },
	{ "fir", "taps=@4096", 48, 48000, 48000, 2, 1, 1, false },
	{ "fir", "taps=@4096", 480, 48000, 48000, 8, 1, 1, false },
	{ "dcblock", NULL, 48, 48000, 48000, 2, 1, 1, true },
	{ "delay", "samples=4800", 48, 48000, 48000, 2, 1, 1, true },
	{ "drc", NULL, 48, 48000, 48000, 2, 1, 1, true },
	{ "src", NULL, 48, 48000, 44100, 2, 1, 1, true },
	{ "src", NULL, 44, 44100, 48000, 2, 1, 1, false },
	{ "src", "quality=10", 48, 48000, 44100, 2, 1, 1, false },
	{ "src", "quality=10", 16, 16000, 48000, 8, 1, 1, false },
	{ "src", NULL, 480, 48000, 44100, 2, 1, 1, false },
	{ "denoise", NULL, 48, 48000, 48000, 2, 1, 1, true },
	{ "denoise", NULL, 480, 48000, 48000, 2, 1, 1, false },
	{ "denoise", NULL, 160, 16000, 16000, 1, 1, 1, false },
	{ "denoise", NULL, 960, 48000, 48000, 8, 1, 1, false },
};

/* Expands "taps=@N" into N taps of 1/N. */
static char *case_init(const struct heap_case *c)
{
	unsigned n;
	char *s;
	size_t len;

	if (!c->init || sscanf(c->init, "taps=@%u", &n) != 1)
		return c->init ? strdup(c->init) : NULL;
	s = __libc_malloc(n * 16 + 8);
	len = (size_t)sprintf(s, "taps=");
	for (unsigned i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "%s%.6g", i ? "," : "", 1.0 / n);
	return s;
}

struct heap_result {
	int ret;            /* 0: the whole run worked */
	size_t peak;        /* peak bytes handed out */
	size_t left;        /* bytes still allocated after free */
	int invalid;        /* pt_heap_validate complained */
	int crashed;        /* signal that ended the child, 0 if none */
	size_t stack;       /* deepest stack use, bytes (harness included) */
};

/* Runs @c in a heap of @heap_size bytes; in a child process. */
static struct heap_result case_run_here(const struct heap_case *c, size_t heap_size)
{
	struct heap_result res = { 0, 0, 0, 0, 0, 0 };
	struct pt_format fi = { c->in_rate, (uint16_t)c->channels, PT_SAMPLE_FLOAT_LE };
	struct pt_format fo = { c->out_rate, (uint16_t)c->channels, PT_SAMPLE_FLOAT_LE };
	size_t out_frames = (size_t)c->period * c->out_rate / c->in_rate + 2;
	float *x = __libc_calloc((size_t)c->period * c->channels, sizeof(float));
	float *y = __libc_malloc(out_frames * 2 * c->channels * sizeof(float));
	char *init = case_init(c);
	struct pt_heap_stats st;
	struct rig r;

	/* Module code runs routed; the rig's own buffers come from glibc.
	 * Nothing of mine calls malloc in init, so init needs no routing. */
	res.ret = rig_init(&r, c->module, c->period, init, heap_size);
	if (res.ret)
		goto out;
	owner = r.mod.heap;
	owner_lo = r.heap;
	owner_hi = (const char *)r.heap + heap_size;
	for (unsigned i = 0; i < c->nin; i++)
		rig_add_in(&r, &fi, c->period * 2, 0);
	for (unsigned i = 0; i < c->nout; i++)
		rig_add_out(&r, &fo, out_frames * 2, 0);
	route = owner;
	res.ret = rig_prepare(&r);
	route = NULL;
	for (int p = 0; !res.ret && p < 20; p++) {
		for (unsigned i = 0; i < c->nin; i++)
			rig_push(&r, i, x, c->period);
		route = owner;
		res.ret = rig_process(&r);
		route = NULL;
		for (unsigned i = 0; i < c->nout; i++)
			rig_pull(&r, i, y, out_frames * 2);
	}
	pt_heap_stats(owner, &st);
	res.peak = st.peak_allocated;
	route = owner;
	pt_module_free(&r.mod);
	route = NULL;
	r.live = false;
	pt_heap_stats(owner, &st);
	res.left = st.allocated;
	res.invalid = pt_heap_validate(owner) != NULL;
out:
	route = NULL;
	owner = NULL;
	rig_free(&r);
	free(init);
	__libc_free(x);
	__libc_free(y);
	return res;
}

/* The run on a painted stack of its own, so the deepest byte it touched
 * tells its stack use: the module's callbacks, speexdsp's frames, pt_log's
 * vsnprintf, plus the rig's few KiB. */
static uint8_t alt_stack[1u << 20] __attribute__((aligned(16)));
static const struct heap_case *body_case;
static size_t body_heap;
static struct heap_result body_res;

static void body(void)
{
	body_res = case_run_here(body_case, body_heap);
}

static struct heap_result case_run_painted(const struct heap_case *c,
					   size_t heap_size)
{
	ucontext_t main_ctx, ctx;
	size_t i = 0;

	memset(alt_stack, 0xa5, sizeof(alt_stack));
	getcontext(&ctx);
	ctx.uc_stack.ss_sp = alt_stack;
	ctx.uc_stack.ss_size = sizeof(alt_stack);
	ctx.uc_link = &main_ctx;
	body_case = c;
	body_heap = heap_size;
	makecontext(&ctx, body, 0);
	swapcontext(&main_ctx, &ctx);
	while (i < sizeof(alt_stack) && alt_stack[i] == 0xa5)
		i++;
	body_res.stack = sizeof(alt_stack) - i;
	return body_res;
}

/* Runs @c with @heap_size in a forked child; a crash counts as failure. */
static struct heap_result case_run(const struct heap_case *c, size_t heap_size)
{
	struct heap_result res = { -EFAULT, 0, 0, 0, 0, 0 };
	int fd[2], status;
	pid_t pid;

	fflush(NULL);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* A crash must end the child, not reach cmocka's handlers;
		 * and the failures of the bisection are expected: quiet. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		if (!getenv("RIG_VERBOSE") && (!freopen("/dev/null", "w", stderr) ||
					       !freopen("/dev/null", "w", stdout)))
			_exit(3);
		res = case_run_painted(c, heap_size);
		if (write(fd[1], &res, sizeof(res)) != sizeof(res))
			_exit(2);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], &res, sizeof(res)) != sizeof(res))
		res.ret = -EFAULT;
	close(fd[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		res.crashed = WTERMSIG(status);
	return res;
}

static void heap_needs(void **state)
{
	(void)state;
	print_message("%-8s %-26s %6s %11s %3s %9s %9s %9s %7s %7s\n", "module",
		      "init", "period", "rate", "ch", "peak", "min_heap", "manifest",
		      "stack", "m.stack");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct heap_case *c = &cases[i];
		const struct pt_module_entry *e;
		struct heap_result r;
		size_t lo = 512, hi = 8u << 20, manifest;
		int crash;
		char rate[24];

		/* The manifest's heap must run the default configuration. */
		e = NULL;
		{
			struct rig probe;

			assert_int_equal(rig_init(&probe, c->module, c->period, NULL, 0), 0);
			e = probe.entry;
			rig_free(&probe);
		}
		manifest = e->manifest->heap_size;
		r = case_run(c, hi);
		if (r.ret)
			fail_msg("%s %s: fails even with %zu bytes: %d", c->module,
				 c->init ? c->init : "", hi, r.ret);
		assert_int_equal(r.left, 0);
		assert_int_equal(r.invalid, 0);
		crash = 0;
		while (hi - lo > 256) {
			size_t mid = (lo + hi) / 2 / 16 * 16;
			struct heap_result m = case_run(c, mid);

			if (m.crashed)
				crash = m.crashed;
			if (m.ret == 0)
				hi = mid;
			else
				lo = mid;
		}
		if (c->in_rate == c->out_rate)
			snprintf(rate, sizeof(rate), "%u", c->in_rate);
		else
			snprintf(rate, sizeof(rate), "%u>%u", c->in_rate, c->out_rate);
		print_message("%-8s %-26.26s %6u %11s %3u %9zu %9zu %9zu %7zu %7u%s\n",
			      c->module, c->init ? c->init : "-", c->period, rate,
			      c->channels, r.peak, hi, manifest, r.stack,
			      e->manifest->stack_size,
			      crash ? "  crashed when short" : "");
		if (r.stack > e->manifest->stack_size)
			fail_msg("%s %s: %zu bytes of stack, its manifest gives %u",
				 c->module, c->init ? c->init : "", r.stack,
				 e->manifest->stack_size);
		/* Short of heap, a module must fail cleanly, not crash. */
		if (crash)
			fail_msg("%s %s: signal %d with a heap below %zu bytes",
				 c->module, c->init ? c->init : "", crash, hi);
		if (c->manifest_check) {
			if (hi > manifest)
				fail_msg("%s needs %zu bytes, its manifest gives %zu",
					 c->module, hi, manifest);
			assert_int_equal(case_run(c, manifest).ret, 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(heap_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
