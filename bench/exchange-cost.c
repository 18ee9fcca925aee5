/* SPDX-License-Identifier: MIT */
/*
 * ipcc-bench-cost: instructions per exchange of the procedures, for callgrind.
 *
 * Two threads of one process, pinned to CPUs 0 and 1, attach CPU 0 and CPU 1 of an anonymous 2-CPU system in one wait
 * mode and run COUNT exchanges on channel 0, as ipcc-bench's rows do: half-duplex (ipcc_call
 * against ipcc_serve + ipcc_reply) or simplex (ipcc_send, ipcc_recv, and an 8-byte ack back).
 * `fast` is the non-blocking path alone: one thread, ipcc_send by CPU 0 then ipcc_recv by
 * CPU 1 with timeout 0 (the message is there), as ipcc-bench-trace does.
 * The service patterns run on a system with Notify and RPMessage on its link: `notify-echo`
 * is a value sent to client CLIENT of CPU 1, which takes it with ipcc_notify_recv and sends it
 * back to the same client of CPU 0; `rpmsg-echo` is ipcc-bench's rpmsg echo row at 64 bytes
 * (queue-mode end points 12 on CPU 0 and 13 on CPU 1, ipcc_rpmsg_send then ipcc_rpmsg_recv,
 * the server recv then send back to where the packet came from).
 *
 * Under `valgrind --tool=callgrind`, run it with two counts: the difference of the totals
 * divided by the difference of the counts is the instructions per exchange, both sides
 * together (valgrind 3.19 keeps its lock across fcntl(F_OFD_SETLKW), which the peer-death
 * reaper blocks in: doc/cache-lines.md says how the figures were taken despite that).
 *
 * The stream patterns time what batching over channels buys (wall time; run them alone, not
 * under valgrind): `stream` is ipcc-bench's
 * stream (ipcc_send and ipcc_recv round robin over the 6 channels), `stream-regs` the same
 * with the bare register writes (slot, then one CHnS; the reader polls the status register,
 * copies, one CHnC), `stream-batch` fills all 6 slots and sets their flags with one CHnS
 * write, and the reader clears all 6 with one CHnC: one RMW each way per 6 messages on the
 * status word both sides write, instead of one per message. Valgrind runs one thread at a time and switches at each pause instruction of a
 * spin loop, so a spinning wait costs about one poll per hand-over there: the figure is the
 * procedure's own work, without the time spent waiting for the peer. Alone, it prints the
 * wall time per exchange (noisy on a shared machine) and each side's sleeps in the kernel per
 * exchange (its thread's voluntary context switches): in futex mode, where a stream's time
 * goes.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ipcc/ipcc.h>

#define CHANNELS   6
#define CLIENT	   IPCC_NOTIFY_CLIENT_FIRST /* notify-echo's client on both CPUs */
#define EP_CLIENT  12			    /* rpmsg-echo: CPU 0's end point */
#define EP_SERVER  13			    /* rpmsg-echo: CPU 1's end point */
#define RPMSG_SIZE 64			    /* rpmsg-echo's payload bytes */

struct side {
	struct ipcc_cpu *cpu;
	struct ipcc_regs *regs;
	struct ipcc_rpmsg_ep *ep; /* rpmsg-echo */
	const char *pattern;
	unsigned long count;
	int err;
	long sleeps; /* voluntary context switches of the side's thread: its sleeps in the kernel */
};

/* This thread's voluntary context switches so far (each blocking sleep is one). */
static long thread_sleeps(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: ipcc-bench-cost --pattern half-duplex|simplex|fast|stream|"
		"stream-regs|stream-batch|notify-echo|rpmsg-echo [--mode spin|futex|adaptive] "
		"[--count N]\n");
	return 2;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void pin(unsigned cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)sched_setaffinity(0, sizeof(set), &set); /* best effort */
}

/* The status register of processor 1 (CPU 0's flags), polled until `done` says so. */
static uint32_t sr_wait(struct ipcc_regs *regs, uint32_t want, bool all_clear)
{
	uint32_t sr;
	for (;;) {
		ipcc_regs_read(regs, IPCC_C1TOC2SR, &sr);
		if (all_clear ? (sr & want) == 0 : (sr & want) == want)
			return sr;
		__builtin_ia32_pause();
	}
}

/* The stream patterns, both sides: 0 or a negative errno. */
static int stream(struct side *s, bool writer)
{
	char buf[8] = "hello";
	void *slot[CHANNELS];
	size_t cap;
	int r = 0;

	for (unsigned ch = 0; ch < CHANNELS && r == 0; ch++)
		r = ipcc_chan_buffer(s->cpu, writer ? 1 : 0, ch, writer ? IPCC_DIR_TX : IPCC_DIR_RX,
				     &slot[ch], &cap);
	for (unsigned long i = 0; i < s->count && r >= 0;) {
		unsigned ch = (unsigned)(i % CHANNELS);
		if (!strcmp(s->pattern, "stream")) {
			r = writer ? ipcc_send(s->cpu, 1, ch, buf, sizeof(buf),
					       IPCC_TIMEOUT_INFINITE)
				   : ipcc_recv(s->cpu, 0, ch, buf, sizeof(buf),
					       IPCC_TIMEOUT_INFINITE);
			i++;
		} else if (!strcmp(s->pattern, "stream-regs")) {
			/* The slot, then its flag; the reader copies, then clears (regs.h). */
			sr_wait(s->regs, 1u << ch, writer);
			if (writer)
				memcpy(slot[ch], buf, sizeof(buf));
			else
				memcpy(buf, slot[ch], sizeof(buf));
			ipcc_regs_write(s->regs, writer ? IPCC_C1SCR : IPCC_C2SCR,
					writer ? IPCC_SCR_CHS(ch) : IPCC_SCR_CHC(ch));
			i++;
		} else {
			uint32_t all = (1u << CHANNELS) - 1;
			sr_wait(s->regs, all, writer);
			for (unsigned c = 0; c < CHANNELS; c++) {
				if (writer)
					memcpy(slot[c], buf, sizeof(buf));
				else
					memcpy(buf, slot[c], sizeof(buf));
			}
			ipcc_regs_write(s->regs, writer ? IPCC_C1SCR : IPCC_C2SCR,
					writer ? all << 16 : all);
			i += CHANNELS;
		}
	}
	return r < 0 ? r : 0;
}

static bool is_stream(const char *pattern)
{
	return !strncmp(pattern, "stream", 6);
}

static bool is_service(const char *pattern)
{
	return !strcmp(pattern, "notify-echo") || !strcmp(pattern, "rpmsg-echo");
}

/* The service echoes, either side (server: CPU 1): 0 or a negative errno. */
static int service_echo(struct side *s, bool server)
{
	unsigned peer = server ? 0 : 1, remote, remote_ep;
	char buf[RPMSG_SIZE] = "hello";
	uint32_t v = 1, len;
	int r = 0;

	for (unsigned long i = 0; i < s->count && r >= 0; i++) {
		if (!strcmp(s->pattern, "notify-echo")) {
			if (!server)
				r = ipcc_notify_send(s->cpu, peer, CLIENT, v,
						     IPCC_TIMEOUT_INFINITE);
			if (r >= 0)
				r = ipcc_notify_recv(s->cpu, CLIENT, &v, NULL,
						     IPCC_TIMEOUT_INFINITE);
			if (r >= 0 && server)
				r = ipcc_notify_send(s->cpu, peer, CLIENT, v,
						     IPCC_TIMEOUT_INFINITE);
		} else if (server) {
			r = ipcc_rpmsg_recv(s->ep, buf, sizeof(buf), &len, &remote, &remote_ep,
					    IPCC_TIMEOUT_INFINITE);
			if (r >= 0)
				r = ipcc_rpmsg_send(s->cpu, buf, len, remote, remote_ep, EP_SERVER,
						    IPCC_TIMEOUT_INFINITE);
		} else {
			r = ipcc_rpmsg_send(s->cpu, buf, sizeof(buf), peer, EP_SERVER, EP_CLIENT,
					    IPCC_TIMEOUT_INFINITE);
			if (r >= 0)
				r = ipcc_rpmsg_recv(s->ep, buf, sizeof(buf), &len, &remote,
						    &remote_ep, IPCC_TIMEOUT_INFINITE);
			if (r >= 0 &&
			    (len != sizeof(buf) || remote != peer || remote_ep != EP_SERVER))
				r = -EBADMSG;
		}
	}
	return r < 0 ? r : 0;
}

/* CPU 1: the server (half-duplex) or the receiver (simplex, stream). */
static void *side_b(void *arg)
{
	struct side *s = arg;
	char buf[8];
	int r = 0;

	pin(1);
	s->sleeps = thread_sleeps();
	if (is_stream(s->pattern)) {
		s->err = stream(s, false);
		s->sleeps = thread_sleeps() - s->sleeps;
		return NULL;
	}
	if (is_service(s->pattern)) {
		s->err = service_echo(s, true);
		s->sleeps = thread_sleeps() - s->sleeps;
		return NULL;
	}
	for (unsigned long i = 0; i < s->count && r >= 0; i++) {
		if (!strcmp(s->pattern, "half-duplex")) {
			r = ipcc_serve(s->cpu, 0, 0, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE);
			if (r >= 0)
				r = ipcc_reply(s->cpu, 0, 0, buf, (size_t)r);
		} else {
			r = ipcc_recv(s->cpu, 0, 0, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE);
			if (r >= 0)
				r = ipcc_send(s->cpu, 0, 0, buf, sizeof(buf),
					      IPCC_TIMEOUT_INFINITE);
		}
	}
	s->err = r < 0 ? r : 0;
	s->sleeps = thread_sleeps() - s->sleeps;
	return NULL;
}

/* CPU 0: the caller (half-duplex) or the sender (simplex, stream). */
static int side_a(struct side *s)
{
	char msg[8] = "hello", in[8];
	int r = 0;

	pin(0);
	if (is_stream(s->pattern))
		return stream(s, true);
	if (is_service(s->pattern))
		return service_echo(s, false);
	for (unsigned long i = 0; i < s->count && r >= 0; i++) {
		if (!strcmp(s->pattern, "half-duplex")) {
			r = ipcc_call(s->cpu, 1, 0, msg, sizeof(msg), in, sizeof(in),
				      IPCC_TIMEOUT_INFINITE);
		} else {
			r = ipcc_send(s->cpu, 1, 0, msg, sizeof(msg), IPCC_TIMEOUT_INFINITE);
			if (r >= 0)
				r = ipcc_recv(s->cpu, 1, 0, in, sizeof(in), IPCC_TIMEOUT_INFINITE);
		}
	}
	return r < 0 ? r : 0;
}

int main(int argc, char **argv)
{
	const char *pattern = NULL, *mode = "spin";
	unsigned long count = 10000;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pattern") && i + 1 < argc)
			pattern = argv[++i];
		else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
			mode = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtoul(argv[++i], NULL, 10);
		else
			return usage();
	}
	if (!pattern || (strcmp(pattern, "half-duplex") && strcmp(pattern, "simplex") &&
			 strcmp(pattern, "fast") && strcmp(pattern, "stream") &&
			 strcmp(pattern, "stream-regs") && strcmp(pattern, "stream-batch") &&
			 !is_service(pattern)))
		return usage();

	struct ipcc_cpu_options opt;
	ipcc_cpu_options_init(&opt);
	if (!strcmp(mode, "spin"))
		opt.wait = IPCC_WAIT_SPIN;
	else if (!strcmp(mode, "futex"))
		opt.wait = IPCC_WAIT_FUTEX;
	else if (!strcmp(mode, "adaptive"))
		opt.wait = IPCC_WAIT_ADAPTIVE;
	else
		return usage();

	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_config cfg;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu[2];
	struct ipcc_rpmsg_ep *ep[2] = { NULL, NULL };
	ipcc_config_init(&cfg);
	cfg.channels = CHANNELS;
	if (is_service(pattern)) {
		/* Notify on the one link (RPMessage's doorbells), the default rpmsg buffers. */
		ipcc_notify_config_init(&ncfg);
		ipcc_rpmsg_config_init(&rcfg);
		cfg.notify = &ncfg;
		cfg.rpmsg = &rcfg;
	}
	int r = ipcc_system_create_anon(&cfg, &sys);
	for (unsigned i = 0; r == 0 && i < 2; i++)
		r = ipcc_cpu_attach(sys, i, &opt, &cpu[i]);
	/* Before the threads start, so that CPU 0's first send finds 13 open on CPU 1. */
	for (unsigned i = 0; r == 0 && !strcmp(pattern, "rpmsg-echo") && i < 2; i++)
		r = ipcc_rpmsg_ep_create(cpu[i], i ? EP_SERVER : EP_CLIENT, NULL, NULL, &ep[i]);
	if (r < 0) {
		fprintf(stderr, "ipcc-bench-cost: setup: %s\n", strerror(-r));
		return 1;
	}

	struct ipcc_regs *regs;
	if (r == 0)
		r = ipcc_regs_open(sys, 0, 1, &regs);
	if (r < 0) {
		fprintf(stderr, "ipcc-bench-cost: ipcc_regs_open: %s\n", strerror(-r));
		return 1;
	}
	struct side a = {
		.cpu = cpu[0], .regs = regs, .ep = ep[0], .pattern = pattern, .count = count
	};
	struct side b = {
		.cpu = cpu[1], .regs = regs, .ep = ep[1], .pattern = pattern, .count = count
	};
	double t = now_s();
	if (!strcmp(pattern, "fast")) {
		char msg[8] = "hello", in[8];
		for (unsigned long i = 0; i < count && r >= 0; i++) {
			r = ipcc_send(cpu[0], 1, 0, msg, sizeof(msg), 0);
			if (r >= 0)
				r = ipcc_recv(cpu[1], 0, 0, in, sizeof(in), 0);
		}
		a.err = r < 0 ? r : 0;
	} else {
		pthread_t th;
		if (pthread_create(&th, NULL, side_b, &b)) {
			fprintf(stderr, "ipcc-bench-cost: pthread_create failed\n");
			return 1;
		}
		a.sleeps = thread_sleeps();
		a.err = side_a(&a);
		a.sleeps = thread_sleeps() - a.sleeps;
		pthread_join(th, NULL);
	}
	t = now_s() - t;
	if (a.err < 0 || b.err < 0) {
		fprintf(stderr, "ipcc-bench-cost: exchange: %s\n",
			strerror(-(a.err < 0 ? a.err : b.err)));
		return 1;
	}
	printf("%s %s: %lu %s, %.1f ns each; sleeps in the kernel per %s: CPU 0 %.3f, "
	       "CPU 1 %.3f\n",
	       pattern, mode, count, is_stream(pattern) ? "messages" : "exchanges",
	       t * 1e9 / (double)count, is_stream(pattern) ? "message" : "exchange",
	       (double)a.sleeps / (double)count, (double)b.sleeps / (double)count);
	for (unsigned i = 0; i < 2; i++)
		ipcc_rpmsg_ep_close(ep[i]);
	ipcc_regs_close(regs);
	ipcc_cpu_detach(cpu[1]);
	ipcc_cpu_detach(cpu[0]);
	ipcc_system_close(sys);
	return 0;
}
