/* SPDX-License-Identifier: MIT */
/*
 * A kill -9 soak (issue 15, "Tests that keep it so"): a few hundred incarnations of CPU 1, each
 * killed with SIGKILL at a random point -- right after it is spawned (in its attach, its claim
 * or its first traffic), holding a zero-copy claim, between ipcc_serve and ipcc_reply, blocked
 * on a full channel, or while the survivor (CPU 0, this process) is blocked on a full channel
 * towards it -- and restarted. What the survivor relies on, by the documented contract (calls
 * are at-least-once; a simplex message in flight at a death may be lost or delivered to the
 * next incarnation):
 *   - every call of the survivor blocked on the dying peer ends with -EPIPE;
 *   - traffic resumes with every new incarnation: its messages arrive and its calls are answered;
 *   - no message is corrupted, none arrives twice or out of order within an incarnation, none
 *     of an older incarnation arrives after a newer one's, and a response is never handed to
 *     another call;
 *   - nothing is left behind: no descriptor, no shm object, no socket.
 *
 * The victims are forked by a spawner process forked before this process has any thread (the
 * library starts watcher threads), so that no victim inherits a lock held by a thread. Bounded:
 * IPCC_SOAK_CYCLES (default 300) cycles or IPCC_SOAK_SECONDS (default 40), what comes first.
 */
#define PT_NO_CRITERION
#include <sys/stat.h>

#include "proc-test.h"

#include <ipcc/layout.h>

#define BUFFER	 64u
#define CH_DATA	 0u /* simplex, victim -> survivor */
#define CH_CALL	 1u /* half-duplex, the survivor calls */
#define CH_DOWN	 2u /* simplex, survivor -> victim, drained by each new incarnation */
#define CH_STUCK 3u /* simplex, victim -> survivor, never received: the victim blocks on it */
#define DATA_N	 5u
#define CALL_N	 3u

#define check(cond, ...) pt_assert(cond, __VA_ARGS__)

enum scenario { S_SPAWN, S_CLAIM, S_SERVE, S_FULL_VICTIM, S_FULL_SURVIVOR, S_COUNT };
static const char *const scenario_names[] = { "right after spawn", "in a claim",
					      "between serve and reply",
					      "blocked on a full channel",
					      "survivor blocked on a full channel" };

struct cmd {
	uint32_t inc; /* incarnation, from 1 */
	uint32_t scenario;
	uint32_t mode;
	uint32_t delay_us; /* how long after its cue the victim is killed */
};

/* Messages: [inc, seq, checksum of both], then filler derived from them. */
struct msg {
	uint32_t inc, seq, sum;
	uint8_t fill[BUFFER - 12];
};

static void msg_make(struct msg *m, uint32_t inc, uint32_t seq)
{
	m->inc = inc;
	m->seq = seq;
	for (size_t i = 0; i < sizeof(m->fill); i++)
		m->fill[i] = (uint8_t)(inc * 31u + seq * 7u + i);
	m->sum = pt_sum(m->fill, sizeof(m->fill)) ^ inc ^ (seq << 16);
}

static bool msg_ok(const struct msg *m)
{
	struct msg want;
	msg_make(&want, m->inc, m->seq);
	return memcmp(m, &want, sizeof(want)) == 0;
}

static void sleep_us(uint32_t us)
{
	struct timespec ts = { us / 1000000u, (long)(us % 1000000u) * 1000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- the victim, CPU 1 ------------------------------------------------------------------- */

static const char *sys_name;
static struct pt_pipe ev; /* victim -> survivor: cues */

static void die_after(uint32_t us)
{
	sleep_us(us);
	raise(SIGKILL);
}

static int victim(const struct cmd *c)
{
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(sys_name, 1, (enum ipcc_wait_mode)c->mode, 0, &sys);
	uint8_t buf[BUFFER];
	struct msg m;
	int r;

	pt_post(ev, 'a');
	/* What the survivor left for an earlier incarnation is this one's now. */
	while ((r = ipcc_recv(cpu, 0, CH_DOWN, &m, sizeof(m), 0)) >= 0)
		PEER_CHECK(r == sizeof(m) && msg_ok(&m), "victim %u: corrupt message down", c->inc);
	PEER_CHECK(r == -EAGAIN, "victim %u: drain: %s", c->inc, strerror(-r));
	for (uint32_t i = 0; i < DATA_N; i++) {
		msg_make(&m, c->inc, i);
		r = ipcc_send(cpu, 0, CH_DATA, &m, sizeof(m), PT_LONG);
		PEER_CHECK(r == 0, "victim %u: send %u: %s", c->inc, i, strerror(-r));
	}
	/* Echo requests (stale ones of earlier incarnations too) until this one's last call. */
	for (;;) {
		r = ipcc_serve(cpu, 0, CH_CALL, buf, sizeof(buf), PT_LONG);
		PEER_CHECK(r == sizeof(m), "victim %u: serve: %d", c->inc, r);
		memcpy(&m, buf, sizeof(m));
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] ^= 0xFF;
		r = ipcc_reply(cpu, 0, CH_CALL, buf, sizeof(buf));
		PEER_CHECK(r == 0, "victim %u: reply: %s", c->inc, strerror(-r));
		if (m.inc == c->inc && m.seq == CALL_N - 1)
			break;
	}

	void *tb;
	size_t cap;
	switch (c->scenario) {
	case S_CLAIM: /* a claimed, half-written, never committed buffer */
		r = ipcc_send_claim(cpu, 0, CH_DATA, PT_LONG, &tb, &cap);
		PEER_CHECK(r == 0, "victim %u: claim: %s", c->inc, strerror(-r));
		memset(tb, 0xEE, cap / 2);
		pt_post(ev, 'c');
		die_after(c->delay_us);
		break;
	case S_SERVE: /* a request taken and never answered */
		r = ipcc_serve(cpu, 0, CH_CALL, buf, sizeof(buf), PT_LONG);
		PEER_CHECK(r == sizeof(m), "victim %u: serve: %d", c->inc, r);
		die_after(c->delay_us);
		break;
	case S_FULL_VICTIM: /* the survivor never reads CH_STUCK: the second send blocks */
		pt_post(ev, 'f');
		for (;;) {
			msg_make(&m, c->inc, 100);
			r = ipcc_send(cpu, 0, CH_STUCK, &m, sizeof(m), PT_LONG);
			PEER_CHECK(r == 0, "victim %u: stuck send: %s", c->inc, strerror(-r));
		}
	case S_FULL_SURVIVOR: /* the survivor fills CH_DOWN, which this one no longer reads */
		pt_post(ev, 's');
		die_after(c->delay_us);
		break;
	default:
		break;
	}
	for (;;)
		pause();
	return 1;
}

/* Runs victims on command: one byte command in, the pid out, then the wait status out. */
static struct pt_pipe spawn_cmd, spawn_out;

static int spawner(void *p)
{
	(void)p;
	struct cmd c;
	close(spawn_cmd.wr); /* so that the survivor's close is our end of input */
	close(spawn_out.rd);
	for (;;) {
		ssize_t n = read(spawn_cmd.rd, &c, sizeof(c));
		if (n == 0)
			return 0;
		PEER_CHECK(n == sizeof(c), "spawner: short command");
		pid_t parent = getpid();
		pid_t pid = fork();
		PEER_CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(3);
			alarm(60);
			_exit(victim(&c));
		}
		int32_t v[2] = { pid, 0 };
		PEER_CHECK(write(spawn_out.wr, &v[0], 4) == 4, "spawner: write");
		PEER_CHECK(waitpid(pid, &v[1], 0) == pid, "waitpid");
		PEER_CHECK(write(spawn_out.wr, &v[1], 4) == 4, "spawner: write");
	}
}

static int32_t read_int(void)
{
	int32_t v = 0;
	struct pollfd pfd = { .fd = spawn_out.rd, .events = POLLIN };
	check(poll(&pfd, 1, 30000) == 1, "the spawner does not answer");
	check(read(spawn_out.rd, &v, 4) == 4, "spawner: short answer");
	return v;
}

/* ---- the survivor, CPU 0 ----------------------------------------------------------------- */

/* Is an abstract UNIX socket of this name bound anywhere on the machine? */
static bool socket_bound(const char *name)
{
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512];
	bool found = false;
	check(f, "/proc/net/unix: %s", strerror(errno));
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

/*
 * The rendezvous socket name an eventfd-mode CPU 1 published in the object (layout.h, line 2
 * of its record), read through a mapping of our own as an inspector would.
 */
static const struct ipcc_shm_cpu *cpu1_record;

static void map_records(void)
{
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm%s", sys_name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	check(fd >= 0, "open %s: %s", path, strerror(errno));
	struct stat st;
	check(fstat(fd, &st) == 0, "fstat");
	const uint8_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	check(m != MAP_FAILED, "mmap: %s", strerror(errno));
	close(fd);
	const struct ipcc_shm_header *h = (const void *)m;
	for (unsigned i = 0; i < h->section_count && i < IPCC_SECTIONS_MAX; i++)
		if ((h->sections[i].type & IPCC_SECTION_TYPE_MASK) == IPCC_SECTION_CPUS)
			cpu1_record = (const void *)(m + h->sections[i].offset + IPCC_SHM_CPU_SIZE);
	check(cpu1_record, "no CPU section");
}

static void efd_socket_name(char *out, size_t size)
{
	snprintf(out, size, "@libipcc:efd:%016llx%016llx",
		 (unsigned long long)atomic_load_explicit(&cpu1_record->efd_token[0],
							  memory_order_relaxed),
		 (unsigned long long)atomic_load_explicit(&cpu1_record->efd_token[1],
							  memory_order_relaxed));
}

struct survivor {
	struct ipcc_cpu *cpu;
	uint32_t last_inc, last_seq; /* of the last CH_DATA message taken */
	bool any;
	uint32_t calls, epipes, stale;
};

/*
 * Take one CH_DATA message, checking it against the contract; *ret_seq is its number when it
 * is of incarnation `inc`, -1 when it is a stale one of an earlier incarnation.
 */
static int take_data(struct survivor *s, uint32_t inc, int64_t timeout, int *ret_seq)
{
	struct msg m;
	int r = ipcc_recv(s->cpu, 1, CH_DATA, &m, sizeof(m), timeout);
	if (r < 0)
		return r;
	check(r == sizeof(m) && msg_ok(&m), "incarnation %u: corrupt message (%d bytes)", inc, r);
	check(m.inc <= inc, "a message of incarnation %u before it was spawned", m.inc);
	check(!s->any || m.inc > s->last_inc || (m.inc == s->last_inc && m.seq > s->last_seq),
	      "message %u of incarnation %u after message %u of incarnation %u", m.seq, m.inc,
	      s->last_seq, s->last_inc);
	s->stale += m.inc < inc;
	s->any = true;
	s->last_inc = m.inc;
	s->last_seq = m.seq;
	*ret_seq = m.inc == inc ? (int)m.seq : -1;
	return 0;
}

static int call(struct survivor *s, uint32_t inc, uint32_t seq, int64_t timeout)
{
	struct msg q, resp;
	msg_make(&q, inc, seq);
	int r = ipcc_call(s->cpu, 1, CH_CALL, &q, sizeof(q), &resp, sizeof(resp), timeout);
	if (r < 0)
		return r;
	check(r == sizeof(resp), "call %u/%u: %d bytes back", inc, seq, r);
	uint8_t *b = (uint8_t *)&resp;
	for (size_t i = 0; i < sizeof(resp); i++)
		b[i] ^= 0xFF;
	check(memcmp(&resp, &q, sizeof(q)) == 0, "call %u/%u: the response of another request", inc,
	      seq);
	s->calls++;
	return 0;
}

static void expect_epipe(struct survivor *s, int r, const struct cmd *c, const char *what)
{
	check(r == -EPIPE, "incarnation %u (%s): %s returned %d (%s), not -EPIPE", c->inc,
	      scenario_names[c->scenario], what, r, strerror(-r));
	s->epipes++;
}

static void cycle(struct survivor *s, const struct cmd *c)
{
	check(write(spawn_cmd.wr, c, sizeof(*c)) == sizeof(*c), "spawner: command");
	pid_t pid = read_int();
	int r, seq;

	if (c->scenario == S_SPAWN) {
		sleep_us(c->delay_us);
		kill(pid, SIGKILL);
		goto reap;
	}
	/*
	 * A wait that begins while the slot holds a dead owner ends with -EPIPE at once: begin
	 * once the new incarnation holds the CPU.
	 */
	check(pt_await(ev, PT_LONG) == 'a', "incarnation %u did not attach", c->inc);
	/* Traffic resumes: this incarnation's messages, then its calls. */
	do {
		r = take_data(s, c->inc, PT_LONG, &seq);
		check(r == 0, "incarnation %u: recv: %s", c->inc, strerror(-r));
	} while (seq != DATA_N - 1);
	for (uint32_t j = 0; j < CALL_N; j++) {
		r = call(s, c->inc, j, PT_LONG);
		check(r == 0, "incarnation %u: call %u: %s", c->inc, j, strerror(-r));
	}
	switch (c->scenario) {
	case S_CLAIM:
		check(pt_await(ev, PT_LONG) == 'c', "no claim cue");
		r = take_data(s, c->inc, PT_LONG, &seq);
		expect_epipe(s, r, c, "ipcc_recv beside a claim");
		break;
	case S_SERVE:
		r = call(s, c->inc, CALL_N, PT_LONG);
		expect_epipe(s, r, c, "ipcc_call");
		break;
	case S_FULL_VICTIM:
		check(pt_await(ev, PT_LONG) == 'f', "no full cue");
		sleep_us(c->delay_us);
		kill(pid, SIGKILL);
		break;
	case S_FULL_SURVIVOR: {
		struct msg m;
		check(pt_await(ev, PT_LONG) == 's', "no full cue");
		for (uint32_t i = 0;; i++) {
			check(i < 3, "incarnation %u: three sends into one slot succeeded", c->inc);
			msg_make(&m, c->inc, 200 + i);
			r = ipcc_send(s->cpu, 1, CH_DOWN, &m, sizeof(m), PT_LONG);
			if (r < 0)
				break;
		}
		expect_epipe(s, r, c, "ipcc_send on a full channel");
		break;
	}
	default:
		break;
	}
reap:;
	int st = read_int();
	for (;;) { /* the cues of a victim killed early */
		struct pollfd pfd = { .fd = ev.rd, .events = POLLIN };
		char cue;
		if (poll(&pfd, 1, 0) != 1 || read(ev.rd, &cue, 1) != 1)
			break;
	}
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "incarnation %u (%s): ended with status 0x%x, not by SIGKILL", c->inc,
	      scenario_names[c->scenario], st);
	if (c->mode == IPCC_WAIT_EVENTFD) {
		/* Its rendezvous socket went with it (or it died before it had one). */
		char name[64];
		efd_socket_name(name, sizeof(name));
		check(!socket_bound(name), "incarnation %u: %s still bound after its death", c->inc,
		      name);
	}
	/* A dead peer: a wait on it ends at once. */
	r = ipcc_cpu_peer_alive(s->cpu, 1);
	check(r == -EPIPE || r == 0, "incarnation %u: peer_alive %d after its death", c->inc, r);
}

int main(void)
{
	const char *e1 = getenv("IPCC_SOAK_CYCLES"), *e2 = getenv("IPCC_SOAK_SECONDS");
	unsigned cycles = e1 && atoi(e1) > 0 ? (unsigned)atoi(e1) : 300;
	unsigned seconds = e2 && atoi(e2) > 0 ? (unsigned)atoi(e2) : 40;
	setvbuf(stdout, NULL, _IOLBF, 0);

	int fds0 = pt_fd_count();
	struct ipcc_system *sys = pt_create(2, 4, BUFFER);
	sys_name = ipcc_system_name(sys);
	ev = pt_pipe_new();
	spawn_cmd = pt_pipe_new();
	spawn_out = pt_pipe_new();
	map_records();
	pid_t sp = pt_fork(spawner, NULL, seconds + 120);
	close(spawn_cmd.rd);
	close(spawn_out.wr);

	struct survivor s = { .cpu = pt_attach(sys, 0, IPCC_WAIT_ADAPTIVE, 0) };
	static const enum ipcc_wait_mode modes[] = { IPCC_WAIT_FUTEX, IPCC_WAIT_ADAPTIVE,
						     IPCC_WAIT_EVENTFD };
	unsigned per[S_COUNT] = { 0 };
	uint64_t seed = 0x5EEDull;
	int64_t end = pt_now_ns() + (int64_t)seconds * PT_SEC;
	uint32_t inc;
	for (inc = 1; inc <= cycles && pt_now_ns() < end; inc++) {
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		struct cmd c = { .inc = inc,
				 .scenario = (uint32_t)(seed % S_COUNT),
				 .mode = modes[(seed >> 8) % 3],
				 .delay_us = (uint32_t)((seed >> 16) % 3000) };
		per[c.scenario]++;
		if (getenv("IPCC_SOAK_VERBOSE"))
			printf("incarnation %u: %s, %s, %u us\n", inc, scenario_names[c.scenario],
			       pt_mode_name(c.mode), c.delay_us);
		cycle(&s, &c);
	}
	printf("soak: %u incarnations (spawn %u, claim %u, serve %u, full %u, survivor full %u), "
	       "%u calls, %u -EPIPE, %u stale messages delivered\n",
	       inc - 1, per[0], per[1], per[2], per[3], per[4], s.calls, s.epipes, s.stale);
	check(inc - 1 >= 20 || inc - 1 == cycles, "only %u cycles in %u s", inc - 1, seconds);

	close(spawn_cmd.wr);
	pt_expect_exit0(sp, PT_LONG, "the spawner");
	ipcc_cpu_detach(s.cpu);
	check(ipcc_system_unlink(sys_name) == 0, "unlink");
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm%s", sys_name);
	check(access(path, F_OK) < 0 && errno == ENOENT, "%s still exists", path);
	ipcc_system_close(sys);
	pt_cleanup();
	close(spawn_out.rd);
	close(ev.rd), close(ev.wr);
	int fds1 = pt_fd_count();
	check(fds1 == fds0, "%d descriptors open at the end, %d at the start", fds1, fds0);
	printf("ok\n");
	return 0;
}
