/* SPDX-License-Identifier: MIT */
/* lib/sof: Partita has no DMA; audio_stream.h names the state of one. */
#ifndef PT_SOF_LIB_DMA_H
#define PT_SOF_LIB_DMA_H

#include <stdbool.h>
#include <stdint.h>

struct dma_status {
	bool busy;
	uint32_t dir;
	uint32_t pending_length;
	uint32_t free;
	uint32_t read_position;
	uint32_t write_position;
	uint64_t total_copied;
};

#endif
