/* SPDX-License-Identifier: MIT */
/*
 * ipcc watch: a live view of a running system's registers, interrupt lines, channel owners,
 * CPUs and service counters.
 *
 * It must not slow down what it watches. It never writes a register, and it never polls fast:
 * each watched link has a thread blocked in ipcc_regs_wait_write, which wakes at the next
 * register write of any process. A link counts its watchers in the object, and while it has
 * one every register write of the link pays a FUTEX_WAKE, so a thread watches only until it
 * sees one write and then stops; the next frame is drawn no sooner than --interval after the
 * last one, and only then do the threads watch again (a snapshot taken once they watch
 * catches what changed meanwhile). The cost to the system is therefore a few wakes per link
 * and frame, whatever its traffic. Counters and owners that change without a register write
 * are read again every second when nothing else happens.
 *
 * The waits need a handle that may write the object (the watcher count is in it): without
 * write permission watch opens it read-only and reads it every --interval instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/rpmsg.h>

#include "ipcc-tool.h"

/* Threads that wait on links; a system with more links to watch is read every --interval. */
#define WATCH_THREADS_MAX 128u
/* A thread's wait is bounded so that it notices stop; the idle refresh of the counters. */
#define WATCH_CHUNK_NS		  200000000
#define WATCH_IDLE_MS		  1000
#define WATCH_INTERVAL_DEFAULT_NS 250000000ull

static const char watch_help[] =
	"Usage: ipcc watch NAME [--link A-B] [--interval S] [--count N] [--json]\n"
	"\n"
	"A live view of a running system: every CPU (owner, wait mode, power), the registers\n"
	"and interrupt lines of every link, the channel owners and the service counters (IPC\n"
	"Notify queues, RPMessage vrings). On a terminal it redraws in place and highlights\n"
	"what changed since the last frame; otherwise it prints the values once, then one\n"
	"timestamped line per change. Ctrl-C ends it.\n"
	"\n"
	"It writes no register: it waits for the next register write of any process\n"
	"(ipcc_regs_wait_write) and draws at most one frame per interval, so the system pays a\n"
	"few wakes per frame. That wait needs write permission on the object; without it the\n"
	"object is opened read-only and read every interval.\n"
	"\n"
	"  --link A-B      only the link between CPUs A and B (and its queues)\n"
	"  --interval S    at least S seconds between frames (default 0.25)\n"
	"  --count N       exit after N frames that changed something\n"
	"  --json          one JSON object per line and change, terminal or not\n";

/* ---- frames: named values, compared by position ----------------------------------------- */

struct field {
	char group[64]; /* what the value belongs to: "link 0-1 proc1", "cpu 2 m4" */
	char label[16]; /* its name in the group: "SR", "owner" */
	char value[48];
};

struct frame {
	struct field *f;
	size_t n, cap;
	bool oom; /* a field could not be added: the frame is incomplete */
};

static void __attribute__((format(printf, 4, 5)))
add(struct frame *fr, const char *group, const char *label, const char *fmt, ...)
{
	va_list ap;

	if (fr->n == fr->cap) {
		size_t cap = fr->cap ? 2 * fr->cap : 64;
		struct field *f = fr->oom ? NULL : realloc(fr->f, cap * sizeof(*f));
		/* Not exit(): the waiters must stop watching first (see watch_run). */
		if (!f) {
			fr->oom = true;
			return;
		}
		fr->f = f;
		fr->cap = cap;
	}
	struct field *f = &fr->f[fr->n++];
	snprintf(f->group, sizeof(f->group), "%s", group);
	snprintf(f->label, sizeof(f->label), "%s", label);
	va_start(ap, fmt);
	vsnprintf(f->value, sizeof(f->value), fmt, ap);
	va_end(ap);
}

struct watch {
	const char *name;
	struct ipcc_system *sys;
	bool only;
	unsigned only_a, only_b;
	unsigned nlinks;
	unsigned (*links)[2];
};

static bool watched(const struct watch *w, unsigned a, unsigned b)
{
	unsigned lo = a < b ? a : b, hi = a < b ? b : a;

	return ipcc_system_linked(w->sys, a, b) &&
	       (!w->only || (lo == w->only_a && hi == w->only_b));
}

/* "0-4 procedures, 5 notify": a run of channels with one owner is one range. */
static void owners_text(const struct link_snapshot *s, unsigned channels, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned n = 0; n < channels;) {
		unsigned m = n;
		char ob[24];
		while (m + 1 < channels && s->owner[m + 1] == s->owner[n])
			m++;
		const char *who = owner_name(s->owner[n], ob, sizeof(ob));
		int k = m == n ? snprintf(buf + o, size - o, "%s%u %s", o ? ", " : "", n, who)
			       : snprintf(buf + o, size - o, "%s%u-%u %s", o ? ", " : "", n, m,
					  who);
		if (k < 0 || (size_t)k >= size - o)
			return;
		o += (size_t)k;
		n = m + 1;
	}
}

static int snapshot(const struct watch *w, struct frame *fr)
{
	struct ipcc_system *sys = w->sys;
	unsigned cpus = ipcc_system_cpus(sys), channels = ipcc_system_channels(sys);
	char g[64], b1[24], b2[24];
	int r;

	fr->n = 0;
	for (unsigned i = 0; i < cpus; i++) {
		struct ipcc_cpu_owner o;
		struct ipcc_cpu_state st;
		r = ipcc_system_cpu_owner(sys, i, &o);
		if (r == 0)
			r = ipcc_system_cpu_state(sys, i, &st);
		if (r < 0)
			return r;
		snprintf(g, sizeof(g), "cpu %u %s", i, ESC(ipcc_system_cpu_name(sys, i)));
		if (o.alive)
			add(fr, g, "owner", "pid %d", (int)o.pid);
		else if (o.attached)
			add(fr, g, "owner", "dead (pid %d)", (int)o.pid);
		else
			add(fr, g, "owner", "free");
		add(fr, g, "wait", "%s",
		    o.attached ? wait_mode_text(st.wait_mode, b1, sizeof(b1)) : "-");
		add(fr, g, "power", "%s", o.attached ? power_text(st.power, b2, sizeof(b2)) : "-");
	}
	for (unsigned i = 0; i < w->nlinks; i++) {
		unsigned a = w->links[i][0], b = w->links[i][1];
		struct link_snapshot s;
		char own[256];
		r = link_snapshot(sys, a, b, &s);
		if (r < 0)
			return r;
		for (unsigned p = 0; p < 2; p++) {
			snprintf(g, sizeof(g), "link %u-%u proc%u", a, b, p + 1);
			add(fr, g, "CR", "0x%08" PRIx32, s.cr[p]);
			add(fr, g, "MR", "0x%08" PRIx32, s.mr[p]);
			add(fr, g, p ? "C2TOC1SR" : "C1TOC2SR", "0x%08" PRIx32, s.sr[p]);
			add(fr, g, "RXO", "%s", s.irq[p][IPCC_IRQ_RXO] ? "HIGH" : "low");
			add(fr, g, "TXF", "%s", s.irq[p][IPCC_IRQ_TXF] ? "HIGH" : "low");
		}
		snprintf(g, sizeof(g), "link %u-%u", a, b);
		owners_text(&s, channels, own, sizeof(own));
		add(fr, g, "owners", "%s", own);
	}
	/* The services' counters; a queue busy all along is shown again at the next frame. */
	struct queue_snapshot *q;
	struct vring_snapshot *v;
	unsigned nq, nv;
	r = notify_snapshot(sys, w->only, w->only_a, w->only_b, &q, &nq);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < nq; i++) {
		snprintf(g, sizeof(g), "notify %u->%u", q[i].from, q[i].to);
		add(fr, g, "fill", "%" PRIu32 "/%" PRIu32, q[i].st.fill, q[i].st.depth);
		add(fr, g, "sent", "%" PRIu64, q[i].st.sent);
		add(fr, g, "received", "%" PRIu64, q[i].st.received);
		add(fr, g, "full", "%" PRIu64, q[i].st.full);
		add(fr, g, "dropped", "%" PRIu64, q[i].st.dropped);
	}
	free(q);
	r = rpmsg_snapshot(sys, w->only, w->only_a, w->only_b, &v, &nv);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < nv; i++) {
		const struct ipcc_rpmsg_stats *st = &v[i].st;
		snprintf(g, sizeof(g), "rpmsg %u->%u", v[i].from, v[i].to);
		add(fr, g, "queued", "%" PRIu32 "/%" PRIu32, st->full, st->buffers);
		add(fr, g, "sent", "%" PRIu64, st->sent);
		add(fr, g, "received", "%" PRIu64, st->received);
		add(fr, g, "nobuf", "%" PRIu64, st->nobuf);
		add(fr, g, "drops", "%" PRIu64, st->dropped + st->stale + st->bad);
	}
	free(v);
	return fr->oom ? -ENOMEM : 0;
}

/* ---- output ------------------------------------------------------------------------------- */

/* Whether field i differs from the previous frame (every field of the first one does). */
static bool changed(const struct frame *prev, const struct frame *cur, size_t i)
{
	return !prev || i >= prev->n || strcmp(prev->f[i].value, cur->f[i].value) ||
	       strcmp(prev->f[i].group, cur->f[i].group) ||
	       strcmp(prev->f[i].label, cur->f[i].label);
}

static bool any_change(const struct frame *prev, const struct frame *cur)
{
	if (!prev || prev->n != cur->n)
		return true;
	for (size_t i = 0; i < cur->n; i++)
		if (changed(prev, cur, i))
			return true;
	return false;
}

/* Terminal: the whole frame from the top-left corner, changed values in reverse video. */
static void draw_tty(const struct watch *w, const struct frame *prev, const struct frame *cur,
		     unsigned frames, bool polling)
{
	struct winsize ws = { 0 };
	unsigned rows = 0, cols = 0, lines = 0, hidden = 0;
	char tb[40];

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	fputs(prev ? "\033[H" : "\033[H\033[2J", stdout);
	printf("ipcc watch %s  %s  frame %u%s  (Ctrl-C quits; reverse video: changed)\033[K\n",
	       ESC(w->name), iso_time(tb, sizeof(tb)), frames,
	       polling ? ", read-only: polled" : "");
	lines++;
	for (size_t i = 0; i < cur->n;) {
		size_t j = i;
		unsigned width = 0;
		char line[1024];
		size_t o = 0;

		if (rows && lines + 1 >= rows) {
			hidden++;
			while (j < cur->n && !strcmp(cur->f[j].group, cur->f[i].group))
				j++;
			i = j;
			continue;
		}
		o += (size_t)snprintf(line, sizeof(line), "  %-18s", cur->f[i].group);
		width = (unsigned)o;
		for (; j < cur->n && !strcmp(cur->f[j].group, cur->f[i].group); j++) {
			const struct field *f = &cur->f[j];
			unsigned need = (unsigned)(strlen(f->label) + strlen(f->value) + 3);
			if (cols && width + need > cols)
				continue; /* cut at the right edge, like top */
			bool hi = prev && changed(prev, cur, j);
			o += (size_t)snprintf(line + o, sizeof(line) - o, " %s %s%s%s ", f->label,
					      hi ? "\033[7m" : "", f->value, hi ? "\033[0m" : "");
			width += need;
			if (o >= sizeof(line))
				break;
		}
		fputs(line, stdout);
		fputs("\033[K\n", stdout);
		lines++;
		i = j;
	}
	if (hidden)
		printf("  (%u more lines below the terminal's height: --link narrows)\033[K\n",
		       hidden);
	fputs("\033[J", stdout);
	fflush(stdout);
}

/* Not a terminal: one line per changed value (the first frame: every value, with "="). */
static int print_lines(const struct frame *prev, const struct frame *cur, bool json)
{
	char tb[40];

	iso_time(tb, sizeof(tb));
	for (size_t i = 0; i < cur->n; i++) {
		const struct field *f = &cur->f[i];
		const char *old = prev && i < prev->n ? prev->f[i].value : NULL;
		if (!changed(prev, cur, i))
			continue;
		if (json) {
			json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:s}", "time", tb, "group",
					      jstr(f->group), "field", f->label, "old", jstr(old),
					      "new", f->value);
			if (!o || json_dumpf(o, stdout, JSON_COMPACT) < 0) {
				json_decref(o);
				return -ENOMEM;
			}
			json_decref(o);
			putchar('\n');
		} else if (old) {
			printf("%s %s %s %s -> %s\n", tb, f->group, f->label, old, f->value);
		} else {
			printf("%s %s %s = %s\n", tb, f->group, f->label, f->value);
		}
	}
	return fflush(stdout) == EOF ? -EIO : 0;
}

/* ---- the waiters ---------------------------------------------------------------------------- */

enum waiter_state { W_IDLE, W_ARMED, W_WATCHING, W_CHANGED };

struct waiter {
	struct ipcc_regs *regs;
	pthread_t thread;
	enum waiter_state state;
	int err; /* a wait that failed: the thread stops */
	bool started;
};

static pthread_mutex_t w_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t w_cond = PTHREAD_COND_INITIALIZER;
static atomic_bool w_stop;
static int w_pipe[2] = { -1, -1 };

static void poke(void)
{
	if (write(w_pipe[1], "w", 1) < 0) {
		/* full: the main loop has something to read already */
	}
}

/*
 * Wait for the main loop to arm it; watch the link and say so; wait for one register write;
 * stop watching and say so. The link is watched only between the arm and that write.
 */
static void *waiter_main(void *arg)
{
	struct waiter *t = arg;
	uint32_t seq = 0;

	pthread_mutex_lock(&w_lock);
	for (;;) {
		/* Relaxed: w_lock orders it. */
		while (!atomic_load_explicit(&w_stop, memory_order_relaxed) && t->state != W_ARMED)
			pthread_cond_wait(&w_cond, &w_lock);
		if (atomic_load_explicit(&w_stop, memory_order_relaxed))
			break;
		pthread_mutex_unlock(&w_lock);
		int r = ipcc_regs_watch(t->regs, true);
		if (r == 0) {
			/* Catch up with writes seen by other watchers while we did not watch. */
			r = ipcc_regs_wait_write(t->regs, &seq, 0);
			if (r == -EAGAIN)
				r = 0;
		}
		pthread_mutex_lock(&w_lock);
		t->state = W_WATCHING;
		pthread_mutex_unlock(&w_lock);
		poke();
		while (r == 0) {
			r = ipcc_regs_wait_write(t->regs, &seq, WATCH_CHUNK_NS);
			if (r == 0)
				break;
			/* Relaxed: written under w_lock; this look only bounds how late the
			 * thread notices stop. */
			if (r == -ETIMEDOUT && !atomic_load_explicit(&w_stop, memory_order_relaxed))
				r = 0;
			else if (r == -ETIMEDOUT)
				break;
		}
		(void)ipcc_regs_watch(t->regs, false);
		pthread_mutex_lock(&w_lock);
		t->state = W_CHANGED;
		if (r < 0 && r != -ETIMEDOUT)
			t->err = r;
		pthread_mutex_unlock(&w_lock);
		poke();
		if (t->err)
			break;
		pthread_mutex_lock(&w_lock);
	}
	pthread_mutex_unlock(&w_lock);
	return NULL;
}

/* Arm every idle waiter; then wait (poll on the pipe) until each watches or saw a write. */
static int arm_all(struct waiter *t, unsigned n)
{
	pthread_mutex_lock(&w_lock);
	for (unsigned i = 0; i < n; i++)
		if (t[i].state == W_IDLE || t[i].state == W_CHANGED)
			t[i].state = W_ARMED;
	pthread_cond_broadcast(&w_cond);
	for (;;) {
		bool ready = true;
		for (unsigned i = 0; i < n; i++) {
			if (t[i].err) {
				int e = t[i].err;
				pthread_mutex_unlock(&w_lock);
				return e;
			}
			ready &= t[i].state != W_ARMED;
		}
		if (ready || cli_stop)
			break;
		pthread_mutex_unlock(&w_lock);
		struct pollfd p = { .fd = w_pipe[0], .events = POLLIN };
		char buf[64];
		if (poll(&p, 1, 100) > 0 && read(w_pipe[0], buf, sizeof(buf)) < 0) {
			/* nothing to do: the states say what happened */
		}
		pthread_mutex_lock(&w_lock);
	}
	pthread_mutex_unlock(&w_lock);
	return 0;
}

static bool any_changed(struct waiter *t, unsigned n)
{
	bool c = false;

	pthread_mutex_lock(&w_lock);
	for (unsigned i = 0; i < n; i++)
		c |= t[i].state == W_CHANGED || t[i].err;
	pthread_mutex_unlock(&w_lock);
	return c;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (!cli_stop && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the command ---------------------------------------------------------------------------- */

static int watch_run(struct watch *w, uint64_t interval, unsigned long count, bool json,
		     bool polling)
{
	struct waiter *t = NULL;
	struct frame fr[2] = { 0 };
	unsigned cur = 0, frames = 0, nt = polling ? 0 : w->nlinks;
	bool tty = !json && isatty(STDOUT_FILENO);
	int r = 0, ret = EXIT_RUNTIME;

	if (pipe2(w_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "ipcc: cannot watch %s: %s\n", ESC(w->name), strerror(errno));
		return EXIT_RUNTIME;
	}
	cli_catch_stop(w_pipe[1]);
	t = calloc(nt ? nt : 1, sizeof(*t));
	if (!t)
		goto oom;
	/* The waiters block the stop signals, so that they reach the main loop's sleeps. */
	sigset_t stop_sigs, old_sigs;
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigaddset(&stop_sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_sigs, &old_sigs);
	for (unsigned i = 0; i < nt; i++) {
		r = ipcc_regs_open(w->sys, w->links[i][0], w->links[i][1], &t[i].regs);
		if (r == 0 && pthread_create(&t[i].thread, NULL, waiter_main, &t[i]) != 0)
			r = -EAGAIN;
		if (r < 0)
			break;
		t[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old_sigs, NULL);
	if (r < 0)
		goto fail;
	if (tty)
		fputs("\033[?25l", stdout); /* no cursor blinking over the values */
	r = snapshot(w, &fr[cur]);
	if (r < 0)
		goto fail;
	if (tty)
		draw_tty(w, NULL, &fr[cur], frames, polling);
	else if (print_lines(NULL, &fr[cur], json) < 0)
		goto wfail;
	uint64_t last = now_ns();
	while (!cli_stop && (!count || frames < count)) {
		struct frame *prev = &fr[cur], *next = &fr[cur ^ 1];
		uint64_t since = now_ns() - last;

		/* The bound on the refresh rate: nothing is watched meanwhile. */
		if (since < interval)
			sleep_ns(interval - since);
		if (cli_stop)
			break;
		if (nt) {
			r = arm_all(t, nt);
			if (r < 0)
				goto fail;
		}
		r = snapshot(w, next);
		if (r < 0)
			goto fail;
		if (!any_change(prev, next) && nt) {
			/* Sleep until a link is written, or the idle refresh for the counters. */
			uint64_t t0 = now_ns();
			while (!cli_stop && !any_changed(t, nt) &&
			       now_ns() - t0 < WATCH_IDLE_MS * 1000000ull) {
				struct pollfd p = { .fd = w_pipe[0], .events = POLLIN };
				char buf[64];
				if (poll(&p, 1, WATCH_IDLE_MS) > 0 &&
				    read(w_pipe[0], buf, sizeof(buf)) < 0) {
					/* the states say what happened */
				}
			}
			r = snapshot(w, next);
			if (r < 0)
				goto fail;
		}
		if (!any_change(prev, next))
			continue;
		frames++;
		last = now_ns();
		if (tty)
			draw_tty(w, prev, next, frames, polling);
		else if (print_lines(prev, next, json) < 0)
			goto wfail;
		cur ^= 1;
	}
	ret = 0;
	goto out;

oom:
	r = -ENOMEM;
fail:
	fprintf(stderr, "ipcc: cannot watch %s: %s\n", ESC(w->name), ipcc_strerror(r));
	goto out;
wfail:
	fprintf(stderr, "ipcc: cannot watch %s: cannot write the output\n", ESC(w->name));
out:
	/* Every thread stops watching before the process ends: a count left in the object would
	 * make each register write of the link pay a wake for ever. */
	pthread_mutex_lock(&w_lock);
	atomic_store_explicit(&w_stop, true, memory_order_relaxed); /* w_lock orders it */
	pthread_cond_broadcast(&w_cond);
	pthread_mutex_unlock(&w_lock);
	for (unsigned i = 0; t && i < nt; i++) {
		if (t[i].started)
			pthread_join(t[i].thread, NULL);
		ipcc_regs_close(t[i].regs);
	}
	if (tty)
		fputs("\033[?25h", stdout);
	fflush(stdout);
	free(t);
	free(fr[0].f);
	free(fr[1].f);
	return ret;
}

int cmd_watch(int argc, char **argv)
{
	enum { OPT_INTERVAL = 256, OPT_COUNT };
	static const struct option longopts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct watch w = { 0 };
	char name[IPCC_NAME_MAX + 2];
	uint64_t interval = WATCH_INTERVAL_DEFAULT_NS;
	unsigned long count = 0;
	bool json = false, polling = false;
	int c, r, ret;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case 'l':
			r = parse_pair("--link", optarg, &w.only_a, &w.only_b);
			if (r)
				return r;
			w.only = true;
			break;
		case OPT_INTERVAL:
			if (parse_seconds(optarg, &interval) < 0 || interval < 10000000u)
				return usage_error("watch: --interval '%s': a number of seconds, "
						   "at least 0.01, expected",
						   optarg);
			break;
		case OPT_COUNT:
			if (parse_ulong(optarg, 10, &count) < 0 || count == 0)
				return usage_error("watch: --count '%s': a positive number "
						   "expected",
						   optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(watch_help, stdout);
			return 0;
		case ':':
			return usage_error("watch: option '%s' needs a value", opt);
		default:
			return usage_error("watch: unknown option '%s'", opt);
		}
	}
	r = name_operand("watch", argc, argv, name, sizeof(name));
	if (r)
		return r;
	w.name = name;
	r = ipcc_system_open(name, &w.sys);
	if (r == -EACCES || r == -EPERM) {
		/* An observer that may only read: no waits, a read every interval. */
		r = ipcc_system_open_flags(name, IPCC_OPEN_READONLY, &w.sys);
		polling = true;
	}
	if (r < 0)
		return fail("open", name, r);
	unsigned cpus = ipcc_system_cpus(w.sys);
	if (w.only && (r = link_check(w.sys, name, w.only_a, w.only_b))) {
		ipcc_system_close(w.sys);
		return r;
	}
	w.links = calloc(ipcc_system_link_count(w.sys), sizeof(*w.links));
	if (!w.links) {
		ipcc_system_close(w.sys);
		return fail("watch", name, -ENOMEM);
	}
	for (unsigned a = 0; a < cpus; a++)
		for (unsigned b = a + 1; b < cpus; b++)
			if (watched(&w, a, b)) {
				w.links[w.nlinks][0] = a;
				w.links[w.nlinks++][1] = b;
			}
	if (!polling && w.nlinks > WATCH_THREADS_MAX) {
		fprintf(stderr,
			"ipcc: watch: %s has %u links, more than the %u this waits on; reading "
			"it every interval instead (--link watches one)\n",
			ESC(name), w.nlinks, WATCH_THREADS_MAX);
		polling = true;
	}
	if (ipcc_system_readonly(w.sys))
		fprintf(stderr,
			"ipcc: watch: reading %s every %.2f s (no write permission for the "
			"waits)\n",
			ESC(name), (double)interval / 1e9);
	ret = watch_run(&w, interval, count, json, polling);
	free(w.links);
	ipcc_system_close(w.sys);
	return ret;
}
