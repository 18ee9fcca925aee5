/* SPDX-License-Identifier: MIT */
/*
 * RPMessage in a full mesh of four processes: a 4-CPU system, each process one CPU with four
 * end points, two in queue mode (10, 11: a thread each blocked in a receive, 11 through
 * recv_nocopy and release) and two in callback mode (20, 21). Every CPU sends from end points
 * 10 and 11 to all four end points of each of its three peers at once: 96 streams, each a
 * (source CPU, source end point, destination end point) triple whose packets carry their
 * sequence number and a checksum (rpmsg-test.h). Every fourth packet goes by zero copy
 * (tx_get, fill, send_nocopy). Receivers check each packet as it arrives; at the end every
 * stream must have delivered exactly what was sent, once, in order and intact, and the
 * counters of all twelve vrings must agree (nothing dropped, bad or left in a queue).
 *
 * A second run does a tenth of the count over two buffers of 512 bytes per vring, where
 * nearly every send waits for a buffer and payloads reach the linux profile's 496 bytes.
 *
 * The dispatcher is the interrupt thread (IPCC_CPU_IRQ_THREAD) in adaptive, futex and spin
 * mode; in eventfd mode a thread that polls ipcc_cpu_fd. The blocked receivers dispatch too,
 * so callbacks may run in either: the per-end-point overlap check catches two at once.
 *
 * Counts: 10^6 packets in all by default: MESH_COUNT per stream in adaptive, futex and
 * eventfd mode and MESH_COUNT_SPIN in spin mode (twelve spinning threads on two cores move
 * packets a hundred times slower), 3 x 96 x 3456 + 96 x 50 = 1000128, a few seconds per mode
 * on the shared 2-core machine this was written on. IPCC_SOAK=1 runs ten times as many, and
 * IPCC_RPMSG_MESH_COUNT sets the count of every mode. Spin mode stops at a time budget,
 * reporting how far it got; what it sent is checked all the same.
 */
#include "rpmsg-test.h"

#define CPUS		4u
#define NDST		4u /* end points per CPU */
#define NSRC		2u /* of which send: the queue-mode ones */
#define MESH_COUNT	3456u
#define MESH_COUNT_SPIN 50u
#define SOAK_FACTOR	10u
#define SEND_WAIT	(30 * PT_SEC)

static const unsigned ep_num[NDST] = { 10, 11, 20, 21 };

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(rpmsg_mesh, .fini = teardown);

struct stream_rx {
	struct pt_tally t;
	_Atomic int in_callback;
};

struct mesh_shared {
	_Atomic unsigned ready, done;
	/* [receiver][its end point][sender][sender's end point] */
	struct stream_rx rx[CPUS][NDST][CPUS][NSRC];
	_Atomic uint64_t got[CPUS]; /* packets each CPU took, all streams */
	_Atomic uint64_t overlap[CPUS], foreign[CPUS];
	/* [sender][its end point][receiver][receiver's end point]: final counts */
	_Atomic uint64_t sent[CPUS][NSRC][CPUS][NDST];
	_Atomic unsigned senders_done;
	uint32_t cap; /* the payload size of the system */
	double send_s[CPUS];
};

struct mesh_arg {
	const char *name;
	enum ipcc_wait_mode mode;
	unsigned id;
	uint64_t count;
	int64_t budget_ns;
	unsigned alarm_s;
	struct mesh_shared *sh;
};

/* What a callback or a receiving thread knows of its end point. */
struct ep_ctx {
	struct mesh_shared *sh;
	unsigned me, d;
	struct ipcc_rpmsg_ep *ep;
	pthread_t thread;
	int r; /* the receiving thread's last result */
};

static int src_index(unsigned ep)
{
	return ep == ep_num[0] ? 0 : ep == ep_num[1] ? 1 : -1;
}

/* One packet for end point c->d of CPU c->me; called by one thread at a time per end point. */
static void take(struct ep_ctx *c, const void *data, uint32_t len, unsigned remote,
		 unsigned remote_ep)
{
	struct mesh_shared *sh = c->sh;
	int s = src_index(remote_ep);
	if (remote >= CPUS || remote == c->me || s < 0) {
		atomic_fetch_add(&sh->foreign[c->me], 1);
	} else {
		struct stream_rx *x = &sh->rx[c->me][c->d][remote][s];
		pt_msg_take(&x->t, data, len, rt_stream(remote, remote_ep, ep_num[c->d]), sh->cap);
	}
	/* Release: the main thread's acquire in all_arrived pairs with it (the tallies). */
	atomic_fetch_add_explicit(&sh->got[c->me], 1, memory_order_release);
}

static void on_packet(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		      unsigned remote_ep, void *arg)
{
	struct ep_ctx *c = arg;
	(void)ep;
	int s = src_index(remote_ep);
	_Atomic int *in =
		s >= 0 && remote < CPUS ? &c->sh->rx[c->me][c->d][remote][s].in_callback : NULL;
	if (in && atomic_fetch_add(in, 1))
		atomic_fetch_add(&c->sh->overlap[c->me], 1);
	take(c, data, len, remote, remote_ep);
	if (in)
		atomic_fetch_sub(in, 1);
}

static void *receiver_main(void *p)
{
	struct ep_ctx *c = p;
	uint8_t buf[IPCC_RPMSG_BUFFER_SIZE_LINUX];
	for (;;) {
		uint32_t len = 0;
		unsigned rc = 0, re = 0;
		if (c->d == 1) {
			const void *data;
			c->r = ipcc_rpmsg_recv_nocopy(c->ep, &data, &len, &rc, &re,
						      IPCC_TIMEOUT_INFINITE);
			if (c->r)
				return NULL;
			take(c, data, len, rc, re);
			c->r = ipcc_rpmsg_release(ipcc_rpmsg_ep_cpu(c->ep), data);
			if (c->r)
				return NULL;
		} else {
			c->r = ipcc_rpmsg_recv(c->ep, buf, sizeof(buf), &len, &rc, &re,
					       IPCC_TIMEOUT_INFINITE);
			if (c->r)
				return NULL;
			take(c, buf, len, rc, re);
		}
	}
}

/* Packets due to CPU me: what the senders say they sent, once all of them are done. */
static bool all_arrived(struct mesh_shared *sh, unsigned me)
{
	if (atomic_load(&sh->senders_done) < CPUS)
		return false;
	uint64_t due = 0;
	for (unsigned i = 0; i < CPUS; i++)
		for (unsigned s = 0; s < NSRC; s++)
			for (unsigned d = 0; d < NDST; d++)
				if (i != me)
					due += atomic_load(&sh->sent[i][s][me][d]);
	/* Acquire: pairs with the release in take. */
	return atomic_load_explicit(&sh->got[me], memory_order_acquire) >= due;
}

static int send_one(struct ipcc_cpu *cpu, uint32_t cap, unsigned me, unsigned s, unsigned j,
		    unsigned d, uint64_t seq)
{
	uint32_t stream = rt_stream(me, ep_num[s], ep_num[d]);
	if (seq % 4 == 3) {
		void *tx;
		uint32_t txcap;
		int r = ipcc_rpmsg_tx_get(cpu, j, SEND_WAIT, &tx, &txcap);
		if (r)
			return r;
		PEER_CHECK(txcap == cap, "tx_get: capacity %u", txcap);
		uint32_t len = rt_fill(tx, stream, seq, cap);
		return ipcc_rpmsg_send_nocopy(cpu, tx, len, ep_num[d], ep_num[s]);
	}
	uint8_t buf[IPCC_RPMSG_BUFFER_SIZE_LINUX];
	uint32_t len = rt_fill(buf, stream, seq, cap);
	return ipcc_rpmsg_send(cpu, buf, len, j, ep_num[d], ep_num[s], SEND_WAIT);
}

static int peer_mesh(void *p)
{
	struct mesh_arg *a = p;
	struct mesh_shared *sh = a->sh;
	struct ipcc_system *sys;
	unsigned me = a->id;
	struct ipcc_cpu *cpu = peer_attach(a->name, me, a->mode, rt_irq_flags(a->mode), &sys);
	struct rt_dispatcher disp;
	struct ep_ctx ctx[NDST];
	bool efd = a->mode == IPCC_WAIT_EVENTFD;

	if (efd)
		PEER_CHECK(rt_dispatcher_start(&disp, cpu) == 0, "dispatcher thread");
	for (unsigned d = 0; d < NDST; d++) {
		ctx[d] = (struct ep_ctx){ .sh = sh, .me = me, .d = d };
		ctx[d].ep = peer_ep(cpu, ep_num[d], d >= NSRC ? on_packet : NULL, &ctx[d]);
		if (d < NSRC)
			PEER_CHECK(pthread_create(&ctx[d].thread, NULL, receiver_main, &ctx[d]) ==
					   0,
				   "pthread_create");
	}
	/* Send only when every CPU has its end points open: before, -ECONNREFUSED. */
	PEER_CHECK(nt_barrier(&sh->ready, CPUS, 30 * PT_SEC), "the other CPUs never got ready");

	int64_t t0 = pt_now_ns(), end = t0 + a->budget_ns;
	uint64_t seq = 0;
	for (; seq < a->count; seq++) {
		if (a->mode == IPCC_WAIT_SPIN && !(seq & 3) && pt_now_ns() >= end)
			break;
		for (unsigned j = 0; j < CPUS; j++)
			for (unsigned s = 0; s < NSRC && j != me; s++)
				for (unsigned d = 0; d < NDST; d++) {
					int r = send_one(cpu, sh->cap, me, s, j, d, seq);
					PEER_CHECK(r == 0,
						   "CPU %u: packet %llu from %u to %u:%u: %s", me,
						   (unsigned long long)seq, ep_num[s], j, ep_num[d],
						   strerror(-r));
				}
	}
	sh->send_s[me] = (double)(pt_now_ns() - t0) / PT_SEC;
	if (seq < a->count)
		fprintf(stderr,
			"rpmsg mesh: CPU %u stopped by the spin time budget after %llu of %llu "
			"packets per stream (a slow or oversubscribed machine); all sent is "
			"checked\n",
			me, (unsigned long long)seq, (unsigned long long)a->count);
	for (unsigned j = 0; j < CPUS; j++)
		for (unsigned s = 0; s < NSRC && j != me; s++)
			for (unsigned d = 0; d < NDST; d++)
				atomic_store(&sh->sent[me][s][j][d], seq);
	atomic_fetch_add(&sh->senders_done, 1);

	int64_t deadline = pt_now_ns() + (int64_t)a->alarm_s * PT_SEC;
	while (!all_arrived(sh, me)) {
		PEER_CHECK(pt_now_ns() < deadline, "CPU %u: not everything arrived (%llu taken)",
			   me, (unsigned long long)atomic_load(&sh->got[me]));
		pt_sleep_ms(1);
	}
	/* Unblock ends each blocked receive with -ECANCELED: the threads' clean exit. */
	for (unsigned d = 0; d < NSRC; d++) {
		PEER_CHECK(ipcc_rpmsg_unblock(ctx[d].ep) == 0, "unblock");
		pthread_join(ctx[d].thread, NULL);
		PEER_CHECK(ctx[d].r == -ECANCELED, "CPU %u: receiver of %u ended with %s", me,
			   ep_num[d], strerror(-ctx[d].r));
	}
	/* Close and detach only when all are done: a detach ends the others' waits (-EPIPE). */
	PEER_CHECK(nt_barrier(&sh->done, CPUS, 60 * PT_SEC), "the other CPUs never finished");
	for (unsigned d = 0; d < NDST; d++)
		PEER_CHECK(ipcc_rpmsg_ep_close(ctx[d].ep) == 0, "close of %u", ep_num[d]);
	if (efd) {
		int r = rt_dispatcher_stop(&disp);
		PEER_CHECK(r == 0, "CPU %u: the dispatcher thread: %s", me, strerror(-r));
	}
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

/* The mesh in `mode` over vrings of `buffers` buffers of `size` bytes (0: the defaults). */
static void mesh(enum ipcc_wait_mode mode, uint32_t buffers, uint32_t size, uint64_t share)
{
	uint64_t count = mode == IPCC_WAIT_SPIN ? MESH_COUNT_SPIN : MESH_COUNT;
	if (rt_soak())
		count *= SOAK_FACTOR;
	count = nt_env_count("IPCC_RPMSG_MESH_COUNT", count);
	int64_t budget = (rt_soak() ? 900 : 20) * PT_SEC;
	unsigned alarm_s = 90 + (unsigned)(budget / PT_SEC) + (unsigned)(count * 96 / 5000);
	count = count * share / 100 ? count * share / 100 : 1;
	struct ipcc_system *sys = rt_system(CPUS, buffers, size);
	struct mesh_shared *sh = pt_shared(sizeof(*sh));
	sh->cap = ipcc_rpmsg_payload_max(sys);
	cr_assert_leq(sh->cap, IPCC_RPMSG_BUFFER_SIZE_LINUX - IPCC_RPMSG_HEADER_SIZE);
	struct mesh_arg a[CPUS];
	pid_t pid[CPUS];

	int64_t t0 = pt_now_ns();
	for (unsigned i = 0; i < CPUS; i++) {
		a[i] = (struct mesh_arg){ .name = ipcc_system_name(sys),
					  .mode = mode,
					  .id = i,
					  .count = count,
					  .budget_ns = budget,
					  .alarm_s = alarm_s,
					  .sh = sh };
		pid[i] = pt_fork(peer_mesh, &a[i], alarm_s);
	}
	for (unsigned i = 0; i < CPUS; i++) {
		char what[32];
		snprintf(what, sizeof(what), "CPU %u", i);
		pt_expect_exit0(pid[i], (int64_t)(alarm_s + 10) * PT_SEC, what);
	}
	double secs = (double)(pt_now_ns() - t0) / PT_SEC;
	uint64_t total = 0;
	for (unsigned i = 0; i < CPUS; i++) {
		cr_assert_eq(atomic_load(&sh->overlap[i]), 0u,
			     "CPU %u: two callbacks of one end point ran at once", i);
		cr_assert_eq(atomic_load(&sh->foreign[i]), 0u,
			     "CPU %u: packets from an unknown source", i);
	}
	for (unsigned i = 0; i < CPUS; i++)
		for (unsigned j = 0; j < CPUS; j++) {
			if (i == j)
				continue;
			uint64_t pair = 0;
			for (unsigned s = 0; s < NSRC; s++)
				for (unsigned d = 0; d < NDST; d++) {
					uint64_t n = atomic_load(&sh->sent[i][s][j][d]);
					struct pt_tally *t = &sh->rx[j][d][i][s].t;
					cr_assert(pt_tally_ok(t) && t->expect == n,
						  "%u:%u -> %u:%u: %llu sent, next expected %llu, "
						  "" PT_TALLY_FMT,
						  i, ep_num[s], j, ep_num[d], (unsigned long long)n,
						  (unsigned long long)t->expect, PT_TALLY_ARGS(t));
					cr_assert_eq(t->received, n,
						     "%u:%u -> %u:%u: extra packets", i, ep_num[s],
						     j, ep_num[d]);
					pair += n;
				}
			struct ipcc_rpmsg_stats st = rt_stats(sys, i, j);
			cr_assert(st.sent == pair && st.received == pair && !st.dropped &&
					  !st.stale && !st.bad && !st.full,
				  "%u -> %u, %llu packets: " RT_STATS_FMT, i, j,
				  (unsigned long long)pair, RT_STATS_ARGS(st));
			total += pair;
		}
	fprintf(stderr,
		"rpmsg mesh: %s, %u x %u B, 96 streams, %llu packets in %.2f s (%.0f/s; senders "
		"%.2f %.2f "
		"%.2f %.2f s)\n",
		pt_mode_name(mode), ipcc_rpmsg_buffers(sys), ipcc_rpmsg_buffer_size(sys),
		(unsigned long long)total, secs, (double)total / secs, sh->send_s[0], sh->send_s[1],
		sh->send_s[2], sh->send_s[3]);
	munmap(sh, sizeof(*sh));
	ipcc_system_close(sys);
}

ParameterizedTestParameters(rpmsg_mesh, four_cpus_96_streams_deliver_every_packet_once_in_order)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, rpmsg_mesh,
		  four_cpus_96_streams_deliver_every_packet_once_in_order)
{
	mesh(*mode, 0, 0, 100);
}

/*
 * The same over two buffers of 512 bytes per vring (the linux profile's size): nearly every
 * send waits for a buffer, and payloads go up to 496 bytes. A tenth of the count.
 */
ParameterizedTestParameters(rpmsg_mesh, two_linux_buffers_per_vring_deliver_every_packet_once)
{
	return NT_MODES_PARAMS;
}

ParameterizedTest(enum ipcc_wait_mode *mode, rpmsg_mesh,
		  two_linux_buffers_per_vring_deliver_every_packet_once)
{
	mesh(*mode, 2, IPCC_RPMSG_BUFFER_SIZE_LINUX, 10);
}
