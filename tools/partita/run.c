/* SPDX-License-Identifier: MIT */
/*
 * partita run [TOPOLOGY] [-i IN] [-o OUT] [--seconds S] ...
 *
 * Builds the graph, runs it period by period until every output file holds
 * its frames, then prints the per-module table. Output length is exact: an
 * output drops the frames of latency the DP stages before it added, then
 * writes exactly as many frames as the longest input has (scaled by rate),
 * or --seconds worth when there is no input.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/control/control.h"
#include "host/domain/exec.h"
#include "host/graph/graph.h"
#include "host/io/alsa.h"
#include "host/io/io.h"
#include "host/libmgr/library.h"
#include "host/sched/rt.h"
#include "host/sched/sched.h"
#include "host/topology/topology.h"
#include "host/trace/trace.h"
#include "tools/partita/cmd.h"
#include "tools/partita/report.h"

#define SPEC_MAX 8
#define DEMO_SECONDS 3.0

struct spec_inst {
	const char *name;
	const char *module;
	char params[PATH_MAX + 128];
	bool isolated; /* in a domain unless --isolation says otherwise */
};

/* A graph described in code: the built-in topologies. */
struct spec {
	struct spec_inst inst[SPEC_MAX];
	unsigned ninst;
	unsigned bind[SPEC_MAX][2]; /* index from -> index to, pin 0 */
	unsigned nbind;
	struct pt_format fmt;
};

struct run_opts {
	const char *topology;
	const char *in, *out;
	double seconds;
	bool seconds_set;
	int isolation; /* -1: as the topology says */
	bool stats, quiet, realtime;
	const char *stats_json;
	const char *trace;
	const char *playback, *capture; /* ALSA devices replacing endpoints */
	size_t user_heap;
	uint32_t period_us;
	uint32_t dp_batch;
	bool strict;            /* a damaged input is an error */
	int bits;               /* output samples: 0 follows the input */
	int encoding;           /* -1 as bits says, 0 signed, 1 float */
	uint32_t rate;          /* 0: no resampling */
	const char *type;       /* the output container, for '-' */
	struct pt_library_policy policy;
	const char *trust[PT_TRUST_MAX]; /* the key files, for the same-file check */
	unsigned ntrust;
	int rt_priority;   /* -1: the default */
	bool per_library;  /* --domains per-library */
	uint32_t hang_ms;  /* 0: the default */
};

/* Exit statuses (README, --help). */
enum {
	EXIT_RUN_OK = 0,
	EXIT_RUN_ERROR = 1,
	EXIT_RUN_USAGE = 2,
	EXIT_RUN_FAULT = 3, /* finished, but an instance failed */
};

/* SIGINT, SIGTERM and SIGHUP end the run at the next period boundary. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: partita run [TOPOLOGY] [-i IN] [-o OUT] [--seconds S]\n"
		"                   [--isolation process|none] [--stats] [--stats-json FILE]\n"
		"                   [--trace FILE] [--user-heap SIZE] [--period-us US]\n"
		"                   [--realtime] [--quiet] [--playback DEVICE] [--capture DEVICE]\n"
		"                   [-b BITS] [-e signed|float] [-r RATE] [-t TYPE] [--strict]\n"
		"                   [--trust KEYFILE]... [--require-signed]\n"
		"\n"
		"Runs TOPOLOGY (a YAML file, see docs/topology.md, or a built-in) to its\n"
		"output files and prints the per-module table. -i and -o replace the\n"
		"files of the topology's first input and output endpoints.\n"
		"Built-in topologies:\n"
		"  demo   a tone sweep through eq_iir and gain into out.wav (the default)\n"
		"  chain  IN through eq_iir and gain into OUT (the default with -i)\n"
		"  copy   IN through copier into OUT, unchanged\n"
		"  pass   IN straight into OUT\n"
		"Their processing modules (eq_iir, gain, copier) run isolated, each in its\n"
		"own domain; --isolation none runs them in the host.\n"
		"\n"
		"  -i, --input IN        the input file (any format libsndfile reads; '-' is\n"
		"                        standard input)\n"
		"  -o, --output OUT      the output file (default out.wav; '-' is standard\n"
		"                        output, with -t). It is written beside OUT and\n"
		"                        put in place when the run ends; it may not be a\n"
		"                        file the run reads, or writes as well, by any path\n"
		"  -t, --type TYPE       the output's container when its name has none\n"
		"  -b, --bits 8|16|24|32 the output's sample size (default: the input's)\n"
		"  -e, --encoding signed|float  the output's sample encoding\n"
		"  -r, --rate RATE       resample the output to RATE Hz (the src module)\n"
		"  --strict              a damaged input (cut short, corrupt) is an error,\n"
		"                        not a warning\n"
		"  --trust KEYFILE       trust the public keys in KEYFILE (repeatable)\n"
		"  --require-signed      refuse libraries not signed by a trusted key\n"
		"  --seconds S           length when there is no input (default %.0f), or a cap\n"
		"  --isolation MODE      run every module instance as process or none\n"
		"  --stats               print the table (the default unless --quiet)\n"
		"  --stats-json FILE     write the table as JSON to FILE ('-' for stdout)\n"
		"  --trace FILE          write a trace-event JSON file (chrome://tracing,\n"
		"                        Perfetto): a span per module per period\n"
		"  --user-heap SIZE      the user heap budget, e.g. 64M\n"
		"  --period-us US        the period in microseconds (default 1000)\n"
		"  --dp-batch N          offline, periods one DP request may carry (1..64,\n"
		"                        default 64); live runs use 1\n"
		"  --realtime            pace periods on the clock, as live audio would\n"
		"                        (a device with a clock paces the graph by itself;\n"
		"                        ALSA's null device does not)\n"
		"  --playback DEVICE     play to an ALSA device (default, hw:0,0, null, ...)\n"
		"                        instead of the first output file\n"
		"  --capture DEVICE      record from an ALSA device instead of the first\n"
		"                        input file (the chain topology, 48 kHz stereo)\n"
		"  --rt-priority N       live, the period thread's SCHED_FIFO priority\n"
		"                        (default %d; domains run one below; 0: off)\n"
		"  --domains POLICY      per-instance (default) or per-library: the\n"
		"                        isolated instances of one library share a domain\n"
		"  --hang-ms MS          a request unanswered this long is a hang\n"
		"                        (default %u; a late result is only a miss)\n"
		"  --quiet               no progress bar, no table\n"
		"\n"
		"SIGINT (Ctrl-C), SIGTERM or SIGHUP stops the run at a period boundary;\n"
		"the outputs are finished, holding the frames produced so far. A run\n"
		"killed otherwise leaves no output and no temporary file.\n"
		"\n"
		"Exit status: 0 all well; 1 an error before or during the run (no\n"
		"output is left; but when only the table, --stats-json or --trace\n"
		"cannot be written at the end, the outputs are kept); 2 a usage\n"
		"error (-o, --stats-json or --trace naming a file the run reads or\n"
		"another it writes); 3 the run finished but an instance failed (its\n"
		"outputs carried silence or bypass); 130, 143 or 129 stopped by\n"
		"SIGINT, SIGTERM or SIGHUP.\n",
		DEMO_SECONDS, PT_RT_PRIORITY_DEFAULT, PT_HANG_MS_DEFAULT);
	{
		char types[1024];

		pt_io_containers(types, sizeof(types));
		fprintf(f, "\nOutput types (from this libsndfile): %s\n", types);
	}
}

/* An output's parameters: its file, and its type when -t gave one. */
static void output_params(char *p, size_t len, const char *file,
			  const char *type)
{
	snprintf(p, len, "file=%s%s%s", file, type ? "\ntype=" : "",
		 type ? type : "");
}

static void add(struct spec *s, const char *name, const char *module,
		const char *params)
{
	struct spec_inst *i = &s->inst[s->ninst++];

	i->name = name;
	i->module = module;
	/* The processing modules of a built-in topology run isolated; the
	 * endpoints and the generator stay in the host. */
	i->isolated = !pt_io_find(module) && strcmp(module, "tone");
	snprintf(i->params, sizeof(i->params), "%s", params);
}

static void chain(struct spec *s)
{
	for (unsigned i = 0; i + 1 < s->ninst; i++) {
		s->bind[s->nbind][0] = i;
		s->bind[s->nbind][1] = i + 1;
		s->nbind++;
	}
}

static int builtin_spec(const struct run_opts *o, struct spec *s, char *err,
			size_t errlen)
{
	const char *name = o->topology ? o->topology :
			   o->in || o->capture ? "chain" : "demo";
	const char *out = o->out ? o->out : "out.wav";
	char p[PATH_MAX + 16];
	uint64_t frames;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!strcmp(name, "demo")) {
		if (o->in) {
			snprintf(err, errlen,
				 "the demo generates its own signal: drop -i, or use the 'chain' topology");
			return -EINVAL;
		}
		s->fmt = (struct pt_format){ 48000, 2, PT_SAMPLE_S32_LE };
		add(s, "sweep", "tone",
		    "wave=sweep start=40 end=16000 seconds=3 log=1 amplitude_db=-12");
		add(s, "eq", "eq_iir",
		    "bands=lowshelf:120:0.707:4,peaking:3000:1.2:-5,highshelf:9000:0.707:2");
		add(s, "gain", "gain", "gain_db=-1");
		output_params(p, sizeof(p), out, o->type);
		add(s, "out", "output", p);
		chain(s);
		return 0;
	}
	if (strcmp(name, "chain") && strcmp(name, "copy") && strcmp(name, "pass")) {
		snprintf(err, errlen,
			 "no topology '%s': not a file and not a built-in (demo, chain, copy, pass)",
			 name);
		return -ENOENT;
	}
	if (!o->in && !o->capture) {
		snprintf(err, errlen, "topology '%s' needs an input file: -i IN", name);
		return -EINVAL;
	}
	if (o->in) {
		ret = pt_io_probe(o->in, &frames, &s->fmt, err, errlen);
		if (ret)
			return ret;
	} else {
		/* A device has no format to probe: the common one. */
		s->fmt = (struct pt_format){ 48000, 2, PT_SAMPLE_S32_LE };
	}
	snprintf(p, sizeof(p), "file=%s", o->in);
	add(s, "in", "input", p);
	if (!strcmp(name, "chain")) {
		s->fmt.sample = PT_SAMPLE_FLOAT_LE;
		add(s, "eq", "eq_iir",
		    "bands=lowshelf:120:0.707:3,peaking:2500:1.0:-3");
		add(s, "gain", "gain", "gain_db=-1");
	} else if (!strcmp(name, "copy")) {
		add(s, "copy", "copier", "");
	}
	output_params(p, sizeof(p), out, o->type);
	add(s, "out", "output", p);
	chain(s);
	return 0;
}

/* --playback and --capture: the first output (input) endpoint becomes the
 * device; a graph without one gets the device at the end of its chain. */
static int use_devices(const struct run_opts *o, struct spec *s, char *err,
		       size_t errlen)
{
	const struct {
		const char *device, *endpoint, *module;
	} swap[] = { { o->playback, "output", "playback" },
		     { o->capture, "input", "capture" } };

	for (unsigned k = 0; k < 2; k++) {
		unsigned i;

		if (!swap[k].device)
			continue;
		for (i = 0; i < s->ninst; i++)
			if (!strcmp(s->inst[i].module, swap[k].endpoint))
				break;
		if (i == s->ninst) {
			if (k == 1 || s->ninst >= SPEC_MAX || !s->ninst) {
				snprintf(err, errlen,
					 "--%s: the topology has no %s to replace",
					 swap[k].module, swap[k].endpoint);
				return -EINVAL;
			}
			add(s, "playback", "playback", "");
			s->bind[s->nbind][0] = s->ninst - 2;
			s->bind[s->nbind][1] = s->ninst - 1;
			s->nbind++;
		}
		s->inst[i].module = swap[k].module;
		snprintf(s->inst[i].params, sizeof(s->inst[i].params),
			 "device=%s", swap[k].device);
	}
	return 0;
}

static int build(struct pt_graph *g, const struct spec *s, char *err, size_t errlen)
{
	int ret = pt_graph_pipeline_create(g, 1, "main", err, errlen);

	for (unsigned i = 0; !ret && i < s->ninst; i++) {
		const struct spec_inst *si = &s->inst[i];
		struct pt_instance_desc d = {
			.id = i + 1,
			.pipeline = 1,
			.name = si->name,
			.module = si->module,
			.init = si->params,
			.init_size = strlen(si->params),
			.isolation = si->isolated ? PT_ISOLATION_PROCESS :
						    PT_ISOLATION_NONE,
			.isolation_set = true,
		};

		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	for (unsigned i = 0; !ret && i < s->nbind; i++)
		ret = pt_graph_bind(g, s->bind[i][0] + 1, 0, s->bind[i][1] + 1, 0,
				    &s->fmt, 0, err, errlen);
	return ret;
}

/* A topology argument names a file when it has a path or a YAML suffix, or
 * a file of that name exists; otherwise it is a built-in. */
static bool is_file(const char *t)
{
	struct stat st;
	size_t n;

	if (!t)
		return false;
	n = strlen(t);
	return strchr(t, '/') || (n > 5 && !strcmp(t + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(t + n - 4, ".yml")) || !stat(t, &st);
}

/* Points the first endpoint of a kind at another file. */
static int retarget(struct pt_graph *g, bool input, const char *path,
		    const char *type, char *err, size_t errlen)
{
	struct pt_instance *inst;
	char blob[PATH_MAX + 64];

	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		if (input ? !pt_io_is_input(inst) : !pt_io_is_output(inst))
			continue;
		output_params(blob, sizeof(blob), path, input ? NULL : type);
		return pt_graph_config_set(g, inst->id, PT_PARAM_TEXT, blob,
					   strlen(blob), err, errlen);
	}
	snprintf(err, errlen, "%s given, but the topology has no %s endpoint",
		 input ? "-i" : "-o", input ? "input" : "output");
	return -EINVAL;
}

/* --playback / --capture on a topology file: the first output (input)
 * endpoint is recreated as the device, under the same id and name and with
 * the same bindings. */
static int retarget_device(struct pt_graph *g, bool capture, const char *device,
			   char *err, size_t errlen)
{
	struct pt_instance *inst = NULL;
	struct pt_buffer *b;
	struct pt_instance_desc d = { 0 };
	struct pt_format fmt;
	uint32_t peer, periods, pipeline, id;
	unsigned peer_pin;
	char name[PT_NAME_MAX], blob[PATH_MAX];
	int ret;

	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
		if (capture ? pt_io_is_input(inst) : pt_io_is_output(inst))
			break;
	if (!inst) {
		snprintf(err, errlen, "--%s given, but the topology has no %s endpoint",
			 capture ? "capture" : "playback", capture ? "input" : "output");
		return -EINVAL;
	}
	b = capture ? inst->out[0] : inst->in[0];
	if (!b) {
		snprintf(err, errlen, "--%s: endpoint '%s' is not bound",
			 capture ? "capture" : "playback", inst->name);
		return -EINVAL;
	}
	id = inst->id;
	pipeline = inst->pipeline;
	snprintf(name, sizeof(name), "%s", inst->name);
	fmt = b->fmt;
	periods = b->periods;
	peer = capture ? b->dst->id : b->src->id;
	peer_pin = capture ? b->dst_pin : b->src_pin;
	ret = capture ? pt_graph_unbind(g, id, 0, peer, peer_pin, err, errlen) :
			pt_graph_unbind(g, peer, peer_pin, id, 0, err, errlen);
	if (!ret)
		ret = pt_graph_instance_delete(g, id, err, errlen);
	if (ret)
		return ret;
	snprintf(blob, sizeof(blob), "device=%s", device);
	d.id = id;
	d.pipeline = pipeline;
	d.name = name;
	d.module = capture ? "capture" : "playback";
	d.init = blob;
	d.init_size = strlen(blob);
	ret = pt_graph_instance_create(g, &d, err, errlen);
	if (ret)
		return ret;
	return capture ? pt_graph_bind(g, id, 0, peer, peer_pin, &fmt, periods,
				       err, errlen) :
			 pt_graph_bind(g, peer, peer_pin, id, 0, &fmt, periods,
				       err, errlen);
}

/* Runs every pipeline the topology left stopped. */
static int start_all(struct pt_graph *g, char *err, size_t errlen)
{
	uint32_t id;
	int ret = 0;

	for (size_t i = 0; !ret && (id = pt_graph_pipeline_at(g, i)); i++) {
		if (pt_graph_pipeline_state(g, id) == PT_STATE_RESET)
			ret = pt_graph_set_state(g, id, PT_STATE_PAUSED, err, errlen);
		if (!ret)
			ret = pt_graph_set_state(g, id, PT_STATE_RUNNING, err, errlen);
	}
	return ret;
}

/* Sets every output's span; returns the largest frame count any output
 * must write, in periods of the graph, for the stall guard. */
static uint64_t plan_outputs(struct pt_graph *g, const struct run_opts *o)
{
	struct pt_instance *inst;
	double longest = 0.0; /* seconds */
	uint64_t most = 0;
	bool files = false;

	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		struct pt_format f;
		uint64_t frames;

		if (pt_io_is_input(inst) &&
		    !pt_io_input_info(inst, &frames, &f)) {
			files = true;
			if ((double)frames / f.rate > longest)
				longest = (double)frames / f.rate;
		}
	}
	/* An input file of no frames makes outputs of none, as sox does. */
	if ((!files && longest == 0.0) || (o->seconds_set && o->seconds < longest))
		longest = o->seconds_set ? o->seconds : DEMO_SECONDS;
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		uint32_t rate, period;
		uint64_t frames;

		if ((!pt_io_is_output(inst) && !pt_alsa_is_playback(inst)) ||
		    !inst->in[0])
			continue;
		rate = inst->in[0]->fmt.rate;
		period = pt_graph_period_frames(g, rate);
		frames = (uint64_t)(longest * rate + 0.5);
		/* A DP stage delays the stream in time, not in content: nothing
		 * runs before its input holds data, so no silence leads the
		 * output. The input's tail of silence drains the stages until
		 * the output is complete. */
		pt_io_output_length(inst, frames);
		pt_alsa_playback_length(inst, frames);
		if (frames / period > most)
			most = frames / period;
	}
	return most;
}

static bool outputs_done(struct pt_graph *g, bool *any)
{
	struct pt_instance *inst;
	bool done = true;

	*any = false;
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		if (!pt_io_is_output(inst) && !pt_alsa_is_playback(inst))
			continue;
		*any = true;
		/* Each answers true for the other's instances. */
		if (!pt_io_output_done(inst) || !pt_alsa_playback_done(inst))
			done = false;
	}
	return done;
}

static void progress(uint64_t period, uint64_t total, uint32_t period_us,
		     bool last)
{
	int width = 40, fill;
	double frac = total ? (double)period / (double)total : 1.0;

	if (frac > 1.0)
		frac = 1.0;
	fill = (int)(frac * width);
	fprintf(stderr, "\r[%.*s%*s] %3d%% %6.1f s of %.1f s", fill,
		"########################################", width - fill, "",
		(int)(frac * 100.0), (double)period * period_us / 1e6,
		(double)total * period_us / 1e6);
	if (last)
		fputc('\n', stderr);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One line per ALSA device: what was agreed with it and how it went. */
static void report_devices(FILE *f, struct pt_graph *g)
{
	struct pt_instance *inst;

	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		uint32_t period = 0, buffer = 0;

		if (!pt_alsa_device(inst))
			continue;
		pt_alsa_sizes(inst, &period, &buffer);
		fprintf(f,
			"%s '%s' on '%s': period %u frames, buffer %u frames, %llu frames, %llu xruns\n",
			pt_alsa_is_playback(inst) ? "playback" : "capture",
			inst->name, pt_alsa_device(inst), period, buffer,
			(unsigned long long)pt_alsa_frames(inst),
			(unsigned long long)pt_alsa_xruns(inst));
	}
}

static int parse_args(int argc, char **argv, struct run_opts *o)
{
	enum { O_SECONDS = 256, O_ISO, O_STATS, O_JSON, O_HEAP, O_PERIOD,
	       O_RT, O_QUIET, O_HELP, O_TRACE, O_PLAYBACK, O_CAPTURE, O_BATCH,
	       O_STRICT, O_TRUST, O_SIGNED, O_PRIO, O_HANG, O_DOMAINS };
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "isolation", required_argument, NULL, O_ISO },
		{ "stats", no_argument, NULL, O_STATS },
		{ "stats-json", required_argument, NULL, O_JSON },
		{ "user-heap", required_argument, NULL, O_HEAP },
		{ "period-us", required_argument, NULL, O_PERIOD },
		{ "realtime", no_argument, NULL, O_RT },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "trace", required_argument, NULL, O_TRACE },
		{ "dp-batch", required_argument, NULL, O_BATCH },
		{ "rt-priority", required_argument, NULL, O_PRIO },
		{ "hang-ms", required_argument, NULL, O_HANG },
		{ "domains", required_argument, NULL, O_DOMAINS },
		{ "playback", required_argument, NULL, O_PLAYBACK },
		{ "capture", required_argument, NULL, O_CAPTURE },
		{ "type", required_argument, NULL, 't' },
		{ "bits", required_argument, NULL, 'b' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "rate", required_argument, NULL, 'r' },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "trust", required_argument, NULL, O_TRUST },
		{ "require-signed", no_argument, NULL, O_SIGNED },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	char err[PT_ERR_MAX];
	enum pt_isolation iso;
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->isolation = -1;
	o->encoding = -1;
	o->rt_priority = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "i:o:ht:b:e:r:", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->type = optarg;
			break;
		case 'b': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || (v != 8 && v != 16 && v != 24 && v != 32 && v != 64)) {
				fprintf(stderr,
					"partita run: -b '%s': use 8, 16, 24 or 32 (64 with -e float)\n",
					optarg);
				return 2;
			}
			o->bits = (int)v;
			break;
		}
		case 'e':
			if (!strcmp(optarg, "signed") || !strcmp(optarg, "signed-integer"))
				o->encoding = 0;
			else if (!strcmp(optarg, "float") ||
				 !strcmp(optarg, "floating-point"))
				o->encoding = 1;
			else {
				fprintf(stderr,
					"partita run: -e '%s': use signed or float\n", optarg);
				return 2;
			}
			break;
		case 'r': {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < PT_RATE_MIN || v > PT_RATE_MAX) {
				fprintf(stderr,
					"partita run: -r '%s' is not a rate in %u..%u Hz\n",
					optarg, PT_RATE_MIN, PT_RATE_MAX);
				return 2;
			}
			o->rate = (uint32_t)v;
			break;
		}
		case O_STRICT:
			o->strict = true;
			break;
		case O_TRUST:
			if (pt_trust_load(&o->policy, optarg, err, sizeof(err)) < 0) {
				fprintf(stderr, "partita run: --trust: %s\n", err);
				return 2;
			}
			/* Each file holds a key at least: no more files than
			 * keys the policy holds. */
			if (o->ntrust == PT_TRUST_MAX) {
				fprintf(stderr, "partita run: --trust: at most %d key files\n",
					PT_TRUST_MAX);
				return 2;
			}
			o->trust[o->ntrust++] = optarg;
			break;
		case O_SIGNED:
			o->policy.require_signed = true;
			break;
		case 'i':
			o->in = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case O_SECONDS:
			errno = 0;
			o->seconds = strtod(optarg, &end);
			if (errno || *end || !(o->seconds > 0.0) ||
			    o->seconds > 24.0 * 3600.0) {
				fprintf(stderr,
					"partita run: --seconds '%s' is not a length in seconds (0..86400)\n",
					optarg);
				return 2;
			}
			o->seconds_set = true;
			break;
		case O_ISO:
			if (pt_isolation_parse(optarg, &iso)) {
				fprintf(stderr,
					"partita run: --isolation '%s': use process or none\n",
					optarg);
				return 2;
			}
			o->isolation = (int)iso;
			break;
		case O_STATS:
			o->stats = true;
			break;
		case O_JSON:
			o->stats_json = optarg;
			break;
		case O_HEAP:
			if (pt_parse_size(optarg, &o->user_heap) ||
			    o->user_heap < 4096) {
				fprintf(stderr,
					"partita run: --user-heap '%s' is not a size of 4K or more (e.g. 64M)\n",
					optarg);
				return 2;
			}
			break;
		case O_PERIOD: {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 125 || v > 100000) {
				fprintf(stderr,
					"partita run: --period-us '%s' is not 125..100000\n",
					optarg);
				return 2;
			}
			o->period_us = (uint32_t)v;
			break;
		}
		case O_TRACE:
			o->trace = optarg;
			break;
		case O_BATCH: {
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v < 1 || v > PT_DP_BATCH_MAX) {
				fprintf(stderr,
					"partita run: --dp-batch '%s' is not 1..%u\n",
					optarg, PT_DP_BATCH_MAX);
				return 2;
			}
			o->dp_batch = (uint32_t)v;
			break;
		}
		case O_PRIO:
		case O_HANG: {
			unsigned long v, max = c == O_PRIO ? PT_RT_PRIORITY_MAX : PT_HANG_MS_MAX;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v > max || (c == O_HANG && !v)) {
				fprintf(stderr, "partita run: --%s '%s' is not %d..%lu\n",
					c == O_PRIO ? "rt-priority" : "hang-ms", optarg,
					c == O_PRIO ? 0 : 1, max);
				return 2;
			}
			if (c == O_PRIO)
				o->rt_priority = (int)v;
			else
				o->hang_ms = (uint32_t)v;
			break;
		}
		case O_DOMAINS:
			if (strcmp(optarg, "per-instance") && strcmp(optarg, "per-library")) {
				fprintf(stderr,
					"partita run: --domains '%s': use per-instance or per-library\n",
					optarg);
				return 2;
			}
			o->per_library = !strcmp(optarg, "per-library");
			break;
		case O_PLAYBACK:
			o->playback = optarg;
			break;
		case O_CAPTURE:
			o->capture = optarg;
			break;
		case O_RT:
			o->realtime = true;
			break;
		case O_QUIET:
			o->quiet = true;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return -1;
		default:
			fprintf(stderr, "partita run: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		o->topology = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "partita run: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (o->encoding == 1 && o->bits && o->bits != 32 && o->bits != 64) {
		fprintf(stderr, "partita run: -e float takes -b 32 or 64\n");
		return 2;
	}
	if (o->encoding == 0 && o->bits == 64) {
		fprintf(stderr, "partita run: -b 64 needs -e float\n");
		return 2;
	}
	if (o->out && !strcmp(o->out, "-") && !o->type) {
		fprintf(stderr, "partita run: -o - (standard output) needs -t TYPE (e.g. -t wav)\n");
		return 2;
	}
	if (o->out && !strcmp(o->out, "-") && o->stats_json &&
	    !strcmp(o->stats_json, "-")) {
		fprintf(stderr, "partita run: -o - and --stats-json - both want standard output\n");
		return 2;
	}
	return 0;
}

/* A file the run reads or writes, for the check below: its identity is
 * the device and inode, or for a file still to be written, its folder's
 * and its name. */
struct run_file {
	const char *what;
	char path[PATH_MAX + 8];
	bool writes, exists;
	dev_t dev;
	ino_t ino;
	char base[PATH_MAX];
};

struct run_files {
	struct run_file *f;
	size_t n, cap;
};

/* Adds @path (fd 0 or 1 for '-' when @fd >= 0); a file read that does not
 * exist is no risk and is left out. */
static int file_add(struct run_files *l, const char *what, const char *path,
		    int fd, bool writes)
{
	struct run_file *r;
	struct stat st;
	char dir[PATH_MAX], *slash;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct run_file *f = realloc(l->f, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		l->f = f;
		l->cap = cap;
	}
	r = &l->f[l->n];
	memset(r, 0, sizeof(*r));
	r->what = what;
	snprintf(r->path, sizeof(r->path), "%s", fd == 0 ? "- (standard input)" :
		 fd == 1 ? "- (standard output)" : path);
	r->writes = writes;
	/* A standard stream that is no regular file (a pipe, a socket) is
	 * one stream for the writers; its reader is left out (stdin and
	 * stdout may be one socket). */
	if (fd >= 0 ? !fstat(fd, &st) && (S_ISREG(st.st_mode) || writes) :
		      !stat(path, &st)) {
		r->exists = true;
	} else if (fd >= 0 || !writes) {
		return 0;
	} else {
		/* Not there yet: the same name in the same folder. */
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		snprintf(r->base, sizeof(r->base), "%s", slash ? slash + 1 : dir);
		if (slash == dir)
			dir[1] = 0;
		else if (slash)
			*slash = 0;
		if (stat(slash ? dir : ".", &st))
			return 0;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	l->n++;
	return 0;
}

/* A file the run writes (an output, --stats-json, --trace) that is a file
 * it reads (an input, standard input, the topology, a library or its
 * signature, a key), by any path (a symbolic or hard link, '..',
 * /proc/self/fd), or another file it writes, is refused before any output
 * is created: one of the two would be lost. */
static int same_file_check(struct pt_graph *g, const struct run_opts *o,
			   const char *topology, char *err, size_t errlen)
{
	struct run_files l = { 0 };
	struct pt_instance *inst;
	char sig[PATH_MAX + 8];
	unsigned stdin_readers = 0;
	int ret = 0;

	for (size_t i = 0; !ret && (inst = pt_graph_instance_at(g, i)); i++) {
		const char *p = pt_io_path(inst);
		bool dash = !strcmp(p, "-");

		if (pt_io_is_input(inst) && dash && stdin_readers++) {
			snprintf(err, errlen,
				 "two inputs read standard input ('-'): it can be read once");
			ret = -EEXIST;
		} else if (pt_io_is_input(inst)) {
			ret = file_add(&l, "the input", p, dash ? 0 : -1, false);
		} else if (pt_io_is_output(inst)) {
			ret = file_add(&l, "the output", p, dash ? 1 : -1, true);
		}
		if (!ret && inst->library[0]) {
			ret = file_add(&l, "the library", inst->library, -1, false);
			snprintf(sig, sizeof(sig), "%s.sig", inst->library);
			if (!ret)
				ret = file_add(&l, "the signature", sig, -1, false);
		}
	}
	if (!ret && topology)
		ret = file_add(&l, "the topology", topology, -1, false);
	for (unsigned i = 0; !ret && i < o->ntrust; i++)
		ret = file_add(&l, "the key file", o->trust[i], -1, false);
	if (!ret && o->stats_json)
		ret = file_add(&l, "--stats-json", o->stats_json,
			       strcmp(o->stats_json, "-") ? -1 : 1, true);
	if (!ret && o->trace)
		ret = file_add(&l, "--trace", o->trace, -1, true);
	for (size_t i = 0; !ret && i < l.n; i++) {
		const struct run_file *a = &l.f[i];

		for (size_t k = 0; a->writes && k < l.n; k++) {
			const struct run_file *b = &l.f[k];

			if (k == i || (b->writes && k < i) || a->dev != b->dev ||
			    a->ino != b->ino || a->exists != b->exists ||
			    strcmp(a->base, b->base))
				continue;
			snprintf(err, errlen,
				 "%s '%s' is %s '%s' (the same file): refusing to write over %s",
				 a->what, a->path, b->what, b->path,
				 b->writes ? "another file of this run" : b->what);
			ret = -EEXIST;
		}
	}
	free(l.f);
	return ret == -EEXIST ? ret : 0;
}

/* --stats-json and --trace: a path that cannot be written is said before
 * the run, not after it (the stats are written when it ends). */
static int report_check(const char *path, const char *opt, char *err,
			size_t errlen)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (path && !strcmp(path, "-") && pt_io_std_closed(1)) {
		snprintf(err, errlen, "%s standard output: it is closed", opt);
		return -EBADF;
	}
	if (!path || !strcmp(path, "-"))
		return 0;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode) || access(path, W_OK)) {
			snprintf(err, errlen, "%s '%s': %s", opt, path,
				 S_ISDIR(st.st_mode) ? "it is a folder" : strerror(errno));
			return -EINVAL;
		}
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = 0;
	if (errno != ENOENT || access(slash ? dir : ".", W_OK | X_OK)) {
		snprintf(err, errlen, "%s '%s': %s (its folder)", opt, path,
			 strerror(errno));
		return -EINVAL;
	}
	return 0;
}

/* A start that fails on an instance (a format its prepare refuses) names
 * the line of the instance's binding, where the format was given. */
static void name_binding(const struct pt_topology *t, char *err, size_t errlen)
{
	const struct pt_topology_msg *m;
	char name[PT_NAME_MAX + 1], *q, *text;
	const char *p = strstr(err, "instance '");

	if (!p)
		return;
	snprintf(name, sizeof(name), "%s", p + 10);
	if (!(q = strchr(name, '\'')))
		return;
	*q = 0;
	m = pt_topology_binding_of(t, name);
	if (!m)
		return;
	text = strdup(err);
	if (!text)
		return;
	snprintf(err, errlen, "%s:%u: %s: %s", t->path, m->line, m->what, text);
	free(text);
}

/* Sample size of a stream format, for the output to follow. */
static int sample_bits(const struct pt_format *f)
{
	return f->sample == PT_SAMPLE_S16_LE ? 16 :
	       f->sample == PT_SAMPLE_S24_4LE ? 24 : 32;
}

/* The output files' samples: -b and -e when given, else the first input
 * file's (16-bit in, 16-bit out, whatever the graph computes in). */
static void output_samples(struct pt_graph *g, const struct run_opts *o)
{
	struct pt_instance *inst;
	struct pt_format nat = { 0 };
	bool have = false, is_float;
	char err[PT_ERR_MAX + PATH_MAX];
	uint64_t frames;
	int bits;

	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
		if (pt_io_is_input(inst)) {
			have = !pt_io_probe(pt_io_path(inst), &frames, &nat, err,
					    sizeof(err));
			break;
		}
	if (o->bits || o->encoding >= 0) {
		is_float = o->encoding == 1;
		bits = o->bits ? o->bits :
		       is_float || !have || nat.sample == PT_SAMPLE_FLOAT_LE ? 32 :
									     sample_bits(&nat);
	} else if (have) {
		is_float = nat.sample == PT_SAMPLE_FLOAT_LE;
		bits = sample_bits(&nat);
	} else {
		return;
	}
	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++)
		pt_io_output_sample(inst, bits, is_float,
				    o->bits || o->encoding >= 0);
}

/* -r RATE: an src instance before the first output, which then runs at
 * RATE; the rest of the graph is unchanged. */
static int insert_src(struct pt_graph *g, uint32_t rate, char *err,
		      size_t errlen)
{
	struct pt_instance *out = NULL, *inst;
	struct pt_buffer *b;
	struct pt_format fmt;
	uint32_t peer, periods, id = 0;
	unsigned peer_pin;
	int ret;

	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		if (!out && (pt_io_is_output(inst) || pt_alsa_is_playback(inst)))
			out = inst;
		if (inst->id > id)
			id = inst->id;
	}
	if (!out || !(b = out->in[0])) {
		snprintf(err, errlen, "-r: the topology has no bound output to resample");
		return -EINVAL;
	}
	if (b->fmt.rate == rate)
		return 0;
	fmt = b->fmt;
	periods = b->periods;
	peer = b->src->id;
	peer_pin = b->src_pin;
	id++;
	ret = pt_graph_unbind(g, peer, peer_pin, out->id, 0, err, errlen);
	if (!ret) {
		struct pt_instance_desc d = {
			.id = id,
			.pipeline = out->pipeline,
			.name = "resample",
			.module = "src",
			.init = "",
			.init_size = 0,
			.isolation = PT_ISOLATION_PROCESS,
			.isolation_set = true,
		};

		ret = pt_graph_instance_create(g, &d, err, errlen);
	}
	if (!ret)
		ret = pt_graph_bind(g, peer, peer_pin, id, 0, &fmt, periods, err,
				    errlen);
	fmt.rate = rate;
	if (!ret)
		ret = pt_graph_bind(g, id, 0, out->id, 0, &fmt, periods, err,
				    errlen);
	return ret;
}

/* The file endpoints, after a period: a damaged input is a warning, once,
 * or with --strict an error; a write to an output that failed (a full
 * disk) stops the run. */
static int files_check(struct pt_graph *g, bool strict, char *err, size_t errlen)
{
	struct pt_instance *inst;

	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		uint64_t frame, claimed, frames = 0;
		struct pt_format f;
		const char *why;

		if (pt_io_output_failed(inst, err, errlen))
			return -EIO;
		if (!pt_io_input_damage(inst, &frame, &claimed, &why))
			continue;
		/* Cut where libsndfile counts the frames (a header that
		 * claims more): the input is what there is; cut before (a
		 * decoder's error): silence stands in for the rest. */
		pt_io_input_info(inst, &frames, &f);
		snprintf(err, errlen,
			 "'%s' is damaged: its data stops at frame %llu%s%.0llu (%s)%s",
			 pt_io_path(inst), (unsigned long long)frame,
			 claimed > frame ? " of " : "",
			 claimed > frame ? (unsigned long long)claimed : 0ull, why,
			 strict ? "" : frame >= frames ?
			 "; only the frames before it are used" :
			 "; the rest is rendered as silence");
		if (strict)
			return -EIO;
		fprintf(stderr, "partita run: warning: %s\n", err);
	}
	return 0;
}

/* True when an instance failed during the run: its outputs carried
 * silence or bypass for some periods. */
static bool any_failed(struct pt_graph *g)
{
	struct pt_instance *inst;

	for (size_t i = 0; (inst = pt_graph_instance_at(g, i)); i++) {
		struct pt_instance_info info;

		pt_instance_info(inst, &info);
		if (info.state == PT_INSTANCE_FAILED || info.stats.faults)
			return true;
	}
	return false;
}

/* Live, the thread that runs the periods (this one: it builds the graph
 * too, so the scheduler's workers inherit its class) goes real time where
 * permitted, its memory is locked, and domains start one priority below. */
static void live_setup(const struct run_opts *o, const struct pt_graph_config *cfg)
{
	struct pt_exec_tuning t;
	int prio;

	if (cfg->offline)
		return;
	prio = pt_rt_enter(o->rt_priority < 0 ? PT_RT_PRIORITY_DEFAULT : o->rt_priority,
			   "run");
	if (!prio)
		return;
	pt_rt_lock_memory();
	pt_exec_tuning_get(&t);
	t.rt_priority = prio > 1 ? (uint32_t)prio - 1 : 1;
	t.chain_cpu = (uint32_t)(pt_rt_chain_cpu() + 1);
	pt_exec_tune(&t);
}

int pt_cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct pt_graph_config cfg = { 0 };
	struct pt_graph *g = NULL;
	struct pt_sched *s = NULL;
	struct pt_trace *trace = NULL;
	struct spec spec;
	struct pt_topology topo;
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term, old_hup;
	bool have_topo = false;
	char err[PT_ERR_MAX + PATH_MAX];
	uint64_t total, cap, next_ns = 0, last_draw = 0, skipped = 0;
	bool tty, any;
	FILE *table;
	int ret, status = EXIT_RUN_ERROR;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	tty = isatty(2) && !o.quiet;
	/* Standard output carries the file or the JSON: the table goes to
	 * standard error. */
	table = (o.out && !strcmp(o.out, "-")) ||
			(o.stats_json && !strcmp(o.stats_json, "-")) ? stderr : stdout;
	stop_signal = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup); /* the terminal went: as SIGTERM */

	cfg.period_us = o.period_us;
	cfg.user_heap_size = o.user_heap;
	/* Devices pace a run as live audio: one period per step. */
	cfg.offline = !o.realtime && !o.playback && !o.capture;
	cfg.dp_batch = cfg.offline ? o.dp_batch : 1;
	cfg.force_isolation = o.isolation >= 0;
	cfg.isolation = o.isolation > 0 ? PT_ISOLATION_PROCESS : PT_ISOLATION_NONE;
	cfg.hang_ms = o.hang_ms;
	cfg.domains_per_library = o.per_library;
	if (is_file(o.topology)) {
		ret = pt_topology_load(o.topology, &topo, err, sizeof(err));
		if (ret)
			goto fail;
		have_topo = true;
		cfg.rate = topo.rate;
		/* A sound device in the topology paces the run as live audio:
		 * one period per step. */
		if (pt_topology_uses_module(&topo, "playback") ||
		    pt_topology_uses_module(&topo, "capture")) {
			cfg.offline = false;
			cfg.dp_batch = 1;
		}
		if (!cfg.period_us)
			cfg.period_us = topo.period_us;
		if (!cfg.user_heap_size)
			cfg.user_heap_size = topo.user_heap_size;
		cfg.domains_per_library |= topo.domains_per_library;
		if (o.rt_priority < 0)
			o.rt_priority = topo.rt_priority;
		live_setup(&o, &cfg);
		g = pt_graph_new(&cfg, err, sizeof(err));
		if (!g)
			goto fail;
		ret = pt_control_set_policy(g, &o.policy);
		if (ret)
			snprintf(err, sizeof(err), "library policy: %s", strerror(-ret));
		if (!ret)
			ret = pt_topology_apply(&topo, g, err, sizeof(err));
		if (!ret && o.in)
			ret = retarget(g, true, o.in, NULL, err, sizeof(err));
		if (!ret && o.out)
			ret = retarget(g, false, o.out, o.type, err, sizeof(err));
		if (!ret && o.playback)
			ret = retarget_device(g, false, o.playback, err, sizeof(err));
		if (!ret && o.capture)
			ret = retarget_device(g, true, o.capture, err, sizeof(err));
	} else {
		ret = builtin_spec(&o, &spec, err, sizeof(err));
		if (!ret)
			ret = use_devices(&o, &spec, err, sizeof(err));
		if (ret)
			goto fail;
		cfg.rate = spec.fmt.rate;
		live_setup(&o, &cfg);
		g = pt_graph_new(&cfg, err, sizeof(err));
		if (!g)
			goto fail;
		ret = build(g, &spec, err, sizeof(err));
	}
	if (!ret && o.rate)
		ret = insert_src(g, o.rate, err, sizeof(err));
	if (ret)
		goto fail;
	if (same_file_check(g, &o, have_topo ? o.topology : NULL, err,
			    sizeof(err))) {
		status = EXIT_RUN_USAGE;
		goto fail;
	}
	if (report_check(o.stats_json, "cannot write stats to", err, sizeof(err)) ||
	    report_check(o.trace, "cannot write trace", err, sizeof(err)))
		goto fail;
	output_samples(g, &o);
	/* Live, files are read and written (and log lines written) on the I/O
	 * thread, never on the period thread. */
	if (!pt_graph_config(g)->offline && (ret = pt_io_live_begin())) {
		snprintf(err, sizeof(err), "cannot start the I/O thread: %s",
			 strerror(-ret));
		goto fail;
	}
	ret = start_all(g, err, sizeof(err));
	if (ret && have_topo)
		name_binding(&topo, err, sizeof(err));
	if (ret)
		goto fail;
	s = pt_sched_new(g, err, sizeof(err));
	if (!s)
		goto fail;
	/* The period thread joins the chains' CPU (after the scheduler's
	 * workers started, so they keep every CPU). */
	{
		struct pt_exec_tuning t;

		pt_exec_tuning_get(&t);
		if (t.chain_cpu)
			pt_rt_pin((int)t.chain_cpu - 1);
	}
	if (o.trace) {
		trace = pt_trace_open(o.trace, err, sizeof(err));
		if (!trace)
			goto fail;
		pt_sched_set_trace(s, trace);
	}

	total = plan_outputs(g, &o);
	/* A graph that stops moving data (a module that never becomes ready)
	 * must not spin forever: allow the expected periods, twice over, plus
	 * ten seconds' worth. */
	cap = 2 * total + 10000000u / pt_graph_config(g)->period_us;
	if (!pt_graph_config(g)->offline)
		pthread_setname_np(pthread_self(), "pt-period");
	while (!stop_signal && (!outputs_done(g, &any) || !any)) {
		if (!any) {
			snprintf(err, sizeof(err), "the topology has no output");
			goto fail;
		}
		if (pt_sched_periods(s) >= cap) {
			snprintf(err, sizeof(err),
				 "the graph stalled: outputs incomplete after %llu periods",
				 (unsigned long long)pt_sched_periods(s));
			goto fail;
		}
		if (o.realtime) {
			uint64_t period_ns = (uint64_t)pt_graph_config(g)->period_us * 1000u;
			struct timespec ts;
			uint64_t now = mono_ns();

			if (!next_ns)
				next_ns = now;
			/* Far behind the clock (a stall): the lost periods are
			 * skipped and counted, not rushed through. */
			if (now > next_ns + 8 * period_ns) {
				skipped += (now - next_ns) / period_ns;
				next_ns = now;
			}
			next_ns += period_ns;
			ts.tv_sec = (time_t)(next_ns / 1000000000u);
			ts.tv_nsec = (long)(next_ns % 1000000000u);
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		ret = pt_sched_period(s);
		if (ret) {
			snprintf(err, sizeof(err), "scheduler: %s", strerror(-ret));
			goto fail;
		}
		if (files_check(g, o.strict, err, sizeof(err)))
			goto fail;
		if (tty && total > 500 && mono_ns() - last_draw > 100000000u) {
			last_draw = mono_ns();
			progress(pt_sched_periods(s), total,
				 pt_graph_config(g)->period_us, false);
		}
	}
	if (!pt_graph_config(g)->offline)
		pthread_setname_np(pthread_self(), "partita");
	if (tty && total > 500)
		progress(stop_signal ? pt_sched_periods(s) : total, total,
			 pt_graph_config(g)->period_us, true);
	if (files_check(g, o.strict, err, sizeof(err)))
		goto fail;

	/* Finish the files before reporting success: a full disk shows here.
	 * Stopped by a signal, they hold what was produced. */
	for (size_t i = 0;; i++) {
		struct pt_instance *inst = pt_graph_instance_at(g, i);

		if (!inst)
			break;
		if (pt_io_is_output(inst) &&
		    pt_io_output_close(inst, err, sizeof(err)))
			goto fail;
		if (!stop_signal && pt_alsa_playback_drain(inst, err, sizeof(err)))
			goto fail;
	}
	if (stop_signal) {
		for (size_t i = 0;; i++) {
			struct pt_instance *inst = pt_graph_instance_at(g, i);

			if (!inst)
				break;
			if (pt_io_is_output(inst) && inst->in[0])
				fprintf(stderr,
					"partita run: stopped by %s after %.3f s; %s holds %llu frames\n",
					stop_signal == SIGINT ? "SIGINT" :
					stop_signal == SIGHUP ? "SIGHUP" : "SIGTERM",
					(double)pt_io_output_written(inst) /
						inst->in[0]->fmt.rate,
					strcmp(pt_io_path(inst), "-") ?
						pt_io_path(inst) : "standard output",
					(unsigned long long)pt_io_output_written(inst));
		}
	}
	if (trace) {
		pt_sched_set_trace(s, NULL);
		ret = pt_trace_close(trace);
		trace = NULL;
		if (ret) {
			snprintf(err, sizeof(err), "writing trace '%s': %s", o.trace,
				 strerror(-ret));
			goto fail;
		}
	}
	if (!o.quiet || o.stats) {
		pt_report_table(table, g, pt_sched_periods(s));
		if (skipped)
			fprintf(table, "%llu periods skipped: the host fell behind the clock\n",
				(unsigned long long)skipped);
		report_devices(table, g);
		for (size_t i = 0;; i++) {
			struct pt_instance *inst = pt_graph_instance_at(g, i);

			if (!inst)
				break;
			if (pt_io_is_output(inst) && inst->in[0])
				fprintf(table, "%s: wrote %s, %llu frames (%.3f s at %u Hz)\n",
					inst->name, pt_io_path(inst),
					(unsigned long long)pt_io_output_written(inst),
					(double)pt_io_output_written(inst) /
						inst->in[0]->fmt.rate,
					inst->in[0]->fmt.rate);
			if (pt_io_xruns(inst))
				fprintf(table, "%s: %llu xruns: the I/O thread fell behind %s\n",
					inst->name, (unsigned long long)pt_io_xruns(inst),
					pt_io_is_input(inst) ? "reading" : "writing");
		}
	}
	/* A table that could not be written (a full standard output) is
	 * said, not lost silently; the outputs are in place. */
	errno = 0;
	if (table == stdout && (fflush(stdout) || ferror(stdout))) {
		snprintf(err, sizeof(err), "cannot write the table to standard output: %s",
			 strerror(errno ? errno : EIO));
		goto fail;
	}
	if (o.stats_json) {
		FILE *f;

		/* Standard output too: a full or closed one is an error. */
		errno = 0;
		f = strcmp(o.stats_json, "-") ? pt_report_fopen(o.stats_json) : stdout;
		if (!f || pt_report_json(f, g, pt_sched_periods(s), skipped) ||
		    (f != stdout ? fclose(f) : fflush(f) || ferror(f))) {
			snprintf(err, sizeof(err), "cannot write stats to '%s': %s",
				 strcmp(o.stats_json, "-") ? o.stats_json :
							     "standard output",
				 errno == ENXIO ? "a FIFO that nobody reads" :
				 strerror(errno ? errno : EIO));
			goto fail;
		}
	}
	status = stop_signal ? 128 + stop_signal :
		 any_failed(g) ? EXIT_RUN_FAULT : EXIT_RUN_OK;
	if (status == EXIT_RUN_FAULT)
		fprintf(stderr,
			"partita run: finished, but an instance failed: its outputs carried silence or bypass (see the table)\n");
	goto out;
fail:
	fprintf(stderr, "partita run: %s\n", err);
	if (stop_signal)
		status = 128 + stop_signal;
	/* A run that failed leaves no output, and an old file as it was. */
	for (size_t i = 0; g && pt_graph_instance_at(g, i); i++)
		pt_io_output_discard(pt_graph_instance_at(g, i));
out:
	if (trace)
		pt_trace_close(trace);
	pt_sched_free(s);
	pt_control_forget(g); /* what applying the topology left beside g */
	pt_graph_free(g);
	pt_io_live_end();
	pt_io_probe_release();
	if (have_topo)
		pt_topology_free(&topo);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	return status;
}
