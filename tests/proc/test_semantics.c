/* SPDX-License-Identifier: MIT */
/*
 * Delivery semantics (README "Delivery semantics", proc.h): what happens to a request whose call
 * timed out or whose server died, the tools to live with it (ipcc_call_pending, ipcc_call_cancel,
 * ipcc_call_discarded, ipcc_cpu_peer_generation), the interruption of blocked calls
 * (ipcc_cpu_interrupt, from a real SIGTERM handler and from another thread), and timeouts near
 * INT64_MAX (run this file under -Db_sanitize=address,undefined: the overflow was UBSan's).
 *
 * The test process is CPU 0; CPU 1 is a forked peer that does one thing per command byte, so the
 * test decides when a request is served, answered or killed.
 */
#include <pthread.h>

#include "proc-test.h"

#include <criterion/parameterized.h>

#define BUFFER	128u
#define CH_CALL 1u
#define CH_MSG	2u

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(semantics, .fini = teardown, .timeout = 60);

/*
 * CPU 1: 's' serve a request and answer with its letter ("req-<letter>"), 'r' reply
 * "resp-<letter>", 'K' serve, answer the letter, then die by SIGKILL before replying, 'T' send
 * SIGTERM to the test process after 50 ms, 'm' send "msg" on CH_MSG after 20 ms, 'x' leave.
 */
static int peer_script(void *p)
{
	struct pt_script *a = p;
	struct ipcc_system *sys;
	pt_script_wait_go(a);
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, a->mode, 0, &sys);
	char req[BUFFER] = "";
	int r;

	pt_post(a->ack, 'a');
	for (;;) {
		int c = pt_await(a->cmd, 30 * PT_SEC);
		PEER_CHECK(c >= 0, "no command");
		switch (c) {
		case 's':
		case 'K':
			r = ipcc_serve(cpu, 0, CH_CALL, req, sizeof(req), PT_LONG);
			PEER_CHECK(r == 6 && !strncmp(req, "req-", 4), "serve: %d %s", r,
				   r < 0 ? strerror(-r) : req);
			pt_post(a->ack, req[4]);
			if (c == 'K')
				raise(SIGKILL); /* mid-request: served, never answered */
			break;
		case 'r': {
			char resp[16];
			int n = snprintf(resp, sizeof(resp), "resp-%c", req[4]);
			r = ipcc_reply(cpu, 0, CH_CALL, resp, (size_t)n + 1);
			PEER_CHECK(r == 0, "reply: %s", strerror(-r));
			pt_post(a->ack, 'k');
			break;
		}
		case 'T':
			pt_sleep_ms(50);
			PEER_CHECK(kill(getppid(), SIGTERM) == 0, "kill: %s", strerror(errno));
			pt_post(a->ack, 't');
			break;
		case 'm':
			pt_sleep_ms(20);
			r = ipcc_send(cpu, 0, CH_MSG, "msg", 4, PT_LONG);
			PEER_CHECK(r == 0, "send: %s", strerror(-r));
			pt_post(a->ack, 'k');
			break;
		case 'x':
			ipcc_cpu_detach(cpu);
			ipcc_system_close(sys);
			return 0;
		default:
			PEER_CHECK(false, "bad command %c", c);
		}
	}
}

static void start(struct pt_pair *f, enum ipcc_wait_mode mode)
{
	pt_pair_start(f, 4, BUFFER, mode, peer_script, 40);
}

static uint64_t discarded(struct pt_pair *f)
{
	uint64_t n = 0;
	int r = ipcc_call_discarded(f->cpu, 1, CH_CALL, &n);
	cr_assert_eq(r, 0, "ipcc_call_discarded: %s", strerror(-r));
	return n;
}

/* ---- calls: at-least-once, and what the application gets to build on it ------------------ */

Test(semantics, a_timed_out_call_is_still_executed_and_its_late_response_is_discarded_and_counted)
{
	struct pt_pair f;
	char resp[BUFFER];

	start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(ipcc_call_pending(f.cpu, 1, CH_CALL), 0);
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-A", 6, resp, sizeof(resp), 50 * PT_MS),
		     -ETIMEDOUT);
	/* Not cancelled: the request stays in the channel. */
	cr_assert_eq(ipcc_call_pending(f.cpu, 1, CH_CALL), 1, "the timed-out request is out");
	cr_assert_eq(pt_script_cmd(&f.a, 's'), 'A',
		     "the late server executes the timed-out request");
	cr_assert_eq(pt_script_cmd(&f.a, 'r'), 'k');
	/* The late response is dropped by the check, counted, and never reaches a later call. */
	cr_assert_eq(ipcc_call_pending(f.cpu, 1, CH_CALL), 0);
	cr_assert_eq(discarded(&f), 1);

	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'r');
	int n = ipcc_call(f.cpu, 1, CH_CALL, "req-B", 6, resp, sizeof(resp), PT_LONG);
	cr_assert_eq(n, 7, "call: %d (%s)", n, strerror(-n));
	cr_assert_str_eq(resp, "resp-B", "the next call got another call's response");
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'B');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
	cr_assert_eq(discarded(&f), 1);
	cr_assert_eq(ipcc_call_cancel(f.cpu, 1, CH_CALL), -EALREADY, "nothing is outstanding");
	pt_pair_stop(&f);
}

Test(semantics, a_later_call_settles_a_stale_response_and_counts_it)
{
	struct pt_pair f;
	char resp[BUFFER];

	start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-A", 6, resp, sizeof(resp), 0), -EAGAIN);
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-B", 6, resp, sizeof(resp), 0), -EBUSY,
		     "timeout 0 with the response pending");
	/* The server answers A, then B; the blocking call waits for A's answer and drops it. */
	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'r');
	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'r');
	int n = ipcc_call(f.cpu, 1, CH_CALL, "req-B", 6, resp, sizeof(resp), PT_LONG);
	cr_assert_eq(n, 7, "call: %d (%s)", n, strerror(-n));
	cr_assert_str_eq(resp, "resp-B");
	const char want[] = "AkBk";
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(pt_await(f.a.ack, PT_LONG), want[i]);
	cr_assert_eq(discarded(&f), 1);
	pt_pair_stop(&f);
}

struct async_seen {
	unsigned calls;
	char last[BUFFER];
};

static void on_response(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			size_t len, void *arg)
{
	struct async_seen *s = arg;
	s->calls++;
	memcpy(s->last, data, len < sizeof(s->last) ? len : sizeof(s->last));
}

/* Dispatch until nothing is outstanding on CH_CALL (bounded). */
static void dispatch_until_settled(struct pt_pair *f)
{
	int64_t deadline = pt_now_ns() + PT_LONG;
	while (ipcc_call_pending(f->cpu, 1, CH_CALL) == 1) {
		cr_assert_lt(pt_now_ns(), deadline, "the response never came");
		int r = ipcc_cpu_wait(f->cpu, 100 * PT_MS);
		cr_assert(r == 0 || r == -ETIMEDOUT, "wait: %s", strerror(-r));
		cr_assert_geq(ipcc_cpu_dispatch(f->cpu), 0);
	}
}

Test(semantics, a_cancelled_async_call_never_reaches_its_callback)
{
	struct pt_pair f;
	struct async_seen seen = { 0 };

	start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(ipcc_call_async(f.cpu, 1, CH_CALL, "req-A", 6, on_response, &seen), 0);
	cr_assert_eq(ipcc_call_pending(f.cpu, 1, CH_CALL), 1);
	cr_assert_eq(ipcc_call_cancel(f.cpu, 1, CH_CALL), 0);
	cr_assert_eq(ipcc_call_pending(f.cpu, 1, CH_CALL), 1, "the request is still out");
	cr_assert_eq(ipcc_call_async(f.cpu, 1, CH_CALL, "req-B", 6, on_response, &seen), -EBUSY);
	cr_assert_eq(pt_script_cmd(&f.a, 's'), 'A', "a cancelled request is still executed");
	cr_assert_eq(pt_script_cmd(&f.a, 'r'), 'k');
	dispatch_until_settled(&f);
	cr_assert_eq(seen.calls, 0, "the callback got a cancelled call's response");
	cr_assert_eq(discarded(&f), 1);

	/* The channel works on: the next async call gets its own response. */
	cr_assert_eq(ipcc_call_async(f.cpu, 1, CH_CALL, "req-B", 6, on_response, &seen), 0);
	cr_assert_eq(pt_script_cmd(&f.a, 's'), 'B');
	cr_assert_eq(pt_script_cmd(&f.a, 'r'), 'k');
	dispatch_until_settled(&f);
	cr_assert_eq(seen.calls, 1);
	cr_assert_str_eq(seen.last, "resp-B");
	cr_assert_eq(ipcc_call_cancel(f.cpu, 1, CH_CALL), -EALREADY, "already delivered");
	cr_assert_eq(discarded(&f), 1);
	pt_pair_stop(&f);
}

Test(semantics, a_server_killed_mid_request_and_restarted_executes_the_stale_request_and_the_retry)
{
	struct pt_pair f;
	struct pt_script successor;
	char resp[BUFFER];
	uint32_t g0 = 0, g1 = 0, mine = 0;

	start(&f, IPCC_WAIT_FUTEX);
	/* The restart, forked before any wait starts a thread of the library here (pt_fork). */
	pt_script_fork(&successor, ipcc_system_name(f.sys), IPCC_WAIT_FUTEX, true, peer_script, 40);
	cr_assert_eq(ipcc_cpu_peer_generation(f.cpu, 1, &g0), 0);
	cr_assert_eq(ipcc_cpu_peer_generation(f.cpu, 0, &mine), 0);
	cr_assert_neq(mine, 0, "an attached CPU has a generation");

	pt_post(f.a.cmd, 'K');
	int n = ipcc_call(f.cpu, 1, CH_CALL, "req-A", 6, resp, sizeof(resp), PT_LONG);
	cr_assert_eq(n, -EPIPE, "call to a server killed mid-request: %d (%s)", n, strerror(-n));
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'A', "the first server did take the request");
	int st = pt_reap(f.a.pid, PT_LONG);
	cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %d", st);
	uint32_t untouched = 12345;
	cr_assert_eq(ipcc_cpu_peer_generation(f.cpu, 1, &untouched), -ENOTCONN);
	cr_assert_eq(untouched, 12345);

	f.a = successor; /* the restarted server */
	pt_script_go(&f.a);
	cr_assert_eq(ipcc_cpu_peer_generation(f.cpu, 1, &g1), 0);
	cr_assert_neq(g1, g0, "a new incarnation has a new generation");

	/* The retry: the new server first executes the stale request, then the retry. */
	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'r');
	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'r');
	n = ipcc_call(f.cpu, 1, CH_CALL, "req-B", 6, resp, sizeof(resp), PT_LONG);
	cr_assert_eq(n, 7, "retry: %d (%s)", n, strerror(-n));
	cr_assert_str_eq(resp, "resp-B");
	const char want[] = "AkBk";
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(pt_await(f.a.ack, PT_LONG), want[i],
			     "at-least-once: stale, then retry");
	cr_assert_eq(discarded(&f), 1, "the stale request's response");
	pt_pair_stop(&f);
}

Test(semantics, the_new_calls_refuse_bad_arguments)
{
	struct pt_pair f;
	uint64_t n;
	uint32_t g;

	start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(ipcc_call_pending(NULL, 1, CH_CALL), -EINVAL);
	cr_assert_eq(ipcc_call_pending(f.cpu, 1, 4), -EINVAL);
	cr_assert_eq(ipcc_call_cancel(f.cpu, 7, CH_CALL), -EINVAL);
	cr_assert_eq(ipcc_call_discarded(f.cpu, 1, CH_CALL, NULL), -EINVAL);
	cr_assert_eq(ipcc_call_discarded(f.cpu, 1, 9, &n), -EINVAL);
	cr_assert_eq(ipcc_cpu_peer_generation(f.cpu, 2, &g), -EINVAL);
	cr_assert_eq(ipcc_cpu_peer_generation(f.cpu, 1, NULL), -EINVAL);
	cr_assert_eq(ipcc_cpu_interrupt(NULL), -EINVAL);
	pt_pair_stop(&f);
}

/* ---- ipcc_cpu_interrupt ------------------------------------------------------------------- */

static _Atomic(struct ipcc_cpu *) sig_cpu;
static atomic_int sig_count;

static void on_sigterm(int sig)
{
	/* Relaxed: a signal handler of this thread; the -EINTR result orders nothing else. */
	atomic_fetch_add_explicit(&sig_count, 1, memory_order_relaxed);
	ipcc_cpu_interrupt(atomic_load_explicit(&sig_cpu, memory_order_relaxed));
}

static enum ipcc_wait_mode all_modes[] = { IPCC_WAIT_FUTEX, IPCC_WAIT_ADAPTIVE, IPCC_WAIT_SPIN,
					   IPCC_WAIT_EVENTFD };

ParameterizedTestParameters(semantics, a_sigterm_handler_ends_a_recv_blocked_without_timeout)
{
	return cr_make_param_array(enum ipcc_wait_mode, all_modes,
				   sizeof(all_modes) / sizeof(all_modes[0]));
}

ParameterizedTest(enum ipcc_wait_mode *mode, semantics,
		  a_sigterm_handler_ends_a_recv_blocked_without_timeout)
{
	struct pt_pair f;
	char buf[BUFFER];

	start(&f, *mode);
	atomic_store(&sig_cpu, f.cpu);
	atomic_store(&sig_count, 0);
	/* SA_RESTART: the hard case, the kernel restarts the futex wait after the handler. */
	struct sigaction sa = { .sa_handler = on_sigterm, .sa_flags = SA_RESTART }, old;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGTERM, &sa, &old), 0);

	pt_post(f.a.cmd, 'T');
	int r = ipcc_recv(f.cpu, 1, CH_MSG, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE);
	cr_assert_eq(r, -EINTR, "%s: recv: %d (%s)", pt_mode_name(*mode), r, strerror(-r));
	cr_assert_eq(atomic_load(&sig_count), 1, "the handler ran");
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 't');
	sigaction(SIGTERM, &old, NULL);

	/* Consumed: the CPU waits and receives as before. */
	cr_assert_eq(ipcc_recv(f.cpu, 1, CH_MSG, buf, sizeof(buf), 20 * PT_MS), -ETIMEDOUT);
	pt_post(f.a.cmd, 'm');
	r = ipcc_recv(f.cpu, 1, CH_MSG, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE);
	cr_assert_eq(r, 4, "recv after the interrupt: %d (%s)", r, strerror(-r));
	cr_assert_str_eq(buf, "msg");
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
	pt_pair_stop(&f);
}

Test(semantics, an_interrupt_with_no_wait_blocked_ends_the_next_blocking_wait_once)
{
	struct pt_pair f;
	char buf[BUFFER];

	start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(ipcc_cpu_interrupt(f.cpu), 0);
	cr_assert_eq(ipcc_cpu_interrupt(f.cpu), 0); /* two before a wait count as one */
	cr_assert_eq(ipcc_recv(f.cpu, 1, CH_MSG, buf, sizeof(buf), 0), -EAGAIN,
		     "timeout 0 never returns -EINTR");
	cr_assert_eq(ipcc_serve(f.cpu, 1, CH_CALL, buf, sizeof(buf), IPCC_TIMEOUT_INFINITE),
		     -EINTR);
	cr_assert_eq(ipcc_cpu_wait(f.cpu, 20 * PT_MS), -ETIMEDOUT, "consumed by the first");
	/* A wait whose condition holds returns its result even with an interrupt pending. */
	pt_post(f.a.cmd, 'm');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
	cr_assert_eq(ipcc_cpu_interrupt(f.cpu), 0);
	cr_assert_eq(ipcc_recv(f.cpu, 1, CH_MSG, buf, sizeof(buf), PT_LONG), 4);
	cr_assert_eq(ipcc_cpu_wait(f.cpu, PT_LONG), -EINTR, "still pending");
	pt_pair_stop(&f);
}

struct blocked {
	struct ipcc_cpu *cpu;
	int64_t timeout;
	atomic_int started;
	int r;
};

static void *serve_forever(void *p)
{
	struct blocked *b = p;
	char buf[BUFFER];
	atomic_store(&b->started, 1);
	b->r = ipcc_serve(b->cpu, 1, CH_CALL, buf, sizeof(buf), b->timeout);
	return NULL;
}

Test(semantics, another_thread_interrupts_a_serve_blocked_without_timeout)
{
	struct pt_pair f;
	pthread_t t;

	start(&f, IPCC_WAIT_ADAPTIVE);
	struct blocked b = { .cpu = f.cpu, .timeout = IPCC_TIMEOUT_INFINITE, .r = 1 };
	cr_assert_eq(pthread_create(&t, NULL, serve_forever, &b), 0);
	while (!atomic_load(&b.started))
		pt_sleep_ms(1);
	pt_sleep_ms(20); /* most likely asleep by now; if not, the interrupt is pending for it */
	cr_assert_eq(ipcc_cpu_interrupt(f.cpu), 0);
	pthread_join(t, NULL);
	cr_assert_eq(b.r, -EINTR, "serve: %d (%s)", b.r, strerror(-b.r));
	pt_pair_stop(&f);
}

/* ---- timeouts near INT64_MAX -------------------------------------------------------------- */

Test(semantics, timeouts_near_int64_max_wait_for_the_message_without_overflow)
{
	struct pt_pair f;
	char buf[BUFFER];
	const int64_t huge[] = { INT64_MAX, INT64_MAX - 1, INT64_MAX - PT_SEC, INT64_MAX / 2 + 1 };
	const enum ipcc_wait_mode modes[] = { IPCC_WAIT_FUTEX, IPCC_WAIT_SPIN };

	for (unsigned m = 0; m < 2; m++) {
		start(&f, modes[m]);
		for (unsigned i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
			pt_post(f.a.cmd, 'm');
			int r = ipcc_recv(f.cpu, 1, CH_MSG, buf, sizeof(buf), huge[i]);
			cr_assert_eq(r, 4, "%s, timeout %lld: %d (%s)", pt_mode_name(modes[m]),
				     (long long)huge[i], r, strerror(-r));
			cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
			pt_post(f.a.cmd, 's');
			pt_post(f.a.cmd, 'r');
			r = ipcc_call(f.cpu, 1, CH_CALL, "req-H", 6, buf, sizeof(buf), huge[i]);
			cr_assert_eq(r, 7, "call, timeout %lld: %d (%s)", (long long)huge[i], r,
				     strerror(-r));
			cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'H');
			cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
		}
		/* A wait that sleeps with the saturated deadline still ends by interrupt. */
		struct blocked b = { .cpu = f.cpu, .timeout = INT64_MAX - 1, .r = 1 };
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, serve_forever, &b), 0);
		pt_sleep_ms(20);
		ipcc_cpu_interrupt(f.cpu);
		pthread_join(t, NULL);
		cr_assert_eq(b.r, -EINTR);
		pt_pair_stop(&f);
	}
}
