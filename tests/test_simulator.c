/* SPDX-License-Identifier: MIT */
/*
 * The register API a simulator wraps (include/ipcc/regs.h): the four lines in one call, line
 * errors that are visible, the instance reset, save and restore, the message length of the
 * channel API, and attach with IPCC_CPU_KEEP_REGS. Single process; the cross-process cases are
 * in tests/proc/test_simreg.c.
 *
 * Expected values come from the register spec (stm32-ipcc.md): the line equations, the reset
 * values, and what the hardware can hold.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <time.h>

#include <ipcc/layout.h>
#include <ipcc/notify.h>

#include "ipcc-test.h"

static struct ipcc_system *sys;
static struct ipcc_regs *regs;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void setup6(void)
{
	sys = test_system_geometry(2, 6, 64);
	regs = test_regs(sys, 0, 1);
}

static void teardown(void)
{
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
	test_cleanup();
}

/* Processor 1's MR, as its registers read. */
static uint32_t pt_mr(struct ipcc_regs *r)
{
	uint32_t v = 0;
	cr_assert_eq(ipcc_regs_read(r, IPCC_C1MR, &v), 0);
	return v;
}

static uint32_t lines(void)
{
	uint32_t m = 0xDEADBEEFu;
	int r = ipcc_regs_lines(regs, &m);
	cr_assert_eq(r, 0, "ipcc_regs_lines: %s", strerror(-r));
	return m;
}

/* The mask from the four single-line answers. */
static uint32_t lines_one_by_one(void)
{
	uint32_t m = 0;
	for (unsigned proc = 1; proc <= 2; proc++)
		for (int line = IPCC_IRQ_RXO; line <= IPCC_IRQ_TXF; line++) {
			int r = ipcc_regs_line(regs, proc, (enum ipcc_irq)line);
			cr_assert(r == 0 || r == 1, "line %u/%d: %d", proc, line, r);
			if (r)
				m |= IPCC_LINE_BIT(proc, line);
		}
	return m;
}

/* ---- the four lines at once ---- */

Test(simulator, line_bits_are_the_documented_ones)
{
	cr_assert_eq(IPCC_LINE_BIT(1, IPCC_IRQ_RXO), IPCC_LINE_C1_RXO);
	cr_assert_eq(IPCC_LINE_BIT(1, IPCC_IRQ_TXF), IPCC_LINE_C1_TXF);
	cr_assert_eq(IPCC_LINE_BIT(2, IPCC_IRQ_RXO), IPCC_LINE_C2_RXO);
	cr_assert_eq(IPCC_LINE_BIT(2, IPCC_IRQ_TXF), IPCC_LINE_C2_TXF);
	cr_assert_eq(IPCC_LINE_C1_RXO | IPCC_LINE_C1_TXF | IPCC_LINE_C2_RXO | IPCC_LINE_C2_TXF,
		     IPCC_LINES_ALL);
}

Test(simulator, lines_mask_follows_each_line_equation, .init = setup6, .fini = teardown)
{
	cr_assert_eq(lines(), 0, "reset: every line low");
	/* Processor 2 receives on channel 3: RXO2 needs RXOIE2, the flag and the unmask. */
	test_wr(regs, SCR(0), IPCC_SCR_CHS(3));
	cr_assert_eq(lines(), 0, "flag alone");
	test_wr(regs, CR(1), IPCC_CR_RXOIE);
	cr_assert_eq(lines(), 0, "enabled but masked");
	test_wr(regs, MR(1), ~IPCC_MR_CHOM(3));
	cr_assert_eq(lines(), IPCC_LINE_C2_RXO);
	/* Processor 1 waits for channel 3 free: TXF1 is low while occupied, high once cleared. */
	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	test_wr(regs, MR(0), ~IPCC_MR_CHFM(3));
	cr_assert_eq(lines(), IPCC_LINE_C2_RXO);
	test_wr(regs, SCR(1), IPCC_SCR_CHC(3));
	cr_assert_eq(lines(), IPCC_LINE_C1_TXF);
	/* Processor 2's TX free on a free channel, processor 1's RX on its own flag. */
	test_wr(regs, CR(1), CR_BITS);
	test_wr(regs, MR(1), ~IPCC_MR_CHFM(0));
	cr_assert_eq(lines(), IPCC_LINE_C1_TXF | IPCC_LINE_C2_TXF);
	test_wr(regs, CR(0), CR_BITS);
	test_wr(regs, MR(0), ~(IPCC_MR_CHFM(3) | IPCC_MR_CHOM(5)));
	test_wr(regs, SCR(1), IPCC_SCR_CHS(5));
	cr_assert_eq(lines(), IPCC_LINE_C1_RXO | IPCC_LINE_C1_TXF | IPCC_LINE_C2_TXF);
	test_wr(regs, MR(1), ~(IPCC_MR_CHFM(0) | IPCC_MR_CHOM(1)));
	test_wr(regs, SCR(0), IPCC_SCR_CHS(1));
	cr_assert_eq(lines(), IPCC_LINES_ALL);
	cr_assert_eq(lines(), lines_one_by_one());
}

Test(simulator, lines_mask_agrees_with_single_lines_over_random_states, .init = setup6,
     .fini = teardown)
{
	uint32_t x = 12345;
	for (unsigned i = 0; i < 2000; i++) {
		/* xorshift: reproducible states, every register combination reachable */
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		uint32_t off[] = { CR(0), MR(0), SCR(0), CR(1), MR(1), SCR(1) };
		test_wr(regs, off[x % 6], x >> 3);
		cr_assert_eq(lines(), lines_one_by_one(), "state %u", i);
	}
}

Test(simulator, bad_line_arguments_are_einval_not_low, .init = setup6, .fini = teardown)
{
	uint32_t m = 77;
	const unsigned bad_proc[] = { 0, 3, 16, UINT_MAX };
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(ipcc_regs_line(regs, bad_proc[i], IPCC_IRQ_RXO), -EINVAL);
		cr_assert_eq(ipcc_regs_line(regs, bad_proc[i], IPCC_IRQ_TXF), -EINVAL);
	}
	cr_assert_eq(ipcc_regs_line(regs, 1, (enum ipcc_irq)2), -EINVAL);
	cr_assert_eq(ipcc_regs_line(regs, 2, (enum ipcc_irq) - 1), -EINVAL);
	cr_assert_eq(ipcc_regs_line(NULL, 1, IPCC_IRQ_RXO), -EINVAL);
	cr_assert_eq(ipcc_regs_lines(NULL, &m), -EINVAL);
	cr_assert_eq(ipcc_regs_lines(regs, NULL), -EINVAL);
	cr_assert_eq(m, 77, "a failed call wrote its output");
	/* A good call of a low line is 0, of a high one 1; the old form says the same. */
	cr_assert_eq(ipcc_regs_line(regs, 1, IPCC_IRQ_RXO), 0);
	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	test_wr(regs, MR(0), ~IPCC_MR_CHFM(0));
	cr_assert_eq(ipcc_regs_line(regs, 1, IPCC_IRQ_TXF), 1);
	cr_assert(ipcc_regs_irq(regs, 1, IPCC_IRQ_TXF));
	cr_assert_not(ipcc_regs_irq(regs, 3, IPCC_IRQ_TXF), "the old form: an error reads low");
}

Test(simulator, lines_of_a_read_only_handle_are_readable, .init = setup6, .fini = teardown)
{
	struct ipcc_system *ro;
	struct ipcc_regs *rr;
	test_wr(regs, CR(1), IPCC_CR_RXOIE);
	test_wr(regs, MR(1), 0);
	test_wr(regs, SCR(0), IPCC_SCR_CHS(1));
	cr_assert_eq(ipcc_system_open_flags(ipcc_system_name(sys), IPCC_OPEN_READONLY, &ro), 0);
	cr_assert_eq(ipcc_regs_open(ro, 0, 1, &rr), 0);
	uint32_t m = 0;
	cr_assert_eq(ipcc_regs_lines(rr, &m), 0);
	cr_assert_eq(m, IPCC_LINE_C2_RXO);
	cr_assert_eq(ipcc_regs_reset(rr), -EROFS);
	ipcc_regs_close(rr);
	ipcc_system_close(ro);
}

/* ---- reset of the instance ---- */

Test(simulator, reset_puts_both_banks_and_both_status_words_to_reset_values, .init = setup6,
     .fini = teardown)
{
	for (unsigned p = 0; p < 2; p++) {
		test_wr(regs, CR(p), CR_BITS);
		test_wr(regs, MR(p), 0);
		test_wr(regs, SCR(p), IPCC_SCR_CHS(0) | IPCC_SCR_CHS(4));
	}
	cr_assert_neq(lines(), 0);
	cr_assert_eq(ipcc_regs_reset(regs), 0);
	for (unsigned p = 0; p < 2; p++) {
		cr_assert_eq(test_rd(regs, CR(p)), IPCC_CR_RESET, "C%uCR", p + 1);
		cr_assert_eq(test_rd(regs, MR(p)), IPCC_MR_RESET, "C%uMR", p + 1);
		cr_assert_eq(test_rd(regs, SR(p)), 0, "status of processor %u", p + 1);
	}
	cr_assert_eq(lines(), 0);
	cr_assert_eq(ipcc_regs_reset(NULL), -EINVAL);
}

Test(simulator, reset_frees_a_channel_for_an_attached_sender, .init = setup6, .fini = teardown)
{
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	cr_assert_eq(ipcc_send(c0, 1, 2, "x", 1, 0), 0);
	cr_assert_eq(ipcc_send(c0, 1, 2, "y", 1, 0), -EAGAIN, "occupied: nobody received");
	cr_assert_eq(ipcc_regs_reset(regs), 0);
	cr_assert_eq(ipcc_chan_status(c0, 1, 2, IPCC_DIR_TX), 0, "the reset freed it");
	cr_assert_eq(ipcc_send(c0, 1, 2, "z", 1, 0), 0);
	ipcc_cpu_detach(c0);
}

static struct ipcc_system *notify_system(void)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config ncfg;
	ipcc_config_init(&cfg);
	cfg.channels = 4;
	cfg.buffer_size = 64;
	ipcc_notify_config_init(&ncfg);
	cfg.notify = &ncfg; /* reserves channel 3 of link 0-1 */
	return test_system(&cfg);
}

/* Both CPUs through the interrupt-less path: a blocking receive drains the queue itself. */
static void notify_roundtrip(struct ipcc_cpu *a, struct ipcc_cpu *b, uint32_t value)
{
	uint32_t v = 0;
	unsigned from = 99;
	int r = ipcc_notify_send(a, ipcc_cpu_id(b), 5, value, 0);
	cr_assert_eq(r, 0, "notify send: %s", strerror(-r));
	r = ipcc_notify_recv(b, 5, &v, &from, 1000000000LL);
	cr_assert_eq(r, 0, "notify recv: %s", strerror(-r));
	cr_assert_eq(v, value);
	cr_assert_eq(from, ipcc_cpu_id(a));
}

Test(simulator, reset_leaves_a_service_channel_and_its_enable_alone, .fini = teardown)
{
	sys = notify_system();
	regs = test_regs(sys, 0, 1);
	cr_assert_eq(ipcc_system_channel_owner(sys, 0, 1, 3), (int)IPCC_SERVICE_NOTIFY);
	struct ipcc_cpu *c0 = test_attach(sys, 0), *c1 = test_attach(sys, 1);
	uint32_t mr1 = test_rd(regs, MR(1));
	cr_assert_eq(mr1 & IPCC_MR_CHOM(3), 0, "Notify unmasked its RX occupied");
	cr_assert(test_rd(regs, CR(1)) & IPCC_CR_RXOIE);
	/* A procedure message on channel 1 and a Notify doorbell left set on channel 3. */
	cr_assert_eq(ipcc_send(c0, 1, 1, "m", 1, 0), 0);
	cr_assert_eq(ipcc_notify_send(c0, 1, 5, 42, 0), 0);
	cr_assert(test_rd(regs, SR(0)) & IPCC_SR_CHF(3));

	cr_assert_eq(ipcc_regs_reset(regs), 0);
	cr_assert_eq(test_rd(regs, SR(0)), IPCC_SR_CHF(3), "only the service's flag stays");
	cr_assert_eq(test_rd(regs, MR(1)), IPCC_MR_RESET & ~IPCC_MR_CHOM(3),
		     "every mask bit reset but the service's");
	cr_assert_eq(test_rd(regs, CR(1)), IPCC_CR_RXOIE, "the enable the service needs");
	cr_assert_eq(test_rd(regs, CR(0)), IPCC_CR_RXOIE);
	/* Notify still works both ways, the value sent before the reset included. */
	uint32_t v = 0;
	cr_assert_eq(ipcc_notify_recv(c1, 5, &v, NULL, 1000000000LL), 0);
	cr_assert_eq(v, 42);
	notify_roundtrip(c0, c1, 7);
	notify_roundtrip(c1, c0, 8);
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
}

/* ---- save and restore ---- */

static struct ipcc_cpu *cpus[2];

static void setup_cpus(void)
{
	setup6();
	cpus[0] = test_attach(sys, 0);
	cpus[1] = test_attach(sys, 1);
}

static void teardown_cpus(void)
{
	ipcc_cpu_detach(cpus[1]);
	ipcc_cpu_detach(cpus[0]);
	teardown();
}

static void save(struct ipcc_regs *r, struct ipcc_regs_state *st)
{
	int e = ipcc_regs_save(r, st);
	cr_assert_eq(e, 0, "ipcc_regs_save: %s", strerror(-e));
}

Test(simulator, saved_state_has_its_header_registers_and_lengths, .init = setup_cpus,
     .fini = teardown_cpus)
{
	struct ipcc_regs_state st;
	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	test_wr(regs, MR(1), ~IPCC_MR_CHOM(2));
	cr_assert_eq(ipcc_send(cpus[0], 1, 2, "hello", 5, 0), 0);
	cr_assert_eq(ipcc_send(cpus[1], 0, 4, "ab", 2, 0), 0);
	memset(&st, 0xA5, sizeof(st));
	save(regs, &st);
	cr_assert_eq(sizeof(st), 256);
	cr_assert_eq(st.magic, IPCC_REGS_STATE_MAGIC);
	cr_assert_eq(st.version, IPCC_REGS_STATE_VERSION);
	cr_assert_eq(st.size, sizeof(st));
	cr_assert_eq(st.channels, 6);
	cr_assert_eq(st.flags, 0);
	for (unsigned p = 0; p < 2; p++) {
		cr_assert_eq(st.cr[p], test_rd(regs, CR(p)));
		cr_assert_eq(st.mr[p], test_rd(regs, MR(p)));
		cr_assert_eq(st.sr[p], test_rd(regs, SR(p)));
	}
	cr_assert_eq(st.sr[0], IPCC_SR_CHF(2));
	cr_assert_eq(st.sr[1], IPCC_SR_CHF(4));
	cr_assert_eq(st.len[0][2], 5, "processor 1 -> 2, channel 2");
	cr_assert_eq(st.len[1][4], 2, "processor 2 -> 1, channel 4");
	for (unsigned ch = 6; ch < 16; ch++)
		cr_assert(st.len[0][ch] == 0 && st.len[1][ch] == 0, "channel %u", ch);
	for (unsigned i = 0; i < sizeof(st.reserved) / sizeof(st.reserved[0]); i++)
		cr_assert_eq(st.reserved[i], 0);
	cr_assert_eq(ipcc_regs_save(NULL, &st), -EINVAL);
	cr_assert_eq(ipcc_regs_save(regs, NULL), -EINVAL);
}

Test(simulator, restore_brings_back_registers_lengths_and_a_receivable_message, .init = setup_cpus,
     .fini = teardown_cpus)
{
	struct ipcc_regs_state st, now;
	char buf[64];
	/* A message in flight on channel 1, an enable and a mask set by the firmware. */
	cr_assert_eq(ipcc_send(cpus[0], 1, 1, "snapshot", 8, 0), 0);
	test_wr(regs, CR(1), IPCC_CR_RXOIE);
	test_wr(regs, MR(1), ~IPCC_MR_CHOM(1));
	uint32_t before = lines();
	cr_assert_eq(before, IPCC_LINE_C2_RXO);
	save(regs, &st);
	/* The simulation goes on: received, reset, something else sent. */
	cr_assert_eq(ipcc_recv(cpus[1], 0, 1, buf, sizeof(buf), 0), 8);
	cr_assert_eq(ipcc_regs_reset(regs), 0);
	cr_assert_eq(ipcc_send(cpus[1], 0, 0, "other", 5, 0), 0);

	cr_assert_eq(ipcc_regs_restore(regs, &st), 0);
	save(regs, &now);
	cr_assert_eq(memcmp(&now, &st, sizeof(st)), 0, "save after restore is the saved state");
	cr_assert_eq(lines(), before);
	/* The buffer still holds the message (not part of the state): it is received again. */
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(ipcc_recv(cpus[1], 0, 1, buf, sizeof(buf), 0), 8);
	cr_assert_str_eq(buf, "snapshot");
	cr_assert_eq(ipcc_chan_status(cpus[1], 0, 0, IPCC_DIR_TX), 0, "the later send is undone");
}

Test(simulator, restore_into_another_link_of_the_same_shape, .fini = teardown)
{
	struct ipcc_system *other = test_system_geometry(3, 6, 64);
	struct ipcc_regs *r12 = test_regs(other, 1, 2), *r01;
	struct ipcc_regs_state st, got;
	sys = other;
	regs = NULL;
	test_wr(r12, CR(0), CR_BITS);
	test_wr(r12, MR(0), 0x00F0000Fu);
	test_wr(r12, SCR(1), IPCC_SCR_CHS(5));
	save(r12, &st);
	r01 = test_regs(other, 0, 1);
	cr_assert_eq(ipcc_regs_restore(r01, &st), 0);
	save(r01, &got);
	cr_assert_eq(memcmp(&st, &got, sizeof(st)), 0);
	ipcc_regs_close(r01);
	ipcc_regs_close(r12);
}

/* Ways to spoil a good state of a 6-channel, 64-byte link: a field, its new value, the error. */
#define FIELD(f) offsetof(struct ipcc_regs_state, f), sizeof(((struct ipcc_regs_state *)0)->f)
static const struct {
	const char *what;
	size_t offset, size;
	uint32_t value;
	int err;
} spoils[] = {
	{ "magic", FIELD(magic), 0x12345678u, -EPROTO },
	{ "version 0", FIELD(version), 0, -EPROTO },
	{ "version 2", FIELD(version), 2, -EPROTO },
	{ "size", FIELD(size), 128, -EPROTO },
	{ "channel count", FIELD(channels), 5, -EINVAL },
	{ "flags", FIELD(flags), 1, -EINVAL },
	{ "reserved word", FIELD(reserved[21]), 1, -EINVAL },
	{ "CR reserved bit", FIELD(cr[1]), 2, -EINVAL },
	{ "status bit beyond the channels", FIELD(sr[0]), IPCC_SR_CHF(6), -EINVAL },
	{ "RX mask cleared beyond the channels", FIELD(mr[0]), ~IPCC_MR_CHOM(6), -EINVAL },
	{ "TX mask cleared beyond the channels", FIELD(mr[1]), ~IPCC_MR_CHFM(15), -EINVAL },
	{ "length above the buffer", FIELD(len[0][2]), 65, -EINVAL },
	{ "length of a missing channel", FIELD(len[1][6]), 1, -EINVAL },
};

static void spoil(struct ipcc_regs_state *st, unsigned i)
{
	uint16_t v16 = (uint16_t)spoils[i].value;
	memcpy((uint8_t *)st + spoils[i].offset,
	       spoils[i].size == 2 ? (void *)&v16 : (void *)&spoils[i].value, spoils[i].size);
}

Test(simulator, restore_refuses_a_bad_state_and_changes_nothing, .init = setup6, .fini = teardown)
{
	struct ipcc_regs_state good, bad, now;
	test_wr(regs, CR(0), IPCC_CR_RXOIE);
	test_wr(regs, SCR(0), IPCC_SCR_CHS(2));
	save(regs, &good);
	test_wr(regs, SCR(1), IPCC_SCR_CHC(2));
	save(regs, &now);

	for (unsigned i = 0; i < sizeof(spoils) / sizeof(spoils[0]); i++) {
		struct ipcc_regs_state after;
		bad = good;
		spoil(&bad, i);
		cr_assert_eq(ipcc_regs_restore(regs, &bad), spoils[i].err, "%s", spoils[i].what);
		save(regs, &after);
		cr_assert_eq(memcmp(&after, &now, sizeof(now)), 0, "%s changed the link",
			     spoils[i].what);
	}
	bad = good;
	bad.len[0][2] = 64; /* the buffer size itself is a valid length */
	cr_assert_eq(ipcc_regs_restore(regs, &bad), 0);
	cr_assert_eq(ipcc_regs_restore(regs, NULL), -EINVAL);
	cr_assert_eq(ipcc_regs_restore(NULL, &good), -EINVAL);
}

Test(simulator, restore_on_a_read_only_handle_is_erofs, .init = setup6, .fini = teardown)
{
	struct ipcc_system *ro;
	struct ipcc_regs *rr;
	struct ipcc_regs_state st;
	save(regs, &st);
	cr_assert_eq(ipcc_system_open_flags(ipcc_system_name(sys), IPCC_OPEN_READONLY, &ro), 0);
	cr_assert_eq(ipcc_regs_open(ro, 0, 1, &rr), 0);
	cr_assert_eq(ipcc_regs_save(rr, &st), 0, "a read-only observer may snapshot");
	cr_assert_eq(ipcc_regs_restore(rr, &st), -EROFS);
	ipcc_regs_close(rr);
	ipcc_system_close(ro);
}

Test(simulator, restore_keeps_a_service_channel_as_it_is, .fini = teardown)
{
	struct ipcc_regs_state st;
	sys = notify_system();
	regs = test_regs(sys, 0, 1);
	/* A state saved before anybody attached: Notify's channel masked, nothing enabled. */
	save(regs, &st);
	struct ipcc_cpu *c0 = test_attach(sys, 0), *c1 = test_attach(sys, 1);
	cr_assert_eq(ipcc_notify_send(c0, 1, 5, 1, 0), 0); /* its doorbell flag now set */
	cr_assert_eq(ipcc_regs_restore(regs, &st), 0);
	cr_assert_eq(test_rd(regs, SR(0)), IPCC_SR_CHF(3), "the service's flag kept");
	cr_assert_eq(test_rd(regs, MR(1)) & IPCC_MR_CHOM(3), 0, "its unmask kept");
	cr_assert(test_rd(regs, CR(1)) & IPCC_CR_RXOIE, "its enable kept");
	uint32_t v = 0;
	cr_assert_eq(ipcc_notify_recv(c1, 5, &v, NULL, 1000000000LL), 0);
	cr_assert_eq(v, 1);
	notify_roundtrip(c1, c0, 2);
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
}

/* ---- the message length of the channel API ---- */

Test(simulator, a_register_level_message_reaches_recv_with_its_length, .init = setup_cpus,
     .fini = teardown_cpus)
{
	void *buf;
	size_t size;
	char got[64];
	cr_assert_eq(ipcc_chan_buffer(cpus[0], 1, 2, IPCC_DIR_TX, &buf, &size), 0);
	memcpy(buf, "by hand", 7);
	cr_assert_eq(ipcc_chan_set_len(cpus[0], 1, 2, IPCC_DIR_TX, 7), 0);
	cr_assert_eq(ipcc_chan_set(cpus[0], 1, 2), 0);
	cr_assert_eq(ipcc_chan_len(cpus[1], 0, 2, IPCC_DIR_RX), 7, "the receiver's view");
	cr_assert_eq(ipcc_chan_len(cpus[0], 1, 2, IPCC_DIR_TX), 7, "the sender's view");
	cr_assert_eq(ipcc_recv(cpus[1], 0, 2, got, sizeof(got), 0), 7);
	cr_assert_eq(memcmp(got, "by hand", 7), 0);
}

Test(simulator, a_procedure_message_has_its_length_for_the_channel_api, .init = setup_cpus,
     .fini = teardown_cpus)
{
	void *buf;
	size_t size;
	cr_assert_eq(ipcc_send(cpus[1], 0, 4, "procedure", 9, 0), 0);
	cr_assert_eq(ipcc_chan_status(cpus[0], 1, 4, IPCC_DIR_RX), 1);
	cr_assert_eq(ipcc_chan_len(cpus[0], 1, 4, IPCC_DIR_RX), 9);
	cr_assert_eq(ipcc_chan_buffer(cpus[0], 1, 4, IPCC_DIR_RX, &buf, &size), 0);
	cr_assert_eq(memcmp(buf, "procedure", 9), 0);
	cr_assert_eq(ipcc_chan_clear(cpus[0], 1, 4), 0);
	cr_assert_eq(ipcc_chan_status(cpus[1], 0, 4, IPCC_DIR_TX), 0);
}

Test(simulator, a_half_duplex_response_by_hand_reaches_call, .init = setup_cpus,
     .fini = teardown_cpus)
{
	void *buf;
	size_t size;
	char resp[64];
	/* The request, by the procedures; a zero-timeout call gives up, its response comes late. */
	cr_assert_eq(ipcc_send(cpus[0], 1, 3, "req", 3, 0), 0);
	cr_assert_eq(ipcc_chan_len(cpus[1], 0, 3, IPCC_DIR_RX), 3);
	cr_assert_eq(ipcc_chan_buffer(cpus[1], 0, 3, IPCC_DIR_RX, &buf, &size), 0);
	memcpy(buf, "response", 8);
	cr_assert_eq(ipcc_chan_set_len(cpus[1], 0, 3, IPCC_DIR_RX, 8), 0);
	cr_assert_eq(ipcc_chan_clear(cpus[1], 0, 3), 0);
	/* The caller reads the response where it sent the request. */
	cr_assert_eq(ipcc_chan_status(cpus[0], 1, 3, IPCC_DIR_TX), 0);
	cr_assert_eq(ipcc_chan_len(cpus[0], 1, 3, IPCC_DIR_TX), 8);
	cr_assert_eq(ipcc_chan_buffer(cpus[0], 1, 3, IPCC_DIR_TX, &buf, &size), 0);
	memcpy(resp, buf, 8);
	cr_assert_eq(memcmp(resp, "response", 8), 0);
}

Test(simulator, length_errors, .init = setup_cpus, .fini = teardown_cpus)
{
	cr_assert_eq(ipcc_chan_set_len(cpus[0], 1, 0, IPCC_DIR_TX, 65), -EINVAL, "above 64 B");
	cr_assert_eq(ipcc_chan_set_len(cpus[0], 1, 0, IPCC_DIR_TX, 64), 0);
	cr_assert_eq(ipcc_chan_set_len(cpus[0], 1, 6, IPCC_DIR_TX, 1), -EINVAL, "channel");
	cr_assert_eq(ipcc_chan_set_len(cpus[0], 0, 0, IPCC_DIR_TX, 1), -EINVAL, "self");
	cr_assert_eq(ipcc_chan_set_len(cpus[0], 1, 0, (enum ipcc_dir)2, 1), -EINVAL, "dir");
	cr_assert_eq(ipcc_chan_set_len(NULL, 1, 0, IPCC_DIR_TX, 1), -EINVAL);
	cr_assert_eq(ipcc_chan_len(cpus[0], 1, 6, IPCC_DIR_RX), -EINVAL);
	cr_assert_eq(ipcc_chan_len(cpus[0], 1, 0, (enum ipcc_dir)2), -EINVAL);
	cr_assert_eq(ipcc_chan_len(NULL, 1, 0, IPCC_DIR_RX), -EINVAL);
}

Test(simulator, a_garbage_length_from_the_peer_is_ebadmsg, .init = setup_cpus,
     .fini = teardown_cpus)
{
	/* A restore or ipcc_chan_set_len cannot store one; a raw write of the object can. */
	void *buf;
	size_t size;
	cr_assert_eq(ipcc_chan_buffer(cpus[0], 1, 1, IPCC_DIR_TX, &buf, &size), 0);
	/* The length word is the slot head right before the data (layout.h). */
	uint32_t garbage = 1000;
	memcpy((uint8_t *)buf - sizeof(struct ipcc_shm_slot), &garbage, 4);
	cr_assert_eq(ipcc_chan_len(cpus[1], 0, 1, IPCC_DIR_RX), -EBADMSG);
}

Test(simulator, lengths_of_a_reserved_channel_are_refused, .fini = teardown)
{
	sys = notify_system();
	regs = NULL;
	struct ipcc_cpu *c0 = test_attach(sys, 0);
	cr_assert_eq(ipcc_chan_set_len(c0, 1, 3, IPCC_DIR_TX, 1), -EACCES);
	cr_assert_eq(ipcc_chan_len(c0, 1, 3, IPCC_DIR_RX), -EACCES);
	ipcc_cpu_detach(c0);
}

/* ---- attach with the registers kept ---- */

static struct ipcc_cpu *attach_flags(unsigned id, uint32_t flags)
{
	struct ipcc_cpu_options o;
	struct ipcc_cpu *c = NULL;
	ipcc_cpu_options_init(&o);
	o.flags = flags;
	int r = ipcc_cpu_attach(sys, id, &o, &c);
	cr_assert_eq(r, 0, "attach of CPU %u: %s", id, strerror(-r));
	return c;
}

Test(simulator, attach_resets_only_its_own_bank, .init = setup6, .fini = teardown)
{
	for (unsigned p = 0; p < 2; p++) {
		test_wr(regs, CR(p), CR_BITS);
		test_wr(regs, MR(p), 0x00030003u);
	}
	test_wr(regs, SCR(0), IPCC_SCR_CHS(1));
	struct ipcc_cpu *c1 = attach_flags(1, 0);
	cr_assert_eq(test_rd(regs, CR(1)), IPCC_CR_RESET);
	cr_assert_eq(test_rd(regs, MR(1)), IPCC_MR_RESET);
	cr_assert_eq(test_rd(regs, CR(0)), CR_BITS, "the other processor's bank stays");
	cr_assert_eq(test_rd(regs, MR(0)), 0x00030003u | 0xFFC0FFC0u);
	cr_assert_eq(test_rd(regs, SR(0)), IPCC_SR_CHF(1), "the flags stay");
	ipcc_cpu_detach(c1);
}

Test(simulator, attach_with_keep_regs_leaves_the_bank_as_it_is, .init = setup6, .fini = teardown)
{
	test_wr(regs, CR(1), IPCC_CR_RXOIE);
	test_wr(regs, MR(1), ~IPCC_MR_CHOM(2));
	test_wr(regs, SCR(0), IPCC_SCR_CHS(2));
	uint32_t before = lines();
	struct ipcc_cpu *c1 = attach_flags(1, IPCC_CPU_KEEP_REGS);
	cr_assert_eq(test_rd(regs, CR(1)), IPCC_CR_RXOIE);
	cr_assert_eq(test_rd(regs, MR(1)), ~IPCC_MR_CHOM(2));
	cr_assert_eq(lines(), before);
	cr_assert_eq(before, IPCC_LINE_C2_RXO);
	/* A detach and a keep-regs re-attach (a core restart) find it as it was left. */
	ipcc_cpu_detach(c1);
	c1 = attach_flags(1, IPCC_CPU_KEEP_REGS | IPCC_CPU_IRQ_THREAD);
	cr_assert_eq(test_rd(regs, MR(1)), ~IPCC_MR_CHOM(2));
	ipcc_cpu_detach(c1);
	c1 = attach_flags(1, 0);
	cr_assert_eq(test_rd(regs, MR(1)), IPCC_MR_RESET, "a plain attach still resets");
	ipcc_cpu_detach(c1);
}

Test(simulator, unknown_attach_flags_are_still_refused, .init = setup6, .fini = teardown)
{
	struct ipcc_cpu_options o;
	struct ipcc_cpu *c = NULL;
	ipcc_cpu_options_init(&o);
	o.flags = 0x4;
	cr_assert_eq(ipcc_cpu_attach(sys, 0, &o, &c), -EINVAL);
	cr_assert_null(c);
}

Test(simulator, notify_works_after_a_keep_regs_attach_in_both_orders, .fini = teardown)
{
	sys = notify_system();
	regs = test_regs(sys, 0, 1);
	/* Fresh object: a keep-regs attach finds reset banks, Notify sets its channel up. */
	struct ipcc_cpu *c0 = attach_flags(0, IPCC_CPU_KEEP_REGS);
	struct ipcc_cpu *c1 = attach_flags(1, 0);
	notify_roundtrip(c0, c1, 11);
	notify_roundtrip(c1, c0, 12);
	/* CPU 1 restarts keeping its bank; then CPU 0 does, a value queued meanwhile. */
	ipcc_cpu_detach(c1);
	cr_assert_eq(ipcc_notify_send(c0, 1, 5, 13, 0), 0);
	c1 = attach_flags(1, IPCC_CPU_KEEP_REGS);
	uint32_t v = 0;
	cr_assert_eq(ipcc_notify_recv(c1, 5, &v, NULL, 1000000000LL), 0);
	cr_assert_eq(v, 13);
	ipcc_cpu_detach(c0);
	c0 = attach_flags(0, IPCC_CPU_KEEP_REGS | IPCC_CPU_IRQ_THREAD);
	notify_roundtrip(c1, c0, 14);
	notify_roundtrip(c0, c1, 15);
	cr_assert_eq(test_rd(regs, MR(1)) & IPCC_MR_CHOM(3), 0);
	ipcc_cpu_detach(c1);
	ipcc_cpu_detach(c0);
}

/* ---- line changes pushed (ipcc_regs_on_lines, ipcc_regs_wait_lines) ---- */

struct line_log {
	unsigned n;
	uint32_t old_mask[16], new_mask[16];
	struct ipcc_regs *regs[16];
};

static void log_lines(struct ipcc_regs *r, uint32_t old_mask, uint32_t new_mask, void *arg)
{
	struct line_log *log = arg;
	cr_assert_lt(log->n, 16u, "more line changes than the test made");
	log->regs[log->n] = r;
	log->old_mask[log->n] = old_mask;
	log->new_mask[log->n++] = new_mask;
}

static void expect_change(const struct line_log *log, unsigned i, uint32_t from, uint32_t to)
{
	cr_assert_gt(log->n, i, "change %u was not reported (%u reported)", i, log->n);
	cr_assert_eq(log->regs[i], regs, "change %u: another handle", i);
	cr_assert_eq(log->old_mask[i], from, "change %u: old mask %#x, expected %#x", i,
		     log->old_mask[i], from);
	cr_assert_eq(log->new_mask[i], to, "change %u: new mask %#x, expected %#x", i,
		     log->new_mask[i], to);
}

Test(simulator, line_changes_through_this_process_call_the_callback_with_both_masks,
     .init = setup_cpus, .fini = teardown_cpus)
{
	struct line_log log = { 0 };
	cr_assert_eq(ipcc_regs_on_lines(regs, log_lines, &log), 0);
	/* Register writes that change nothing visible on the lines: no call. */
	test_wr(regs, SCR(0), IPCC_SCR_CHS(3));
	test_wr(regs, CR(1), IPCC_CR_RXOIE);
	cr_assert_eq(log.n, 0u, "%u calls for writes that left every line low", log.n);
	/* The unmask raises RXO2. */
	test_wr(regs, MR(1), ~IPCC_MR_CHOM(3));
	expect_change(&log, 0, 0, IPCC_LINE_C2_RXO);
	/* The procedure API moves the same lines: CPU 1 receives and clears the flag. */
	uint8_t buf[64];
	cr_assert_geq(ipcc_recv(cpus[1], 0, 3, buf, sizeof(buf), 0), 0);
	expect_change(&log, 1, IPCC_LINE_C2_RXO, 0);
	/* A reset is a write too; an unchanged mask stays silent. */
	unsigned before = log.n;
	cr_assert_eq(ipcc_regs_reset(regs), 0);
	cr_assert_eq(log.n, before, "a reset of a quiet link reported a change");
	/* Removed: silent again. */
	cr_assert_eq(ipcc_regs_on_lines(regs, NULL, NULL), 0);
	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	test_wr(regs, MR(0), 0);
	cr_assert_eq(log.n, before, "a removed callback was called");
	cr_assert_eq(lines(), IPCC_LINE_C1_TXF);
	cr_assert_eq(ipcc_regs_on_lines(NULL, log_lines, &log), -EINVAL);
}

Test(simulator, wait_lines_returns_at_once_on_a_change_and_times_out_on_none, .init = setup6,
     .fini = teardown)
{
	uint32_t m = 0xDEADBEEFu;
	cr_assert_eq(ipcc_regs_wait_lines(regs, 0, &m, 0), -EAGAIN);
	cr_assert_eq(m, 0xDEADBEEFu, "a failed wait wrote the mask");
	int64_t t0 = now_ns();
	cr_assert_eq(ipcc_regs_wait_lines(regs, 0, &m, 30 * 1000000LL), -ETIMEDOUT);
	int64_t took = now_ns() - t0;
	cr_assert_geq(took, 30 * 1000000LL, "a 30 ms wait returned after %lld ns", (long long)took);
	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	test_wr(regs, MR(0), 0);
	cr_assert_eq(ipcc_regs_wait_lines(regs, 0, &m, -1), 0, "the mask differs already");
	cr_assert_eq(m, IPCC_LINE_C1_TXF);
	cr_assert_eq(ipcc_regs_wait_lines(regs, m, NULL, 0), -EINVAL);
	cr_assert_eq(ipcc_regs_wait_lines(NULL, 0, &m, 0), -EINVAL);
}

Test(simulator, wait_lines_on_a_read_only_handle_is_erofs, .init = setup6, .fini = teardown)
{
	struct ipcc_system *ro;
	struct ipcc_regs *rr;
	uint32_t m;
	cr_assert_eq(ipcc_system_open_flags(ipcc_system_name(sys), IPCC_OPEN_READONLY, &ro), 0);
	cr_assert_eq(ipcc_regs_open(ro, 0, 1, &rr), 0);
	cr_assert_eq(ipcc_regs_wait_lines(rr, 0, &m, 0), -EROFS);
	ipcc_regs_close(rr);
	ipcc_system_close(ro);
}

/*
 * The procedures skip a mask or unmask that changes nothing (lib/ipcc/regs.c:
 * ipcc_link_update_mr), but only while nobody watches: a watcher still sees that write.
 */
Test(simulator, a_watching_handle_sees_an_unmask_that_changes_nothing, .init = setup6,
     .fini = teardown)
{
	struct ipcc_cpu *cpu = test_attach(sys, 0);
	uint32_t seq = 0, before;

	cr_assert_eq(ipcc_chan_unmask(cpu, 1, 2, IPCC_DIR_RX), 0); /* unwatched: written */
	cr_assert_eq(pt_mr(regs) & IPCC_MR_CHOM(2), 0u, "channel 2 unmasked");
	cr_assert_eq(ipcc_chan_unmask(cpu, 1, 2, IPCC_DIR_RX), 0); /* unwatched, no change */
	cr_assert_eq(pt_mr(regs) & IPCC_MR_CHOM(2), 0u, "still unmasked");
	cr_assert_eq(ipcc_regs_watch(regs, true), 0);
	(void)ipcc_regs_wait_write(regs, &seq, 0); /* learn the current sequence */
	before = seq;
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), -EAGAIN, "no write since");
	cr_assert_eq(ipcc_chan_unmask(cpu, 1, 2, IPCC_DIR_RX), 0); /* watched, no change */
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), 0, "the watcher saw the write");
	cr_assert_neq(seq, before);
	cr_assert_eq(ipcc_chan_mask(cpu, 1, 2, IPCC_DIR_RX), 0);
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), 0);
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), -EAGAIN, "no write since");
	before = seq;
	cr_assert_eq(ipcc_chan_mask(cpu, 1, 2, IPCC_DIR_RX), 0); /* watched, no change */
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), 0, "the watcher saw the write");
	cr_assert_neq(seq, before);
	cr_assert_neq(pt_mr(regs) & IPCC_MR_CHOM(2), 0u, "channel 2 masked");
	cr_assert_eq(ipcc_regs_watch(regs, false), 0);
	ipcc_cpu_detach(cpu);
}

Test(simulator, a_watching_handle_sees_every_write_even_one_that_changes_no_line, .init = setup6,
     .fini = teardown)
{
	uint32_t seq = 0, before;
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), -EINVAL, "not watching yet");
	cr_assert_eq(ipcc_regs_watch(regs, true), 0);
	cr_assert_eq(ipcc_regs_watch(regs, true), -EALREADY);
	(void)ipcc_regs_wait_write(regs, &seq, 0); /* learn the current sequence */
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), -EAGAIN, "no write since");
	before = seq;
	test_wr(regs, MR(0), IPCC_MR_RESET); /* the reset value again: no line moves */
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), 0, "a write that changed nothing");
	cr_assert_neq(seq, before);
	/* A change and its undoing before the wait: the lines are as they were, the writes not. */
	before = seq;
	test_wr(regs, CR(0), IPCC_CR_TXFIE);
	test_wr(regs, MR(0), 0);
	test_wr(regs, MR(0), IPCC_MR_RESET);
	cr_assert_eq(lines(), 0u);
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, -1), 0);
	cr_assert_neq(seq, before);
	int64_t t0 = now_ns();
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 20 * 1000000LL), -ETIMEDOUT);
	cr_assert_geq(now_ns() - t0, 20 * 1000000LL);
	cr_assert_eq(ipcc_regs_watch(regs, false), 0);
	cr_assert_eq(ipcc_regs_wait_write(regs, &seq, 0), -EINVAL, "no longer watching");
	cr_assert_eq(ipcc_regs_watch(NULL, true), -EINVAL);
}
