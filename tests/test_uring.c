/* SPDX-License-Identifier: MIT */
/*
 * io_uring waits (include/ipcc/uring.h) within one process: the wait completes for an asserted
 * line whatever happens between queuing and submitting it. Skipped, with the reason, where the
 * library was built without liburing or the kernel lacks IORING_OP_FUTEX_WAIT.
 */
#include <criterion/criterion.h>
#include <liburing.h>

#include <ipcc/ipcc.h>

#include "ipcc-test.h"

struct fixture {
	struct ipcc_system *sys;
	struct ipcc_cpu *a, *b;
	struct io_uring ring;
	unsigned got;
};

static void on_msg(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		   void *arg)
{
	((struct fixture *)arg)->got++;
}

static void setup(struct fixture *f, enum ipcc_wait_mode mode_b)
{
	struct ipcc_cpu_options opt;

	f->sys = test_system(NULL);
	cr_assert_eq(ipcc_cpu_attach(f->sys, 0, NULL, &f->a), 0);
	ipcc_cpu_options_init(&opt);
	opt.wait = mode_b;
	cr_assert_eq(ipcc_cpu_attach(f->sys, 1, &opt, &f->b), 0);
	cr_assert_eq(io_uring_queue_init(8, &f->ring, 0), 0);
	cr_assert_eq(ipcc_recv_async(f->b, 0, 0, on_msg, f), 0);
}

static void teardown(struct fixture *f)
{
	io_uring_queue_exit(&f->ring);
	ipcc_cpu_detach(f->b);
	ipcc_cpu_detach(f->a);
	ipcc_system_close(f->sys);
	test_cleanup();
}

/* Submit and wait at most 2 s for the one completion; consume it. */
static int complete_one(struct fixture *f, enum ipcc_uring_wait how)
{
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts = { .tv_sec = 2 };
	bool rearm;

	io_uring_submit(&f->ring);
	int r = io_uring_wait_cqe_timeout(&f->ring, &cqe, &ts);
	if (r < 0)
		return r;
	r = ipcc_uring_complete(f->b, how, cqe, &rearm);
	io_uring_cqe_seen(&f->ring, cqe);
	return r;
}

Test(uring, futex_wait_queued_with_a_line_pending_completes_even_after_another_ring)
{
	struct fixture f = { 0 };
	uint64_t v = 1;

	setup(&f, IPCC_WAIT_FUTEX);
	if (ipcc_uring_futex_supported(&f.ring) != 1) {
		teardown(&f);
		cr_skip_test("IORING_OP_FUTEX_WAIT unsupported here (Linux < 6.7 or no liburing)");
	}
	/* Messages are pending when the wait is queued... */
	cr_assert_eq(ipcc_send(f.a, 1, 0, &v, sizeof(v), 0), 0);
	cr_assert_eq(ipcc_send(f.a, 1, 1, &v, sizeof(v), 0), 0);
	cr_assert_eq(ipcc_uring_prep_wait(&f.ring, f.b, IPCC_URING_FUTEX, 7), 0);
	/* ...and exactly one more ring moves the doorbell before the wait reaches the kernel. */
	cr_assert_eq(ipcc_chan_unmask(f.b, 0, 1, IPCC_DIR_RX), 0);
	cr_assert_geq(complete_one(&f, IPCC_URING_FUTEX), 1, "the wait slept over a pending line");
	cr_assert_eq(f.got, 1); /* channel 0's handler; channel 1 has none: masked and counted */
	teardown(&f);
}

Test(uring, futex_wait_completes_when_a_message_arrives)
{
	struct fixture f = { 0 };
	uint64_t v = 2;

	setup(&f, IPCC_WAIT_FUTEX);
	if (ipcc_uring_futex_supported(&f.ring) != 1) {
		teardown(&f);
		cr_skip_test("IORING_OP_FUTEX_WAIT unsupported here (Linux < 6.7 or no liburing)");
	}
	cr_assert_eq(ipcc_uring_prep_wait(&f.ring, f.b, IPCC_URING_FUTEX, 7), 0);
	io_uring_submit(&f.ring);
	cr_assert_eq(ipcc_send(f.a, 1, 0, &v, sizeof(v), 0), 0);
	cr_assert_geq(complete_one(&f, IPCC_URING_FUTEX), 1);
	cr_assert_eq(f.got, 1);
	teardown(&f);
}

Test(uring, poll_on_the_eventfd_completes_for_a_message_posted_before_it)
{
	struct fixture f = { 0 };
	uint64_t v = 3;

	setup(&f, IPCC_WAIT_EVENTFD);
	cr_assert_eq(ipcc_send(f.a, 1, 0, &v, sizeof(v), 0), 0);
	int r = ipcc_uring_prep_wait(&f.ring, f.b, IPCC_URING_POLL, 9);
	if (r == -EOPNOTSUPP) {
		teardown(&f);
		cr_skip_test("libipcc built without liburing");
	}
	cr_assert_eq(r, 0);
	cr_assert_geq(complete_one(&f, IPCC_URING_POLL), 1);
	cr_assert_eq(f.got, 1);
	teardown(&f);
}

Test(uring, poll_needs_a_cpu_in_eventfd_mode)
{
	struct fixture f = { 0 };

	setup(&f, IPCC_WAIT_FUTEX);
	int r = ipcc_uring_prep_wait(&f.ring, f.b, IPCC_URING_POLL, 9);
	cr_assert(r == -ENODEV || r == -EOPNOTSUPP, "got %d", r);
	teardown(&f);
}
