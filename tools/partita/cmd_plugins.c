/* SPDX-License-Identifier: MIT */
/*
 * partita plugins [--json] [--lv2 | --ladspa]: the installed LV2 and LADSPA
 * plugins with their ports, like lv2ls/lv2info and listplugins/
 * analyseplugin. The host reads no plugin: the lv2 and ladspa adapters
 * (list=1) describe them inside a domain each, confined like any plugin
 * instance (Landlock: the plugin folders and the library folders, read
 * only); the host takes their text page by page and prints what is
 * printable of it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/graph/graph.h"
#include "host/plugins/plugins.h"
#include "modules/plugin.h"
#include "tools/partita/cmd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: partita plugins [--json] [--lv2 | --ladspa] [--isolation process|none]\n"
		"  Lists the installed LV2 plugins (along $LV2_PATH, else ~/.lv2,\n"
		"  /usr/local/lib/lv2, /usr/lib/lv2) and LADSPA plugins (along\n"
		"  $LADSPA_PATH, else ~/.ladspa, /usr/local/lib/ladspa, /usr/lib/ladspa)\n"
		"  with their ports: symbols, directions, ranges and defaults. The\n"
		"  plugin data is read in a domain (--isolation none: in this process).\n"
		"  --json prints {\"lv2\": [...], \"ladspa\": [...]}.\n");
}

/* Prints the listing pages of instance @id: only printable ASCII and
 * newlines get through (the text comes from a domain). */
static int print_pages(struct pt_graph *g, uint32_t id, uint32_t base, char *err,
		       size_t errlen)
{
	char *page = malloc(PLUG_LIST_PAGE);
	int ret = 0;

	if (!page)
		return -ENOMEM;
	for (uint32_t k = 0; k < PLUG_LIST_PAGES; k++) {
		size_t n = PLUG_LIST_PAGE;

		ret = pt_graph_config_get(g, id, base + k, page, &n, err, errlen);
		if (ret || n > PLUG_LIST_PAGE)
			break;
		for (size_t i = 0; i < n; i++)
			putchar((page[i] >= 0x20 && page[i] < 0x7f) || page[i] == '\n' ? page[i] : '?');
		if (n < PLUG_LIST_PAGE)
			break;
	}
	free(page);
	return ret;
}

int pt_cmd_plugins(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "lv2", no_argument, NULL, 'l' },
		{ "ladspa", no_argument, NULL, 'a' },
		{ "isolation", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000,
				       .user_heap_size = 512u << 20 };
	static const char *const kinds[] = { "lv2", "ladspa" };
	bool json = false, want[2] = { true, true };
	enum pt_isolation iso = PT_ISOLATION_PROCESS;
	struct pt_graph *g;
	char err[PT_ERR_MAX * 2];
	int c, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'l':
			want[1] = false;
			break;
		case 'a':
			want[0] = false;
			break;
		case 'i':
			if (pt_isolation_parse(optarg, &iso)) {
				fprintf(stderr, "partita plugins: --isolation is process or none\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || (!want[0] && !want[1])) {
		usage(stderr);
		return 2;
	}
	g = pt_graph_new(&cfg, err, sizeof(err));
	if (!g || pt_graph_pipeline_create(g, 1, "plugins", err, sizeof(err))) {
		fprintf(stderr, "partita plugins: %s\n", err);
		if (g)
			pt_graph_free(g);
		return 1;
	}
	if (json)
		printf("{");
	for (unsigned k = 0; k < 2 && !ret; k++) {
		char init[2048] = "list=1";
		struct pt_instance_desc d = {
			.id = k + 1, .pipeline = 1, .name = kinds[k], .module = kinds[k],
			.isolation = iso, .isolation_set = true,
			/* lilv holds every plugin's data while it lists them:
			 * 160 LV2 plugins fit in 16 MiB. */
			.heap_size = k ? 16u << 20 : 24u << 20,
			.init = init, .init_size = strlen(init),
		};

		if (!want[k])
			continue;
		/* The adapters search absolute folders only: a relative entry
		 * is said, not silently dropped. */
		{
			char path[2048];

			pt_plugin_default_path(kinds[k], path, sizeof(path));
			for (const char *p = path; *p;) {
				size_t n = strcspn(p, ":");

				if (n && p[0] != '/')
					fprintf(stderr, "partita plugins: %s entry '%.*s' is not an "
						"absolute folder: ignored\n",
						k ? "LADSPA_PATH" : "LV2_PATH", (int)n, p);
				p += n + (p[n] == ':');
			}
		}
		/* A LADSPA library whose code, or an LV2 bundle whose data,
		 * kills the listing domain is named by its last words
		 * ("listing FILE"): listed again without it. */
		for (unsigned tries = 0;; tries++) {
			const char *bad;
			size_t n;

			ret = pt_graph_instance_create(g, &d, err, sizeof(err));
			if (!ret || tries == 16 || !(bad = strstr(err, "listing /")))
				break;
			/* the last library it began */
			for (const char *b; (b = strstr(bad + 1, "listing /"));)
				bad = b;
			bad += strlen("listing ");
			n = strcspn(bad, " :;\n");
			/* (a path with a space or a colon cannot be skipped) */
			if ((bad[n] && bad[n] != ';') || strlen(init) + n + 7 >= sizeof(init))
				break;
			fprintf(stderr, "partita plugins: skipped %.*s: it %s\n", (int)n, bad,
				strstr(err, "killed") ? "killed the domain listing it" :
				"stopped the domain listing it");
			snprintf(init + strlen(init), sizeof(init) - strlen(init), "%s%.*s",
				 strchr(init, ' ') ? ":" : " skip=", (int)n, bad);
			d.id += 2;
			d.init_size = strlen(init);
		}
		if (ret)
			break;
		if (json)
			printf("%s\"%s\": ", k && want[0] ? ", " : "", kinds[k]);
		ret = print_pages(g, d.id, json ? PLUG_LIST_JSON : PLUG_LIST_TEXT, err,
				  sizeof(err));
	}
	if (json && !ret)
		printf("}\n");
	fflush(stdout);
	if (ret)
		fprintf(stderr, "partita plugins: %s\n", err);
	pt_graph_free(g);
	return ret ? 1 : 0;
}
