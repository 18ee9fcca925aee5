/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the subcommands that talk to a live system (watch, notify, stat, rpmsg): CPU
 * names on the command line, attaching as a free CPU with a message that says who holds a
 * taken one, timestamps, and a stop flag for Ctrl-C.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipcc-tool.h"

int cpu_arg(const struct ipcc_system *sys, const char *name, const char *opt, const char *arg,
	    unsigned *ret_id)
{
	unsigned long v;
	int r = ipcc_system_cpu_by_name(sys, arg);

	/* A name first, as in system descriptions: "cpu1" is CPU 1's name and only its own. */
	if (r >= 0) {
		*ret_id = (unsigned)r;
		return 0;
	}
	if (parse_ulong(arg, 10, &v) == 0 && v < ipcc_system_cpus(sys)) {
		*ret_id = (unsigned)v;
		return 0;
	}
	fprintf(stderr, "ipcc: %s has no CPU '%s' for %s (%u CPUs: a name or an id 0..%u)\n",
		ESC(name), ESC(arg), opt, ipcc_system_cpus(sys), ipcc_system_cpus(sys) - 1);
	return EXIT_RUNTIME;
}

int cpu_attach_free(struct ipcc_system *sys, const char *name, unsigned id,
		    struct ipcc_cpu **ret_cpu)
{
	struct ipcc_cpu_owner o;
	int r = ipcc_cpu_attach(sys, id, NULL, ret_cpu);

	if (r == 0)
		return 0;
	if (r == -EBUSY) {
		char pid[32] = "";
		if (ipcc_system_cpu_owner(sys, id, &o) == 0 && o.alive && o.pid > 0)
			snprintf(pid, sizeof(pid), " by pid %d", (int)o.pid);
		fprintf(stderr,
			"ipcc: cannot attach to %s as CPU %u (%s): it is taken%s (--as a free "
			"CPU; 'ipcc info %s' shows who holds which)\n",
			ESC(name), id, ESC(ipcc_system_cpu_name(sys, id)), pid, ESC(name));
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "ipcc: cannot attach to %s as CPU %u (%s): %s\n", ESC(name), id,
		ESC(ipcc_system_cpu_name(sys, id)),
		r == -EROFS ? "the object is read-only to this user" : ipcc_strerror(r));
	return EXIT_RUNTIME;
}

const char *iso_time(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06ldZ", ts.tv_nsec / 1000);
	return buf;
}

volatile sig_atomic_t cli_stop;
static int stop_fd = -1;

static void on_stop(int sig)
{
	int saved = errno;

	cli_stop = sig;
	if (stop_fd >= 0 && write(stop_fd, "s", 1) < 0) {
		/* a full pipe already says stop */
	}
	errno = saved;
}

void cli_catch_stop(int fd)
{
	struct sigaction sa = { .sa_handler = on_stop };

	stop_fd = fd;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int parse_timeout(const char *cmd, const char *arg, int64_t *ret_ns)
{
	uint64_t ns;

	if (!strcmp(arg, "inf") || !strcmp(arg, "infinite")) {
		*ret_ns = IPCC_TIMEOUT_INFINITE;
		return 0;
	}
	if (!strcmp(arg, "0")) {
		*ret_ns = 0;
		return 0;
	}
	if (parse_seconds(arg, &ns) < 0 || ns > INT64_MAX)
		return usage_error("%s: --timeout '%s': a number of seconds expected (0: do not "
				   "wait, inf: for ever)",
				   cmd, arg);
	*ret_ns = (int64_t)ns;
	return 0;
}

unsigned service_pairs(const struct ipcc_system *sys, bool only, unsigned only_a, unsigned only_b,
		       int (*enabled)(const struct ipcc_system *, unsigned, unsigned),
		       unsigned (*ret)[2])
{
	unsigned cpus = ipcc_system_cpus(sys), n = 0;

	for (unsigned a = 0; a < cpus; a++) {
		for (unsigned b = 0; b < cpus; b++) {
			unsigned lo = a < b ? a : b, hi = a < b ? b : a;
			if (a == b || !ipcc_system_linked(sys, a, b) ||
			    (only && (lo != only_a || hi != only_b)) || enabled(sys, a, b) != 1)
				continue;
			ret[n][0] = a;
			ret[n++][1] = b;
		}
	}
	return n;
}

int link_check(const struct ipcc_system *sys, const char *name, unsigned a, unsigned b)
{
	if (ipcc_system_linked(sys, a, b))
		return 0;
	fprintf(stderr, "ipcc: %s has no link %u-%u: %s\n", ESC(name), a, b,
		b >= ipcc_system_cpus(sys) ? "no such CPU" : "the pair is unlinked");
	return EXIT_RUNTIME;
}
