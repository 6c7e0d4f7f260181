/* SPDX-License-Identifier: MIT */
/* The control plane's request handler: validate completely, then call the
 * graph. */
#include "host/control/control.h"

#include <errno.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/control/codec.h"
#include "host/graph/graph.h"
#include "host/io/alsa.h"
#include "host/io/io.h"
#include "modules/builtin.h"

#define MAX_LIBRARIES 64

struct pipeline_entry {
	uint32_t id; /* 0: free slot */
	char name[PT_NAME_MAX];
};

struct library_entry {
	char name[PT_NAME_MAX]; /* "" : free slot */
	char path[PT_CTL_PATH_MAX + 1];
};

/* A config blob being reassembled from LARGE_CONFIG_SET fragments. It
 * belongs to the client that sent its first fragment: only that client can
 * continue it, restart it or (by leaving) drop it. */
struct config_transfer {
	uint64_t client;
	uint32_t instance, param, total, got; /* instance 0: none */
	uint8_t *data;
};

/* Blobs in flight at once, one per client at most. */
#define MAX_TRANSFERS 32

struct control_state {
	struct control_state *next;
	struct pt_graph *g;
	struct pt_library_policy policy;
	struct pipeline_entry pipelines[PT_MAX_PIPELINES];
	struct library_entry libraries[MAX_LIBRARIES];
	struct config_transfer xfer[MAX_TRANSFERS];
};

/* One entry per graph; the graph's owner thread is the only user. */
static struct control_state *states;

static struct control_state *state_of(struct pt_graph *g, bool create)
{
	struct control_state *s;

	for (s = states; s; s = s->next)
		if (s->g == g)
			return s;
	if (!create)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->g = g;
	s->next = states;
	states = s;
	return s;
}

int pt_control_set_policy(struct pt_graph *g,
			  const struct pt_library_policy *policy)
{
	struct control_state *s = state_of(g, true);

	if (!s)
		return -ENOMEM;
	s->policy = *policy;
	return 0;
}

void pt_control_forget(struct pt_graph *g)
{
	for (struct control_state **p = &states; *p; p = &(*p)->next) {
		if ((*p)->g == g) {
			struct control_state *s = *p;

			*p = s->next;
			for (size_t i = 0; i < MAX_TRANSFERS; i++)
				free(s->xfer[i].data);
			free(s);
			return;
		}
	}
}

bool pt_control_running(struct pt_graph *g)
{
	uint32_t id;

	for (size_t i = 0; (id = pt_graph_pipeline_at(g, i)); i++)
		if (pt_graph_pipeline_state(g, id) == PT_STATE_RUNNING)
			return true;
	return false;
}

int pt_ctl_status_errno(enum pt_ctl_status st)
{
	switch (st) {
	case PT_CTL_OK: return 0;
	case PT_CTL_E_TRUNCATED: return -EBADMSG;
	case PT_CTL_E_OVERSIZED: return -EMSGSIZE;
	case PT_CTL_E_UNKNOWN_TYPE: return -EOPNOTSUPP;
	case PT_CTL_E_BAD_HEADER: return -EPROTO;
	case PT_CTL_E_BAD_FIELD: return -EINVAL;
	case PT_CTL_E_UNKNOWN_ID: return -ENOENT;
	case PT_CTL_E_EXISTS: return -EEXIST;
	case PT_CTL_E_BUSY: return -EBUSY;
	case PT_CTL_E_NO_MEMORY: return -ENOMEM;
	case PT_CTL_E_SEQUENCE: return -EILSEQ;
	case PT_CTL_E_LIBRARY: return -ENOEXEC;
	case PT_CTL_E_SIGNATURE: return -EKEYREJECTED;
	case PT_CTL_E_MODULE: return -EIO;
	case PT_CTL_E_NO_SPACE: return -ENOSPC;
	case PT_CTL_E_MODULE_ABI: return -EBADE;
	case PT_CTL_E_INTERNAL: break;
	}
	return -EFAULT;
}

enum pt_ctl_status pt_ctl_errno_status(int err)
{
	switch (err < 0 ? -err : err) {
	case 0: return PT_CTL_OK;
	case EBADMSG: return PT_CTL_E_TRUNCATED;
	case EMSGSIZE: case E2BIG: case EFBIG: return PT_CTL_E_OVERSIZED;
	case EOPNOTSUPP: return PT_CTL_E_UNKNOWN_TYPE;
	case EPROTO: return PT_CTL_E_BAD_HEADER;
	case EINVAL: case ERANGE: case EDOM: return PT_CTL_E_BAD_FIELD;
	case ENOENT: case ESRCH: return PT_CTL_E_UNKNOWN_ID;
	case EEXIST: return PT_CTL_E_EXISTS;
	case EBUSY: case EALREADY: return PT_CTL_E_BUSY;
	case ENOMEM: return PT_CTL_E_NO_MEMORY;
	case EILSEQ: return PT_CTL_E_SEQUENCE;
	case ENOEXEC: case ELIBBAD: return PT_CTL_E_LIBRARY;
	case EKEYREJECTED: case EPERM: case EACCES: return PT_CTL_E_SIGNATURE;
	case EIO: return PT_CTL_E_MODULE;
	case ENOSPC: return PT_CTL_E_NO_SPACE;
	case EBADE: return PT_CTL_E_MODULE_ABI;
	}
	return PT_CTL_E_INTERNAL;
}

/* A request being answered. */
struct answer {
	const struct pt_ctl_request *req;
	uint8_t *reply;
	size_t room, size;
	char err[PT_CTL_ERR_MAX];
};

static int refuse(struct answer *a, enum pt_ctl_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct answer *a, enum pt_ctl_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
	a->size = pt_ctl_encode_error(a->reply, a->room, a->req->hdr.type,
				      a->req->hdr.seq, st, a->err);
	return pt_ctl_status_errno(st);
}

/* A graph call's result: OK, or refused with the graph's own words. */
static int graph_result(struct answer *a, int ret, const char *what,
			const char *gerr)
{
	size_t n = strlen(what);

	if (!ret)
		return 0;
	/* Said once: the graph's reason may already start with @what. */
	if (!strncmp(gerr, what, n) && gerr[n] == ':')
		return refuse(a, pt_ctl_errno_status(ret), "%s", gerr);
	return refuse(a, pt_ctl_errno_status(ret), "%s: %s", what,
		      gerr[0] ? gerr : strerror(-ret));
}

static int ok(struct answer *a, const void *body, const void *tail,
	      size_t tail_size)
{
	const char *layout = pt_ctl_layout(a->req->hdr.type, true);

	a->size = pt_ctl_encode(a->reply, a->room, a->req->hdr.type,
				PT_CTL_FLAG_REPLY, a->req->hdr.seq, PT_CTL_OK,
				body, layout, tail, tail_size, NULL, 0);
	if (!a->size)
		return refuse(a, PT_CTL_E_INTERNAL, "reply does not fit");
	return 0;
}

static struct pipeline_entry *pipeline_by_id(struct control_state *s, uint32_t id)
{
	for (size_t i = 0; i < PT_MAX_PIPELINES; i++)
		if (s->pipelines[i].id == id)
			return &s->pipelines[i];
	return NULL;
}

static struct pipeline_entry *pipeline_by_name(struct control_state *s,
					       const char *name)
{
	for (size_t i = 0; i < PT_MAX_PIPELINES; i++)
		if (s->pipelines[i].id && !strcmp(s->pipelines[i].name, name))
			return &s->pipelines[i];
	return NULL;
}

static struct library_entry *library_by_name(struct control_state *s,
					     const char *name)
{
	for (size_t i = 0; i < MAX_LIBRARIES; i++)
		if (s->libraries[i].name[0] && !strcmp(s->libraries[i].name, name))
			return &s->libraries[i];
	return NULL;
}

static int create_pipeline(struct control_state *s, struct answer *a)
{
	const struct pt_ctl_create_pipeline *m = &a->req->u.create_pipeline;
	struct pt_ctl_id_reply rep = { 0 };
	struct pipeline_entry *slot;
	char gerr[PT_ERR_MAX] = "";
	uint32_t id = m->pipeline;
	int ret;

	if (pipeline_by_name(s, m->name))
		return refuse(a, PT_CTL_E_EXISTS,
			      "create_pipeline.name: a pipeline named '%s' exists",
			      m->name);
	/* The lowest id neither this table nor the graph (pipelines made
	 * without the control plane) uses. */
	if (!id)
		for (id = 1; id <= PT_MAX_PIPELINES &&
			     (pipeline_by_id(s, id) || pt_graph_pipeline_state(s->g, id) >= 0);
		     id++)
			;
	else if (pipeline_by_id(s, id))
		return refuse(a, PT_CTL_E_EXISTS,
			      "create_pipeline.pipeline: id %u is taken", id);
	slot = pipeline_by_id(s, 0);
	if (!slot)
		return refuse(a, PT_CTL_E_NO_MEMORY,
			      "create_pipeline: at most %d pipelines", PT_MAX_PIPELINES);
	ret = pt_graph_pipeline_create(s->g, id, m->name, gerr, sizeof(gerr));
	if (ret)
		return graph_result(a, ret, "create_pipeline", gerr);
	slot->id = id;
	memcpy(slot->name, m->name, PT_NAME_MAX);
	rep.id = id;
	return ok(a, &rep, NULL, 0);
}

static int delete_pipeline(struct control_state *s, struct answer *a)
{
	uint32_t id = a->req->u.delete_pipeline.pipeline;
	struct pipeline_entry *p = pipeline_by_id(s, id);
	char gerr[PT_ERR_MAX] = "";
	int ret;

	ret = pt_graph_pipeline_delete(s->g, id, gerr, sizeof(gerr));
	if (ret)
		return graph_result(a, ret, "delete_pipeline.pipeline", gerr);
	if (p)
		memset(p, 0, sizeof(*p));
	return ok(a, NULL, NULL, 0);
}

static int init_instance(struct control_state *s, struct answer *a)
{
	const struct pt_ctl_request *req = a->req;
	const struct pt_ctl_init_instance *m = &req->u.init_instance;
	struct pt_instance_desc d = { 0 };
	struct pt_ctl_id_reply rep = { 0 };
	struct pt_library_info info;
	char gerr[PT_ERR_MAX] = "";
	const struct library_entry *lib = NULL;
	uint32_t id = m->instance;
	int ret, libfd = -1;

	if (pt_graph_instance_by_name(s->g, m->name))
		return refuse(a, PT_CTL_E_EXISTS,
			      "init_instance.name: an instance named '%s' exists",
			      m->name);
	if (id && pt_graph_instance(s->g, id))
		return refuse(a, PT_CTL_E_EXISTS, "init_instance.instance: id %u is taken",
			      id);
	if (!id) {
		for (id = 1; id <= PT_MAX_INSTANCES && pt_graph_instance(s->g, id); id++)
			;
		if (id > PT_MAX_INSTANCES)
			return refuse(a, PT_CTL_E_NO_MEMORY,
				      "init_instance: at most %d instances",
				      PT_MAX_INSTANCES);
	}
	if (m->module[0])
		lib = library_by_name(s, m->module);
	/* A library is checked (manifest, signature) before the graph sees
	 * it; the graph then loads only what passed. */
	if (req->path[0] || lib) {
		const char *path = lib ? lib->path : req->path;

		/* One sealed snapshot is checked here and loaded by the
		 * graph: the file cannot be swapped in between. */
		ret = pt_library_snapshot(path, &libfd, gerr, sizeof(gerr));
		if (!ret)
			ret = pt_library_check_fd(libfd, path, &s->policy, &info, gerr,
						  sizeof(gerr));
		if (ret) {
			if (libfd >= 0)
				close(libfd);
			return refuse(a, pt_ctl_errno_status(ret),
				      "init_instance.library: %s", gerr);
		}
		d.library = path;
		d.library_fd = libfd;
		d.library_fd_set = true;
	} else {
		d.module = m->module;
	}
	d.id = id;
	d.pipeline = m->pipeline;
	d.name = m->name;
	d.isolation = m->isolation == PT_CTL_ISOLATION_PROCESS ? PT_ISOLATION_PROCESS
							       : PT_ISOLATION_NONE;
	d.isolation_set = m->isolation != PT_CTL_ISOLATION_DEFAULT;
	d.sched = m->sched == PT_CTL_SCHED_DP ? PT_SCHED_DP : PT_SCHED_LL;
	d.sched_set = m->sched != PT_CTL_SCHED_DEFAULT;
	d.domain = m->domain[0] ? m->domain : NULL;
	d.heap_size = m->heap_size;
	d.stack_size = m->stack_size;
	d.deadline_us = m->deadline_us;
	d.max_misses = m->max_misses;
	d.hang_ms = m->hang_ms;
	d.progress_periods = m->progress_periods;
	d.restart = m->restart == PT_CTL_RESTART_ON_FAILURE ? PT_RESTART_ON_FAILURE
							    : PT_RESTART_NEVER;
	d.restart_limit = m->restart_limit;
	d.on_fault = m->on_fault == PT_CTL_ON_FAULT_BYPASS ? PT_ON_FAULT_BYPASS
							   : PT_ON_FAULT_SILENCE;
	d.init = req->data;
	d.init_size = req->data_size;
	d.init_payload = req->payload;
	d.init_payload_size = req->payload_size;
	ret = pt_graph_instance_create(s->g, &d, gerr, sizeof(gerr));
	if (libfd >= 0)
		close(libfd); /* the graph keeps its own copy */
	if (ret)
		return graph_result(a, ret, "init_instance", gerr);
	rep.id = id;
	return ok(a, &rep, NULL, 0);
}

static int need_instance(struct control_state *s, struct answer *a, uint32_t id,
			 const char *field)
{
	if (pt_graph_instance(s->g, id))
		return 0;
	return refuse(a, PT_CTL_E_UNKNOWN_ID, "%s: no instance %u", field, id);
}

static int bind(struct control_state *s, struct answer *a)
{
	const struct pt_ctl_bind *m = &a->req->u.bind;
	struct pt_format f = { m->rate, m->channels, m->sample };
	char gerr[PT_ERR_MAX] = "";
	int ret;

	if ((ret = need_instance(s, a, m->src, "bind.src")) ||
	    (ret = need_instance(s, a, m->dst, "bind.dst")))
		return ret;
	ret = pt_graph_bind_open(s->g, m->src, m->src_pin, m->dst, m->dst_pin, &f,
				 (m->open & PT_CTL_BIND_OPEN_SAMPLE ? PT_FMT_OPEN_SAMPLE : 0) |
				 (m->open & PT_CTL_BIND_OPEN_CHANNELS ? PT_FMT_OPEN_CHANNELS : 0),
				 m->periods, gerr, sizeof(gerr));
	return ret ? graph_result(a, ret, "bind", gerr) : ok(a, NULL, NULL, 0);
}

static int unbind(struct control_state *s, struct answer *a)
{
	const struct pt_ctl_unbind *m = &a->req->u.unbind;
	char gerr[PT_ERR_MAX] = "";
	int ret;

	if ((ret = need_instance(s, a, m->src, "unbind.src")) ||
	    (ret = need_instance(s, a, m->dst, "unbind.dst")))
		return ret;
	ret = pt_graph_unbind(s->g, m->src, m->src_pin, m->dst, m->dst_pin, gerr,
			      sizeof(gerr));
	return ret ? graph_result(a, ret, "unbind", gerr) : ok(a, NULL, NULL, 0);
}

static void xfer_drop(struct config_transfer *x)
{
	free(x->data);
	memset(x, 0, sizeof(*x));
}

/* The blob @client is sending, or NULL. */
static struct config_transfer *xfer_of(struct control_state *s, uint64_t client)
{
	for (size_t i = 0; i < MAX_TRANSFERS; i++)
		if (s->xfer[i].instance && s->xfer[i].client == client)
			return &s->xfer[i];
	return NULL;
}

static int config_set(struct control_state *s, struct answer *a, uint64_t client)
{
	const struct pt_ctl_config_set *m = &a->req->u.config_set;
	struct config_transfer *x = xfer_of(s, client);
	char gerr[PT_ERR_MAX] = "";
	int ret;

	if ((ret = need_instance(s, a, m->instance, "config_set.instance")))
		return ret;
	if (m->offset == 0 && m->size == m->total_size) {
		/* the whole blob in one message */
		ret = pt_graph_config_set(s->g, m->instance, m->param, a->req->data,
					  a->req->data_size, gerr, sizeof(gerr));
		return ret ? graph_result(a, ret, "config_set", gerr) : ok(a, NULL, NULL, 0);
	}
	if (m->offset == 0) {
		uint8_t *buf;

		if (x) {
			xfer_drop(x); /* this client's own unfinished blob */
		} else {
			for (size_t i = 0; i < MAX_TRANSFERS && !x; i++)
				if (!s->xfer[i].instance)
					x = &s->xfer[i];
			if (!x)
				return refuse(a, PT_CTL_E_BUSY,
					      "config_set: %d clients are sending blobs; finish one first",
					      MAX_TRANSFERS);
		}
		buf = malloc(m->total_size);
		if (!buf)
			return refuse(a, PT_CTL_E_NO_MEMORY,
				      "config_set.total_size: no memory for %u bytes",
				      m->total_size);
		*x = (struct config_transfer){ client, m->instance, m->param, m->total_size,
					       0, buf };
	} else if (!x) {
		return refuse(a, PT_CTL_E_SEQUENCE,
			      "config_set.offset: %u, but no blob was started at offset 0 by this client",
			      m->offset);
	} else if (x->instance != m->instance || x->param != m->param ||
		   x->total != m->total_size) {
		return refuse(a, PT_CTL_E_SEQUENCE,
			      "config_set: fragment of instance %u param %u (%u bytes) while instance %u param %u (%u bytes) is unfinished",
			      m->instance, m->param, m->total_size, x->instance,
			      x->param, x->total);
	} else if (m->offset != x->got) {
		return refuse(a, PT_CTL_E_SEQUENCE,
			      "config_set.offset: %u, the next fragment starts at %u",
			      m->offset, x->got);
	}
	memcpy(x->data + m->offset, a->req->data, m->size);
	x->got += m->size;
	if (x->got < x->total)
		return ok(a, NULL, NULL, 0);
	ret = pt_graph_config_set(s->g, x->instance, x->param, x->data, x->total,
				  gerr, sizeof(gerr));
	xfer_drop(x);
	return ret ? graph_result(a, ret, "config_set", gerr) : ok(a, NULL, NULL, 0);
}

static int config_get(struct control_state *s, struct answer *a)
{
	const struct pt_ctl_config_get *m = &a->req->u.config_get;
	struct pt_ctl_config_get_reply rep = { 0 };
	char gerr[PT_ERR_MAX] = "";
	size_t size = PT_CTL_CONFIG_MAX;
	uint8_t *buf;
	int ret;

	if ((ret = need_instance(s, a, m->instance, "config_get.instance")))
		return ret;
	buf = malloc(size);
	if (!buf)
		return refuse(a, PT_CTL_E_NO_MEMORY, "config_get: no memory");
	ret = pt_graph_config_get(s->g, m->instance, m->param, buf, &size, gerr,
				  sizeof(gerr));
	if (ret) {
		free(buf);
		return graph_result(a, ret, "config_get", gerr);
	}
	if (size > PT_CTL_CONFIG_MAX)
		size = PT_CTL_CONFIG_MAX;
	if (m->offset > size) {
		free(buf);
		return refuse(a, PT_CTL_E_BAD_FIELD,
			      "config_get.offset: %u is past the blob's %zu bytes",
			      m->offset, size);
	}
	rep.total_size = (uint32_t)size;
	rep.offset = m->offset;
	rep.size = (uint32_t)(size - m->offset < m->max_size ? size - m->offset
							     : m->max_size);
	ret = ok(a, &rep, buf + m->offset, rep.size);
	free(buf);
	return ret;
}

static int load_library(struct control_state *s, struct answer *a)
{
	const struct pt_ctl_request *req = a->req;
	struct pt_ctl_library_reply rep = { 0 };
	struct pt_library_info info;
	struct library_entry *e;
	char lerr[PT_CTL_ERR_MAX] = "";
	int ret;

	ret = pt_library_check(req->path, &s->policy, &info, lerr, sizeof(lerr));
	if (ret)
		return refuse(a, pt_ctl_errno_status(ret), "load_library.path: %s", lerr);
	if (pt_builtin_find(info.manifest.name) || pt_io_find(info.manifest.name))
		return refuse(a, PT_CTL_E_EXISTS,
			      "load_library.path: module name '%s' is a built-in's",
			      info.manifest.name);
	e = library_by_name(s, info.manifest.name);
	if (e && strcmp(e->path, req->path))
		return refuse(a, PT_CTL_E_EXISTS,
			      "load_library.path: module '%s' is already loaded from %s",
			      info.manifest.name, e->path);
	if (!e) {
		for (size_t i = 0; i < MAX_LIBRARIES && !e; i++)
			if (!s->libraries[i].name[0])
				e = &s->libraries[i];
		if (!e)
			return refuse(a, PT_CTL_E_NO_MEMORY,
				      "load_library: at most %d libraries", MAX_LIBRARIES);
		memcpy(e->name, info.manifest.name, PT_NAME_MAX);
		snprintf(e->path, sizeof(e->path), "%s", req->path);
	}
	memcpy(rep.name, info.manifest.name, PT_NAME_MAX);
	memcpy(rep.uuid, info.manifest.uuid, sizeof(rep.uuid));
	rep.abi_version = info.manifest.abi_version;
	rep.version = info.manifest.version;
	rep.heap_size = info.manifest.heap_size;
	rep.stack_size = info.manifest.stack_size;
	rep.flags = info.manifest.flags;
	rep.max_sources = info.manifest.max_sources;
	rep.max_sinks = info.manifest.max_sinks;
	rep.signature = (uint8_t)info.signature;
	return ok(a, &rep, NULL, 0);
}

static void stats_entry(const struct pt_instance *inst, struct pt_ctl_instance_stats *e)
{
	struct pt_instance_info info;

	pt_instance_info(inst, &info);
	memset(e, 0, sizeof(*e));
	e->instance = info.id;
	e->pipeline = info.pipeline;
	memcpy(e->name, info.name, PT_NAME_MAX);
	memcpy(e->module, info.module, PT_NAME_MAX);
	e->name[PT_NAME_MAX - 1] = 0;
	e->module[PT_NAME_MAX - 1] = 0;
	e->state = (uint8_t)info.state;
	e->isolation = info.isolation == PT_ISOLATION_PROCESS ? PT_CTL_ISOLATION_PROCESS
							      : PT_CTL_ISOLATION_NONE;
	e->sched = info.sched == PT_SCHED_DP ? PT_CTL_SCHED_DP : PT_CTL_SCHED_LL;
	e->domain_pid = info.domain_pid;
	e->periods = info.stats.periods;
	e->process_ns = info.stats.process_ns;
	e->worst_ns = info.stats.worst_ns;
	e->deadline_misses = info.stats.deadline_misses;
	e->faults = info.stats.faults;
	e->restarts = info.stats.restarts;
	e->heap_used = info.stats.heap_used;
	e->heap_size = info.stats.heap_size;
	e->fault_period = info.stats.fault_period;
	e->fault_signal = info.stats.fault_signal;
	{
		uint64_t x = pt_alsa_xruns(inst) + info.stats.drops;

		e->xruns = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
	}
	memcpy(e->fault_reason, info.stats.fault_reason, sizeof(e->fault_reason));
	e->fault_reason[sizeof(e->fault_reason) - 1] = 0;
	e->latency_frames = info.stats.latency_frames;
	pt_ctl_swap(e, PT_CTL_LAYOUT_INSTANCE_STATS);
}

static int get_stats(struct control_state *s, struct answer *a)
{
	uint32_t want = a->req->u.get_stats.instance;
	struct pt_ctl_stats_reply rep = { 0 };
	struct pt_ctl_instance_stats *entries;
	struct pt_budget *b = pt_graph_budget(s->g);
	struct pt_instance *inst;
	size_t n = 0;
	int ret;

	if (want && (ret = need_instance(s, a, want, "get_stats.instance")))
		return ret;
	entries = calloc(PT_MAX_INSTANCES, sizeof(*entries));
	if (!entries)
		return refuse(a, PT_CTL_E_NO_MEMORY, "get_stats: no memory");
	for (size_t i = 0; (inst = pt_graph_instance_at(s->g, i)) && n < PT_MAX_INSTANCES; i++)
		if (!want || inst->id == want)
			stats_entry(inst, &entries[n++]);
	rep.count = (uint32_t)n;
	rep.period_us = pt_graph_config(s->g)->period_us;
	if (b) {
		rep.budget_used = b->used;
		rep.budget_total = b->total;
	}
	ret = ok(a, &rep, entries, n * sizeof(*entries));
	free(entries);
	return ret;
}

static int lookup(struct control_state *s, struct answer *a)
{
	const struct pt_ctl_lookup *m = &a->req->u.lookup;
	struct pt_ctl_id_reply rep = { 0 };

	if (m->kind == PT_CTL_LOOKUP_PIPELINE) {
		struct pipeline_entry *p = pipeline_by_name(s, m->name);

		if (!p)
			return refuse(a, PT_CTL_E_UNKNOWN_ID,
				      "lookup.name: no pipeline named '%s'", m->name);
		rep.id = p->id;
	} else {
		struct pt_instance *inst = pt_graph_instance_by_name(s->g, m->name);

		if (!inst)
			return refuse(a, PT_CTL_E_UNKNOWN_ID,
				      "lookup.name: no instance named '%s'", m->name);
		rep.id = inst->id;
	}
	return ok(a, &rep, NULL, 0);
}

static int dispatch(struct control_state *s, struct answer *a, uint64_t client)
{
	const struct pt_ctl_request *req = a->req;
	char gerr[PT_ERR_MAX] = "";
	int ret;

	switch (req->hdr.type) {
	case PT_CTL_CREATE_PIPELINE:
		return create_pipeline(s, a);
	case PT_CTL_DELETE_PIPELINE:
		return delete_pipeline(s, a);
	case PT_CTL_INIT_INSTANCE:
		return init_instance(s, a);
	case PT_CTL_DELETE_INSTANCE:
		if ((ret = need_instance(s, a, req->u.delete_instance.instance,
					 "delete_instance.instance")))
			return ret;
		for (size_t i = 0; i < MAX_TRANSFERS; i++)
			if (s->xfer[i].instance == req->u.delete_instance.instance)
				xfer_drop(&s->xfer[i]);
		ret = pt_graph_instance_delete(s->g, req->u.delete_instance.instance,
					       gerr, sizeof(gerr));
		return ret ? graph_result(a, ret, "delete_instance", gerr)
			   : ok(a, NULL, NULL, 0);
	case PT_CTL_BIND:
		return bind(s, a);
	case PT_CTL_UNBIND:
		return unbind(s, a);
	case PT_CTL_SET_PIPELINE_STATE:
		ret = pt_graph_set_state(s->g, req->u.set_state.pipeline,
					 (enum pt_state)req->u.set_state.state, gerr,
					 sizeof(gerr));
		return ret ? graph_result(a, ret, "set_pipeline_state", gerr)
			   : ok(a, NULL, NULL, 0);
	case PT_CTL_LARGE_CONFIG_SET:
		return config_set(s, a, client);
	case PT_CTL_LARGE_CONFIG_GET:
		return config_get(s, a);
	case PT_CTL_LOAD_LIBRARY:
		return load_library(s, a);
	case PT_CTL_GET_STATS:
		return get_stats(s, a);
	case PT_CTL_LOOKUP:
		return lookup(s, a);
	case PT_CTL_SET_MODE:
		if ((ret = need_instance(s, a, req->u.set_mode.instance,
					 "set_mode.instance")))
			return ret;
		ret = pt_graph_set_mode(s->g, req->u.set_mode.instance,
					req->u.set_mode.mode, gerr, sizeof(gerr));
		return ret ? graph_result(a, ret, "set_mode", gerr) : ok(a, NULL, NULL, 0);
	}
	return refuse(a, PT_CTL_E_UNKNOWN_TYPE, "header.type: %u", req->hdr.type);
}

void pt_control_client_gone(struct pt_graph *g, uint64_t client)
{
	struct control_state *s = state_of(g, false);
	struct config_transfer *x = s ? xfer_of(s, client) : NULL;

	if (x)
		xfer_drop(x);
}

int pt_control_handle(struct pt_graph *g, const void *msg, size_t len,
		      void *reply, size_t *reply_len)
{
	return pt_control_handle_client(g, 0, msg, len, reply, reply_len);
}

int pt_control_handle_client(struct pt_graph *g, uint64_t client, const void *msg,
			     size_t len, void *reply, size_t *reply_len)
{
	static struct pt_ctl_request req; /* owner thread only; too big for some stacks */
	struct answer a = { .req = &req, .reply = reply, .room = *reply_len };
	struct control_state *s;
	enum pt_ctl_status st;
	int ret;

	if (*reply_len < PT_CTL_MSG_MAX)
		return -ENOBUFS;
	st = pt_ctl_decode(msg, len, &req, a.err, sizeof(a.err));
	if (st != PT_CTL_OK) {
		/* Echo what can be read of the header, so the sender can match
		 * the reply; an unreadable header gets type and seq 0. */
		a.size = pt_ctl_encode_error(reply, a.room,
					     len >= sizeof(req.hdr) ? req.hdr.type : 0,
					     len >= sizeof(req.hdr) ? req.hdr.seq : 0,
					     st, a.err);
		*reply_len = a.size;
		return pt_ctl_status_errno(st);
	}
	s = state_of(g, true);
	if (!s) {
		ret = refuse(&a, PT_CTL_E_NO_MEMORY, "control state: no memory");
	} else {
		ret = dispatch(s, &a, client);
	}
	*reply_len = a.size;
	return ret;
}
