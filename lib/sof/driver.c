/* SPDX-License-Identifier: MIT */
/*
 * lib/sof/driver.c - the firmware's component driver entry points.
 *
 * DECLARE_MODULE_ADAPTER (the firmware's generic.h, used as it is) puts
 * these in the module's struct comp_driver: they are how the firmware's
 * IPC and pipeline code reach a module. Partita has neither: its adapter
 * (adapter.c) calls the module's struct module_interface directly, the
 * one part of the driver it uses. A call here means something took the
 * firmware's own IPC path; it is refused with -ENOTSUP.
 */
#include <errno.h>

#include <sof/audio/module_adapter/module/generic.h>
#include <sof/audio/component.h>

struct comp_dev *module_adapter_new(const struct comp_driver *drv,
				    const struct comp_ipc_config *config,
				    const void *spec)
{
	(void)drv;
	(void)config;
	(void)spec;
	return NULL;
}

int module_adapter_prepare(struct comp_dev *dev)
{
	(void)dev;
	return -ENOTSUP;
}

int module_adapter_params(struct comp_dev *dev, struct sof_ipc_stream_params *params)
{
	(void)dev;
	(void)params;
	return -ENOTSUP;
}

int module_adapter_copy(struct comp_dev *dev)
{
	(void)dev;
	return -ENOTSUP;
}

int module_adapter_trigger(struct comp_dev *dev, int cmd)
{
	(void)dev;
	(void)cmd;
	return -ENOTSUP;
}

void module_adapter_free(struct comp_dev *dev)
{
	(void)dev;
}

int module_adapter_reset(struct comp_dev *dev)
{
	(void)dev;
	return -ENOTSUP;
}

int module_set_large_config(struct comp_dev *dev, uint32_t param_id, bool first_block,
			    bool last_block, uint32_t data_offset, const char *data)
{
	(void)dev;
	(void)param_id;
	(void)first_block;
	(void)last_block;
	(void)data_offset;
	(void)data;
	return -ENOTSUP;
}

int module_get_large_config(struct comp_dev *dev, uint32_t param_id, bool first_block,
			    bool last_block, uint32_t *data_offset, char *data)
{
	(void)dev;
	(void)param_id;
	(void)first_block;
	(void)last_block;
	(void)data_offset;
	(void)data;
	return -ENOTSUP;
}

int module_adapter_get_attribute(struct comp_dev *dev, uint32_t type, void *value)
{
	(void)dev;
	(void)type;
	(void)value;
	return -ENOTSUP;
}

int module_adapter_set_attribute(struct comp_dev *dev, uint32_t type, void *value)
{
	(void)dev;
	(void)type;
	(void)value;
	return -ENOTSUP;
}

int module_adapter_bind(struct comp_dev *dev, const struct bind_info *bind_data)
{
	(void)dev;
	(void)bind_data;
	return -ENOTSUP;
}

int module_adapter_unbind(struct comp_dev *dev, const struct bind_info *unbind_data)
{
	(void)dev;
	(void)unbind_data;
	return -ENOTSUP;
}

uint64_t module_adapter_get_total_data_processed(struct comp_dev *dev,
						 uint32_t stream_no, bool input)
{
	(void)dev;
	(void)stream_no;
	(void)input;
	return 0;
}

int module_adapter_get_hw_params(struct comp_dev *dev, struct sof_ipc_stream_params *params,
				 int dir)
{
	(void)dev;
	(void)params;
	(void)dir;
	return -ENOTSUP;
}

int module_adapter_position(struct comp_dev *dev, struct sof_ipc_stream_posn *posn)
{
	(void)dev;
	(void)posn;
	return -ENOTSUP;
}

int module_adapter_ts_config_op(struct comp_dev *dev)
{
	(void)dev;
	return -ENOTSUP;
}

int module_adapter_ts_start_op(struct comp_dev *dev)
{
	(void)dev;
	return -ENOTSUP;
}

int module_adapter_ts_stop_op(struct comp_dev *dev)
{
	(void)dev;
	return -ENOTSUP;
}

int module_adapter_ts_get_op(struct comp_dev *dev, struct timestamp_data *tsd)
{
	(void)dev;
	(void)tsd;
	return -ENOTSUP;
}
