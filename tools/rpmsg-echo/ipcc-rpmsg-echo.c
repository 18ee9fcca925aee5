/* SPDX-License-Identifier: MIT */
/*
 * ipcc-rpmsg-echo: RPMessage round trips between two independently started processes, like
 * TI's ipc_rpmsg_echo example.
 *
 *   ipcc-rpmsg-echo server NAME [--cpu 0]
 *   ipcc-rpmsg-echo client NAME [--cpu 1] --count 1000 --size 64
 *
 * Each opens the system NAME (made before with `ipcc create --config FILE`, or by the first of
 * the two with --create) and attaches its CPU. The server opens end point 13, announces the
 * service "ipcc-echo" to every RPMessage peer and sends every packet back to the CPU and end
 * point it came from, until SIGINT or SIGTERM: a thread that takes the signals (sigwait) ends
 * the blocked receive with ipcc_rpmsg_unblock, so the server closes its end point, detaches and
 * prints its count. The client opens its reply end point 12, looks the service up by name (it
 * waits for the announcement, so the two may start in either order and nothing is hard-coded
 * but the name), sends --count packets of --size bytes one at a time, checks every echo byte
 * for byte and its source, and prints the round-trip latency (min, p50, p99, max in ns).
 *
 * Exit status: 0 done, 1 runtime error (no such system, a CPU taken, no RPMessage, no
 * service in time, a server that died, a wrong echo), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ipcc/ipcc.h>
#include <ipcc/notify.h>
#include <ipcc/rpmsg.h>

#include "example.h"

#define PROG "ipcc-rpmsg-echo"

/* The end points of TI's ipc_rpmsg_echo: the server's, and the client's for the replies. */
#define SERVER_EP	   13u
#define CLIENT_EP	   12u
#define SERVICE_DEFAULT	   "ipcc-echo"
#define COUNT_DEFAULT	   1000u
#define COUNT_MAX	   1000000u
#define SIZE_DEFAULT	   64u
#define TIMEOUT_MS_DEFAULT 10000u

static const char usage_text[] =
	"Usage: " PROG " server NAME [OPTIONS]\n"
	"       " PROG " client NAME [--count N] [--size B] [--json] [OPTIONS]\n"
	"\n"
	"RPMessage round trips between two processes started independently, in either order,\n"
	"as TI's ipc_rpmsg_echo: the server opens end point 13 of its CPU, announces the\n"
	"service name and echoes every packet back to its sender until SIGINT or SIGTERM; the\n"
	"client opens its reply end point 12, looks the service up by name, sends N packets of\n"
	"B bytes one at a time, checks every echo byte for byte and prints the round-trip\n"
	"latency. NAME is the system (a shm name; the leading '/' may be left out).\n"
	"\n"
	"Options:\n"
	"  --cpu C            this CPU: an id, or a name of the system (default: 0 for the\n"
	"                     server, 1 for the client)\n"
	"  --service S        the service name, 1..31 of A-Z a-z 0-9 _ . : - (default\n"
	"                     " SERVICE_DEFAULT ")\n"
	"  --count N          client: round trips, 1..1000000 (default 1000);\n"
	"                     server: stop after echoing N packets (default: no limit)\n"
	"  --size B           client: payload bytes per packet, 0 up to the system's payload\n"
	"                     size (default 64; 112 with the default 128-byte buffers)\n"
	"  --json             client: print the run and its latency as one JSON object\n"
	"  --wait MODE        adaptive (default), futex or spin\n"
	"  --timeout-ms MS    client: bound on the lookup and on each round trip; server:\n"
	"                     on each echo's wait for a free buffer; 1..86400000 (default\n"
	"                     10000)\n"
	"  --create           create NAME if it does not exist (from --config FILE, else 2\n"
	"                     CPUs with Notify and RPMessage defaults on their link); the\n"
	"                     process that created it removes the name when it exits\n"
	"  --config FILE      with --create: the system description to create\n"
	"  -h, --help         this text\n"
	"      --version      the versions of " PROG " and of its libipcc\n"
	"\n"
	"Exit status: 0 done, 1 runtime error, 2 usage error.\n";

struct echo {
	/* options */
	const char *cpu_arg, *service;
	char name[IPCC_NAME_MAX + 2];
	bool server;
	uint64_t count; /* 0: the server's default, no limit */
	uint32_t size;
	bool json;
	struct example_options opt;

	struct example_system meet;
	struct ipcc_system *sys; /* meet.sys */
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	unsigned cpu_id;

	pthread_t signal_thread;
	bool signal_thread_started;
	atomic_bool stop; /* the signal thread's word to the main thread */
};

static void parse(int argc, char **argv, struct echo *e)
{
	enum { OPT_SERVICE = 256, OPT_JSON };
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, 'c' },
		{ "service", required_argument, NULL, OPT_SERVICE },
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		EXAMPLE_OPTIONS,
		{ 0 },
	};
	bool size_set = false;
	const char *name;
	int o;

	*e = (struct echo){ .service = SERVICE_DEFAULT,
			    .size = SIZE_DEFAULT,
			    .opt = { .wait = IPCC_WAIT_ADAPTIVE,
				     .timeout_ns = (int64_t)TIMEOUT_MS_DEFAULT * 1000000 } };
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		if (example_option(o, opt, usage_text, &e->opt))
			continue;
		switch (o) {
		case 'c':
			e->cpu_arg = optarg;
			break;
		case OPT_SERVICE:
			e->service = optarg;
			break;
		case OPT_JSON:
			e->json = true;
			break;
		case 'n':
			e->count = example_number_option("--count", optarg, 1, COUNT_MAX);
			break;
		case 's':
			e->size = (uint32_t)example_number_option("--size", optarg, 0,
								  IPCC_RPMSG_BUFFER_SIZE_MAX -
									  IPCC_RPMSG_HEADER_SIZE);
			size_set = true;
			break;
		}
	}
	if (optind >= argc)
		example_usage_error("missing the side: server or client");
	if (!strcmp(argv[optind], "server"))
		e->server = true;
	else if (strcmp(argv[optind], "client"))
		example_usage_error("unknown side '%s': expected server or client", argv[optind]);
	if (++optind >= argc)
		example_usage_error("missing NAME");
	if (optind != argc - 1)
		example_usage_error("exactly one NAME expected, got '%s' too", argv[optind + 1]);
	name = argv[optind];
	if ((size_t)snprintf(e->name, sizeof(e->name), "%s%s", name[0] == '/' ? "" : "/", name) >=
		    sizeof(e->name) ||
	    strchr(e->name + 1, '/') || !e->name[1])
		example_usage_error(
			"invalid name '%s': a shm name of at most %u bytes, no '/' but a "
			"leading one",
			name, IPCC_NAME_MAX);
	if (!e->service[0] || strlen(e->service) > IPCC_RPMSG_NAME_MAX ||
	    strspn(e->service,
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-") !=
		    strlen(e->service))
		example_usage_error(
			"invalid value '%s' for --service: 1..%u of A-Z a-z 0-9 _ . : -",
			e->service, IPCC_RPMSG_NAME_MAX);
	if (e->server && size_set)
		example_usage_error("--size is for the client (the server echoes what it gets)");
	if (e->server && e->json)
		example_usage_error("--json is for the client (the server prints no data)");
	if (e->opt.config && !e->opt.create)
		example_usage_error("--config needs --create");
	if (!e->cpu_arg)
		e->cpu_arg = e->server ? "0" : "1";
	if (!e->server && !e->count)
		e->count = COUNT_DEFAULT;
}

/* Open NAME; with --create (and no --config), two CPUs with Notify and RPMessage defaults. */
static int open_system(struct echo *e)
{
	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_config cfg;
	int r;

	ipcc_config_init(&cfg);
	ipcc_notify_config_init(&ncfg);
	ipcc_rpmsg_config_init(&rcfg);
	cfg.notify = &ncfg;
	cfg.rpmsg = &rcfg;
	r = example_open(e->name, e->opt.create, e->opt.config, &cfg, &e->meet);
	e->sys = e->meet.sys;
	return r;
}

/* The CPU has RPMessage with some peer, and enough end point numbers for the example's. */
static int check_rpmsg(struct echo *e)
{
	unsigned cpus = ipcc_system_cpus(e->sys), peers = 0;

	if (!ipcc_rpmsg_buffers(e->sys))
		return example_fail(0,
				    "%s has no RPMessage (a system description enables it with "
				    "'services: rpmsg:')",
				    e->name);
	for (unsigned p = 0; p < cpus; p++)
		peers += p != e->cpu_id && ipcc_rpmsg_enabled(e->sys, e->cpu_id, p) == 1;
	if (!peers)
		return example_fail(0, "CPU %u of %s has RPMessage with no other CPU", e->cpu_id,
				    e->name);
	if (ipcc_rpmsg_endpoints(e->sys) <= SERVER_EP)
		return example_fail(
			0,
			"%s has %" PRIu32 " end points per CPU: the echo needs %u (end points "
			"%u and %u; services.rpmsg.endpoints)",
			e->name, ipcc_rpmsg_endpoints(e->sys), SERVER_EP + 1, CLIENT_EP, SERVER_EP);
	return 0;
}

static const char *cpu_label(const struct echo *e, unsigned id, char *buf, size_t size)
{
	snprintf(buf, size, "CPU %u (%s)", id, ipcc_system_cpu_name(e->sys, id));
	return buf;
}

static int open_endpoint(struct echo *e, unsigned number)
{
	char me[64];
	int r = ipcc_rpmsg_ep_create(e->cpu, number, NULL, NULL, &e->ep);

	if (r == -EADDRINUSE)
		return example_fail(0, "%s: end point %u is open already",
				    cpu_label(e, e->cpu_id, me, sizeof(me)), number);
	if (r < 0)
		return example_fail(r, "%s: cannot open end point %u",
				    cpu_label(e, e->cpu_id, me, sizeof(me)), number);
	return 0;
}

/* ---- signals ------------------------------------------------------------------------------- */

/*
 * SIGINT and SIGTERM are blocked in every thread (the library's included: they start after
 * the mask is set) and taken by this one with sigwait, which may call anything: it ends the
 * main thread's blocked receive with ipcc_rpmsg_unblock, which is not async-signal-safe and
 * so could not run in a handler. SIGUSR1 from the main thread ends it without a stop.
 */
static void *signal_main(void *arg)
{
	struct echo *e = arg;
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	while (sigwait(&set, &sig) != 0)
		;
	if (sig != SIGUSR1) {
		/* Pairs with the acquire loads in serve() and run_client(): nothing else is
		 * published through it, relaxed would do; release keeps the intent plain. */
		atomic_store_explicit(&e->stop, true, memory_order_release);
		ipcc_rpmsg_unblock(e->ep);
	}
	return NULL;
}

static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Start the signal thread once the end point it unblocks exists. */
static int start_signal_thread(struct echo *e)
{
	int r = pthread_create(&e->signal_thread, NULL, signal_main, e);

	if (r)
		return example_fail(-r, "cannot start the signal thread");
	e->signal_thread_started = true;
	return 0;
}

/* Stop it before the end point closes: after the join, nothing unblocks a closed end point. */
static void stop_signal_thread(struct echo *e)
{
	if (!e->signal_thread_started)
		return;
	pthread_kill(e->signal_thread, SIGUSR1);
	pthread_join(e->signal_thread, NULL);
	e->signal_thread_started = false;
}

static bool stopping(struct echo *e)
{
	return atomic_load_explicit(&e->stop, memory_order_acquire); /* signal_main's store */
}

/* ---- server -------------------------------------------------------------------------------- */

/*
 * One thread receives and echoes, in queue mode: a thread blocked in ipcc_rpmsg_recv drains
 * the CPU itself (the name service's control packets included), so no dispatcher is needed.
 * A client that goes away (its exit or death ends the receive with -EPIPE, as the reply
 * partner of the end point) is just the end of that client: the server waits for the next.
 */
static int serve(struct echo *e)
{
	uint32_t cap = ipcc_rpmsg_payload_max(e->sys), len = 0;
	uint64_t echoed = 0, lost = 0, clients = 0;
	unsigned remote = 0, remote_ep = 0, last = UINT32_MAX;
	char me[64], peer[64];
	uint8_t *buf = malloc(cap ? cap : 1);
	int r, rc = 0;

	if (!buf)
		return example_fail(-ENOMEM, "cannot allocate %" PRIu32 " bytes", cap);
	cpu_label(e, e->cpu_id, me, sizeof(me));
	r = ipcc_rpmsg_announce(e->ep, e->service, IPCC_RPMSG_CPU_ALL);
	if (r < 0) {
		free(buf);
		return example_fail(r, "%s: cannot announce '%s'", me, e->service);
	}
	printf("%s serving '%s' on end point %u of %s\n", me, e->service, SERVER_EP, e->name);
	fflush(stdout);
	while (!stopping(e) && (!e->count || echoed < e->count)) {
		r = ipcc_rpmsg_recv(e->ep, buf, cap, &len, &remote, &remote_ep,
				    IPCC_TIMEOUT_INFINITE);
		if (r == -ECANCELED || r == -EINTR)
			continue; /* the signal thread's unblock: stopping() says so */
		if (r == -EPIPE) {
			last = UINT32_MAX; /* the client went away: the next one is new */
			continue;
		}
		if (r < 0) {
			rc = example_fail(r, "%s: receive on end point %u", me, SERVER_EP);
			break;
		}
		if (remote != last) {
			clients++;
			last = remote;
			printf("%s echoing to end point %u of %s\n", me, remote_ep,
			       cpu_label(e, remote, peer, sizeof(peer)));
			fflush(stdout);
		}
		r = ipcc_rpmsg_send(e->cpu, buf, len, remote, remote_ep, SERVER_EP,
				    e->opt.timeout_ns);
		if (r == 0) {
			echoed++;
		} else if (r == -ECONNREFUSED || r == -EPIPE || r == -ETIMEDOUT) {
			lost++; /* the client closed its end point, died, or stopped reading */
		} else {
			rc = example_fail(
				r, "%s: cannot echo %" PRIu32 " bytes to end point %u of CPU %u",
				me, len, remote_ep, remote);
			break;
		}
	}
	printf("%s echoed %" PRIu64 " packet%s to %" PRIu64 " client%s", me, echoed,
	       echoed == 1 ? "" : "s", clients, clients == 1 ? "" : "s");
	if (lost)
		printf(", lost %" PRIu64 " to clients that went away", lost);
	putchar('\n');
	free(buf);
	return rc;
}

/* ---- client -------------------------------------------------------------------------------- */

/* Packet i: every byte depends on i and its offset, so that a wrong or stale echo shows. */
static void fill(uint8_t *buf, uint32_t size, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;

	for (uint32_t k = 0; k < size; k++) {
		x ^= x >> 29;
		x *= 0xBF58476D1CE4E5B9ull;
		buf[k] = (uint8_t)(x >> 56);
	}
}

/* The first offset where a and b differ (size if none). */
static uint32_t first_difference(const uint8_t *a, const uint8_t *b, uint32_t size)
{
	uint32_t k = 0;

	while (k < size && a[k] == b[k])
		k++;
	return k;
}

/* The lookup: the service's CPU and end point, waiting for its announcement. */
static int find_service(struct echo *e, unsigned *ret_cpu, unsigned *ret_ep)
{
	char me[64];
	int r = ipcc_rpmsg_lookup(e->cpu, e->service, e->opt.timeout_ns, ret_cpu, ret_ep);

	cpu_label(e, e->cpu_id, me, sizeof(me));
	if (r == -ETIMEDOUT)
		return example_fail(0,
				    "%s: no CPU announced '%s' within %" PRId64
				    " ms (is the server "
				    "running?)",
				    me, e->service, e->opt.timeout_ns / 1000000);
	if (r < 0)
		return example_fail(r, "%s: cannot look up '%s'", me, e->service);
	return 0;
}

/* One round trip: send packet i, take its echo; a runtime error's exit status, or 0. */
static int round_trip(struct echo *e, unsigned srv, unsigned srv_ep, uint64_t i, const uint8_t *out,
		      uint8_t *in, uint32_t cap)
{
	char me[64], peer[64];
	uint32_t len = 0;
	unsigned from = 0, from_ep = 0;
	int r = ipcc_rpmsg_send(e->cpu, out, e->size, srv, srv_ep, CLIENT_EP, e->opt.timeout_ns);

	cpu_label(e, e->cpu_id, me, sizeof(me));
	cpu_label(e, srv, peer, sizeof(peer));
	if (r == 0)
		r = ipcc_rpmsg_recv(e->ep, in, cap, &len, &from, &from_ep, e->opt.timeout_ns);
	if (r == -ECANCELED || (r == -EINTR && stopping(e)))
		return example_fail(0, "%s: stopped by a signal during round trip %" PRIu64, me,
				    i + 1);
	if (r == -EPIPE)
		return example_fail(0, "%s: %s died or detached during round trip %" PRIu64, me,
				    peer, i + 1);
	if (r == -ECONNREFUSED)
		return example_fail(0, "%s: end point %u of %s is closed (round trip %" PRIu64 ")",
				    me, srv_ep, peer, i + 1);
	if (r < 0)
		return example_fail(r, "%s: round trip %" PRIu64 " of %" PRIu64, me, i + 1,
				    e->count);
	if (from != srv || from_ep != srv_ep)
		return example_fail(0,
				    "%s: round trip %" PRIu64
				    ": the echo came from end point %u of CPU "
				    "%u, not %u of CPU %u",
				    me, i + 1, from_ep, from, srv_ep, srv);
	if (len != e->size)
		return example_fail(0,
				    "%s: round trip %" PRIu64 ": sent %" PRIu32
				    " bytes, the echo has %" PRIu32,
				    me, i + 1, e->size, len);
	uint32_t k = first_difference(out, in, len);
	if (k != len)
		return example_fail(0,
				    "%s: round trip %" PRIu64 ": byte %" PRIu32
				    " of the echo is 0x%02x, "
				    "sent 0x%02x",
				    me, i + 1, k, in[k], out[k]);
	return 0;
}

/* --json: the run as one object (CPU names are the object's: jansson escapes them). */
static int print_json(struct echo *e, unsigned srv, unsigned srv_ep, uint64_t *lat)
{
	struct example_latency l;

	example_latency(lat, e->count, &l);
	json_t *doc = json_pack(
		"{s:s, s:I, s:I, s:{s:i, s:s?, s:i}, s:{s:i, s:s?, s:i}, s:{s:I, s:I, s:I, s:I}}",
		"service", e->service, "round_trips", (json_int_t)e->count, "size",
		(json_int_t)e->size, "client", "cpu", (int)e->cpu_id, "name",
		ipcc_system_cpu_name(e->sys, e->cpu_id), "ep", (int)CLIENT_EP, "server", "cpu",
		(int)srv, "name", ipcc_system_cpu_name(e->sys, srv), "ep", (int)srv_ep,
		"latency_ns", "min", (json_int_t)l.min, "p50", (json_int_t)l.p50, "p99",
		(json_int_t)l.p99, "max", (json_int_t)l.max);
	int r = doc ? json_dumpf(doc, stdout, JSON_INDENT(2)) : -1;

	json_decref(doc);
	if (r < 0 || putchar('\n') == EOF || fflush(stdout) == EOF)
		return example_fail(0, "cannot print the summary as JSON: out of memory or a "
				       "write error");
	return 0;
}

static int run_client(struct echo *e)
{
	uint32_t cap = ipcc_rpmsg_payload_max(e->sys);
	uint64_t *lat = malloc(e->count * sizeof(*lat));
	uint8_t *out = malloc(cap + 1), *in = malloc(cap + 1);
	unsigned srv = 0, srv_ep = 0;
	char me[64], peer[64];
	int r = 0;

	cpu_label(e, e->cpu_id, me, sizeof(me));
	if (!lat || !out || !in) {
		r = example_fail(-ENOMEM, "cannot time %" PRIu64 " round trips", e->count);
		goto out;
	}
	if (e->size > cap) {
		r = example_fail(
			0, "--size %" PRIu32 " is above the payload size of %s: %" PRIu32 " bytes",
			e->size, e->name, cap);
		goto out;
	}
	r = find_service(e, &srv, &srv_ep);
	if (r)
		goto out;
	cpu_label(e, srv, peer, sizeof(peer));
	for (uint64_t i = 0; i < e->count; i++) {
		fill(out, e->size, i);
		memset(in, 0, cap);
		int64_t t0 = example_now_ns();
		r = round_trip(e, srv, srv_ep, i, out, in, cap);
		lat[i] = (uint64_t)(example_now_ns() - t0);
		if (r)
			goto out;
	}
	if (e->json) {
		r = print_json(e, srv, srv_ep, lat);
		goto out;
	}
	printf("%" PRIu64 " round trips of %" PRIu32 " bytes: %s end point %u -> '%s' at %s end "
	       "point %u -> back\n",
	       e->count, e->size, me, CLIENT_EP, e->service, peer, srv_ep);
	example_print_latency(lat, e->count);
out:
	free(lat);
	free(out);
	free(in);
	return r;
}

int main(int argc, char **argv)
{
	struct echo e;
	int r;

	example_prog = PROG;
	parse(argc, argv, &e);
	block_signals();
	r = open_system(&e);
	if (r == 0)
		r = example_resolve_cpu(e.sys, e.name, "--cpu", e.cpu_arg, &e.cpu_id);
	if (r == 0)
		r = check_rpmsg(&e);
	if (r == 0)
		r = example_attach(e.sys, e.name, e.cpu_id, e.opt.wait, &e.cpu);
	if (r == 0)
		r = open_endpoint(&e, e.server ? SERVER_EP : CLIENT_EP);
	if (r == 0)
		r = start_signal_thread(&e);
	if (r == 0)
		r = e.server ? serve(&e) : run_client(&e);
	stop_signal_thread(&e);
	ipcc_rpmsg_ep_close(e.ep);
	ipcc_cpu_detach(e.cpu);
	example_close(&e.meet, e.name);
	return r;
}
