/* SPDX-License-Identifier: MIT */
/*
 * Mixed wait modes, the other way round from test_epoll.c: the exec'd peer (CPU 0) is in
 * eventfd mode and the test process (CPU 1) in futex mode, with the blocking calls.
 *
 * The peer sends 100,000 simplex messages, then makes 10,000 half-duplex calls. In its own
 * event loop (--style loop) it waits for TX free (ipcc_send_async) and for each response
 * (ipcc_call_async) through its eventfd, so every ring of ours must reach its fd; with blocking
 * calls in eventfd mode it sleeps on the futex instead. And the fallback the other way: a peer
 * of another uid, whose fd server we (root) refuse to take an fd from, is still woken through
 * its bell_fallback.
 */
#include <pwd.h>

#include "event-test.h"

#define MSGS	100000u
#define CALLS	10000u
#define BUFFER	512u
#define OP_NS	(10 * EV_SEC) /* one message or call: generous on a loaded 2-core VM */
#define SIM_CH	0u
#define CALL_CH 1u

static struct ipcc_system *sys;
static struct ipcc_cpu *cpu;

static void teardown(void)
{
	ev_children_teardown();
	ipcc_cpu_detach(cpu);
	cpu = NULL;
	ipcc_system_close(sys);
	sys = NULL;
	ev_names_teardown();
}

TestSuite(mixed, .fini = teardown, .timeout = 60);

static void fail_op(const char *what, uint64_t i, int r, struct ev_child *peer)
{
	char buf[96];
	if (r == -EPIPE && ev_wait(peer, 5 * EV_SEC))
		cr_assert_fail("%s %llu: -EPIPE: the peer ended with %s", what,
			       (unsigned long long)i,
			       ev_status_str(peer->status, buf, sizeof(buf)));
	if (r == -ETIMEDOUT)
		ev_dump(sys, peer);
	cr_assert_fail("%s %llu: %d (%s)", what, (unsigned long long)i, r, strerror(-r));
}

/* Receive MSGS and serve CALLS with the blocking calls of a futex-mode CPU 1. */
static void futex_receiver(const char *style, uid_t uid, uint32_t *ret_fallbacks)
{
	const char *name = ev_name();
	char sends[16], calls[16];
	uint8_t buf[BUFFER];

	sys = ev_create(name, BUFFER, 0600);
	if (uid != (uid_t)-1) {
		char path[96];
		snprintf(path, sizeof(path), "/dev/shm%s", name);
		cr_assert_eq(chmod(path, 0666), 0, "chmod %s: %s", path, strerror(errno));
	}
	int r = ev_attach(sys, 1, IPCC_WAIT_FUTEX, &cpu);
	cr_assert_eq(r, 0, "attach of CPU 1 in futex mode: %s", strerror(-r));
	/* Relaxed: a counter read for the report. */
	_Atomic uint32_t *fb = &ipcc_shm_cpu(sys, 0)->bell_fallback;
	uint32_t fb0 = atomic_load_explicit(fb, memory_order_relaxed);

	snprintf(sends, sizeof(sends), "%u", MSGS);
	snprintf(calls, sizeof(calls), "%u", CALLS);
	const char *argv[] = { ev_peer_path(), name,	  "--cpu",   "0",   "--peer", "1",
			       "--wait",       "eventfd", "--style", style, "--send", sends,
			       "--call",       calls,	  NULL };
	int64_t t0 = ev_now_ns();
	struct ev_child *peer = ev_spawn_as(argv, uid);

	struct evm_tally msgs = { 0 }, reqs = { 0 };
	for (uint64_t i = 0; i < MSGS; i++) {
		r = ipcc_recv(cpu, 0, SIM_CH, buf, sizeof(buf), OP_NS);
		if (r < 0)
			fail_op("message", i, r, peer);
		evm_tally_take(&msgs, buf, (size_t)r, BUFFER, EVM_MAGIC_MSG);
		cr_assert_eq(msgs.errors, 0, "simplex stream: %s", msgs.first);
	}
	for (uint64_t i = 0; i < CALLS; i++) {
		r = ipcc_serve(cpu, 0, CALL_CH, buf, sizeof(buf), OP_NS);
		if (r < 0)
			fail_op("call", i, r, peer);
		evm_tally_take(&reqs, buf, (size_t)r, BUFFER, EVM_MAGIC_REQ);
		cr_assert_eq(reqs.errors, 0, "calls: %s", reqs.first);
		evm_transform(buf, (size_t)r);
		int w = ipcc_reply(cpu, 0, CALL_CH, buf, (size_t)r);
		cr_assert_eq(w, 0, "ipcc_reply %llu: %s", (unsigned long long)i, strerror(-w));
	}
	ev_expect_exit0(peer, 10 * EV_SEC, "the eventfd-mode peer");
	uint32_t fallbacks = atomic_load_explicit(fb, memory_order_relaxed) - fb0;
	fprintf(stderr,
		"mixed: eventfd peer (%s%s) -> futex CPU: %u msgs + %u calls in %.2f s; %u "
		"fallback "
		"rings to the peer\n",
		style, uid == (uid_t)-1 ? "" : ", as nobody", MSGS, CALLS,
		(double)(ev_now_ns() - t0) / EV_SEC, fallbacks);
	cr_assert_eq(msgs.count, MSGS);
	cr_assert_eq(reqs.count, CALLS);
	*ret_fallbacks = fallbacks;
}

/* The peer waits for TX free and for its responses in poll() on its eventfd. */
Test(mixed, eventfd_peer_in_its_loop_sends_and_calls_to_a_futex_cpu)
{
	uint32_t fallbacks;
	futex_receiver("loop", (uid_t)-1, &fallbacks);
	cr_expect_lt(fallbacks, 1000u, "%u fallback rings: we never obtained the peer's eventfd",
		     fallbacks);
}

/* Blocking calls in eventfd mode sleep on the futex; rings also write the (unread) eventfd. */
Test(mixed, eventfd_peer_with_blocking_calls_sends_and_calls_to_a_futex_cpu)
{
	uint32_t fallbacks;
	futex_receiver("blocking", (uid_t)-1, &fallbacks);
}

/*
 * The peer runs as nobody: we are root, and a ringer takes an fd only from a server of its own
 * uid or root (lib/irq/eventfd.c:cred_ok), so every ring of ours that finds the peer armed goes
 * through its bell_fallback and its fd server thread.
 */
Test(mixed, eventfd_peer_of_another_uid_is_woken_through_its_fallback)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to run the peer as another uid");
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		cr_skip_test("no user 'nobody' to run the peer as");
	const char *peer = ev_peer_path();
	if (access(peer, R_OK | X_OK) != 0)
		cr_skip_test("%s: %s", peer, strerror(errno));
	uint32_t fallbacks;
	futex_receiver("loop", pw->pw_uid, &fallbacks);
	/* In its loop the peer sleeps in poll() for nearly every TX free and response. */
	cr_expect_gt(fallbacks, CALLS, "only %u fallback rings: did we get the fd of uid %u?",
		     fallbacks, (unsigned)pw->pw_uid);
}
