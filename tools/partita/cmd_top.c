/* SPDX-License-Identifier: MIT */
/*
 * partita top --socket S [--once] [--interval MS] [--period-us US]
 *
 * A live per-instance table of a running `partita serve`, like pw-top:
 * it asks GET_STATS every interval and prints instance, module, state,
 * domain pid, isolation, periods, process time mean and worst, the mean's
 * share of the period, deadline misses, faults, restarts, private heap and
 * a sound device's xruns
 * used of size. On a terminal the table redraws in place (ANSI clear);
 * otherwise each snapshot is printed after the last, separated by a blank
 * line. --once prints one snapshot and exits, for scripts. On a terminal
 * every line is cut to its width, and 'q' (or Ctrl-C) quits.
 *
 * The mean is over the last interval once there is one (what the module
 * costs now), and over the whole run in the first snapshot; worst is over
 * the whole run. The share is against the host's period as GET_STATS
 * reports it (--period-us overrides it).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "host/control/client.h"
#include "host/control/codec.h"
#include "tools/partita/cmd.h"
#include "tools/partita/report.h"

#define TOP_NOTES 4 /* notifications shown under the table */
#define TOP_INSTANCES_MAX 256 /* instances whose last snapshot is kept (the host's limit) */

struct top_prev {
	uint32_t id;
	uint64_t periods, process_ns;
};

struct top {
	const char *sock;
	int fd;
	uint32_t seq;
	uint32_t period_us;
	bool period_set;       /* given with --period-us */
	bool tty;
	unsigned cols;         /* the terminal's width; 0: no limit */
	struct top_prev prev[TOP_INSTANCES_MAX];
	size_t nprev;
	char notes[TOP_NOTES][160];
	unsigned nnotes;
	uint8_t msg[256];
	uint8_t reply[PT_CTL_MSG_MAX];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: partita top --socket PATH [--once] [--interval MS] [--period-us US]\n"
		"\n"
		"A live table of the instances of a running 'partita serve', like pw-top.\n"
		"  --socket PATH     the host's control socket\n"
		"  --once            print one snapshot and exit\n"
		"  --interval MS     refresh every MS milliseconds (default 1000)\n"
		"  --period-us US    the period for the SHARE column (default: the host's)\n"
		"\n"
		"Columns: INSTANCE MODULE STATE PID (domain pid, - when trusted) ISOLATION\n"
		"PERIODS MEAN_US (over the last interval; the whole run at first) WORST_US\n"
		"SHARE (mean / period) MISSES FAULTS RESTARTS HEAP (used/size) XRUNS\n"
		"(a sound device's under- and overruns) LATENCY (the module's own, frames:\n"
		"a plugin's latency port).\n");
}

/* Prints one line of the table, cut to the terminal's width. */
__attribute__((format(printf, 2, 3)))
static void line(const struct top *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (t->cols && (size_t)n > t->cols)
		n = (int)t->cols;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	printf("%.*s\n", n, buf);
}

/* Keeps the last notifications (faults, misses, restarts) for the table. */
static void note(void *ctx, const struct pt_ctl_reply *r)
{
	struct top *t = ctx;
	struct pt_ctl_notify n;
	const char *what;
	char *slot;

	if (r->body_size < sizeof(n))
		return;
	memcpy(&n, r->body, sizeof(n));
	pt_ctl_swap(&n, pt_ctl_layout(r->hdr.type, true));
	n.name[PT_NAME_MAX - 1] = 0;
	n.reason[sizeof(n.reason) - 1] = 0;
	switch (r->hdr.type) {
	case PT_CTL_NOTIFY_FAULT:
		what = "fault";
		break;
	case PT_CTL_NOTIFY_DEADLINE_MISS:
		what = "deadline miss";
		break;
	case PT_CTL_NOTIFY_RESTART:
		what = "restart";
		break;
	default:
		return;
	}
	if (t->nnotes == TOP_NOTES) {
		memmove(t->notes[0], t->notes[1], sizeof(t->notes[0]) * (TOP_NOTES - 1));
		t->nnotes--;
	}
	slot = t->notes[t->nnotes++];
	snprintf(slot, sizeof(t->notes[0]), "%s: %s at period %llu (%llu so far)%s%s",
		 what, n.name, (unsigned long long)n.period,
		 (unsigned long long)n.count, n.reason[0] ? ": " : "", n.reason);
}

static const char *state_text(unsigned s)
{
	switch (s) {
	case PT_CTL_INSTANCE_INIT:
		return "INIT";
	case PT_CTL_INSTANCE_PREPARED:
		return "READY";
	case PT_CTL_INSTANCE_FAILED:
		return "FAILED";
	default:
		return "?";
	}
}

/* The mean process time over the last interval if the instance ran in it,
 * else over the whole run; remembers this snapshot for the next. */
static double mean_ns(struct top *t, const struct pt_ctl_instance_stats *e)
{
	double mean = e->periods ? (double)e->process_ns / (double)e->periods : 0.0;
	size_t i;

	for (i = 0; i < t->nprev; i++)
		if (t->prev[i].id == e->instance)
			break;
	if (i < t->nprev && e->periods > t->prev[i].periods &&
	    e->process_ns >= t->prev[i].process_ns)
		mean = (double)(e->process_ns - t->prev[i].process_ns) /
		       (double)(e->periods - t->prev[i].periods);
	if (i == t->nprev) {
		if (t->nprev == TOP_INSTANCES_MAX)
			return mean;
		t->nprev++;
	}
	t->prev[i].id = e->instance;
	t->prev[i].periods = e->periods;
	t->prev[i].process_ns = e->process_ns;
	return mean;
}

/* Asks for the stats and prints one table. Returns 0, or the exit status
 * after printing why it failed. */
static int snapshot(struct top *t)
{
	struct pt_ctl_get_stats m = { 0 };
	struct pt_ctl_stats_reply rep;
	struct pt_ctl_reply r;
	char err[PT_CTL_ERR_MAX], used[16], size[16], heap[40];
	const uint8_t *p;
	uint32_t seq = ++t->seq;
	size_t len = pt_ctl_encode(t->msg, sizeof(t->msg), PT_CTL_GET_STATS, 0, seq, 0,
				   &m, pt_ctl_layout(PT_CTL_GET_STATS, false), NULL, 0,
				   NULL, 0);

	if (!len) {
		fprintf(stderr, "partita top: cannot encode GET_STATS\n");
		return 3;
	}
	if (pt_ctl_call(t->fd, t->msg, len, seq, t->reply, sizeof(t->reply), &r, 2000,
			note, t, err, sizeof(err))) {
		fprintf(stderr, "partita top: no answer from the host at %s (%s)\n",
			t->sock, err);
		return 3;
	}
	if (r.hdr.status != PT_CTL_OK) {
		fprintf(stderr, "partita top: GET_STATS refused (%s): %s\n",
			pt_ctl_status_name(r.hdr.status), (const char *)r.body);
		return 1;
	}
	if (r.body_size < sizeof(rep)) {
		fprintf(stderr, "partita top: GET_STATS reply of %zu bytes is too short\n",
			r.body_size);
		return 3;
	}
	memcpy(&rep, r.body, sizeof(rep));
	pt_ctl_swap(&rep, pt_ctl_layout(PT_CTL_GET_STATS, true));
	if (!t->period_set && rep.period_us >= 100 && rep.period_us <= 1000000)
		t->period_us = rep.period_us;
	if (r.body_size != sizeof(rep) + (size_t)rep.count * sizeof(struct pt_ctl_instance_stats)) {
		fprintf(stderr, "partita top: GET_STATS reply holds %zu bytes for %u instances\n",
			r.body_size, rep.count);
		return 3;
	}

	if (t->tty) {
		struct winsize ws;

		fputs("\033[H\033[2J", stdout);
		t->cols = !ioctl(1, TIOCGWINSZ, &ws) && ws.ws_col ? ws.ws_col : 0;
	}
	pt_report_size(used, sizeof(used), rep.budget_used);
	pt_report_size(size, sizeof(size), rep.budget_total);
	line(t, "partita top: %u instances, user heap %s of %s, period %u us%s",
	     rep.count, used, size, t->period_us, t->tty ? " ('q' quits)" : "");
	line(t, "%-16s %-10s %-6s %7s %-9s %9s %9s %9s %6s %6s %6s %8s %15s %6s %7s",
	       "INSTANCE", "MODULE", "STATE", "PID", "ISOLATION", "PERIODS", "MEAN_US",
	       "WORST_US", "SHARE", "MISSES", "FAULTS", "RESTARTS", "HEAP", "XRUNS", "LATENCY");
	p = (const uint8_t *)r.body + sizeof(rep);
	for (uint32_t i = 0; i < rep.count; i++, p += sizeof(struct pt_ctl_instance_stats)) {
		struct pt_ctl_instance_stats e;
		char pid[16];
		double mean;

		memcpy(&e, p, sizeof(e));
		pt_ctl_swap(&e, PT_CTL_LAYOUT_INSTANCE_STATS);
		e.name[PT_NAME_MAX - 1] = e.module[PT_NAME_MAX - 1] = 0;
		mean = mean_ns(t, &e);
		if (e.domain_pid > 0)
			snprintf(pid, sizeof(pid), "%d", e.domain_pid);
		else
			snprintf(pid, sizeof(pid), "-");
		pt_report_size(used, sizeof(used), e.heap_used);
		pt_report_size(size, sizeof(size), e.heap_size);
		snprintf(heap, sizeof(heap), "%s/%s", used, size);
		line(t, "%-16s %-10s %-6s %7s %-9s %9llu %9.2f %9.2f %5.2f%% %6llu %6llu %8llu %15s %6u %7u",
		       e.name, e.module, state_text(e.state), pid,
		       e.isolation == PT_CTL_ISOLATION_PROCESS ? "process" : "none",
		       (unsigned long long)e.periods, mean / 1e3,
		       (double)e.worst_ns / 1e3, 100.0 * mean / (1e3 * t->period_us),
		       (unsigned long long)e.deadline_misses,
		       (unsigned long long)e.faults, (unsigned long long)e.restarts,
		       heap, e.xruns, e.latency_frames);
	}
	for (unsigned i = 0; i < t->nnotes; i++)
		line(t, "  %s", t->notes[i]);
	if (!t->tty)
		putchar('\n');
	fflush(stdout);
	return 0;
}

static volatile sig_atomic_t top_quit;

static void on_quit(int sig)
{
	(void)sig;
	top_quit = 1;
}

static bool number_arg(const char *what, const char *v, unsigned long lo,
		       unsigned long hi, uint32_t *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || !*v || n < lo || n > hi) {
		fprintf(stderr, "partita top: %s '%s' is not %lu..%lu\n", what, v, lo, hi);
		return false;
	}
	*out = (uint32_t)n;
	return true;
}

int pt_cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "once", no_argument, NULL, '1' },
		{ "interval", required_argument, NULL, 'i' },
		{ "period-us", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *sock = NULL;
	uint32_t interval_ms = 1000;
	char err[PT_CTL_ERR_MAX];
	struct top *t;
	struct termios saved;
	struct sigaction sa = { .sa_handler = on_quit };
	bool once = false, keys;
	int c, ret;

	optind = 1;
	opterr = 0;
	t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(stderr, "partita top: out of memory\n");
		return 1;
	}
	t->period_us = 1000;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case '1':
			once = true;
			break;
		case 'i':
			if (!number_arg("--interval", optarg, 50, 3600000, &interval_ms))
				goto usage_error;
			break;
		case 'p':
			t->period_set = true;
			if (!number_arg("--period-us", optarg, 100, 1000000, &t->period_us))
				goto usage_error;
			break;
		case 'h':
			usage(stdout);
			free(t);
			return 0;
		default:
			fprintf(stderr, "partita top: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			goto usage_error;
		}
	}
	if (!sock || optind < argc) {
		fprintf(stderr, optind < argc ? "partita top: unexpected argument '%s'\n" :
						"partita top: --socket PATH is required%s\n",
			optind < argc ? argv[optind] : "");
		goto usage_error;
	}
	t->sock = sock;
	t->fd = pt_ctl_connect(sock, err, sizeof(err));
	if (t->fd < 0) {
		fprintf(stderr, "partita top: %s\n", err);
		free(t);
		return 1;
	}
	t->tty = !once && isatty(1);
	/* Keys without Enter and without echo, restored on the way out. */
	keys = t->tty && isatty(0) && !tcgetattr(0, &saved);
	if (keys) {
		struct termios raw = saved;

		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(0, TCSANOW, &raw);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (;;) {
		struct timespec ts = { (time_t)(interval_ms / 1000),
				       (long)(interval_ms % 1000) * 1000000L };
		struct pollfd pf = { .fd = 0, .events = POLLIN };
		char key = 0;

		ret = snapshot(t);
		if (ret || once || top_quit)
			break;
		if (!keys) {
			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(&pf, 1, (int)interval_ms) > 0 && read(0, &key, 1) == 1 &&
		    (key == 'q' || key == 'Q'))
			break;
		if (top_quit)
			break;
	}
	if (keys)
		tcsetattr(0, TCSANOW, &saved);
	close(t->fd);
	free(t);
	return ret;
usage_error:
	usage(stderr);
	free(t);
	return 2;
}
