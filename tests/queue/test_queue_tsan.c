/* SPDX-License-Identifier: MIT */
/*
 * The queue with producer and consumer as threads of one process, so that ThreadSanitizer sees
 * every access: 10^6 fixed entries and 10^6 packets of varying length through small rings, the
 * indices starting just below 2^32, every entry checked, and an inspector thread observing the
 * indices all along. The payload is written and read with plain accesses, so a head or tail
 * access weakened from release/acquire to relaxed shows up as a data race on the payload.
 *
 * A plain program, not a Criterion one: Criterion 2.4 cannot start under ThreadSanitizer (see
 * tests/proc/test_tsan.c). It runs the cases named by its arguments (all without one) and
 * exits non-zero on the first failure; a run past its deadline fails saying "watchdog".
 *   meson setup build-tsan -Db_sanitize=thread -Dbench=false -Dtools=false
 *   meson test -C build-tsan --suite stress
 */
#define QT_NO_CRITERION
#include <pthread.h>

#include "queue-test.h"

#define MESSAGES    1000000u
#define DEADLINE_NS (180 * (int64_t)1000000000)
#define START	    (UINT32_MAX - 1000u * 8u + 1u) /* a multiple of 8, crosses 2^32 early */

#define R_BYTES 1024u /* the packet ring: a few packets of the largest size, many small ones */

#define check(cond, ...) qt_assert(cond, __VA_ARGS__)

static void *mem;
static size_t mem_size;
static _Atomic bool done;

static void wait_or_die(struct qt_wait *w, const char *who, uint64_t seq)
{
	if (!qt_wait_more(w)) {
		fprintf(stderr, "watchdog: %s still at message %llu of %u after %lld s\n", who,
			(unsigned long long)seq, MESSAGES, (long long)(DEADLINE_NS / 1000000000));
		exit(1);
	}
}

static void *inspect(void *arg)
{
	bool pring = arg != NULL;
	unsigned seen = 0;
	/* Relaxed: a stop flag; the inspector reads nothing the other threads wrote but indices. */
	while (!atomic_load_explicit(&done, memory_order_relaxed)) {
		struct ipcc_queue_state st;
		int r = pring ? ipcc_pring_observe(mem, mem_size, R_BYTES, &st)
			      : ipcc_queue_observe(mem, mem_size, 64, 8, &st);
		check(r == 0 || r == -EAGAIN, "observe: %d", r);
		if (r == 0) {
			check(st.used <= st.capacity, "used %u of %u", st.used, st.capacity);
			seen++;
		}
		sched_yield();
	}
	return NULL;
}

/* ---- fixed entries --------------------------------------------------------------------------- */

static void *produce_entries(void *arg)
{
	(void)arg;
	struct ipcc_queue p;
	check(ipcc_queue_attach(&p, mem, mem_size, 64, 8, IPCC_QUEUE_PRODUCER) == 0, "attach");
	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint64_t seq = 0;
	while (seq < MESSAGES) {
		void *slots;
		uint32_t want = MESSAGES - seq < 5 ? (uint32_t)(MESSAGES - seq) : 5;
		int n = (seq & 1) ? ipcc_queue_claim(&p, want, &slots) : -ENOSYS;
		if (n > 0) {
			uint64_t *e = slots;
			for (int i = 0; i < n; i++)
				e[i] = qt_mix(seq + (uint64_t)i);
			check(ipcc_queue_commit(&p, (uint32_t)n) == 0, "commit");
		} else if (n == -ENOSYS) {
			uint64_t v = qt_mix(seq);
			n = ipcc_queue_push(&p, &v) == 0 ? 1 : -EAGAIN;
		}
		check(n > 0 || n == -EAGAIN, "entry %llu: %d", (unsigned long long)seq, n);
		if (n == -EAGAIN)
			wait_or_die(&w, "producer", seq);
		else
			seq += (uint64_t)n;
	}
	return NULL;
}

static void fixed_entries(void)
{
	check(ipcc_queue_size(64, 8, &mem_size) == 0, "size");
	mem = qt_alloc(mem_size, 0);
	check(ipcc_queue_init(mem, mem_size, 64, 8) == 0, "init");
	qt_set_head(mem, START);
	qt_set_tail(mem, START);
	struct ipcc_queue c;
	check(ipcc_queue_attach(&c, mem, mem_size, 64, 8, IPCC_QUEUE_CONSUMER) == 0, "attach");
	pthread_t prod, insp;
	check(pthread_create(&prod, NULL, produce_entries, NULL) == 0, "thread");
	check(pthread_create(&insp, NULL, inspect, NULL) == 0, "thread");

	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint64_t seq = 0;
	while (seq < MESSAGES) {
		const void *in;
		int n = (seq % 3 == 0) ? ipcc_queue_available(&c) : 1;
		if (n > 0)
			n = ipcc_queue_peek(&c, (seq & 1) ? UINT32_MAX : 1, &in);
		if (n == 0 || n == -EAGAIN) {
			wait_or_die(&w, "consumer", seq);
			continue;
		}
		check(n > 0, "entry %llu: %d", (unsigned long long)seq, n);
		const uint64_t *e = in;
		for (int i = 0; i < n; i++, seq++)
			check(e[i] == qt_mix(seq), "entry %llu lost, reordered or corrupted",
			      (unsigned long long)seq);
		check(ipcc_queue_release(&c, (uint32_t)n) == 0, "release");
	}
	pthread_join(prod, NULL);
	/* Relaxed: a stop flag, the join below orders the rest. */
	atomic_store_explicit(&done, true, memory_order_relaxed);
	pthread_join(insp, NULL);
	check(ipcc_queue_available(&c) == 0, "nothing after the last entry");
	check(qt_tail(mem) == START + MESSAGES, "tail %u", qt_tail(mem));
	free(mem);
}

/* ---- packets --------------------------------------------------------------------------------- */

static void *produce_packets(void *arg)
{
	(void)arg;
	struct ipcc_pring p;
	check(ipcc_pring_attach(&p, mem, mem_size, R_BYTES, IPCC_QUEUE_PRODUCER) == 0, "attach");
	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint32_t max = ipcc_pring_max_packet(R_BYTES);
	uint8_t buf[R_BYTES / 2];
	uint64_t seq = 0;
	while (seq < MESSAGES) {
		uint32_t len = qt_packet_len(seq, max);
		void *at;
		int e = (seq & 1) ? ipcc_pring_claim(&p, max, &at) : -ENOSYS;
		if (e == 0) {
			qt_fill(at, len, seq);
			check(ipcc_pring_commit(&p, len) == 0, "commit");
		} else if (e == -ENOSYS) {
			qt_fill(buf, len, seq);
			e = ipcc_pring_push(&p, buf, len);
		}
		check(e == 0 || e == -EAGAIN, "packet %llu: %d", (unsigned long long)seq, e);
		if (e == -EAGAIN)
			wait_or_die(&w, "producer", seq);
		else
			seq++;
	}
	return NULL;
}

static void packets(void)
{
	check(ipcc_pring_size(R_BYTES, &mem_size) == 0, "size");
	mem = qt_alloc(mem_size, 0);
	check(ipcc_pring_init(mem, mem_size, R_BYTES) == 0, "init");
	qt_set_head(mem, START);
	qt_set_tail(mem, START);
	struct ipcc_pring c;
	check(ipcc_pring_attach(&c, mem, mem_size, R_BYTES, IPCC_QUEUE_CONSUMER) == 0, "attach");
	pthread_t prod, insp;
	check(pthread_create(&prod, NULL, produce_packets, NULL) == 0, "thread");
	check(pthread_create(&insp, NULL, inspect, mem) == 0, "thread");

	struct qt_wait w = { .deadline = qt_now_ns() + DEADLINE_NS };
	uint32_t max = ipcc_pring_max_packet(R_BYTES);
	uint8_t buf[R_BYTES / 2];
	uint64_t seq = 0;
	while (seq < MESSAGES) {
		const void *in;
		int n = (seq & 1) ? ipcc_pring_peek(&c, &in) : ipcc_pring_pop(&c, buf, sizeof(buf));
		if (n == -EAGAIN) {
			wait_or_die(&w, "consumer", seq);
			continue;
		}
		check(n >= 0 && (uint32_t)n == qt_packet_len(seq, max), "packet %llu: %d",
		      (unsigned long long)seq, n);
		check(qt_verify((seq & 1) ? in : buf, (size_t)n, seq) == (size_t)n,
		      "packet %llu corrupted", (unsigned long long)seq);
		if (seq & 1)
			check(ipcc_pring_release(&c) == 0, "release");
		seq++;
	}
	pthread_join(prod, NULL);
	/* Relaxed: a stop flag, the join below orders the rest. */
	atomic_store_explicit(&done, true, memory_order_relaxed);
	pthread_join(insp, NULL);
	const void *in;
	check(ipcc_pring_peek(&c, &in) == -EAGAIN, "nothing after the last packet");
	free(mem);
}

static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "fixed_entries", fixed_entries },
	{ "packets", packets },
};

int main(int argc, char **argv)
{
	unsigned ran = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool wanted = argc < 2;
		for (int a = 1; a < argc; a++)
			wanted |= strstr(cases[i].name, argv[a]) != NULL;
		if (!wanted)
			continue;
		/* Relaxed: no other thread runs between cases. */
		atomic_store_explicit(&done, false, memory_order_relaxed);
		int64_t t0 = qt_now_ns();
		cases[i].run();
		printf("%s: ok (%.1f s)\n", cases[i].name, (double)(qt_now_ns() - t0) / 1e9);
		ran++;
	}
	printf("%u passed, 0 failed\n", ran);
	return ran ? 0 : 1;
}
