/* SPDX-License-Identifier: MIT */
/*
 * Channel-level API: the registers seen from one attached CPU, by peer, channel and direction.
 */
#include "internal.h"

/* Resolve (cpu, peer, ch) to the link and this CPU's processor number on it. */
static int chan_lookup(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, struct ipcc_link **ret_l,
		       unsigned *ret_p)
{
	if (!cpu || peer >= cpu->sys->geo.cpus || peer == cpu->id || ch >= cpu->sys->geo.channels)
		return -EINVAL;
	struct ipcc_link *l = ipcc_link_get(cpu->sys, cpu->id, peer);
	if (!l)
		return -ENOENT;
	*ret_l = l;
	*ret_p = ipcc_link_proc(l, cpu->id);
	return 0;
}

static bool dir_ok(enum ipcc_dir dir)
{
	return dir == IPCC_DIR_TX || dir == IPCC_DIR_RX;
}

IPCC_EXPORT int ipcc_chan_status(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir)
{
	struct ipcc_link *l;
	unsigned p;
	int r = chan_lookup(cpu, peer, ch, &l, &p);
	if (r < 0)
		return r;
	if (!dir_ok(dir))
		return -EINVAL;
	/* TX reads the own flag word, RX the peer's: status[p] is processor p's outgoing word. */
	unsigned from = dir == IPCC_DIR_TX ? p : !p;
	/* Acquire: pairs with the seq_cst RMW of the writer in ipcc_link_write_scr, so that a
	 * reader who sees a flag set also sees the message written before it. */
	uint32_t sr = atomic_load_explicit(&l->shm->status[from].sr, memory_order_acquire);
	return (sr >> ch) & 1u;
}

IPCC_EXPORT int ipcc_chan_set(struct ipcc_cpu *cpu, unsigned peer, unsigned ch)
{
	struct ipcc_link *l;
	unsigned p;
	int r = chan_lookup(cpu, peer, ch, &l, &p);
	if (r < 0)
		return r;
	ipcc_link_write_scr(cpu->sys, l, p, IPCC_SCR_CHS(ch));
	return 0;
}

IPCC_EXPORT int ipcc_chan_clear(struct ipcc_cpu *cpu, unsigned peer, unsigned ch)
{
	struct ipcc_link *l;
	unsigned p;
	int r = chan_lookup(cpu, peer, ch, &l, &p);
	if (r < 0)
		return r;
	ipcc_link_write_scr(cpu->sys, l, p, IPCC_SCR_CHC(ch));
	return 0;
}

static int chan_mask_update(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir,
			    bool mask)
{
	struct ipcc_link *l;
	unsigned p;
	int r = chan_lookup(cpu, peer, ch, &l, &p);
	if (r < 0)
		return r;
	if (!dir_ok(dir))
		return -EINVAL;
	uint32_t bit = dir == IPCC_DIR_RX ? IPCC_MR_CHOM(ch) : IPCC_MR_CHFM(ch);
	if (mask)
		ipcc_link_update_mr(cpu->sys, l, p, bit, 0);
	else
		ipcc_link_update_mr(cpu->sys, l, p, 0, bit);
	return 0;
}

IPCC_EXPORT int ipcc_chan_mask(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir)
{
	return chan_mask_update(cpu, peer, ch, dir, true);
}

IPCC_EXPORT int ipcc_chan_unmask(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir)
{
	return chan_mask_update(cpu, peer, ch, dir, false);
}

IPCC_EXPORT int ipcc_chan_irq_enable(struct ipcc_cpu *cpu, unsigned peer, enum ipcc_dir dir,
				     bool enable)
{
	struct ipcc_link *l;
	unsigned p;
	int r = chan_lookup(cpu, peer, 0, &l, &p);
	if (r < 0)
		return r;
	if (!dir_ok(dir))
		return -EINVAL;
	uint32_t bit = dir == IPCC_DIR_RX ? IPCC_CR_RXOIE : IPCC_CR_TXFIE;
	if (enable)
		ipcc_link_update_cr(cpu->sys, l, p, bit, 0);
	else
		ipcc_link_update_cr(cpu->sys, l, p, 0, bit);
	return 0;
}

IPCC_EXPORT int ipcc_chan_buffer(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir, void **ret_buf, size_t *ret_size)
{
	struct ipcc_link *l;
	unsigned p;
	int r = chan_lookup(cpu, peer, ch, &l, &p);
	if (r < 0)
		return r;
	if (!dir_ok(dir) || !ret_buf || !ret_size)
		return -EINVAL;
	*ret_buf = ipcc_slot_data(ipcc_slot(cpu->sys, l, dir == IPCC_DIR_TX ? p : !p, ch));
	*ret_size = cpu->sys->geo.buffer_size;
	return 0;
}
