/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the plain test programs (the ones that cannot run under Criterion: TSan, the
 * hostile peers): a watchdog that turns a hang into an abort, a runner of named cases (all of
 * them, or those whose names contain an argument), and the garbage a hostile writer pokes
 * into an object. Include after proc-test.h (with PT_NO_CRITERION defined).
 * Header-only so that each program stays one file.
 */
#ifndef IPCC_PT_PROGRAM_H
#define IPCC_PT_PROGRAM_H

#include "proc-test.h"

/* ---- the watchdog: the whole case within a bound, or abort (meson reports SIGABRT) ----- */

static char pt_case_watchdog_msg[160];
static int pt_case_watchdog_len;

static inline void pt_case_watchdog_fired(int sig)
{
	(void)sig;
	ssize_t w = write(STDERR_FILENO, pt_case_watchdog_msg, (size_t)pt_case_watchdog_len);
	(void)w;
	abort();
}

static inline void pt_case_watchdog_arm(unsigned seconds, const char *what)
{
	pt_case_watchdog_len = snprintf(pt_case_watchdog_msg, sizeof(pt_case_watchdog_msg),
					"watchdog: %s still running after %u s: lost wake-up or "
					"hang\n",
					what, seconds);
	if (pt_case_watchdog_len < 0 || pt_case_watchdog_len >= (int)sizeof(pt_case_watchdog_msg))
		pt_case_watchdog_len = (int)strlen(pt_case_watchdog_msg);
	signal(SIGALRM, pt_case_watchdog_fired);
	alarm(seconds);
}

static inline void pt_case_watchdog_disarm(void)
{
	alarm(0);
}

/* ---- named cases --------------------------------------------------------------------------- */

struct pt_case {
	const char *name;
	void (*fn)(void);
};

#define PT_CASE(fn)     \
	{               \
#fn, fn \
	}

/*
 * Run the cases in order, or those whose names contain one of the arguments, each followed by
 * pt_cleanup; a failing case exits through pt_assert. 0 if any ran, else 1.
 */
static inline int pt_run_cases(const char *program, const struct pt_case *cases, size_t n, int argc,
			       char **argv)
{
	unsigned ran = 0;
	for (size_t i = 0; i < n; i++) {
		bool wanted = argc < 2;
		for (int a = 1; a < argc; a++)
			wanted |= strstr(cases[i].name, argv[a]) != NULL;
		if (!wanted)
			continue;
		fprintf(stderr, "[RUN ] %s::%s\n", program, cases[i].name);
		int64_t t0 = pt_now_ns();
		cases[i].fn();
		pt_cleanup();
		fprintf(stderr, "[PASS] %s::%s (%.2f s)\n", program, cases[i].name,
			(double)(pt_now_ns() - t0) / PT_SEC);
		ran++;
	}
	fprintf(stderr, "%s: %u passed\n", program, ran);
	return ran ? 0 : 1;
}

/* ---- garbage ------------------------------------------------------------------------------ */

static inline uint64_t pt_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* One of `edges` (the values a validator must handle) half of the time, else a random word. */
static inline uint32_t pt_garbage(uint64_t *s, const uint32_t *edges, size_t n)
{
	uint64_t r = pt_rnd(s);
	return r & 1 ? edges[(r >> 1) % n] : (uint32_t)(r >> 32);
}

/* An aligned 32-bit store into the object, if it falls inside it: what a hostile peer does. */
static inline void pt_poke32(uint8_t *base, uint64_t size, uint64_t off, uint32_t v)
{
	off &= ~(uint64_t)3;
	if (off + 4 <= size)
		__atomic_store_n((uint32_t *)(base + off), v, __ATOMIC_RELAXED);
}

#endif
