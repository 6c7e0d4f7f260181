/* SPDX-License-Identifier: MIT */
/* libFuzzer: the shipped modules' parameter parsers and run-time config,
 * with formats and pins from the input (see tests/modules/module_fuzz.h). */
#include "tests/modules/module_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	module_fuzz_one(data, size);
	return 0;
}
