/* SPDX-License-Identifier: MIT */
/*
 * Channel-level API: the registers seen from one attached CPU, by peer, channel and direction;
 * and the one resolver every layer above uses to reach a channel (lib/ipcc/chan.h).
 */
#include "ipcc/chan.h"

int ipcc_chan_resolve(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, bool any_owner,
		      struct ipcc_chan *ret)
{
	if (!cpu || peer >= cpu->sys->geo.cpus || peer == cpu->id || ch >= cpu->sys->geo.channels)
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE; /* a fork child's copy: the parent owns the CPU */
	struct ipcc_link *l = ipcc_link_get(cpu->sys, cpu->id, peer);
	if (!l)
		return -ENOENT;
	if (!any_owner && ipcc_unlikely(l->reserved & (1u << ch)))
		return -EACCES;
	*ret = (struct ipcc_chan){
		.sys = cpu->sys, .l = l, .peer = peer, .p = ipcc_link_proc(l, cpu->id), .ch = ch
	};
	return 0;
}

static bool dir_ok(enum ipcc_dir dir)
{
	return dir == IPCC_DIR_TX || dir == IPCC_DIR_RX;
}

/* A channel of the procedures and a direction, for the calls that take one. */
static int resolve_dir(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir,
		       struct ipcc_chan *ret)
{
	int r = ipcc_chan_resolve(cpu, peer, ch, false, ret);
	if (r < 0)
		return r;
	return dir_ok(dir) ? 0 : -EINVAL;
}

IPCC_EXPORT int ipcc_chan_status(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir)
{
	struct ipcc_chan c;
	int r = resolve_dir(cpu, peer, ch, dir, &c);
	if (r < 0)
		return r;
	return dir == IPCC_DIR_TX ? ipcc_chan_tx_busy(&c) : ipcc_chan_rx_occupied(&c);
}

IPCC_EXPORT int ipcc_chan_set(struct ipcc_cpu *cpu, unsigned peer, unsigned ch)
{
	struct ipcc_chan c;
	int r = ipcc_chan_resolve(cpu, peer, ch, false, &c);
	if (r < 0)
		return r;
	ipcc_chan_scr_set(&c);
	return 0;
}

IPCC_EXPORT int ipcc_chan_clear(struct ipcc_cpu *cpu, unsigned peer, unsigned ch)
{
	struct ipcc_chan c;
	int r = ipcc_chan_resolve(cpu, peer, ch, false, &c);
	if (r < 0)
		return r;
	ipcc_chan_scr_clear(&c);
	return 0;
}

static int chan_mask_update(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir,
			    bool mask)
{
	struct ipcc_chan c;
	int r = resolve_dir(cpu, peer, ch, dir, &c);
	if (r < 0)
		return r;
	ipcc_chan_mask_line(&c, dir == IPCC_DIR_RX ? IPCC_IRQ_RXO : IPCC_IRQ_TXF, mask);
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
	struct ipcc_chan c;
	/* The enables are per link, not per channel: any channel resolves the link. */
	int r = ipcc_chan_resolve(cpu, peer, 0, true, &c);
	if (r < 0)
		return r;
	if (!dir_ok(dir))
		return -EINVAL;
	uint32_t bit = dir == IPCC_DIR_RX ? IPCC_CR_RXOIE : IPCC_CR_TXFIE;
	if (enable)
		ipcc_link_update_cr(c.sys, c.l, c.p, bit, 0);
	else
		ipcc_link_update_cr(c.sys, c.l, c.p, 0, bit);
	return 0;
}

IPCC_EXPORT int ipcc_chan_buffer(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir, void **ret_buf, size_t *ret_size)
{
	struct ipcc_chan c;
	int r = resolve_dir(cpu, peer, ch, dir, &c);
	if (r < 0)
		return r;
	if (!ret_buf || !ret_size)
		return -EINVAL;
	*ret_buf = ipcc_slot_data(ipcc_chan_slot(&c, dir));
	*ret_size = cpu->sys->geo.buffer_size;
	return 0;
}

IPCC_EXPORT int ipcc_chan_set_len(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				  enum ipcc_dir dir, size_t len)
{
	struct ipcc_chan c;
	int r = resolve_dir(cpu, peer, ch, dir, &c);
	if (r < 0)
		return r;
	if (len > cpu->sys->geo.buffer_size)
		return -EINVAL;
	/* Published by the CHnS (or, for a response, CHnC) the caller writes next. */
	ipcc_slot_len_set(ipcc_chan_slot(&c, dir), (uint32_t)len);
	return 0;
}

IPCC_EXPORT int ipcc_chan_len(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir)
{
	struct ipcc_chan c;
	int r = resolve_dir(cpu, peer, ch, dir, &c);
	if (r < 0)
		return r;
	/* Ordered after the caller's acquire load of the flag (ipcc_chan_status, or the
	 * dispatcher's before an RX handler). */
	return ipcc_slot_len(cpu->sys, ipcc_chan_slot(&c, dir));
}
