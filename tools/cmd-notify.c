/* SPDX-License-Identifier: MIT */
/*
 * ipcc notify: send one IPC Notify value into a running system from the shell, as a CPU that
 * nobody runs, and optionally wait for one value back.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipcc-tool.h"

#define NOTIFY_TIMEOUT_DEFAULT_NS 5000000000ll

static const char notify_help[] =
	"Usage: ipcc notify NAME --as CPU [--to CPU:CLIENT VALUE] [--recv CLIENT]\n"
	"                   [--timeout S] [--json]\n"
	"\n"
	"Attach to a running system as CPU (a name or an id that no process holds), send the\n"
	"IPC Notify VALUE (0..0x0fffffff, decimal or 0x hex) to client CLIENT (2..15) of CPU\n"
	"--to, and with --recv wait for one value to this CPU's client CLIENT and print it.\n"
	"The CPU is detached at the end. A CPU that is taken is refused, naming its holder.\n"
	"\n"
	"  --as CPU            the CPU to be: a name or an id, free\n"
	"  --to CPU:CLIENT     where VALUE goes\n"
	"  --recv CLIENT       then wait for a value to our CLIENT (2..15)\n"
	"  --timeout S         how long a full queue or --recv may wait (default 5; 0: not at\n"
	"                      all; inf: for ever)\n"
	"  --json              print what was sent and received as JSON\n";

/* A client id 0..15 (the library refuses the reserved ones with its own error). */
static int parse_client(const char *opt, const char *arg, unsigned *ret)
{
	unsigned long v;

	if (parse_ulong(arg, 10, &v) < 0 || v >= IPCC_NOTIFY_CLIENTS)
		return usage_error("notify: %s: client '%s': a number 2..15 expected", opt, arg);
	*ret = (unsigned)v;
	return 0;
}

/* Why a Notify call failed, for a message about `peer` (CPU names) and client. */
static const char *notify_cause(int err, bool receiving)
{
	switch (-err) {
	case EACCES:
		return "clients 0 (RPMessage) and 1 (sync) are reserved: use 2..15";
	case ENOENT:
		return "the two CPUs have no link";
	case ENOPROTOOPT:
		return receiving ? "no link of this CPU has IPC Notify"
				 : "the link has no IPC Notify";
	case ETIMEDOUT:
		return receiving ? "nothing arrived in time (--timeout)"
				 : "the queue stayed full (--timeout): is the receiver running?";
	case EAGAIN:
		return receiving ? "nothing has arrived (--timeout 0)"
				 : "the queue is full (--timeout 0)";
	case EPIPE:
		return "the receiver died, detached or restarted while we waited";
	case EINTR:
		return "interrupted";
	case ERANGE:
		return "the value is above 28 bits (0x0fffffff)";
	default:
		return ipcc_strerror(err);
	}
}

/* One value sent or received: a line of text, or a member `what` of the JSON document. */
static void report(struct ipcc_system *sys, json_t *doc, const char *what, unsigned from,
		   unsigned to, unsigned client, uint32_t value)
{
	if (doc) {
		json_object_set_new(doc, what,
				    json_pack("{s:i, s:o, s:i, s:o, s:i, s:I}", "from", (int)from,
					      "from_name", jstr(ipcc_system_cpu_name(sys, from)),
					      "to", (int)to, "to_name",
					      jstr(ipcc_system_cpu_name(sys, to)), "client",
					      (int)client, "value", (json_int_t)value));
		return;
	}
	printf("%s %" PRIu32 " (0x%" PRIx32 ") from %s %s %s:%u\n", what, value, value,
	       ESC(ipcc_system_cpu_name(sys, from)), what[0] == 's' ? "to" : "on",
	       ESC(ipcc_system_cpu_name(sys, to)), client);
	fflush(stdout);
}

int cmd_notify(int argc, char **argv)
{
	enum { OPT_AS = 256, OPT_TO, OPT_RECV, OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "as", required_argument, NULL, OPT_AS },
		{ "to", required_argument, NULL, OPT_TO },
		{ "recv", required_argument, NULL, OPT_RECV },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *as = NULL, *to = NULL, *value_arg = NULL;
	char name[IPCC_NAME_MAX + 2], to_cpu[64];
	unsigned to_client = 0, recv_client = 0, self, peer = 0;
	int64_t timeout = NOTIFY_TIMEOUT_DEFAULT_NS;
	bool json = false, recv = false;
	unsigned long value = 0;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	json_t *doc = NULL;
	int c, r, ret = EXIT_RUNTIME;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		const char *opt = optind > 0 ? argv[optind - 1] : "";
		switch (c) {
		case OPT_AS:
			as = optarg;
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_RECV:
			r = parse_client("--recv", optarg, &recv_client);
			if (r)
				return r;
			recv = true;
			break;
		case OPT_TIMEOUT:
			r = parse_timeout("notify", optarg, &timeout);
			if (r)
				return r;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(notify_help, stdout);
			return 0;
		case ':':
			return usage_error("notify: option '%s' needs a value", opt);
		default:
			return usage_error("notify: unknown option '%s'", opt);
		}
	}
	if (optind >= argc)
		return usage_error("notify: missing NAME");
	r = name_normalize(argv[optind], name, sizeof(name));
	if (r)
		return r;
	if (!as)
		return usage_error("notify: missing --as CPU (the CPU to attach as)");
	if (to) {
		const char *colon = strrchr(to, ':');
		if (!colon || colon == to || (size_t)(colon - to) >= sizeof(to_cpu))
			return usage_error("notify: --to '%s': CPU:CLIENT expected (m4:4)", to);
		memcpy(to_cpu, to, (size_t)(colon - to));
		to_cpu[colon - to] = '\0';
		r = parse_client("--to", colon + 1, &to_client);
		if (r)
			return r;
		if (optind + 2 != argc)
			return usage_error(optind + 1 >= argc ? "notify: missing VALUE"
							      : "notify: one VALUE expected");
		value_arg = argv[optind + 1];
		int base = !strncmp(value_arg, "0x", 2) || !strncmp(value_arg, "0X", 2) ? 16 : 10;
		if (parse_ulong(value_arg + (base == 16 ? 2 : 0), base, &value) < 0 ||
		    value > IPCC_NOTIFY_VALUE_MAX)
			return usage_error("notify: VALUE '%s': 0..268435455 (0x0fffffff), decimal "
					   "or 0x hex, expected",
					   value_arg);
	} else if (!recv) {
		return usage_error("notify: nothing to do: --to CPU:CLIENT VALUE, --recv CLIENT or "
				   "both");
	} else if (optind + 1 != argc) {
		return usage_error("notify: a VALUE needs --to CPU:CLIENT");
	}

	r = ipcc_system_open(name, &sys);
	if (r < 0)
		return fail("open", name, r);
	r = cpu_arg(sys, name, "--as", as, &self);
	if (r == 0 && to)
		r = cpu_arg(sys, name, "--to", to_cpu, &peer);
	if (r)
		goto out;
	if (to && peer == self) {
		fprintf(stderr, "ipcc: cannot notify on %s: --as and --to are both CPU %u\n",
			ESC(name), self);
		goto out;
	}
	r = cpu_attach_free(sys, name, self, &cpu);
	if (r)
		goto out;
	if (json)
		doc = json_object();
	if (to) {
		r = ipcc_notify_send(cpu, peer, to_client, (uint32_t)value, timeout);
		if (r < 0) {
			fprintf(stderr, "ipcc: cannot notify %s:%u on %s: %s\n",
				ESC(ipcc_system_cpu_name(sys, peer)), to_client, ESC(name),
				notify_cause(r, false));
			goto detach;
		}
		report(sys, doc, "sent", self, peer, to_client, (uint32_t)value);
	}
	if (recv) {
		uint32_t v;
		unsigned from;
		r = ipcc_notify_recv(cpu, recv_client, &v, &from, timeout);
		if (r < 0) {
			fprintf(stderr, "ipcc: cannot receive on %s:%u of %s: %s\n",
				ESC(ipcc_system_cpu_name(sys, self)), recv_client, ESC(name),
				notify_cause(r, true));
			goto detach;
		}
		report(sys, doc, "received", from, self, recv_client, v);
	}
	ret = json ? json_print(doc, name) : 0;
	doc = NULL;
detach:
	json_decref(doc);
	ipcc_cpu_detach(cpu);
out:
	ipcc_system_close(sys);
	return ret;
}
