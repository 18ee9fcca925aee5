/* SPDX-License-Identifier: MIT */
/*
 * The doorbell's verbs (lib/bell): what a ring, a wake without a register change, an
 * announcement and a take do to a CPU's doorbell, seen by its sleepers and its fd. The CPUs are
 * threads of the test process; the doorbell words are read from the shared object.
 */
#include <pthread.h>

#include "proc-test.h"

#include "irq/irq.h" /* the wait core and the doorbell's verbs */

static void teardown(void)
{
	pt_cleanup();
}

/* A wait that only a wake-up can end: no timeout, the suite's timeout bounds the test. */
TestSuite(bell, .fini = teardown, .timeout = 30);

static struct ipcc_shm_cpu *shm_of(struct ipcc_system *sys, unsigned id)
{
	return ipcc_shm_cpu(sys, id);
}

static uint32_t seq_of(struct ipcc_system *sys, unsigned id)
{
	/* Relaxed: the test thread is the only one changing the word here. */
	return atomic_load_explicit(&shm_of(sys, id)->bell_seq, memory_order_relaxed);
}

static uint32_t sleepers_of(struct ipcc_system *sys, unsigned id)
{
	/* Relaxed: a snapshot for the test's checks. */
	return atomic_load_explicit(&shm_of(sys, id)->bell_sleepers, memory_order_relaxed) &
	       IPCC_BELL_FUTEX_MASK;
}

Test(bell, ring_of_a_cpu_nobody_sleeps_on_leaves_its_futex_word_alone)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	uint32_t seq = seq_of(sys, 0);

	cr_assert(ipcc_bell_ring_needed(sys, 0, 1), "nothing pending: a ring matters");
	ipcc_bell_ring(sys, 0, 1);
	cr_assert_not(ipcc_bell_ring_needed(sys, 0, 1), "pending and nobody asleep");
	ipcc_bell_ring(sys, 0, 1);
	cr_assert_eq(seq_of(sys, 0), seq, "no sleeper: no bump (and no wake syscall)");
	cr_assert_eq(ipcc_bell_take(cpu), 1ull << 1, "the rung link is pending, once");
	cr_assert_eq(ipcc_bell_take(cpu), 0, "a take clears it");
	cr_assert(ipcc_bell_ring_needed(sys, 0, 1));
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(bell, bits_put_back_are_taken_again)
{
	struct ipcc_system *sys = pt_create(3, 2, 64);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);

	ipcc_bell_ring(sys, 0, 1);
	ipcc_bell_ring(sys, 0, 2);
	cr_assert_eq(ipcc_bell_take(cpu), 6);
	ipcc_bell_put_back(cpu, 4);
	cr_assert_eq(ipcc_bell_take(cpu), 4);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(bell, a_sleeper_counts_from_announce_to_retire_and_a_ring_moves_its_word)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);

	uint32_t v = ipcc_bell_announce(cpu);
	cr_assert_eq(sleepers_of(sys, 0), 1);
	cr_assert_eq(seq_of(sys, 0), v, "the value to sleep on is the word's");
	ipcc_bell_ring(sys, 0, 1);
	cr_assert_neq(seq_of(sys, 0), v, "a ring of a sleeping CPU moves the word");
	ipcc_bell_retire(cpu);
	cr_assert_eq(sleepers_of(sys, 0), 0);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(bell, async_announce_with_a_link_pending_returns_a_value_the_word_does_not_hold)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);

	uint32_t v = ipcc_bell_announce_async(cpu);
	cr_assert_eq(v, seq_of(sys, 0), "nothing pending: sleep on the current value");
	ipcc_bell_retire(cpu);
	ipcc_bell_ring(sys, 0, 1);
	v = ipcc_bell_announce_async(cpu);
	cr_assert_neq(v, seq_of(sys, 0), "pending: the kernel's compare must fail at once");
	ipcc_bell_retire(cpu);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

struct flag_wait {
	struct ipcc_cpu *cpu;
	_Atomic bool flag;
	int ret;
};

static bool flag_set(struct ipcc_cpu *cpu, void *arg)
{
	struct flag_wait *w = arg;
	/* seq_cst: the predicate of a wake without a register change (lib/bell/bell.h). */
	return atomic_load_explicit(&w->flag, memory_order_seq_cst);
}

static void *flag_waiter(void *p)
{
	struct flag_wait *w = p;
	w->ret = ipcc_wait_core(w->cpu, flag_set, w, NULL, IPCC_TIMEOUT_INFINITE, false);
	return NULL;
}

Test(bell, wake_without_a_register_change_ends_a_futex_sleep)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct flag_wait w = { .cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0), .ret = 1 };
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, flag_waiter, &w), 0);
	int64_t end = pt_now_ns() + PT_LONG;
	while (sleepers_of(sys, 0) == 0) {
		cr_assert_lt(pt_now_ns(), end, "the waiter never announced itself");
		pt_sleep_ms(1);
	}
	pt_sleep_ms(5); /* let it reach the kernel; the wake must work either way */
	atomic_store_explicit(&w.flag, true, memory_order_seq_cst);
	ipcc_bell_wake(sys, 0);
	pthread_join(th, NULL); /* without the wake: a hang, ended by the suite's timeout */
	cr_assert_eq(w.ret, 0);
	cr_assert_eq(sleepers_of(sys, 0), 0, "the sleeper retired");
	ipcc_cpu_detach(w.cpu);
	ipcc_system_close(sys);
}

Test(bell, wake_makes_the_fd_of_an_eventfd_cpu_readable_and_dispatch_ignores_it)
{
	struct ipcc_system *sys = pt_create(2, 2, 64);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_EVENTFD, 0);
	struct pollfd pfd = { .fd = ipcc_cpu_fd(cpu), .events = POLLIN };

	cr_assert_geq(pfd.fd, 0);
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 0, "nothing yet; re-armed");
	cr_assert_eq(poll(&pfd, 1, 0), 0, "not readable before the wake");
	ipcc_bell_wake(sys, 0);
	cr_assert_eq(poll(&pfd, 1, (int)(PT_LONG / PT_MS)), 1, "the wake reached the fd");
	cr_assert_eq(ipcc_cpu_dispatch(cpu), 0, "no link was rung: no handler runs");
	cr_assert_eq(poll(&pfd, 1, 0), 0, "drained and re-armed by the dispatch");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}
