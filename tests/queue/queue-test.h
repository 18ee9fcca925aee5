/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the queue tests (tests/queue): memory of the exact size a queue needs (so that
 * AddressSanitizer catches any access past it), the peer's hand on the indices, self-checking
 * payloads, and the wait of a side that sees full or empty, bounded by a watchdog.
 *
 * Checks use qt_assert: Criterion's cr_assert, or in a plain program (define QT_NO_CRITERION
 * first: Criterion cannot start under ThreadSanitizer) a message and exit(1). A forked peer
 * checks with qt_check, which prints and _exit()s: it must not report through Criterion.
 */
#ifndef IPCC_QUEUE_TEST_H
#define IPCC_QUEUE_TEST_H

#ifndef QT_NO_CRITERION
#include <criterion/criterion.h>
#endif
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "queue/queue.h"

#ifdef QT_NO_CRITERION
#define qt_assert(cond, ...)                                                                      \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: check `%s` failed: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                             \
			fputc('\n', stderr);                                                      \
			exit(1);                                                                  \
		}                                                                                 \
	} while (0)
#else
#define qt_assert(cond, ...) cr_assert(cond, __VA_ARGS__)
#endif

/* In a forked peer: print and leave with status 2 (a check failed). */
#define qt_check(cond, ...)                                                                    \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "peer %s:%d: check `%s` failed: ", __FILE__, __LINE__, \
				#cond);                                                        \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			_exit(2);                                                              \
		}                                                                              \
	} while (0)

/* Exit status of a side stopped by its watchdog: not a library failure, a time bound. */
#define QT_WATCHDOG_STATUS 3

/* 64-byte aligned memory of exactly `size` bytes, filled with `fill`. */
static inline void *qt_alloc(size_t size, int fill)
{
	void *mem = NULL;
	qt_assert(posix_memalign(&mem, 64, size) == 0, "posix_memalign %zu", size);
	memset(mem, fill, size);
	return mem;
}

static inline struct ipcc_queue_meta *qt_meta(void *mem)
{
	return mem;
}

/* The peer (or a test hook) writes an index directly, as a hostile or restarted side would. */
static inline void qt_set_head(void *mem, uint32_t v)
{
	/* Relaxed: single-threaded test setup, or a deliberate bad write of a peer. */
	atomic_store_explicit(&qt_meta(mem)->head, v, memory_order_relaxed);
}

static inline void qt_set_tail(void *mem, uint32_t v)
{
	/* Relaxed: as in qt_set_head. */
	atomic_store_explicit(&qt_meta(mem)->tail, v, memory_order_relaxed);
}

static inline uint32_t qt_head(void *mem)
{
	/* Relaxed: read by the test thread that wrote it, or after a join/wait. */
	return atomic_load_explicit(&qt_meta(mem)->head, memory_order_relaxed);
}

static inline uint32_t qt_tail(void *mem)
{
	/* Relaxed: as in qt_head. */
	return atomic_load_explicit(&qt_meta(mem)->tail, memory_order_relaxed);
}

/*
 * Self-checking payloads: every byte is a function of the message number, and the first eight
 * are the number itself, so that a reader joining anywhere (an observer) can tell which it got.
 */
static inline uint64_t qt_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* Word j of payload `seq`: the number itself first, then words that depend on it and on j. */
static inline uint64_t qt_word(uint64_t seq, uint64_t k, size_t j)
{
	return j ? k + j : seq;
}

/*
 * Word at a time (fixed-size memcpy compiles to one load or store), so that sanitizers check 8
 * bytes per access rather than one; the bytes of a last partial word one by one.
 */
static inline void qt_fill(uint8_t *p, size_t len, uint64_t seq)
{
	uint64_t k = qt_mix(seq);
	size_t j = 0;
	for (; 8 * j + 8 <= len; j++) {
		uint64_t w = qt_word(seq, k, j);
		memcpy(p + 8 * j, &w, 8);
	}
	uint64_t w = qt_word(seq, k, j);
	for (size_t i = 8 * j; i < len; i++)
		p[i] = ((const uint8_t *)&w)[i - 8 * j];
}

/* Offset of the first wrong word, or len when all bytes are right. */
static inline size_t qt_verify(const uint8_t *p, size_t len, uint64_t seq)
{
	uint64_t k = qt_mix(seq);
	size_t j = 0;
	for (; 8 * j + 8 <= len; j++) {
		uint64_t got;
		memcpy(&got, p + 8 * j, 8);
		if (got != qt_word(seq, k, j))
			return 8 * j;
	}
	uint64_t w = qt_word(seq, k, j);
	for (size_t i = 8 * j; i < len; i++)
		if (p[i] != ((const uint8_t *)&w)[i - 8 * j])
			return 8 * j;
	return len;
}

/* The message number a payload of at least 8 bytes carries. */
static inline uint64_t qt_seq_of(const uint8_t *p)
{
	uint64_t seq;
	memcpy(&seq, p, 8);
	return seq;
}

/* Length of packet `seq` in a ring whose largest packet is `max`: mostly short, all sizes. */
static inline uint32_t qt_packet_len(uint64_t seq, uint32_t max)
{
	uint64_t k = qt_mix(seq ^ 0x9e3779b97f4a7c15ull);
	uint32_t small = max < 96 ? max : 96;
	return (uint32_t)((k >> 8) % (((k & 7) == 0 ? max : small) + 1));
}

static inline int64_t qt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * A side that saw full or empty: pause, and now and then give the core away (on 2 cores the
 * other side may be waiting for this one's core). Returns false once `deadline` has passed.
 */
struct qt_wait {
	unsigned spins;
	int64_t deadline;
};

static inline bool qt_wait_more(struct qt_wait *w)
{
	if (++w->spins % 64 == 0) {
		sched_yield();
		if (qt_now_ns() > w->deadline)
			return false;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
	return true;
}

#endif
