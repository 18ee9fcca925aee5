/* SPDX-License-Identifier: MIT */
/*
 * A CPU served from the application's io_uring (ipcc/uring.h), fed by an exec'd peer.
 *
 * The test process is CPU 1 and waits for its interrupts on its own ring, in both forms:
 * IPCC_URING_POLL (a multishot poll on the eventfd of a CPU in eventfd mode) and
 * IPCC_URING_FUTEX (IORING_OP_FUTEX_WAIT on the doorbell word); ipcc_uring_complete runs the
 * dispatcher. The peer's pidfd is polled on the same ring, so an early exit ends the loop. The
 * peer (CPU 0) sends 100,000 simplex messages and makes 10,000 half-duplex calls; nothing may be
 * lost, duplicated, reordered or corrupted. Then the ipcc-uring-loop tool is run against the
 * peer.
 *
 * A libipcc built without liburing returns -EOPNOTSUPP from ipcc_uring_*: every test here then
 * skips, saying so. FUTEX tests skip on kernels without IORING_OP_FUTEX_WAIT.
 */
#include "event-test.h"

#if EV_HAVE_LIBURING
#include <liburing.h>
#endif

#define MSGS	100000u
#define CALLS	10000u
#define BUFFER	512u
#define RUN_NS	(30 * EV_SEC)
#define SIM_CH	0u
#define CALL_CH 1u

static struct ipcc_system *sys;
static struct ipcc_cpu *cpu, *cpu0;
#if EV_HAVE_LIBURING
static struct io_uring ring;
static bool ring_up;
#endif

static void teardown(void)
{
	ev_children_teardown();
#if EV_HAVE_LIBURING
	if (ring_up)
		io_uring_queue_exit(&ring);
	ring_up = false;
#endif
	ipcc_cpu_detach(cpu0);
	ipcc_cpu_detach(cpu);
	cpu = cpu0 = NULL;
	ipcc_system_close(sys);
	sys = NULL;
	ev_names_teardown();
}

TestSuite(uring, .fini = teardown, .timeout = 60);

/* Skip, with the reason, when libipcc has no io_uring support. */
static void require_uring(void)
{
	int r = ipcc_uring_prep_wait(NULL, NULL, IPCC_URING_POLL, 0);
	if (r == -EOPNOTSUPP)
		cr_skip_test("libipcc is built without liburing: ipcc_uring_prep_wait returns "
			     "-EOPNOTSUPP");
	cr_assert_eq(r, -EINVAL, "ipcc_uring_prep_wait(NULL, ...) = %d, want -EINVAL", r);
	cr_assert(EV_HAVE_LIBURING, "libipcc has io_uring support but the test was built without "
				    "liburing");
}

#if EV_HAVE_LIBURING

static void ring_init(void)
{
	int r = io_uring_queue_init(16, &ring, 0);
	cr_assert_eq(r, 0, "io_uring_queue_init: %s", strerror(-r));
	ring_up = true;
}

/* Skip, with the reason, when the kernel cannot FUTEX_WAIT on a ring. */
static void require_futex(void)
{
	int r = ipcc_uring_futex_supported(&ring);
	if (r != 1)
		cr_skip_test("no IORING_OP_FUTEX_WAIT here (ipcc_uring_futex_supported = %d): "
			     "Linux 6.7 or later needed",
			     r);
}

enum { TAG_IRQ = 1, TAG_PID, TAG_CANCEL };

struct uring_loop {
	enum ipcc_uring_wait how;
	bool irq_armed;
	bool pid_armed;
};

static int loop_arm_irq(struct uring_loop *u)
{
	int r = ipcc_uring_prep_wait(&ring, cpu, u->how, TAG_IRQ);
	if (r == 0)
		u->irq_armed = true;
	return r;
}

/* One completion of the loop; a negative errno on failure. */
static int loop_cqe(struct uring_loop *u, struct ev_rx *rx, const struct io_uring_cqe *cqe,
		    bool *exited)
{
	uint64_t tag = io_uring_cqe_get_data64(cqe);
	if (tag == TAG_IRQ) {
		bool rearm = false;
		int n = ipcc_uring_complete(cpu, u->how, cqe, &rearm);
		if (rearm)
			u->irq_armed = false;
		if (n < 0)
			return n;
		rx->events += (uint64_t)n;
	} else if (tag == TAG_PID) {
		u->pid_armed = false;
		*exited = true;
	}
	return 0;
}

/*
 * Cancel the requests still in flight and consume their completions: a FUTEX wait counts the
 * CPU as asleep until ipcc_uring_complete has seen its completion.
 */
static void loop_quiesce(struct uring_loop *u)
{
	struct ev_rx scratch = { 0 };
	bool exited = false;
	/* The loop submits every round: at most two entries are queued, of 16. */
	if (u->irq_armed) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		cr_assert_not_null(sqe);
		io_uring_prep_cancel64(sqe, TAG_IRQ, 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	if (u->pid_armed) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		cr_assert_not_null(sqe);
		io_uring_prep_cancel64(sqe, TAG_PID, 0);
		io_uring_sqe_set_data64(sqe, TAG_CANCEL);
	}
	io_uring_submit(&ring);
	int64_t deadline = ev_now_ns() + 2 * EV_SEC;
	while ((u->irq_armed || u->pid_armed) && ev_now_ns() < deadline) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { 0, 100 * EV_MS };
		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) < 0)
			continue;
		if (io_uring_cqe_get_data64(cqe) == TAG_IRQ && u->how == IPCC_URING_FUTEX)
			u->irq_armed = false; /* one-shot: no re-arm while quiescing */
		(void)loop_cqe(u, &scratch, cqe, &exited);
		io_uring_cqe_seen(&ring, cqe);
	}
	cr_expect(!u->irq_armed && !u->pid_armed, "requests still in flight after cancelling");
}

/*
 * The io_uring twin of ev_epoll_run: the interrupt wait and the peer's pidfd on one ring, until
 * rx has msgs messages and calls calls, the peer exits, or timeout_ns passes.
 */
static int uring_run(enum ipcc_uring_wait how, struct ev_rx *rx, int pidfd, uint64_t msgs,
		     uint64_t calls, int64_t timeout_ns)
{
	struct uring_loop u = { .how = how };
	int r = loop_arm_irq(&u);
	if (r < 0)
		return r;
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, pidfd, POLLIN);
	io_uring_sqe_set_data64(sqe, TAG_PID);
	u.pid_armed = true;

	int64_t deadline = ev_now_ns() + timeout_ns;
	int ret = EV_RUN_TIMEOUT;
	bool exited = false;
	for (;;) {
		if (ev_rx_done(rx, msgs, calls)) {
			ret = EV_RUN_DONE;
			break;
		}
		int64_t left = deadline - ev_now_ns();
		if (left <= 0)
			break;
		r = io_uring_submit(&ring);
		if (r < 0)
			break;
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { left / EV_SEC, left % EV_SEC };
		r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (r == -ETIME || r == -EINTR) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		rx->wakeups++;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe)
		{
			seen++;
			if (r == 0)
				r = loop_cqe(&u, rx, cqe, &exited);
		}
		io_uring_cq_advance(&ring, seen);
		if (r < 0)
			break;
		if (exited) {
			/* Its last messages are in the channels: take them. */
			r = ipcc_cpu_dispatch(cpu);
			if (r >= 0) {
				rx->events += (uint64_t)r;
				r = 0;
				ret = ev_rx_done(rx, msgs, calls) ? EV_RUN_DONE
								  : EV_RUN_PEER_EXITED;
			}
			break;
		}
		if (!u.irq_armed && (r = loop_arm_irq(&u)) < 0)
			break;
	}
	loop_quiesce(&u);
	return r < 0 ? r : ret;
}

static void uring_traffic(enum ipcc_uring_wait how)
{
	const char *name = ev_name();
	const char *how_name = how == IPCC_URING_POLL ? "POLL" : "FUTEX";
	char sends[16], calls[16];
	struct ev_rx rx;

	sys = ev_create(name, BUFFER, 0600);
	/* POLL waits on the eventfd; FUTEX on the doorbell word, which futex mode also sleeps on. */
	int r = ev_attach(sys, 1, how == IPCC_URING_POLL ? IPCC_WAIT_EVENTFD : IPCC_WAIT_FUTEX,
			  &cpu);
	cr_assert_eq(r, 0, "attach of CPU 1: %s", strerror(-r));
	ev_rx_register(&rx, cpu, 0, SIM_CH, CALL_CH);

	snprintf(sends, sizeof(sends), "%u", MSGS);
	snprintf(calls, sizeof(calls), "%u", CALLS);
	const char *argv[] = { ev_peer_path(), name,	 "--cpu", "0",	    "--peer", "1", "--wait",
			       "futex",	       "--send", sends,	  "--call", calls,    NULL };
	int64_t t0 = ev_now_ns();
	struct ev_child *peer = ev_spawn(argv);
	int run = uring_run(how, &rx, peer->pidfd, MSGS, CALLS, RUN_NS);
	double s = (double)(ev_now_ns() - t0) / EV_SEC;
	fprintf(stderr,
		"uring: %-5s loop, futex peer: %u msgs + %u calls in %.2f s; %llu wake-ups, %llu "
		"events\n",
		how_name, MSGS, CALLS, s, (unsigned long long)rx.wakeups,
		(unsigned long long)rx.events);
	if (run == EV_RUN_TIMEOUT)
		ev_dump(sys, peer);
	ev_expect_run(run, peer, how_name);
	ev_rx_expect(&rx, MSGS, CALLS);
	ev_expect_exit0(peer, 10 * EV_SEC, "the sending peer");
}

#endif /* EV_HAVE_LIBURING */

Test(uring, poll_loop_receives_and_serves_an_exec_peer)
{
	require_uring();
#if EV_HAVE_LIBURING
	ring_init();
	uring_traffic(IPCC_URING_POLL);
#endif
}

Test(uring, futex_loop_receives_and_serves_an_exec_peer)
{
	require_uring();
#if EV_HAVE_LIBURING
	ring_init();
	require_futex();
	uring_traffic(IPCC_URING_FUTEX);
#endif
}

Test(uring, poll_wait_on_a_cpu_without_eventfd_is_refused)
{
	require_uring();
#if EV_HAVE_LIBURING
	ring_init();
	sys = ev_create(ev_name(), BUFFER, 0600);
	int r = ev_attach(sys, 1, IPCC_WAIT_FUTEX, &cpu);
	cr_assert_eq(r, 0, "attach: %s", strerror(-r));
	r = ipcc_uring_prep_wait(&ring, cpu, IPCC_URING_POLL, TAG_IRQ);
	cr_assert_eq(r, -ENODEV, "POLL on a futex-mode CPU: %d, want -ENODEV", r);
	cr_assert_eq(io_uring_sq_ready(&ring), 0, "a refused wait left an SQE behind");
#endif
}

/*
 * A FUTEX wait queued while a ring is already pending must complete at once, even if another
 * ring arrives between the prep and the submission. Both CPUs are in this process so the order
 * is exact: a message on channel 0 leaves bell_pending set; the wait is queued; a message on
 * channel 1 rings again (bumping bell_seq) before io_uring_submit. The completion must come
 * within the bound. Regression test of 5dc4589.
 */
Test(uring, futex_wait_queued_with_a_ring_pending_survives_a_ring_before_submit)
{
	require_uring();
#if EV_HAVE_LIBURING
	ring_init();
	require_futex();
	sys = ev_create(ev_name(), BUFFER, 0600);
	int r = ev_attach(sys, 1, IPCC_WAIT_FUTEX, &cpu);
	cr_assert_eq(r, 0, "attach of CPU 1: %s", strerror(-r));
	r = ev_attach(sys, 0, IPCC_WAIT_FUTEX, &cpu0);
	cr_assert_eq(r, 0, "attach of CPU 0: %s", strerror(-r));
	struct ev_rx rx;
	ev_rx_register(&rx, cpu, 0, 0, 2);
	r = ipcc_recv_async(cpu, 0, 1, ev_on_msg, &rx);
	cr_assert_eq(r, 0, "ipcc_recv_async on channel 1: %s", strerror(-r));

	uint8_t msg[BUFFER];
	size_t len = evm_build(msg, BUFFER, EVM_MAGIC_MSG, 0);
	r = ipcc_send(cpu0, 1, 0, msg, len, 0);
	cr_assert_eq(r, 0, "send on channel 0: %s", strerror(-r));
	r = ipcc_uring_prep_wait(&ring, cpu, IPCC_URING_FUTEX, TAG_IRQ);
	cr_assert_eq(r, 0, "ipcc_uring_prep_wait: %s", strerror(-r));
	/* Number 1: the dispatcher takes channel 0 before channel 1, the tally wants them so. */
	len = evm_build(msg, BUFFER, EVM_MAGIC_MSG, 1);
	r = ipcc_send(cpu0, 1, 1, msg, len, 0);
	cr_assert_eq(r, 0, "send on channel 1: %s", strerror(-r));
	cr_assert_eq(io_uring_submit(&ring), 1);

	struct io_uring_cqe *cqe = NULL;
	struct __kernel_timespec ts = { 2, 0 };
	r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	if (r == -ETIME) {
		/* Wake it the way a third ring would, so that teardown finds no sleeper. */
		ipcc_send(cpu0, 1, 2, msg, len, 0);
		io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (cqe) {
			bool rearm;
			ipcc_uring_complete(cpu, IPCC_URING_FUTEX, cqe, &rearm);
			io_uring_cqe_seen(&ring, cqe);
		}
		cr_assert_fail("the FUTEX wait slept with two messages pending: it was queued "
			       "on bell_seq + 1, which the second ring made current before the "
			       "submission (lib/irq/uring.c:ipcc_uring_prep_wait)");
	}
	cr_assert_eq(r, 0, "io_uring_wait_cqe_timeout: %s", strerror(-r));
	bool rearm = false;
	int n = ipcc_uring_complete(cpu, IPCC_URING_FUTEX, cqe, &rearm);
	io_uring_cqe_seen(&ring, cqe);
	cr_assert_eq(n, 2, "the dispatcher handled %d events, want the 2 messages", n);
	cr_assert(rearm, "a FUTEX completion always asks for a re-arm");
	cr_assert_eq(rx.msgs.count, 2, "%llu messages received (%s)",
		     (unsigned long long)rx.msgs.count, rx.msgs.first);
#endif
}

/* ipcc-uring-loop (tools/uring) against exec'd peers: calls first, then messages. */
Test(uring, loop_tool_counts_messages_and_answers_calls)
{
	require_uring();
	const char *tool = getenv("IPCC_URING_LOOP");
	if (!tool || !*tool)
		cr_skip_test("ipcc-uring-loop is not built here (tools disabled)");
	const char *name = ev_name();
	sys = ev_create(name, BUFFER, 0600);

	const char *targv[] = { tool,
				name,
				"--cpu",
				"1",
				"--peer",
				"0",
				"--rx-channel",
				"0",
				"--call-channel",
				"1",
				"--messages",
				"20000",
				"--interval-ms",
				"100",
				NULL };
	struct ev_child *t = ev_spawn(targv);
	/* Its calls would wait for it anyway; waiting here turns a tool that fails to start into
	 * its own error message instead of a peer's watchdog. */
	struct ipcc_cpu_owner own = { 0 };
	int64_t deadline = ev_now_ns() + 10 * EV_SEC;
	while (ipcc_system_cpu_owner(sys, 1, &own) == 0 && !own.alive && ev_now_ns() < deadline) {
		cr_assert(!ev_wait(t, EV_MS), "the tool ended before attaching");
	}
	cr_assert(own.alive, "the tool did not attach CPU 1 within 10 s");

	const char *cargv[] = { ev_peer_path(), name,	"--cpu",      "0",    "--peer", "1",
				"--call",	"2000", "--response", "echo", NULL };
	ev_expect_exit0(ev_spawn(cargv), 20 * EV_SEC, "the calling peer");
	const char *sargv[] = { ev_peer_path(), name,	 "--cpu", "0", "--peer", "1",
				"--send",	"20000", NULL };
	ev_expect_exit0(ev_spawn(sargv), 20 * EV_SEC, "the sending peer");
	ev_expect_exit0(t, 10 * EV_SEC, "ipcc-uring-loop");

	char line[256];
	ev_last_line(t, line, sizeof(line));
	fprintf(stderr, "uring: tool said: %s\n", line);
	unsigned long long rx = 0, calls = 0;
	const char *p = strstr(line, " rx=");
	const char *q = strstr(line, " calls=");
	cr_assert(p && q && sscanf(p, " rx=%llu", &rx) == 1 &&
			  sscanf(q, " calls=%llu", &calls) == 1,
		  "no totals in the tool's last line: '%s'", line);
	cr_assert_eq(rx, 20000, "the tool counted %llu messages", rx);
	cr_assert_eq(calls, 2000, "the tool answered %llu calls", calls);
}
