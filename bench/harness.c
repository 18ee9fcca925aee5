/* SPDX-License-Identifier: MIT */
/*
 * Fork, pin, calibrate, sample and collect for one benchmark row, plus the histogram.
 *
 * Process layout of a row: the parent (unpinned, asleep in waitpid) forks side A and side B.
 * The children talk to each other only through the transport's state and to the parent only
 * through a shared control block (struct bench_ctl) and the shared sample array. The parent
 * never spins, so it does not steal time from the pinned CPUs.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "harness.h"

/* Unrecorded exchanges before each measured chunk, so wake-up from the barrier is not sampled. */
#define REWARM_ITERATIONS 32
/* First warm-up chunk; chunks double until the warm-up time or count is reached. */
#define FIRST_CHUNK 16
/* Length of a measured chunk: an eighth of the budget, at least MIN_CHUNK_NS. */
#define MIN_CHUNK_NS 5000000ull
/* ... or this with --iterations, where there is no budget. */
#define ITER_CHUNK_NS 50000000ull
/* Barrier polls before sleeping on the futex (a few tens of microseconds). */
#define BARRIER_SPINS 20000

_Static_assert(__atomic_always_lock_free(sizeof(uint32_t), 0),
	       "cross-process atomics need lock-free (address-free) 32-bit atomics");

/*
 * Shared between the parent and both children of a row. The plain fields are written by one
 * child and read by the other only on opposite sides of a ctl_barrier(), whose release/acquire
 * pair orders them; the parent reads them after waitpid().
 */
struct bench_ctl {
	_Alignas(BENCH_CACHELINE) _Atomic uint32_t bar_arrived;
	_Atomic uint32_t bar_gen; /* futex word */

	_Alignas(BENCH_CACHELINE) uint64_t next_chunk; /* A's decision: 0 ends the row */
	uint32_t phase;				       /* A's decision: enum phase of next chunk */
	uint64_t n;				       /* measured iterations so far */
	uint64_t t_start;			       /* A, just before its part of a chunk */
	uint64_t t_end;				       /* B, just after its part of a chunk */
	uint64_t stream_ns;			       /* stream: sum of t_end - t_start */
	uint64_t clamped[BENCH_NR_SIDES];
	char err[BENCH_NR_SIDES][256];
};

struct row {
	const struct bench_config *cfg;
	const struct bench_transport *t;
	enum bench_pattern p;
	size_t size;
	void *state;
	struct bench_ctl *ctl;
	uint64_t *samples;
	pid_t parent;
};

int bench_fail(struct bench_side *s, const char *fmt, ...)
{
	va_list ap;

	if (s->err && s->err_len) {
		va_start(ap, fmt);
		vsnprintf(s->err, s->err_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int bench_word_run(struct bench_side *s, uint64_t n, const struct bench_word_ops *ops)
{
	bool a = s->role == BENCH_SIDE_A;
	uint64_t i, t0, v;

	for (i = 0; i < n; i++) {
		if (s->pattern == BENCH_HALF_DUPLEX && a) {
			t0 = bench_now_ns();
			if (ops->put(s, 1) || ops->get(s, &v))
				return -1;
			bench_sample(s, i, t0, bench_now_ns());
		} else if (s->pattern == BENCH_HALF_DUPLEX) {
			if (ops->get(s, &v) || ops->put(s, 1))
				return -1;
		} else if (a) {
			/* The ack comes before the next put, so the peer reads exactly the stamp. */
			if (ops->put(s, bench_now_ns()) || ops->get(s, &v))
				return -1;
		} else {
			if (ops->get(s, &t0))
				return -1;
			bench_sample(s, i, t0, bench_now_ns());
			if (ops->put(s, 1))
				return -1;
		}
	}
	return 0;
}

int bench_futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
	/* Not FUTEX_PRIVATE_FLAG: the waker is another process mapping the same page. */
	if (syscall(SYS_futex, (void *)word, FUTEX_WAIT, expected, NULL, NULL, 0) == 0)
		return 0;
	/* EAGAIN: the word already changed; EINTR: a signal. Both mean "look again". */
	if (errno == EAGAIN || errno == EINTR)
		return 0;
	return -errno;
}

int bench_futex_wake(_Atomic uint32_t *word, int nr)
{
	if (syscall(SYS_futex, (void *)word, FUTEX_WAKE, nr, NULL, NULL, 0) < 0)
		return -errno;
	return 0;
}

void *bench_shared_alloc(size_t len)
{
	void *p;

	/* NORESERVE: sample arrays are sized for the cap but only the used part gets touched. */
	p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void bench_shared_free(void *p, size_t len)
{
	if (p)
		munmap(p, len ? len : 1);
}

const char *bench_pattern_name(enum bench_pattern p)
{
	switch (p) {
	case BENCH_SIMPLEX:
		return "simplex";
	case BENCH_HALF_DUPLEX:
		return "half-duplex";
	case BENCH_STREAM:
		return "stream";
	case BENCH_MESH:
		return "mesh";
	default:
		return "?";
	}
}

const char *bench_baseline_by_wait(const struct bench_transport *t, enum bench_pattern p,
				   size_t size)
{
	(void)size;
	if (p == BENCH_MESH)
		return NULL;
	if (p == BENCH_STREAM)
		return "pipe";
	if (!t->wait)
		return NULL;
	/*
	 * Adaptive waiting spins first, so in a ping-pong it should approach the spin floor: the
	 * two-line one, since an exchange moves a slot and a status word.
	 */
	if (!strcmp(t->wait, "spin") || !strcmp(t->wait, "adaptive"))
		return "spin-2line";
	if (!strcmp(t->wait, "futex"))
		return "raw-futex";
	if (!strcmp(t->wait, "eventfd"))
		return "eventfd-epoll";
	if (!strcmp(t->wait, "uring") || !strcmp(t->wait, "io_uring"))
		return "eventfd-uring";
	return NULL;
}

const char *bench_baseline2_by_wait(const struct bench_transport *t, enum bench_pattern p,
				    size_t size)
{
	(void)size;
	if (p == BENCH_STREAM || p == BENCH_MESH || !t->wait)
		return NULL;
	if (!strcmp(t->wait, "spin") || !strcmp(t->wait, "adaptive"))
		return "raw-spin";
	if (!strcmp(t->wait, "eventfd"))
		return "eventfd";
	if (!strcmp(t->wait, "uring") || !strcmp(t->wait, "io_uring"))
		return "io_uring";
	return NULL;
}

/* ---- histogram ---- */

static unsigned int hist_index(uint64_t v)
{
	unsigned int e, shift;

	if (v < BENCH_HIST_SUB)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);
	shift = e - BENCH_HIST_SUB_BITS;
	return ((e - BENCH_HIST_SUB_BITS + 1) << BENCH_HIST_SUB_BITS) |
	       (unsigned int)((v >> shift) & (BENCH_HIST_SUB - 1));
}

uint64_t bench_hist_bucket_low(unsigned int idx)
{
	unsigned int octave, e;

	if (idx < BENCH_HIST_SUB)
		return idx;
	octave = idx >> BENCH_HIST_SUB_BITS;
	e = octave + BENCH_HIST_SUB_BITS - 1;
	return (uint64_t)(BENCH_HIST_SUB + (idx & (BENCH_HIST_SUB - 1)))
	       << (e - BENCH_HIST_SUB_BITS);
}

uint64_t bench_hist_bucket_high(unsigned int idx)
{
	unsigned int e;

	if (idx < BENCH_HIST_SUB)
		return idx;
	e = (idx >> BENCH_HIST_SUB_BITS) + BENCH_HIST_SUB_BITS - 1;
	return bench_hist_bucket_low(idx) + ((uint64_t)1 << (e - BENCH_HIST_SUB_BITS)) - 1;
}

void bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->bucket[hist_index(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t rank, cum = 0, lo, hi, mid;
	double want;
	unsigned int i;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* The smallest value with at least ceil(q * count) samples at or below it. */
	want = q * (double)h->count;
	rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (!rank)
		rank = 1;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		cum += h->bucket[i];
		if (cum < rank)
			continue;
		lo = bench_hist_bucket_low(i);
		hi = bench_hist_bucket_high(i);
		mid = lo + (hi - lo) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max;
}

/* ---- the two children ---- */

static void ctl_barrier(struct bench_ctl *c)
{
	uint32_t gen;
	unsigned int spins = 0;

	/*
	 * Read the generation before arriving: once both have arrived it may move on.
	 * acquire: pairs with the release store of bar_gen that ended the previous barrier.
	 */
	gen = atomic_load_explicit(&c->bar_gen, memory_order_acquire);
	/*
	 * acq_rel: the last arriver acquires what the first one wrote before arriving (the release
	 * half of the first one's increment) and passes it on, with its own writes, through the
	 * release store of bar_gen below.
	 */
	if (atomic_fetch_add_explicit(&c->bar_arrived, 1, memory_order_acq_rel) ==
	    BENCH_NR_SIDES - 1) {
		/*
		 * relaxed: the waiter's next increment happens after it acquires the bar_gen store
		 * below, which is sequenced after this reset.
		 */
		atomic_store_explicit(&c->bar_arrived, 0, memory_order_relaxed);
		/* release: pairs with the acquire loads of bar_gen in the waiting loop below. */
		atomic_store_explicit(&c->bar_gen, gen + 1, memory_order_release);
		bench_futex_wake(&c->bar_gen, INT_MAX);
		return;
	}
	/* acquire: pairs with the release store of bar_gen by the last arriver. */
	while (atomic_load_explicit(&c->bar_gen, memory_order_acquire) == gen) {
		if (spins < BARRIER_SPINS) {
			spins++;
			bench_cpu_relax();
			continue;
		}
		/* Fails only for a bad word (a harness bug); the parent reports the exit. */
		if (bench_futex_wait(&c->bar_gen, gen) < 0)
			_exit(3);
	}
}

static bool records(enum bench_pattern p, enum bench_role role)
{
	return (p == BENCH_HALF_DUPLEX && role == BENCH_SIDE_A) ||
	       (p == BENCH_SIMPLEX && role == BENCH_SIDE_B);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

enum phase {
	PHASE_WARMUP,
	PHASE_MEASURE,
};

/* Side A's bookkeeping across chunks. */
struct pace {
	uint64_t warm_done; /* warm-up iterations so far */
	uint64_t warm_ns;   /* warm-up time so far */
	uint64_t meas_ns;   /* measured time so far */
};

/* About how many iterations take @ns, at the rate of @chunk iterations per @el ns. */
static uint64_t iters_for(uint64_t ns, uint64_t chunk, uint64_t el)
{
	double v = (double)ns * (double)chunk / (double)el;

	if (v < 1)
		return 1;
	if (v > 1e15)
		return (uint64_t)1e15;
	return (uint64_t)v;
}

/*
 * Side A, between the two barriers after each chunk of @chunk iterations that took @el ns:
 * publish the next phase and chunk size (0: the row is done) and the measured count so far.
 */
static void decide(const struct row *rw, struct pace *pc, enum phase ph, uint64_t chunk,
		   uint64_t el)
{
	const struct bench_config *cfg = rw->cfg;
	struct bench_ctl *c = rw->ctl;
	uint64_t cap, chunk_ns, left, next;

	if (!el)
		el = 1;
	c->next_chunk = 0;
	if (cfg->iterations)
		cap = cfg->iterations;
	else
		cap = rw->p == BENCH_STREAM ? (uint64_t)1 << 40 : cfg->max_samples;
	/*
	 * The measured run is cut into chunks so that it ends on time whatever the warm-up rate
	 * said: a rate that changes after the warm-up only costs one short extra chunk.
	 */
	chunk_ns = cfg->iterations ? ITER_CHUNK_NS : cfg->budget_ns / 8;
	if (chunk_ns < MIN_CHUNK_NS)
		chunk_ns = MIN_CHUNK_NS;

	/*
	 * Rates are cumulative (all warm-up, all measured chunks so far), never from the last
	 * chunk alone: a short chunk that happened to avoid every sleep would otherwise predict
	 * a rate the transport cannot keep, and the next chunk would run far over time.
	 */
	if (ph == PHASE_WARMUP) {
		pc->warm_done += chunk;
		pc->warm_ns += el;
		if (cfg->warmup_set ? pc->warm_done < cfg->warmup : pc->warm_ns < cfg->warmup_ns) {
			next = chunk * 2;
			if (cfg->warmup_set)
				next = min_u64(next, cfg->warmup - pc->warm_done);
			else
				next = min_u64(next, iters_for(cfg->warmup_ns - pc->warm_ns,
							       pc->warm_done, pc->warm_ns));
			c->phase = PHASE_WARMUP;
			c->next_chunk = next;
			return;
		}
		/* The warm-up average includes the cold start, so this errs on the short side. */
		c->phase = PHASE_MEASURE;
		c->next_chunk = min_u64(iters_for(chunk_ns, pc->warm_done, pc->warm_ns), cap);
		return;
	}

	c->n += chunk;
	pc->meas_ns += el;
	if (rw->p == BENCH_STREAM && c->t_end > c->t_start)
		c->stream_ns += c->t_end - c->t_start;
	if (c->n >= cap)
		return;
	if (cfg->iterations) {
		left = cap - c->n;
	} else if (pc->meas_ns < cfg->budget_ns) {
		left = min_u64(cap - c->n,
			       iters_for(cfg->budget_ns - pc->meas_ns, c->n, pc->meas_ns));
	} else if (c->n < cfg->min_iterations) {
		left = min_u64(cap, cfg->min_iterations) - c->n;
	} else {
		return;
	}
	/* At most double per chunk, so a rate that drops mid-row costs at most one chunk. */
	next = min_u64(iters_for(chunk_ns, c->n, pc->meas_ns), chunk * 2);
	c->phase = PHASE_MEASURE;
	c->next_chunk = min_u64(left, next);
}

static void __attribute__((noreturn)) child_main(const struct row *rw, enum bench_role role)
{
	const struct bench_config *cfg = rw->cfg;
	const struct bench_transport *t = rw->t;
	struct bench_ctl *c = rw->ctl;
	bench_run_fn *run = t->run[rw->p][role];
	struct bench_side s = {
		.t = t,
		.state = rw->state,
		.size = rw->size,
		.pattern = rw->p,
		.role = role,
		.err = c->err[role],
		.err_len = sizeof(c->err[role]),
	};
	bool warm = !(cfg->warmup_set && cfg->warmup == 0 && cfg->iterations);
	bool rec = records(rw->p, role);
	struct pace pc = { 0 };
	uint64_t chunk, done = 0, t0 = 0;
	enum phase ph;
	size_t buf_len;
	cpu_set_t set;

	/* The parent's stop handler is for the parent: a Ctrl-C ends a side at once. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* If the parent dies, so do we; check for the race where it died before the prctl. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != rw->parent)
		_exit(4);

	if (cfg->cpu[role] >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cfg->cpu[role], &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			bench_fail(&s, "cannot pin to CPU %d: %s", cfg->cpu[role], strerror(errno));
			_exit(1);
		}
	}

	/* Allocated after pinning so the pages come from the local node. */
	buf_len = (rw->size + BENCH_CACHELINE - 1) / BENCH_CACHELINE * BENCH_CACHELINE;
	s.buf = aligned_alloc(BENCH_CACHELINE, buf_len);
	if (!s.buf) {
		bench_fail(&s, "out of memory");
		_exit(1);
	}
	memset(s.buf, 0xa5, buf_len);

	if (t->attach && t->attach(&s))
		_exit(1);
	/* Neither side sends before the other has attached. */
	ctl_barrier(c);

	if (warm) {
		ph = PHASE_WARMUP;
		chunk = cfg->warmup_set ? min_u64(FIRST_CHUNK, cfg->warmup ? cfg->warmup : 1)
					: FIRST_CHUNK;
	} else {
		ph = PHASE_MEASURE;
		chunk = min_u64(FIRST_CHUNK, cfg->iterations);
	}
	for (;;) {
		if (ph == PHASE_MEASURE) {
			/* Fault this chunk's sample pages in now, not inside the timed loop. */
			if (rec)
				memset(rw->samples + done, 0, chunk * sizeof(uint64_t));
			ctl_barrier(c);
			/* Unrecorded: absorbs the peer's wake-up from the barrier. */
			if (warm && run(&s, REWARM_ITERATIONS))
				_exit(1);
			s.samples = rec ? rw->samples + done : NULL;
		}
		if (role == BENCH_SIDE_A) {
			t0 = bench_now_ns();
			c->t_start = t0;
		}
		if (run(&s, chunk))
			_exit(1);
		if (role == BENCH_SIDE_B)
			c->t_end = bench_now_ns();
		s.samples = NULL;
		ctl_barrier(c); /* both finished the chunk */
		if (role == BENCH_SIDE_A)
			decide(rw, &pc, ph, chunk, bench_now_ns() - t0);
		ctl_barrier(c); /* the decision is published */
		if (ph == PHASE_MEASURE)
			done += chunk;
		chunk = c->next_chunk;
		ph = (enum phase)c->phase;
		if (!chunk)
			break;
	}
	c->clamped[role] = s.clamped;

	if (t->detach)
		t->detach(&s);
	_exit(0);
}

/* ---- the parent ---- */

static volatile pid_t watch_pid[BENCH_MESH_MAX];
static volatile sig_atomic_t watchdog_fired;
static volatile sig_atomic_t stop_signal;

static void kill_watched(void)
{
	int i;

	for (i = 0; i < BENCH_MESH_MAX; i++)
		if (watch_pid[i] > 0)
			kill(watch_pid[i], SIGKILL);
}

static void on_stop(int sig)
{
	stop_signal = sig;
	/* Killing from the handler avoids the check-then-waitpid race of a flag alone. */
	kill_watched();
}

void bench_catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	/* No SA_RESTART: waitpid must return so that the row ends at once. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int bench_stop_signal(void)
{
	return stop_signal;
}

static void on_alarm(int sig)
{
	(void)sig;
	watchdog_fired = 1;
	kill_watched();
}

static void describe_exit(char *buf, size_t len, int i, int n, int st, const char *err)
{
	char who[32];

	if (n == BENCH_NR_SIDES)
		snprintf(who, sizeof(who), "side %c", i == BENCH_SIDE_A ? 'A' : 'B');
	else
		snprintf(who, sizeof(who), "process %d", i);
	if (err[0])
		snprintf(buf, len, "%s: %s", who, err);
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "%s killed by signal %d (%s)", who, WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "%s exited with status %d", who, WEXITSTATUS(st));
}

/* Reap the children; on the first failure kill the others. Returns 0 if all exited 0. */
static int wait_some(pid_t *pid, int n, unsigned int timeout_s,
		     const char *(*err_of)(int i, void *arg), void *arg, char *note,
		     size_t note_len)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	int live = 0, failed = 0, st, i;
	pid_t p;

	for (i = 0; i < n; i++) {
		watch_pid[i] = pid[i];
		live += pid[i] > 0;
	}
	watchdog_fired = 0;
	/* A stop signal that came before watch_pid was set killed nobody. */
	if (stop_signal)
		kill_watched();
	/* No SA_RESTART: the alarm has to interrupt waitpid. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	alarm(timeout_s);

	while (live) {
		p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n && pid[i] != p; i++)
			;
		if (i == n)
			continue;
		watch_pid[i] = 0;
		pid[i] = 0;
		live--;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			continue;
		if (!failed && !watchdog_fired)
			describe_exit(note, note_len, i, n, st, err_of(i, arg));
		failed = 1;
		/* The survivors may be blocked waiting for the dead one forever. */
		for (i = 0; i < n; i++)
			if (pid[i] > 0)
				kill(pid[i], SIGKILL);
	}
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	if (stop_signal) {
		snprintf(note, note_len, "stopped by %s", strsignal(stop_signal));
		failed = 1;
	} else if (watchdog_fired) {
		snprintf(note, note_len, "timed out after %u s (watchdog killed %s)", timeout_s,
			 n == BENCH_NR_SIDES ? "both sides" : "every process");
		failed = 1;
	}
	return failed ? -1 : 0;
}

static const char *row_err(int i, void *arg)
{
	return ((const struct row *)arg)->ctl->err[i];
}

static int wait_children(const struct row *rw, pid_t pid[BENCH_NR_SIDES], char *note,
			 size_t note_len)
{
	return wait_some(pid, BENCH_NR_SIDES, rw->cfg->timeout_s, row_err, (void *)rw, note,
			 note_len);
}

static const char *mesh_err(int i, void *arg)
{
	return ((char(*)[160])arg)[i];
}

int bench_wait_children(pid_t *pid, int n, unsigned int timeout_s, char (*err)[160], char *note,
			size_t note_len)
{
	return wait_some(pid, n, timeout_s, mesh_err, err, note, note_len);
}

static void collect(const struct row *rw, struct bench_result *r)
{
	struct bench_ctl *c = rw->ctl;
	struct bench_hist *h;
	uint64_t i, el;

	r->iterations = c->n;
	r->clamped = c->clamped[BENCH_SIDE_A] + c->clamped[BENCH_SIDE_B];
	if (rw->p == BENCH_STREAM) {
		el = c->stream_ns ? c->stream_ns : 1;
		r->msgs_per_s = (double)c->n * 1e9 / (double)el;
		return;
	}
	h = malloc(sizeof(*h));
	if (!h) {
		r->status = BENCH_FAILED;
		snprintf(r->note, sizeof(r->note), "out of memory for the histogram");
		return;
	}
	bench_hist_init(h);
	for (i = 0; i < c->n; i++)
		bench_hist_add(h, rw->samples[i]);
	bench_result_set_hist(r, h);
}

void bench_result_set_hist(struct bench_result *r, struct bench_hist *h)
{
	r->hist = h;
	r->st.min = h->min;
	r->st.p50 = bench_hist_quantile(h, 0.50);
	r->st.p90 = bench_hist_quantile(h, 0.90);
	r->st.p99 = bench_hist_quantile(h, 0.99);
	r->st.p999 = bench_hist_quantile(h, 0.999);
	r->st.max = h->max;
	r->st.mean = h->count ? h->sum / (double)h->count : 0;
}

enum bench_status bench_run_row(const struct bench_config *cfg, const struct bench_transport *t,
				enum bench_pattern p, size_t size, struct bench_result *r)
{
	struct row rw = { .cfg = cfg, .t = t, .p = p, .size = size, .parent = getpid() };
	pid_t pid[BENCH_NR_SIDES] = { 0, 0 };
	size_t samples_len = 0;
	int i, ret, fork_errno = 0;

	memset(r, 0, sizeof(*r));
	r->t = t;
	r->pattern = p;
	r->size = size;
	r->ratio = r->ratio2 = NAN;
	r->spread_pct = r->spread_p99_pct = NAN;
	r->status = BENCH_FAILED;
	if (stop_signal) {
		r->status = BENCH_STOPPED;
		return r->status;
	}

	if (t->setup(&rw.state, size, p, r->note, sizeof(r->note))) {
		/* A stop signal may have interrupted a system call of the setup. */
		if (stop_signal)
			r->status = BENCH_STOPPED;
		if (!r->note[0])
			snprintf(r->note, sizeof(r->note), "setup failed");
		return r->status;
	}
	rw.ctl = bench_shared_alloc(sizeof(*rw.ctl));
	if (p != BENCH_STREAM) {
		samples_len =
			(cfg->iterations ? cfg->iterations : cfg->max_samples) * sizeof(uint64_t);
		rw.samples = bench_shared_alloc(samples_len);
	}
	if (!rw.ctl || (p != BENCH_STREAM && !rw.samples)) {
		snprintf(r->note, sizeof(r->note), "cannot map shared memory: %s", strerror(errno));
		goto out;
	}
	if (stop_signal)
		goto out;
	/* Otherwise buffered output would be written once per child as well. */
	fflush(NULL);
	for (i = 0; i < BENCH_NR_SIDES; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			child_main(&rw, (enum bench_role)i);
		if (pid[i] < 0) {
			fork_errno = errno;
			pid[i] = 0;
			if (i)
				kill(pid[0], SIGKILL);
			break;
		}
	}
	ret = wait_children(&rw, pid, r->note, sizeof(r->note));
	if (stop_signal) {
		r->status = BENCH_STOPPED;
	} else if (fork_errno) {
		snprintf(r->note, sizeof(r->note), "fork: %s", strerror(fork_errno));
	} else if (ret == 0) {
		r->status = BENCH_OK;
		collect(&rw, r);
	}
out:
	if (stop_signal)
		r->status = BENCH_STOPPED;
	t->teardown(rw.state);
	bench_shared_free(rw.samples, samples_len);
	bench_shared_free(rw.ctl, sizeof(*rw.ctl));
	return r->status;
}

void bench_result_free(struct bench_result *r)
{
	free(r->hist);
	r->hist = NULL;
}
