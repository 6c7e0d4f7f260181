/* SPDX-License-Identifier: MIT */
/* lib/sof: the firmware's global context. On Partita a library holds one
 * module; what the firmware finds here (its list of registered component
 * drivers) is the adapter's. */
#ifndef PT_SOF_RTOS_SOF_H
#define PT_SOF_RTOS_SOF_H

struct comp_driver_list;
struct ipc;
struct ll_schedule_domain;
struct dma_info;
struct dai_info;
struct notify_data;
struct ext_library;
struct ams_shared_context;
struct probe_pdata;

struct sof {
	int argc;
	char **argv;
	struct comp_driver_list *comp_drivers;
	struct ipc *ipc;
	struct ll_schedule_domain *platform_timer_domain;
	struct ll_schedule_domain *platform_dma_domain;
	const struct dma_info *dma_info;
	const struct dai_info *dai_info;
	struct notify_data *notify_data;
	struct ext_library *ext_library;
	struct ams_shared_context *ams_shared_ctx;
	struct probe_pdata *probe;
	void *dmat;
};

struct sof *sof_get(void);

#endif
