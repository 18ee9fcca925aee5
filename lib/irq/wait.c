/* SPDX-License-Identifier: MIT */
/*
 * The wait core: spin, sleep, or spin-then-sleep until a predicate over the register state holds,
 * with timeouts and peer-death detection. And the futex backend.
 *
 * Lost wake-ups: a sleeper announces itself in bell_sleepers, reads bell_seq, checks the
 * predicate, then sleeps only while bell_seq still has the value it read. The ringer
 * (lib/region/doorbell.c:ipcc_bell_ring) changes the registers, then reads bell_sleepers, and
 * only if it sees a sleeper bumps bell_seq and wakes. All of these are seq_cst: if the ringer saw
 * no sleeper, the sleeper's announcement came later and its predicate sees the change; if it saw
 * one, either the sleeper read bell_seq after the bump (and its predicate sees the change) or
 * the kernel's compare sees the bump and does not sleep, or the wake finds it queued.
 *
 * Peer death: a reaper thread of this process learns from the kernel that a watched peer's claim
 * is gone, bumps its epoch and rings this CPU's doorbell (lib/region/claim.c); the sleeper sleeps
 * on the doorbell alone and checks the epochs (lib/irq/watch.c) after announcing itself, like the
 * registers.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "irq/irq.h"

static int futex_sleep(struct ipcc_cpu *cpu, uint32_t seq, const struct ipcc_watch *watch,
		       const struct timespec *deadline)
{
	/* Shared (no FUTEX_PRIVATE_FLAG): the word is in the object. The BITSET form takes the
	 * absolute CLOCK_MONOTONIC deadline. A peer's death wakes it too (ipcc_bell_wake). */
	long r = syscall(SYS_futex, &cpu->shm->bell_seq, FUTEX_WAIT_BITSET, seq, deadline, NULL,
			 FUTEX_BITSET_MATCH_ANY);
	return r < 0 && errno == ETIMEDOUT ? -ETIMEDOUT : 0;
}

const struct ipcc_wait_backend ipcc_backend_futex = {
	.name = "futex",
	.sleep = futex_sleep,
};

int64_t ipcc_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec ns_to_ts(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

/* Sleep phase: returns as ipcc_wait_core does. */
static int sleep_loop(struct ipcc_cpu *cpu, const struct ipcc_wait_backend *be, ipcc_pred_fn pred,
		      void *arg, struct ipcc_watch *watch, int64_t deadline)
{
	struct ipcc_shm_cpu *c = cpu->shm;
	struct timespec ts = ns_to_ts(deadline);

	for (;;) {
		/*
		 * Announce, then read bell_seq, then look: seq_cst, see the file comment (pairs
		 * with ipcc_bell_ring, which skips the bump when it sees no sleeper).
		 */
		atomic_fetch_add_explicit(&c->bell_sleepers, 1, memory_order_seq_cst);
		uint32_t seq = atomic_load_explicit(&c->bell_seq, memory_order_seq_cst);
		/*
		 * The predicates read the registers with acquire loads; C11 orders those after
		 * the announcement only through this fence (pairs with the seq_cst register RMW
		 * and bell_sleepers load of the ringer). Free on the sleep path.
		 */
		atomic_thread_fence(memory_order_seq_cst);
		int r = 1;
		if (pred(cpu, arg))
			r = 0;
		else if (ipcc_watch_dead(watch))
			r = -EPIPE;
		else if (deadline >= 0 && ipcc_now_ns() >= deadline)
			r = -ETIMEDOUT;
		else
			be->sleep(cpu, seq, watch, deadline >= 0 ? &ts : NULL);
		/* Relaxed: only makes later ringers skip the wake syscall; a late decrement
		 * costs one needless wake. */
		atomic_fetch_sub_explicit(&c->bell_sleepers, 1, memory_order_relaxed);
		if (r <= 0)
			return r;
		if (ipcc_watch_dead(watch) && !pred(cpu, arg))
			return -EPIPE;
	}
}

int ipcc_wait_core(struct ipcc_cpu *cpu, ipcc_pred_fn pred, void *arg, struct ipcc_watch *watch,
		   int64_t timeout_ns, bool force_sleep)
{
	struct ipcc_watch none; /* 1 KiB: only .n is set, never zero-filled */
	none.n = 0;
	if (!watch)
		watch = &none;

	if (pred(cpu, arg))
		return 0;
	if (timeout_ns == 0)
		return ipcc_watch_dead(watch) ? -EPIPE : -EAGAIN;

	int64_t start = ipcc_now_ns();
	int64_t deadline = timeout_ns < 0 ? -1 : start + timeout_ns;
	/* Relaxed: a mode change applies from the next wait on; no data depends on it. */
	unsigned mode = atomic_load_explicit(&cpu->irq->mode, memory_order_relaxed);
	int64_t spin = atomic_load_explicit(&cpu->irq->spin_ns, memory_order_relaxed);

	if (force_sleep || mode == IPCC_WAIT_FUTEX)
		spin = 0;
	else if (mode == IPCC_WAIT_SPIN)
		spin = INT64_MAX;
	else if (mode != IPCC_WAIT_ADAPTIVE)
		spin = 0; /* a backend of its own: sleeps at once */

	if (spin > 0) {
		for (unsigned i = 1;; i++) {
			if (pred(cpu, arg))
				return 0;
			if ((i & 63) == 0) {
				if (ipcc_watch_dead(watch))
					return pred(cpu, arg) ? 0 : -EPIPE;
				int64_t t = ipcc_now_ns();
				if (deadline >= 0 && t >= deadline)
					return pred(cpu, arg) ? 0 : -ETIMEDOUT;
				if (t - start >= spin)
					break;
			}
			ipcc_cpu_relax();
		}
	}
	return sleep_loop(cpu, &ipcc_backend_futex, pred, arg, watch, deadline);
}
