/* SPDX-License-Identifier: MIT */
/*
 * ipcc-bench: latency between two pinned processes for libipcc and the baselines it is
 * judged against. Option parsing, the transport registry and the run plan live here; the
 * machinery is in harness.c and the output in report.c.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

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
	&bench_raw_futex,
	&bench_eventfd,
	&bench_io_uring,
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
	const char *skip; /* non-NULL: not run, reported as skipped */
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
	const char *json, *csv, *plot;
};

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
"                          raw-futex, eventfd -> eventfd, uring -> io_uring, and the ipcc\n"
"                          and notify rows of that mode. pipe and unix belong to no mode and\n"
"                          always run (unless --no-baselines or --transports leaves them out).\n"
"  -T, --transports LIST   only these transports (names as in --list)\n"
"  -B, --no-baselines      skip all baselines (only library rows; ratios then show '-')\n"
"  -p, --patterns LIST     simplex,half-duplex,stream (default: all three, in that order)\n"
"  -s, --sizes LIST        message sizes in bytes, 8..1048576, k suffix allowed\n"
"                          (default 8,64,512; raw-spin, raw-futex, eventfd and io_uring\n"
"                          move one 8-byte word and run once at size 8, notify one 4-byte\n"
"                          entry and runs once at size 4)\n"
"  -c, --cpus A,B          CPUs for side A (initiator/sender) and B (default: the first two\n"
"                          CPUs in the affinity mask)\n"
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
"\n"
"Output (the table always goes to stdout; a progress line to stderr if it is a terminal):\n"
"  -j, --json FILE         results as JSON (see bench/SCHEMA.md)\n"
"      --csv FILE          results as CSV, one row per result, header line first\n"
"      --plot FILE.svg     latency CDFs (linear and tail view, log time axis) as SVG\n"
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
"Exit status: 0 all rows ran (skipped ones included), 1 a row failed or an output file could\n"
"not be written, 2 usage error.\n",
		QUICK_TIME_MS, QUICK_WARMUP_MS, DEFAULT_TIME_MS, DEFAULT_MIN_ITERATIONS,
		DEFAULT_MAX_SAMPLES, DEFAULT_WARMUP_MS, DEFAULT_TIMEOUT_S);
}
/* clang-format on */

static void __attribute__((noreturn, format(printf, 1, 2))) die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipcc-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ipcc-bench --help'.\n");
	exit(2);
}

/* Split @s (modified in place) at commas into at most MAX_LIST non-empty items. */
static int split(char *s, char **out, const char *what)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST)
			die_usage("too many items in %s", what);
		out[n++] = tok;
	}
	if (!n)
		die_usage("empty list for %s", what);
	return n;
}

static unsigned long long parse_num(const char *s, const char *what, bool k_suffix)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (k_suffix && (*end == 'k' || *end == 'K')) {
		v *= 1024;
		end++;
	}
	if (errno || end == s || *end || s[0] == '-')
		die_usage("invalid number for %s", what);
	return v;
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
	char *item[MAX_LIST];
	cpu_set_t set;
	int i;

	if (split(arg, item, "--cpus") != 2)
		die_usage("--cpus needs two CPUs, A,B");
	if (sched_getaffinity(0, sizeof(set), &set))
		CPU_ZERO(&set);
	for (i = 0; i < 2; i++) {
		unsigned long long v = parse_num(item[i], "--cpus", false);

		if (v >= CPU_SETSIZE || !CPU_ISSET((int)v, &set))
			die_usage("CPU %s is not in this process's affinity mask", item[i]);
		cpu[i] = (int)v;
	}
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_WARMUP_TIME = 256, OPT_CSV, OPT_PLOT, OPT_TIMEOUT, OPT_VERSION };
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
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	char *item[MAX_LIST];
	bool cpus_set = false;
	int c, i, k, n;

	while ((c = getopt_long(argc, argv, "n:w:t:s:m:p:T:Bc:qj:lh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->cfg.iterations = parse_num(optarg, "--iterations", true);
			if (!o->cfg.iterations)
				die_usage("--iterations must be at least 1");
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
				unsigned long long v = parse_num(item[i], "--sizes", true);

				/* Simplex carries the 8-byte send stamp in the message. */
				if (v < 8 || v > (1u << 20))
					die_usage("size %s is outside 8..1048576", item[i]);
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
					die_usage("unknown wait mode '%s' (see --list)",
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
					die_usage("unknown pattern '%s'", item[i]);
				if (o->npatterns < BENCH_NR_PATTERNS)
					o->patterns[o->npatterns++] = (enum bench_pattern)k;
			}
			break;
		case 'T':
			o->ntransports = split(optarg, o->transports, "--transports");
			for (i = 0; i < o->ntransports; i++)
				if (!known_transport(o->transports[i]))
					die_usage("unknown transport '%s' (see --list)",
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
				die_usage("--timeout must be at least 1");
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
			fprintf(stderr, "Try 'ipcc-bench --help'.\n");
			exit(2);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (o->cfg.warmup_set && o->cfg.warmup == 0 && !o->cfg.iterations)
		die_usage("--warmup 0 needs --iterations (the warm-up calibrates the count)");
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

static void list_transports(void)
{
	const char *why;
	size_t i;
	int p;

	printf("%-10s %-9s %-8s %-28s %-8s %s\n", "transport", "wait", "mode", "patterns", "sizes",
	       "status");
	for (i = 0; i < REGISTRY_N; i++) {
		const struct bench_transport *t = registry[i];
		char pats[64] = "", sizes[24];

		for (p = 0; p < BENCH_NR_PATTERNS; p++) {
			if (!bench_supports(t, (enum bench_pattern)p))
				continue;
			snprintf(pats + strlen(pats), sizeof(pats) - strlen(pats), "%s%s",
				 pats[0] ? "," : "", bench_pattern_name((enum bench_pattern)p));
		}
		if (t->fixed_size)
			snprintf(sizes, sizeof(sizes), "%zu", t->fixed_size);
		else
			snprintf(sizes, sizeof(sizes), "any");
		why = t->unavailable ? t->unavailable() : NULL;
		printf("%-10s %-9s %-8s %-28s %-8s %s%s\n", t->name, t->wait,
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
			if (!selected(o, t) || unavail[i] || !bench_supports(t, p))
				continue;
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
	};
	const char *unavail[REGISTRY_N];
	struct bench_machine machine;
	struct bench_result *res;
	struct plan_row *plan;
	bool progress, failed = false;
	uint64_t t_begin;
	size_t nplan, i;

	parse_args(argc, argv, &o);
	if (o.list) {
		list_transports();
		return 0;
	}

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

	t_begin = bench_now_ns();
	bench_machine_probe(&machine, o.cfg.cpu);
	bench_print_machine(stdout, &machine);
	fflush(stdout);

	progress = isatty(STDERR_FILENO);
	for (i = 0; i < nplan; i++) {
		const struct plan_row *pr = &plan[i];

		if (progress) {
			fprintf(stderr, "\r\033[K[%zu/%zu] %s %s %s %zu B", i + 1, nplan,
				pr->t->name, pr->t->wait, bench_pattern_name(pr->p), pr->size);
			fflush(stderr);
		}
		if (pr->skip) {
			memset(&res[i], 0, sizeof(res[i]));
			res[i].t = pr->t;
			res[i].pattern = pr->p;
			res[i].size = pr->size;
			res[i].status = BENCH_SKIPPED;
			snprintf(res[i].note, sizeof(res[i].note), "%s", pr->skip);
			continue;
		}
		if (bench_run_row(&o.cfg, pr->t, pr->p, pr->size, &res[i]) == BENCH_FAILED)
			failed = true;
	}
	if (progress)
		fprintf(stderr, "\r\033[K");

	bench_resolve_baselines(res, nplan);
	bench_print_table(stdout, res, nplan);
	for (i = 0; i < REGISTRY_N; i++)
		if (unavail[i])
			printf("skipped: %s (all rows): %s\n", registry[i]->name, unavail[i]);
	printf("%zu rows in %.1f s\n", nplan, (double)(bench_now_ns() - t_begin) / 1e9);

	if (o.json && bench_write_json(o.json, &machine, res, nplan)) {
		fprintf(stderr, "ipcc-bench: %s: %s\n", o.json, strerror(errno));
		failed = true;
	}
	if (o.csv && bench_write_csv(o.csv, res, nplan)) {
		fprintf(stderr, "ipcc-bench: %s: %s\n", o.csv, strerror(errno));
		failed = true;
	}
	if (o.plot && bench_write_svg(o.plot, &machine, res, nplan)) {
		fprintf(stderr, "ipcc-bench: %s: %s\n", o.plot, strerror(errno));
		failed = true;
	}

	for (i = 0; i < nplan; i++)
		bench_result_free(&res[i]);
	free(res);
	free(plan);
	return failed ? 1 : 0;
}
