/* SPDX-License-Identifier: MIT */
/* What the example programs share: see example.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "example.h"

const char *example_prog = "ipcc-example";

void example_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", example_prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry '%s --help'.\n", example_prog);
	va_end(ap);
	exit(EXAMPLE_EXIT_USAGE);
}

int example_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", example_prog);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", ipcc_strerror(err));
	fputc('\n', stderr);
	va_end(ap);
	return EXAMPLE_EXIT_RUNTIME;
}

int64_t example_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool example_decimal(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

uint64_t example_number_option(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (!example_decimal(s, min, max, &v))
		example_usage_error("invalid value '%s' for %s: expected a decimal number %" PRIu64
				    "..%" PRIu64,
				    s, opt, min, max);
	return v;
}

bool example_option(int o, const char *opt, const char *usage, struct example_options *opts)
{
	switch (o) {
	case EXAMPLE_OPT_WAIT:
		if (!strcmp(optarg, "adaptive"))
			opts->wait = IPCC_WAIT_ADAPTIVE;
		else if (!strcmp(optarg, "futex"))
			opts->wait = IPCC_WAIT_FUTEX;
		else if (!strcmp(optarg, "spin"))
			opts->wait = IPCC_WAIT_SPIN;
		else
			example_usage_error("invalid value '%s' for --wait: expected adaptive, "
					    "futex or spin",
					    optarg);
		return true;
	case EXAMPLE_OPT_TIMEOUT:
		opts->timeout_ns =
			(int64_t)example_number_option("--timeout-ms", optarg, 1, 86400000) *
			1000000;
		return true;
	case EXAMPLE_OPT_CREATE:
		opts->create = true;
		return true;
	case EXAMPLE_OPT_CONFIG:
		opts->config = optarg;
		return true;
	case 'h':
		fputs(usage, stdout);
		exit(0);
	case EXAMPLE_OPT_VERSION:
		printf("%s %s (libipcc %s)\n", example_prog, IPCC_VERSION_STRING, ipcc_version());
		exit(0);
	case ':':
		example_usage_error("option '%s' needs a value", opt);
	case '?':
		example_usage_error("unknown option '%s'", opt);
	default:
		return false;
	}
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

/* Nearest rank: the smallest sample with at least p% of them at or below it. */
static uint64_t percentile(const uint64_t *sorted, uint64_t n, unsigned p)
{
	uint64_t rank = (n * p + 99) / 100;

	return sorted[rank ? rank - 1 : 0];
}

void example_latency(uint64_t *ns, uint64_t n, struct example_latency *ret)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	*ret = (struct example_latency){ .min = ns[0],
					 .p50 = percentile(ns, n, 50),
					 .p99 = percentile(ns, n, 99),
					 .max = ns[n - 1] };
}

void example_print_latency(uint64_t *ns, uint64_t n)
{
	struct example_latency l;

	example_latency(ns, n, &l);
	printf("latency ns: min %" PRIu64 " p50 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 "\n",
	       l.min, l.p50, l.p99, l.max);
}

int example_open(const char *name, bool create, const char *config, const struct ipcc_config *dflt,
		 struct example_system *ret)
{
	struct ipcc_sysdesc_error err;
	struct ipcc_config cfg;
	char line[512];
	int r;

	*ret = (struct example_system){ 0 };
	if (!create) {
		r = ipcc_system_open(name, &ret->sys);
		if (r == -ENOENT)
			return example_fail(0,
					    "cannot open %s: no such system (create it with 'ipcc "
					    "create --config FILE', or pass --create)",
					    name);
		if (r < 0)
			return example_fail(r, "cannot open %s", name);
		return 0;
	}
	if (config) {
		r = ipcc_sysdesc_load(config, &ret->desc, &err);
		if (r < 0) {
			ipcc_sysdesc_error_format(&err, line, sizeof(line));
			return example_fail(0, "%s", line);
		}
		cfg = *ipcc_sysdesc_config(ret->desc); /* its services point into ret->desc */
	} else {
		cfg = *dflt;
	}
	r = ipcc_system_open_or_create(name, &cfg, 0, &ret->sys);
	if (r == -EEXIST)
		return example_fail(
			0,
			"cannot create %s: a system of another shape is there (remove "
			"it with 'ipcc rm %s', or create it the same way on both sides)",
			name, name);
	if (r < 0)
		return example_fail(r, "cannot create %s", name);
	ret->created = r == 1;
	return 0;
}

void example_close(struct example_system *s, const char *name)
{
	ipcc_system_close(s->sys);
	if (s->created)
		ipcc_system_unlink(name);
	ipcc_sysdesc_free(s->desc);
	*s = (struct example_system){ 0 };
}

int example_resolve_cpu(struct ipcc_system *sys, const char *name, const char *opt, const char *arg,
			unsigned *ret_id)
{
	unsigned cpus = ipcc_system_cpus(sys);
	int id = ipcc_system_cpu_by_name(sys, arg);
	uint64_t v;

	if (id >= 0) {
		*ret_id = (unsigned)id;
		return 0;
	}
	if (!example_decimal(arg, 0, UINT32_MAX, &v))
		return example_fail(0, "%s has no CPU named '%s' (%s)", name, arg, opt);
	if (v >= cpus)
		return example_fail(0, "%s has no CPU %s (%s): its CPUs are 0..%u", name, arg, opt,
				    cpus - 1);
	*ret_id = (unsigned)v;
	return 0;
}

int example_attach(struct ipcc_system *sys, const char *name, unsigned id, enum ipcc_wait_mode wait,
		   struct ipcc_cpu **ret_cpu)
{
	struct ipcc_cpu_options opt;
	struct ipcc_cpu_owner own;
	int r;

	ipcc_cpu_options_init(&opt);
	opt.wait = wait;
	r = ipcc_cpu_attach(sys, id, &opt, ret_cpu);
	if (r == -EBUSY && ipcc_system_cpu_owner(sys, id, &own) == 0 && own.pid > 0)
		return example_fail(0,
				    "cannot attach CPU %u (%s) of %s: it is taken (process %d "
				    "holds it)",
				    id, ipcc_system_cpu_name(sys, id), name, (int)own.pid);
	if (r == -EBUSY)
		return example_fail(0, "cannot attach CPU %u (%s) of %s: it is taken", id,
				    ipcc_system_cpu_name(sys, id), name);
	if (r < 0)
		return example_fail(r, "cannot attach CPU %u of %s", id, name);
	return 0;
}
