/* SPDX-License-Identifier: MIT */
/*
 * ipcc-bench harness: the transport ops table, the per-process side context handed to a
 * transport's run functions, and the shared fork/pin/calibrate/sample/collect machinery.
 *
 * A row is one (transport, pattern, size). For each row the harness calls setup() in the parent,
 * forks side A and side B, pins each to its CPU and calls attach() in each child. The children
 * then call the run functions for chunks of iterations, lining up at a barrier between chunks:
 * warm-up chunks of doubling size (which also measure the rate), then measured chunks until the
 * time budget or --iterations is used up. The parent collects the samples from a shared mapping.
 * Transports never fork, pin, time a run or compute statistics.
 */
#ifndef IPCC_BENCH_HARNESS_H
#define IPCC_BENCH_HARNESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define BENCH_CACHELINE 64

enum bench_pattern {
	BENCH_SIMPLEX,	   /* one-way latency, sample = t_recv - t_send, untimed ack */
	BENCH_HALF_DUPLEX, /* round trip timed by side A */
	BENCH_STREAM,	   /* A writes back-to-back, B reads whole messages; msgs/s */
	BENCH_MESH,	   /* K processes, each sending on every link (mesh.c), not a run fn */
	BENCH_NR_PATTERNS,
};

enum bench_role {
	BENCH_SIDE_A, /* initiator, sender, stream writer */
	BENCH_SIDE_B, /* responder, receiver, stream reader */
	BENCH_NR_SIDES,
};

struct bench_transport;

/*
 * What a run function sees. One per child process; it lives across all run calls of a row
 * (warm-up and measured chunks), so @counter and @priv carry state from one call to the next.
 */
struct bench_side {
	const struct bench_transport *t;
	void *state; /* what setup() returned; inherited by both children via fork */
	void *priv;  /* per-process, owned by attach()/detach() */
	size_t size; /* message size in bytes, >= 8 */
	enum bench_pattern pattern;
	enum bench_role role;
	unsigned char *buf; /* per-process message buffer of @size bytes, 64-byte aligned */
	uint64_t counter;   /* free for the transport, 0 at the first call */
	uint64_t *samples;  /* recording side, measured chunks only: this chunk's samples */
	uint64_t clamped;   /* samples with t_end < t_start, stored as 0 */
	char *err;	    /* where bench_fail() writes; shared with the parent */
	size_t err_len;
};

/*
 * Run @n iterations of the pattern from one side. Both sides are called with the same @n and
 * must return once their part of the @n exchanges is complete: for half-duplex and simplex A
 * returns after receiving the n-th reply/ack and B after sending it; for stream A returns after
 * writing n messages and B after reading them. Record sample i (0 <= i < n) with
 * bench_sample() on the recording side (A for half-duplex, B for simplex); it is a no-op while
 * warming up.
 * Return 0, or the result of bench_fail() on error.
 */
typedef int bench_run_fn(struct bench_side *s, uint64_t n);

/* bench_transport.flags */
#define BENCH_F_BASELINE      (1u << 0) /* a baseline: skipped by --no-baselines */
#define BENCH_F_NEEDS_TWO_CPU (1u << 1) /* busy-polls: meaningless with both sides on one CPU */
#define BENCH_F_MESH	      (1u << 2) /* runs the mesh pattern (mesh.c) in its wait mode */

struct bench_transport {
	const char *name; /* JSON "transport": "ipcc", "raw-spin", "pipe", ... */
	const char *wait; /* JSON "wait": "spin", "futex", "blocking", ... */
	/*
	 * Key for --modes selection ("spin", "futex", "eventfd", "uring", ...). NULL: not tied to
	 * a wait mode, runs unless filtered by --transports or --no-baselines.
	 */
	const char *mode;
	unsigned int flags;
	size_t fixed_size; /* non-zero: run once at this size, whatever --sizes says */
	/*
	 * Optional, per pattern: the sizes (0-terminated, at most 8) this pattern runs at,
	 * whatever --sizes says; before fixed_size. For a transport whose rows are defined by
	 * their payloads (rpmsg: the buffer profiles) rather than by the run's size list.
	 */
	const size_t *sizes[BENCH_NR_PATTERNS];
	size_t max_size; /* 0: no limit; larger --sizes are skipped with a note */

	/* Optional, in the parent: NULL if usable, else a static string saying why not. */
	const char *(*unavailable)(void);
	/*
	 * Optional: the name of the transport whose row at the same pattern (and size, unless the
	 * baseline has a fixed size) is this row's ratio baseline, or NULL for none. Baselines
	 * leave it NULL. bench_baseline_by_wait() is a ready-made mapping.
	 */
	const char *(*baseline)(const struct bench_transport *t, enum bench_pattern p, size_t size);
	/*
	 * Optional: a second reference row, reported beside the first (JSON baseline2, ratio2):
	 * the plain floor when the first is the one that waits the same way (spin rows: the
	 * two-line floor first, raw-spin second; eventfd: eventfd-epoll, then eventfd; uring:
	 * eventfd-uring, then io_uring). bench_baseline2_by_wait() is the mapping.
	 */
	const char *(*baseline2)(const struct bench_transport *t, enum bench_pattern p,
				 size_t size);
	/* Non-zero: compare with the baseline's row at this size rather than at this row's. */
	size_t baseline_size;

	/*
	 * In the parent before fork: create whatever both sides share (shared mapping, fds, shm
	 * object) and return it in *state. Return 0, or -1 with a message in err.
	 */
	int (*setup)(void **state, size_t size, enum bench_pattern p, char *err, size_t err_len);
	/* Optional, in each child after pinning: per-process init (s->priv); 0 or bench_fail() */
	int (*attach)(struct bench_side *s);
	/* [pattern][role]; a pattern is supported iff both entries are non-NULL. */
	bench_run_fn *run[BENCH_NR_PATTERNS][BENCH_NR_SIDES];
	/* Optional, in each child after the measured run. */
	void (*detach)(struct bench_side *s);
	/* In the parent after both children are gone (also after a failure). */
	void (*teardown)(void *state);
};

/* ---- helpers for run functions ---- */

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is system-wide, so a stamp taken by A compares with one taken by B. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void bench_sample(struct bench_side *s, uint64_t i, uint64_t start, uint64_t end)
{
	if (!s->samples)
		return;
	/*
	 * A one-way sample can come out negative if the two CPUs' clocks disagree by more than the
	 * latency; keep it as 0 and count it rather than wrapping to a huge value.
	 */
	if (end < start) {
		s->clamped++;
		s->samples[i] = 0;
	} else {
		s->samples[i] = end - start;
	}
}

static inline void bench_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * Baselines that move one 8-byte word each way (eventfd and its event-loop forms): the
 * half-duplex and simplex loops are the same for all, only the two verbs differ.
 */
struct bench_word_ops {
	/* Hand @v to the peer (the direction follows s->role). 0 or bench_fail(). */
	int (*put)(struct bench_side *s, uint64_t v);
	/* Wait for the peer's word and read it into *v. 0 or bench_fail(). */
	int (*get)(struct bench_side *s, uint64_t *v);
};

/*
 * A run function's body for such a baseline, any pattern and side: half-duplex A times put,
 * get; simplex A puts its send stamp (the word is the message) and gets the untimed ack.
 */
int bench_word_run(struct bench_side *s, uint64_t n, const struct bench_word_ops *ops);

/* Record an error message for the parent and return -1 (for "return bench_fail(...)"). */
int bench_fail(struct bench_side *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Non-private futex calls (the word lives in memory shared between processes). */
int bench_futex_wait(_Atomic uint32_t *word, uint32_t expected);
int bench_futex_wake(_Atomic uint32_t *word, int nr);

/* Zeroed MAP_SHARED|MAP_ANONYMOUS memory, visible to both children after fork. NULL on error. */
void *bench_shared_alloc(size_t len);
void bench_shared_free(void *p, size_t len);

const char *bench_pattern_name(enum bench_pattern p);

/*
 * Default baseline mapping for library transports: by wait mode, the baseline that waits the
 * same way (spin-2line, raw-futex, eventfd-epoll, eventfd-uring), pipe for stream.
 */
const char *bench_baseline_by_wait(const struct bench_transport *t, enum bench_pattern p,
				   size_t size);
/* The second reference by wait mode: raw-spin, eventfd, io_uring; NULL for futex and stream. */
const char *bench_baseline2_by_wait(const struct bench_transport *t, enum bench_pattern p,
				    size_t size);

static inline bool bench_supports(const struct bench_transport *t, enum bench_pattern p)
{
	return t->run[p][BENCH_SIDE_A] && t->run[p][BENCH_SIDE_B];
}

/* ---- histogram ---- */

/*
 * Log-linear histogram: values below 2^SUB_BITS are exact, above that every power of two is
 * split into 2^SUB_BITS equal buckets, so a bucket is at most 1/128 (0.78%) of its value wide.
 */
#define BENCH_HIST_SUB_BITS 7
#define BENCH_HIST_SUB	    (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_BUCKETS  ((64 - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double sum;
	uint64_t bucket[BENCH_HIST_BUCKETS];
};

void bench_hist_init(struct bench_hist *h);
void bench_hist_add(struct bench_hist *h, uint64_t v);
/* Value at quantile q in [0, 1]: the bucket midpoint clamped to [min, max]. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);
uint64_t bench_hist_bucket_low(unsigned int idx);
uint64_t bench_hist_bucket_high(unsigned int idx); /* inclusive */

/* ---- rows ---- */

struct bench_stats {
	uint64_t min, p50, p90, p99, p999, max;
	double mean;
};

enum bench_status {
	BENCH_OK,
	BENCH_SKIPPED,
	BENCH_FAILED,
	BENCH_STOPPED, /* cut short by SIGINT or SIGTERM: reported nowhere */
};

/* --repeat: at most this many runs per row. */
#define BENCH_MAX_REPEAT 99

/* bench_result.warn: what a reader must not let pass silently. */
#define BENCH_W_BELOW_FLOOR  (1u << 0) /* a latency row's p50 is below its baseline's */
#define BENCH_W_OUTLIERS     (1u << 1) /* max is more than BENCH_OUTLIER_FACTOR x p99.9 */
#define BENCH_W_UNSTABLE     (1u << 2) /* --repeat: the p50s spread more than BENCH_UNSTABLE_PCT */
#define BENCH_OUTLIER_FACTOR 10
#define BENCH_UNSTABLE_PCT   10.0

struct bench_result {
	const struct bench_transport *t;
	enum bench_pattern pattern;
	size_t size;
	unsigned int cpus; /* mesh: K, the processes (CPUs of the system); 0 for the others */
	enum bench_status status;
	char note[256];		 /* why skipped or failed */
	uint64_t iterations;	 /* measured iterations (messages for stream) */
	struct bench_stats st;	 /* latency patterns only */
	struct bench_hist *hist; /* latency patterns only, for the plot */
	double msgs_per_s;	 /* stream only */
	uint64_t clamped;
	const struct bench_result *base;  /* resolved by bench_resolve_baselines() */
	double ratio;			  /* NaN when there is no baseline */
	const struct bench_result *base2; /* the second reference (t->baseline2), or NULL */
	double ratio2;			  /* NaN when there is none */
	/*
	 * --repeat: the row ran @runs times; the fields above are those of the run with the
	 * median p50 (stream: msgs/s), and run_value[] / run_p99[] hold every run's p50 (stream:
	 * msgs/s) and p99 in run order. spread_pct is (max - min) / median of run_value, in
	 * percent, and spread_p99_pct the same of run_p99; NaN for a single run.
	 */
	unsigned int runs;
	double run_value[BENCH_MAX_REPEAT];
	double run_p99[BENCH_MAX_REPEAT];
	double spread_pct, spread_p99_pct;
	unsigned int warn; /* BENCH_W_*, set by bench_resolve_baselines() */
};

struct bench_config {
	int cpu[BENCH_NR_SIDES];
	uint64_t iterations; /* measured iterations; 0: derived from budget_ns */
	uint64_t warmup;     /* warm-up iterations; used when warmup_set */
	bool warmup_set;
	uint64_t budget_ns; /* measured time per row when iterations == 0 */
	uint64_t warmup_ns; /* warm-up time per row when !warmup_set */
	uint64_t min_iterations;
	uint64_t max_samples; /* cap on derived latency iteration counts (memory) */
	unsigned int timeout_s;
};

/* Run one row into *r (always filled; r->status says how it went). Returns r->status. */
enum bench_status bench_run_row(const struct bench_config *cfg, const struct bench_transport *t,
				enum bench_pattern p, size_t size, struct bench_result *r);

void bench_result_free(struct bench_result *r);
/* Hand the filled histogram @h (malloc'd) to *r and set r->st from it. */
void bench_result_set_hist(struct bench_result *r, struct bench_hist *h);

/* The most processes of a mesh row (mesh.c). */
#define BENCH_MESH_MAX 16

/*
 * Run the mesh row of transport @t (its wait mode) with @k processes into *r, like
 * bench_run_row(). mesh.c.
 */
enum bench_status bench_run_mesh(const struct bench_config *cfg, const struct bench_transport *t,
				 unsigned int k, struct bench_result *r);

/*
 * For mesh.c: reap the @n children in pid[] (0 entries skipped) under the row watchdog
 * (@timeout_s) and the stop signals, killing all on the first failure. err[i] is child i's
 * message (may be empty). 0 if every child exited 0, else -1 with a note.
 */
int bench_wait_children(pid_t *pid, int n, unsigned int timeout_s, char (*err)[160], char *note,
			size_t note_len);

/*
 * SIGINT and SIGTERM: the handler records the signal and kills the children of the row in
 * progress, whose bench_run_row() then tears its state down (the row's shm object included)
 * and returns BENCH_STOPPED; every later call returns BENCH_STOPPED at once. The caller
 * prints what is done and exits.
 */
void bench_catch_stop_signals(void);
/* The signal that stopped the run, or 0. */
int bench_stop_signal(void);

#endif /* IPCC_BENCH_HARNESS_H */
