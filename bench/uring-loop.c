/* SPDX-License-Identifier: MIT */
/*
 * io_uring event loop for the ipcc "uring" rows (see uring-loop.h).
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>

#include <ipcc/uring.h>

#include "uring-loop.h"

struct bench_uring {
	struct io_uring ring;
	struct ipcc_cpu *cpu;
	enum ipcc_uring_wait how;
};

const char *bench_uring_unavailable(void)
{
	return NULL;
}

int bench_uring_open(struct bench_uring **ret, struct ipcc_cpu *cpu)
{
	struct bench_uring *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	int r = io_uring_queue_init(8, &u->ring, 0);
	if (r < 0) {
		free(u);
		return r;
	}
	u->cpu = cpu;
	u->how = ipcc_uring_futex_supported(&u->ring) == 1 ? IPCC_URING_FUTEX : IPCC_URING_POLL;
	r = ipcc_uring_prep_wait(&u->ring, cpu, u->how, 1);
	if (r < 0) {
		bench_uring_close(u);
		return r;
	}
	*ret = u;
	return 0;
}

int bench_uring_wait(struct bench_uring *u)
{
	struct io_uring_cqe *cqe;
	bool rearm;
	int r = io_uring_submit_and_wait(&u->ring, 1);
	if (r < 0 && r != -EINTR)
		return r;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		r = ipcc_uring_complete(u->cpu, u->how, cqe, &rearm);
		io_uring_cqe_seen(&u->ring, cqe);
		if (r < 0)
			return r;
		if (rearm) {
			r = ipcc_uring_prep_wait(&u->ring, u->cpu, u->how, 1);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void bench_uring_close(struct bench_uring *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}
