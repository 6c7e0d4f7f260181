/* SPDX-License-Identifier: MIT */
/*
 * host/plugins - what the host does for the plugin adapters (modules/lv2,
 * modules/ladspa), without ever reading a plugin.
 *
 * The host resolves where an adapter instance looks for plugins (the
 * instance's `path` parameter, else $LV2_PATH / $LADSPA_PATH, else the
 * standard folders), hands that path to the adapter in its init blob, and
 * names the files its domain may read: every folder of an LV2 path (lilv
 * reads the bundles' manifests to find the URI, in the domain), or the one
 * library file of a LADSPA plugin. It never opens a plugin file: TTL and
 * descriptors are parsed only where a crash costs nothing.
 */
#ifndef PT_HOST_PLUGINS_H
#define PT_HOST_PLUGINS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Paths one domain may be granted for its plugins. */
#define PT_PLUGIN_READ_MAX 12

/* True for the shipped adapters ("lv2", "ladspa"): they run in a domain
 * unless the topology says isolation: none. */
bool pt_plugin_adapter(const char *module);

/* Completes an adapter's init blob with path=DIR:DIR... when it names none.
 * *@init is replaced by a malloc'd copy (the old one freed). Returns 0 or
 * -errno with @err set. */
int pt_plugin_init_blob(const char *module, void **init, size_t *size,
			char *err, size_t errlen);

/* Fills @out with the absolute paths the adapter instance's domain may
 * read. Returns how many (at least 1: an adapter's domain always runs its
 * init before the seal, so a missing plugin is an error, not a kill). */
unsigned pt_plugin_read_paths(const char *module, const void *init, size_t size,
			      char (*out)[PATH_MAX], unsigned max);

/* The search path in force for @module ("lv2", "ladspa") from the
 * environment or the standard folders, colon-separated. */
void pt_plugin_default_path(const char *module, char *out, size_t len);

#endif
