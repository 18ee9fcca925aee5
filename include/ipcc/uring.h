/* SPDX-License-Identifier: MIT */
/*
 * Waiting for a CPU's interrupts on the application's own io_uring (liburing).
 *
 * Two ways, both completing on the caller's ring so IPCC interrupts mix with any other I/O:
 *   IPCC_URING_POLL   a multishot poll on the CPU's eventfd (the CPU must be in
 *                     IPCC_WAIT_EVENTFD mode); one SQE serves many wake-ups.
 *   IPCC_URING_FUTEX  IORING_OP_FUTEX_WAIT directly on the CPU's doorbell word (Linux 6.7 or
 *                     later; ipcc_uring_futex_supported probes the running kernel); one-shot.
 * The prototypes are the same whatever the build: a libipcc built without liburing returns
 * -EOPNOTSUPP from all of them. The ring is the caller's; nothing here submits or waits on it.
 */
#ifndef IPCC_URING_H
#define IPCC_URING_H

#include <ipcc/common.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

struct io_uring;
struct io_uring_cqe;

enum ipcc_uring_wait {
	IPCC_URING_POLL = 0,
	IPCC_URING_FUTEX = 1,
};

/* 1 if the running kernel supports IORING_OP_FUTEX_WAIT on `ring`, 0 if not; -EOPNOTSUPP. */
IPCC_EXPORT int ipcc_uring_futex_supported(struct io_uring *ring);

/*
 * Queue (without submitting) a wait for `cpu`'s interrupts, tagged with user_data.
 * -EINVAL, -EBUSY (the submission queue is full), -ENODEV (POLL on a CPU that is not in eventfd
 * mode), -EOPNOTSUPP (no liburing in this build, or FUTEX on a kernel without it).
 * With FUTEX, the CPU counts as asleep until the completion is consumed: ringers wake it.
 */
IPCC_EXPORT int ipcc_uring_prep_wait(struct io_uring *ring, struct ipcc_cpu *cpu,
				     enum ipcc_uring_wait how, uint64_t user_data);

/*
 * Consume a completion of a wait queued with `how`: runs the CPU's dispatcher and returns the
 * number of channel events handled. *ret_rearm is set when the wait must be queued again (always
 * for FUTEX; for POLL when the multishot poll has ended). -EINVAL, -EOPNOTSUPP, or the
 * completion's own error (a failed poll).
 */
IPCC_EXPORT int ipcc_uring_complete(struct ipcc_cpu *cpu, enum ipcc_uring_wait how,
				    const struct io_uring_cqe *cqe, bool *ret_rearm);

IPCC_END_DECLS

#endif
