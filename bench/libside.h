/* SPDX-License-Identifier: MIT */
/*
 * What the library rows of ipcc-bench (ipcc.c, notify.c, rpmsg.c) share: the system the parent creates
 * and each side opens by name, a side's CPU attached in the row's wait mode, and the event
 * loop of the rows that wait like event-loop applications (eventfd: epoll on ipcc_cpu_fd;
 * uring: io_uring on the doorbell, uring-loop.c), which blocks until the CPU's interrupts fire
 * and then runs its dispatcher.
 */
#ifndef IPCC_BENCH_LIBSIDE_H
#define IPCC_BENCH_LIBSIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ipcc/ipcc.h>

#include "harness.h"

struct bench_evloop;

/* The library wait mode of a row's wait name: "uring" rows run in eventfd mode. */
enum ipcc_wait_mode bench_wait_mode(const char *wait);
/*
 * Whether this side runs an event loop: the waiting sides of eventfd and uring rows. The
 * stream writer blocks in its sends in every mode.
 */
bool bench_side_loops(const struct bench_side *s);

/* The start of a library transport's state (what setup() returns): the system's name. */
struct bench_lib_state {
	char name[64];
};

/*
 * In the parent: allocate a zeroed state of `size` bytes, which starts with struct
 * bench_lib_state, into *state, create the system cfg describes under a new name and close it
 * again, so that the children open it by name as separate programs would. 0, or -1 with a
 * message in err.
 */
int bench_lib_setup(void **state, size_t size, const struct ipcc_config *cfg, char *err,
		    size_t len);
/* In the parent: unlink the system and free the state. */
void bench_lib_teardown(void *state);
/*
 * In a child: open the system `name`, attach this side's CPU (0 for side A, 1 for B) in the
 * row's wait mode with attach flags `flags` (IPCC_CPU_*), and open the event loop if the side
 * loops. Each handle is stored as soon as it exists, so bench_lib_detach also undoes a
 * half-done attach. 0 or bench_fail().
 */
int bench_lib_attach(struct bench_side *s, const char *name, uint32_t flags,
		     struct ipcc_system **ret_sys, struct ipcc_cpu **ret_cpu,
		     struct bench_evloop **ret_loop);
/* Close what bench_lib_attach opened (each may be NULL). */
void bench_lib_detach(struct ipcc_system *sys, struct ipcc_cpu *cpu, struct bench_evloop *loop);

/* Block until an interrupt of the CPU fires, then run its dispatcher. 0 or a negative errno. */
int bench_evloop_once(struct bench_evloop *l);

/*
 * What the callbacks of an event-loop side tell its run functions. The callbacks run in the
 * dispatch of the thread that runs the loop, so plain fields suffice.
 */
struct bench_loop_count {
	uint64_t events; /* callbacks completed */
	uint64_t target; /* events the run calls asked for so far, over all run calls */
	int error;	 /* the first error a callback met, or 0 */
};

/* A callback has handled one event; err: what went wrong with it, or 0. */
static inline void bench_loop_handled(struct bench_loop_count *c, int err)
{
	if (err && !c->error)
		c->error = err;
	c->events++;
}

/*
 * Run the loop until `n` more events than the earlier run calls asked for have happened, or a
 * callback met an error. The target is cumulative: a dispatch may handle messages the peer
 * already sent for the next call (a stream writer does not wait between calls), and those
 * count for that call. 0 or bench_fail().
 */
int bench_loop_more(struct bench_side *s, struct bench_evloop *l, struct bench_loop_count *c,
		    uint64_t n);

#endif /* IPCC_BENCH_LIBSIDE_H */
