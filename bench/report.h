/* SPDX-License-Identifier: MIT */
/* Output: the stdout table, JSON (see SCHEMA.md), CSV and the SVG latency plot. */
#ifndef IPCC_BENCH_REPORT_H
#define IPCC_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "machine.h"

/*
 * What the JSON records about the run besides the machine and the rows: the tool, and every
 * option as the run used it (defaults filled in).
 */
struct bench_run_info {
	const char *version, *lib_version;
	const char *commit; /* empty: unknown */
	int stop_signal;    /* 0: the run completed; else the signal that stopped it */
	bool quick, no_baselines;
	char *const *modes; /* nmodes == 0: all */
	int nmodes;
	char *const *transports; /* ntransports == 0: all */
	int ntransports;
	const enum bench_pattern *patterns;
	int npatterns;
	const size_t *sizes;
	int nsizes;
	const int *cpus;
	long time_ms, warmup_time_ms;
	uint64_t iterations; /* 0: derived from time_ms */
	uint64_t warmup;     /* used when warmup_set */
	bool warmup_set;
	unsigned int timeout_s, repeat;
	const unsigned int *mesh_cpus; /* --mesh-cpus, nmesh entries */
	int nmesh;
	const char *json, *csv, *plot; /* NULL: not written */
};

/*
 * Fill base/ratio of every OK row of r[0..n) whose transport names a baseline among them, and
 * its warnings. Rows run in an order that puts each baseline first, so this works on the rows
 * done so far.
 */
void bench_resolve_baselines(struct bench_result *r, size_t n);

void bench_print_machine(FILE *f, const struct bench_machine *m);
/*
 * The rows one at a time, as they complete: r[i], after a section header when its pattern
 * differs from r[i - 1]'s, followed by a line for each of its warnings. Skipped and failed
 * rows are one line each.
 */
void bench_print_row(FILE *f, const struct bench_result *r, size_t i, unsigned int repeat);
/* What the columns mean, under the last row. */
void bench_print_legend(FILE *f, const struct bench_result *r, size_t n);
/* "2.70x slower" / "1.20x faster" for a time ratio (above 1: slower). */
void bench_fmt_versus(char *buf, size_t len, double ratio);

/* These write the OK rows only. 0 on success, -1 with errno on failure. */
int bench_write_json(const char *path, const struct bench_machine *m,
		     const struct bench_run_info *info, const struct bench_result *r, size_t n);
int bench_write_csv(const char *path, const struct bench_result *r, size_t n);
int bench_write_svg(const char *path, const struct bench_machine *m, const struct bench_result *r,
		    size_t n);

/*
 * --compare: print, for each row in both documents, the change of p50 and p99 (stream:
 * msgs/s) and flag it when beyond the run-to-run spread (the larger of the two documents'
 * spreads, or @threshold_pct when either ran once). Returns 0 when no p50 (stream: msgs/s)
 * regression is flagged, 1 when one is, and -1 with a message printed when a file cannot be
 * read.
 */
int bench_compare(FILE *f, const char *old_path, const char *new_path, double threshold_pct);

#endif /* IPCC_BENCH_REPORT_H */
