/* SPDX-License-Identifier: MIT */
/*
 * tests/domain/test_access_matrix - `partita domains` on a fan-out/fan-in
 * topology: every buffer is mapped by exactly its writer (rw), its reader
 * (ro) and the host; every private heap and control partition by its own
 * domain and the host only. The matrix is read from /proc of the running
 * processes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/partita/cmd.h"

#define F "{rate: 48000, channels: 2, sample: FLOAT_LE}"

static const char topology[] =
	"period_us: 1000\n"
	"rate: 48000\n"
	"pipelines:\n"
	"  - name: fan\n"
	"    instances:\n"
	"      - {name: src, module: tone, params: {freq: 440, amplitude_db: -12}}\n"
	"      - {name: split, library: hostile/pt_split.so, isolation: process}\n"
	"      - {name: ga, module: gain, isolation: process, params: {gain_db: -6}}\n"
	"      - {name: gb, module: gain, isolation: process, params: {gain_db: -3}}\n"
	"      - {name: mix, module: mixer, isolation: process, params: {gains_db: [-3, -3]}}\n"
	"      - {name: out, module: output, params: {file: /tmp/partita-access-matrix.wav}}\n"
	"    bindings:\n"
	"      - {from: src.0, to: split.0, format: " F "}\n"
	"      - {from: split.0, to: ga.0, format: " F "}\n"
	"      - {from: split.1, to: gb.0, format: " F "}\n"
	"      - {from: ga.0, to: mix.0, format: " F "}\n"
	"      - {from: gb.0, to: mix.1, format: " F "}\n"
	"      - {from: mix.0, to: out.0, format: {rate: 48000, channels: 2, sample: S16_LE}}\n";

/* Who must map each partition: its row's name -> writer, reader (domain
 * column labels; "" for the host, which maps everything rw). */
static const struct {
	const char *row, *rw, *ro;
} expect[] = {
	{ "buffer src.out0", "", "split" },
	{ "buffer split.out0", "split", "ga" },
	{ "buffer split.out1", "split", "gb" },
	{ "buffer ga.out0", "ga", "mix" },
	{ "buffer gb.out0", "gb", "mix" },
	{ "buffer mix.out0", "mix", "" },
	{ "heap+stack of split", "split", "" },
	{ "heap+stack of ga", "ga", "" },
	{ "heap+stack of gb", "gb", "" },
	{ "heap+stack of mix", "mix", "" },
	{ "rings of domain split", "split", "" },
	{ "rings of domain mix", "mix", "" },
};

#define MAX_COLS 16

static void test_fan_matrix(void **state)
{
	char path[4096], out[4096], line[512];
	char labels[MAX_COLS][64];
	const char *b = getenv("PARTITA_BUILD");
	int ncols = 0, rows = 0, saved;
	FILE *f;
	char *argv[3];

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/access_matrix.yaml", b ? b : "build");
	snprintf(out, sizeof(out), "%s/tests/access_matrix.txt", b ? b : "build");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(topology, f);
	fclose(f);

	/* Run the command with its stdout in a file. */
	fflush(stdout);
	saved = dup(1);
	f = fopen(out, "w+");
	assert_non_null(f);
	dup2(fileno(f), 1);
	argv[0] = "domains";
	argv[1] = path;
	argv[2] = NULL;
	assert_int_equal(pt_cmd_domains(2, argv), 0);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(f);

	while (fgets(line, sizeof(line), f)) {
		char *tok[MAX_COLS + 16], *save = NULL;
		int n = 0;

		print_message("%s", line);
		for (char *t = strtok_r(line, " \n", &save); t && n < MAX_COLS + 16;
		     t = strtok_r(NULL, " \n", &save))
			tok[n++] = t;
		if (n && !strcmp(tok[0], "partition")) {
			ncols = n - 2;
			assert_true(ncols <= MAX_COLS);
			for (int c = 0; c < ncols; c++)
				snprintf(labels[c], sizeof(labels[c]), "%s", tok[2 + c]);
			continue;
		}
		if (!ncols || n < ncols + 2 || !strcmp(tok[0], "pid"))
			continue;
		/* The row's name is everything before the size. */
		{
			char name[128] = "";
			int cells = n - ncols;

			for (int i = 0; i < cells - 1; i++) {
				if (i)
					strcat(name, " ");
				strncat(name, tok[i], sizeof(name) - strlen(name) - 2);
			}
			for (size_t e = 0; e < sizeof(expect) / sizeof(expect[0]); e++) {
				if (strcmp(name, expect[e].row))
					continue;
				rows++;
				assert_string_equal(labels[0], "host");
				assert_string_equal(tok[cells], "rw");
				for (int c = 1; c < ncols; c++) {
					const char *want = !strcmp(labels[c], expect[e].rw) ? "rw"
							   : !strcmp(labels[c], expect[e].ro) ? "ro" : "-";

					if (strcmp(tok[cells + c], want))
						fail_msg("%s: %s maps it %s, expected %s", name,
							 labels[c], tok[cells + c], want);
				}
			}
		}
	}
	fclose(f);
	/* Four domains, and every expected row was there. */
	assert_int_equal(ncols, 5);
	assert_int_equal(rows, (int)(sizeof(expect) / sizeof(expect[0])));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fan_matrix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
