/* SPDX-License-Identifier: MIT */
/* The topology loader: YAML document to control messages. */
#include "host/topology/topology.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include <partita/control.h>

#include "host/control/codec.h"
#include "host/libmgr/library.h"
#include "host/mm/budget.h"

#define MAX_PIPELINES 64
#define MAX_INSTANCES 256
#define MAX_BINDINGS 512
#define PERIOD_US_MIN 100
#define PERIOD_US_MAX 1000000

struct instance_ctx {
	struct pt_ctl_init_instance m;
	char library[PATH_MAX];
	char params[PT_CTL_INIT_MAX];
	size_t params_size;
	bool has_name;
	char file[PATH_MAX]; /* a file= parameter anchored at the folder */
	void *payload;           /* init_blob: the binary init payload */
	size_t payload_size;
	void *config;            /* config_blob: set before the pipeline runs */
	size_t config_size;
	uint32_t config_param;
	bool has_config_param;
	bool has_mode;
	uint32_t mode;
};

struct pending_bind {
	yaml_node_t *node;
	char field[64];
};

struct loader {
	const char *path;
	char dir[PATH_MAX];
	yaml_document_t doc;
	struct pt_topology *t;
	char *err;
	size_t errlen;
	char pipelines[MAX_PIPELINES][PT_NAME_MAX];
	int pipeline_state[MAX_PIPELINES]; /* -1: none asked */
	unsigned pipeline_line[MAX_PIPELINES];
	char instances[MAX_INSTANCES][PT_NAME_MAX];
	struct pending_bind binds[MAX_BINDINGS];
	size_t nbinds;
	struct instance_ctx *inst; /* scratch for the instance being parsed */
	size_t cap;
};

static unsigned line_of(const yaml_node_t *n)
{
	return n ? (unsigned)n->start_mark.line + 1 : 1;
}

static int lerr(struct loader *L, const yaml_node_t *n, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int lerr(struct loader *L, const yaml_node_t *n, const char *field,
		const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(L->err, L->errlen, "%s:%u: %s: %s", L->path, line_of(n), field, msg);
	return -EINVAL;
}

static yaml_node_t *node(struct loader *L, int index)
{
	return yaml_document_get_node(&L->doc, index);
}

/* The scalar text of @n, or an error naming @field. */
static int scalar(struct loader *L, yaml_node_t *n, const char *field,
		  const char **out)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return lerr(L, n, field, "expected a single value");
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return lerr(L, n, field, "contains a NUL byte");
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static int get_u32(struct loader *L, yaml_node_t *n, const char *field,
		   uint32_t min, uint32_t max, uint32_t *out)
{
	const char *s = NULL;
	char *end;
	unsigned long long v;
	int ret = scalar(L, n, field, &s);

	if (ret)
		return ret;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s >= '0' && *s <= '9' && !*end && errno == ERANGE)
		return lerr(L, n, field, "%s is outside %u..%u", s, min, max);
	if (!*s || *s < '0' || *s > '9' || *end || errno)
		return lerr(L, n, field, "'%s' is not a whole number", s);
	if (v < min || v > max)
		return lerr(L, n, field, "%s is outside %u..%u", s, min, max);
	*out = (uint32_t)v;
	return 0;
}

/* A size such as 64K or 65536; 0 allowed, else within min..max. */
static int get_size(struct loader *L, yaml_node_t *n, const char *field,
		    size_t min, size_t max, size_t *out)
{
	const char *s = NULL;
	size_t v;
	int ret = scalar(L, n, field, &s);

	if (ret)
		return ret;
	if (pt_parse_size(s, &v))
		return lerr(L, n, field, "'%s' is not a size (like 65536, 64K, 1M)", s);
	if (v && (v < min || v > max))
		return lerr(L, n, field, "%s is outside %zu..%zu bytes", s, min, max);
	*out = v;
	return 0;
}

/* One of @names (NULL-terminated); *@out is its index. */
static int get_enum(struct loader *L, yaml_node_t *n, const char *field,
		    const char *const *names, unsigned *out)
{
	const char *s = NULL;
	char list[128] = "";
	int ret = scalar(L, n, field, &s);

	if (ret)
		return ret;
	for (unsigned i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? " | " : "", names[i]);
	}
	return lerr(L, n, field, "'%s' is not one of %s", s, list);
}

static int get_name(struct loader *L, yaml_node_t *n, const char *field,
		    char out[PT_NAME_MAX])
{
	const char *s = NULL;
	int ret = scalar(L, n, field, &s);

	if (ret)
		return ret;
	if (pt_ctl_name_set(out, s, false))
		return lerr(L, n, field,
			    "'%s' is not a name (1..%d of [A-Za-z0-9_.-])", s,
			    PT_NAME_MAX - 1);
	return 0;
}

/*
 * Walks the mapping @n, calling @fn for each key in @keys (NULL-terminated)
 * with its index; an unknown or repeated key is an error.
 */
typedef int (*key_fn)(struct loader *L, void *ctx, unsigned key,
		      yaml_node_t *value, const char *field);

static int walk_mapping(struct loader *L, yaml_node_t *n, const char *field,
			const char *const *keys, key_fn fn, void *ctx)
{
	uint64_t seen = 0;

	if (!n || n->type != YAML_MAPPING_NODE)
		return lerr(L, n, field, "expected a mapping (key: value lines)");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		char sub[160];
		const char *ks;
		unsigned i;
		int ret;

		ret = scalar(L, k, field, &ks);
		if (ret)
			return ret;
		for (i = 0; keys[i]; i++)
			if (!strcmp(ks, keys[i]))
				break;
		snprintf(sub, sizeof(sub), "%s%s%s", field, *field ? "." : "", ks);
		if (!keys[i])
			return lerr(L, k, sub, "unknown key");
		if (seen & (1ull << i))
			return lerr(L, k, sub, "given twice");
		seen |= 1ull << i;
		ret = fn(L, ctx, i, v, sub);
		if (ret)
			return ret;
	}
	return 0;
}

static int add_msg(struct loader *L, yaml_node_t *n, const char *what,
		   unsigned type, const void *body, const void *tail,
		   size_t tail_size, const void *tail2, size_t tail2_size)
{
	struct pt_topology *t = L->t;
	struct pt_topology_msg *m;
	uint8_t buf[PT_CTL_MSG_MAX];
	size_t size;

	size = pt_ctl_encode(buf, sizeof(buf), type, 0, (uint32_t)t->nmsgs + 1, 0,
			     body, pt_ctl_layout(type, false), tail, tail_size,
			     tail2, tail2_size);
	if (!size)
		return lerr(L, n, what, "message too large");
	if (t->nmsgs == L->cap) {
		size_t cap = L->cap ? 2 * L->cap : 16;
		void *p = realloc(t->msgs, cap * sizeof(*t->msgs));

		if (!p)
			return lerr(L, n, what, "out of memory");
		t->msgs = p;
		L->cap = cap;
	}
	m = &t->msgs[t->nmsgs];
	m->data = malloc(size);
	if (!m->data)
		return lerr(L, n, what, "out of memory");
	memcpy(m->data, buf, size);
	m->size = size;
	m->line = line_of(n);
	snprintf(m->what, sizeof(m->what), "%s", what);
	t->nmsgs++;
	return 0;
}

/* ---- instances ----------------------------------------------------------- */

static const char *const instance_keys[] = {
	"name", "module", "library", "isolation", "sched", "domain", "heap_size",
	"stack_size", "deadline_us", "max_misses", "restart", "restart_limit",
	"on_fault", "params", "init_blob", "config_blob", "config_param", "mode",
	"hang_ms", "progress_periods", NULL,
};
enum { I_NAME, I_MODULE, I_LIBRARY, I_ISOLATION, I_SCHED, I_DOMAIN, I_HEAP,
       I_STACK, I_DEADLINE, I_MISSES, I_RESTART, I_RLIMIT, I_FAULT, I_PARAMS,
       I_INIT_BLOB, I_CONFIG_BLOB, I_CONFIG_PARAM, I_MODE, I_HANG,
       I_PROGRESS };

/* The path @n names into @out: as written when absolute, else joined to
 * the topology's folder. */
static int file_path(struct loader *L, yaml_node_t *n, const char *field,
		     char *out, size_t len)
{
	const char *s = NULL;
	int ret = scalar(L, n, field, &s);

	if (ret)
		return ret;
	if (!*s)
		return lerr(L, n, field, "empty path");
	if (s[0] == '/')
		snprintf(out, len, "%s", s);
	else if ((size_t)snprintf(out, len, "%s/%s", L->dir, s) >= len)
		return lerr(L, n, field, "path too long");
	return 0;
}

/* Reads the file @n names (relative to the topology's folder), 1..@max
 * bytes. */
static int read_blob(struct loader *L, yaml_node_t *n, const char *field,
		     size_t max, void **data, size_t *size)
{
	char path[PATH_MAX + 8], why[512];
	int ret = file_path(L, n, field, path, sizeof(path));

	if (ret)
		return ret;
	free(*data);
	*data = NULL;
	if (pt_file_read(path, max, data, size, why, sizeof(why)))
		return lerr(L, n, field, "%s", why);
	if (!*size)
		return lerr(L, n, field, "'%s' is empty", path);
	return 0;
}


static bool param_text_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
		    *s == ';' || *s == '=')
			return false;
	return true;
}

static int params_add(struct loader *L, struct instance_ctx *c, yaml_node_t *n,
		      const char *field, const char *text)
{
	size_t len = strlen(text);

	if (c->params_size + len + 1 > sizeof(c->params))
		return lerr(L, n, field, "parameters exceed %d bytes", PT_CTL_INIT_MAX);
	memcpy(c->params + c->params_size, text, len);
	c->params_size += len;
	return 0;
}

/* params: {key: value, key: [v, v]} becomes "key=value\nkey=v,v". A plain
 * string is taken as the text itself. */
static int parse_params(struct loader *L, struct instance_ctx *c, yaml_node_t *n,
			const char *field)
{
	const char *s = NULL;
	int ret;

	if (n && n->type == YAML_SCALAR_NODE) {
		ret = scalar(L, n, field, &s);
		return ret ? ret : params_add(L, c, n, field, s);
	}
	if (!n || n->type != YAML_MAPPING_NODE)
		return lerr(L, n, field, "expected a mapping of key: value");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(L, p->key), *v = node(L, p->value);
		char sub[200];
		const char *ks;

		if ((ret = scalar(L, k, field, &ks)))
			return ret;
		snprintf(sub, sizeof(sub), "%s.%s", field, ks);
		if (!param_text_ok(ks))
			return lerr(L, k, sub, "a parameter name has no spaces, ';' or '='");
		if (c->params_size && (ret = params_add(L, c, k, sub, "\n")))
			return ret;
		if ((ret = params_add(L, c, k, sub, ks)) || (ret = params_add(L, c, k, sub, "=")))
			return ret;
		if (v && v->type == YAML_SEQUENCE_NODE) {
			yaml_node_item_t *it = v->data.sequence.items.start;

			if (it == v->data.sequence.items.top)
				return lerr(L, v, sub, "empty list");
			for (; it < v->data.sequence.items.top; it++) {
				if ((ret = scalar(L, node(L, *it), sub, &s)))
					return ret;
				if (!param_text_ok(s) || strchr(s, ','))
					return lerr(L, node(L, *it), sub,
						    "'%s': a list item has no spaces, ';', ',' or '='", s);
				if (it != v->data.sequence.items.start &&
				    (ret = params_add(L, c, v, sub, ",")))
					return ret;
				if ((ret = params_add(L, c, v, sub, s)))
					return ret;
			}
			continue;
		}
		if ((ret = scalar(L, v, sub, &s)))
			return ret;
		/* A file is found from the topology's folder, as a library is. */
		if (!strcmp(ks, "file") && s[0] && s[0] != '/' && strcmp(s, "-")) {
			if ((size_t)snprintf(c->file, sizeof(c->file), "%s/%s", L->dir,
					     s) >= sizeof(c->file))
				return lerr(L, v, sub, "path too long");
			s = c->file;
		}
		if (!param_text_ok(s))
			return lerr(L, v, sub, "'%s': a value has no spaces, ';' or '='", s);
		if ((ret = params_add(L, c, v, sub, s)))
			return ret;
	}
	return 0;
}

/* Removes "." and ".." segments and repeated slashes from the absolute
 * path @p, in place. */
static void normalize_path(char *p)
{
	char *out = p, *in = p;

	while (*in) {
		char *seg;
		size_t len;

		while (*in == '/')
			in++;
		seg = in;
		while (*in && *in != '/')
			in++;
		len = (size_t)(in - seg);
		if (!len || (len == 1 && seg[0] == '.'))
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > p && *--out != '/')
				;
			continue;
		}
		*out++ = '/';
		memmove(out, seg, len);
		out += len;
	}
	if (out == p)
		*out++ = '/';
	*out = 0;
}

static int resolve_library(struct loader *L, struct instance_ctx *c,
			   yaml_node_t *n, const char *field)
{
	char joined[PATH_MAX + 8];
	int ret = file_path(L, n, field, joined, sizeof(joined));

	if (ret)
		return ret;
	/* The canonical path when the file is there; a missing library is
	 * reported by the library manager when the message is applied. */
	if (!realpath(joined, c->library)) {
		if (joined[0] != '/' || strlen(joined) >= sizeof(c->library))
			return lerr(L, n, field, "'%s': cannot make it absolute", joined);
		memcpy(c->library, joined, strlen(joined) + 1);
		normalize_path(c->library);
	}
	if (strlen(c->library) > PT_CTL_PATH_MAX)
		return lerr(L, n, field, "'%s' is longer than %d bytes", c->library,
			    PT_CTL_PATH_MAX);
	return 0;
}

static int instance_key(struct loader *L, void *ctx, unsigned key,
			yaml_node_t *v, const char *field)
{
	static const char *const iso[] = { "none", "process", NULL };
	static const char *const sched[] = { "ll", "dp", NULL };
	static const char *const restart[] = { "never", "on-failure", NULL };
	static const char *const fault[] = { "silence", "bypass", NULL };
	struct instance_ctx *c = ctx;
	unsigned e;
	uint32_t u;
	size_t sz;
	int ret;

	switch (key) {
	case I_NAME:
		c->has_name = true;
		return get_name(L, v, field, c->m.name);
	case I_MODULE:
		return get_name(L, v, field, c->m.module);
	case I_LIBRARY:
		return resolve_library(L, c, v, field);
	case I_ISOLATION:
		if ((ret = get_enum(L, v, field, iso, &e)))
			return ret;
		c->m.isolation = e ? PT_CTL_ISOLATION_PROCESS : PT_CTL_ISOLATION_NONE;
		return 0;
	case I_SCHED:
		if ((ret = get_enum(L, v, field, sched, &e)))
			return ret;
		c->m.sched = e ? PT_CTL_SCHED_DP : PT_CTL_SCHED_LL;
		return 0;
	case I_DOMAIN:
		return get_name(L, v, field, c->m.domain);
	case I_HEAP:
		ret = get_size(L, v, field, 4096, PT_CTL_HEAP_MAX, &sz);
		c->m.heap_size = (uint32_t)sz;
		return ret;
	case I_STACK:
		ret = get_size(L, v, field, PT_CTL_STACK_MIN, PT_CTL_STACK_MAX, &sz);
		c->m.stack_size = (uint32_t)sz;
		return ret;
	case I_DEADLINE:
		return get_u32(L, v, field, 0, PT_CTL_DEADLINE_MAX, &c->m.deadline_us);
	case I_MISSES:
		return get_u32(L, v, field, 0, PT_CTL_MISSES_MAX, &c->m.max_misses);
	case I_HANG:
		if ((ret = get_u32(L, v, field, 0, PT_CTL_HANG_MAX, &u)))
			return ret;
		c->m.hang_ms = (uint32_t)u;
		return 0;
	case I_PROGRESS:
		if ((ret = get_u32(L, v, field, 0, PT_CTL_PROGRESS_MAX, &u)))
			return ret;
		if (u && u < PT_CTL_PROGRESS_MIN)
			return lerr(L, v, field, "%u is below %u (0 = the default)", u,
				    PT_CTL_PROGRESS_MIN);
		c->m.progress_periods = u;
		return 0;
	case I_RESTART:
		if ((ret = get_enum(L, v, field, restart, &e)))
			return ret;
		c->m.restart = (uint8_t)e;
		return 0;
	case I_RLIMIT:
		return get_u32(L, v, field, 0, PT_CTL_RESTART_MAX, &c->m.restart_limit);
	case I_FAULT:
		if ((ret = get_enum(L, v, field, fault, &e)))
			return ret;
		c->m.on_fault = (uint8_t)e;
		return 0;
	case I_PARAMS:
		return parse_params(L, c, v, field);
	case I_INIT_BLOB:
		return read_blob(L, v, field, PT_CTL_INIT_MAX, &c->payload,
				 &c->payload_size);
	case I_CONFIG_BLOB:
		return read_blob(L, v, field, PT_CTL_CONFIG_MAX, &c->config,
				 &c->config_size);
	case I_CONFIG_PARAM:
		c->has_config_param = true;
		return get_u32(L, v, field, 0, UINT32_MAX, &c->config_param);
	case I_MODE: {
		static const char *const modes[] = { "normal", "bypass", NULL };

		if ((ret = get_enum(L, v, field, modes, &e)))
			return ret;
		c->has_mode = true;
		c->mode = e;
		return 0;
	}
	}
	return -EINVAL;
}

static int parse_instance_(struct loader *L, yaml_node_t *n, const char *field,
			   uint32_t pipeline);

static int parse_instance(struct loader *L, yaml_node_t *n, const char *field,
			  uint32_t pipeline)
{
	int ret = parse_instance_(L, n, field, pipeline);

	free(L->inst->payload);
	free(L->inst->config);
	L->inst->payload = L->inst->config = NULL;
	return ret;
}

/* The messages after an instance's INIT_INSTANCE: its processing mode and
 * its configuration blob, in fragments as a control client sends them. */
static int instance_after(struct loader *L, yaml_node_t *n, const char *what,
			  const struct instance_ctx *c)
{
	int ret;

	if (c->has_mode) {
		struct pt_ctl_set_mode m = { c->m.instance, c->mode };

		if ((ret = add_msg(L, n, what, PT_CTL_SET_MODE, &m, NULL, 0, NULL, 0)))
			return ret;
	}
	for (size_t off = 0; off < c->config_size; off += PT_CTL_FRAGMENT_MAX) {
		struct pt_ctl_config_set m = {
			.instance = c->m.instance, .param = c->config_param,
			.total_size = (uint32_t)c->config_size, .offset = (uint32_t)off,
			.size = (uint32_t)(c->config_size - off < PT_CTL_FRAGMENT_MAX ?
					   c->config_size - off : PT_CTL_FRAGMENT_MAX),
		};

		if ((ret = add_msg(L, n, what, PT_CTL_LARGE_CONFIG_SET, &m,
				   (const uint8_t *)c->config + off, m.size, NULL, 0)))
			return ret;
	}
	return 0;
}

static int parse_instance_(struct loader *L, yaml_node_t *n, const char *field,
			   uint32_t pipeline)
{
	struct instance_ctx *cp = L->inst;
	struct pt_topology *t = L->t;
	char what[160];
	size_t lib_len;
	int ret;

#define c (*cp)
	free(c.payload);
	free(c.config);
	memset(&c, 0, sizeof(c));
	if (t->ninstances >= MAX_INSTANCES)
		return lerr(L, n, field, "more than %d instances", MAX_INSTANCES);
	ret = walk_mapping(L, n, field, instance_keys, instance_key, &c);
	if (ret)
		return ret;
	if (!c.has_name)
		return lerr(L, n, field, "name: missing");
	if (!c.m.module[0] == !c.library[0])
		return lerr(L, n, field, "%s",
			    c.m.module[0] ? "give module or library, not both"
					  : "module or library: missing");
	for (uint32_t i = 0; i < t->ninstances; i++)
		if (!strcmp(L->instances[i], c.m.name))
			return lerr(L, n, field, "name: '%s' is used twice", c.m.name);
	memcpy(L->instances[t->ninstances], c.m.name, PT_NAME_MAX);
	c.m.instance = ++t->ninstances;
	c.m.pipeline = pipeline;
	lib_len = strlen(c.library);
	c.m.library_len = (uint16_t)lib_len;
	c.m.init_size = (uint32_t)c.params_size;
	snprintf(what, sizeof(what), "%s (%s)", field, c.m.name);
	if (c.has_config_param && !c.config)
		return lerr(L, n, field, "config_param: given without config_blob");
	if (c.payload) {
		/* The payload follows the init blob (control.h). */
		uint8_t *tail = malloc(c.params_size + c.payload_size);

		if (!tail)
			return lerr(L, n, field, "out of memory");
		memcpy(tail, c.params, c.params_size);
		memcpy(tail + c.params_size, c.payload, c.payload_size);
		c.m.flags = PT_CTL_INIT_FLAG_PAYLOAD;
		ret = add_msg(L, n, what, PT_CTL_INIT_INSTANCE, &c.m, c.library,
			      lib_len, tail, c.params_size + c.payload_size);
		free(tail);
	} else {
		ret = add_msg(L, n, what, PT_CTL_INIT_INSTANCE, &c.m, c.library,
			      lib_len, c.params, c.params_size);
	}
	return ret ? ret : instance_after(L, n, what, &c);
#undef c
}

/* ---- bindings ------------------------------------------------------------ */

static const char *const bind_keys[] = { "from", "to", "format", "periods", NULL };
enum { B_FROM, B_TO, B_FORMAT, B_PERIODS };
static const char *const format_keys[] = { "rate", "channels", "sample", NULL };

struct bind_ctx {
	struct pt_ctl_bind m;
	bool has_from, has_to;
};

/* "name.pin" or "name" (pin 0). */
static int get_endpoint(struct loader *L, yaml_node_t *n, const char *field,
			uint32_t *inst, uint32_t *pin)
{
	char name[128];
	const char *s, *dot;
	int ret = scalar(L, n, field, &s);

	if (ret)
		return ret;
	if (strlen(s) >= sizeof(name))
		return lerr(L, n, field, "'%.40s...' is not INSTANCE or INSTANCE.PIN", s);
	memcpy(name, s, strlen(s) + 1);
	*pin = 0;
	dot = strrchr(s, '.');
	if (dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1)) {
		unsigned long p = strtoul(dot + 1, NULL, 10);

		if (strlen(dot + 1) > 3 || p >= PT_MAX_PINS)
			return lerr(L, n, field, "pin %s is not below %d", dot + 1,
				    PT_MAX_PINS);
		*pin = (uint32_t)p;
		name[dot - s] = 0;
	}
	for (uint32_t i = 0; i < L->t->ninstances; i++) {
		if (!strcmp(L->instances[i], name)) {
			*inst = i + 1;
			return 0;
		}
	}
	return lerr(L, n, field, "no instance named '%s'", name);
}

/* `auto`: the writer sets this field at prepare (module ABI 2). */
static bool is_auto(const yaml_node_t *v)
{
	return v && v->type == YAML_SCALAR_NODE && v->data.scalar.length == 4 &&
	       !memcmp(v->data.scalar.value, "auto", 4);
}

static int format_key(struct loader *L, void *ctx, unsigned key, yaml_node_t *v,
		      const char *field)
{
	static const char *const samples[] = { "S16_LE", "S24_4LE", "S32_LE",
					       "FLOAT_LE", NULL };
	struct pt_ctl_bind *m = ctx;
	uint32_t ch;
	unsigned e;
	int ret;

	switch (key) {
	case 0:
		return get_u32(L, v, field, PT_RATE_MIN, PT_RATE_MAX, &m->rate);
	case 1:
		if (is_auto(v)) {
			m->open |= PT_CTL_BIND_OPEN_CHANNELS;
			return 0;
		}
		ret = get_u32(L, v, field, 1, PT_CHANNELS_MAX, &ch);
		m->channels = (uint16_t)ch;
		return ret;
	case 2:
		if (is_auto(v)) {
			m->open |= PT_CTL_BIND_OPEN_SAMPLE;
			return 0;
		}
		if ((ret = get_enum(L, v, field, samples, &e)))
			return ret;
		/* the names above are in enum pt_sample_format order from 1 */
		m->sample = (uint16_t)(e + PT_SAMPLE_S16_LE);
		return 0;
	}
	return -EINVAL;
}

static int bind_key(struct loader *L, void *ctx, unsigned key, yaml_node_t *v,
		    const char *field)
{
	struct bind_ctx *c = ctx;

	switch (key) {
	case B_FROM:
		c->has_from = true;
		return get_endpoint(L, v, field, &c->m.src, &c->m.src_pin);
	case B_TO:
		c->has_to = true;
		return get_endpoint(L, v, field, &c->m.dst, &c->m.dst_pin);
	case B_FORMAT:
		return walk_mapping(L, v, field, format_keys, format_key, &c->m);
	case B_PERIODS:
		return get_u32(L, v, field, 0, PT_CTL_PERIODS_MAX, &c->m.periods);
	}
	return -EINVAL;
}

static int parse_bind(struct loader *L, const struct pending_bind *b)
{
	struct bind_ctx c = { .m = { .rate = L->t->rate ? L->t->rate : 48000,
				     .channels = 2, .sample = PT_SAMPLE_S32_LE } };
	char what[160];
	int ret;

	ret = walk_mapping(L, b->node, b->field, bind_keys, bind_key, &c);
	if (ret)
		return ret;
	if (!c.has_from || !c.has_to)
		return lerr(L, b->node, b->field, "%s: missing", c.has_from ? "to" : "from");
	if (c.m.src == c.m.dst)
		return lerr(L, b->node, b->field, "binds instance '%s' to itself",
			    L->instances[c.m.src - 1]);
	snprintf(what, sizeof(what), "%s (%s.%u -> %s.%u)", b->field,
		 L->instances[c.m.src - 1], c.m.src_pin, L->instances[c.m.dst - 1],
		 c.m.dst_pin);
	return add_msg(L, b->node, what, PT_CTL_BIND, &c.m, NULL, 0, NULL, 0);
}

/* ---- pipelines and the top ----------------------------------------------- */

static const char *const pipeline_keys[] = { "name", "state", "instances",
					     "bindings", NULL };
enum { P_NAME, P_STATE, P_INSTANCES, P_BINDINGS };

struct pipeline_ctx {
	struct pt_ctl_create_pipeline m;
	yaml_node_t *instances, *bindings;
	char field[64];
	bool has_name;
	int state;
};

static int pipeline_key(struct loader *L, void *ctx, unsigned key,
			yaml_node_t *v, const char *field)
{
	static const char *const states[] = { "reset", "paused", "running", NULL };
	struct pipeline_ctx *c = ctx;
	unsigned e;
	int ret;

	switch (key) {
	case P_NAME:
		c->has_name = true;
		return get_name(L, v, field, c->m.name);
	case P_STATE:
		if ((ret = get_enum(L, v, field, states, &e)))
			return ret;
		c->state = (int)e;
		return 0;
	case P_INSTANCES:
		if (!v || v->type != YAML_SEQUENCE_NODE)
			return lerr(L, v, field, "expected a list of instances");
		c->instances = v;
		return 0;
	case P_BINDINGS:
		if (!v || v->type != YAML_SEQUENCE_NODE)
			return lerr(L, v, field, "expected a list of bindings");
		c->bindings = v;
		return 0;
	}
	return -EINVAL;
}

static int parse_pipeline(struct loader *L, yaml_node_t *n, const char *field)
{
	struct pipeline_ctx c = { .state = -1 };
	struct pt_topology *t = L->t;
	uint32_t id;
	size_t i = 0;
	char what[160];
	int ret;

	if (t->npipelines >= MAX_PIPELINES)
		return lerr(L, n, field, "more than %d pipelines", MAX_PIPELINES);
	ret = walk_mapping(L, n, field, pipeline_keys, pipeline_key, &c);
	if (ret)
		return ret;
	if (!c.has_name)
		return lerr(L, n, field, "name: missing");
	for (uint32_t p = 0; p < t->npipelines; p++)
		if (!strcmp(L->pipelines[p], c.m.name))
			return lerr(L, n, field, "name: '%s' is used twice", c.m.name);
	id = t->npipelines + 1;
	memcpy(L->pipelines[t->npipelines], c.m.name, PT_NAME_MAX);
	L->pipeline_state[t->npipelines] = c.state;
	L->pipeline_line[t->npipelines] = line_of(n);
	t->npipelines++;
	c.m.pipeline = id;
	snprintf(what, sizeof(what), "%s (%s)", field, c.m.name);
	ret = add_msg(L, n, what, PT_CTL_CREATE_PIPELINE, &c.m, NULL, 0, NULL, 0);
	if (ret)
		return ret;
	if (c.instances) {
		for (yaml_node_item_t *it = c.instances->data.sequence.items.start;
		     it < c.instances->data.sequence.items.top; it++, i++) {
			char sub[96];

			snprintf(sub, sizeof(sub), "%s.instances[%zu]", field, i);
			if ((ret = parse_instance(L, node(L, *it), sub, id)))
				return ret;
		}
	}
	i = 0;
	if (c.bindings) {
		for (yaml_node_item_t *it = c.bindings->data.sequence.items.start;
		     it < c.bindings->data.sequence.items.top; it++, i++) {
			struct pending_bind *b;

			if (L->nbinds >= MAX_BINDINGS)
				return lerr(L, node(L, *it), field,
					    "more than %d bindings", MAX_BINDINGS);
			b = &L->binds[L->nbinds++];
			b->node = node(L, *it);
			snprintf(b->field, sizeof(b->field), "%s.bindings[%zu]", field, i);
		}
	}
	return 0;
}

static const char *const top_keys[] = { "period_us", "rate", "user_heap",
					"pipelines", "domains", "rt_priority", NULL };

static int top_key(struct loader *L, void *ctx, unsigned key, yaml_node_t *v,
		   const char *field)
{
	yaml_node_t **pipelines = ctx;

	switch (key) {
	case 0:
		return get_u32(L, v, field, PERIOD_US_MIN, PERIOD_US_MAX,
			       &L->t->period_us);
	case 1:
		return get_u32(L, v, field, PT_RATE_MIN, PT_RATE_MAX, &L->t->rate);
	case 2:
		return get_size(L, v, field, 1u << 20, (size_t)64 << 30,
				&L->t->user_heap_size);
	case 3:
		if (!v || v->type != YAML_SEQUENCE_NODE)
			return lerr(L, v, field, "expected a list of pipelines");
		*pipelines = v;
		return 0;
	case 4: {
		static const char *const how[] = { "per-instance", "per-library", NULL };
		unsigned e;
		int ret = get_enum(L, v, field, how, &e);

		L->t->domains_per_library = e == 1;
		return ret;
	}
	case 5: {
		uint32_t p;
		int ret = get_u32(L, v, field, 0, 98, &p);

		L->t->rt_priority = (int)p;
		return ret;
	}
	}
	return -EINVAL;
}

static int parse_document(struct loader *L)
{
	yaml_node_t *root = yaml_document_get_root_node(&L->doc), *pipelines = NULL;
	size_t i = 0;
	int ret;

	if (!root)
		return lerr(L, NULL, "(top)", "empty document");
	ret = walk_mapping(L, root, "", top_keys, top_key, &pipelines);
	if (ret)
		return ret;
	if (!pipelines || pipelines->data.sequence.items.start ==
				  pipelines->data.sequence.items.top)
		return lerr(L, root, "pipelines", "missing or empty");
	for (yaml_node_item_t *it = pipelines->data.sequence.items.start;
	     it < pipelines->data.sequence.items.top; it++, i++) {
		char field[32];

		snprintf(field, sizeof(field), "pipelines[%zu]", i);
		if ((ret = parse_pipeline(L, node(L, *it), field)))
			return ret;
	}
	for (size_t b = 0; b < L->nbinds; b++)
		if ((ret = parse_bind(L, &L->binds[b])))
			return ret;
	for (uint32_t p = 0; p < L->t->npipelines; p++) {
		struct pt_ctl_set_pipeline_state m = { p + 1, 0 };
		yaml_node_t at = { .start_mark = { .line = L->pipeline_line[p] - 1 } };
		char what[160];

		if (L->pipeline_state[p] < 0)
			continue;
		m.state = (uint32_t)L->pipeline_state[p];
		snprintf(what, sizeof(what), "pipelines[%u].state (%s)", p,
			 L->pipelines[p]);
		if ((ret = add_msg(L, &at, what, PT_CTL_SET_PIPELINE_STATE, &m,
				   NULL, 0, NULL, 0)))
			return ret;
	}
	return 0;
}

void pt_topology_free(struct pt_topology *t)
{
	for (size_t i = 0; i < t->nmsgs; i++)
		free(t->msgs[i].data);
	free(t->msgs);
	t->msgs = NULL;
	t->nmsgs = 0;
}

/* Reads @text as a stream of events (constant memory) and refuses it at
 * the first collection nested deeper than PT_TOPOLOGY_DEPTH_MAX, before
 * any document is built: libyaml's scanner does work in proportion to the
 * open nesting levels for every token, so a deeply nested file costs time
 * quadratic in its size. Syntax errors are left to the loader. */
static int check_depth(const void *text, size_t size, const char *path, char *err,
		       size_t errlen)
{
	yaml_parser_t parser;
	unsigned depth = 0;
	int ret = 0;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: libyaml failed to initialise", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, text, size);
	for (;;) {
		yaml_event_t ev;
		bool end;

		if (!yaml_parser_parse(&parser, &ev))
			break; /* the loader reports it, with its line */
		end = ev.type == YAML_STREAM_END_EVENT;
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > PT_TOPOLOGY_DEPTH_MAX) {
				snprintf(err, errlen,
					 "%s:%zu: nested more than %d levels deep (collections within collections)",
					 path, ev.start_mark.line + 1, PT_TOPOLOGY_DEPTH_MAX);
				ret = -EINVAL;
				end = true;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			   ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		yaml_event_delete(&ev);
		if (end)
			break;
	}
	yaml_parser_delete(&parser);
	return ret;
}

int pt_topology_parse(const void *text, size_t size, const char *path,
		      struct pt_topology *t, char *err, size_t errlen)
{
	struct loader *L;
	yaml_parser_t parser;
	char dir_buf[PATH_MAX];
	int ret;

	memset(t, 0, sizeof(*t));
	t->rt_priority = -1;
	snprintf(t->path, sizeof(t->path), "%s", path);
	if (size > PT_TOPOLOGY_FILE_MAX) {
		snprintf(err, errlen, "%s: %zu bytes, more than %u", path, size,
			 PT_TOPOLOGY_FILE_MAX);
		return -EFBIG;
	}
	ret = check_depth(text, size, path, err, errlen);
	if (ret)
		return ret;
	L = calloc(1, sizeof(*L) + sizeof(*L->inst));
	if (!L) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	L->inst = (struct instance_ctx *)(L + 1);
	L->path = path;
	L->t = t;
	L->err = err;
	L->errlen = errlen;
	snprintf(dir_buf, sizeof(dir_buf), "%s", path);
	/* Library paths are anchored at the file's folder, made absolute. */
	if (!realpath(dirname(dir_buf), L->dir)) {
		char cwd[PATH_MAX];

		snprintf(dir_buf, sizeof(dir_buf), "%s", path);
		if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
			snprintf(L->dir, sizeof(L->dir), "%s", dirname(dir_buf));
		else if ((size_t)snprintf(L->dir, sizeof(L->dir), "%s/%s", cwd,
					  dirname(dir_buf)) >= sizeof(L->dir))
			L->dir[0] = 0;
	}

	if (!yaml_parser_initialize(&parser)) {
		free(L);
		snprintf(err, errlen, "%s: libyaml failed to initialise", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, text, size);
	if (!yaml_parser_load(&parser, &L->doc)) {
		snprintf(err, errlen, "%s:%zu: YAML syntax: %s%s%s", path,
			 parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "unreadable",
			 parser.context ? ", " : "",
			 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		free(L);
		return -EINVAL;
	}
	ret = parse_document(L);
	yaml_document_delete(&L->doc);
	/* One document a file: a second one would be silently ignored. */
	if (!ret) {
		yaml_document_t next;

		if (!yaml_parser_load(&parser, &next)) {
			snprintf(err, errlen, "%s:%zu: YAML syntax after the document: %s",
				 path, parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "unreadable");
			ret = -EINVAL;
		} else {
			if (yaml_document_get_root_node(&next)) {
				snprintf(err, errlen,
					 "%s:%zu: a second YAML document: a topology file holds one",
					 path, next.start_mark.line + 1);
				ret = -EINVAL;
			}
			yaml_document_delete(&next);
		}
	}
	yaml_parser_delete(&parser);
	free(L);
	if (ret)
		pt_topology_free(t);
	return ret;
}

int pt_topology_load(const char *path, struct pt_topology *t, char *err,
		     size_t errlen)
{
	void *text;
	size_t size;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = pt_file_read(path, PT_TOPOLOGY_FILE_MAX, &text, &size, err, errlen);
	if (ret)
		return ret;
	ret = pt_topology_parse(text, size, path, t, err, errlen);
	free(text);
	return ret;
}
