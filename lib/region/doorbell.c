/* SPDX-License-Identifier: MIT */
/*
 * The doorbell of a CPU: a hint that one of its interrupt lines may have changed.
 *
 * The truth is the register state; the doorbell only says where to look (bell_pending: one bit
 * per peer CPU) and wakes a sleeper (bell_seq is the futex word). Ringing costs two atomic
 * operations on the target's doorbell line and no syscall unless the target announced, in
 * bell_sleepers, that it may be asleep.
 */
#include <linux/futex.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

void ipcc_bell_ring(struct ipcc_system *sys, unsigned target, unsigned from)
{
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, target);
	uint64_t bit = 1ull << from;

	/*
	 * seq_cst on all three: the caller's register change (a seq_cst RMW or store in
	 * lib/ipcc/regs.c) comes before these in the single total order, and the sleeper in
	 * lib/irq/wait.c:bell_sleep increments bell_sleepers before it reads bell_seq in the
	 * kernel. Either the sleeper's futex check sees our bell_seq bump, or our load below sees
	 * its bell_sleepers increment: never neither (the Dekker pattern).
	 * The pending bit is set before the bump so a waiter that sees the bump finds the bit.
	 */
	if (!(atomic_load_explicit(&c->bell_pending, memory_order_seq_cst) & bit))
		atomic_fetch_or_explicit(&c->bell_pending, bit, memory_order_seq_cst);
	atomic_fetch_add_explicit(&c->bell_seq, 1, memory_order_seq_cst);
	uint32_t sleepers = atomic_load_explicit(&c->bell_sleepers, memory_order_seq_cst);
	if (ipcc_likely(sleepers == 0))
		return;
	if (sleepers & IPCC_BELL_FUTEX_MASK)
		syscall(SYS_futex, &c->bell_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	/*
	 * An eventfd-mode CPU that may be blocked in its event loop: the ringer that clears the
	 * armed bit writes the eventfd, once; the CPU re-arms when it dispatches
	 * (lib/irq/dispatch.c:ipcc_cpu_dispatch). seq_cst: part of the same total order.
	 */
	if ((sleepers & IPCC_BELL_EVENTFD) &&
	    (atomic_fetch_and_explicit(&c->bell_sleepers, ~IPCC_BELL_EVENTFD,
				       memory_order_seq_cst) &
	     IPCC_BELL_EVENTFD)) {
		if (!sys->eventfd_ring || sys->eventfd_ring(sys, target) < 0)
			ipcc_bell_fallback(c);
	}
}

void ipcc_bell_fallback(struct ipcc_shm_cpu *c)
{
	/* Release: pairs with the acquire load of the receiver's fd server (lib/irq/eventfd.c),
	 * which writes the eventfd on our behalf. */
	atomic_fetch_add_explicit(&c->bell_fallback, 1, memory_order_release);
	syscall(SYS_futex, &c->bell_fallback, FUTEX_WAKE, 1, NULL, NULL, 0);
}
