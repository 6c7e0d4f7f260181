/* SPDX-License-Identifier: MIT */
/* The control codec: every request type round-trips, and every field out of
 * range, every truncation and every oversize is refused with the field
 * named. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/control/codec.h"

static uint8_t msg[PT_CTL_MSG_MAX + 64];
static char err[PT_CTL_ERR_MAX];

static size_t enc(unsigned type, const void *body, const void *tail,
		  size_t tail_size, const void *tail2, size_t tail2_size)
{
	size_t n = pt_ctl_encode(msg, sizeof(msg), type, 0, 7, 0, body,
				 pt_ctl_layout(type, false), tail, tail_size,
				 tail2, tail2_size);
	assert_true(n >= sizeof(struct pt_ctl_header));
	return n;
}

/* Decodes msg[0..len) and checks the status and that @field is named. */
static void expect(size_t len, enum pt_ctl_status want, const char *field)
{
	struct pt_ctl_request req;
	enum pt_ctl_status st;

	err[0] = 0;
	st = pt_ctl_decode(msg, len, &req, err, sizeof(err));
	if (st != want || (field && !strstr(err, field)))
		fail_msg("want %s naming '%s', got %s: %s", pt_ctl_status_name(want),
			 field ? field : "", pt_ctl_status_name(st), err);
}

static struct pt_ctl_init_instance valid_init(void)
{
	struct pt_ctl_init_instance m = { .instance = 3, .pipeline = 1,
					  .heap_size = 65536, .stack_size = 65536,
					  .deadline_us = 1000, .max_misses = 3,
					  .restart_limit = 3,
					  .isolation = PT_CTL_ISOLATION_PROCESS,
					  .sched = PT_CTL_SCHED_DP };
	pt_ctl_name_set(m.name, "gain1", false);
	pt_ctl_name_set(m.module, "gain", false);
	return m;
}

static struct pt_ctl_bind valid_bind(void)
{
	return (struct pt_ctl_bind){ .src = 1, .src_pin = 0, .dst = 2, .dst_pin = 1,
				     .rate = 48000, .channels = 2,
				     .sample = PT_SAMPLE_S32_LE, .periods = 2 };
}

static void test_layouts_match_structs(void **state)
{
	(void)state;
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_CREATE_PIPELINE, false)),
			 sizeof(struct pt_ctl_create_pipeline));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_DELETE_PIPELINE, false)),
			 sizeof(struct pt_ctl_delete_pipeline));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_INIT_INSTANCE, false)),
			 sizeof(struct pt_ctl_init_instance));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_DELETE_INSTANCE, false)),
			 sizeof(struct pt_ctl_delete_instance));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_BIND, false)),
			 sizeof(struct pt_ctl_bind));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_UNBIND, false)),
			 sizeof(struct pt_ctl_unbind));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_SET_PIPELINE_STATE, false)),
			 sizeof(struct pt_ctl_set_pipeline_state));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_LARGE_CONFIG_SET, false)),
			 sizeof(struct pt_ctl_config_set));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_LARGE_CONFIG_GET, false)),
			 sizeof(struct pt_ctl_config_get));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_LARGE_CONFIG_GET, true)),
			 sizeof(struct pt_ctl_config_get_reply));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_LOAD_LIBRARY, false)),
			 sizeof(struct pt_ctl_load_library));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_LOAD_LIBRARY, true)),
			 sizeof(struct pt_ctl_library_reply));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_GET_STATS, false)),
			 sizeof(struct pt_ctl_get_stats));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_GET_STATS, true)),
			 sizeof(struct pt_ctl_stats_reply));
	assert_int_equal(pt_ctl_layout_size(PT_CTL_LAYOUT_INSTANCE_STATS),
			 sizeof(struct pt_ctl_instance_stats));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_LOOKUP, false)),
			 sizeof(struct pt_ctl_lookup));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_CREATE_PIPELINE, true)),
			 sizeof(struct pt_ctl_id_reply));
	assert_int_equal(pt_ctl_layout_size(pt_ctl_layout(PT_CTL_NOTIFY_FAULT, true)),
			 sizeof(struct pt_ctl_notify));
}

static void test_wire_is_little_endian(void **state)
{
	struct pt_ctl_bind b = valid_bind();
	size_t n;

	(void)state;
	b.rate = 0x0102bb80; /* byte pattern check only; out of range on purpose */
	n = enc(PT_CTL_BIND, &b, NULL, 0, NULL, 0);
	assert_int_equal(n, 16 + 32);
	/* header: type 5, flags 0, size 48, seq 7 */
	assert_int_equal(msg[0], 5);
	assert_int_equal(msg[1], 0);
	assert_int_equal(msg[4], 48);
	assert_int_equal(msg[8], 7);
	/* rate at body offset 16 */
	assert_int_equal(msg[16 + 16], 0x80);
	assert_int_equal(msg[16 + 19], 0x01);
}

static void test_round_trip_every_type(void **state)
{
	struct pt_ctl_request req;
	struct pt_ctl_create_pipeline cp = { .pipeline = 4 };
	struct pt_ctl_init_instance in = valid_init();
	struct pt_ctl_bind b = valid_bind();
	struct pt_ctl_config_set cs = { .instance = 3, .param = 0, .total_size = 9,
					.offset = 0, .size = 9 };
	struct pt_ctl_load_library ll = { .path_len = 12 };
	const char *init = "freq=440 amplitude_db=-6";
	size_t n;

	(void)state;
	pt_ctl_name_set(cp.name, "main", false);
	n = enc(PT_CTL_CREATE_PIPELINE, &cp, NULL, 0, NULL, 0);
	assert_int_equal(pt_ctl_decode(msg, n, &req, err, sizeof(err)), PT_CTL_OK);
	assert_int_equal(req.hdr.seq, 7);
	assert_int_equal(req.u.create_pipeline.pipeline, 4);
	assert_string_equal(req.u.create_pipeline.name, "main");

	in.init_size = (uint32_t)strlen(init);
	n = enc(PT_CTL_INIT_INSTANCE, &in, init, strlen(init), NULL, 0);
	assert_int_equal(pt_ctl_decode(msg, n, &req, err, sizeof(err)), PT_CTL_OK);
	assert_int_equal(req.u.init_instance.heap_size, 65536);
	assert_int_equal(req.data_size, strlen(init));
	assert_memory_equal(req.data, init, strlen(init));

	/* a library path instead of a module name */
	memset(in.module, 0, sizeof(in.module));
	in.library_len = 14;
	n = enc(PT_CTL_INIT_INSTANCE, &in, "/lib/pt_x.so.1", 14, init, strlen(init));
	assert_int_equal(pt_ctl_decode(msg, n, &req, err, sizeof(err)), PT_CTL_OK);
	assert_string_equal(req.path, "/lib/pt_x.so.1");
	assert_memory_equal(req.data, init, strlen(init));

	n = enc(PT_CTL_BIND, &b, NULL, 0, NULL, 0);
	assert_int_equal(pt_ctl_decode(msg, n, &req, err, sizeof(err)), PT_CTL_OK);
	assert_int_equal(req.u.bind.dst_pin, 1);
	assert_int_equal(req.u.bind.channels, 2);

	n = enc(PT_CTL_LARGE_CONFIG_SET, &cs, "gain_db=3", 9, NULL, 0);
	assert_int_equal(pt_ctl_decode(msg, n, &req, err, sizeof(err)), PT_CTL_OK);
	assert_memory_equal(req.data, "gain_db=3", 9);

	n = enc(PT_CTL_LOAD_LIBRARY, &ll, "/tmp/pt_x.so", 12, NULL, 0);
	assert_int_equal(pt_ctl_decode(msg, n, &req, err, sizeof(err)), PT_CTL_OK);
	assert_string_equal(req.path, "/tmp/pt_x.so");
}

static void test_header_errors(void **state)
{
	struct pt_ctl_delete_pipeline dp = { .pipeline = 1 };
	size_t n;

	(void)state;
	n = enc(PT_CTL_DELETE_PIPELINE, &dp, NULL, 0, NULL, 0);
	expect(0, PT_CTL_E_TRUNCATED, "header");
	expect(15, PT_CTL_E_TRUNCATED, "header");
	expect(n - 1, PT_CTL_E_TRUNCATED, "header.size");
	expect(n + 1, PT_CTL_E_OVERSIZED, "header.size");
	expect(PT_CTL_MSG_MAX + 1, PT_CTL_E_OVERSIZED, "header");

	msg[2] = PT_CTL_FLAG_REPLY;
	expect(n, PT_CTL_E_BAD_HEADER, "header.flags");
	msg[2] = 0;
	msg[12] = 1;
	expect(n, PT_CTL_E_BAD_HEADER, "header.status");
	msg[12] = 0;
	msg[0] = 0;
	expect(n, PT_CTL_E_UNKNOWN_TYPE, "header.type");
	msg[0] = 99;
	expect(n, PT_CTL_E_UNKNOWN_TYPE, "header.type");
	msg[0] = PT_CTL_NOTIFY_FAULT & 0xff;
	msg[1] = PT_CTL_NOTIFY_FAULT >> 8;
	expect(n, PT_CTL_E_UNKNOWN_TYPE, "header.type");
}

/* Every fixed-size type refuses a body one byte short and one byte long. */
static void test_body_sizes(void **state)
{
	static const unsigned fixed[] = {
		PT_CTL_CREATE_PIPELINE, PT_CTL_DELETE_PIPELINE, PT_CTL_DELETE_INSTANCE,
		PT_CTL_BIND, PT_CTL_UNBIND, PT_CTL_SET_PIPELINE_STATE,
		PT_CTL_LARGE_CONFIG_GET, PT_CTL_GET_STATS, PT_CTL_LOOKUP,
	};
	static const unsigned variable[] = {
		PT_CTL_INIT_INSTANCE, PT_CTL_LARGE_CONFIG_SET, PT_CTL_LOAD_LIBRARY,
	};
	uint8_t body[512] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		size_t bs = pt_ctl_layout_size(pt_ctl_layout(fixed[i], false));
		size_t n;

		n = enc(fixed[i], body, NULL, 0, NULL, 0);
		/* shrink: rewrite header.size too, so only the body is short */
		uint32_t sz = htole32((uint32_t)(n - 1));
		memcpy(msg + 4, &sz, 4);
		expect(n - 1, PT_CTL_E_TRUNCATED, pt_ctl_type_name(fixed[i]));
		n = enc(fixed[i], body, "x", 1, NULL, 0);
		expect(n, PT_CTL_E_OVERSIZED, pt_ctl_type_name(fixed[i]));
		assert_int_equal(n, 16 + bs + 1);
	}
	for (size_t i = 0; i < sizeof(variable) / sizeof(variable[0]); i++) {
		size_t n = enc(variable[i], body, NULL, 0, NULL, 0);
		uint32_t sz = htole32((uint32_t)(n - 1));

		memcpy(msg + 4, &sz, 4);
		expect(n - 1, PT_CTL_E_TRUNCATED, pt_ctl_type_name(variable[i]));
	}
}

static void test_names(void **state)
{
	struct pt_ctl_create_pipeline cp = { .pipeline = 1 };
	size_t n;

	(void)state;
	n = enc(PT_CTL_CREATE_PIPELINE, &cp, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "create_pipeline.name: empty");
	memset(cp.name, 'a', sizeof(cp.name));
	n = enc(PT_CTL_CREATE_PIPELINE, &cp, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "create_pipeline.name: not NUL-terminated");
	memset(cp.name, 0, sizeof(cp.name));
	strcpy(cp.name, "a b");
	n = enc(PT_CTL_CREATE_PIPELINE, &cp, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "create_pipeline.name: byte 0x20");
	memset(cp.name, 0, sizeof(cp.name));
	strcpy(cp.name, "ab");
	cp.name[5] = 'z';
	n = enc(PT_CTL_CREATE_PIPELINE, &cp, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "after the terminating NUL");
	cp.name[5] = 0;
	cp.reserved = 1;
	n = enc(PT_CTL_CREATE_PIPELINE, &cp, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "create_pipeline.reserved");
	assert_false(pt_ctl_name_valid(""));
	assert_true(pt_ctl_name_valid("gain_1.left-x"));
	assert_int_equal(pt_ctl_name_set(cp.name, "0123456789012345678901234567890", false), 0);
	assert_int_equal(pt_ctl_name_set(cp.name, "01234567890123456789012345678901", false),
			 -EINVAL);
}

static void init_case(void (*mutate)(struct pt_ctl_init_instance *),
		      enum pt_ctl_status want, const char *field)
{
	struct pt_ctl_init_instance m = valid_init();
	size_t n;

	mutate(&m);
	n = enc(PT_CTL_INIT_INSTANCE, &m, NULL, 0, NULL, 0);
	expect(n, want, field);
}

static void m_pipeline(struct pt_ctl_init_instance *m) { m->pipeline = 0; }
static void m_name(struct pt_ctl_init_instance *m) { m->name[0] = 0; }
static void m_module(struct pt_ctl_init_instance *m) { m->module[1] = '/'; }
static void m_nomodule(struct pt_ctl_init_instance *m) { memset(m->module, 0, PT_NAME_MAX); }
static void m_domain(struct pt_ctl_init_instance *m) { memset(m->domain, 'd', PT_NAME_MAX); }
static void m_heap_lo(struct pt_ctl_init_instance *m) { m->heap_size = 100; }
static void m_heap_hi(struct pt_ctl_init_instance *m) { m->heap_size = PT_CTL_HEAP_MAX + 1; }
static void m_stack_lo(struct pt_ctl_init_instance *m) { m->stack_size = 4096; }
static void m_stack_hi(struct pt_ctl_init_instance *m) { m->stack_size = UINT32_MAX; }
static void m_deadline(struct pt_ctl_init_instance *m) { m->deadline_us = PT_CTL_DEADLINE_MAX + 1; }
static void m_misses(struct pt_ctl_init_instance *m) { m->max_misses = PT_CTL_MISSES_MAX + 1; }
static void m_rlimit(struct pt_ctl_init_instance *m) { m->restart_limit = PT_CTL_RESTART_MAX + 1; }
static void m_iso(struct pt_ctl_init_instance *m) { m->isolation = 3; }
static void m_sched(struct pt_ctl_init_instance *m) { m->sched = 3; }
static void m_restart(struct pt_ctl_init_instance *m) { m->restart = 2; }
static void m_fault(struct pt_ctl_init_instance *m) { m->on_fault = 2; }
static void m_reserved(struct pt_ctl_init_instance *m) { m->flags = 2; }
static void m_hang(struct pt_ctl_init_instance *m) { m->hang_ms = PT_CTL_HANG_MAX + 1; }
static void m_progress(struct pt_ctl_init_instance *m) { m->progress_periods = 1; }
static void m_progress_hi(struct pt_ctl_init_instance *m) { m->progress_periods = PT_CTL_PROGRESS_MAX + 1; }
static void m_liblen(struct pt_ctl_init_instance *m) { m->library_len = PT_CTL_PATH_MAX + 1; }
static void m_initsz(struct pt_ctl_init_instance *m) { m->init_size = PT_CTL_INIT_MAX + 1; }
static void m_tail(struct pt_ctl_init_instance *m) { m->init_size = 10; }

static void test_init_instance_fields(void **state)
{
	(void)state;
	init_case(m_pipeline, PT_CTL_E_BAD_FIELD, "init_instance.pipeline");
	init_case(m_name, PT_CTL_E_BAD_FIELD, "init_instance.name");
	init_case(m_module, PT_CTL_E_BAD_FIELD, "init_instance.module");
	init_case(m_nomodule, PT_CTL_E_BAD_FIELD, "init_instance.module: neither");
	init_case(m_domain, PT_CTL_E_BAD_FIELD, "init_instance.domain");
	init_case(m_heap_lo, PT_CTL_E_BAD_FIELD, "init_instance.heap_size");
	init_case(m_heap_hi, PT_CTL_E_BAD_FIELD, "init_instance.heap_size");
	init_case(m_stack_lo, PT_CTL_E_BAD_FIELD, "init_instance.stack_size");
	init_case(m_stack_hi, PT_CTL_E_BAD_FIELD, "init_instance.stack_size");
	init_case(m_deadline, PT_CTL_E_BAD_FIELD, "init_instance.deadline_us");
	init_case(m_misses, PT_CTL_E_BAD_FIELD, "init_instance.max_misses");
	init_case(m_rlimit, PT_CTL_E_BAD_FIELD, "init_instance.restart_limit");
	init_case(m_iso, PT_CTL_E_BAD_FIELD, "init_instance.isolation");
	init_case(m_sched, PT_CTL_E_BAD_FIELD, "init_instance.sched");
	init_case(m_restart, PT_CTL_E_BAD_FIELD, "init_instance.restart");
	init_case(m_fault, PT_CTL_E_BAD_FIELD, "init_instance.on_fault");
	init_case(m_reserved, PT_CTL_E_BAD_FIELD, "init_instance.flags: reserved bits 0x2");
	init_case(m_hang, PT_CTL_E_BAD_FIELD, "init_instance.hang_ms");
	init_case(m_progress, PT_CTL_E_BAD_FIELD, "init_instance.progress_periods");
	init_case(m_progress_hi, PT_CTL_E_BAD_FIELD, "init_instance.progress_periods");
	init_case(m_liblen, PT_CTL_E_OVERSIZED, "init_instance.library_len");
	init_case(m_initsz, PT_CTL_E_OVERSIZED, "init_instance.init_size");
	init_case(m_tail, PT_CTL_E_TRUNCATED, "init_instance.library_len + init_size");
}

static void test_init_instance_tails(void **state)
{
	struct pt_ctl_init_instance m = valid_init();
	size_t n;

	(void)state;
	/* more bytes than announced */
	m.init_size = 3;
	n = enc(PT_CTL_INIT_INSTANCE, &m, "a=1b", 4, NULL, 0);
	expect(n, PT_CTL_E_OVERSIZED, "init_instance.library_len + init_size");
	/* module and library both */
	m.init_size = 0;
	m.library_len = 5;
	n = enc(PT_CTL_INIT_INSTANCE, &m, "/a.so", 5, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "init_instance.module: given together");
	/* a NUL inside the path */
	memset(m.module, 0, PT_NAME_MAX);
	n = enc(PT_CTL_INIT_INSTANCE, &m, "/a\0so", 5, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "init_instance.library: contains a NUL");
	/* the largest init blob fits */
	static char big[PT_CTL_INIT_MAX];
	memset(big, 'x', sizeof(big));
	m.library_len = 0;
	pt_ctl_name_set(m.module, "gain", false);
	m.init_size = sizeof(big);
	n = enc(PT_CTL_INIT_INSTANCE, &m, big, sizeof(big), NULL, 0);
	expect(n, PT_CTL_OK, NULL);
}

static void bind_case(void (*mutate)(struct pt_ctl_bind *), const char *field)
{
	struct pt_ctl_bind b = valid_bind();
	size_t n;

	mutate(&b);
	n = enc(PT_CTL_BIND, &b, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, field);
}

static void b_src(struct pt_ctl_bind *b) { b->src = 0; }
static void b_src_pin(struct pt_ctl_bind *b) { b->src_pin = PT_MAX_PINS; }
static void b_dst(struct pt_ctl_bind *b) { b->dst = 0; }
static void b_dst_pin(struct pt_ctl_bind *b) { b->dst_pin = UINT32_MAX; }
static void b_self(struct pt_ctl_bind *b) { b->dst = b->src; }
static void b_rate_lo(struct pt_ctl_bind *b) { b->rate = PT_RATE_MIN - 1; }
static void b_rate_hi(struct pt_ctl_bind *b) { b->rate = PT_RATE_MAX + 1; }
static void b_ch_lo(struct pt_ctl_bind *b) { b->channels = 0; }
static void b_ch_hi(struct pt_ctl_bind *b) { b->channels = PT_CHANNELS_MAX + 1; }
static void b_sample0(struct pt_ctl_bind *b) { b->sample = 0; }
static void b_sample9(struct pt_ctl_bind *b) { b->sample = 9; }
static void b_periods(struct pt_ctl_bind *b) { b->periods = PT_CTL_PERIODS_MAX + 1; }
static void b_reserved(struct pt_ctl_bind *b) { b->open = 5; }

static void test_bind_fields(void **state)
{
	struct pt_ctl_unbind u = { 1, 0, 2, 0 };
	size_t n;

	(void)state;
	bind_case(b_src, "bind.src");
	bind_case(b_src_pin, "bind.src_pin");
	bind_case(b_dst, "bind.dst");
	bind_case(b_dst_pin, "bind.dst_pin");
	bind_case(b_self, "bind.dst: instance 1 bound to itself");
	bind_case(b_rate_lo, "bind.rate");
	bind_case(b_rate_hi, "bind.rate");
	bind_case(b_ch_lo, "bind.channels");
	bind_case(b_ch_hi, "bind.channels");
	bind_case(b_sample0, "bind.sample");
	bind_case(b_sample9, "bind.sample");
	bind_case(b_periods, "bind.periods");
	bind_case(b_reserved, "bind.open: unknown bits 0x4");

	u.src = 0;
	n = enc(PT_CTL_UNBIND, &u, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "unbind.src");
	u.src = 1;
	u.src_pin = 8;
	n = enc(PT_CTL_UNBIND, &u, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "unbind.src_pin");
	u.src_pin = 0;
	u.dst = 0;
	n = enc(PT_CTL_UNBIND, &u, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "unbind.dst");
	u.dst = 2;
	u.dst_pin = 100;
	n = enc(PT_CTL_UNBIND, &u, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "unbind.dst_pin");
}

static void test_small_types(void **state)
{
	struct pt_ctl_delete_pipeline dp = { 0 };
	struct pt_ctl_delete_instance di = { 0 };
	struct pt_ctl_set_pipeline_state ss = { .pipeline = 1, .state = 3 };
	struct pt_ctl_get_stats gs = { 0, 1 };
	struct pt_ctl_lookup lk = { .kind = 2 };
	size_t n;

	(void)state;
	n = enc(PT_CTL_DELETE_PIPELINE, &dp, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "delete_pipeline.pipeline");
	dp.pipeline = 1;
	dp.reserved = 1;
	n = enc(PT_CTL_DELETE_PIPELINE, &dp, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "delete_pipeline.reserved");
	n = enc(PT_CTL_DELETE_INSTANCE, &di, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "delete_instance.instance");
	di.instance = 1;
	di.reserved = 2;
	n = enc(PT_CTL_DELETE_INSTANCE, &di, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "delete_instance.reserved");
	n = enc(PT_CTL_SET_PIPELINE_STATE, &ss, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "set_pipeline_state.state");
	ss.state = 2;
	ss.pipeline = 0;
	n = enc(PT_CTL_SET_PIPELINE_STATE, &ss, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "set_pipeline_state.pipeline");
	n = enc(PT_CTL_GET_STATS, &gs, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "get_stats.reserved");
	n = enc(PT_CTL_LOOKUP, &lk, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "lookup.kind");
	lk.kind = PT_CTL_LOOKUP_INSTANCE;
	n = enc(PT_CTL_LOOKUP, &lk, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "lookup.name");
}

static void config_set_case(struct pt_ctl_config_set cs, size_t tail,
			    enum pt_ctl_status want, const char *field)
{
	static char data[PT_CTL_FRAGMENT_MAX + 2];
	size_t n = enc(PT_CTL_LARGE_CONFIG_SET, &cs, data, tail, NULL, 0);

	expect(n, want, field);
}

static void test_config_fields(void **state)
{
	struct pt_ctl_config_set ok = { .instance = 1, .total_size = 100, .offset = 0,
					.size = 10 };
	struct pt_ctl_config_set c;
	struct pt_ctl_config_get g = { .instance = 1, .max_size = 100 };
	size_t n;

	(void)state;
	config_set_case(ok, 10, PT_CTL_OK, NULL);
	c = ok, c.instance = 0;
	config_set_case(c, 10, PT_CTL_E_BAD_FIELD, "config_set.instance");
	c = ok, c.total_size = 0;
	config_set_case(c, 10, PT_CTL_E_BAD_FIELD, "config_set.total_size");
	c = ok, c.total_size = PT_CTL_CONFIG_MAX + 1;
	config_set_case(c, 10, PT_CTL_E_OVERSIZED, "config_set.total_size");
	c = ok, c.offset = 100;
	config_set_case(c, 10, PT_CTL_E_BAD_FIELD, "config_set.offset");
	c = ok, c.size = 0;
	config_set_case(c, 0, PT_CTL_E_BAD_FIELD, "config_set.size");
	c = ok, c.size = PT_CTL_FRAGMENT_MAX + 1, c.total_size = PT_CTL_CONFIG_MAX;
	config_set_case(c, PT_CTL_FRAGMENT_MAX + 1, PT_CTL_E_OVERSIZED, "config_set.size");
	c = ok, c.offset = 95;
	config_set_case(c, 10, PT_CTL_E_BAD_FIELD, "config_set.size: offset 95 + size 10");
	c = ok, c.reserved = 1;
	config_set_case(c, 10, PT_CTL_E_BAD_FIELD, "config_set.reserved");
	config_set_case(ok, 9, PT_CTL_E_TRUNCATED, "config_set.size");
	config_set_case(ok, 11, PT_CTL_E_OVERSIZED, "config_set.size");

	n = enc(PT_CTL_LARGE_CONFIG_GET, &g, NULL, 0, NULL, 0);
	expect(n, PT_CTL_OK, NULL);
	g.max_size = 0;
	n = enc(PT_CTL_LARGE_CONFIG_GET, &g, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "config_get.max_size");
	g.max_size = PT_CTL_FRAGMENT_MAX + 1;
	n = enc(PT_CTL_LARGE_CONFIG_GET, &g, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "config_get.max_size");
	g.max_size = 1;
	g.offset = PT_CTL_CONFIG_MAX;
	n = enc(PT_CTL_LARGE_CONFIG_GET, &g, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "config_get.offset");
	g.offset = 0;
	g.instance = 0;
	n = enc(PT_CTL_LARGE_CONFIG_GET, &g, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "config_get.instance");
}

static void test_load_library_fields(void **state)
{
	struct pt_ctl_load_library l = { .path_len = 0 };
	static char path[PT_CTL_PATH_MAX + 1];
	size_t n;

	(void)state;
	n = enc(PT_CTL_LOAD_LIBRARY, &l, NULL, 0, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "load_library.path_len");
	l.path_len = 6;
	n = enc(PT_CTL_LOAD_LIBRARY, &l, "x/a.so", 6, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "load_library.path: 'x/a.so' is not absolute");
	n = enc(PT_CTL_LOAD_LIBRARY, &l, "/a.so", 5, NULL, 0);
	expect(n, PT_CTL_E_TRUNCATED, "load_library.path_len");
	n = enc(PT_CTL_LOAD_LIBRARY, &l, "/a.so12", 7, NULL, 0);
	expect(n, PT_CTL_E_OVERSIZED, "load_library.path_len");
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	l.path_len = sizeof(path);
	n = enc(PT_CTL_LOAD_LIBRARY, &l, path, sizeof(path), NULL, 0);
	expect(n, PT_CTL_E_OVERSIZED, "load_library.path_len");
	l.path_len = 5;
	l.reserved = 1;
	n = enc(PT_CTL_LOAD_LIBRARY, &l, "/a.so", 5, NULL, 0);
	expect(n, PT_CTL_E_BAD_FIELD, "load_library.reserved");
}

static void test_replies(void **state)
{
	struct pt_ctl_reply rep;
	struct pt_ctl_id_reply id = { .id = 9 };
	size_t n;

	(void)state;
	n = pt_ctl_encode_error(msg, sizeof(msg), PT_CTL_BIND, 41,
				PT_CTL_E_UNKNOWN_ID, "bind.src: no instance 4");
	assert_int_equal(pt_ctl_decode_reply(msg, n, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.hdr.seq, 41);
	assert_int_equal(rep.hdr.status, PT_CTL_E_UNKNOWN_ID);
	assert_string_equal(rep.body, "bind.src: no instance 4");
	assert_int_equal(pt_ctl_decode_reply(msg, n - 1, &rep, err, sizeof(err)), -EPROTO);

	n = pt_ctl_encode(msg, sizeof(msg), PT_CTL_CREATE_PIPELINE, PT_CTL_FLAG_REPLY,
			  2, 0, &id, pt_ctl_layout(PT_CTL_CREATE_PIPELINE, true),
			  NULL, 0, NULL, 0);
	assert_int_equal(pt_ctl_decode_reply(msg, n, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep.body_size, sizeof(id));
	/* a reply body shorter than its type's */
	uint32_t sz = htole32((uint32_t)(n - 1));
	memcpy(msg + 4, &sz, 4);
	assert_int_equal(pt_ctl_decode_reply(msg, n - 1, &rep, err, sizeof(err)), -EPROTO);
	/* a request is not a reply */
	n = pt_ctl_encode(msg, sizeof(msg), PT_CTL_GET_STATS, 0, 2, 0, &id,
			  pt_ctl_layout(PT_CTL_GET_STATS, false), NULL, 0, NULL, 0);
	assert_int_equal(pt_ctl_decode_reply(msg, n, &rep, err, sizeof(err)), -EPROTO);
	/* nothing larger than the limit is encoded */
	static char big[PT_CTL_MSG_MAX];
	assert_int_equal(pt_ctl_encode(msg, sizeof(msg), PT_CTL_LOAD_LIBRARY, 0, 1, 0,
				       &id, "224", big, sizeof(big), NULL, 0), 0);
	assert_string_equal(pt_ctl_status_name(PT_CTL_E_SIGNATURE), "SIGNATURE");
	assert_string_equal(pt_ctl_status_name(99), "UNKNOWN");
	assert_string_equal(pt_ctl_type_name(PT_CTL_NOTIFY_RESTART), "NOTIFY_RESTART");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts_match_structs),
		cmocka_unit_test(test_wire_is_little_endian),
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_body_sizes),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_init_instance_fields),
		cmocka_unit_test(test_init_instance_tails),
		cmocka_unit_test(test_bind_fields),
		cmocka_unit_test(test_small_types),
		cmocka_unit_test(test_config_fields),
		cmocka_unit_test(test_load_library_fields),
		cmocka_unit_test(test_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
