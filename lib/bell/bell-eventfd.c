/* SPDX-License-Identifier: MIT */
/*
 * Ringing an eventfd-mode CPU: writing its eventfd, and obtaining that fd from its process.
 *
 * A ringer needs the target's fd: it asks the CPU's process over an abstract UNIX socket and gets
 * it with SCM_RIGHTS. Both ends of that exchange are here (the server end runs in the CPU's fd
 * server thread, lib/irq/eventfd.c). Until a ringer holds the fd, ipcc_bell_eventfd_ring fails and
 * bell.c bumps bell_fallback instead: the fd server thread answers pending requests and writes the
 * eventfd on the ringer's behalf.
 *
 * The rendezvous. Abstract names belong to whoever binds them first, and any user can bind any
 * name: a name that others can predict can be squatted, and the owner's bind then fails. So the
 * owner names its socket after 128 random bits (getrandom) and publishes them in its CPU record
 * (efd_token, line 2), which only processes that can read the object see; those are participants
 * anyway. A name that is taken all the same (by chance) is drawn again, a bounded number of times.
 * Once bound, the name is no secret (/proc/net/unix lists it): what counts is that nobody can bind
 * it before the owner does, and that a process without the object cannot learn the next one. A
 * stale or forged token leads a ringer to no socket, or to one that fails the checks below.
 * Both sides check SO_PEERCRED: the ringer wants the pid of the CPU's owner (owner_pid) and our
 * uid or root; the server answers only our uid or root. A ringer of another uid is refused and
 * keeps ringing through the fallback.
 *
 * An answer is one byte with one descriptor, an eventfd; anything else (more descriptors, a
 * truncated control message, a pipe or a socket whose write would block or raise SIGPIPE) is
 * refused, and every descriptor it carried is closed.
 *
 * The fds obtained are cached per target CPU in the system's ringer state (the bell layer's per-handle state).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bell/bell.h"

/* The eventfd of one target CPU as this process holds it. */
struct ipcc_efd_peer {
	pthread_mutex_t lock; /* process-local; only trylocked by ringers */
	_Atomic int fd;	      /* stable number once set: updates go through dup3 */
	_Atomic uint32_t gen; /* owner generation the fd belongs to */
	int conn;	      /* socket of a request in flight, or -1 */
	uint32_t conn_gen;    /* owner generation that request went to */
	uint32_t refused_gen; /* owner generation that refused us (+1; 0: none) */
};

struct ipcc_bell_sys {
	struct ipcc_efd_peer peer[IPCC_CPUS_MAX];
};

int ipcc_bell_sys_init(struct ipcc_system *sys)
{
	struct ipcc_bell_sys *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++) {
		pthread_mutex_init(&b->peer[i].lock, NULL);
		atomic_init(&b->peer[i].fd, -1);
		b->peer[i].conn = -1;
	}
	sys->layer[IPCC_LAYER_BELL] = b;
	return 0;
}

void ipcc_bell_sys_fini(struct ipcc_system *sys)
{
	struct ipcc_bell_sys *b = sys->layer[IPCC_LAYER_BELL];
	if (!b)
		return;
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++) {
		struct ipcc_efd_peer *e = &b->peer[i];
		/* Relaxed: no other thread may use the system while it is being closed. */
		int fd = atomic_load_explicit(&e->fd, memory_order_relaxed);
		if (fd >= 0)
			close(fd);
		if (e->conn >= 0)
			close(e->conn);
		pthread_mutex_destroy(&e->lock);
	}
	free(b);
	sys->layer[IPCC_LAYER_BELL] = NULL;
}

/* The bell layer in the registry (lib/layers.c). */
const struct ipcc_layer ipcc_layer_bell = {
	.name = "bell",
	.open = ipcc_bell_sys_init,
	.close = ipcc_bell_sys_fini,
	.wake_sleepers = ipcc_bell_wake_sleepers,
};

socklen_t ipcc_bell_efd_name(const uint64_t token[2], struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* Abstract namespace (leading NUL): no file to clean up, gone with its process. */
	int n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "libipcc:efd:%016llx%016llx",
			 (unsigned long long)token[0], (unsigned long long)token[1]);
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

void ipcc_bell_efd_signal(int efd)
{
	uint64_t one = 1;
	/* EAGAIN means the counter is saturated: readable anyway. */
	(void)!write(efd, &one, sizeof(one));
}

/* Bind s to a fresh random name: 0 with the token in ret_token, or -errno. */
static int efd_bind(int s, uint64_t ret_token[2])
{
	for (unsigned i = 0; i < IPCC_BELL_EFD_BIND_TRIES; i++) {
		uint64_t token[2];
		struct sockaddr_un sa;
		ssize_t got;
		/* Blocks only before the kernel's pool is first initialised (early boot). */
		while ((got = getrandom(token, sizeof(token), 0)) < 0 && errno == EINTR)
			;
		if (got < 0)
			return -errno;
		if (got != (ssize_t)sizeof(token))
			return -EIO;
		socklen_t len = ipcc_bell_efd_name(token, &sa);
		if (bind(s, (struct sockaddr *)&sa, len) == 0) {
			memcpy(ret_token, token, sizeof(token));
			return 0;
		}
		/* Taken: by chance, or by someone who knows how our random numbers come out. */
		if (errno != EADDRINUSE)
			return -errno;
	}
	return -EADDRINUSE;
}

int ipcc_bell_efd_listen(struct ipcc_cpu *cpu)
{
	struct ipcc_shm_cpu *c = cpu->shm;
	uint64_t token[2];
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	int r = efd_bind(s, token);
	if (r == 0 && listen(s, 64) < 0)
		r = -errno;
	if (r < 0) {
		close(s);
		return r;
	}
	/* Acquire: our own generation, bumped by the claim (lib/region/cpu.c:ipcc_cpu_claim). */
	uint32_t gen = atomic_load_explicit(&c->generation, memory_order_acquire);
	/* Relaxed: published by the release store of efd_gen below. */
	atomic_store_explicit(&c->efd_token[0], token[0], memory_order_relaxed);
	atomic_store_explicit(&c->efd_token[1], token[1], memory_order_relaxed);
	/* Release: pairs with the acquire load in efd_connect (a ringer reads the token after it). */
	atomic_store_explicit(&c->efd_gen, gen, memory_order_release);
	return s;
}

void ipcc_bell_efd_serve(int listener, int efd)
{
	for (;;) {
		int s = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
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
			memcpy(CMSG_DATA(cm), &efd, sizeof(int));
			(void)sendmsg(s, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		close(s);
	}
}

/*
 * Ask target's owner for its eventfd: connect to the name of the token it published for
 * generation gen. -EINPROGRESS: asked (the answer comes once the fallback ring wakes its fd
 * server); -EAGAIN: no token for this generation (yet); -EPERM: not the owner's socket.
 */
static int efd_connect(struct ipcc_system *sys, unsigned target, uint32_t gen,
		       struct ipcc_efd_peer *e)
{
	struct ipcc_shm_cpu *c = ipcc_shm_cpu(sys, target);
	struct sockaddr_un sa;
	uint64_t token[2];

	/* Acquire: pairs with the release store in ipcc_bell_efd_listen, after the token. */
	if (atomic_load_explicit(&c->efd_gen, memory_order_acquire) != gen)
		return -EAGAIN;
	/*
	 * Relaxed: ordered by the efd_gen load. A token torn by a new owner writing it now names
	 * no listener (or fails the credential check below): the ring falls back, and the next
	 * one, of the new generation, asks again.
	 */
	token[0] = atomic_load_explicit(&c->efd_token[0], memory_order_relaxed);
	token[1] = atomic_load_explicit(&c->efd_token[1], memory_order_relaxed);
	e->conn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (e->conn < 0)
		return -errno;
	e->conn_gen = gen;
	socklen_t len = ipcc_bell_efd_name(token, &sa);
	int r = -EINPROGRESS;
	if (connect(e->conn, (struct sockaddr *)&sa, len) < 0) {
		r = -errno;
	} else {
		/* Relaxed: owner_pid is informational; the kernel's creds are the check. */
		pid_t owner = (pid_t)atomic_load_explicit(&c->owner_pid, memory_order_relaxed);
		if (!cred_ok(e->conn, owner))
			r = -EPERM;
	}
	if (r != -EINPROGRESS) {
		close(e->conn);
		e->conn = -1;
	}
	return r;
}

/*
 * Whether fd is an eventfd that a write cannot block on: non-blocking, read-write, and on the
 * anonymous inode that every eventfd shares (as other anonymous files do, whose writes only
 * fail). A pipe or a socket, whose write could block the ringer or raise SIGPIPE in it, has an
 * inode of its own. Should a kernel give each eventfd its own inode, every answer is refused
 * and ringers fall back: slower, never wrong.
 */
static bool efd_usable(int fd)
{
	struct stat st, ref;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDWR || !(fl & O_NONBLOCK) || fstat(fd, &st) < 0)
		return false;
	int probe = eventfd(0, EFD_CLOEXEC);
	if (probe < 0)
		return false;
	bool same = fstat(probe, &ref) == 0 && st.st_dev == ref.st_dev && st.st_ino == ref.st_ino &&
		    st.st_mode == ref.st_mode;
	close(probe);
	return same;
}

/*
 * Take the answer to our request in flight, if it came: 0 with the fd installed in e,
 * -EINPROGRESS while none came, -EPROTO for anything but one byte with exactly one usable fd.
 * Whatever the answer carried is closed unless it is kept: a same-uid peer may answer with
 * many descriptors, and room for EFD_ANSWER_FDS of them lets us see (and close) a few extra;
 * the kernel discards what does not fit and says so with MSG_CTRUNC.
 */
#define EFD_ANSWER_FDS 4
static int efd_answer(uint32_t gen, struct ipcc_efd_peer *e)
{
	char byte = 0;
	union {
		char buf[CMSG_SPACE(EFD_ANSWER_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	ssize_t n = recvmsg(e->conn, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -EINPROGRESS;
	close(e->conn);
	e->conn = -1;
	int fd = -1;
	unsigned count = n < 0 ? 0 : ipcc_fds_take(&mh, &fd);
	if (n != 1 || byte != 'E' || count != 1 || (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) ||
	    !efd_usable(fd)) {
		if (fd >= 0)
			close(fd);
		return -EPROTO;
	}
	/* Relaxed: e->fd is only changed under e->lock, which we hold. */
	int old = atomic_load_explicit(&e->fd, memory_order_relaxed);
	if (old >= 0) {
		/* Same number, new file: a concurrent writer never hits an unrelated fd. */
		dup3(fd, old, O_CLOEXEC);
		close(fd);
		fd = old;
	}
	/* Release: pairs with the acquire loads in ipcc_bell_eventfd_ring. */
	atomic_store_explicit(&e->gen, gen, memory_order_release);
	atomic_store_explicit(&e->fd, fd, memory_order_release);
	return 0;
}

/* Try to obtain target's eventfd into e (called with e->lock held). */
static int efd_fetch(struct ipcc_system *sys, unsigned target, uint32_t gen,
		     struct ipcc_efd_peer *e)
{
	if (e->conn < 0)
		return efd_connect(sys, target, gen, e);
	return efd_answer(gen, e);
}

int ipcc_bell_eventfd_ring(struct ipcc_system *sys, unsigned target)
{
	struct ipcc_efd_peer *e =
		&((struct ipcc_bell_sys *)sys->layer[IPCC_LAYER_BELL])->peer[target];
	/* Acquire: pairs with the generation release in lib/region/cpu.c:ipcc_cpu_claim. */
	uint32_t gen =
		atomic_load_explicit(&ipcc_shm_cpu(sys, target)->generation, memory_order_acquire);
	/* Acquire: pairs with the release stores in efd_fetch. */
	int fd = atomic_load_explicit(&e->fd, memory_order_acquire);
	if (fd >= 0 && atomic_load_explicit(&e->gen, memory_order_acquire) == gen) {
		ipcc_bell_efd_signal(fd);
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
		ipcc_bell_efd_signal(atomic_load_explicit(&e->fd, memory_order_relaxed));
	pthread_mutex_unlock(&e->lock);
	return r;
}
