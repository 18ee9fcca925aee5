/* SPDX-License-Identifier: MIT */
/*
 * ipcc-bench: latency between two pinned processes for libipcc and the baselines it is
 * judged against. Option parsing, the transport registry and the run plan live here; the
 * machinery is in harness.c and the output in report.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#include "bench-version.h"
#include "harness.h"
#include "machine.h"
#include "report.h"
#include "transports.h"

/*
 * The registry: every transport ipcc-bench can run, in output order within each pattern.
 *
 * Library transports go at the end (declare them in transports.h, define them in their own
 * file, add the file to meson.build with ipcc_dep), one entry per wait mode, e.g.
 *
 *	&bench_ipcc_spin,	// .name = "ipcc", .wait = "spin",  .mode = "spin"
 *	&bench_ipcc_futex,	// .name = "ipcc", .wait = "futex", .mode = "futex"
 *
 * with .baseline = bench_baseline_by_wait (or their own hook) so the ratio column compares
 * them with raw-spin, raw-futex, eventfd, io_uring or pipe, and without BENCH_F_BASELINE so
 * --no-baselines keeps them. Their .mode makes them subject to --modes.
 */
/* clang-format off */
static const struct bench_transport *const registry[] = {
	&bench_raw_spin,
	&bench_spin_2line,
	&bench_raw_futex,
	&bench_eventfd,
	&bench_eventfd_epoll,
	&bench_io_uring,
	&bench_eventfd_uring,
	&bench_pipe,
	&bench_unix,
	&bench_ipcc_spin,
	&bench_ipcc_futex,
	&bench_ipcc_adaptive,
	&bench_ipcc_eventfd,
	&bench_ipcc_uring,
	&bench_notify_spin,
	&bench_notify_futex,
	&bench_notify_adaptive,
	&bench_notify_eventfd,
	&bench_notify_uring,
	&bench_rpmsg_spin,
	&bench_rpmsg_futex,
	&bench_rpmsg_adaptive,
	&bench_rpmsg_eventfd,
	&bench_rpmsg_uring,
};
/* clang-format on */
#define REGISTRY_N (sizeof(registry) / sizeof(registry[0]))

#define MAX_LIST 32

/* Per-row time budgets: defaults keep the baselines near 12 s on two cores. */
#define DEFAULT_TIME_MS	       400
#define DEFAULT_WARMUP_MS      40
#define QUICK_TIME_MS	       100
#define QUICK_WARMUP_MS	       15
#define DEFAULT_MIN_ITERATIONS 1000
#define DEFAULT_MAX_SAMPLES    (2u << 20)
#define DEFAULT_TIMEOUT_S      60

struct plan_row {
	const struct bench_transport *t;
	enum bench_pattern p;
	size_t size;
	unsigned int cpus; /* mesh: K */
	const char *skip;  /* non-NULL: not run, reported as skipped */
};

struct opts {
	struct bench_config cfg;
	size_t sizes[MAX_LIST];
	int nsizes;
	enum bench_pattern patterns[BENCH_NR_PATTERNS];
	int npatterns;
	char *modes[MAX_LIST]; /* NULL list: all */
	int nmodes;
	char *transports[MAX_LIST];
	int ntransports;
	bool no_baselines;
	bool quick;
	bool list;
	long time_ms;	     /* -1: default */
	long warmup_time_ms; /* -1: default */
	unsigned int repeat;
	unsigned int mesh_cpus[MAX_LIST]; /* --mesh-cpus: the K of the mesh rows */
	int nmesh;
	const char *json, *csv, *plot;
	const char *compare_old, *compare_new; /* --compare: no run */
	double threshold_pct;
};

#define DEFAULT_THRESHOLD_PCT 10.0

/* clang-format off */
static void usage(FILE *f)
{
	fprintf(f,
"Usage: ipcc-bench [options]\n"
"\n"
"Measure IPC latency between two processes pinned to two CPUs: libipcc rows (when built in)\n"
"and baselines. Every row forks a fresh pair of processes, warms up, then records every\n"
"sample.\n"
"\n"
"Selection:\n"
"  -m, --modes LIST        wait modes to run (default: all). A transport tied to a wait mode\n"
"                          runs only if its mode is listed: spin -> raw-spin, futex ->\n"
"                          raw-futex, eventfd -> eventfd, uring -> io_uring, and the ipcc,\n"
"                          notify and rpmsg rows of that mode. pipe and unix belong to no\n"
"                          mode and always run (unless --no-baselines or --transports\n"
"                          leaves them out).\n"
"  -T, --transports LIST   only these transports (names as in --list)\n"
"  -B, --no-baselines      skip all baselines (only library rows; ratios then show '-')\n"
"  -p, --patterns LIST     simplex,half-duplex,stream (default: these three, in that order)\n"
"                          and mesh: K processes all sending on every link of a K-CPU\n"
"                          system, futex and adaptive (aggregate msgs/s, delivery latency)\n"
"      --mesh-cpus LIST    the K of the mesh rows, 2..%d (default 2,4,8,16)\n"
"  -s, --sizes LIST        message sizes in bytes, 8..1048576, k or M suffix allowed\n"
"                          (default 8,64,512; raw-spin, raw-futex, eventfd and io_uring\n"
"                          move one 8-byte word and run once at size 8, notify one 4-byte\n"
"                          entry and runs once at size 4, rpmsg at its own payload sizes:\n"
"                          half-duplex 16,64,112,496, stream 64)\n"
"  -c, --cpus A,B          two different CPUs for side A (initiator/sender) and B (default:\n"
"                          the first two CPUs in the affinity mask)\n"
"\n"
"Amount of work (per row):\n"
"  -q, --quick             short budgets: %d ms measured + %d ms warm-up per row\n"
"  -t, --time MS           measured time per row (default %d ms): measured chunks run until\n"
"                          it is used up (at least %d iterations, at most %u samples)\n"
"      --warmup-time MS    warm-up time per row (default %d ms)\n"
"  -n, --iterations N      measured iterations per row, overrides --time\n"
"  -w, --warmup N          warm-up iterations per row, overrides --warmup-time (0 only with\n"
"                          --iterations)\n"
"      --timeout SEC       watchdog per row: kill both sides and report a failure (default %d)\n"
"  -r, --repeat N          run each row N times (1..%d, default 1) and report the run with\n"
"                          the median p50 (stream: msgs/s) and the spread of the N p50s\n"
"\n"
"Output: each row goes to stdout as it completes, and a progress line per row (elapsed time,\n"
"about how long is left) to stderr. Every ratio names its baseline and says \"faster\" or\n"
"\"slower\" by time per message (latency p50, or 1 / msgs/s).\n"
"  -j, --json FILE         results as JSON (see bench/SCHEMA.md)\n"
"      --csv FILE          results as CSV, one row per result, header line first\n"
"      --plot FILE.svg     latency CDFs, one panel per pattern and wait mode, and a stream\n"
"                          throughput chart, as SVG\n"
"Every output path is checked before the run starts. SIGINT (Ctrl-C) or SIGTERM stops the\n"
"run: the row in progress is dropped, its shm object removed, and the rows done so far are\n"
"printed and written to the --json, --csv and --plot files asked for (the JSON says\n"
"\"complete\": false); the exit status is then 128 + the signal number.\n"
"\n"
"Regression check (no run):\n"
"      --compare OLD.json NEW.json\n"
"                          per row in both, the change of p50 and p99 (stream: msgs/s),\n"
"                          flagged when beyond the run-to-run spread: the larger spread of\n"
"                          the two files when both ran with --repeat, else --threshold.\n"
"                          Exit status 1 if a p50 (stream: msgs/s) change is a flagged\n"
"                          regression, 0 otherwise\n"
"      --threshold PCT     the spread assumed without --repeat (default %.0f%%)\n"
"\n"
"Other:\n"
"  -l, --list              list the transports and whether they are available, then exit\n"
"  -h, --help              this text\n"
"      --version           the versions of ipcc-bench and of its libipcc\n"
"\n"
"Patterns: half-duplex = round trip timed by A; simplex = one-way latency, B subtracts A's\n"
"send stamp (same CLOCK_MONOTONIC) from its receive stamp, then sends an untimed ack;\n"
"stream = A writes messages back to back, B reads whole messages (msgs/s).\n"
"notify rows: the same three with IPC Notify values, each a sequence number (simplex B\n"
"looks A's send stamp up by it); half-duplex B echoes from its client callback, stream B\n"
"counts in it.\n"
"rpmsg rows: RPMessage packets from end point 12 of A to end point 13 of B; half-duplex\n"
"B echoes them back (spin, futex, adaptive: ipcc_rpmsg_recv then ipcc_rpmsg_send; eventfd,\n"
"uring: from the end point's callback, in an event loop), stream B takes them one by one.\n"
"496 bytes use the linux profile (512-byte buffers), the rest the default (128).\n"
"Exit status: 0 all rows ran (skipped ones included), 1 a row failed or an output file could\n"
"not be written, 2 usage error (one line on stderr naming the bad value), 128 + N stopped by\n"
"signal N.\n",
		BENCH_MESH_MAX, QUICK_TIME_MS, QUICK_WARMUP_MS, DEFAULT_TIME_MS, DEFAULT_MIN_ITERATIONS,
		DEFAULT_MAX_SAMPLES, DEFAULT_WARMUP_MS, DEFAULT_TIMEOUT_S, BENCH_MAX_REPEAT,
		DEFAULT_THRESHOLD_PCT);
}
/* clang-format on */

static void __attribute__((noreturn, format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
	va_list ap;

	/* One line, so that a script's log shows the whole reason. */
	fprintf(stderr, "ipcc-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see ipcc-bench --help)\n");
	exit(2);
}

/* Split @s (modified in place) at commas into at most MAX_LIST non-empty items. */
static int split(char *s, char **out, const char *what)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST)
			die_usage("%s: more than %d items", what, MAX_LIST);
		out[n++] = tok;
	}
	if (!n)
		die_usage("%s: empty list", what);
	return n;
}

/* A decimal number; with @suffix, k (1024) or M (1024 * 1024) may follow. */
static unsigned long long parse_num(const char *s, const char *what, bool suffix)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (suffix && (*end == 'k' || *end == 'K'))
		mul = 1024;
	else if (suffix && (*end == 'm' || *end == 'M'))
		mul = 1024 * 1024;
	if (mul > 1)
		end++;
	if (errno || end == s || *end || s[0] == '-' || v > ULLONG_MAX / mul)
		die_usage("%s: invalid number '%s'", what, s);
	return v * mul;
}

/*
 * Fail now, not after minutes of measuring, if @path cannot be written. Creates nothing that
 * stays: a file made by the check is removed again, an existing one is not truncated.
 */
static void check_writable(const char *path, const char *what)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);

	if (fd >= 0) {
		close(fd);
		unlink(path);
		return;
	}
	if (errno == EEXIST)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die_usage("%s '%s' cannot be written: %s", what, path, strerror(errno));
	close(fd);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && !strcmp(s + n - k, tail);
}

static bool in_list(char *const *list, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

static bool known_mode(const char *m)
{
	size_t i;

	for (i = 0; i < REGISTRY_N; i++)
		if (registry[i]->mode && !strcmp(registry[i]->mode, m))
			return true;
	return false;
}

static bool known_transport(const char *name)
{
	size_t i;

	for (i = 0; i < REGISTRY_N; i++)
		if (!strcmp(registry[i]->name, name))
			return true;
	return false;
}

static void default_cpus(int cpu[2])
{
	cpu_set_t set;
	int i, n = 0;

	cpu[0] = cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	if (n == 1) {
		cpu[1] = cpu[0];
		fprintf(stderr, "ipcc-bench: only CPU %d is available, both sides share it\n",
			cpu[0]);
	}
}

static void parse_cpus(char *arg, int cpu[2])
{
	char *item[MAX_LIST], orig[64];
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	cpu_set_t set;
	int i;

	snprintf(orig, sizeof(orig), "%s", arg);
	if (split(arg, item, "--cpus") != 2)
		die_usage("--cpus '%s': needs two CPUs, A,B", orig);
	if (sched_getaffinity(0, sizeof(set), &set))
		CPU_ZERO(&set);
	for (i = 0; i < 2; i++) {
		unsigned long long v = parse_num(item[i], "--cpus", false);

		if (ncpus > 0 && v >= (unsigned long long)ncpus)
			die_usage("--cpus '%s': CPU %s does not exist (CPUs 0-%ld)", orig, item[i],
				  ncpus - 1);
		if (v >= CPU_SETSIZE || !CPU_ISSET((int)v, &set))
			die_usage("--cpus '%s': CPU %s is not in this process's affinity mask",
				  orig, item[i]);
		cpu[i] = (int)v;
	}
	/* Both sides on one CPU measure the scheduler, not the transport. */
	if (cpu[0] == cpu[1])
		die_usage("--cpus '%s': A and B must be two different CPUs", orig);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum {
		OPT_WARMUP_TIME = 256,
		OPT_CSV,
		OPT_PLOT,
		OPT_TIMEOUT,
		OPT_VERSION,
		OPT_COMPARE,
		OPT_THRESHOLD,
		OPT_MESH_CPUS,
	};
	static const struct option longopts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "time", required_argument, NULL, 't' },
		{ "warmup-time", required_argument, NULL, OPT_WARMUP_TIME },
		{ "sizes", required_argument, NULL, 's' },
		{ "modes", required_argument, NULL, 'm' },
		{ "patterns", required_argument, NULL, 'p' },
		{ "transports", required_argument, NULL, 'T' },
		{ "no-baselines", no_argument, NULL, 'B' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "quick", no_argument, NULL, 'q' },
		{ "json", required_argument, NULL, 'j' },
		{ "csv", required_argument, NULL, OPT_CSV },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "repeat", required_argument, NULL, 'r' },
		{ "compare", required_argument, NULL, OPT_COMPARE },
		{ "threshold", required_argument, NULL, OPT_THRESHOLD },
		{ "mesh-cpus", required_argument, NULL, OPT_MESH_CPUS },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	char *item[MAX_LIST];
	bool cpus_set = false;
	int c, i, k, n;

	unsigned long long v;
	char *end;

	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, "n:w:t:s:m:p:T:Bc:qj:r:lh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->cfg.iterations = parse_num(optarg, "--iterations", true);
			if (!o->cfg.iterations)
				die_usage("--iterations '%s': must be at least 1", optarg);
			break;
		case 'w':
			o->cfg.warmup = parse_num(optarg, "--warmup", true);
			o->cfg.warmup_set = true;
			break;
		case 't':
			o->time_ms = (long)parse_num(optarg, "--time", false);
			break;
		case OPT_WARMUP_TIME:
			o->warmup_time_ms = (long)parse_num(optarg, "--warmup-time", false);
			break;
		case 's':
			n = split(optarg, item, "--sizes");
			for (i = 0; i < n; i++) {
				v = parse_num(item[i], "--sizes", true);
				/* Simplex carries the 8-byte send stamp in the message. */
				if (v < 8 || v > (1u << 20))
					die_usage("--sizes: size '%s' is outside 8..1048576 (1M)",
						  item[i]);
				o->sizes[i] = (size_t)v;
			}
			o->nsizes = n;
			break;
		case 'm':
			o->nmodes = split(optarg, o->modes, "--modes");
			if (o->nmodes == 1 && !strcmp(o->modes[0], "all"))
				o->nmodes = 0;
			for (i = 0; i < o->nmodes; i++)
				if (!known_mode(o->modes[i]))
					die_usage("--modes: unknown wait mode '%s' (see --list)",
						  o->modes[i]);
			break;
		case 'p':
			n = split(optarg, item, "--patterns");
			o->npatterns = 0;
			for (i = 0; i < n; i++) {
				for (k = 0; k < BENCH_NR_PATTERNS; k++)
					if (!strcmp(item[i],
						    bench_pattern_name((enum bench_pattern)k)))
						break;
				if (k == BENCH_NR_PATTERNS)
					die_usage("--patterns: unknown pattern '%s'", item[i]);
				if (o->npatterns < BENCH_NR_PATTERNS)
					o->patterns[o->npatterns++] = (enum bench_pattern)k;
			}
			break;
		case 'T':
			o->ntransports = split(optarg, o->transports, "--transports");
			for (i = 0; i < o->ntransports; i++)
				if (!known_transport(o->transports[i]))
					die_usage(
						"--transports: unknown transport '%s' (see --list)",
						o->transports[i]);
			break;
		case 'B':
			o->no_baselines = true;
			break;
		case 'c':
			parse_cpus(optarg, o->cfg.cpu);
			cpus_set = true;
			break;
		case 'q':
			o->quick = true;
			break;
		case 'j':
			o->json = optarg;
			break;
		case OPT_CSV:
			o->csv = optarg;
			break;
		case OPT_PLOT:
			o->plot = optarg;
			break;
		case OPT_TIMEOUT:
			o->cfg.timeout_s = (unsigned int)parse_num(optarg, "--timeout", false);
			if (!o->cfg.timeout_s)
				die_usage("--timeout '%s': must be at least 1", optarg);
			break;
		case 'r':
			v = parse_num(optarg, "--repeat", false);
			if (v < 1 || v > BENCH_MAX_REPEAT)
				die_usage("--repeat '%s': must be 1..%d", optarg, BENCH_MAX_REPEAT);
			o->repeat = (unsigned int)v;
			break;
		case OPT_COMPARE:
			o->compare_old = optarg;
			break;
		case OPT_THRESHOLD:
			errno = 0;
			o->threshold_pct = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->threshold_pct > 0))
				die_usage("--threshold '%s': a percentage above 0", optarg);
			break;
		case OPT_MESH_CPUS:
			n = split(optarg, item, "--mesh-cpus");
			for (i = 0; i < n; i++) {
				v = parse_num(item[i], "--mesh-cpus", false);
				if (v < 2 || v > BENCH_MESH_MAX)
					die_usage("--mesh-cpus: '%s' is outside 2..%d", item[i],
						  BENCH_MESH_MAX);
				o->mesh_cpus[i] = (unsigned int)v;
			}
			o->nmesh = n;
			break;
		case 'l':
			o->list = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("ipcc-bench %s (libipcc %s)\n", IPCC_VERSION_STRING, ipcc_version());
			exit(0);
		default:
			die_usage("unknown option, or one without its value: '%s'",
				  argv[optind - 1]);
		}
	}
	if (o->compare_old) {
		if (optind + 1 != argc)
			die_usage("--compare '%s' needs exactly one more file, NEW.json",
				  o->compare_old);
		o->compare_new = argv[optind];
		return;
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (o->cfg.warmup_set && o->cfg.warmup == 0 && !o->cfg.iterations)
		die_usage("--warmup 0 needs --iterations (the warm-up calibrates the count)");
	if (o->plot && !ends_with(o->plot, ".svg"))
		die_usage("--plot '%s': the name must end in .svg", o->plot);
	if (o->json)
		check_writable(o->json, "--json");
	if (o->csv)
		check_writable(o->csv, "--csv");
	if (o->plot)
		check_writable(o->plot, "--plot");
	if (!cpus_set)
		default_cpus(o->cfg.cpu);
	if (o->time_ms < 0)
		o->time_ms = o->quick ? QUICK_TIME_MS : DEFAULT_TIME_MS;
	if (o->warmup_time_ms < 0)
		o->warmup_time_ms = o->quick ? QUICK_WARMUP_MS : DEFAULT_WARMUP_MS;
	o->cfg.budget_ns = (uint64_t)o->time_ms * 1000000u;
	o->cfg.warmup_ns = (uint64_t)o->warmup_time_ms * 1000000u;
	if (!o->nsizes) {
		o->sizes[0] = 8;
		o->sizes[1] = 64;
		o->sizes[2] = 512;
		o->nsizes = 3;
	}
	if (!o->nmesh) {
		o->mesh_cpus[0] = 2;
		o->mesh_cpus[1] = 4;
		o->mesh_cpus[2] = 8;
		o->mesh_cpus[3] = 16;
		o->nmesh = 4;
	}
	if (!o->npatterns) {
		o->patterns[0] = BENCH_SIMPLEX;
		o->patterns[1] = BENCH_HALF_DUPLEX;
		o->patterns[2] = BENCH_STREAM;
		o->npatterns = 3;
	}
}

static bool selected(const struct opts *o, const struct bench_transport *t)
{
	if (o->ntransports && !in_list(o->transports, o->ntransports, t->name))
		return false;
	if (o->no_baselines && (t->flags & BENCH_F_BASELINE))
		return false;
	if (t->mode && o->nmodes && !in_list(o->modes, o->nmodes, t->mode))
		return false;
	return true;
}

/* The sizes column of --list: the transport's own sizes (over all patterns), fixed or any. */
static void list_sizes(const struct bench_transport *t, char *buf, size_t len)
{
	size_t seen[BENCH_NR_PATTERNS * 8], nseen = 0, k;
	int p;

	buf[0] = 0;
	for (p = 0; p < BENCH_NR_PATTERNS; p++) {
		for (const size_t *sz = t->sizes[p]; sz && *sz; sz++) {
			for (k = 0; k < nseen && seen[k] != *sz; k++)
				;
			if (k < nseen || nseen == sizeof(seen) / sizeof(seen[0]))
				continue;
			seen[nseen++] = *sz;
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%zu", buf[0] ? "," : "",
				 *sz);
		}
	}
	if (buf[0])
		return;
	if (t->fixed_size)
		snprintf(buf, len, "%zu", t->fixed_size);
	else
		snprintf(buf, len, "any");
}

static void list_transports(void)
{
	const char *why;
	size_t i;
	int p;

	printf("%-10s %-9s %-8s %-28s %-14s %s\n", "transport", "wait", "mode", "patterns", "sizes",
	       "status");
	for (i = 0; i < REGISTRY_N; i++) {
		const struct bench_transport *t = registry[i];
		char pats[64] = "", sizes[64] = "";

		for (p = 0; p < BENCH_NR_PATTERNS; p++) {
			if (!bench_supports(t, (enum bench_pattern)p))
				continue;
			snprintf(pats + strlen(pats), sizeof(pats) - strlen(pats), "%s%s",
				 pats[0] ? "," : "", bench_pattern_name((enum bench_pattern)p));
		}
		list_sizes(t, sizes, sizeof(sizes));
		why = t->unavailable ? t->unavailable() : NULL;
		printf("%-10s %-9s %-8s %-28s %-14s %s%s\n", t->name, t->wait,
		       t->mode ? t->mode : "-", pats[0] ? pats : "-", sizes,
		       why ? "unavailable: " : "ok", why ? why : "");
	}
}

/* Every row to run, in output order: by pattern, then registry order, then size. */
static size_t make_plan(const struct opts *o, struct plan_row *plan, const char **unavail)
{
	const struct bench_transport *t;
	size_t n = 0, i;
	int pi, si;

	for (i = 0; i < REGISTRY_N; i++) {
		t = registry[i];
		unavail[i] = NULL;
		if (!selected(o, t))
			continue;
		if (t->unavailable)
			unavail[i] = t->unavailable();
		if (!unavail[i] && (t->flags & BENCH_F_NEEDS_TWO_CPU) &&
		    o->cfg.cpu[0] == o->cfg.cpu[1])
			unavail[i] = "busy-polls, needs two different CPUs";
	}
	for (pi = 0; pi < o->npatterns; pi++) {
		enum bench_pattern p = o->patterns[pi];

		for (i = 0; i < REGISTRY_N; i++) {
			t = registry[i];
			if (p == BENCH_MESH && selected(o, t) && !unavail[i] &&
			    (t->flags & BENCH_F_MESH)) {
				for (si = 0; si < o->nmesh; si++)
					plan[n++] = (struct plan_row){ .t = t,
								       .p = p,
								       .size = sizeof(uint64_t),
								       .cpus = o->mesh_cpus[si] };
				continue;
			}
			if (!selected(o, t) || unavail[i] || !bench_supports(t, p))
				continue;
			if (t->sizes[p]) {
				for (const size_t *sz = t->sizes[p]; *sz; sz++)
					plan[n++] =
						(struct plan_row){ .t = t, .p = p, .size = *sz };
				continue;
			}
			if (t->fixed_size) {
				plan[n++] =
					(struct plan_row){ .t = t, .p = p, .size = t->fixed_size };
				continue;
			}
			for (si = 0; si < o->nsizes; si++) {
				plan[n] = (struct plan_row){ .t = t, .p = p, .size = o->sizes[si] };
				if (t->max_size && o->sizes[si] > t->max_size)
					plan[n].skip = "size above this transport's limit";
				n++;
			}
		}
	}
	return n;
}

static double row_value(const struct bench_result *r)
{
	return r->pattern == BENCH_STREAM ? r->msgs_per_s : (double)r->st.p50;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* (max - min) / median of v[0..n), in percent; NaN for one value. */
static double spread_pct(const double *v, unsigned int n)
{
	double sorted[BENCH_MAX_REPEAT], med;

	if (n < 2)
		return NAN;
	memcpy(sorted, v, n * sizeof(*v));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	med = sorted[(n - 1) / 2];
	return med > 0 ? (sorted[n - 1] - sorted[0]) / med * 100 : NAN;
}

/*
 * Run one row @repeat times into *r: the run with the median p50 (stream: msgs/s; the lower
 * of the two middle runs for an even count) with every run's values beside it. A failed or
 * stopped run makes the row so.
 */
static enum bench_status run_repeated(const struct opts *o, const struct plan_row *pr,
				      struct bench_result *r)
{
	struct bench_result *runs = calloc(o->repeat, sizeof(*runs));
	double vals[BENCH_MAX_REPEAT], sorted[BENCH_MAX_REPEAT], p99[BENCH_MAX_REPEAT], med;
	unsigned int k, n, pick = 0;

	if (!runs) {
		memset(r, 0, sizeof(*r));
		r->t = pr->t;
		r->pattern = pr->p;
		r->size = pr->size;
		r->status = BENCH_FAILED;
		snprintf(r->note, sizeof(r->note), "out of memory");
		return r->status;
	}
	for (n = 0; n < o->repeat; n++) {
		enum bench_status st =
			pr->p == BENCH_MESH
				? bench_run_mesh(&o->cfg, pr->t, pr->cpus, &runs[n])
				: bench_run_row(&o->cfg, pr->t, pr->p, pr->size, &runs[n]);

		if (st != BENCH_OK) {
			*r = runs[n];
			runs[n].hist = NULL;
			for (k = 0; k < n; k++)
				bench_result_free(&runs[k]);
			free(runs);
			return r->status;
		}
		vals[n] = row_value(&runs[n]);
		p99[n] = (double)runs[n].st.p99;
	}
	memcpy(sorted, vals, n * sizeof(*vals));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	med = sorted[(n - 1) / 2];
	for (k = 0; k < n; k++)
		if (vals[k] == med)
			pick = k;
	for (k = 0; k < n; k++)
		if (k != pick)
			bench_result_free(&runs[k]);
	*r = runs[pick];
	memcpy(r->run_value, vals, n * sizeof(*vals));
	memcpy(r->run_p99, p99, n * sizeof(*p99));
	free(runs);
	r->runs = n;
	r->spread_pct = spread_pct(r->run_value, n);
	r->spread_p99_pct = r->pattern == BENCH_STREAM ? NAN : spread_pct(r->run_p99, n);
	return r->status;
}

/* One line per row on stderr (a log, not a redraw): where the run is and what is left. */
static void progress(size_t i, size_t nplan, const struct plan_row *pr, uint64_t row_ns,
		     uint64_t run_ns, size_t ran, size_t to_run)
{
	fprintf(stderr, "ipcc-bench: [%zu/%zu] %s %s %s ", i + 1, nplan, pr->t->name, pr->t->wait,
		bench_pattern_name(pr->p));
	if (pr->p == BENCH_MESH)
		fprintf(stderr, "%u CPUs: ", pr->cpus);
	else
		fprintf(stderr, "%zu B: ", pr->size);
	if (pr->skip)
		fprintf(stderr, "skipped");
	else
		fprintf(stderr, "%.1f s", (double)row_ns / 1e9);
	fprintf(stderr, "; %.1f s elapsed", (double)run_ns / 1e9);
	/* Rows have the same budget, so the mean so far predicts the rest. */
	if (ran && to_run > ran)
		fprintf(stderr, ", about %.0f s left",
			(double)run_ns / 1e9 / (double)ran * (double)(to_run - ran));
	fprintf(stderr, "\n");
}

static void fill_info(const struct opts *o, struct bench_run_info *info)
{
	*info = (struct bench_run_info){
		.version = IPCC_VERSION_STRING,
		.lib_version = ipcc_version(),
		.commit = BENCH_COMMIT,
		.stop_signal = bench_stop_signal(),
		.quick = o->quick,
		.no_baselines = o->no_baselines,
		.modes = o->modes,
		.nmodes = o->nmodes,
		.transports = o->transports,
		.ntransports = o->ntransports,
		.patterns = o->patterns,
		.npatterns = o->npatterns,
		.sizes = o->sizes,
		.nsizes = o->nsizes,
		.cpus = o->cfg.cpu,
		.time_ms = o->time_ms,
		.warmup_time_ms = o->warmup_time_ms,
		.iterations = o->cfg.iterations,
		.warmup = o->cfg.warmup,
		.warmup_set = o->cfg.warmup_set,
		.timeout_s = o->cfg.timeout_s,
		.repeat = o->repeat,
		.mesh_cpus = o->mesh_cpus,
		.nmesh = o->nmesh,
		.json = o->json,
		.csv = o->csv,
		.plot = o->plot,
	};
}

int main(int argc, char **argv)
{
	struct opts o = {
		.cfg = {
			.min_iterations = DEFAULT_MIN_ITERATIONS,
			.max_samples = DEFAULT_MAX_SAMPLES,
			.timeout_s = DEFAULT_TIMEOUT_S,
		},
		.time_ms = -1,
		.warmup_time_ms = -1,
		.repeat = 1,
		.threshold_pct = DEFAULT_THRESHOLD_PCT,
	};
	const char *unavail[REGISTRY_N];
	struct bench_run_info info;
	struct bench_machine machine;
	struct bench_result *res;
	struct plan_row *plan;
	bool failed = false;
	uint64_t t_begin, t_row;
	size_t nplan, ndone = 0, ran = 0, to_run = 0, i;
	int sig, ret;

	parse_args(argc, argv, &o);
	if (o.list) {
		list_transports();
		return 0;
	}
	if (o.compare_old) {
		ret = bench_compare(stdout, o.compare_old, o.compare_new, o.threshold_pct);
		return ret < 0 ? 2 : ret;
	}

	/* At most MAX_LIST sizes (or mesh K) per transport and pattern. */
	plan = calloc(REGISTRY_N * BENCH_NR_PATTERNS * MAX_LIST, sizeof(*plan));
	if (!plan) {
		perror("ipcc-bench");
		return 1;
	}
	nplan = make_plan(&o, plan, unavail);
	res = calloc(nplan ? nplan : 1, sizeof(*res));
	if (!res) {
		perror("ipcc-bench");
		return 1;
	}
	for (i = 0; i < nplan; i++)
		to_run += !plan[i].skip;

	/* From here on a stop signal ends the row in progress and leaves the loop below. */
	bench_catch_stop_signals();
	t_begin = bench_now_ns();
	bench_machine_probe(&machine, o.cfg.cpu);
	bench_print_machine(stdout, &machine);
	fflush(stdout);

	for (i = 0; i < nplan && !bench_stop_signal(); i++) {
		const struct plan_row *pr = &plan[i];

		t_row = bench_now_ns();
		if (pr->skip) {
			memset(&res[i], 0, sizeof(res[i]));
			res[i].t = pr->t;
			res[i].pattern = pr->p;
			res[i].size = pr->size;
			res[i].status = BENCH_SKIPPED;
			snprintf(res[i].note, sizeof(res[i].note), "%s", pr->skip);
		} else if (run_repeated(&o, pr, &res[i]) == BENCH_STOPPED) {
			break;
		} else {
			ran++;
		}
		if (res[i].status == BENCH_FAILED)
			failed = true;
		ndone = i + 1;
		/* Baselines run first within a pattern, so the rows so far hold this one's. */
		bench_resolve_baselines(res, ndone);
		bench_print_row(stdout, res, i, o.repeat);
		fflush(stdout);
		progress(i, nplan, pr, bench_now_ns() - t_row, bench_now_ns() - t_begin, ran,
			 to_run);
	}

	bench_print_legend(stdout, res, ndone);
	for (i = 0; i < REGISTRY_N; i++)
		if (unavail[i])
			printf("skipped: %s (all rows): %s\n", registry[i]->name, unavail[i]);
	sig = bench_stop_signal();
	if (sig)
		printf("stopped by %s after %zu of %zu rows in %.1f s: the rows above are all "
		       "that ran\n",
		       strsignal(sig), ndone, nplan, (double)(bench_now_ns() - t_begin) / 1e9);
	else
		printf("%zu rows in %.1f s\n", nplan, (double)(bench_now_ns() - t_begin) / 1e9);
	fflush(stdout);

	fill_info(&o, &info);
	if (o.json && bench_write_json(o.json, &machine, &info, res, ndone)) {
		fprintf(stderr, "ipcc-bench: %s: %s\n", o.json, strerror(errno));
		failed = true;
	}
	if (o.csv && bench_write_csv(o.csv, res, ndone)) {
		fprintf(stderr, "ipcc-bench: %s: %s\n", o.csv, strerror(errno));
		failed = true;
	}
	if (o.plot && bench_write_svg(o.plot, &machine, res, ndone)) {
		fprintf(stderr, "ipcc-bench: %s: %s\n", o.plot, strerror(errno));
		failed = true;
	}

	for (i = 0; i < nplan; i++)
		bench_result_free(&res[i]);
	free(res);
	free(plan);
	if (sig)
		return 128 + sig;
	return failed ? 1 : 0;
}
