/* SPDX-License-Identifier: MIT */
/*
 * host/plugins: search paths and read grants for the plugin adapters. No
 * plugin file is opened here; a LADSPA library name is looked up with
 * access() so that its domain is granted that one file.
 */
#include "host/plugins/plugins.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <partita/module.h>

bool pt_plugin_adapter(const char *module)
{
	return module && (!strcmp(module, "lv2") || !strcmp(module, "ladspa"));
}

void pt_plugin_default_path(const char *module, char *out, size_t len)
{
	bool lv2 = !strcmp(module, "lv2");
	const char *env = getenv(lv2 ? "LV2_PATH" : "LADSPA_PATH");
	const char *home = getenv("HOME");

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	if (home && home[0] == '/')
		snprintf(out, len, "%s/%s:%s", home, lv2 ? ".lv2" : ".ladspa",
			 lv2 ? "/usr/local/lib/lv2:/usr/lib/lv2"
			     : "/usr/local/lib/ladspa:/usr/lib/ladspa");
	else
		snprintf(out, len, "%s", lv2 ? "/usr/local/lib/lv2:/usr/lib/lv2"
					     : "/usr/local/lib/ladspa:/usr/lib/ladspa");
}

int pt_plugin_init_blob(const char *module, void **init, size_t *size,
			char *err, size_t errlen)
{
	char path[2048], *blob;
	size_t n;

	if (*size && pt_param_string(*init, *size, "path", path, sizeof(path)) != -ENOENT)
		return 0;
	pt_plugin_default_path(module, path, sizeof(path));
	n = *size + strlen("\npath=") + strlen(path);
	blob = malloc(n + 1);
	if (!blob) {
		snprintf(err, errlen, "out of host memory");
		return -ENOMEM;
	}
	memcpy(blob, *init, *size);
	snprintf(blob + *size, n + 1 - *size, "%spath=%s", *size ? "\n" : "", path);
	free(*init);
	*init = blob;
	*size = strlen(blob + *size) + *size;
	return 0;
}

/* Splits @path at ':' into absolute entries of @out; returns how many. */
static unsigned split_path(const char *path, char (*out)[PATH_MAX], unsigned max)
{
	unsigned n = 0;

	while (*path && n < max) {
		const char *end = strchr(path, ':');
		size_t k = end ? (size_t)(end - path) : strlen(path);

		if (k && k < PATH_MAX && path[0] == '/') {
			memcpy(out[n], path, k);
			out[n][k] = '\0';
			n++;
		}
		path += k + (end ? 1 : 0);
	}
	return n;
}

unsigned pt_plugin_read_paths(const char *module, const void *init, size_t size,
			      char (*out)[PATH_MAX], unsigned max)
{
	char path[2048], lib[PATH_MAX];
	unsigned n;

	/* An LV2 bundle named: that folder alone. */
	if (!strcmp(module, "lv2") && max &&
	    pt_param_string(init, size, "bundle", lib, sizeof(lib)) > 0 && lib[0] == '/') {
		snprintf(out[0], PATH_MAX, "%s", lib);
		return 1;
	}
	if (pt_param_string(init, size, "path", path, sizeof(path)) < 0)
		pt_plugin_default_path(module, path, sizeof(path));
	n = split_path(path, out, max);
	if (!strcmp(module, "ladspa") && pt_param_string(init, size, "list", lib, 8) < 0 &&
	    pt_param_string(init, size, "library", lib, sizeof(lib)) > 0) {
		/* Only the library: an absolute name as given, a plain one
		 * where the search finds it first. */
		if (lib[0] == '/' && access(lib, R_OK) == 0) {
			snprintf(out[0], PATH_MAX, "%s", lib);
			return 1;
		}
		for (unsigned i = 0; i < n && !strchr(lib, '/'); i++) {
			char f[PATH_MAX];

			if (snprintf(f, sizeof(f), "%s/%s", out[i], lib) < (int)sizeof(f) &&
			    access(f, R_OK) == 0) {
				memcpy(out[0], f, sizeof(f));
				return 1;
			}
		}
	}
	if (!n) {
		/* Nothing to grant still runs init before the seal: the
		 * adapter then says what it did not find. */
		snprintf(out[0], PATH_MAX, "/usr/lib/%s", module);
		n = 1;
	}
	return n;
}
