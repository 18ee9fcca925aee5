/* SPDX-License-Identifier: MIT */
/*
 * Register windows (lib/window): plain loads and stores through a struct-of-registers pointer
 * act on the emulated IPCC exactly as ipcc_regs_read/ipcc_regs_write do, faults that are not a
 * window's still reach the application's handler, and the interrupt helper runs handlers on
 * the application's thread while their line is high, honouring disable and wait-for-interrupt.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "../ipcc-test.h"

#include <ipcc/window.h>

/* The firmware's view: the RM's register block, one volatile word per register. */
struct block {
	volatile uint32_t C1CR, C1MR, C1SCR, C1TOC2SR;
	volatile uint32_t C2CR, C2MR, C2SCR, C2TOC1SR;
	volatile uint32_t reserved[(IPCC_HWCFGR - 0x20) / 4];
	volatile uint32_t HWCFGR, VERR, IPIDR, SIDR;
};
_Static_assert(sizeof(struct block) == IPCC_REGS_SIZE, "the RM's block is 1 KiB");

struct fixture {
	struct ipcc_system *sys;
	struct ipcc_regs *regs;
	struct ipcc_window *win;
	struct block *ipcc;
};

static struct fixture setup(void)
{
	struct fixture f;
	f.sys = test_system_geometry(2, 6, 64);
	f.regs = test_regs(f.sys, 0, 1);
	cr_assert_eq(ipcc_window_init(), 0);
	int r = ipcc_window_open(f.regs, &f.win);
	cr_assert_eq(r, 0, "ipcc_window_open: %s", strerror(-r));
	f.ipcc = (struct block *)ipcc_window_base(f.win);
	cr_assert_not_null(f.ipcc);
	return f;
}

static void teardown(struct fixture *f)
{
	ipcc_window_close(f->win);
	ipcc_regs_close(f->regs);
	ipcc_system_close(f->sys);
}

Test(window, loads_and_stores_act_on_the_emulated_registers, .fini = test_cleanup)
{
	struct fixture f = setup();

	cr_assert_eq(f.ipcc->C1MR, IPCC_MR_RESET, "a load reads the register");
	f.ipcc->C1CR = IPCC_CR_RXOIE | IPCC_CR_TXFIE;
	cr_assert_eq(test_rd(f.regs, IPCC_C1CR), IPCC_CR_RXOIE | IPCC_CR_TXFIE);
	f.ipcc->C2MR = ~IPCC_MR_CHOM(3);
	cr_assert_eq(test_rd(f.regs, IPCC_C2MR), 0xFFFFFFFFu & ~IPCC_MR_CHOM(3));
	test_wr(f.regs, IPCC_C1MR, ~(IPCC_MR_CHOM(1) | IPCC_MR_CHFM(5)));
	cr_assert_eq(f.ipcc->C1MR, ~(IPCC_MR_CHOM(1) | IPCC_MR_CHFM(5)),
		     "a load sees a write made through the API");
	cr_assert_eq(f.ipcc->HWCFGR & IPCC_HWCFGR_CHANNELS_MASK, 6u);
	cr_assert_eq(f.ipcc->VERR, IPCC_VERR_VALUE);
	cr_assert_eq(f.ipcc->IPIDR, IPCC_IPIDR_VALUE);
	cr_assert_eq(f.ipcc->SIDR, IPCC_SIDR_VALUE);
	teardown(&f);
}

Test(window, scr_stores_set_and_clear_flags_once_and_read_zero, .fini = test_cleanup)
{
	struct fixture f = setup();

	f.ipcc->C1SCR = IPCC_SCR_CHS(0);
	cr_assert_eq(test_rd(f.regs, IPCC_C1TOC2SR), IPCC_SR_CHF(0));
	cr_assert_eq(f.ipcc->C1SCR, 0u, "SCR reads 0");
	/* The HAL's read-modify-write: reads 0, so only channel 2 is set. */
	f.ipcc->C1SCR |= IPCC_SCR_CHS(2);
	cr_assert_eq(f.ipcc->C1TOC2SR, IPCC_SR_CHF(0) | IPCC_SR_CHF(2));
	/* Processor 2 frees channel 0: a store to its own SCR. */
	f.ipcc->C2SCR = IPCC_SCR_CHC(0);
	cr_assert_eq(test_rd(f.regs, IPCC_C1TOC2SR), IPCC_SR_CHF(2));
	/* A store of the same value twice is two writes: the flag set again after a clear. */
	f.ipcc->C2SCR = IPCC_SCR_CHC(2);
	f.ipcc->C1SCR = IPCC_SCR_CHS(2);
	f.ipcc->C2SCR = IPCC_SCR_CHC(2);
	cr_assert_eq(test_rd(f.regs, IPCC_C1TOC2SR), 0u);
	f.ipcc->C1SCR = IPCC_SCR_CHS(2);
	cr_assert_eq(test_rd(f.regs, IPCC_C1TOC2SR), IPCC_SR_CHF(2));
	teardown(&f);
}

Test(window, stores_to_read_only_and_reserved_words_are_ignored, .fini = test_cleanup)
{
	struct fixture f = setup();

	f.ipcc->C1TOC2SR = 0x3Fu;
	cr_assert_eq(test_rd(f.regs, IPCC_C1TOC2SR), 0u, "SR is read-only");
	cr_assert_eq(f.ipcc->C1TOC2SR, 0u);
	f.ipcc->reserved[5] = 0x12345678u;
	cr_assert_eq(f.ipcc->reserved[5], 0u, "a reserved word reads 0");
	f.ipcc->VERR = 0;
	cr_assert_eq(f.ipcc->VERR, IPCC_VERR_VALUE);
	/* Beyond the block, in the rest of the page: reads 0 as well. */
	volatile uint32_t *beyond = (volatile uint32_t *)f.ipcc + IPCC_REGS_SIZE / 4 + 7;
	*beyond = 0xFFu;
	cr_assert_eq(*beyond, 0u);
	teardown(&f);
}

Test(window, a_line_follows_a_store_through_the_window, .fini = test_cleanup)
{
	struct fixture f = setup();

	f.ipcc->C2CR = IPCC_CR_RXOIE;
	f.ipcc->C2MR = ~IPCC_MR_CHOM(1);
	cr_assert_eq(ipcc_regs_line(f.regs, 2, IPCC_IRQ_RXO), 0);
	f.ipcc->C1SCR = IPCC_SCR_CHS(1);
	cr_assert_eq(ipcc_regs_line(f.regs, 2, IPCC_IRQ_RXO), 1);
	/* The firmware's own expression: pending = ~mask & peer status. */
	uint32_t irq = ~f.ipcc->C2MR & f.ipcc->C1TOC2SR;
	cr_assert_eq(irq, IPCC_SR_CHF(1));
	teardown(&f);
}

Test(window, windows_of_two_links_and_arguments, .fini = test_cleanup)
{
	struct ipcc_system *sys = test_system_geometry(3, 4, 64);
	struct ipcc_regs *r01 = test_regs(sys, 0, 1), *r12 = test_regs(sys, 1, 2);
	struct ipcc_window *a, *b, *untouched = (struct ipcc_window *)&sys;
	cr_assert_eq(ipcc_window_init(), 0);
	cr_assert_eq(ipcc_window_init(), 0, "a second init does nothing");
	cr_assert_eq(ipcc_window_open(NULL, &a), -EINVAL);
	cr_assert_eq(ipcc_window_open(r01, NULL), -EINVAL);
	cr_assert_eq(ipcc_window_open(r01, &a), 0);
	cr_assert_eq(ipcc_window_open(r12, &b), 0);
	struct block *pa = (struct block *)ipcc_window_base(a);
	struct block *pb = (struct block *)ipcc_window_base(b);
	pa->C1SCR = IPCC_SCR_CHS(3);
	cr_assert_eq(pb->C1TOC2SR, 0u, "the other link is untouched");
	cr_assert_eq(pa->C1TOC2SR, IPCC_SR_CHF(3));
	cr_assert_eq(pb->HWCFGR & IPCC_HWCFGR_CHANNELS_MASK, 4u);
	cr_assert_null(ipcc_window_base(NULL));
	ipcc_window_close(NULL);
	ipcc_window_close(a);
	ipcc_window_close(b);
	(void)untouched;
	ipcc_regs_close(r01);
	ipcc_regs_close(r12);
	ipcc_system_close(sys);
}

/* Instructions the window does not decode, so that it single-steps them. */
static void asm_or(volatile uint32_t *p, uint32_t v)
{
	__asm__ volatile("orl %1, %0" : "+m"(*p) : "r"(v));
}

static uint64_t asm_load64(volatile void *p)
{
	uint64_t v;
	__asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*(volatile uint64_t *)p));
	return v;
}

static void asm_store64(volatile void *p, uint64_t v)
{
	__asm__ volatile("movq %1, %0" : "=m"(*(volatile uint64_t *)p) : "r"(v));
}

Test(window, read_modify_write_and_64_bit_instructions_are_single_stepped, .fini = test_cleanup)
{
	struct fixture f = setup();

	/* orl on SCR: the page shows 0, so only channel 4's bit is stored. */
	f.ipcc->C1SCR = IPCC_SCR_CHS(1);
	asm_or(&f.ipcc->C1SCR, IPCC_SCR_CHS(4));
	cr_assert_eq(test_rd(f.regs, IPCC_C1TOC2SR), IPCC_SR_CHF(1) | IPCC_SR_CHF(4));
	/* orl on MR: read, or, write back (bits beyond the 6 channels read 1, their reset). */
	const uint32_t none = ~0x003F003Fu;
	test_wr(f.regs, IPCC_C1MR, 0);
	asm_or(&f.ipcc->C1MR, IPCC_MR_CHFM(2));
	cr_assert_eq(test_rd(f.regs, IPCC_C1MR), none | IPCC_MR_CHFM(2));
	/* One 64-bit load of CR and MR. */
	test_wr(f.regs, IPCC_C1CR, IPCC_CR_TXFIE);
	uint64_t both = asm_load64(&f.ipcc->C1CR);
	cr_assert_eq((uint32_t)both, IPCC_CR_TXFIE);
	cr_assert_eq((uint32_t)(both >> 32), none | IPCC_MR_CHFM(2));
	/* One 64-bit store of MR and SCR: both registers written. */
	asm_store64(&f.ipcc->C2MR, (uint64_t)IPCC_SCR_CHC(1) << 32 | 0x3Fu);
	cr_assert_eq(test_rd(f.regs, IPCC_C2MR), 0xFFFFFFFFu & ~(uint32_t)0x003F0000u);
	cr_assert_eq(test_rd(f.regs, IPCC_C1TOC2SR), IPCC_SR_CHF(4), "channel 1 freed");
	teardown(&f);
}

/* One thread per processor, each on a window of its own, stepping and decoding at once. */
struct toggler {
	struct ipcc_regs *regs;
	uint32_t cr; /* the CR offset of the thread's processor */
	unsigned errors;
};

static void *toggle_own_cr(void *p)
{
	struct toggler *t = p;
	struct ipcc_window *w;
	cr_assert_eq(ipcc_window_open(t->regs, &w), 0);
	volatile uint32_t *cr = (volatile uint32_t *)ipcc_window_base(w) + t->cr / 4;
	for (unsigned i = 0; i < 1000; i++) {
		*cr = 0;		   /* decoded */
		asm_or(cr, IPCC_CR_TXFIE); /* stepped */
		uint32_t v = 0;
		ipcc_regs_read(t->regs, t->cr, &v);
		t->errors += v != IPCC_CR_TXFIE;
		t->errors += *cr != IPCC_CR_TXFIE; /* decoded */
	}
	ipcc_window_close(w);
	return NULL;
}

Test(window, two_threads_on_windows_of_their_own_do_not_disturb_each_other, .fini = test_cleanup)
{
	struct fixture f = setup();
	struct toggler t[2] = { { f.regs, IPCC_C1CR, 0 }, { f.regs, IPCC_C2CR, 0 } };
	pthread_t th[2];
	for (unsigned i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, toggle_own_cr, &t[i]);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(t[0].errors + t[1].errors, 0u, "%u and %u wrong values", t[0].errors,
		     t[1].errors);
	teardown(&f);
}

/* ---- faults that are not a window's ---- */

static sigjmp_buf fault_jmp;
static void *fault_addr;

static void app_segv(int sig, siginfo_t *si, void *uc)
{
	fault_addr = si->si_addr;
	siglongjmp(fault_jmp, 1);
}

Test(window, a_fault_outside_the_windows_reaches_the_previous_handler, .fini = test_cleanup)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = app_segv;
	sa.sa_flags = SA_SIGINFO;
	cr_assert_eq(sigaction(SIGSEGV, &sa, NULL), 0);
	struct fixture f = setup(); /* init after the application's handler: it chains */
	volatile uint32_t *guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq((void *)guard, MAP_FAILED);
	if (sigsetjmp(fault_jmp, 1) == 0) {
		(void)*guard;
		cr_assert_fail("the load of a PROT_NONE page did not fault");
	}
	cr_assert_eq(fault_addr, (void *)guard);
	/* The window still works after the foreign fault. */
	f.ipcc->C1CR = IPCC_CR_TXFIE;
	cr_assert_eq(test_rd(f.regs, IPCC_C1CR), IPCC_CR_TXFIE);
	munmap((void *)guard, 4096);
	teardown(&f);
}

/* ---- cost per access, reported (not asserted) ---- */

static double ns_per(int64_t t0, int64_t t1, unsigned n)
{
	return (double)(t1 - t0) / n;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

Test(window, cost_per_access_is_reported, .fini = test_cleanup)
{
	struct fixture f = setup();
	enum { N = 20000, STEPPED = 4000 };
	uint32_t sum = 0;
	double best_ld = 1e18, best_st = 1e18, best_step = 1e18;
	for (int run = 0; run < 3; run++) {
		int64_t t0 = mono_ns();
		for (unsigned i = 0; i < N; i++)
			sum += f.ipcc->C1MR;
		int64_t t1 = mono_ns();
		for (unsigned i = 0; i < N; i++)
			f.ipcc->C1MR = ~(i & 0x3Fu); /* bits of the link's 6 channels */
		int64_t t2 = mono_ns();
		for (unsigned i = 0; i < STEPPED; i++)
			asm_or(&f.ipcc->C1CR, IPCC_CR_RXOIE);
		int64_t t3 = mono_ns();
		if (ns_per(t0, t1, N) < best_ld)
			best_ld = ns_per(t0, t1, N);
		if (ns_per(t1, t2, N) < best_st)
			best_st = ns_per(t1, t2, N);
		if (ns_per(t2, t3, STEPPED) < best_step)
			best_step = ns_per(t2, t3, STEPPED);
	}
	cr_assert_eq(test_rd(f.regs, IPCC_C1MR), ~((N - 1) & 0x3Fu), "the last store is in MR");
	fprintf(stderr,
		"window cost: %.0f ns per load, %.0f ns per store (decoded), %.0f ns per "
		"single-stepped orl (best of 3 x %d, %d)\n",
		best_ld, best_st, best_step, N, STEPPED);
	(void)sum;
	teardown(&f);
}

/* ---- the interrupt helper ---- */

static struct ipcc_regs *isr_regs;
static volatile sig_atomic_t isr_calls, isr_lower_after;
static pid_t isr_tid;

/* Processor 2's RX occupied handler: lowers the line (frees channel 0) on its n-th call. */
static void isr_count(void *arg)
{
	isr_tid = gettid();
	isr_calls = isr_calls + 1;
	if (isr_calls >= isr_lower_after)
		ipcc_regs_write(isr_regs, IPCC_C2SCR, IPCC_SCR_CHC(0));
}

static void *peer_sets_channel0(void *arg)
{
	usleep(20000);
	ipcc_regs_write(arg, IPCC_C1SCR, IPCC_SCR_CHS(0));
	return NULL;
}

static struct ipcc_window_irq *irq_setup(struct fixture *f, unsigned lower_after)
{
	struct ipcc_window_irq *irq = NULL;
	isr_regs = f->regs;
	isr_calls = 0;
	isr_lower_after = (sig_atomic_t)lower_after;
	test_wr(f->regs, IPCC_C2CR, IPCC_CR_RXOIE);
	test_wr(f->regs, IPCC_C2MR, ~IPCC_MR_CHOM(0));
	int r = ipcc_window_irq_start(f->regs, 2, SIGRTMIN + 1, isr_count, NULL, NULL, &irq);
	cr_assert_eq(r, 0, "irq_start: %s", strerror(-r));
	return irq;
}

Test(window_irq, a_high_line_preempts_the_main_flow_on_its_thread_until_it_is_low,
     .fini = test_cleanup)
{
	struct fixture f = setup();
	struct ipcc_window_irq *irq = irq_setup(&f, 3);
	pthread_t t;
	pthread_create(&t, NULL, peer_sets_channel0, f.regs);
	/* No call into the library: only a preemption can end this loop. */
	int64_t end = mono_ns() + 10 * 1000000000ll;
	while (isr_calls < 3 && mono_ns() < end)
		;
	pthread_join(t, NULL);
	cr_assert_eq(isr_calls, 3, "a level-triggered line runs its handler until it is low");
	cr_assert_eq(isr_tid, gettid(), "the handler ran on the thread that started the helper");
	cr_assert_eq(ipcc_regs_line(f.regs, 2, IPCC_IRQ_RXO), 0);
	usleep(20000);
	cr_assert_eq(isr_calls, 3, "a low line runs nothing");
	ipcc_window_irq_stop(irq);
	teardown(&f);
}

Test(window_irq, disabled_interrupts_stay_pending_wfi_sees_them_and_enable_runs_them,
     .fini = test_cleanup)
{
	struct fixture f = setup();
	struct ipcc_window_irq *irq = irq_setup(&f, 1);
	pthread_t t;
	cr_assert_eq(ipcc_window_wfi(irq, 0), -EAGAIN, "nothing arrived yet");
	cr_assert_eq(ipcc_window_wfi(irq, 1000000), -ETIMEDOUT);
	ipcc_window_irq_disable(irq);
	ipcc_window_irq_disable(irq); /* nested */
	pthread_create(&t, NULL, peer_sets_channel0, f.regs);
	cr_assert_eq(ipcc_window_wfi(irq, 10 * 1000000000ll), 0, "wfi wakes on a pending one");
	pthread_join(t, NULL);
	cr_assert_eq(isr_calls, 0, "no handler runs while disabled");
	ipcc_window_irq_enable(irq);
	cr_assert_eq(isr_calls, 0, "the inner enable keeps them disabled");
	ipcc_window_irq_enable(irq);
	cr_assert_eq(isr_calls, 1, "the last enable runs the pending handler at once");
	ipcc_window_irq_stop(irq);
	teardown(&f);
}

Test(window_irq, wfi_returns_for_an_interrupt_taken_before_it_was_called, .fini = test_cleanup)
{
	struct fixture f = setup();
	struct ipcc_window_irq *irq = irq_setup(&f, 1);
	/* The interrupt comes between the test of the flag and the wfi. */
	test_wr(f.regs, IPCC_C1SCR, IPCC_SCR_CHS(0));
	int64_t end = mono_ns() + 10 * 1000000000ll;
	while (isr_calls == 0 && mono_ns() < end)
		;
	cr_assert_eq(isr_calls, 1);
	cr_assert_eq(ipcc_window_wfi(irq, 0), 0, "the event is remembered");
	cr_assert_eq(ipcc_window_wfi(irq, 0), -EAGAIN, "once");
	ipcc_window_irq_stop(irq);
	teardown(&f);
}

Test(window_irq, bad_arguments_and_a_second_helper_are_refused, .fini = test_cleanup)
{
	struct fixture f = setup();
	struct ipcc_window_irq *irq = NULL, *other = NULL;
	cr_assert_eq(ipcc_window_irq_start(NULL, 1, SIGRTMIN, isr_count, NULL, NULL, &irq),
		     -EINVAL);
	cr_assert_eq(ipcc_window_irq_start(f.regs, 3, SIGRTMIN, isr_count, NULL, NULL, &irq),
		     -EINVAL);
	cr_assert_eq(ipcc_window_irq_start(f.regs, 1, SIGRTMIN, NULL, NULL, NULL, &irq), -EINVAL);
	cr_assert_eq(ipcc_window_irq_start(f.regs, 1, SIGUSR1, isr_count, NULL, NULL, &irq),
		     -EINVAL, "not a real-time signal");
	cr_assert_eq(ipcc_window_irq_start(f.regs, 1, SIGRTMIN, isr_count, NULL, NULL, NULL),
		     -EINVAL);
	cr_assert_null(irq);
	cr_assert_eq(ipcc_window_irq_start(f.regs, 1, SIGRTMIN, isr_count, NULL, NULL, &irq), 0);
	cr_assert_eq(ipcc_window_irq_start(f.regs, 2, SIGRTMIN + 2, isr_count, NULL, NULL, &other),
		     -EBUSY, "one helper per thread");
	cr_assert_eq(ipcc_window_wfi(NULL, 0), -EINVAL);
	ipcc_window_irq_stop(irq);
	ipcc_window_irq_stop(NULL);
	teardown(&f);
}

Test(window, open_fails_before_init_and_beyond_the_window_limit, .fini = test_cleanup)
{
	struct ipcc_system *sys = test_system_geometry(2, 2, 64);
	struct ipcc_regs *regs = test_regs(sys, 0, 1);
	struct ipcc_window *w[IPCC_WINDOW_MAX + 1], *marker = (struct ipcc_window *)&sys;
	struct ipcc_window *extra = marker;

	/* Criterion runs each test in a fresh process: nothing is installed yet. */
	cr_assert_eq(ipcc_window_open(regs, &extra), -EPERM);
	cr_assert_eq(extra, marker, "a failed open leaves *ret_win alone");
	cr_assert_eq(ipcc_window_init(), 0);
	for (unsigned i = 0; i < IPCC_WINDOW_MAX; i++)
		cr_assert_eq(ipcc_window_open(regs, &w[i]), 0, "window %u", i);
	cr_assert_eq(ipcc_window_open(regs, &extra), -EMFILE);
	cr_assert_eq(extra, marker);
	ipcc_window_close(w[7]);
	cr_assert_eq(ipcc_window_open(regs, &w[7]), 0, "a closed window's slot is free again");
	((volatile uint32_t *)ipcc_window_base(w[7]))[IPCC_C1SCR / 4] = IPCC_SCR_CHS(1);
	cr_assert_eq(test_rd(regs, IPCC_C1TOC2SR), IPCC_SR_CHF(1));
	for (unsigned i = 0; i < IPCC_WINDOW_MAX; i++)
		ipcc_window_close(w[i]);
	ipcc_regs_close(regs);
	ipcc_system_close(sys);
}
