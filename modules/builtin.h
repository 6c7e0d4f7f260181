/* SPDX-License-Identifier: MIT */
/* modules/ - the modules that ship, built into the host as trusted built-ins. */
#ifndef PT_MODULES_BUILTIN_H
#define PT_MODULES_BUILTIN_H

#include <stddef.h>

#include <partita/module.h>

/* Returns the built-in module whose manifest name is @name, or NULL. */
const struct pt_module_entry *pt_builtin_find(const char *name);

/* Returns the @i-th built-in, or NULL past the last. */
const struct pt_module_entry *pt_builtin_at(size_t i);

#endif
