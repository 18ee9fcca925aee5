/* SPDX-License-Identifier: MIT */
/*
 * Every transport ipcc-bench knows about. main.c lists them in its registry; add a library
 * transport here and there.
 */
#ifndef IPCC_BENCH_TRANSPORTS_H
#define IPCC_BENCH_TRANSPORTS_H

#include "harness.h"

/* baselines.c */
extern const struct bench_transport bench_raw_spin;
extern const struct bench_transport bench_spin_2line;
extern const struct bench_transport bench_raw_futex;
extern const struct bench_transport bench_eventfd;
extern const struct bench_transport bench_eventfd_epoll;
extern const struct bench_transport bench_pipe;
extern const struct bench_transport bench_unix;

/* baseline_uring.c with liburing, baseline_uring_none.c (always unavailable) without */
extern const struct bench_transport bench_io_uring;
extern const struct bench_transport bench_eventfd_uring;

/* ipcc.c: the library, one transport per wait mode */
extern const struct bench_transport bench_ipcc_spin;
extern const struct bench_transport bench_ipcc_futex;
extern const struct bench_transport bench_ipcc_adaptive;
extern const struct bench_transport bench_ipcc_eventfd;
extern const struct bench_transport bench_ipcc_uring;

/* notify.c: IPC Notify, one transport per wait mode */
extern const struct bench_transport bench_notify_spin;
extern const struct bench_transport bench_notify_futex;
extern const struct bench_transport bench_notify_adaptive;
extern const struct bench_transport bench_notify_eventfd;
extern const struct bench_transport bench_notify_uring;

/* rpmsg.c: RPMessage, one transport per wait mode */
extern const struct bench_transport bench_rpmsg_spin;
extern const struct bench_transport bench_rpmsg_futex;
extern const struct bench_transport bench_rpmsg_adaptive;
extern const struct bench_transport bench_rpmsg_eventfd;
extern const struct bench_transport bench_rpmsg_uring;

#endif /* IPCC_BENCH_TRANSPORTS_H */
