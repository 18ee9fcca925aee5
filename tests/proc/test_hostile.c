/* SPDX-License-Identifier: MIT */
/*
 * A hostile peer (issue 15, "Tests that keep it so"): a process that maps the object without
 * the library and writes garbage into every field -- slot lengths, status words, register
 * banks, doorbell words, owner records, the header and its directory after open, the Notify
 * queues, counters and sync words -- while two
 * CPUs (the test process and a forked peer, both built with the sanitizers in the ASan tree)
 * run every procedure with short timeouts. What a user relies on: no crash, no sanitizer
 * report, no call that overstays its timeout by more than a generous margin (a hang detector,
 * not a timing measurement), no length above the buffer, only documented errnos, and no file
 * descriptor left open afterwards.
 *
 * A plain program (like test_tsan.c) so that it runs the same under every sanitizer. Bounded:
 * IPCC_HOSTILE_SECONDS (default 20) of hostility; every child has a watchdog.
 */
#define PT_NO_CRITERION
#include <sys/stat.h>

#include "proc-test.h"

#include <ipcc/layout.h>

#define BUFFER	 64u
#define CHANNELS 5u /* 0-3 for the procedures, 4 (the last) reserved by Notify */
/* A call may overstay its timeout by this much before it counts as hung (loaded ASan VM). */
#define MARGIN (3 * PT_SEC)

#define check(cond, ...) pt_assert(cond, __VA_ARGS__)

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* ---- the hostile process: raw mmap, no library ------------------------------------------- */

struct hostile_arg {
	const char *name;
	unsigned seconds;
	struct pt_pipe go;
};

/* A value that hits the edges a validator must handle. */
static uint32_t garbage(uint64_t *s)
{
	static const uint32_t edges[] = { 0,	      1,	   BUFFER - 1,	BUFFER,
					  BUFFER + 1, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu,
					  0xFFFFu,    0x10000u,	   0x10001u,	0x48435441u };
	uint64_t r = rnd(s);
	return r & 1 ? edges[(r >> 1) % (sizeof(edges) / sizeof(edges[0]))] : (uint32_t)(r >> 32);
}

static void poke32(uint8_t *base, uint64_t size, uint64_t off, uint32_t v)
{
	off &= ~(uint64_t)3;
	if (off + 4 <= size)
		__atomic_store_n((uint32_t *)(base + off), v, __ATOMIC_RELAXED);
}

static int hostile(void *p)
{
	struct hostile_arg *a = p;
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "/dev/shm%s", a->name);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	PEER_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	PEER_CHECK(fstat(fd, &st) == 0, "fstat");
	uint64_t size = (uint64_t)st.st_size;
	uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	PEER_CHECK(m != MAP_FAILED, "mmap: %s", strerror(errno));

	/* Where the fields are, read once before anything is spoiled (the attacker knows it). */
	const struct ipcc_shm_header *h = (const void *)m;
	uint64_t cpus_off = 0, links_off = 0, link_stride = 0, slot_stride = 0;
	unsigned nlinks = h->link_count, nslots = 2 * h->channels;
	for (unsigned i = 0; i < h->section_count && i < IPCC_SECTIONS_MAX; i++) {
		const struct ipcc_shm_section *sec = &h->sections[i];
		if ((sec->type & IPCC_SECTION_TYPE_MASK) == IPCC_SECTION_CPUS)
			cpus_off = sec->offset;
		if ((sec->type & IPCC_SECTION_TYPE_MASK) == IPCC_SECTION_LINKS) {
			links_off = sec->offset;
			link_stride = sec->stride;
			slot_stride = sec->arg;
		}
	}
	uint64_t notify_off = 0, notify_size = 0;
	for (unsigned i = 0; i < h->section_count && i < IPCC_SECTIONS_MAX; i++) {
		const struct ipcc_shm_section *sec = &h->sections[i];
		if ((sec->type & IPCC_SECTION_TYPE_MASK) == IPCC_SECTION_NOTIFY) {
			notify_off = sec->offset + IPCC_SHM_NOTIFY_HEAD_SIZE;
			notify_size = sec->size - IPCC_SHM_NOTIFY_HEAD_SIZE;
		}
	}
	PEER_CHECK(cpus_off && links_off && link_stride && slot_stride && notify_size,
		   "no directory");

	PEER_CHECK(pt_await(a->go, PT_LONG) >= 0, "no go");
	uint64_t s = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull | 1;
	int64_t end = pt_now_ns() + (int64_t)a->seconds * PT_SEC;
	unsigned long writes = 0;
	while (pt_now_ns() < end) {
		uint64_t r = rnd(&s);
		uint64_t link = links_off + (r >> 8) % (nlinks ? nlinks : 1) * link_stride;
		uint64_t cpu = cpus_off + (r >> 16) % 2 * IPCC_SHM_CPU_SIZE;
		uint32_t v = garbage(&s);
		switch (r % 9) {
		case 0: /* a slot's length word */
			poke32(m, size,
			       link + IPCC_SHM_LINK_SIZE + (r >> 24) % nslots * slot_stride, v);
			break;
		case 1: /* a status word (CHnF flags) */
			poke32(m, size,
			       link + offsetof(struct ipcc_shm_link, status) + (r >> 24) % 2 * 64,
			       v);
			break;
		case 2: /* a register bank (CR, MR) */
			poke32(m, size, link + (r >> 24) % 2 * 64 + (r >> 30) % 2 * 4, v);
			break;
		case 3: /* the doorbell line */
			poke32(m, size, cpu + IPCC_CACHE_LINE + (r >> 24) % 6 * 4, v);
			break;
		case 4: /* the owner record and the owner's line */
			poke32(m, size, cpu + (r >> 24) % 4 * 4, v);
			poke32(m, size, cpu + 2 * IPCC_CACHE_LINE + (r >> 40) % 8 * 4, v);
			break;
		case 5: /* the header and its directory, after every CPU opened the object */
			poke32(m, size, (r >> 24) % IPCC_SHM_HEADER_SIZE, v);
			break;
		case 6: /* anywhere: the data bytes of the slots included */
			poke32(m, size, (r >> 16) % size, v);
			break;
		case 7: /* the Notify records: counters, sync words, queue indices and entries */
			poke32(m, size, notify_off + (r >> 16) % notify_size, v);
			break;
		default: /* let some traffic through */
			pt_sleep_ms(1);
			break;
		}
		writes++;
	}
	printf("hostile: %lu writes in %u s\n", writes, a->seconds);
	return 0;
}

/* ---- the CPUs under attack --------------------------------------------------------------- */

struct victim {
	struct ipcc_cpu *cpu;
	unsigned me, peer;
	uint64_t seed;
	unsigned long calls, ok;
	uint32_t sink;		 /* keeps the reads of claimed buffers */
	unsigned long errs[256]; /* by errno, for the log */
	bool in_peer;		 /* report with PEER_CHECK (a forked peer) or check */
	const char *what;
};

#define vcheck(v, cond, ...)                           \
	do {                                           \
		if ((v)->in_peer)                      \
			PEER_CHECK(cond, __VA_ARGS__); \
		else                                   \
			check(cond, __VA_ARGS__);      \
	} while (0)

/* The errnos that the procedures document for a live but lying peer. */
static bool documented(int r)
{
	switch (-r) {
	case EAGAIN:
	case ETIMEDOUT:
	case EPIPE:
	case EMSGSIZE:
	case EBADMSG:
	case EBUSY:
	case EALREADY:
	case ENOMSG:
		return true;
	default:
		return false;
	}
}

static void on_resp(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data, size_t len,
		    void *arg)
{
	struct victim *v = arg;
	(void)cpu, (void)peer, (void)ch, (void)data;
	vcheck(v, len <= BUFFER, "%s: response callback with %zu bytes", v->what, len);
}

static int on_serve(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t len,
		    size_t cap, void *arg)
{
	struct victim *v = arg;
	(void)cpu, (void)peer, (void)ch;
	vcheck(v, len <= cap && cap <= BUFFER, "%s: serve callback with %zu of %zu bytes", v->what,
	       len, cap);
	memset(buf, 0x5A, cap);
	return (int)(len < cap ? len : cap);
}

/* One random procedure with a short timeout; every outcome is checked. */
static void one_call(struct victim *v)
{
	uint8_t buf[BUFFER], big[BUFFER + 8];
	uint64_t r = rnd(&v->seed);
	int64_t timeout = (int64_t)(r >> 40) % 20 * PT_MS;
	unsigned op = (unsigned)(r % 11);
	size_t len = 1 + (r >> 8) % BUFFER;
	const char *name = "?";
	void *tbuf;
	const void *rbuf;
	size_t n = 0;
	int ret;

	memset(big, 0xA5, sizeof(big));
	int64_t t0 = pt_now_ns();
	switch (op) {
	case 0: /* channel 0: blocking simplex, both ways */
		name = "ipcc_send";
		ret = ipcc_send(v->cpu, v->peer, 0, big, len, timeout);
		break;
	case 1:
		name = "ipcc_recv";
		ret = ipcc_recv(v->cpu, v->peer, 0, buf, sizeof(buf), timeout);
		vcheck(v, ret < 0 || (size_t)ret <= sizeof(buf), "%s: recv returned %d", v->what,
		       ret);
		break;
	case 2: /* channel 1: blocking half-duplex, CPU 0 calls, CPU 1 serves */
		if (v->me == 0) {
			name = "ipcc_call";
			ret = ipcc_call(v->cpu, v->peer, 1, big, len, buf, sizeof(buf), timeout);
		} else {
			name = "ipcc_serve";
			ret = ipcc_serve(v->cpu, v->peer, 1, buf, sizeof(buf), timeout);
			vcheck(v, ret < 0 || (size_t)ret <= sizeof(buf), "%s: serve returned %d",
			       v->what, ret);
			if (ret >= 0) {
				int rr = ipcc_reply(v->cpu, v->peer, 1, buf, (size_t)ret);
				vcheck(v, rr == 0 || documented(rr), "%s: reply: %d", v->what, rr);
			}
		}
		vcheck(v, ret < 0 || (size_t)ret <= sizeof(buf), "%s: %s returned %d", v->what,
		       name, ret);
		break;
	case 3: /* channel 2: zero-copy simplex, both ways */
		name = "ipcc_send_claim";
		ret = ipcc_send_claim(v->cpu, v->peer, 2, timeout, &tbuf, &n);
		if (ret == 0) {
			vcheck(v, n == BUFFER, "%s: send claim of %zu bytes", v->what, n);
			memset(tbuf, 0x33, n);
			int rr = ipcc_send_commit(v->cpu, v->peer, 2, len);
			vcheck(v, rr == 0 || documented(rr), "%s: commit: %d", v->what, rr);
		}
		break;
	case 4:
		name = "ipcc_recv_claim";
		ret = ipcc_recv_claim(v->cpu, v->peer, 2, timeout, &rbuf, &n);
		if (ret == 0) {
			vcheck(v, n <= BUFFER, "%s: recv claim of %zu bytes", v->what, n);
			/* Read every byte handed out, so that ASan checks the whole span. */
			v->sink += pt_sum(rbuf, n);
			int rr = ipcc_recv_release(v->cpu, v->peer, 2);
			vcheck(v, rr == 0 || documented(rr), "%s: release: %d", v->what, rr);
		}
		break;
	case 5: /* channel 3: callback forms, run by the dispatcher */
		name = "ipcc_cpu_dispatch";
		if (v->me == 0) {
			int rr = ipcc_call_async(v->cpu, v->peer, 3, big, len, on_resp, v);
			vcheck(v, rr == 0 || documented(rr), "%s: call_async: %d", v->what, rr);
		}
		ret = ipcc_cpu_dispatch(v->cpu);
		ret = ret > 0 ? 0 : ret;
		break;
	case 6:
		name = "ipcc_cpu_wait";
		ret = ipcc_cpu_wait(v->cpu, timeout);
		break;
	case 7: /* oversized requests are refused before anything is written */
		name = "ipcc_send (oversized)";
		ret = ipcc_send(v->cpu, v->peer, 0, big, sizeof(big), timeout);
		vcheck(v, ret == -EMSGSIZE, "%s: oversized send: %d", v->what, ret);
		ret = 0;
		break;
	case 8: { /* every wait backend meets the garbage: eventfd reads a forgeable token */
		static const enum ipcc_wait_mode modes[] = { IPCC_WAIT_ADAPTIVE, IPCC_WAIT_SPIN,
							     IPCC_WAIT_FUTEX, IPCC_WAIT_EVENTFD };
		name = "ipcc_cpu_set_wait_mode";
		ret = ipcc_cpu_set_wait_mode(v->cpu, modes[(r >> 8) % 4],
					     (uint32_t)(r >> 16) % 50000);
		vcheck(v,
		       ret == 0 || ret == -EMFILE || ret == -ENFILE || ret == -ENOMEM ||
			       ret == -EAGAIN,
		       "%s: set_wait_mode: %d (%s)", v->what, ret, strerror(-ret));
		ret = 0;
		break;
	}
	case 9: { /* Notify: values both ways, kept in the mailbox (no callback), and sync */
		struct ipcc_notify_stats st;
		uint32_t val = (uint32_t)(r >> 8) & IPCC_NOTIFY_VALUE_MAX;
		unsigned from = 99;
		name = "ipcc_notify_send";
		ret = ipcc_notify_send(v->cpu, v->peer, IPCC_NOTIFY_CLIENT_FIRST, val, timeout);
		if (ret < 0 && !documented(ret))
			break;
		name = "ipcc_notify_recv";
		ret = ipcc_notify_recv(v->cpu, IPCC_NOTIFY_CLIENT_FIRST, &val, &from, timeout);
		if (ret == 0)
			vcheck(v, val <= IPCC_NOTIFY_VALUE_MAX && from == v->peer,
			       "%s: notify_recv gave %#x from %u", v->what, val, from);
		if (ret < 0 && !documented(ret))
			break;
		if ((r >> 20) & 1) {
			name = "ipcc_notify_sync_all";
			ret = ipcc_notify_sync_all(v->cpu, timeout);
			if (ret < 0 && !documented(ret))
				break;
		}
		name = "ipcc_notify_stats";
		ret = ipcc_notify_stats(ipcc_cpu_system(v->cpu), v->me, v->peer, &st);
		vcheck(v, ret < 0 || st.fill <= st.depth, "%s: notify fill %u of %u", v->what,
		       st.fill, st.depth);
		ret = ret == -EBADMSG ? 0 : ret; /* the indices are the hostile's to spoil */
		break;
	}
	default: { /* what a monitor reads */
		struct ipcc_cpu_owner own;
		struct ipcc_cpu_state cs;
		name = "status";
		struct ipcc_system *sys = ipcc_cpu_system(v->cpu);
		ret = ipcc_chan_status(v->cpu, v->peer, (unsigned)(r >> 8) % (CHANNELS - 1),
				       (r >> 12) & 1 ? IPCC_DIR_TX : IPCC_DIR_RX);
		vcheck(v, ret == 0 || ret == 1, "%s: chan_status: %d", v->what, ret);
		ret = ipcc_cpu_peer_alive(v->cpu, v->peer);
		vcheck(v, ret == 1, "%s: peer_alive: %d (the peer holds its claim)", v->what, ret);
		vcheck(v, ipcc_system_cpu_owner(sys, v->peer, &own) == 0 && own.alive,
		       "%s: cpu_owner", v->what);
		vcheck(v, ipcc_system_cpu_state(sys, v->peer, &cs) == 0, "%s: cpu_state", v->what);
		(void)ipcc_wait_mode_name((enum ipcc_wait_mode)cs.wait_mode);
		ret = 0;
		break;
	}
	}
	int64_t took = pt_now_ns() - t0;
	v->calls++;
	v->ok += ret >= 0;
	if (ret < 0 && -ret < 256)
		v->errs[-ret]++;
	vcheck(v, ret >= 0 || documented(ret), "%s: %s returned %d (%s), not a documented errno",
	       v->what, name, ret, strerror(-ret));
	vcheck(v, took <= timeout + MARGIN, "%s: %s took %.3f s with a timeout of %.3f s", v->what,
	       name, (double)took / PT_SEC, (double)timeout / PT_SEC);
}

static void victim_run(struct victim *v, unsigned seconds)
{
	int r = v->me == 1 ? ipcc_serve_async(v->cpu, v->peer, 3, on_serve, v) : 0;
	vcheck(v, r == 0, "%s: serve_async: %d", v->what, r);
	int64_t end = pt_now_ns() + (int64_t)seconds * PT_SEC;
	while (pt_now_ns() < end)
		one_call(v);
	printf("%s: %lu calls, %lu succeeded (%08x)\n", v->what, v->calls, v->ok, v->sink);
	for (int e = 1; e < 256; e++)
		if (v->errs[e])
			printf("%s:   -%s %lu\n", v->what, strerrorname_np(e), v->errs[e]);
}

struct peer_arg {
	const char *name;
	unsigned seconds;
	struct pt_pipe ready, done;
};

static int peer(void *p)
{
	struct peer_arg *a = p;
	struct ipcc_system *sys;
	int fds0 = pt_fd_count();
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, IPCC_WAIT_FUTEX, 0, &sys);
	struct victim v = { .cpu = cpu,
			    .me = 1,
			    .peer = 0,
			    .seed = 0xC0FFEEull,
			    .in_peer = true,
			    .what = "CPU 1 (peer)" };
	pt_post(a->ready, 'r');
	victim_run(&v, a->seconds);
	/* Stay attached until CPU 0 is done: its status checks expect a live peer. */
	PEER_CHECK(pt_await(a->done, PT_LONG) >= 0, "no done");
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	int fds1 = pt_fd_count();
	/* The inherited handle of the parent stays open in this copy: compare with the start. */
	PEER_CHECK(fds1 == fds0, "peer: %d descriptors open after detach, %d before open", fds1,
		   fds0);
	return 0;
}

int main(void)
{
	const char *env = getenv("IPCC_HOSTILE_SECONDS");
	unsigned seconds = env && atoi(env) > 0 ? (unsigned)atoi(env) : 20;
	setvbuf(stdout, NULL, _IOLBF, 0);

	int fds0 = pt_fd_count();
	struct ipcc_config cfg;
	struct ipcc_notify_config ncfg;
	struct ipcc_system *sys = NULL;
	ipcc_config_init(&cfg);
	cfg.channels = CHANNELS;
	cfg.buffer_size = BUFFER;
	ipcc_notify_config_init(&ncfg);
	ncfg.depth = 4;
	cfg.notify = &ncfg;
	int cr = ipcc_system_create(pt_name(), &cfg, &sys);
	check(cr == 0, "ipcc_system_create: %s", strerror(-cr));
	const char *name = ipcc_system_name(sys);
	struct peer_arg pa = { name, seconds, pt_pipe_new(), pt_pipe_new() };
	struct hostile_arg ha = { name, seconds, pt_pipe_new() };
	pid_t hp = pt_fork(hostile, &ha, seconds + 60);
	pid_t pp = pt_fork(peer, &pa, seconds + 60);

	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_ADAPTIVE, 0);
	check(pt_await(pa.ready, PT_LONG) >= 0, "the peer did not attach");
	pt_post(ha.go, 'g');
	struct victim v = {
		.cpu = cpu, .me = 0, .peer = 1, .seed = 0xBADC0DEull, .what = "CPU 0 (test)"
	};
	victim_run(&v, seconds);
	pt_post(pa.done, 'd');
	pt_expect_exit0(hp, PT_LONG, "the hostile process");
	pt_expect_exit0(pp, PT_LONG + MARGIN, "CPU 1's process");
	ipcc_cpu_detach(cpu);
	ipcc_system_unlink(name);
	ipcc_system_close(sys);
	pt_cleanup();
	for (int i = 0; i < 2; i++) {
		struct pt_pipe *pp2 = i ? &pa.ready : &pa.done;
		close(pp2->rd), close(pp2->wr);
	}
	close(ha.go.rd), close(ha.go.wr);
	int fds1 = pt_fd_count();
	check(fds1 == fds0, "%d descriptors open at the end, %d at the start", fds1, fds0);
	printf("ok\n");
	return 0;
}
