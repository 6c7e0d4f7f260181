/* SPDX-License-Identifier: MIT */
/*
 * lib/sof - running the firmware's own module sources on Partita's ABI.
 * adapter.c turns the one firmware module a library holds into
 * pt_sof_ops; platform.c is what the firmware gets from its RTOS and
 * platform (allocation, registration, the global context).
 */
#ifndef PT_LIB_SOF_H
#define PT_LIB_SOF_H

#include <stdbool.h>
#include <stddef.h>

#include <partita/module.h>

struct comp_driver;

/* Whether the module processes FLOAT_LE (partita-sof-build --float;
 * written with the manifest). */
extern const int pt_sof_float;

/* The callbacks of every library partita-sof-build makes. */
extern const struct pt_module_ops pt_sof_ops;

/* The component driver the library's firmware module registered when the
 * library was loaded, or NULL. */
const struct comp_driver *pt_sof_driver(void);

/* A registered driver when none has the manifest's UUID, else NULL. */
const struct comp_driver *pt_sof_driver_other(void);

/* @uuid (16 bytes, struct sof_uuid) as the firmware spells it. */
void pt_sof_uuid_text(const void *uuid, char out[37]);

/* Names the instance whose private heap the firmware's allocations come
 * from until the next call (one thread calls an instance at a time). */
void pt_sof_enter(struct pt_module *mod);

/* Bytes of a get_configuration reply written at @data (room @room). */
size_t pt_sof_reply_size(const void *data, size_t room);

/* One period on every source, room for one on every sink. */
bool pt_default_ready_rule(struct pt_module *mod, struct pt_source *const *src,
			   unsigned nsrc, struct pt_sink *const *snk,
			   unsigned nsnk);

#endif
