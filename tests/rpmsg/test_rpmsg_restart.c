/* SPDX-License-Identifier: MIT */
/*
 * RPMessage across a peer's death and restart. This process is CPU 0 (end point 1, no
 * interrupt thread); CPU 1 is a scripted peer (end point 2, queue mode) that is killed with
 * SIGKILL, and a second, deferred process that attaches CPU 1 again afterwards (forked at the
 * start, while this process has no threads).
 *
 * What a user relies on (rpmsg.h, "Peer restarts"): a send blocked for a buffer of the dead
 * (or detached) CPU's pair ends with -EPIPE, and so does a receive blocked on an end point whose last send
 * went to it; when the CPU attaches again, the packets queued to its previous incarnation are
 * dropped (stats.dropped), the buffers that incarnation held come back (stats.reclaimed), the
 * packets a dead sender left in the survivor's queue are dropped (stats.stale), and traffic
 * resumes with no action but retrying: nothing of the previous incarnation is delivered.
 */
#include "rpmsg-test.h"

#define CAP	  (IPCC_RPMSG_BUFFER_SIZE_DEFAULT - IPCC_RPMSG_HEADER_SIZE)
#define SEND_WAIT (20 * PT_SEC)

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(rpmsg_restart, .fini = teardown, .timeout = 120);

/* The stream 0:1 -> 1:2 of incarnation `gen` of CPU 1 (another stream for each). */
static uint32_t to_peer(unsigned gen)
{
	return rt_stream(0, 1, 2) | (uint32_t)gen << 30;
}

static uint32_t from_peer(unsigned gen)
{
	return rt_stream(1, 2, 1) | (uint32_t)gen << 30;
}

/* ---- the peer (CPU 1) ------------------------------------------------------------------------ */

struct peer {
	struct pt_script s; /* first: the script's fn gets this struct */
	unsigned gen;	    /* 0: the first incarnation, 1: the restart */
};

static int peer_main(void *p)
{
	struct peer *pe = p;
	struct ipcc_system *sys;
	pt_script_wait_go(&pe->s);
	struct ipcc_cpu *cpu = peer_attach(pe->s.name, 1, pe->s.mode, 0, &sys);
	struct ipcc_rpmsg_ep *ep = peer_ep(cpu, 2, NULL, NULL), *extra = NULL;
	struct pt_tally t = { 0 };
	uint64_t out = 0;
	pt_post(pe->s.ack, 'a');
	for (;;) {
		int c = pt_await(pe->s.cmd, 60 * PT_SEC);
		PEER_CHECK(c >= 0, "no command");
		if (c == 'x')
			break;
		uint8_t buf[CAP];
		const void *data;
		uint32_t len = 0;
		unsigned rc = 99, re = 99;
		int r;
		switch (c) {
		case 'h': /* take one packet by zero copy and keep it */
			r = ipcc_rpmsg_recv_nocopy(ep, &data, &len, &rc, &re, PT_LONG);
			PEER_CHECK(r == 0, "recv_nocopy: %s", strerror(-r));
			PEER_CHECK(pt_msg_take(&t, data, len, to_peer(pe->gen), CAP),
				   "incarnation %u: " PT_TALLY_FMT, pe->gen, PT_TALLY_ARGS(&t));
			break;
		case 'r': /* take one packet */
			r = ipcc_rpmsg_recv(ep, buf, sizeof(buf), &len, &rc, &re, PT_LONG);
			PEER_CHECK(r == 0, "recv: %s", strerror(-r));
			PEER_CHECK(rc == 0 && re == 1, "from %u:%u", rc, re);
			PEER_CHECK(pt_msg_take(&t, buf, len, to_peer(pe->gen), CAP),
				   "incarnation %u got a packet not its own: " PT_TALLY_FMT,
				   pe->gen, PT_TALLY_ARGS(&t));
			break;
		case 'e': /* nothing more is there */
			r = ipcc_rpmsg_recv(ep, buf, sizeof(buf), &len, &rc, &re, 0);
			PEER_CHECK(r == -EAGAIN, "a packet more (%u bytes from %u:%u): %d", len, rc,
				   re, r);
			break;
		case 'n': /* open end point 7 and announce a name on it */
			PEER_CHECK(ipcc_rpmsg_ep_create(cpu, 7, NULL, NULL, &extra) == 0, "ep 7");
			r = ipcc_rpmsg_announce(extra, "gen0", IPCC_RPMSG_CPU_ALL);
			PEER_CHECK(r == 0, "announce: %s", strerror(-r));
			break;
		case 'B': /* send 8 packets to 0:1: every buffer of the pair, none waited for */
		case 's': /* send 3 packets to 0:1 */
			for (int i = 0; i < (c == 'B' ? 8 : 3); i++, out++) {
				len = rt_fill(buf, from_peer(pe->gen), out, CAP);
				r = ipcc_rpmsg_send(cpu, buf, len, 0, 1, 2, 0);
				PEER_CHECK(r == 0, "incarnation %u: send %d of '%c': %s", pe->gen,
					   i, c, strerror(-r));
			}
			break;
		default:
			PEER_CHECK(0, "command '%c'", c);
		}
		pt_post(pe->s.ack, 'k');
	}
	ipcc_rpmsg_ep_close(ep);
	ipcc_rpmsg_ep_close(extra);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

/* ---- the test side ----------------------------------------------------------------------------- */

struct fixture {
	struct ipcc_system *sys;
	struct peer first, second;
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	uint64_t seq[2]; /* next packet to each incarnation */
};

static void fixture_start(struct fixture *f, enum ipcc_wait_mode mode)
{
	f->sys = rt_system(2, 0, 0);
	const char *name = ipcc_system_name(f->sys);
	f->first.gen = 0;
	f->second.gen = 1;
	f->seq[0] = f->seq[1] = 0;
	pt_script_fork(&f->second.s, name, mode, true, peer_main, 100);
	pt_script_fork(&f->first.s, name, mode, false, peer_main, 100);
	cr_assert_eq(pt_await(f->first.s.ack, PT_LONG), 'a', "the peer did not attach");
	f->cpu = pt_attach(f->sys, 0, mode, 0);
	f->ep = rt_ep(f->cpu, 1, NULL, NULL);
}

static void fixture_stop(struct fixture *f)
{
	pt_script_stop(&f->second.s);
	ipcc_rpmsg_ep_close(f->ep);
	ipcc_cpu_detach(f->cpu);
	ipcc_system_close(f->sys);
}

static int send_to(struct fixture *f, unsigned gen, int64_t timeout_ns)
{
	uint8_t buf[CAP];
	uint32_t len = rt_fill(buf, to_peer(gen), f->seq[gen], CAP);
	int r = ipcc_rpmsg_send(f->cpu, buf, len, 1, 2, 1, timeout_ns);
	if (r == 0)
		f->seq[gen]++;
	return r;
}

static void kill_first(struct fixture *f)
{
	cr_assert_eq(kill(f->first.s.pid, SIGKILL), 0);
	int st = pt_reap(f->first.s.pid, PT_LONG);
	cr_assert(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		  "the first incarnation did not die of the SIGKILL (status %d)", st);
}

static void restart(struct fixture *f)
{
	pt_script_go(&f->second.s);
}

/* After the restart: packets to the new incarnation arrive, and nothing else. */
static void traffic_resumes(struct fixture *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int r = send_to(f, 1, SEND_WAIT);
		cr_assert_eq(r, 0, "send %u to the new incarnation: %s", i, strerror(-r));
		cr_assert_eq(pt_script_cmd(&f->second.s, 'r'), 'k', "packet %u", i);
	}
	cr_assert_eq(pt_script_cmd(&f->second.s, 'e'), 'k');
}

struct call {
	struct fixture *f;
	bool recv;
	int r;
};

static void *call_main(void *p)
{
	struct call *c = p;
	if (c->recv) {
		uint8_t buf[CAP];
		uint32_t len;
		do
			c->r = ipcc_rpmsg_recv(c->f->ep, buf, sizeof(buf), &len, NULL, NULL,
					       SEND_WAIT);
		while (c->r == -EBUSY);
	} else {
		c->r = send_to(c->f, 0, SEND_WAIT);
	}
	return NULL;
}

/* The end of the first incarnation: SIGKILL, or a clean detach and exit ('x'). */
static void end_first(struct fixture *f, bool kill9)
{
	if (kill9) {
		kill_first(f);
		return;
	}
	pt_post(f->first.s.cmd, 'x');
	pt_expect_exit0(f->first.s.pid, PT_LONG, "the first incarnation");
}

static void blocked_send_gets_epipe(enum ipcc_wait_mode mode, bool kill9)
{
	struct fixture f;
	fixture_start(&f, mode);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(send_to(&f, 0, 0), 0, "send %u", i);
	cr_assert_eq(send_to(&f, 0, 0), -EAGAIN);
	struct call c = { .f = &f };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, call_main, &c), 0);
	/* The send is waiting once it counted its nobuf (a state, not a time). */
	struct ipcc_rpmsg_stats st = rt_await_nobuf(f.sys, 0, 1, 2);
	end_first(&f, kill9);
	pthread_join(t, NULL);
	cr_assert_eq(c.r, -EPIPE, "a send blocked for the buffer of a CPU %s: %s",
		     kill9 ? "killed" : "detached", strerror(-c.r));

	/* Its 8 packets were never taken: the restart drops them. */
	restart(&f);
	traffic_resumes(&f, 20);
	st = rt_stats(f.sys, 0, 1);
	cr_assert(st.dropped == 8 && !st.bad, "8 packets queued to the dead one: " RT_STATS_FMT,
		  RT_STATS_ARGS(st));
	fixture_stop(&f);
}

ParameterizedTestParameters(rpmsg_restart, a_send_blocked_for_a_dead_cpus_buffer_ends_with_epipe)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, rpmsg_restart,
		  a_send_blocked_for_a_dead_cpus_buffer_ends_with_epipe)
{
	blocked_send_gets_epipe(*mode, true);
}

Test(rpmsg_restart, a_send_blocked_for_the_buffer_of_a_cpu_that_detaches_ends_with_epipe)
{
	blocked_send_gets_epipe(IPCC_WAIT_FUTEX, false);
}

static void blocked_recv_gets_epipe(enum ipcc_wait_mode mode)
{
	struct fixture f;
	fixture_start(&f, mode);
	cr_assert_eq(send_to(&f, 0, 0), 0);
	cr_assert_eq(pt_script_cmd(&f.first.s, 'r'), 'k');
	struct call c = { .f = &f, .recv = true };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, call_main, &c), 0);
	rt_await_recv_busy(f.ep);
	kill_first(&f);
	pthread_join(t, NULL);
	cr_assert_eq(c.r, -EPIPE, "a receive waiting for the dead reply partner: %s",
		     strerror(-c.r));
	restart(&f);
	traffic_resumes(&f, 10);
	fixture_stop(&f);
}

ParameterizedTestParameters(rpmsg_restart,
			    a_receive_whose_last_send_went_to_the_dead_cpu_ends_with_epipe)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, rpmsg_restart,
		  a_receive_whose_last_send_went_to_the_dead_cpu_ends_with_epipe)
{
	blocked_recv_gets_epipe(*mode);
}

Test(rpmsg_restart, the_new_incarnations_end_points_and_names_replace_the_old_ones)
{
	struct fixture f;
	fixture_start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(pt_script_cmd(&f.first.s, 'n'), 'k');
	unsigned rc = 99, re = 99;
	cr_assert_eq(ipcc_rpmsg_lookup(f.cpu, "gen0", PT_LONG, &rc, &re), 0);
	cr_assert(rc == 1 && re == 7, "found %u:%u", rc, re);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(f.sys, 1, 7), 1);
	kill_first(&f);
	restart(&f);
	/* The new one opened end point 2 only, and announced nothing. */
	cr_assert_eq(ipcc_rpmsg_ep_is_open(f.sys, 1, 7), 0, "the old incarnation's end point");
	cr_assert_eq(ipcc_rpmsg_ep_is_open(f.sys, 1, 2), 1);
	cr_assert_eq(ipcc_rpmsg_names(f.sys, 1, NULL, 0), 0, "the old incarnation's names");
	cr_assert_eq(ipcc_rpmsg_lookup(f.cpu, "gen0", 0, &rc, &re), -EAGAIN,
		     "the old incarnation's name was found (%u:%u)", rc, re);
	uint8_t buf[8] = { 0 };
	cr_assert_eq(ipcc_rpmsg_send(f.cpu, buf, 1, 1, 7, 1, 0), -ECONNREFUSED);
	traffic_resumes(&f, 5);
	fixture_stop(&f);
}

Test(rpmsg_restart, buffers_the_dead_cpu_held_come_back_and_its_queued_packets_are_dropped)
{
	struct fixture f;
	fixture_start(&f, IPCC_WAIT_FUTEX);
	/* 5 held by zero copy; then 3 left in the full queue (the peer takes nothing unless a
	 * command makes it: no interrupt thread). */
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(send_to(&f, 0, 0), 0, "send %u", i);
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(pt_script_cmd(&f.first.s, 'h'), 'k', "hold %u", i);
	for (unsigned i = 5; i < 8; i++)
		cr_assert_eq(send_to(&f, 0, 0), 0, "send %u", i);
	cr_assert_eq(send_to(&f, 0, 0), -EAGAIN);
	struct ipcc_rpmsg_stats st = rt_stats(f.sys, 0, 1);
	cr_assert(st.received == 5 && st.full == 3, RT_STATS_FMT, RT_STATS_ARGS(st));
	kill_first(&f);
	/* Dead but not yet restarted: its end points still look open, its buffers are gone. */
	cr_assert_eq(ipcc_rpmsg_ep_is_open(f.sys, 1, 2), 1);
	cr_assert_eq(send_to(&f, 0, 0), -EAGAIN);
	restart(&f);
	st = rt_stats(f.sys, 0, 1);
	cr_assert(st.reclaimed == 5 && st.dropped == 3 && !st.bad,
		  "5 held and 3 queued by the dead one: " RT_STATS_FMT, RT_STATS_ARGS(st));
	/* All 8 buffers are the sender's again: 8 sends with timeout 0 go at once. */
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(send_to(&f, 1, 0), 0, "send %u after the restart", i);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(pt_script_cmd(&f.second.s, 'r'), 'k', "packet %u", i);
	cr_assert_eq(pt_script_cmd(&f.second.s, 'e'), 'k');
	traffic_resumes(&f, 10);
	fixture_stop(&f);
}

Test(rpmsg_restart, packets_a_dead_sender_left_are_stale_and_never_delivered)
{
	struct fixture f;
	fixture_start(&f, IPCC_WAIT_FUTEX);
	/* The first incarnation sends 3 packets that this CPU does not take before it dies. */
	cr_assert_eq(pt_script_cmd(&f.first.s, 's'), 'k');
	kill_first(&f);
	restart(&f);
	cr_assert_eq(pt_script_cmd(&f.second.s, 's'), 'k');
	uint8_t buf[CAP];
	struct pt_tally t = { 0 };
	for (unsigned i = 0; i < 3; i++) {
		uint32_t len = 0;
		unsigned rc = 99, re = 99;
		int r = ipcc_rpmsg_recv(f.ep, buf, sizeof(buf), &len, &rc, &re, PT_LONG);
		cr_assert_eq(r, 0, "packet %u of the new incarnation: %s", i, strerror(-r));
		cr_assert(rc == 1 && re == 2, "from %u:%u", rc, re);
		cr_assert(pt_msg_take(&t, buf, len, from_peer(1), CAP),
			  "packet %u is not the new incarnation's: " PT_TALLY_FMT, i,
			  PT_TALLY_ARGS(&t));
	}
	uint32_t len;
	cr_assert_eq(ipcc_rpmsg_recv(f.ep, buf, sizeof(buf), &len, NULL, NULL, 0), -EAGAIN);
	struct ipcc_rpmsg_stats st = rt_stats(f.sys, 1, 0);
	cr_assert(st.stale == 3 && !st.bad, RT_STATS_FMT, RT_STATS_ARGS(st));
	traffic_resumes(&f, 5);
	fixture_stop(&f);
}

/*
 * Buffers this CPU holds from a sender that then died: released after its restart, they go to
 * the new incarnation, which then has all eight again.
 */
Test(rpmsg_restart, buffers_held_from_a_sender_that_restarted_are_released_to_its_successor)
{
	struct fixture f;
	fixture_start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(pt_script_cmd(&f.first.s, 's'), 'k');
	const void *held[3];
	struct pt_tally t = { 0 };
	for (unsigned i = 0; i < 3; i++) {
		uint32_t len = 0;
		int r = ipcc_rpmsg_recv_nocopy(f.ep, &held[i], &len, NULL, NULL, PT_LONG);
		cr_assert_eq(r, 0, "recv_nocopy %u: %s", i, strerror(-r));
		cr_assert(pt_msg_take(&t, held[i], len, from_peer(0), CAP), PT_TALLY_FMT,
			  PT_TALLY_ARGS(&t));
	}
	kill_first(&f);
	restart(&f);
	for (unsigned i = 0; i < 3; i++) {
		int r = ipcc_rpmsg_release(f.cpu, held[i]);
		cr_assert_eq(r, 0, "release %u after the sender's restart: %s", i, strerror(-r));
	}
	cr_assert_eq(ipcc_rpmsg_release(f.cpu, held[0]), -EALREADY);
	cr_assert_eq(pt_script_cmd(&f.second.s, 'B'), 'k', "the new incarnation has 8 buffers");
	struct pt_tally t1 = { 0 };
	uint8_t buf[CAP];
	for (unsigned i = 0; i < 8; i++) {
		uint32_t len = 0;
		unsigned rc = 99, re = 99;
		int r = ipcc_rpmsg_recv(f.ep, buf, sizeof(buf), &len, &rc, &re, PT_LONG);
		cr_assert_eq(r, 0, "packet %u: %s", i, strerror(-r));
		cr_assert(pt_msg_take(&t1, buf, len, from_peer(1), CAP), "packet %u: " PT_TALLY_FMT,
			  i, PT_TALLY_ARGS(&t1));
	}
	uint32_t len;
	cr_assert_eq(ipcc_rpmsg_recv(f.ep, buf, sizeof(buf), &len, NULL, NULL, 0), -EAGAIN);
	fixture_stop(&f);
}
