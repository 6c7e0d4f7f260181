/* SPDX-License-Identifier: MIT */
/*
 * split - one input copied to two outputs (fan-out), for the access-matrix
 * test: honest, and the only shipped-style module with two sinks.
 */
#include <errno.h>

#include <partita/module.h>

static int split_process(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	size_t bytes = pt_mod_period_frames(mod) * pt_source_format(sources[0])->channels *
		       pt_sample_bytes(pt_source_format(sources[0])->sample);

	if (nsources != 1 || nsinks != 2)
		return -EINVAL;
	for (unsigned k = 0; k < nsinks; k++) {
		const void *rd, *rstart;
		void *wr, *wstart;
		size_t rsize, wsize;

		if (pt_source_get_data(sources[0], bytes, &rd, &rstart, &rsize) ||
		    pt_sink_get_buffer(sinks[k], bytes, &wr, &wstart, &wsize))
			return -ENODATA;
		for (size_t i = 0; i < bytes; i++) {
			size_t ri = ((size_t)((const char *)rd - (const char *)rstart) + i) % rsize;
			size_t wi = ((size_t)((char *)wr - (char *)wstart) + i) % wsize;

			((char *)wstart)[wi] = ((const char *)rstart)[ri];
		}
		pt_sink_commit(sinks[k], bytes);
	}
	return pt_source_release(sources[0], bytes);
}

static int split_prepare(struct pt_module *mod, struct pt_source *const *sources,
			 unsigned nsources, struct pt_sink *const *sinks,
			 unsigned nsinks)
{
	(void)mod;
	if (nsources != 1 || nsinks != 2)
		return -EINVAL;
	for (unsigned k = 0; k < nsinks; k++) {
		const struct pt_format *a = pt_source_format(sources[0]);
		const struct pt_format *b = pt_sink_format(sinks[k]);

		if (a->rate != b->rate || a->channels != b->channels || a->sample != b->sample)
			return -EINVAL;
	}
	return 0;
}

static const struct pt_module_ops split_ops = {
	.prepare = split_prepare,
	.process = split_process,
};

PT_MODULE(split, split_ops, .name = "split",
	  .uuid = { 0x53, 0x50, 0x4c, 0x49, 0x54, 0x00, 0x40, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 },
	  .version = PT_VERSION(1, 0, 0),
	  .flags = PT_MOD_FLAG_ISOLATABLE, .heap_size = 4096, .stack_size = 16384,
	  .max_sources = 1, .max_sinks = 2);
