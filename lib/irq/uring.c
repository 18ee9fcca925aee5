/* SPDX-License-Identifier: MIT */
/*
 * io_uring waits (include/ipcc/uring.h), built when liburing is found.
 */
#include <linux/futex.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>

#include <ipcc/uring.h>

#include "irq/irq.h"

/* liburing 2.3 predates the futex opcodes: the value is the kernel ABI (Linux 6.7). */
#define IPCC_IORING_OP_FUTEX_WAIT 51
#define IPCC_FUTEX2_SIZE_U32	  0x02u
#define IPCC_FUTEX_BITSET_ANY	  0xFFFFFFFFull

/* What the running kernel answered: -1 not asked yet, else 0 or 1 (the kernel's, not the ring's). */
static _Atomic int futex_op_cache = -1;

IPCC_EXPORT int ipcc_uring_futex_supported(struct io_uring *ring)
{
	if (!ring)
		return -EINVAL;
	/* Relaxed: an idempotent answer; two threads asking at once both probe, both store it. */
	int known = atomic_load_explicit(&futex_op_cache, memory_order_relaxed);
	if (known >= 0)
		return known;
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	if (!p)
		return 0;
	int ok = io_uring_opcode_supported(p, IPCC_IORING_OP_FUTEX_WAIT) ? 1 : 0;
	io_uring_free_probe(p);
	atomic_store_explicit(&futex_op_cache, ok, memory_order_relaxed);
	return ok;
}

static void prep_futex_wait(struct io_uring_sqe *sqe, _Atomic uint32_t *word, uint32_t val)
{
	/* Laid out as the kernel's io_futex_prep reads it: address, value, mask, futex2 flags
	 * in fd (shared: no FUTEX2_PRIVATE, the word is in a shared mapping). */
	io_uring_prep_rw(IPCC_IORING_OP_FUTEX_WAIT, sqe, (int)IPCC_FUTEX2_SIZE_U32, (void *)word, 0,
			 val);
	sqe->addr3 = IPCC_FUTEX_BITSET_ANY;
}

IPCC_EXPORT int ipcc_uring_prep_wait(struct io_uring *ring, struct ipcc_cpu *cpu,
				     enum ipcc_uring_wait how, uint64_t user_data)
{
	if (!ring || !cpu || (how != IPCC_URING_POLL && how != IPCC_URING_FUTEX))
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE; /* a wait entry point (include/ipcc/system.h: ipcc_cpu_attach) */
	/* The mode's pollable fd, if it has one (eventfd mode). */
	const struct ipcc_wait_backend *be = ipcc_wait_backend_of(cpu);
	int fd = how == IPCC_URING_POLL && be->fd ? be->fd(cpu) : -ENODEV;
	if (how == IPCC_URING_POLL && fd < 0)
		return -ENODEV;
	if (how == IPCC_URING_FUTEX && ipcc_uring_futex_supported(ring) != 1)
		return -EOPNOTSUPP;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return -EBUSY;
	if (how == IPCC_URING_POLL)
		io_uring_prep_poll_multishot(sqe, fd, POLLIN);
	else /* a sleeper until the completion is consumed (ipcc_uring_complete retires it) */
		prep_futex_wait(sqe, ipcc_bell_word(cpu), ipcc_bell_announce_async(cpu));
	io_uring_sqe_set_data64(sqe, user_data);
	return 0;
}

IPCC_EXPORT int ipcc_uring_complete(struct ipcc_cpu *cpu, enum ipcc_uring_wait how,
				    const struct io_uring_cqe *cqe, bool *ret_rearm)
{
	if (!cpu || !cqe || !ret_rearm || (how != IPCC_URING_POLL && how != IPCC_URING_FUTEX))
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE;
	bool rearm;
	if (how == IPCC_URING_FUTEX) {
		ipcc_bell_retire(cpu);
		rearm = true;
	} else {
		rearm = !(cqe->flags & IORING_CQE_F_MORE);
		if (cqe->res < 0 && cqe->res != -ECANCELED) {
			*ret_rearm = rearm;
			return cqe->res;
		}
	}
	/* A futex completion's -EAGAIN or -ETIMEDOUT is a wake-up like any other. */
	int n = ipcc_cpu_dispatch(cpu);
	*ret_rearm = rearm;
	return n;
}
