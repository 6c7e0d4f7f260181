/* SPDX-License-Identifier: MIT */
/* The topology loader: the shipped examples parse into the expected
 * messages, and malformed YAML and bad fields are refused with the file,
 * the line and the field named. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/control/codec.h"
#include "host/topology/topology.h"

static char err[1024];

static const char *source(const char *rel)
{
	static char path[512];
	const char *s = getenv("PARTITA_SOURCE");

	snprintf(path, sizeof(path), "%s/%s", s ? s : PT_TEST_SOURCE, rel);
	return path;
}

/* Decodes message @i of @t (it must pass the codec). */
static struct pt_ctl_request msg_at(const struct pt_topology *t, size_t i)
{
	struct pt_ctl_request req;

	assert_true(i < t->nmsgs);
	if (pt_ctl_decode(t->msgs[i].data, t->msgs[i].size, &req, err, sizeof(err)))
		fail_msg("message %zu (%s) refused by the codec: %s", i,
			 t->msgs[i].what, err);
	return req;
}

static void test_demo(void **state)
{
	struct pt_topology t;
	struct pt_ctl_request r;

	(void)state;
	if (pt_topology_load(source("topologies/demo.yaml"), &t, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(t.period_us, 1000);
	assert_int_equal(t.rate, 48000);
	assert_int_equal(t.user_heap_size, 64u << 20);
	assert_int_equal(t.npipelines, 1);
	assert_int_equal(t.ninstances, 4);
	/* create, 4 inits, 3 binds */
	assert_int_equal(t.nmsgs, 8);
	r = msg_at(&t, 0);
	assert_int_equal(r.hdr.type, PT_CTL_CREATE_PIPELINE);
	assert_int_equal(r.u.create_pipeline.pipeline, 1);
	assert_string_equal(r.u.create_pipeline.name, "main");
	r = msg_at(&t, 1);
	assert_int_equal(r.hdr.type, PT_CTL_INIT_INSTANCE);
	assert_int_equal(r.u.init_instance.instance, 1);
	assert_string_equal(r.u.init_instance.module, "tone");
	assert_int_equal(r.u.init_instance.sched, PT_CTL_SCHED_LL);
	assert_int_equal(r.data_size, strlen("wave=sweep\nstart=100\nend=8000\nseconds=5\nlog=1\namplitude_db=-12"));
	assert_memory_equal(r.data, "wave=sweep\nstart=100\nend=8000\nseconds=5\nlog=1\namplitude_db=-12",
			    r.data_size);
	r = msg_at(&t, 2);
	assert_int_equal(r.u.init_instance.instance, 2);
	assert_string_equal(r.u.init_instance.module, "");
	/* relative to the file's folder, made absolute */
	assert_true(r.path[0] == '/');
	assert_non_null(strstr(r.path, "build/modules/pt_eq_iir.so"));
	assert_null(strstr(r.path, "topologies/.."));
	assert_int_equal(r.u.init_instance.isolation, PT_CTL_ISOLATION_PROCESS);
	assert_int_equal(r.u.init_instance.heap_size, 65536);
	assert_int_equal(r.u.init_instance.restart, PT_CTL_RESTART_ON_FAILURE);
	assert_int_equal(r.u.init_instance.on_fault, PT_CTL_ON_FAULT_BYPASS);
	assert_memory_equal(r.data, "bands=peaking:1000:0.7:6", r.data_size);
	r = msg_at(&t, 5);
	assert_int_equal(r.hdr.type, PT_CTL_BIND);
	assert_int_equal(r.u.bind.src, 1);
	assert_int_equal(r.u.bind.dst, 2);
	assert_int_equal(r.u.bind.sample, PT_SAMPLE_S32_LE);
	assert_int_equal(r.u.bind.periods, 2);
	assert_int_equal(t.msgs[5].line, 37);
	assert_non_null(strstr(t.msgs[5].what, "tone1.0 -> eq1.0"));
	pt_topology_free(&t);
}

static void test_other_examples(void **state)
{
	struct pt_topology t;
	struct pt_ctl_request r;

	(void)state;
	if (pt_topology_load(source("topologies/fanin_mix.yaml"), &t, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(t.ninstances, 7);
	assert_int_equal(t.nmsgs, 1 + 7 + 6);
	for (size_t i = 0; i < t.nmsgs; i++)
		msg_at(&t, i);
	r = msg_at(&t, 11);
	assert_int_equal(r.u.bind.dst_pin, 1);
	assert_int_equal(r.u.bind.periods, 3);
	r = msg_at(&t, 13);
	assert_int_equal(r.u.bind.sample, PT_SAMPLE_S16_LE);
	pt_topology_free(&t);

	if (pt_topology_load(source("topologies/dp_chain.yaml"), &t, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(t.nmsgs, 1 + 4 + 3);
	for (size_t i = 0; i < t.nmsgs; i++)
		msg_at(&t, i);
	pt_topology_free(&t);
}

/* Parses @yaml and expects failure with @want in the error. */
static void bad(const char *yaml, const char *want)
{
	struct pt_topology t;
	int ret = pt_topology_parse(yaml, strlen(yaml), "/etc/t.yaml", &t, err,
				    sizeof(err));

	if (ret != -EINVAL || !strstr(err, want))
		fail_msg("want '%s', got %d: %s\n--- for:\n%s", want, ret, err, yaml);
	assert_int_equal(t.nmsgs, 0);
	assert_null(t.msgs);
}

#define HEAD "period_us: 1000\nrate: 48000\npipelines:\n  - name: p\n    instances:\n"

static void test_yaml_garbage(void **state)
{
	(void)state;
	bad("", "/etc/t.yaml:1: (top): empty document");
	bad("pipelines: [", "/etc/t.yaml:2: YAML syntax");
	bad("a: b: c\n", "/etc/t.yaml:1: YAML syntax");
	bad("\t- x\n", "YAML syntax");
	bad("- 1\n- 2\n", "/etc/t.yaml:1: : expected a mapping");
	bad("just a string\n", "expected a mapping");
	bad("period_us: 1000\n", "/etc/t.yaml:1: pipelines: missing or empty");
	bad("pipelines: []\n", "pipelines: missing or empty");
	bad("pipelines: {a: 1}\n", "/etc/t.yaml:1: pipelines: expected a list of pipelines");
	bad("colour: red\npipelines: []\n", "/etc/t.yaml:1: colour: unknown key");
	bad("rate: 48000\nrate: 44100\n", "/etc/t.yaml:2: rate: given twice");
	bad("period_us: fast\n", "period_us: 'fast' is not a whole number");
	bad("period_us: 10\n", "period_us: 10 is outside 100..1000000");
	bad("period_us: -5\n", "is not a whole number");
	bad("period_us: 99999999999999999999999\n", "is outside 100..1000000");
	bad("rate: [1, 2]\n", "rate: expected a single value");
	bad("user_heap: 12Q\n", "user_heap: '12Q' is not a size");
	bad("pipelines:\n  - instances: []\n", "/etc/t.yaml:2: pipelines[0]: name: missing");
	bad("pipelines:\n  - name: a b\n", "pipelines[0].name: 'a b' is not a name");
	bad("pipelines:\n  - name: p\n  - name: p\n", "/etc/t.yaml:3: pipelines[1]: name: 'p' is used twice");
	bad("pipelines:\n  - name: p\n    state: flying\n",
	    "/etc/t.yaml:3: pipelines[0].state: 'flying' is not one of reset | paused | running");
	bad("pipelines:\n  - name: p\n    instances: x\n", "pipelines[0].instances: expected a list");
	bad("x: &a [*a]\n", "");
}

/* Nesting is bounded before a document is built: 100k levels (flow
 * sequences, flow mappings) and block mappings 1400 deep (most of the size
 * cap) are refused at the first level too many, with the line. Parsed in
 * full they would take libyaml's scanner time quadratic in their size. */
static void test_deep_nesting(void **state)
{
	enum { DEEP = 100000 };
	char *y = malloc(2u << 20), want[64];
	size_t n;

	(void)state;
	assert_non_null(y);
	n = (size_t)sprintf(y, "pipelines:\n  ");
	memset(y + n, '[', DEEP);
	memset(y + n + DEEP, ']', DEEP);
	strcpy(y + n + 2 * DEEP, "\n");
	bad(y, "/etc/t.yaml:2: nested more than 32 levels deep");
	n = (size_t)sprintf(y, "x: ");
	for (int i = 0; i < DEEP; i++)
		n += (size_t)sprintf(y + n, "{a: ");
	memset(y + n, '}', DEEP);
	strcpy(y + n + DEEP, "\n");
	bad(y, "/etc/t.yaml:1: nested more than 32 levels deep");
	n = 0;
	for (int i = 0; i < 1400; i++)
		n += (size_t)sprintf(y + n, "%*sa:\n", i, "");
	snprintf(want, sizeof(want), "/etc/t.yaml:%d: nested more than %d", PT_TOPOLOGY_DEPTH_MAX + 1,
		 PT_TOPOLOGY_DEPTH_MAX);
	bad(y, want);
	/* as deep as allowed is only a topology to check */
	n = (size_t)sprintf(y, "pipelines:\n  - name: p\n    instances:\n      - {name: g, module: gain, params: {x: ");
	for (int i = 0; i < PT_TOPOLOGY_DEPTH_MAX - 6; i++)
		n += (size_t)sprintf(y + n, "[");
	for (int i = 0; i < PT_TOPOLOGY_DEPTH_MAX - 6; i++)
		n += (size_t)sprintf(y + n, "]");
	sprintf(y + n, "}}\n");
	{
		struct pt_topology t;
		int ret = pt_topology_parse(y, strlen(y), "/etc/t.yaml", &t, err, sizeof(err));

		if (ret == 0)
			pt_topology_free(&t);
		assert_null(strstr(err, "nested more than"));
	}
	free(y);
}

static void test_instance_fields(void **state)
{
	(void)state;
	bad(HEAD "      - {module: tone}\n", "/etc/t.yaml:6: pipelines[0].instances[0]: name: missing");
	bad(HEAD "      - {name: t}\n", "instances[0]: module or library: missing");
	bad(HEAD "      - {name: t, module: tone, library: x.so}\n", "module or library, not both");
	bad(HEAD "      - {name: t, module: tone, colour: red}\n",
	    "/etc/t.yaml:6: pipelines[0].instances[0].colour: unknown key");
	bad(HEAD "      - {name: t, module: tone}\n      - {name: t, module: gain}\n",
	    "/etc/t.yaml:7: pipelines[0].instances[1]: name: 't' is used twice");
	bad(HEAD "      - {name: t, module: tone, isolation: maybe}\n",
	    "instances[0].isolation: 'maybe' is not one of none | process");
	bad(HEAD "      - {name: t, module: tone, sched: rt}\n", "instances[0].sched: 'rt' is not one of ll | dp");
	bad(HEAD "      - {name: t, module: tone, restart: always}\n", "instances[0].restart");
	bad(HEAD "      - {name: t, module: tone, on_fault: panic}\n", "instances[0].on_fault");
	bad(HEAD "      - {name: t, module: tone, heap_size: 1K}\n",
	    "instances[0].heap_size: 1K is outside 4096..");
	bad(HEAD "      - {name: t, module: tone, heap_size: 1G}\n", "instances[0].heap_size");
	bad(HEAD "      - {name: t, module: tone, heap_size: lots}\n", "heap_size: 'lots' is not a size");
	bad(HEAD "      - {name: t, module: tone, stack_size: 4K}\n", "instances[0].stack_size");
	bad(HEAD "      - {name: t, module: tone, deadline_us: 2000000}\n", "instances[0].deadline_us");
	bad(HEAD "      - {name: t, module: tone, max_misses: 5000}\n", "instances[0].max_misses");
	bad(HEAD "      - {name: t, module: tone, progress_periods: 1}\n", "instances[0].progress_periods");
	bad(HEAD "      - {name: t, module: tone, progress_periods: 2000000}\n", "instances[0].progress_periods");
	bad(HEAD "      - {name: t, module: tone, restart_limit: 101}\n", "instances[0].restart_limit");
	bad(HEAD "      - {name: t, module: tone, domain: 'a/b'}\n", "instances[0].domain: 'a/b' is not a name");
	bad(HEAD "      - {name: t, module: 'to ne'}\n", "instances[0].module");
	bad(HEAD "      - {name: t, module: tone, params: [1, 2]}\n", "instances[0].params: expected a mapping");
	bad(HEAD "      - {name: t, module: tone, params: {freq: 'a b'}}\n",
	    "instances[0].params.freq: 'a b': a value has no spaces");
	bad(HEAD "      - {name: t, module: tone, params: {'a=b': 1}}\n", "instances[0].params.a=b");
	bad(HEAD "      - {name: t, module: tone, params: {taps: []}}\n", "params.taps: empty list");
	bad(HEAD "      - {name: t, module: tone, params: {taps: [1, [2]]}}\n",
	    "params.taps: expected a single value");
	bad(HEAD "      - {name: t, module: tone, params: {f: {a: 1}}}\n", "params.f: expected a single value");
	bad(HEAD "      - {name: t, library: ''}\n", "instances[0].library: empty path");
	bad(HEAD "      - 42\n", "/etc/t.yaml:6: pipelines[0].instances[0]: expected a mapping");
}

#define TWO HEAD "      - {name: a, module: tone}\n      - {name: b, module: gain}\n    bindings:\n"

static void test_binding_fields(void **state)
{
	struct pt_topology t;
	struct pt_ctl_request r;
	const char *ok = TWO "      - {from: a, to: b.3, periods: 4, format: {channels: 1}}\n";

	(void)state;
	assert_int_equal(pt_topology_parse(ok, strlen(ok), "/etc/t.yaml", &t, err,
					   sizeof(err)), 0);
	r = msg_at(&t, 3);
	assert_int_equal(r.u.bind.src_pin, 0);
	assert_int_equal(r.u.bind.dst_pin, 3);
	assert_int_equal(r.u.bind.channels, 1);
	assert_int_equal(r.u.bind.rate, 48000);
	assert_int_equal(r.u.bind.sample, PT_SAMPLE_S32_LE);
	pt_topology_free(&t);

	bad(TWO "      - {to: b}\n", "/etc/t.yaml:9: pipelines[0].bindings[0]: from: missing");
	bad(TWO "      - {from: a}\n", "pipelines[0].bindings[0]: to: missing");
	bad(TWO "      - {from: x.0, to: b}\n",
	    "/etc/t.yaml:9: pipelines[0].bindings[0].from: no instance named 'x'");
	bad(TWO "      - {from: a.8, to: b}\n", "bindings[0].from: pin 8 is not below 8");
	bad(TWO "      - {from: a.99999999999, to: b}\n", "bindings[0].from: pin");
	bad(TWO "      - {from: a, to: a.1}\n", "bindings[0]: binds instance 'a' to itself");
	/* longer than any name, with a pin far past the name buffer */
	bad(TWO "      - {from: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.1, to: b}\n",
	    "bindings[0].from: 'aaaa");
	bad(TWO "      - {from: a, to: b, periods: 65}\n", "bindings[0].periods: 65 is outside 0..64");
	bad(TWO "      - {from: a, to: b, format: {rate: 1}}\n", "bindings[0].format.rate: 1 is outside");
	bad(TWO "      - {from: a, to: b, format: {channels: 9}}\n", "bindings[0].format.channels");
	bad(TWO "      - {from: a, to: b, format: {sample: S8}}\n",
	    "bindings[0].format.sample: 'S8' is not one of S16_LE | S24_4LE | S32_LE | FLOAT_LE");
	bad(TWO "      - {from: a, to: b, format: {bits: 8}}\n", "bindings[0].format.bits: unknown key");
	bad(TWO "      - {from: a, to: b, format: 48000}\n", "bindings[0].format: expected a mapping");
	bad(TWO "      - [a, b]\n", "bindings[0]: expected a mapping");
}

static void test_ids_states_and_order(void **state)
{
	struct pt_topology t;
	struct pt_ctl_request r;
	const char *y =
		"pipelines:\n"
		"  - name: p1\n"
		"    state: running\n"
		"    instances: [{name: a, module: tone}]\n"
		"    bindings: [{from: a, to: b}]\n"
		"  - name: p2\n"
		"    instances: [{name: b, module: gain}, {name: c, library: /x/pt_c.so}]\n";

	(void)state;
	assert_int_equal(pt_topology_parse(y, strlen(y), "rel/t.yaml", &t, err, sizeof(err)), 0);
	/* creates and inits in file order, then binds, then states */
	assert_int_equal(t.nmsgs, 7);
	assert_int_equal(msg_at(&t, 0).u.create_pipeline.pipeline, 1);
	assert_int_equal(msg_at(&t, 1).u.init_instance.instance, 1);
	assert_int_equal(msg_at(&t, 2).u.create_pipeline.pipeline, 2);
	r = msg_at(&t, 3);
	assert_int_equal(r.u.init_instance.instance, 2);
	assert_int_equal(r.u.init_instance.pipeline, 2);
	r = msg_at(&t, 4);
	assert_string_equal(r.path, "/x/pt_c.so");
	r = msg_at(&t, 5);
	assert_int_equal(r.hdr.type, PT_CTL_BIND);
	assert_int_equal(r.u.bind.src, 1);
	assert_int_equal(r.u.bind.dst, 2);
	r = msg_at(&t, 6);
	assert_int_equal(r.hdr.type, PT_CTL_SET_PIPELINE_STATE);
	assert_int_equal(r.u.set_state.state, PT_CTL_STATE_RUNNING);
	assert_int_equal(t.msgs[6].line, 2);
	pt_topology_free(&t);

	assert_int_equal(pt_topology_load("/nonexistent/t.yaml", &t, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/t.yaml"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo),
		cmocka_unit_test(test_other_examples),
		cmocka_unit_test(test_yaml_garbage),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_instance_fields),
		cmocka_unit_test(test_binding_fields),
		cmocka_unit_test(test_ids_states_and_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
