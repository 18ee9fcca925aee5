/* SPDX-License-Identifier: MIT */
/*
 * io_uring baseline (built only with liburing): the eventfd ping-pong, but each side waits by
 * submitting an IORING_OP_READ of its eventfd and waiting for the completion, the way an
 * io_uring event loop would. Signalling stays a plain write(2) on the peer's eventfd.
 *
 * Each child creates its own ring in attach(): a ring set up before fork would be shared by
 * both processes, which is neither what a real user does nor safe for two submitters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <liburing.h>

#include "harness.h"
#include "transports.h"

struct uring_fds {
	int ab; /* A -> B */
	int ba; /* B -> A */
};

static const char *uring_unavailable(void)
{
	static char why[128];
	struct io_uring ring;
	struct io_uring_probe *probe;
	int ret;

	/* io_uring can be compiled out, disabled by sysctl or blocked by seccomp. */
	ret = io_uring_queue_init(2, &ring, 0);
	if (ret < 0) {
		snprintf(why, sizeof(why), "io_uring_queue_init: %s", strerror(-ret));
		return why;
	}
	probe = io_uring_get_probe_ring(&ring);
	ret = probe && io_uring_opcode_supported(probe, IORING_OP_READ);
	io_uring_free_probe(probe);
	io_uring_queue_exit(&ring);
	return ret ? NULL : "kernel lacks IORING_OP_READ";
}

static int uring_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	struct uring_fds *fp = malloc(sizeof(*fp));

	if (!fp) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	/*
	 * Blocking eventfds: io_uring then arms a poll and completes the read when the counter
	 * becomes non-zero. With O_NONBLOCK the read would complete at once with -EAGAIN.
	 */
	fp->ab = eventfd(0, EFD_CLOEXEC);
	fp->ba = eventfd(0, EFD_CLOEXEC);
	if (fp->ab < 0 || fp->ba < 0) {
		snprintf(err, len, "eventfd: %s", strerror(errno));
		if (fp->ab >= 0)
			close(fp->ab);
		if (fp->ba >= 0)
			close(fp->ba);
		free(fp);
		return -1;
	}
	*state = fp;
	return 0;
}

static void uring_teardown(void *state)
{
	struct uring_fds *fp = state;

	close(fp->ab);
	close(fp->ba);
	free(fp);
}

static int uring_attach(struct bench_side *s)
{
	struct io_uring *ring = malloc(sizeof(*ring));
	int ret;

	if (!ring)
		return bench_fail(s, "out of memory");
	ret = io_uring_queue_init(4, ring, 0);
	if (ret < 0) {
		free(ring);
		return bench_fail(s, "io_uring_queue_init: %s", strerror(-ret));
	}
	s->priv = ring;
	return 0;
}

static void uring_detach(struct bench_side *s)
{
	io_uring_queue_exit(s->priv);
	free(s->priv);
	s->priv = NULL;
}

/* Wait for the eventfd @fd through the ring: one read SQE, one io_uring_enter, one CQE. */
static int uring_get(struct bench_side *s, int fd, uint64_t *v)
{
	struct io_uring *ring = s->priv;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret, res;

	if (!sqe)
		return bench_fail(s, "io_uring: no free SQE");
	io_uring_prep_read(sqe, fd, v, sizeof(*v), 0);
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 0 && ret != -EINTR)
		return bench_fail(s, "io_uring_submit_and_wait: %s", strerror(-ret));
	do {
		ret = io_uring_wait_cqe(ring, &cqe);
	} while (ret == -EINTR);
	if (ret < 0)
		return bench_fail(s, "io_uring_wait_cqe: %s", strerror(-ret));
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	if (res != (int)sizeof(*v))
		return bench_fail(s, "io_uring read: %s", res < 0 ? strerror(-res) : "short");
	return 0;
}

static int uring_put(struct bench_side *s, int fd, uint64_t v)
{
	if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return bench_fail(s, "eventfd write: %s", strerror(errno));
	return 0;
}

static int uring_hd_a(struct bench_side *s, uint64_t n)
{
	struct uring_fds *fp = s->state;
	uint64_t i, t0, v;

	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		if (uring_put(s, fp->ab, 1) || uring_get(s, fp->ba, &v))
			return -1;
		bench_sample(s, i, t0, bench_now_ns());
	}
	return 0;
}

static int uring_hd_b(struct bench_side *s, uint64_t n)
{
	struct uring_fds *fp = s->state;
	uint64_t i, v;

	for (i = 0; i < n; i++)
		if (uring_get(s, fp->ab, &v) || uring_put(s, fp->ba, 1))
			return -1;
	return 0;
}

static int uring_sx_a(struct bench_side *s, uint64_t n)
{
	struct uring_fds *fp = s->state;
	uint64_t i, v;

	/* As for eventfd: the counter value is the send stamp; the ack keeps it from adding up. */
	for (i = 0; i < n; i++)
		if (uring_put(s, fp->ab, bench_now_ns()) || uring_get(s, fp->ba, &v))
			return -1;
	return 0;
}

static int uring_sx_b(struct bench_side *s, uint64_t n)
{
	struct uring_fds *fp = s->state;
	uint64_t i, t_send, t_recv;

	for (i = 0; i < n; i++) {
		if (uring_get(s, fp->ab, &t_send))
			return -1;
		t_recv = bench_now_ns();
		bench_sample(s, i, t_send, t_recv);
		if (uring_put(s, fp->ba, 1))
			return -1;
	}
	return 0;
}

const struct bench_transport bench_io_uring = {
	.name = "io_uring",
	.wait = "io_uring",
	.mode = "uring",
	.flags = BENCH_F_BASELINE,
	.fixed_size = 8,
	.unavailable = uring_unavailable,
	.setup = uring_setup,
	.attach = uring_attach,
	.run = {
		[BENCH_SIMPLEX] = { uring_sx_a, uring_sx_b },
		[BENCH_HALF_DUPLEX] = { uring_hd_a, uring_hd_b },
	},
	.detach = uring_detach,
	.teardown = uring_teardown,
};
