/* SPDX-License-Identifier: MIT */
/* Instances in domains: the host side of every request. */
#include "host/domain/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "host/domain/completion.h"
#include "host/domain/domain.h"
#include "host/plugins/plugins.h"

/* Control requests that run module code (init, prepare, config) may take a
 * while; anything longer is a hang. */
#define CONTROL_TIMEOUT_MS 5000
/* Longest single sleep in reap, so that a dead domain is noticed soon. */
#define REAP_SLICE_NS 2000000


static size_t page_round(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* A private copy of the library in a sealed memfd: the domain gets an fd
 * that reaches this copy and nothing else, and a distinct file per instance
 * makes the loader map a distinct copy with its own static data. */
static int library_fd(const char *path, int snapshot, char *err, size_t errlen)
{
	char name[64], buf[65536];
	int src, fd;
	ssize_t n;

	/* The graph's checked snapshot when it has one (a library module):
	 * the bytes that were checked are the bytes that are loaded. */
	if (snapshot >= 0) {
		src = fcntl(snapshot, F_DUPFD_CLOEXEC, 3);
		if (src >= 0 && lseek(src, 0, SEEK_SET) < 0) {
			close(src);
			src = -1;
		}
	} else {
		src = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (src < 0) {
		snprintf(err, errlen, "library %s: %s", path, strerror(errno));
		return -errno;
	}
	snprintf(name, sizeof(name), "pt-library:%s", base_name(path));
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		snprintf(err, errlen, "library %s: memfd: %s", path, strerror(errno));
		close(src);
		return -errno;
	}
	while ((n = read(src, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0) {
				n = -1;
				break;
			}
			off += w;
		}
		if (n < 0)
			break;
	}
	close(src);
	if (n < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
				     F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		snprintf(err, errlen, "library %s: copy: %s", path, strerror(errno));
		close(fd);
		return -EIO;
	}
	return fd;
}

static void domain_leave(struct pt_instance *inst)
{
	struct pt_instance_exec *x = inst->exec;
	struct pt_domain *d = x->dom;

	for (unsigned i = 0; i < PT_DOMAIN_MAX_INSTANCES; i++)
		if (d->member[i] == inst) {
			d->member[i] = NULL;
			d->members--;
		}
	if (!d->members)
		pt_domain_release(d);
	x->dom = NULL;
}

static void pending_free(struct pt_instance_exec *x)
{
	while (x->pending) {
		struct pt_exec_pending_config *c = x->pending;

		x->pending = c->next;
		free(c);
	}
}

static void exec_free(struct pt_instance *inst)
{
	struct pt_instance_exec *x = inst->exec;

	if (!x)
		return;
	pending_free(x);
	if (x->dom) {
		char why[PT_ERR_MAX];

		pt_domain_load_end(x->dom, &x->load, why, sizeof(why));
		domain_leave(inst);
	}
	pt_partition_put(x->priv);
	free(x);
	inst->exec = NULL;
	inst->domain_pid = 0;
}

/* A module's init or prepare that fails says why on its log pipe, before
 * its reply: take what is in the pipe, so the lines logged during this
 * request (the last 4 at most) are the reason given, as a trusted
 * module's would be. */
static void module_log_begin(struct pt_domain *d)
{
	pt_domain_drain_log(d);
	d->last_log[0] = '\0';
	d->log_mark = d->log_lines;
}

static const char *module_log_why(struct pt_domain *d, const char *msg)
{
	static char why[4 * 258];
	unsigned n, at = 0;

	pt_domain_drain_log(d);
	n = d->log_lines - d->log_mark;
	if (!n)
		return msg;
	if (n > 4)
		n = 4;
	why[0] = '\0';
	for (unsigned k = d->log_lines - n; k != d->log_lines; k++) {
		const char *s = d->log_recent[k % 4], *tag = strstr(s, ": [");

		/* A warning was said already, where the host says the
		 * domains' lines (pt_exec_set_log), as a trusted one is. */
		if (pt_domain_log_said() && tag && !strncmp(tag, ": [4] ", 6))
			continue;
		/* "NAME: [LEVEL] text": the text, as a trusted module's. */
		if (tag && (tag = strstr(tag, "] ")))
			s = tag + 2;
		at += (unsigned)snprintf(why + at, sizeof(why) - at, "%s%s",
					 at ? "; " : "", s);
		if (at >= sizeof(why))
			break;
	}
	if (!at)
		return msg;
	return why;
}

static int run_init(struct pt_instance *inst, char *err, size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;
	struct pt_dctl_init ib = { (uint32_t)inst->init_size,
				   (uint32_t)inst->init_payload_size };
	struct pt_dctl_reply r;
	char msg[PT_ERR_MAX];
	uint8_t *body;
	int ret;

	/* [struct pt_dctl_init][text parameters][binary payload] */
	body = malloc(sizeof(ib) + inst->init_size + inst->init_payload_size);
	if (!body) {
		snprintf(err, errlen, "instance %s: out of host memory", inst->name);
		return -ENOMEM;
	}
	memcpy(body, &ib, sizeof(ib));
	if (inst->init_size)
		memcpy(body + sizeof(ib), inst->init, inst->init_size);
	if (inst->init_payload_size)
		memcpy(body + sizeof(ib) + inst->init_size, inst->init_payload,
		       inst->init_payload_size);
	module_log_begin(x->dom);
	ret = pt_domain_control(x->dom, PT_DCTL_INIT, inst->id, body,
				sizeof(ib) + inst->init_size + inst->init_payload_size,
				NULL, 0, NULL, 0, &r, NULL, NULL,
				CONTROL_TIMEOUT_MS, msg, sizeof(msg));
	free(body);
	x->init_pending = false;
	if (ret) {
		snprintf(err, errlen, "init failed: %s", module_log_why(x->dom, msg));
		return ret;
	}
	x->dom->sealed = true;
	/* The domain sealed before it called init (a plugin domain seals at
	 * its first PROCESS): its run-stage filter must be in force. */
	if (!x->dom->plugins && pt_domain_check_filters(x->dom, true, msg, sizeof(msg))) {
		snprintf(err, errlen, "instance %s: %s", inst->name, msg);
		pt_domain_kill(x->dom);
		return -EPERM;
	}
	x->inited = true;
	x->heap_used = r.heap_used < x->heap_size ? r.heap_used : x->heap_size;
	/* Config set while the init waited, in the order it came. */
	while (x->pending) {
		struct pt_exec_pending_config *c = x->pending;

		x->pending = c->next;
		ret = pt_domain_control(x->dom, PT_DCTL_CONFIG_SET, inst->id,
					&(struct pt_dctl_config){ .param = c->param },
					sizeof(struct pt_dctl_config), c->data, c->size,
					NULL, 0, NULL, NULL, NULL, CONTROL_TIMEOUT_MS, msg,
					sizeof(msg));
		free(c);
		if (ret) {
			snprintf(err, errlen, "instance %s: config set before init: %s",
				 inst->name, msg);
			pending_free(x);
			return ret;
		}
	}
	return 0;
}

/* A new domain for @inst; a plugin adapter's may read its plugin's files. */
static struct pt_domain *spawn_for(struct pt_budget *budget, struct pt_instance *inst,
				   char *err, size_t errlen)
{
	char (*rp)[PATH_MAX];
	const char *rpp[PT_PLUGIN_READ_MAX];
	struct pt_domain *d;
	unsigned n;

	if (!pt_plugin_adapter(inst->manifest.name))
		return pt_domain_spawn(budget, inst->domain, err, errlen);
	rp = calloc(PT_PLUGIN_READ_MAX, PATH_MAX);
	if (!rp) {
		snprintf(err, errlen, "out of host memory");
		return NULL;
	}
	n = pt_plugin_read_paths(inst->manifest.name, inst->init, inst->init_size, rp,
				 PT_PLUGIN_READ_MAX);
	for (unsigned i = 0; i < n; i++)
		rpp[i] = rp[i];
	d = pt_domain_spawn_reading(budget, inst->domain, rpp, n, err, errlen);
	free(rp);
	if (d)
		d->plugins = n > 0;
	return d;
}

int pt_exec_create(struct pt_budget *budget, struct pt_instance *inst,
		   uint32_t period_frames, char *err, size_t errlen)
{
	struct pt_instance_exec *x;
	struct pt_domain *d = NULL;
	struct pt_dctl_load ld = { 0 };
	struct pt_domain_load dl;
	struct pt_dctl_reply r;
	size_t page = page_round(1), heap, stack;
	char pname[64], msg[PT_ERR_MAX];
	const char *lib = base_name(inst->library);
	int fds[2], libfd, ret;
	unsigned slot = 0;

	if (inst->exec) {
		snprintf(err, errlen, "instance %s: already running in a domain", inst->name);
		return -EEXIST;
	}
	if (!inst->library[0]) {
		snprintf(err, errlen, "instance %s: no library to load in a domain", inst->name);
		return -EINVAL;
	}
	heap = inst->heap_size ? inst->heap_size : inst->manifest.heap_size;
	stack = inst->stack_size ? inst->stack_size : inst->manifest.stack_size;
	heap = page_round((heap ? heap : PT_EXEC_DEFAULT_HEAP_SIZE) + PT_EXEC_LOADER_HEAP);
	stack = page_round(stack ? stack : PT_EXEC_DEFAULT_STACK_SIZE);
	if (stack < PT_EXEC_MIN_STACK_SIZE)
		stack = PT_EXEC_MIN_STACK_SIZE;

	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "instance %s: out of host memory", inst->name);
		return -ENOMEM;
	}
	x->period_frames = period_frames;
	x->heap_size = heap;
	x->budget = budget;
	snprintf(pname, sizeof(pname), "heap:%s", inst->name);
	/* Layout: [guard page][stack, growing down][heap]. */
	x->priv = pt_partition_create(budget, PT_PARTITION_HEAP, inst->name, pname,
				      page + stack + heap, err, errlen);
	if (!x->priv) {
		free(x);
		return -ENOMEM;
	}
	inst->exec = x;

	libfd = library_fd(inst->library, inst->library_fd, err, errlen);
	if (libfd < 0) {
		exec_free(inst);
		return libfd;
	}
	if (inst->domain[0])
		d = pt_domain_find(inst->domain);
	if (d && d->members >= PT_DOMAIN_MAX_INSTANCES) {
		snprintf(err, errlen, "domain %s is full (%d instances)", inst->domain,
			 PT_DOMAIN_MAX_INSTANCES);
		close(libfd);
		exec_free(inst);
		return -ENOSPC;
	}
	if (!d) {
		d = spawn_for(budget, inst, msg, sizeof(msg));
		if (!d) {
			snprintf(err, errlen, "instance %s: %s", inst->name, msg);
			close(libfd);
			exec_free(inst);
			return -ECHILD;
		}
	}
	while (d->member[slot])
		slot++;
	d->member[slot] = inst;
	d->members++;
	x->dom = d;
	inst->domain_pid = d->pid;

	ld.priv_size = x->priv->size;
	ld.guard = (uint32_t)page;
	ld.stack_size = (uint32_t)stack;
	ld.period_frames = period_frames;
	snprintf(ld.name, sizeof(ld.name), "%s", inst->name);
	/* The name the domain reports in errors: the tail of the path fits. */
	{
		size_t n = strlen(lib), room = sizeof(ld.library) - 1;
		const char *tail = n > room ? lib + n - room : lib;

		memcpy(ld.library, tail, strlen(tail) + 1);
	}
	fds[0] = x->priv->fd;
	fds[1] = libfd;
	ret = pt_domain_load_begin(d, budget, libfd, x->priv->size, lib, &dl, err, errlen);
	if (ret) {
		close(libfd);
		if (d->members == 1)
			pt_exec_kill(inst);
		exec_free(inst);
		return ret;
	}
	ret = pt_domain_control(d, PT_DCTL_LOAD, inst->id, &ld, sizeof(ld), NULL, 0,
				fds, 2, &r, NULL, NULL, CONTROL_TIMEOUT_MS, msg,
				sizeof(msg));
	if (d->plugins && !ret) {
		/* The plugin is loaded by init, prepare and whatever comes
		 * before the domain seals, at its first PROCESS: the load's
		 * bounds stay until then. */
		x->load = dl;
	} else {
		char why[PT_ERR_MAX];
		int end = pt_domain_load_end(d, &dl, why, sizeof(why));

		if (end && !ret) {
			snprintf(err, errlen, "library %s: %s", lib, why);
			pt_domain_hold(d, x->priv, true);
			pt_exec_kill(inst);
			close(libfd);
			exec_free(inst);
			return end;
		}
	}
	close(libfd);
	/* Sent: whatever it answered, the domain may hold the private
	 * partition until it ends. */
	if (pt_domain_hold(d, x->priv, true) && !ret) {
		snprintf(msg, sizeof(msg), "out of host memory");
		ret = -ENOMEM;
	}
	if (ret == -EPIPE) {
		/* The domain's last words say what the constructor tried. */
		const char *what = strstr(d->last_log, "was stopped: ");
		char how[64];

		pt_domain_describe_death(d, how, sizeof(how));
		if (what)
			snprintf(err, errlen, "library %s: constructor was stopped: %s (domain %s)",
				 lib, what + strlen("was stopped: "), how);
		else
			snprintf(err, errlen, "library %s: domain died while loading it: %s",
				 lib, msg);
		exec_free(inst);
		return -EPERM;
	}
	if (ret) {
		snprintf(err, errlen, "instance %s: load: %s", inst->name, msg);
		/* A domain started for this instance alone is of no more use. */
		if (ret == -ETIMEDOUT || ret == -EPROTO || d->members == 1)
			pt_exec_kill(inst);
		exec_free(inst);
		return ret;
	}
	x->heap_addr = r.addr;
	x->heap_used = r.heap_used < heap ? r.heap_used : heap;
	if (inst->domain[0]) {
		x->init_pending = true;
		return 0;
	}
	ret = run_init(inst, err, errlen);
	if (ret) {
		if (d->members == 1)
			pt_exec_kill(inst);
		exec_free(inst);
		return ret;
	}
	return 0;
}

static void pin_of(const struct pt_buffer *b, bool writable, struct pt_dctl_pin *p)
{
	p->part_id = b->part->id;
	p->writable = writable;
	p->size = (uint32_t)b->size;
	p->fmt = b->fmt;
	p->open_fields = 0;
}

/* Grants buffer @b to the instance's domain, read-only for an input and
 * writable for an output, and fills the pin the domain's prepare gets. */
static int grant_pin(struct pt_instance *inst, struct pt_buffer *b, bool writable,
		     unsigned i, uint32_t *size, uint32_t *frame,
		     struct pt_dctl_pin *pin, char *err, size_t errlen)
{
	const char *what = writable ? "output" : "input";
	char msg[PT_ERR_MAX];
	int ret;

	if (!b->part || b->size > UINT32_MAX) {
		snprintf(err, errlen, "instance %s: %s %u has no partition", inst->name,
			 what, i);
		return -EINVAL;
	}
	ret = pt_domain_grant(inst->exec->dom, b->part, writable, msg, sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "instance %s: grant %s %u: %s", inst->name, what,
			 i, msg);
		return ret;
	}
	*size = (uint32_t)b->size;
	*frame = pt_frame_bytes(&b->fmt);
	pin_of(b, writable, pin);
	return 0;
}

/* An isolated LL instance's activation record, made on first use. */
static int activation_of(struct pt_instance *inst, struct pt_budget *budget,
			 char *err, size_t errlen)
{
	char name[64];

	if (inst->activation)
		return 0;
	snprintf(name, sizeof(name), "activation:%s", inst->name);
	inst->activation = pt_partition_create(budget, PT_PARTITION_ACTIVATION,
					       inst->name, name, 4096, err, errlen);
	return inst->activation ? 0 : -ENOMEM;
}

static bool chain_stage(const struct pt_instance *i)
{
	return i && i->isolation == PT_ISOLATION_PROCESS && i->sched == PT_SCHED_LL;
}

/* The grants of an in-period chain stage: its own activation record to
 * its domain; the record of every stage it feeds directly to its domain
 * (it notifies them); its record to the domain of every stage that feeds
 * it (whichever of the two is prepared last makes the grant). Nobody else
 * gets a record. */
static int chain_grants(struct pt_instance *inst, char *err, size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;
	char msg[PT_ERR_MAX];
	int ret;

	if ((ret = activation_of(inst, x->budget, err, errlen)))
		return ret;
	ret = pt_domain_grant(x->dom, inst->activation, true, msg, sizeof(msg));
	for (unsigned p = 0; p < PT_MAX_PINS && !ret; p++) {
		struct pt_instance *r = inst->out[p] ? inst->out[p]->dst : NULL;
		struct pt_instance *w = inst->in[p] ? inst->in[p]->src : NULL;

		if (chain_stage(r)) {
			ret = activation_of(r, x->budget, err, errlen);
			if (ret)
				return ret;
			ret = pt_domain_grant(x->dom, r->activation, true, msg, sizeof(msg));
		}
		if (!ret && chain_stage(w) && w->exec && w->exec->dom && !w->exec->dom->dead)
			ret = pt_domain_grant(w->exec->dom, inst->activation, true, msg,
					      sizeof(msg));
	}
	if (ret) {
		snprintf(err, errlen, "instance %s: grant activation record: %s",
			 inst->name, msg);
		return ret;
	}
	if (pt_domain_tuning()->chain_cpu) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(pt_domain_tuning()->chain_cpu - 1, &set);
		sched_setaffinity(x->dom->pid, sizeof(set), &set);
	}
	return 0;
}

int pt_exec_prepare(struct pt_instance *inst, char *err, size_t errlen)
{
	struct pt_source src[PT_MAX_PINS];
	struct pt_sink snk[PT_MAX_PINS];
	unsigned ns = 0, nk = 0;

	/* Views of the buffers as they are: the module may change nothing. */
	for (unsigned i = 0; i < PT_MAX_PINS; i++) {
		if (inst->in[i])
			pt_buffer_source_view(inst->in[i], &src[ns++]);
		if (inst->out[i])
			pt_buffer_sink_view(inst->out[i], &snk[nk++]);
	}
	return pt_exec_prepare_views(inst, src, snk, err, errlen);
}

/* Takes what the domain says its module chose at prepare, after the checks
 * the module's own calls would have met in the host. */
static int take_prepared(struct pt_instance *inst, const struct pt_dctl_prepared *out,
			 struct pt_source *src, struct pt_sink *snk, char *err,
			 size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;

	for (unsigned i = 0; i < x->nsrc; i++) {
		struct pt_source v = src[i];
		const struct pt_dctl_pin_out *o = &out->src[i];

		if ((o->byte_align || o->frame_align) &&
		    pt_source_set_alignment(&v, o->byte_align, o->frame_align)) {
			snprintf(err, errlen, "instance %s: input %u: bad alignment %u/%u",
				 inst->name, i, o->byte_align, o->frame_align);
			return -EPROTO;
		}
		src[i] = v;
	}
	for (unsigned i = 0; i < x->nsnk; i++) {
		struct pt_sink v;
		const struct pt_dctl_pin_out *o = &out->snk[i];

		v = snk[i];
		v.in_prepare = 1;
		if (memcmp(&o->fmt, &v.fmt, sizeof(o->fmt)) &&
		    pt_sink_set_format(&v, &o->fmt)) {
			snprintf(err, errlen,
				 "instance %s: output %u: format (rate %u, channels %u, sample %u) is not one its binding allows",
				 inst->name, i, o->fmt.rate, o->fmt.channels, o->fmt.sample);
			return -EPROTO;
		}
		if ((o->byte_align || o->frame_align) &&
		    pt_sink_set_alignment(&v, o->byte_align, o->frame_align)) {
			snprintf(err, errlen, "instance %s: output %u: bad alignment %u/%u",
				 inst->name, i, o->byte_align, o->frame_align);
			return -EPROTO;
		}
		x->snk_size[i] = (uint32_t)v.size;
		x->snk_frame[i] = v.frame;
		v.in_prepare = snk[i].in_prepare;
		snk[i] = v;
	}
	return 0;
}

int pt_exec_prepare_views(struct pt_instance *inst, struct pt_source *src,
			  struct pt_sink *snk, char *err, size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;
	struct pt_dctl_prepare p = { 0 };
	struct pt_dctl_prepared out;
	size_t outlen = sizeof(out);
	char msg[PT_ERR_MAX];
	int ret;

	if (!x || !x->dom) {
		snprintf(err, errlen, "instance %s: no domain", inst->name);
		return -EINVAL;
	}
	for (unsigned i = 0; i < PT_MAX_PINS; i++) {
		if (inst->in[i]) {
			ret = grant_pin(inst, inst->in[i], false, i, &x->src_size[p.nsrc],
					&x->src_frame[p.nsrc], &p.src[p.nsrc], err, errlen);
			if (ret)
				return ret;
			p.nsrc++;
		}
		if (inst->out[i]) {
			ret = grant_pin(inst, inst->out[i], true, i, &x->snk_size[p.nsnk],
					&x->snk_frame[p.nsnk], &p.snk[p.nsnk], err, errlen);
			if (ret)
				return ret;
			if (snk[p.nsnk].in_prepare)
				p.snk[p.nsnk].open_fields = snk[p.nsnk].open_fields;
			p.nsnk++;
		}
	}
	if (inst->sched == PT_SCHED_LL) {
		ret = chain_grants(inst, err, errlen);
		if (ret)
			return ret;
	}
	ret = pt_exec_init_members(inst, err, errlen);
	if (ret)
		return ret;
	p.period_frames = inst->mod.period_frames ? inst->mod.period_frames :
						  x->period_frames;
	module_log_begin(x->dom);
	ret = pt_domain_control(x->dom, PT_DCTL_PREPARE, inst->id, &p, sizeof(p),
				NULL, 0, NULL, 0, NULL, &out, &outlen,
				CONTROL_TIMEOUT_MS, msg, sizeof(msg));
	if (ret) {
		snprintf(err, errlen, "%s", module_log_why(x->dom, msg));
		return ret;
	}
	x->nsrc = p.nsrc;
	x->nsnk = p.nsnk;
	if (outlen != sizeof(out)) {
		snprintf(err, errlen, "instance %s: prepare: a reply of %zu bytes, not %zu",
			 inst->name, outlen, sizeof(out));
		pt_exec_kill(inst);
		return -EPROTO;
	}
	ret = take_prepared(inst, &out, src, snk, err, errlen);
	if (ret) {
		/* A domain that claims what its module could not have set
		 * lied: it is not believed again. */
		pt_exec_kill(inst);
		return ret;
	}
	x->prepared = true;
	return 0;
}

/* Sends one version 2 control message whose body is @body/@len. */
static int v2_call(struct pt_instance *inst, uint32_t op, const void *body,
		   size_t len, const char *what, char *err, size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;
	char msg[PT_ERR_MAX];
	int ret;

	if (!x || !x->dom) {
		snprintf(err, errlen, "instance %s: no domain", inst->name);
		return -EINVAL;
	}
	ret = pt_domain_control(x->dom, op, inst->id, body, len, NULL, 0, NULL, 0,
				NULL, NULL, NULL, CONTROL_TIMEOUT_MS, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "%s: %s", what,
			 msg[0] ? msg : strerror(-ret));
	return ret;
}

int pt_exec_pin(struct pt_instance *inst, const struct pt_pin_info *pin,
		bool bind, char *err, size_t errlen)
{
	return v2_call(inst, bind ? PT_DCTL_BIND : PT_DCTL_UNBIND, pin, sizeof(*pin),
		       bind ? "bind" : "unbind", err, errlen);
}

int pt_exec_trigger(struct pt_instance *inst, uint32_t cmd, char *err,
		    size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;
	bool seals = x && x->load.open && (cmd == PT_TRIGGER_START || cmd == PT_TRIGGER_RELEASE);
	int ret;

	/* Module code ran before the seal (init, prepare): no filter of its
	 * own may stand in for the one the START installs. */
	if (seals && pt_domain_check_filters(x->dom, x->dom->plugin_sealed, err, errlen)) {
		pt_exec_kill(inst);
		return -EPERM;
	}
	ret = v2_call(inst, PT_DCTL_TRIGGER, &cmd, sizeof(cmd), "trigger", err, errlen);
	if (!ret && seals) {
		/* A plugin domain seals with its START: its load ends. */
		char why[PT_ERR_MAX];
		int end;

		x->dom->plugin_sealed = true;
		end = pt_domain_load_end(x->dom, &x->load, why, sizeof(why));
		if (end) {
			snprintf(x->dom->last_log, sizeof(x->dom->last_log), "%s", why);
			snprintf(err, errlen, "trigger: %s", why);
			pt_exec_kill(inst);
			return end;
		}
	}
	return ret;
}

int pt_exec_mode(struct pt_instance *inst, uint32_t mode, char *err,
		 size_t errlen)
{
	return v2_call(inst, PT_DCTL_MODE, &mode, sizeof(mode), "mode", err, errlen);
}

int pt_exec_init_members(struct pt_instance *inst, char *err, size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;

	if (!x || !x->dom) {
		snprintf(err, errlen, "instance %s: no domain", inst->name);
		return -EINVAL;
	}
	/* A named domain seals at its first init: run every member's pending
	 * init now that all of them are loaded. */
	for (unsigned i = 0; i < PT_DOMAIN_MAX_INSTANCES; i++) {
		struct pt_instance *m = x->dom->member[i];

		if (m && m->exec->init_pending) {
			int ret = run_init(m, err, errlen);

			if (ret)
				return ret;
		}
	}
	return 0;
}

bool pt_exec_init_pending(const struct pt_instance *inst)
{
	return inst->exec && inst->exec->init_pending;
}

int pt_exec_config_set(struct pt_instance *inst, uint32_t param, const void *d,
		       size_t n, char *err, size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;
	struct pt_dctl_config c = { .param = param };
	char msg[PT_ERR_MAX];
	int ret;

	if (!x || !x->dom) {
		snprintf(err, errlen, "instance %s: no domain", inst->name);
		return -EINVAL;
	}
	if (x->init_pending) {
		/* The module's init has not run yet (named domain): keep the
		 * blob and give it right after. */
		struct pt_exec_pending_config *p, **tail = &x->pending;

		if (n > PT_DCTL_DATA_MAX - sizeof(c)) {
			snprintf(err, errlen, "instance %s: config of %zu bytes is too big",
				 inst->name, n);
			return -E2BIG;
		}
		p = malloc(sizeof(*p) + n);
		if (!p) {
			snprintf(err, errlen, "instance %s: out of host memory", inst->name);
			return -ENOMEM;
		}
		p->next = NULL;
		p->param = param;
		p->size = n;
		memcpy(p->data, d, n);
		while (*tail)
			tail = &(*tail)->next;
		*tail = p;
		return 0;
	}
	module_log_begin(x->dom);
	ret = pt_domain_control(x->dom, PT_DCTL_CONFIG_SET, inst->id, &c, sizeof(c),
				d, n, NULL, 0, NULL, NULL, NULL, CONTROL_TIMEOUT_MS,
				msg, sizeof(msg));
	/* The module's reason, as a trusted one's: its caller names the
	 * instance and the request. */
	if (ret)
		snprintf(err, errlen, "%s", module_log_why(x->dom, msg));
	return ret;
}

int pt_exec_config_get(struct pt_instance *inst, uint32_t param, void *d,
		       size_t *n, char *err, size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;
	struct pt_dctl_config c = { .param = param };
	char msg[PT_ERR_MAX];
	int ret;

	if (!x || !x->dom) {
		snprintf(err, errlen, "instance %s: no domain", inst->name);
		return -EINVAL;
	}
	c.room = *n > PT_DCTL_DATA_MAX ? PT_DCTL_DATA_MAX : (uint32_t)*n;
	ret = pt_domain_control(x->dom, PT_DCTL_CONFIG_GET, inst->id, &c, sizeof(c),
				NULL, 0, NULL, 0, NULL, d, n, CONTROL_TIMEOUT_MS,
				msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "%s", msg);
	return ret;
}

int pt_exec_reset(struct pt_instance *inst, char *err, size_t errlen)
{
	struct pt_instance_exec *x = inst->exec;
	char msg[PT_ERR_MAX];
	int ret;

	if (!x || !x->dom) {
		snprintf(err, errlen, "instance %s: no domain", inst->name);
		return -EINVAL;
	}
	ret = pt_domain_control(x->dom, PT_DCTL_RESET, inst->id, NULL, 0, NULL, 0,
				NULL, 0, NULL, NULL, NULL, CONTROL_TIMEOUT_MS, msg,
				sizeof(msg));
	if (ret)
		snprintf(err, errlen, "instance %s: reset: %s", inst->name, msg);
	return ret;
}

void pt_exec_destroy(struct pt_instance *inst)
{
	struct pt_instance_exec *x = inst->exec;
	char msg[PT_ERR_MAX];

	if (!x)
		return;
	if (x->dom && !x->dom->dead)
		pt_domain_control(x->dom, PT_DCTL_FREE, inst->id, NULL, 0, NULL, 0,
				  NULL, 0, NULL, NULL, NULL, 1000, msg, sizeof(msg));
	exec_free(inst);
}

/* Queues @n words as one entry plus continuations; 0 or -ENOSPC. */
static int queue_words(struct pt_domain *d, uint16_t opcode, uint32_t instance,
		       uint64_t tag, const uint32_t *w, unsigned n)
{
	unsigned nent = (n + PT_DOP_WORDS_PER_ENTRY - 1) / PT_DOP_WORDS_PER_ENTRY;

	/* All or nothing: a request staged in part would be published with
	 * the next one. (With one request in flight per instance the ring
	 * never fills: 16 instances x 4 entries < PT_DOMAIN_RING_ENTRIES.) */
	if (pt_ring_space_cached(&d->ring) < nent && pt_ring_space_left(&d->ring) < nent)
		return -ENOSPC;
	for (unsigned k = 0; k < nent; k++) {
		struct pt_ring_entry *e = pt_ring_get_entry(&d->ring);
		unsigned c = n - k * PT_DOP_WORDS_PER_ENTRY;

		if (!e)
			return -ENOSPC;
		if (c > PT_DOP_WORDS_PER_ENTRY)
			c = PT_DOP_WORDS_PER_ENTRY;
		memset(e, 0, sizeof(*e));
		e->opcode = k ? PT_DOP_CONT : opcode;
		e->flags = k ? 0 : (uint16_t)(nent - 1);
		e->instance = instance;
		e->tag = tag;
		e->len = c * 4;
		memcpy(e->payload, w + k * PT_DOP_WORDS_PER_ENTRY, c * 4);
	}
	d->queued = true;
	return 0;
}

int pt_exec_submit(struct pt_instance *inst, const struct pt_source *src,
		   unsigned nsrc, const struct pt_sink *snk, unsigned nsnk,
		   uint64_t tag)
{
	return pt_exec_submit_batch(inst, src, nsrc, snk, nsnk, 1, tag);
}

int pt_exec_submit_batch(struct pt_instance *inst, const struct pt_source *src,
			 unsigned nsrc, const struct pt_sink *snk, unsigned nsnk,
			 unsigned periods, uint64_t tag)
{
	struct pt_instance_exec *x = inst->exec;
	uint32_t w[PT_DOP_REQ_WORDS_MAX];
	unsigned n = 0;
	int ret;

	if (!x || !x->dom || !x->prepared)
		return -EINVAL;
	if (x->load.open) {
		/* A plugin domain not started yet seals with this request:
		 * its load ends. */
		char why[PT_ERR_MAX];

		if (pt_domain_load_end(x->dom, &x->load, why, sizeof(why))) {
			snprintf(x->dom->last_log, sizeof(x->dom->last_log), "%s", why);
			pt_exec_kill(inst);
		}
	}
	if (x->dom->dead)
		return -EPIPE;
	if (x->inflight)
		return -EBUSY;
	if (nsrc != x->nsrc || nsnk != x->nsnk || periods < 1 ||
	    periods > PT_DOP_MAX_BATCH)
		return -EINVAL;
	w[n++] = nsrc;
	w[n++] = nsnk;
	w[n++] = periods;
	for (unsigned i = 0; i < nsrc; i++) {
		if (src[i].size != x->src_size[i] || src[i].offset >= src[i].size ||
		    src[i].avail > src[i].size)
			return -EINVAL;
		w[n++] = (uint32_t)src[i].offset;
		w[n++] = x->avail[i] = (uint32_t)src[i].avail;
	}
	for (unsigned i = 0; i < nsnk; i++) {
		if (snk[i].size != x->snk_size[i] || snk[i].offset >= snk[i].size ||
		    snk[i].free > snk[i].size)
			return -EINVAL;
		w[n++] = (uint32_t)snk[i].offset;
		w[n++] = x->room[i] = (uint32_t)snk[i].free;
	}
	ret = queue_words(x->dom, PT_DOP_PROCESS, inst->id, tag, w, n);
	if (ret)
		return ret;
	x->dom->queued_wake = true;
	x->inflight = true;
	x->done = false;
	x->tag = tag;
	x->periods_asked = periods;
	return 0;
}

int pt_exec_submit_chain(struct pt_instance *inst, const struct pt_source *src,
			 unsigned nsrc, const struct pt_sink *snk, unsigned nsnk,
			 uint64_t tag, uint16_t epoch, uint64_t deadline_ns,
			 struct pt_instance *const *notify, unsigned nnotify, bool wake)
{
	struct pt_instance_exec *x = inst->exec;
	uint32_t w[PT_DOP_CHAIN_WORDS_MAX];
	unsigned n = 0;
	int ret;

	if (!x || !x->dom || !x->prepared || !inst->activation || !epoch)
		return -EINVAL;
	if (x->dom->dead)
		return -EPIPE;
	if (x->inflight)
		return -EBUSY;
	if (nsrc != x->nsrc || nsnk != x->nsnk || nnotify > PT_MAX_PINS)
		return -EINVAL;
	w[n++] = nsrc;
	w[n++] = nsnk;
	w[n++] = 1;
	for (unsigned i = 0; i < nsrc; i++) {
		if (src[i].size != x->src_size[i] || src[i].offset >= src[i].size ||
		    src[i].avail > src[i].size)
			return -EINVAL;
		w[n++] = (uint32_t)src[i].offset;
		w[n++] = x->avail[i] = (uint32_t)src[i].avail;
	}
	for (unsigned i = 0; i < nsnk; i++) {
		if (snk[i].size != x->snk_size[i] || snk[i].offset >= snk[i].size ||
		    snk[i].free > snk[i].size)
			return -EINVAL;
		w[n++] = (uint32_t)snk[i].offset;
		w[n++] = x->room[i] = (uint32_t)snk[i].free;
	}
	w[n++] = inst->activation->id;
	w[n++] = epoch;
	w[n++] = (uint32_t)deadline_ns;
	w[n++] = (uint32_t)(deadline_ns >> 32);
	w[n++] = nnotify;
	for (unsigned i = 0; i < nnotify; i++) {
		if (!notify[i]->activation)
			return -EINVAL;
		w[n++] = notify[i]->activation->id;
		w[n++] = notify[i]->act_epoch;
	}
	ret = queue_words(x->dom, PT_DOP_CHAIN, inst->id, tag, w, n);
	if (ret)
		return ret;
	/* A domain that never had a chain request sleeps on its ring only. */
	if (wake || !x->chained)
		x->dom->queued_wake = true;
	x->chained = true;
	x->inflight = true;
	x->done = false;
	x->tag = tag;
	x->periods_asked = 1;
	return 0;
}

void pt_exec_chain_cancel(struct pt_instance *inst)
{
	uint32_t *word;

	if (!inst->activation)
		return;
	word = inst->activation->map;
	__atomic_store_n(word, (uint32_t)inst->act_epoch << PT_ACTIVATION_EPOCH_SHIFT |
				       PT_ACTIVATION_CANCEL, __ATOMIC_RELEASE);
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

void pt_exec_flush(void)
{
	for (struct pt_domain *d = pt_domain_first(); d; d = d->next)
		if (d->queued && !d->dead) {
			if (d->queued_wake)
				pt_ring_submit(&d->ring);
			else
				pt_ring_submit_quiet(&d->ring);
			d->queued = d->queued_wake = false;
		}
}

static struct pt_instance *member_by_id(struct pt_domain *d, uint32_t id)
{
	for (unsigned i = 0; i < PT_DOMAIN_MAX_INSTANCES; i++)
		if (d->member[i] && d->member[i]->id == id)
			return d->member[i];
	return NULL;
}

/* Records one completion for its instance: copies its entries out of the
 * ring and has them checked (host/domain/completion.c). A completion that
 * fails the checks is kept as a lie for the reap; -EPROTO here means the
 * ring itself is broken (an entry missing, an unknown instance or tag). */
static int dispatch(struct pt_domain *d, const struct pt_ring_entry *first)
{
	struct pt_ring_entry e[1 + PT_DOP_MAX_CONT];
	struct pt_completion_expect want = { 0 };
	struct pt_completion got;
	struct pt_instance *inst;
	struct pt_instance_exec *x;
	int ret;

	/* A control request's completion only keeps the rings in step; its
	 * answer came on the socket. */
	if (first->opcode == PT_DOP_CONTROL && first->flags == 0)
		return 0;
	/* Every break of the protocol the ring cannot see itself is counted
	 * in the ring's corruption counter, as its own index checks are. */
	if (first->opcode != PT_DOP_PROCESS || first->flags > PT_DOP_MAX_CONT)
		return pt_ring_corrupt(&d->ring);
	e[0] = *first;
	for (unsigned k = 1; k <= first->flags; k++) {
		/* The domain publishes a completion's entries together. */
		int r = pt_ring_peek(&d->ring, &e[k]);

		/* A missing continuation is a break; a bad index the ring
		 * counted already. */
		if (r == -EAGAIN)
			return pt_ring_corrupt(&d->ring);
		if (r)
			return r;
		pt_ring_advance(&d->ring, 1);
	}
	inst = member_by_id(d, first->instance);
	if (!inst)
		return pt_ring_corrupt(&d->ring);
	x = inst->exec;
	/* One completion per request: a second one (a domain-mate's request
	 * may keep the ring's own count from seeing it) is a break too. */
	if (!x->inflight || x->done || x->tag != first->tag)
		return pt_ring_corrupt(&d->ring);
	want.tag = x->tag;
	want.instance = inst->id;
	want.nsrc = x->nsrc;
	want.nsnk = x->nsnk;
	want.periods = x->periods_asked;
	memcpy(want.avail, x->avail, sizeof(want.avail));
	memcpy(want.room, x->room, sizeof(want.room));
	memcpy(want.src_frame, x->src_frame, sizeof(want.src_frame));
	memcpy(want.snk_frame, x->snk_frame, sizeof(want.snk_frame));
	ret = pt_completion_parse(e, 1u + first->flags, &want, &got, x->why, sizeof(x->why));
	x->done = true;
	if (ret)
		return 0; /* x->why says how it lied; reap ends the domain */
	x->why[0] = '\0';
	x->result = got.result;
	x->heap_used = got.heap_used < x->heap_size ? got.heap_used : x->heap_size;
	x->latency_frames = got.latency_frames;
	if (got.futex_calls)
		d->domain_futex_calls = got.futex_calls;
	x->periods_run = got.periods;
	memcpy(x->consumed, got.consumed, sizeof(x->consumed));
	memcpy(x->produced, got.produced, sizeof(x->produced));
	return 0;
}

/* Copies out every completion the domain published. */
int pt_domain_drain_completions(struct pt_domain *d)
{
	struct pt_ring_entry e;
	int ret;

	while ((ret = pt_ring_peek(&d->ring, &e)) == 0) {
		pt_ring_advance(&d->ring, 1);
		ret = dispatch(d, &e);
		if (ret)
			return ret;
	}
	return ret == -EAGAIN ? 0 : ret;
}

/* The domain lied: it is ended (nothing it says can be believed again). */
static int lied(struct pt_instance_exec *x, char *why, size_t whylen,
		const char *what)
{
	snprintf(why, whylen, "%s", what);
	x->inflight = false;
	pt_domain_kill(x->dom);
	/* Its domain-mates fail with it: their reason says why. */
	snprintf(x->dom->last_log, sizeof(x->dom->last_log), "ended by the host: %.200s", what);
	return -EPROTO;
}

static int finish(struct pt_instance_exec *x, size_t *consumed, size_t *produced,
		  char *why, size_t whylen)
{
	x->inflight = false;
	x->done = false;
	if (x->why[0])
		return lied(x, why, whylen, x->why);
	/* A plugin domain sealed with its first request: its run-stage
	 * filter must now be in force (module code ran before it). */
	if (x->dom->plugins && !x->dom->seal_checked) {
		char msg[160];

		if (pt_domain_check_filters(x->dom, true, msg, sizeof(msg)))
			return lied(x, why, whylen, msg);
		x->dom->seal_checked = true;
	}
	/* Checked by pt_completion_parse against what the request offered;
	 * after a failed call they are those of the calls before it. */
	for (unsigned i = 0; i < x->nsrc; i++)
		consumed[i] = x->consumed[i];
	for (unsigned i = 0; i < x->nsnk; i++)
		produced[i] = x->produced[i];
	if (x->result == -ECANCELED) {
		snprintf(why, whylen, "its chain did not reach it by the deadline");
		return -ECANCELED;
	}
	if (x->result) {
		snprintf(why, whylen, "process returned %d (%s)", (int)x->result,
			 strerror(-x->result));
		return -EIO;
	}
	return 0;
}

static int died(struct pt_instance_exec *x, int *signal, char *why, size_t whylen)
{
	char how[64];

	pt_domain_drain_log(x->dom);
	pt_domain_describe_death(x->dom, how, sizeof(how));
	if (signal)
		*signal = x->dom->signal;
	snprintf(why, whylen, "domain %s%s%s", how, x->dom->last_log[0] ? ": " : "",
		 x->dom->last_log);
	x->inflight = false;
	return -EPIPE;
}

int pt_exec_reap(struct pt_instance *inst, uint64_t tag, uint64_t deadline_ns,
		 size_t *consumed, size_t *produced, int *signal, char *why,
		 size_t whylen)
{
	struct pt_instance_exec *x = inst->exec;
	struct pt_domain *d;
	int ret;

	if (signal)
		*signal = 0;
	if (!x || !x->dom || !x->inflight || x->tag != tag) {
		snprintf(why, whylen, "no request %llu in flight", (unsigned long long)tag);
		return -EINVAL;
	}
	d = x->dom;
	for (;;) {
		uint64_t now, slice;

		/* A domain a config request waits on (the lock let go) is the
		 * control thread's to end: a lie or a death is taken up once
		 * the request is over. */
		if (d->control_busy && ((x->done && x->why[0]) || d->dead))
			goto late;
		if (x->done)
			return finish(x, consumed, produced, why, whylen);
		if (d->dead)
			return died(x, signal, why, whylen);
		ret = pt_domain_drain_completions(d);
		if (ret && d->control_busy)
			goto late;
		if (ret)
			return lied(x, why, whylen, "domain broke the completion ring");
		if (x->done)
			continue;
		now = pt_mono_ns();
		if (now >= deadline_ns) {
			if (!d->control_busy && pt_domain_poll_death(d))
				return died(x, signal, why, whylen);
			goto late;
		}
		slice = deadline_ns - now;
		if (slice > REAP_SLICE_NS)
			slice = REAP_SLICE_NS;
		/* Never spin for a chain stage: its domain shares the host's
		 * CPU at a lower priority, and a spin would hold it off. */
		ret = pt_ring_wait(&d->ring,
				   x->chained ? 0
					      : (uint64_t)pt_domain_tuning()->host_spin_us * 1000u,
				   (int64_t)slice);
		if (ret == -ETIMEDOUT && !d->control_busy)
			pt_domain_poll_death(d);
		else if (ret == -EPROTO && !d->control_busy)
			return lied(x, why, whylen, "domain corrupted the completion ring");
	}
late:
	snprintf(why, whylen, "no completion by the deadline");
	return -ETIMEDOUT;
}

int pt_exec_kill(struct pt_instance *inst)
{
	struct pt_instance_exec *x = inst->exec;
	struct pt_domain *d = x ? x->dom : NULL;

	if (!d)
		return -EINVAL;
	pt_domain_kill(d);
	return 0;
}

size_t pt_exec_heap_size(struct pt_instance *inst)
{
	return inst->exec ? inst->exec->heap_size : 0;
}

uint32_t pt_exec_latency(struct pt_instance *inst)
{
	return inst->exec ? inst->exec->latency_frames : 0;
}

size_t pt_exec_heap_used(struct pt_instance *inst)
{
	return inst->exec ? inst->exec->heap_used : 0;
}

bool pt_exec_dead(struct pt_instance *inst, int *signal, char *why,
		  size_t whylen)
{
	struct pt_instance_exec *x = inst->exec;
	char how[64];

	if (!x || !x->dom || !pt_domain_poll_death(x->dom))
		return false;
	pt_domain_describe_death(x->dom, how, sizeof(how));
	*signal = x->dom->signal;
	snprintf(why, whylen, "domain %s%s%.160s", how, x->dom->last_log[0] ? ": " : "",
		 x->dom->last_log);
	return true;
}

bool pt_exec_control_busy(const struct pt_instance *inst)
{
	return inst->exec && inst->exec->dom && inst->exec->dom->control_busy;
}

int pt_exec_pidfd(struct pt_instance *inst)
{
	return inst->exec && inst->exec->dom ? inst->exec->dom->pidfd : -1;
}

uint64_t pt_exec_heap_addr(struct pt_instance *inst)
{
	return inst->exec ? inst->exec->heap_addr : 0;
}

uint64_t pt_exec_start_ns(struct pt_instance *inst)
{
	return inst->exec && inst->exec->dom ? inst->exec->dom->start_ns : 0;
}

const char *pt_exec_last_log(struct pt_instance *inst)
{
	if (!inst->exec || !inst->exec->dom)
		return "";
	pt_domain_drain_log(inst->exec->dom);
	return inst->exec->dom->last_log;
}

uint64_t pt_exec_futex_calls(struct pt_instance *inst)
{
	struct pt_ring_stats st;
	struct pt_domain *d = inst->exec ? inst->exec->dom : NULL;

	if (!d)
		return 0;
	pt_ring_stats(&d->ring, &st);
	return st.wakes + st.waits + d->domain_futex_calls;
}

struct pt_partition *pt_exec_private_partition(struct pt_instance *inst)
{
	return inst->exec ? inst->exec->priv : NULL;
}

struct pt_partition *pt_exec_rings_partition(struct pt_instance *inst)
{
	return inst->exec && inst->exec->dom ? inst->exec->dom->rings : NULL;
}

unsigned pt_exec_periods_run(struct pt_instance *inst)
{
	return inst->exec ? inst->exec->periods_run : 0;
}

int pt_exec_tune(const struct pt_exec_tuning *t)
{
	if (t->host_spin_us > PT_DOMAIN_SPIN_MAX_US ||
	    t->domain_spin_us > PT_DOMAIN_SPIN_MAX_US || t->rt_priority > 98 ||
	    t->rt_limit_ms > 60000 || t->chain_cpu > CPU_SETSIZE)
		return -EINVAL;
	pt_domain_set_tuning(t);
	return 0;
}

void pt_exec_tuning_get(struct pt_exec_tuning *t)
{
	*t = *pt_domain_tuning();
}
