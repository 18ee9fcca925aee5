/* SPDX-License-Identifier: MIT */
/*
 * The register trace's hooks (lib/ipcc/trace.c), for lib/ipcc/regs.c: a write takes a time
 * stamp with ipcc_trace_begin before it changes a register (0: not recording), then records
 * each word it changed with ipcc_trace_put.
 */
#ifndef IPCC_LIB_IPCC_TRACE_HOOKS_H
#define IPCC_LIB_IPCC_TRACE_HOOKS_H

#include <ipcc/trace.h>

#include "internal.h"
#include "ipcc/chan.h"

/* CLOCK_MONOTONIC in ns, never 0. */
uint64_t ipcc_trace_now(void);

/*
 * 0 when this write is not recorded: no trace section (one process-local branch), or the switch
 * is off (one relaxed load: the switch orders nothing; a write that misses a flip by a few
 * nanoseconds is recorded or not, either is right). Otherwise the time of the write.
 */
static inline uint64_t ipcc_trace_begin(const struct ipcc_system *sys)
{
	struct ipcc_shm_trace_head *h = sys->trace.head;
	if (ipcc_likely(h == NULL))
		return 0;
	if (ipcc_likely(!atomic_load_explicit(&h->enabled, memory_order_relaxed)))
		return 0;
	return ipcc_trace_now();
}

/*
 * Record one word of link l after a write stamped t (non-zero): writer is the CPU whose ring
 * gets it, or IPCC_TRACE_NO_CPU; kind an enum ipcc_trace_kind; p the processor (0, 1) whose
 * register it is. Never blocks: a full ring counts a drop.
 */
void ipcc_trace_put(struct ipcc_system *sys, uint64_t t, const struct ipcc_link *l, unsigned writer,
		    unsigned kind, unsigned p, uint32_t value, uint32_t mask);

/*
 * A service's event on channel c of this CPU (kind IPCC_TRACE_NOTIFY_*), stamped t by
 * ipcc_trace_begin before the event took effect (0: not recorded): into this CPU's ring, as
 * processor c->p of the link.
 */
static inline void ipcc_trace_event(const struct ipcc_chan *c, uint64_t t, unsigned kind,
				    uint32_t value)
{
	if (ipcc_unlikely(t != 0))
		ipcc_trace_put(c->sys, t, c->l, c->l->cpu[c->p], kind, c->p, value, 0);
}

#endif
