/* SPDX-License-Identifier: MIT */
/*
 * The RPMessage name service between processes. A server peer (CPU 1) opens end point 13,
 * announces a name and echoes every packet back to its sender from a thread, until told to
 * close the end point. This process is the client (CPU 0, and CPU 2 where a second client is
 * needed): it looks the name up and talks to what it found.
 *
 * What a user relies on: a lookup started before the server exists waits and finds it (no
 * race between "server up" and "client looks"); an announcement made before the client
 * attached is found too; a lookup of a name nobody announces times out; a name announced to
 * one CPU is not seen by another; closing the end point withdraws the name, and a watcher
 * (ipcc_rpmsg_ns_watch) sees it come up and go down.
 */
#include "rpmsg-test.h"

#define SERVER_EP 13u

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(rpmsg_ns, .fini = teardown, .timeout = 90);

/* ---- the server ----------------------------------------------------------------------------- */

struct server {
	struct pt_script s; /* first: the script's fn gets this struct */
	const char *service;
	unsigned to; /* announce to: a CPU, or IPCC_RPMSG_CPU_ALL */
};

struct echo {
	struct ipcc_rpmsg_ep *ep;
	int r;
	unsigned echoed;
};

static void *echo_main(void *p)
{
	struct echo *e = p;
	struct ipcc_cpu *cpu = ipcc_rpmsg_ep_cpu(e->ep);
	uint8_t buf[IPCC_RPMSG_BUFFER_SIZE_DEFAULT];
	for (;;) {
		uint32_t len = 0;
		unsigned rc = 0, re = 0;
		e->r = ipcc_rpmsg_recv(e->ep, buf, sizeof(buf), &len, &rc, &re,
				       IPCC_TIMEOUT_INFINITE);
		if (e->r)
			return NULL;
		e->r = ipcc_rpmsg_send(cpu, buf, len, rc, re, SERVER_EP, PT_LONG);
		if (e->r)
			return NULL;
		e->echoed++;
	}
}

static int server_main(void *p)
{
	struct server *sv = p;
	struct ipcc_system *sys;
	pt_script_wait_go(&sv->s);
	struct ipcc_cpu *cpu =
		peer_attach(sv->s.name, 1, sv->s.mode, rt_irq_flags(sv->s.mode), &sys);
	struct rt_dispatcher disp;
	bool efd = sv->s.mode == IPCC_WAIT_EVENTFD;
	if (efd)
		PEER_CHECK(rt_dispatcher_start(&disp, cpu) == 0, "dispatcher");
	struct echo e = { .ep = peer_ep(cpu, SERVER_EP, NULL, NULL) };
	pthread_t t;
	PEER_CHECK(pthread_create(&t, NULL, echo_main, &e) == 0, "thread");
	int r = ipcc_rpmsg_announce(e.ep, sv->service, sv->to);
	PEER_CHECK(r == 0, "announce %s: %s", sv->service, strerror(-r));
	pt_post(sv->s.ack, 'a');
	bool open = true;
	for (;;) {
		int c = pt_await(sv->s.cmd, 60 * PT_SEC);
		PEER_CHECK(c >= 0, "no command");
		if (c == 'x')
			break;
		PEER_CHECK(c == 'c' && open, "command '%c'", c);
		/* Close the end point: stop the echo thread first (a close during a receive is
		 * -EBUSY), then the close withdraws the name. */
		PEER_CHECK(ipcc_rpmsg_unblock(e.ep) == 0, "unblock");
		pthread_join(t, NULL);
		PEER_CHECK(e.r == -ECANCELED, "the echo thread ended with %s", strerror(-e.r));
		PEER_CHECK(ipcc_rpmsg_ep_close(e.ep) == 0, "close");
		open = false;
		pt_post(sv->s.ack, 'k');
	}
	if (open) {
		PEER_CHECK(ipcc_rpmsg_unblock(e.ep) == 0, "unblock");
		pthread_join(t, NULL);
		PEER_CHECK(e.r == -ECANCELED, "the echo thread ended with %s", strerror(-e.r));
		PEER_CHECK(ipcc_rpmsg_ep_close(e.ep) == 0, "close");
	}
	if (efd)
		PEER_CHECK(rt_dispatcher_stop(&disp) == 0, "dispatcher");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static void server_fork(struct server *sv, const char *name, enum ipcc_wait_mode mode,
			bool deferred, const char *service, unsigned to)
{
	sv->service = service;
	sv->to = to;
	pt_script_fork(&sv->s, name, mode, deferred, server_main, 80);
	if (!deferred)
		cr_assert_eq(pt_await(sv->s.ack, PT_LONG), 'a', "the server did not start");
}

/* ---- the client ----------------------------------------------------------------------------- */

/* A packet to what the lookup found, and its echo back. */
static void ping(struct ipcc_cpu *cpu, struct ipcc_rpmsg_ep *ep, unsigned remote,
		 unsigned remote_ep, uint64_t seq)
{
	uint8_t msg[64], got[IPCC_RPMSG_BUFFER_SIZE_DEFAULT];
	uint32_t stream = rt_stream(ipcc_cpu_id(cpu), ipcc_rpmsg_ep_number(ep), remote_ep);
	uint32_t len = rt_fill(msg, stream, seq, sizeof(msg)), glen = 0;
	unsigned rc = 99, re = 99;
	int r = ipcc_rpmsg_send(cpu, msg, len, remote, remote_ep, ipcc_rpmsg_ep_number(ep),
				PT_LONG);
	cr_assert_eq(r, 0, "ping: %s", strerror(-r));
	r = ipcc_rpmsg_recv(ep, got, sizeof(got), &glen, &rc, &re, PT_LONG);
	cr_assert_eq(r, 0, "echo: %s", strerror(-r));
	cr_assert(glen == len && !memcmp(got, msg, len), "the echo differs");
	cr_assert(rc == remote && re == remote_ep, "echo from %u:%u", rc, re);
}

struct lookup {
	struct ipcc_cpu *cpu;
	const char *service;
	_Atomic int first; /* the lookup before the server: 1 once it returned -EAGAIN */
	int r;
	unsigned remote, ep;
};

static void *lookup_main(void *p)
{
	struct lookup *l = p;
	unsigned rc, re;
	int r = ipcc_rpmsg_lookup(l->cpu, l->service, 0, &rc, &re);
	atomic_store(&l->first, r == -EAGAIN ? 1 : r ? r : -1000);
	l->r = ipcc_rpmsg_lookup(l->cpu, l->service, 30 * PT_SEC, &l->remote, &l->ep);
	return NULL;
}

static void server_after_client(enum ipcc_wait_mode mode)
{
	struct ipcc_system *sys = rt_system(2, 0, 0);
	struct server sv;
	server_fork(&sv, ipcc_system_name(sys), mode, true, "echo", IPCC_RPMSG_CPU_ALL);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, mode, rt_irq_flags(mode));
	struct rt_dispatcher disp;
	if (mode == IPCC_WAIT_EVENTFD)
		cr_assert_eq(rt_dispatcher_start(&disp, cpu), 0);
	struct ipcc_rpmsg_ep *ep = rt_ep(cpu, 12, NULL, NULL);
	struct lookup l = { .cpu = cpu, .service = "echo" };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, lookup_main, &l), 0);
	while (!atomic_load(&l.first))
		pt_sleep_ms(1);
	cr_assert_eq(atomic_load(&l.first), 1, "the lookup before the server did not say -EAGAIN");
	/* Only now does the server attach and announce. */
	pt_post(sv.s.cmd, 'g');
	cr_assert_eq(pt_await(sv.s.ack, PT_LONG), 'a', "the server did not start");
	pthread_join(t, NULL);
	cr_assert_eq(l.r, 0, "the waiting lookup: %s%s", strerror(-l.r), pt_peer_note(sv.s.pid));
	cr_assert(l.remote == 1 && l.ep == SERVER_EP, "found %u:%u", l.remote, l.ep);
	for (uint64_t i = 0; i < 20; i++)
		ping(cpu, ep, l.remote, l.ep, i);
	pt_script_stop(&sv.s);
	ipcc_rpmsg_ep_close(ep);
	if (mode == IPCC_WAIT_EVENTFD)
		cr_assert_eq(rt_dispatcher_stop(&disp), 0);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

ParameterizedTestParameters(rpmsg_ns, a_lookup_started_before_the_server_waits_and_finds_it)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, rpmsg_ns,
		  a_lookup_started_before_the_server_waits_and_finds_it)
{
	server_after_client(*mode);
}

Test(rpmsg_ns, an_announcement_made_before_the_client_attached_is_found)
{
	struct ipcc_system *sys = rt_system(2, 0, 0);
	struct server sv;
	server_fork(&sv, ipcc_system_name(sys), IPCC_WAIT_FUTEX, false, "early", 0);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_rpmsg_ep *ep = rt_ep(cpu, 12, NULL, NULL);
	unsigned rc = 99, re = 99;
	int r = ipcc_rpmsg_lookup(cpu, "early", PT_LONG, &rc, &re);
	cr_assert_eq(r, 0, "lookup: %s", strerror(-r));
	cr_assert(rc == 1 && re == SERVER_EP, "found %u:%u", rc, re);
	ping(cpu, ep, rc, re, 0);
	/* A name nobody announced: the timeout, after it. */
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_rpmsg_lookup(cpu, "nobody", 50 * PT_MS, &rc, &re), -ETIMEDOUT);
	cr_assert_geq(pt_now_ns() - t0, 50 * PT_MS, "returned before its timeout");
	cr_assert_eq(ipcc_rpmsg_lookup(cpu, "nobody", 0, &rc, &re), -EAGAIN);
	pt_script_stop(&sv.s);
	ipcc_rpmsg_ep_close(ep);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

Test(rpmsg_ns, a_name_announced_to_one_cpu_is_not_seen_by_another)
{
	struct ipcc_system *sys = rt_system(3, 0, 0);
	struct server sv;
	/* The server (CPU 1) tells CPU 2 only. */
	server_fork(&sv, ipcc_system_name(sys), IPCC_WAIT_FUTEX, false, "private", 2);
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *c2 = pt_attach(sys, 2, IPCC_WAIT_FUTEX, 0);
	unsigned rc = 99, re = 99;
	int r = ipcc_rpmsg_lookup(c2, "private", PT_LONG, &rc, &re);
	cr_assert_eq(r, 0, "CPU 2's lookup: %s", strerror(-r));
	cr_assert(rc == 1 && re == SERVER_EP, "found %u:%u", rc, re);
	rc = re = 99;
	cr_assert_eq(ipcc_rpmsg_lookup(c0, "private", 200 * PT_MS, &rc, &re), -ETIMEDOUT,
		     "CPU 0 found a name announced to CPU 2 only (%u:%u)", rc, re);
	struct ipcc_rpmsg_name n[4];
	cr_assert_eq(ipcc_rpmsg_names(sys, 1, n, 4), 1);
	cr_assert_str_eq(n[0].name, "private");
	cr_assert_eq(n[0].to, 1u << 2);
	cr_assert_eq(n[0].ep, SERVER_EP);
	pt_script_stop(&sv.s);
	ipcc_cpu_detach(c0);
	ipcc_cpu_detach(c2);
	ipcc_system_close(sys);
}

/* ---- the watcher ------------------------------------------------------------------------------ */

struct ns_events {
	unsigned n;
	struct {
		char name[IPCC_RPMSG_NAME_MAX + 1];
		unsigned remote, ep;
		bool up;
	} ev[8];
};

static void on_ns(struct ipcc_cpu *cpu, const char *name, unsigned remote, unsigned remote_ep,
		  bool up, void *arg)
{
	struct ns_events *e = arg;
	(void)cpu;
	if (e->n < 8) {
		snprintf(e->ev[e->n].name, sizeof(e->ev[0].name), "%s", name);
		e->ev[e->n].remote = remote;
		e->ev[e->n].ep = remote_ep;
		e->ev[e->n].up = up;
	}
	e->n++;
}

struct want {
	struct ns_events *e;
	unsigned n;
};

static bool have_events(void *p)
{
	struct want *w = p;
	return w->e->n >= w->n;
}

Test(rpmsg_ns, closing_the_end_point_withdraws_the_name_and_a_watcher_sees_up_then_down)
{
	struct ipcc_system *sys = rt_system(2, 0, 0);
	struct server sv;
	server_fork(&sv, ipcc_system_name(sys), IPCC_WAIT_FUTEX, true, "watched",
		    IPCC_RPMSG_CPU_ALL);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ns_events e = { 0 };
	cr_assert_eq(ipcc_rpmsg_ns_watch(cpu, on_ns, &e), 0);
	pt_post(sv.s.cmd, 'g');
	cr_assert_eq(pt_await(sv.s.ack, PT_LONG), 'a', "the server did not start");
	struct want w = { &e, 1 };
	int r = nt_drain(cpu, have_events, &w, PT_LONG);
	cr_assert_eq(r, 0, "no \"up\": %s", strerror(-r));
	cr_assert(!strcmp(e.ev[0].name, "watched") && e.ev[0].remote == 1 &&
			  e.ev[0].ep == SERVER_EP && e.ev[0].up,
		  "event 0: %s %u:%u up %d", e.ev[0].name, e.ev[0].remote, e.ev[0].ep, e.ev[0].up);
	unsigned rc, re;
	cr_assert_eq(ipcc_rpmsg_lookup(cpu, "watched", 0, &rc, &re), 0);

	cr_assert_eq(pt_script_cmd(&sv.s, 'c'), 'k');
	w.n = 2;
	r = nt_drain(cpu, have_events, &w, PT_LONG);
	cr_assert_eq(r, 0, "no \"down\": %s", strerror(-r));
	cr_assert_eq(e.n, 2u, "%u events", e.n);
	cr_assert(!strcmp(e.ev[1].name, "watched") && e.ev[1].remote == 1 &&
			  e.ev[1].ep == SERVER_EP && !e.ev[1].up,
		  "event 1: %s %u:%u up %d", e.ev[1].name, e.ev[1].remote, e.ev[1].ep, e.ev[1].up);
	cr_assert_eq(ipcc_rpmsg_lookup(cpu, "watched", 0, &rc, &re), -EAGAIN, "withdrawn");
	cr_assert_eq(ipcc_rpmsg_names(sys, 1, NULL, 0), 0);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(sys, 1, SERVER_EP), 0);
	pt_script_stop(&sv.s);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}
