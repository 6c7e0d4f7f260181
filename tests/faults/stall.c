/* SPDX-License-Identifier: MIT */
/*
 * stall - a pass-through that keeps every rule the host checks (its counts
 * are always true) and still makes no progress, for the tests of
 * docs/architecture.md "An instance that makes no progress".
 *
 * One FLOAT_LE input, one output of the same format. Honest (kind=none) it
 * copies one period per call. From its process call number from=N
 * (counted from 1, default 1) it does what kind= says, every call:
 *   noconsume   takes nothing and writes nothing
 *   flood       commits all of its free space, takes nothing
 *   noproduce   takes its period, writes nothing
 *   under       takes its period, writes half of it
 *   trickle     takes one frame, writes one frame
 *   alternate   copies a period on one call, does nothing on the next
 *   notready    its own readiness says no from then on
 *   hugealign   (at prepare) asks for an input alignment of 2^30 frames,
 *               which no buffer meets: the default rule would never hold
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <partita/module.h>

enum kind { K_NONE, K_NOCONSUME, K_FLOOD, K_NOPRODUCE, K_UNDER, K_TRICKLE,
	    K_ALTERNATE, K_NOTREADY, K_HUGEALIGN };

static const char *const kind_names[] = { "none", "noconsume", "flood",
					  "noproduce", "under", "trickle",
					  "alternate", "notready", "hugealign",
					  NULL };

struct state {
	enum kind kind;
	uint64_t from, calls;
};

static int stall_params(struct pt_module *mod, struct state *st, const void *d,
			size_t n)
{
	char name[16];
	double v;

	if (pt_param_double(d, n, "from", &v) == 0)
		st->from = v < 1.0 ? 1 : (uint64_t)v;
	if (pt_param_string(d, n, "kind", name, sizeof(name)) >= 0) {
		unsigned i;

		for (i = 0; kind_names[i] && strcmp(kind_names[i], name); i++)
			;
		if (!kind_names[i]) {
			pt_log(mod, PT_LOG_ERR, "kind=%s is not a kind of stall", name);
			return -EINVAL;
		}
		st->kind = (enum kind)i;
	}
	return 0;
}

static int stall_init(struct pt_module *mod, const void *d, size_t n)
{
	struct state *st = pt_mod_alloc(mod, sizeof(*st));

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	st->from = 1;
	pt_mod_set_priv(mod, st);
	return stall_params(mod, st, d, n);
}

static int stall_prepare(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk, unsigned nsnk)
{
	if (nsrc != 1 || nsnk != 1 ||
	    pt_source_format(src[0])->sample != PT_SAMPLE_FLOAT_LE ||
	    memcmp(pt_source_format(src[0]), pt_sink_format(snk[0]),
		   sizeof(struct pt_format))) {
		pt_log(mod, PT_LOG_ERR, "needs one FLOAT_LE input and the same output");
		return -EINVAL;
	}
	if (((struct state *)pt_mod_priv(mod))->kind == K_HUGEALIGN)
		return pt_source_set_alignment(src[0], 4, 1u << 30);
	return 0;
}

static bool misbehaving(const struct state *st, uint64_t call)
{
	return st->kind != K_NONE && call >= st->from;
}

static bool stall_is_ready(struct pt_module *mod, struct pt_source *const *src,
			   unsigned nsrc, struct pt_sink *const *snk,
			   unsigned nsnk)
{
	struct state *st = pt_mod_priv(mod);
	uint32_t period = pt_mod_period_frames(mod);

	(void)nsrc;
	(void)nsnk;
	if (st->kind == K_NOTREADY && misbehaving(st, st->calls + 1))
		return false;
	return pt_source_frames_available(src[0]) >= period &&
	       pt_sink_frames_free(snk[0]) >= period;
}

/* Copies @frames frames from the source to the sink, through the wrap. */
static int copy(struct pt_source *src, struct pt_sink *snk, size_t frames)
{
	size_t frame = pt_frame_bytes(pt_source_format(src)), bytes = frames * frame;
	const void *d, *ds;
	void *o, *os;
	size_t dsz, osz;

	if (pt_source_get_data(src, bytes, &d, &ds, &dsz) ||
	    pt_sink_get_buffer(snk, bytes, &o, &os, &osz))
		return -ENODATA;
	for (size_t i = 0; i < bytes; i++) {
		size_t si = ((size_t)((const char *)d - (const char *)ds) + i) % dsz;
		size_t oi = ((size_t)((char *)o - (char *)os) + i) % osz;

		((char *)os)[oi] = ((const char *)ds)[si];
	}
	return 0;
}

/* Commits @frames frames of a constant (not silence: it shows). */
static int fill(struct pt_sink *snk, size_t frames)
{
	size_t bytes = frames * pt_frame_bytes(pt_sink_format(snk));
	void *o, *os;
	size_t osz;

	if (!bytes)
		return 0;
	if (pt_sink_get_buffer(snk, bytes, &o, &os, &osz))
		return -ENODATA;
	for (size_t i = 0; i < bytes / 4; i++) {
		size_t oi = ((size_t)((char *)o - (char *)os) / 4 + i) % (osz / 4);

		((float *)os)[oi] = 0.125f;
	}
	return pt_sink_commit(snk, bytes);
}

static int stall_process(struct pt_module *mod, struct pt_source *const *src,
			 unsigned nsrc, struct pt_sink *const *snk,
			 unsigned nsnk)
{
	struct state *st = pt_mod_priv(mod);
	size_t period = pt_mod_period_frames(mod);
	size_t frame = pt_frame_bytes(pt_source_format(src[0]));
	uint64_t call = ++st->calls;
	size_t take = period, give = period;
	int ret;

	(void)nsrc;
	(void)nsnk;
	if (misbehaving(st, call)) {
		switch (st->kind) {
		case K_NOCONSUME:
			return 0;
		case K_FLOOD:
			return fill(snk[0], pt_sink_frames_free(snk[0]));
		case K_NOPRODUCE:
			give = 0;
			break;
		case K_UNDER:
			give = period / 2;
			break;
		case K_TRICKLE:
			take = give = 1;
			break;
		case K_ALTERNATE:
			if (call % 2)
				return 0;
			break;
		default:
			break;
		}
	}
	ret = give ? copy(src[0], snk[0], give) : 0;
	if (!ret && give)
		ret = pt_sink_commit(snk[0], give * frame);
	if (!ret)
		ret = pt_source_release(src[0], take * frame);
	return ret;
}

static const struct pt_module_ops stall_ops = {
	.init = stall_init,
	.prepare = stall_prepare,
	.process = stall_process,
	.is_ready = stall_is_ready,
};

PT_MODULE(stall, stall_ops, .name = "stall",
	  .uuid = { 0x73, 0x74, 0x61, 0x6c, 0x6c },
	  .version = PT_VERSION(1, 0, 0), .heap_size = 65536,
	  .stack_size = 65536,
	  .flags = PT_MOD_FLAG_ISOLATABLE | PT_MOD_FLAG_CUSTOM_READY,
	  .max_sources = 1, .max_sinks = 1);
