/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the library manifest reader (libelf over an image in
 * memory). Any input must parse or be refused with a reason; a manifest it
 * accepts must pass the manifest checks on its own.
 */
#include <stdint.h>
#include <stdlib.h>

#include "host/libmgr/library.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pt_manifest m;
	char err[512] = "";

	if (pt_library_parse(data, size, &m, err, sizeof(err))) {
		if (!err[0])
			abort();
		return 0;
	}
	if (pt_manifest_check(&m, err, sizeof(err)))
		abort();
	return 0;
}
