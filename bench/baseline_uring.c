/* SPDX-License-Identifier: MIT */
/*
 * io_uring baseline (built only with liburing): the eventfd ping-pong, but each side waits by
 * submitting an IORING_OP_READ of its eventfd and waiting for the completion, the way an
 * io_uring event loop would. Signalling stays a plain write(2) on the peer's eventfd.
 *
 * eventfd-uring is the same ping-pong as an io_uring event loop runs it: the eventfd stays
 * registered in a multishot poll (IORING_POLL_ADD_MULTI), each wake-up is one completion, and
 * the loop then reads the counter with read(2) (non-blocking eventfds).
 *
 * Each child creates its own ring in attach(): a ring set up before fork would be shared by
 * both processes, which is neither what a real user does nor safe for two submitters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <stdbool.h>
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

/* Two eventfds, A -> B and B -> A, with @flags besides EFD_CLOEXEC. */
static int uring_fds_open(void **state, int flags, char *err, size_t len)
{
	struct uring_fds *fp = malloc(sizeof(*fp));

	if (!fp) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	fp->ab = eventfd(0, EFD_CLOEXEC | flags);
	fp->ba = eventfd(0, EFD_CLOEXEC | flags);
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

static int uring_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	/*
	 * Blocking eventfds: io_uring then arms a poll and completes the read when the counter
	 * becomes non-zero. With O_NONBLOCK the read would complete at once with -EAGAIN.
	 */
	return uring_fds_open(state, 0, err, len);
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

/* The eventfd this side reads. */
static int uring_rx(const struct bench_side *s)
{
	const struct uring_fds *fp = s->state;

	return s->role == BENCH_SIDE_A ? fp->ba : fp->ab;
}

/* Wait for our eventfd through the ring: one read SQE, one io_uring_enter, one CQE. */
static int uring_get(struct bench_side *s, uint64_t *v)
{
	struct io_uring *ring = s->priv;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int ret, res;

	if (!sqe)
		return bench_fail(s, "io_uring: no free SQE");
	io_uring_prep_read(sqe, uring_rx(s), v, sizeof(*v), 0);
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

/* Signalling stays a plain write(2) on the peer's eventfd. */
static int uring_put(struct bench_side *s, uint64_t v)
{
	const struct uring_fds *fp = s->state;
	int fd = s->role == BENCH_SIDE_A ? fp->ab : fp->ba;

	if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return bench_fail(s, "eventfd write: %s", strerror(errno));
	return 0;
}

/* As for eventfd: the counter value is the send stamp; the ack keeps it from adding up. */
static const struct bench_word_ops uring_ops = { .put = uring_put, .get = uring_get };

static int uring_run(struct bench_side *s, uint64_t n)
{
	return bench_word_run(s, n, &uring_ops);
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
		[BENCH_SIMPLEX] = { uring_run, uring_run },
		[BENCH_HALF_DUPLEX] = { uring_run, uring_run },
	},
	.detach = uring_detach,
	.teardown = uring_teardown,
};

/* ---- eventfd-uring ---- */

struct upoll_priv {
	struct io_uring ring;
	int rx;	    /* the eventfd this side reads */
	bool armed; /* the multishot poll is in place */
};

static const char *upoll_unavailable(void)
{
	static char why[128];
	struct io_uring ring;
	struct io_uring_probe *probe;
	int ret;

	ret = io_uring_queue_init(2, &ring, 0);
	if (ret < 0) {
		snprintf(why, sizeof(why), "io_uring_queue_init: %s", strerror(-ret));
		return why;
	}
	probe = io_uring_get_probe_ring(&ring);
	ret = probe && io_uring_opcode_supported(probe, IORING_OP_POLL_ADD);
	io_uring_free_probe(probe);
	io_uring_queue_exit(&ring);
	return ret ? NULL : "kernel lacks IORING_OP_POLL_ADD";
}

static int upoll_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	return uring_fds_open(state, EFD_NONBLOCK, err, len);
}

static int upoll_attach(struct bench_side *s)
{
	struct upoll_priv *pv = calloc(1, sizeof(*pv));
	int ret;

	if (!pv)
		return bench_fail(s, "out of memory");
	ret = io_uring_queue_init(4, &pv->ring, 0);
	if (ret < 0) {
		free(pv);
		return bench_fail(s, "io_uring_queue_init: %s", strerror(-ret));
	}
	pv->rx = uring_rx(s);
	s->priv = pv;
	return 0;
}

static void upoll_detach(struct bench_side *s)
{
	struct upoll_priv *pv = s->priv;

	if (!pv)
		return;
	io_uring_queue_exit(&pv->ring);
	free(pv);
	s->priv = NULL;
}

/* One loop iteration: (re-)arm if needed, wait for a poll completion, then read the counter. */
static int upoll_get(struct bench_side *s, uint64_t *v)
{
	struct upoll_priv *pv = s->priv;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	ssize_t n;
	int ret, res;

	for (;;) {
		if (!pv->armed) {
			sqe = io_uring_get_sqe(&pv->ring);
			if (!sqe)
				return bench_fail(s, "io_uring: no free SQE");
			io_uring_prep_poll_multishot(sqe, pv->rx, POLLIN);
			pv->armed = true;
		}
		ret = io_uring_submit_and_wait(&pv->ring, 1);
		if (ret < 0 && ret != -EINTR)
			return bench_fail(s, "io_uring_submit_and_wait: %s", strerror(-ret));
		while (io_uring_peek_cqe(&pv->ring, &cqe) == 0) {
			res = cqe->res;
			if (!(cqe->flags & IORING_CQE_F_MORE))
				pv->armed = false; /* the multishot poll ended: arm it again */
			io_uring_cqe_seen(&pv->ring, cqe);
			if (res < 0 && res != -ECANCELED)
				return bench_fail(s, "io_uring poll: %s", strerror(-res));
		}
		n = read(pv->rx, v, sizeof(*v));
		if (n == (ssize_t)sizeof(*v))
			return 0;
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			return bench_fail(s, "eventfd read: %s", n < 0 ? strerror(errno) : "short");
	}
}

static const struct bench_word_ops upoll_ops = { .put = uring_put, .get = upoll_get };

static int upoll_run(struct bench_side *s, uint64_t n)
{
	return bench_word_run(s, n, &upoll_ops);
}

const struct bench_transport bench_eventfd_uring = {
	.name = "eventfd-uring",
	.wait = "io_uring",
	.mode = "uring",
	.flags = BENCH_F_BASELINE,
	.fixed_size = 8,
	.unavailable = upoll_unavailable,
	.setup = upoll_setup,
	.attach = upoll_attach,
	.run = {
		[BENCH_SIMPLEX] = { upoll_run, upoll_run },
		[BENCH_HALF_DUPLEX] = { upoll_run, upoll_run },
	},
	.detach = upoll_detach,
	.teardown = uring_teardown,
};
