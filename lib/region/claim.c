/* SPDX-License-Identifier: MIT */
/*
 * Who owns a CPU, held by the kernel instead of the shared object.
 *
 * A claim is an open-file-description lock: the attaching process opens a new description of
 * the object (claim_open) and takes a write lock (F_OFD_SETLK) on byte IPCC_CLAIM_LOCK_OFFSET +
 * cpu id, beyond the end of any object. Locks of different descriptions conflict even inside one
 * process, so a CPU has one owner process; the kernel drops the lock when the description is
 * closed (detach) or when the process ends, kill -9 included. The shared object is never
 * consulted for the decision: a peer that writes garbage into it can forge the informational
 * record (lib/region/cpu.c) but cannot take, keep or corrupt a claim, and no pointer or
 * glibc-interpreted structure lives in the object any more.
 *
 * Descriptions are shared across fork(): a child that kept the parent's claim description
 * would keep the CPU claimed after the parent detached or died. A pthread_atfork child handler
 * therefore closes, in the child, every claim and reaper description of every handle (the child
 * owns none of the parent's CPUs; its inherited handles see their claims as not owned, and every
 * operation through an inherited CPU handle fails with -ESTALE: ipcc_forks). Claims are
 * opened and recorded under the handle's lock, which the prepare handler takes, so no fork sees a
 * description that is open but not yet recorded. A process created by a raw clone() without
 * the atfork handlers, which keeps the descriptions, keeps the claims until it exits or execs
 * (every fd is O_CLOEXEC).
 *
 * Peer death without polling: a reaper is a thread of this process blocked in F_OFD_SETLKW for a
 * read lock on the peer's byte. The kernel grants it once no write lock is left: the peer
 * detached or died. The reaper drops the lock at once, bumps the peer's epoch and wakes the
 * sleepers of this handle's CPUs linked to that peer (ipcc_layers_wake_sleepers, answered by lib/bell), so their waits wake and see the epoch
 * move (lib/irq/watch.c). Reapers start lazily (ipcc_claim_watch), at most one per watched peer
 * per handle, on a small stack, and exit after reporting; the epoch and the `running` flag are
 * one atomic word (ipcc_reaper.state), changed under the handle's lock, so a watcher that reads
 * the epoch and finds a reaper running in the same load is covered by that reaper, and the
 * common watch (a reaper runs already) takes no lock. ipcc_system_close cancels the reapers still blocked (fcntl with
 * F_OFD_SETLKW is a cancellation point; cancellation is enabled only around that call) and joins
 * them.
 *
 * A reaper holds its read lock for a moment: an attacher whose F_OFD_SETLK fails because of a
 * read lock retries briefly (claim_lock). A process that holds a read lock for good (a hostile
 * participant, or one stopped with SIGSTOP in that moment) makes attaches of that CPU fail with
 * -EBUSY until it ends: like a live owner, it is reclaimed by ending that process.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define REAPER_RUNNING 1u /* ipcc_reaper.state */

/* One watched peer of a handle. Fields other than state: under claims->lock. */
struct ipcc_reaper {
	struct ipcc_claims *claims;
	unsigned peer;
	int fd; /* the handle's watch description, for the thread */
	/*
	 * epoch << 1 | running. epoch: releases of the peer seen by this handle's reapers;
	 * running (REAPER_RUNNING): a thread is waiting (or about to) and has not reported.
	 * Written under claims->lock only, read without it: one word, so that one load sees
	 * an epoch together with the reaper that will bump it (ipcc_claim_watch).
	 */
	_Atomic uint32_t state;
	bool joinable; /* a thread was started and nobody joined it yet */
	pthread_t thread;
};

struct ipcc_claims {
	struct ipcc_system *sys;
	pthread_mutex_t lock;	     /* process-local; taken by the atfork prepare handler */
	int watch_fd;		     /* the reapers' description, -1 until the first reaper */
	int claim_fd[IPCC_CPUS_MAX]; /* this handle's claim description per CPU, or -1 */
	struct ipcc_claims *next;    /* registry, under registry_lock */
	struct ipcc_reaper reaper[IPCC_CPUS_MAX];
};

/* Every live handle of the process, for the atfork handlers. Lock order: registry, claims. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ipcc_claims *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
unsigned ipcc_forks;

/* Reaper stacks: a lock wait, a mutex and a doorbell ring. */
#define REAPER_STACK (128u * 1024u)
/*
 * An attacher that meets a reaper's momentary read lock retries this far apart, for at most
 * this long: the reaper is a thread that must be scheduled to let go, which on a loaded
 * machine can take more than a few milliseconds (seen: a 10 ms bound lost a slot under load).
 */
#define CLAIM_RETRY_NS	   50000L
#define CLAIM_RETRY_MAX_NS 250000000L

static struct flock lock_byte(short type, unsigned id)
{
	/* l_pid must be 0 for the OFD commands. */
	return (struct flock){ .l_type = type,
			       .l_whence = SEEK_SET,
			       .l_start = (off_t)(IPCC_CLAIM_LOCK_OFFSET + id),
			       .l_len = 1 };
}

/* The type of a lock of another description that conflicts with `type` on id's byte. */
static int lock_probe(int fd, unsigned id, short type, short *ret_type)
{
	struct flock fl = lock_byte(type, id);
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	*ret_type = fl.l_type; /* F_UNLCK: none */
	return 0;
}

/*
 * A new description of the handle's object. Through /proc/self/fd, which reaches the same
 * inode even after an unlink (and the only way into an anonymous one, a memfd); without /proc,
 * through the name, checked to be the same inode.
 */
static int claim_open(struct ipcc_system *sys, int flags)
{
	char path[32];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", sys->fd);
	int fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	/*
	 * An anonymous object has no other way in: a dup() shares the description (and its
	 * locks), so it cannot hold a claim of its own. Without /proc it cannot be attached.
	 */
	if (!sys->name[0])
		return -ENOENT;
	fd = shm_open(sys->name, flags | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &a) < 0 || fstat(sys->fd, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		close(fd);
		return -ESTALE; /* the name now is another object */
	}
	return fd;
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (struct ipcc_claims *c = registry; c; c = c->next)
		pthread_mutex_lock(&c->lock);
}

static void atfork_parent(void)
{
	for (struct ipcc_claims *c = registry; c; c = c->next)
		pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&registry_lock);
}

/* The child owns none of the parent's claims, and none of its reaper threads came along. */
static void atfork_child(void)
{
	ipcc_forks++; /* every inherited CPU handle is stale from now on (ipcc_cpu_stale) */
	for (struct ipcc_claims *c = registry; c; c = c->next) {
		for (unsigned i = 0; i < IPCC_CPUS_MAX; i++) {
			if (c->claim_fd[i] >= 0)
				close(c->claim_fd[i]);
			c->claim_fd[i] = -1;
			/* Relaxed: the child has this one thread. */
			atomic_fetch_and_explicit(&c->reaper[i].state, ~REAPER_RUNNING,
						  memory_order_relaxed);
			c->reaper[i].joinable = false;
		}
		if (c->watch_fd >= 0)
			close(c->watch_fd);
		c->watch_fd = -1;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

static void atfork_install(void)
{
	/* Fails only for lack of memory; then forks keep claims (see the file comment). */
	(void)pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int ipcc_claims_new(struct ipcc_system *sys)
{
	struct ipcc_claims *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_once(&atfork_once, atfork_install);
	c->sys = sys;
	c->watch_fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++) {
		c->claim_fd[i] = -1;
		c->reaper[i].claims = c;
		c->reaper[i].peer = i;
		c->reaper[i].fd = -1;
		atomic_init(&c->reaper[i].state, 0);
	}
	pthread_mutex_lock(&registry_lock);
	c->next = registry;
	registry = c;
	pthread_mutex_unlock(&registry_lock);
	sys->claims = c;
	return 0;
}

void ipcc_claims_free(struct ipcc_system *sys)
{
	struct ipcc_claims *c = sys->claims;
	if (!c)
		return;
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++) {
		struct ipcc_reaper *rp = &c->reaper[i];
		pthread_mutex_lock(&c->lock);
		/* Relaxed: under the lock its writers hold. */
		bool join = rp->joinable,
		     cancel = atomic_load_explicit(&rp->state, memory_order_relaxed) &
			      REAPER_RUNNING;
		pthread_t t = rp->thread;
		rp->joinable = false;
		pthread_mutex_unlock(&c->lock);
		if (cancel)
			pthread_cancel(t); /* acts only inside its lock wait (reaper_wait) */
		if (join)
			pthread_join(t, NULL);
	}
	pthread_mutex_lock(&registry_lock);
	for (struct ipcc_claims **pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++)
		if (c->claim_fd[i] >= 0)
			close(c->claim_fd[i]);
	if (c->watch_fd >= 0)
		close(c->watch_fd);
	pthread_mutex_destroy(&c->lock);
	free(c);
	sys->claims = NULL;
}

/* Take the write lock; a read lock in the way is a reaper's probe that ends at once. */
static int claim_lock(int fd, unsigned id)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct flock fl = lock_byte(F_WRLCK, id);
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES)
			return -errno;
		short type = F_UNLCK;
		int r = lock_probe(fd, id, F_WRLCK, &type);
		if (r < 0)
			return r;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t waited =
			(int64_t)(now.tv_sec - t0.tv_sec) * 1000000000 + (now.tv_nsec - t0.tv_nsec);
		if (type == F_WRLCK || waited >= CLAIM_RETRY_MAX_NS)
			return -EBUSY;
		if (type == F_RDLCK) {
			struct timespec ts = { 0, CLAIM_RETRY_NS };
			nanosleep(&ts, NULL);
		}
	}
}

int ipcc_claim_take(struct ipcc_system *sys, unsigned id)
{
	struct ipcc_claims *c = sys->claims;
	int r;

	assert(id < sys->geo.cpus);
	/* Under the lock from open to record: a fork in between would keep the claim alive. */
	pthread_mutex_lock(&c->lock);
	if (c->claim_fd[id] >= 0) {
		r = -EBUSY;
		goto out;
	}
	int fd = claim_open(sys, O_RDWR);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = claim_lock(fd, id);
	if (r < 0)
		close(fd);
	else
		c->claim_fd[id] = fd;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}

bool ipcc_claim_owned(struct ipcc_system *sys, unsigned id)
{
	struct ipcc_claims *c = sys->claims;
	pthread_mutex_lock(&c->lock);
	bool owned = c->claim_fd[id] >= 0;
	pthread_mutex_unlock(&c->lock);
	return owned;
}

void ipcc_claim_drop(struct ipcc_system *sys, unsigned id)
{
	struct ipcc_claims *c = sys->claims;
	/* Close (not F_UNLCK) under the lock: no fork may inherit the description meanwhile. */
	pthread_mutex_lock(&c->lock);
	if (c->claim_fd[id] >= 0)
		close(c->claim_fd[id]);
	c->claim_fd[id] = -1;
	pthread_mutex_unlock(&c->lock);
}

int ipcc_claim_held(struct ipcc_system *sys, unsigned id)
{
	short type = F_UNLCK;
	/* The handle's own description holds no lock, so every claim conflicts with this probe,
	 * this process's included; a read probe is allowed on any description. */
	int r = lock_probe(sys->fd, id, F_RDLCK, &type);
	return r < 0 ? r : type == F_WRLCK;
}

/*
 * Block until the peer's byte has no write lock; on success our read lock is held then (the
 * caller drops it, reaper_unlock). Cancellation is enabled only here, so a cancel never
 * interrupts the mutex or the ring. Not instrumented by ASan: a cancelled frame would leave
 * its stack redzones behind for the thread's exit to trip over.
 */
__attribute__((noinline, no_sanitize_address)) static int reaper_wait(int fd, unsigned peer)
{
	struct flock fl = lock_byte(F_RDLCK, peer);
	int r, old;

	do {
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
		r = fcntl(fd, F_OFD_SETLKW, &fl);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	} while (r < 0 && errno == EINTR);
	return r;
}

static void reaper_unlock(int fd, unsigned peer)
{
	struct flock fl = lock_byte(F_UNLCK, peer);
	(void)fcntl(fd, F_OFD_SETLK, &fl);
}

/* fd, peer: rp's, read by reaper_main before it waited (reaper_start may reuse rp after the
 * `running` flag below is cleared). */
static void reaper_report(struct ipcc_reaper *rp, int fd, unsigned peer, bool locked)
{
	struct ipcc_claims *c = rp->claims;
	struct ipcc_system *sys = c->sys;

	pthread_mutex_lock(&c->lock);
	/*
	 * seq_cst: a sleeper announces itself in bell_sleepers, fences, then reads the epoch
	 * (lib/irq/wait.c:sleep_loop via lib/irq/watch.c:ipcc_watch_dead); ipcc_layers_wake_sleepers below
	 * reads bell_sleepers after this bump. Either the sleeper sees the new epoch or the ring
	 * sees the sleeper and wakes it.
	 */
	assert(atomic_load_explicit(&rp->state, memory_order_relaxed) & REAPER_RUNNING);
	/* epoch + 1 and running cleared in one RMW: (e << 1 | 1) + 1 == (e + 1) << 1. */
	atomic_fetch_add_explicit(&rp->state, 1, memory_order_seq_cst);
	pthread_mutex_unlock(&c->lock);
	/*
	 * Only now may a new owner take the claim: our read lock kept it out until the release is
	 * counted. Dropped before the bump, a new owner could attach and be watched (its peer reads
	 * the epoch while this reaper still runs) before the bump, which that watch then took
	 * for the new owner's death: -EPIPE with the peer alive (the kill -9 soak saw it).
	 */
	if (locked)
		reaper_unlock(fd, peer);

	pthread_mutex_lock(&sys->lock);
	for (unsigned id = 0; id < sys->geo.cpus; id++)
		if (sys->cpus[id] && ipcc_link_get(sys, id, peer))
			ipcc_layers_wake_sleepers(sys, id);
	pthread_mutex_unlock(&sys->lock);
}

__attribute__((no_sanitize_address)) static void *reaper_main(void *arg)
{
	struct ipcc_reaper *rp = arg;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	/* Any failure but EINTR (ENOLCK) is reported as a release: a wait that ends with
	 * -EPIPE is better than one that never learns of a death. */
	int fd = rp->fd;
	unsigned peer = rp->peer;
	int r = reaper_wait(fd, peer);
	reaper_report(rp, fd, peer, r == 0);
	return NULL;
}

/* Start rp's thread; under claims->lock. *ret_old: a finished thread for the caller to join. */
static int reaper_start(struct ipcc_claims *c, struct ipcc_reaper *rp, pthread_t *ret_old,
			bool *ret_join)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	if (c->watch_fd < 0) {
		int fd = claim_open(c->sys, O_RDONLY);
		if (fd < 0)
			return fd;
		c->watch_fd = fd;
	}
	rp->fd = c->watch_fd;
	*ret_join = rp->joinable;
	*ret_old = rp->thread;
	rp->joinable = false;

	pthread_attr_init(&attr);
	size_t stack = REAPER_STACK;
	if (stack < (size_t)PTHREAD_STACK_MIN)
		stack = (size_t)PTHREAD_STACK_MIN;
	pthread_attr_setstacksize(&attr, stack);
	/* The application's signals go to its own threads, never to a reaper. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&rp->thread, &attr, reaper_main, rp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		rp->thread = *ret_old;
		rp->joinable = *ret_join;
		*ret_join = false;
		return -ENOMEM;
	}
	/* Release: pairs with the acquire load of ipcc_claim_watch's fast path, which so sees
	 * the claim_held that found the peer's claim held before this start (and what the
	 * peer's attach published before it took the claim: lib/irq/watch.c:watch_held). */
	atomic_fetch_or_explicit(&rp->state, REAPER_RUNNING, memory_order_release);
	rp->joinable = true;
	return 0;
}

int ipcc_claim_watch(struct ipcc_system *sys, unsigned peer, uint32_t *ret_epoch)
{
	struct ipcc_claims *c = sys->claims;
	struct ipcc_reaper *rp = &c->reaper[peer];
	pthread_t old;
	bool join = false;
	int r = 1;

	assert(peer < sys->geo.cpus);
	/*
	 * A reaper runs: it bumps the epoch at the peer's next release, whatever this thread
	 * does, so the epoch it is paired with in this one load is the answer (the lock below
	 * would give the same: every write of state is made under it). Acquire: see
	 * reaper_start.
	 */
	uint32_t s = atomic_load_explicit(&rp->state, memory_order_acquire);
	if (s & REAPER_RUNNING) {
		*ret_epoch = s >> 1;
		return 1;
	}
	pthread_mutex_lock(&c->lock);
	s = atomic_load_explicit(&rp->state, memory_order_relaxed); /* under the lock */
	if (!(s & REAPER_RUNNING)) {
		/*
		 * No reaper: the peer's release so far is already counted in the epoch. If its
		 * claim is held now, a reaper started now sees its release, whenever it comes.
		 */
		r = ipcc_claim_held(sys, peer);
		if (r > 0) {
			int e = reaper_start(c, rp, &old, &join);
			if (e < 0)
				r = e;
		}
	}
	if (r > 0) /* Relaxed: every write of state is made under the lock we hold. */
		*ret_epoch = atomic_load_explicit(&rp->state, memory_order_relaxed) >> 1;
	pthread_mutex_unlock(&c->lock);
	/* Outside the lock: the finished thread may still be ringing (it takes sys->lock). */
	if (join)
		pthread_join(old, NULL);
	return r;
}

uint32_t ipcc_claim_epoch(struct ipcc_system *sys, unsigned peer)
{
	/* seq_cst: pairs with the bump in reaper_report (see there). The running bit is not
	 * part of the epoch: a reaper that starts does not end a watch. */
	return atomic_load_explicit(&sys->claims->reaper[peer].state, memory_order_seq_cst) >> 1;
}
