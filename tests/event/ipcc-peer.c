/* SPDX-License-Identifier: MIT */
/*
 * ipcc-peer: the other side of the event-loop tests, as an unrelated process image.
 *
 * It opens a system by name, attaches a CPU in a given wait mode and then sends N simplex
 * messages and/or makes M half-duplex calls (event-msg.h), verifying every response. The tests
 * fork+exec it, so it shares nothing with them but the shm object and the kernel: no copied
 * heap, no inherited eventfd cache, possibly another uid.
 *
 * Two styles of waiting:
 *   blocking  ipcc_send / ipcc_call (the CPU's wait mode decides how they sleep);
 *   loop      an event loop over the CPU's eventfd (eventfd mode only): ipcc_send with timeout
 *             0, then ipcc_send_async and poll(); calls with ipcc_call_async. Every wake-up
 *             of this process then comes through its fd.
 *
 * With --retry-epipe a send that fails with -EPIPE (the receiver died) is reported on stdout
 * ("epipe seq=S t_ns=T", T in CLOCK_MONOTONIC ns), the peer waits for a new owner of the
 * receiving CPU and sends the same message again: the receiver's restart protocol of
 * test_restart.c. The last stdout line is "done sent=N calls=M epipe=E".
 *
 * Exit status (distinct per failure, the message on stderr names the call and its errno):
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#include "event-msg.h"

enum {
	PEER_OK = 0,
	PEER_USAGE = 2,	       /* bad command line */
	PEER_OPEN = 3,	       /* ipcc_system_open failed */
	PEER_ATTACH = 4,       /* ipcc_cpu_attach failed */
	PEER_SEND = 5,	       /* a send failed */
	PEER_CALL = 6,	       /* a call failed */
	PEER_BAD_RESPONSE = 7, /* a response did not verify */
	PEER_LOOP = 8,	       /* the event loop failed (poll, dispatch, notify) */
	PEER_NO_RETURN = 9,    /* after -EPIPE, no new receiver within the bound */
};

#define EPIPE_RETURN_NS (10 * 1000000000ll) /* how long a new receiver may take to attach */

static const char usage_text[] =
	"Usage: ipcc-peer NAME --cpu N --peer P [OPTIONS]\n"
	"  --wait MODE         spin, futex, adaptive or eventfd (default adaptive)\n"
	"  --style STYLE       blocking or loop (default: loop in eventfd mode, else blocking)\n"
	"  --send N            send N simplex messages on --channel\n"
	"  --channel C         simplex channel (default 0)\n"
	"  --start S           first sequence number (default 0)\n"
	"  --call M            then make M half-duplex calls on --call-channel\n"
	"  --call-channel D    half-duplex channel (default 1)\n"
	"  --response KIND     transform (default) or echo: what the server answers\n"
	"  --retry-epipe       on -EPIPE from a send, wait for a new receiver and resend\n"
	"  --watchdog S        abort after S seconds (default 60)\n"
	"Exit: 0 ok, 2 usage, 3 open, 4 attach, 5 send, 6 call, 7 bad response, 8 event loop,\n"
	"      9 no receiver came back after -EPIPE.\n";

struct peer {
	const char *name;
	unsigned cpu_id, peer;
	enum ipcc_wait_mode mode;
	bool loop;
	unsigned long send_count, call_count;
	uint32_t start;
	unsigned ch, call_ch;
	bool echo;
	bool retry_epipe;
	unsigned watchdog_s;

	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	size_t cap;
	unsigned long epipes;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void fail_errno(const char *what, unsigned long seq, int r)
{
	fprintf(stderr, "ipcc-peer %d: %s (seq %lu): %d (%s)\n", (int)getpid(), what, seq, r,
		strerror(-r));
}

/* ---- event-loop style --------------------------------------------------------------- */

/* Wait for the CPU's fd and dispatch; stops when *flag is set. 0 or a PEER_* status. */
static int loop_until(struct peer *p, bool *flag, const char *what, unsigned long seq)
{
	int fd = ipcc_cpu_fd(p->cpu);
	if (fd < 0) {
		fail_errno("ipcc_cpu_fd", seq, fd);
		return PEER_LOOP;
	}
	while (!*flag) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int n = poll(&pfd, 1, 1000);
		if (n < 0 && errno != EINTR) {
			fail_errno("poll", seq, -errno);
			return PEER_LOOP;
		}
		int r = ipcc_cpu_dispatch(p->cpu);
		if (r < 0) {
			fail_errno("ipcc_cpu_dispatch", seq, r);
			return PEER_LOOP;
		}
		/* The fd says nothing about a peer's death: look on every idle second. */
		if (n == 0 && !*flag && ipcc_cpu_peer_alive(p->cpu, p->peer) == -EPIPE) {
			fprintf(stderr, "ipcc-peer %d: CPU %u died while waiting for %s %lu\n",
				(int)getpid(), p->peer, what, seq);
			return PEER_LOOP;
		}
	}
	return 0;
}

static void on_txfree(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *arg)
{
	*(bool *)arg = true;
}

/*
 * Send in the event-loop style: 0, a negative errno of ipcc_send, or 1 when the loop itself
 * failed (reported already).
 */
static int send_loop_style(struct peer *p, const void *msg, size_t len, unsigned long seq)
{
	for (;;) {
		int r = ipcc_send(p->cpu, p->peer, p->ch, msg, len, 0);
		if (r != -EAGAIN)
			return r;
		/* Occupied: ask for the TX-free interrupt and sleep in poll() until it fires. */
		bool tx_free = false;
		r = ipcc_send_async(p->cpu, p->peer, p->ch, on_txfree, &tx_free);
		if (r < 0) {
			fail_errno("ipcc_send_async", seq, r);
			return 1;
		}
		if (loop_until(p, &tx_free, "TX free before message", seq))
			return 1;
	}
}

struct call_wait {
	bool done;
	uint8_t *resp;
	size_t len;
};

static void on_response(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			size_t len, void *arg)
{
	struct call_wait *w = arg;
	memcpy(w->resp, data, len);
	w->len = len;
	w->done = true;
}

/* ---- the two jobs ------------------------------------------------------------------- */

/* After -EPIPE: wait (bounded) until somebody owns the receiving CPU again. */
static int await_new_receiver(struct peer *p, unsigned long seq)
{
	int64_t deadline = now_ns() + EPIPE_RETURN_NS;
	while (ipcc_cpu_peer_alive(p->cpu, p->peer) != 1) {
		if (now_ns() > deadline) {
			fprintf(stderr,
				"ipcc-peer %d: no receiver on CPU %u within %lld s of -EPIPE "
				"(seq %lu)\n",
				(int)getpid(), p->peer, EPIPE_RETURN_NS / 1000000000, seq);
			return PEER_NO_RETURN;
		}
		/* No way to sleep until a CPU is attached: poll; this is a test tool. */
		sleep_ms(1);
	}
	return 0;
}

static int run_send(struct peer *p)
{
	uint8_t *msg = malloc(p->cap);
	int status = PEER_OK;

	if (!msg)
		return PEER_SEND;
	for (unsigned long i = 0; i < p->send_count; i++) {
		uint32_t seq = p->start + (uint32_t)i;
		size_t len = evm_build(msg, p->cap, EVM_MAGIC_MSG, seq);
		int r;
		for (;;) {
			if (p->loop)
				r = send_loop_style(p, msg, len, seq);
			else
				r = ipcc_send(p->cpu, p->peer, p->ch, msg, len,
					      IPCC_TIMEOUT_INFINITE);
			if (r != -EPIPE || !p->retry_epipe)
				break;
			/* Stamp first: the test measures the time from its kill to this return. */
			int64_t t = now_ns();
			p->epipes++;
			printf("epipe seq=%u t_ns=%lld\n", seq, (long long)t);
			fflush(stdout);
			status = await_new_receiver(p, seq);
			if (status)
				goto out;
		}
		if (r > 0) {
			status = PEER_LOOP;
			goto out;
		}
		if (r < 0) {
			fail_errno("ipcc_send", seq, r);
			status = PEER_SEND;
			goto out;
		}
	}
out:
	free(msg);
	return status;
}

static int run_calls(struct peer *p)
{
	uint8_t *req = malloc(p->cap), *resp = malloc(p->cap), *want = malloc(p->cap);
	int status = PEER_OK;
	char why[128];

	if (!req || !resp || !want) {
		status = PEER_CALL;
		goto out;
	}
	for (unsigned long i = 0; i < p->call_count; i++) {
		uint32_t seq = p->start + (uint32_t)i;
		size_t len = evm_build(req, p->cap, EVM_MAGIC_REQ, seq);
		int r;
		if (p->loop) {
			struct call_wait w = { .resp = resp };
			r = ipcc_call_async(p->cpu, p->peer, p->call_ch, req, len, on_response, &w);
			if (r < 0) {
				fail_errno("ipcc_call_async", seq, r);
				status = PEER_CALL;
				goto out;
			}
			status = loop_until(p, &w.done, "the response to call", seq);
			if (status)
				goto out;
			r = (int)w.len;
		} else {
			r = ipcc_call(p->cpu, p->peer, p->call_ch, req, len, resp, p->cap,
				      IPCC_TIMEOUT_INFINITE);
			if (r < 0) {
				fail_errno("ipcc_call", seq, r);
				status = PEER_CALL;
				goto out;
			}
		}
		memcpy(want, req, len);
		if (!p->echo)
			evm_transform(want, len);
		if ((size_t)r != len || memcmp(resp, want, len) != 0) {
			uint32_t got = 0;
			if (evm_check(resp, (size_t)r, p->cap,
				      p->echo ? EVM_MAGIC_REQ : EVM_MAGIC_RSP, &got, why,
				      sizeof(why)) == 0)
				snprintf(why, sizeof(why), "the response of call %u", got);
			fprintf(stderr, "ipcc-peer %d: call %u: %d-byte response, want %zu: %s\n",
				(int)getpid(), seq, r, len, why);
			status = PEER_BAD_RESPONSE;
			goto out;
		}
	}
out:
	free(req);
	free(resp);
	free(want);
	return status;
}

/* ---- command line ------------------------------------------------------------------- */

static bool parse_ul(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return false;
	*ret = v;
	return true;
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "ipcc-peer: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n%s", usage_text);
	va_end(ap);
	return PEER_USAGE;
}

static int parse(int argc, char **argv, struct peer *p)
{
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, 'c' },
		{ "peer", required_argument, NULL, 'p' },
		{ "wait", required_argument, NULL, 'w' },
		{ "style", required_argument, NULL, 'y' },
		{ "send", required_argument, NULL, 's' },
		{ "channel", required_argument, NULL, 'C' },
		{ "start", required_argument, NULL, 'S' },
		{ "call", required_argument, NULL, 'k' },
		{ "call-channel", required_argument, NULL, 'K' },
		{ "response", required_argument, NULL, 'r' },
		{ "retry-epipe", no_argument, NULL, 'e' },
		{ "watchdog", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool have_cpu = false, have_peer = false;
	const char *style = NULL;
	unsigned long v;
	int o;

	*p = (struct peer){ .mode = IPCC_WAIT_ADAPTIVE, .call_ch = 1, .watchdog_s = 60 };
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
		case 'p':
		case 'C':
		case 'K':
			if (!parse_ul(optarg, IPCC_CPUS_MAX - 1, &v))
				return usage_error("bad CPU or channel number '%s'", optarg);
			if (o == 'c') {
				p->cpu_id = (unsigned)v;
				have_cpu = true;
			} else if (o == 'p') {
				p->peer = (unsigned)v;
				have_peer = true;
			} else if (o == 'C') {
				p->ch = (unsigned)v;
			} else {
				p->call_ch = (unsigned)v;
			}
			break;
		case 'w':
			for (v = 0; v < IPCC_WAIT_MODE_COUNT; v++)
				if (!strcmp(optarg, ipcc_wait_mode_name((enum ipcc_wait_mode)v)))
					break;
			if (v == IPCC_WAIT_MODE_COUNT)
				return usage_error("unknown wait mode '%s'", optarg);
			p->mode = (enum ipcc_wait_mode)v;
			break;
		case 'y':
			if (strcmp(optarg, "blocking") && strcmp(optarg, "loop"))
				return usage_error("unknown style '%s'", optarg);
			style = optarg;
			break;
		case 's':
		case 'k':
			if (!parse_ul(optarg, 100000000ul, &v))
				return usage_error("bad count '%s' (0..100000000)", optarg);
			*(o == 's' ? &p->send_count : &p->call_count) = v;
			break;
		case 'S':
			if (!parse_ul(optarg, UINT32_MAX / 2, &v))
				return usage_error("bad start '%s'", optarg);
			p->start = (uint32_t)v;
			break;
		case 'r':
			if (strcmp(optarg, "echo") && strcmp(optarg, "transform"))
				return usage_error("unknown response kind '%s'", optarg);
			p->echo = !strcmp(optarg, "echo");
			break;
		case 'e':
			p->retry_epipe = true;
			break;
		case 'W':
			if (!parse_ul(optarg, 3600, &v) || !v)
				return usage_error("bad watchdog '%s' (1..3600 s)", optarg);
			p->watchdog_s = (unsigned)v;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(PEER_OK);
		default:
			return usage_error("bad option");
		}
	}
	if (optind != argc - 1)
		return usage_error("exactly one NAME expected");
	p->name = argv[optind];
	if (!have_cpu || !have_peer)
		return usage_error("--cpu and --peer are required");
	p->loop = style ? !strcmp(style, "loop") : p->mode == IPCC_WAIT_EVENTFD;
	if (p->loop && p->mode != IPCC_WAIT_EVENTFD)
		return usage_error("--style loop needs --wait eventfd");
	return PEER_OK;
}

int main(int argc, char **argv)
{
	struct peer p;
	int status = parse(argc, argv, &p);
	if (status)
		return status;

	/* The watchdog: a lost wake-up ends in SIGALRM, which the test reports as such. */
	signal(SIGALRM, SIG_DFL);
	alarm(p.watchdog_s);

	/* The peer may run as another user than the object's owner: shared on purpose. */
	int r = ipcc_system_open_flags(p.name, IPCC_OPEN_ANY_OWNER, &p.sys);
	for (int i = 0; r == -EAGAIN && i < 1000; i++) {
		sleep_ms(1); /* the creator is still initialising it */
		r = ipcc_system_open_flags(p.name, IPCC_OPEN_ANY_OWNER, &p.sys);
	}
	if (r < 0) {
		fprintf(stderr, "ipcc-peer %d: ipcc_system_open(%s): %d (%s)\n", (int)getpid(),
			p.name, r, strerror(-r));
		return PEER_OPEN;
	}
	p.cap = ipcc_system_buffer_size(p.sys);
	struct ipcc_cpu_options o;
	ipcc_cpu_options_init(&o);
	o.wait = p.mode;
	r = ipcc_cpu_attach(p.sys, p.cpu_id, &o, &p.cpu);
	if (r < 0) {
		fprintf(stderr, "ipcc-peer %d: attach of CPU %u (%s): %d (%s)\n", (int)getpid(),
			p.cpu_id, ipcc_wait_mode_name(p.mode), r, strerror(-r));
		ipcc_system_close(p.sys);
		return PEER_ATTACH;
	}
	if (p.cap < EVM_HDR) {
		fprintf(stderr, "ipcc-peer: buffers of %zu bytes cannot hold a message\n", p.cap);
		status = PEER_USAGE;
	}
	if (!status && p.send_count)
		status = run_send(&p);
	if (!status && p.call_count)
		status = run_calls(&p);
	if (!status)
		printf("done sent=%lu calls=%lu epipe=%lu\n", p.send_count, p.call_count, p.epipes);
	fflush(stdout);
	ipcc_cpu_detach(p.cpu);
	ipcc_system_close(p.sys);
	return status;
}
