/* SPDX-License-Identifier: MIT */
/*
 * RPMessage in one process (<ipcc/rpmsg.h>): the config and its checks at create, the shape of
 * a created system (the linux profile's geometry, the vring layout of layout.h), every
 * documented errno of every call, end point numbering, the packet header as it lies in the
 * buffer, payload limits, the counters, the published end points and names, the name service
 * between two CPUs of this process, zero copy both ways and what a callback may do. The CPUs
 * are attached by this process without interrupt threads: a packet waits in its vring until
 * the receiver's ipcc_cpu_dispatch or a receive takes it.
 */
#include <poll.h>
#include <semaphore.h>

#include "rpmsg-test.h"

#include "notify/service.h" /* the drain seam, to hold the drain from a thread */

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(rpmsg, .fini = teardown, .timeout = 60);

/*
 * Four CPUs: 0-1 with RPMessage; 0-2 with Notify but without RPMessage; 0-3 with RPMessage
 * (CPU 3 is never attached); 1-2, 1-3 and 2-3 not linked. CPU 2 has no RPMessage pair.
 */
struct quad {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu[3];
};

static void quad_start(struct quad *q)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	struct ipcc_rpmsg_config r;
	rt_config(&cfg, &n, &r, 4);
	cr_assert_eq(ipcc_config_link(&cfg, 1, 2, false), 0);
	cr_assert_eq(ipcc_config_link(&cfg, 1, 3, false), 0);
	cr_assert_eq(ipcc_config_link(&cfg, 2, 3, false), 0);
	cr_assert_eq(ipcc_rpmsg_config_pair(&r, 2, 0, false), 0);
	q->sys = nt_create(&cfg);
	for (unsigned i = 0; i < 3; i++)
		q->cpu[i] = pt_attach(q->sys, i, IPCC_WAIT_FUTEX, 0);
}

static void quad_stop(struct quad *q)
{
	for (unsigned i = 0; i < 3; i++)
		ipcc_cpu_detach(q->cpu[i]);
	ipcc_system_close(q->sys);
}

/* Two CPUs of a system with RPMessage (buffers and size 0: the defaults), both attached here. */
struct duo {
	struct ipcc_system *sys;
	struct ipcc_cpu *a, *b; /* CPUs 0 and 1 */
};

static void duo_start_with(struct duo *d, const struct ipcc_config *cfg)
{
	d->sys = nt_create(cfg);
	d->a = pt_attach(d->sys, 0, IPCC_WAIT_FUTEX, 0);
	d->b = pt_attach(d->sys, 1, IPCC_WAIT_FUTEX, 0);
}

static void duo_start(struct duo *d, uint32_t buffers, uint32_t size)
{
	d->sys = rt_system(2, buffers, size);
	d->a = pt_attach(d->sys, 0, IPCC_WAIT_FUTEX, 0);
	d->b = pt_attach(d->sys, 1, IPCC_WAIT_FUTEX, 0);
}

static void duo_stop(struct duo *d)
{
	ipcc_cpu_detach(d->a);
	ipcc_cpu_detach(d->b);
	ipcc_system_close(d->sys);
}

static void send_ok(struct ipcc_cpu *cpu, const void *data, uint32_t len, unsigned remote,
		    unsigned remote_ep, unsigned local_ep)
{
	int r = ipcc_rpmsg_send(cpu, data, len, remote, remote_ep, local_ep, 0);
	cr_assert_eq(r, 0, "send of %u bytes to end point %u of CPU %u from %u: %s", len, remote_ep,
		     remote, local_ep, strerror(-r));
}

static void never_called(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
			 unsigned remote_ep, void *arg)
{
	(void)ep, (void)data, (void)len, (void)remote, (void)remote_ep, (void)arg;
	cr_assert_fail("a callback that no packet was sent to ran");
}

/* ---- config, shape and layout ----------------------------------------------------------- */

Test(rpmsg, config_init_enables_every_pair_with_8_buffers_of_128_bytes_and_64_end_points)
{
	struct ipcc_rpmsg_config r;
	memset(&r, 0x5A, sizeof(r));
	ipcc_rpmsg_config_init(&r);
	cr_assert_eq(r.buffers, IPCC_RPMSG_BUFFERS_DEFAULT);
	cr_assert_eq(r.buffers, 8u);
	cr_assert_eq(r.buffer_size, IPCC_RPMSG_BUFFER_SIZE_DEFAULT);
	cr_assert_eq(r.buffer_size, 128u);
	cr_assert_eq(r.endpoints, IPCC_RPMSG_ENDPOINTS_DEFAULT);
	cr_assert_eq(r.endpoints, 64u);
	for (unsigned a = 0; a + 1 < IPCC_CPUS_MAX; a++)
		for (unsigned b = a + 1; b < IPCC_CPUS_MAX; b++)
			cr_assert(r.pairs[a] >> b & 1, "pair %u-%u is off", a, b);
	for (unsigned i = 0; i < 5; i++)
		cr_assert_eq(r.reserved[i], 0u, "reserved[%u]", i);
}

Test(rpmsg, the_linux_profile_is_the_defaults_with_512_byte_buffers)
{
	struct ipcc_rpmsg_config r, d;
	ipcc_rpmsg_config_init(&d);
	memset(&r, 0x5A, sizeof(r));
	ipcc_rpmsg_config_linux(&r);
	cr_assert_eq(r.buffer_size, IPCC_RPMSG_BUFFER_SIZE_LINUX);
	cr_assert_eq(r.buffer_size, 512u);
	cr_assert_eq(r.buffers, d.buffers);
	cr_assert_eq(r.endpoints, d.endpoints);
	cr_assert_eq(memcmp(r.pairs, d.pairs, sizeof(r.pairs)), 0);
}

Test(rpmsg, config_pair_switches_one_pair_in_either_order_and_refuses_bad_pairs)
{
	struct ipcc_rpmsg_config r;
	ipcc_rpmsg_config_init(&r);
	cr_assert_eq(ipcc_rpmsg_config_pair(&r, 3, 1, false), 0);
	cr_assert_not(r.pairs[1] >> 3 & 1);
	cr_assert(r.pairs[1] >> 2 & 1, "a neighbour pair changed");
	cr_assert_eq(ipcc_rpmsg_config_pair(&r, 1, 3, true), 0);
	cr_assert(r.pairs[1] >> 3 & 1);
	cr_assert_eq(ipcc_rpmsg_config_pair(&r, 2, 2, true), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_config_pair(&r, 0, IPCC_CPUS_MAX, true), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_config_pair(&r, IPCC_CPUS_MAX, 0, true), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_config_pair(NULL, 0, 1, true), -EINVAL);
}

static int create_with(uint32_t buffers, uint32_t size, uint32_t endpoints)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	struct ipcc_rpmsg_config r;
	struct ipcc_system *sys = NULL;
	rt_config(&cfg, &n, &r, 2);
	r.buffers = buffers;
	r.buffer_size = size;
	r.endpoints = endpoints;
	int ret = ipcc_system_create_anon(&cfg, &sys);
	if (ret == 0) {
		cr_assert_eq(ipcc_rpmsg_buffers(sys), buffers);
		cr_assert_eq(ipcc_rpmsg_buffer_size(sys), size);
		cr_assert_eq(ipcc_rpmsg_payload_max(sys), size - IPCC_RPMSG_HEADER_SIZE);
		cr_assert_eq(ipcc_rpmsg_endpoints(sys), endpoints);
		ipcc_system_close(sys);
	}
	return ret;
}

Test(rpmsg, create_refuses_buffers_sizes_and_end_points_outside_the_limits_with_einval)
{
	cr_assert_eq(create_with(1, 128, 64), -EINVAL, "1 buffer");
	cr_assert_eq(create_with(0, 128, 64), -EINVAL, "0 buffers");
	cr_assert_eq(create_with(12, 128, 64), -EINVAL, "12: not a power of two");
	cr_assert_eq(create_with(2048, 128, 64), -EINVAL, "2048 buffers");
	cr_assert_eq(create_with(8, 16, 64), -EINVAL, "16 bytes: no payload");
	cr_assert_eq(create_with(8, 136, 64), -EINVAL, "136: not a multiple of 16");
	cr_assert_eq(create_with(8, 65536 + 16, 64), -EINVAL, "above the maximum size");
	cr_assert_eq(create_with(8, 128, 1), -EINVAL, "1 end point");
	cr_assert_eq(create_with(8, 128, 1025), -EINVAL, "1025 end points");
}

Test(rpmsg, create_accepts_the_limits)
{
	cr_assert_eq(create_with(IPCC_RPMSG_BUFFERS_MIN, IPCC_RPMSG_BUFFER_SIZE_MIN,
				 IPCC_RPMSG_ENDPOINTS_MIN),
		     0);
	cr_assert_eq(create_with(IPCC_RPMSG_BUFFERS_MAX, 32, IPCC_RPMSG_ENDPOINTS_MAX), 0);
	cr_assert_eq(create_with(2, IPCC_RPMSG_BUFFER_SIZE_MAX, 64), 0);
}

Test(rpmsg, create_without_notify_on_an_rpmsg_pair_gives_that_pair_no_rpmsg)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	struct ipcc_rpmsg_config r;
	struct ipcc_system *sys = NULL;
	rt_config(&cfg, &n, &r, 3);
	cr_assert_eq(ipcc_notify_config_pair(&n, 1, 2, false), 0);
	cr_assert_eq(ipcc_system_create_anon(&cfg, &sys), 0);
	cr_assert_eq(ipcc_rpmsg_enabled(sys, 0, 1), 1);
	cr_assert_eq(ipcc_rpmsg_enabled(sys, 2, 1), 0, "a pair without Notify");
	ipcc_system_close(sys);
}

Test(rpmsg, a_system_reports_its_pairs_and_geometry_and_the_linux_profile_has_496_bytes)
{
	struct quad q;
	quad_start(&q);
	cr_assert_eq(ipcc_rpmsg_enabled(q.sys, 0, 1), 1);
	cr_assert_eq(ipcc_rpmsg_enabled(q.sys, 1, 0), 1);
	cr_assert_eq(ipcc_rpmsg_enabled(q.sys, 0, 3), 1);
	cr_assert_eq(ipcc_rpmsg_enabled(q.sys, 0, 2), 0);
	cr_assert_eq(ipcc_rpmsg_enabled(q.sys, 1, 2), -ENOENT);
	cr_assert_eq(ipcc_rpmsg_enabled(q.sys, 1, 1), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_enabled(q.sys, 0, 4), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_enabled(NULL, 0, 1), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_buffers(q.sys), 8u);
	cr_assert_eq(ipcc_rpmsg_buffer_size(q.sys), 128u);
	cr_assert_eq(ipcc_rpmsg_payload_max(q.sys), 112u);
	cr_assert_eq(ipcc_rpmsg_endpoints(q.sys), 64u);
	quad_stop(&q);

	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	struct ipcc_rpmsg_config r;
	struct ipcc_system *sys = NULL;
	nt_config(&cfg, &n, 2);
	ipcc_rpmsg_config_linux(&r);
	cfg.rpmsg = &r;
	cr_assert_eq(ipcc_system_create_anon(&cfg, &sys), 0);
	cr_assert_eq(ipcc_rpmsg_buffer_size(sys), 512u);
	cr_assert_eq(ipcc_rpmsg_payload_max(sys), 496u);
	cr_assert_eq(ipcc_rpmsg_buffers(sys), 8u);

	/* A packet of 496 bytes goes, one of 497 does not. */
	struct ipcc_cpu *a = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *b = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
	struct ipcc_rpmsg_ep *ea = rt_ep(a, 1, NULL, NULL), *eb = rt_ep(b, 2, NULL, NULL);
	uint8_t big[600], got[600];
	uint32_t len = 0;
	pt_msg_fill(big, 7, 0, sizeof(big));
	cr_assert_eq(ipcc_rpmsg_send(a, big, 497, 1, 2, 1, 0), -EMSGSIZE);
	send_ok(a, big, 496, 1, 2, 1);
	cr_assert_eq(ipcc_rpmsg_recv(eb, got, sizeof(got), &len, NULL, NULL, PT_LONG), 0);
	cr_assert_eq(len, 496u);
	cr_assert_eq(memcmp(got, big, 496), 0);
	ipcc_rpmsg_ep_close(ea);
	ipcc_rpmsg_ep_close(eb);
	ipcc_cpu_detach(a);
	ipcc_cpu_detach(b);
	ipcc_system_close(sys);
}

Test(rpmsg, a_system_without_rpmsg_has_none_and_refuses_the_calls_with_enoprotoopt)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	struct ipcc_system *sys = NULL;
	struct ipcc_rpmsg_ep *ep = NULL;
	struct ipcc_rpmsg_stats st;
	struct ipcc_rpmsg_name nm;
	nt_config(&cfg, &n, 2);
	sys = nt_create(&cfg);
	struct ipcc_cpu *a = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	cr_assert_eq(ipcc_rpmsg_enabled(sys, 0, 1), 0);
	cr_assert_eq(ipcc_rpmsg_buffers(sys), 0u);
	cr_assert_eq(ipcc_rpmsg_buffer_size(sys), 0u);
	cr_assert_eq(ipcc_rpmsg_endpoints(sys), 0u);
	cr_assert_eq(ipcc_rpmsg_ep_create(a, 1, NULL, NULL, &ep), -ENOPROTOOPT);
	cr_assert_null(ep);
	cr_assert_eq(ipcc_rpmsg_send(a, "x", 1, 1, 1, 1, 0), -ENOPROTOOPT);
	cr_assert_eq(ipcc_rpmsg_stats(sys, 0, 1, &st), -ENOPROTOOPT);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(sys, 0, 1), -ENOPROTOOPT);
	cr_assert_eq(ipcc_rpmsg_names(sys, 0, &nm, 1), -ENOPROTOOPT);
	unsigned rc = 99, re = 99;
	cr_assert_eq(ipcc_rpmsg_lookup(a, "svc", 0, &rc, &re), -ENOPROTOOPT);
	cr_assert_eq(ipcc_rpmsg_ns_watch(a, NULL, NULL), -ENOPROTOOPT);
	ipcc_cpu_detach(a);
	ipcc_system_close(sys);
}

/*
 * The vring of each ordered pair lies where layout.h says: the queues carry lib/queue's magic
 * at the documented offsets, the buffers end inside the record, and the head describes the
 * geometry the accessors report.
 */
Test(rpmsg, the_vrings_lie_where_layout_h_says)
{
	struct ipcc_system *sys = rt_system(3, 16, 64);
	uint8_t *base = rt_map(sys);
	cr_assert_not_null(base);
	uint64_t off = 0, size = 0;
	cr_assert(rt_section(sys, &off, &size), "no rpmsg section");
	const struct ipcc_shm_rpmsg_head *h = (const void *)(base + off);
	cr_assert_eq(h->magic, IPCC_RPMSG_MAGIC);
	cr_assert_eq(h->buffers, 16u);
	cr_assert_eq(h->buffer_size, 64u);
	cr_assert_eq(h->endpoints, 64u);
	cr_assert_eq(h->pair_count, 6u, "3 links, 2 vrings each");
	cr_assert_eq(h->cpus, 3u);
	for (unsigned v = 0; v < 6; v++) {
		struct rt_vring vr;
		cr_assert(rt_vring_find(sys, v, &vr), "vring %u", v);
		uint32_t fm, qm, cap_f, cap_q;
		memcpy(&fm, base + vr.full_q, 4);
		memcpy(&qm, base + vr.free_q, 4);
		memcpy(&cap_f, base + vr.full_q + 8, 4);
		memcpy(&cap_q, base + vr.free_q + 8, 4);
		cr_assert_eq(fm, 0x51435049u, "vring %u: no queue magic at the full queue", v);
		cr_assert_eq(qm, 0x51435049u, "vring %u: no queue magic at the free queue", v);
		cr_assert_eq(cap_f, 16u, "vring %u: full queue capacity", v);
		cr_assert_eq(cap_q, 32u, "vring %u: free queue capacity (twice the buffers)", v);
		cr_assert_leq(vr.bufs + 16 * 64,
			      off + IPCC_SHM_RPMSG_HEAD_SIZE + 3 * IPCC_SHM_RPMSG_CPU_SIZE +
				      (uint64_t)(v + 1) * h->record_size,
			      "vring %u: the buffers run past the record", v);
	}
	cr_assert_leq(IPCC_SHM_RPMSG_HEAD_SIZE + 3 * IPCC_SHM_RPMSG_CPU_SIZE +
			      6 * (uint64_t)h->record_size,
		      size);
	munmap(base, ipcc_system_size(sys));
	ipcc_system_close(sys);
}

/* ---- end points -------------------------------------------------------------------------- */

Test(rpmsg, ep_create_errors_each_have_their_own_errno)
{
	struct quad q;
	quad_start(&q);
	struct ipcc_rpmsg_ep *ep = NULL, *const unset = NULL;
	cr_assert_eq(ipcc_rpmsg_ep_create(NULL, 1, NULL, NULL, &ep), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_ep_create(q.cpu[0], 1, NULL, NULL, NULL), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_ep_create(q.cpu[0], 64, NULL, NULL, &ep), -ERANGE);
	cr_assert_eq(ipcc_rpmsg_ep_create(q.cpu[0], 1000, NULL, NULL, &ep), -ERANGE);
	cr_assert_eq(ipcc_rpmsg_ep_create(q.cpu[0], IPCC_RPMSG_ENDPT_CTRL, NULL, NULL, &ep),
		     -EACCES);
	cr_assert_eq(ipcc_rpmsg_ep_create(q.cpu[2], 1, NULL, NULL, &ep), -ENOPROTOOPT,
		     "CPU 2 has no RPMessage pair");
	cr_assert_eq(ep, unset, "a failed create wrote *ret_ep");
	struct ipcc_rpmsg_ep *e5 = rt_ep(q.cpu[0], 5, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_ep_create(q.cpu[0], 5, NULL, NULL, &ep), -EADDRINUSE);
	cr_assert_eq(ipcc_rpmsg_ep_create(q.cpu[0], 5, never_called, NULL, &ep), -EADDRINUSE);
	cr_assert_eq(ep, unset);
	/* The same number on another CPU is another end point. */
	struct ipcc_rpmsg_ep *b5 = rt_ep(q.cpu[1], 5, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_ep_number(e5), 5u);
	cr_assert_eq(ipcc_rpmsg_ep_cpu(e5), q.cpu[0]);
	cr_assert_eq(ipcc_rpmsg_ep_cpu(b5), q.cpu[1]);
	cr_assert_eq(ipcc_rpmsg_ep_close(e5), 0);
	cr_assert_eq(ipcc_rpmsg_ep_close(b5), 0);
	cr_assert_eq(ipcc_rpmsg_ep_close(NULL), 0);
	/* Closed, the number is free again. */
	e5 = rt_ep(q.cpu[0], 5, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_ep_close(e5), 0);
	quad_stop(&q);
}

Test(rpmsg, any_gives_the_lowest_free_number_from_1_and_eaddrnotavail_when_none_is_left)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	struct ipcc_rpmsg_config r;
	struct duo d;
	rt_config(&cfg, &n, &r, 2);
	r.endpoints = 4;
	duo_start_with(&d, &cfg);
	struct ipcc_rpmsg_ep *e[4] = { 0 }, *ep = NULL;
	e[2] = rt_ep(d.a, 2, NULL, NULL);
	e[1] = rt_ep(d.a, IPCC_RPMSG_ENDPT_ANY, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_ep_number(e[1]), 1u, "ANY must start at 1, never the control 0");
	e[3] = rt_ep(d.a, IPCC_RPMSG_ENDPT_ANY, never_called, NULL);
	cr_assert_eq(ipcc_rpmsg_ep_number(e[3]), 3u, "2 is taken");
	cr_assert_eq(ipcc_rpmsg_ep_create(d.a, IPCC_RPMSG_ENDPT_ANY, NULL, NULL, &ep),
		     -EADDRNOTAVAIL);
	cr_assert_null(ep);
	cr_assert_eq(ipcc_rpmsg_ep_create(d.a, 4, NULL, NULL, &ep), -ERANGE);
	/* The other CPU's numbers are its own. */
	struct ipcc_rpmsg_ep *b1 = rt_ep(d.b, IPCC_RPMSG_ENDPT_ANY, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_ep_number(b1), 1u);
	cr_assert_eq(ipcc_rpmsg_ep_close(e[2]), 0);
	e[2] = rt_ep(d.a, IPCC_RPMSG_ENDPT_ANY, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_ep_number(e[2]), 2u, "the lowest free one, freed again");
	for (unsigned i = 1; i < 4; i++)
		cr_assert_eq(ipcc_rpmsg_ep_close(e[i]), 0);
	ipcc_rpmsg_ep_close(b1);
	duo_stop(&d);
}

Test(rpmsg, ep_is_open_shows_what_each_cpu_has_open_and_its_errors)
{
	struct quad q;
	quad_start(&q);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(q.sys, 0, 9), 0);
	struct ipcc_rpmsg_ep *e = rt_ep(q.cpu[0], 9, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(q.sys, 0, 9), 1);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(q.sys, 1, 9), 0, "another CPU's end point");
	cr_assert_eq(ipcc_rpmsg_ep_is_open(q.sys, 0, 8), 0);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(q.sys, 0, 63), 0);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(q.sys, 0, 64), -ERANGE);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(q.sys, 4, 1), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(NULL, 0, 1), -EINVAL);
	/* A read-only handle sees the same. */
	struct ipcc_system *ro = NULL;
	cr_assert_eq(ipcc_system_open_flags(ipcc_system_name(q.sys), IPCC_OPEN_READONLY, &ro), 0);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(ro, 0, 9), 1);
	cr_assert_eq(ipcc_rpmsg_ep_close(e), 0);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(q.sys, 0, 9), 0);
	cr_assert_eq(ipcc_rpmsg_ep_is_open(ro, 0, 9), 0);
	ipcc_system_close(ro);
	quad_stop(&q);
}

/* ---- sending ----------------------------------------------------------------------------- */

Test(rpmsg, send_errors_each_have_their_own_errno_and_queue_nothing)
{
	struct quad q;
	quad_start(&q);
	struct ipcc_cpu *c0 = q.cpu[0];
	struct ipcc_rpmsg_ep *l = rt_ep(c0, 1, NULL, NULL), *r = rt_ep(q.cpu[1], 2, NULL, NULL);
	uint8_t data[200] = { 1 };

	cr_assert_eq(ipcc_rpmsg_send(NULL, data, 1, 1, 2, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_send(c0, NULL, 1, 1, 2, 1, 0), -EINVAL, "NULL data, len 1");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 4, 2, 1, 0), -EINVAL, "CPU 4 of 4");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, IPCC_CPUS_MAX, 2, 1, 0), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 0, 2, 1, 0), -EINVAL, "to itself");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 113, 1, 2, 1, 0), -EMSGSIZE);
	cr_assert_eq(ipcc_rpmsg_send(c0, data, UINT32_MAX, 1, 2, 1, 0), -EMSGSIZE);
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 1, 64, 1, 0), -ERANGE, "remote end point 64");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 1, 2, 64, 0), -ERANGE, "local end point 64");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 1, 2, 3, 0), -EBADF, "local 3 is not open");
	cr_assert_eq(ipcc_rpmsg_send(q.cpu[1], data, 1, 2, 1, 2, 0), -ENOENT, "no link 1-2");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 2, 1, 1, 0), -ENOPROTOOPT, "0-2: Notify only");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 1, 3, 1, 0), -ECONNREFUSED,
		     "end point 3 of CPU 1 is not open");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 3, 2, 1, 0), -ECONNREFUSED,
		     "CPU 3 is not attached");
	cr_assert_eq(ipcc_rpmsg_send(c0, data, 1, 1, 2, IPCC_RPMSG_ENDPT_CTRL, 0), -EBADF,
		     "the control end point is not the application's to send from");
	struct ipcc_rpmsg_stats st = rt_stats(q.sys, 0, 1);
	cr_assert_eq(st.sent, 0u, "a failed send queued a packet: " RT_STATS_FMT,
		     RT_STATS_ARGS(st));
	cr_assert_eq(st.full, 0u);
	cr_assert_eq(st.nobuf, 0u);
	cr_assert_eq(st.buffers, 8u);
	uint32_t len = 99;
	cr_assert_eq(ipcc_rpmsg_recv(r, data, sizeof(data), &len, NULL, NULL, 0), -EAGAIN);
	cr_assert_eq(len, 99u, "a failed recv wrote *ret_len");
	ipcc_rpmsg_ep_close(l);
	ipcc_rpmsg_ep_close(r);
	quad_stop(&q);
}

/*
 * The name service lives in the CPU tables; a packet to the control end point only says "look
 * again" (rpmsg.h does not say what an application's packet there gets). Whatever the send
 * returns, such a packet must not forge a name, reach an application end point or be counted
 * as a delivery to one.
 */
Test(rpmsg, a_packet_to_the_control_end_point_forges_no_name_and_reaches_no_end_point)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	/* What a name announcement might look like: a name, then an end point number. */
	uint8_t forged[64] = "forged";
	forged[32] = 2;
	int r = ipcc_rpmsg_send(d.a, forged, sizeof(forged), 1, IPCC_RPMSG_ENDPT_CTRL, 1, 0);
	(void)r; /* accepted or refused: both are within the contract */
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	unsigned rc = 99, re = 99;
	cr_assert_eq(ipcc_rpmsg_lookup(d.b, "forged", 0, &rc, &re), -EAGAIN,
		     "a packet made a name appear (%u:%u)", rc, re);
	cr_assert_eq(ipcc_rpmsg_names(d.sys, 0, NULL, 0), 0);
	uint8_t buf[112];
	uint32_t len;
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, 0), -EAGAIN);
	struct ipcc_rpmsg_stats st = rt_stats(d.sys, 0, 1);
	cr_assert(!st.full && !st.bad, RT_STATS_FMT, RT_STATS_ARGS(st));
	/* And the pair works as before. */
	send_ok(d.a, "ok", 2, 1, 2, 1);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), 0);
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

/*
 * A CPU's open end points are its process's own: the bitmap in the object is what it publishes
 * for the others, and anyone with the mapping may rewrite it. Cleared there, end point 1 still
 * sends; set there, end point 3 (never opened) still does not.
 */
Test(rpmsg, the_local_end_point_check_does_not_trust_the_bitmap_in_the_object)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	uint8_t *base = rt_map(d.sys);
	uint64_t off = 0, size = 0;
	cr_assert(base && rt_section(d.sys, &off, &size));
	_Atomic uint64_t *open0 = (_Atomic uint64_t *)(base + off + IPCC_SHM_RPMSG_HEAD_SIZE +
						       offsetof(struct ipcc_shm_rpmsg_cpu, open));
	cr_assert_eq(atomic_load(&open0[0]) & 0xF, 0x3u, "CPU 0 publishes 0 and 1 open");
	atomic_store(&open0[0], 1u << 3);
	cr_assert_eq(ipcc_rpmsg_send(d.a, "x", 1, 1, 2, 3, 0), -EBADF,
		     "end point 3 was never opened here");
	int r = ipcc_rpmsg_send(d.a, "x", 1, 1, 2, 1, 0);
	cr_assert_eq(r, 0, "end point 1 is open, whatever the object says: %s", strerror(-r));
	munmap(base, ipcc_system_size(d.sys));
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

/*
 * The header (struct ipcc_rpmsg_hdr) as it lies in the buffer in front of the payload, in
 * both directions: source and destination end points, source CPU, length, no flag.
 */
Test(rpmsg, the_header_in_the_buffer_carries_src_dst_src_cpu_and_len)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a5 = rt_ep(d.a, 5, NULL, NULL), *b7 = rt_ep(d.b, 7, NULL, NULL);
	uint8_t msg[112];
	pt_msg_fill(msg, 1, 1, sizeof(msg));
	send_ok(d.a, msg, 37, 1, 7, 5);
	send_ok(d.b, msg, 112, 0, 5, 7);

	/* In the object, before anyone took them: vring 0 is 0 -> 1, vring 1 is 1 -> 0. */
	uint8_t *base = rt_map(d.sys);
	cr_assert_not_null(base);
	for (unsigned v = 0; v < 2; v++) {
		struct rt_vring vr;
		cr_assert(rt_vring_find(d.sys, v, &vr));
		unsigned found = 0;
		for (uint32_t i = 0; i < vr.buffers; i++) {
			struct ipcc_rpmsg_hdr h;
			const uint8_t *buf = base + vr.bufs + (uint64_t)i * vr.buffer_size;
			memcpy(&h, buf, sizeof(h));
			if (h.len != (v ? 112 : 37) || h.src_cpu != v)
				continue;
			cr_assert_eq(h.src, v ? 7u : 5u);
			cr_assert_eq(h.dst, v ? 5u : 7u);
			cr_assert_eq(h.flags, 0u);
			cr_assert_eq(memcmp(buf + IPCC_RPMSG_HEADER_SIZE, msg, h.len), 0);
			found++;
		}
		cr_assert_eq(found, 1u, "vring %u: %u buffers carry the packet's header", v, found);
	}
	munmap(base, ipcc_system_size(d.sys));

	/* And in front of the payload a zero-copy receive points at. */
	const void *p = NULL;
	uint32_t len = 0;
	unsigned rc = 99, re = 99;
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(b7, &p, &len, &rc, &re, PT_LONG), 0);
	struct ipcc_rpmsg_hdr h;
	memcpy(&h, (const uint8_t *)p - IPCC_RPMSG_HEADER_SIZE, sizeof(h));
	cr_assert_eq(len, 37u);
	cr_assert_eq(rc, 0u);
	cr_assert_eq(re, 5u);
	cr_assert(h.src == 5 && h.dst == 7 && h.src_cpu == 0 && h.len == 37 && h.flags == 0,
		  "header src %u dst %u src_cpu %u len %u flags %u", h.src, h.dst, h.src_cpu, h.len,
		  h.flags);
	cr_assert_eq(ipcc_rpmsg_release(d.b, p), 0);
	ipcc_rpmsg_ep_close(a5);
	ipcc_rpmsg_ep_close(b7);
	duo_stop(&d);
}

Test(rpmsg, payloads_of_0_and_of_payload_max_bytes_go_and_one_more_byte_is_emsgsize)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	uint8_t msg[113], got[200];
	uint32_t len = 99;
	unsigned rc = 99, re = 99;
	pt_msg_fill(msg, 2, 2, sizeof(msg));
	cr_assert_eq(ipcc_rpmsg_send(d.a, msg, 113, 1, 2, 1, 0), -EMSGSIZE, "nothing is truncated");
	send_ok(d.a, msg, 112, 1, 2, 1);
	send_ok(d.a, NULL, 0, 1, 2, 1);
	send_ok(d.a, msg, 0, 1, 2, 1);
	cr_assert_eq(ipcc_rpmsg_recv(b2, got, sizeof(got), &len, &rc, &re, PT_LONG), 0);
	cr_assert_eq(len, 112u);
	cr_assert_eq(memcmp(got, msg, 112), 0);
	cr_assert(rc == 0 && re == 1, "from %u:%u", rc, re);
	for (int i = 0; i < 2; i++) {
		len = 99;
		cr_assert_eq(ipcc_rpmsg_recv(b2, got, sizeof(got), &len, NULL, NULL, PT_LONG), 0);
		cr_assert_eq(len, 0u, "an empty packet arrives empty");
	}
	/* An empty packet needs no buffer at all on the receiving side. */
	send_ok(d.a, NULL, 0, 1, 2, 1);
	cr_assert_eq(ipcc_rpmsg_recv(b2, NULL, 0, &len, NULL, NULL, PT_LONG), 0);
	cr_assert_eq(len, 0u);
	struct ipcc_rpmsg_stats st = rt_stats(d.sys, 0, 1);
	cr_assert_eq(st.sent, 4u, RT_STATS_FMT, RT_STATS_ARGS(st));
	cr_assert_eq(st.received, 4u, RT_STATS_FMT, RT_STATS_ARGS(st));
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

/* ---- receiving --------------------------------------------------------------------------- */

Test(rpmsg, recv_errors_each_have_their_own_errno_and_leave_the_outputs_alone)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	struct ipcc_rpmsg_ep *cb = rt_ep(d.b, 3, never_called, NULL);
	uint8_t buf[112];
	uint32_t len = 99;
	unsigned rc = 99, re = 99;

	cr_assert_eq(ipcc_rpmsg_recv(NULL, buf, sizeof(buf), &len, &rc, &re, 0), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), NULL, &rc, &re, 0), -EINVAL,
		     "ret_len NULL");
	cr_assert_eq(ipcc_rpmsg_recv(b2, NULL, 16, &len, &rc, &re, 0), -EINVAL,
		     "buf NULL with a capacity");
	cr_assert_eq(ipcc_rpmsg_recv(cb, buf, sizeof(buf), &len, &rc, &re, 0), -EOPNOTSUPP);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, &rc, &re, 0), -EAGAIN);
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, &rc, &re, 20 * PT_MS), -ETIMEDOUT);
	cr_assert_geq(pt_now_ns() - t0, 20 * PT_MS, "returned before its timeout");
	cr_assert(len == 99 && rc == 99 && re == 99, "a failed recv wrote its outputs");

	/* Too small a buffer: -EMSGSIZE with the length needed, and the packet stays first. */
	uint8_t msg[50];
	pt_msg_fill(msg, 3, 3, sizeof(msg));
	send_ok(d.a, msg, 50, 1, 2, 1);
	send_ok(d.a, msg, 10, 1, 2, 1);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, 49, &len, &rc, &re, PT_LONG), -EMSGSIZE);
	cr_assert_eq(len, 50u, "*ret_len says how much is needed");
	cr_assert_eq(ipcc_rpmsg_recv(b2, NULL, 0, &len, &rc, &re, 0), -EMSGSIZE);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, 50, &len, &rc, &re, 0), 0);
	cr_assert_eq(len, 50u);
	cr_assert_eq(memcmp(buf, msg, 50), 0);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), 0);
	cr_assert_eq(len, 10u);
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	ipcc_rpmsg_ep_close(cb);
	duo_stop(&d);
}

Test(rpmsg, unblock_makes_the_next_recv_return_ecanceled_once)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	uint8_t buf[16];
	uint32_t len;
	cr_assert_eq(ipcc_rpmsg_unblock(NULL), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_unblock(b2), 0);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), -ECANCELED);
	/* One unblock ends one receive: the next one waits and times out. */
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, 10 * PT_MS),
		     -ETIMEDOUT);
	send_ok(d.a, "hi", 2, 1, 2, 1);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), 0);
	cr_assert_eq(len, 2u);
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

Test(rpmsg, two_unblocks_end_two_receives)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *b2 = rt_ep(d.b, 2, NULL, NULL);
	uint8_t buf[16];
	uint32_t len;
	cr_assert_eq(ipcc_rpmsg_unblock(b2), 0);
	cr_assert_eq(ipcc_rpmsg_unblock(b2), 0);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), -ECANCELED);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), -ECANCELED,
		     "one unblock ends one receive: the second one's");
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, 0), -EAGAIN);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

Test(rpmsg, closing_an_end_point_drops_its_queued_packets_and_gives_their_buffers_back)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	struct ipcc_rpmsg_ep *b3 = rt_ep(d.b, 3, NULL, NULL);
	for (unsigned i = 0; i < 8; i++)
		send_ok(d.a, "q", 1, 1, 2, 1);
	/* The drain moves them to end point 2's queue: taken from the vring, still held. */
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	struct ipcc_rpmsg_stats st = rt_stats(d.sys, 0, 1);
	cr_assert(st.received == 8 && !st.full, RT_STATS_FMT, RT_STATS_ARGS(st));
	cr_assert_eq(ipcc_rpmsg_send(d.a, "q", 1, 1, 3, 1, 0), -EAGAIN, "all 8 queued at 2");
	cr_assert_eq(ipcc_rpmsg_ep_close(b2), 0);
	st = rt_stats(d.sys, 0, 1);
	cr_assert_eq(st.dropped, 8u, "the close drops what was queued: " RT_STATS_FMT,
		     RT_STATS_ARGS(st));
	for (unsigned i = 0; i < 8; i++) {
		int r = ipcc_rpmsg_send(d.a, "z", 1, 1, 3, 1, 0);
		cr_assert_eq(r, 0, "buffer %u after the close: %s", i, strerror(-r));
	}
	cr_assert_eq(ipcc_rpmsg_send(d.a, "q", 1, 1, 2, 1, 0), -ECONNREFUSED, "2 is closed");
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b3);
	duo_stop(&d);
}

struct blocked_recv {
	struct ipcc_rpmsg_ep *ep;
	_Atomic int started;
	int r;
};

static void *blocked_recv_main(void *p)
{
	struct blocked_recv *b = p;
	uint8_t buf[16];
	uint32_t len;
	atomic_store(&b->started, 1);
	do
		b->r = ipcc_rpmsg_recv(b->ep, buf, sizeof(buf), &len, NULL, NULL,
				       IPCC_TIMEOUT_INFINITE);
	while (b->r == -EBUSY); /* the test's probe held the end point for a moment */
	return NULL;
}

/*
 * One receive at a time per end point: a second one gets -EBUSY, a close during it -EBUSY
 * too; an unblock ends the blocked one with -ECANCELED and the close then succeeds.
 */
Test(rpmsg, a_second_recv_or_a_close_during_a_recv_is_ebusy_and_unblock_ends_it)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *b2 = rt_ep(d.b, 2, NULL, NULL);
	struct blocked_recv b = { .ep = b2 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, blocked_recv_main, &b), 0);
	uint32_t len;
	rt_await_recv_busy(b2);
	const void *p;
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(b2, &p, &len, NULL, NULL, 0), -EBUSY);
	cr_assert_eq(ipcc_rpmsg_ep_close(b2), -EBUSY);
	cr_assert_eq(ipcc_rpmsg_unblock(b2), 0);
	pthread_join(t, NULL);
	cr_assert_eq(b.r, -ECANCELED, "the blocked receive: %s", strerror(-b.r));
	cr_assert_eq(ipcc_rpmsg_ep_close(b2), 0);
	duo_stop(&d);
}

/* ---- callbacks --------------------------------------------------------------------------- */

#define LOG_MAX 64

struct cb_log {
	unsigned n;
	struct {
		struct ipcc_rpmsg_ep *ep;
		uint8_t data[128];
		uint32_t len;
		unsigned remote, remote_ep;
		void *arg;
	} call[LOG_MAX];
};

static void log_fn(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		   unsigned remote_ep, void *arg)
{
	struct cb_log *log = arg;
	if (log->n < LOG_MAX) {
		log->call[log->n].ep = ep;
		memcpy(log->call[log->n].data, data, len < 128 ? len : 128);
		log->call[log->n].len = len;
		log->call[log->n].remote = remote;
		log->call[log->n].remote_ep = remote_ep;
		log->call[log->n].arg = arg;
	}
	log->n++;
}

Test(rpmsg, dispatch_runs_the_callback_per_packet_in_order_and_returns_the_buffers)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct cb_log log = { 0 };
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *a4 = rt_ep(d.a, 4, NULL, NULL);
	struct ipcc_rpmsg_ep *b2 = rt_ep(d.b, 2, log_fn, &log);
	uint8_t msg[112];
	/* Twice the buffers: the callbacks' returns must make room. */
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 8; i++) {
			uint32_t n = rt_fill(msg, rt_stream(0, 1 + 3 * (i & 1), 2),
					     (round * 8 + i) / 2, 112);
			send_ok(d.a, msg, n, 1, 2, i & 1 ? 4 : 1);
		}
		cr_assert_eq(ipcc_rpmsg_send(d.a, msg, 1, 1, 2, 1, 0), -EAGAIN, "8 in flight");
		cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	}
	cr_assert_eq(log.n, 16u, "%u callbacks", log.n);
	struct pt_tally t[2] = { 0 };
	for (unsigned i = 0; i < 16; i++) {
		unsigned src = i & 1 ? 4 : 1;
		cr_assert_eq(log.call[i].ep, b2);
		cr_assert_eq(log.call[i].arg, &log);
		cr_assert_eq(log.call[i].remote, 0u);
		cr_assert_eq(log.call[i].remote_ep, src);
		cr_assert(pt_msg_take(&t[i & 1], log.call[i].data, log.call[i].len,
				      rt_stream(0, src, 2), 112),
			  "call %u: " PT_TALLY_FMT, i, PT_TALLY_ARGS(&t[i & 1]));
	}
	struct ipcc_rpmsg_stats st = rt_stats(d.sys, 0, 1);
	cr_assert(st.sent == 16 && st.received == 16 && st.nobuf == 2 && !st.dropped && !st.bad &&
			  !st.full,
		  RT_STATS_FMT, RT_STATS_ARGS(st));
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(a4);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

/*
 * A Notify pair held by a full application mailbox is masked: no line comes for the packets
 * behind it, only the kick's wake-up. That wake-up must reach every kind of waiter: here an
 * event loop (eventfd mode: the fd becomes readable) and a dispatch of callback end points,
 * which then serves the packet although the mailbox is still full.
 */
Test(rpmsg, a_packet_behind_a_full_mailbox_wakes_an_event_loop_and_reaches_its_callback)
{
	struct duo d;
	duo_start(&d, 0, 0);
	cr_assert_eq(ipcc_cpu_set_wait_mode(d.b, IPCC_WAIT_EVENTFD, 0), 0);
	int fd = ipcc_cpu_fd(d.b);
	cr_assert_geq(fd, 0, "ipcc_cpu_fd: %s", strerror(-fd));
	struct cb_log log = { 0 };
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, log_fn, &log);
	uint32_t v;
	/* Client 5 keeps its values (a receive was asked for); nobody takes them. */
	cr_assert_eq(ipcc_notify_recv(d.b, 5, &v, NULL, 0), -EAGAIN);
	for (uint32_t i = 0; i < IPCC_NOTIFY_MAILBOX + 1; i++) {
		int r = ipcc_notify_send(d.a, 1, 5, i, 0);
		cr_assert_eq(r, 0, "value %u: %s", i, strerror(-r));
		cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	}
	struct ipcc_notify_stats ns;
	cr_assert_eq(ipcc_notify_stats(d.sys, 0, 1, &ns), 0);
	/* (received counts RPMessage's own kicks too) */
	cr_assert(ns.received >= IPCC_NOTIFY_MAILBOX && ns.fill == 1,
		  "the mailbox is full and the last value waits: received %llu, fill %u",
		  (unsigned long long)ns.received, ns.fill);
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0); /* nothing left: the fd is quiet */
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 0), 0, "the event loop is woken with nothing to do");

	send_ok(d.a, "behind", 6, 1, 2, 1);
	cr_assert_eq(poll(&pfd, 1, 5000), 1, "the kick did not wake the event loop");
	/* A waiting application sees it once, not as a level that ends every wait. */
	cr_assert_eq(ipcc_cpu_wait(d.b, 0), 0, "ipcc_cpu_wait does not see the wake-up");
	cr_assert_eq(ipcc_cpu_wait(d.b, 0), -EAGAIN, "the wake-up ends a second wait too");
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 1);
	cr_assert_eq(log.n, 1u, "%u callbacks after the wake-up", log.n);
	cr_assert_eq(log.call[0].len, 6u);
	cr_assert_eq(memcmp(log.call[0].data, "behind", 6), 0);
	/* The mailbox is still full: the held value is still held, in order. */
	cr_assert_eq(ipcc_notify_stats(d.sys, 0, 1, &ns), 0);
	cr_assert_geq(ns.fill, 1u, "the held value (and the kick behind it) stay queued");
	cr_assert_eq(ipcc_notify_recv(d.b, 5, &v, NULL, 0), 0);
	cr_assert_eq(v, 0u, "the oldest value first");
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

/*
 * The same kick while another thread of the receiver holds the drain (here the drain seam
 * itself; in use, a thread blocked in a receive, a register, a name-service call): the
 * dispatcher's drain cannot run, so the holder rings again when it lets go.
 */
struct drain_holder {
	struct ipcc_cpu *cpu;
	sem_t held, go;
};

static void *drain_holder_main(void *p)
{
	struct drain_holder *h = p;
	ipcc_notify_drain_enter(h->cpu);
	sem_post(&h->held);
	sem_wait(&h->go);
	ipcc_notify_drain_leave(h->cpu);
	return NULL;
}

Test(rpmsg, a_kick_whose_drain_another_thread_holds_reaches_the_callback_when_it_lets_go)
{
	struct duo d;
	duo_start(&d, 0, 0);
	cr_assert_eq(ipcc_cpu_set_wait_mode(d.b, IPCC_WAIT_EVENTFD, 0), 0);
	int fd = ipcc_cpu_fd(d.b);
	cr_assert_geq(fd, 0);
	struct cb_log log = { 0 };
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, log_fn, &log);
	uint32_t v;
	cr_assert_eq(ipcc_notify_recv(d.b, 5, &v, NULL, 0), -EAGAIN);
	for (uint32_t i = 0; i < IPCC_NOTIFY_MAILBOX + 1; i++) {
		cr_assert_eq(ipcc_notify_send(d.a, 1, 5, i, 0), 0, "value %u", i);
		cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	}
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 0), 0);

	struct drain_holder h = { .cpu = d.b };
	pthread_t th;
	cr_assert_eq(sem_init(&h.held, 0, 0), 0);
	cr_assert_eq(sem_init(&h.go, 0, 0), 0);
	cr_assert_eq(pthread_create(&th, NULL, drain_holder_main, &h), 0);
	sem_wait(&h.held);
	send_ok(d.a, "behind", 6, 1, 2, 1);
	cr_assert_eq(poll(&pfd, 1, 5000), 1, "the kick did not wake the event loop");
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0); /* the drain is held: nothing yet */
	cr_assert_eq(log.n, 0u);
	sem_post(&h.go);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(poll(&pfd, 1, 5000), 1, "the holder's release did not wake the event loop");
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 1);
	cr_assert_eq(log.n, 1u, "%u callbacks after the holder let go", log.n);
	cr_assert_eq(memcmp(log.call[0].data, "behind", 6), 0);
	sem_destroy(&h.held);
	sem_destroy(&h.go);
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

/*
 * A buffer the receiver gave back is the sender's at once, even while the receiver's drain is
 * still going through the rest of the full queue: here CPU 1's callback, run by the drain of
 * eight packets, sends through CPU 0's handle into the buffers of the packets before it. Each
 * of those sends has a buffer (the previous packet's, returned when its callback ended) and
 * room in the full queue (that packet left it); a full queue there is no broken index.
 */
struct refill {
	struct ipcc_cpu *sender;
	unsigned calls;
	int r[8];
};

static void refill_fn(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		      unsigned remote_ep, void *arg)
{
	struct refill *f = arg;
	(void)ep, (void)data, (void)len, (void)remote, (void)remote_ep;
	if (f->calls < 8 && f->calls > 0)
		f->r[f->calls] = ipcc_rpmsg_send(f->sender, "again", 5, 1, 3, 1, 0);
	f->calls++;
}

Test(rpmsg, a_buffer_given_back_during_a_drain_can_be_sent_again_at_once)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct refill f = { .sender = d.a };
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL);
	struct ipcc_rpmsg_ep *b2 = rt_ep(d.b, 2, refill_fn, &f);
	struct ipcc_rpmsg_ep *b3 = rt_ep(d.b, 3, NULL, NULL);
	for (unsigned i = 0; i < 8; i++)
		send_ok(d.a, "first", 5, 1, 2, 1);
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	cr_assert_geq(f.calls, 8u);
	for (unsigned i = 1; i < 8; i++)
		cr_assert_eq(f.r[i], 0, "the send from callback %u: %s", i, strerror(-f.r[i]));
	/* The pair is not broken either. */
	uint8_t buf[16];
	uint32_t len;
	for (unsigned i = 1; i < 8; i++)
		cr_assert_eq(ipcc_rpmsg_recv(b3, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), 0);
	send_ok(d.a, "later", 5, 1, 3, 1);
	cr_assert_eq(ipcc_rpmsg_recv(b3, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), 0);
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	ipcc_rpmsg_ep_close(b3);
	duo_stop(&d);
}

struct self_close {
	int close_r, send_r, create_r;
	struct ipcc_rpmsg_ep *made;
	unsigned calls;
};

static void self_close_fn(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
			  unsigned remote_ep, void *arg)
{
	struct self_close *s = arg;
	(void)data, (void)len;
	s->calls++;
	s->close_r = ipcc_rpmsg_ep_close(ep);
	s->send_r = ipcc_rpmsg_send(ipcc_rpmsg_ep_cpu(ep), "re", 2, remote, remote_ep,
				    ipcc_rpmsg_ep_number(ep), 0);
	s->create_r = ipcc_rpmsg_ep_create(ipcc_rpmsg_ep_cpu(ep), 9, NULL, NULL, &s->made);
}

Test(rpmsg, a_callback_may_send_and_create_but_not_close_its_own_end_point)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct self_close s = { 0 };
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL);
	struct ipcc_rpmsg_ep *b2 = rt_ep(d.b, 2, self_close_fn, &s);
	send_ok(d.a, "ping", 4, 1, 2, 1);
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	cr_assert_eq(s.calls, 1u);
	cr_assert_eq(s.close_r, -EDEADLK);
	cr_assert_eq(s.send_r, 0, "a reply from the callback: %s", strerror(-s.send_r));
	cr_assert_eq(s.create_r, 0, "create from a callback: %s", strerror(-s.create_r));
	cr_assert_eq(ipcc_rpmsg_ep_number(s.made), 9u);
	uint8_t buf[8];
	uint32_t len = 0;
	unsigned rc = 99, re = 99;
	cr_assert_eq(ipcc_rpmsg_recv(a1, buf, sizeof(buf), &len, &rc, &re, PT_LONG), 0);
	cr_assert(len == 2 && !memcmp(buf, "re", 2) && rc == 1 && re == 2, "reply %u from %u:%u",
		  len, rc, re);
	cr_assert_eq(ipcc_rpmsg_ep_close(b2), 0);
	cr_assert_eq(ipcc_rpmsg_ep_close(s.made), 0);
	ipcc_rpmsg_ep_close(a1);
	duo_stop(&d);
}

/* ---- the counters ------------------------------------------------------------------------ */

Test(rpmsg, stats_count_sent_received_nobuf_dropped_and_the_queues)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	struct ipcc_rpmsg_ep *b3 = rt_ep(d.b, 3, NULL, NULL);
	uint8_t buf[112];
	uint32_t len;
	for (unsigned i = 0; i < 5; i++)
		send_ok(d.a, "x", 1, 1, 2, 1);
	send_ok(d.a, "y", 1, 1, 3, 1);
	struct ipcc_rpmsg_stats st = rt_stats(d.sys, 0, 1);
	cr_assert(st.sent == 6 && st.received == 0 && st.full == 6 && st.buffers == 8 &&
			  !st.nobuf && !st.dropped && !st.bad && !st.stale && !st.reclaimed,
		  RT_STATS_FMT, RT_STATS_ARGS(st));
	st = rt_stats(d.sys, 1, 0);
	cr_assert(!st.sent && !st.received && !st.full, "1 -> 0: " RT_STATS_FMT, RT_STATS_ARGS(st));

	/* End point 3 closes with its packet unread, before the drain: dropped and counted. */
	cr_assert_eq(ipcc_rpmsg_ep_close(b3), 0);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, 0), 0);
	st = rt_stats(d.sys, 0, 1);
	cr_assert(st.sent == 6 && st.received == 6 && st.dropped == 1 && !st.full, RT_STATS_FMT,
		  RT_STATS_ARGS(st));

	/* No buffer: nobuf once per call, -EAGAIN at once, -ETIMEDOUT after a wait. */
	for (unsigned i = 0; i < 8; i++)
		send_ok(d.a, "z", 1, 1, 2, 1);
	cr_assert_eq(ipcc_rpmsg_send(d.a, "z", 1, 1, 2, 1, 0), -EAGAIN);
	cr_assert_eq(ipcc_rpmsg_send(d.a, "z", 1, 1, 2, 1, 10 * PT_MS), -ETIMEDOUT);
	void *tx;
	uint32_t cap;
	cr_assert_eq(ipcc_rpmsg_tx_get(d.a, 1, 0, &tx, &cap), -EAGAIN);
	st = rt_stats(d.sys, 0, 1);
	cr_assert(st.sent == 14 && st.nobuf == 3, RT_STATS_FMT, RT_STATS_ARGS(st));
	for (int i = 0; i < 8; i++)
		cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), 0);
	send_ok(d.a, "w", 1, 1, 2, 1);
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, NULL, NULL, PT_LONG), 0);
	st = rt_stats(d.sys, 0, 1);
	cr_assert(st.sent == 15 && st.received == 15 && st.dropped == 1 && st.nobuf == 3 &&
			  !st.bad && !st.full,
		  RT_STATS_FMT, RT_STATS_ARGS(st));
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

Test(rpmsg, stats_errors_each_have_their_own_errno)
{
	struct quad q;
	quad_start(&q);
	struct ipcc_rpmsg_stats st;
	memset(&st, 0xA5, sizeof(st));
	struct ipcc_rpmsg_stats const marker = st;
	cr_assert_eq(ipcc_rpmsg_stats(NULL, 0, 1, &st), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_stats(q.sys, 0, 1, NULL), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_stats(q.sys, 1, 1, &st), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_stats(q.sys, 4, 0, &st), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_stats(q.sys, 1, 2, &st), -ENOENT);
	cr_assert_eq(ipcc_rpmsg_stats(q.sys, 0, 2, &st), -ENOPROTOOPT);
	cr_assert_eq(ipcc_rpmsg_stats(q.sys, 2, 0, &st), -ENOPROTOOPT);
	cr_assert_eq(memcmp(&st, &marker, sizeof(st)), 0, "a failed call wrote *ret_stats");
	cr_assert_eq(ipcc_rpmsg_stats(q.sys, 3, 0, &st), 0, "a CPU never attached has stats");
	quad_stop(&q);
}

/* ---- names ------------------------------------------------------------------------------- */

Test(rpmsg, announce_errors_each_have_their_own_errno)
{
	struct quad q;
	quad_start(&q);
	struct ipcc_rpmsg_ep *e = rt_ep(q.cpu[0], 4, NULL, NULL);
	char n32[33];
	memset(n32, 'a', 32);
	n32[32] = 0;
	cr_assert_eq(ipcc_rpmsg_announce(NULL, "svc", IPCC_RPMSG_CPU_ALL), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_announce(e, NULL, IPCC_RPMSG_CPU_ALL), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_announce(e, "", IPCC_RPMSG_CPU_ALL), -EINVAL, "empty");
	cr_assert_eq(ipcc_rpmsg_announce(e, n32, IPCC_RPMSG_CPU_ALL), -EINVAL, "32 bytes");
	cr_assert_eq(ipcc_rpmsg_announce(e, "a b", IPCC_RPMSG_CPU_ALL), -EINVAL, "a space");
	cr_assert_eq(ipcc_rpmsg_announce(e, "a/b", IPCC_RPMSG_CPU_ALL), -EINVAL, "a slash");
	cr_assert_eq(ipcc_rpmsg_announce(e, "\xc3\xa9", IPCC_RPMSG_CPU_ALL), -EINVAL, "UTF-8");
	cr_assert_eq(ipcc_rpmsg_announce(e, "svc", 0), -EINVAL, "to itself");
	cr_assert_eq(ipcc_rpmsg_announce(e, "svc", 4), -EINVAL, "CPU 4 of 4");
	cr_assert_eq(ipcc_rpmsg_announce(e, "svc", 2), -ENOPROTOOPT, "0-2 has no RPMessage");
	n32[31] = 0;
	cr_assert_eq(ipcc_rpmsg_announce(e, n32, IPCC_RPMSG_CPU_ALL), 0, "31 bytes: %s", n32);
	cr_assert_eq(ipcc_rpmsg_announce(e, "A-z_0.9:x", 1), 0, "every allowed kind of byte");
	cr_assert_eq(ipcc_rpmsg_announce(e, "A-z_0.9:x", 1), -EEXIST);
	struct ipcc_rpmsg_ep *e5 = rt_ep(q.cpu[0], 5, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_announce(e5, "A-z_0.9:x", 3), -EEXIST, "the CPU's, any ep");
	char name[16];
	for (unsigned i = 2; i < IPCC_RPMSG_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		cr_assert_eq(ipcc_rpmsg_announce(e5, name, IPCC_RPMSG_CPU_ALL), 0, "%s", name);
	}
	cr_assert_eq(ipcc_rpmsg_announce(e5, "one.more", IPCC_RPMSG_CPU_ALL), -ENOSPC);
	/* Closing end point 4 withdraws its two names and makes room. */
	cr_assert_eq(ipcc_rpmsg_ep_close(e), 0);
	cr_assert_eq(ipcc_rpmsg_announce(e5, "one.more", IPCC_RPMSG_CPU_ALL), 0);
	ipcc_rpmsg_ep_close(e5);
	quad_stop(&q);
}

static int find_name(const struct ipcc_rpmsg_name *n, int count, const char *name)
{
	for (int i = 0; i < count; i++)
		if (!strcmp(n[i].name, name))
			return i;
	return -1;
}

Test(rpmsg, names_lists_what_a_cpu_announced_to_whom_and_a_close_withdraws_it)
{
	struct quad q;
	quad_start(&q);
	struct ipcc_rpmsg_name n[IPCC_RPMSG_NAMES_MAX];
	struct ipcc_rpmsg_ep *e = rt_ep(q.cpu[0], 6, NULL, NULL),
			     *e7 = rt_ep(q.cpu[0], 7, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_names(q.sys, 0, n, IPCC_RPMSG_NAMES_MAX), 0);
	cr_assert_eq(ipcc_rpmsg_announce(e, "all", IPCC_RPMSG_CPU_ALL), 0);
	cr_assert_eq(ipcc_rpmsg_announce(e7, "three", 3), 0);
	int c = ipcc_rpmsg_names(q.sys, 0, n, IPCC_RPMSG_NAMES_MAX);
	cr_assert_eq(c, 2);
	int i = find_name(n, c, "all"), j = find_name(n, c, "three");
	cr_assert(i >= 0 && j >= 0, "names missing");
	cr_assert_eq(n[i].ep, 6u);
	cr_assert_eq(n[i].to, (1u << 1) | (1u << 3), "every RPMessage peer of CPU 0: 1 and 3");
	cr_assert_eq(n[j].ep, 7u);
	cr_assert_eq(n[j].to, 1u << 3);
	/* cap below the count: fills cap, returns the count. */
	struct ipcc_rpmsg_name one[2];
	memset(one, 0x5A, sizeof(one));
	cr_assert_eq(ipcc_rpmsg_names(q.sys, 0, one, 1), 2);
	cr_assert(!strcmp(one[0].name, "all") || !strcmp(one[0].name, "three"));
	cr_assert_eq(one[1].ep, 0x5A5A5A5Au, "an entry past cap was written");
	cr_assert_eq(ipcc_rpmsg_names(q.sys, 0, NULL, 0), 2);
	cr_assert_eq(ipcc_rpmsg_names(q.sys, 1, n, IPCC_RPMSG_NAMES_MAX), 0);
	cr_assert_eq(ipcc_rpmsg_names(NULL, 0, n, 1), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_names(q.sys, 0, NULL, 1), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_names(q.sys, 4, n, 1), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_ep_close(e), 0);
	c = ipcc_rpmsg_names(q.sys, 0, n, IPCC_RPMSG_NAMES_MAX);
	cr_assert_eq(c, 1);
	cr_assert_str_eq(n[0].name, "three");
	ipcc_rpmsg_ep_close(e7);
	cr_assert_eq(ipcc_rpmsg_names(q.sys, 0, n, IPCC_RPMSG_NAMES_MAX), 0);
	quad_stop(&q);
}

Test(rpmsg, lookup_finds_an_announced_name_waits_for_it_and_errors_have_their_errnos)
{
	struct quad q;
	quad_start(&q);
	unsigned rc = 99, re = 99;
	cr_assert_eq(ipcc_rpmsg_lookup(NULL, "svc", 0, &rc, &re), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_lookup(q.cpu[1], NULL, 0, &rc, &re), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_lookup(q.cpu[1], "", 0, &rc, &re), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_lookup(q.cpu[2], "svc", 0, &rc, &re), -ENOPROTOOPT);
	cr_assert_eq(ipcc_rpmsg_lookup(q.cpu[1], "svc", 0, &rc, &re), -EAGAIN);
	cr_assert_eq(ipcc_rpmsg_lookup(q.cpu[1], "svc", 10 * PT_MS, &rc, &re), -ETIMEDOUT);
	cr_assert(rc == 99 && re == 99, "a failed lookup wrote its outputs");
	struct ipcc_rpmsg_ep *e = rt_ep(q.cpu[0], 12, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_announce(e, "svc", IPCC_RPMSG_CPU_ALL), 0);
	cr_assert_eq(ipcc_rpmsg_lookup(q.cpu[1], "svc", PT_LONG, &rc, &re), 0);
	cr_assert(rc == 0 && re == 12, "found at %u:%u", rc, re);
	/* The announcer does not find its own name. */
	cr_assert_eq(ipcc_rpmsg_lookup(q.cpu[0], "svc", 0, &rc, &re), -EAGAIN);
	cr_assert_eq(ipcc_rpmsg_ep_close(e), 0);
	cr_assert_eq(ipcc_rpmsg_lookup(q.cpu[1], "svc", 0, &rc, &re), -EAGAIN, "withdrawn");
	quad_stop(&q);
}

Test(rpmsg, a_name_announced_by_several_cpus_is_found_at_the_lowest_cpu_id)
{
	struct ipcc_system *sys = rt_system(4, 0, 0);
	struct ipcc_cpu *c[4];
	for (unsigned i = 0; i < 4; i++)
		c[i] = pt_attach(sys, i, IPCC_WAIT_FUTEX, 0);
	struct ipcc_rpmsg_ep *e3 = rt_ep(c[3], 30, NULL, NULL), *e2 = rt_ep(c[2], 20, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_announce(e3, "dup", IPCC_RPMSG_CPU_ALL), 0);
	cr_assert_eq(ipcc_rpmsg_announce(e2, "dup", IPCC_RPMSG_CPU_ALL), 0);
	unsigned rc = 99, re = 99;
	cr_assert_eq(ipcc_rpmsg_lookup(c[0], "dup", PT_LONG, &rc, &re), 0);
	cr_assert(rc == 2 && re == 20, "found %u:%u, not the lowest CPU's", rc, re);
	cr_assert_eq(ipcc_rpmsg_lookup(c[2], "dup", PT_LONG, &rc, &re), 0);
	cr_assert(rc == 3 && re == 30, "CPU 2 finds CPU 3's (%u:%u)", rc, re);
	cr_assert_eq(ipcc_rpmsg_ep_close(e2), 0);
	cr_assert_eq(ipcc_rpmsg_lookup(c[0], "dup", PT_LONG, &rc, &re), 0);
	cr_assert(rc == 3 && re == 30, "after the withdrawal, found %u:%u", rc, re);
	ipcc_rpmsg_ep_close(e3);
	for (unsigned i = 0; i < 4; i++)
		ipcc_cpu_detach(c[i]);
	ipcc_system_close(sys);
}

struct ns_log {
	unsigned n;
	struct {
		char name[32];
		unsigned remote, remote_ep;
		bool up;
	} ev[16];
};

static void ns_fn(struct ipcc_cpu *cpu, const char *name, unsigned remote, unsigned remote_ep,
		  bool up, void *arg)
{
	struct ns_log *l = arg;
	(void)cpu;
	if (l->n < 16) {
		snprintf(l->ev[l->n].name, sizeof(l->ev[0].name), "%s", name);
		l->ev[l->n].remote = remote;
		l->ev[l->n].remote_ep = remote_ep;
		l->ev[l->n].up = up;
	}
	l->n++;
}

Test(rpmsg, ns_watch_reports_names_up_and_down_and_its_errors)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ns_log l = { 0 };
	cr_assert_eq(ipcc_rpmsg_ns_watch(NULL, ns_fn, &l), -EINVAL);
	struct ipcc_rpmsg_ep *old = rt_ep(d.a, 3, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_announce(old, "before", 1), 0);
	cr_assert_eq(ipcc_rpmsg_ns_watch(d.b, ns_fn, &l), 0);
	cr_assert_eq(ipcc_rpmsg_ns_watch(d.b, ns_fn, &l), -EEXIST);
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	cr_assert_eq(l.n, 1u, "the name announced before the watch, at the next drain");
	cr_assert(!strcmp(l.ev[0].name, "before") && l.ev[0].remote == 0 &&
			  l.ev[0].remote_ep == 3 && l.ev[0].up,
		  "event %s %u:%u %d", l.ev[0].name, l.ev[0].remote, l.ev[0].remote_ep, l.ev[0].up);
	struct ipcc_rpmsg_ep *e = rt_ep(d.a, 8, NULL, NULL);
	cr_assert_eq(ipcc_rpmsg_announce(e, "later", IPCC_RPMSG_CPU_ALL), 0);
	for (int64_t end = pt_now_ns() + PT_LONG; l.n < 2 && pt_now_ns() < end;)
		ipcc_cpu_wait(d.b, 10 * PT_MS), ipcc_cpu_dispatch(d.b);
	cr_assert_eq(l.n, 2u);
	cr_assert(!strcmp(l.ev[1].name, "later") && l.ev[1].remote_ep == 8 && l.ev[1].up);
	cr_assert_eq(ipcc_rpmsg_ep_close(e), 0);
	for (int64_t end = pt_now_ns() + PT_LONG; l.n < 3 && pt_now_ns() < end;)
		ipcc_cpu_wait(d.b, 10 * PT_MS), ipcc_cpu_dispatch(d.b);
	cr_assert_eq(l.n, 3u);
	cr_assert(!strcmp(l.ev[2].name, "later") && l.ev[2].remote == 0 && l.ev[2].remote_ep == 8 &&
			  !l.ev[2].up,
		  "the close withdrew it");
	cr_assert_eq(ipcc_rpmsg_ns_watch(d.b, NULL, NULL), 0);
	cr_assert_eq(ipcc_rpmsg_ns_watch(d.b, ns_fn, &l), 0, "removed, a new watcher may come");
	cr_assert_eq(ipcc_rpmsg_ns_watch(d.b, NULL, NULL), 0);
	ipcc_rpmsg_ep_close(old);
	duo_stop(&d);
}

/* ---- zero copy ----------------------------------------------------------------------------- */

Test(rpmsg, tx_get_send_nocopy_and_tx_free_and_their_errors)
{
	struct quad q;
	quad_start(&q);
	struct ipcc_cpu *c0 = q.cpu[0];
	struct ipcc_rpmsg_ep *a1 = rt_ep(c0, 1, NULL, NULL), *b2 = rt_ep(q.cpu[1], 2, NULL, NULL);
	void *tx = (void *)&tx, *const unset = (void *)&tx;
	uint32_t cap = 99;
	cr_assert_eq(ipcc_rpmsg_tx_get(NULL, 1, 0, &tx, &cap), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_tx_get(c0, 1, 0, NULL, &cap), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_tx_get(c0, 0, 0, &tx, &cap), -EINVAL, "itself");
	cr_assert_eq(ipcc_rpmsg_tx_get(c0, 4, 0, &tx, &cap), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_tx_get(q.cpu[1], 2, 0, &tx, &cap), -ENOENT);
	cr_assert_eq(ipcc_rpmsg_tx_get(c0, 2, 0, &tx, &cap), -ENOPROTOOPT);
	cr_assert(tx == unset && cap == 99, "a failed tx_get wrote its outputs");

	cr_assert_eq(ipcc_rpmsg_tx_get(c0, 1, 0, &tx, &cap), 0);
	cr_assert_eq(cap, 112u, "the payload size");
	memcpy(tx, "zero", 4);
	uint8_t stack[16];
	cr_assert_eq(ipcc_rpmsg_send_nocopy(c0, stack, 4, 2, 1), -EFAULT, "not a buffer");
	cr_assert_eq(ipcc_rpmsg_send_nocopy(c0, (uint8_t *)tx + 1, 4, 2, 1), -EFAULT,
		     "inside a buffer, not its payload");
	cr_assert_eq(ipcc_rpmsg_send_nocopy(q.cpu[1], tx, 4, 1, 2), -EFAULT, "another CPU's");
	/* These leave the buffer taken. */
	cr_assert_eq(ipcc_rpmsg_send_nocopy(c0, tx, 113, 2, 1), -EMSGSIZE);
	cr_assert_eq(ipcc_rpmsg_send_nocopy(c0, tx, 4, 64, 1), -ERANGE);
	cr_assert_eq(ipcc_rpmsg_send_nocopy(c0, tx, 4, 2, 5), -EBADF);
	cr_assert_eq(ipcc_rpmsg_send_nocopy(c0, tx, 4, 3, 1), -ECONNREFUSED);
	cr_assert_eq(ipcc_rpmsg_send_nocopy(NULL, tx, 4, 2, 1), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_send_nocopy(c0, tx, 4, 2, 1), 0);
	cr_assert_eq(ipcc_rpmsg_send_nocopy(c0, tx, 4, 2, 1), -EALREADY, "sent already");
	cr_assert_eq(ipcc_rpmsg_tx_free(c0, tx), -EALREADY, "sent, not taken");
	uint8_t buf[16];
	uint32_t len = 0;
	unsigned rc = 99, re = 99;
	cr_assert_eq(ipcc_rpmsg_recv(b2, buf, sizeof(buf), &len, &rc, &re, PT_LONG), 0);
	cr_assert(len == 4 && !memcmp(buf, "zero", 4) && rc == 0 && re == 1);

	/* tx_free gives it back: all 8 can be taken again, and freed. */
	void *all[8];
	for (int i = 0; i < 8; i++)
		cr_assert_eq(ipcc_rpmsg_tx_get(c0, 1, PT_LONG, &all[i], &cap), 0, "buffer %d", i);
	cr_assert_eq(ipcc_rpmsg_tx_get(c0, 1, 0, &tx, &cap), -EAGAIN);
	cr_assert_eq(ipcc_rpmsg_tx_free(c0, stack), -EFAULT);
	cr_assert_eq(ipcc_rpmsg_tx_free(NULL, all[0]), -EINVAL);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(ipcc_rpmsg_tx_free(c0, all[i]), 0);
	cr_assert_eq(ipcc_rpmsg_tx_free(c0, all[0]), -EALREADY, "freed twice");
	for (int i = 0; i < 8; i++)
		cr_assert_eq(ipcc_rpmsg_tx_get(c0, 1, 0, &all[i], &cap), 0, "again %d", i);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(ipcc_rpmsg_tx_free(c0, all[i]), 0);
	struct ipcc_rpmsg_stats st = rt_stats(q.sys, 0, 1);
	cr_assert(st.sent == 1 && st.received == 1, RT_STATS_FMT, RT_STATS_ARGS(st));
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	quad_stop(&q);
}

Test(rpmsg, recv_nocopy_and_release_and_their_errors)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	struct ipcc_rpmsg_ep *cb = rt_ep(d.b, 3, never_called, NULL);
	const void *p = &p, *const unset = &p;
	uint32_t len = 99;
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(NULL, &p, &len, NULL, NULL, 0), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(b2, NULL, &len, NULL, NULL, 0), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(b2, &p, NULL, NULL, NULL, 0), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(cb, &p, &len, NULL, NULL, 0), -EOPNOTSUPP);
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(b2, &p, &len, NULL, NULL, 0), -EAGAIN);
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(b2, &p, &len, NULL, NULL, 10 * PT_MS), -ETIMEDOUT);
	cr_assert(p == unset && len == 99);

	uint8_t msg[112];
	for (unsigned i = 0; i < 8; i++) {
		uint32_t n = rt_fill(msg, rt_stream(0, 1, 2), i, 112);
		send_ok(d.a, msg, n, 1, 2, 1);
	}
	const void *held[8];
	struct pt_tally t = { 0 };
	for (unsigned i = 0; i < 8; i++) {
		cr_assert_eq(ipcc_rpmsg_recv_nocopy(b2, &held[i], &len, NULL, NULL, PT_LONG), 0);
		cr_assert(pt_msg_take(&t, held[i], len, rt_stream(0, 1, 2), 112),
			  "packet %u: " PT_TALLY_FMT, i, PT_TALLY_ARGS(&t));
	}
	/* Held, they are not the sender's: no buffer for it. */
	cr_assert_eq(ipcc_rpmsg_send(d.a, "x", 1, 1, 2, 1, 0), -EAGAIN);
	uint8_t stack[16];
	cr_assert_eq(ipcc_rpmsg_release(d.b, stack), -EFAULT, "a foreign pointer");
	cr_assert_eq(ipcc_rpmsg_release(d.b, (const uint8_t *)held[0] + 1), -EFAULT,
		     "inside the payload, not its start");
	cr_assert_eq(ipcc_rpmsg_release(d.a, held[0]), -EFAULT,
		     "CPU 0 does not receive into this buffer");
	cr_assert_eq(ipcc_rpmsg_release(NULL, held[0]), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_release(d.b, held[0]), 0);
	cr_assert_eq(ipcc_rpmsg_release(d.b, held[0]), -EALREADY, "a double release");
	/* The released buffer is the sender's again. */
	send_ok(d.a, "x", 1, 1, 2, 1);
	for (unsigned i = 1; i < 8; i++)
		cr_assert_eq(ipcc_rpmsg_release(d.b, held[i]), 0, "buffer %u", i);
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(b2, &p, &len, NULL, NULL, PT_LONG), 0);
	cr_assert_eq(len, 1u);
	cr_assert_eq(ipcc_rpmsg_release(d.b, p), 0);
	cr_assert_eq(ipcc_rpmsg_release(d.b, p), -EALREADY);
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	ipcc_rpmsg_ep_close(cb);
	duo_stop(&d);
}

struct holder {
	unsigned n;
	const void *held[8];
	int hold_r[8], hold_again_r[8], hold_other_r[8];
};

static void hold_fn(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len, unsigned remote,
		    unsigned remote_ep, void *arg)
{
	struct holder *h = arg;
	(void)len, (void)remote, (void)remote_ep;
	if (h->n >= 8)
		return;
	h->held[h->n] = data;
	h->hold_other_r[h->n] = ipcc_rpmsg_hold(ep, (const uint8_t *)data + 16);
	h->hold_r[h->n] = ipcc_rpmsg_hold(ep, data);
	h->hold_again_r[h->n] = ipcc_rpmsg_hold(ep, data);
	h->n++;
}

Test(rpmsg, a_callback_may_hold_its_buffer_past_its_return_until_release)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct holder h = { 0 };
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL);
	struct ipcc_rpmsg_ep *b2 = rt_ep(d.b, 2, hold_fn, &h);
	char msg[32];
	for (unsigned i = 0; i < 8; i++) {
		int n = snprintf(msg, sizeof(msg), "held %u", i);
		send_ok(d.a, msg, (uint32_t)n + 1, 1, 2, 1);
	}
	cr_assert_geq(ipcc_cpu_dispatch(d.b), 0);
	cr_assert_eq(h.n, 8u);
	for (unsigned i = 0; i < 8; i++) {
		cr_assert_eq(h.hold_r[i], 0, "hold %u: %s", i, strerror(-h.hold_r[i]));
		cr_assert_eq(h.hold_again_r[i], -EALREADY, "held twice");
		cr_assert_eq(h.hold_other_r[i], -EINVAL, "not the data of this call");
		snprintf(msg, sizeof(msg), "held %u", i);
		cr_assert_str_eq((const char *)h.held[i], msg, "held bytes changed");
	}
	/* Outside a callback, hold is refused. */
	cr_assert_eq(ipcc_rpmsg_hold(b2, h.held[0]), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_hold(NULL, h.held[0]), -EINVAL);
	cr_assert_eq(ipcc_rpmsg_send(d.a, "x", 1, 1, 2, 1, 0), -EAGAIN, "all 8 are held");
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(ipcc_rpmsg_release(d.b, h.held[i]), 0);
	cr_assert_eq(ipcc_rpmsg_release(d.b, h.held[3]), -EALREADY);
	send_ok(d.a, "x", 1, 1, 2, 1);
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}

Test(rpmsg, buffers_held_by_a_closed_end_point_stay_valid_until_released)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	send_ok(d.a, "kept", 5, 1, 2, 1);
	const void *p = NULL;
	uint32_t len = 0;
	cr_assert_eq(ipcc_rpmsg_recv_nocopy(b2, &p, &len, NULL, NULL, PT_LONG), 0);
	cr_assert_eq(ipcc_rpmsg_ep_close(b2), 0);
	cr_assert_str_eq((const char *)p, "kept");
	cr_assert_eq(ipcc_rpmsg_release(d.b, p), 0);
	cr_assert_eq(ipcc_rpmsg_release(d.b, p), -EALREADY);
	ipcc_rpmsg_ep_close(a1);
	duo_stop(&d);
}

/* ---- fork ------------------------------------------------------------------------------------ */

struct stale_arg {
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
};

static int stale_child(void *p)
{
	struct stale_arg *a = p;
	struct ipcc_rpmsg_ep *ep = NULL;
	uint8_t buf[8];
	uint32_t len;
	unsigned rc, re;
	void *tx;
	const void *rx;
	int r = ipcc_rpmsg_ep_create(a->cpu, 3, NULL, NULL, &ep);
	PEER_CHECK(r == -ESTALE, "ep_create through a fork child's handle: %d", r);
	r = ipcc_rpmsg_send(a->cpu, "x", 1, 1, 2, 1, 0);
	PEER_CHECK(r == -ESTALE, "send: %d", r);
	r = ipcc_rpmsg_recv(a->ep, buf, sizeof(buf), &len, NULL, NULL, 0);
	PEER_CHECK(r == -ESTALE, "recv: %d", r);
	r = ipcc_rpmsg_recv_nocopy(a->ep, &rx, &len, NULL, NULL, 0);
	PEER_CHECK(r == -ESTALE, "recv_nocopy: %d", r);
	r = ipcc_rpmsg_tx_get(a->cpu, 1, 0, &tx, &len);
	PEER_CHECK(r == -ESTALE, "tx_get: %d", r);
	r = ipcc_rpmsg_announce(a->ep, "child", IPCC_RPMSG_CPU_ALL);
	PEER_CHECK(r == -ESTALE, "announce: %d", r);
	r = ipcc_rpmsg_lookup(a->cpu, "child", 0, &rc, &re);
	PEER_CHECK(r == -ESTALE, "lookup: %d", r);
	r = ipcc_rpmsg_ns_watch(a->cpu, NULL, NULL);
	PEER_CHECK(r == -ESTALE, "ns_watch: %d", r);
	return 0;
}

Test(rpmsg, a_fork_childs_handle_is_refused_with_estale)
{
	struct duo d;
	duo_start(&d, 0, 0);
	struct ipcc_rpmsg_ep *a1 = rt_ep(d.a, 1, NULL, NULL), *b2 = rt_ep(d.b, 2, NULL, NULL);
	struct stale_arg a = { d.a, a1 };
	pt_expect_exit0(pt_fork(stale_child, &a, 20), PT_LONG, "fork child");
	struct ipcc_rpmsg_stats st = rt_stats(d.sys, 0, 1);
	cr_assert_eq(st.sent, 0u, "the child's send reached the vring");
	cr_assert_eq(ipcc_rpmsg_ep_is_open(d.sys, 0, 3), 0);
	struct ipcc_rpmsg_name n;
	cr_assert_eq(ipcc_rpmsg_names(d.sys, 0, &n, 1), 0);
	send_ok(d.a, "x", 1, 1, 2, 1);
	ipcc_rpmsg_ep_close(a1);
	ipcc_rpmsg_ep_close(b2);
	duo_stop(&d);
}
