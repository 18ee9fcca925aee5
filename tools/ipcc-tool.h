/* SPDX-License-Identifier: MIT */
/*
 * What the files of the ipcc tool share: the escaping of strings read from an object or given
 * by a user, and the JSON helpers. tools/ipcc.c defines them.
 */
#ifndef IPCC_TOOLS_IPCC_TOOL_H
#define IPCC_TOOLS_IPCC_TOOL_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Text output of a string we did not write (see esc in tools/ipcc.c): printable ASCII and
 * valid UTF-8 as they are, every other byte as \xNN. ESC(s) escapes into a temporary buffer
 * that lives until the end of the enclosing block.
 */
#define ESC_SIZE (4 * PATH_MAX + 1)
#define ESC(s)	 esc((s), (char[ESC_SIZE]){ 0 }, ESC_SIZE)

const char *esc(const char *s, char *buf, size_t size);

/* A JSON string for s (NULL: JSON null), invalid UTF-8 replaced; NULL when out of memory. */
json_t *jstr(const char *s);

/* Append e (a new reference, or NULL) to *a; on failure *a is freed and set to NULL. */
void append(json_t **a, json_t *e);

/*
 * What the subcommands share beyond that: messages, argument parsing and the snapshots that
 * info, watch and stat read (tools/ipcc.c), and the helpers of the subcommands that talk to a
 * live system (tools/cli-common.c). Each of those is a file of its own (tools/cmd-*.c).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <ipcc/ipcc.h>
#include <ipcc/notify.h>
#include <ipcc/rpmsg.h>

#define EXIT_RUNTIME 1
#define EXIT_USAGE   2

/* A usage error: one line naming the problem, a pointer to the help; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict unsigned parse of all of s (digits only). 0 or -EINVAL. */
int parse_ulong(const char *s, int base, unsigned long *ret);
/* One CPU pair "A-B" for option opt, returns a < b; prints the usage error itself. */
int parse_pair(const char *opt, const char *arg, unsigned *ret_a, unsigned *ret_b);
/* A positive decimal number of seconds ("0.5"). 0 or -EINVAL. */
int parse_seconds(const char *s, uint64_t *ret_ns);
/* NAME with or without its leading '/' into buf; prints the usage error itself. */
int name_normalize(const char *arg, char *buf, size_t size);
/* The one NAME operand left after the options of `cmd` (getopt's optind), normalised. */
int name_operand(const char *cmd, int argc, char **argv, char *buf, size_t size);

/* The cause of a negative errno from opening or removing object `name`, as a phrase. */
const char *cause(const char *name, int err, char *buf, size_t size);
/* "ipcc: cannot VERB NAME: CAUSE" on stderr; returns EXIT_RUNTIME. */
int fail(const char *verb, const char *name, int err);

/* "417792 B (408.0 KiB)" */
const char *format_size(uint64_t bytes, char *buf, size_t size);
/* Print doc (freed; NULL: a build that failed) with a newline; 0 or EXIT_RUNTIME. */
int json_print(json_t *doc, const char *what);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);

/* One link's registers and channel owners, read once: what info and watch print. */
struct link_snapshot {
	unsigned cpu[2];
	uint32_t cr[2], mr[2], sr[2]; /* [0]: C1CR, C1MR, C1TOC2SR; [1]: C2CR, C2MR, C2TOC1SR */
	uint32_t hwcfgr, verr, ipidr, sidr; /* the identification registers */
	bool irq[2][2];			    /* [proc - 1][IPCC_IRQ_RXO / IPCC_IRQ_TXF] */
	unsigned owner[IPCC_CHANNELS_MAX];  /* IPCC_CHAN_OWNER_PROC or a service number */
};
int link_snapshot(struct ipcc_system *sys, unsigned a, unsigned b, struct link_snapshot *ret);
/* Who uses a channel: "procedures", a service's name, or "service N". */
const char *owner_name(unsigned owner, char *buf, size_t size);

/* Everything ipcc info shows about one CPU, read once. */
struct cpu_snapshot {
	struct ipcc_cpu_owner own;
	struct ipcc_cpu_state state;
	const char *name;
};
const char *wait_mode_text(uint32_t mode, char *buf, size_t size);
const char *power_text(uint32_t power, char *buf, size_t size);

/* The Notify queue of one ordered pair, read once. */
struct queue_snapshot {
	unsigned from, to;
	struct ipcc_notify_stats st;
	bool consistent; /* false: the indices were impossible (fill clamped to depth) */
};
/* Every Notify queue (only_a-only_b's two if only) into *ret (the caller frees it). */
int notify_snapshot(struct ipcc_system *sys, bool only, unsigned only_a, unsigned only_b,
		    struct queue_snapshot **ret, unsigned *ret_count);

/* ---- cli-common.c: the subcommands that talk to a live system -------------------------- */

/* CPU `arg` (a name, else an id) of system `name` for option opt; prints the error itself. */
int cpu_arg(const struct ipcc_system *sys, const char *name, const char *opt, const char *arg,
	    unsigned *ret_id);
/* Attach as CPU id; a taken CPU is refused with one line naming its holder. 0 or EXIT_*. */
int cpu_attach_free(struct ipcc_system *sys, const char *name, unsigned id,
		    struct ipcc_cpu **ret_cpu);
/* 0 if CPUs a and b of system `name` have a link; else one line saying why not, EXIT_RUNTIME. */
int link_check(const struct ipcc_system *sys, const char *name, unsigned a, unsigned b);
/* The wall clock, "2026-12-02T06:58:22.123456Z". */
const char *iso_time(char *buf, size_t size);
/* --timeout S: seconds, 0 (do not wait) or inf; prints the usage error itself. */
int parse_timeout(const char *cmd, const char *arg, int64_t *ret_ns);
/*
 * SIGINT, SIGTERM and SIGHUP set cli_stop (the signal number) and write a byte to fd (-1:
 * none), so that a poll on its other end wakes up.
 */
extern volatile sig_atomic_t cli_stop;
void cli_catch_stop(int fd);

/*
 * The ordered pairs (from, to) of linked CPUs for which enabled() (ipcc_notify_enabled,
 * ipcc_rpmsg_enabled) says 1, only those of link only_a-only_b if only, into ret (room for
 * cpus * (cpus - 1) pairs); returns how many.
 */
unsigned service_pairs(const struct ipcc_system *sys, bool only, unsigned only_a, unsigned only_b,
		       int (*enabled)(const struct ipcc_system *, unsigned, unsigned),
		       unsigned (*ret)[2]);

/* The RPMessage vring of one ordered pair, read once (cmd-stat.c). */
struct vring_snapshot {
	unsigned from, to;
	struct ipcc_rpmsg_stats st;
	bool consistent; /* false: the indices were impossible (clamped) */
};
/* The counters of vring a -> b into *v: 0, or ipcc_rpmsg_stats's error (-EBADMSG is
 * reported as v->consistent false, with the counts clamped). */
int vring_read(struct ipcc_system *sys, unsigned a, unsigned b, struct vring_snapshot *v);
/* Every vring (only_a-only_b's two if only) into *ret (the caller frees it). */
int rpmsg_snapshot(struct ipcc_system *sys, bool only, unsigned only_a, unsigned only_b,
		   struct vring_snapshot **ret, unsigned *ret_count);

/* The subcommands in files of their own. */
int cmd_watch(int argc, char **argv);
int cmd_notify(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_rpmsg(int argc, char **argv);

/* The whole usage text, on f. */
void usage(FILE *f);

/* tools/log.c: `ipcc log`, and what plan and info say about the log and the regions. */
int cmd_log(int argc, char **argv);
void log_print_plan(const struct ipcc_config *cfg);
/* Adds "log" and "regions" to doc (NULL passes through); NULL when out of memory. */
json_t *log_json_plan(json_t *doc, const struct ipcc_config *cfg);
void log_print_info(struct ipcc_system *sys);
/* Adds "log" and "regions" to doc: 0, or -1 when out of memory. */
int log_json_info(json_t *doc, struct ipcc_system *sys);

#endif
