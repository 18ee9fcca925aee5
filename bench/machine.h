/* SPDX-License-Identifier: MIT */
/* The machine record printed above the table and written under "machine" in the JSON. */
#ifndef IPCC_BENCH_MACHINE_H
#define IPCC_BENCH_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

struct bench_machine {
	char cpu_model[128];
	long online_cpus;
	int allowed_cpus; /* in this process's sched_getaffinity mask */
	char sysname[65];
	char release[65];
	char version[128];
	char arch[65];
	bool virtualized;
	char virt_evidence[256]; /* "; "-separated reasons, empty if none */
	char sys_vendor[128];	 /* DMI, empty if unreadable */
	char clock[32];		 /* "CLOCK_MONOTONIC" */
	char clocksource[64];	 /* current kernel clocksource, empty if unreadable */
	bool vdso;		 /* the process has a vDSO mapped */
	uint64_t clock_res_ns;
	uint64_t clock_read_min_ns;
	uint64_t clock_read_p50_ns; /* median of back-to-back clock_gettime() pairs */
	double clock_read_mean_ns;
	int cpu[2];    /* CPUs sides A and B are pinned to */
	char date[32]; /* UTC, ISO 8601 */
};

void bench_machine_probe(struct bench_machine *m, const int cpu[2]);

#endif /* IPCC_BENCH_MACHINE_H */
