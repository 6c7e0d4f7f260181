/* SPDX-License-Identifier: MIT */
/* lib/sof: the firmware's bounded copies on the C library. */
#ifndef PT_SOF_RTOS_STRING_H
#define PT_SOF_RTOS_STRING_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Copies @count bytes into @dest of @dest_size; -EINVAL (and nothing
 * copied) when they do not fit or a pointer is NULL. Overlap is allowed. */
static inline int memcpy_s(void *dest, size_t dest_size, const void *src,
			   size_t count)
{
	if (!dest || !src || count > dest_size)
		return -EINVAL;
	memmove(dest, src, count);
	return 0;
}

static inline int memset_s(void *dest, size_t dest_size, int data, size_t count)
{
	if (!dest || count > dest_size)
		return -EINVAL;
	memset(dest, data, count);
	return 0;
}

#define bzero(p, n) memset((p), 0, (n))
#define rstrlen strlen
#define rstrcmp strcmp

#endif
