/* SPDX-License-Identifier: MIT */
/*
 * Baseline transports: the floors and the usual kernel IPC paths an ipcc row is compared with.
 * Each is the plain, idiomatic way to ping-pong between two processes with that mechanism.
 *
 *   raw-spin   one shared cache line, C11 atomics, busy polling (the hardware floor)
 *   spin-2line the data on one line, written first, then a flag on another: the floor of an
 *              exchange that moves a channel slot and a status word, as IPCC does
 *   raw-futex  one shared futex word: store, FUTEX_WAKE; FUTEX_WAIT until it changes
 *   eventfd    two eventfds, blocking read/write
 *   eventfd-epoll  the same, each side waiting in epoll_wait and then reading, as an event loop
 *   pipe       two pipes, size-byte messages; also the stream baseline
 *   unix       one AF_UNIX SOCK_SEQPACKET socketpair, size-byte messages
 *
 * Simplex: the sender stamps the message just before sending it (the first 8 bytes, the
 * line's stamp word, or the eventfd counter value itself); the receiver stamps on receipt and
 * records the difference, then sends an untimed ack so messages never queue up.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "harness.h"
#include "transports.h"

_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
	       "cross-process atomics need lock-free (address-free) 64-bit atomics");

/* ---- fd helpers ---- */

static int write_full(struct bench_side *s, int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t ret;

	while (len) {
		ret = write(fd, p, len);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return bench_fail(s, "write: %s", strerror(errno));
		}
		p += ret;
		len -= (size_t)ret;
	}
	return 0;
}

/* Pipes may hand a message over in pieces; loop until all of it is here. */
static int read_full(struct bench_side *s, int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t ret;

	while (len) {
		ret = read(fd, p, len);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return bench_fail(s, "read: %s", strerror(errno));
		}
		if (ret == 0)
			return bench_fail(s, "read: unexpected end of file");
		p += ret;
		len -= (size_t)ret;
	}
	return 0;
}

static void close_fds(int *fd, int nr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

/* ---- raw-spin, spin-2line ---- */

/*
 * raw-spin: the whole exchange lives in one line: seq is bumped by the sender of each message
 * (odd: A sent, even: B answered) and stamp carries the simplex send time.
 *
 * spin-2line: two lines, as an IPCC channel has them: the message (data) in one, the flag
 * (seq) in the other. The sender writes the data line, then publishes it with the release
 * store of seq; the receiver polls seq with acquire loads, then reads the data line. The
 * reply (half-duplex) is written into the same data line, as the half-duplex procedure does.
 */
struct spin_lines {
	_Alignas(BENCH_CACHELINE) _Atomic uint64_t seq;
	_Atomic uint64_t stamp;
	_Alignas(BENCH_CACHELINE) _Atomic uint64_t data;
	bool two; /* spin-2line; written by setup, before the fork */
};

static int spin_setup_lines(void **state, bool two, char *err, size_t len)
{
	struct spin_lines *l = bench_shared_alloc(sizeof(*l));

	if (!l) {
		snprintf(err, len, "mmap: %s", strerror(errno));
		return -1;
	}
	l->two = two;
	*state = l;
	return 0;
}

static int spin_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	return spin_setup_lines(state, false, err, len);
}

static int spin2_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	return spin_setup_lines(state, true, err, len);
}

static void spin_teardown(void *state)
{
	bench_shared_free(state, sizeof(struct spin_lines));
}

static void spin_until(_Atomic uint64_t *w, uint64_t want)
{
	/* acquire: pairs with the peer's release store of @want (and so publishes the stamp). */
	while (atomic_load_explicit(w, memory_order_acquire) != want)
		bench_cpu_relax();
}

/* The word that carries the simplex stamp: in the flag's line, or in the data line. */
static _Atomic uint64_t *spin_msg(struct spin_lines *l)
{
	return l->two ? &l->data : &l->stamp;
}

static int spin_hd_a(struct bench_side *s, uint64_t n)
{
	struct spin_lines *l = s->state;
	uint64_t seq = s->counter, i, t0, v = 0;

	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		/* relaxed: published by the release store of seq right after it. */
		if (l->two)
			atomic_store_explicit(&l->data, v + 1, memory_order_relaxed);
		/*
		 * release: pairs with the acquire in B's spin_until(). raw-spin has nothing to
		 * publish, but a real message send is a release, so the floor pays for one too.
		 */
		atomic_store_explicit(&l->seq, seq + 1, memory_order_release);
		spin_until(&l->seq, seq + 2);
		/* relaxed: ordered after B's reply by the acquire in spin_until(). */
		if (l->two)
			v = atomic_load_explicit(&l->data, memory_order_relaxed);
		bench_sample(s, i, t0, bench_now_ns());
		seq += 2;
	}
	s->counter = seq;
	return 0;
}

static int spin_hd_b(struct bench_side *s, uint64_t n)
{
	struct spin_lines *l = s->state;
	uint64_t seq = s->counter, i, v;

	for (i = 0; i < n; i++) {
		spin_until(&l->seq, seq + 1);
		/* relaxed, both: ordered by the acquire above and the release below. */
		if (l->two) {
			v = atomic_load_explicit(&l->data, memory_order_relaxed);
			atomic_store_explicit(&l->data, v + 1, memory_order_relaxed);
		}
		/* release: pairs with the acquire in A's spin_until() (publishes the reply). */
		atomic_store_explicit(&l->seq, seq + 2, memory_order_release);
		seq += 2;
	}
	s->counter = seq;
	return 0;
}

static int spin_sx_a(struct bench_side *s, uint64_t n)
{
	struct spin_lines *l = s->state;
	uint64_t seq = s->counter, i;

	for (i = 0; i < n; i++) {
		/* relaxed: published by the release store of seq right after it. */
		atomic_store_explicit(spin_msg(l), bench_now_ns(), memory_order_relaxed);
		/* release: pairs with the acquire in B's spin_until(), making the stamp visible. */
		atomic_store_explicit(&l->seq, seq + 1, memory_order_release);
		spin_until(&l->seq, seq + 2); /* the untimed ack */
		seq += 2;
	}
	s->counter = seq;
	return 0;
}

static int spin_sx_b(struct bench_side *s, uint64_t n)
{
	struct spin_lines *l = s->state;
	uint64_t seq = s->counter, i, t_recv, t_send;

	for (i = 0; i < n; i++) {
		spin_until(&l->seq, seq + 1);
		/*
		 * relaxed: ordered after A's store by the acquire in spin_until(). The message is
		 * received once it is read, so the stamp comes after this load: in spin-2line it
		 * fetches the data line, as every receive of a message must (ipcc_recv's copy).
		 */
		t_send = atomic_load_explicit(spin_msg(l), memory_order_relaxed);
		t_recv = bench_now_ns();
		bench_sample(s, i, t_send, t_recv);
		/* release: pairs with the acquire in A's spin_until() (the ack). */
		atomic_store_explicit(&l->seq, seq + 2, memory_order_release);
		seq += 2;
	}
	s->counter = seq;
	return 0;
}

#define SPIN_TRANSPORT(sym, nm, setup_fn) \
	const struct bench_transport sym = {                              \
		.name = nm,                                               \
		.wait = "spin",                                           \
		.mode = "spin",                                           \
		.flags = BENCH_F_BASELINE | BENCH_F_NEEDS_TWO_CPU,        \
		.fixed_size = 8,                                          \
		.setup = setup_fn,                                        \
		.run = {                                                  \
			[BENCH_SIMPLEX] = { spin_sx_a, spin_sx_b },       \
			[BENCH_HALF_DUPLEX] = { spin_hd_a, spin_hd_b },   \
		},                                                        \
		.teardown = spin_teardown,                                \
	}

SPIN_TRANSPORT(bench_raw_spin, "raw-spin", spin_setup);
SPIN_TRANSPORT(bench_spin_2line, "spin-2line", spin2_setup);

/* ---- raw-futex ---- */

struct futex_line {
	_Alignas(BENCH_CACHELINE) _Atomic uint32_t word; /* futex word, same odd/even protocol */
	_Atomic uint64_t stamp;
};

static int futex_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	*state = bench_shared_alloc(sizeof(struct futex_line));
	if (!*state) {
		snprintf(err, len, "mmap: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void futex_teardown(void *state)
{
	bench_shared_free(state, sizeof(struct futex_line));
}

/* The classic: store, then always FUTEX_WAKE, whether or not the peer sleeps. */
static int futex_post(struct bench_side *s, struct futex_line *l, uint32_t val)
{
	int ret;

	/* release: pairs with the acquire load in futex_await() (publishes the stamp). */
	atomic_store_explicit(&l->word, val, memory_order_release);
	ret = bench_futex_wake(&l->word, 1);
	if (ret < 0)
		return bench_fail(s, "FUTEX_WAKE: %s", strerror(-ret));
	return 0;
}

static int futex_await(struct bench_side *s, struct futex_line *l, uint32_t want)
{
	uint32_t cur;
	int ret;

	/* acquire: pairs with the release store in the peer's futex_post(). */
	while ((cur = atomic_load_explicit(&l->word, memory_order_acquire)) != want) {
		ret = bench_futex_wait(&l->word, cur);
		if (ret < 0)
			return bench_fail(s, "FUTEX_WAIT: %s", strerror(-ret));
	}
	return 0;
}

static int futex_hd_a(struct bench_side *s, uint64_t n)
{
	struct futex_line *l = s->state;
	uint32_t seq = (uint32_t)s->counter;
	uint64_t i, t0;

	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		if (futex_post(s, l, seq + 1) || futex_await(s, l, seq + 2))
			return -1;
		bench_sample(s, i, t0, bench_now_ns());
		seq += 2;
	}
	s->counter = seq;
	return 0;
}

static int futex_hd_b(struct bench_side *s, uint64_t n)
{
	struct futex_line *l = s->state;
	uint32_t seq = (uint32_t)s->counter;
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (futex_await(s, l, seq + 1) || futex_post(s, l, seq + 2))
			return -1;
		seq += 2;
	}
	s->counter = seq;
	return 0;
}

static int futex_sx_a(struct bench_side *s, uint64_t n)
{
	struct futex_line *l = s->state;
	uint32_t seq = (uint32_t)s->counter;
	uint64_t i;

	for (i = 0; i < n; i++) {
		/* relaxed: published by the release store in futex_post(). */
		atomic_store_explicit(&l->stamp, bench_now_ns(), memory_order_relaxed);
		if (futex_post(s, l, seq + 1) || futex_await(s, l, seq + 2))
			return -1;
		seq += 2;
	}
	s->counter = seq;
	return 0;
}

static int futex_sx_b(struct bench_side *s, uint64_t n)
{
	struct futex_line *l = s->state;
	uint32_t seq = (uint32_t)s->counter;
	uint64_t i, t_recv, t_send;

	for (i = 0; i < n; i++) {
		if (futex_await(s, l, seq + 1))
			return -1;
		t_recv = bench_now_ns();
		/* relaxed: ordered after A's store by the acquire in futex_await(). */
		t_send = atomic_load_explicit(&l->stamp, memory_order_relaxed);
		bench_sample(s, i, t_send, t_recv);
		if (futex_post(s, l, seq + 2))
			return -1;
		seq += 2;
	}
	s->counter = seq;
	return 0;
}

const struct bench_transport bench_raw_futex = {
	.name = "raw-futex",
	.wait = "futex",
	.mode = "futex",
	.flags = BENCH_F_BASELINE,
	.fixed_size = 8,
	.setup = futex_setup,
	.run = {
		[BENCH_SIMPLEX] = { futex_sx_a, futex_sx_b },
		[BENCH_HALF_DUPLEX] = { futex_hd_a, futex_hd_b },
	},
	.teardown = futex_teardown,
};

/* ---- eventfd ---- */

struct fd_pair {
	int ab; /* A -> B */
	int ba; /* B -> A */
};

/* Two eventfds, A -> B and B -> A, with @flags besides EFD_CLOEXEC. */
static int efd_open(void **state, int flags, char *err, size_t len)
{
	struct fd_pair *fp = malloc(sizeof(*fp));

	if (!fp) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	fp->ab = eventfd(0, EFD_CLOEXEC | flags);
	fp->ba = eventfd(0, EFD_CLOEXEC | flags);
	if (fp->ab < 0 || fp->ba < 0) {
		snprintf(err, len, "eventfd: %s", strerror(errno));
		close_fds(&fp->ab, 2);
		free(fp);
		return -1;
	}
	*state = fp;
	return 0;
}

static int efd_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	/* Blocking on purpose: the waiting side sleeps in read(). */
	return efd_open(state, 0, err, len);
}

static void efd_teardown(void *state)
{
	struct fd_pair *fp = state;

	close_fds(&fp->ab, 2);
	free(fp);
}

static int efd_put(struct bench_side *s, uint64_t v)
{
	struct fd_pair *fp = s->state;
	int fd = s->role == BENCH_SIDE_A ? fp->ab : fp->ba;

	if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return bench_fail(s, "eventfd write: %s", strerror(errno));
	return 0;
}

/* The eventfd this side reads. */
static int efd_rx(const struct bench_side *s)
{
	const struct fd_pair *fp = s->state;

	return s->role == BENCH_SIDE_A ? fp->ba : fp->ab;
}

static int efd_get(struct bench_side *s, uint64_t *v)
{
	ssize_t ret;

	do {
		ret = read(efd_rx(s), v, sizeof(*v));
	} while (ret < 0 && errno == EINTR);
	if (ret != (ssize_t)sizeof(*v))
		return bench_fail(s, "eventfd read: %s", ret < 0 ? strerror(errno) : "short");
	return 0;
}

/*
 * The counter value is the message: the ack guarantees B has drained the counter before the
 * next write, so B reads back exactly the stamp (never 0, CLOCK_MONOTONIC is past 0).
 */
static const struct bench_word_ops efd_ops = { .put = efd_put, .get = efd_get };

static int efd_run(struct bench_side *s, uint64_t n)
{
	return bench_word_run(s, n, &efd_ops);
}

const struct bench_transport bench_eventfd = {
	.name = "eventfd",
	.wait = "blocking",
	.mode = "eventfd",
	.flags = BENCH_F_BASELINE,
	.fixed_size = 8,
	.setup = efd_setup,
	.run = {
		[BENCH_SIMPLEX] = { efd_run, efd_run },
		[BENCH_HALF_DUPLEX] = { efd_run, efd_run },
	},
	.teardown = efd_teardown,
};

/* ---- eventfd-epoll ---- */

/*
 * The eventfd ping-pong of an event-loop application: non-blocking eventfds, each side blocks
 * in epoll_wait on the one it reads, then reads it (the counter is the message, as above).
 * The epoll instance is per process (attach), as a loop's own would be.
 */
static int efd_nb_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	return efd_open(state, EFD_NONBLOCK, err, len);
}

static int epoll_attach(struct bench_side *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int *ep = malloc(sizeof(*ep));

	if (!ep)
		return bench_fail(s, "out of memory");
	*ep = epoll_create1(EPOLL_CLOEXEC);
	s->priv = ep;
	if (*ep < 0 || epoll_ctl(*ep, EPOLL_CTL_ADD, efd_rx(s), &ev) < 0)
		return bench_fail(s, "epoll: %s", strerror(errno));
	return 0;
}

static void epoll_detach(struct bench_side *s)
{
	int *ep = s->priv;

	if (!ep)
		return;
	if (*ep >= 0)
		close(*ep);
	free(ep);
	s->priv = NULL;
}

/* As a loop does: wait first (level-triggered: at once if a value is there), then read. */
static int epoll_get(struct bench_side *s, uint64_t *v)
{
	struct epoll_event ev;
	ssize_t ret;

	for (;;) {
		if (epoll_wait(*(int *)s->priv, &ev, 1, -1) < 0 && errno != EINTR)
			return bench_fail(s, "epoll_wait: %s", strerror(errno));
		ret = read(efd_rx(s), v, sizeof(*v));
		if (ret == (ssize_t)sizeof(*v))
			return 0;
		if (ret >= 0 || (errno != EAGAIN && errno != EINTR))
			return bench_fail(s, "eventfd read: %s",
					  ret < 0 ? strerror(errno) : "short");
	}
}

static const struct bench_word_ops epoll_ops = { .put = efd_put, .get = epoll_get };

static int epoll_run(struct bench_side *s, uint64_t n)
{
	return bench_word_run(s, n, &epoll_ops);
}

const struct bench_transport bench_eventfd_epoll = {
	.name = "eventfd-epoll",
	.wait = "epoll",
	.mode = "eventfd",
	.flags = BENCH_F_BASELINE,
	.fixed_size = 8,
	.setup = efd_nb_setup,
	.attach = epoll_attach,
	.run = {
		[BENCH_SIMPLEX] = { epoll_run, epoll_run },
		[BENCH_HALF_DUPLEX] = { epoll_run, epoll_run },
	},
	.detach = epoll_detach,
	.teardown = efd_teardown,
};

/* ---- pipe ---- */

struct pipes {
	int ab[2]; /* A writes [1], B reads [0] */
	int ba[2];
};

static int pipe_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	struct pipes *pp = malloc(sizeof(*pp));

	if (!pp) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	pp->ab[0] = pp->ab[1] = pp->ba[0] = pp->ba[1] = -1;
	if (pipe2(pp->ab, O_CLOEXEC) || pipe2(pp->ba, O_CLOEXEC)) {
		snprintf(err, len, "pipe2: %s", strerror(errno));
		close_fds(pp->ab, 2);
		close_fds(pp->ba, 2);
		free(pp);
		return -1;
	}
	*state = pp;
	return 0;
}

static void pipe_teardown(void *state)
{
	struct pipes *pp = state;

	close_fds(pp->ab, 2);
	close_fds(pp->ba, 2);
	free(pp);
}

static int pipe_hd_a(struct bench_side *s, uint64_t n)
{
	struct pipes *pp = s->state;
	uint64_t i, t0;

	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		if (write_full(s, pp->ab[1], s->buf, s->size) ||
		    read_full(s, pp->ba[0], s->buf, s->size))
			return -1;
		bench_sample(s, i, t0, bench_now_ns());
	}
	return 0;
}

static int pipe_hd_b(struct bench_side *s, uint64_t n)
{
	struct pipes *pp = s->state;
	uint64_t i;

	for (i = 0; i < n; i++)
		if (read_full(s, pp->ab[0], s->buf, s->size) ||
		    write_full(s, pp->ba[1], s->buf, s->size))
			return -1;
	return 0;
}

static int pipe_sx_a(struct bench_side *s, uint64_t n)
{
	struct pipes *pp = s->state;
	uint64_t i, t_send;
	char ack;

	for (i = 0; i < n; i++) {
		t_send = bench_now_ns();
		memcpy(s->buf, &t_send, sizeof(t_send));
		if (write_full(s, pp->ab[1], s->buf, s->size) || read_full(s, pp->ba[0], &ack, 1))
			return -1;
	}
	return 0;
}

static int pipe_sx_b(struct bench_side *s, uint64_t n)
{
	struct pipes *pp = s->state;
	uint64_t i, t_send, t_recv;
	char ack = 0;

	for (i = 0; i < n; i++) {
		if (read_full(s, pp->ab[0], s->buf, s->size))
			return -1;
		t_recv = bench_now_ns();
		memcpy(&t_send, s->buf, sizeof(t_send));
		bench_sample(s, i, t_send, t_recv);
		if (write_full(s, pp->ba[1], &ack, 1))
			return -1;
	}
	return 0;
}

static int pipe_st_a(struct bench_side *s, uint64_t n)
{
	struct pipes *pp = s->state;
	uint64_t i;

	for (i = 0; i < n; i++)
		if (write_full(s, pp->ab[1], s->buf, s->size))
			return -1;
	return 0;
}

static int pipe_st_b(struct bench_side *s, uint64_t n)
{
	struct pipes *pp = s->state;
	uint64_t i;

	/* One read per message, never more: the reader consumes exact messages. */
	for (i = 0; i < n; i++)
		if (read_full(s, pp->ab[0], s->buf, s->size))
			return -1;
	return 0;
}

const struct bench_transport bench_pipe = {
	.name = "pipe",
	.wait = "blocking",
	.flags = BENCH_F_BASELINE,
	.max_size = 1 << 20,
	.setup = pipe_setup,
	.run = {
		[BENCH_SIMPLEX] = { pipe_sx_a, pipe_sx_b },
		[BENCH_HALF_DUPLEX] = { pipe_hd_a, pipe_hd_b },
		[BENCH_STREAM] = { pipe_st_a, pipe_st_b },
	},
	.teardown = pipe_teardown,
};

/* ---- unix ---- */

/* SEQPACKET keeps message boundaries, so one send and one recv move one message. */
static int unix_setup(void **state, size_t size, enum bench_pattern p, char *err, size_t len)
{
	int *sv = malloc(2 * sizeof(*sv));

	if (!sv) {
		snprintf(err, len, "out of memory");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, len, "socketpair: %s", strerror(errno));
		free(sv);
		return -1;
	}
	*state = sv;
	return 0;
}

static void unix_teardown(void *state)
{
	close_fds(state, 2);
	free(state);
}

static int unix_send(struct bench_side *s, const void *buf, size_t len)
{
	int *sv = s->state;
	ssize_t ret;

	do {
		ret = send(sv[s->role], buf, len, MSG_NOSIGNAL);
	} while (ret < 0 && errno == EINTR);
	if (ret != (ssize_t)len)
		return bench_fail(s, "send: %s", ret < 0 ? strerror(errno) : "short");
	return 0;
}

static int unix_recv(struct bench_side *s, void *buf, size_t len)
{
	int *sv = s->state;
	ssize_t ret;

	do {
		ret = recv(sv[s->role], buf, len, 0);
	} while (ret < 0 && errno == EINTR);
	if (ret != (ssize_t)len)
		return bench_fail(s, "recv: %s", ret < 0 ? strerror(errno) : "wrong length");
	return 0;
}

static int unix_hd_a(struct bench_side *s, uint64_t n)
{
	uint64_t i, t0;

	for (i = 0; i < n; i++) {
		t0 = bench_now_ns();
		if (unix_send(s, s->buf, s->size) || unix_recv(s, s->buf, s->size))
			return -1;
		bench_sample(s, i, t0, bench_now_ns());
	}
	return 0;
}

static int unix_hd_b(struct bench_side *s, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		if (unix_recv(s, s->buf, s->size) || unix_send(s, s->buf, s->size))
			return -1;
	return 0;
}

static int unix_sx_a(struct bench_side *s, uint64_t n)
{
	uint64_t i, t_send;
	char ack;

	for (i = 0; i < n; i++) {
		t_send = bench_now_ns();
		memcpy(s->buf, &t_send, sizeof(t_send));
		if (unix_send(s, s->buf, s->size) || unix_recv(s, &ack, 1))
			return -1;
	}
	return 0;
}

static int unix_sx_b(struct bench_side *s, uint64_t n)
{
	uint64_t i, t_send, t_recv;
	char ack = 0;

	for (i = 0; i < n; i++) {
		if (unix_recv(s, s->buf, s->size))
			return -1;
		t_recv = bench_now_ns();
		memcpy(&t_send, s->buf, sizeof(t_send));
		bench_sample(s, i, t_send, t_recv);
		if (unix_send(s, &ack, 1))
			return -1;
	}
	return 0;
}

const struct bench_transport bench_unix = {
	.name = "unix",
	.wait = "blocking",
	.flags = BENCH_F_BASELINE,
	/* A SEQPACKET message must fit the socket send buffer (about 200 KiB by default). */
	.max_size = 64 << 10,
	.setup = unix_setup,
	.run = {
		[BENCH_SIMPLEX] = { unix_sx_a, unix_sx_b },
		[BENCH_HALF_DUPLEX] = { unix_hd_a, unix_hd_b },
	},
	.teardown = unix_teardown,
};
