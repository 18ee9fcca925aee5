/* SPDX-License-Identifier: MIT */
/*
 * The register-accurate IPCC of one link, and a channel-level API over the same state.
 *
 * Register map, reset values and interrupt equations follow the STM32 IPCC (RM0434/RM0453):
 * processor 1 is the lower CPU id of the link, processor 2 the higher. All state lives in the
 * shared object; every change is one C11 atomic operation, so two processes writing the SCRs of
 * one link at full speed never lose or invent a flag. Any thread of any attached or non-attached
 * process may use these functions concurrently; none of them blocks.
 */
#ifndef IPCC_REGS_H
#define IPCC_REGS_H

#include <ipcc/common.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

/* Register offsets from the IPCC base (32-bit accesses only). */
#define IPCC_C1CR      0x000u
#define IPCC_C1MR      0x004u
#define IPCC_C1SCR     0x008u
#define IPCC_C1TOC2SR  0x00Cu
#define IPCC_C2CR      0x010u
#define IPCC_C2MR      0x014u
#define IPCC_C2SCR     0x018u
#define IPCC_C2TOC1SR  0x01Cu
#define IPCC_HWCFGR    0x3F0u
#define IPCC_VERR      0x3F4u
#define IPCC_IPIDR     0x3F8u
#define IPCC_SIDR      0x3FCu
#define IPCC_REGS_SIZE 0x400u
/* Processor 2's bank is processor 1's plus this. */
#define IPCC_BANK_STRIDE 0x010u

/* CxCR */
#define IPCC_CR_RXOIE (1u << 0)
#define IPCC_CR_TXFIE (1u << 16)
/* CxMR: channel n (0-based) */
#define IPCC_MR_CHOM(n) (1u << (n))	   /* RX occupied mask */
#define IPCC_MR_CHFM(n) (1u << (16 + (n))) /* TX free mask */
/* CxSCR */
#define IPCC_SCR_CHC(n) (1u << (n))	   /* clear the peer's flag (RX channel free) */
#define IPCC_SCR_CHS(n) (1u << (16 + (n))) /* set the own flag (TX channel occupied) */
/* CxTOCySR */
#define IPCC_SR_CHF(n) (1u << (n))
/* HWCFGR */
#define IPCC_HWCFGR_CHANNELS_MASK 0xFFu
/* VERR */
#define IPCC_VERR_MAJREV_SHIFT 4
#define IPCC_VERR_MAJREV_MASK  0xF0u
#define IPCC_VERR_MINREV_MASK  0x0Fu

/* Reset and identification values */
#define IPCC_CR_RESET	 0x00000000u
#define IPCC_MR_RESET	 0xFFFFFFFFu
#define IPCC_VERR_VALUE	 0x00000010u
#define IPCC_IPIDR_VALUE 0x00100071u
#define IPCC_SIDR_VALUE	 0xA3C5DD01u

enum ipcc_irq {
	IPCC_IRQ_RXO = 0, /* RX occupied */
	IPCC_IRQ_TXF = 1, /* TX free */
};

enum ipcc_dir {
	IPCC_DIR_TX = 0, /* this CPU -> peer: the own flag */
	IPCC_DIR_RX = 1, /* peer -> this CPU: the peer's flag */
};

struct ipcc_regs;

/*
 * The register block of the IPCC between CPUs a and b (a < b; a is processor 1).
 * -EINVAL a >= b or an id out of range, -ENOENT the pair has no link, -ENOMEM.
 */
IPCC_EXPORT int ipcc_regs_open(struct ipcc_system *sys, unsigned cpu_a, unsigned cpu_b,
			       struct ipcc_regs **ret_regs);
/* Accepts NULL. The handle must not outlive its system. */
IPCC_EXPORT void ipcc_regs_close(struct ipcc_regs *regs);

/*
 * 32-bit register access at `offset`. -EINVAL for a misaligned offset or one at or beyond
 * IPCC_REGS_SIZE. Reserved offsets read 0; writes to read-only or reserved registers are
 * ignored (and return 0), as on the bus. Bits of channels beyond the link's count have no effect
 * and read as their reset value. ipcc_regs_write fails with -EROFS on a system opened with
 * IPCC_OPEN_READONLY.
 */
IPCC_EXPORT int ipcc_regs_read(struct ipcc_regs *regs, uint32_t offset, uint32_t *ret_value);
IPCC_EXPORT int ipcc_regs_write(struct ipcc_regs *regs, uint32_t offset, uint32_t value);

/*
 * Level of interrupt line `line` of processor `proc` (1 or 2), from the current register state:
 *   RXO_x = CxCR.RXOIE && any_n(CyTOCxSR.CHnF && !CxMR.CHnOM)
 *   TXF_x = CxCR.TXFIE && any_n(!CxTOCySR.CHnF && !CxMR.CHnFM)
 * false for a bad proc or line.
 */
IPCC_EXPORT bool ipcc_regs_irq(struct ipcc_regs *regs, unsigned proc, enum ipcc_irq line);

/* The link's CPUs and channel count. */
IPCC_EXPORT unsigned ipcc_regs_cpu(const struct ipcc_regs *regs, unsigned proc);
IPCC_EXPORT unsigned ipcc_regs_channels(const struct ipcc_regs *regs);

/*
 * Channel-level API for an attached CPU, over the same registers, by peer CPU id, 0-based
 * channel index and direction (TX: this CPU's outgoing flag; RX: the peer's flag towards it).
 * Errors: -EINVAL bad channel, direction or peer id (or peer == self); -ENOENT no link to peer.
 * Any thread may call them; they never block.
 */
/* 1 if the channel's flag is set (TX: still occupied by us; RX: a message waits), else 0. */
IPCC_EXPORT int ipcc_chan_status(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir);
/* TX: set the own flag (CHnS: occupied). */
IPCC_EXPORT int ipcc_chan_set(struct ipcc_cpu *cpu, unsigned peer, unsigned ch);
/* RX: clear the peer's flag (CHnC: free). */
IPCC_EXPORT int ipcc_chan_clear(struct ipcc_cpu *cpu, unsigned peer, unsigned ch);
/* Mask or unmask the channel's interrupt: RX -> CHnOM, TX -> CHnFM. */
IPCC_EXPORT int ipcc_chan_mask(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir);
IPCC_EXPORT int ipcc_chan_unmask(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir);
/* Set (enable = true) or clear CxCR.RXOIE (RX) or CxCR.TXFIE (TX) of this CPU's bank. */
IPCC_EXPORT int ipcc_chan_irq_enable(struct ipcc_cpu *cpu, unsigned peer, enum ipcc_dir dir,
				     bool enable);
/*
 * The channel's data buffer: TX is the buffer this CPU writes (to the peer), RX the one the
 * peer writes. *ret_size is the configured buffer size.
 */
IPCC_EXPORT int ipcc_chan_buffer(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				 enum ipcc_dir dir, void **ret_buf, size_t *ret_size);

IPCC_END_DECLS

#endif
