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
 * 1 (high) or 0 (low); -EINVAL for a NULL handle, a proc other than 1 or 2, or a bad line.
 * Any thread; lock-free, never blocks, works on a read-only system.
 */
IPCC_EXPORT int ipcc_regs_line(struct ipcc_regs *regs, unsigned proc, enum ipcc_irq line);

/*
 * The older form of ipcc_regs_line, kept for existing callers: true for a high line, false for
 * a low one AND for bad arguments (a NULL handle, a bad proc or line), which it cannot tell
 * apart. New code uses ipcc_regs_line or ipcc_regs_lines.
 */
IPCC_EXPORT bool ipcc_regs_irq(struct ipcc_regs *regs, unsigned proc, enum ipcc_irq line);

/* Bits of the ipcc_regs_lines mask: bit 2 * (proc - 1) + line. */
#define IPCC_LINE_BIT(proc, line) (1u << (2u * ((proc)-1u) + (unsigned)(line)))
#define IPCC_LINE_C1_RXO	  0x1u /* processor 1, RX occupied */
#define IPCC_LINE_C1_TXF	  0x2u /* processor 1, TX free */
#define IPCC_LINE_C2_RXO	  0x4u /* processor 2, RX occupied */
#define IPCC_LINE_C2_TXF	  0x8u /* processor 2, TX free */
#define IPCC_LINES_ALL		  0xFu

/*
 * The four line levels of the link at once, into *ret_mask: IPCC_LINE_C1_RXO, _C1_TXF,
 * _C2_RXO and _C2_TXF, set for each line that is high (the equations of ipcc_regs_line). The
 * four levels come from one pass over the registers (two banks, two status words), each word
 * read once: between the reads another processor may write, so a level may be a moment older
 * than another, as for four separate calls. -EINVAL for NULL arguments. Any thread; lock-free,
 * never blocks, works on a read-only system.
 */
IPCC_EXPORT int ipcc_regs_lines(struct ipcc_regs *regs, uint32_t *ret_mask);

/*
 * Line changes, pushed instead of polled (a simulator's qemu_set_irq, GPIO Set or
 * sc_signal write).
 *
 * In this process: `fn` is called after every register write made through this process (the
 * register API, the channel API, the procedures, Notify, a reset or restore) that changed the
 * link's line mask, synchronously, in the writing thread, with the mask before and after. A
 * write by another process does not call it: wait for those with ipcc_regs_wait_lines. fn may
 * read registers; a write from fn that changes the lines calls fn for that change, from
 * within. One callback per link and system handle (the regs handle it was set through is the
 * one fn gets, and must stay open while it is set); NULL removes it. Register or
 * remove it while no other thread of the process writes the link (set-up time). -EINVAL.
 * A write through this process costs one more process-local load when no callback is set.
 */
typedef void (*ipcc_lines_fn)(struct ipcc_regs *regs, uint32_t old_mask, uint32_t new_mask,
			      void *arg);
IPCC_EXPORT int ipcc_regs_on_lines(struct ipcc_regs *regs, ipcc_lines_fn fn, void *arg);

/*
 * From any process that has the system open for writing, CPU or not: wait until the link's
 * line mask (ipcc_regs_lines) differs from `seen`, and return it in *ret_mask. 0 at once if it
 * differs already. Sleeps in the kernel (a futex in the link's watch line, bumped by every
 * register write of any process while someone waits), never polls. Timeouts as in <ipcc/irq.h>:
 * -EAGAIN (timeout 0, unchanged), -ETIMEDOUT; a signal does not end it. -EROFS on a read-only
 * handle (a waiter counts itself in the object), -EINVAL. A waiter that dies while it waits
 * leaves its count behind: every later register write then also bumps the word and makes one
 * FUTEX_WAKE, correct but slower, until the object is recreated.
 */
IPCC_EXPORT int ipcc_regs_wait_lines(struct ipcc_regs *regs, uint32_t seen, uint32_t *ret_mask,
				     int64_t timeout_ns);

/*
 * Every write, for a model that shows the lines itself (a simulator's signals), where "the
 * mask differs from what I saw" can miss a change that went there and back while the model's
 * own view moved: ipcc_regs_watch(regs, true) counts the handle as a watcher of the link until
 * ipcc_regs_watch(regs, false) or ipcc_regs_close, so that every register write of any
 * process bumps the link's write sequence. ipcc_regs_wait_write returns 0 as soon as the
 * sequence differs from *seq and stores the new one there: called again with that value, it
 * misses no write made after it returned (re-read the lines, then wait again). Timeouts as
 * ipcc_regs_wait_lines (-EAGAIN, -ETIMEDOUT); a signal does not end it. -EINVAL (the handle
 * does not watch), -EROFS (read-only handle), -EALREADY (watch already in that state).
 * While watched, each register write of the link costs an RMW and a FUTEX_WAKE.
 */
IPCC_EXPORT int ipcc_regs_watch(struct ipcc_regs *regs, bool on);
IPCC_EXPORT int ipcc_regs_wait_write(struct ipcc_regs *regs, uint32_t *seq, int64_t timeout_ns);

/*
 * Reset the whole IPCC instance, as its RCC reset does on the chip: both banks to their reset
 * values (CxCR 0, CxMR all masked) and both status registers to 0 (every channel free), then
 * ring both CPUs of the link so that their waits and dispatchers re-check the lines (a sender
 * waiting for a free channel proceeds; a receiver's message is gone). The message lengths are
 * left as they are (the hardware has none; the next message writes its own).
 *
 * Channels reserved by a service (ipcc_system_channel_owner, e.g. IPC Notify) belong to the
 * library, not to the modelled firmware: their status flags and mask bits keep their values,
 * and so do a processor's CxCR.RXOIE (TXFIE) while one of its reserved channels has its RX
 * occupied (TX free) interrupt unmasked, since the service needs them. A system without
 * services (the default config) gets exactly the hardware reset.
 *
 * Not atomic against register writes made meanwhile by the link's CPUs (as on the chip, where
 * the reset and a bus write do not race): reset a link whose CPUs are quiet, e.g. while the
 * simulation is paused. A CPU blocked in a procedure on the link at that moment (ipcc_recv)
 * goes on waiting with the interrupt the reset disabled: like firmware after a reset, it must
 * set its channels up again (the procedures do at their next call). -EINVAL NULL handle;
 * -EROFS read-only system. Any thread; never blocks.
 */
IPCC_EXPORT int ipcc_regs_reset(struct ipcc_regs *regs);

/* ipcc_regs_state header values */
#define IPCC_REGS_STATE_MAGIC	0x52435049u /* "IPCR" in memory order on little endian */
#define IPCC_REGS_STATE_VERSION 1u

/*
 * A saved IPCC instance, fixed size (256 bytes) and versioned, so that a simulator can
 * snapshot, migrate or replay it, also into another process or a later run. The register
 * words are as ipcc_regs_read returns them (bits of channels beyond `channels` at their reset
 * values); len[d][n] is the message length of channel n in direction d (0: processor 1 -> 2,
 * the C1TOC2SR flags; 1: processor 2 -> 1), 0 for n >= channels. The data buffers are not
 * part of it (they may be up to 1 MiB each): a simulator that needs them copies them itself.
 * Native byte order: a state moves between machines of one endianness.
 */
struct ipcc_regs_state {
	uint32_t magic;	       /* IPCC_REGS_STATE_MAGIC */
	uint16_t version;      /* IPCC_REGS_STATE_VERSION */
	uint16_t size;	       /* sizeof(struct ipcc_regs_state) */
	uint32_t channels;     /* the link's channel count */
	uint32_t flags;	       /* 0 (reserved for later versions) */
	uint32_t cr[2];	       /* C1CR, C2CR */
	uint32_t mr[2];	       /* C1MR, C2MR */
	uint32_t sr[2];	       /* C1TOC2SR, C2TOC1SR */
	uint32_t len[2][16];   /* message lengths, see above */
	uint32_t reserved[22]; /* 0 */
};

/*
 * Save the instance's state into *ret_state (every field written, reserved words 0). Each
 * register is read once (as by ipcc_regs_read); a snapshot of a link whose CPUs write meanwhile
 * may mix moments, so snapshot a quiet link. A length word above the buffer size (a peer's
 * garbage) is saved as it is, and ipcc_regs_restore refuses it. -EINVAL NULL arguments. Any
 * thread, never blocks, works on a read-only system.
 */
IPCC_EXPORT int ipcc_regs_save(struct ipcc_regs *regs, struct ipcc_regs_state *ret_state);

/*
 * Restore a state saved by ipcc_regs_save (of this link or of another one of the same channel
 * count, in this process or another): the banks, the status flags and the message lengths,
 * then ring both CPUs of the link so that their waits and dispatchers re-evaluate the lines
 * (a line the state has high is seen high, as after the write that raised it).
 *
 * The state is checked before anything is written: -EPROTO a wrong magic, an unknown version
 * or a size other than sizeof(struct ipcc_regs_state) (not a state of this format);
 * -EINVAL a channel count other than the link's, flags or reserved words not 0, a register
 * with bits the hardware cannot hold (CxCR bits other than RXOIE/TXFIE, status bits or cleared
 * mask bits of channels the link does not have), a length above the buffer size, or NULL
 * arguments; -EROFS a read-only system. On an error nothing changed.
 *
 * Reserved channels (a service's, see ipcc_regs_reset) are not restored: their flags, mask
 * bits and lengths keep their current values, whatever the state says, because the service's
 * own state (Notify's queues) is not in the snapshot and must stay consistent with them; the
 * CxCR enables they need stay set as for a reset. Not atomic against concurrent writes of the
 * link's CPUs: restore a quiet link. Any thread; never blocks.
 */
IPCC_EXPORT int ipcc_regs_restore(struct ipcc_regs *regs, const struct ipcc_regs_state *state);

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

/*
 * The message length word of the channel's buffer (the same slot as ipcc_chan_buffer), which
 * the procedures write before CHnS and read after they saw the flag (ipcc_recv returns it).
 * The rule, for code that drives a channel by hand and interoperates with the procedures:
 *   sender:   write the data into the TX buffer, ipcc_chan_set_len(TX, n), then ipcc_chan_set;
 *   receiver: see the flag set (ipcc_chan_status(RX) == 1, or in an RX handler), then read
 *             ipcc_chan_len(RX) and that many bytes of the RX buffer, then ipcc_chan_clear;
 *   a half-duplex response goes into the RX buffer: ipcc_chan_set_len(RX, n) before the clear.
 * The word keeps its value until it is written again, so set it for every message: a message
 * sent without it carries the previous message's length (0 on a fresh link).
 * ipcc_chan_set_len: 0, or -EINVAL for len above the buffer size. ipcc_chan_len: the length, or
 * -EBADMSG for a stored length above the buffer size (the peer wrote garbage). Both: the
 * errors of ipcc_chan_status (-EINVAL, -ENOENT, -EACCES, -ESTALE). Any thread; never block.
 * Publication is the flag's: the length is stored and loaded relaxed, ordered by the seq_cst
 * CHnS/CHnC write after the store and by the acquire load of ipcc_chan_status before the load.
 */
IPCC_EXPORT int ipcc_chan_set_len(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				  enum ipcc_dir dir, size_t len);
IPCC_EXPORT int ipcc_chan_len(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir);

IPCC_END_DECLS

#endif
