/* SPDX-License-Identifier: MIT */
/*
 * The eventfd wait mode: a CPU that lives in an event loop (epoll, poll, io_uring) gets a
 * pollable fd that becomes readable when one of its lines may have asserted.
 *
 * Who writes the eventfd: a ringer that clears IPCC_BELL_EVENTFD (lib/region/doorbell.c), so at
 * most once per dispatch round. To write it, the ringer needs the fd: it asks the CPU's process
 * over an abstract UNIX socket named after the system, the CPU and its attach generation, and gets
 * it with SCM_RIGHTS. Both sides check SO_PEERCRED (same uid or root; the server must be the
 * CPU's owner). Until a ringer holds the fd, it bumps bell_fallback instead: the fd server thread
 * of the CPU's process sleeps on that futex, answers pending fd requests and writes the eventfd on
 * the ringer's behalf, so the CPU wakes either way. The thread uses no CPU while idle.
 */
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "irq/irq.h"

static socklen_t sock_name(const struct ipcc_system *sys, unsigned cpu_id, uint32_t gen,
			   struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Abstract namespace (leading NUL): no file to clean up, gone with its process. */
	int n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "libipcc:%s:%u:%u", sys->name,
			 cpu_id, gen);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path) - 1)
		n = (int)sizeof(sa->sun_path) -
		    2; /* a long name is cut the same way by both sides */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static bool cred_ok(int sock, pid_t want_pid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	if (cr.uid != geteuid() && cr.uid != 0)
		return false;
	return want_pid == 0 || cr.pid == want_pid;
}

static void efd_signal(int efd)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is saturated: readable anyway. */
	(void)!write(efd, &one, sizeof(one));
}

/* Answer every pending fd request (never blocks: the listener is non-blocking). */
static void serve_requests(struct ipcc_irq_state *irq)
{
	for (;;) {
		int s = accept4(irq->listener, NULL, NULL, SOCK_CLOEXEC);
		if (s < 0)
			return;
		if (cred_ok(s, 0)) {
			char byte = 'E';
			char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
			struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
			struct msghdr mh = { .msg_iov = &iov,
					     .msg_iovlen = 1,
					     .msg_control = ctl,
					     .msg_controllen = sizeof(ctl) };
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &irq->efd, sizeof(int));
			(void)sendmsg(s, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		close(s);
	}
}

static void *efd_server_main(void *arg)
{
	struct ipcc_cpu *cpu = arg;
	struct ipcc_irq_state *irq = cpu->irq;
	_Atomic uint32_t *fb = &cpu->shm->bell_fallback;
	/* Read before the thread was created: a ring that came before we ran is not lost. */
	uint32_t seen = irq->efd_seen;

	for (;;) {
		serve_requests(irq);
		/* Acquire: pairs with the release store in ipcc_eventfd_fini. */
		if (atomic_load_explicit(&irq->efd_stop, memory_order_acquire))
			return NULL;
		/* Acquire: pairs with the release in ipcc_bell_fallback. */
		uint32_t now = atomic_load_explicit(fb, memory_order_acquire);
		if (now != seen) {
			seen = now;
			efd_signal(irq->efd);
			continue;
		}
		syscall(SYS_futex, fb, FUTEX_WAIT, seen, NULL, NULL, 0);
	}
}

int ipcc_eventfd_init(struct ipcc_cpu *cpu)
{
	struct ipcc_irq_state *irq = cpu->irq;
	struct sockaddr_un sa;
	int r;

	if (irq->efd >= 0)
		return 0;
	irq->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (irq->efd < 0)
		return -errno;
	irq->listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (irq->listener < 0) {
		r = -errno;
		goto fail;
	}
	/* Acquire: our own generation, bumped by the claim (lib/region/cpu.c). */
	uint32_t gen = atomic_load_explicit(&cpu->shm->generation, memory_order_acquire);
	socklen_t len = sock_name(cpu->sys, cpu->id, gen, &sa);
	if (bind(irq->listener, (struct sockaddr *)&sa, len) < 0 || listen(irq->listener, 64) < 0) {
		r = -errno;
		goto fail;
	}
	/* Relaxed: pthread_create below orders it before the thread's first read. */
	atomic_store_explicit(&irq->efd_stop, false, memory_order_relaxed);
	/* Acquire: pairs with the release in lib/region/doorbell.c:ipcc_bell_fallback. Taken
	 * before the thread exists and before arming, so every later fallback ring is seen. */
	irq->efd_seen = atomic_load_explicit(&cpu->shm->bell_fallback, memory_order_acquire);
	r = -pthread_create(&irq->efd_thread, NULL, efd_server_main, cpu);
	if (r < 0)
		goto fail;
	irq->efd_thread_started = true;
	/* seq_cst: arming is part of the ring protocol (lib/region/doorbell.c). */
	atomic_fetch_or_explicit(&cpu->shm->bell_sleepers, IPCC_BELL_EVENTFD, memory_order_seq_cst);
	return 0;
fail:
	if (irq->listener >= 0)
		close(irq->listener);
	close(irq->efd);
	irq->listener = irq->efd = -1;
	return r;
}

void ipcc_eventfd_fini(struct ipcc_cpu *cpu)
{
	struct ipcc_irq_state *irq = cpu->irq;
	if (irq->efd < 0)
		return;
	/* seq_cst: ringers must stop writing an fd that is going away. */
	atomic_fetch_and_explicit(&cpu->shm->bell_sleepers, ~IPCC_BELL_EVENTFD,
				  memory_order_seq_cst);
	if (irq->efd_thread_started) {
		/* Release: pairs with the acquire in efd_server_main. */
		atomic_store_explicit(&irq->efd_stop, true, memory_order_release);
		ipcc_bell_fallback(cpu->shm);
		pthread_join(irq->efd_thread, NULL);
		irq->efd_thread_started = false;
	}
	close(irq->listener);
	close(irq->efd);
	irq->listener = irq->efd = -1;
}

/* Drain the counter and re-arm; true if a ring came in meanwhile (dispatch again). */
bool ipcc_eventfd_rearm(struct ipcc_cpu *cpu)
{
	uint64_t v;
	(void)!read(cpu->irq->efd, &v, sizeof(v));
	/* seq_cst: arm, then re-check bell_pending; a ringer sets bell_pending, then reads
	 * bell_sleepers (lib/region/doorbell.c): one of the two sees the other. */
	atomic_fetch_or_explicit(&cpu->shm->bell_sleepers, IPCC_BELL_EVENTFD, memory_order_seq_cst);
	return atomic_load_explicit(&cpu->shm->bell_pending, memory_order_seq_cst) != 0;
}

/* Try to obtain target's eventfd into e (called with e->lock held). */
static int efd_fetch(struct ipcc_system *sys, unsigned target, uint32_t gen,
		     struct ipcc_efd_peer *e)
{
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, target);
	struct sockaddr_un sa;

	if (e->conn < 0) {
		e->conn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (e->conn < 0)
			return -errno;
		e->conn_gen = gen;
		socklen_t len = sock_name(sys, target, gen, &sa);
		if (connect(e->conn, (struct sockaddr *)&sa, len) < 0) {
			int r = -errno;
			close(e->conn);
			e->conn = -1;
			return r;
		}
		/* Relaxed: owner_pid is informational; the kernel's creds are the check. */
		pid_t owner = (pid_t)atomic_load_explicit(&c->owner_pid, memory_order_relaxed);
		if (!cred_ok(e->conn, owner)) {
			close(e->conn);
			e->conn = -1;
			return -EPERM;
		}
		return -EINPROGRESS; /* the server answers once woken (our fallback ring) */
	}
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)
	};
	ssize_t n = recvmsg(e->conn, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EINPROGRESS;
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	close(e->conn);
	e->conn = -1;
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	/* Relaxed: e->fd is only changed under e->lock, which we hold. */
	int old = atomic_load_explicit(&e->fd, memory_order_relaxed);
	if (old >= 0) {
		/* Same number, new file: a concurrent writer never hits an unrelated fd. */
		dup3(fd, old, O_CLOEXEC);
		close(fd);
		fd = old;
	}
	/* Release: pairs with the acquire loads in ipcc_eventfd_ring. */
	atomic_store_explicit(&e->gen, gen, memory_order_release);
	atomic_store_explicit(&e->fd, fd, memory_order_release);
	return 0;
}

int ipcc_eventfd_ring(struct ipcc_system *sys, unsigned target)
{
	struct ipcc_efd_peer *e = &sys->efd_peer[target];
	/* Acquire: pairs with the generation release in lib/region/cpu.c:ipcc_cpu_claim. */
	uint32_t gen =
		atomic_load_explicit(&ipcc_shm_cpu(sys, target)->generation, memory_order_acquire);
	/* Acquire: pairs with the release stores in efd_fetch. */
	int fd = atomic_load_explicit(&e->fd, memory_order_acquire);
	if (fd >= 0 && atomic_load_explicit(&e->gen, memory_order_acquire) == gen) {
		efd_signal(fd);
		return 0;
	}
	/* Slow path, at most one thread at a time; the others fall back meanwhile. */
	if (pthread_mutex_trylock(&e->lock) != 0)
		return -EAGAIN;
	if (e->refused_gen == gen + 1) {
		/* This owner refused us (another uid): the fallback serves; do not ask again. */
		pthread_mutex_unlock(&e->lock);
		return -EACCES;
	}
	if (e->conn >= 0 && e->conn_gen != gen) {
		close(e->conn); /* a request to an earlier owner */
		e->conn = -1;
	}
	int r = efd_fetch(sys, target, gen, e);
	if (r == -EPERM || r == -EPROTO)
		e->refused_gen = gen + 1;
	if (r == 0) /* Relaxed: we hold e->lock, under which e->fd was just stored. */
		efd_signal(atomic_load_explicit(&e->fd, memory_order_relaxed));
	pthread_mutex_unlock(&e->lock);
	return r;
}

IPCC_EXPORT int ipcc_cpu_fd(struct ipcc_cpu *cpu)
{
	if (!cpu)
		return -EINVAL;
	return cpu->irq->efd >= 0 ? cpu->irq->efd : -ENODEV;
}
