/* SPDX-License-Identifier: MIT */
/*
 * The queue between two real processes over a real shared-memory object: a forked producer
 * and this process as the consumer, 10^6 fixed entries, then 10^6 packets of varying length,
 * through small rings so that full and empty meet all the time, with the indices starting just
 * below 2^32. Every entry carries its number and a payload computed from it: nothing may be
 * lost, duplicated, reordered or corrupted.
 *
 * On 2 shared cores a side that sees full or empty pauses and yields (qt_wait_more). Both sides
 * stop at a deadline: the producer exits with QT_WATCHDOG_STATUS and the consumer fails the
 * test saying "watchdog", so a slow machine reads as a time bound, not as a library bug.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "queue-test.h"

#define MESSAGES    1000000u
#define DEADLINE_NS (90 * (int64_t)1000000000)
#define START	    (UINT32_MAX - 4096u + 1u) /* crosses 2^32 early in the run */

static void *shm;
static size_t shm_size;
static pid_t child = -1;
static pid_t observer = -1;
static _Atomic bool *consumed; /* a shared page: the consumer has taken every packet */

/* A real POSIX shm object, mapped shared before the fork; the name goes at once. */
static void shm_map(size_t size)
{
	char name[64];
	snprintf(name, sizeof(name), "/ipcc-queue-test-%d", (int)getpid());
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "shm_open: %s", strerror(errno));
	shm_unlink(name);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	shm = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	cr_assert_neq(shm, MAP_FAILED);
	shm_size = size;
}

static void reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = -1;
	}
}

static void teardown(void)
{
	reap(&child);
	reap(&observer);
	if (consumed)
		munmap(consumed, sizeof(*consumed));
	consumed = NULL;
	if (shm && shm != MAP_FAILED)
		munmap(shm, shm_size);
	shm = NULL;
}

TestSuite(multiproc, .fini = teardown, .timeout = 120);

static pid_t fork_peer(void (*run)(void))
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		alarm(110); /* past the deadline: only if the watchdog itself is stuck */
		run();
		_exit(0);
	}
	return pid;
}

static void wait_peer(pid_t *pid, const char *who)
{
	int status;
	cr_assert_eq(waitpid(*pid, &status, 0), *pid);
	*pid = -1;
	cr_assert(WIFEXITED(status), "%s killed by signal %d", who, WTERMSIG(status));
	cr_assert_neq(WEXITSTATUS(status), QT_WATCHDOG_STATUS,
		      "watchdog: the %s was still running after %lld s", who,
		      (long long)(DEADLINE_NS / 1000000000));
	cr_assert_eq(WEXITSTATUS(status), 0, "%s failed a check (see its stderr)", who);
}

static void wait_producer(void)
{
	wait_peer(&child, "producer");
}

/* A forked side saw full or empty: wait, or leave as the watchdog once the deadline passed. */
static void peer_wait(struct qt_wait *w, const char *who)
{
	if (!qt_wait_more(w)) {
		fprintf(stderr, "watchdog: %s stopped at the deadline\n", who);
		_exit(QT_WATCHDOG_STATUS);
	}
}

/* The consumer saw empty: wait, or fail as the watchdog once the deadline has passed. */
static void consumer_wait(struct qt_wait *w, uint64_t seq)
{
	cr_assert(qt_wait_more(w), "watchdog: consumer at message %llu of %u after %lld s",
		  (unsigned long long)seq, MESSAGES, (long long)(DEADLINE_NS / 1000000000));
}

/* ---- fixed entries --------------------------------------------------------------------------- */

#define Q_CAP 256u
struct entry {
	uint64_t seq;
	uint64_t check;
};

static void produce_entries(void)
{
	struct ipcc_queue p;
	qt_check(ipcc_queue_attach(&p, shm, shm_size, Q_CAP, sizeof(struct entry),
				   IPCC_QUEUE_PRODUCER) == 0,
		 "attach");
	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint64_t seq = 0;
	while (seq < MESSAGES) {
		int n;
		if (seq % 3) {
			/* Zero copy, in batches of up to 7. */
			void *slots;
			uint64_t want = 1 + seq % 7;
			if (want > MESSAGES - seq)
				want = MESSAGES - seq;
			n = ipcc_queue_claim(&p, (uint32_t)want, &slots);
			if (n > 0) {
				struct entry *e = slots;
				for (int i = 0; i < n; i++)
					e[i] = (struct entry){ seq + i, qt_mix(seq + i) };
				qt_check(ipcc_queue_commit(&p, (uint32_t)n) == 0, "commit");
				seq += (uint64_t)n;
			}
		} else {
			struct entry e = { seq, qt_mix(seq) };
			n = ipcc_queue_push(&p, &e);
			seq += n == 0;
		}
		qt_check(n >= 0 || n == -EAGAIN, "entry %llu: %d", (unsigned long long)seq, n);
		if (n == -EAGAIN)
			peer_wait(&w, "producer");
	}
}

Test(multiproc, a_million_entries_cross_two_processes_intact_and_in_order)
{
	cr_assert_eq(ipcc_queue_size(Q_CAP, sizeof(struct entry), &shm_size), 0);
	shm_map(shm_size);
	cr_assert_eq(ipcc_queue_init(shm, shm_size, Q_CAP, sizeof(struct entry)), 0);
	qt_set_head(shm, START);
	qt_set_tail(shm, START);
	struct ipcc_queue c;
	cr_assert_eq(ipcc_queue_attach(&c, shm, shm_size, Q_CAP, sizeof(struct entry),
				       IPCC_QUEUE_CONSUMER),
		     0);
	child = fork_peer(produce_entries);

	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint64_t seq = 0;
	while (seq < MESSAGES) {
		const void *in;
		int n = ipcc_queue_peek(&c, seq & 1 ? UINT32_MAX : 1, &in);
		if (n == -EAGAIN) {
			consumer_wait(&w, seq);
			continue;
		}
		cr_assert_gt(n, 0, "entry %llu: %s", (unsigned long long)seq, strerror(-n));
		const struct entry *e = in;
		for (int i = 0; i < n; i++, seq++) {
			struct entry got = e[i];
			cr_assert_eq(got.seq, seq, "lost, duplicated or reordered");
			cr_assert_eq(got.check, qt_mix(seq), "entry %llu corrupted",
				     (unsigned long long)seq);
		}
		cr_assert_eq(ipcc_queue_release(&c, (uint32_t)n), 0);
	}
	wait_producer();
	const void *in;
	cr_assert_eq(ipcc_queue_peek(&c, 1, &in), -EAGAIN, "nothing after the last entry");
	cr_assert_eq(qt_head(shm), START + MESSAGES);
}

/* ---- packets --------------------------------------------------------------------------------- */

#define R_BYTES 4096u

static void produce_packets(void)
{
	struct ipcc_pring p;
	qt_check(ipcc_pring_attach(&p, shm, shm_size, R_BYTES, IPCC_QUEUE_PRODUCER) == 0, "attach");
	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint32_t max = ipcc_pring_max_packet(R_BYTES);
	uint64_t seq = 0;
	while (seq < MESSAGES) {
		uint32_t len = qt_packet_len(seq, max);
		void *at;
		/* Every other packet zero copy, claimed longer than it turns out to be. */
		int e = (seq & 1) ? ipcc_pring_claim(&p, len + (len < max), &at) : -ENOSYS;
		if (e == 0) {
			qt_fill(at, len, seq);
			qt_check(ipcc_pring_commit(&p, len) == 0, "commit");
		} else if (e == -ENOSYS) {
			uint8_t buf[R_BYTES / 2];
			qt_fill(buf, len, seq);
			e = ipcc_pring_push(&p, buf, len);
		}
		qt_check(e == 0 || e == -EAGAIN, "packet %llu: %d", (unsigned long long)seq, e);
		if (e == -EAGAIN)
			peer_wait(&w, "producer");
		else
			seq++;
	}
}

/*
 * A third process reads along through a read-only mapping and is lapped all the time: every
 * record it accepts must be a whole, correct packet, and records read one after the other
 * without -ESTALE between them must be consecutive packets.
 */
static void observe_packets(void)
{
	qt_check(mprotect(shm, shm_size, PROT_READ) == 0, "mprotect");
	struct ipcc_pring_observer o;
	qt_check(ipcc_pring_observer_attach(&o, shm, shm_size, R_BYTES) == 0, "attach");
	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint32_t max = ipcc_pring_max_packet(R_BYTES);
	uint8_t buf[R_BYTES / 2];
	uint64_t next = UINT64_MAX, seen = 0, lapped = 0;
	for (;;) {
		int n = ipcc_pring_observer_read(&o, buf, sizeof(buf));
		if (n == -ESTALE) {
			next = UINT64_MAX;
			lapped++;
			continue;
		}
		if (n == -EAGAIN) {
			/* Relaxed: a stop flag; the record reads are ordered by the indices. */
			if (atomic_load_explicit(consumed, memory_order_relaxed))
				break;
			peer_wait(&w, "observer");
			continue;
		}
		qt_check(n >= 0, "observer: %d", n);
		uint64_t seq = n >= 8 ? qt_seq_of(buf) : next;
		if (seq == UINT64_MAX)
			continue; /* a short record right after a lap: nothing to tell it by */
		qt_check(next == UINT64_MAX || seq == next, "observer: packet %llu after %llu",
			 (unsigned long long)seq, (unsigned long long)next - 1);
		qt_check((uint32_t)n == qt_packet_len(seq, max) &&
				 qt_verify(buf, (size_t)n, seq) == (size_t)n,
			 "observer: packet %llu torn or corrupted", (unsigned long long)seq);
		next = seq + 1;
		seen++;
	}
	fprintf(stderr, "observer: %llu packets checked, lapped %llu times\n",
		(unsigned long long)seen, (unsigned long long)lapped);
}

Test(multiproc, a_million_packets_of_varying_length_cross_two_processes_intact)
{
	cr_assert_eq(ipcc_pring_size(R_BYTES, &shm_size), 0);
	shm_map(shm_size);
	consumed = mmap(NULL, sizeof(*consumed), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	cr_assert_neq(consumed, MAP_FAILED);
	cr_assert_eq(ipcc_pring_init(shm, shm_size, R_BYTES), 0);
	qt_set_head(shm, START);
	qt_set_tail(shm, START);
	struct ipcc_pring c;
	cr_assert_eq(ipcc_pring_attach(&c, shm, shm_size, R_BYTES, IPCC_QUEUE_CONSUMER), 0);
	observer = fork_peer(observe_packets);
	child = fork_peer(produce_packets);

	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint32_t max = ipcc_pring_max_packet(R_BYTES);
	uint64_t seq = 0, bytes = 0;
	uint8_t buf[R_BYTES / 2];
	while (seq < MESSAGES) {
		const void *in;
		int n = (seq & 1) ? ipcc_pring_peek(&c, &in) : ipcc_pring_pop(&c, buf, sizeof(buf));
		if (n == -EAGAIN) {
			consumer_wait(&w, seq);
			continue;
		}
		cr_assert_geq(n, 0, "packet %llu: %s", (unsigned long long)seq, strerror(-n));
		cr_assert_eq((uint32_t)n, qt_packet_len(seq, max), "packet %llu: wrong length",
			     (unsigned long long)seq);
		const uint8_t *at = (seq & 1) ? in : buf;
		cr_assert_eq(qt_verify(at, (size_t)n, seq), (size_t)n, "packet %llu corrupted",
			     (unsigned long long)seq);
		if (seq & 1)
			cr_assert_eq(ipcc_pring_release(&c), 0);
		bytes += (uint64_t)n;
		seq++;
	}
	wait_producer();
	/* Relaxed: a stop flag, read by the observer when it has nothing left to read. */
	atomic_store_explicit(consumed, true, memory_order_relaxed);
	wait_peer(&observer, "observer");
	const void *in;
	cr_assert_eq(ipcc_pring_peek(&c, &in), -EAGAIN, "nothing after the last packet");
	cr_assert_gt(bytes, MESSAGES, "lengths varied beyond the small ones");
}
