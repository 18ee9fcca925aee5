/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the RPMessage tests (tests/rpmsg): systems created with Notify and RPMessage on
 * every pair, the counters read with retries, self-checking packets per stream and a
 * dispatching thread for eventfd-mode CPUs. Built on tests/proc/proc-test.h (names, forked
 * peers with watchdogs, pipes, shared memory) and tests/notify/notify-test.h (the wait-mode
 * matrix, barriers, counts from the environment). Header-only so that each test file stays
 * one executable.
 *
 * A stream is one (source CPU, source end point, destination end point) triple: the unit of
 * RPMessage's ordering promise. Packet `seq` of a stream has a length and bytes that depend on
 * (stream, seq) only (pt_msg_fill); from 8 bytes on it starts with its sequence number and a
 * checksum, so that a receiver tells a lost, duplicated or reordered packet from a corrupted
 * one (pt_msg_take).
 */
#ifndef IPCC_RPMSG_TEST_H
#define IPCC_RPMSG_TEST_H

#include <pthread.h>

#include "notify-test.h"

#include <ipcc/layout.h>
#include <ipcc/rpmsg.h>

/* cfg with `cpus` CPUs (all linked), Notify on every pair, RPMessage with *rcfg's defaults. */
static inline void rt_config(struct ipcc_config *cfg, struct ipcc_notify_config *ncfg,
			     struct ipcc_rpmsg_config *rcfg, unsigned cpus)
{
	nt_config(cfg, ncfg, cpus);
	ipcc_rpmsg_config_init(rcfg);
	cfg->rpmsg = rcfg;
}

/* `cpus` CPUs, RPMessage on every pair with `buffers` of `size` bytes (0: the defaults). */
static inline struct ipcc_system *rt_system(unsigned cpus, uint32_t buffers, uint32_t size)
{
	struct ipcc_config cfg;
	struct ipcc_notify_config n;
	struct ipcc_rpmsg_config r;
	rt_config(&cfg, &n, &r, cpus);
	if (buffers)
		r.buffers = buffers;
	if (size)
		r.buffer_size = size;
	return nt_create(&cfg);
}

/* The counters of from -> to; retries while a busy vring moves under the reads (-EAGAIN). */
static inline struct ipcc_rpmsg_stats rt_stats(const struct ipcc_system *sys, unsigned from,
					       unsigned to)
{
	struct ipcc_rpmsg_stats st;
	int r;
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 1000; i++) {
		r = ipcc_rpmsg_stats(sys, from, to, &st);
		if (r != -EAGAIN)
			break;
		sched_yield();
	}
	pt_assert(r == 0, "ipcc_rpmsg_stats(%u -> %u): %s", from, to, strerror(-r));
	return st;
}

#define RT_STATS_FMT                                                                           \
	"sent %llu, nobuf %llu, received %llu, dropped %llu, stale %llu, bad %llu, reclaimed " \
	"%llu, full %u, free %u"
#define RT_STATS_ARGS(s)                                                           \
	(unsigned long long)(s).sent, (unsigned long long)(s).nobuf,               \
		(unsigned long long)(s).received, (unsigned long long)(s).dropped, \
		(unsigned long long)(s).stale, (unsigned long long)(s).bad,        \
		(unsigned long long)(s).reclaimed, (s).full, (s).free

/* The stream of packets from end point src_ep of src_cpu to end point dst_ep. */
static inline uint32_t rt_stream(unsigned src_cpu, unsigned src_ep, unsigned dst_ep)
{
	return (uint32_t)(src_cpu << 20 | src_ep << 10 | dst_ep);
}

/* Fill buf with packet seq of the stream; returns its length (1..cap). */
static inline uint32_t rt_fill(void *buf, uint32_t stream, uint64_t seq, uint32_t cap)
{
	size_t len = pt_msg_len(stream, seq, cap);
	pt_msg_fill(buf, stream, seq, len);
	return (uint32_t)len;
}

/* One end point open, or fail (a Criterion test). */
static inline struct ipcc_rpmsg_ep *rt_ep(struct ipcc_cpu *cpu, unsigned number, ipcc_rpmsg_fn fn,
					  void *arg)
{
	struct ipcc_rpmsg_ep *ep = NULL;
	int r = ipcc_rpmsg_ep_create(cpu, number, fn, arg, &ep);
	pt_assert(r == 0 && ep, "ipcc_rpmsg_ep_create(%u): %s", number, strerror(-r));
	return ep;
}

/* The same in a forked peer. */
static inline struct ipcc_rpmsg_ep *peer_ep(struct ipcc_cpu *cpu, unsigned number, ipcc_rpmsg_fn fn,
					    void *arg)
{
	struct ipcc_rpmsg_ep *ep = NULL;
	int r = ipcc_rpmsg_ep_create(cpu, number, fn, arg, &ep);
	PEER_CHECK(r == 0 && ep, "ipcc_rpmsg_ep_create(%u): %s", number, strerror(-r));
	return ep;
}

/* Whether the environment asks for the long runs (IPCC_SOAK=1). */
static inline bool rt_soak(void)
{
	const char *s = getenv("IPCC_SOAK");
	return s && *s && strcmp(s, "0") != 0;
}

/*
 * Wait until end point `number` of CPU `cpu` is open as the object shows it (a peer opened
 * it), without the library's waits: a sender that went first would get -ECONNREFUSED.
 */
static inline bool rt_wait_open(const struct ipcc_system *sys, unsigned cpu, unsigned number,
				int64_t timeout_ns)
{
	for (int64_t end = pt_now_ns() + timeout_ns; pt_now_ns() < end; pt_sleep_ms(1))
		if (ipcc_rpmsg_ep_is_open(sys, cpu, number) == 1)
			return true;
	return false;
}

/*
 * Wait until the nobuf count of from -> to reaches n: a sender has found no buffer and waits
 * (a state, not a time). Returns the last counters read.
 */
static inline struct ipcc_rpmsg_stats rt_await_nobuf(const struct ipcc_system *sys, unsigned from,
						     unsigned to, uint64_t n)
{
	struct ipcc_rpmsg_stats st = rt_stats(sys, from, to);
	for (int64_t end = pt_now_ns() + PT_LONG; st.nobuf < n && pt_now_ns() < end;) {
		pt_sleep_ms(1);
		st = rt_stats(sys, from, to);
	}
	pt_assert(st.nobuf >= n, "nobuf of %u -> %u stayed below %llu: " RT_STATS_FMT, from, to,
		  (unsigned long long)n, RT_STATS_ARGS(st));
	return st;
}

/*
 * Wait until another thread is inside a receive on ep: a probe with timeout 0 gets -EBUSY
 * then (before, -EAGAIN; the other thread retries if the probe makes it -EBUSY).
 */
static inline void rt_await_recv_busy(struct ipcc_rpmsg_ep *ep)
{
	uint8_t buf[16];
	uint32_t len;
	int r = 0;
	for (int64_t end = pt_now_ns() + PT_LONG; pt_now_ns() < end; pt_sleep_ms(1)) {
		r = ipcc_rpmsg_recv(ep, buf, sizeof(buf), &len, NULL, NULL, 0);
		if (r == -EBUSY)
			return;
		pt_assert(r == -EAGAIN, "probe of a waiting receive: %s", strerror(-r));
	}
	pt_assert(r == -EBUSY, "the other thread never got into its receive");
}

/* ---- a dispatching thread for a CPU without an interrupt thread (eventfd mode) ----------- */

struct rt_dispatcher {
	struct ipcc_cpu *cpu;
	pthread_t thread;
	int stop[2];
	int error; /* the first failed call's errno, read after the join */
};

static inline void *rt_dispatcher_main(void *p)
{
	struct rt_dispatcher *d = p;
	int fd = ipcc_cpu_fd(d->cpu);
	if (fd < 0) {
		d->error = fd;
		return NULL;
	}
	for (;;) {
		struct pollfd pfd[2] = { { .fd = fd, .events = POLLIN },
					 { .fd = d->stop[0], .events = POLLIN } };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			d->error = -errno;
			return NULL;
		}
		if (pfd[1].revents)
			return NULL;
		int r = ipcc_cpu_dispatch(d->cpu);
		if (r < 0 && r != -EPIPE) {
			d->error = r;
			return NULL;
		}
	}
}

/* Start it; 0 or an errno (no assert: peers and plain programs use it too). */
static inline int rt_dispatcher_start(struct rt_dispatcher *d, struct ipcc_cpu *cpu)
{
	*d = (struct rt_dispatcher){ .cpu = cpu, .stop = { -1, -1 } };
	if (pipe2(d->stop, O_CLOEXEC) < 0)
		return -errno;
	int r = pthread_create(&d->thread, NULL, rt_dispatcher_main, d);
	return -r;
}

/* Stop and join it; its error, if it had one. */
static inline int rt_dispatcher_stop(struct rt_dispatcher *d)
{
	char c = 'x';
	if (write(d->stop[1], &c, 1) != 1)
		return -errno;
	pthread_join(d->thread, NULL);
	close(d->stop[0]);
	close(d->stop[1]);
	return d->error;
}

/*
 * The flags to attach a CPU with so that something dispatches it all the time: the interrupt
 * thread, except in eventfd mode, where the caller runs an rt_dispatcher.
 */
static inline uint32_t rt_irq_flags(enum ipcc_wait_mode mode)
{
	return mode == IPCC_WAIT_EVENTFD ? 0 : IPCC_CPU_IRQ_THREAD;
}

/* ---- the vring memory, as a process without the library finds it (layout.h) ------------- */

static inline uint32_t rt_align64(uint32_t v)
{
	return (v + 63u) & ~63u;
}

/* Offsets, from the start of the object, of the parts of one vring (layout.h, "RPMessage"). */
struct rt_vring {
	uint64_t pair, sent_tag, ret_tag, full_q, free_q, bufs;
	uint32_t buffers, buffer_size;
};

/*
 * The vring of vring index `index` (link order, a -> b then b -> a) in the rpmsg section of
 * sys, found through ipcc_system_sections: false if there is no such section or vring.
 */
static inline bool rt_vring_find(const struct ipcc_system *sys, unsigned index,
				 struct rt_vring *ret)
{
	struct ipcc_section_info sec[IPCC_SECTIONS_MAX];
	int n = ipcc_system_sections(sys, sec, IPCC_SECTIONS_MAX);
	for (int i = 0; i < n && i < (int)IPCC_SECTIONS_MAX; i++) {
		if (sec[i].type != IPCC_SECTION_RPMSG)
			continue;
		if (index >= sec[i].count)
			return false;
		uint32_t buffers = ipcc_rpmsg_buffers(sys);
		uint32_t qsize = rt_align64(3 * 64 + 8 * buffers);
		/* The free queue has room for twice the buffers (layout.h). */
		uint32_t fqsize = rt_align64(3 * 64 + 16 * buffers);
		uint64_t v = sec[i].offset + IPCC_SHM_RPMSG_HEAD_SIZE +
			     (uint64_t)ipcc_system_cpus(sys) * IPCC_SHM_RPMSG_CPU_SIZE +
			     (uint64_t)index * sec[i].stride;
		ret->pair = v;
		ret->sent_tag = v + sizeof(struct ipcc_shm_rpmsg_pair);
		ret->ret_tag = ret->sent_tag + rt_align64(4 * buffers);
		ret->full_q = ret->ret_tag + rt_align64(4 * buffers);
		ret->free_q = ret->full_q + qsize;
		ret->bufs = ret->free_q + fqsize;
		ret->buffers = buffers;
		ret->buffer_size = ipcc_rpmsg_buffer_size(sys);
		return true;
	}
	return false;
}

/* The rpmsg section's offset and size, or false. */
static inline bool rt_section(const struct ipcc_system *sys, uint64_t *ret_off, uint64_t *ret_size)
{
	struct ipcc_section_info sec[IPCC_SECTIONS_MAX];
	int n = ipcc_system_sections(sys, sec, IPCC_SECTIONS_MAX);
	for (int i = 0; i < n && i < (int)IPCC_SECTIONS_MAX; i++)
		if (sec[i].type == IPCC_SECTION_RPMSG) {
			*ret_off = sec[i].offset;
			*ret_size = sec[i].size;
			return true;
		}
	return false;
}

/* The object mapped without the library (read-write), as a hostile peer or a check maps it. */
static inline uint8_t *rt_map(const struct ipcc_system *sys)
{
	int fd = ipcc_system_dup_fd(sys, true);
	if (fd < 0)
		return NULL;
	void *p = mmap(NULL, ipcc_system_size(sys), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

#endif
