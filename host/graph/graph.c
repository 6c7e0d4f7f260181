/* SPDX-License-Identifier: MIT */
/*
 * host/graph - pipelines, instances and the buffers between them.
 *
 * Every call checks all of its arguments before it changes anything, so a
 * refused call leaves the graph exactly as it was.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>

#include <partita/heap.h>

#include "host/graph/graph.h"
#include "host/domain/exec.h"
#include "host/io/io.h"
#include "host/libmgr/library.h"
#include "modules/builtin.h"

struct pt_pipeline {
	uint32_t id; /* 0 = slot free */
	char name[PT_NAME_MAX];
	enum pt_state state;
};

struct pt_graph {
	struct pt_graph_config cfg;
	struct pt_budget budget;
	struct pt_pipeline pipes[PT_MAX_PIPELINES];
	struct pt_instance *inst[PT_MAX_INSTANCES]; /* creation order, packed */
	size_t ninst;
	struct pt_buffer *bufs[PT_MAX_BUFFERS];     /* packed */
	size_t nbufs;
	uint32_t next_buffer_id;
	struct pt_instance *order[PT_MAX_INSTANCES];
	size_t norder;
	bool order_valid;
	uint64_t generation;
	const struct pt_module_entry *extra[32]; /* pt_graph_add_module() */
	unsigned nextra;
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static void changed(struct pt_graph *g)
{
	g->order_valid = false;
	g->generation++;
}

/* ---- buffers ---- */

void pt_buffer_source_view(const struct pt_buffer *b, struct pt_source *src)
{
	pt_source_view(src, b->data, b->size, (size_t)(b->rd % b->size),
		       pt_buffer_fill(b), &b->fmt);
}

void pt_buffer_sink_view(const struct pt_buffer *b, struct pt_sink *sink)
{
	pt_sink_view(sink, b->data, b->size, (size_t)(b->wr % b->size),
		     pt_buffer_room(b), &b->fmt);
}

/* ---- graph ---- */

struct pt_graph *pt_graph_new(const struct pt_graph_config *cfg, char *err,
			      size_t errlen)
{
	struct pt_graph *g;
	struct pt_graph_config c = *cfg;

	if (!c.rate)
		c.rate = 48000;
	if (!c.period_us)
		c.period_us = 1000;
	if (!c.user_heap_size)
		c.user_heap_size = PT_USER_HEAP_SIZE_DEFAULT;
	if (c.rate < PT_RATE_MIN || c.rate > PT_RATE_MAX) {
		fail(err, errlen, -EINVAL, "rate %u Hz is outside %u..%u", c.rate,
		     PT_RATE_MIN, PT_RATE_MAX);
		return NULL;
	}
	if (!c.dp_batch)
		c.dp_batch = c.offline ? PT_DP_BATCH_OFFLINE : 1;
	if (c.dp_batch > PT_DP_BATCH_MAX) {
		fail(err, errlen, -EINVAL, "DP batch of %u periods is over %u",
		     c.dp_batch, PT_DP_BATCH_MAX);
		return NULL;
	}
	if (c.period_us < 125 || c.period_us > 100000) {
		fail(err, errlen, -EINVAL,
		     "period %u us is outside 125..100000 us", c.period_us);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		fail(err, errlen, -ENOMEM, "out of host memory");
		return NULL;
	}
	g->cfg = c;
	pt_budget_init(&g->budget, c.user_heap_size);
	g->cfg.user_heap_size = g->budget.total;
	g->next_buffer_id = 1;
	return g;
}

const struct pt_graph_config *pt_graph_config(const struct pt_graph *g)
{
	return &g->cfg;
}

struct pt_budget *pt_graph_budget(struct pt_graph *g)
{
	return &g->budget;
}

uint64_t pt_graph_generation(const struct pt_graph *g)
{
	return g->generation;
}

uint32_t pt_graph_period_frames(const struct pt_graph *g, uint32_t rate)
{
	uint64_t f = (uint64_t)rate * g->cfg.period_us / 1000000u;

	return f ? (uint32_t)f : 1;
}

static struct pt_pipeline *pipeline(const struct pt_graph *g, uint32_t id)
{
	for (size_t i = 0; id && i < PT_MAX_PIPELINES; i++)
		if (g->pipes[i].id == id)
			return (struct pt_pipeline *)&g->pipes[i];
	return NULL;
}

uint32_t pt_graph_pipeline_at(const struct pt_graph *g, size_t i)
{
	for (size_t k = 0; k < PT_MAX_PIPELINES; k++)
		if (g->pipes[k].id && i-- == 0)
			return g->pipes[k].id;
	return 0;
}

int pt_graph_pipeline_state(const struct pt_graph *g, uint32_t id)
{
	const struct pt_pipeline *p = pipeline(g, id);

	return p ? (int)p->state : -ENOENT;
}

static bool name_ok(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n == 0 || n >= PT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] == 0x7f)
			return false;
	return true;
}

int pt_graph_pipeline_create(struct pt_graph *g, uint32_t id, const char *name,
			     char *err, size_t errlen)
{
	struct pt_pipeline *slot = NULL;

	if (!id)
		return fail(err, errlen, -EINVAL, "pipeline id 0 is reserved");
	if (pipeline(g, id))
		return fail(err, errlen, -EEXIST, "pipeline %u exists", id);
	if (!name_ok(name))
		return fail(err, errlen, -EINVAL,
			    "pipeline name must be 1..%d printable characters",
			    PT_NAME_MAX - 1);
	for (size_t i = 0; i < PT_MAX_PIPELINES; i++) {
		if (g->pipes[i].id && !strcmp(g->pipes[i].name, name))
			return fail(err, errlen, -EEXIST,
				    "pipeline name '%s' is taken", name);
		if (!g->pipes[i].id && !slot)
			slot = &g->pipes[i];
	}
	if (!slot)
		return fail(err, errlen, -ENOSPC, "too many pipelines (max %d)",
			    PT_MAX_PIPELINES);
	slot->id = id;
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	slot->state = PT_STATE_RESET;
	changed(g);
	return 0;
}

int pt_graph_pipeline_delete(struct pt_graph *g, uint32_t id, char *err,
			     size_t errlen)
{
	struct pt_pipeline *p = pipeline(g, id);

	if (!p)
		return fail(err, errlen, -ENOENT, "no pipeline %u", id);
	for (size_t i = 0; i < g->ninst; i++)
		if (g->inst[i]->pipeline == id)
			return fail(err, errlen, -EBUSY,
				    "pipeline %u still holds instance '%s'", id,
				    g->inst[i]->name);
	memset(p, 0, sizeof(*p));
	changed(g);
	return 0;
}

/* ---- instances ---- */

struct pt_instance *pt_graph_instance(struct pt_graph *g, uint32_t id)
{
	for (size_t i = 0; id && i < g->ninst; i++)
		if (g->inst[i]->id == id)
			return g->inst[i];
	return NULL;
}

struct pt_instance *pt_graph_instance_by_name(struct pt_graph *g,
					      const char *name)
{
	for (size_t i = 0; name && i < g->ninst; i++)
		if (!strcmp(g->inst[i]->name, name))
			return g->inst[i];
	return NULL;
}

struct pt_instance *pt_graph_instance_at(struct pt_graph *g, size_t i)
{
	return i < g->ninst ? g->inst[i] : NULL;
}

struct pt_buffer *pt_graph_buffer_at(struct pt_graph *g, size_t i)
{
	return i < g->nbufs ? g->bufs[i] : NULL;
}

/* The module's log lines go to stderr with the instance's name; the last
 * error is kept so a failed call can say why. */
static void instance_log(void *ctx, const char *name, int level,
			 const char *line)
{
	struct pt_instance *inst = ctx;

	if (level <= PT_LOG_ERR)
		snprintf(inst->last_error, sizeof(inst->last_error), "%s", line);
	if (level <= PT_LOG_WARN || getenv("PARTITA_DEBUG"))
		fprintf(stderr, "partita: %s: %s\n", name, line);
}

static int manifest_check(const struct pt_manifest *m, const char *what,
			  char *err, size_t errlen)
{
	if (memcmp(m->magic, PT_MANIFEST_MAGIC, sizeof(PT_MANIFEST_MAGIC)))
		return fail(err, errlen, -EINVAL, "%s: manifest has a bad magic",
			    what);
	if (!pt_abi_version_supported(m->abi_version))
		return fail(err, errlen, -EPROTO,
			    "%s: built for module ABI %u, this host has ABI %u to %u",
			    what, m->abi_version, PT_ABI_VERSION_MIN, PT_ABI_VERSION);
	if (!memchr(m->name, 0, sizeof(m->name)) || !m->name[0])
		return fail(err, errlen, -EINVAL, "%s: manifest name is not a string",
			    what);
	if (m->max_sources > PT_MAX_PINS || m->max_sinks > PT_MAX_PINS)
		return fail(err, errlen, -EINVAL,
			    "%s: manifest declares %u inputs and %u outputs (max %d)",
			    what, m->max_sources, m->max_sinks, PT_MAX_PINS);
	return 0;
}

/* Finds the code of an endpoint, a built-in or an added module. */
static const struct pt_module_entry *find_module(const struct pt_graph *g,
						 const char *name)
{
	const struct pt_module_entry *e = pt_io_find(name);

	if (!e)
		e = pt_builtin_find(name);
	for (unsigned i = 0; !e && i < g->nextra; i++)
		if (!strcmp(g->extra[i]->manifest->name, name))
			e = g->extra[i];
	return e;
}

int pt_graph_add_module(struct pt_graph *g, const struct pt_module_entry *entry,
			char *err, size_t errlen)
{
	int ret;

	if (!entry || !entry->manifest || !entry->ops || !entry->ops->process)
		return fail(err, errlen, -EINVAL,
			    "module entry without manifest or process");
	ret = manifest_check(entry->manifest, "added module", err, errlen);
	if (ret)
		return ret;
	if (find_module(g, entry->manifest->name))
		return fail(err, errlen, -EEXIST, "module '%s' exists",
			    entry->manifest->name);
	if (g->nextra >= sizeof(g->extra) / sizeof(g->extra[0]))
		return fail(err, errlen, -ENOSPC, "too many added modules");
	g->extra[g->nextra++] = entry;
	return 0;
}

static void instance_release(struct pt_graph *g, struct pt_instance *inst)
{
	(void)g;
	if (inst->exec)
		pt_exec_destroy(inst);
	if (inst->mod.entry)
		pt_module_free(&inst->mod);
	if (inst->heap_part)
		pt_partition_put(inst->heap_part);
	if (inst->dl)
		dlclose(inst->dl);
	if (inst->library_fd >= 0)
		close(inst->library_fd);
	free(inst->init);
	free(inst->config);
	free(inst);
}

/* Where a built-in's library is: modules/ beside the running binary (the
 * build tree) as host/domain finds it, else the installed module folder. */
static int builtin_library(const char *module, char *path, size_t len)
{
	if (!pt_exec_module_library(module, path, len))
		return 0;
	if ((size_t)snprintf(path, len, "%s/pt_%s.so", PT_MODULE_DIR, module) >= len)
		return -ENAMETOOLONG;
	return access(path, R_OK) ? -ENOENT : 0;
}

/* A trusted instance: its private heap is a partition of the budget all
 * the same, and its init runs here. A library module is loaded into the
 * host only when the topology asks for isolation: none. */
static int instance_start_host(struct pt_graph *g, struct pt_instance *inst,
			       const struct pt_module_entry *entry, char *err,
			       size_t errlen)
{
	int ret;

	if (!entry) {
		const struct pt_module_entry *e;

		char snap[64];

		/* Loads the snapshot that was checked, not the path. */
		snprintf(snap, sizeof(snap), "/proc/self/fd/%d", inst->library_fd);
		inst->dl = dlopen(snap, RTLD_NOW | RTLD_LOCAL);
		if (!inst->dl)
			return fail(err, errlen, -ENOEXEC,
				    "instance '%s': cannot load %s: %s", inst->name,
				    inst->library, dlerror());
		e = dlsym(inst->dl, PT_MODULE_ENTRY_SYMBOL);
		/* The code must be the one the manifest we checked describes. */
		if (!e || !e->manifest || !e->ops || !e->ops->process ||
		    memcmp(e->manifest, &inst->manifest, sizeof(inst->manifest)))
			return fail(err, errlen, -ENOEXEC,
				    "instance '%s': %s exports no entry matching its manifest",
				    inst->name, inst->library);
		entry = e;
	}
	inst->entry = entry;
	inst->heap_part = pt_partition_create(&g->budget, PT_PARTITION_HEAP,
					      inst->name, inst->name,
					      inst->heap_size, err, errlen);
	if (!inst->heap_part)
		return -ENOMEM;
	ret = pt_module_init(&inst->mod, entry, inst->name,
			     pt_graph_period_frames(g, g->cfg.rate),
			     inst->heap_part->map, inst->heap_size, inst->init,
			     inst->init_size);
	if (ret) {
		fail(err, errlen, ret, "instance '%s' (%s): init failed: %s",
		     inst->name, inst->manifest.name,
		     inst->last_error[0] ? inst->last_error : strerror(-ret));
		/* init failed: free must not run on a half-made module. */
		inst->mod.entry = NULL;
	}
	return ret;
}

/* An isolated instance: its domain holds its heap and runs its init. */
static int instance_start_domain(struct pt_graph *g, struct pt_instance *inst,
				 char *err, size_t errlen)
{
	char why[PT_ERR_MAX];
	int ret = pt_exec_create(&g->budget, inst,
				 pt_graph_period_frames(g, g->cfg.rate), why,
				 sizeof(why));

	if (ret)
		return fail(err, errlen, ret, "instance '%s' (%s): %s", inst->name,
			    inst->manifest.name, why);
	/* The heap the instance really has in its domain. */
	inst->stats.heap_size = pt_exec_heap_size(inst);
	return 0;
}

int pt_graph_instance_create(struct pt_graph *g,
			     const struct pt_instance_desc *d, char *err,
			     size_t errlen)
{
	const struct pt_module_entry *entry = NULL;
	struct pt_library_info lib;
	struct pt_manifest manifest;
	struct pt_instance *inst;
	enum pt_isolation iso;
	bool endpoint;
	int libfd = -1;
	const char *libpath;
	char what[PT_NAME_MAX + 64], path[PATH_MAX];
	uint32_t heap;
	int ret;

	if (!d->id)
		return fail(err, errlen, -EINVAL, "instance id 0 is reserved");
	if (pt_graph_instance(g, d->id))
		return fail(err, errlen, -EEXIST, "instance %u exists", d->id);
	if (!name_ok(d->name))
		return fail(err, errlen, -EINVAL,
			    "instance name must be 1..%d printable characters",
			    PT_NAME_MAX - 1);
	if (pt_graph_instance_by_name(g, d->name))
		return fail(err, errlen, -EEXIST, "instance name '%s' is taken",
			    d->name);
	if (!pipeline(g, d->pipeline))
		return fail(err, errlen, -ENOENT, "instance '%s': no pipeline %u",
			    d->name, d->pipeline);
	if (pipeline(g, d->pipeline)->state != PT_STATE_RESET)
		return fail(err, errlen, -EBUSY,
			    "instance '%s': pipeline %u is not in RESET", d->name,
			    d->pipeline);
	if (g->ninst >= PT_MAX_INSTANCES)
		return fail(err, errlen, -ENOSPC, "too many instances (max %d)",
			    PT_MAX_INSTANCES);
	if (d->init_size > PT_INIT_MAX || (d->init_size && !d->init))
		return fail(err, errlen, -E2BIG,
			    "instance '%s': init blob of %zu bytes (max %d)",
			    d->name, d->init_size, PT_INIT_MAX);
	if ((d->module != NULL) == (d->library != NULL))
		return fail(err, errlen, -EINVAL,
			    "instance '%s': give exactly one of module and library",
			    d->name);
	/* What it is: a built-in or endpoint in this binary, or a library
	 * whose manifest is read with libelf, without running its code. */
	if (d->library && strlen(d->library) >= PATH_MAX)
		return fail(err, errlen, -ENAMETOOLONG,
			    "instance '%s': library path is too long", d->name);
	if (d->library) {
		/* The snapshot is what is checked and what is loaded, so the
		 * file cannot change in between. */
		if (d->library_fd_set)
			libfd = fcntl(d->library_fd, F_DUPFD_CLOEXEC, 3);
		else if ((ret = pt_library_snapshot(d->library, &libfd, err, errlen)))
			return ret;
		if (libfd < 0)
			return fail(err, errlen, -errno, "instance '%s': library fd: %s",
				    d->name, strerror(errno));
		ret = pt_library_check_fd(libfd, d->library, NULL, &lib, err, errlen);
		if (ret) {
			close(libfd);
			return ret;
		}
		manifest = lib.manifest;
	} else {
		entry = find_module(g, d->module);
		if (!entry)
			return fail(err, errlen, -ENOENT,
				    "instance '%s': no module named '%s'",
				    d->name, d->module);
		snprintf(what, sizeof(what), "module '%s'", d->module);
		ret = manifest_check(entry->manifest, what, err, errlen);
		if (ret)
			return ret;
		manifest = *entry->manifest;
	}
	endpoint = d->module && pt_io_find(d->module);
	/* Where it runs: as the run forces, else as asked; library modules
	 * default to a domain, built-ins to the host. */
	if (g->cfg.force_isolation && !endpoint)
		iso = g->cfg.isolation;
	else if (d->isolation_set)
		iso = d->isolation;
	else
		iso = d->library ? PT_ISOLATION_PROCESS : PT_ISOLATION_NONE;
	if (iso == PT_ISOLATION_PROCESS && endpoint) {
		ret = fail(err, errlen, -EINVAL,
			    "instance '%s': the %s endpoint runs in the host",
			    d->name, d->module);
		goto refuse;
	}
	if (iso == PT_ISOLATION_PROCESS && !d->library &&
	    builtin_library(d->module, path, sizeof(path))) {
		ret = fail(err, errlen, -ENOENT,
			    "instance '%s': no library of module '%s' to run in a domain (looked for modules/pt_%s.so beside the partita binary and in " PT_MODULE_DIR ")",
			    d->name, d->module, d->module);
		goto refuse;
	}
	if (d->deadline_us > 10u * 1000u * 1000u) {
		ret = fail(err, errlen, -EINVAL,
			    "instance '%s': deadline %u us is over 10 s", d->name,
			    d->deadline_us);
		goto refuse;
	}
	if ((d->heap_size && d->heap_size < 4096) || d->heap_size > (256u << 20)) {
		ret = fail(err, errlen, -EINVAL,
			    "instance '%s': heap_size %u is outside 4K..256M",
			    d->name, d->heap_size);
		goto refuse;
	}
	if ((d->stack_size && d->stack_size < 16384) ||
	    d->stack_size > (64u << 20)) {
		ret = fail(err, errlen, -EINVAL,
			    "instance '%s': stack_size %u is outside 16K..64M",
			    d->name, d->stack_size);
		goto refuse;
	}
	if (d->domain && d->domain[0] && !name_ok(d->domain)) {
		ret = fail(err, errlen, -EINVAL,
			    "instance '%s': bad domain name", d->name);
		goto refuse;
	}

	inst = calloc(1, sizeof(*inst));
	if (!inst) {
		if (libfd >= 0)
			close(libfd);
		return fail(err, errlen, -ENOMEM, "out of host memory");
	}
	inst->library_fd = libfd;
	inst->id = d->id;
	inst->pipeline = d->pipeline;
	snprintf(inst->name, sizeof(inst->name), "%s", d->name);
	inst->manifest = manifest;
	inst->isolation = iso;
	inst->sched = d->sched_set ? d->sched :
		      d->library ? PT_SCHED_DP : PT_SCHED_LL;
	/* Endpoints move file data in the host's own pass; a domain is
	 * always DP: the host never waits on it inside its pass. */
	if (endpoint)
		inst->sched = PT_SCHED_LL;
	if (iso == PT_ISOLATION_PROCESS)
		inst->sched = PT_SCHED_DP;
	if (d->domain)
		snprintf(inst->domain, sizeof(inst->domain), "%s", d->domain);
	libpath = d->library ? d->library : iso == PT_ISOLATION_PROCESS ? path : "";
	/* Shorter than PATH_MAX: checked above, or built by builtin_library. */
	memcpy(inst->library, libpath, strlen(libpath) + 1);
	heap = d->heap_size ? d->heap_size :
	       manifest.heap_size ? manifest.heap_size : PT_HEAP_SIZE_DEFAULT;
	inst->heap_size = heap;
	inst->stack_size = d->stack_size ? d->stack_size :
			   manifest.stack_size ? manifest.stack_size :
						 PT_STACK_SIZE_DEFAULT;
	inst->deadline_us = d->deadline_us ? d->deadline_us : g->cfg.period_us;
	inst->max_misses = d->max_misses ? d->max_misses : 3;
	inst->restart = d->restart;
	inst->restart_limit = d->restart_limit ? d->restart_limit : 3;
	inst->on_fault = d->on_fault;
	inst->state = PT_INSTANCE_INIT;
	inst->stats.heap_size = heap;
	inst->mod.log = instance_log;
	inst->mod.log_ctx = inst;
	if (d->init_size) {
		inst->init = malloc(d->init_size);
		if (!inst->init) {
			free(inst);
			return fail(err, errlen, -ENOMEM, "out of host memory");
		}
		memcpy(inst->init, d->init, d->init_size);
		inst->init_size = d->init_size;
	}

	ret = iso == PT_ISOLATION_PROCESS ? instance_start_domain(g, inst, err, errlen) :
					    instance_start_host(g, inst, entry, err, errlen);
	if (ret)
		goto out;
	g->inst[g->ninst++] = inst;
	changed(g);
	return 0;
out:
	instance_release(g, inst);
	return ret;
refuse:
	if (libfd >= 0)
		close(libfd);
	return ret;
}

static bool instance_bound(const struct pt_instance *inst)
{
	for (unsigned i = 0; i < PT_MAX_PINS; i++)
		if (inst->in[i] || inst->out[i])
			return true;
	return false;
}

int pt_graph_instance_delete(struct pt_graph *g, uint32_t id, char *err,
			     size_t errlen)
{
	struct pt_instance *inst = pt_graph_instance(g, id);
	size_t i;

	if (!inst)
		return fail(err, errlen, -ENOENT, "no instance %u", id);
	if (pipeline(g, inst->pipeline)->state != PT_STATE_RESET)
		return fail(err, errlen, -EBUSY,
			    "instance '%s': its pipeline is not in RESET",
			    inst->name);
	if (instance_bound(inst))
		return fail(err, errlen, -EBUSY,
			    "instance '%s' is still bound; unbind it first",
			    inst->name);
	for (i = 0; i < g->ninst && g->inst[i] != inst; i++)
		;
	memmove(&g->inst[i], &g->inst[i + 1],
		(g->ninst - i - 1) * sizeof(g->inst[0]));
	g->ninst--;
	instance_release(g, inst);
	changed(g);
	return 0;
}

/* ---- bindings ---- */

/* Returns true when @to can be reached from @from along buffers. */
static bool reaches(const struct pt_instance *from, const struct pt_instance *to,
		    unsigned depth)
{
	if (from == to)
		return true;
	if (depth > PT_MAX_INSTANCES)
		return true; /* cannot happen in an acyclic graph: refuse */
	for (unsigned i = 0; i < PT_MAX_PINS; i++)
		if (from->out[i] && reaches(from->out[i]->dst, to, depth + 1))
			return true;
	return false;
}

int pt_graph_bind(struct pt_graph *g, uint32_t src_id, unsigned src_pin,
		  uint32_t dst_id, unsigned dst_pin, const struct pt_format *fmt,
		  uint32_t periods, char *err, size_t errlen)
{
	struct pt_instance *src = pt_graph_instance(g, src_id);
	struct pt_instance *dst = pt_graph_instance(g, dst_id);
	struct pt_buffer *b;
	char who[2 * PT_NAME_MAX + 8];
	size_t bytes;
	uint32_t frame;

	if (!src)
		return fail(err, errlen, -ENOENT, "bind: no source instance %u",
			    src_id);
	if (!dst)
		return fail(err, errlen, -ENOENT, "bind: no sink instance %u",
			    dst_id);
	if (src_pin >= src->manifest.max_sinks)
		return fail(err, errlen, -EINVAL,
			    "bind: '%s' has %u output pins, pin %u does not exist",
			    src->name, src->manifest.max_sinks, src_pin);
	if (dst_pin >= dst->manifest.max_sources)
		return fail(err, errlen, -EINVAL,
			    "bind: '%s' has %u input pins, pin %u does not exist",
			    dst->name, dst->manifest.max_sources, dst_pin);
	if (src->out[src_pin])
		return fail(err, errlen, -EBUSY,
			    "bind: output pin %u of '%s' is already bound",
			    src_pin, src->name);
	if (dst->in[dst_pin])
		return fail(err, errlen, -EBUSY,
			    "bind: input pin %u of '%s' is already bound",
			    dst_pin, dst->name);
	if (pipeline(g, src->pipeline)->state != PT_STATE_RESET ||
	    pipeline(g, dst->pipeline)->state != PT_STATE_RESET)
		return fail(err, errlen, -EBUSY,
			    "bind: '%s' -> '%s': both pipelines must be in RESET",
			    src->name, dst->name);
	if (!fmt || !pt_format_valid(fmt))
		return fail(err, errlen, -EINVAL,
			    "bind: '%s' -> '%s': bad format (rate %u, channels %u, sample %u)",
			    src->name, dst->name, fmt ? fmt->rate : 0,
			    fmt ? fmt->channels : 0, fmt ? fmt->sample : 0);
	if (periods > 1000)
		return fail(err, errlen, -EINVAL,
			    "bind: '%s' -> '%s': %u periods is over 1000",
			    src->name, dst->name, periods);
	if (reaches(dst, src, 0))
		return fail(err, errlen, -ELOOP,
			    "bind: '%s' -> '%s' would close a cycle", src->name,
			    dst->name);
	if (g->nbufs >= PT_MAX_BUFFERS)
		return fail(err, errlen, -ENOSPC, "too many buffers (max %d)",
			    PT_MAX_BUFFERS);

	frame = pt_frame_bytes(fmt);
	/* Offline, every buffer holds two batches, so a DP stage and its
	 * neighbours each hold one, and a short branch joining a long one can
	 * absorb the DP latency of the other. */
	if (!periods)
		periods = g->cfg.dp_batch > 1 ? 2 * g->cfg.dp_batch :
						PT_BUFFER_PERIODS_DEFAULT;
	bytes = (size_t)periods * pt_graph_period_frames(g, fmt->rate) * frame;
	b = calloc(1, sizeof(*b));
	if (!b)
		return fail(err, errlen, -ENOMEM, "out of host memory");
	snprintf(who, sizeof(who), "%s->%s", src->name, dst->name);
	/* A buffer is charged to its writer. */
	b->part = pt_partition_create(&g->budget, PT_PARTITION_BUFFER, src->name,
				      who, bytes, err, errlen);
	if (!b->part) {
		free(b);
		return -ENOMEM;
	}
	b->id = g->next_buffer_id++;
	b->periods = periods;
	b->data = b->part->map;
	b->size = bytes;
	b->fmt = *fmt;
	b->frame = frame;
	b->src = src;
	b->src_pin = src_pin;
	b->dst = dst;
	b->dst_pin = dst_pin;
	src->out[src_pin] = b;
	dst->in[dst_pin] = b;
	g->bufs[g->nbufs++] = b;
	changed(g);
	return 0;
}

int pt_graph_unbind(struct pt_graph *g, uint32_t src_id, unsigned src_pin,
		    uint32_t dst_id, unsigned dst_pin, char *err, size_t errlen)
{
	struct pt_instance *src = pt_graph_instance(g, src_id);
	struct pt_instance *dst = pt_graph_instance(g, dst_id);
	struct pt_buffer *b;
	size_t i;

	if (!src || !dst)
		return fail(err, errlen, -ENOENT, "unbind: no instance %u",
			    src ? dst_id : src_id);
	if (src_pin >= PT_MAX_PINS || dst_pin >= PT_MAX_PINS ||
	    !(b = src->out[src_pin]) || b->dst != dst || b->dst_pin != dst_pin)
		return fail(err, errlen, -ENOENT,
			    "unbind: '%s' pin %u is not bound to '%s' pin %u",
			    src->name, src_pin, dst->name, dst_pin);
	if (pipeline(g, src->pipeline)->state != PT_STATE_RESET ||
	    pipeline(g, dst->pipeline)->state != PT_STATE_RESET)
		return fail(err, errlen, -EBUSY,
			    "unbind: both pipelines must be in RESET");
	src->out[src_pin] = NULL;
	dst->in[dst_pin] = NULL;
	for (i = 0; i < g->nbufs && g->bufs[i] != b; i++)
		;
	memmove(&g->bufs[i], &g->bufs[i + 1],
		(g->nbufs - i - 1) * sizeof(g->bufs[0]));
	g->nbufs--;
	/* The partition is retired: its bytes return to the budget when the
	 * last holder lets go, and it is never reused. */
	pt_partition_put(b->part);
	free(b);
	changed(g);
	return 0;
}

/* ---- order ---- */

struct pt_instance *const *pt_graph_order(struct pt_graph *g, size_t *n)
{
	unsigned indeg[PT_MAX_INSTANCES];
	size_t head = 0;

	if (g->order_valid) {
		*n = g->norder;
		return g->order;
	}
	/* Kahn's algorithm, ties broken by creation order so the order is
	 * stable from run to run. */
	g->norder = 0;
	for (size_t i = 0; i < g->ninst; i++) {
		indeg[i] = 0;
		for (unsigned p = 0; p < PT_MAX_PINS; p++)
			indeg[i] += g->inst[i]->in[p] != NULL;
		if (!indeg[i])
			g->order[g->norder++] = g->inst[i];
	}
	while (head < g->norder) {
		struct pt_instance *u = g->order[head++];

		for (unsigned p = 0; p < PT_MAX_PINS; p++) {
			struct pt_instance *v;
			size_t k;

			if (!u->out[p])
				continue;
			v = u->out[p]->dst;
			for (k = 0; k < g->ninst && g->inst[k] != v; k++)
				;
			if (--indeg[k] == 0)
				g->order[g->norder++] = v;
		}
	}
	g->order_valid = true;
	*n = g->norder;
	return g->order;
}

/* ---- states ---- */

static void views(struct pt_instance *inst, struct pt_source *src,
		  struct pt_source **srcp, unsigned *nsrc, struct pt_sink *snk,
		  struct pt_sink **snkp, unsigned *nsnk)
{
	*nsrc = *nsnk = 0;
	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		if (inst->in[p]) {
			pt_buffer_source_view(inst->in[p], &src[*nsrc]);
			srcp[*nsrc] = &src[*nsrc];
			(*nsrc)++;
		}
		if (inst->out[p]) {
			pt_buffer_sink_view(inst->out[p], &snk[*nsnk]);
			snkp[*nsnk] = &snk[*nsnk];
			(*nsnk)++;
		}
	}
}

static int instance_prepare(struct pt_graph *g, struct pt_instance *inst,
			    char *err, size_t errlen)
{
	struct pt_source src[PT_MAX_PINS], *srcp[PT_MAX_PINS];
	struct pt_sink snk[PT_MAX_PINS], *snkp[PT_MAX_PINS];
	const struct pt_format *f = NULL;
	unsigned nsrc, nsnk;
	int ret = 0;

	views(inst, src, srcp, &nsrc, snk, snkp, &nsnk);
	/* The period in frames follows the instance's stream rate: its first
	 * input's, else its first output's. */
	if (nsrc)
		f = &src[0].fmt;
	else if (nsnk)
		f = &snk[0].fmt;
	inst->mod.period_frames = pt_graph_period_frames(g, f ? f->rate :
							 g->cfg.rate);
	inst->last_error[0] = 0;
	if (inst->exec) {
		char why[PT_ERR_MAX];

		ret = pt_exec_prepare(inst, why, sizeof(why));
		if (ret)
			return fail(err, errlen, ret,
				    "instance '%s' (%s): prepare failed: %s",
				    inst->name, inst->manifest.name, why);
	} else if (inst->entry->ops->prepare) {
		ret = inst->entry->ops->prepare(&inst->mod, srcp, nsrc, snkp,
						nsnk);
	}
	if (ret)
		return fail(err, errlen, ret, "instance '%s' (%s): prepare failed: %s",
			    inst->name, inst->manifest.name,
			    inst->last_error[0] ? inst->last_error :
						  strerror(-ret));
	inst->state = PT_INSTANCE_PREPARED;
	return 0;
}

static void instance_reset(struct pt_instance *inst)
{
	char why[PT_ERR_MAX];

	if (inst->exec && inst->state != PT_INSTANCE_FAILED &&
	    pt_exec_reset(inst, why, sizeof(why)))
		fprintf(stderr, "partita: instance '%s': reset: %s\n", inst->name,
			why);
	else if (inst->entry && inst->entry->ops->reset && inst->mod.entry)
		inst->entry->ops->reset(&inst->mod);
	if (inst->state == PT_INSTANCE_PREPARED)
		inst->state = PT_INSTANCE_INIT;
	inst->consecutive_misses = 0;
	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		if (inst->out[p]) {
			inst->out[p]->rd = inst->out[p]->wr = 0;
		}
	}
}

int pt_graph_set_state(struct pt_graph *g, uint32_t id, enum pt_state state,
		       char *err, size_t errlen)
{
	struct pt_pipeline *p = pipeline(g, id);
	int ret;

	if (!p)
		return fail(err, errlen, -ENOENT, "no pipeline %u", id);
	if (state > PT_STATE_RUNNING)
		return fail(err, errlen, -EINVAL, "state %u is not a state",
			    (unsigned)state);
	if (state == p->state)
		return 0;
	if (p->state == PT_STATE_RESET) {
		/* Leaving RESET: every pin of every instance must be bound as
		 * its manifest needs, then all are prepared or none is. */
		for (size_t i = 0; i < g->ninst; i++) {
			struct pt_instance *inst = g->inst[i];

			if (inst->pipeline != id)
				continue;
			if (inst->manifest.max_sinks && !inst->out[0])
				return fail(err, errlen, -ENOTCONN,
					    "pipeline %u: output pin 0 of '%s' is not bound",
					    id, inst->name);
			if (inst->manifest.max_sources && !inst->in[0])
				return fail(err, errlen, -ENOTCONN,
					    "pipeline %u: input pin 0 of '%s' is not bound",
					    id, inst->name);
		}
		for (size_t i = 0; i < g->ninst; i++) {
			struct pt_instance *inst = g->inst[i];

			if (inst->pipeline != id || inst->state == PT_INSTANCE_FAILED)
				continue;
			ret = instance_prepare(g, inst, err, errlen);
			if (ret) {
				for (size_t k = 0; k < i; k++)
					if (g->inst[k]->pipeline == id)
						instance_reset(g->inst[k]);
				return ret;
			}
		}
	} else if (state == PT_STATE_RESET) {
		for (size_t i = 0; i < g->ninst; i++)
			if (g->inst[i]->pipeline == id)
				instance_reset(g->inst[i]);
	}
	p->state = state;
	changed(g);
	return 0;
}

/* ---- configuration ---- */

/* Keeps every text configuration blob, in order, for replay after a
 * restart: [u32 length][bytes] records. When the history would pass
 * PT_CONFIG_MAX only the latest blob is kept, so the replay may lose older
 * keys the latest one does not repeat. */
static void remember_config(struct pt_instance *inst, const void *data,
			    size_t size)
{
	size_t n = inst->config_size + sizeof(uint32_t) + size;
	uint32_t len = (uint32_t)size;
	uint8_t *c;

	if (n > PT_CONFIG_MAX) {
		inst->config_size = 0;
		n = sizeof(uint32_t) + size;
	}
	c = realloc(inst->config, n);
	if (!c)
		return;
	memcpy(c + inst->config_size, &len, sizeof(len));
	memcpy(c + inst->config_size + sizeof(len), data, size);
	inst->config = c;
	inst->config_size = n;
}

/* Sends the remembered configuration again, blob by blob. */
static int replay_config(struct pt_instance *inst, char *why, size_t whylen)
{
	const uint8_t *c = inst->config;
	size_t at = 0;

	while (at + sizeof(uint32_t) <= inst->config_size) {
		uint32_t len;
		int ret;

		memcpy(&len, c + at, sizeof(len));
		at += sizeof(len);
		if (len > inst->config_size - at)
			break;
		ret = pt_exec_config_set(inst, PT_PARAM_TEXT, c + at, len, why,
					 whylen);
		if (ret)
			return ret;
		at += len;
	}
	return 0;
}

int pt_graph_config_set(struct pt_graph *g, uint32_t id, uint32_t param,
			const void *data, size_t size, char *err, size_t errlen)
{
	struct pt_instance *inst = pt_graph_instance(g, id);
	int ret;

	if (!inst)
		return fail(err, errlen, -ENOENT, "no instance %u", id);
	if (size > PT_CONFIG_MAX || (size && !data))
		return fail(err, errlen, -E2BIG,
			    "config of %zu bytes for '%s' (max %d)", size,
			    inst->name, PT_CONFIG_MAX);
	if (inst->state == PT_INSTANCE_FAILED)
		return fail(err, errlen, -EIO, "instance '%s' has failed",
			    inst->name);
	if (inst->exec) {
		char why[PT_ERR_MAX];

		ret = pt_exec_config_set(inst, param, data, size, why, sizeof(why));
		if (ret)
			return fail(err, errlen, ret,
				    "instance '%s': config refused: %s", inst->name,
				    why);
		if (param == PT_PARAM_TEXT)
			remember_config(inst, data, size);
		return 0;
	}
	if (!inst->entry->ops->set_config)
		return fail(err, errlen, -EOPNOTSUPP,
			    "module '%s' takes no configuration",
			    inst->manifest.name);
	inst->last_error[0] = 0;
	ret = inst->entry->ops->set_config(&inst->mod, param, data, size);
	if (ret > 0) /* outside the ABI: not an errno to pass on */
		return fail(err, errlen, -EBADE,
			    "instance '%s': set config returned %d, not 0 or a negative errno",
			    inst->name, ret);
	if (ret)
		return fail(err, errlen, ret, "instance '%s': config refused: %s",
			    inst->name,
			    inst->last_error[0] ? inst->last_error :
						  strerror(-ret));
	if (param == PT_PARAM_TEXT)
		remember_config(inst, data, size);
	return 0;
}

int pt_graph_config_get(struct pt_graph *g, uint32_t id, uint32_t param,
			void *data, size_t *size, char *err, size_t errlen)
{
	struct pt_instance *inst = pt_graph_instance(g, id);
	size_t room = *size;
	int ret;

	if (!inst)
		return fail(err, errlen, -ENOENT, "no instance %u", id);
	if (inst->state == PT_INSTANCE_FAILED)
		return fail(err, errlen, -EIO, "instance '%s' has failed",
			    inst->name);
	if (inst->exec) {
		char why[PT_ERR_MAX];

		ret = pt_exec_config_get(inst, param, data, size, why, sizeof(why));
		if (ret)
			return fail(err, errlen, ret, "instance '%s': get config: %s",
				    inst->name, why);
		if (*size > room)
			return fail(err, errlen, -EBADE,
				    "instance '%s' claims %zu bytes in a %zu-byte reply",
				    inst->name, *size, room);
		return 0;
	}
	if (!inst->entry->ops->get_config)
		return fail(err, errlen, -EOPNOTSUPP,
			    "module '%s' reports no configuration",
			    inst->manifest.name);
	ret = inst->entry->ops->get_config(&inst->mod, param, data, size);
	if (ret > 0) /* outside the ABI: not an errno to pass on */
		return fail(err, errlen, -EBADE,
			    "instance '%s': get config returned %d, not 0 or a negative errno",
			    inst->name, ret);
	if (ret)
		return fail(err, errlen, ret, "instance '%s': get config: %s",
			    inst->name, strerror(-ret));
	if (*size > room) /* a module that lies about what it wrote */
		return fail(err, errlen, -EBADE,
			    "instance '%s' claims %zu bytes in a %zu-byte reply",
			    inst->name, *size, room);
	return 0;
}

/* ---- teardown and info ---- */

void pt_graph_free(struct pt_graph *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nbufs; i++) {
		pt_partition_put(g->bufs[i]->part);
		free(g->bufs[i]);
	}
	for (size_t i = 0; i < g->ninst; i++)
		instance_release(g, g->inst[i]);
	free(g);
}

int pt_graph_instance_restart(struct pt_graph *g, struct pt_instance *inst,
			      char *err, size_t errlen)
{
	char why[PT_ERR_MAX];
	int ret;

	if (inst->state != PT_INSTANCE_FAILED || inst->isolation != PT_ISOLATION_PROCESS)
		return fail(err, errlen, -EINVAL,
			    "instance '%s' is not a failed isolated instance",
			    inst->name);
	if (inst->exec)
		pt_exec_destroy(inst);
	inst->inflight = false;
	inst->consecutive_misses = 0;
	ret = instance_start_domain(g, inst, err, errlen);
	if (ret)
		return ret;
	if (inst->config_size) {
		ret = replay_config(inst, why, sizeof(why));
		if (ret)
			return fail(err, errlen, ret,
				    "instance '%s': replaying its configuration: %s",
				    inst->name, why);
	}
	ret = pt_exec_prepare(inst, why, sizeof(why));
	if (ret)
		return fail(err, errlen, ret, "instance '%s': prepare: %s",
			    inst->name, why);
	inst->state = PT_INSTANCE_PREPARED;
	inst->stats.restarts++;
	changed(g);
	return 0;
}

void pt_instance_fail(struct pt_instance *inst, uint64_t period, int signal,
		      const char *reason)
{
	inst->state = PT_INSTANCE_FAILED;
	inst->stats.faults++;
	inst->stats.fault_period = period;
	inst->stats.fault_signal = signal;
	snprintf(inst->stats.fault_reason, sizeof(inst->stats.fault_reason),
		 "%s", reason);
	fprintf(stderr, "partita: instance '%s' failed at period %llu: %s\n",
		inst->name, (unsigned long long)period, reason);
}

void pt_instance_info(const struct pt_instance *inst,
		      struct pt_instance_info *info)
{
	struct pt_heap_stats hs;

	memset(info, 0, sizeof(*info));
	info->id = inst->id;
	info->pipeline = inst->pipeline;
	snprintf(info->name, sizeof(info->name), "%s", inst->name);
	snprintf(info->module, sizeof(info->module), "%s", inst->manifest.name);
	info->state = inst->state;
	info->isolation = inst->isolation;
	info->sched = inst->sched;
	info->domain_pid = inst->domain_pid;
	info->stats = inst->stats;
	if (inst->exec) {
		info->stats.heap_used = pt_exec_heap_used((struct pt_instance *)inst);
	} else if (inst->mod.heap) {
		pt_heap_stats(inst->mod.heap, &hs);
		info->stats.heap_used = hs.allocated;
	}
}

const char *pt_instance_state_name(enum pt_instance_state s)
{
	switch (s) {
	case PT_INSTANCE_INIT:
		return "INIT";
	case PT_INSTANCE_PREPARED:
		return "READY";
	case PT_INSTANCE_FAILED:
		return "FAILED";
	}
	return "?";
}

const char *pt_state_name(enum pt_state s)
{
	switch (s) {
	case PT_STATE_RESET:
		return "RESET";
	case PT_STATE_PAUSED:
		return "PAUSED";
	case PT_STATE_RUNNING:
		return "RUNNING";
	}
	return "?";
}
