/* SPDX-License-Identifier: MIT */
/*
 * The Value Change Dump of `ipcc trace` (tools/vcd.c): the registers of every link rebuilt from
 * a snapshot and the trace records, one wire per bit, written as IEEE 1364 VCD.
 */
#ifndef IPCC_TOOLS_VCD_H
#define IPCC_TOOLS_VCD_H

#include <stdio.h>

#include <ipcc/ipcc.h>

struct vcd;

/*
 * Declare every link of sys (a scope link_A_B per link, sub-scopes proc1 and proc2) and take
 * the starting values from each link's registers now; t0 is time 0 of the dump
 * (CLOCK_MONOTONIC ns). 0, -ENOMEM, or an error of ipcc_regs_open / ipcc_regs_save.
 */
int vcd_new(struct ipcc_system *sys, uint64_t t0, struct vcd **ret);

/* Apply records[0..n), sorted by time, and write the dump to f. 0 or -errno (a write error). */
int vcd_write(struct vcd *v, FILE *f, const struct ipcc_trace_record *records, size_t n);

void vcd_free(struct vcd *v);

#endif
