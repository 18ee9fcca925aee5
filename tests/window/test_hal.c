/* SPDX-License-Identifier: MIT */
/*
 * Unmodified register-level code between two processes: each process is one processor of the
 * link, runs the HAL-style driver (hal-ipcc.c) on a register window and takes its RX occupied and
 * TX free interrupts from the interrupt helper, as firmware on the chip would. ST's simplex and
 * half-duplex procedures, 10^4 messages each, every payload and response checked in order.
 * The data goes through the channel buffers in the object (the shared SRAM of the chip).
 */
#include <pthread.h>
#include <signal.h>

#include "../proc/proc-test.h"
#include "hal-ipcc.h"

#include <ipcc/window.h>

#define MESSAGES   10000u
#define CHANNELS   2u
#define CH_SIMPLEX 0u
#define CH_HALF	   1u
#define BUF	   64u
#define WORDS	   (BUF / 4)

/* A payload that a wrong, stale or torn message cannot pass for: seq and words derived from it. */
static void payload(volatile uint32_t *buf, uint32_t seq, uint32_t salt)
{
	buf[0] = seq;
	for (unsigned i = 1; i < WORDS; i++)
		buf[i] = (seq * 2654435761u) ^ (i * 40503u) ^ salt;
}

static bool payload_ok(const volatile uint32_t *buf, uint32_t seq, uint32_t salt)
{
	if (buf[0] != seq)
		return false;
	for (unsigned i = 1; i < WORDS; i++)
		if (buf[i] != ((seq * 2654435761u) ^ (i * 40503u) ^ salt))
			return false;
	return true;
}

#define SALT_REQ  0x5A5A0000u
#define SALT_RESP 0x0000A5A5u

enum procedure { SIMPLEX, HALF_DUPLEX };

struct side {
	const char *name;
	unsigned cpu; /* 0: processor 1 (the sender), 1: processor 2 */
	enum procedure proc;
	struct pt_pipe up, go;
};

/* A process's firmware state: what its ISRs and its main flow share, as on a microcontroller. */
static struct hal_ipcc hal;
static volatile uint32_t *tx_buf[CHANNELS], *rx_buf[CHANNELS];
static volatile sig_atomic_t tx_free = 1, resp_ready, received, bad, bad_seq;

static void on_rx(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir)
{
	uint32_t seq = (uint32_t)received;
	if (!payload_ok(rx_buf[ch], seq, SALT_REQ)) {
		if (!bad)
			bad_seq = (sig_atomic_t)seq;
		bad = 1;
	}
	/* Half-duplex: the response goes into the same buffer before the clear. */
	if (ch == CH_HALF)
		payload(rx_buf[ch], seq, SALT_RESP);
	received = received + 1;
	hal_ipcc_notify_cpu(h, ch, HAL_IPCC_RX);
}

static void on_tx_free(struct hal_ipcc *h, unsigned ch, enum hal_ipcc_dir dir)
{
	if (ch == CH_SIMPLEX)
		tx_free = 1;
	else
		resp_ready = 1;
}

static void isr_rx(void *arg)
{
	hal_ipcc_rx_irq(arg);
}

static void isr_tx(void *arg)
{
	hal_ipcc_tx_irq(arg);
}

/* Wait for interrupt until cond holds, with the peer's death as the limit. */
#define WAIT_FOR(irq, cond)                                                                    \
	do {                                                                                   \
		while (!(cond)) {                                                              \
			int w_ = ipcc_window_wfi(irq, 10 * PT_SEC);                            \
			PEER_CHECK(w_ == 0, "wfi: %s (waiting for %s)", strerror(-w_), #cond); \
		}                                                                              \
	} while (0)

static int run_side(void *p)
{
	struct side *s = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(s->name, s->cpu, IPCC_WAIT_FUTEX, 0, &sys);
	struct ipcc_regs *regs;
	struct ipcc_window *win;
	struct ipcc_window_irq *irq;
	unsigned peer = 1 - s->cpu, proc = s->cpu + 1;
	int r;

	PEER_CHECK(ipcc_regs_open(sys, 0, 1, &regs) == 0, "regs_open");
	r = ipcc_window_init();
	PEER_CHECK(r == 0, "window_init: %s", strerror(-r));
	r = ipcc_window_open(regs, &win);
	PEER_CHECK(r == 0, "window_open: %s", strerror(-r));
	for (unsigned ch = 0; ch < CHANNELS; ch++) {
		void *b;
		size_t size;
		PEER_CHECK(ipcc_chan_buffer(cpu, peer, ch, IPCC_DIR_TX, &b, &size) == 0, "buf");
		tx_buf[ch] = b;
		PEER_CHECK(ipcc_chan_buffer(cpu, peer, ch, IPCC_DIR_RX, &b, &size) == 0, "buf");
		rx_buf[ch] = b;
	}

	/* The firmware from here on: registers through the window only. */
	hal_ipcc_init(&hal, ipcc_window_base(win), proc, CHANNELS);
	unsigned ch = s->proc == SIMPLEX ? CH_SIMPLEX : CH_HALF;
	if (s->cpu == 0)
		hal_ipcc_activate(&hal, ch, HAL_IPCC_TX, on_tx_free);
	else
		hal_ipcc_activate(&hal, ch, HAL_IPCC_RX, on_rx);
	r = ipcc_window_irq_start(regs, proc, SIGRTMIN, isr_rx, isr_tx, &hal, &irq);
	PEER_CHECK(r == 0, "irq_start: %s", strerror(-r));
	pt_post(s->up, 'r');
	PEER_CHECK(pt_await(s->go, 30 * PT_SEC) == 'g', "no go");

	if (s->cpu == 1) {
		WAIT_FOR(irq, received == MESSAGES || bad);
		PEER_CHECK(!bad, "message %d arrived wrong", (int)bad_seq);
	} else if (s->proc == SIMPLEX) {
		for (uint32_t i = 0; i < MESSAGES; i++) {
			/* Flow control: the TX free interrupt says the receiver freed it. */
			WAIT_FOR(irq, tx_free);
			PEER_CHECK(hal_ipcc_status(&hal, ch, HAL_IPCC_TX) == 0,
				   "free but occupied");
			tx_free = 0;
			payload(tx_buf[ch], i, SALT_REQ);
			hal_ipcc_notify_cpu(&hal, ch, HAL_IPCC_TX);
		}
		WAIT_FOR(irq, tx_free); /* the last one was taken */
	} else {
		for (uint32_t i = 0; i < MESSAGES; i++) {
			PEER_CHECK(hal_ipcc_status(&hal, ch, HAL_IPCC_TX) == 0, "response pending");
			resp_ready = 0;
			payload(tx_buf[ch], i, SALT_REQ);
			hal_ipcc_notify_cpu(&hal, ch, HAL_IPCC_TX);
			WAIT_FOR(irq, resp_ready);
			PEER_CHECK(payload_ok(tx_buf[ch], i, SALT_RESP), "response %u is wrong", i);
		}
	}
	pt_post(s->up, 'd');
	/* Stay until both are done: the peer's last accesses still need this side's registers. */
	PEER_CHECK(pt_await(s->go, 60 * PT_SEC) == 'x', "no exit");
	ipcc_window_irq_stop(irq);
	ipcc_window_close(win);
	ipcc_regs_close(regs);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static void run(enum procedure proc)
{
	struct ipcc_system *sys = pt_create(2, CHANNELS, BUF);
	const char *name = pt_names[pt_name_count - 1];
	struct side sides[2];
	pid_t pid[2];
	int64_t t0;

	for (unsigned i = 0; i < 2; i++) {
		sides[i] = (struct side){ .name = name,
					  .cpu = i,
					  .proc = proc,
					  .up = pt_pipe_new(),
					  .go = pt_pipe_new() };
		pid[i] = pt_fork(run_side, &sides[i], 100);
	}
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(pt_await(sides[i].up, 30 * PT_SEC), 'r', "side %u not ready%s", i,
			     pt_peer_note(pid[i]));
	t0 = pt_now_ns();
	for (unsigned i = 0; i < 2; i++)
		pt_post(sides[i].go, 'g');
	for (unsigned i = 0; i < 2; i++)
		cr_assert_eq(pt_await(sides[i].up, 90 * PT_SEC), 'd', "side %u did not finish%s", i,
			     pt_peer_note(pid[i]));
	fprintf(stderr, "%s: %u messages through windows in %.2f s (%.0f us each)\n",
		proc == SIMPLEX ? "simplex" : "half-duplex", MESSAGES,
		(double)(pt_now_ns() - t0) / PT_SEC,
		(double)(pt_now_ns() - t0) / 1000.0 / MESSAGES);
	for (unsigned i = 0; i < 2; i++)
		pt_post(sides[i].go, 'x');
	for (unsigned i = 0; i < 2; i++)
		pt_expect_exit0(pid[i], PT_LONG, sides[i].cpu ? "receiver" : "sender");
	ipcc_system_close(sys);
}

Test(window_hal, simplex_10k_messages_through_windows_and_interrupts, .fini = pt_cleanup,
     .timeout = 110)
{
	run(SIMPLEX);
}

Test(window_hal, half_duplex_10k_calls_through_windows_and_interrupts, .fini = pt_cleanup,
     .timeout = 110)
{
	run(HALF_DUPLEX);
}
