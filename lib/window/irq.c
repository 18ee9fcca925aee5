/* SPDX-License-Identifier: MIT */
/*
 * The interrupt helper of <ipcc/window.h>: a level-triggered NVIC for one processor, made of a
 * helper thread that watches the lines and a real-time signal that runs the handlers on the
 * application's thread.
 *
 * The words and who writes them:
 *   disabled  nesting depth of ipcc_window_irq_disable; the application's thread (and its
 *             signal handler) only.
 *   pending   set by the signal handler when it found interrupts disabled; taken by the
 *             enable that ends the last disable (same thread).
 *   ack       0 while a signal of the helper is in flight; the handler stores 1 (handlers
 *             ran) or 2 (deferred: disabled). The helper waits on it, so one signal is in
 *             flight at a time and a high line is not signalled again before its handler ran.
 *   events    bumped by each handler run or deferral; ipcc_window_wfi waits for it to move
 *             past the value its previous return saw (an event register, as for WFE).
 * All are process-private futex words.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/irq.h>
#include <ipcc/window.h>

/* How long the helper sleeps at most before it looks at `stop` again. */
#define HELPER_SLICE_NS 100000000ll

struct ipcc_window_irq {
	struct ipcc_regs *regs;
	uint32_t rxo_bit, txf_bit, lines; /* lines: the bits with a handler */
	ipcc_window_isr rxo, txf;
	void *arg;
	int signo;
	pthread_t app, helper;
	struct sigaction prev;
	atomic_uint disabled;
	atomic_uint pending;
	atomic_uint ack;
	atomic_uint events;
	uint32_t events_seen; /* the application thread's: events at the last wfi return */
	atomic_bool stop;
};

static __thread struct ipcc_window_irq *thread_irq __attribute__((tls_model("initial-exec")));

static int futex_wait(atomic_uint *word, unsigned expected, int64_t timeout_ns)
{
	struct timespec ts, *tp = NULL;
	if (timeout_ns >= 0) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000);
		ts.tv_nsec = (long)(timeout_ns % 1000000000);
		tp = &ts;
	}
	if (syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, tp, NULL, 0) < 0)
		return -errno;
	return 0;
}

static void futex_wake(atomic_uint *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void bump(atomic_uint *word, unsigned value)
{
	/* seq_cst: the store is the futex's value; pairs with the loads before futex_wait of the
	 * helper (ack) and of ipcc_window_wfi (events). */
	atomic_store(word, value);
	futex_wake(word);
}

/* Run the handlers while their lines are high and interrupts stay enabled. */
static void run_handlers(struct ipcc_window_irq *irq)
{
	for (;;) {
		uint32_t m = 0;
		if (ipcc_regs_lines(irq->regs, &m) < 0)
			return;
		m &= irq->lines;
		if (!m)
			return;
		if ((m & irq->rxo_bit) && irq->rxo)
			irq->rxo(irq->arg);
		if ((m & irq->txf_bit) && irq->txf)
			irq->txf(irq->arg);
		/* Relaxed: written by this thread only (a handler may have disabled). */
		if (atomic_load_explicit(&irq->disabled, memory_order_relaxed)) {
			atomic_store_explicit(&irq->pending, 1, memory_order_relaxed);
			return;
		}
	}
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	struct ipcc_window_irq *irq = thread_irq;
	int saved = errno;
	unsigned result = 1;

	if (!irq)
		return; /* a thread without a helper: nothing to run */
	/* Relaxed: disabled and pending are this thread's own words (see the file comment). */
	if (atomic_load_explicit(&irq->disabled, memory_order_relaxed)) {
		atomic_store_explicit(&irq->pending, 1, memory_order_relaxed);
		result = 2;
	} else {
		run_handlers(irq);
	}
	bump(&irq->events, atomic_load_explicit(&irq->events, memory_order_relaxed) + 1);
	bump(&irq->ack, result);
	errno = saved;
}

static void *helper_main(void *p)
{
	struct ipcc_window_irq *irq = p;
	sigset_t all;
	uint32_t mask = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	while (!atomic_load_explicit(&irq->stop, memory_order_relaxed)) { /* stop: a flag only */
		if (ipcc_regs_lines(irq->regs, &mask) < 0)
			break;
		if (!(mask & irq->lines)) {
			/* Sleeps until a write of any process changes the lines (or a slice ends,
			 * to look at stop). */
			ipcc_regs_wait_lines(irq->regs, mask, &mask, HELPER_SLICE_NS);
			continue;
		}
		atomic_store(&irq->ack, 0); /* seq_cst: before the signal that on_signal acks */
		pthread_kill(irq->app, irq->signo);
		while (atomic_load(&irq->ack) == 0 &&
		       !atomic_load_explicit(&irq->stop, memory_order_relaxed))
			futex_wait(&irq->ack, 0, HELPER_SLICE_NS);
		/*
		 * Deferred (ack 2): the enable that ends the last disable runs the pending
		 * handlers by signalling its own thread, whose handler stores ack 1. Wait for
		 * that store itself: waiting for `disabled` to reach 0 missed an enable followed
		 * at once by another disable, and slept a whole slice.
		 */
		while (atomic_load(&irq->ack) == 2 &&
		       !atomic_load_explicit(&irq->stop, memory_order_relaxed))
			futex_wait(&irq->ack, 2, HELPER_SLICE_NS);
	}
	return NULL;
}

IPCC_EXPORT int ipcc_window_irq_start(struct ipcc_regs *regs, unsigned proc, int signo,
				      ipcc_window_isr rxo, ipcc_window_isr txf, void *arg,
				      struct ipcc_window_irq **ret_irq)
{
	struct ipcc_window_irq *irq;
	struct sigaction sa;
	uint32_t mask;
	int r;

	if (!regs || !ret_irq || (proc != 1 && proc != 2) || (!rxo && !txf) || signo < SIGRTMIN ||
	    signo > SIGRTMAX)
		return -EINVAL;
	if (thread_irq)
		return -EBUSY;
	/* The helper's wait must work here (-EROFS on a read-only system): try it once. */
	r = ipcc_regs_wait_lines(regs, UINT32_MAX, &mask, 0);
	if (r < 0)
		return r;
	irq = calloc(1, sizeof(*irq));
	if (!irq)
		return -ENOMEM;
	irq->regs = regs;
	irq->rxo_bit = IPCC_LINE_BIT(proc, IPCC_IRQ_RXO);
	irq->txf_bit = IPCC_LINE_BIT(proc, IPCC_IRQ_TXF);
	irq->lines = (rxo ? irq->rxo_bit : 0) | (txf ? irq->txf_bit : 0);
	irq->rxo = rxo;
	irq->txf = txf;
	irq->arg = arg;
	irq->signo = signo;
	irq->app = pthread_self();

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask); /* signo itself is blocked while its handler runs */
	if (sigaction(signo, &sa, &irq->prev) < 0) {
		free(irq);
		return -EINVAL;
	}
	thread_irq = irq;
	r = -pthread_create(&irq->helper, NULL, helper_main, irq);
	if (r < 0) {
		thread_irq = NULL;
		sigaction(signo, &irq->prev, NULL);
		free(irq);
		return r == -EAGAIN ? -EAGAIN : -ENOMEM;
	}
	*ret_irq = irq;
	return 0;
}

IPCC_EXPORT void ipcc_window_irq_stop(struct ipcc_window_irq *irq)
{
	if (!irq)
		return;
	atomic_store_explicit(&irq->stop, true, memory_order_relaxed); /* a flag, see helper_main */
	futex_wake(&irq->ack);
	pthread_join(irq->helper, NULL);
	/* A signal the helper sent last may still be queued (if the thread blocks it): SIG_IGN
	 * discards it, so the previous disposition (SIG_DFL terminates) never sees it. */
	struct sigaction ign;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(irq->signo, &ign, NULL);
	thread_irq = NULL;
	sigaction(irq->signo, &irq->prev, NULL);
	free(irq);
}

IPCC_EXPORT void ipcc_window_irq_disable(struct ipcc_window_irq *irq)
{
	if (!irq)
		return;
	/* seq_cst: the helper sleeps on this word (helper_main's futex_wait). */
	atomic_fetch_add(&irq->disabled, 1);
}

IPCC_EXPORT void ipcc_window_irq_enable(struct ipcc_window_irq *irq)
{
	if (!irq || atomic_load_explicit(&irq->disabled, memory_order_relaxed) == 0)
		return;
	if (atomic_fetch_sub(&irq->disabled, 1) != 1)
		return;
	/* A signal to the own thread is delivered before pthread_kill returns: the pending
	 * handlers run now, in signal context like any other interrupt. */
	if (atomic_exchange_explicit(&irq->pending, 0, memory_order_relaxed))
		pthread_kill(pthread_self(), irq->signo);
}

IPCC_EXPORT int ipcc_window_wfi(struct ipcc_window_irq *irq, int64_t timeout_ns)
{
	int64_t deadline;
	unsigned e;

	if (!irq)
		return -EINVAL;
	deadline = 0;
	if (timeout_ns > 0) { /* saturated, not overflowed, for a timeout near INT64_MAX */
		int64_t now = now_ns();
		deadline = timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
	}
	/* seq_cst: pairs with on_signal's bump of events. */
	while ((e = atomic_load(&irq->events)) == irq->events_seen) {
		int64_t left = -1;
		if (timeout_ns == 0)
			return -EAGAIN;
		if (timeout_ns > 0) {
			left = deadline - now_ns();
			if (left <= 0)
				return -ETIMEDOUT;
		}
		futex_wait(&irq->events, e, left);
	}
	irq->events_seen = e;
	return 0;
}
