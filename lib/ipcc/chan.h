/* SPDX-License-Identifier: MIT */
/*
 * One channel of an attached CPU towards one peer, resolved once: the only way the layers
 * above (irq, procedures) reach a channel's registers and slots.
 */
#ifndef IPCC_LIB_IPCC_CHAN_H
#define IPCC_LIB_IPCC_CHAN_H

#include "internal.h"

struct ipcc_chan {
	struct ipcc_system *sys;
	struct ipcc_link *l;
	unsigned peer;
	unsigned p; /* this CPU's processor number on the link (0: processor 1) */
	unsigned ch;
};

/*
 * Resolve channel `ch` of `cpu` towards `peer`: -EINVAL (NULL cpu, peer out of range or the
 * CPU itself, channel out of range), -ENOENT (no link), -EACCES (a service reserved it). With
 * `any_owner` a reserved channel resolves too (for the service that owns it).
 */
int ipcc_chan_resolve(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, bool any_owner,
		      struct ipcc_chan *ret);

/*
 * Is the channel's flag set in the status word of processor `from`? Acquire: pairs with the
 * seq_cst RMW of lib/ipcc/regs.c:ipcc_link_write_scr, so that a reader who sees a flag set
 * (or clear) also sees the slot written before it was set (or cleared).
 */
static inline bool ipcc_chan_flag(const struct ipcc_chan *c, unsigned from)
{
	return (atomic_load_explicit(&c->l->shm->status[from].sr, memory_order_acquire) >> c->ch) &
	       1u;
}

/* Our own flag (TX: the channel is occupied until the peer clears it). */
static inline bool ipcc_chan_tx_busy(const struct ipcc_chan *c)
{
	return ipcc_chan_flag(c, c->p);
}

/* The peer's flag (RX: a message waits for us). */
static inline bool ipcc_chan_rx_occupied(const struct ipcc_chan *c)
{
	return ipcc_chan_flag(c, !c->p);
}

/* The slot we write (TX) or the peer writes (RX). */
static inline struct ipcc_shm_slot *ipcc_chan_slot(const struct ipcc_chan *c, enum ipcc_dir dir)
{
	return ipcc_slot(c->sys, c->l, dir == IPCC_DIR_TX ? c->p : !c->p, c->ch);
}

/* CHnS: the message in our slot is ready. */
static inline void ipcc_chan_scr_set(const struct ipcc_chan *c)
{
	ipcc_link_write_scr(c->sys, c->l, c->p, IPCC_SCR_CHS(c->ch));
}

/* CHnC: the peer's message is consumed (or, half-duplex, our response is ready). */
static inline void ipcc_chan_scr_clear(const struct ipcc_chan *c)
{
	ipcc_link_write_scr(c->sys, c->l, c->p, IPCC_SCR_CHC(c->ch));
}

/* Mask (true) or unmask this channel's RX-occupied or TX-free interrupt. */
static inline void ipcc_chan_mask_line(const struct ipcc_chan *c, enum ipcc_irq line, bool mask)
{
	uint32_t bit = line == IPCC_IRQ_TXF ? IPCC_MR_CHFM(c->ch) : IPCC_MR_CHOM(c->ch);
	ipcc_link_update_mr(c->sys, c->l, c->p, mask ? bit : 0, mask ? 0 : bit);
}

/* Enable the line's interrupt (RXOIE or TXFIE) of this CPU on the link, if it is not yet. */
static inline void ipcc_chan_enable_line(const struct ipcc_chan *c, enum ipcc_irq line)
{
	uint32_t bit = line == IPCC_IRQ_TXF ? IPCC_CR_TXFIE : IPCC_CR_RXOIE;
	/* Relaxed peek: only this CPU writes its CR; skip the RMW when already enabled. */
	if (!(atomic_load_explicit(&c->l->shm->bank[c->p].cr, memory_order_relaxed) & bit))
		ipcc_link_update_cr(c->sys, c->l, c->p, bit, 0);
}

#endif
