/* SPDX-License-Identifier: MIT */
/*
 * RPMessage's drain against a sender that takes a returned buffer at once (lib/rpmsg/rpmsg.c:
 * rpmsg_poll). A callback-mode end point gives each buffer back when its callback returns,
 * in the middle of a drain; a sender that finds it in the free queue queues it as full again
 * straight away. The full queue holds at most `buffers` entries, so that push needs the slot
 * the drain took it from to be released already: the drain must release before it delivers,
 * or the sender finds the queue full, takes it for a broken receiver and breaks the pair
 * (every later send -EBADMSG). Found by ipcc-bench's eventfd stream row; here in every wait
 * mode, between two real processes, with a stream long enough to wrap the queues many times.
 */
#include <stdatomic.h>

#include "proc-test.h"

#include <criterion/parameterized.h>

#define EP_SENDER   12
#define EP_RECEIVER 13
#define PACKETS	    20000u
#define PACKET_SIZE 64u

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(rpmsg_drain, .fini = teardown, .timeout = 90);

struct receiver {
	const char *name;
	enum ipcc_wait_mode mode;
	_Atomic uint64_t got; /* callbacks run (interrupt thread), read by the main thread */
	_Atomic int error;    /* the first packet out of order or of the wrong length */
	uint64_t next;	      /* the sequence number expected next (interrupt thread only) */
};

static void on_packet(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		      unsigned remote_ep, void *arg)
{
	struct receiver *rv = arg;
	uint64_t seq = UINT64_MAX;
	int none = 0;

	if (len == PACKET_SIZE)
		memcpy(&seq, data, sizeof(seq));
	if (seq != rv->next++ || remote != 0 || remote_ep != EP_SENDER)
		/* Relaxed: the main thread reads it after `got`, whose release orders it. */
		atomic_compare_exchange_strong_explicit(&rv->error, &none, -EBADMSG,
							memory_order_relaxed, memory_order_relaxed);
	/* Release: pairs with the acquire in receive(), which then reads `error`. */
	atomic_fetch_add_explicit(&rv->got, 1, memory_order_release);
}

/* The child: CPU 1, its callbacks on the interrupt thread, until every packet arrived. */
static int receive(void *arg)
{
	struct receiver *rv = arg;
	struct ipcc_cpu_options opt;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;

	PEER_CHECK(ipcc_system_open(rv->name, &sys) == 0, "open");
	ipcc_cpu_options_init(&opt);
	opt.wait = rv->mode;
	opt.flags = IPCC_CPU_IRQ_THREAD;
	PEER_CHECK(ipcc_cpu_attach(sys, 1, &opt, &cpu) == 0, "attach");
	PEER_CHECK(ipcc_rpmsg_ep_create(cpu, EP_RECEIVER, on_packet, rv, &ep) == 0, "ep_create");
	int64_t deadline = pt_now_ns() + 60 * PT_SEC;
	/* Acquire: pairs with on_packet's release. */
	while (atomic_load_explicit(&rv->got, memory_order_acquire) < PACKETS &&
	       pt_now_ns() < deadline)
		pt_sleep_ms(1);
	uint64_t got = atomic_load_explicit(&rv->got, memory_order_acquire);
	PEER_CHECK(got == PACKETS, "%llu of %u packets arrived", (unsigned long long)got, PACKETS);
	PEER_CHECK(atomic_load_explicit(&rv->error, memory_order_relaxed) == 0,
		   "a packet came out of order, or not whole");
	PEER_CHECK(ipcc_rpmsg_ep_close(ep) == 0, "ep_close");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static enum ipcc_wait_mode modes[] = { IPCC_WAIT_SPIN, IPCC_WAIT_ADAPTIVE, IPCC_WAIT_FUTEX,
				       IPCC_WAIT_EVENTFD };
ParameterizedTestParameters(rpmsg_drain, a_stream_into_a_callback_never_breaks_the_pair)
{
	return cr_make_param_array(enum ipcc_wait_mode, modes, sizeof(modes) / sizeof(modes[0]));
}

ParameterizedTest(enum ipcc_wait_mode *mode, rpmsg_drain,
		  a_stream_into_a_callback_never_breaks_the_pair)
{
	struct ipcc_notify_config ncfg;
	struct ipcc_rpmsg_config rcfg;
	struct ipcc_cpu_options opt;
	struct ipcc_rpmsg_stats st;
	struct ipcc_config cfg;
	struct ipcc_system *sys;
	struct ipcc_rpmsg_ep *ep;
	struct ipcc_cpu *cpu;
	struct receiver rv = { .name = pt_name(), .mode = *mode };
	unsigned char pkt[PACKET_SIZE] = { 0 };

	ipcc_config_init(&cfg);
	ipcc_notify_config_init(&ncfg);
	ipcc_rpmsg_config_init(&rcfg); /* 8 buffers: the queues wrap 2500 times */
	cfg.notify = &ncfg;
	cfg.rpmsg = &rcfg;
	cr_assert_eq(ipcc_system_create(rv.name, &cfg, &sys), 0);
	pid_t pid = pt_fork(receive, &rv, 80);

	ipcc_cpu_options_init(&opt);
	opt.wait = *mode;
	cr_assert_eq(ipcc_cpu_attach(sys, 0, &opt, &cpu), 0);
	cr_assert_eq(ipcc_rpmsg_ep_create(cpu, EP_SENDER, NULL, NULL, &ep), 0);
	for (int64_t t = pt_now_ns(); ipcc_rpmsg_ep_is_open(sys, 1, EP_RECEIVER) != 1;) {
		cr_assert(pt_now_ns() - t < 10 * PT_SEC,
			  "the receiver never opened its end point%s", pt_peer_note(pid));
		pt_sleep_ms(1);
	}
	for (uint64_t seq = 0; seq < PACKETS; seq++) {
		memcpy(pkt, &seq, sizeof(seq));
		int r = ipcc_rpmsg_send(cpu, pkt, sizeof(pkt), 1, EP_RECEIVER, EP_SENDER,
					10 * PT_SEC);
		cr_assert_eq(r, 0, "%s: send %llu: %s%s", pt_mode_name(*mode),
			     (unsigned long long)seq, strerror(-r), pt_peer_note(pid));
	}
	pt_expect_exit0(pid, 70 * PT_SEC, "the receiver");
	cr_assert_eq(ipcc_rpmsg_stats(sys, 0, 1, &st), 0);
	cr_expect_eq(st.sent, PACKETS);
	cr_expect_eq(st.received, PACKETS);
	cr_expect_eq(st.bad, 0, "%llu packets or descriptors failed the checks",
		     (unsigned long long)st.bad);
	ipcc_rpmsg_ep_close(ep);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}
