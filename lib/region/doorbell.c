/* SPDX-License-Identifier: MIT */
/*
 * The doorbell of a CPU: a hint that one of its interrupt lines may have changed.
 *
 * The truth is the register state; the doorbell only says where to look (bell_pending: one bit
 * per peer CPU) and wakes a sleeper (bell_seq is the futex word). Ringing a CPU that is awake
 * costs two loads of its doorbell line (an RMW when the pending bit was clear); the bump and the
 * syscall happen only when the target announced, in bell_sleepers, that it may be asleep.
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
	 * seq_cst on all of these: the caller's register change (a seq_cst RMW or store in
	 * lib/ipcc/regs.c) comes before them in the single total order, and a sleeper
	 * (lib/irq/wait.c:sleep_loop, lib/irq/uring.c) announces itself in bell_sleepers before it
	 * reads bell_seq and the registers. If we see no sleeper, any later one sees our change:
	 * no bump, no syscall, and with the pending bit already set the doorbell line is only
	 * read, so it is not bounced between the cores on every message.
	 */
	if (!(atomic_load_explicit(&c->bell_pending, memory_order_seq_cst) & bit))
		atomic_fetch_or_explicit(&c->bell_pending, bit, memory_order_seq_cst);
	uint32_t sleepers = atomic_load_explicit(&c->bell_sleepers, memory_order_seq_cst);
	if (ipcc_likely(sleepers == 0))
		return;
	atomic_fetch_add_explicit(&c->bell_seq, 1, memory_order_seq_cst);
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
		/* Acquire: pairs with the release store in lib/irq/cpu.c:ipcc_cpu_attach. */
		int (*ring)(struct ipcc_system *, unsigned) =
			atomic_load_explicit(&sys->eventfd_ring, memory_order_acquire);
		if (!ring || ring(sys, target) < 0)
			ipcc_bell_fallback(c);
	}
}

void ipcc_bell_wake(struct ipcc_system *sys, unsigned target)
{
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, target);

	/*
	 * seq_cst, after the caller's seq_cst fence or RMW (lib/region/claim.c:reaper_report,
	 * lib/region/cpu.c:ring_peers): a sleeper (lib/irq/wait.c:sleep_loop) announces itself,
	 * fences, then reads what the caller changed. If we see no sleeper, it sees the change.
	 */
	uint32_t sleepers = atomic_load_explicit(&c->bell_sleepers, memory_order_seq_cst);
	if (!(sleepers & IPCC_BELL_FUTEX_MASK))
		return;
	atomic_fetch_add_explicit(&c->bell_seq, 1, memory_order_seq_cst);
	syscall(SYS_futex, &c->bell_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void ipcc_bell_fallback(struct ipcc_shm_cpu *c)
{
	/* Release: pairs with the acquire load of the receiver's fd server (lib/irq/eventfd.c),
	 * which writes the eventfd on our behalf. */
	atomic_fetch_add_explicit(&c->bell_fallback, 1, memory_order_release);
	syscall(SYS_futex, &c->bell_fallback, FUTEX_WAKE, 1, NULL, NULL, 0);
}
