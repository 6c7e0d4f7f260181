/* SPDX-License-Identifier: MIT */
/*
 * The user heap budget (host/mm/budget) and the partitions carved from it
 * (host/mm/partition): page-granular accounting, the exhaustion message,
 * and bytes returning only when the last holder lets go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "host/mm/budget.h"
#include "host/mm/partition.h"

static size_t page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static void init_rounds_down_to_pages(void **state)
{
	struct pt_budget b;

	(void)state;
	pt_budget_init(&b, 10 * page() + 123);
	assert_int_equal(b.total, 10 * page());
	assert_int_equal(b.used, 0);
	assert_int_equal(pt_budget_left(&b), 10 * page());
	pt_budget_init(&b, page() - 1);
	assert_int_equal(b.total, 0);
}

static void round_is_whole_pages(void **state)
{
	struct pt_budget b;

	(void)state;
	pt_budget_init(&b, 4 * page());
	assert_int_equal(pt_budget_round(&b, 0), 0);
	assert_int_equal(pt_budget_round(&b, 1), page());
	assert_int_equal(pt_budget_round(&b, page()), page());
	assert_int_equal(pt_budget_round(&b, page() + 1), 2 * page());
	assert_int_equal(pt_budget_round(&b, SIZE_MAX), SIZE_MAX);
	assert_int_equal(pt_budget_round(&b, SIZE_MAX - page() + 2), SIZE_MAX);
}

static void take_and_give_account_in_pages(void **state)
{
	struct pt_budget b;
	size_t c1, c2;
	char err[160] = "";

	(void)state;
	pt_budget_init(&b, 16 * page());
	assert_int_equal(pt_budget_take(&b, "eq", 100, &c1, err, sizeof(err)), 0);
	assert_int_equal(c1, page());
	assert_int_equal(pt_budget_take(&b, "gain", 3 * page() + 1, &c2, err,
					 sizeof(err)), 0);
	assert_int_equal(c2, 4 * page());
	assert_int_equal(b.used, 5 * page());
	assert_int_equal(b.peak, 5 * page());
	assert_int_equal(pt_budget_left(&b), 11 * page());
	pt_budget_give(&b, c1);
	assert_int_equal(b.used, 4 * page());
	assert_int_equal(b.peak, 5 * page());
	pt_budget_give(&b, c2);
	assert_int_equal(pt_budget_left(&b), 16 * page());
	assert_string_equal(err, "");
}

static void exhaustion_names_instance_and_sizes(void **state)
{
	struct pt_budget b;
	size_t c, untouched = 777;
	char err[160], want[160];

	(void)state;
	pt_budget_init(&b, 4 * page());
	assert_int_equal(pt_budget_take(&b, "src", 3 * page(), &c, err, sizeof(err)), 0);
	assert_int_equal(pt_budget_take(&b, "reverb.0", 2 * page(), &untouched, err,
					 sizeof(err)), -ENOMEM);
	snprintf(want, sizeof(want),
		 "user heap exhausted: instance reverb.0 asked for %zu bytes, %zu left of %zu",
		 2 * page(), page(), 4 * page());
	assert_string_equal(err, want);
	/* A refused request charges nothing and leaves *charged alone. */
	assert_int_equal(untouched, 777);
	assert_int_equal(b.used, 3 * page());
	/* The message gives the size asked for, not its page rounding. */
	assert_int_equal(pt_budget_take(&b, "x", page() + 1, &untouched, err,
					 sizeof(err)), -ENOMEM);
	snprintf(want, sizeof(want),
		 "user heap exhausted: instance x asked for %zu bytes, %zu left of %zu",
		 page() + 1, page(), 4 * page());
	assert_string_equal(err, want);
	/* The last page still fits exactly. */
	assert_int_equal(pt_budget_take(&b, "y", page(), &c, err, sizeof(err)), 0);
	assert_int_equal(pt_budget_left(&b), 0);
	assert_int_equal(pt_budget_take(&b, "z", 1, &c, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, ", 0 left of "));
	assert_int_equal(pt_budget_take(&b, "huge", SIZE_MAX, &c, err, sizeof(err)),
			 -ENOMEM);
}

static void exhaustion_message_truncates_safely(void **state)
{
	struct pt_budget b;
	size_t c;
	char err[24];

	(void)state;
	pt_budget_init(&b, page());
	assert_int_equal(pt_budget_take(&b, "a-very-long-instance-name", 2 * page(),
					 &c, err, sizeof(err)), -ENOMEM);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_memory_equal(err, "user heap exhausted: in", sizeof(err) - 1);
}

static void give_never_goes_below_zero(void **state)
{
	struct pt_budget b;

	(void)state;
	pt_budget_init(&b, 4 * page());
	pt_budget_give(&b, 3 * page());
	assert_int_equal(b.used, 0);
	assert_int_equal(pt_budget_left(&b), 4 * page());
}

struct churn {
	struct pt_budget *b;
	int failures;
};

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	char err[160];

	for (int i = 0; i < 20000; i++) {
		size_t charged;

		if (pt_budget_take(c->b, "t", (size_t)(i % 3 + 1) * page() - 7,
				   &charged, err, sizeof(err))) {
			c->failures++;
			continue;
		}
		pt_budget_give(c->b, charged);
	}
	return NULL;
}

/* Threads that each take and give back leave the budget exactly full. */
static void concurrent_accounting_balances(void **state)
{
	struct pt_budget b;
	pthread_t t[4];
	struct churn c[4];

	(void)state;
	pt_budget_init(&b, 12 * page());
	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){ &b, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &c[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		/* 4 threads x at most 3 pages never exceed 12 pages. */
		assert_int_equal(c[i].failures, 0);
	}
	assert_int_equal(b.used, 0);
	assert_true(b.peak <= 12 * page());
	assert_true(b.peak >= 3 * page());
}

static void parse_size_accepts_units(void **state)
{
	size_t v;

	(void)state;
	assert_int_equal(pt_parse_size("65536", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(pt_parse_size("512k", &v), 0);
	assert_int_equal(v, 512 << 10);
	assert_int_equal(pt_parse_size("64M", &v), 0);
	assert_int_equal(v, (size_t)64 << 20);
	assert_int_equal(pt_parse_size("1G", &v), 0);
	assert_int_equal(v, (size_t)1 << 30);
	assert_int_equal(pt_parse_size("2MiB", &v), 0);
	assert_int_equal(v, (size_t)2 << 20);
	assert_int_equal(pt_parse_size("3KB", &v), 0);
	assert_int_equal(v, 3 << 10);
	assert_int_equal(pt_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
}

static void parse_size_rejects_garbage(void **state)
{
	static const char *bad[] = { "", "k", "-1", " 1", "1 ", "12Q", "1B",
				     "1Mx", "1MiBB", "0x10", "99999999999999999999",
				     "17179869184G" };
	size_t v = 42;

	(void)state;
	assert_int_equal(pt_parse_size(NULL, &v), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pt_parse_size(bad[i], &v) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(v, 42);
}

/* ---- partitions carved from the budget ---- */

static void partition_charges_whole_pages(void **state)
{
	struct pt_budget b;
	struct pt_partition *p;
	char err[160];

	(void)state;
	pt_budget_init(&b, 8 * page());
	p = pt_partition_create(&b, PT_PARTITION_HEAP, "eq", "eq.heap",
				page() + 1, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(p->size, 2 * page());
	assert_int_equal(p->charged, 2 * page());
	assert_int_equal(b.used, 2 * page());
	/* Zeroed and usable by the allocator that will run in it. */
	for (size_t i = 0; i < p->size; i++)
		assert_int_equal(((unsigned char *)p->map)[i], 0);
	pt_partition_put(p);
	assert_int_equal(b.used, 0);
}

static void partition_exhaustion_is_the_budget_error(void **state)
{
	struct pt_budget b;
	struct pt_partition *p, *q;
	char err[160], want[160];

	(void)state;
	pt_budget_init(&b, 4 * page());
	p = pt_partition_create(&b, PT_PARTITION_BUFFER, "src", "src->eq",
				3 * page(), err, sizeof(err));
	assert_non_null(p);
	q = pt_partition_create(&b, PT_PARTITION_HEAP, "eq", "eq.heap",
				2 * page(), err, sizeof(err));
	assert_null(q);
	snprintf(want, sizeof(want),
		 "user heap exhausted: instance eq asked for %zu bytes, %zu left of %zu",
		 2 * page(), page(), 4 * page());
	assert_string_equal(err, want);
	assert_int_equal(b.used, 3 * page());
	assert_null(pt_partition_create(&b, PT_PARTITION_HEAP, "eq", "eq.heap", 0,
					err, sizeof(err)));
	assert_int_equal(b.used, 3 * page());
	pt_partition_put(p);
	assert_int_equal(b.used, 0);
}

static void partition_returns_bytes_after_last_holder(void **state)
{
	struct pt_budget b;
	struct pt_partition *p;
	char err[160];

	(void)state;
	pt_budget_init(&b, 4 * page());
	p = pt_partition_create(&b, PT_PARTITION_BUFFER, "a", "a->b", page(), err,
				sizeof(err));
	assert_non_null(p);
	pt_partition_hold(p); /* granted to a reader */
	pt_partition_hold(p); /* and to a writer */
	pt_partition_put(p);
	pt_partition_put(p);
	assert_int_equal(b.used, page());
	pt_partition_put(p);
	assert_int_equal(b.used, 0);
	pt_partition_put(NULL);
}

static void partition_is_sealed_and_ro_fd_stays_ro(void **state)
{
	struct pt_budget b;
	struct pt_partition *p;
	char err[160];
	int ro;

	(void)state;
	pt_budget_init(&b, 4 * page());
	p = pt_partition_create(&b, PT_PARTITION_BUFFER, "a", "a->b", page(), err,
				sizeof(err));
	assert_non_null(p);
	assert_int_equal(ftruncate(p->fd, (off_t)(2 * page())), -1);
	assert_int_equal(ftruncate(p->fd, 0), -1);
	ro = pt_partition_ro_fd(p);
	assert_true(ro >= 0);
	assert_ptr_equal(mmap(NULL, page(), PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0),
			 MAP_FAILED);
	close(ro);
	pt_partition_put(p);
}

/* The command line: `partita run --user-heap SIZE` refuses a budget too
 * small for the demo graph with the budget's message, and runs with one
 * that is big enough. */
static void run_reports_exhaustion(void **state)
{
	const char *build = getenv("PARTITA_BUILD");
	char cmd[8192], line[512], out[64];
	int found = 0, status;
	unsigned long long asked, left, total;
	char who[64];
	FILE *f;

	(void)state;
	assert_non_null(build);
	snprintf(out, sizeof(out), "/tmp/pt-budget-%d.wav", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "%s/partita run --user-heap 16k --seconds 0.05 -o %s 2>&1", build, out);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		const char *m = strstr(line, "user heap exhausted: instance ");

		if (m && sscanf(m, "user heap exhausted: instance %63s asked for %llu "
				"bytes, %llu left of %llu", who, &asked, &left,
				&total) == 4) {
			assert_int_equal(total, 16384);
			assert_true(asked > left);
			found = 1;
		}
	}
	status = pclose(f);
	assert_true(found);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	snprintf(cmd, sizeof(cmd),
		 "%s/partita run --user-heap 4M --seconds 0.05 -o %s >/dev/null 2>&1",
		 build, out);
	status = system(cmd);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_rounds_down_to_pages),
		cmocka_unit_test(round_is_whole_pages),
		cmocka_unit_test(take_and_give_account_in_pages),
		cmocka_unit_test(exhaustion_names_instance_and_sizes),
		cmocka_unit_test(exhaustion_message_truncates_safely),
		cmocka_unit_test(give_never_goes_below_zero),
		cmocka_unit_test(concurrent_accounting_balances),
		cmocka_unit_test(parse_size_accepts_units),
		cmocka_unit_test(parse_size_rejects_garbage),
		cmocka_unit_test(partition_charges_whole_pages),
		cmocka_unit_test(partition_exhaustion_is_the_budget_error),
		cmocka_unit_test(partition_returns_bytes_after_last_holder),
		cmocka_unit_test(partition_is_sealed_and_ro_fd_stays_ro),
		cmocka_unit_test(run_reports_exhaustion),
	};
	return cmocka_run_group_tests_name("budget", tests, NULL, NULL);
}
