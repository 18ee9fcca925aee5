/* SPDX-License-Identifier: MIT */
/*
 * ipcc-notify-echo: IPC Notify round trips between two independently started processes, like
 * TI's ipc_notify_echo example.
 *
 *   ipcc-notify-echo NAME --cpu 0 --peer 1 --server
 *   ipcc-notify-echo NAME --cpu 1 --peer 0 --client --count 1000
 *
 * Each opens the system NAME (made before with `ipcc create --config FILE`, or by the first of
 * the two with --create), attaches its CPU and meets the other at the sync barrier. The server
 * registers a callback on a client id (a logical port) that sends every value back to the CPU
 * it came from, in "interrupt context" (waiting for room if need be, as TI's does), run by its
 * thread blocked at the barrier. The client sends --count values one at a time to the server's
 * client id and waits for each echo, with ipcc_notify_recv or with a callback of its own driven
 * by the dispatcher, then prints the round-trip latency (min, p50, p99, max in ns). Every echo
 * is checked: the value sent, from the peer, with the client's incarnation in its tag.
 *
 * Exit status: 0 done, 1 runtime error (no such system, a CPU taken, no Notify on the link, a
 * peer that died, a timeout, a wrong echo), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ipcc/ipcc.h>
#include <ipcc/notify.h>

#include "example.h"

#define PROG "ipcc-notify-echo"

/* The client id TI's ipc_notify_echo uses. */
#define CLIENT_ID_DEFAULT 4u
#define COUNT_DEFAULT	  1000u
#define COUNT_MAX	  1000000u
/* How long ipcc_notify_recv waits before the client asks whether the server still lives. */
#define ALIVE_CHECK_NS 100000000

static const char usage_text[] =
	"Usage: " PROG " NAME --cpu A --peer B --server [OPTIONS]\n"
	"       " PROG " NAME --cpu A --peer B --client [--count N] [OPTIONS]\n"
	"\n"
	"IPC Notify round trips between two processes started independently, as TI's\n"
	"ipc_notify_echo: each attaches its CPU of the system NAME and meets the other at the\n"
	"sync barrier; the server echoes every value sent to its client id back to the sender,\n"
	"the client sends N values one at a time and prints the round-trip latency.\n"
	"\n"
	"Options:\n"
	"  --cpu A            this CPU: an id, or a name of the system (required)\n"
	"  --peer B           the CPU of the other side: an id or a name (required)\n"
	"  --server           echo the values sent to --client-id, until SIGINT or SIGTERM\n"
	"  --client           send N values to the peer's --client-id and time each echo\n"
	"  --count N          client: round trips, 1..1000000 (default 1000);\n"
	"                     server: stop after echoing N values (default: no limit)\n"
	"  --client-id C      the Notify client (port) of both sides, 2..15 (default 4)\n"
	"  --callback         client: take each echo in a callback run by the dispatcher\n"
	"                     (default: ipcc_notify_recv)\n"
	"  --sync-all         meet every Notify peer of this CPU (ipcc_notify_sync_all), as\n"
	"                     when every core runs the example (default: --peer only)\n"
	"  --wait MODE        adaptive (default), futex or spin\n"
	"  --timeout-ms MS    bound on the sync, each round trip, and the server's wait for\n"
	"                     a client, 1..86400000 (default: wait for ever)\n"
	"  --create           create NAME if it does not exist (from --config FILE, else\n"
	"                     max(A, B) + 1 CPUs, all linked, Notify with its defaults); the\n"
	"                     process that created it removes the name when it exits\n"
	"  --config FILE      with --create: the system description to create\n"
	"  -h, --help         this text\n"
	"      --version      the versions of " PROG " and of its libipcc\n"
	"\n"
	"Exit status: 0 done, 1 runtime error, 2 usage error.\n";

struct echo {
	/* options */
	const char *name, *cpu_arg, *peer_arg;
	bool server, client, callback, sync_all;
	unsigned client_id;
	uint64_t count;		    /* 0: the server's default, no limit */
	struct example_options opt; /* timeout_ns: IPCC_TIMEOUT_INFINITE or a bound */

	struct example_system meet;
	struct ipcc_system *sys; /* meet.sys */
	struct ipcc_cpu *cpu;
	unsigned cpu_id, peer;

	/* the server's callback */
	uint64_t echoed, echo_lost, echo_errors;
	int echo_err;

	/* the client's callback: the echo of the value in flight */
	bool got;
	uint32_t got_value;
	unsigned got_remote;
};

/* The CPU on_signal interrupts: set and cleared with the signals blocked (set_signal_cpu). */
static struct ipcc_cpu *volatile signal_cpu;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
	if (signal_cpu)
		ipcc_cpu_interrupt(signal_cpu); /* async-signal-safe: ends the blocked wait */
}

/*
 * ipcc_cpu_interrupt must not run during or after ipcc_cpu_detach: the handler sees the CPU
 * only between an attach and a detach, never half-way (the library's own threads block every
 * signal, so only this thread runs the handler).
 */
static void set_signal_cpu(struct ipcc_cpu *cpu)
{
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal_cpu = cpu;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void parse(int argc, char **argv, struct echo *e)
{
	enum { OPT_SYNC_ALL = 256 };
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, 'c' },
		{ "peer", required_argument, NULL, 'p' },
		{ "server", no_argument, NULL, 'S' },
		{ "client", no_argument, NULL, 'C' },
		{ "count", required_argument, NULL, 'n' },
		{ "client-id", required_argument, NULL, 'i' },
		{ "callback", no_argument, NULL, 'b' },
		{ "sync-all", no_argument, NULL, OPT_SYNC_ALL },
		EXAMPLE_OPTIONS,
		{ 0 },
	};
	int o;

	*e = (struct echo){ .client_id = CLIENT_ID_DEFAULT,
			    .opt = { .wait = IPCC_WAIT_ADAPTIVE,
				     .timeout_ns = IPCC_TIMEOUT_INFINITE } };
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		if (example_option(o, opt, usage_text, &e->opt))
			continue;
		switch (o) {
		case 'c':
			e->cpu_arg = optarg;
			break;
		case 'p':
			e->peer_arg = optarg;
			break;
		case 'S':
			e->server = true;
			break;
		case 'C':
			e->client = true;
			break;
		case 'n':
			e->count = example_number_option("--count", optarg, 1, COUNT_MAX);
			break;
		case 'i':
			e->client_id = (unsigned)example_number_option("--client-id", optarg,
								       IPCC_NOTIFY_CLIENT_FIRST,
								       IPCC_NOTIFY_CLIENTS - 1);
			break;
		case 'b':
			e->callback = true;
			break;
		case OPT_SYNC_ALL:
			e->sync_all = true;
			break;
		}
	}
	if (optind >= argc)
		example_usage_error("missing NAME");
	if (optind != argc - 1)
		example_usage_error("exactly one NAME expected, got '%s' too", argv[optind + 1]);
	e->name = argv[optind];
	if (e->name[0] != '/')
		example_usage_error("invalid name '%s': a shm name starts with '/'", e->name);
	if (e->server == e->client)
		example_usage_error("say which side this is: --server or --client");
	if (!e->cpu_arg || !e->peer_arg)
		example_usage_error("--cpu and --peer are required");
	if (e->callback && !e->client)
		example_usage_error("--callback is for the client");
	if (e->opt.config && !e->opt.create)
		example_usage_error("--config needs --create");
	if (e->client && !e->count)
		e->count = COUNT_DEFAULT;
}

/* --create without --config: the smallest system that has both CPUs, Notify on every link. */
static int default_config(const struct echo *e, struct ipcc_config *cfg,
			  struct ipcc_notify_config *ncfg)
{
	uint64_t a, b;

	if (!example_decimal(e->cpu_arg, 0, IPCC_CPUS_MAX - 1, &a) ||
	    !example_decimal(e->peer_arg, 0, IPCC_CPUS_MAX - 1, &b))
		example_usage_error("--create without --config takes CPU ids below %u, not names",
				    IPCC_CPUS_MAX);
	ipcc_config_init(cfg);
	ipcc_notify_config_init(ncfg);
	cfg->cpus = (unsigned)(a > b ? a : b) + 1;
	if (cfg->cpus < IPCC_CPUS_MIN)
		cfg->cpus = IPCC_CPUS_MIN;
	cfg->notify = ncfg;
	return 0;
}

/* Open NAME, or with --create meet the other side on it (whichever of the two comes first). */
static int open_system(struct echo *e)
{
	struct ipcc_notify_config ncfg;
	struct ipcc_config cfg;
	int r;

	if (e->opt.create && !e->opt.config)
		default_config(e, &cfg, &ncfg);
	r = example_open(e->name, e->opt.create, e->opt.config, &cfg, &e->meet);
	e->sys = e->meet.sys;
	return r;
}

/* The two CPUs exist, differ, are linked, and their link has Notify. */
static int check_pair(struct echo *e)
{
	int r = example_resolve_cpu(e->sys, e->name, "--cpu", e->cpu_arg, &e->cpu_id);

	if (r == 0)
		r = example_resolve_cpu(e->sys, e->name, "--peer", e->peer_arg, &e->peer);
	if (r)
		return r;
	if (e->cpu_id == e->peer)
		return example_fail(0, "--cpu and --peer are both CPU %u: the peer is another CPU",
				    e->cpu_id);
	if (!ipcc_system_linked(e->sys, e->cpu_id, e->peer))
		return example_fail(0, "%s has no link between CPU %u and CPU %u", e->name,
				    e->cpu_id, e->peer);
	r = ipcc_notify_enabled(e->sys, e->cpu_id, e->peer);
	if (r == 0)
		return example_fail(
			0,
			"the link %u-%u of %s has no Notify (a system description enables "
			"it with 'services: notify:')",
			e->cpu_id, e->peer, e->name);
	if (r < 0)
		return example_fail(r, "cannot read the Notify settings of %s", e->name);
	return 0;
}

static int attach(struct echo *e)
{
	int r = example_attach(e->sys, e->name, e->cpu_id, e->opt.wait, &e->cpu);

	if (r == 0)
		set_signal_cpu(e->cpu);
	return r;
}

/* The barrier: with the peer alone (sync_send, then sync_wait), or with every Notify peer. */
static int sync_peers(struct echo *e)
{
	int r;

	if (e->sync_all)
		return ipcc_notify_sync_all(e->cpu, e->opt.timeout_ns);
	r = ipcc_notify_sync_send(e->cpu, e->peer);
	return r < 0 ? r : ipcc_notify_sync_wait(e->cpu, e->peer, e->opt.timeout_ns);
}

static const char *cpu_label(const struct echo *e, unsigned id, char *buf, size_t size)
{
	snprintf(buf, size, "CPU %u (%s)", id, ipcc_system_cpu_name(e->sys, id));
	return buf;
}

/* ---- server -------------------------------------------------------------------------------- */

/*
 * In interrupt context: send the value back where it came from. The queue back may be full
 * (of this side's sync values, which need no room but take it when there is some), so the
 * send waits for room, as TI's echo does (waitForFifoNotFull): a blocking send from a
 * callback waits while the client drains, which it does while it waits for the echo.
 */
static void on_value(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		     void *arg)
{
	struct echo *e = arg;
	int r = ipcc_notify_send(cpu, remote, client, value, e->opt.timeout_ns);

	if (r == 0) {
		e->echoed++;
	} else if (r == -EPIPE || r == -EINTR) {
		e->echo_lost++; /* the client went away, or SIGTERM, while its queue was full */
	} else if (e->echo_errors++ == 0) {
		e->echo_err = r;
		fprintf(stderr, PROG ": CPU %u: cannot echo 0x%07" PRIx32 " to CPU %u: %s\n",
			e->cpu_id, value, remote, ipcc_strerror(r));
	}
	if (e->count && e->echoed == e->count)
		ipcc_cpu_interrupt(cpu); /* done: end the server's wait */
}

/*
 * The server's one thread waits at the barrier for ever: a thread blocked in a sync call
 * drains the CPU and runs its callbacks, so the echoes need no dispatcher. Each round that
 * completes (0) is a client met: the first round of a new incarnation of the peer, which
 * the sync layer tells by its generation however fast it restarted. Then the server
 * announces its next round, one that client never makes, and waits in it while echoing;
 * the client's exit or death ends the wait (-EPIPE), a restart completes it (0).
 */
static int serve(struct echo *e)
{
	char me[64], peer[64];
	bool serving = false;
	int r = ipcc_notify_register(e->cpu, e->client_id, on_value, e);

	if (r < 0)
		return example_fail(r, "cannot register client %u", e->client_id);
	cpu_label(e, e->cpu_id, me, sizeof(me));
	cpu_label(e, e->peer, peer, sizeof(peer));
	while (!stop && (!e->count || e->echoed < e->count)) {
		/* --timeout-ms bounds the wait for a client, not the time one is served. */
		int64_t timeout = serving ? IPCC_TIMEOUT_INFINITE : e->opt.timeout_ns;
		r = e->sync_all ? ipcc_notify_sync_all(e->cpu, timeout)
				: ipcc_notify_sync_send(e->cpu, e->peer);
		if (r == 0 && !e->sync_all)
			r = ipcc_notify_sync_wait(e->cpu, e->peer, timeout);
		serving = r == 0;
		if (r == 0) {
			printf("%s serving client %u of %s, synced with %s\n", me, e->client_id,
			       e->name, peer);
			fflush(stdout);
		} else if (r == -ETIMEDOUT) {
			return example_fail(0, "%s: no client synced in time", me);
		} else if (r != -EPIPE && r != -EINTR) {
			return example_fail(r, "%s: no sync with %s", me, peer);
		}
	}
	printf("%s echoed %" PRIu64 " value%s", me, e->echoed, e->echoed == 1 ? "" : "s");
	if (e->echo_lost)
		printf(", lost %" PRIu64 " to clients that went away or to the stop", e->echo_lost);
	putchar('\n');
	if (e->echo_errors)
		return example_fail(e->echo_err, "%s: %" PRIu64 " echo%s could not be sent", me,
				    e->echo_errors, e->echo_errors == 1 ? "" : "es");
	return 0;
}

/* ---- client -------------------------------------------------------------------------------- */

static void on_echo(struct ipcc_cpu *cpu, unsigned remote, unsigned client, uint32_t value,
		    void *arg)
{
	struct echo *e = arg;

	(void)cpu;
	(void)client;
	e->got = true;
	e->got_value = value;
	e->got_remote = remote;
}

/* Time left before deadline (0: none): a timeout for the next wait. */
static int64_t remaining(int64_t deadline)
{
	int64_t left;

	if (!deadline)
		return IPCC_TIMEOUT_INFINITE;
	left = deadline - example_now_ns();
	return left > 0 ? left : 0;
}

/*
 * The echo, with ipcc_notify_recv. A sender's death does not end a recv (any peer may send),
 * so it waits in slices and asks the kernel between two whether the server still lives.
 */
static int wait_recv(struct echo *e, int64_t deadline, uint32_t *ret_value, unsigned *ret_remote)
{
	for (;;) {
		int64_t left = remaining(deadline);
		int64_t slice = left < 0 || left > ALIVE_CHECK_NS ? ALIVE_CHECK_NS : left;
		int r = ipcc_notify_recv(e->cpu, e->client_id, ret_value, ret_remote, slice);

		if (r != -ETIMEDOUT && r != -EAGAIN)
			return r;
		if (left >= 0 && left <= ALIVE_CHECK_NS)
			return -ETIMEDOUT;
		if (ipcc_cpu_peer_alive(e->cpu, e->peer) != 1)
			return ipcc_notify_recv(e->cpu, e->client_id, ret_value, ret_remote, 0) == 0
				       ? 0
				       : -EPIPE;
	}
}

/* The echo, in on_echo, run by the dispatcher that this thread drives. */
static int wait_callback(struct echo *e, int64_t deadline, uint32_t *ret_value,
			 unsigned *ret_remote)
{
	while (!e->got) {
		int r = ipcc_cpu_wait(e->cpu, remaining(deadline));
		if (r == 0 || r == -EPIPE)
			ipcc_cpu_dispatch(e->cpu); /* an echo may precede the server's exit */
		if (r < 0 && !e->got)
			return r;
	}
	e->got = false;
	*ret_value = e->got_value;
	*ret_remote = e->got_remote;
	return 0;
}

/* A value: the tag of the client's incarnation above SEQ_MASK, a sequence below. */
#define SEQ_MASK 0x000FFFFFu

static uint32_t tag_of(uint32_t generation)
{
	return (generation << 20) & IPCC_NOTIFY_VALUE_MAX;
}

static int run_client(struct echo *e)
{
	char me[64], peer[64];
	uint64_t *lat = malloc(e->count * sizeof(*lat)), stale = 0;
	uint32_t gen;
	int r = 0;

	if (!lat)
		return example_fail(-ENOMEM, "cannot time %" PRIu64 " round trips", e->count);
	cpu_label(e, e->cpu_id, me, sizeof(me));
	cpu_label(e, e->peer, peer, sizeof(peer));
	if (e->callback)
		r = ipcc_notify_register(e->cpu, e->client_id, on_echo, e);
	if (r < 0) {
		free(lat);
		return example_fail(r, "cannot register client %u", e->client_id);
	}
	r = sync_peers(e);
	if (r < 0) {
		free(lat);
		if (r == -ETIMEDOUT)
			return example_fail(0,
					    "%s: %s did not sync in time (is the server running?)",
					    me, peer);
		return example_fail(r, "%s: no sync with %s", me, peer);
	}
	/*
	 * Each value carries this incarnation's tag: the echoes of a client that was killed on
	 * this CPU wait in the object for its successor (Notify delivers at least once across a
	 * restart), and are set aside by their tag instead of being taken for a wrong echo.
	 */
	r = ipcc_cpu_peer_generation(e->cpu, e->cpu_id, &gen);
	if (r < 0) {
		free(lat);
		return example_fail(r, "%s: cannot read its generation", me);
	}
	for (uint64_t i = 0; i < e->count; i++) {
		/* The low bits change every bit over the run, so that a wrong echo shows. */
		uint32_t value = tag_of(gen) | (uint32_t)((i * 2654435761u) & SEQ_MASK), got = 0;
		unsigned from = 0;
		int64_t t0 = example_now_ns();
		int64_t deadline = e->opt.timeout_ns < 0 ? 0 : t0 + e->opt.timeout_ns;

		r = ipcc_notify_send(e->cpu, e->peer, e->client_id, value, e->opt.timeout_ns);
		while (r == 0) {
			r = e->callback ? wait_callback(e, deadline, &got, &from)
					: wait_recv(e, deadline, &got, &from);
			if (r < 0 || (got & ~SEQ_MASK) == tag_of(gen))
				break;
			stale++;
		}
		lat[i] = (uint64_t)(example_now_ns() - t0);
		if (r == -EPIPE) {
			r = example_fail(0, "%s: %s died or detached during round trip %" PRIu64,
					 me, peer, i + 1);
			goto out;
		}
		if (r < 0) {
			r = example_fail(r, "%s: round trip %" PRIu64 " of %" PRIu64, me, i + 1,
					 e->count);
			goto out;
		}
		if (got != value || from != e->peer) {
			r = example_fail(0,
					 "%s: round trip %" PRIu64 ": sent 0x%07" PRIx32
					 " to CPU %u, got "
					 "0x%07" PRIx32 " from CPU %u",
					 me, i + 1, value, e->peer, got, from);
			goto out;
		}
	}
	printf("%" PRIu64 " round trips %s -> %s -> back, client %u, %s\n", e->count, me, peer,
	       e->client_id, e->callback ? "callback" : "recv");
	example_print_latency(lat, e->count);
	if (stale)
		printf("set aside %" PRIu64 " echo%s of an earlier client on %s\n", stale,
		       stale == 1 ? "" : "es", me);
	r = 0;
out:
	free(lat);
	return r;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct echo e;
	int r;

	example_prog = PROG;
	parse(argc, argv, &e);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r = open_system(&e);
	if (r == 0)
		r = check_pair(&e);
	if (r == 0)
		r = attach(&e);
	if (r == 0)
		r = e.server ? serve(&e) : run_client(&e);
	if (e.cpu) {
		set_signal_cpu(NULL);
		ipcc_cpu_detach(e.cpu);
	}
	example_close(&e.meet, e.name);
	return r;
}
