/* SPDX-License-Identifier: MIT */
/* A module library built for another ABI version: its manifest says 99.
 * Written out by hand because PT_MODULE always stamps this header's
 * version. */
#include <partita/module.h>

static int process(struct pt_module *mod, struct pt_source *const *sources,
		   unsigned nsources, struct pt_sink *const *sinks, unsigned nsinks)
{
	(void)mod, (void)sources, (void)nsources, (void)sinks, (void)nsinks;
	return 0;
}

static const struct pt_module_ops ops = { .process = process };

__attribute__((section(PT_MANIFEST_SECTION), used, aligned(8)))
static const struct pt_manifest manifest = {
	.magic = PT_MANIFEST_MAGIC,
	.abi_version = 99,
	.name = "wrongabi",
	.uuid = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 },
	.version = PT_VERSION(1, 0, 0),
	.max_sources = 1,
	.max_sinks = 1,
};

__attribute__((visibility("default")))
const struct pt_module_entry pt_module_entry = { &manifest, &ops };
