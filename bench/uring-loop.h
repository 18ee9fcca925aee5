/* SPDX-License-Identifier: MIT */
/*
 * The io_uring event loop of the ipcc "uring" rows: uring-loop.c with liburing,
 * uring-loop-none.c (always unavailable) without, so ipcc.c has no #ifdef.
 */
#ifndef IPCC_BENCH_URING_LOOP_H
#define IPCC_BENCH_URING_LOOP_H

#include <ipcc/ipcc.h>

struct bench_uring;

/* NULL if the uring rows can run, else why not. */
const char *bench_uring_unavailable(void);
/* A ring waiting for cpu's interrupts (FUTEX_WAIT on the doorbell if the kernel has it, else a
 * multishot poll on the CPU's eventfd). 0 or a negative errno. */
int bench_uring_open(struct bench_uring **ret, struct ipcc_cpu *cpu);
/* Block for one completion and run the dispatcher. 0 or a negative errno. */
int bench_uring_wait(struct bench_uring *u);
void bench_uring_close(struct bench_uring *u);

#endif
