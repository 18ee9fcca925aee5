/* SPDX-License-Identifier: MIT */
/*
 * The wait core: spin, sleep, or spin-then-sleep until a predicate over the register state holds,
 * with timeouts and peer-death detection; the futex sleep and the wait backends built on it
 * (spin, futex, adaptive), with the table of every mode.
 *
 * Lost wake-ups: a sleeper announces itself on the doorbell (lib/bell/bell.c:ipcc_bell_announce,
 * where the argument is), checks the predicate, then sleeps only while the doorbell word still
 * has the value the announcement returned.
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

int ipcc_wait_futex_sleep(struct ipcc_cpu *cpu, uint32_t seq, const struct ipcc_watch *watch,
			  const struct timespec *deadline)
{
	/* Shared (no FUTEX_PRIVATE_FLAG): the word is in the object. The BITSET form takes the
	 * absolute CLOCK_MONOTONIC deadline. A peer's death wakes it too (lib/region/claim.c). */
	long r = syscall(SYS_futex, ipcc_bell_word(cpu), FUTEX_WAIT_BITSET, seq, deadline, NULL,
			 FUTEX_BITSET_MATCH_ANY);
	return r < 0 && errno == ETIMEDOUT ? -ETIMEDOUT : 0;
}

/* Run: poll, never sleep (Standby sleeps in the kernel anyway, through ipcc_wait_futex). */
static const struct ipcc_wait_backend wait_spin = {
	.name = "spin",
	.spin = IPCC_SPIN_FOREVER,
};

/* Stop: sleep in the kernel at once. */
const struct ipcc_wait_backend ipcc_wait_futex = {
	.name = "futex",
	.spin = IPCC_SPIN_NONE,
	.sleep = ipcc_wait_futex_sleep,
};

static const struct ipcc_wait_backend wait_adaptive = {
	.name = "adaptive",
	.spin = IPCC_SPIN_BUDGET,
	.sleep = ipcc_wait_futex_sleep,
};

const struct ipcc_wait_backend *const ipcc_wait_backends[IPCC_WAIT_MODE_COUNT] = {
	[IPCC_WAIT_ADAPTIVE] = &wait_adaptive,
	[IPCC_WAIT_SPIN] = &wait_spin,
	[IPCC_WAIT_FUTEX] = &ipcc_wait_futex,
	[IPCC_WAIT_EVENTFD] = &ipcc_wait_eventfd,
};

const struct ipcc_wait_backend *ipcc_wait_backend_of(struct ipcc_cpu *cpu)
{
	/* Acquire: pairs with the release store of lib/irq/cpu.c:ipcc_cpu_set_wait_mode, so what
	 * the mode's enter set up (its fd) is visible with the mode. */
	unsigned mode = atomic_load_explicit(&ipcc_irq(cpu)->mode, memory_order_acquire);
	assert(mode < IPCC_WAIT_MODE_COUNT);
	return ipcc_wait_backends[mode];
}

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

/*
 * The absolute deadline of a wait of timeout_ns > 0 begun at `start`, saturated at INT64_MAX
 * (292 years of uptime) instead of overflowing: a timeout near INT64_MAX is then a very long
 * bound, not undefined behaviour or a deadline in the past.
 */
static int64_t deadline_of(int64_t start, int64_t timeout_ns)
{
	assert(start >= 0 && timeout_ns > 0);
	return timeout_ns > INT64_MAX - start ? INT64_MAX : start + timeout_ns;
}

/*
 * ipcc_cpu_interrupt (lib/irq/cpu.c) bumps irq->intr_raised; a wait ends with -EINTR once the
 * count moves past the value it began with, or at once when it begins with a count no wait has
 * consumed yet (intr_seen behind intr_raised). Only a wait that returns -EINTR consumes the
 * count it saw, by moving intr_seen up to it (ipcc_wait_core): one that returns its condition
 * leaves the interrupt pending for the next.
 */
struct intr {
	struct ipcc_irq_state *irq;
	bool on;       /* the wait is interruptible (not the interrupt thread's) */
	uint32_t base; /* intr_raised when the wait began */
	uint32_t hit;  /* the count that ends it, once seen */
};

static void intr_consume(struct intr *in, uint32_t v)
{
	/* Relaxed: process-local bookkeeping; it only decides whether a later wait also ends. */
	uint32_t seen = atomic_load_explicit(&in->irq->intr_seen, memory_order_relaxed);
	while ((int32_t)(v - seen) > 0 &&
	       !atomic_compare_exchange_weak_explicit(&in->irq->intr_seen, &seen, v,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

static uint32_t intr_load(const struct intr *in)
{
	/* seq_cst: after the seq_cst fence of ipcc_bell_announce, so a bump that
	 * lib/irq/cpu.c:ipcc_cpu_interrupt made before ipcc_bell_wake_sleepers found no sleeper
	 * is seen here (the lost-wake-up argument of lib/bell/bell.c, with the bump as C). */
	return atomic_load_explicit(&in->irq->intr_raised, memory_order_seq_cst);
}

/* At the start of a blocking wait: true if an interrupt is pending already. */
static bool intr_begin(struct intr *in)
{
	if (!in->on)
		return false;
	in->base = intr_load(in);
	in->hit = in->base;
	/* Relaxed: see intr_consume. */
	return atomic_load_explicit(&in->irq->intr_seen, memory_order_relaxed) != in->base;
}

/* During the wait: true if ipcc_cpu_interrupt was called since it began. */
static bool intr_raised(struct intr *in)
{
	if (!in->on)
		return false;
	in->hit = intr_load(in);
	return in->hit != in->base;
}

/* Sleep phase: returns as ipcc_wait_core does. */
static int sleep_loop(struct ipcc_cpu *cpu, const struct ipcc_wait_backend *be, ipcc_pred_fn pred,
		      void *arg, struct ipcc_watch *watch, struct intr *in, int64_t deadline)
{
	struct timespec ts = ns_to_ts(deadline);

	assert(be->sleep);
	for (;;) {
		/* Announce, then look, then sleep on the value announced (lib/bell/bell.c). */
		uint32_t seq = ipcc_bell_announce(cpu);
		int r = 1;
		if (pred(cpu, arg))
			r = 0;
		else if (ipcc_watch_dead(watch))
			r = -EPIPE;
		else if (intr_raised(in))
			r = -EINTR;
		else if (deadline >= 0 && ipcc_now_ns() >= deadline)
			r = -ETIMEDOUT;
		else
			be->sleep(cpu, seq, watch, deadline >= 0 ? &ts : NULL);
		ipcc_bell_retire(cpu);
		if (r <= 0)
			return r;
		if (ipcc_watch_dead(watch) && !pred(cpu, arg))
			return -EPIPE;
		if (intr_raised(in) && !pred(cpu, arg))
			return -EINTR;
	}
}

/* How long a wait of backend `be` spins before it sleeps. */
static int64_t spin_budget(struct ipcc_cpu *cpu, const struct ipcc_wait_backend *be)
{
	switch (be->spin) {
	case IPCC_SPIN_FOREVER:
		return INT64_MAX;
	case IPCC_SPIN_BUDGET:
		/* Relaxed: a budget changed meanwhile applies from the next wait on. */
		return atomic_load_explicit(&ipcc_irq(cpu)->spin_ns, memory_order_relaxed);
	case IPCC_SPIN_NONE:
		break;
	}
	return 0;
}

/* The blocking part of ipcc_wait_core (timeout not 0, pred false when it began). */
static int wait_blocking(struct ipcc_cpu *cpu, ipcc_pred_fn pred, void *arg,
			 struct ipcc_watch *watch, struct intr *in, int64_t timeout_ns,
			 unsigned flags)
{
	if (intr_begin(in))
		return -EINTR;
	/* The mode at the start of the wait is the mode of the whole wait (include/ipcc/irq.h:
	 * ipcc_cpu_set_wait_mode). Standby sleeps in the kernel whatever the mode. */
	const struct ipcc_wait_backend *be =
		(flags & IPCC_WAIT_SLEEP) ? &ipcc_wait_futex : ipcc_wait_backend_of(cpu);
	int64_t spin = spin_budget(cpu, be);
	/*
	 * A spin without end and without a deadline never reads the clock: it is the wait of
	 * every spin-mode message, and a clock read (vDSO) costs tens of nanoseconds.
	 */
	bool clocked = timeout_ns >= 0 || spin != INT64_MAX;
	int64_t start = clocked ? ipcc_now_ns() : 0;
	int64_t deadline = timeout_ns < 0 ? -1 : deadline_of(start, timeout_ns);

	if (spin > 0) {
		for (unsigned i = 1;; i++) {
			if (pred(cpu, arg))
				return 0;
			if ((i & 63) == 0) {
				if (ipcc_watch_dead(watch))
					return pred(cpu, arg) ? 0 : -EPIPE;
				if (intr_raised(in))
					return pred(cpu, arg) ? 0 : -EINTR;
				if (clocked) {
					int64_t t = ipcc_now_ns();
					if (deadline >= 0 && t >= deadline)
						return pred(cpu, arg) ? 0 : -ETIMEDOUT;
					if (t - start >= spin)
						break;
				}
			}
			ipcc_cpu_relax();
		}
	}
	return sleep_loop(cpu, be, pred, arg, watch, in, deadline);
}

bool ipcc_wait_poll(struct ipcc_cpu *cpu, ipcc_pred_fn pred, void *arg)
{
	if (ipcc_wait_backend_of(cpu)->spin != IPCC_SPIN_FOREVER)
		return false;
	for (unsigned i = 0; i < IPCC_WAIT_POLLS; i++) {
		ipcc_cpu_relax();
		if (pred(cpu, arg))
			return true;
	}
	return false;
}

int ipcc_wait_core(struct ipcc_cpu *cpu, ipcc_pred_fn pred, void *arg, struct ipcc_watch *watch,
		   int64_t timeout_ns, unsigned flags)
{
	struct ipcc_watch none; /* 1 KiB: only .n is set, never zero-filled */
	none.n = 0;
	if (!watch)
		watch = &none;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE; /* every wait entry point: include/ipcc/system.h ipcc_cpu_attach */

	if (pred(cpu, arg))
		return 0;
	if (timeout_ns == 0)
		return ipcc_watch_dead(watch) ? -EPIPE : -EAGAIN;
	struct intr in = { .irq = ipcc_irq(cpu), .on = !(flags & IPCC_WAIT_NOINTR) };
	int r = wait_blocking(cpu, pred, arg, watch, &in, timeout_ns, flags);
	if (r == -EINTR)
		intr_consume(&in, in.hit);
	return r;
}
