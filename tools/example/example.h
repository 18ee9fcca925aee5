/* SPDX-License-Identifier: MIT */
/*
 * What the example programs share (tools/notify-echo, tools/rpmsg-echo): messages that name
 * the program, strict numbers, the clock, the latency summary, and meeting on a system (open
 * it, or create it with the other side whichever comes first) and attaching a CPU of it, with
 * one specific message for each way that fails. Tools print; the library does not.
 */
#ifndef IPCC_TOOLS_EXAMPLE_H
#define IPCC_TOOLS_EXAMPLE_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include <ipcc/ipcc.h>

#define EXAMPLE_EXIT_RUNTIME 1
#define EXAMPLE_EXIT_USAGE   2

/* The program's name in every message: main sets it first. */
extern const char *example_prog;

/* "PROG: message", a pointer to --help, exit status 2. */
__attribute__((format(printf, 1, 2), noreturn)) void example_usage_error(const char *fmt, ...);

/* "PROG: message[: the errno's text]" (err a negative errno, or 0); returns exit status 1. */
__attribute__((format(printf, 2, 3))) int example_fail(int err, const char *fmt, ...);

/* CLOCK_MONOTONIC in ns. */
int64_t example_now_ns(void);

/* Digits only, within [min, max] (strtoull alone would take " -1"). */
bool example_decimal(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* The value of option `opt`, or a usage error naming the range. */
uint64_t example_number_option(const char *opt, const char *s, uint64_t min, uint64_t max);

/*
 * The options every example takes, with one meaning: --wait, --timeout-ms, --create, --config,
 * --help, --version. EXAMPLE_OPTIONS goes into the getopt_long table (getopt_long with ":h"
 * and opterr 0), and every code getopt returns goes to example_option first.
 */
enum {
	EXAMPLE_OPT_WAIT = 0x1000,
	EXAMPLE_OPT_TIMEOUT,
	EXAMPLE_OPT_CREATE,
	EXAMPLE_OPT_CONFIG,
	EXAMPLE_OPT_VERSION,
};
/* clang-format off */
#define EXAMPLE_OPTIONS							\
	{ "wait", required_argument, NULL, EXAMPLE_OPT_WAIT },		\
	{ "timeout-ms", required_argument, NULL, EXAMPLE_OPT_TIMEOUT },	\
	{ "create", no_argument, NULL, EXAMPLE_OPT_CREATE },		\
	{ "config", required_argument, NULL, EXAMPLE_OPT_CONFIG },	\
	{ "help", no_argument, NULL, 'h' },				\
	{ "version", no_argument, NULL, EXAMPLE_OPT_VERSION }
/* clang-format on */

struct example_options {
	enum ipcc_wait_mode wait; /* --wait adaptive, futex or spin */
	int64_t timeout_ns;	  /* --timeout-ms; the caller sets the default */
	bool create;		  /* --create */
	const char *config;	  /* --config FILE */
};

/*
 * Take getopt's code o if it is one of those into *opts: true. --help prints `usage` and
 * exits 0, --version the versions; ':' (a value missing) and '?' (an unknown option) are
 * usage errors naming `opt` (argv[optind - 1]). false for the caller's own codes.
 */
bool example_option(int o, const char *opt, const char *usage, struct example_options *opts);

/* The summary of n > 0 latency samples: nearest-rank percentiles. */
struct example_latency {
	uint64_t min, p50, p99, max;
};

/* Sort the samples and summarise them. */
void example_latency(uint64_t *ns, uint64_t n, struct example_latency *ret);

/* Sort the samples and print "latency ns: min A p50 B p99 C max D". */
void example_print_latency(uint64_t *ns, uint64_t n);

/* A system met on by name: what example_open made, for example_close. */
struct example_system {
	struct ipcc_system *sys;
	struct ipcc_sysdesc *desc; /* --config's: the created config's services point into it */
	bool created;		   /* this process created it: example_close removes the name */
};

/*
 * Open system `name`; with `create`, meet the other side on it (ipcc_system_open_or_create)
 * with the description in file `config`, else with *dflt. 0, or exit status 1 after the
 * message (no such system, another shape there, a bad description ...).
 */
int example_open(const char *name, bool create, const char *config, const struct ipcc_config *dflt,
		 struct example_system *ret);
/* Close it, and remove the name if this process created it. Accepts a zeroed one. */
void example_close(struct example_system *s, const char *name);

/* Option `opt`'s CPU `arg`: a CPU name of the system, else an id below its CPU count. */
int example_resolve_cpu(struct ipcc_system *sys, const char *name, const char *opt, const char *arg,
			unsigned *ret_id);

/* Attach CPU id in wait mode `wait`; a CPU taken says by whom. 0, or exit status 1. */
int example_attach(struct ipcc_system *sys, const char *name, unsigned id, enum ipcc_wait_mode wait,
		   struct ipcc_cpu **ret_cpu);

#endif
