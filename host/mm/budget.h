/* SPDX-License-Identifier: MIT */
/*
 * host/mm/budget - the user heap budget.
 *
 * The firmware carves every user-mode private heap and every buffer out of
 * one global user heap whose size is fixed at build time. Partita keeps the
 * same discipline: one budget (user_heap_size, PT_USER_HEAP_SIZE_DEFAULT,
 * overridable with --user-heap) from which partitions are charged in whole
 * pages. Exhaustion is an error at instance creation or bind, never later.
 */
#ifndef PT_HOST_MM_BUDGET_H
#define PT_HOST_MM_BUDGET_H

#include <pthread.h>
#include <stddef.h>

struct pt_budget {
	pthread_mutex_t lock;
	size_t total; /* bytes, a whole number of pages */
	size_t used;  /* bytes charged now */
	size_t peak;  /* highest value of used */
	size_t page;  /* the charging granule */
};

/* Sets the budget to @total bytes, rounded down to whole pages. */
void pt_budget_init(struct pt_budget *b, size_t total);

/* Returns @bytes rounded up to whole pages (0 stays 0; SIZE_MAX on overflow). */
size_t pt_budget_round(const struct pt_budget *b, size_t bytes);

/*
 * Charges @bytes (rounded up to pages) for @who. Returns 0 and sets
 * *@charged, or -ENOMEM with @err saying
 * "user heap exhausted: instance WHO asked for N bytes, M left of T".
 */
int pt_budget_take(struct pt_budget *b, const char *who, size_t bytes,
		   size_t *charged, char *err, size_t errlen);

/* Returns @charged bytes (a value pt_budget_take gave) to the budget. */
void pt_budget_give(struct pt_budget *b, size_t charged);

/* Returns the bytes still free. */
size_t pt_budget_left(struct pt_budget *b);

/* Parses a size such as "64M", "512k", "1G" or "65536" into *@out.
 * Returns 0 or -EINVAL. */
int pt_parse_size(const char *s, size_t *out);

#endif
