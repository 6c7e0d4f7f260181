/* SPDX-License-Identifier: MIT */
/* The control protocol's decoder, validator and encoder. */
#include "host/control/codec.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define HDR_SIZE sizeof(struct pt_ctl_header)

struct type_desc {
	const char *name;
	const char *layout;       /* request body */
	const char *reply_layout; /* success reply body ("" = none) */
	bool has_tail;            /* variable bytes follow the body */
};

#define LAYOUT_ID "44"

static const struct type_desc types[] = {
	[PT_CTL_CREATE_PIPELINE] = { "CREATE_PIPELINE", "44n", LAYOUT_ID, false },
	[PT_CTL_DELETE_PIPELINE] = { "DELETE_PIPELINE", "44", "", false },
	[PT_CTL_INIT_INSTANCE] = { "INIT_INSTANCE", "44nnn44444111122444", LAYOUT_ID, true },
	[PT_CTL_DELETE_INSTANCE] = { "DELETE_INSTANCE", "44", "", false },
	[PT_CTL_BIND] = { "BIND", "444442244", "", false },
	[PT_CTL_UNBIND] = { "UNBIND", "4444", "", false },
	[PT_CTL_SET_PIPELINE_STATE] = { "SET_PIPELINE_STATE", "44", "", false },
	[PT_CTL_LARGE_CONFIG_SET] = { "LARGE_CONFIG_SET", "444444", "", true },
	[PT_CTL_LARGE_CONFIG_GET] = { "LARGE_CONFIG_GET", "4444", "4444", false },
	[PT_CTL_LOAD_LIBRARY] = { "LOAD_LIBRARY", "224", "nu444441111", true },
	[PT_CTL_GET_STATS] = { "GET_STATS", "44", "4488", false },
	[PT_CTL_LOOKUP] = { "LOOKUP", "44n", LAYOUT_ID, false },
	[PT_CTL_SET_MODE] = { "SET_MODE", "44", "", false },
};

#define NTYPES (sizeof(types) / sizeof(types[0]))
#define NOTIFY_LAYOUT "448844nr"

static const struct type_desc *type_desc(unsigned type)
{
	if (type < NTYPES && types[type].name)
		return &types[type];
	return NULL;
}

const char *pt_ctl_type_name(unsigned type)
{
	const struct type_desc *t = type_desc(type);

	if (t)
		return t->name;
	switch (type) {
	case PT_CTL_NOTIFY_FAULT:
		return "NOTIFY_FAULT";
	case PT_CTL_NOTIFY_DEADLINE_MISS:
		return "NOTIFY_DEADLINE_MISS";
	case PT_CTL_NOTIFY_RESTART:
		return "NOTIFY_RESTART";
	}
	return "UNKNOWN";
}

const char *pt_ctl_status_name(unsigned status)
{
	static const char *const names[PT_CTL_STATUS_COUNT] = {
		"OK", "TRUNCATED", "OVERSIZED", "UNKNOWN_TYPE", "BAD_HEADER",
		"BAD_FIELD", "UNKNOWN_ID", "EXISTS", "BUSY", "NO_MEMORY",
		"SEQUENCE", "LIBRARY", "SIGNATURE", "MODULE", "NO_SPACE",
		"INTERNAL", "MODULE_ABI",
	};
	return status < PT_CTL_STATUS_COUNT ? names[status] : "UNKNOWN";
}

const char *pt_ctl_layout(unsigned type, bool reply)
{
	const struct type_desc *t = type_desc(type);

	if (t)
		return reply ? t->reply_layout : t->layout;
	if (type >= PT_CTL_NOTIFY_FAULT && type <= PT_CTL_NOTIFY_RESTART)
		return NOTIFY_LAYOUT;
	return NULL;
}

static size_t field_size(char c)
{
	switch (c) {
	case '1': return 1;
	case '2': return 2;
	case '4': return 4;
	case '8': return 8;
	case 'n': return PT_NAME_MAX;
	case 'u': return 16;
	case 'r': return 64;
	}
	return 0;
}

size_t pt_ctl_layout_size(const char *layout)
{
	size_t n = 0;

	for (; *layout; layout++)
		n += field_size(*layout);
	return n;
}

void pt_ctl_swap(void *body, const char *layout)
{
	uint8_t *p = body;

	for (; *layout; layout++) {
		switch (*layout) {
		case '2': {
			uint16_t v;
			memcpy(&v, p, 2);
			v = htole16(v);
			memcpy(p, &v, 2);
			break;
		}
		case '4': {
			uint32_t v;
			memcpy(&v, p, 4);
			v = htole32(v);
			memcpy(p, &v, 4);
			break;
		}
		case '8': {
			uint64_t v;
			memcpy(&v, p, 8);
			v = htole64(v);
			memcpy(p, &v, 8);
			break;
		}
		}
		p += field_size(*layout);
	}
}

static enum pt_ctl_status fail(enum pt_ctl_status st, char *err, size_t errlen,
			       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum pt_ctl_status fail(enum pt_ctl_status st, char *err, size_t errlen,
			       const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return st;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool pt_ctl_name_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (n >= PT_NAME_MAX - 1 || !name_char(s[n]))
			return false;
	return n > 0;
}

int pt_ctl_name_set(char field[PT_NAME_MAX], const char *s, bool may_be_empty)
{
	if (!(may_be_empty && !*s) && !pt_ctl_name_valid(s))
		return -EINVAL;
	memset(field, 0, PT_NAME_MAX);
	memcpy(field, s, strlen(s));
	return 0;
}

/* A wire name field: terminated inside the field, zero after the NUL, and a
 * valid name (or empty when allowed). */
static enum pt_ctl_status check_name(const char *field, bool may_be_empty,
				     const char *what, char *err, size_t errlen)
{
	const char *nul = memchr(field, 0, PT_NAME_MAX);
	size_t len;

	if (!nul)
		return fail(PT_CTL_E_BAD_FIELD, err, errlen,
			    "%s: not NUL-terminated within %d bytes", what,
			    PT_NAME_MAX);
	len = (size_t)(nul - field);
	for (size_t i = len; i < PT_NAME_MAX; i++)
		if (field[i])
			return fail(PT_CTL_E_BAD_FIELD, err, errlen,
				    "%s: nonzero byte after the terminating NUL",
				    what);
	if (!len && may_be_empty)
		return PT_CTL_OK;
	if (!len)
		return fail(PT_CTL_E_BAD_FIELD, err, errlen, "%s: empty", what);
	for (size_t i = 0; i < len; i++)
		if (!name_char(field[i]))
			return fail(PT_CTL_E_BAD_FIELD, err, errlen,
				    "%s: byte 0x%02x at %zu is not one of [A-Za-z0-9_.-]",
				    what, (unsigned char)field[i], i);
	return PT_CTL_OK;
}

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			return fail(PT_CTL_E_BAD_FIELD, err, errlen, __VA_ARGS__); \
	} while (0)

#define CHECK_NAME(field, empty, what)                                         \
	do {                                                                   \
		enum pt_ctl_status st_ = check_name(field, empty, what, err, errlen); \
		if (st_ != PT_CTL_OK)                                          \
			return st_;                                            \
	} while (0)

#define CHECK_ZERO(v, what) CHECK((v) == 0, "%s: reserved, must be 0 (is %u)", what, (unsigned)(v))

static enum pt_ctl_status check_pin(uint32_t pin, const char *what, char *err,
				    size_t errlen)
{
	CHECK(pin < PT_MAX_PINS, "%s: pin %u is not below %d", what, pin,
	      PT_MAX_PINS);
	return PT_CTL_OK;
}

/* The variable bytes after the body: exactly @want of the @have there are. */
static enum pt_ctl_status check_tail(size_t have, size_t want, const char *what,
				     char *err, size_t errlen)
{
	if (have < want)
		return fail(PT_CTL_E_TRUNCATED, err, errlen,
			    "%s: announces %zu bytes, %zu follow", what, want, have);
	if (have > want)
		return fail(PT_CTL_E_OVERSIZED, err, errlen,
			    "%s: announces %zu bytes, %zu follow", what, want, have);
	return PT_CTL_OK;
}

static enum pt_ctl_status take_path(struct pt_ctl_request *req, const uint8_t *p,
				    size_t len, const char *what, char *err,
				    size_t errlen)
{
	if (memchr(p, 0, len))
		return fail(PT_CTL_E_BAD_FIELD, err, errlen,
			    "%s: contains a NUL byte", what);
	memcpy(req->path, p, len);
	req->path[len] = 0;
	return PT_CTL_OK;
}

static enum pt_ctl_status check_init(struct pt_ctl_request *req, const uint8_t *tail,
				     size_t tail_size, char *err, size_t errlen)
{
	const struct pt_ctl_init_instance *m = &req->u.init_instance;
	enum pt_ctl_status st;

	CHECK(m->pipeline != 0, "init_instance.pipeline: 0 is not a pipeline id");
	CHECK_NAME(m->name, false, "init_instance.name");
	CHECK_NAME(m->module, true, "init_instance.module");
	CHECK_NAME(m->domain, true, "init_instance.domain");
	CHECK(m->heap_size == 0 || (m->heap_size >= 4096 && m->heap_size <= PT_CTL_HEAP_MAX),
	      "init_instance.heap_size: %u is outside 4096..%u", m->heap_size,
	      PT_CTL_HEAP_MAX);
	CHECK(m->stack_size == 0 ||
		      (m->stack_size >= PT_CTL_STACK_MIN && m->stack_size <= PT_CTL_STACK_MAX),
	      "init_instance.stack_size: %u is outside %u..%u", m->stack_size,
	      PT_CTL_STACK_MIN, PT_CTL_STACK_MAX);
	CHECK(m->deadline_us <= PT_CTL_DEADLINE_MAX,
	      "init_instance.deadline_us: %u is above %u", m->deadline_us,
	      PT_CTL_DEADLINE_MAX);
	CHECK(m->max_misses <= PT_CTL_MISSES_MAX,
	      "init_instance.max_misses: %u is above %u", m->max_misses,
	      PT_CTL_MISSES_MAX);
	CHECK(m->restart_limit <= PT_CTL_RESTART_MAX,
	      "init_instance.restart_limit: %u is above %u", m->restart_limit,
	      PT_CTL_RESTART_MAX);
	CHECK(m->isolation <= PT_CTL_ISOLATION_PROCESS,
	      "init_instance.isolation: unknown value %u", m->isolation);
	CHECK(m->sched <= PT_CTL_SCHED_DP, "init_instance.sched: unknown value %u",
	      m->sched);
	CHECK(m->restart <= PT_CTL_RESTART_ON_FAILURE,
	      "init_instance.restart: unknown value %u", m->restart);
	CHECK(m->on_fault <= PT_CTL_ON_FAULT_BYPASS,
	      "init_instance.on_fault: unknown value %u", m->on_fault);
	CHECK((m->flags & ~PT_CTL_INIT_FLAG_PAYLOAD) == 0,
	      "init_instance.flags: reserved bits 0x%x", m->flags & ~PT_CTL_INIT_FLAG_PAYLOAD);
	CHECK(m->hang_ms <= PT_CTL_HANG_MAX,
	      "init_instance.hang_ms: %u is above %u", m->hang_ms, PT_CTL_HANG_MAX);
	CHECK(m->progress_periods == 0 || m->progress_periods >= PT_CTL_PROGRESS_MIN,
	      "init_instance.progress_periods: %u is outside %u..%u", m->progress_periods,
	      PT_CTL_PROGRESS_MIN, PT_CTL_PROGRESS_MAX);
	CHECK(m->progress_periods <= PT_CTL_PROGRESS_MAX,
	      "init_instance.progress_periods: %u is outside %u..%u", m->progress_periods,
	      PT_CTL_PROGRESS_MIN, PT_CTL_PROGRESS_MAX);
	if (m->library_len > PT_CTL_PATH_MAX)
		return fail(PT_CTL_E_OVERSIZED, err, errlen,
			    "init_instance.library_len: %u is above %d",
			    m->library_len, PT_CTL_PATH_MAX);
	if (m->init_size > PT_CTL_INIT_MAX)
		return fail(PT_CTL_E_OVERSIZED, err, errlen,
			    "init_instance.init_size: %u is above %d", m->init_size,
			    PT_CTL_INIT_MAX);
	if (m->flags & PT_CTL_INIT_FLAG_PAYLOAD) {
		/* The payload is what follows the init blob. */
		size_t before = (size_t)m->library_len + m->init_size;

		if (tail_size <= before)
			return fail(PT_CTL_E_TRUNCATED, err, errlen,
				    "init_instance.flags: a payload is announced, none follows");
		if (tail_size - before > PT_CTL_INIT_MAX)
			return fail(PT_CTL_E_OVERSIZED, err, errlen,
				    "init_instance payload: %zu bytes is above %d",
				    tail_size - before, PT_CTL_INIT_MAX);
		req->payload = tail + before;
		req->payload_size = tail_size - before;
	} else {
		st = check_tail(tail_size, (size_t)m->library_len + m->init_size,
				"init_instance.library_len + init_size", err, errlen);
		if (st != PT_CTL_OK)
			return st;
		req->payload = NULL;
		req->payload_size = 0;
	}
	CHECK(!m->module[0] != !m->library_len,
	      m->module[0] ? "init_instance.module: given together with a library path"
			   : "init_instance.module: neither a module name nor a library path");
	if (m->library_len) {
		st = take_path(req, tail, m->library_len, "init_instance.library",
			       err, errlen);
		if (st != PT_CTL_OK)
			return st;
	}
	req->data = m->init_size ? tail + m->library_len : NULL;
	req->data_size = m->init_size;
	return PT_CTL_OK;
}

static enum pt_ctl_status check_bind(const struct pt_ctl_bind *m, char *err,
				     size_t errlen)
{
	struct pt_format f = { m->rate, m->channels, m->sample };
	enum pt_ctl_status st;

	CHECK(m->src != 0, "bind.src: 0 is not an instance id");
	if ((st = check_pin(m->src_pin, "bind.src_pin", err, errlen)))
		return st;
	CHECK(m->dst != 0, "bind.dst: 0 is not an instance id");
	if ((st = check_pin(m->dst_pin, "bind.dst_pin", err, errlen)))
		return st;
	CHECK(m->src != m->dst, "bind.dst: instance %u bound to itself", m->dst);
	CHECK(f.rate >= PT_RATE_MIN && f.rate <= PT_RATE_MAX,
	      "bind.rate: %u is outside %d..%d", f.rate, PT_RATE_MIN, PT_RATE_MAX);
	CHECK(f.channels >= 1 && f.channels <= PT_CHANNELS_MAX,
	      "bind.channels: %u is outside 1..%d", f.channels, PT_CHANNELS_MAX);
	CHECK(pt_sample_bytes(f.sample), "bind.sample: unknown sample format %u",
	      f.sample);
	CHECK(m->periods <= PT_CTL_PERIODS_MAX, "bind.periods: %u is above %u",
	      m->periods, PT_CTL_PERIODS_MAX);
	CHECK((m->open & ~(uint32_t)(PT_CTL_BIND_OPEN_SAMPLE | PT_CTL_BIND_OPEN_CHANNELS)) == 0,
	      "bind.open: unknown bits 0x%x",
	      m->open & ~(uint32_t)(PT_CTL_BIND_OPEN_SAMPLE | PT_CTL_BIND_OPEN_CHANNELS));
	return PT_CTL_OK;
}

static enum pt_ctl_status check_config_set(struct pt_ctl_request *req,
					   const uint8_t *tail, size_t tail_size,
					   char *err, size_t errlen)
{
	const struct pt_ctl_config_set *m = &req->u.config_set;
	enum pt_ctl_status st;

	CHECK(m->instance != 0, "config_set.instance: 0 is not an instance id");
	CHECK(m->total_size >= 1, "config_set.total_size: 0, a blob has at least one byte");
	if (m->total_size > PT_CTL_CONFIG_MAX)
		return fail(PT_CTL_E_OVERSIZED, err, errlen,
			    "config_set.total_size: %u is above %d", m->total_size,
			    PT_CTL_CONFIG_MAX);
	CHECK(m->offset < m->total_size,
	      "config_set.offset: %u is not below total_size %u", m->offset,
	      m->total_size);
	CHECK(m->size >= 1, "config_set.size: 0, a fragment has at least one byte");
	if (m->size > PT_CTL_FRAGMENT_MAX)
		return fail(PT_CTL_E_OVERSIZED, err, errlen,
			    "config_set.size: %u is above %d", m->size,
			    PT_CTL_FRAGMENT_MAX);
	CHECK(m->size <= m->total_size - m->offset,
	      "config_set.size: offset %u + size %u runs past total_size %u",
	      m->offset, m->size, m->total_size);
	CHECK_ZERO(m->reserved, "config_set.reserved");
	st = check_tail(tail_size, m->size, "config_set.size", err, errlen);
	if (st != PT_CTL_OK)
		return st;
	req->data = tail;
	req->data_size = m->size;
	return PT_CTL_OK;
}

static enum pt_ctl_status check_body(struct pt_ctl_request *req, const uint8_t *tail,
				     size_t tail_size, char *err, size_t errlen)
{
	enum pt_ctl_status st;

	switch (req->hdr.type) {
	case PT_CTL_CREATE_PIPELINE:
		CHECK_ZERO(req->u.create_pipeline.reserved, "create_pipeline.reserved");
		CHECK_NAME(req->u.create_pipeline.name, false, "create_pipeline.name");
		return PT_CTL_OK;
	case PT_CTL_DELETE_PIPELINE:
		CHECK(req->u.delete_pipeline.pipeline != 0,
		      "delete_pipeline.pipeline: 0 is not a pipeline id");
		CHECK_ZERO(req->u.delete_pipeline.reserved, "delete_pipeline.reserved");
		return PT_CTL_OK;
	case PT_CTL_INIT_INSTANCE:
		return check_init(req, tail, tail_size, err, errlen);
	case PT_CTL_DELETE_INSTANCE:
		CHECK(req->u.delete_instance.instance != 0,
		      "delete_instance.instance: 0 is not an instance id");
		CHECK_ZERO(req->u.delete_instance.reserved, "delete_instance.reserved");
		return PT_CTL_OK;
	case PT_CTL_BIND:
		return check_bind(&req->u.bind, err, errlen);
	case PT_CTL_UNBIND:
		CHECK(req->u.unbind.src != 0, "unbind.src: 0 is not an instance id");
		if ((st = check_pin(req->u.unbind.src_pin, "unbind.src_pin", err, errlen)))
			return st;
		CHECK(req->u.unbind.dst != 0, "unbind.dst: 0 is not an instance id");
		return check_pin(req->u.unbind.dst_pin, "unbind.dst_pin", err, errlen);
	case PT_CTL_SET_PIPELINE_STATE:
		CHECK(req->u.set_state.pipeline != 0,
		      "set_pipeline_state.pipeline: 0 is not a pipeline id");
		CHECK(req->u.set_state.state <= PT_CTL_STATE_RUNNING,
		      "set_pipeline_state.state: unknown state %u",
		      req->u.set_state.state);
		return PT_CTL_OK;
	case PT_CTL_LARGE_CONFIG_SET:
		return check_config_set(req, tail, tail_size, err, errlen);
	case PT_CTL_LARGE_CONFIG_GET:
		CHECK(req->u.config_get.instance != 0,
		      "config_get.instance: 0 is not an instance id");
		CHECK(req->u.config_get.offset < PT_CTL_CONFIG_MAX,
		      "config_get.offset: %u is not below %d",
		      req->u.config_get.offset, PT_CTL_CONFIG_MAX);
		CHECK(req->u.config_get.max_size >= 1 &&
			      req->u.config_get.max_size <= PT_CTL_FRAGMENT_MAX,
		      "config_get.max_size: %u is outside 1..%d",
		      req->u.config_get.max_size, PT_CTL_FRAGMENT_MAX);
		return PT_CTL_OK;
	case PT_CTL_LOAD_LIBRARY:
		CHECK_ZERO(req->u.load_library.reserved, "load_library.reserved");
		CHECK_ZERO(req->u.load_library.reserved2, "load_library.reserved2");
		CHECK(req->u.load_library.path_len >= 1,
		      "load_library.path_len: 0, a path has at least one byte");
		if (req->u.load_library.path_len > PT_CTL_PATH_MAX)
			return fail(PT_CTL_E_OVERSIZED, err, errlen,
				    "load_library.path_len: %u is above %d",
				    req->u.load_library.path_len, PT_CTL_PATH_MAX);
		st = check_tail(tail_size, req->u.load_library.path_len,
				"load_library.path_len", err, errlen);
		if (st != PT_CTL_OK)
			return st;
		st = take_path(req, tail, tail_size, "load_library.path", err, errlen);
		if (st != PT_CTL_OK)
			return st;
		CHECK(req->path[0] == '/', "load_library.path: '%s' is not absolute",
		      req->path);
		return PT_CTL_OK;
	case PT_CTL_GET_STATS:
		CHECK_ZERO(req->u.get_stats.reserved, "get_stats.reserved");
		return PT_CTL_OK;
	case PT_CTL_LOOKUP:
		CHECK(req->u.lookup.kind <= PT_CTL_LOOKUP_INSTANCE,
		      "lookup.kind: unknown kind %u", req->u.lookup.kind);
		CHECK_ZERO(req->u.lookup.reserved, "lookup.reserved");
		CHECK_NAME(req->u.lookup.name, false, "lookup.name");
		return PT_CTL_OK;
	case PT_CTL_SET_MODE:
		CHECK(req->u.set_mode.instance != 0,
		      "set_mode.instance: 0 is not an instance id");
		CHECK(req->u.set_mode.mode <= PT_CTL_MODE_BYPASS,
		      "set_mode.mode: unknown mode %u", req->u.set_mode.mode);
		return PT_CTL_OK;
	}
	return fail(PT_CTL_E_UNKNOWN_TYPE, err, errlen, "header.type: %u",
		    req->hdr.type);
}

static void read_header(struct pt_ctl_header *h, const void *msg)
{
	memcpy(h, msg, HDR_SIZE);
	h->type = le16toh(h->type);
	h->flags = le16toh(h->flags);
	h->size = le32toh(h->size);
	h->seq = le32toh(h->seq);
	h->status = le32toh(h->status);
}

enum pt_ctl_status pt_ctl_decode(const void *msg, size_t len,
				 struct pt_ctl_request *req, char *err,
				 size_t errlen)
{
	const struct type_desc *t;
	size_t body;

	memset(req, 0, sizeof(*req));
	if (len < HDR_SIZE)
		return fail(PT_CTL_E_TRUNCATED, err, errlen,
			    "header: message of %zu bytes is shorter than the %zu-byte header",
			    len, HDR_SIZE);
	read_header(&req->hdr, msg);
	if (len > PT_CTL_MSG_MAX)
		return fail(PT_CTL_E_OVERSIZED, err, errlen,
			    "header: message of %zu bytes is above the %d-byte limit",
			    len, PT_CTL_MSG_MAX);
	if (req->hdr.size > len)
		return fail(PT_CTL_E_TRUNCATED, err, errlen,
			    "header.size: says %u bytes, the message has %zu",
			    req->hdr.size, len);
	if (req->hdr.size < len)
		return fail(PT_CTL_E_OVERSIZED, err, errlen,
			    "header.size: says %u bytes, the message has %zu",
			    req->hdr.size, len);
	if (req->hdr.flags)
		return fail(PT_CTL_E_BAD_HEADER, err, errlen,
			    "header.flags: 0x%x, a request has none",
			    req->hdr.flags);
	if (req->hdr.status)
		return fail(PT_CTL_E_BAD_HEADER, err, errlen,
			    "header.status: %u, a request has 0", req->hdr.status);
	t = type_desc(req->hdr.type);
	if (!t)
		return fail(PT_CTL_E_UNKNOWN_TYPE, err, errlen,
			    "header.type: %u is not a request type", req->hdr.type);
	body = pt_ctl_layout_size(t->layout);
	if (len - HDR_SIZE < body)
		return fail(PT_CTL_E_TRUNCATED, err, errlen,
			    "%s: body of %zu bytes, needs %zu", t->name,
			    len - HDR_SIZE, body);
	if (!t->has_tail && len - HDR_SIZE > body)
		return fail(PT_CTL_E_OVERSIZED, err, errlen,
			    "%s: body of %zu bytes, takes %zu", t->name,
			    len - HDR_SIZE, body);
	memcpy(&req->u, (const uint8_t *)msg + HDR_SIZE, body);
	pt_ctl_swap(&req->u, t->layout);
	return check_body(req, (const uint8_t *)msg + HDR_SIZE + body,
			  len - HDR_SIZE - body, err, errlen);
}

size_t pt_ctl_encode(void *buf, size_t room, unsigned type, unsigned flags,
		     uint32_t seq, uint32_t status, const void *body,
		     const char *layout, const void *tail, size_t tail_size,
		     const void *tail2, size_t tail2_size)
{
	size_t body_size = layout ? pt_ctl_layout_size(layout) : 0;
	size_t size = HDR_SIZE + body_size;
	struct pt_ctl_header h;
	uint8_t *p = buf;

	if (tail_size > PT_CTL_MSG_MAX || tail2_size > PT_CTL_MSG_MAX)
		return 0;
	size += tail_size + tail2_size;
	if (size > room || size > PT_CTL_MSG_MAX)
		return 0;
	h.type = htole16((uint16_t)type);
	h.flags = htole16((uint16_t)flags);
	h.size = htole32((uint32_t)size);
	h.seq = htole32(seq);
	h.status = htole32(status);
	memcpy(p, &h, HDR_SIZE);
	p += HDR_SIZE;
	if (body_size) {
		memcpy(p, body, body_size);
		pt_ctl_swap(p, layout);
		p += body_size;
	}
	if (tail_size)
		memcpy(p, tail, tail_size);
	p += tail_size;
	if (tail2_size)
		memcpy(p, tail2, tail2_size);
	return size;
}

size_t pt_ctl_encode_error(void *buf, size_t room, unsigned type, uint32_t seq,
			   enum pt_ctl_status status, const char *text)
{
	size_t n = strnlen(text, PT_CTL_ERR_MAX - 1);
	static const char nul;

	return pt_ctl_encode(buf, room, type, PT_CTL_FLAG_REPLY, seq, status,
			     NULL, NULL, text, n, &nul, 1);
}

int pt_ctl_decode_reply(const void *msg, size_t len, struct pt_ctl_reply *rep,
			char *err, size_t errlen)
{
	const char *layout;
	size_t want;

	memset(rep, 0, sizeof(*rep));
	if (len < HDR_SIZE) {
		snprintf(err, errlen, "reply of %zu bytes is shorter than a header", len);
		return -EPROTO;
	}
	read_header(&rep->hdr, msg);
	if (rep->hdr.size != len || len > PT_CTL_MSG_MAX) {
		snprintf(err, errlen, "reply header.size says %u bytes, got %zu",
			 rep->hdr.size, len);
		return -EPROTO;
	}
	if (rep->hdr.flags != PT_CTL_FLAG_REPLY && rep->hdr.flags != PT_CTL_FLAG_NOTIFY) {
		snprintf(err, errlen, "reply header.flags 0x%x is neither reply nor notify",
			 rep->hdr.flags);
		return -EPROTO;
	}
	if (rep->hdr.status >= PT_CTL_STATUS_COUNT) {
		snprintf(err, errlen, "reply header.status %u is unknown", rep->hdr.status);
		return -EPROTO;
	}
	rep->body = (const uint8_t *)msg + HDR_SIZE;
	rep->body_size = len - HDR_SIZE;
	if (rep->hdr.status != PT_CTL_OK) {
		if (!rep->body_size || ((const char *)rep->body)[rep->body_size - 1]) {
			snprintf(err, errlen, "error reply text is not NUL-terminated");
			return -EPROTO;
		}
		return 0;
	}
	layout = pt_ctl_layout(rep->hdr.type, true);
	if (!layout) {
		snprintf(err, errlen, "reply of unknown type %u", rep->hdr.type);
		return -EPROTO;
	}
	if ((rep->hdr.flags == PT_CTL_FLAG_NOTIFY) !=
	    (rep->hdr.type >= PT_CTL_NOTIFY_FAULT)) {
		snprintf(err, errlen, "%s with flags 0x%x",
			 pt_ctl_type_name(rep->hdr.type), rep->hdr.flags);
		return -EPROTO;
	}
	want = pt_ctl_layout_size(layout);
	if (rep->body_size < want) {
		snprintf(err, errlen, "%s reply body of %zu bytes, needs %zu",
			 pt_ctl_type_name(rep->hdr.type), rep->body_size, want);
		return -EPROTO;
	}
	return 0;
}
