/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the procedure tests (tests/proc): peers in forked processes, unique shm names and
 * self-checking payloads. Header-only so that each test file stays one executable.
 *
 * A forked peer never uses Criterion's asserts: they report to the runner through state the
 * child only holds a copy of. It checks with PEER_CHECK, which prints the failure and _exit()s
 * non-zero, and the test asserts on the peer's exit status. Every peer dies with the test
 * process (PR_SET_PDEATHSIG) and after a deadline (alarm), and the test waits for it with a
 * deadline too, so a bug fails a test instead of hanging the suite. The peer's deadline is a
 * limit of the harness, not of the library: when it fires, the peer says so and exits with
 * PT_EXIT_WATCHDOG, and the test's messages name the watchdog (pt_expect_exit0, pt_peer_note).
 *
 * Spinning peers on a machine with fewer usable CPUs than spinners progress only as the
 * scheduler preempts them, a timeslice per message: spin-mode runs shrink their counts when
 * fewer than two CPUs are usable (pt_count) and stop at a time budget (pt_budget), reporting
 * how far they got, instead of running into the watchdog.
 *
 * The helpers check with pt_assert: Criterion's cr_assert, or in a plain program (one that
 * defines PT_NO_CRITERION first, as test_tsan.c does) a message and exit(1).
 */
#ifndef IPCC_PROC_TEST_H
#define IPCC_PROC_TEST_H

#include <assert.h>
#include <dirent.h>
#ifndef PT_NO_CRITERION
#include <criterion/criterion.h>
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#define PT_SEC ((int64_t)1000000000)
#define PT_MS  ((int64_t)1000000)
/* The bound of waits that should end soon: generous, a loaded 2-core VM stalls for a while. */
#define PT_LONG	 (10 * PT_SEC)
#define PT_NAMES 8

static char pt_names[PT_NAMES][64];
static unsigned pt_name_count;
static inline void pt_cleanup(void);

/*
 * The helpers' own checks: Criterion's assert in a Criterion test; in a plain program (define
 * PT_NO_CRITERION: ThreadSanitizer cannot run under Criterion) print, clean up and exit 1.
 */
#ifdef PT_NO_CRITERION
#define pt_assert(cond, ...)                                                                      \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: check `%s` failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                             \
			fputc('\n', stderr);                                                      \
			pt_cleanup();                                                             \
			exit(1);                                                                  \
		}                                                                                 \
	} while (0)
#else
#define pt_assert(cond, ...) cr_assert(cond, __VA_ARGS__)
#endif

/*
 * Remove the names of test processes that are gone: a test that crashed or was killed never
 * ran its .fini. Only this file's prefix, and only for pids that no longer exist.
 */
static inline void pt_sweep(void)
{
	DIR *dir = opendir("/dev/shm");
	struct dirent *de;
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		int pid;
		unsigned n;
		char name[300];
		if (sscanf(de->d_name, "ipcc-proc-%d-%u", &pid, &n) != 2 || pid <= 0)
			continue;
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			snprintf(name, sizeof(name), "/%s", de->d_name);
			shm_unlink(name);
		}
	}
	closedir(dir);
}

/* A fresh shm name; pt_cleanup() (every test's .fini) removes it whatever the test did. */
static inline const char *pt_name(void)
{
	static bool swept;
	if (!swept) {
		swept = true;
		pt_sweep();
	}
	pt_assert(pt_name_count < PT_NAMES, "too many names in one test");
	char *n = pt_names[pt_name_count];
	snprintf(n, sizeof(pt_names[0]), "/ipcc-proc-%d-%u", (int)getpid(), pt_name_count);
	pt_name_count++;
	/* A run killed before its teardown may have left the name behind. */
	shm_unlink(n);
	return n;
}

static inline void pt_cleanup(void)
{
	for (unsigned i = 0; i < pt_name_count; i++)
		shm_unlink(pt_names[i]);
	pt_name_count = 0;
}

static inline int64_t pt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * PT_SEC + ts.tv_nsec;
}

static inline void pt_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static inline const char *pt_mode_name(enum ipcc_wait_mode mode)
{
	const char *n = ipcc_wait_mode_name(mode);
	return n ? n : "?";
}

/* ---- peers ------------------------------------------------------------------------------ */

#define PEER_CHECK(cond, ...)                                                                 \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "peer %d, %s:%d: check `%s` failed: ", (int)getpid(), \
				__FILE__, __LINE__, #cond);                                   \
			fprintf(stderr, __VA_ARGS__);                                         \
			fputc('\n', stderr);                                                  \
			_exit(1);                                                             \
		}                                                                             \
	} while (0)

/* Exit status of a peer whose watchdog fired (no PEER_CHECK failure uses it). */
#define PT_EXIT_WATCHDOG 86

/* The peer's watchdog message, made at fork: the handler may only write(). */
static char pt_watchdog_msg[160];
static int pt_watchdog_len;

/* SIGALRM in a peer: say that the harness's deadline ended it, then exit. Async-signal-safe. */
static inline void pt_watchdog_fired(int sig)
{
	ssize_t w = write(STDERR_FILENO, pt_watchdog_msg, (size_t)pt_watchdog_len);
	(void)w; /* nothing more to do if stderr is gone */
	(void)sig;
	_exit(PT_EXIT_WATCHDOG);
}

/*
 * Run fn(arg) in a child process that dies with the caller and after alarm_s seconds (its
 * watchdog, which reports itself); the child _exit()s with fn's return value (0: success).
 * Fork before the test starts threads of its own (an interrupt thread, a killer): the child
 * would inherit their locks (malloc's, ASan's) held.
 */
static inline pid_t pt_fork(int (*fn)(void *), void *arg, unsigned alarm_s)
{
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	pt_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(3); /* the parent died before the prctl */
		pt_watchdog_len = snprintf(pt_watchdog_msg, sizeof(pt_watchdog_msg),
					   "peer %d: watchdog: still running after %u s, ended by "
					   "the test harness (a limit of the test, not a library "
					   "failure)\n",
					   (int)getpid(), alarm_s);
		if (pt_watchdog_len < 0 || pt_watchdog_len >= (int)sizeof(pt_watchdog_msg))
			pt_watchdog_len = (int)strlen(pt_watchdog_msg);
		signal(SIGALRM, pt_watchdog_fired);
		alarm(alarm_s);
		int r = fn(arg);
		fflush(NULL);
		_exit(r);
	}
	return pid;
}

/* waitpid with a deadline: the raw status, or -1 after killing a child that overran it. */
static inline int pt_reap(pid_t pid, int64_t timeout_ns)
{
	int64_t deadline = pt_now_ns() + timeout_ns;
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (pt_now_ns() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		pt_sleep_ms(1);
	}
}

/* Assert that the peer ends cleanly within timeout_ns. */
static inline void pt_expect_exit0(pid_t pid, int64_t timeout_ns, const char *what)
{
	int st = pt_reap(pid, timeout_ns);
	pt_assert(st != -1, "%s: still running after %.1f s (killed)", what,
		  (double)timeout_ns / PT_SEC);
	pt_assert(WIFEXITED(st), "%s: killed by signal %d%s", what, WTERMSIG(st),
		  WTERMSIG(st) == SIGALRM ? " (its watchdog)" : "");
	pt_assert(WEXITSTATUS(st) != PT_EXIT_WATCHDOG,
		  "%s: its watchdog ended it (a limit of the test harness on a slow or "
		  "oversubscribed machine, not a library failure)",
		  what);
	pt_assert(WEXITSTATUS(st) == 0, "%s: exit status %d (see its message above)", what,
		  WEXITSTATUS(st));
}

/*
 * For the message of a failed call: what became of the peer, if it is gone, without reaping
 * it. A peer that its watchdog ended makes the call fail with -EPIPE; the message must name the
 * watchdog, not the library. Waits up to a second for a peer that is dying.
 */
static inline const char *pt_peer_note(pid_t pid)
{
	static char note[160];
	siginfo_t si;
	for (int i = 0; i < 1000; i++) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
			return "";
		if (si.si_pid == pid)
			break;
		pt_sleep_ms(1);
	}
	if (si.si_pid != pid)
		return " (the peer still runs)";
	if (si.si_code == CLD_EXITED && si.si_status == PT_EXIT_WATCHDOG)
		return " (the peer's watchdog ended it: a limit of the test harness, not a library "
		       "failure)";
	if (si.si_code == CLD_EXITED)
		snprintf(note, sizeof(note), " (the peer exited with status %d: see its message)",
			 si.si_status);
	else
		snprintf(note, sizeof(note), " (the peer was killed by signal %d)", si.si_status);
	return note;
}

/* ---- spinning on fewer cores than spinners ------------------------------------------- */

/* CPUs this process may run on (taskset, cgroup cpusets). */
static inline int pt_cpus_usable(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return CPU_COUNT(&set);
}

/*
 * The number of messages a run in `mode` attempts: `count`, or a fiftieth of it (at least 100)
 * for spinners that must share one CPU, where each message costs the scheduler's timeslices.
 */
static inline uint64_t pt_count(enum ipcc_wait_mode mode, uint64_t count)
{
	if (mode != IPCC_WAIT_SPIN || pt_cpus_usable() >= 2)
		return count;
	return count / 50 > 100 ? count / 50 : (count < 100 ? count : 100);
}

/*
 * The time a spin-mode traffic loop may take before it stops and reports how far it got: well
 * inside the peers' watchdogs and Criterion's timeout. Other modes sleep and are not bounded.
 */
#define PT_SPIN_BUDGET (45 * PT_SEC)

struct pt_budget {
	int64_t end; /* 0: unbounded */
};

static inline struct pt_budget pt_budget_start(enum ipcc_wait_mode mode)
{
	return (struct pt_budget){ mode == IPCC_WAIT_SPIN ? pt_now_ns() + PT_SPIN_BUDGET : 0 };
}

/* Whether the loop must stop now; checked every 64 iterations (i), not to measure the clock. */
static inline bool pt_budget_over(const struct pt_budget *b, uint64_t i)
{
	return b->end && !(i & 63) && pt_now_ns() >= b->end;
}

/* The loop's outcome for the log: a run stopped by its budget says so. */
static inline void pt_budget_report(const char *what, uint64_t done, uint64_t count)
{
	if (done < count)
		fprintf(stderr,
			"%s: stopped by the spin time budget (%.0f s) after %llu of %llu: the "
			"machine is slow or oversubscribed; everything sent was checked\n",
			what, (double)PT_SPIN_BUDGET / PT_SEC, (unsigned long long)done,
			(unsigned long long)count);
}

/* Open a system by name, retrying while its creator initialises it. */
static inline int pt_open(const char *name, struct ipcc_system **ret)
{
	for (int i = 0; i < 1000; i++) {
		int r = ipcc_system_open(name, ret);
		if (r != -EAGAIN)
			return r;
		pt_sleep_ms(1);
	}
	return -EAGAIN;
}

static inline struct ipcc_cpu_options pt_options(enum ipcc_wait_mode mode, uint32_t flags)
{
	struct ipcc_cpu_options o;
	ipcc_cpu_options_init(&o);
	o.wait = mode;
	o.flags = flags;
	return o;
}

/* Peer side: open `name` and attach CPU `id` in `mode`, or _exit. */
static inline struct ipcc_cpu *peer_attach(const char *name, unsigned id, enum ipcc_wait_mode mode,
					   uint32_t flags, struct ipcc_system **ret_sys)
{
	struct ipcc_system *sys = NULL;
	struct ipcc_cpu *cpu = NULL;
	int r = pt_open(name, &sys);
	PEER_CHECK(r == 0, "ipcc_system_open(%s): %s", name, strerror(-r));
	struct ipcc_cpu_options o = pt_options(mode, flags);
	r = ipcc_cpu_attach(sys, id, &o, &cpu);
	PEER_CHECK(r == 0, "attach of CPU %u: %s", id, strerror(-r));
	*ret_sys = sys;
	return cpu;
}

/* Test side. */
static inline struct ipcc_system *pt_create(unsigned cpus, unsigned channels, uint32_t buffer)
{
	struct ipcc_config cfg;
	struct ipcc_system *sys = NULL;
	ipcc_config_init(&cfg);
	cfg.cpus = cpus;
	cfg.channels = channels;
	cfg.buffer_size = buffer;
	int r = ipcc_system_create(pt_name(), &cfg, &sys);
	pt_assert(r == 0, "ipcc_system_create: %s", strerror(-r));
	return sys;
}

static inline struct ipcc_cpu *pt_attach(struct ipcc_system *sys, unsigned id,
					 enum ipcc_wait_mode mode, uint32_t flags)
{
	struct ipcc_cpu *cpu = NULL;
	struct ipcc_cpu_options o = pt_options(mode, flags);
	int r = ipcc_cpu_attach(sys, id, &o, &cpu);
	pt_assert(r == 0, "attach of CPU %u: %s", id, strerror(-r));
	return cpu;
}

static inline uint32_t pt_rd(struct ipcc_regs *regs, uint32_t off)
{
	uint32_t v = 0xDEADBEEFu;
	int r = ipcc_regs_read(regs, off, &v);
	pt_assert(r == 0, "ipcc_regs_read(0x%03x): %s", off, strerror(-r));
	return v;
}

/* Descriptors this process has open now: a test compares the count before and after. */
static inline int pt_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;
	pt_assert(d, "opendir /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own */
}

/* ---- events between processes: one byte through a pipe --------------------------------- */

struct pt_pipe {
	int rd, wr;
};

static inline struct pt_pipe pt_pipe_new(void)
{
	int fd[2];
	pt_assert(pipe2(fd, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	return (struct pt_pipe){ fd[0], fd[1] };
}

static inline void pt_post(struct pt_pipe p, char c)
{
	ssize_t r;
	do
		r = write(p.wr, &c, 1);
	while (r < 0 && errno == EINTR);
}

/* The next byte, or -1 on timeout or when every writer is gone. */
static inline int pt_await(struct pt_pipe p, int64_t timeout_ns)
{
	int64_t deadline = pt_now_ns() + timeout_ns;
	for (;;) {
		int64_t left = deadline - pt_now_ns();
		if (left < 0)
			return -1;
		struct pollfd pfd = { .fd = p.rd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)(left / PT_MS) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		char c;
		ssize_t n = read(p.rd, &c, 1);
		if (n == 1)
			return (unsigned char)c;
		if (n < 0 && errno == EINTR)
			continue;
		return -1;
	}
}

/*
 * A scripted peer: a forked process (fn gets the struct) that attaches `name` as its CPU in
 * `mode`, posts 'a', then does one thing per command byte and answers each with one byte; 'x'
 * makes it leave with status 0. The test decides exactly when a request is served or answered.
 * A deferred peer (a restart to come) is forked now, while the test has no threads, and waits
 * for pt_script_go before it attaches (fn calls pt_script_wait_go first).
 */
struct pt_script {
	const char *name;
	enum ipcc_wait_mode mode;
	bool deferred;
	struct pt_pipe cmd, ack;
	pid_t pid;
};

static inline void pt_script_fork(struct pt_script *s, const char *name, enum ipcc_wait_mode mode,
				  bool deferred, int (*fn)(void *), unsigned alarm_s)
{
	*s = (struct pt_script){ .name = name,
				 .mode = mode,
				 .deferred = deferred,
				 .cmd = pt_pipe_new(),
				 .ack = pt_pipe_new() };
	s->pid = pt_fork(fn, s, alarm_s);
}

static inline void pt_script_start(struct pt_script *s, const char *name, enum ipcc_wait_mode mode,
				   int (*fn)(void *), unsigned alarm_s)
{
	pt_script_fork(s, name, mode, false, fn, alarm_s);
	pt_assert(pt_await(s->ack, PT_LONG) == 'a', "the peer did not attach");
}

/* In the peer: a deferred one waits for its go. */
static inline void pt_script_wait_go(struct pt_script *s)
{
	if (s->deferred && pt_await(s->cmd, 30 * PT_SEC) != 'g')
		_exit(2);
}

/* Let a deferred peer attach, and wait until it has. */
static inline void pt_script_go(struct pt_script *s)
{
	pt_post(s->cmd, 'g');
	pt_assert(pt_await(s->ack, PT_LONG) == 'a', "the peer did not attach");
}

/* Send a command and return the peer's answer. */
static inline int pt_script_cmd(struct pt_script *s, char c)
{
	pt_post(s->cmd, c);
	int r = pt_await(s->ack, PT_LONG);
	pt_assert(r >= 0, "the peer did not answer '%c'", c);
	return r;
}

static inline void pt_script_stop(struct pt_script *s)
{
	pt_post(s->cmd, 'x');
	pt_expect_exit0(s->pid, PT_LONG, "peer");
}

/*
 * This process as CPU 0 of a fresh 2-CPU system, and a scripted peer as CPU 1, forked before
 * CPU 0 attaches: an eventfd-mode CPU has a thread, and a child forked beside it can inherit a
 * lock (malloc's, ASan's) held.
 */
struct pt_pair {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct pt_script a;
};

static inline struct ipcc_system *pt_create(unsigned cpus, unsigned channels, uint32_t buffer);
static inline struct ipcc_cpu *pt_attach(struct ipcc_system *sys, unsigned id,
					 enum ipcc_wait_mode mode, uint32_t flags);

static inline void pt_pair_start(struct pt_pair *f, unsigned channels, uint32_t buffer,
				 enum ipcc_wait_mode mode, int (*fn)(void *), unsigned alarm_s)
{
	f->sys = pt_create(2, channels, buffer);
	pt_script_start(&f->a, ipcc_system_name(f->sys), mode, fn, alarm_s);
	f->cpu = pt_attach(f->sys, 0, mode, 0);
}

static inline void pt_pair_stop(struct pt_pair *f)
{
	pt_script_stop(&f->a);
	ipcc_cpu_detach(f->cpu);
	ipcc_system_close(f->sys);
}

/* Memory shared with forked peers (results, counters); lives until the test process ends. */
static inline void *pt_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pt_assert(p != MAP_FAILED, "mmap: %s", strerror(errno));
	return p;
}

/* ---- self-checking messages ------------------------------------------------------------ */

/*
 * Message `seq` of stream `stream` (a channel and direction) has a length in 1..cap that
 * varies with seq and bytes drawn from a generator seeded by (stream, seq). From 8 bytes on it
 * starts with its sequence number and a checksum of the rest, so that a receiver can tell a
 * lost, duplicated or reordered message (a valid message with the wrong number) from a
 * corrupted one. Shorter messages are still fully determined by (stream, seq): any mix-up
 * shows as a length or content mismatch.
 */
static inline uint64_t pt_mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static inline size_t pt_msg_len(uint32_t stream, uint64_t seq, size_t cap)
{
	return 1 + (size_t)(pt_mix(seq ^ ((uint64_t)stream << 40)) % cap);
}

static inline uint32_t pt_sum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static inline void pt_msg_fill(void *buf, uint32_t stream, uint64_t seq, size_t len)
{
	uint8_t *b = buf;
	uint64_t s = pt_mix(seq * 0x100000001B3ull ^ stream) | 1;
	for (size_t i = 0; i < len; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(b + i, &s, len - i < 8 ? len - i : 8);
	}
	if (len >= 8) {
		uint32_t h[2] = { (uint32_t)seq, pt_sum(b + 8, len - 8) };
		memcpy(b, h, 8);
	}
}

/* Receiver's bookkeeping of one stream. */
struct pt_tally {
	uint64_t expect;   /* next sequence number */
	uint64_t received; /* messages taken */
	uint64_t lost;	   /* numbers skipped */
	uint64_t dup;	   /* numbers seen again (duplicated or reordered) */
	uint64_t corrupt;  /* right number, wrong length or bytes */
	uint64_t mismatch; /* short message that is not the expected one */
};

static inline bool pt_tally_ok(const struct pt_tally *t)
{
	return !t->lost && !t->dup && !t->corrupt && !t->mismatch;
}

#define PT_TALLY_FMT "received %llu, lost %llu, dup/reordered %llu, corrupt %llu, mismatch %llu"
#define PT_TALLY_ARGS(t)                                                        \
	(unsigned long long)(t)->received, (unsigned long long)(t)->lost,       \
		(unsigned long long)(t)->dup, (unsigned long long)(t)->corrupt, \
		(unsigned long long)(t)->mismatch

/* Check one received message against the stream's next one; true if it is exactly that. */
static inline bool pt_msg_take(struct pt_tally *t, const void *msg, size_t n, uint32_t stream,
			       size_t cap)
{
	uint8_t want[IPCC_BUFFER_SIZE_MAX > 4096 ? 4096 : IPCC_BUFFER_SIZE_MAX];
	size_t wl = pt_msg_len(stream, t->expect, cap);
	const uint8_t *m = msg;

	assert(cap <= sizeof(want));
	t->received++;
	if (n == wl && n <= sizeof(want)) {
		pt_msg_fill(want, stream, t->expect, wl);
		if (!memcmp(want, m, n)) {
			t->expect++;
			return true;
		}
	}
	if (n >= 8) {
		uint32_t h[2];
		memcpy(h, m, 8);
		if (h[1] == pt_sum(m + 8, n - 8) && h[0] != (uint32_t)t->expect) {
			/* A well-formed message with another number. */
			uint64_t got = (t->expect & ~0xFFFFFFFFull) | h[0];
			if (got > t->expect) {
				t->lost += got - t->expect;
				t->expect = got + 1;
			} else {
				t->dup++;
			}
			return false;
		}
		t->corrupt++;
		t->expect++;
		return false;
	}
	if (n == wl)
		t->corrupt++;
	else
		t->mismatch++;
	t->expect++;
	return false;
}

#endif
