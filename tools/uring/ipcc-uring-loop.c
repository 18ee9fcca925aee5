/* SPDX-License-Identifier: MIT */
/*
 * ipcc-uring-loop: serve the IPCC channels of one CPU and a timer from a single io_uring loop.
 *
 * It attaches a CPU of an existing system (see `ipcc create`), receives simplex messages on one
 * channel (ipcc_recv_async, counted), answers half-duplex calls on another (ipcc_serve_async:
 * echo or a transform) and prints a status line every --interval-ms, all from one thread that
 * only ever sleeps in io_uring_wait_cqe. The IPCC interrupts arrive on the ring either as a
 * FUTEX_WAIT on the CPU's doorbell (Linux 6.7+) or as a multishot poll on the CPU's eventfd;
 * the timer is an absolute IORING_OP_TIMEOUT re-armed one period later at each expiry (no drift,
 * and liburing 2.3 has no multishot timeout); SIGINT/SIGTERM come through a signalfd read on the
 * ring. It stops after --seconds, after --messages received, or on a signal, prints the totals
 * and exits 0.
 *
 * Exit status: 0 done, 1 runtime error, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <liburing.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

#define PROG "ipcc-uring-loop"

static const char usage_text[] =
	"Usage: " PROG " NAME [OPTIONS]\n"
	"\n"
	"Attach a CPU of the existing system NAME and serve it from one io_uring loop: count the\n"
	"simplex messages of one channel, answer the half-duplex calls of another, and print a\n"
	"status line periodically.\n"
	"\n"
	"Options:\n"
	"  --cpu N             the CPU to attach (default 1)\n"
	"  --peer P            the CPU it talks to (default 0)\n"
	"  --rx-channel C      channel of the simplex messages (default 0)\n"
	"  --call-channel D    channel of the half-duplex calls (default 1)\n"
	"  --reply KIND        answer to a call: echo (default), reverse, upper\n"
	"  --wait HOW          auto (default), futex or poll: how the ring waits for interrupts;\n"
	"                      auto is futex where the kernel has IORING_OP_FUTEX_WAIT, else poll\n"
	"                      (the CPU then runs in eventfd mode)\n"
	"  --interval-ms MS    status line period, 1..3600000 (default 1000)\n"
	"  --seconds S         stop after S seconds, 1..31536000\n"
	"  --messages N        stop once N messages were received\n"
	"  -h, --help          this text\n"
	"      --version       the versions of " PROG " and of its libipcc\n"
	"\n"
	"Without --seconds or --messages it runs until SIGINT or SIGTERM.\n"
	"Exit status: 0 done, 1 runtime error, 2 usage error.\n";

enum reply_kind { REPLY_ECHO, REPLY_REVERSE, REPLY_UPPER };
enum wait_choice { WAIT_AUTO, WAIT_FUTEX, WAIT_POLL };

/* user_data of the ring's requests */
enum { TAG_IRQ = 1, TAG_TIMER, TAG_SIGNAL, TAG_CANCEL };

struct loop {
	/* options */
	const char *name;
	unsigned cpu_id, peer, rx_ch, call_ch;
	enum reply_kind reply;
	enum wait_choice wait;
	uint64_t interval_ns;
	uint64_t seconds;  /* 0: no limit */
	uint64_t messages; /* 0: no limit */

	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct io_uring ring;
	bool ring_up;
	enum ipcc_uring_wait how;
	int sigfd;
	struct signalfd_siginfo si;
	struct __kernel_timespec timer_at; /* read by the kernel at submission */

	/* what is in flight on the ring */
	bool irq_armed, timer_armed, sig_armed;

	int64_t t0, next_status, end;
	bool stop;
	const char *stop_reason;

	/* counters */
	uint64_t rx, rx_bytes, calls, wakeups, ticks;
	uint64_t last_rx, last_calls;
	int64_t last_t;
};

__attribute__((format(printf, 1, 2))) static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	va_end(ap);
	exit(EXIT_USAGE);
}

/* A runtime error: what failed, and why (a negative errno). */
__attribute__((format(printf, 2, 3))) static int fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", ipcc_strerror(err));
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_RUNTIME;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		usage_error("%s: '%s' is not a number in %" PRIu64 "..%" PRIu64, opt, s, min, max);
	return v;
}

static void parse(int argc, char **argv, struct loop *l)
{
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, 'c' },
		{ "peer", required_argument, NULL, 'p' },
		{ "rx-channel", required_argument, NULL, 'r' },
		{ "call-channel", required_argument, NULL, 'k' },
		{ "reply", required_argument, NULL, 'R' },
		{ "wait", required_argument, NULL, 'w' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "seconds", required_argument, NULL, 's' },
		{ "messages", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int o;

	*l = (struct loop){ .cpu_id = 1, .call_ch = 1, .interval_ns = 1000000000ull, .sigfd = -1 };
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			l->cpu_id = (unsigned)parse_u64("--cpu", optarg, 0, IPCC_CPUS_MAX - 1);
			break;
		case 'p':
			l->peer = (unsigned)parse_u64("--peer", optarg, 0, IPCC_CPUS_MAX - 1);
			break;
		case 'r':
			l->rx_ch = (unsigned)parse_u64("--rx-channel", optarg, 0,
						       IPCC_CHANNELS_MAX - 1);
			break;
		case 'k':
			l->call_ch = (unsigned)parse_u64("--call-channel", optarg, 0,
							 IPCC_CHANNELS_MAX - 1);
			break;
		case 'R':
			if (!strcmp(optarg, "echo"))
				l->reply = REPLY_ECHO;
			else if (!strcmp(optarg, "reverse"))
				l->reply = REPLY_REVERSE;
			else if (!strcmp(optarg, "upper"))
				l->reply = REPLY_UPPER;
			else
				usage_error("--reply: '%s' is not echo, reverse or upper", optarg);
			break;
		case 'w':
			if (!strcmp(optarg, "auto"))
				l->wait = WAIT_AUTO;
			else if (!strcmp(optarg, "futex"))
				l->wait = WAIT_FUTEX;
			else if (!strcmp(optarg, "poll"))
				l->wait = WAIT_POLL;
			else
				usage_error("--wait: '%s' is not auto, futex or poll", optarg);
			break;
		case 'i':
			l->interval_ns =
				parse_u64("--interval-ms", optarg, 1, 3600000) * 1000000ull;
			break;
		case 's':
			l->seconds = parse_u64("--seconds", optarg, 1, 31536000);
			break;
		case 'm':
			l->messages = parse_u64("--messages", optarg, 1, UINT64_MAX / 2);
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			printf(PROG " %s (libipcc %s)\n", IPCC_VERSION_STRING, ipcc_version());
			exit(0);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			exit(EXIT_USAGE);
		}
	}
	if (optind >= argc)
		usage_error("missing NAME (a system made with `ipcc create`)");
	if (optind + 1 < argc)
		usage_error("unexpected argument '%s'", argv[optind + 1]);
	l->name = argv[optind];
	if (l->cpu_id == l->peer)
		usage_error("--cpu and --peer are both %u", l->cpu_id);
	if (l->rx_ch == l->call_ch)
		usage_error("--rx-channel and --call-channel are both %u: a channel carries "
			    "one procedure",
			    l->rx_ch);
}

/* ---- the IPCC side: what the dispatcher runs ------------------------------------------ */

static void on_message(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
		       size_t len, void *arg)
{
	struct loop *l = arg;
	l->rx++;
	l->rx_bytes += len;
	if (l->messages && l->rx >= l->messages && !l->stop) {
		l->stop = true;
		l->stop_reason = "message count reached";
	}
}

static int on_call(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t len,
		   size_t cap, void *arg)
{
	struct loop *l = arg;
	uint8_t *b = buf;

	l->calls++;
	if (l->reply == REPLY_REVERSE) {
		for (size_t i = 0; i < len / 2; i++) {
			uint8_t t = b[i];
			b[i] = b[len - 1 - i];
			b[len - 1 - i] = t;
		}
	} else if (l->reply == REPLY_UPPER) {
		for (size_t i = 0; i < len; i++)
			if (b[i] >= 'a' && b[i] <= 'z')
				b[i] = (uint8_t)(b[i] - 'a' + 'A');
	}
	return (int)len; /* the response is the request, changed in place */
}

/* ---- the ring ------------------------------------------------------------------------ */

static struct io_uring_sqe *get_sqe(struct loop *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);
	if (!sqe) {
		/* Full: push what is queued to the kernel and take a fresh entry. */
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

static int arm_irq(struct loop *l)
{
	int r = ipcc_uring_prep_wait(&l->ring, l->cpu, l->how, TAG_IRQ);
	if (r == -EBUSY) {
		io_uring_submit(&l->ring);
		r = ipcc_uring_prep_wait(&l->ring, l->cpu, l->how, TAG_IRQ);
	}
	if (r < 0)
		return fail(r, "ipcc_uring_prep_wait");
	l->irq_armed = true;
	return 0;
}

/* The next timer expiry: the next status line, or the end if that comes first. */
static int arm_timer(struct loop *l)
{
	int64_t at = l->next_status;
	if (l->end && l->end < at)
		at = l->end;
	l->timer_at.tv_sec = at / 1000000000;
	l->timer_at.tv_nsec = at % 1000000000;
	struct io_uring_sqe *sqe = get_sqe(l);
	if (!sqe)
		return fail(-EBUSY, "io_uring_get_sqe");
	/* Absolute CLOCK_MONOTONIC: re-arming from the previous expiry, not from now, keeps the
	 * period exact however late the loop comes round. */
	io_uring_prep_timeout(sqe, &l->timer_at, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, TAG_TIMER);
	l->timer_armed = true;
	return 0;
}

static int arm_signal(struct loop *l)
{
	struct io_uring_sqe *sqe = get_sqe(l);
	if (!sqe)
		return fail(-EBUSY, "io_uring_get_sqe");
	io_uring_prep_read(sqe, l->sigfd, &l->si, sizeof(l->si), 0);
	io_uring_sqe_set_data64(sqe, TAG_SIGNAL);
	l->sig_armed = true;
	return 0;
}

static void status_line(struct loop *l, int64_t t)
{
	double dt = (double)(t - l->last_t) / 1e9;
	printf("status: t=%.3f rx=%" PRIu64 " (+%" PRIu64 ", %.0f/s) calls=%" PRIu64 " (+%" PRIu64
	       ") wakeups=%" PRIu64 "\n",
	       (double)(t - l->t0) / 1e9, l->rx, l->rx - l->last_rx,
	       dt > 0 ? (double)(l->rx - l->last_rx) / dt : 0.0, l->calls, l->calls - l->last_calls,
	       l->wakeups);
	l->last_rx = l->rx;
	l->last_calls = l->calls;
	l->last_t = t;
}

/* One completion. 0, or an exit status. */
static int handle_cqe(struct loop *l, const struct io_uring_cqe *cqe)
{
	switch (io_uring_cqe_get_data64(cqe)) {
	case TAG_IRQ: {
		bool rearm = false;
		int n = ipcc_uring_complete(l->cpu, l->how, cqe, &rearm);
		if (rearm)
			l->irq_armed = false;
		if (n < 0)
			return fail(n, "waiting for interrupts of CPU %u", l->cpu_id);
		l->wakeups++;
		return 0;
	}
	case TAG_TIMER: {
		l->timer_armed = false;
		if (cqe->res != -ETIME && cqe->res != 0)
			return fail(cqe->res, "timer");
		int64_t t = now_ns();
		if (t >= l->next_status) {
			l->ticks++;
			status_line(l, t);
			l->next_status += (int64_t)l->interval_ns;
			/* Far behind (the machine stalled): skip the missed periods. */
			if (l->next_status <= t)
				l->next_status = t + (int64_t)l->interval_ns;
		}
		if (l->end && t >= l->end && !l->stop) {
			l->stop = true;
			l->stop_reason = "time is up";
		}
		return 0;
	}
	case TAG_SIGNAL:
		l->sig_armed = false;
		if (cqe->res < 0 && cqe->res != -EINTR && cqe->res != -EAGAIN)
			return fail(cqe->res, "reading the signalfd");
		if (cqe->res == (int)sizeof(l->si) && !l->stop) {
			l->stop = true;
			l->stop_reason = l->si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
		}
		return 0;
	default: /* TAG_CANCEL: the outcome shows on the cancelled request itself */
		return 0;
	}
}

static int run(struct loop *l)
{
	int st;

	l->t0 = l->last_t = now_ns();
	l->next_status = l->t0 + (int64_t)l->interval_ns;
	l->end = l->seconds ? l->t0 + (int64_t)(l->seconds * 1000000000ull) : 0;
	if ((st = arm_irq(l)) || (st = arm_timer(l)) || (st = arm_signal(l)))
		return st;

	while (!l->stop) {
		struct io_uring_cqe *cqe;
		int r = io_uring_submit_and_wait(&l->ring, 1);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return fail(r, "io_uring_submit_and_wait");
		unsigned head, seen = 0;
		st = 0;
		io_uring_for_each_cqe(&l->ring, head, cqe)
		{
			seen++;
			if (!st)
				st = handle_cqe(l, cqe);
		}
		io_uring_cq_advance(&l->ring, seen);
		if (st)
			return st;
		if (l->stop)
			break;
		if ((!l->irq_armed && (st = arm_irq(l))) ||
		    (!l->timer_armed && (st = arm_timer(l))) ||
		    (!l->sig_armed && (st = arm_signal(l))))
			return st;
	}
	return 0;
}

/*
 * Cancel what is still in flight and consume its completions. The interrupt wait matters: a
 * FUTEX wait counts the CPU as asleep until its completion is consumed (ipcc/uring.h), so it
 * goes through ipcc_uring_complete, which may still count a last message or two.
 */
static void quiesce(struct loop *l)
{
	static const uint64_t tags[] = { TAG_IRQ, TAG_TIMER, TAG_SIGNAL };
	bool *armed[] = { &l->irq_armed, &l->timer_armed, &l->sig_armed };

	for (unsigned i = 0; i < 3; i++) {
		if (!*armed[i])
			continue;
		struct io_uring_sqe *sqe = get_sqe(l);
		if (!sqe)
			return;
		io_uring_prep_cancel64(sqe, tags[i], 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	int64_t deadline = now_ns() + 1000000000;
	io_uring_submit(&l->ring);
	while ((l->irq_armed || l->timer_armed || l->sig_armed) && now_ns() < deadline) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };
		if (io_uring_wait_cqe_timeout(&l->ring, &cqe, &ts) < 0)
			continue;
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		if (tag == TAG_IRQ) {
			bool rearm = false;
			(void)ipcc_uring_complete(l->cpu, l->how, cqe, &rearm);
			/* A multishot poll ends with a completion without IORING_CQE_F_MORE. */
			if (l->how == IPCC_URING_FUTEX || rearm)
				l->irq_armed = false;
		} else if (tag == TAG_TIMER) {
			l->timer_armed = false;
		} else if (tag == TAG_SIGNAL) {
			l->sig_armed = false;
		}
		io_uring_cqe_seen(&l->ring, cqe);
	}
}

/* ---- setup --------------------------------------------------------------------------- */

static int setup(struct loop *l)
{
	int r = io_uring_queue_init(16, &l->ring, 0);
	if (r < 0)
		return fail(r, "io_uring_queue_init");
	l->ring_up = true;

	int futex = ipcc_uring_futex_supported(&l->ring);
	if (futex == -EOPNOTSUPP)
		return fail(futex, "libipcc was built without io_uring support");
	if (l->wait == WAIT_FUTEX && futex != 1)
		return fail(-EOPNOTSUPP, "--wait futex: this kernel has no IORING_OP_FUTEX_WAIT "
					 "(Linux 6.7 or later)");
	l->how = l->wait == WAIT_POLL || (l->wait == WAIT_AUTO && futex != 1) ? IPCC_URING_POLL
									      : IPCC_URING_FUTEX;

	r = ipcc_system_open(l->name, &l->sys);
	if (r < 0)
		return fail(r, "cannot open system %s", l->name);
	unsigned channels = ipcc_system_channels(l->sys);
	if (l->cpu_id >= ipcc_system_cpus(l->sys) || l->peer >= ipcc_system_cpus(l->sys))
		return fail(0, "%s has CPUs 0..%u: no CPU %u", l->name,
			    ipcc_system_cpus(l->sys) - 1,
			    l->cpu_id >= ipcc_system_cpus(l->sys) ? l->cpu_id : l->peer);
	if (!ipcc_system_linked(l->sys, l->cpu_id, l->peer))
		return fail(0, "%s: CPUs %u and %u have no IPCC between them", l->name, l->cpu_id,
			    l->peer);
	if (l->rx_ch >= channels || l->call_ch >= channels)
		return fail(0, "%s has channels 0..%u: no channel %u", l->name, channels - 1,
			    l->rx_ch >= channels ? l->rx_ch : l->call_ch);

	struct ipcc_cpu_options o;
	ipcc_cpu_options_init(&o);
	/* POLL needs the eventfd; FUTEX waits on the doorbell word, as futex mode sleeps. */
	o.wait = l->how == IPCC_URING_POLL ? IPCC_WAIT_EVENTFD : IPCC_WAIT_FUTEX;
	r = ipcc_cpu_attach(l->sys, l->cpu_id, &o, &l->cpu);
	if (r == -EBUSY) {
		struct ipcc_cpu_owner own;
		if (ipcc_system_cpu_owner(l->sys, l->cpu_id, &own) == 0 && own.alive)
			return fail(0, "CPU %u of %s is attached by process %d", l->cpu_id, l->name,
				    (int)own.pid);
	}
	if (r < 0)
		return fail(r, "cannot attach CPU %u of %s", l->cpu_id, l->name);

	r = ipcc_recv_async(l->cpu, l->peer, l->rx_ch, on_message, l);
	if (r < 0)
		return fail(r, "ipcc_recv_async on channel %u", l->rx_ch);
	r = ipcc_serve_async(l->cpu, l->peer, l->call_ch, on_call, l);
	if (r < 0)
		return fail(r, "ipcc_serve_async on channel %u", l->call_ch);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/*
	 * Blocked, the signals wait in the signalfd until the ring reads them. An ignored signal
	 * is dropped even while blocked, and a shell starts background jobs with SIGINT ignored:
	 * back to the default first, so that both always stop the loop.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return fail(-errno, "sigprocmask");
	l->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (l->sigfd < 0)
		return fail(-errno, "signalfd");
	return 0;
}

static void teardown(struct loop *l)
{
	if (l->ring_up && l->cpu)
		quiesce(l);
	ipcc_cpu_detach(l->cpu);
	ipcc_system_close(l->sys);
	if (l->ring_up)
		io_uring_queue_exit(&l->ring);
	if (l->sigfd >= 0)
		close(l->sigfd);
}

int main(int argc, char **argv)
{
	struct loop l;

	parse(argc, argv, &l);
	setvbuf(stdout, NULL, _IOLBF, 0); /* status lines show as they happen, even in a pipe */
	int st = setup(&l);
	if (!st) {
		printf("serving CPU %u of %s: messages from CPU %u on channel %u, calls on channel "
		       "%u, waiting by %s\n",
		       l.cpu_id, l.name, l.peer, l.rx_ch, l.call_ch,
		       l.how == IPCC_URING_FUTEX ? "futex" : "poll (eventfd mode)");
		st = run(&l);
	}
	int64_t t = now_ns();
	teardown(&l);
	if (!st)
		printf("total: seconds=%.3f rx=%" PRIu64 " rx_bytes=%" PRIu64 " calls=%" PRIu64
		       " wakeups=%" PRIu64 " ticks=%" PRIu64 " stop=\"%s\"\n",
		       (double)(t - l.t0) / 1e9, l.rx, l.rx_bytes, l.calls, l.wakeups, l.ticks,
		       l.stop_reason ? l.stop_reason : "?");
	return st;
}
