/* SPDX-License-Identifier: MIT */
/*
 * pt_control_handle on a real graph: requests that refer to unknown ids,
 * arrive in the wrong order, or are malformed are refused with the field
 * named and leave the graph exactly as it was; good ones change it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/control/codec.h"
#include "host/control/control.h"
#include "host/graph/graph.h"
#include "host/topology/topology.h"

static struct pt_graph *g;
static uint8_t msg[PT_CTL_MSG_MAX + 16];
static uint8_t reply[PT_CTL_MSG_MAX];
static struct pt_ctl_reply rep;
static uint32_t seq;

static const char *test_lib(const char *name)
{
	static char path[512];
	const char *b = getenv("PARTITA_BUILD");

	snprintf(path, sizeof(path), "%s/tests/libs/pt_test_%s.so", b ? b : PT_TEST_BUILD,
		 name);
	return path;
}

/* What the graph holds, as text: instances with their bound pins. */
static void fingerprint(char *out, size_t room)
{
	struct pt_instance *inst;
	size_t n = 0;

	out[0] = 0;
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		n += (size_t)snprintf(out + n, room - n, "%u:%s:%u[", inst->id, inst->name,
				      inst->pipeline);
		for (int p = 0; p < PT_MAX_PINS; p++)
			n += (size_t)snprintf(out + n, room - n, "%c%c",
					      inst->in[p] ? 'i' : '-',
					      inst->out[p] ? 'o' : '-');
		n += (size_t)snprintf(out + n, room - n, "]");
	}
}

/* Sends raw bytes; returns the reply status. */
static unsigned send_raw(const void *m, size_t len)
{
	size_t rlen = sizeof(reply);
	char err[256];

	pt_control_handle(g, m, len, reply, &rlen);
	assert_true(rlen > 0);
	if (pt_ctl_decode_reply(reply, rlen, &rep, err, sizeof(err)))
		fail_msg("bad reply: %s", err);
	return rep.hdr.status;
}

static unsigned send_msg(unsigned type, const void *body, const void *t1,
			 size_t n1, const void *t2, size_t n2)
{
	size_t len = pt_ctl_encode(msg, sizeof(msg), type, 0, ++seq, 0, body,
				   pt_ctl_layout(type, false), t1, n1, t2, n2);
	unsigned st;

	assert_true(len > 0);
	st = send_raw(msg, len);
	assert_int_equal(rep.hdr.seq, seq);
	assert_int_equal(rep.hdr.type, type);
	return st;
}

/* Expects the request to be refused with @status, @text in the reply and
 * the graph unchanged. */
#define REFUSED(status, text, type, ...)                                       \
	do {                                                                   \
		char before_[8192], after_[8192];                              \
		unsigned st_;                                                  \
		fingerprint(before_, sizeof(before_));                         \
		st_ = send_msg(type, __VA_ARGS__);                             \
		fingerprint(after_, sizeof(after_));                           \
		if (st_ != (status) || !strstr((const char *)rep.body, text))  \
			fail_msg("line %d: want %s '%s', got %s: %s", __LINE__, \
				 pt_ctl_status_name(status), text,             \
				 pt_ctl_status_name(st_),                      \
				 st_ ? (const char *)rep.body : "");           \
		assert_string_equal(before_, after_);                          \
	} while (0)

#define DONE(type, ...)                                                        \
	do {                                                                   \
		unsigned st_ = send_msg(type, __VA_ARGS__);                    \
		if (st_ != PT_CTL_OK)                                          \
			fail_msg("line %d: %s refused (%s): %s", __LINE__,     \
				 pt_ctl_type_name(type), pt_ctl_status_name(st_), \
				 (const char *)rep.body);                      \
	} while (0)

static uint32_t reply_id(void)
{
	struct pt_ctl_id_reply r;

	memcpy(&r, rep.body, sizeof(r));
	pt_ctl_swap(&r, "44");
	return r.id;
}

static struct pt_ctl_init_instance init_msg(const char *name, const char *module,
					    uint32_t pipeline)
{
	struct pt_ctl_init_instance m = { .pipeline = pipeline };

	pt_ctl_name_set(m.name, name, false);
	pt_ctl_name_set(m.module, module, true);
	return m;
}

static int setup(void **state)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000 };
	char err[PT_ERR_MAX];

	(void)state;
	g = pt_graph_new(&cfg, err, sizeof(err));
	if (!g)
		fprintf(stderr, "pt_graph_new: %s\n", err);
	return g ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	pt_control_forget(g);
	pt_graph_free(g);
	return 0;
}

static void test_build_and_refuse(void **state)
{
	struct pt_ctl_create_pipeline cp = { 0 };
	struct pt_ctl_init_instance in;
	struct pt_ctl_bind b = { .src = 1, .src_pin = 0, .dst = 2, .dst_pin = 0,
				 .rate = 48000, .channels = 2,
				 .sample = PT_SAMPLE_S32_LE };
	struct pt_ctl_unbind ub = { 1, 0, 2, 0 };
	struct pt_ctl_lookup lk = { .kind = PT_CTL_LOOKUP_PIPELINE };
	struct pt_ctl_delete_instance di = { .instance = 42 };
	struct pt_ctl_delete_pipeline dp = { .pipeline = 9 };
	struct pt_ctl_set_pipeline_state ss = { .pipeline = 9, .state = PT_CTL_STATE_RUNNING };
	const char *p = "freq=440\namplitude_db=-6";

	(void)state;
	pt_ctl_name_set(cp.name, "main", false);
	DONE(PT_CTL_CREATE_PIPELINE, &cp, NULL, 0, NULL, 0);
	assert_int_equal(reply_id(), 1);
	REFUSED(PT_CTL_E_EXISTS, "create_pipeline.name", PT_CTL_CREATE_PIPELINE, &cp, NULL, 0, NULL, 0);
	pt_ctl_name_set(cp.name, "other", false);
	cp.pipeline = 1;
	REFUSED(PT_CTL_E_EXISTS, "create_pipeline.pipeline: id 1", PT_CTL_CREATE_PIPELINE,
		&cp, NULL, 0, NULL, 0);

	/* unknown pipeline, unknown module, not a library */
	in = init_msg("tone1", "tone", 9);
	REFUSED(PT_CTL_E_UNKNOWN_ID, "init_instance", PT_CTL_INIT_INSTANCE, &in, NULL, 0, NULL, 0);
	in = init_msg("x", "nosuchmodule", 1);
	REFUSED(PT_CTL_E_UNKNOWN_ID, "nosuchmodule", PT_CTL_INIT_INSTANCE, &in, NULL, 0, NULL, 0);
	in = init_msg("x", "", 1);
	in.library_len = (uint16_t)strlen(test_lib("nomanifest"));
	REFUSED(PT_CTL_E_LIBRARY, "init_instance.library", PT_CTL_INIT_INSTANCE, &in,
		test_lib("nomanifest"), in.library_len, NULL, 0);
	in.library_len = (uint16_t)strlen(test_lib("wrongabi"));
	REFUSED(PT_CTL_E_LIBRARY, "ABI version 99, this host speaks ABI versions 1 to 2",
		PT_CTL_INIT_INSTANCE, &in, test_lib("wrongabi"), in.library_len, NULL, 0);

	/* bind before the instances exist: the wrong order */
	REFUSED(PT_CTL_E_UNKNOWN_ID, "bind.src: no instance 1", PT_CTL_BIND, &b, NULL, 0, NULL, 0);

	in = init_msg("tone1", "tone", 1);
	in.init_size = (uint32_t)strlen(p);
	DONE(PT_CTL_INIT_INSTANCE, &in, p, strlen(p), NULL, 0);
	assert_int_equal(reply_id(), 1);
	REFUSED(PT_CTL_E_EXISTS, "init_instance.name", PT_CTL_INIT_INSTANCE, &in, p, strlen(p), NULL, 0);
	REFUSED(PT_CTL_E_UNKNOWN_ID, "bind.dst: no instance 2", PT_CTL_BIND, &b, NULL, 0, NULL, 0);
	in = init_msg("gain1", "gain", 1);
	in.instance = 1;
	REFUSED(PT_CTL_E_EXISTS, "init_instance.instance: id 1", PT_CTL_INIT_INSTANCE, &in,
		NULL, 0, NULL, 0);
	in.instance = 0;
	in.init_size = 9;
	DONE(PT_CTL_INIT_INSTANCE, &in, "gain_db=0", 9, NULL, 0);
	assert_int_equal(reply_id(), 2);

	/* a pin the module does not have */
	b.dst_pin = 5;
	REFUSED(pt_ctl_errno_status(-EINVAL), "", PT_CTL_BIND, &b, NULL, 0, NULL, 0);
	b.dst_pin = 0;
	REFUSED(pt_ctl_errno_status(-ENOENT), "", PT_CTL_UNBIND, &ub, NULL, 0, NULL, 0);
	DONE(PT_CTL_BIND, &b, NULL, 0, NULL, 0);
	/* the same pins again */
	{
		char before[8192], after[8192];

		fingerprint(before, sizeof(before));
		assert_int_not_equal(send_msg(PT_CTL_BIND, &b, NULL, 0, NULL, 0), PT_CTL_OK);
		fingerprint(after, sizeof(after));
		assert_string_equal(before, after);
	}
	DONE(PT_CTL_UNBIND, &ub, NULL, 0, NULL, 0);
	DONE(PT_CTL_BIND, &b, NULL, 0, NULL, 0);

	pt_ctl_name_set(lk.name, "main", false);
	DONE(PT_CTL_LOOKUP, &lk, NULL, 0, NULL, 0);
	assert_int_equal(reply_id(), 1);
	lk.kind = PT_CTL_LOOKUP_INSTANCE;
	pt_ctl_name_set(lk.name, "gain1", false);
	DONE(PT_CTL_LOOKUP, &lk, NULL, 0, NULL, 0);
	assert_int_equal(reply_id(), 2);
	pt_ctl_name_set(lk.name, "gain9", false);
	REFUSED(PT_CTL_E_UNKNOWN_ID, "no instance named 'gain9'", PT_CTL_LOOKUP, &lk, NULL, 0, NULL, 0);

	REFUSED(PT_CTL_E_UNKNOWN_ID, "delete_instance.instance: no instance 42",
		PT_CTL_DELETE_INSTANCE, &di, NULL, 0, NULL, 0);
	REFUSED(PT_CTL_E_UNKNOWN_ID, "", PT_CTL_DELETE_PIPELINE, &dp, NULL, 0, NULL, 0);
	REFUSED(PT_CTL_E_UNKNOWN_ID, "", PT_CTL_SET_PIPELINE_STATE, &ss, NULL, 0, NULL, 0);
	/* a pipeline that still holds instances is not deleted */
	dp.pipeline = 1;
	{
		char before[8192], after[8192];

		fingerprint(before, sizeof(before));
		assert_int_not_equal(send_msg(PT_CTL_DELETE_PIPELINE, &dp, NULL, 0, NULL, 0),
				     PT_CTL_OK);
		fingerprint(after, sizeof(after));
		assert_string_equal(before, after);
	}
}

static void test_config_fragments(void **state)
{
	struct pt_ctl_config_set cs = { .instance = 2, .param = PT_PARAM_TEXT,
					.total_size = 20, .offset = 10, .size = 10 };
	struct pt_ctl_config_get cg = { .instance = 2, .param = PT_PARAM_TEXT,
					.max_size = 4096 };
	struct pt_ctl_config_get_reply gr;
	const char *blob = "gain_db=-6\nramp_ms=0";

	(void)state;
	/* a later fragment without the first */
	REFUSED(PT_CTL_E_SEQUENCE, "config_set.offset: 10, but no blob was started",
		PT_CTL_LARGE_CONFIG_SET, &cs, blob + 10, 10, NULL, 0);
	cs.offset = 0;
	DONE(PT_CTL_LARGE_CONFIG_SET, &cs, blob, 10, NULL, 0);
	/* skipping ahead */
	cs.offset = 15;
	cs.size = 5;
	REFUSED(PT_CTL_E_SEQUENCE, "the next fragment starts at 10", PT_CTL_LARGE_CONFIG_SET,
		&cs, blob + 15, 5, NULL, 0);
	/* another instance's fragment in the middle */
	cs.instance = 1;
	cs.offset = 10;
	cs.size = 10;
	REFUSED(PT_CTL_E_SEQUENCE, "is unfinished", PT_CTL_LARGE_CONFIG_SET, &cs,
		blob + 10, 10, NULL, 0);
	cs.instance = 99;
	REFUSED(PT_CTL_E_UNKNOWN_ID, "config_set.instance: no instance 99",
		PT_CTL_LARGE_CONFIG_SET, &cs, blob + 10, 10, NULL, 0);
	cs.instance = 2;
	DONE(PT_CTL_LARGE_CONFIG_SET, &cs, blob + 10, 10, NULL, 0);
	/* finished: a further fragment has nothing to continue */
	REFUSED(PT_CTL_E_SEQUENCE, "no blob was started", PT_CTL_LARGE_CONFIG_SET, &cs,
		blob + 10, 10, NULL, 0);

	DONE(PT_CTL_LARGE_CONFIG_GET, &cg, NULL, 0, NULL, 0);
	memcpy(&gr, rep.body, sizeof(gr));
	pt_ctl_swap(&gr, "4444");
	assert_true(gr.size > 0 && gr.size == gr.total_size);
	assert_non_null(memmem((const uint8_t *)rep.body + sizeof(gr), gr.size, "gain_db", 7));
	cg.instance = 77;
	REFUSED(PT_CTL_E_UNKNOWN_ID, "config_get.instance", PT_CTL_LARGE_CONFIG_GET, &cg,
		NULL, 0, NULL, 0);
}

static void test_stats_and_libraries(void **state)
{
	struct pt_ctl_get_stats gs = { 0 };
	struct pt_ctl_stats_reply sr;
	struct pt_ctl_load_library ll = { 0 };
	struct pt_ctl_library_reply lr;
	struct pt_library_policy strict = { .require_signed = true };
	const char *lib;

	(void)state;
	DONE(PT_CTL_GET_STATS, &gs, NULL, 0, NULL, 0);
	memcpy(&sr, rep.body, sizeof(sr));
	pt_ctl_swap(&sr, "4488");
	assert_int_equal(sr.count, 2);
	assert_int_equal(rep.body_size, sizeof(sr) + 2 * sizeof(struct pt_ctl_instance_stats));
	assert_true(sr.budget_total > 0);
	gs.instance = 5;
	REFUSED(PT_CTL_E_UNKNOWN_ID, "get_stats.instance", PT_CTL_GET_STATS, &gs, NULL, 0, NULL, 0);

	lib = test_lib("good");
	ll.path_len = (uint16_t)strlen(lib);
	DONE(PT_CTL_LOAD_LIBRARY, &ll, lib, ll.path_len, NULL, 0);
	memcpy(&lr, rep.body, sizeof(lr));
	pt_ctl_swap(&lr, pt_ctl_layout(PT_CTL_LOAD_LIBRARY, true));
	assert_string_equal(lr.name, "testgood");
	assert_int_equal(lr.signature, PT_CTL_SIG_NONE);
	DONE(PT_CTL_LOAD_LIBRARY, &ll, lib, ll.path_len, NULL, 0);
	lib = test_lib("wrongabi");
	ll.path_len = (uint16_t)strlen(lib);
	REFUSED(PT_CTL_E_LIBRARY, "ABI version 99", PT_CTL_LOAD_LIBRARY, &ll, lib,
		ll.path_len, NULL, 0);
	lib = test_lib("good");
	ll.path_len = (uint16_t)strlen(lib);
	assert_int_equal(pt_control_set_policy(g, &strict), 0);
	REFUSED(PT_CTL_E_SIGNATURE, "signatures by a trusted key are required",
		PT_CTL_LOAD_LIBRARY, &ll, lib, ll.path_len, NULL, 0);
	strict.require_signed = false;
	assert_int_equal(pt_control_set_policy(g, &strict), 0);
}

static void test_malformed_changes_nothing(void **state)
{
	char before[8192], after[8192];
	uint8_t junk[64];
	size_t len;
	struct pt_ctl_bind b = { 1, 0, 2, 0, 48000, 2, PT_SAMPLE_S32_LE, 2, 0 };

	(void)state;
	fingerprint(before, sizeof(before));
	assert_int_equal(send_raw("abc", 3), PT_CTL_E_TRUNCATED);
	memset(junk, 0xff, sizeof(junk));
	assert_int_not_equal(send_raw(junk, sizeof(junk)), PT_CTL_OK);
	len = pt_ctl_encode(msg, sizeof(msg), PT_CTL_BIND, 0, 5, 0, &b,
			    pt_ctl_layout(PT_CTL_BIND, false), NULL, 0, NULL, 0);
	assert_int_equal(send_raw(msg, len - 4), PT_CTL_E_TRUNCATED);
	assert_int_equal(rep.hdr.seq, 5); /* the reply still names the request */
	msg[16] = 0; /* src = 0 */
	assert_int_equal(send_raw(msg, len), PT_CTL_E_BAD_FIELD);
	assert_non_null(strstr(rep.body, "bind.src"));
	fingerprint(after, sizeof(after));
	assert_string_equal(before, after);
}

static void test_topology_apply_errors(void **state)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000 };
	struct pt_graph *fresh;
	struct pt_topology t;
	char err[1024];
	const char *y = "pipelines:\n"
			"  - name: second\n"
			"    instances:\n"
			"      - {name: t2, module: tone}\n"
			"      - {name: t3, module: nosuchmodule}\n";

	(void)state;
	fresh = pt_graph_new(&cfg, err, sizeof(err));
	assert_non_null(fresh);
	assert_int_equal(pt_topology_parse(y, strlen(y), "/x/t.yaml", &t, err, sizeof(err)), 0);
	assert_int_not_equal(pt_topology_apply(&t, fresh, err, sizeof(err)), 0);
	pt_control_forget(fresh);
	pt_graph_free(fresh);
	/* file, line, field and the host's words */
	if (!strstr(err, "/x/t.yaml:5: pipelines[0].instances[1] (t3): ") ||
	    !strstr(err, "nosuchmodule"))
		fail_msg("%s", err);
	pt_topology_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_and_refuse),
		cmocka_unit_test(test_config_fragments),
		cmocka_unit_test(test_stats_and_libraries),
		cmocka_unit_test(test_malformed_changes_nothing),
		cmocka_unit_test(test_topology_apply_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
