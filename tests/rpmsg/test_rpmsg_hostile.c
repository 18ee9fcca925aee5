/* SPDX-License-Identifier: MIT */
/*
 * RPMessage against a hostile peer, in two parts.
 *
 * Aimed: CPU 1, attached by this process, sends real packets to CPU 0, and before CPU 0 takes
 * each one the test rewrites one field of it in the object, the way a lying sender would: the
 * header's length (above the payload, 0xFFFF), destination and source end points out of range,
 * the source CPU, and the queue descriptor's buffer index and tag. CPU 0 must drop each such
 * packet, count it in stats.bad and deliver nothing of it; a valid packet still goes through
 * after the header lies.
 *
 * Random: a process that maps the object without the library writes garbage (edge values and
 * random words) into the rpmsg section -- queue indices and entries, ledgers, buffer headers,
 * the counters, the CPU tables with their end point bitmaps and names -- for a few seconds,
 * while this process (CPU 0) and a forked honest peer (CPU 1) keep sending, receiving and
 * zero-copying with short timeouts. What holds: no crash, no sanitizer report (CI runs this in
 * its ASan build), no length above the payload, only documented errnos, no call that overstays
 * its timeout by more than a generous margin (a hang detector, not a timing measurement).
 *
 * A plain program (like tests/proc/test_hostile.c), so that it runs the same under every
 * sanitizer. Bounded: IPCC_RPMSG_HOSTILE_SECONDS (default 8) of garbage.
 */
#define PT_NO_CRITERION
#include "rpmsg-test.h"
#include "pt-program.h"

#include <stdarg.h>

#define CAP    (IPCC_RPMSG_BUFFER_SIZE_DEFAULT - IPCC_RPMSG_HEADER_SIZE)
#define MARGIN (3 * PT_SEC)

#define check(cond, ...) pt_assert(cond, __VA_ARGS__)

/* ---- aimed lies --------------------------------------------------------------------------------- */

enum lie { LEN_OVER, LEN_MAX, DST_RANGE, SRC_RANGE, SRC_CPU, DESC_INDEX, DESC_TAG, LIES };

static const char *const lie_name[LIES] = {
	"header len payload_max + 1", "header len 0xFFFF", "header dst 5000",
	"header src 70000",	      "header src_cpu 7",  "descriptor index 0xFFFF",
	"descriptor tag changed",
};

/* Find the full-queue slot and buffer of the packet just sent on vring v (1 -> 0). */
static void lie_about_last(uint8_t *m, const struct rt_vring *v, enum lie lie)
{
	/* The producer index is line 1 of the queue's metadata; the entries follow the 3 lines. */
	uint32_t head = __atomic_load_n((uint32_t *)(m + v->full_q + 64), __ATOMIC_ACQUIRE);
	uint8_t *slot = m + v->full_q + 192 + (uint64_t)((head - 1) & (v->buffers - 1)) * 8;
	struct ipcc_shm_rpmsg_desc d;
	memcpy(&d, slot, sizeof(d));
	check(d.index < v->buffers, "the library's own descriptor has index %u", d.index);
	uint8_t *buf = m + v->bufs + (uint64_t)d.index * v->buffer_size;
	struct ipcc_rpmsg_hdr h;
	memcpy(&h, buf, sizeof(h));
	switch (lie) {
	case LEN_OVER:
		h.len = CAP + 1;
		break;
	case LEN_MAX:
		h.len = 0xFFFF;
		break;
	case DST_RANGE:
		h.dst = 5000;
		break;
	case SRC_RANGE:
		h.src = 70000;
		break;
	case SRC_CPU:
		h.src_cpu = 7;
		break;
	case DESC_INDEX:
		d.index = 0xFFFF;
		break;
	case DESC_TAG:
		d.tag ^= 0x5A5A;
		break;
	default:
		break;
	}
	memcpy(buf, &h, sizeof(h));
	memcpy(slot, &d, sizeof(d));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void aimed(void)
{
	struct ipcc_system *sys = rt_system(2, 0, 0);
	struct ipcc_cpu *c0 = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct ipcc_cpu *c1 = pt_attach(sys, 1, IPCC_WAIT_FUTEX, 0);
	struct ipcc_rpmsg_ep *e0, *e1;
	check(ipcc_rpmsg_ep_create(c0, 1, NULL, NULL, &e0) == 0, "ep");
	check(ipcc_rpmsg_ep_create(c1, 2, NULL, NULL, &e1) == 0, "ep");
	uint8_t *m = rt_map(sys);
	check(m, "map");
	struct rt_vring v;
	check(rt_vring_find(sys, 1, &v), "vring 1 -> 0");
	uint8_t msg[CAP], got[CAP + 64];
	uint64_t seq = 0;
	unsigned failed = 0;
	/* Every lie is tried, and each failure said, before the verdict. */
	for (enum lie lie = 0; lie < LIES; lie++) {
		struct ipcc_rpmsg_stats before = rt_stats(sys, 1, 0);
		uint32_t len = rt_fill(msg, rt_stream(1, 2, 1), seq++, CAP), glen = 0;
		int r = ipcc_rpmsg_send(c1, msg, len, 0, 1, 2, PT_LONG);
		check(r == 0, "%s: the send: %s", lie_name[lie], strerror(-r));
		lie_about_last(m, &v, lie);
		unsigned rc = 99, re = 99;
		r = ipcc_rpmsg_recv(e0, got, sizeof(got), &glen, &rc, &re, 100 * PT_MS);
		struct ipcc_rpmsg_stats st = rt_stats(sys, 1, 0);
		bool ok = r == -ETIMEDOUT && st.bad == before.bad + 1;
		/* A tag is no index: rpmsg.h does not promise to check it. Delivered as sent is
		 * within the contract too (the sender then ignores the return under its own tag,
		 * and that buffer is lost to the pair until a restart). */
		if (lie == DESC_TAG && r == 0 && glen == len && !memcmp(got, msg, len) && rc == 1 &&
		    re == 2 && st.bad == before.bad)
			ok = true;
		bool tag_passed = lie == DESC_TAG && r == 0;
		fprintf(stderr,
			"hostile, aimed: %s: %s (receive %d %s, %u bytes from %u:%u; bad %llu -> "
			"%llu; " RT_STATS_FMT ")\n",
			lie_name[lie],
			!ok	     ? "FAILED"
			: tag_passed ? "delivered as sent (tags are not checked)"
				     : "dropped and counted",
			r, strerror(-r), glen, rc, re, (unsigned long long)before.bad,
			(unsigned long long)st.bad, RT_STATS_ARGS(st));
		failed += !ok;
		if (lie >= DESC_INDEX)
			continue; /* the buffer's identity is lost: the pair may stay broken */
		/* A header lie costs that packet only: the next one goes through. */
		len = rt_fill(msg, rt_stream(1, 2, 1), seq++, CAP);
		r = ipcc_rpmsg_send(c1, msg, len, 0, 1, 2, PT_LONG);
		check(r == 0, "after %s: a valid send: %s", lie_name[lie], strerror(-r));
		r = ipcc_rpmsg_recv(e0, got, sizeof(got), &glen, &rc, &re, PT_LONG);
		ok = r == 0 && glen == len && !memcmp(got, msg, len) && rc == 1 && re == 2;
		if (!ok)
			fprintf(stderr,
				"hostile, aimed: after %s: FAILED: the valid packet: %d (%s), %u "
				"bytes from %u:%u\n",
				lie_name[lie], r, strerror(-r), glen, rc, re);
		failed += !ok;
	}
	check(!failed, "%u of the aimed lies were not dropped and counted (see above)", failed);
	munmap(m, ipcc_system_size(sys));
	ipcc_rpmsg_ep_close(e0);
	ipcc_rpmsg_ep_close(e1);
	ipcc_cpu_detach(c0);
	ipcc_cpu_detach(c1);
	ipcc_system_close(sys);
}

/* ---- random garbage ------------------------------------------------------------------------------ */

struct hostile_arg {
	const char *name;
	unsigned seconds;
	struct pt_pipe go;
};

static const uint32_t edges[] = { 0,	   1,	     7,		  8,
				  9,	   CAP,	     CAP + 1,	  0x7FFFu,
				  0xFFFFu, 0x10000u, 0x7FFFFFFFu, 0x80000000u,
				  63,	   64,	     0xFFFFFFFFu, 0xFFFFFFFEu };

static int hostile(void *p)
{
	struct hostile_arg *a = p;
	struct ipcc_system *sys = NULL;
	int r = pt_open(a->name, &sys);
	PEER_CHECK(r == 0, "open: %s", strerror(-r));
	uint64_t size = ipcc_system_size(sys), sec = 0, sec_size = 0;
	uint8_t *m = rt_map(sys);
	PEER_CHECK(m, "map");
	struct rt_vring v[2];
	PEER_CHECK(rt_section(sys, &sec, &sec_size), "no rpmsg section");
	PEER_CHECK(rt_vring_find(sys, 0, &v[0]) && rt_vring_find(sys, 1, &v[1]), "vrings");
	uint64_t tables = sec + IPCC_SHM_RPMSG_HEAD_SIZE;
	/* From here on, only raw writes: the library's view of the object is not used. */
	PEER_CHECK(pt_await(a->go, PT_LONG) >= 0, "no go");
	uint64_t s = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull | 1;
	int64_t end = pt_now_ns() + (int64_t)a->seconds * PT_SEC;
	unsigned long writes = 0;
	while (pt_now_ns() < end) {
		uint64_t x = pt_rnd(&s);
		const struct rt_vring *w = &v[x >> 63];
		uint32_t g = pt_garbage(&s, edges, sizeof(edges) / sizeof(edges[0]));
		uint32_t i = (uint32_t)(x >> 20) % w->buffers;
		switch (x % 11) {
		case 0: /* a queue's producer or consumer index */
			pt_poke32(m, size,
				  (x >> 8 & 1 ? w->full_q : w->free_q) + 64 + (x >> 9 & 1) * 64, g);
			break;
		case 1: /* a queue entry: index and generation, or tag */
			pt_poke32(m, size,
				  (x >> 8 & 1 ? w->full_q : w->free_q) + 192 + i * 8 +
					  (x >> 9 & 1) * 4,
				  g);
			break;
		case 2: /* a ledger word */
			pt_poke32(m, size, (x >> 8 & 1 ? w->sent_tag : w->ret_tag) + i * 4, g);
			break;
		case 3: /* a buffer header: src, dst, src_cpu, len and flags */
			pt_poke32(m, size,
				  w->bufs + (uint64_t)i * w->buffer_size + (x >> 8) % 4 * 4, g);
			break;
		case 4: /* the counters and the tx_waiting word */
			pt_poke32(m, size,
				  w->pair + (x >> 8) % (sizeof(struct ipcc_shm_rpmsg_pair) / 4) * 4,
				  g);
			break;
		case 5: /* a CPU table: generation, sequences, the open bitmap */
			pt_poke32(m, size,
				  tables + (x >> 8) % 2 * IPCC_SHM_RPMSG_CPU_SIZE +
					  (x >> 9) % 48 * 4,
				  g);
			break;
		case 6: /* a name entry: seq, ep, to, bytes */
			pt_poke32(m, size,
				  tables + (x >> 8) % 2 * IPCC_SHM_RPMSG_CPU_SIZE + 192 +
					  (x >> 9) % IPCC_SHM_RPMSG_NAMES * 64 + (x >> 16) % 12 * 4,
				  g);
			break;
		case 7: /* the head, written once by the creator: copied at open */
			pt_poke32(m, size, sec + (x >> 8) % IPCC_SHM_RPMSG_HEAD_SIZE, g);
			break;
		case 8: /* anywhere in the section, payloads included */
			pt_poke32(m, size, sec + (x >> 8) % sec_size, g);
			break;
		default: /* let some traffic through */
			pt_sleep_ms(1);
			break;
		}
		writes++;
	}
	printf("rpmsg hostile: %lu writes in %u s\n", writes, a->seconds);
	munmap(m, size);
	ipcc_system_close(sys);
	return 0;
}

/* ---- the CPUs under attack ------------------------------------------------------------------------ */

struct victim {
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_rpmsg_ep *ep;
	unsigned me, peer, my_ep, peer_ep;
	uint64_t seed;
	unsigned long calls, ok, errs[256];
	bool in_peer;
	const char *what;
	uint32_t sink;
	unsigned long failures;
};

/*
 * A broken promise is printed (the first VICTIM_SAID of them) and counted, and the run goes
 * on, so that one run shows every kind; the verdict comes at the end (victim_verdict).
 */
#define VICTIM_SAID 12

static void victim_fail(struct victim *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void victim_fail(struct victim *v, const char *fmt, ...)
{
	va_list ap;
	if (v->failures++ >= VICTIM_SAID)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "FAILED: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

#define vcheck(v, cond, ...)                         \
	do {                                         \
		if (!(cond))                         \
			victim_fail(v, __VA_ARGS__); \
	} while (0)

/* Which errnos each call documents (rpmsg.h), for a live but lying peer. */
enum call { C_SEND, C_RECV, C_TX_GET, C_NOCOPY, C_FREE, C_RELEASE, C_STATS, C_LOOKUP };

static const char *const call_name[] = { "send",    "recv",    "tx_get", "send_nocopy",
					 "tx_free", "release", "stats",	 "lookup" };

static bool documented(enum call c, int r)
{
	switch (c) {
	case C_SEND:
	case C_NOCOPY:
	case C_TX_GET:
		return r == -ECONNREFUSED || r == -EAGAIN || r == -ETIMEDOUT || r == -EPIPE ||
		       r == -EINTR || r == -EBADMSG;
	case C_RECV:
		return r == -EAGAIN || r == -ETIMEDOUT || r == -EPIPE || r == -EINTR;
	case C_FREE:
	case C_RELEASE:
		return false; /* the pointers are the library's own: no lie changes that */
	case C_STATS:
		return r == -EBADMSG || r == -EAGAIN;
	case C_LOOKUP:
		return r == -EAGAIN || r == -ETIMEDOUT || r == -EINTR;
	}
	return false;
}

static void account(struct victim *v, enum call c, int r, int64_t t0, int64_t timeout_ns)
{
	int64_t el = pt_now_ns() - t0;
	v->calls++;
	vcheck(v, r == 0 || documented(c, r), "%s: %s returned %d (%s)", v->what, call_name[c], r,
	       strerror(-r));
	vcheck(v, el <= timeout_ns + MARGIN, "%s: %s with a timeout of %.0f ms took %.1f s",
	       v->what, call_name[c], (double)timeout_ns / PT_MS, (double)el / PT_SEC);
	if (r == 0)
		v->ok++;
	else
		v->errs[-r & 255]++;
}

static void round_of_calls(struct victim *v)
{
	uint8_t buf[CAP + 64];
	uint32_t len = 0;
	unsigned rc = 0, re = 0;
	int64_t t0, to = (int64_t)(pt_rnd(&v->seed) % 3) * 2 * PT_MS;
	int r;

	len = (uint32_t)(pt_rnd(&v->seed) % (CAP + 1));
	memset(buf, (int)v->calls, len);
	t0 = pt_now_ns();
	r = ipcc_rpmsg_send(v->cpu, buf, len, v->peer, v->peer_ep, v->my_ep, to);
	account(v, C_SEND, r, t0, to);

	t0 = pt_now_ns();
	r = ipcc_rpmsg_recv(v->ep, buf, sizeof(buf), &len, &rc, &re, to);
	account(v, C_RECV, r, t0, to);
	if (r == 0)
		vcheck(v, len <= CAP && rc == v->peer && re < IPCC_RPMSG_ENDPOINTS_DEFAULT,
		       "%s: a packet of %u bytes from %u:%u", v->what, len, rc, re);

	const void *data;
	t0 = pt_now_ns();
	r = ipcc_rpmsg_recv_nocopy(v->ep, &data, &len, &rc, &re, 0);
	account(v, C_RECV, r, t0, 0);
	if (r == 0) {
		vcheck(v, len <= CAP && rc == v->peer, "%s: nocopy: %u bytes from %u", v->what, len,
		       rc);
		/* Read every byte the library said is ours: ASan sees any overrun. */
		for (uint32_t i = 0; i < len; i++)
			v->sink += ((const uint8_t *)data)[i];
		t0 = pt_now_ns();
		r = ipcc_rpmsg_release(v->cpu, data);
		account(v, C_RELEASE, r, t0, 0);
	}

	void *tx;
	uint32_t cap = 0;
	t0 = pt_now_ns();
	r = ipcc_rpmsg_tx_get(v->cpu, v->peer, to, &tx, &cap);
	account(v, C_TX_GET, r, t0, to);
	if (r == 0) {
		vcheck(v, cap == CAP, "%s: tx_get capacity %u", v->what, cap);
		memset(tx, 0xA5, cap);
		t0 = pt_now_ns();
		if (pt_rnd(&v->seed) & 1) {
			r = ipcc_rpmsg_send_nocopy(v->cpu, tx, cap, v->peer_ep, v->my_ep);
			account(v, C_NOCOPY, r, t0, 0);
			if (r) /* a refused send_nocopy leaves the buffer taken */
				account(v, C_FREE, ipcc_rpmsg_tx_free(v->cpu, tx), t0, 0);
		} else {
			account(v, C_FREE, ipcc_rpmsg_tx_free(v->cpu, tx), t0, 0);
		}
	}

	struct ipcc_rpmsg_stats st;
	t0 = pt_now_ns();
	account(v, C_STATS, ipcc_rpmsg_stats(v->sys, v->me, v->peer, &st), t0, 0);
	account(v, C_STATS, ipcc_rpmsg_stats(v->sys, v->peer, v->me, &st), t0, 0);
	struct ipcc_rpmsg_name names[IPCC_RPMSG_NAMES_MAX];
	r = ipcc_rpmsg_names(v->sys, v->peer, names, IPCC_RPMSG_NAMES_MAX);
	vcheck(v, r >= 0 && r <= (int)IPCC_RPMSG_NAMES_MAX, "%s: names: %d", v->what, r);
	for (int i = 0; i < r && i < (int)IPCC_RPMSG_NAMES_MAX; i++)
		vcheck(v,
		       strlen(names[i].name) <= IPCC_RPMSG_NAME_MAX && names[i].name[0] &&
			       names[i].ep > 0 && names[i].ep < IPCC_RPMSG_ENDPOINTS_DEFAULT,
		       "%s: names: a bad entry passed (ep %u)", v->what, names[i].ep);
	r = ipcc_rpmsg_ep_is_open(v->sys, v->peer, (unsigned)(pt_rnd(&v->seed) % 64));
	vcheck(v, r == 0 || r == 1, "%s: ep_is_open: %d", v->what, r);
	t0 = pt_now_ns();
	r = ipcc_rpmsg_lookup(v->cpu, "svc", 0, &rc, &re);
	account(v, C_LOOKUP, r, t0, 0);
	if (r == 0)
		vcheck(v, rc == v->peer && re < IPCC_RPMSG_ENDPOINTS_DEFAULT, "%s: lookup %u:%u",
		       v->what, rc, re);
	r = ipcc_cpu_dispatch(v->cpu);
	(void)r; /* any result: it must return, and not crash */

	/* Now and then the end point closes and opens again (the honest peer announces anew):
	 * the object's tables say nothing about what this process has open. */
	if (pt_rnd(&v->seed) % 32 == 0) {
		r = ipcc_rpmsg_ep_close(v->ep);
		vcheck(v, r == 0, "%s: close: %d", v->what, r);
		v->ep = NULL;
		r = ipcc_rpmsg_ep_create(v->cpu, v->my_ep, NULL, NULL, &v->ep);
		vcheck(v, r == 0 && v->ep, "%s: reopen of %u: %d", v->what, v->my_ep, r);
		if (!v->ep)
			r = ipcc_rpmsg_ep_create(v->cpu, IPCC_RPMSG_ENDPT_ANY, NULL, NULL, &v->ep);
		vcheck(v, v->ep, "%s: no end point at all: %d", v->what, r);
		if (v->in_peer && v->ep) {
			r = ipcc_rpmsg_announce(v->ep, "svc", 0);
			vcheck(v, r == 0, "%s: announce: %d", v->what, r);
		}
	}
}

static void victim_run(struct victim *v, unsigned seconds)
{
	int64_t end = pt_now_ns() + (int64_t)seconds * PT_SEC;
	while (pt_now_ns() < end)
		round_of_calls(v);
}

static void victim_report(const struct victim *v)
{
	fprintf(stderr, "%s: %lu calls, %lu ok;", v->what, v->calls, v->ok);
	for (int e = 1; e < 256; e++)
		if (v->errs[e])
			fprintf(stderr, " %s %lu", strerrorname_np(e) ? strerrorname_np(e) : "?",
				v->errs[e]);
	fputc('\n', stderr);
}

struct honest_arg {
	const char *name;
	unsigned seconds;
	struct pt_pipe go;
};

static int honest(void *p)
{
	struct honest_arg *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, IPCC_WAIT_FUTEX, 0, &sys);
	struct victim v = { .sys = sys,
			    .cpu = cpu,
			    .me = 1,
			    .peer = 0,
			    .my_ep = 2,
			    .peer_ep = 1,
			    .seed = 0xC0FFEE,
			    .in_peer = true,
			    .what = "honest peer (CPU 1)" };
	v.ep = peer_ep(cpu, 2, NULL, NULL);
	int r = ipcc_rpmsg_announce(v.ep, "svc", 0);
	PEER_CHECK(r == 0, "announce: %s", strerror(-r));
	PEER_CHECK(pt_await(a->go, PT_LONG) >= 0, "no go");
	victim_run(&v, a->seconds);
	victim_report(&v);
	PEER_CHECK(!v.failures, "%s: %lu broken promises (see above)", v.what, v.failures);
	ipcc_rpmsg_ep_close(v.ep);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return 0;
}

static void random_garbage(unsigned seconds)
{
	struct ipcc_system *sys = rt_system(2, 0, 0);
	const char *name = ipcc_system_name(sys);
	struct hostile_arg ha = { name, seconds, pt_pipe_new() };
	struct honest_arg oa = { name, seconds, pt_pipe_new() };
	pid_t hp = pt_fork(hostile, &ha, seconds + 60);
	pid_t op = pt_fork(honest, &oa, seconds + 60);
	struct ipcc_cpu *cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	struct victim v = { .sys = sys,
			    .cpu = cpu,
			    .me = 0,
			    .peer = 1,
			    .my_ep = 1,
			    .peer_ep = 2,
			    .seed = 0xBADC0DE,
			    .what = "survivor (CPU 0)" };
	check(ipcc_rpmsg_ep_create(cpu, 1, NULL, NULL, &v.ep) == 0, "ep");
	check(rt_wait_open(sys, 1, 2, PT_LONG), "the honest peer never opened its end point");
	pt_post(oa.go, 'g');
	pt_post(ha.go, 'g');
	victim_run(&v, seconds);
	victim_report(&v);
	unsigned long survivor_failures = v.failures;
	int st = pt_reap(hp, (int64_t)(seconds + 30) * PT_SEC);
	check(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the hostile process: status %d",
	      st);
	st = pt_reap(op, (int64_t)(seconds + 30) * PT_SEC);
	bool honest_ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	struct ipcc_rpmsg_stats s01, s10;
	int r1 = ipcc_rpmsg_stats(sys, 0, 1, &s01), r2 = ipcc_rpmsg_stats(sys, 1, 0, &s10);
	check((r1 == 0 || r1 == -EBADMSG) && (r2 == 0 || r2 == -EBADMSG), "stats: %d %d", r1, r2);
	fprintf(stderr, "after the garbage, 0 -> 1: " RT_STATS_FMT "\n", RT_STATS_ARGS(s01));
	fprintf(stderr, "after the garbage, 1 -> 0: " RT_STATS_FMT "\n", RT_STATS_ARGS(s10));
	check(!survivor_failures, "%s: %lu broken promises (see above)", v.what, survivor_failures);
	check(honest_ok, "the honest peer: status %d (see its message)", st);
	ipcc_rpmsg_ep_close(v.ep);
	ipcc_cpu_detach(cpu);
	/* The CPU can be attached again and end points opened: nothing in the object refuses. */
	cpu = pt_attach(sys, 0, IPCC_WAIT_FUTEX, 0);
	check(ipcc_rpmsg_ep_create(cpu, 1, NULL, NULL, &v.ep) == 0, "ep after the garbage");
	ipcc_rpmsg_ep_close(v.ep);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
}

int main(void)
{
	const char *s = getenv("IPCC_RPMSG_HOSTILE_SECONDS");
	unsigned seconds = s && *s ? (unsigned)strtoul(s, NULL, 10) : 8;
	int64_t t0 = pt_now_ns();
	aimed();
	pt_cleanup();
	random_garbage(seconds ? seconds : 1);
	pt_cleanup();
	fprintf(stderr, "rpmsg hostile: passed (%.1f s)\n", (double)(pt_now_ns() - t0) / PT_SEC);
	return 0;
}
