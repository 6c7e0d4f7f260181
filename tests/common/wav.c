/* SPDX-License-Identifier: MIT */
/* tests/common - reading a test's audio files back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/common/wav.h"

int *pt_test_wav_read_int(const char *path, SF_INFO *info)
{
	SNDFILE *sf;
	int *buf;

	memset(info, 0, sizeof(*info));
	sf = sf_open(path, SFM_READ, info);
	assert_non_null(sf);
	buf = malloc(sizeof(int) * (size_t)(info->frames * info->channels + 1));
	assert_non_null(buf);
	assert_int_equal(sf_readf_int(sf, buf, info->frames), info->frames);
	sf_close(sf);
	return buf;
}
