/* SPDX-License-Identifier: MIT */
/* Without liburing the ipcc "uring" rows are skipped with this reason. */
#include <errno.h>

#include "uring-loop.h"

const char *bench_uring_unavailable(void)
{
	return "built without liburing";
}

int bench_uring_open(struct bench_uring **ret, struct ipcc_cpu *cpu)
{
	return -EOPNOTSUPP;
}

int bench_uring_wait(struct bench_uring *u)
{
	return -EOPNOTSUPP;
}

void bench_uring_close(struct bench_uring *u)
{
}
