/* SPDX-License-Identifier: MIT */
#include "host/mm/budget.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void pt_budget_init(struct pt_budget *b, size_t total)
{
	long page = sysconf(_SC_PAGESIZE);

	pthread_mutex_init(&b->lock, NULL);
	b->page = page > 0 ? (size_t)page : 4096;
	b->total = total / b->page * b->page;
	b->used = 0;
	b->peak = 0;
}

size_t pt_budget_round(const struct pt_budget *b, size_t bytes)
{
	if (bytes > SIZE_MAX - (b->page - 1))
		return SIZE_MAX;
	return (bytes + b->page - 1) / b->page * b->page;
}

int pt_budget_take(struct pt_budget *b, const char *who, size_t bytes,
		   size_t *charged, char *err, size_t errlen)
{
	size_t want = pt_budget_round(b, bytes);
	int ret = 0;

	pthread_mutex_lock(&b->lock);
	if (want > b->total - b->used) {
		snprintf(err, errlen,
			 "user heap exhausted: instance %s asked for %zu bytes, %zu left of %zu",
			 who, bytes, b->total - b->used, b->total);
		ret = -ENOMEM;
	} else {
		b->used += want;
		if (b->used > b->peak)
			b->peak = b->used;
		*charged = want;
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}

void pt_budget_give(struct pt_budget *b, size_t charged)
{
	pthread_mutex_lock(&b->lock);
	b->used -= charged <= b->used ? charged : b->used;
	pthread_mutex_unlock(&b->lock);
}

size_t pt_budget_left(struct pt_budget *b)
{
	size_t left;

	pthread_mutex_lock(&b->lock);
	left = b->total - b->used;
	pthread_mutex_unlock(&b->lock);
	return left;
}

int pt_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10, end++;
		break;
	case 'm': case 'M':
		shift = 20, end++;
		break;
	case 'g': case 'G':
		shift = 30, end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'B' || *end == 'b') && shift)
		end++;
	if (*end || v > (SIZE_MAX >> shift))
		return -EINVAL;
	*out = (size_t)(v << shift);
	return 0;
}
