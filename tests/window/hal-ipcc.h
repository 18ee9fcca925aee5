/* SPDX-License-Identifier: MIT */
/*
 * A driver in the style of ST's HAL IPCC driver, written here from the reference
 * (../shared/reference/stm32-ipcc.md "The ST HAL"), for firmware-like code under test: it
 * reaches the IPCC through a struct-of-registers pointer only, as firmware does through
 * IPCC_C1 and IPCC_C2. Nothing in it calls libipcc: on a window it runs on the emulated IPCC.
 */
#ifndef HAL_IPCC_H
#define HAL_IPCC_H

#include <stdint.h>

#define HAL_IPCC_CHANNELS_MAX 16u

/* One processor's bank, as CMSIS's IPCC_CommonTypeDef: CxCR, CxMR, CxSCR, CxTOCySR. */
typedef struct {
	volatile uint32_t CR;
	volatile uint32_t MR;
	volatile uint32_t SCR;
	volatile uint32_t SR;
} hal_ipcc_bank;

enum hal_ipcc_dir {
	HAL_IPCC_TX = 0, /* this processor -> peer: the own flag */
	HAL_IPCC_RX = 1, /* peer -> this processor: the peer's flag */
};

struct hal_ipcc;
typedef void (*hal_ipcc_callback)(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir);

struct hal_ipcc {
	hal_ipcc_bank *own;   /* this processor's bank */
	hal_ipcc_bank *other; /* the peer's: its SR holds the flags towards us */
	unsigned channels;
	hal_ipcc_callback cb[HAL_IPCC_CHANNELS_MAX][2];
	void *user;
};

/*
 * Init: processor `proc` (1 or 2) of the IPCC at `base`: reset the own bank, discard what the
 * peer had posted (clear every inbound flag), enable both interrupts.
 */
void hal_ipcc_init(struct hal_ipcc *h, volatile void *base, unsigned proc, unsigned channels);
/* ActivateNotification: store cb; an RX channel is unmasked at once, a TX one at NotifyCPU. */
void hal_ipcc_activate(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir,
		       hal_ipcc_callback cb);
/* DeActivateNotification: mask the channel, forget the callback. */
void hal_ipcc_deactivate(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir);
/* GetChannelStatus: 1 occupied (TX: own flag; RX: the peer's), 0 free. */
int hal_ipcc_status(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir);
/* NotifyCPU: TX sets CHnS, RX writes CHnC; then unmasks that direction if it has a callback. */
void hal_ipcc_notify_cpu(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir);
/* The IRQ handlers: each pending unmasked channel is masked, then its callback runs. */
void hal_ipcc_rx_irq(struct hal_ipcc *h);
void hal_ipcc_tx_irq(struct hal_ipcc *h);

#endif
