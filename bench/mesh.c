/* SPDX-License-Identifier: MIT */
/*
 * The mesh pattern: K processes attach the K CPUs of one system whose every pair is linked,
 * and each sends on every one of its K - 1 links and receives on them, in rounds: in a round a
 * CPU sends one message to each peer (ipcc_send, channel 0), then receives one from each
 * (ipcc_recv). A round of one CPU can only wait for a peer that is behind it, so the mesh
 * never deadlocks, whatever the number of processes per core. Each message carries its send
 * stamp; its sample is the receiver's stamp minus it: the delivery latency of a message in a
 * loaded mesh (it includes the time it waits in its slot while the receiver serves the other
 * links). The row reports the samples' statistics and the aggregate messages per second of
 * all CPUs: the cost of more CPUs and links.
 *
 * Processes may outnumber the cores: process i is pinned to the CPU of side A for even i and
 * of side B for odd i. Warm-up: WARM_ROUNDS rounds, timed by process 0, which then sets the
 * measured round count from the time budget (or --iterations messages); every process runs the
 * same count, so none is left waiting at the end.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include <ipcc/ipcc.h>

#include "harness.h"
#include "libside.h"

#define WARM_ROUNDS   8
#define MIN_ROUNDS    4
#define BARRIER_SPINS 2000

struct mesh_ctl {
	_Alignas(BENCH_CACHELINE) _Atomic uint32_t arrived;
	_Atomic uint32_t gen; /* futex word */
	/* Written by process 0 between barriers, read by the others after them. */
	_Alignas(BENCH_CACHELINE) uint64_t rounds;
	uint64_t t_start, t_end;
	uint64_t clamped[BENCH_MESH_MAX];
	char err[BENCH_MESH_MAX][160];
};

struct mesh_row {
	const struct bench_config *cfg;
	const struct bench_transport *t;
	unsigned int k;
	char name[64];
	struct mesh_ctl *ctl;
	uint64_t *samples; /* k slots of max_rounds * (k - 1) samples */
	uint64_t max_rounds;
	pid_t parent;
};

/* A barrier of all k processes (the harness's two-party one, for k). */
static void mesh_barrier(struct mesh_ctl *c, unsigned int k)
{
	unsigned int spins = 0;
	/* acquire: pairs with the release store of gen that ended the previous barrier. */
	uint32_t gen = atomic_load_explicit(&c->gen, memory_order_acquire);

	/* acq_rel: collects every arriver's writes and hands them on through gen's release. */
	if (atomic_fetch_add_explicit(&c->arrived, 1, memory_order_acq_rel) == k - 1) {
		/* relaxed: the next arrivals come after they acquire the gen store below. */
		atomic_store_explicit(&c->arrived, 0, memory_order_relaxed);
		/* release: pairs with the acquire loads of gen below. */
		atomic_store_explicit(&c->gen, gen + 1, memory_order_release);
		bench_futex_wake(&c->gen, INT_MAX);
		return;
	}
	/* acquire: pairs with the release store of gen by the last arriver. */
	while (atomic_load_explicit(&c->gen, memory_order_acquire) == gen) {
		if (spins++ < BARRIER_SPINS) {
			bench_cpu_relax();
			continue;
		}
		if (bench_futex_wait(&c->gen, gen) < 0)
			_exit(3);
	}
}

static int fail(struct mesh_row *m, unsigned int i, const char *what, int r)
{
	snprintf(m->ctl->err[i], sizeof(m->ctl->err[i]), "%s: %s", what, ipcc_strerror(r));
	return -1;
}

/* One round of process i: a message to every peer, then one from every peer. */
static int round_of(struct mesh_row *m, unsigned int i, struct ipcc_cpu *cpu, uint64_t *out)
{
	unsigned int k = m->k, d;
	uint64_t t_send, t_recv;
	int r;

	for (d = 1; d < k; d++) {
		t_send = bench_now_ns();
		r = ipcc_send(cpu, (i + d) % k, 0, &t_send, sizeof(t_send), IPCC_TIMEOUT_INFINITE);
		if (r < 0)
			return fail(m, i, "ipcc_send", r);
	}
	for (d = 1; d < k; d++) {
		r = ipcc_recv(cpu, (i + k - d) % k, 0, &t_send, sizeof(t_send),
			      IPCC_TIMEOUT_INFINITE);
		t_recv = bench_now_ns();
		if (r != (int)sizeof(t_send))
			return fail(m, i, "ipcc_recv", r < 0 ? r : -EBADMSG);
		if (!out)
			continue;
		if (t_recv < t_send) {
			m->ctl->clamped[i]++;
			*out++ = 0;
		} else {
			*out++ = t_recv - t_send;
		}
	}
	return 0;
}

static void __attribute__((noreturn)) mesh_child(struct mesh_row *m, unsigned int i)
{
	const struct bench_config *cfg = m->cfg;
	struct mesh_ctl *c = m->ctl;
	struct ipcc_cpu_options opt;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	uint64_t *out, t0, n, per_round = m->k - 1;
	int cpu_no = cfg->cpu[i % BENCH_NR_SIDES], r;
	cpu_set_t set;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != m->parent)
		_exit(4);
	if (cpu_no >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu_no, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			snprintf(c->err[i], sizeof(c->err[i]), "cannot pin to CPU %d: %s", cpu_no,
				 strerror(errno));
			_exit(1);
		}
	}
	r = ipcc_system_open(m->name, &sys);
	if (r < 0 && fail(m, i, "ipcc_system_open", r))
		_exit(1);
	ipcc_cpu_options_init(&opt);
	opt.wait = bench_wait_mode(m->t->wait);
	r = ipcc_cpu_attach(sys, i, &opt, &cpu);
	if (r < 0 && fail(m, i, "ipcc_cpu_attach", r))
		_exit(1);
	mesh_barrier(c, m->k); /* every CPU attached */

	t0 = bench_now_ns();
	for (n = 0; n < WARM_ROUNDS; n++)
		if (round_of(m, i, cpu, NULL))
			_exit(1);
	if (i == 0) {
		uint64_t el = bench_now_ns() - t0, want;

		if (!el)
			el = 1;
		if (cfg->iterations)
			want = (cfg->iterations + m->k * per_round - 1) / (m->k * per_round);
		else
			want = (uint64_t)((double)cfg->budget_ns * WARM_ROUNDS / (double)el);
		if (want < MIN_ROUNDS)
			want = MIN_ROUNDS;
		if (want > m->max_rounds)
			want = m->max_rounds;
		c->rounds = want;
	}
	mesh_barrier(c, m->k); /* the round count is published */
	if (i == 0)
		c->t_start = bench_now_ns();
	out = m->samples + (size_t)i * m->max_rounds * per_round;
	for (n = 0; n < c->rounds; n++)
		if (round_of(m, i, cpu, out + n * per_round))
			_exit(1);
	mesh_barrier(c, m->k); /* every CPU is done */
	if (i == 0)
		c->t_end = bench_now_ns();
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	_exit(0);
}

static void collect(struct mesh_row *m, struct bench_result *r)
{
	struct mesh_ctl *c = m->ctl;
	uint64_t per_round = m->k - 1, total = c->rounds * m->k * per_round, el;
	struct bench_hist *h = malloc(sizeof(*h));
	unsigned int i;

	if (!h) {
		r->status = BENCH_FAILED;
		snprintf(r->note, sizeof(r->note), "out of memory for the histogram");
		return;
	}
	bench_hist_init(h);
	for (i = 0; i < m->k; i++) {
		const uint64_t *s = m->samples + (size_t)i * m->max_rounds * per_round;

		for (uint64_t j = 0; j < c->rounds * per_round; j++)
			bench_hist_add(h, s[j]);
		r->clamped += c->clamped[i];
	}
	el = c->t_end > c->t_start ? c->t_end - c->t_start : 1;
	r->iterations = total;
	r->msgs_per_s = (double)total * 1e9 / (double)el;
	bench_result_set_hist(r, h);
}

enum bench_status bench_run_mesh(const struct bench_config *cfg, const struct bench_transport *t,
				 unsigned int k, struct bench_result *r)
{
	struct mesh_row m = { .cfg = cfg, .t = t, .k = k, .parent = getpid() };
	pid_t pid[BENCH_MESH_MAX] = { 0 };
	struct bench_lib_state *st = NULL;
	struct ipcc_config icfg;
	size_t samples_len = 0;
	unsigned int i;
	int fork_errno = 0, ret;

	memset(r, 0, sizeof(*r));
	r->t = t;
	r->pattern = BENCH_MESH;
	r->size = sizeof(uint64_t);
	r->cpus = k;
	r->ratio = r->ratio2 = NAN;
	r->spread_pct = r->spread_p99_pct = NAN;
	r->status = BENCH_FAILED;
	if (bench_stop_signal()) {
		r->status = BENCH_STOPPED;
		return r->status;
	}
	if (k < 2 || k > BENCH_MESH_MAX) {
		snprintf(r->note, sizeof(r->note), "a mesh of %u CPUs (2..%d)", k, BENCH_MESH_MAX);
		return r->status;
	}
	ipcc_config_init(&icfg); /* every pair linked */
	icfg.cpus = k;
	icfg.channels = 1;
	icfg.buffer_size = IPCC_BUFFER_SIZE_MIN;
	if (bench_lib_setup((void **)&st, sizeof(*st), &icfg, r->note, sizeof(r->note)))
		return bench_stop_signal() ? (r->status = BENCH_STOPPED) : r->status;
	snprintf(m.name, sizeof(m.name), "%s", st->name);
	m.max_rounds = cfg->max_samples / ((uint64_t)k * (k - 1));
	if (cfg->iterations) {
		uint64_t want =
			(cfg->iterations + (uint64_t)k * (k - 1) - 1) / ((uint64_t)k * (k - 1));
		m.max_rounds = want > MIN_ROUNDS ? want : MIN_ROUNDS;
	}
	if (m.max_rounds < MIN_ROUNDS)
		m.max_rounds = MIN_ROUNDS;
	samples_len = (size_t)m.max_rounds * k * (k - 1) * sizeof(uint64_t);
	m.ctl = bench_shared_alloc(sizeof(*m.ctl));
	m.samples = bench_shared_alloc(samples_len);
	if (!m.ctl || !m.samples) {
		snprintf(r->note, sizeof(r->note), "cannot map shared memory: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	for (i = 0; i < k && !bench_stop_signal(); i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			mesh_child(&m, i);
		if (pid[i] < 0) {
			fork_errno = errno;
			pid[i] = 0;
			break;
		}
	}
	if (fork_errno || i < k)
		for (i = 0; i < k; i++)
			if (pid[i] > 0)
				kill(pid[i], SIGKILL);
	ret = bench_wait_children(pid, (int)k, cfg->timeout_s, m.ctl->err, r->note,
				  sizeof(r->note));
	if (bench_stop_signal())
		r->status = BENCH_STOPPED;
	else if (fork_errno)
		snprintf(r->note, sizeof(r->note), "fork: %s", strerror(fork_errno));
	else if (ret == 0) {
		r->status = BENCH_OK;
		collect(&m, r);
	}
out:
	if (bench_stop_signal())
		r->status = BENCH_STOPPED;
	bench_lib_teardown(st);
	bench_shared_free(m.samples, samples_len);
	bench_shared_free(m.ctl, sizeof(*m.ctl));
	return r->status;
}
