/* SPDX-License-Identifier: MIT */
/*
 * host/topology - topology files: YAML (libyaml) turned into the control
 * messages that build the graph, so a topology passes exactly the checks a
 * control client's messages do. The schema is docs/topology.md.
 *
 * Loading is pure: it reads the file and encodes messages, and touches no
 * graph. Applying sends each message through pt_control_handle(). Every
 * error, from either step, starts with "FILE:LINE: FIELD:".
 *
 * Ids: pipelines and instances are numbered from 1 in file order. The
 * messages come in this order: every CREATE_PIPELINE and INIT_INSTANCE in
 * file order, then every BIND, then the SET_PIPELINE_STATE of pipelines
 * that ask for a state.
 */
#ifndef PT_HOST_TOPOLOGY_H
#define PT_HOST_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_TOPOLOGY_FILE_MAX (1u << 20)
/* Collections within collections, at most (a topology needs about 8). */
#define PT_TOPOLOGY_DEPTH_MAX 32

struct pt_graph;

/* One encoded control request and where in the file it came from. */
struct pt_topology_msg {
	void *data;
	size_t size;
	unsigned line;    /* 1-based */
	char what[160];   /* "pipelines[0].instances[1] (gain1)" */
};

struct pt_topology {
	char path[512];          /* the file, as given */
	uint32_t period_us;      /* 0 when absent: the graph's default */
	uint32_t rate;           /* 0 when absent */
	size_t user_heap_size;   /* 0 when absent */
	bool domains_per_library; /* domains: per-library */
	int rt_priority;         /* -1 when absent */
	struct pt_topology_msg *msgs;
	size_t nmsgs;
	uint32_t npipelines, ninstances;
};

/* Reads and parses the topology at @path into @t. Library paths are taken
 * relative to the file's folder. Returns 0, or -errno with @err naming the
 * file, line and field. */
int pt_topology_load(const char *path, struct pt_topology *t, char *err,
		     size_t errlen);

/* Parses @size bytes of YAML as if read from @path (which names the file
 * in errors and anchors relative library paths). */
int pt_topology_parse(const void *text, size_t size, const char *path,
		      struct pt_topology *t, char *err, size_t errlen);

/* Returns true when an instance of @t is made from the built-in or
 * endpoint module @module (a library instance never is). */
bool pt_topology_uses_module(const struct pt_topology *t, const char *module);

/* Releases the messages of @t. */
void pt_topology_free(struct pt_topology *t);

/* Sends every message of @t through pt_control_handle() on @g, stopping at
 * the first refused. Returns 0, or -errno with @err as
 * "FILE:LINE: WHAT: reply text". Like any use of pt_control_handle(), it
 * leaves control state beside @g: call pt_control_forget(@g) before
 * pt_graph_free(@g). */
int pt_topology_apply(const struct pt_topology *t, struct pt_graph *g,
		      char *err, size_t errlen);

/* The first binding of the instance named @instance, for a format found
 * wrong when the graph starts: its line and field. NULL when none. */
const struct pt_topology_msg *pt_topology_binding_of(const struct pt_topology *t,
						     const char *instance);

#endif
