/* SPDX-License-Identifier: MIT */
/*
 * partita ctl --socket PATH COMMAND ...: sends control messages to a
 * running `partita serve` and prints the replies in words. Exits 0 when
 * the host did it, 1 when it refused, 2 on a usage error, 3 when the host
 * could not be reached.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/partita/cmd.h"
#include "host/control/client.h"
#include "host/control/codec.h"
#include "host/libmgr/library.h"
#include "host/mm/budget.h"


struct ctl {
	int fd;
	uint32_t seq;
	int timeout_ms;
	uint8_t msg[PT_CTL_MSG_MAX];
	uint8_t reply[PT_CTL_MSG_MAX];
	struct pt_ctl_reply rep;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: partita ctl --socket PATH [--timeout MS] COMMAND ...\n"
		"commands:\n"
		"  create-pipeline NAME [ID]\n"
		"  delete-pipeline PIPELINE\n"
		"  init PIPELINE NAME MODULE|LIBRARY.so [FIELD=V ...] [PARAM=V ...]\n"
		"      fields: id isolation=none|process sched=ll|dp domain heap_size\n"
		"      stack_size deadline_us max_misses hang_ms progress_periods\n"
		"      restart=never|on-failure\n"
		"      restart_limit on_fault=silence|bypass init_blob=FILE (binary init\n"
		"      payload); other k=v go to the init blob\n"
		"  delete INSTANCE\n"
		"  bind SRC[.PIN] DST[.PIN] [rate=N] [channels=N|auto] [sample=S32_LE|...|auto]\n"
		"      [periods=N]   (auto: the writer sets it at prepare)\n"
		"  unbind SRC[.PIN] DST[.PIN]\n"
		"  state PIPELINE reset|paused|running\n"
		"  set-config INSTANCE k=v ... | set-config INSTANCE [--param N] --blob FILE\n"
		"      (a binary blob; larger than 32 KiB it goes in fragments)\n"
		"  mode INSTANCE normal|bypass\n"
		"  get-config INSTANCE [--param N]\n"
		"  load-library PATH\n"
		"  stats [INSTANCE]\n"
		"  watch SECONDS          print notifications (faults, misses, restarts)\n"
		"PIPELINE and INSTANCE are names or numeric ids.\n");
}

static void print_note(void *ctx, const struct pt_ctl_reply *note)
{
	struct pt_ctl_notify n;

	(void)ctx;
	if (note->body_size < sizeof(n))
		return;
	memcpy(&n, note->body, sizeof(n));
	pt_ctl_swap(&n, pt_ctl_layout(note->hdr.type, true));
	n.name[PT_NAME_MAX - 1] = 0;
	n.reason[sizeof(n.reason) - 1] = 0;
	switch (note->hdr.type) {
	case PT_CTL_NOTIFY_FAULT:
		printf("fault: instance %s (id %u) at period %llu, fault %llu%s%s\n",
		       n.name, n.instance, (unsigned long long)n.period,
		       (unsigned long long)n.count, n.signal ? ", signal " : "",
		       n.signal ? strsignal(n.signal) : "");
		if (n.reason[0])
			printf("  reason: %s\n", n.reason);
		break;
	case PT_CTL_NOTIFY_DEADLINE_MISS:
		printf("deadline miss: instance %s (id %u) at period %llu, %llu so far\n",
		       n.name, n.instance, (unsigned long long)n.period,
		       (unsigned long long)n.count);
		break;
	case PT_CTL_NOTIFY_RESTART:
		printf("restart: instance %s (id %u), restart %llu\n", n.name,
		       n.instance, (unsigned long long)n.count);
		break;
	}
	fflush(stdout);
}

/* Sends a request and waits for its reply. Returns 0 if done, 1 if the host
 * refused (the reason is printed), 3 if there was no reply. */
static int call(struct ctl *c, unsigned type, const void *body, const void *tail,
		size_t tail_size, const void *tail2, size_t tail2_size)
{
	char err[PT_CTL_ERR_MAX];
	uint32_t seq = ++c->seq;
	size_t len = pt_ctl_encode(c->msg, sizeof(c->msg), type, 0, seq, 0, body,
				   pt_ctl_layout(type, false), tail, tail_size,
				   tail2, tail2_size);

	if (!len) {
		fprintf(stderr, "partita ctl: %s: message too large\n", pt_ctl_type_name(type));
		return 2;
	}
	if (pt_ctl_call(c->fd, c->msg, len, seq, c->reply, sizeof(c->reply), &c->rep,
			c->timeout_ms, print_note, NULL, err, sizeof(err))) {
		fprintf(stderr, "partita ctl: %s\n", err);
		return 3;
	}
	if (c->rep.hdr.status != PT_CTL_OK) {
		fprintf(stderr, "partita ctl: %s refused (%s): %s\n", pt_ctl_type_name(type),
			pt_ctl_status_name(c->rep.hdr.status), (const char *)c->rep.body);
		return 1;
	}
	return 0;
}

/* The reply body of the last call, swapped to host order, into @out. */
static void body(struct ctl *c, void *out, size_t size)
{
	memcpy(out, c->rep.body, size);
	pt_ctl_swap(out, pt_ctl_layout(c->rep.hdr.type, true));
}

static bool number(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A name or a numeric id to an id. Returns 0 or the exit code. */
static int resolve(struct ctl *c, unsigned kind, const char *s, uint32_t *id)
{
	struct pt_ctl_lookup m = { .kind = kind };
	struct pt_ctl_id_reply rep;
	int ret;

	if (number(s, id) && *id)
		return 0;
	if (pt_ctl_name_set(m.name, s, false)) {
		fprintf(stderr, "partita ctl: '%s' is not a %s name\n", s,
			kind == PT_CTL_LOOKUP_PIPELINE ? "pipeline" : "instance");
		return 2;
	}
	if ((ret = call(c, PT_CTL_LOOKUP, &m, NULL, 0, NULL, 0)))
		return ret;
	body(c, &rep, sizeof(rep));
	*id = rep.id;
	return 0;
}

static int bad_arg(const char *what, const char *v)
{
	fprintf(stderr, "partita ctl: %s: '%s' is not valid\n", what, v);
	return 2;
}

/* "name.pin" or "name" (pin 0). */
static int endpoint(struct ctl *c, const char *s, uint32_t *id, uint32_t *pin)
{
	char name[64];
	const char *dot = strrchr(s, '.');

	if (strlen(s) >= sizeof(name))
		return bad_arg("INSTANCE[.PIN]", s);
	memcpy(name, s, strlen(s) + 1);
	*pin = 0;
	if (dot && number(dot + 1, pin))
		name[dot - s] = 0;
	return resolve(c, PT_CTL_LOOKUP_INSTANCE, name, id);
}

static int enum_arg(const char *what, const char *v, const char *const *names,
		    unsigned *out)
{
	for (unsigned i = 0; names[i]; i++) {
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
	}
	return bad_arg(what, v);
}

static int size_arg(const char *what, const char *v, uint32_t *out)
{
	size_t sz;

	if (pt_parse_size(v, &sz) || sz > UINT32_MAX)
		return bad_arg(what, v);
	*out = (uint32_t)sz;
	return 0;
}

static int cmd_init(struct ctl *c, int argc, char **argv)
{
	static const char *const iso[] = { "none", "process", NULL };
	static const char *const sched[] = { "ll", "dp", NULL };
	static const char *const restart[] = { "never", "on-failure", NULL };
	static const char *const fault[] = { "silence", "bypass", NULL };
	struct pt_ctl_init_instance m = { 0 };
	struct pt_ctl_id_reply rep;
	static char params[2 * PT_CTL_INIT_MAX];
	char path[PATH_MAX] = "";
	void *payload = NULL;
	size_t plen = 0, paylen = 0;
	unsigned e;
	int ret;

	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	if ((ret = resolve(c, PT_CTL_LOOKUP_PIPELINE, argv[0], &m.pipeline)))
		return ret;
	if (pt_ctl_name_set(m.name, argv[1], false))
		return bad_arg("instance name", argv[1]);
	if (strchr(argv[2], '/') || strstr(argv[2], ".so")) {
		if (!realpath(argv[2], path)) {
			fprintf(stderr, "partita ctl: %s: %s\n", argv[2], strerror(errno));
			return 2;
		}
		if (strlen(path) > PT_CTL_PATH_MAX)
			return bad_arg("library path (too long)", path);
		m.library_len = (uint16_t)strlen(path);
	} else if (pt_ctl_name_set(m.module, argv[2], false)) {
		return bad_arg("module", argv[2]);
	}
	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *k = argv[i], *v;
		size_t klen;

		if (!eq || eq == argv[i])
			return bad_arg("FIELD=VALUE", argv[i]);
		klen = (size_t)(eq - argv[i]);
		v = eq + 1;
#define KEY(s) (klen == strlen(s) && !strncmp(k, s, klen))
		if (KEY("id")) {
			if (!number(v, &m.instance))
				return bad_arg("id", v);
		} else if (KEY("isolation")) {
			if ((ret = enum_arg("isolation", v, iso, &e)))
				return ret;
			m.isolation = e ? PT_CTL_ISOLATION_PROCESS : PT_CTL_ISOLATION_NONE;
		} else if (KEY("sched")) {
			if ((ret = enum_arg("sched", v, sched, &e)))
				return ret;
			m.sched = e ? PT_CTL_SCHED_DP : PT_CTL_SCHED_LL;
		} else if (KEY("domain")) {
			if (pt_ctl_name_set(m.domain, v, false))
				return bad_arg("domain", v);
		} else if (KEY("heap_size")) {
			if ((ret = size_arg("heap_size", v, &m.heap_size)))
				return ret;
		} else if (KEY("stack_size")) {
			if ((ret = size_arg("stack_size", v, &m.stack_size)))
				return ret;
		} else if (KEY("deadline_us")) {
			if (!number(v, &m.deadline_us))
				return bad_arg("deadline_us", v);
		} else if (KEY("max_misses")) {
			if (!number(v, &m.max_misses))
				return bad_arg("max_misses", v);
		} else if (KEY("hang_ms")) {
			uint32_t h;

			if (!number(v, &h) || h > PT_CTL_HANG_MAX)
				return bad_arg("hang_ms", v);
			m.hang_ms = (uint32_t)h;
		} else if (KEY("progress_periods")) {
			if (!number(v, &m.progress_periods) ||
			    (m.progress_periods && m.progress_periods < PT_CTL_PROGRESS_MIN) ||
			    m.progress_periods > PT_CTL_PROGRESS_MAX)
				return bad_arg("progress_periods", v);
		} else if (KEY("restart")) {
			if ((ret = enum_arg("restart", v, restart, &e)))
				return ret;
			m.restart = (uint8_t)e;
		} else if (KEY("restart_limit")) {
			if (!number(v, &m.restart_limit))
				return bad_arg("restart_limit", v);
		} else if (KEY("on_fault")) {
			if ((ret = enum_arg("on_fault", v, fault, &e)))
				return ret;
			m.on_fault = (uint8_t)e;
		} else if (KEY("init_blob")) {
			char err[512];

			free(payload);
			if (pt_file_read(v, PT_CTL_INIT_MAX, &payload, &paylen, err,
					 sizeof(err))) {
				fprintf(stderr, "partita ctl: init_blob: %s\n", err);
				return 2;
			}
			if (!paylen) {
				free(payload);
				return bad_arg("init_blob (empty file)", v);
			}
		} else {
			size_t n = strlen(argv[i]);

			if (plen + n + 1 > PT_CTL_INIT_MAX)
				return bad_arg("init parameters (too long)", argv[i]);
			if (plen)
				params[plen++] = '\n';
			memcpy(params + plen, argv[i], n);
			plen += n;
		}
#undef KEY
	}
	m.init_size = (uint32_t)plen;
	if (paylen) {
		/* The payload follows the init blob. */
		m.flags = PT_CTL_INIT_FLAG_PAYLOAD;
		memcpy(params + plen, payload, paylen);
		free(payload);
	}
	if ((ret = call(c, PT_CTL_INIT_INSTANCE, &m, path, m.library_len, params,
			plen + paylen)))
		return ret;
	body(c, &rep, sizeof(rep));
	printf("instance %s (id %u) created in pipeline %s from %s\n", argv[1], rep.id,
	       argv[0], path[0] ? path : argv[2]);
	return 0;
}

static int cmd_bind(struct ctl *c, int argc, char **argv, bool unbind)
{
	static const char *const samples[] = { "S16_LE", "S24_4LE", "S32_LE",
					       "FLOAT_LE", NULL };
	struct pt_ctl_bind b = { .rate = 48000, .channels = 2,
				 .sample = PT_SAMPLE_S32_LE };
	uint32_t ch;
	unsigned e;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if ((ret = endpoint(c, argv[0], &b.src, &b.src_pin)) ||
	    (ret = endpoint(c, argv[1], &b.dst, &b.dst_pin)))
		return ret;
	for (int i = 2; i < argc && !unbind; i++) {
		if (!strncmp(argv[i], "rate=", 5)) {
			if (!number(argv[i] + 5, &b.rate))
				return bad_arg("rate", argv[i] + 5);
		} else if (!strcmp(argv[i], "channels=auto")) {
			b.open |= PT_CTL_BIND_OPEN_CHANNELS;
		} else if (!strcmp(argv[i], "sample=auto")) {
			b.open |= PT_CTL_BIND_OPEN_SAMPLE;
		} else if (!strncmp(argv[i], "channels=", 9)) {
			if (!number(argv[i] + 9, &ch) || ch > 0xffff)
				return bad_arg("channels", argv[i] + 9);
			b.channels = (uint16_t)ch;
		} else if (!strncmp(argv[i], "sample=", 7)) {
			if ((ret = enum_arg("sample", argv[i] + 7, samples, &e)))
				return ret;
			b.sample = (uint16_t)(e + PT_SAMPLE_S16_LE);
		} else if (!strncmp(argv[i], "periods=", 8)) {
			if (!number(argv[i] + 8, &b.periods))
				return bad_arg("periods", argv[i] + 8);
		} else {
			return bad_arg("bind option", argv[i]);
		}
	}
	if (unbind) {
		struct pt_ctl_unbind u = { b.src, b.src_pin, b.dst, b.dst_pin };

		if (argc > 2)
			return bad_arg("unbind option", argv[2]);
		if ((ret = call(c, PT_CTL_UNBIND, &u, NULL, 0, NULL, 0)))
			return ret;
		printf("unbound %s -> %s\n", argv[0], argv[1]);
		return 0;
	}
	if ((ret = call(c, PT_CTL_BIND, &b, NULL, 0, NULL, 0)))
		return ret;
	printf("bound %s pin %u -> %s pin %u (%u Hz, %u channels, %s, %u periods)\n",
	       argv[0], b.src_pin, argv[1], b.dst_pin, b.rate, b.channels,
	       samples[b.sample - PT_SAMPLE_S16_LE], b.periods);
	return 0;
}

static int cmd_set_config(struct ctl *c, int argc, char **argv)
{
	struct pt_ctl_config_set m = { 0 };
	void *data = NULL;
	char *text = NULL;
	size_t size = 0, off = 0;
	const char *file = NULL;
	int ret = 0;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if ((ret = resolve(c, PT_CTL_LOOKUP_INSTANCE, argv[0], &m.instance)))
		return ret;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--param") && i + 1 < argc) {
			if (!number(argv[++i], &m.param))
				return bad_arg("--param", argv[i]);
		} else if ((!strcmp(argv[i], "--file") || !strcmp(argv[i], "--blob")) &&
			   i + 1 < argc) {
			file = argv[++i];
		} else if (strchr(argv[i], '=')) {
			size_t n = strlen(argv[i]);
			char *p = realloc(text, size + n + 2);

			if (!p) {
				free(text);
				return 3;
			}
			text = p;
			if (size)
				text[size++] = '\n';
			memcpy(text + size, argv[i], n);
			size += n;
		} else {
			free(text);
			return bad_arg("k=v", argv[i]);
		}
	}
	if (file) {
		char err[512];

		free(text);
		if (pt_file_read(file, PT_CTL_CONFIG_MAX, &data, &size, err, sizeof(err))) {
			fprintf(stderr, "partita ctl: %s\n", err);
			return 2;
		}
	} else {
		data = text;
	}
	if (!size || size > PT_CTL_CONFIG_MAX) {
		free(data);
		return bad_arg("config", size ? "(larger than 256 KiB)" : "(empty)");
	}
	m.total_size = (uint32_t)size;
	/* Fragments in order; each earlier one is acknowledged. */
	while (off < size && !ret) {
		m.offset = (uint32_t)off;
		m.size = (uint32_t)(size - off < PT_CTL_FRAGMENT_MAX ? size - off
								     : PT_CTL_FRAGMENT_MAX);
		ret = call(c, PT_CTL_LARGE_CONFIG_SET, &m, (uint8_t *)data + off, m.size,
			   NULL, 0);
		off += m.size;
	}
	free(data);
	if (!ret)
		printf("%s: config param %u set (%zu bytes)\n", argv[0], m.param, size);
	return ret;
}

static int cmd_mode(struct ctl *c, int argc, char **argv)
{
	static const char *const modes[] = { "normal", "bypass", NULL };
	struct pt_ctl_set_mode m = { 0 };
	unsigned e;
	int ret;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if ((ret = resolve(c, PT_CTL_LOOKUP_INSTANCE, argv[0], &m.instance)) ||
	    (ret = enum_arg("mode", argv[1], modes, &e)))
		return ret;
	m.mode = e;
	if ((ret = call(c, PT_CTL_SET_MODE, &m, NULL, 0, NULL, 0)))
		return ret;
	printf("%s: mode %s\n", argv[0], modes[e]);
	return 0;
}

static int cmd_get_config(struct ctl *c, int argc, char **argv)
{
	struct pt_ctl_config_get m = { .max_size = PT_CTL_FRAGMENT_MAX };
	struct pt_ctl_config_get_reply rep;
	uint8_t *blob = NULL;
	size_t got = 0, total = 1;
	int ret;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	if (argc == 3 && !strcmp(argv[1], "--param")) {
		if (!number(argv[2], &m.param))
			return bad_arg("--param", argv[2]);
	} else if (argc != 1) {
		return bad_arg("get-config option", argv[1]);
	}
	if ((ret = resolve(c, PT_CTL_LOOKUP_INSTANCE, argv[0], &m.instance)))
		return ret;
	while (got < total) {
		m.offset = (uint32_t)got;
		if ((ret = call(c, PT_CTL_LARGE_CONFIG_GET, &m, NULL, 0, NULL, 0)))
			break;
		body(c, &rep, sizeof(rep));
		if (rep.offset != got || rep.size > c->rep.body_size - sizeof(rep) ||
		    rep.total_size > PT_CTL_CONFIG_MAX || (!rep.size && got < rep.total_size)) {
			fprintf(stderr, "partita ctl: malformed LARGE_CONFIG_GET reply\n");
			ret = 3;
			break;
		}
		if (!blob) {
			total = rep.total_size;
			blob = malloc(total + 1);
			if (!blob)
				return 3;
		}
		if (rep.total_size != total || rep.size > total - got) {
			fprintf(stderr, "partita ctl: LARGE_CONFIG_GET reply runs past its blob\n");
			ret = 3;
			break;
		}
		memcpy(blob + got, (const uint8_t *)c->rep.body + sizeof(rep), rep.size);
		got += rep.size;
		if (!total)
			break;
	}
	if (!ret && blob) {
		bool text = m.param == 0;

		for (size_t i = 0; i < got && text; i++)
			text = blob[i] >= 0x20 || blob[i] == '\n' || blob[i] == '\t';
		if (text) {
			fwrite(blob, 1, got, stdout);
			if (got && blob[got - 1] != '\n')
				putchar('\n');
		} else {
			printf("%s: param %u, %zu bytes:", argv[0], m.param, got);
			for (size_t i = 0; i < got; i++)
				printf("%s%02x", i % 16 ? " " : "\n  ", blob[i]);
			putchar('\n');
		}
	}
	free(blob);
	return ret;
}

static const char *state_name(unsigned s)
{
	static const char *const names[] = { "init", "prepared", "FAILED" };
	return s < 3 ? names[s] : "?";
}

static int cmd_stats(struct ctl *c, int argc, char **argv)
{
	struct pt_ctl_get_stats m = { 0 };
	struct pt_ctl_stats_reply rep;
	const uint8_t *p;
	int ret;

	if (argc > 0 && (ret = resolve(c, PT_CTL_LOOKUP_INSTANCE, argv[0], &m.instance)))
		return ret;
	if ((ret = call(c, PT_CTL_GET_STATS, &m, NULL, 0, NULL, 0)))
		return ret;
	body(c, &rep, sizeof(rep));
	if (c->rep.body_size != sizeof(rep) + (size_t)rep.count * sizeof(struct pt_ctl_instance_stats)) {
		fprintf(stderr, "partita ctl: malformed GET_STATS reply\n");
		return 3;
	}
	printf("user heap: %llu of %llu bytes in use\n",
	       (unsigned long long)rep.budget_used, (unsigned long long)rep.budget_total);
	printf("%-4s %-16s %-10s %-3s %-8s %-3s %-9s %10s %10s %10s %7s %6s %8s %17s\n",
	       "id", "instance", "module", "pl", "state", "run", "isolation",
	       "periods", "mean_us", "worst_us", "misses", "faults", "restarts",
	       "heap used/size");
	p = (const uint8_t *)c->rep.body + sizeof(rep);
	for (uint32_t i = 0; i < rep.count; i++, p += sizeof(struct pt_ctl_instance_stats)) {
		struct pt_ctl_instance_stats e;
		double mean;

		memcpy(&e, p, sizeof(e));
		pt_ctl_swap(&e, PT_CTL_LAYOUT_INSTANCE_STATS);
		e.name[PT_NAME_MAX - 1] = e.module[PT_NAME_MAX - 1] = 0;
		e.fault_reason[sizeof(e.fault_reason) - 1] = 0;
		mean = e.periods ? (double)e.process_ns / (double)e.periods / 1000.0 : 0;
		printf("%-4u %-16s %-10s %-3u %-8s %-3s %-9s %10llu %10.2f %10.2f %7llu %6llu %8llu %8llu/%-8llu\n",
		       e.instance, e.name, e.module, e.pipeline, state_name(e.state),
		       e.sched == PT_CTL_SCHED_DP ? "dp" : "ll",
		       e.isolation == PT_CTL_ISOLATION_PROCESS ? "process" : "none",
		       (unsigned long long)e.periods, mean, (double)e.worst_ns / 1000.0,
		       (unsigned long long)e.deadline_misses, (unsigned long long)e.faults,
		       (unsigned long long)e.restarts, (unsigned long long)e.heap_used,
		       (unsigned long long)e.heap_size);
		if (e.faults && e.fault_reason[0])
			printf("     last fault at period %llu%s%s: %s\n",
			       (unsigned long long)e.fault_period,
			       e.fault_signal ? ", " : "",
			       e.fault_signal ? strsignal(e.fault_signal) : "", e.fault_reason);
		if (e.latency_frames)
			printf("     latency %u frames (the module's own)\n", e.latency_frames);
	}
	return 0;
}

static int cmd_load_library(struct ctl *c, const char *arg)
{
	struct pt_ctl_load_library m = { 0 };
	struct pt_ctl_library_reply rep;
	char path[PATH_MAX], uuid[33];
	int ret;

	if (!realpath(arg, path)) {
		fprintf(stderr, "partita ctl: %s: %s\n", arg, strerror(errno));
		return 2;
	}
	if (strlen(path) > PT_CTL_PATH_MAX)
		return bad_arg("library path (too long)", path);
	m.path_len = (uint16_t)strlen(path);
	if ((ret = call(c, PT_CTL_LOAD_LIBRARY, &m, path, m.path_len, NULL, 0)))
		return ret;
	body(c, &rep, sizeof(rep));
	rep.name[PT_NAME_MAX - 1] = 0;
	pt_hex(rep.uuid, sizeof(rep.uuid), uuid);
	printf("library %s loaded: module %s version %u.%u.%u, ABI %u, uuid %s, %s\n",
	       path, rep.name, rep.version >> 16, (rep.version >> 8) & 0xff,
	       rep.version & 0xff, rep.abi_version, uuid,
	       pt_signature_name((enum pt_signature)rep.signature));
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmd_watch(struct ctl *c, const char *secs)
{
	int64_t end;
	uint32_t s;

	if (!number(secs, &s) || s > 86400)
		return bad_arg("SECONDS", secs);
	end = now_ms() + (int64_t)s * 1000;
	for (int64_t left; (left = end - now_ms()) > 0;) {
		int n = pt_ctl_receive(c->fd, c->reply, sizeof(c->reply), (int)left);
		struct pt_ctl_reply rep;
		char err[128];

		if (n < 0) {
			fprintf(stderr, "partita ctl: %s\n", strerror(-n));
			return 3;
		}
		if (n > 0 && !pt_ctl_decode_reply(c->reply, (size_t)n, &rep, err, sizeof(err)) &&
		    (rep.hdr.flags & PT_CTL_FLAG_NOTIFY))
			print_note(NULL, &rep);
	}
	return 0;
}

int pt_cmd_ctl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct ctl c;
	const char *socket_path = NULL, *cmd;
	char err[512];
	uint32_t id;
	int opt, ret;

	c.timeout_ms = 5000;
	c.seq = 0;
	optind = 1;
	/* '+': options stop at the command, whose arguments may look like
	 * options (set-config --param). */
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			socket_path = optarg;
			break;
		case 't':
			c.timeout_ms = atoi(optarg);
			if (c.timeout_ms <= 0)
				return bad_arg("--timeout", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!socket_path || optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	c.fd = pt_ctl_connect(socket_path, err, sizeof(err));
	if (c.fd < 0) {
		fprintf(stderr, "partita ctl: %s\n", err);
		return 3;
	}
	if (!strcmp(cmd, "create-pipeline") && (argc == 1 || argc == 2)) {
		struct pt_ctl_create_pipeline m = { 0 };
		struct pt_ctl_id_reply rep;

		if (pt_ctl_name_set(m.name, argv[0], false))
			ret = bad_arg("pipeline name", argv[0]);
		else if (argc == 2 && !number(argv[1], &m.pipeline))
			ret = bad_arg("pipeline id", argv[1]);
		else if (!(ret = call(&c, PT_CTL_CREATE_PIPELINE, &m, NULL, 0, NULL, 0))) {
			body(&c, &rep, sizeof(rep));
			printf("pipeline %s created (id %u)\n", argv[0], rep.id);
		}
	} else if (!strcmp(cmd, "delete-pipeline") && argc == 1) {
		struct pt_ctl_delete_pipeline m = { 0 };

		if (!(ret = resolve(&c, PT_CTL_LOOKUP_PIPELINE, argv[0], &m.pipeline)) &&
		    !(ret = call(&c, PT_CTL_DELETE_PIPELINE, &m, NULL, 0, NULL, 0)))
			printf("pipeline %s deleted\n", argv[0]);
	} else if (!strcmp(cmd, "init")) {
		ret = cmd_init(&c, argc, argv);
	} else if (!strcmp(cmd, "delete") && argc == 1) {
		struct pt_ctl_delete_instance m = { 0 };

		if (!(ret = resolve(&c, PT_CTL_LOOKUP_INSTANCE, argv[0], &m.instance)) &&
		    !(ret = call(&c, PT_CTL_DELETE_INSTANCE, &m, NULL, 0, NULL, 0)))
			printf("instance %s deleted\n", argv[0]);
	} else if (!strcmp(cmd, "bind")) {
		ret = cmd_bind(&c, argc, argv, false);
	} else if (!strcmp(cmd, "unbind")) {
		ret = cmd_bind(&c, argc, argv, true);
	} else if (!strcmp(cmd, "state") && argc == 2) {
		static const char *const states[] = { "reset", "paused", "running", NULL };
		struct pt_ctl_set_pipeline_state m = { 0 };
		unsigned st;

		if (!(ret = enum_arg("state", argv[1], states, &st)) &&
		    !(ret = resolve(&c, PT_CTL_LOOKUP_PIPELINE, argv[0], &id))) {
			m.pipeline = id;
			m.state = st;
			if (!(ret = call(&c, PT_CTL_SET_PIPELINE_STATE, &m, NULL, 0, NULL, 0)))
				printf("pipeline %s is %s\n", argv[0], states[st]);
		}
	} else if (!strcmp(cmd, "set-config")) {
		ret = cmd_set_config(&c, argc, argv);
	} else if (!strcmp(cmd, "mode")) {
		ret = cmd_mode(&c, argc, argv);
	} else if (!strcmp(cmd, "get-config")) {
		ret = cmd_get_config(&c, argc, argv);
	} else if (!strcmp(cmd, "load-library") && argc == 1) {
		ret = cmd_load_library(&c, argv[0]);
	} else if (!strcmp(cmd, "stats") && argc <= 1) {
		ret = cmd_stats(&c, argc, argv);
	} else if (!strcmp(cmd, "watch") && argc == 1) {
		ret = cmd_watch(&c, argv[0]);
	} else {
		fprintf(stderr, "partita ctl: unknown command or wrong arguments: %s\n", cmd);
		usage(stderr);
		ret = 2;
	}
	close(c.fd);
	return ret;
}
