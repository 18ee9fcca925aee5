/* SPDX-License-Identifier: MIT */
/*
 * ipcc rpmsg send|recv|call|listen: RPMessage packets to and from a running system, from the
 * shell, as a CPU that nobody runs.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcc-tool.h"

#define RPMSG_TIMEOUT_DEFAULT_NS 5000000000ll

static const char rpmsg_help[] =
	"Usage: ipcc rpmsg send NAME --as CPU --to DEST [--from EP] [OPTIONS] PAYLOAD\n"
	"       ipcc rpmsg call NAME --as CPU --to DEST [--from EP] [OPTIONS] PAYLOAD\n"
	"       ipcc rpmsg recv NAME --as CPU [--ep EP] [--name SERVICE] [OPTIONS]\n"
	"       ipcc rpmsg listen NAME --as CPU [--ep EP] [--name SERVICE] [--echo]\n"
	"                         [--count N] [--json]\n"
	"\n"
	"RPMessage packets from the shell: attach to a running system as CPU (a name or an id\n"
	"that no process holds), and\n"
	"  send     send PAYLOAD to DEST from our end point --from\n"
	"  call     send it, then wait for the reply to our end point and print it\n"
	"  recv     open end point --ep, wait for one packet and print it\n"
	"  listen   open end point --ep and print every packet until Ctrl-C (or --count);\n"
	"           --echo sends each one back to where it came from\n"
	"DEST is CPU:EP (a CPU name or id and an end point number), or a service name that\n"
	"some CPU announced (ipcc_rpmsg_lookup, waiting up to --timeout). PAYLOAD is the text\n"
	"of the argument; '-' reads it from stdin. A packet is printed as its source, its\n"
	"length and its bytes (printable ASCII as it is, other bytes as \\xNN).\n"
	"\n"
	"  --as CPU          the CPU to be: a name or an id, free\n"
	"  --to DEST         CPU:EP or a service name\n"
	"  --from EP         our end point for send and call (default: the lowest free)\n"
	"  --ep EP           the end point to open for recv and listen (default: the lowest\n"
	"                    free, said on stderr)\n"
	"  --name SERVICE    recv, listen: announce the end point under this name\n"
	"  --timeout S       how long a lookup, a wait for a buffer or for a packet may take\n"
	"                    (default 5; 0: not at all; inf: for ever); listen: for ever\n"
	"  --echo            listen: send every packet back\n"
	"  --count N         listen: end after N packets\n"
	"  --json            what was sent and received as JSON (listen: one object a line)\n";

enum rpmsg_verb { V_SEND, V_CALL, V_RECV, V_LISTEN };

struct rpmsg_cli {
	const char *name;
	enum rpmsg_verb verb;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	unsigned self, local_ep;
	int64_t timeout;
	bool json, echo;
	unsigned long count;
	const char *service; /* --name */
};

/* Why an RPMessage call failed, as the end of a one-line message. */
static const char *rpmsg_cause(const struct rpmsg_cli *c, int err, char *buf, size_t size)
{
	switch (-err) {
	case ECONNREFUSED:
		return "the end point is not open there (or its CPU is not attached)";
	case ENOPROTOOPT:
		return "no RPMessage between the two CPUs";
	case ENOENT:
		return "the two CPUs have no link";
	case EMSGSIZE:
		snprintf(buf, size, "the payload is larger than a packet holds (%" PRIu32 " bytes)",
			 ipcc_rpmsg_payload_max(c->sys));
		return buf;
	case ERANGE:
		snprintf(buf, size, "end points are 0..%" PRIu32, ipcc_rpmsg_endpoints(c->sys) - 1);
		return buf;
	case EADDRINUSE:
		return "that end point is open already on this CPU";
	case EACCES:
		return "end point 0 is the name service's";
	case EADDRNOTAVAIL:
		return "no end point is free";
	case EAGAIN:
		return "nothing there yet (--timeout 0)";
	case ETIMEDOUT:
		return c->verb == V_SEND ? "no free buffer in time: is the receiver consuming?"
					 : "nothing arrived in time (--timeout)";
	case EPIPE:
		return "the peer died, detached or restarted";
	case EINTR:
		return "interrupted";
	case EEXIST:
		return "this CPU announced that name already";
	default:
		return ipcc_strerror(err);
	}
}

/* An end point number, or ANY for "any". */
static int parse_ep(const char *opt, const char *arg, unsigned *ret)
{
	unsigned long v;

	if (parse_ulong(arg, 10, &v) < 0 || v >= IPCC_RPMSG_ENDPOINTS_MAX)
		return usage_error("rpmsg: %s '%s': an end point number expected", opt, arg);
	*ret = (unsigned)v;
	return 0;
}

/* Printable ASCII as it is, other bytes (and '\') as \xNN: a payload is anyone's bytes. */
static const char *payload_text(const unsigned char *p, uint32_t len, char *buf, size_t size)
{
	size_t o = 0;

	for (uint32_t i = 0; i < len; i++) {
		bool plain = p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\';
		if (o + (plain ? 1 : 4) >= size)
			break;
		o += (size_t)(plain ? snprintf(buf + o, size - o, "%c", p[i])
				    : snprintf(buf + o, size - o, "\\x%02x", p[i]));
	}
	buf[o] = '\0';
	return buf;
}

static json_t *json_packet(const struct rpmsg_cli *c, unsigned from, unsigned from_ep, unsigned to,
			   unsigned to_ep, const void *data, uint32_t len)
{
	char *text = malloc(4 * (size_t)len + 1), *hex = malloc(2 * (size_t)len + 1);
	json_t *o = NULL;

	if (text && hex) {
		for (uint32_t i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)data)[i]);
		hex[2 * len] = '\0';
		o = json_pack("{s:i, s:o, s:i, s:i, s:o, s:i, s:I, s:s, s:s}", "from", (int)from,
			      "from_name", jstr(ipcc_system_cpu_name(c->sys, from)), "from_ep",
			      (int)from_ep, "to", (int)to, "to_name",
			      jstr(ipcc_system_cpu_name(c->sys, to)), "to_ep", (int)to_ep, "len",
			      (json_int_t)len, "text",
			      payload_text(data, len, text, 4 * (size_t)len + 1), "hex", hex);
	}
	free(text);
	free(hex);
	return o;
}

/* One packet sent or received: a line of text, or a JSON member (listen: a JSON line). */
static int report(const struct rpmsg_cli *c, json_t *doc, const char *what, unsigned from,
		  unsigned from_ep, unsigned to, unsigned to_ep, const void *data, uint32_t len)
{
	if (doc)
		return json_object_set_new(doc, what,
					   json_packet(c, from, from_ep, to, to_ep, data, len));
	if (c->json) {
		json_t *o = json_packet(c, from, from_ep, to, to_ep, data, len);
		int r = o ? json_dumpf(o, stdout, JSON_COMPACT) : -1;
		json_decref(o);
		if (r < 0)
			return -1;
		putchar('\n');
	} else {
		char *text = malloc(4 * (size_t)len + 1);
		if (!text)
			return -1;
		printf("%s %s:%u -> %s:%u, %" PRIu32 " bytes: %s\n", what,
		       ESC(ipcc_system_cpu_name(c->sys, from)), from_ep,
		       ESC(ipcc_system_cpu_name(c->sys, to)), to_ep, len,
		       payload_text(data, len, text, 4 * (size_t)len + 1));
		free(text);
	}
	return fflush(stdout) == EOF ? -1 : 0;
}

/* DEST: CPU:EP, else a service name some CPU announced to us. */
static int resolve(struct rpmsg_cli *c, const char *dest, unsigned *ret_cpu, unsigned *ret_ep)
{
	const char *colon = strrchr(dest, ':');
	unsigned long ep;
	char cpu[64];
	int id;

	if (colon && (size_t)(colon - dest) < sizeof(cpu) && parse_ulong(colon + 1, 10, &ep) == 0) {
		unsigned long n;
		memcpy(cpu, dest, (size_t)(colon - dest));
		cpu[colon - dest] = '\0';
		id = ipcc_system_cpu_by_name(c->sys, cpu);
		if (id < 0 && parse_ulong(cpu, 10, &n) == 0 && n < ipcc_system_cpus(c->sys))
			id = (int)n;
		if (id >= 0) {
			*ret_cpu = (unsigned)id;
			*ret_ep = (unsigned)ep;
			return 0;
		}
	}
	int r = ipcc_rpmsg_lookup(c->cpu, dest, c->timeout, ret_cpu, ret_ep);
	if (r == 0)
		return 0;
	char buf[128];
	fprintf(stderr, "ipcc: %s: no destination '%s': %s\n", ESC(c->name), ESC(dest),
		r == -ETIMEDOUT || r == -EAGAIN ? "neither CPU:EP nor a name a live CPU announced"
		: r == -EINVAL			? "neither CPU:EP nor a valid service name"
						: rpmsg_cause(c, r, buf, sizeof(buf)));
	return EXIT_RUNTIME;
}

static struct ipcc_cpu *volatile stop_cpu;

/* Ctrl-C: end the blocked receive (ipcc_cpu_interrupt is async-signal-safe). */
static void on_stop(int sig)
{
	struct ipcc_cpu *cpu = stop_cpu;

	cli_stop = sig;
	if (cpu)
		ipcc_cpu_interrupt(cpu);
}

static int open_ep(struct rpmsg_cli *c, unsigned number, const char *service)
{
	char buf[128];
	int r = ipcc_rpmsg_ep_create(c->cpu, number, NULL, NULL, &c->ep);

	if (r < 0) {
		if (number == IPCC_RPMSG_ENDPT_ANY)
			fprintf(stderr, "ipcc: cannot open an end point of %s on %s: %s\n",
				ESC(ipcc_system_cpu_name(c->sys, c->self)), ESC(c->name),
				rpmsg_cause(c, r, buf, sizeof(buf)));
		else
			fprintf(stderr, "ipcc: cannot open end point %s:%u on %s: %s\n",
				ESC(ipcc_system_cpu_name(c->sys, c->self)), number, ESC(c->name),
				r == -ENOPROTOOPT ? "no link of this CPU has RPMessage"
						  : rpmsg_cause(c, r, buf, sizeof(buf)));
		return EXIT_RUNTIME;
	}
	c->local_ep = ipcc_rpmsg_ep_number(c->ep);
	if (service && (r = ipcc_rpmsg_announce(c->ep, service, IPCC_RPMSG_CPU_ALL)) < 0) {
		fprintf(stderr, "ipcc: cannot announce '%s' on %s: %s\n", ESC(service),
			ESC(c->name),
			r == -EINVAL ? "1..31 characters of A-Z a-z 0-9 _ . : - expected"
				     : rpmsg_cause(c, r, buf, sizeof(buf)));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* send, call: one packet out (and, for call, one back). */
static int do_send(struct rpmsg_cli *c, const char *dest, const void *data, uint32_t len)
{
	unsigned to, to_ep, from, from_ep;
	uint32_t rlen;
	json_t *doc = c->json ? json_object() : NULL;
	char buf[128];
	int r = resolve(c, dest, &to, &to_ep);

	if (r)
		goto out;
	r = ipcc_rpmsg_send(c->cpu, data, len, to, to_ep, c->local_ep, c->timeout);
	if (r < 0) {
		fprintf(stderr, "ipcc: cannot send to %s:%u on %s: %s\n",
			ESC(ipcc_system_cpu_name(c->sys, to)), to_ep, ESC(c->name),
			rpmsg_cause(c, r, buf, sizeof(buf)));
		r = EXIT_RUNTIME;
		goto out;
	}
	r = report(c, doc, "sent", c->self, c->local_ep, to, to_ep, data, len);
	if (r == 0 && c->verb == V_CALL) {
		uint32_t cap = ipcc_rpmsg_payload_max(c->sys);
		void *reply = malloc(cap ? cap : 1);
		r = reply ? ipcc_rpmsg_recv(c->ep, reply, cap, &rlen, &from, &from_ep, c->timeout)
			  : -ENOMEM;
		c->verb = V_RECV; /* for the messages */
		if (r < 0)
			fprintf(stderr, "ipcc: no reply from %s:%u on %s: %s\n",
				ESC(ipcc_system_cpu_name(c->sys, to)), to_ep, ESC(c->name),
				rpmsg_cause(c, r, buf, sizeof(buf)));
		else
			r = report(c, doc, "reply", from, from_ep, c->self, c->local_ep, reply,
				   rlen);
		free(reply);
		if (r < 0) {
			r = EXIT_RUNTIME;
			goto out;
		}
	}
	if (doc) {
		r = json_print(doc, c->name);
		doc = NULL;
	}
out:
	json_decref(doc);
	return r;
}

/* recv, listen: packets in, until one (recv), N, or Ctrl-C. */
static int do_recv(struct rpmsg_cli *c)
{
	uint32_t cap = ipcc_rpmsg_payload_max(c->sys), len;
	unsigned from, from_ep;
	unsigned long n = 0;
	char buf[128];
	void *data = malloc(cap ? cap : 1);
	int r = 0;

	if (!data)
		return fail("receive on", c->name, -ENOMEM);
	/* stderr: so that a script (or a test) knows when it may send */
	fprintf(stderr, "ipcc: %s on %s:%u of %s\n", c->verb == V_LISTEN ? "listening" : "waiting",
		ESC(ipcc_system_cpu_name(c->sys, c->self)), c->local_ep, ESC(c->name));
	while (!cli_stop && (c->verb == V_RECV ? n < 1 : !c->count || n < c->count)) {
		r = ipcc_rpmsg_recv(c->ep, data, cap, &len, &from, &from_ep,
				    c->verb == V_LISTEN ? IPCC_TIMEOUT_INFINITE : c->timeout);
		if (r == -EINTR && cli_stop && c->verb == V_LISTEN) {
			r = 0; /* Ctrl-C: the end of a listen */
			break;
		}
		if (r == -EPIPE && c->echo) {
			/*
			 * The CPU we echoed to last went away, and a receive on an end point
			 * whose reply partner is dead ends at once, every time: open the end
			 * point afresh, which forgets the partner (packets that arrive in
			 * between find it closed).
			 */
			ipcc_rpmsg_ep_close(c->ep);
			c->ep = NULL;
			r = open_ep(c, c->local_ep, c->service);
			if (r)
				break;
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "ipcc: cannot receive on %s:%u of %s: %s\n",
				ESC(ipcc_system_cpu_name(c->sys, c->self)), c->local_ep,
				ESC(c->name), rpmsg_cause(c, r, buf, sizeof(buf)));
			break;
		}
		n++;
		json_t *doc = c->json && c->verb == V_RECV ? json_object() : NULL;
		r = report(c, doc, "received", from, from_ep, c->self, c->local_ep, data, len);
		if (doc)
			r = json_print(doc, c->name);
		if (r)
			break;
		if (c->echo) {
			r = ipcc_rpmsg_send(c->cpu, data, len, from, from_ep, c->local_ep,
					    RPMSG_TIMEOUT_DEFAULT_NS);
			if (r < 0)
				fprintf(stderr, "ipcc: cannot echo to %s:%u on %s: %s\n",
					ESC(ipcc_system_cpu_name(c->sys, from)), from_ep,
					ESC(c->name), rpmsg_cause(c, r, buf, sizeof(buf)));
			r = 0; /* a peer that went away does not end the listen */
		}
	}
	free(data);
	return r < 0 ? EXIT_RUNTIME : r;
}

/* PAYLOAD: the argument, or stdin for "-" (at most payload_max bytes, and one more to tell). */
static int read_payload(struct rpmsg_cli *c, const char *arg, char **ret, uint32_t *ret_len)
{
	uint32_t max = ipcc_rpmsg_payload_max(c->sys);
	size_t n;

	if (strcmp(arg, "-")) {
		n = strlen(arg);
		*ret = strdup(arg);
	} else {
		*ret = malloc((size_t)max + 1);
		n = *ret ? fread(*ret, 1, (size_t)max + 1, stdin) : 0;
	}
	if (!*ret)
		return fail("send on", c->name, -ENOMEM);
	if (n > max) {
		fprintf(stderr,
			"ipcc: cannot send on %s: the payload is larger than a packet holds "
			"(%" PRIu32 " bytes)\n",
			ESC(c->name), max);
		return EXIT_RUNTIME;
	}
	*ret_len = (uint32_t)n;
	return 0;
}

int cmd_rpmsg(int argc, char **argv)
{
	enum { OPT_AS = 256, OPT_TO, OPT_FROM, OPT_EP, OPT_NAME, OPT_TIMEOUT, OPT_ECHO, OPT_COUNT };
	static const struct option longopts[] = {
		{ "as", required_argument, NULL, OPT_AS },
		{ "to", required_argument, NULL, OPT_TO },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "ep", required_argument, NULL, OPT_EP },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "echo", no_argument, NULL, OPT_ECHO },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const char *const verbs[] = { "send", "call", "recv", "listen" };
	struct rpmsg_cli c = { .timeout = RPMSG_TIMEOUT_DEFAULT_NS };
	const char *as = NULL, *to = NULL, *service = NULL, *verb;
	unsigned ep = IPCC_RPMSG_ENDPT_ANY;
	char name[IPCC_NAME_MAX + 2], *payload = NULL;
	uint32_t len = 0;
	int ch, r, ret = EXIT_RUNTIME;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(rpmsg_help, stdout);
			return 0;
		}
		return usage_error("rpmsg: missing send, call, recv or listen");
	}
	verb = argv[1];
	for (c.verb = V_SEND; c.verb <= V_LISTEN && strcmp(verb, verbs[c.verb]); c.verb++)
		;
	if (c.verb > V_LISTEN)
		return usage_error("rpmsg: unknown command '%s' (send, call, recv or listen)",
				   ESC(verb));
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (ch) {
		case OPT_AS:
			as = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_FROM:
		case OPT_EP:
			r = parse_ep(ch == OPT_FROM ? "--from" : "--ep", optarg, &ep);
			if (r)
				return r;
			break;
		case OPT_NAME:
			service = optarg;
			break;
		case OPT_TIMEOUT:
			r = parse_timeout("rpmsg", optarg, &c.timeout);
			if (r)
				return r;
			break;
		case OPT_ECHO:
			c.echo = true;
			break;
		case OPT_COUNT:
			if (parse_ulong(optarg, 10, &c.count) < 0 || c.count == 0)
				return usage_error(
					"rpmsg: --count '%s': a positive number expected", optarg);
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			fputs(rpmsg_help, stdout);
			return 0;
		case ':':
			return usage_error("rpmsg %s: option '%s' needs a value", verb, opt);
		default:
			return usage_error("rpmsg %s: unknown option '%s'", verb, opt);
		}
	}
	bool sending = c.verb == V_SEND || c.verb == V_CALL;
	if (optind >= argc)
		return usage_error("rpmsg %s: missing NAME", verb);
	r = name_normalize(argv[optind], name, sizeof(name));
	if (r)
		return r;
	if (optind + 1 + sending != argc)
		return usage_error(sending ? "rpmsg %s: NAME and one PAYLOAD expected"
					   : "rpmsg %s: only NAME expected",
				   verb);
	if (!as)
		return usage_error("rpmsg %s: missing --as CPU (the CPU to attach as)", verb);
	if (sending && !to)
		return usage_error("rpmsg %s: missing --to CPU:EP or a service name", verb);
	if (!sending && to)
		return usage_error("rpmsg %s: --to is for send and call", verb);
	if (sending && (service || c.echo || c.count))
		return usage_error("rpmsg %s: --name, --echo and --count are for recv and listen",
				   verb);
	if (c.verb == V_RECV && (c.echo || c.count))
		return usage_error("rpmsg recv: --echo and --count are for listen");

	c.name = name;
	r = ipcc_system_open(name, &c.sys);
	if (r < 0)
		return fail("open", name, r);
	r = cpu_arg(c.sys, name, "--as", as, &c.self);
	if (r == 0 && sending)
		r = read_payload(&c, argv[optind + 1], &payload, &len);
	if (r == 0)
		r = cpu_attach_free(c.sys, name, c.self, &c.cpu);
	if (r)
		goto out;
	if (!sending) {
		stop_cpu = c.cpu;
		struct sigaction sa = { .sa_handler = on_stop };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	c.service = service;
	r = open_ep(&c, ep, service);
	if (r == 0)
		r = sending ? do_send(&c, to, payload, len) : do_recv(&c);
	ret = r;
	stop_cpu = NULL;
	ipcc_rpmsg_ep_close(c.ep);
	ipcc_cpu_detach(c.cpu);
out:
	free(payload);
	ipcc_system_close(c.sys);
	return ret;
}
