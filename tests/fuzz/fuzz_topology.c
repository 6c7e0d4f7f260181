/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the topology loader. Any input must load or be refused with
 * a "FILE:LINE: FIELD: ..." error; every message a loaded topology yields
 * must pass the control decoder (the loader never emits what the host
 * would refuse on form alone).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/control/codec.h"
#include "host/topology/topology.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_topology t;
	struct pt_ctl_request req;
	char err[1024] = "";
	int ret;

	ret = pt_topology_parse(data, size, "/fuzz/t.yaml", &t, err, sizeof(err));
	if (ret) {
		if (strncmp(err, "/fuzz/t.yaml", 12) || t.nmsgs || t.msgs)
			abort();
		return 0;
	}
	for (size_t i = 0; i < t.nmsgs; i++)
		if (pt_ctl_decode(t.msgs[i].data, t.msgs[i].size, &req, err,
				  sizeof(err)) != PT_CTL_OK || !t.msgs[i].line)
			abort();
	pt_topology_free(&t);
	return 0;
}
