/* SPDX-License-Identifier: MIT */
/*
 * host/graph - pipelines, instances and the buffers between them.
 *
 * Every call checks all of its arguments before it changes anything, so a
 * refused call leaves the graph exactly as it was.
 */
#include <ctype.h>
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
#include "host/graph/history.h"
#include "host/plugins/plugins.h"
#include "host/graph/progress.h"
#include "lib/domain/protocol.h"
#include "host/domain/exec.h"
#include "host/io/io.h"
#include "host/io/iothread.h"
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
	/* Being released by pt_graph_free: its domain's last lines still
	 * name it (its module's free may log). */
	struct pt_instance *releasing;
};

static void domain_log(void *ctx, pid_t pid, const char *line);

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
	src->byte_align = b->rd_byte_align;
	src->frame_align = b->rd_frame_align;
}

void pt_buffer_sink_view(const struct pt_buffer *b, struct pt_sink *sink)
{
	pt_sink_view(sink, b->data, b->size, (size_t)(b->wr % b->size),
		     pt_buffer_room(b), &b->fmt);
	sink->byte_align = b->wr_byte_align;
	sink->frame_align = b->wr_frame_align;
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
	/* The domains' lines name this graph's instances (a host runs one
	 * graph; the last one made). */
	pt_exec_set_log(domain_log, g);
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
 * error is kept so a failed call can say why, and is said there, once. */
static void instance_log(void *ctx, const char *name, int level,
			 const char *line)
{
	struct pt_instance *inst = ctx;

	if (level <= PT_LOG_ERR)
		snprintf(inst->last_error, sizeof(inst->last_error), "%s", line);
	/* Live, the I/O thread writes it: never the period thread. */
	if ((level == PT_LOG_WARN || getenv("PARTITA_DEBUG")) &&
	    !pt_iothread_log(name, line))
		fprintf(stderr, "partita: %s: %s\n", name, line);
}

static struct pt_instance *log_instance(const struct pt_graph *g, pid_t pid,
					const char *name, size_t len)
{
	for (size_t i = 0; i <= g->ninst; i++) {
		struct pt_instance *inst = i < g->ninst ? g->inst[i] : g->releasing;

		if (inst && inst->exec && inst->domain_pid == pid &&
		    strlen(inst->name) == len && !memcmp(inst->name, name, len))
			return inst;
	}
	return NULL;
}

/* A domain's log line. A module's pt_log line ("NAME: [LEVEL] text") is
 * said as the same module's line is trusted, once NAME is found to be an
 * instance of that very domain (a module cannot speak for another);
 * anything else a domain writes (its lockdown's reports, a library's stray
 * output) is said with PARTITA_DEBUG=1, and given as the reason when the
 * domain fails. */
static void domain_log(void *ctx, pid_t pid, const char *line)
{
	const char *tag = strstr(line, ": [");
	struct pt_instance *inst = NULL;
	int level = 0, n = 0;
	char who[32];

	if (tag && sscanf(tag + 3, "%d]%n", &level, &n) == 1 && n > 0 && tag[3 + n] == ' ')
		inst = log_instance(ctx, pid, line, (size_t)(tag - line));
	if (inst) {
		instance_log(inst, inst->name, level, tag + 3 + n + 1);
		return;
	}
	snprintf(who, sizeof(who), "domain %d", (int)pid);
	if (getenv("PARTITA_DEBUG") && !pt_iothread_log(who, line))
		fprintf(stderr, "partita: %s: %s\n", who, line);
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

/* The domain policy per-library: the instances of one library share a
 * domain, "lib.NAME.K", the first K with room (as the firmware assumes,
 * isolating instances of the same module from each other is not needed;
 * a fault of one then fails them all, and they restart together). */
static void library_domain(struct pt_graph *g, const char *library, char *name,
			   size_t len)
{
	const char *base = strrchr(library, '/');
	char stem[20];
	size_t n;

	base = base ? base + 1 : library;
	n = strcspn(base, ".");
	if (n >= sizeof(stem))
		n = sizeof(stem) - 1;
	for (size_t i = 0; i < n; i++)
		stem[i] = isalnum((unsigned char)base[i]) ? base[i] : '_';
	stem[n] = '\0';
	for (unsigned k = 0;; k++) {
		struct pt_instance *o;
		unsigned members = 0;

		snprintf(name, len, "lib.%s.%u", stem, k);
		for (size_t i = 0; (o = pt_graph_instance_at(g, i)); i++)
			members += !strcmp(o->domain, name);
		if (members < PT_DOMAIN_MAX_INSTANCES)
			return;
	}
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
	pt_partition_put(inst->activation);
	if (inst->dl)
		dlclose(inst->dl);
	if (inst->library_fd >= 0)
		close(inst->library_fd);
	free(inst->init);
	free(inst->init_payload);
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
	inst->mod.init_payload = inst->init_payload;
	inst->mod.init_payload_size = inst->init_payload_size;
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
	if (d->init_payload_size > PT_INIT_MAX ||
	    (d->init_payload_size && !d->init_payload))
		return fail(err, errlen, -E2BIG,
			    "instance '%s': binary init payload of %zu bytes (max %d)",
			    d->name, d->init_payload_size, PT_INIT_MAX);
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
		iso = d->library || pt_plugin_adapter(d->module) ? PT_ISOLATION_PROCESS
								  : PT_ISOLATION_NONE;
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
	if (d->hang_ms > PT_HANG_MS_MAX) {
		ret = fail(err, errlen, -EINVAL,
			    "instance '%s': hang_ms %u is over %u", d->name,
			    d->hang_ms, PT_HANG_MS_MAX);
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
	/* Endpoints move file data in the host's own pass. An isolated
	 * instance is DP unless asked for LL: then it is a stage of the
	 * in-period chains (host/sched). */
	if (endpoint)
		inst->sched = PT_SCHED_LL;
	if (iso == PT_ISOLATION_PROCESS && !d->sched_set)
		inst->sched = PT_SCHED_DP;
	if (d->domain)
		snprintf(inst->domain, sizeof(inst->domain), "%s", d->domain);
	libpath = d->library ? d->library : iso == PT_ISOLATION_PROCESS ? path : "";
	if (iso == PT_ISOLATION_PROCESS && !inst->domain[0] && g->cfg.domains_per_library)
		library_domain(g, libpath, inst->domain, sizeof(inst->domain));
	/* Shorter than PATH_MAX: checked above, or built by builtin_library. */
	memcpy(inst->library, libpath, strlen(libpath) + 1);
	heap = d->heap_size ? d->heap_size :
	       manifest.heap_size ? manifest.heap_size : PT_HEAP_SIZE_DEFAULT;
	inst->heap_size = heap;
	inst->stack_size = d->stack_size ? d->stack_size :
			   manifest.stack_size ? manifest.stack_size :
						 PT_STACK_SIZE_DEFAULT;
	inst->deadline_us = d->deadline_us ? d->deadline_us : g->cfg.period_us;
	inst->max_misses = d->max_misses;
	inst->hang_ms = d->hang_ms ? d->hang_ms :
			g->cfg.hang_ms ? g->cfg.hang_ms : PT_HANG_MS_DEFAULT;
	inst->progress.periods = d->progress_periods;
	inst->progress.endpoint = endpoint;
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
	if (d->init_payload_size) {
		inst->init_payload = malloc(d->init_payload_size);
		if (!inst->init_payload) {
			free(inst->init);
			free(inst);
			return fail(err, errlen, -ENOMEM, "out of host memory");
		}
		memcpy(inst->init_payload, d->init_payload, d->init_payload_size);
		inst->init_payload_size = d->init_payload_size;
	}
	/* A plugin adapter gets its search path from the host (which grants
	 * its domain exactly that). */
	if (pt_plugin_adapter(manifest.name) &&
	    (ret = pt_plugin_init_blob(manifest.name, &inst->init, &inst->init_size,
				       err, errlen)))
		goto out;

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

/* ---- module ABI version 2: pins, triggers, modes ---- */

/* The binding @b as @inst sees it (its writer or its reader). */
static void pin_info(const struct pt_buffer *b, const struct pt_instance *inst,
		     struct pt_pin_info *pi)
{
	bool sink = b->src == inst;

	memset(pi, 0, sizeof(*pi));
	pi->dir = sink ? PT_PIN_SINK : PT_PIN_SOURCE;
	pi->pin = sink ? b->src_pin : b->dst_pin;
	pi->peer_pin = sink ? b->dst_pin : b->src_pin;
	pi->buffer_bytes = (uint32_t)b->size;
	pi->fmt = b->fmt;
	snprintf(pi->peer, sizeof(pi->peer), "%s", sink ? b->dst->name : b->src->name);
}

static uint8_t *told_mask(struct pt_instance *inst, const struct pt_buffer *b,
			  unsigned *pin)
{
	*pin = b->src == inst ? b->src_pin : b->dst_pin;
	return b->src == inst ? &inst->told_out : &inst->told_in;
}

/* Tells @inst's module of binding @b (bind) or of its end (unbind). An
 * instance whose init has not run yet (a named domain's member before the
 * domain's first prepare) hears of its pins at its prepare. */
static int pin_call(struct pt_instance *inst, const struct pt_buffer *b,
		    bool bind, char *why, size_t whylen)
{
	struct pt_pin_info pi;
	unsigned pin;
	uint8_t *told = told_mask(inst, b, &pin);
	int ret = 0;

	if (bind == !!(*told & (1u << pin)) || inst->state == PT_INSTANCE_FAILED)
		return 0;
	if (bind && (inst->exec ? pt_exec_init_pending(inst) : !inst->mod.entry))
		return 0;
	pin_info(b, inst, &pi);
	inst->last_error[0] = 0;
	if (inst->exec)
		ret = pt_exec_pin(inst, &pi, bind, why, whylen);
	else if (bind && inst->mod.ops.bind)
		ret = inst->mod.ops.bind(&inst->mod, &pi);
	else if (!bind && inst->mod.ops.unbind)
		ret = inst->mod.ops.unbind(&inst->mod, &pi);
	if (ret && !inst->exec)
		snprintf(why, whylen, "%s", inst->last_error[0] ? inst->last_error :
				      strerror(-ret));
	if (!ret || !bind)
		*told ^= (uint8_t)(1u << pin);
	return ret;
}

/* Tells @inst of every binding it has not heard of (before its prepare). */
static int pins_tell(struct pt_instance *inst, char *err, size_t errlen)
{
	char why[PT_ERR_MAX];

	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		struct pt_buffer *b[2] = { inst->in[p], inst->out[p] };

		for (unsigned k = 0; k < 2; k++) {
			int ret = b[k] ? pin_call(inst, b[k], true, why, sizeof(why)) : 0;

			if (ret)
				return fail(err, errlen, ret,
					    "instance '%s' (%s): bind of %s pin %u refused: %s",
					    inst->name, inst->manifest.name,
					    k ? "output" : "input", p, why);
		}
	}
	return 0;
}

static const char *const trigger_names[] = { "", "START", "PAUSE", "RELEASE", "STOP" };

/* Sends a pipeline state change to @inst. A failed START or RELEASE costs
 * that instance its period, not the state change. */
static void instance_trigger(struct pt_instance *inst, uint32_t cmd)
{
	char why[PT_ERR_MAX] = "";
	int ret = 0;

	if (inst->state == PT_INSTANCE_FAILED)
		return;
	inst->last_error[0] = 0;
	if (inst->exec)
		ret = pt_exec_trigger(inst, cmd, why, sizeof(why));
	else if (inst->mod.entry && inst->mod.ops.trigger)
		ret = inst->mod.ops.trigger(&inst->mod, cmd);
	if (ret && !inst->exec)
		snprintf(why, sizeof(why), "%s",
			 inst->last_error[0] ? inst->last_error : strerror(-ret));
	if (ret)
		fprintf(stderr, "partita: instance '%s': trigger %s: %s\n", inst->name,
			trigger_names[cmd], why);
	if (cmd == PT_TRIGGER_START || cmd == PT_TRIGGER_RELEASE)
		inst->started = true;
	else if (cmd == PT_TRIGGER_STOP)
		inst->started = false;
}

/* Asks @inst's module for @mode; -ENOTSUP (or no callback): the host
 * bypasses. */
static int mode_apply(struct pt_instance *inst, uint32_t mode, char *why,
		      size_t whylen)
{
	int ret;

	inst->last_error[0] = 0;
	if (inst->exec) {
		ret = pt_exec_mode(inst, mode, why, whylen);
	} else {
		inst->mod.mode = mode;
		ret = inst->mod.ops.set_processing_mode ?
			      inst->mod.ops.set_processing_mode(&inst->mod, mode) :
			      -ENOTSUP;
		if (ret && ret != -ENOTSUP && ret != -EOPNOTSUPP)
			snprintf(why, whylen, "%s", inst->last_error[0] ?
				 inst->last_error : strerror(-ret));
	}
	if (ret == -ENOTSUP || ret == -EOPNOTSUPP) {
		inst->host_bypass = mode == PT_MODE_BYPASS;
		ret = 0;
	} else if (!ret) {
		inst->host_bypass = false;
	}
	if (!ret)
		inst->mode = mode;
	return ret;
}

int pt_graph_set_mode(struct pt_graph *g, uint32_t id, uint32_t mode, char *err,
		      size_t errlen)
{
	struct pt_instance *inst = pt_graph_instance(g, id);
	char why[PT_ERR_MAX] = "";
	int ret;

	if (!inst)
		return fail(err, errlen, -ENOENT, "no instance %u", id);
	if (mode > PT_MODE_BYPASS)
		return fail(err, errlen, -EINVAL, "mode %u is not a processing mode",
			    mode);
	if (inst->state == PT_INSTANCE_FAILED || pt_exec_init_pending(inst)) {
		/* Given to the module when it (re)starts. */
		inst->mode = mode;
		inst->mode_pending = inst->state != PT_INSTANCE_FAILED;
		return 0;
	}
	ret = mode_apply(inst, mode, why, sizeof(why));
	if (ret)
		return fail(err, errlen, ret, "instance '%s': mode %s refused: %s",
			    inst->name, mode ? "bypass" : "normal", why);
	changed(g);
	return 0;
}

void pt_instance_bypass(const struct pt_instance *inst,
			struct pt_source *const *src, unsigned nsrc,
			struct pt_sink *const *snk, unsigned nsnk)
{
	size_t frames = inst->mod.period_frames;
	int in_at[PT_MAX_PINS];
	unsigned k = 0;

	/* Packed index of each input pin. */
	for (unsigned p = 0; p < PT_MAX_PINS; p++)
		in_at[p] = inst->in[p] && k < nsrc ? (int)k++ : -1;
	k = 0;
	for (unsigned p = 0; p < PT_MAX_PINS && k < nsnk; p++) {
		struct pt_sink *o;
		size_t n, c = 0;

		if (!inst->out[p])
			continue;
		o = snk[k++];
		n = pt_sink_frames_free(o) < frames ? pt_sink_frames_free(o) : frames;
		if (in_at[p] >= 0 &&
		    !memcmp(&src[in_at[p]]->fmt, &o->fmt, sizeof(o->fmt))) {
			c = pt_source_frames_available(src[in_at[p]]);
			c = c < n ? c : n;
			pt_copy_stream(src[in_at[p]], o, c * o->frame);
		}
		pt_sink_fill_silence(o, n - c);
	}
	for (unsigned i = 0; i < nsrc; i++) {
		struct pt_source *s_ = src[i];
		size_t used = s_->frame ? s_->consumed / s_->frame : 0;
		size_t have = pt_source_frames_available(s_);

		/* Each input gives up one period in all. */
		if (used < frames)
			pt_source_release(s_, (frames - used < have ? frames - used : have) *
						      s_->frame);
	}
}

/* Largest bytes per frame a binding with @open fields may come to carry. */
static uint32_t frame_max(const struct pt_format *fmt, unsigned open)
{
	uint32_t ch = open & PT_FMT_OPEN_CHANNELS ? PT_CHANNELS_MAX : fmt->channels;
	uint32_t sb = open & PT_FMT_OPEN_SAMPLE ? 4 : pt_sample_bytes(fmt->sample);

	return ch * sb;
}

int pt_graph_bind(struct pt_graph *g, uint32_t src_id, unsigned src_pin,
		  uint32_t dst_id, unsigned dst_pin, const struct pt_format *fmt,
		  uint32_t periods, char *err, size_t errlen)
{
	return pt_graph_bind_open(g, src_id, src_pin, dst_id, dst_pin, fmt, 0,
				  periods, err, errlen);
}

int pt_graph_bind_open(struct pt_graph *g, uint32_t src_id, unsigned src_pin,
		       uint32_t dst_id, unsigned dst_pin, const struct pt_format *fmt,
		       unsigned open_fields, uint32_t periods, char *err,
		       size_t errlen)
{
	char why[PT_ERR_MAX];
	int ret;
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
	if (open_fields & ~(unsigned)(PT_FMT_OPEN_SAMPLE | PT_FMT_OPEN_CHANNELS))
		return fail(err, errlen, -EINVAL, "bind: '%s' -> '%s': open fields 0x%x",
			    src->name, dst->name, open_fields);

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
	/* A format left open is sized for the largest frame it may become. */
	b->part = pt_partition_create(&g->budget, PT_PARTITION_BUFFER, src->name,
				      who, open_fields ? bytes / frame *
						  frame_max(fmt, open_fields) : bytes,
				      err, errlen);
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
	b->bind_fmt = *fmt;
	b->open_fields = (uint8_t)open_fields;
	b->frames = (uint32_t)(bytes / frame);
	b->src = src;
	b->src_pin = src_pin;
	b->dst = dst;
	b->dst_pin = dst_pin;
	src->out[src_pin] = b;
	dst->in[dst_pin] = b;
	/* Both modules hear of it now (version 2); either may refuse it. */
	ret = pin_call(src, b, true, why, sizeof(why));
	if (!ret && (ret = pin_call(dst, b, true, why, sizeof(why)))) {
		char ignore[PT_ERR_MAX];

		pin_call(src, b, false, ignore, sizeof(ignore));
	}
	if (ret) {
		src->out[src_pin] = NULL;
		dst->in[dst_pin] = NULL;
		pt_partition_put(b->part);
		free(b);
		return fail(err, errlen, ret, "bind: '%s' -> '%s' refused: %s",
			    src->name, dst->name, why);
	}
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
	/* The binding goes whatever the modules answer. */
	for (unsigned k = 0; k < 2; k++) {
		char why[PT_ERR_MAX];
		struct pt_instance *inst = k ? dst : src;

		if (pin_call(inst, b, false, why, sizeof(why)))
			fprintf(stderr, "partita: instance '%s': unbind: %s\n",
				inst->name, why);
	}
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

/* After prepare: what the module chose stays with the buffers (sink
 * formats, alignment). A sink whose binding left a field open must have
 * been given a format. */
static int prepared(struct pt_instance *inst, const struct pt_source *src,
		    const struct pt_sink *snk, char *err, size_t errlen)
{
	unsigned ns = 0, nk = 0;

	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		struct pt_buffer *b = inst->out[p];

		if (b && b->open_fields && snk[nk].in_prepare && !snk[nk].format_set)
			return fail(err, errlen, -EINVAL,
				    "instance '%s' (%s): output pin %u: its binding leaves the %s%s%s open (format: auto) and the module's prepare did not set it (pt_sink_set_format)",
				    inst->name, inst->manifest.name, p,
				    b->open_fields & PT_FMT_OPEN_SAMPLE ? "sample" : "",
				    b->open_fields == (PT_FMT_OPEN_SAMPLE | PT_FMT_OPEN_CHANNELS) ?
					    " and " : "",
				    b->open_fields & PT_FMT_OPEN_CHANNELS ? "channels" : "");
		nk += !!b;
	}
	/* An alignment no buffer state can meet would keep the instance from
	 * ever being ready, and its neighbours waiting (progress.h). */
	nk = 0;
	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		const struct pt_buffer *b = inst->in[p];

		if (b && src[ns].frame_align > b->size / b->frame)
			return fail(err, errlen, -EINVAL,
				    "instance '%s' (%s): input pin %u asks for a %u-frame alignment; its buffer holds %zu frames",
				    inst->name, inst->manifest.name, p, src[ns].frame_align,
				    b->size / b->frame);
		ns += !!b;
		b = inst->out[p];
		if (b && snk[nk].frame &&
		    snk[nk].frame_align > snk[nk].size / snk[nk].frame)
			return fail(err, errlen, -EINVAL,
				    "instance '%s' (%s): output pin %u asks for a %u-frame alignment; its buffer holds %zu frames",
				    inst->name, inst->manifest.name, p, snk[nk].frame_align,
				    snk[nk].size / snk[nk].frame);
		nk += !!b;
	}
	ns = nk = 0;
	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		if (inst->in[p]) {
			inst->in[p]->rd_byte_align = src[ns].byte_align;
			inst->in[p]->rd_frame_align = src[ns].frame_align;
			ns++;
		}
		if (inst->out[p]) {
			struct pt_buffer *b = inst->out[p];

			b->wr_byte_align = snk[nk].byte_align;
			b->wr_frame_align = snk[nk].frame_align;
			if (snk[nk].format_set) {
				b->fmt = snk[nk].fmt;
				b->frame = snk[nk].frame;
				b->size = snk[nk].size;
			}
			nk++;
		}
	}
	return 0;
}

/* Prepares @inst; @first: the pipeline is leaving RESET, so the sinks whose
 * bindings left fields open are the module's to set. */
static int instance_prepare(struct pt_graph *g, struct pt_instance *inst,
			    bool first, char *err, size_t errlen)
{
	struct pt_source src[PT_MAX_PINS], *srcp[PT_MAX_PINS];
	struct pt_sink snk[PT_MAX_PINS], *snkp[PT_MAX_PINS];
	const struct pt_format *f = NULL;
	unsigned nsrc, nsnk;
	int ret = 0;

	/* A named domain's members are initialised now (they all exist), so
	 * they hear of their pins before their prepare like any other. */
	if (pt_exec_init_pending(inst)) {
		char why[PT_ERR_MAX];

		ret = pt_exec_init_members(inst, why, sizeof(why));
		if (ret)
			return fail(err, errlen, ret, "instance '%s' (%s): %s", inst->name,
				    inst->manifest.name, why);
	}
	if (inst->mode_pending) {
		char why[PT_ERR_MAX] = "";

		inst->mode_pending = false;
		if ((ret = mode_apply(inst, inst->mode, why, sizeof(why))))
			return fail(err, errlen, ret, "instance '%s': mode: %s", inst->name,
				    why);
	}
	ret = pins_tell(inst, err, errlen);
	if (ret)
		return ret;
	views(inst, src, srcp, &nsrc, snk, snkp, &nsnk);
	for (unsigned p = 0, k = 0; p < PT_MAX_PINS; p++) {
		if (!inst->out[p])
			continue;
		snk[k].in_prepare = 1;
		snk[k].open_fields = first ? inst->out[p]->open_fields : 0;
		snk[k].capacity = inst->out[p]->part->size;
		k++;
	}
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

		ret = pt_exec_prepare_views(inst, src, snk, why, sizeof(why));
		if (ret)
			return fail(err, errlen, ret,
				    "instance '%s' (%s): prepare failed: %s",
				    inst->name, inst->manifest.name, why);
	} else if (inst->mod.ops.prepare) {
		ret = inst->mod.ops.prepare(&inst->mod, srcp, nsrc, snkp, nsnk);
	}
	if (ret)
		return fail(err, errlen, ret, "instance '%s' (%s): prepare failed: %s",
			    inst->name, inst->manifest.name,
			    inst->last_error[0] ? inst->last_error :
						  strerror(-ret));
	ret = prepared(inst, src, snk, err, errlen);
	if (ret)
		return ret;
	inst->state = PT_INSTANCE_PREPARED;
	pt_progress_reset(inst);
	return 0;
}

static void instance_reset(struct pt_instance *inst)
{
	char why[PT_ERR_MAX];

	if (inst->exec && inst->state != PT_INSTANCE_FAILED &&
	    pt_exec_reset(inst, why, sizeof(why)))
		fprintf(stderr, "partita: instance '%s': reset: %s\n", inst->name,
			why);
	else if (inst->entry && inst->mod.ops.reset && inst->mod.entry)
		inst->mod.ops.reset(&inst->mod);
	if (inst->state == PT_INSTANCE_PREPARED)
		inst->state = PT_INSTANCE_INIT;
	inst->consecutive_misses = 0;
	for (unsigned p = 0; p < PT_MAX_PINS; p++) {
		struct pt_buffer *b = inst->out[p];

		if (inst->in[p])
			inst->in[p]->rd_byte_align = inst->in[p]->rd_frame_align = 0;
		if (b) {
			/* Back to the binding's format: the next prepare
			 * chooses again. */
			b->rd = b->wr = 0;
			b->fmt = b->bind_fmt;
			b->frame = pt_frame_bytes(&b->fmt);
			b->size = (size_t)b->frames * b->frame;
			b->wr_byte_align = b->wr_frame_align = 0;
		}
	}
}

int pt_graph_set_state(struct pt_graph *g, uint32_t id, enum pt_state state,
		       char *err, size_t errlen)
{
	struct pt_pipeline *p = pipeline(g, id);
	struct pt_instance *const *order;
	size_t n;
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
		/* In dependency order: a reader's prepare sees the format
		 * its writer chose. */
		order = pt_graph_order(g, &n);
		for (size_t i = 0; i < n; i++) {
			struct pt_instance *inst = order[i];

			if (inst->pipeline != id || inst->state == PT_INSTANCE_FAILED)
				continue;
			ret = instance_prepare(g, inst, true, err, errlen);
			if (ret) {
				for (size_t k = 0; k <= i; k++)
					if (order[k]->pipeline == id)
						instance_reset(order[k]);
				return ret;
			}
		}
	}
	/* Triggers, after the firmware's: START on the first run after
	 * prepare, PAUSE and RELEASE around a pause, STOP before reset. */
	order = pt_graph_order(g, &n);
	for (size_t i = 0; i < n; i++) {
		struct pt_instance *inst = order[i];

		if (inst->pipeline != id)
			continue;
		if (state == PT_STATE_RUNNING)
			instance_trigger(inst, inst->started ? PT_TRIGGER_RELEASE :
							      PT_TRIGGER_START);
		else if (state == PT_STATE_PAUSED && p->state == PT_STATE_RUNNING)
			instance_trigger(inst, PT_TRIGGER_PAUSE);
		else if (state == PT_STATE_RESET && p->state != PT_STATE_RESET) {
			if (inst->started)
				instance_trigger(inst, PT_TRIGGER_STOP);
			instance_reset(inst);
		}
	}
	p->state = state;
	changed(g);
	return 0;
}

/* ---- configuration ---- */

/* Sends the remembered configuration again, record by record
 * (history.h). */
static int replay_config(struct pt_instance *inst, char *why, size_t whylen)
{
	const void *data;
	size_t at = 0, size;
	uint32_t param;

	while (pt_config_history_next(inst, &at, &param, &data, &size)) {
		int ret = pt_exec_config_set(inst, param, data, size, why, whylen);

		if (ret)
			return ret;
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
		if (pt_config_history_add(inst, param, data, size))
			fprintf(stderr, "partita: instance '%s': no host memory to keep its configuration for a restart\n",
				inst->name);
		return 0;
	}
	if (!inst->mod.ops.set_config)
		return fail(err, errlen, -EOPNOTSUPP,
			    "module '%s' takes no configuration",
			    inst->manifest.name);
	inst->last_error[0] = 0;
	ret = inst->mod.ops.set_config(&inst->mod, param, data, size);
	if (ret > 0) /* outside the ABI: not an errno to pass on */
		return fail(err, errlen, -EBADE,
			    "instance '%s': set config returned %d, not 0 or a negative errno",
			    inst->name, ret);
	if (ret)
		return fail(err, errlen, ret, "instance '%s': config refused: %s",
			    inst->name,
			    inst->last_error[0] ? inst->last_error :
						  strerror(-ret));
	if (pt_config_history_add(inst, param, data, size))
		fprintf(stderr, "partita: instance '%s': no host memory to keep its configuration for a restart\n",
			inst->name);
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
	if (!inst->mod.ops.get_config)
		return fail(err, errlen, -EOPNOTSUPP,
			    "module '%s' reports no configuration",
			    inst->manifest.name);
	ret = inst->mod.ops.get_config(&inst->mod, param, data, size);
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
	for (size_t i = 0; i < g->ninst; i++) {
		g->releasing = g->inst[i];
		g->inst[i] = NULL;
		instance_release(g, g->releasing);
	}
	g->releasing = NULL;
	if (pt_exec_log_ctx() == g)
		pt_exec_set_log(NULL, NULL);
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
	/* A fresh module: it hears of its pins and its mode again, is
	 * prepared with the formats its readers already have, and started. */
	inst->told_in = inst->told_out = 0;
	inst->state = PT_INSTANCE_INIT;
	inst->mode_pending = inst->mode != PT_MODE_NORMAL;
	ret = instance_prepare(g, inst, false, err, errlen);
	if (ret) {
		inst->state = PT_INSTANCE_FAILED;
		return ret;
	}
	if (inst->started) {
		inst->started = false;
		instance_trigger(inst, PT_TRIGGER_START);
	}
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
		info->stats.latency_frames = pt_exec_latency((struct pt_instance *)inst);
	} else if (inst->mod.heap) {
		info->stats.latency_frames = inst->mod.latency_frames;
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
