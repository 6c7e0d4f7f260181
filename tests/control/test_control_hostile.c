/* SPDX-License-Identifier: MIT */
/*
 * A hostile client against pt_control_handle on a real graph: thousands of
 * mutated requests (from the control seed corpus and from messages that
 * build a small graph), each checked for the handler's promises: exactly
 * one well-formed reply echoing the request's seq, a status from the
 * documented list, a text naming what was wrong when refused, and a refused
 * request leaves the graph exactly as it was.
 */
#include <dirent.h>
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/control/codec.h"
#include "host/control/control.h"
#include "host/graph/graph.h"
#include "host/libmgr/library.h"

#define ROUNDS 30000

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* The graph as text: instances, their pipelines and bound pins, and the
 * pipelines' states. */
static void fingerprint(struct pt_graph *g, char *out, size_t room)
{
	struct pt_instance *inst;
	size_t n = 0;
	uint32_t id;

	out[0] = 0;
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)) && n < room; i++) {
		n += (size_t)snprintf(out + n, room - n, "%u:%s:%u[", inst->id, inst->name,
				      inst->pipeline);
		for (int p = 0; p < PT_MAX_PINS && n < room; p++)
			n += (size_t)snprintf(out + n, room - n, "%c%c",
					      inst->in[p] ? 'i' : '-',
					      inst->out[p] ? 'o' : '-');
		if (n < room)
			n += (size_t)snprintf(out + n, room - n, "]");
	}
	for (size_t i = 0; (id = pt_graph_pipeline_at(g, i)) && n < room; i++)
		n += (size_t)snprintf(out + n, room - n, "p%u=%d ", id,
				      pt_graph_pipeline_state(g, id));
}

struct msg {
	uint8_t *data;
	size_t size;
};

static size_t add(struct msg *m, size_t n, unsigned type, const void *body,
		  const void *tail, size_t tail_size)
{
	uint8_t buf[1024];
	size_t len = pt_ctl_encode(buf, sizeof(buf), type, 0, (uint32_t)n + 1, 0, body,
				   pt_ctl_layout(type, false), tail, tail_size, NULL, 0);

	assert_true(len > 0);
	m[n].data = malloc(len);
	assert_non_null(m[n].data);
	memcpy(m[n].data, buf, len);
	m[n].size = len;
	return n + 1;
}

/* Messages that build pipeline 1 with tone(1) -> gain(2) -> mixer(3). */
static size_t builders(struct msg *m)
{
	struct pt_ctl_create_pipeline cp = { .pipeline = 1 };
	struct pt_ctl_init_instance in = { .pipeline = 1 };
	struct pt_ctl_bind b = { 1, 0, 2, 0, 48000, 2, PT_SAMPLE_S32_LE, 2, 0 };
	static const char *const mods[] = { "tone", "gain", "mixer" };
	size_t n = 0;

	pt_ctl_name_set(cp.name, "main", false);
	n = add(m, n, PT_CTL_CREATE_PIPELINE, &cp, NULL, 0);
	for (unsigned i = 0; i < 3; i++) {
		in.instance = i + 1;
		pt_ctl_name_set(in.name, mods[i], false);
		pt_ctl_name_set(in.module, mods[i], false);
		n = add(m, n, PT_CTL_INIT_INSTANCE, &in, NULL, 0);
	}
	n = add(m, n, PT_CTL_BIND, &b, NULL, 0);
	b.src = 2;
	b.dst = 3;
	n = add(m, n, PT_CTL_BIND, &b, NULL, 0);
	return n;
}

static size_t seeds(struct msg *m, size_t n, size_t max)
{
	const char *src = getenv("PARTITA_SOURCE");
	char dir[600], path[900], err[256];
	struct dirent **names;
	int count;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/seeds/control", src ? src : PT_TEST_SOURCE);
	/* sorted, so the run is the same on every file system */
	count = scandir(dir, &names, NULL, alphasort);
	assert_true(count > 0);
	for (int i = 0; i < count; i++) {
		struct dirent *e = names[i];
		void *data;
		size_t size;

		if (e->d_name[0] == '.' || n >= max)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (pt_file_read(path, PT_CTL_MSG_MAX, &data, &size, err, sizeof(err)))
			continue;
		m[n].data = data;
		m[n].size = size;
		n++;
	}
	for (int i = 0; i < count; i++)
		free(names[i]);
	free(names);
	return n;
}

/* Sends @len bytes of @in and checks every promise of the handler. */
static void one(struct pt_graph *g, const uint8_t *in, size_t len, unsigned *refused)
{
	static uint8_t reply[PT_CTL_MSG_MAX];
	static char before[16384], after[16384];
	struct pt_ctl_header h;
	struct pt_ctl_reply rep;
	char err[256];
	size_t rlen = sizeof(reply);
	int ret;

	fingerprint(g, before, sizeof(before));
	ret = pt_control_handle(g, in, len, reply, &rlen);
	if (pt_ctl_decode_reply(reply, rlen, &rep, err, sizeof(err)))
		fail_msg("malformed reply: %s", err);
	assert_true(rep.hdr.flags & PT_CTL_FLAG_REPLY);
	assert_int_equal(ret, pt_ctl_status_errno(rep.hdr.status));
	if (len >= sizeof(h)) {
		memcpy(&h, in, sizeof(h));
		assert_int_equal(rep.hdr.seq, le32toh(h.seq));
	}
	if (rep.hdr.status == PT_CTL_OK)
		return;
	(*refused)++;
	/* a reason, and nothing changed */
	assert_true(strlen(rep.body) > 3);
	fingerprint(g, after, sizeof(after));
	if (strcmp(before, after))
		fail_msg("refused (%s: %s) but the graph changed:\n%s\n%s",
			 pt_ctl_status_name(rep.hdr.status), (const char *)rep.body,
			 before, after);
}

static void test_hostile_client(void **state)
{
	struct pt_graph_config cfg = { .rate = 48000, .period_us = 1000 };
	struct msg m[64];
	static uint8_t buf[PT_CTL_MSG_MAX];
	unsigned refused = 0, rebuilt = 0;
	struct pt_graph *g;
	char err[PT_ERR_MAX];
	size_t nbuild, n;

	(void)state;
	g = pt_graph_new(&cfg, err, sizeof(err));
	assert_non_null(g);
	nbuild = builders(m);
	n = seeds(m, nbuild, 64);
	for (size_t i = 0; i < nbuild; i++)
		one(g, m[i].data, m[i].size, &refused);
	assert_int_equal(refused, 0);
	for (int r = 0; r < ROUNDS; r++) {
		const struct msg *s = &m[next() % n];
		size_t len = s->size;

		memcpy(buf, s->data, len);
		switch (next() % 4) {
		case 0: /* flip bits in the body (the header stays readable) */
			for (int k = next() % 3 + 1; k > 0 && len > 16; k--)
				buf[16 + next() % (len - 16)] ^= (uint8_t)(1u << (next() % 8));
			break;
		case 1: /* a small number in one 32-bit body field */
			if (len >= 20) {
				uint32_t v = next() % 5 == 0 ? UINT32_MAX : next() % 12;
				memcpy(buf + 16 + 4 * (next() % ((len - 16) / 4)), &v, 4);
			}
			break;
		case 2: /* truncate */
			len = next() % (len + 1);
			break;
		case 3: /* any byte anywhere */
			buf[next() % len] = (uint8_t)next();
			break;
		}
		one(g, buf, len, &refused);
		/* Keep something to break: rebuild what hostile deletes took. */
		if (!pt_graph_instance_at(g, 2)) {
			for (size_t i = 0; i < nbuild; i++) {
				size_t rl = sizeof(buf);
				uint8_t reply[PT_CTL_MSG_MAX];

				pt_control_handle(g, m[i].data, m[i].size, reply, &rl);
			}
			rebuilt++;
		}
	}
	print_message("%d hostile requests, %u refused, graph rebuilt %u times\n", ROUNDS,
		      refused, rebuilt);
	assert_true(refused > ROUNDS / 2);
	pt_control_forget(g);
	pt_graph_free(g);
	for (size_t i = 0; i < n; i++)
		free(m[i].data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_client),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
