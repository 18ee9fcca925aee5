/* SPDX-License-Identifier: MIT */
/*
 * Handlers and the dispatcher.
 *
 * The doorbell's pending word names the links that were rung; the dispatcher takes the word
 * (lib/bell/bell.c:ipcc_bell_take clears it), then evaluates the lines of exactly those links.
 * Clearing before evaluating is what makes it safe: a ringer changes the registers before it
 * sets its bit, so a change that the evaluation missed left its bit set for the next round.
 */
#include <stdlib.h>

#include "ipcc/chan.h"
#include "irq/irq.h"

static struct ipcc_irq_slot *slot_of(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				     enum ipcc_dir dir)
{
	struct ipcc_irq_slot *t = ipcc_irq(cpu)->handlers[peer];
	return t ? &t[dir * cpu->sys->geo.channels + ch] : NULL;
}

/* Store the handler of a resolved channel and let the dispatcher see it. */
static int activate(struct ipcc_cpu *cpu, const struct ipcc_chan *c, enum ipcc_dir dir,
		    ipcc_irq_handler fn, void *arg)
{
	struct ipcc_irq_slot *s = slot_of(cpu, c->peer, c->ch, dir); /* allocated at attach */
	if (s->fn)
		return -EEXIST;
	s->fn = fn;
	s->arg = arg;
	/* Release: the handler is stored before the dispatcher can see its bit (acquire in
	 * handled_mask); the unmask below, a seq_cst RMW, comes later still. */
	atomic_fetch_or_explicit(&ipcc_irq(cpu)->handled[c->peer][dir], 1u << c->ch,
				 memory_order_release);
	enum ipcc_irq line = dir == IPCC_DIR_RX ? IPCC_IRQ_RXO : IPCC_IRQ_TXF;
	ipcc_chan_enable_line(c, line);
	if (dir == IPCC_DIR_RX)
		ipcc_chan_mask_line(c, line, false);
	return 0;
}

IPCC_EXPORT int ipcc_irq_activate(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				  enum ipcc_dir dir, ipcc_irq_handler fn, void *arg)
{
	struct ipcc_chan c;
	if (!cpu || !fn || (dir != IPCC_DIR_TX && dir != IPCC_DIR_RX))
		return -EINVAL;
	int r = ipcc_chan_resolve(cpu, peer, ch, false, &c); /* peer, link, channel, owner */
	return r < 0 ? r : activate(cpu, &c, dir, fn, arg);
}

int ipcc_irq_activate_service(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_irq_handler fn,
			      void *arg)
{
	struct ipcc_chan c;
	int r = ipcc_chan_resolve(cpu, peer, ch, true, &c);
	return r < 0 ? r : activate(cpu, &c, IPCC_DIR_RX, fn, arg);
}

bool ipcc_irq_registered(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir)
{
	struct ipcc_irq_slot *s = slot_of(cpu, peer, ch, dir);
	return s && s->fn;
}

IPCC_EXPORT int ipcc_irq_deactivate(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				    enum ipcc_dir dir)
{
	if (!cpu || (dir != IPCC_DIR_TX && dir != IPCC_DIR_RX))
		return -EINVAL;
	int r = ipcc_chan_mask(cpu, peer, ch, dir);
	if (r < 0)
		return r;
	/* Relaxed: the dispatcher only ever reads this bit as a filter; the channel is masked. */
	atomic_fetch_and_explicit(&ipcc_irq(cpu)->handled[peer][dir], ~(1u << ch),
				  memory_order_relaxed);
	struct ipcc_irq_slot *s = slot_of(cpu, peer, ch, dir);
	if (s)
		*s = (struct ipcc_irq_slot){ 0 };
	return 0;
}

static uint32_t handled_mask(struct ipcc_cpu *cpu, unsigned peer, enum ipcc_dir dir)
{
	/* Acquire: pairs with the release in ipcc_irq_activate (the handler is stored). */
	return atomic_load_explicit(&ipcc_irq(cpu)->handled[peer][dir], memory_order_acquire);
}

/*
 * Handle every asserted line of one link that has a handler, until none is left; returns the
 * events handled. Channels without a handler are left alone: a blocking call of another thread
 * of this CPU may be waiting on them, and masking its channel would hide its message.
 */
/*
 * The CPU's interrupt thread is being stopped (lib/irq/cpu.c:irq_thread_stop): a peer that keeps
 * the lines high would otherwise keep the dispatcher busy for ever and the detach waiting on it.
 * Acquire: pairs with the release store there. Always false for a dispatch of the application.
 */
static bool stopping(struct ipcc_cpu *cpu)
{
	return atomic_load_explicit(&ipcc_irq(cpu)->stop, memory_order_acquire);
}

static int dispatch_link(struct ipcc_cpu *cpu, struct ipcc_link *l, unsigned peer)
{
	struct ipcc_system *sys = cpu->sys;
	unsigned p = ipcc_link_proc(l, cpu->id);
	int n = 0;

	for (;;) {
		if (ipcc_unlikely(stopping(cpu)))
			return n;
		uint32_t rx = ipcc_link_pending(sys, l, p, IPCC_IRQ_RXO) &
			      handled_mask(cpu, peer, IPCC_DIR_RX);
		uint32_t tx = ipcc_link_pending(sys, l, p, IPCC_IRQ_TXF) &
			      handled_mask(cpu, peer, IPCC_DIR_TX);
		uint32_t bit;
		uint64_t tmp;

		if (!rx && !tx)
			return n;
		ipcc_for_each_bit(bit, tmp, rx) {
			/* A service's channel (l->reserved) is left unmasked: its handler ends the
			 * level itself (lib/notify clears the flag when it has drained), and a
			 * mask and unmask per message would cost two RMWs of a line the peer
			 * reads whenever it rings us. */
			if (!(l->reserved & (1u << bit)))
				ipcc_link_update_mr(sys, l, p, IPCC_MR_CHOM(bit), 0);
			struct ipcc_irq_slot *s = slot_of(cpu, peer, bit, IPCC_DIR_RX);
			if (s && s->fn)
				s->fn(cpu, peer, bit, IPCC_DIR_RX, s->arg);
			n++;
		}
		ipcc_for_each_bit(bit, tmp, tx) {
			ipcc_link_update_mr(sys, l, p, IPCC_MR_CHFM(bit), 0);
			struct ipcc_irq_slot *s = slot_of(cpu, peer, bit, IPCC_DIR_TX);
			if (s && s->fn)
				s->fn(cpu, peer, bit, IPCC_DIR_TX, s->arg);
			n++;
		}
	}
}

void ipcc_irq_set_wake_hook(struct ipcc_cpu *cpu, ipcc_wake_hook fn)
{
	/* Release: pairs with the acquire in wake_hook_of; what the service set up before is
	 * visible to a dispatcher that finds the hook. */
	atomic_store_explicit(&ipcc_irq(cpu)->wake_hook, fn, memory_order_release);
}

static ipcc_wake_hook wake_hook_of(struct ipcc_cpu *cpu)
{
	/* Acquire: pairs with the release store of ipcc_irq_set_wake_hook. */
	return atomic_load_explicit(&ipcc_irq(cpu)->wake_hook, memory_order_acquire);
}

/* The CPU's own pending bit (ipcc_bell_wake): the service's hook, if any; the events handled. */
static int run_wake_hook(struct ipcc_cpu *cpu)
{
	ipcc_wake_hook fn = wake_hook_of(cpu);
	if (!fn)
		return 0;
	fn(cpu);
	return 1;
}

/*
 * A wait (any_line) took the own bit for the hook: the dispatch after it runs the hook.
 * Acquire: pairs with the release store of any_line, in whichever thread waited.
 */
static bool hook_due_take(struct ipcc_cpu *cpu)
{
	if (!atomic_load_explicit(&ipcc_irq(cpu)->hook_due, memory_order_relaxed))
		return false; /* a peek, so that a dispatch with nothing due writes nothing */
	return atomic_exchange_explicit(&ipcc_irq(cpu)->hook_due, false, memory_order_acquire);
}

IPCC_EXPORT int ipcc_cpu_dispatch(struct ipcc_cpu *cpu)
{
	if (!cpu)
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE; /* would take the parent's pending bits */
	int n = 0;
	if (ipcc_unlikely(hook_due_take(cpu)))
		n += run_wake_hook(cpu);
	for (;;) {
		uint64_t pend = ipcc_bell_take(cpu);
		if (!pend) {
			/* Back to the application only once its mode's wake-up is re-armed with
			 * nothing pending (eventfd mode; the others have nothing to re-arm). */
			const struct ipcc_wait_backend *be = ipcc_wait_backend_of(cpu);
			if (!be->rearm || !be->rearm(cpu))
				return n;
			continue;
		}
		unsigned peer;
		uint64_t tmp;
		ipcc_for_each_bit(peer, tmp, pend) {
			if (peer == cpu->id) {
				n += run_wake_hook(cpu);
				continue;
			}
			/* A bit without a link (a stray or hostile write) is ignored. */
			struct ipcc_link *l = ipcc_link_get(cpu->sys, cpu->id, peer);
			if (l)
				n += dispatch_link(cpu, l, peer);
			if (ipcc_unlikely(stopping(cpu))) {
				/* This link and the ones not looked at yet stay pending. */
				ipcc_bell_put_back(cpu, tmp);
				return n;
			}
		}
	}
}

/*
 * Predicate of ipcc_cpu_wait: is any line of this CPU asserted? Takes the pending word like the
 * dispatcher, and puts back the bits of the links that still assert a line so that the next
 * dispatch finds them.
 */
static bool any_line(struct ipcc_cpu *cpu, bool handled_only)
{
	uint64_t pend = ipcc_bell_take(cpu);
	if (!pend)
		return false;
	uint64_t high = 0, tmp;
	unsigned peer;
	bool hook = false;
	ipcc_for_each_bit(peer, tmp, pend) {
		if (peer == cpu->id) {
			/*
			 * A wake-up for a service's hook: this wait ends, once, and the dispatch
			 * that follows runs the hook. Not put back: a bit without a level would
			 * end every later wait at once. Release: pairs with hook_due_take.
			 */
			if (wake_hook_of(cpu)) {
				atomic_store_explicit(&ipcc_irq(cpu)->hook_due, true,
						      memory_order_release);
				hook = true;
			}
			continue;
		}
		struct ipcc_link *l = ipcc_link_get(cpu->sys, cpu->id, peer);
		if (!l)
			continue;
		unsigned p = ipcc_link_proc(l, cpu->id);
		uint32_t rx = ipcc_link_pending(cpu->sys, l, p, IPCC_IRQ_RXO);
		uint32_t tx = ipcc_link_pending(cpu->sys, l, p, IPCC_IRQ_TXF);
		if (handled_only) {
			rx &= handled_mask(cpu, peer, IPCC_DIR_RX);
			tx &= handled_mask(cpu, peer, IPCC_DIR_TX);
		}
		if (rx || tx)
			high |= 1ull << peer;
	}
	ipcc_bell_put_back(cpu, high);
	return high != 0 || hook;
}

bool ipcc_irq_any_line(struct ipcc_cpu *cpu, void *unused)
{
	return any_line(cpu, false);
}

bool ipcc_irq_any_handled_line(struct ipcc_cpu *cpu, void *unused)
{
	return any_line(cpu, true);
}
