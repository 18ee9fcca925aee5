/* SPDX-License-Identifier: MIT */
/*
 * An eventfd-mode CPU served from an epoll loop, fed by an exec'd peer in every wait mode.
 *
 * The test process is CPU 1 in IPCC_WAIT_EVENTFD mode: epoll on ipcc_cpu_fd, ipcc_cpu_dispatch on
 * readiness, ipcc_recv_async verifying 100,000 simplex messages and ipcc_serve_async answering
 * 10,000 half-duplex calls. The peer (ipcc-peer, fork+exec'd) is CPU 0 and sends, then calls,
 * in spin, futex, adaptive or eventfd mode. Nothing may be lost, duplicated, reordered or
 * corrupted (event-msg.h).
 *
 * The fallback: a ringer that cannot get the receiver's eventfd must still wake it. The peer
 * runs as `nobody` (the object made 0666 for it); the receiver's fd server refuses it (SO_PEERCRED:
 * neither our uid nor root), so every ring goes through bell_fallback and the receiver's fd
 * server thread. The test reads bell_fallback in the shared object to show which path ran.
 */
#include <pthread.h>
#include <pwd.h>
#include <sched.h>

#include "event-test.h"

#define MSGS	100000u
#define CALLS	10000u
#define BUFFER	512u
#define RUN_NS	(30 * EV_SEC)
#define SIM_CH	0u
#define CALL_CH 1u

static struct ipcc_system *sys;
static struct ipcc_cpu *cpu, *cpu0;

static void teardown(void)
{
	ev_fixture_teardown(&sys, &cpu, &cpu0);
}

TestSuite(epoll, .fini = teardown, .timeout = 60);

struct traffic {
	const char *mode;  /* the peer's wait mode */
	const char *style; /* "blocking", "loop" or NULL (the peer's default) */
	uid_t uid;	   /* the peer's uid, (uid_t)-1 for ours */
	/* results */
	struct ev_rx rx;
	uint32_t fallbacks;
	double seconds;
};

/* CPU 1 here in eventfd mode behind epoll; the peer CPU 0 sends MSGS, then makes CALLS calls. */
static void epoll_traffic(struct traffic *t)
{
	const char *name = ev_name();
	char sends[16], calls[16];

	sys = ev_create(name, BUFFER, t->uid == (uid_t)-1 ? 0600 : 0666);
	if (t->uid != (uid_t)-1) {
		/* The object is created under the umask: open it up for the other uid. */
		char path[96];
		snprintf(path, sizeof(path), "/dev/shm%s", name);
		cr_assert_eq(chmod(path, 0666), 0, "chmod %s: %s", path, strerror(errno));
	}
	int r = ev_attach(sys, 1, IPCC_WAIT_EVENTFD, &cpu);
	cr_assert_eq(r, 0, "attach of CPU 1 in eventfd mode: %s", strerror(-r));
	ev_rx_register(&t->rx, cpu, 0, SIM_CH, CALL_CH);
	uint32_t fb0 = ev_fallback_rings(sys, 1);

	snprintf(sends, sizeof(sends), "%u", MSGS);
	snprintf(calls, sizeof(calls), "%u", CALLS);
	const char *argv[] = { ev_peer_path(),
			       name,
			       "--cpu",
			       "0",
			       "--peer",
			       "1",
			       "--wait",
			       t->mode,
			       "--send",
			       sends,
			       "--call",
			       calls,
			       t->style ? "--style" : NULL,
			       t->style,
			       NULL };
	int64_t t0 = ev_now_ns();
	struct ev_child *peer = ev_spawn_as(argv, t->uid);
	int run = ev_epoll_run(cpu, &t->rx, peer->pidfd, MSGS, CALLS, RUN_NS, true);
	t->seconds = (double)(ev_now_ns() - t0) / EV_SEC;
	t->fallbacks = ev_fallback_rings(sys, 1) - fb0;

	fprintf(stderr,
		"epoll: peer %-8s %-8s%s: %u msgs + %u calls in %.2f s; %llu wake-ups, %llu "
		"eventfd "
		"writes, %llu events, %u fallback rings\n",
		t->mode, t->style ? t->style : "default", t->uid == (uid_t)-1 ? "" : " as nobody",
		MSGS, CALLS, t->seconds, (unsigned long long)t->rx.wakeups,
		(unsigned long long)t->rx.efd_writes, (unsigned long long)t->rx.events,
		t->fallbacks);
	if (run == EV_RUN_TIMEOUT)
		ev_dump(sys, peer);
	ev_expect_run(run, peer, "epoll");
	ev_rx_expect(&t->rx, MSGS, CALLS);
	ev_expect_exit0(peer, 10 * EV_SEC, "the sending peer");
}

/*
 * The peer got the fd (same uid): after the first request, rings write the eventfd directly;
 * fallback rings only bridge the time until the fd server answered. Checked on the futex peer
 * (the other modes print their count); a_ringer_of_the_same_uid_... checks it in isolation.
 */
static void expect_fd_obtained(const struct traffic *t)
{
	cr_expect_lt(t->fallbacks, 1000u,
		     "%u fallback rings for %u messages: the ringer never obtained the eventfd",
		     t->fallbacks, MSGS);
}

Test(epoll, receives_and_serves_a_spinning_peer)
{
	struct traffic t = { .mode = "spin", .uid = (uid_t)-1 };
	epoll_traffic(&t);
}

Test(epoll, receives_and_serves_a_futex_peer)
{
	struct traffic t = { .mode = "futex", .uid = (uid_t)-1 };
	epoll_traffic(&t);
	expect_fd_obtained(&t);
}

Test(epoll, receives_and_serves_an_adaptive_peer)
{
	struct traffic t = { .mode = "adaptive", .uid = (uid_t)-1 };
	epoll_traffic(&t);
}

/* Both sides in eventfd mode: the peer waits for TX free and responses through its own fd. */
Test(epoll, receives_and_serves_an_eventfd_peer_in_its_own_loop)
{
	struct traffic t = { .mode = "eventfd", .style = "loop", .uid = (uid_t)-1 };
	epoll_traffic(&t);
}

/* An eventfd-mode peer that still uses the blocking calls: they sleep on the futex. */
Test(epoll, receives_and_serves_an_eventfd_peer_using_blocking_calls)
{
	struct traffic t = { .mode = "eventfd", .style = "blocking", .uid = (uid_t)-1 };
	epoll_traffic(&t);
}

Test(epoll, wakes_through_the_fallback_when_the_ringer_is_refused_the_fd)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to run the peer as another uid");
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		cr_skip_test("no user 'nobody' to run the peer as");
	const char *peer = ev_peer_path();
	if (access(peer, R_OK | X_OK) != 0)
		cr_skip_test("%s: %s", peer, strerror(errno));

	struct traffic t = { .mode = "futex", .uid = pw->pw_uid };
	epoll_traffic(&t);
	/*
	 * Every wake-up the peer caused came through bell_fallback and our fd server thread: it
	 * cannot hold our fd. A futex peer blocks on the one-message channel, so we go back to
	 * epoll (and get rung) for a good part of the messages; 1 in 100 is a floor far below it.
	 */
	cr_expect_gt(t.fallbacks, MSGS / 100,
		     "only %u fallback rings for %u messages: was the fd handed out to uid %u?",
		     t.fallbacks, MSGS, (unsigned)pw->pw_uid);
}

/*
 * A fallback ring that comes before the CPU's fd server thread has first run must still wake
 * the CPU. To make "before" certain, this thread runs SCHED_FIFO on one CPU while it attaches:
 * the fd server thread inherits both and cannot run until this thread blocks, which it does
 * only in poll(), after the ring. CPU 0 rings from this very process; its first ring to CPU 1
 * always falls back (the fd request is still in flight). Regression test of 5c212f3.
 */
Test(epoll, a_fallback_ring_before_the_fd_server_first_runs_wakes_the_cpu)
{
	struct sched_param rt = { .sched_priority = 1 }, normal = { 0 };
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	cr_assert_eq(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
	int r = pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt);
	if (r == EPERM)
		cr_skip_test("needs SCHED_FIFO (root or CAP_SYS_NICE) to order the threads");
	cr_assert_eq(r, 0, "pthread_setschedparam: %s", strerror(r));

	/* No assert until the scheduling is back to normal: only record what failed. */
	sys = ev_create(ev_name(), BUFFER, 0600);
	struct ev_rx rx = { .cap = BUFFER };
	r = ev_attach(sys, 1, IPCC_WAIT_EVENTFD, &cpu);
	if (!r)
		r = ev_attach(sys, 0, IPCC_WAIT_FUTEX, &cpu0);
	if (!r)
		r = ipcc_recv_async(cpu, 0, SIM_CH, ev_on_msg, &rx);
	uint8_t msg[BUFFER];
	size_t len = evm_build(msg, BUFFER, EVM_MAGIC_MSG, 0);
	uint32_t fb0 = ev_fallback_rings(sys, 1);
	if (!r)
		r = ipcc_send(cpu0, 1, SIM_CH, msg, len, 0);
	uint32_t fallbacks = ev_fallback_rings(sys, 1) - fb0;

	/* Blocks: now the fd server thread runs, for the first time. */
	struct pollfd pfd = { .fd = cpu ? ipcc_cpu_fd(cpu) : -1, .events = POLLIN };
	int n = r ? -1 : poll(&pfd, 1, 2000);
	pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
	cr_assert_eq(r, 0, "setup: %s", strerror(-r));
	cr_assert_eq(fallbacks, 1, "the first ring took %u fallback rings, want 1", fallbacks);
	int d = ipcc_cpu_dispatch(cpu);
	cr_assert_eq(n, 1,
		     "the fallback ring was lost: the eventfd stayed silent for 2 s with a message "
		     "pending (lib/irq/eventfd.c:efd_server_main takes its starting bell_fallback "
		     "when the thread first runs, after the ring)");
	cr_assert_eq(d, 1);
	cr_assert_eq(rx.msgs.count, 1);
}

/*
 * A ringer of our own uid asks for the eventfd once and then writes it itself: after the first
 * ring (which falls back while the request is answered) no ring needs the fd server thread.
 * Here the ringer is CPU 0 in this process; between rings the loop sleeps in poll(), which lets
 * the fd server thread answer. Regression test of 5c212f3.
 */
Test(epoll, a_ringer_of_the_same_uid_obtains_the_eventfd_after_its_first_ring)
{
	sys = ev_create(ev_name(), BUFFER, 0600);
	int r = ev_attach(sys, 1, IPCC_WAIT_EVENTFD, &cpu);
	cr_assert_eq(r, 0, "attach of CPU 1: %s", strerror(-r));
	r = ev_attach(sys, 0, IPCC_WAIT_FUTEX, &cpu0);
	cr_assert_eq(r, 0, "attach of CPU 0: %s", strerror(-r));

	/* Let the fd server thread start first: a ring before that is the previous test's case. */
	ev_sleep_ms(50);
	uint32_t fallbacks = ev_rings_counted(cpu0, cpu, SIM_CH, 100);
	cr_assert_leq(fallbacks, 2,
		      "%u of 100 rings fell back: the ringer never kept the eventfd "
		      "(lib/bell/bell-eventfd.c:ipcc_bell_eventfd_ring drops its request in "
		      "flight while e->gen, set only on success, differs from the owner's "
		      "generation)",
		      fallbacks);
}
