/* SPDX-License-Identifier: MIT */
#include "host/mm/partition.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static atomic_uint next_id = 1;

const char *pt_partition_kind_name(enum pt_partition_kind kind)
{
	switch (kind) {
	case PT_PARTITION_HEAP:
		return "heap";
	case PT_PARTITION_BUFFER:
		return "buffer";
	case PT_PARTITION_CONFIG:
		return "config";
	case PT_PARTITION_ACTIVATION:
		return "activation";
	case PT_PARTITION_RINGS:
		return "rings";
	}
	return "?";
}

struct pt_partition *pt_partition_create(struct pt_budget *budget,
					 enum pt_partition_kind kind,
					 const char *who, const char *name,
					 size_t size, char *err, size_t errlen)
{
	struct pt_partition *p;
	size_t charged;

	if (size == 0) {
		snprintf(err, errlen, "partition %s: zero size", name);
		return NULL;
	}
	if (pt_budget_take(budget, who, size, &charged, err, errlen))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p) {
		pt_budget_give(budget, charged);
		snprintf(err, errlen, "partition %s: out of host memory", name);
		return NULL;
	}
	p->id = atomic_fetch_add(&next_id, 1);
	p->kind = kind;
	p->size = charged;
	p->charged = charged;
	p->budget = budget;
	p->holders = 1;
	snprintf(p->name, sizeof(p->name), "%s", name);

	p->fd = memfd_create(p->name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (p->fd < 0)
		goto fail;
	if (ftruncate(p->fd, (off_t)p->size) < 0 ||
	    fcntl(p->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	p->map = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		goto fail;
	}
	return p;
fail:
	snprintf(err, errlen, "partition %s: %s", name, strerror(errno));
	if (p->fd >= 0)
		close(p->fd);
	pt_budget_give(budget, charged);
	free(p);
	return NULL;
}

int pt_partition_ro_fd(const struct pt_partition *p)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", p->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void pt_partition_hold(struct pt_partition *p)
{
	p->holders++;
}

void pt_partition_put(struct pt_partition *p)
{
	if (!p || --p->holders)
		return;
	if (p->map)
		munmap(p->map, p->size);
	close(p->fd);
	pt_budget_give(p->budget, p->charged);
	free(p);
}
