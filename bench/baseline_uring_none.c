/* SPDX-License-Identifier: MIT */
/*
 * Stand-in for baseline_uring.c when liburing was not found at build time: the transport
 * exists (so --list and --modes uring behave the same) but always reports itself unavailable.
 */
#include <stddef.h>

#include "harness.h"
#include "transports.h"

static const char *uring_unavailable(void)
{
	return "ipcc-bench was built without liburing";
}

static int uring_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	return -1; /* never called: unavailable() is checked first */
}

static void uring_teardown(void *state)
{
}

const struct bench_transport bench_io_uring = {
	.name = "io_uring",
	.wait = "io_uring",
	.mode = "uring",
	.flags = BENCH_F_BASELINE,
	.fixed_size = 8,
	.unavailable = uring_unavailable,
	.setup = uring_setup,
	.teardown = uring_teardown,
	/* No run functions: no pattern is supported. */
};

const struct bench_transport bench_eventfd_uring = {
	.name = "eventfd-uring",
	.wait = "io_uring",
	.mode = "uring",
	.flags = BENCH_F_BASELINE,
	.fixed_size = 8,
	.unavailable = uring_unavailable,
	.setup = uring_setup,
	.teardown = uring_teardown,
};
