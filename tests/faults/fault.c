/* SPDX-License-Identifier: MIT */
/*
 * fault - a gain that misbehaves on cue, for the fault-containment tests.
 *
 * Honest: one FLOAT_LE input, one FLOAT_LE output, samples times gain_db
 * (init and PT_PARAM_TEXT). On its process call number at=N (counted from
 * 1) it does what fault= says:
 *   segv    writes through a null pointer
 *   abort   calls abort()
 *   spin    loops forever
 *   slow    busy-waits slow_ms milliseconds once, then behaves
 *   lie     claims to have produced more than the sink had room for, by
 *           writing its view's counter directly (no ABI call allows it)
 *   fail    returns -EIO from that call only
 * With every=N too, the fault comes again every N calls after at.
 * With spike=1 instead of at=, the fault happens on the call whose input
 * holds a sample of 0.5 or more: a restarted instance has passed the spike
 * and lives on, so a test can crash an instance exactly once.
 * Keys s0..s15 hold numbers that do nothing but are reported, with the rest
 * of the state, by get_config: a restart test compares the state before a
 * crash and after the configuration is replayed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <partita/module.h>

#include "lib/abi/abi.h"

enum fault { F_NONE, F_SEGV, F_ABORT, F_SPIN, F_SLOW, F_LIE, F_FAIL, F_WARN };

static const char *const fault_names[] = { "none", "segv", "abort", "spin",
					   "slow", "lie", "fail", "warn", NULL };

struct state {
	enum fault fault;
	uint64_t at, every, calls;
	bool spike;
	double slow_ms;
	double gain_db;
	float gain;
	double slot[16];
};

static int params(struct pt_module *mod, struct state *st, const void *d,
		  size_t n)
{
	char name[16];
	double v;

	if (pt_param_double(d, n, "gain_db", &v) == 0) {
		if (v < -120.0 || v > 40.0) {
			pt_log(mod, PT_LOG_ERR, "gain_db %g is outside -120..40", v);
			return -EINVAL;
		}
		st->gain_db = v;
		st->gain = (float)__builtin_pow(10.0, v / 20.0);
	}
	for (unsigned i = 0; i < 16; i++) {
		char key[8];

		snprintf(key, sizeof(key), "s%u", i);
		if (pt_param_double(d, n, key, &v) == 0)
			st->slot[i] = v;
	}
	if (pt_param_double(d, n, "at", &v) == 0)
		st->at = (uint64_t)v;
	if (pt_param_double(d, n, "every", &v) == 0)
		st->every = (uint64_t)v;
	if (pt_param_double(d, n, "spike", &v) == 0)
		st->spike = v != 0.0;
	if (pt_param_double(d, n, "slow_ms", &v) == 0)
		st->slow_ms = v;
	if (pt_param_string(d, n, "fault", name, sizeof(name)) >= 0) {
		unsigned i;

		for (i = 0; fault_names[i] && strcmp(fault_names[i], name); i++)
			;
		if (!fault_names[i]) {
			pt_log(mod, PT_LOG_ERR, "fault=%s is not a fault", name);
			return -EINVAL;
		}
		st->fault = (enum fault)i;
	}
	return 0;
}

static int fault_init(struct pt_module *mod, const void *d, size_t n)
{
	struct state *st = pt_mod_alloc(mod, sizeof(*st));

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	st->gain = 1.0f;
	pt_mod_set_priv(mod, st);
	return params(mod, st, d, n);
}

static int fault_set_config(struct pt_module *mod, uint32_t param,
			    const void *d, size_t n)
{
	struct state *st = pt_mod_priv(mod);
	struct state copy = *st;
	int ret;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	ret = params(mod, &copy, d, n);
	if (!ret)
		*st = copy;
	return ret;
}

static int fault_get_config(struct pt_module *mod, uint32_t param, void *d,
			    size_t *n)
{
	const struct state *st = pt_mod_priv(mod);
	char text[1024];
	int len;

	if (param != PT_PARAM_TEXT)
		return -EINVAL;
	len = snprintf(text, sizeof(text),
		       "gain_db=%.17g at=%llu spike=%d slow_ms=%.17g fault=%s",
		       st->gain_db, (unsigned long long)st->at, st->spike,
		       st->slow_ms, fault_names[st->fault]);
	for (unsigned i = 0; i < 16 && len < (int)sizeof(text); i++)
		len += snprintf(text + len, sizeof(text) - (size_t)len, " s%u=%.17g",
				i, st->slot[i]);
	if (len >= (int)sizeof(text) || (size_t)len > *n)
		return -ENOSPC;
	memcpy(d, text, (size_t)len);
	*n = (size_t)len;
	return 0;
}

static int fault_prepare(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	if (nsrc != 1 || nsnk != 1 ||
	    pt_source_format(src[0])->sample != PT_SAMPLE_FLOAT_LE ||
	    memcmp(pt_source_format(src[0]), pt_sink_format(snk[0]),
		   sizeof(struct pt_format))) {
		pt_log(mod, PT_LOG_ERR, "needs one FLOAT_LE input and the same output");
		return -EINVAL;
	}
	return 0;
}

static void busy_wait_ms(double ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((double)(b.tv_sec - a.tv_sec) * 1e3 +
		       (double)(b.tv_nsec - a.tv_nsec) / 1e6 < ms);
}

static int fault_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	struct state *st = pt_mod_priv(mod);
	const struct pt_format *f = pt_source_format(src[0]);
	size_t n = (size_t)pt_mod_period_frames(mod) * f->channels;
	const void *d, *ds;
	void *o, *os;
	size_t dsz, osz;

	bool now;

	(void)nsrc;
	(void)nsnk;
	if (pt_source_get_data(src[0], n * 4, &d, &ds, &dsz) ||
	    pt_sink_get_buffer(snk[0], n * 4, &o, &os, &osz))
		return -ENODATA;
	now = ++st->calls == st->at ||
	      (st->every && st->calls > st->at && (st->calls - st->at) % st->every == 0);
	for (size_t i = 0; st->spike && !now && i < n; i++)
		now = ((const float *)ds)[((size_t)((const char *)d - (const char *)ds) / 4 + i) %
					   (dsz / 4)] >= 0.5f;
	if (now) {
		switch (st->fault) {
		case F_SEGV: {
			/* An address the compiler cannot prove bad: no mapping
			 * lives in the first page. */
			volatile uintptr_t where = 8;

			*(volatile int *)where = 1;
			break;
		}
		case F_ABORT:
			abort();
		case F_SPIN:
			for (;;)
				__asm__ volatile("" ::: "memory");
		case F_SLOW:
			busy_wait_ms(st->slow_ms);
			break;
		case F_FAIL:
			pt_log(mod, PT_LOG_ERR, "failing call %llu on purpose",
			       (unsigned long long)st->calls);
			return -EIO;
		case F_WARN: /* a warning, the call goes on */
			pt_log(mod, PT_LOG_WARN, "a warning at call %llu",
			       (unsigned long long)st->calls);
			break;
		default:
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t si = ((size_t)((const char *)d - (const char *)ds) / 4 + i) % (dsz / 4);
		size_t oi = ((size_t)((char *)o - (char *)os) / 4 + i) % (osz / 4);

		((float *)os)[oi] = ((const float *)ds)[si] * st->gain;
	}
	pt_source_release(src[0], n * 4);
	pt_sink_commit(snk[0], n * 4);
	if (now && st->fault == F_LIE)
		snk[0]->produced = snk[0]->free + 4096;
	return 0;
}

static const struct pt_module_ops fault_ops = {
	.init = fault_init,
	.prepare = fault_prepare,
	.process = fault_process,
	.set_config = fault_set_config,
	.get_config = fault_get_config,
};

PT_MODULE(fault, fault_ops, .name = "fault",
	  .uuid = { 0x66, 0x61, 0x75, 0x6c, 0x74 },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 65536,
	  .stack_size = 65536, .flags = PT_MOD_FLAG_ISOLATABLE,
	  .max_sources = 1, .max_sinks = 1);
