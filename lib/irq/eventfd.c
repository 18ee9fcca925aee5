/* SPDX-License-Identifier: MIT */
/*
 * The eventfd wait backend: a CPU that lives in an event loop (epoll, poll, io_uring) gets a
 * pollable fd that becomes readable when one of its lines may have asserted.
 *
 * Who writes the eventfd: a ringer whose RMW clears the armed bit (lib/bell/bell.c), so at most
 * once per dispatch round; the dispatcher re-arms through this backend's `rearm`. Ringers obtain
 * the fd from this process over a socket (lib/bell/bell-eventfd.c, both ends of the exchange);
 * until they hold it they bump the doorbell's fallback word instead, and the fd server thread
 * here answers the fd requests and writes the eventfd on their behalf, so the CPU wakes either
 * way. The thread uses no CPU while idle.
 *
 * Lifetime: the eventfd, its listener and the thread are created the first time the CPU enters
 * the mode and live until detach; leaving the mode only disarms. So a thread still polling the
 * fd or in ipcc_cpu_dispatch when another thread changes the mode (include/ipcc/irq.h:
 * ipcc_cpu_set_wait_mode) never touches a closed or reused descriptor. A dispatcher that read
 * the old mode may re-arm after the disarm: the next ringer then writes the fd (still open) or
 * bumps the fallback word once, and nobody re-arms again; harmless.
 */
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "irq/irq.h"

static void *efd_server_main(void *arg)
{
	struct ipcc_cpu *cpu = arg;
	struct ipcc_eventfd_state *e = &ipcc_irq(cpu)->efd;
	/* Read before the thread was created: a ring that came before we ran is not lost. */
	uint32_t seen = e->seen;

	for (;;) {
		ipcc_bell_efd_serve(e->listener, e->fd);
		/* Acquire: pairs with the release store in eventfd_fini. */
		if (atomic_load_explicit(&e->stop, memory_order_acquire))
			return NULL;
		uint32_t now = ipcc_bell_fallback_count(cpu);
		if (now != seen) {
			seen = now;
			ipcc_bell_efd_signal(e->fd);
			continue;
		}
		ipcc_bell_fallback_wait(cpu, seen);
	}
}

/* The eventfd, its listener and the server thread; called under mode_lock. */
static int efd_start(struct ipcc_cpu *cpu)
{
	struct ipcc_eventfd_state *e = &ipcc_irq(cpu)->efd;
	int r;

	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	e->listener = ipcc_bell_efd_listen(cpu);
	if (e->listener < 0) {
		r = e->listener;
		goto fail;
	}
	e->fd = fd;
	/* Relaxed: pthread_create below orders it before the thread's first read. */
	atomic_store_explicit(&e->stop, false, memory_order_relaxed);
	/* Taken before the thread exists and before arming, so every later fallback is seen. */
	e->seen = ipcc_bell_fallback_count(cpu);
	r = -pthread_create(&e->thread, NULL, efd_server_main, cpu);
	if (r < 0)
		goto fail;
	e->started = true;
	return 0;
fail:
	if (e->listener >= 0)
		close(e->listener);
	close(fd);
	return r;
}

static int eventfd_enter(struct ipcc_cpu *cpu)
{
	struct ipcc_eventfd_state *e = &ipcc_irq(cpu)->efd;
	if (!e->started) {
		int r = efd_start(cpu);
		if (r < 0)
			return r;
	}
	/* A line pending already: say so on the fd, or nothing would make it readable. */
	if (ipcc_bell_arm_eventfd(cpu))
		ipcc_bell_efd_signal(e->fd);
	return 0;
}

static void eventfd_leave(struct ipcc_cpu *cpu)
{
	ipcc_bell_disarm_eventfd(cpu);
}

static void eventfd_fini(struct ipcc_cpu *cpu)
{
	struct ipcc_eventfd_state *e = &ipcc_irq(cpu)->efd;
	if (!e->started)
		return;
	ipcc_bell_disarm_eventfd(cpu);
	/* Release: pairs with the acquire in efd_server_main. */
	atomic_store_explicit(&e->stop, true, memory_order_release);
	ipcc_bell_fallback_kick(cpu);
	pthread_join(e->thread, NULL);
	close(e->listener);
	close(e->fd);
	e->started = false;
}

/* Drain the counter and re-arm; true if a ring came in meanwhile (dispatch again). */
static bool eventfd_rearm(struct ipcc_cpu *cpu)
{
	uint64_t v;
	(void)!read(ipcc_irq(cpu)->efd.fd, &v, sizeof(v));
	return ipcc_bell_arm_eventfd(cpu);
}

static int eventfd_fd(struct ipcc_cpu *cpu)
{
	return ipcc_irq(cpu)->efd.fd;
}

/* Blocking calls of an eventfd-mode CPU sleep on the doorbell futex, as in futex mode. */
const struct ipcc_wait_backend ipcc_wait_eventfd = {
	.name = "eventfd",
	.spin = IPCC_SPIN_NONE,
	.sleep = ipcc_wait_futex_sleep,
	.enter = eventfd_enter,
	.leave = eventfd_leave,
	.fini = eventfd_fini,
	.rearm = eventfd_rearm,
	.fd = eventfd_fd,
};
