/* SPDX-License-Identifier: MIT */
/*
 * host/mm/partition - partitions: sealed memfds charged to the user heap.
 *
 * A partition is the unit of memory a domain can be granted. Its size is
 * sealed (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) before any other
 * process sees it, so no holder can shrink it under another's feet (which
 * would SIGBUS the host). The host maps it read-write for itself; a reader
 * domain gets pt_partition_ro_fd(), an O_RDONLY re-open that mprotect
 * cannot upgrade.
 *
 * Retiring: a grant cannot be taken back from a process that holds the fd,
 * so a partition is never reused. Each holder (the host, each domain it was
 * granted to) is counted; the bytes return to the budget when the last
 * holder lets go (pt_partition_put).
 */
#ifndef PT_HOST_MM_PARTITION_H
#define PT_HOST_MM_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include "host/mm/budget.h"

enum pt_partition_kind {
	PT_PARTITION_HEAP,   /* a domain's private heap and stack */
	PT_PARTITION_BUFFER, /* an audio buffer between two instances */
	PT_PARTITION_CONFIG, /* config/IPC payload */
	PT_PARTITION_RINGS,  /* a domain's control partition */
	PT_PARTITION_ACTIVATION, /* an in-period chain stage's activation
				    record (lib/domain/protocol.h) */
};

struct pt_partition {
	uint32_t id;     /* unique for the host's lifetime, never reused */
	enum pt_partition_kind kind;
	int fd;          /* read-write memfd, host-owned */
	size_t size;     /* sealed size, a whole number of pages */
	void *map;       /* host's read-write mapping of all of it */
	size_t charged;  /* bytes charged to the budget */
	unsigned holders;
	struct pt_budget *budget;
	char name[64];
};

/* Returns the name of @kind ("heap", "buffer", "config", "rings",
 * "activation"). */
const char *pt_partition_kind_name(enum pt_partition_kind kind);

/*
 * Creates a zeroed partition of @size bytes (rounded up to pages) charged to
 * @budget on behalf of @who, sealed and mapped. The host is its one holder.
 * Returns NULL with @err set (budget exhausted, memfd failure).
 */
struct pt_partition *pt_partition_create(struct pt_budget *budget,
					 enum pt_partition_kind kind,
					 const char *who, const char *name,
					 size_t size, char *err, size_t errlen);

/* Returns a new O_RDONLY fd on @p (the caller closes it), or -errno. */
int pt_partition_ro_fd(const struct pt_partition *p);

/* Counts one more holder (a domain @p was granted to). */
void pt_partition_hold(struct pt_partition *p);

/* Drops one holder; the last one unmaps, closes, returns the bytes to the
 * budget and frees @p. NULL is ignored. */
void pt_partition_put(struct pt_partition *p);

#endif
