/* SPDX-License-Identifier: MIT */
/*
 * The register-accurate IPCC (lib/ipcc/regs.c) and the channel API over it (lib/ipcc/channel.c).
 *
 * The expected values come from the register spec (docs: stm32-ipcc.md, RM0434/RM0453), not
 * from the implementation: a driver written for the real IPCC must see the same thing here.
 * Register tests run for 1, 6 and 16 channels because the edges of the channel fields (bits
 * beyond the count, the 16th channel next to bit 16) are where a decoder goes wrong.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#include <ipcc/layout.h>

#include "ipcc-test.h"

static struct ipcc_system *sys;
static struct ipcc_regs *regs;
static unsigned nch;
static uint32_t chm;

static void link_setup(unsigned channels)
{
	sys = test_system_geometry(2, channels, 64);
	regs = test_regs(sys, 0, 1);
	nch = channels;
	chm = test_chmask(channels);
}

static void teardown(void)
{
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
	test_cleanup();
}

/* What the spec says offset `off` reads right after reset. */
static uint32_t reset_value(uint32_t off, unsigned channels)
{
	switch (off) {
	case IPCC_C1MR:
	case IPCC_C2MR:
		return IPCC_MR_RESET;
	case IPCC_HWCFGR:
		return channels;
	case IPCC_VERR:
		return IPCC_VERR_VALUE;
	case IPCC_IPIDR:
		return IPCC_IPIDR_VALUE;
	case IPCC_SIDR:
		return IPCC_SIDR_VALUE;
	default:
		return 0; /* CR, SCR, SR and every reserved word */
	}
}

static void expect_reset_block(struct ipcc_regs *r, unsigned channels, const char *what)
{
	for (uint32_t off = 0; off < IPCC_REGS_SIZE; off += 4)
		cr_assert_eq(test_rd(r, off), reset_value(off, channels),
			     "%s: offset 0x%03x reads 0x%08x, reset value is 0x%08x", what, off,
			     test_rd(r, off), reset_value(off, channels));
	for (unsigned proc = 1; proc <= 2; proc++) {
		cr_assert_not(ipcc_regs_irq(r, proc, IPCC_IRQ_RXO), "%s: RXO%u high", what, proc);
		cr_assert_not(ipcc_regs_irq(r, proc, IPCC_IRQ_TXF), "%s: TXF%u high", what, proc);
	}
}

static void snapshot(struct ipcc_regs *r, uint32_t snap[IPCC_REGS_SIZE / 4])
{
	for (uint32_t off = 0; off < IPCC_REGS_SIZE; off += 4)
		snap[off / 4] = test_rd(r, off);
}

static void expect_snapshot(struct ipcc_regs *r, const uint32_t snap[IPCC_REGS_SIZE / 4],
			    const char *what)
{
	for (uint32_t off = 0; off < IPCC_REGS_SIZE; off += 4)
		cr_assert_eq(test_rd(r, off), snap[off / 4],
			     "%s changed offset 0x%03x: 0x%08x -> 0x%08x", what, off, snap[off / 4],
			     test_rd(r, off));
}

/* Back to the reset state through the registers only (as a driver's init would). */
static void reset_link(void)
{
	for (unsigned p = 0; p < 2; p++) {
		test_wr(regs, CR(p), IPCC_CR_RESET);
		test_wr(regs, MR(p), IPCC_MR_RESET);
	}
	/* CHnC of each SCR frees the peer's flags. */
	test_wr(regs, SCR(0), chm);
	test_wr(regs, SCR(1), chm);
}

static bool irq(unsigned p, enum ipcc_irq line)
{
	return ipcc_regs_irq(regs, p + 1, line);
}

static unsigned channel_counts[] = { 1, 6, 16 };

#define CHANNEL_COUNTS(name)                                                                    \
	ParameterizedTestParameters(regs, name)                                                 \
	{                                                                                       \
		return cr_make_param_array(unsigned, channel_counts,                            \
					   sizeof(channel_counts) / sizeof(channel_counts[0])); \
	}                                                                                       \
	ParameterizedTest(unsigned *channels, regs, name, .fini = teardown)

/* ---- reset values and access types ---- */

CHANNEL_COUNTS(every_offset_reads_its_reset_value_after_create)
{
	link_setup(*channels);
	expect_reset_block(regs, nch, "fresh link");
	cr_assert_eq(test_rd(regs, IPCC_C1CR), 0);
	cr_assert_eq(test_rd(regs, IPCC_C2CR), 0);
	cr_assert_eq(test_rd(regs, IPCC_C1MR), 0xFFFFFFFFu);
	cr_assert_eq(test_rd(regs, IPCC_C2MR), 0xFFFFFFFFu);
}

CHANNEL_COUNTS(hwcfgr_reports_the_channel_count_of_the_link)
{
	link_setup(*channels);
	cr_assert_eq(test_rd(regs, IPCC_HWCFGR) & IPCC_HWCFGR_CHANNELS_MASK, *channels);
	cr_assert_eq(ipcc_regs_channels(regs), *channels);
}

Test(regs, identification_registers_hold_the_ip_values, .fini = teardown)
{
	link_setup(6);
	uint32_t verr = test_rd(regs, IPCC_VERR);
	cr_assert_eq(verr, 0x00000010u);
	/* Revision 1.0, as the Linux driver prints it. */
	cr_assert_eq((verr & IPCC_VERR_MAJREV_MASK) >> IPCC_VERR_MAJREV_SHIFT, 1);
	cr_assert_eq(verr & IPCC_VERR_MINREV_MASK, 0);
	cr_assert_eq(test_rd(regs, IPCC_IPIDR), 0x00100071u);
	cr_assert_eq(test_rd(regs, IPCC_SIDR), 0xA3C5DD01u);
}

CHANNEL_COUNTS(cr_stores_only_rxoie_and_txfie)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		test_wr(regs, CR(p), 0xFFFFFFFFu);
		cr_assert_eq(test_rd(regs, CR(p)), CR_BITS, "C%uCR", p + 1);
		cr_assert_eq(test_rd(regs, CR(!p)), 0, "C%uCR changed the other bank", p + 1);
		test_wr(regs, CR(p), ~CR_BITS);
		cr_assert_eq(test_rd(regs, CR(p)), 0, "C%uCR reserved bits", p + 1);
		test_wr(regs, CR(p), IPCC_CR_RXOIE);
		cr_assert_eq(test_rd(regs, CR(p)), IPCC_CR_RXOIE);
		test_wr(regs, CR(p), IPCC_CR_TXFIE);
		cr_assert_eq(test_rd(regs, CR(p)), IPCC_CR_TXFIE);
		test_wr(regs, CR(p), 0);
	}
}

CHANNEL_COUNTS(mr_stores_channel_bits_and_reads_ones_beyond_the_count)
{
	link_setup(*channels);
	uint32_t valid = chm | (chm << 16);
	for (unsigned p = 0; p < 2; p++) {
		test_wr(regs, MR(p), 0);
		cr_assert_eq(test_rd(regs, MR(p)), ~valid, "C%uMR after writing 0", p + 1);
		cr_assert_eq(test_rd(regs, MR(!p)), IPCC_MR_RESET, "other bank changed");
		/* Every other channel: both the OM and the FM field keep exactly what was written. */
		test_wr(regs, MR(p), 0x55555555u);
		cr_assert_eq(test_rd(regs, MR(p)), 0x55555555u | ~valid);
		test_wr(regs, MR(p), 0xAAAAAAAAu);
		cr_assert_eq(test_rd(regs, MR(p)), 0xAAAAAAAAu | ~valid);
		test_wr(regs, MR(p), IPCC_MR_RESET);
		cr_assert_eq(test_rd(regs, MR(p)), IPCC_MR_RESET);
	}
}

CHANNEL_COUNTS(scr_reads_zero_whatever_was_written)
{
	link_setup(*channels);
	const uint32_t values[] = { 0xFFFFFFFFu, chm, chm << 16, 0x00010001u, 0 };
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			test_wr(regs, SCR(p), values[i]);
			/* HAL and Linux do SCR |= bit: a non-zero read would re-set other flags. */
			cr_assert_eq(test_rd(regs, SCR(p)), 0, "C%uSCR after 0x%08x", p + 1,
				     values[i]);
		}
	}
}

CHANNEL_COUNTS(writes_to_status_and_identification_registers_are_ignored)
{
	link_setup(*channels);
	const uint32_t ro[] = { IPCC_C1TOC2SR, IPCC_C2TOC1SR, IPCC_HWCFGR,
				IPCC_VERR,     IPCC_IPIDR,    IPCC_SIDR };
	uint32_t snap[IPCC_REGS_SIZE / 4];

	/* A non-trivial state, so that "ignored" cannot pass by resetting to zero. */
	test_wr(regs, SCR(0), IPCC_SCR_CHS(0));
	test_wr(regs, SCR(1), IPCC_SCR_CHS(nch - 1));
	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	test_wr(regs, MR(1), 0);
	snapshot(regs, snap);
	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		cr_assert_eq(ipcc_regs_write(regs, ro[i], 0xFFFFFFFFu), 0,
			     "a write to 0x%03x is not a bus error", ro[i]);
		cr_assert_eq(ipcc_regs_write(regs, ro[i], 0), 0);
		expect_snapshot(regs, snap, "a write to a read-only register");
	}
}

CHANNEL_COUNTS(reserved_offsets_read_zero_and_ignore_writes)
{
	link_setup(*channels);
	uint32_t snap[IPCC_REGS_SIZE / 4];

	test_wr(regs, SCR(0), chm << 16);
	test_wr(regs, CR(1), CR_BITS);
	test_wr(regs, MR(1), 0x00FF00FFu);
	snapshot(regs, snap);
	for (uint32_t off = 0x020; off <= 0x3EC; off += 4) {
		cr_assert_eq(test_rd(regs, off), 0, "reserved 0x%03x", off);
		test_wr(regs, off, 0xFFFFFFFFu);
		cr_assert_eq(test_rd(regs, off), 0, "reserved 0x%03x after a write", off);
		test_wr(regs, off, 0);
	}
	expect_snapshot(regs, snap, "writes to reserved offsets");
}

Test(regs, misaligned_offsets_fail_with_einval_and_change_nothing, .fini = teardown)
{
	link_setup(6);
	for (uint32_t off = 0; off < IPCC_REGS_SIZE + 8; off++) {
		if (!(off & 3))
			continue;
		uint32_t v = 0x12345678u;
		cr_assert_eq(ipcc_regs_read(regs, off, &v), -EINVAL, "read 0x%03x", off);
		cr_assert_eq(v, 0x12345678u, "failed read wrote its output");
		cr_assert_eq(ipcc_regs_write(regs, off, 0xFFFFFFFFu), -EINVAL, "write 0x%03x", off);
	}
	/* A misaligned write near C1CR/C1SCR must not have reached them. */
	expect_reset_block(regs, 6, "after misaligned writes");
}

Test(regs, offsets_at_or_beyond_the_block_fail_with_einval, .fini = teardown)
{
	link_setup(6);
	/* The end of the block, far beyond it, and offsets that wrap when a bank is added. */
	const uint32_t bad[] = {
		IPCC_REGS_SIZE, IPCC_REGS_SIZE + 4, 0x7FCu,	 0x800u,
		0x1000u,	0x10000000u,	    0xFFFFFFFCu, 0xFFFFFFF0u,
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t v = 0x12345678u;
		cr_assert_eq(ipcc_regs_read(regs, bad[i], &v), -EINVAL, "read 0x%x", bad[i]);
		cr_assert_eq(v, 0x12345678u);
		cr_assert_eq(ipcc_regs_write(regs, bad[i], 0xFFFFFFFFu), -EINVAL, "write 0x%x",
			     bad[i]);
	}
	/* Offsets that wrap to a real register once a bank stride is added must not reach it. */
	expect_reset_block(regs, 6, "after out-of-range writes");
}

Test(regs, null_handle_or_output_fails_with_einval, .fini = teardown)
{
	uint32_t v;
	link_setup(6);
	cr_assert_eq(ipcc_regs_read(NULL, IPCC_C1CR, &v), -EINVAL);
	cr_assert_eq(ipcc_regs_read(regs, IPCC_C1CR, NULL), -EINVAL);
	cr_assert_eq(ipcc_regs_write(NULL, IPCC_C1CR, 0), -EINVAL);
	ipcc_regs_close(NULL);
}

/* ---- SCR effects ---- */

CHANNEL_COUNTS(chs_sets_exactly_the_own_outgoing_flag)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned n = 0; n < nch; n++) {
			test_wr(regs, SCR(p), IPCC_SCR_CHS(n));
			/* Flags accumulate: a set is an OR, not a store of the word. */
			cr_assert_eq(test_rd(regs, SR(p)), test_chmask(n + 1),
				     "C%uSCR.CH%uS: C%uTOC%uSR = 0x%x", p + 1, n + 1, p + 1, 2 - p,
				     test_rd(regs, SR(p)));
			cr_assert_eq(test_rd(regs, SR(!p)), 0, "the peer's flags changed");
		}
		reset_link();
	}
}

CHANNEL_COUNTS(chc_clears_exactly_the_peer_flag)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		test_wr(regs, SCR(!p), chm << 16); /* the peer sends on every channel */
		test_wr(regs, SCR(p), chm << 16);  /* and so do we */
		for (unsigned n = 0; n < nch; n++) {
			test_wr(regs, SCR(p), IPCC_SCR_CHC(n));
			cr_assert_eq(test_rd(regs, SR(!p)), chm & ~test_chmask(n + 1),
				     "C%uSCR.CH%uC: peer flags 0x%x", p + 1, n + 1,
				     test_rd(regs, SR(!p)));
			cr_assert_eq(test_rd(regs, SR(p)), chm, "CHnC cleared an own flag");
		}
		reset_link();
	}
}

CHANNEL_COUNTS(zero_bits_of_scr_change_nothing)
{
	link_setup(*channels);
	uint32_t pattern = 0x5555u & chm;
	uint32_t snap[IPCC_REGS_SIZE / 4];

	test_wr(regs, SCR(0), pattern << 16);
	test_wr(regs, SCR(1), (~pattern & chm) << 16);
	snapshot(regs, snap);
	test_wr(regs, SCR(0), 0);
	test_wr(regs, SCR(1), 0);
	expect_snapshot(regs, snap, "writing 0 to an SCR");

	/* Setting an already set flag, or clearing a clear one, is harmless as well. */
	test_wr(regs, SCR(0), pattern << 16);
	test_wr(regs, SCR(1), pattern); /* pattern is set in C1TOC2SR: clears it */
	test_wr(regs, SCR(1), pattern); /* again: nothing left to clear */
	cr_assert_eq(test_rd(regs, SR(0)), 0);
	cr_assert_eq(test_rd(regs, SR(1)), ~pattern & chm);
}

CHANNEL_COUNTS(a_processor_cannot_set_peer_flags_or_clear_its_own)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		/* Every bit of the SCR at once, while no peer flag is set. */
		test_wr(regs, SCR(p), 0xFFFFFFFFu);
		cr_assert_eq(test_rd(regs, SR(p)), chm, "C%uSCR set", p + 1);
		cr_assert_eq(test_rd(regs, SR(!p)), 0, "C%uSCR set a peer flag", p + 1);
		/* CHnC only ever reaches the peer's word. */
		test_wr(regs, SCR(p), chm);
		cr_assert_eq(test_rd(regs, SR(p)), chm, "C%uSCR cleared its own flags", p + 1);
		test_wr(regs, SCR(!p), chm);
		cr_assert_eq(test_rd(regs, SR(p)), 0, "the peer's CHnC clears them");
	}
}

CHANNEL_COUNTS(set_and_clear_in_one_scr_write_both_take_effect)
{
	link_setup(*channels);
	test_wr(regs, SCR(1), chm << 16);
	for (unsigned n = 0; n < nch; n++) {
		test_wr(regs, SCR(0), IPCC_SCR_CHS(n) | IPCC_SCR_CHC(n));
		cr_assert_eq(test_rd(regs, SR(0)), test_chmask(n + 1));
		cr_assert_eq(test_rd(regs, SR(1)), chm & ~test_chmask(n + 1));
	}
}

CHANNEL_COUNTS(bits_beyond_the_channel_count_have_no_effect)
{
	link_setup(*channels);
	uint32_t beyond = ~(chm | (chm << 16));

	for (unsigned p = 0; p < 2; p++) {
		test_wr(regs, SCR(p), beyond);
		cr_assert_eq(test_rd(regs, SR(0)), 0, "C%uSCR beyond the count", p + 1);
		cr_assert_eq(test_rd(regs, SR(1)), 0, "C%uSCR beyond the count", p + 1);
		test_wr(regs, MR(p), 0);
		cr_assert_eq(test_rd(regs, MR(p)) & beyond, beyond, "absent channels read masked");
	}
	/*
	 * Absent channels are neither free TX channels nor occupied RX channels: with every bit of
	 * MR written 0, both lines enabled and every real flag set, processor 1's TXF must stay low.
	 */
	test_wr(regs, CR(0), CR_BITS);
	test_wr(regs, SCR(0), 0xFFFFFFFFu);
	cr_assert_not(irq(0, IPCC_IRQ_TXF), "TXF raised by a channel beyond the count");
	cr_assert_not(irq(0, IPCC_IRQ_RXO), "RXO with no incoming flag");
	cr_assert_eq(test_rd(regs, CR(0)), CR_BITS);
}

/* ---- interrupt equations ---- */

CHANNEL_COUNTS(rxo_is_rxoie_and_incoming_flag_and_unmasked)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned n = 0; n < nch; n++) {
			for (unsigned combo = 0; combo < 8; combo++) {
				bool ie = combo & 1, flag = combo & 2, unmasked = combo & 4;
				reset_link();
				if (flag)
					test_wr(regs, SCR(!p), IPCC_SCR_CHS(n));
				if (unmasked)
					test_wr(regs, MR(p), ~IPCC_MR_CHOM(n));
				if (ie)
					test_wr(regs, CR(p), IPCC_CR_RXOIE);
				cr_assert_eq(irq(p, IPCC_IRQ_RXO), ie && flag && unmasked,
					     "RXO%u ch%u RXOIE=%d flag=%d unmasked=%d", p + 1, n,
					     ie, flag, unmasked);
				cr_assert_not(irq(p, IPCC_IRQ_TXF), "TXF%u without TXFIE", p + 1);
				cr_assert_not(irq(!p, IPCC_IRQ_RXO), "the peer's RXO");
			}
		}
	}
}

CHANNEL_COUNTS(txf_is_txfie_and_own_flag_clear_and_unmasked)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned n = 0; n < nch; n++) {
			for (unsigned combo = 0; combo < 8; combo++) {
				bool ie = combo & 1, flag = combo & 2, unmasked = combo & 4;
				reset_link();
				/* Every other channel is occupied so only channel n can be free. */
				test_wr(regs, SCR(p), (chm & ~IPCC_SR_CHF(n)) << 16);
				if (flag)
					test_wr(regs, SCR(p), IPCC_SCR_CHS(n));
				if (unmasked)
					test_wr(regs, MR(p), ~IPCC_MR_CHFM(n));
				if (ie)
					test_wr(regs, CR(p), IPCC_CR_TXFIE);
				cr_assert_eq(irq(p, IPCC_IRQ_TXF), ie && !flag && unmasked,
					     "TXF%u ch%u TXFIE=%d flag=%d unmasked=%d", p + 1, n,
					     ie, flag, unmasked);
				cr_assert_not(irq(p, IPCC_IRQ_RXO), "RXO%u without RXOIE", p + 1);
				cr_assert_not(irq(!p, IPCC_IRQ_TXF), "the peer's TXF");
			}
		}
	}
}

CHANNEL_COUNTS(rxo_watches_only_incoming_and_txf_only_outgoing_flags)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		reset_link();
		test_wr(regs, CR(p), CR_BITS);
		test_wr(regs, MR(p), 0);
		/* Own flags all set: TX not free, and nothing incoming. */
		test_wr(regs, SCR(p), chm << 16);
		cr_assert_not(irq(p, IPCC_IRQ_RXO), "RXO%u from its own outgoing flags", p + 1);
		cr_assert_not(irq(p, IPCC_IRQ_TXF), "TXF%u with every channel occupied", p + 1);
		/* Incoming flags set too: RXO rises, TXF does not care. */
		test_wr(regs, SCR(!p), chm << 16);
		cr_assert(irq(p, IPCC_IRQ_RXO));
		cr_assert_not(irq(p, IPCC_IRQ_TXF), "TXF%u from incoming flags", p + 1);
	}
}

CHANNEL_COUNTS(a_free_unmasked_channel_holds_txf_until_masked_or_occupied)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		unsigned n = nch - 1;
		reset_link();
		test_wr(regs, CR(p), IPCC_CR_TXFIE);
		test_wr(regs, MR(p), ~IPCC_MR_CHFM(n));
		/* A level: reading it, or activity on other registers, does not consume it. */
		for (unsigned i = 0; i < 100; i++)
			cr_assert(irq(p, IPCC_IRQ_TXF), "TXF%u dropped on read %u", p + 1, i);
		test_wr(regs, SCR(!p), chm << 16);
		test_wr(regs, CR(!p), CR_BITS);
		test_wr(regs, MR(p), ~IPCC_MR_CHFM(n));
		cr_assert(irq(p, IPCC_IRQ_TXF));
		/* Handlers end a TXF event by masking the channel. */
		test_wr(regs, MR(p), IPCC_MR_RESET);
		cr_assert_not(irq(p, IPCC_IRQ_TXF), "masking did not lower TXF%u", p + 1);
		test_wr(regs, MR(p), ~IPCC_MR_CHFM(n));
		cr_assert(irq(p, IPCC_IRQ_TXF));
		test_wr(regs, SCR(p), IPCC_SCR_CHS(n));
		cr_assert_not(irq(p, IPCC_IRQ_TXF), "occupying the channel did not lower TXF");
		test_wr(regs, SCR(!p), IPCC_SCR_CHC(n));
		cr_assert(irq(p, IPCC_IRQ_TXF), "freeing the channel did not raise TXF");
		test_wr(regs, CR(p), 0);
		cr_assert_not(irq(p, IPCC_IRQ_TXF), "clearing TXFIE did not lower TXF");
	}
}

CHANNEL_COUNTS(masking_or_disabling_lowers_rxo)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		unsigned n = nch / 2;
		reset_link();
		test_wr(regs, SCR(!p), IPCC_SCR_CHS(n));
		test_wr(regs, CR(p), IPCC_CR_RXOIE);
		test_wr(regs, MR(p), ~IPCC_MR_CHOM(n));
		cr_assert(irq(p, IPCC_IRQ_RXO));
		test_wr(regs, MR(p), IPCC_MR_RESET);
		cr_assert_not(irq(p, IPCC_IRQ_RXO), "masking did not lower RXO%u", p + 1);
		test_wr(regs, MR(p), ~IPCC_MR_CHOM(n));
		cr_assert(irq(p, IPCC_IRQ_RXO));
		test_wr(regs, CR(p), 0);
		cr_assert_not(irq(p, IPCC_IRQ_RXO), "clearing RXOIE did not lower RXO%u", p + 1);
	}
}

/*
 * The three conditions of a line, made true in every order: the line must rise exactly when
 * the last one becomes true, whichever it is (nothing is lost by unmasking late).
 */
static const unsigned orders[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
				       { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };

CHANNEL_COUNTS(rxo_rises_as_soon_as_its_last_condition_holds)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned o = 0; o < 6; o++) {
			unsigned n = (o * 5) % nch;
			reset_link();
			for (unsigned s = 0; s < 3; s++) {
				switch (orders[o][s]) {
				case 0:
					test_wr(regs, SCR(!p), IPCC_SCR_CHS(n));
					break;
				case 1:
					test_wr(regs, MR(p), ~IPCC_MR_CHOM(n));
					break;
				case 2:
					test_wr(regs, CR(p), IPCC_CR_RXOIE);
					break;
				}
				cr_assert_eq(irq(p, IPCC_IRQ_RXO), s == 2,
					     "RXO%u order %u after step %u", p + 1, o, s);
			}
		}
	}
}

CHANNEL_COUNTS(txf_rises_as_soon_as_its_last_condition_holds)
{
	link_setup(*channels);
	for (unsigned p = 0; p < 2; p++) {
		for (unsigned o = 0; o < 6; o++) {
			unsigned n = (o * 5) % nch;
			reset_link();
			test_wr(regs, SCR(p), chm << 16); /* every channel starts occupied */
			for (unsigned s = 0; s < 3; s++) {
				switch (orders[o][s]) {
				case 0:
					test_wr(regs, SCR(!p), IPCC_SCR_CHC(n)); /* peer frees it */
					break;
				case 1:
					test_wr(regs, MR(p), ~IPCC_MR_CHFM(n));
					break;
				case 2:
					test_wr(regs, CR(p), IPCC_CR_TXFIE);
					break;
				}
				cr_assert_eq(irq(p, IPCC_IRQ_TXF), s == 2,
					     "TXF%u order %u after step %u", p + 1, o, s);
			}
		}
	}
}

CHANNEL_COUNTS(clearing_a_flag_lowers_rxo_and_raises_txf_at_the_sender)
{
	link_setup(*channels);
	for (unsigned snd = 0; snd < 2; snd++) {
		unsigned rcv = !snd;
		for (unsigned n = 0; n < nch; n++) {
			reset_link();
			test_wr(regs, CR(snd), IPCC_CR_TXFIE);
			test_wr(regs, MR(snd), ~IPCC_MR_CHFM(n));
			test_wr(regs, CR(rcv), IPCC_CR_RXOIE);
			test_wr(regs, MR(rcv), ~IPCC_MR_CHOM(n));
			cr_assert(irq(snd, IPCC_IRQ_TXF), "free channel");
			cr_assert_not(irq(rcv, IPCC_IRQ_RXO));

			test_wr(regs, SCR(snd), IPCC_SCR_CHS(n));
			cr_assert_not(irq(snd, IPCC_IRQ_TXF), "TXF%u with ch%u occupied", snd + 1,
				      n);
			cr_assert(irq(rcv, IPCC_IRQ_RXO), "RXO%u after CH%uS", rcv + 1, n + 1);

			test_wr(regs, SCR(rcv), IPCC_SCR_CHC(n));
			cr_assert_not(irq(rcv, IPCC_IRQ_RXO), "RXO%u after CH%uC", rcv + 1, n + 1);
			cr_assert(irq(snd, IPCC_IRQ_TXF), "TXF%u after CH%uC", snd + 1, n + 1);
		}
	}
}

CHANNEL_COUNTS(a_line_stays_high_while_any_channel_asserts_it)
{
	/* Skip before creating anything: Criterion does not run .fini for a skipped test. */
	if (*channels < 2)
		cr_skip_test("needs two channels to have another one");
	link_setup(*channels);
	unsigned a = 0, b = nch - 1;
	test_wr(regs, CR(1), IPCC_CR_RXOIE);
	test_wr(regs, MR(1), ~(IPCC_MR_CHOM(a) | IPCC_MR_CHOM(b)));
	test_wr(regs, SCR(0), IPCC_SCR_CHS(a) | IPCC_SCR_CHS(b));
	cr_assert(irq(1, IPCC_IRQ_RXO));
	test_wr(regs, SCR(1), IPCC_SCR_CHC(a));
	cr_assert(irq(1, IPCC_IRQ_RXO), "channel %u still occupied", b);
	test_wr(regs, MR(1), ~IPCC_MR_CHOM(a));
	cr_assert_not(irq(1, IPCC_IRQ_RXO), "channel %u is masked now", b);
	test_wr(regs, SCR(0), IPCC_SCR_CHS(a));
	cr_assert(irq(1, IPCC_IRQ_RXO));
}

Test(regs, irq_of_a_bad_processor_or_line_is_false, .fini = teardown)
{
	link_setup(6);
	/* Every line of both processors high, so a false answer means "rejected". */
	test_wr(regs, CR(0), CR_BITS);
	test_wr(regs, CR(1), CR_BITS);
	test_wr(regs, MR(0), 0);
	test_wr(regs, MR(1), 0);
	test_wr(regs, SCR(0), IPCC_SCR_CHS(0));
	test_wr(regs, SCR(1), IPCC_SCR_CHS(0));
	for (unsigned proc = 1; proc <= 2; proc++) {
		cr_assert(ipcc_regs_irq(regs, proc, IPCC_IRQ_RXO));
		cr_assert(ipcc_regs_irq(regs, proc, IPCC_IRQ_TXF));
	}
	const unsigned bad_proc[] = { 0, 3, 16, UINT_MAX };
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_not(ipcc_regs_irq(regs, bad_proc[i], IPCC_IRQ_RXO), "proc %u",
			      bad_proc[i]);
		cr_assert_not(ipcc_regs_irq(regs, bad_proc[i], IPCC_IRQ_TXF), "proc %u",
			      bad_proc[i]);
	}
	cr_assert_not(ipcc_regs_irq(regs, 1, (enum ipcc_irq)2));
	cr_assert_not(ipcc_regs_irq(regs, 2, (enum ipcc_irq) - 1));
	cr_assert_not(ipcc_regs_irq(NULL, 1, IPCC_IRQ_RXO));
}

/* ---- handles, links and meshes ---- */

Test(regs, open_rejects_bad_pairs_and_unlinked_ones, .fini = teardown)
{
	struct ipcc_config cfg;
	struct ipcc_regs *r = (struct ipcc_regs *)&cfg; /* any non-NULL marker */
	struct ipcc_regs *const marker = r;

	ipcc_config_init(&cfg);
	cfg.cpus = 4;
	cr_assert_eq(ipcc_config_link(&cfg, 2, 1, false), 0);
	sys = test_system(&cfg);

	cr_assert_eq(ipcc_regs_open(sys, 1, 1, &r), -EINVAL, "a == b");
	cr_assert_eq(ipcc_regs_open(sys, 2, 1, &r), -EINVAL, "a > b");
	cr_assert_eq(ipcc_regs_open(sys, 3, 0, &r), -EINVAL, "a > b");
	cr_assert_eq(ipcc_regs_open(sys, 0, 4, &r), -EINVAL, "b out of range");
	cr_assert_eq(ipcc_regs_open(sys, 4, 5, &r), -EINVAL, "both out of range");
	cr_assert_eq(ipcc_regs_open(sys, 0, UINT_MAX, &r), -EINVAL);
	cr_assert_eq(ipcc_regs_open(NULL, 0, 1, &r), -EINVAL);
	cr_assert_eq(ipcc_regs_open(sys, 0, 1, NULL), -EINVAL);
	cr_assert_eq(ipcc_regs_open(sys, 1, 2, &r), -ENOENT, "unlinked pair");
	cr_assert_eq(r, marker, "a failed open wrote its output");

	cr_assert_eq(ipcc_regs_open(sys, 2, 3, &r), 0);
	cr_assert_eq(ipcc_regs_cpu(r, 1), 2);
	cr_assert_eq(ipcc_regs_cpu(r, 2), 3);
	cr_assert_eq(ipcc_regs_channels(r), IPCC_CHANNELS_DEFAULT);
	ipcc_regs_close(r);
}

Test(regs, every_handle_of_a_link_sees_the_same_registers, .fini = teardown)
{
	struct ipcc_system *other;
	link_setup(6);
	struct ipcc_regs *same = test_regs(sys, 0, 1);
	cr_assert_eq(ipcc_system_open(ipcc_system_name(sys), &other), 0);
	struct ipcc_regs *remote = test_regs(other, 0, 1);

	test_wr(regs, CR(0), IPCC_CR_RXOIE);
	test_wr(same, MR(1), 0x00030003u);
	test_wr(remote, SCR(1), IPCC_SCR_CHS(2));
	struct ipcc_regs *all[] = { regs, same, remote };
	for (unsigned i = 0; i < 3; i++) {
		cr_assert_eq(test_rd(all[i], CR(0)), IPCC_CR_RXOIE, "handle %u", i);
		cr_assert_eq(test_rd(all[i], MR(1)), 0x00030003u | ~0x003F003Fu, "handle %u", i);
		cr_assert_eq(test_rd(all[i], SR(1)), IPCC_SR_CHF(2), "handle %u", i);
	}
	ipcc_regs_close(same);
	ipcc_regs_close(remote);
	ipcc_system_close(other);
}

/* Write every register of link (a, b) to a non-reset value; the others must not move. */
static void check_mesh_independence(const struct ipcc_config *cfg)
{
	unsigned cpus = cfg->cpus, channels = cfg->channels;
	uint32_t m = test_chmask(channels);
	sys = test_system(cfg);

	for (unsigned a = 0; a < cpus; a++) {
		for (unsigned b = a + 1; b < cpus; b++) {
			if (!ipcc_system_linked(sys, a, b))
				continue;
			struct ipcc_regs *l = test_regs(sys, a, b);
			test_wr(l, IPCC_C1CR, CR_BITS);
			test_wr(l, IPCC_C2CR, CR_BITS);
			test_wr(l, IPCC_C1MR, 0);
			test_wr(l, IPCC_C2MR, 0);
			test_wr(l, IPCC_C1SCR, m << 16);
			test_wr(l, IPCC_C2SCR, (m << 16) | IPCC_SCR_CHC(0));
			cr_assert_eq(test_rd(l, IPCC_C1TOC2SR), m & ~1u);
			cr_assert_eq(test_rd(l, IPCC_C2TOC1SR), m);

			for (unsigned x = 0; x < cpus; x++) {
				for (unsigned y = x + 1; y < cpus; y++) {
					if ((x == a && y == b) || !ipcc_system_linked(sys, x, y))
						continue;
					char what[96];
					struct ipcc_regs *o = test_regs(sys, x, y);
					snprintf(what, sizeof(what),
						 "link (%u,%u) after writing (%u,%u)", x, y, a, b);
					expect_reset_block(o, channels, what);
					ipcc_regs_close(o);
				}
			}
			/* Put the link back so the next iteration starts from reset everywhere. */
			test_wr(l, IPCC_C1CR, 0);
			test_wr(l, IPCC_C2CR, 0);
			test_wr(l, IPCC_C1MR, IPCC_MR_RESET);
			test_wr(l, IPCC_C2MR, IPCC_MR_RESET);
			test_wr(l, IPCC_C1SCR, m);
			test_wr(l, IPCC_C2SCR, m);
			expect_reset_block(l, channels, "written link after its reset");
			ipcc_regs_close(l);
		}
	}
}

Test(regs, links_of_a_full_four_cpu_mesh_are_independent, .fini = teardown)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.cpus = 4;
	check_mesh_independence(&cfg);
	cr_assert_eq(ipcc_system_link_count(sys), 6);
}

Test(regs, links_of_a_mesh_with_gaps_are_independent, .fini = teardown)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.cpus = 5;
	cfg.channels = 16;
	/* Holes in the pair order shift every later link's index: a classic off-by-one. */
	ipcc_config_link(&cfg, 0, 2, false);
	ipcc_config_link(&cfg, 1, 2, false);
	ipcc_config_link(&cfg, 3, 1, false);
	ipcc_config_link(&cfg, 4, 0, false);
	check_mesh_independence(&cfg);
	cr_assert_eq(ipcc_system_link_count(sys), 6);
	struct ipcc_regs *r;
	cr_assert_eq(ipcc_regs_open(sys, 1, 2, &r), -ENOENT);
	cr_assert_eq(ipcc_regs_open(sys, 1, 3, &r), -ENOENT);
}

/* ---- channel API ---- */

/*
 * Three CPUs, (0, 2) unlinked. CPU 1 is processor 2 on link (0, 1) and processor 1 on (1, 2),
 * so a mix-up of "which bank is mine" shows on one of the two links.
 */
#define CH_CHANNELS 4
#define CH_BUF	    96u
static struct ipcc_cpu *cpu[3];
static struct ipcc_regs *l01, *l12;

static void chan_setup(void)
{
	struct ipcc_config cfg;
	ipcc_config_init(&cfg);
	cfg.cpus = 3;
	cfg.channels = CH_CHANNELS;
	cfg.buffer_size = CH_BUF;
	ipcc_config_link(&cfg, 0, 2, false);
	sys = test_system(&cfg);
	for (unsigned i = 0; i < 3; i++)
		cpu[i] = test_attach(sys, i);
	l01 = test_regs(sys, 0, 1);
	l12 = test_regs(sys, 1, 2);
	chm = test_chmask(CH_CHANNELS);
}

static void chan_teardown(void)
{
	ipcc_regs_close(l01);
	ipcc_regs_close(l12);
	for (unsigned i = 0; i < 3; i++)
		ipcc_cpu_detach(cpu[i]);
	ipcc_system_close(sys);
	test_cleanup();
}

Test(chan, set_occupies_tx_and_shows_as_rx_at_the_peer, .init = chan_setup, .fini = chan_teardown)
{
	for (unsigned n = 0; n < CH_CHANNELS; n++) {
		cr_assert_eq(ipcc_chan_status(cpu[0], 1, n, IPCC_DIR_TX), 0);
		cr_assert_eq(ipcc_chan_set(cpu[0], 1, n), 0);
		cr_assert_eq(ipcc_chan_status(cpu[0], 1, n, IPCC_DIR_TX), 1, "ch%u", n);
		cr_assert_eq(ipcc_chan_status(cpu[1], 0, n, IPCC_DIR_RX), 1, "ch%u", n);
		cr_assert_eq(ipcc_chan_status(cpu[0], 1, n, IPCC_DIR_RX), 0, "ch%u", n);
		cr_assert_eq(ipcc_chan_status(cpu[1], 0, n, IPCC_DIR_TX), 0, "ch%u", n);
	}
	/* CPU 0 is processor 1 of (0, 1). */
	cr_assert_eq(test_rd(l01, IPCC_C1TOC2SR), chm);
	cr_assert_eq(test_rd(l01, IPCC_C2TOC1SR), 0);

	cr_assert_eq(ipcc_chan_set(cpu[1], 0, 2), 0);
	cr_assert_eq(test_rd(l01, IPCC_C2TOC1SR), IPCC_SR_CHF(2), "CPU 1 is processor 2 of (0,1)");
	cr_assert_eq(ipcc_chan_set(cpu[1], 2, 3), 0);
	cr_assert_eq(test_rd(l12, IPCC_C1TOC2SR), IPCC_SR_CHF(3), "CPU 1 is processor 1 of (1,2)");
	cr_assert_eq(test_rd(l12, IPCC_C2TOC1SR), 0);
	cr_assert_eq(ipcc_chan_status(cpu[2], 1, 3, IPCC_DIR_RX), 1);
	cr_assert_eq(ipcc_chan_status(cpu[2], 1, 2, IPCC_DIR_RX), 0);
}

Test(chan, clear_frees_the_peer_flag_never_the_own, .init = chan_setup, .fini = chan_teardown)
{
	cr_assert_eq(ipcc_chan_set(cpu[0], 1, 1), 0);
	cr_assert_eq(ipcc_chan_set(cpu[1], 0, 1), 0);
	/* CPU 0 clears what CPU 1 sent it; its own message to CPU 1 stays. */
	cr_assert_eq(ipcc_chan_clear(cpu[0], 1, 1), 0);
	cr_assert_eq(ipcc_chan_status(cpu[0], 1, 1, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_chan_status(cpu[0], 1, 1, IPCC_DIR_TX), 1);
	cr_assert_eq(ipcc_chan_status(cpu[1], 0, 1, IPCC_DIR_TX), 0);
	cr_assert_eq(ipcc_chan_clear(cpu[1], 0, 1), 0);
	cr_assert_eq(ipcc_chan_status(cpu[0], 1, 1, IPCC_DIR_TX), 0);
	cr_assert_eq(test_rd(l01, IPCC_C1TOC2SR), 0);
	cr_assert_eq(test_rd(l01, IPCC_C2TOC1SR), 0);
	/* Clearing a free channel is harmless. */
	cr_assert_eq(ipcc_chan_clear(cpu[2], 1, 0), 0);
	cr_assert_eq(test_rd(l12, IPCC_C1TOC2SR), 0);
}

Test(chan, mask_and_unmask_change_only_the_own_bank, .init = chan_setup, .fini = chan_teardown)
{
	const uint32_t absent = ~(chm | (chm << 16));

	cr_assert_eq(ipcc_chan_unmask(cpu[0], 1, 1, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_chan_unmask(cpu[0], 1, 3, IPCC_DIR_TX), 0);
	cr_assert_eq(test_rd(l01, IPCC_C1MR), ~(IPCC_MR_CHOM(1) | IPCC_MR_CHFM(3)));
	cr_assert_eq(test_rd(l01, IPCC_C2MR), IPCC_MR_RESET);

	cr_assert_eq(ipcc_chan_unmask(cpu[1], 0, 0, IPCC_DIR_TX), 0);
	cr_assert_eq(test_rd(l01, IPCC_C2MR), ~IPCC_MR_CHFM(0));
	cr_assert_eq(ipcc_chan_unmask(cpu[1], 2, 2, IPCC_DIR_RX), 0);
	cr_assert_eq(test_rd(l12, IPCC_C1MR), ~IPCC_MR_CHOM(2));
	cr_assert_eq(test_rd(l12, IPCC_C2MR), IPCC_MR_RESET);

	cr_assert_eq(ipcc_chan_mask(cpu[0], 1, 1, IPCC_DIR_RX), 0);
	cr_assert_eq(test_rd(l01, IPCC_C1MR), ~IPCC_MR_CHFM(3));
	cr_assert_eq(ipcc_chan_mask(cpu[0], 1, 3, IPCC_DIR_TX), 0);
	cr_assert_eq(ipcc_chan_mask(cpu[0], 1, 3, IPCC_DIR_TX), 0, "masking twice is fine");
	cr_assert_eq(test_rd(l01, IPCC_C1MR), IPCC_MR_RESET);
	cr_assert_eq(test_rd(l01, IPCC_C2MR) & absent, absent);
}

Test(chan, irq_enable_sets_and_clears_one_cr_bit, .init = chan_setup, .fini = chan_teardown)
{
	cr_assert_eq(ipcc_chan_irq_enable(cpu[1], 0, IPCC_DIR_RX, true), 0);
	cr_assert_eq(test_rd(l01, IPCC_C2CR), IPCC_CR_RXOIE);
	cr_assert_eq(ipcc_chan_irq_enable(cpu[1], 0, IPCC_DIR_TX, true), 0);
	cr_assert_eq(test_rd(l01, IPCC_C2CR), CR_BITS);
	cr_assert_eq(test_rd(l01, IPCC_C1CR), 0);
	cr_assert_eq(test_rd(l12, IPCC_C1CR), 0, "CPU 1's bank on the other link");
	cr_assert_eq(ipcc_chan_irq_enable(cpu[1], 0, IPCC_DIR_RX, false), 0);
	cr_assert_eq(test_rd(l01, IPCC_C2CR), IPCC_CR_TXFIE);
	cr_assert_eq(ipcc_chan_irq_enable(cpu[1], 2, IPCC_DIR_TX, true), 0);
	cr_assert_eq(test_rd(l12, IPCC_C1CR), IPCC_CR_TXFIE);
}

Test(chan, channel_calls_drive_the_interrupt_lines, .init = chan_setup, .fini = chan_teardown)
{
	/* CPU 2 receives from CPU 1 on channel 3 (CPU 2 is processor 2 of (1, 2)). */
	cr_assert_eq(ipcc_chan_irq_enable(cpu[2], 1, IPCC_DIR_RX, true), 0);
	cr_assert_eq(ipcc_chan_unmask(cpu[2], 1, 3, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_chan_irq_enable(cpu[1], 2, IPCC_DIR_TX, true), 0);
	cr_assert_eq(ipcc_chan_unmask(cpu[1], 2, 3, IPCC_DIR_TX), 0);
	cr_assert_not(ipcc_regs_irq(l12, 2, IPCC_IRQ_RXO));
	cr_assert(ipcc_regs_irq(l12, 1, IPCC_IRQ_TXF));
	cr_assert_eq(ipcc_chan_set(cpu[1], 2, 3), 0);
	cr_assert(ipcc_regs_irq(l12, 2, IPCC_IRQ_RXO));
	cr_assert_not(ipcc_regs_irq(l12, 1, IPCC_IRQ_TXF));
	cr_assert_eq(ipcc_chan_clear(cpu[2], 1, 3), 0);
	cr_assert_not(ipcc_regs_irq(l12, 2, IPCC_IRQ_RXO));
	cr_assert(ipcc_regs_irq(l12, 1, IPCC_IRQ_TXF));
	cr_assert_not(ipcc_regs_irq(l01, 1, IPCC_IRQ_TXF), "another link");
	cr_assert_not(ipcc_regs_irq(l01, 2, IPCC_IRQ_TXF), "another link");
}

Test(chan, tx_buffer_of_one_cpu_is_the_rx_buffer_of_its_peer, .init = chan_setup,
     .fini = chan_teardown)
{
	/* The peer reads through a mapping of its own, as another process would. */
	struct ipcc_system *other;
	cr_assert_eq(ipcc_system_open(ipcc_system_name(sys), &other), 0);
	ipcc_cpu_detach(cpu[1]);
	cpu[1] = NULL;
	struct ipcc_cpu *peer = test_attach(other, 1);

	for (unsigned n = 0; n < CH_CHANNELS; n++) {
		for (unsigned d = 0; d < 2; d++) {
			enum ipcc_dir mine = d ? IPCC_DIR_RX : IPCC_DIR_TX;
			enum ipcc_dir theirs = d ? IPCC_DIR_TX : IPCC_DIR_RX;
			uint8_t *w, *r;
			size_t wsize = 0, rsize = 0;
			cr_assert_eq(ipcc_chan_buffer(cpu[0], 1, n, mine, (void **)&w, &wsize), 0);
			cr_assert_eq(ipcc_chan_buffer(peer, 0, n, theirs, (void **)&r, &rsize), 0);
			cr_assert_eq(wsize, CH_BUF);
			cr_assert_eq(rsize, CH_BUF);
			/* Write the whole buffer through one side, read it through the other. */
			for (size_t i = 0; i < CH_BUF; i++)
				w[i] = (uint8_t)(i * 7 + n * 31 + d);
			for (size_t i = 0; i < CH_BUF; i++)
				cr_assert_eq(r[i], (uint8_t)(i * 7 + n * 31 + d),
					     "ch%u dir %u byte %zu", n, d, i);
			/* And back the other way. */
			memset(r, 0xA5, CH_BUF);
			cr_assert_eq(w[0], 0xA5);
			cr_assert_eq(w[CH_BUF - 1], 0xA5);
		}
	}
	ipcc_cpu_detach(peer);
	ipcc_system_close(other);
}

Test(chan, every_channel_buffer_is_distinct, .init = chan_setup, .fini = chan_teardown)
{
	/* Links (0,1) and (1,2), both directions, every channel: 16 buffers, none overlapping. */
	struct {
		unsigned self, peer;
	} ends[] = { { 0, 1 }, { 1, 0 }, { 1, 2 }, { 2, 1 } };
	unsigned tag = 1;

	for (unsigned e = 0; e < 4; e++) {
		for (unsigned n = 0; n < CH_CHANNELS; n++, tag++) {
			uint8_t *b;
			size_t size;
			cr_assert_eq(ipcc_chan_buffer(cpu[ends[e].self], ends[e].peer, n,
						      IPCC_DIR_TX, (void **)&b, &size),
				     0);
			memset(b, (int)tag, size);
		}
	}
	tag = 1;
	for (unsigned e = 0; e < 4; e++) {
		for (unsigned n = 0; n < CH_CHANNELS; n++, tag++) {
			uint8_t *b;
			size_t size;
			cr_assert_eq(ipcc_chan_buffer(cpu[ends[e].peer], ends[e].self, n,
						      IPCC_DIR_RX, (void **)&b, &size),
				     0);
			for (size_t i = 0; i < size; i++)
				cr_assert_eq(b[i], tag, "%u->%u ch%u byte %zu overwritten",
					     ends[e].self, ends[e].peer, n, i);
		}
	}
	/* Buffers hold data only: the flags did not move. */
	cr_assert_eq(test_rd(l01, IPCC_C1TOC2SR), 0);
	cr_assert_eq(test_rd(l12, IPCC_C2TOC1SR), 0);
}

Test(chan, bad_channel_peer_or_direction_fail_with_einval, .init = chan_setup,
     .fini = chan_teardown)
{
	void *buf = &buf;
	size_t size = 12345;
	const unsigned bad_ch[] = { CH_CHANNELS, 16, UINT_MAX };
	const unsigned bad_peer[] = { 0 /* self */, 3, 64, UINT_MAX };

	for (unsigned i = 0; i < 3; i++) {
		unsigned ch = bad_ch[i];
		cr_assert_eq(ipcc_chan_status(cpu[0], 1, ch, IPCC_DIR_TX), -EINVAL, "ch %u", ch);
		cr_assert_eq(ipcc_chan_set(cpu[0], 1, ch), -EINVAL);
		cr_assert_eq(ipcc_chan_clear(cpu[0], 1, ch), -EINVAL);
		cr_assert_eq(ipcc_chan_mask(cpu[0], 1, ch, IPCC_DIR_RX), -EINVAL);
		cr_assert_eq(ipcc_chan_unmask(cpu[0], 1, ch, IPCC_DIR_RX), -EINVAL);
		cr_assert_eq(ipcc_chan_buffer(cpu[0], 1, ch, IPCC_DIR_TX, &buf, &size), -EINVAL);
	}
	for (unsigned i = 0; i < 4; i++) {
		unsigned p = bad_peer[i];
		cr_assert_eq(ipcc_chan_status(cpu[0], p, 0, IPCC_DIR_TX), -EINVAL, "peer %u", p);
		cr_assert_eq(ipcc_chan_set(cpu[0], p, 0), -EINVAL, "peer %u", p);
		cr_assert_eq(ipcc_chan_clear(cpu[0], p, 0), -EINVAL, "peer %u", p);
		cr_assert_eq(ipcc_chan_mask(cpu[0], p, 0, IPCC_DIR_TX), -EINVAL, "peer %u", p);
		cr_assert_eq(ipcc_chan_unmask(cpu[0], p, 0, IPCC_DIR_TX), -EINVAL, "peer %u", p);
		cr_assert_eq(ipcc_chan_irq_enable(cpu[0], p, IPCC_DIR_TX, true), -EINVAL);
		cr_assert_eq(ipcc_chan_buffer(cpu[0], p, 0, IPCC_DIR_TX, &buf, &size), -EINVAL);
	}
	const enum ipcc_dir bad_dir[] = { (enum ipcc_dir)2, (enum ipcc_dir) - 1 };
	for (unsigned i = 0; i < 2; i++) {
		enum ipcc_dir d = bad_dir[i];
		cr_assert_eq(ipcc_chan_status(cpu[0], 1, 0, d), -EINVAL);
		cr_assert_eq(ipcc_chan_mask(cpu[0], 1, 0, d), -EINVAL);
		cr_assert_eq(ipcc_chan_unmask(cpu[0], 1, 0, d), -EINVAL);
		cr_assert_eq(ipcc_chan_irq_enable(cpu[0], 1, d, true), -EINVAL);
		cr_assert_eq(ipcc_chan_buffer(cpu[0], 1, 0, d, &buf, &size), -EINVAL);
	}
	cr_assert_eq(ipcc_chan_status(NULL, 1, 0, IPCC_DIR_TX), -EINVAL);
	cr_assert_eq(ipcc_chan_set(NULL, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_chan_clear(NULL, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_chan_mask(NULL, 1, 0, IPCC_DIR_TX), -EINVAL);
	cr_assert_eq(ipcc_chan_unmask(NULL, 1, 0, IPCC_DIR_TX), -EINVAL);
	cr_assert_eq(ipcc_chan_irq_enable(NULL, 1, IPCC_DIR_TX, true), -EINVAL);
	cr_assert_eq(ipcc_chan_buffer(NULL, 1, 0, IPCC_DIR_TX, &buf, &size), -EINVAL);
	cr_assert_eq(ipcc_chan_buffer(cpu[0], 1, 0, IPCC_DIR_TX, NULL, &size), -EINVAL);
	cr_assert_eq(ipcc_chan_buffer(cpu[0], 1, 0, IPCC_DIR_TX, &buf, NULL), -EINVAL);
	cr_assert_eq(buf, &buf, "a failed call wrote its output");
	cr_assert_eq(size, 12345, "a failed call wrote its output");

	/* Nothing above may have touched a register. */
	expect_reset_block(l01, CH_CHANNELS, "link (0,1) after rejected calls");
	expect_reset_block(l12, CH_CHANNELS, "link (1,2) after rejected calls");
}

Test(chan, a_peer_without_a_link_fails_with_enoent, .init = chan_setup, .fini = chan_teardown)
{
	void *buf = &buf;
	size_t size = 1;

	for (unsigned d = 0; d < 2; d++) {
		unsigned self = d ? 2 : 0, peer = d ? 0 : 2;
		cr_assert_eq(ipcc_chan_status(cpu[self], peer, 0, IPCC_DIR_RX), -ENOENT);
		cr_assert_eq(ipcc_chan_set(cpu[self], peer, 0), -ENOENT);
		cr_assert_eq(ipcc_chan_clear(cpu[self], peer, 0), -ENOENT);
		cr_assert_eq(ipcc_chan_mask(cpu[self], peer, 0, IPCC_DIR_RX), -ENOENT);
		cr_assert_eq(ipcc_chan_unmask(cpu[self], peer, 0, IPCC_DIR_RX), -ENOENT);
		cr_assert_eq(ipcc_chan_irq_enable(cpu[self], peer, IPCC_DIR_RX, true), -ENOENT);
		cr_assert_eq(ipcc_chan_buffer(cpu[self], peer, 0, IPCC_DIR_RX, &buf, &size),
			     -ENOENT);
	}
	cr_assert_eq(buf, &buf);
	cr_assert_eq(size, 1);
}

/* ---- what a peer with write access may put in the registers' words ---- */

/* Map the system's object the way a peer without the library does; the link (0, 1). */
static struct ipcc_shm_link *raw_link(struct ipcc_system *s, void **ret_map, size_t *ret_size)
{
	struct ipcc_section_info info[16];
	int n = ipcc_system_sections(s, info, 16);
	cr_assert_gt(n, 0);
	uint64_t off = 0;
	for (int i = 0; i < n && i < 16; i++)
		if (!strcmp(info[i].name, "links"))
			off = info[i].offset;
	cr_assert_neq(off, 0, "no links section");
	int fd = shm_open(ipcc_system_name(s), O_RDWR, 0);
	cr_assert_geq(fd, 0, "shm_open: %s", strerror(errno));
	size_t size = (size_t)ipcc_system_size(s);
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	cr_assert_neq(map, MAP_FAILED);
	*ret_map = map;
	*ret_size = size;
	return (struct ipcc_shm_link *)((uint8_t *)map + off);
}

static void ignore_msg(struct ipcc_cpu *c, unsigned peer, unsigned ch, enum ipcc_dir dir, void *arg)
{
	(*(unsigned *)arg)++;
}

/*
 * A peer that writes bits above the channel count into the status words (and unmasks them in
 * the raw mask words) changes nothing anybody reads: the SRs read them as 0, the MRs as 1, no
 * line rises for them, and the channels that exist keep their own state.
 */
Test(regs, stray_status_bits_beyond_the_channel_count_read_as_zero, .fini = teardown)
{
	const unsigned counts[] = { 1, 6, 16 };
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		unsigned n = counts[k], handled = 0;
		uint32_t m = test_chmask(n);
		void *map;
		size_t size;

		link_setup(n);
		struct ipcc_cpu *c0 = test_attach(sys, 0), *c1 = test_attach(sys, 1);
		struct ipcc_shm_link *raw = raw_link(sys, &map, &size);
		for (unsigned ch = 0; ch < n; ch++)
			cr_assert_eq(
				ipcc_irq_activate(c0, 1, ch, IPCC_DIR_RX, ignore_msg, &handled), 0);
		test_wr(regs, CR(0), CR_BITS);
		test_wr(regs, CR(1), CR_BITS);
		/* Channel 0 of processor 1 really occupied; the rest is a peer's scribble. */
		test_wr(regs, SCR(0), IPCC_SCR_CHS(0));
		/* seq_cst, as the library's own register accesses (lib/ipcc/regs.c). */
		atomic_fetch_or_explicit(&raw->status[0].sr, ~m, memory_order_seq_cst);
		atomic_store_explicit(&raw->status[1].sr, ~m, memory_order_seq_cst);
		atomic_store_explicit(&raw->bank[0].mr, 0, memory_order_seq_cst); /* all unmasked */
		atomic_store_explicit(&raw->bank[1].mr, 0, memory_order_seq_cst);

		cr_assert_eq(test_rd(regs, SR(0)), IPCC_SR_CHF(0), "%u channels: C1TOC2SR", n);
		cr_assert_eq(test_rd(regs, SR(1)), 0, "%u channels: C2TOC1SR", n);
		cr_assert_eq(test_rd(regs, MR(0)) & ~(m | (m << 16)), ~(m | (m << 16)),
			     "%u channels: C1MR bits without a channel read 1", n);
		for (unsigned ch = 0; ch < n; ch++) {
			cr_assert_eq(ipcc_chan_status(c0, 1, ch, IPCC_DIR_TX), ch == 0, "ch %u",
				     ch);
			cr_assert_eq(ipcc_chan_status(c1, 0, ch, IPCC_DIR_RX), ch == 0, "ch %u",
				     ch);
			cr_assert_eq(ipcc_chan_status(c1, 0, ch, IPCC_DIR_TX), 0, "ch %u", ch);
			cr_assert_eq(ipcc_chan_status(c0, 1, ch, IPCC_DIR_RX), 0, "ch %u", ch);
		}
		/* No RX-occupied line for processor 1: only stray bits in its RX word. */
		cr_assert_not(ipcc_regs_irq(regs, 1, IPCC_IRQ_RXO), "%u channels", n);
		cr_assert(ipcc_regs_irq(regs, 2, IPCC_IRQ_RXO), "%u channels: channel 0", n);
		cr_assert_eq(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF), n > 1, "%u channels", n);
		/* CPU 0's dispatcher finds no message, and no channel beyond the count. */
		cr_assert_geq(ipcc_cpu_dispatch(c0), 0);
		cr_assert_eq(handled, 0, "%u channels: a handler ran for a stray bit", n);
		/* The real flag still clears as usual. */
		test_wr(regs, SCR(1), IPCC_SCR_CHC(0));
		cr_assert_eq(test_rd(regs, SR(0)), 0, "%u channels: after CHC", n);

		munmap(map, size);
		ipcc_cpu_detach(c0);
		ipcc_cpu_detach(c1);
		teardown();
		sys = NULL;
		regs = NULL;
	}
}
