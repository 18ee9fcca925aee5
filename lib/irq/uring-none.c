/* SPDX-License-Identifier: MIT */
/*
 * io_uring waits in a build without liburing: same prototypes, -EOPNOTSUPP.
 */
#include <errno.h>

#include <ipcc/uring.h>

IPCC_EXPORT int ipcc_uring_futex_supported(struct io_uring *ring)
{
	return -EOPNOTSUPP;
}

IPCC_EXPORT int ipcc_uring_prep_wait(struct io_uring *ring, struct ipcc_cpu *cpu,
				     enum ipcc_uring_wait how, uint64_t user_data)
{
	return -EOPNOTSUPP;
}

IPCC_EXPORT int ipcc_uring_complete(struct ipcc_cpu *cpu, enum ipcc_uring_wait how,
				    const struct io_uring_cqe *cqe, bool *ret_rearm)
{
	return -EOPNOTSUPP;
}
