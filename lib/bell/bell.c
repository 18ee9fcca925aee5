/* SPDX-License-Identifier: MIT */
/*
 * The doorbell of a CPU: a hint that one of its interrupt lines may have changed. Every access
 * to its words is in this file; bell-eventfd.c writes the eventfd of a CPU that armed one.
 *
 * The truth is the register state; the doorbell only says where to look (bell_pending: one bit
 * per peer CPU) and wakes a sleeper (bell_seq is the futex word). Ringing a CPU that is awake
 * costs two loads of its doorbell line (an RMW when the pending bit was clear); the bump and the
 * syscall happen only when the target announced, in bell_sleepers, that it may be asleep.
 *
 * Why no wake-up is lost. Every access below is seq_cst, and so is the caller's register change
 * (lib/ipcc/regs.c) or, for ipcc_bell_wake, the caller's own change C: they all sit in one total
 * order S.
 *   Ringer (ring_bits):  C; P: set the pending bit (a load if it is set); L: load bell_sleepers;
 *                        if L saw a sleeper: B: bump bell_seq, then FUTEX_WAKE / write the
 *                        eventfd.
 *   Sleeper (announce):  A: bell_sleepers++; Q: read bell_seq into v; F: seq_cst fence; then it
 *                        checks its predicate (register loads, acquire) and sleeps on bell_seq
 *                        only while bell_seq == v (the kernel compares and queues atomically).
 *   - L before A in S: C is before A, and the fence F orders the predicate's loads after A, so
 *     the predicate sees C and the sleeper does not sleep. (Without F, C11 would not order the
 *     acquire loads of the predicate after the seq_cst A.)
 *   - L after A: the ringer saw the sleeper and bumps at B. If Q came after B, the predicate
 *     (after Q) sees C; if Q came before B, v is stale: the kernel's compare fails if the sleep
 *     starts after B, and the wake finds the sleeper queued if it started before.
 * Skipping the RMW when the pending bit is set (P is then a load): the value seen was set by an
 * earlier ring, so the take that clears it (ipcc_bell_take) comes after P in S and its
 * evaluation sees C. ipcc_bell_ring_needed is P and L without the ring: same argument.
 * Dispatchers (ipcc_bell_take): the exchange clears before the lines are evaluated; a ring whose
 * P follows it leaves its bit for the next round, one whose P precedes it is seen.
 * eventfd (ipcc_bell_arm_eventfd): arm (an RMW on bell_sleepers), then load bell_pending. A
 * ringer sets pending (P), then loads bell_sleepers (L): if L is before the arm, the pending load
 * after the arm sees the bit (or a take that saw C did) and the CPU dispatches again; if after,
 * the ringer sees the armed bit, and the one whose RMW clears it writes the eventfd, once.
 * io_uring FUTEX (ipcc_bell_announce_async): as a sleeper, with the pending word as predicate;
 * the kernel compares later, at submission, against a value that cannot match if a bit was seen.
 * Retiring a sleeper is relaxed: a late decrement only costs a needless wake syscall.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bell/bell.h"

static void fallback(struct ipcc_shm_cpu *c)
{
	/* Release: pairs with the acquire in ipcc_bell_fallback_count (the fd server thread,
	 * lib/irq/eventfd.c), which writes the eventfd on our behalf. */
	atomic_fetch_add_explicit(&c->bell_fallback, 1, memory_order_release);
	syscall(SYS_futex, &c->bell_fallback, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void ring_bits(struct ipcc_system *sys, unsigned target, uint64_t bit)
{
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, target);

	/* P and L of the file comment: seq_cst. With the bit set, the line is only read, so it
	 * is not bounced between the cores on every message. */
	if (!(atomic_load_explicit(&c->bell_pending, memory_order_seq_cst) & bit))
		atomic_fetch_or_explicit(&c->bell_pending, bit, memory_order_seq_cst);
	uint32_t sleepers = atomic_load_explicit(&c->bell_sleepers, memory_order_seq_cst);
	if (ipcc_likely(sleepers == 0))
		return;
	/* B of the file comment: seq_cst. */
	atomic_fetch_add_explicit(&c->bell_seq, 1, memory_order_seq_cst);
	if (sleepers & IPCC_BELL_FUTEX_MASK)
		syscall(SYS_futex, &c->bell_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	/* An eventfd-mode CPU that may be blocked in its event loop: the ringer whose RMW clears
	 * the armed bit writes the eventfd, once (seq_cst: the eventfd case of the file comment);
	 * the CPU re-arms when it has dispatched everything (ipcc_bell_arm_eventfd). */
	if ((sleepers & IPCC_BELL_EVENTFD) &&
	    (atomic_fetch_and_explicit(&c->bell_sleepers, ~IPCC_BELL_EVENTFD,
				       memory_order_seq_cst) &
	     IPCC_BELL_EVENTFD)) {
		if (ipcc_bell_eventfd_ring(sys, target) < 0)
			fallback(c);
	}
}

bool ipcc_bell_ring_needed(struct ipcc_system *sys, unsigned target, unsigned from)
{
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, target);
	/* seq_cst: P (as a load) and L of the file comment. */
	return !(atomic_load_explicit(&c->bell_pending, memory_order_seq_cst) & (1ull << from)) ||
	       atomic_load_explicit(&c->bell_sleepers, memory_order_seq_cst) != 0;
}

void ipcc_bell_ring(struct ipcc_system *sys, unsigned target, unsigned from)
{
	ring_bits(sys, target, 1ull << from);
}

void ipcc_bell_wake(struct ipcc_system *sys, unsigned target)
{
	/* The target's own bit: no link has it, so no dispatcher evaluates a line for it (it
	 * runs a service's wake hook, lib/irq/dispatch.c), and the pending checks of armed
	 * eventfds and io_uring waits see it. */
	ring_bits(sys, target, 1ull << target);
}

void ipcc_bell_wake_sleepers(struct ipcc_system *sys, unsigned target)
{
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, target);
	/*
	 * L of the file comment, seq_cst, after the caller's seq_cst change: a sleeper announces
	 * (A), fences (F), then looks at what the caller changed. If we see no sleeper, it sees
	 * the change; if we see one, the bump makes its futex compare fail or the wake finds it.
	 */
	uint32_t sleepers = atomic_load_explicit(&c->bell_sleepers, memory_order_seq_cst);
	if (!(sleepers & IPCC_BELL_FUTEX_MASK))
		return;
	atomic_fetch_add_explicit(&c->bell_seq, 1, memory_order_seq_cst);
	syscall(SYS_futex, &c->bell_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

uint32_t ipcc_bell_announce(struct ipcc_cpu *cpu)
{
	struct ipcc_shm_cpu *c = cpu->shm;
	/* A and Q of the file comment: seq_cst. */
	atomic_fetch_add_explicit(&c->bell_sleepers, 1, memory_order_seq_cst);
	uint32_t seq = atomic_load_explicit(&c->bell_seq, memory_order_seq_cst);
	/* F of the file comment: orders the caller's predicate loads after A. Free on the sleep
	 * path. */
	atomic_thread_fence(memory_order_seq_cst);
	return seq;
}

uint32_t ipcc_bell_announce_async(struct ipcc_cpu *cpu)
{
	uint32_t seq = ipcc_bell_announce(cpu);
	/*
	 * seq_cst: the predicate of the io_uring case in the file comment. bell_seq only moves
	 * forward, so seq - 1 is its previous value, which it cannot hold again (short of 2^32
	 * rings); seq + 1 would be what the next ring makes it, and the wait would then sleep with
	 * the pending line unseen.
	 */
	if (atomic_load_explicit(&cpu->shm->bell_pending, memory_order_seq_cst))
		seq--;
	return seq;
}

void ipcc_bell_retire(struct ipcc_cpu *cpu)
{
	/* Relaxed: only makes later ringers skip the wake syscall; a late decrement costs one
	 * needless wake. */
	atomic_fetch_sub_explicit(&cpu->shm->bell_sleepers, 1, memory_order_relaxed);
}

_Atomic uint32_t *ipcc_bell_word(struct ipcc_cpu *cpu)
{
	return &cpu->shm->bell_seq;
}

uint64_t ipcc_bell_take(struct ipcc_cpu *cpu)
{
	/* Relaxed peek first: an idle dispatcher or a spinning waiter does not write the line. A
	 * bit it misses is one the exchange of a later call finds. */
	if (!atomic_load_explicit(&cpu->shm->bell_pending, memory_order_relaxed))
		return 0;
	/* seq_cst: the take of the file comment (before the caller's evaluation). */
	return atomic_exchange_explicit(&cpu->shm->bell_pending, 0, memory_order_seq_cst);
}

void ipcc_bell_put_back(struct ipcc_cpu *cpu, uint64_t bits)
{
	/* seq_cst: the bits become pending again for the next ipcc_bell_take, as a ring's P. */
	if (bits)
		atomic_fetch_or_explicit(&cpu->shm->bell_pending, bits, memory_order_seq_cst);
}

bool ipcc_bell_arm_eventfd(struct ipcc_cpu *cpu)
{
	/* seq_cst: arm, then look at pending: the eventfd case of the file comment. */
	atomic_fetch_or_explicit(&cpu->shm->bell_sleepers, IPCC_BELL_EVENTFD, memory_order_seq_cst);
	return atomic_load_explicit(&cpu->shm->bell_pending, memory_order_seq_cst) != 0;
}

void ipcc_bell_disarm_eventfd(struct ipcc_cpu *cpu)
{
	/* seq_cst: later ringers no longer see the armed bit; a ringer that saw it before may
	 * still write the fd once, which stays open until detach (lib/irq/eventfd.c). */
	atomic_fetch_and_explicit(&cpu->shm->bell_sleepers, ~IPCC_BELL_EVENTFD,
				  memory_order_seq_cst);
}

uint32_t ipcc_bell_fallback_count(struct ipcc_cpu *cpu)
{
	/* Acquire: pairs with the release in fallback (a ringer without the fd). */
	return atomic_load_explicit(&cpu->shm->bell_fallback, memory_order_acquire);
}

void ipcc_bell_fallback_wait(struct ipcc_cpu *cpu, uint32_t seen)
{
	syscall(SYS_futex, &cpu->shm->bell_fallback, FUTEX_WAIT, seen, NULL, NULL, 0);
}

void ipcc_bell_fallback_kick(struct ipcc_cpu *cpu)
{
	fallback(cpu->shm);
}
