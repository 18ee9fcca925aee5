/* SPDX-License-Identifier: MIT */
/* Output: the stdout table, JSON (see SCHEMA.md), CSV and the SVG latency plot. */
#ifndef IPCC_BENCH_REPORT_H
#define IPCC_BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "harness.h"
#include "machine.h"

/* Fill base/ratio of every OK row whose transport names a baseline that also ran. */
void bench_resolve_baselines(struct bench_result *r, size_t n);

void bench_print_machine(FILE *f, const struct bench_machine *m);
/* All rows: OK ones in the tables, skipped/failed ones as notes underneath. */
void bench_print_table(FILE *f, const struct bench_result *r, size_t n);

/* These write the OK rows only. 0 on success, -1 with errno on failure. */
int bench_write_json(const char *path, const struct bench_machine *m, const struct bench_result *r,
		     size_t n);
int bench_write_csv(const char *path, const struct bench_result *r, size_t n);
int bench_write_svg(const char *path, const struct bench_machine *m, const struct bench_result *r,
		    size_t n);

#endif /* IPCC_BENCH_REPORT_H */
