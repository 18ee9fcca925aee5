/* SPDX-License-Identifier: MIT */
/*
 * The HAL-style driver of hal-ipcc.h. Register accesses only, in the HAL's order: read-modify-
 * write on CxMR, plain stores to CxSCR (which reads 0, so `SCR |= bit` would do the same).
 */
#include "hal-ipcc.h"

#define CHOM(ch) (1u << (ch))
#define CHFM(ch) (1u << (16u + (ch)))
#define CHC(ch)	 (1u << (ch))
#define CHS(ch)	 (1u << (16u + (ch)))
#define RXOIE	 (1u << 0)
#define TXFIE	 (1u << 16)

static uint32_t all(unsigned channels)
{
	return (1u << channels) - 1u;
}

void hal_ipcc_init(struct hal_ipcc *h, volatile void *base, unsigned proc, unsigned channels)
{
	hal_ipcc_bank *banks = (hal_ipcc_bank *)base;
	uint32_t chans = all(channels);

	h->own = &banks[proc - 1];
	h->other = &banks[2 - proc];
	h->channels = channels;
	for (unsigned ch = 0; ch < HAL_IPCC_CHANNELS_MAX; ch++)
		h->cb[ch][HAL_IPCC_TX] = h->cb[ch][HAL_IPCC_RX] = 0;
	h->own->CR = 0;
	h->own->MR = chans | (chans << 16);
	h->own->SCR = chans; /* CHnC of every channel: the peer's posted messages are gone */
	h->own->CR = RXOIE | TXFIE;
}

void hal_ipcc_activate(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir, hal_ipcc_callback cb)
{
	h->cb[ch][dir] = cb;
	if (dir == HAL_IPCC_RX)
		h->own->MR &= ~CHOM(ch);
}

void hal_ipcc_deactivate(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir)
{
	h->own->MR |= dir == HAL_IPCC_RX ? CHOM(ch) : CHFM(ch);
	h->cb[ch][dir] = 0;
}

int hal_ipcc_status(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir)
{
	hal_ipcc_bank *b = dir == HAL_IPCC_TX ? h->own : h->other;
	return (b->SR >> ch) & 1u;
}

void hal_ipcc_notify_cpu(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir)
{
	if (dir == HAL_IPCC_TX) {
		h->own->SCR = CHS(ch);
		if (h->cb[ch][dir])
			h->own->MR &= ~CHFM(ch);
	} else {
		h->own->SCR = CHC(ch);
		if (h->cb[ch][dir])
			h->own->MR &= ~CHOM(ch);
	}
}

/* The HAL's handler loop: each pending channel is masked before its callback runs. */
static void serve(struct hal_ipcc *h, uint32_t pending, enum hal_ipcc_dir dir)
{
	for (unsigned ch = 0; pending; ch++, pending >>= 1) {
		if (!(pending & 1u))
			continue;
		h->own->MR |= dir == HAL_IPCC_RX ? CHOM(ch) : CHFM(ch);
		if (h->cb[ch][dir])
			h->cb[ch][dir](h, ch, dir);
	}
}

void hal_ipcc_rx_irq(struct hal_ipcc *h)
{
	/* Occupied towards us and not masked. */
	serve(h, h->other->SR & ~h->own->MR & all(h->channels), HAL_IPCC_RX);
}

void hal_ipcc_tx_irq(struct hal_ipcc *h)
{
	/* Free and not masked. */
	serve(h, ~h->own->SR & ~(h->own->MR >> 16) & all(h->channels), HAL_IPCC_TX);
}
