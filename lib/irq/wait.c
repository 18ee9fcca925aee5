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
 * Peer death: the peer's owner word is a robust futex (lib/region/cpu.c). A sleeper sets
 * FUTEX_WAITERS in it, so the kernel wakes a waiter when the owner thread dies (and glibc when it
 * detaches); futex_waitv sleeps on the doorbell and the peers' words at once. The kernel and glibc
 * wake one waiter per word: whoever sees a watched owner gone wakes all the others.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "irq/irq.h"

static bool owner_same(uint32_t word, uint32_t tid)
{
	return (word & FUTEX_TID_MASK) == tid && !(word & FUTEX_OWNER_DIED);
}

int ipcc_watch_add(struct ipcc_cpu *cpu, struct ipcc_watch *w, unsigned peer)
{
	_Atomic uint32_t *word = ipcc_owner_word(ipcc_shm_cpu(cpu->sys, peer));
	/* Relaxed: the word's own value is the information; nothing is published through it. */
	uint32_t v = atomic_load_explicit(word, memory_order_relaxed);

	if (v & FUTEX_OWNER_DIED)
		return -EPIPE;
	if (!(v & FUTEX_TID_MASK))
		return 0; /* not attached (yet): nothing to lose */
	assert(w->n < IPCC_CPUS_MAX);
	w->peer[w->n] = peer;
	w->word[w->n] = word;
	w->tid[w->n] = v & FUTEX_TID_MASK;
	w->n++;
	return 0;
}

void ipcc_watch_all(struct ipcc_cpu *cpu, struct ipcc_watch *w)
{
	w->n = 0;
	for (unsigned peer = 0; peer < cpu->sys->geo.cpus; peer++)
		if (peer != cpu->id && ipcc_link_get(cpu->sys, cpu->id, peer))
			(void)ipcc_watch_add(cpu, w, peer);
}

bool ipcc_watch_dead(const struct ipcc_watch *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		/* Relaxed: see ipcc_watch_add. */
		uint32_t v = atomic_load_explicit(w->word[i], memory_order_relaxed);
		if (!owner_same(v, w->tid[i])) {
			syscall(SYS_futex, w->word[i], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
			return true;
		}
	}
	return false;
}

/* Set FUTEX_WAITERS on every watched word; false if one of the owners is gone. */
static bool watch_arm(const struct ipcc_watch *w)
{
	for (unsigned i = 0; i < w->n; i++) {
		/* Relaxed: see ipcc_watch_add; the CAS only adds a bit the owner's unlock reads. */
		uint32_t v = atomic_load_explicit(w->word[i], memory_order_relaxed);
		while (!(v & FUTEX_WAITERS)) {
			if (!owner_same(v, w->tid[i]))
				return false;
			if (atomic_compare_exchange_weak_explicit(w->word[i], &v, v | FUTEX_WAITERS,
								  memory_order_relaxed,
								  memory_order_relaxed))
				break;
		}
		/* Relaxed: re-read after arming; see ipcc_watch_add. */
		if (!owner_same(atomic_load_explicit(w->word[i], memory_order_relaxed), w->tid[i]))
			return false;
	}
	return true;
}

int ipcc_wait_futex_sleep(struct ipcc_cpu *cpu, uint32_t seq, const struct ipcc_watch *watch,
			  const struct timespec *deadline)
{
	struct futex_waitv v[1 + IPCC_CPUS_MAX];
	unsigned n = 0;

	v[n++] = (struct futex_waitv){ .val = seq,
				       .uaddr = (uintptr_t)ipcc_bell_word(cpu),
				       .flags = FUTEX_32 };
	for (unsigned i = 0; i < watch->n; i++)
		v[n++] = (struct futex_waitv){ .val = watch->tid[i] | FUTEX_WAITERS,
					       .uaddr = (uintptr_t)watch->word[i],
					       .flags = FUTEX_32 };
	long r = syscall(SYS_futex_waitv, v, n, 0, deadline, CLOCK_MONOTONIC);
	if (r >= 0 || errno == EAGAIN || errno == EINTR)
		return 0;
	if (errno == ETIMEDOUT)
		return -ETIMEDOUT;
	if (errno == ENOSYS) {
		/*
		 * Before Linux 5.16: sleep on the doorbell alone, for at most 10 ms at a time,
		 * so a peer's death is still noticed by the caller's re-check.
		 */
		struct timespec rel = { 0, 10 * 1000 * 1000 };
		syscall(SYS_futex, ipcc_bell_word(cpu), FUTEX_WAIT, seq, &rel, NULL, 0);
		return 0;
	}
	return 0;
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
	unsigned mode = atomic_load_explicit(&cpu->irq->mode, memory_order_acquire);
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

/* Sleep phase: returns as ipcc_wait_core does. */
static int sleep_loop(struct ipcc_cpu *cpu, const struct ipcc_wait_backend *be, ipcc_pred_fn pred,
		      void *arg, struct ipcc_watch *watch, int64_t deadline)
{
	struct timespec ts = ns_to_ts(deadline);

	assert(be->sleep);
	for (;;) {
		/* Announce, then look, then sleep on the value announced (lib/bell/bell.c). */
		uint32_t seq = ipcc_bell_announce(cpu);
		int r = 1;
		if (pred(cpu, arg))
			r = 0;
		else if (!watch_arm(watch))
			r = -EPIPE;
		else if (deadline >= 0 && ipcc_now_ns() >= deadline)
			r = -ETIMEDOUT;
		else
			be->sleep(cpu, seq, watch, deadline >= 0 ? &ts : NULL);
		ipcc_bell_retire(cpu);
		if (r == -EPIPE)
			(void)ipcc_watch_dead(watch); /* wake the other waiters on that word */
		if (r <= 0)
			return r;
		if (ipcc_watch_dead(watch) && !pred(cpu, arg))
			return -EPIPE;
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
		return atomic_load_explicit(&cpu->irq->spin_ns, memory_order_relaxed);
	case IPCC_SPIN_NONE:
		break;
	}
	return 0;
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
	/* The mode at the start of the wait is the mode of the whole wait (include/ipcc/irq.h:
	 * ipcc_cpu_set_wait_mode). Standby sleeps in the kernel whatever the mode. */
	const struct ipcc_wait_backend *be =
		force_sleep ? &ipcc_wait_futex : ipcc_wait_backend_of(cpu);
	int64_t spin = spin_budget(cpu, be);

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
	return sleep_loop(cpu, be, pred, arg, watch, deadline);
}
