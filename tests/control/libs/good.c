/* SPDX-License-Identifier: MIT */
/* A well-formed module library for the library manager's tests. The host
 * only reads its manifest; its process is never called by those tests. */
#include <partita/module.h>

static int process(struct pt_module *mod, struct pt_source *const *sources,
		   unsigned nsources, struct pt_sink *const *sinks, unsigned nsinks)
{
	(void)mod, (void)sources, (void)nsources, (void)sinks, (void)nsinks;
	return 0;
}

static const struct pt_module_ops ops = { .process = process };

PT_MODULE(testgood, ops, .name = "testgood",
	  .uuid = { 0x9a, 0x51, 0x2c, 0x07, 0x4e, 0x11, 0x4b, 0x6d, 0x8f, 0x3a,
		    0x21, 0xd0, 0x5e, 0x77, 0x10, 0x01 },
	  .version = PT_VERSION(1, 2, 3), .heap_size = 65536,
	  .stack_size = 65536, .max_sources = 1, .max_sinks = 1,
	  .flags = PT_MOD_FLAG_ISOLATABLE);
