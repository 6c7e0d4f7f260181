/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the control message decoder. Any input must be decoded or
 * refused without a crash, and a request the decoder accepts must encode
 * back to exactly the same bytes (so validation saw every field).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/control/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[PT_CTL_MSG_MAX];
	struct pt_ctl_request req;
	struct pt_ctl_reply rep;
	char err[PT_CTL_ERR_MAX];
	enum pt_ctl_status st;
	const char *layout;
	size_t n, body;

	st = pt_ctl_decode(data, size, &req, err, sizeof(err));
	if (st >= PT_CTL_STATUS_COUNT || (st != PT_CTL_OK && !err[0]))
		abort();
	/* the client's reply decoder must survive the same bytes */
	(void)pt_ctl_decode_reply(data, size, &rep, err, sizeof(err));
	if (st != PT_CTL_OK)
		return 0;
	layout = pt_ctl_layout(req.hdr.type, false);
	body = pt_ctl_layout_size(layout);
	n = pt_ctl_encode(again, sizeof(again), req.hdr.type, 0, req.hdr.seq, 0,
			  &req.u, layout, data + 16 + body, size - 16 - body, NULL, 0);
	if (n != size || memcmp(again, data, size))
		abort();
	if (req.data && (req.data < (const void *)data ||
			 (const uint8_t *)req.data + req.data_size > data + size))
		abort();
	return 0;
}
