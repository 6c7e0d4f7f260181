// SPDX-License-Identifier: MIT
/*
 * A hostile firmware module, written as firmware modules are (struct
 * module_interface over the firmware's headers) and built with
 * partita-sof-build like any other: its set_configuration chooses how it
 * misbehaves in process. 1: crash (write through NULL), 2: hang (spin),
 * 3: lie (its sink's stream records more room than there is, so what it
 * says it produced does not add up). 0: copy.
 */
#include <sof/audio/module_adapter/module/generic.h>
#include <sof/audio/component.h>
#include <sof/audio/buffer.h>
#include <sof/audio/sink_api.h>
#include <sof/audio/source_api.h>
#include <rtos/init.h>
#include <sof/lib/uuid.h>
#include <sof/trace/trace.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

SOF_DEFINE_REG_UUID(template);
DECLARE_TR_CTX(hostile_tr, SOF_UUID(template_uuid), LOG_LEVEL_INFO);

static volatile uint32_t how;

static int hostile_init(struct processing_module *mod)
{
	(void)mod;
	return 0;
}

static int hostile_set_config(struct processing_module *mod, uint32_t config_id,
			      enum module_cfg_fragment_position pos, uint32_t data_offset_size,
			      const uint8_t *fragment, size_t fragment_size, uint8_t *response,
			      size_t response_size)
{
	if (fragment_size >= 4)
		memcpy((void *)&how, fragment, 4);
	return 0;
}

static int hostile_process(struct processing_module *mod,
			   struct sof_source **sources, int num_of_sources,
			   struct sof_sink **sinks, int num_of_sinks)
{
	size_t bytes = source_get_data_available(sources[0]);
	size_t room = sink_get_free_size(sinks[0]);
	const void *in, *in_start;
	void *out, *out_start;
	size_t in_size, out_size;

	if (how == 1)
		*(volatile int *)0 = 1;
	while (how == 2)
		;
	if (bytes > room)
		bytes = room;
	if (source_get_data(sources[0], bytes, &in, &in_start, &in_size) ||
	    sink_get_buffer(sinks[0], bytes, &out, &out_start, &out_size))
		return -ENODATA;
	for (size_t i = 0; i < bytes; i++) {
		((uint8_t *)out)[0] = *(const uint8_t *)in;
		in = (const uint8_t *)in + 1 == (const uint8_t *)in_start + in_size ?
		     in_start : (const uint8_t *)in + 1;
		out = (uint8_t *)out + 1 == (uint8_t *)out_start + out_size ?
		      out_start : (uint8_t *)out + 1;
	}
	source_release_data(sources[0], bytes);
	sink_commit_buffer(sinks[0], bytes);
	if (how == 3) {
		/* The API clamps what a module commits; a lying module goes
		 * around it, into the stream record it holds. */
		struct comp_buffer *b = comp_buffer_get_from_sink(sinks[0]);

		b->stream.free += 4096;
	}
	return 0;
}

static const struct module_interface hostile_interface = {
	.init = hostile_init,
	.set_configuration = hostile_set_config,
	.process = hostile_process,
};

DECLARE_MODULE_ADAPTER(hostile_interface, template_uuid, hostile_tr);
SOF_MODULE_INIT(hostile, sys_comp_module_hostile_interface_init);
