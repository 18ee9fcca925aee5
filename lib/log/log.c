/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory log (include/ipcc/log.h): its section type, the layer, the writers and the
 * readers. The one place the words of a log ring are touched (layout.h: struct
 * ipcc_shm_log_ring, struct ipcc_shm_log_slot).
 *
 * A ring is N slots (a power of two); head counts the slots taken (low 32 bits, free-running)
 * and the lines reserved (high 32 bits). Ticket t lives in slot t mod N; each slot's seq says
 * which ticket it holds and in what state: BUSY (being written), HEAD or CONT (complete: the
 * first or a further slot of a line), DEAD (nothing). The creator writes DEAD(i - N) into slot
 * i, as if a lap of nothing had gone before. Tickets and line numbers are free-running 32-bit
 * counts compared by unsigned difference; a slot state could only be mistaken for one 2^32
 * tickets older by a writer stalled for that many slots (256 GiB of log).
 *
 * Writers (the threads of the CPU's owner). To take k slots at position pos, a writer first
 * looks at each of them: slot pos + j must be settled for the previous lap, HEAD, CONT or
 * DEAD of ticket pos + j - N. Only the taker of ticket pos + j changes a slot in that state,
 * so once the CAS of head from pos to pos + k succeeds the slots are ours and nobody else's
 * (this is the bounded MPMC queue's argument, D. Vyukov's, with the reader's release replaced
 * by the previous writer's completion). A slot still BUSY with the previous lap's ticket (or
 * older: its taker has not marked it yet) belongs to a writer that has not finished: when
 * another thread of this process is in flight (the handle's count), it may be that one, and
 * the line is dropped (the ring has no room now); when none is, no live writer can own it (a
 * writer is a thread of the owner, and we are the owner's only one in flight), so it is taken.
 * The CAS is tried a bounded number of times: another process may keep moving head.
 *
 * A writer then marks its slots BUSY (release), writes the line's words, and publishes the
 * further slots (CONT) and last the first slot (HEAD), each with a release store: a reader
 * that sees HEAD sees a complete line. A reader copies a line like a seqlock: seq (acquire),
 * the words (relaxed), an acquire fence, seq again; a line whose slots changed meanwhile was
 * overwritten and is not shown.
 *
 * Death. A writer killed between its CAS and its HEAD store leaves its slots BUSY or unmarked.
 * A reader meeting such a slot at its position asks the kernel whether the CPU has an owner
 * (the claim, lib/region/claim.c), once the line has been in progress for a millisecond:
 * without an owner the slot is dead and skipped; with one it is a line in progress, waited for
 * (ipcc_log_read says -EAGAIN) up to IPCC_LOG_STALL_MS, then skipped too. The next owner marks every unfinished slot of the last lap DEAD when it
 * attaches, before any thread of it can write (log_attach): nothing of a dead writer outlives
 * its successor's attach, and its line number shows up as lost.
 *
 * Doorbell. A reader that wants to sleep reads bell, stores waiting = 1, fences (seq_cst),
 * then looks at the rings once more, and sleeps on bell only if nothing is there. A writer
 * publishes, fences (seq_cst), and, if waiting is 1, swaps it to 0 and bumps and wakes bell.
 * Of the two fences one comes first: either the writer sees waiting, or the reader's second
 * look sees the line. The ringer clears waiting, so a reader that died asleep costs one wake.
 */
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/log.h>

#include "internal.h"

#define SEQ(ticket, state) ((uint64_t)(uint32_t)(ticket) << 32 | (state))
#define SEQ_TICKET(seq)	   ((uint32_t)((seq) >> 32))
#define SEQ_STATE(seq)	   ((uint32_t)((seq)&0xFFu))

/* How often a writer tries to reserve before it drops its line (log_reserve). */
#define LOG_PUT_TRIES 64u
/* How long a line may be in progress before a reader asks the kernel about its owner, and
 * how long a reader stuck behind it sleeps between two looks. */
#define LOG_STALL_CHECK_NS 1000000ull
#define LOG_STALL_POLL_MS  20u

/* ---- config ------------------------------------------------------------------------------- */

IPCC_EXPORT void ipcc_log_config_init(struct ipcc_log_config *lcfg)
{
	if (!lcfg)
		return;
	memset(lcfg, 0, sizeof(*lcfg));
	lcfg->ring_size = IPCC_LOG_RING_SIZE_DEFAULT;
}

static bool pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static int config_check(const struct ipcc_log_config *l)
{
	if (!pow2(l->ring_size) || l->ring_size < IPCC_LOG_RING_SIZE_MIN ||
	    l->ring_size > IPCC_LOG_RING_SIZE_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(l->reserved) / sizeof(l->reserved[0]); i++)
		if (l->reserved[i])
			return -EINVAL;
	return 0;
}

static uint32_t ring_slots(uint32_t ring_size)
{
	return ring_size / IPCC_SHM_LOG_SLOT_SIZE;
}

static uint32_t ring_stride(uint32_t slots)
{
	return IPCC_SHM_LOG_RING_SIZE + slots * IPCC_SHM_LOG_SLOT_SIZE;
}

static bool slots_ok(uint32_t slots)
{
	return pow2(slots) && slots >= ring_slots(IPCC_LOG_RING_SIZE_MIN) &&
	       slots <= ring_slots(IPCC_LOG_RING_SIZE_MAX);
}

/* Slots a line of len bytes takes. */
static unsigned line_slots(size_t len)
{
	if (len <= IPCC_SHM_LOG_HEAD_TEXT)
		return 1;
	return 1 + (unsigned)((len - IPCC_SHM_LOG_HEAD_TEXT + IPCC_SHM_LOG_CONT_TEXT - 1) /
			      IPCC_SHM_LOG_CONT_TEXT);
}

/* ---- the section type --------------------------------------------------------------------- */

/* This process's view of the log section (sys->layer[IPCC_LAYER_LOG]), copied at load. */
struct log_sys {
	struct ipcc_shm_log_head *head; /* NULL: the object has no log */
	uint8_t *rings;			/* ring 0 */
	uint32_t slots;			/* per ring, a power of two */
	uint32_t stride;		/* bytes per ring */
	unsigned count;			/* rings: CPUs */
};

static struct log_sys *lsys(const struct ipcc_system *sys)
{
	return (struct log_sys *)sys->layer[IPCC_LAYER_LOG];
}

static struct ipcc_shm_log_ring *ring_at(const struct log_sys *ls, unsigned cpu)
{
	return (struct ipcc_shm_log_ring *)(ls->rings + (uint64_t)cpu * ls->stride);
}

static struct ipcc_shm_log_slot *slot_at(const struct log_sys *ls,
					 const struct ipcc_shm_log_ring *r, uint32_t ticket)
{
	struct ipcc_shm_log_slot *slots = (struct ipcc_shm_log_slot *)(r + 1);
	return &slots[ticket & (ls->slots - 1)];
}

static int log_plan(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
		    struct ipcc_shm_section *out, unsigned cap)
{
	if (!cfg->log)
		return 0;
	if (config_check(cfg->log) < 0 || cap < 1)
		return -EINVAL;
	uint32_t slots = ring_slots(cfg->log->ring_size);
	out[0] = (struct ipcc_shm_section){
		.size = IPCC_SHM_LOG_HEAD_SIZE + (uint64_t)g->cpus * ring_stride(slots),
		.count = g->cpus,
		.stride = ring_stride(slots),
		.owner = IPCC_SECTION_OWNER_NONE,
		.arg = slots,
	};
	return 1;
}

static int log_check(struct ipcc_geometry *g, const struct ipcc_shm_section *s)
{
	if (!slots_ok(s->arg) || s->stride != ring_stride(s->arg) || s->count != g->cpus ||
	    s->owner != IPCC_SECTION_OWNER_NONE ||
	    s->size != IPCC_SHM_LOG_HEAD_SIZE + (uint64_t)s->count * s->stride)
		return -EUCLEAN;
	return 0;
}

static void log_init(struct ipcc_system *sys, const struct ipcc_shm_section *s,
		     const struct ipcc_config *cfg)
{
	struct ipcc_shm_log_head *h = (struct ipcc_shm_log_head *)(sys->base + s->offset);
	struct log_sys tmp = {
		.rings = sys->base + s->offset + IPCC_SHM_LOG_HEAD_SIZE,
		.slots = s->arg,
		.stride = s->stride,
		.count = s->count,
	};

	(void)cfg;
	h->magic = IPCC_LOG_MAGIC;
	h->slots = s->arg;
	h->rings = s->count;
	h->slot_size = IPCC_SHM_LOG_SLOT_SIZE;
	h->line_max = IPCC_LOG_LINE_MAX;
	/* A lap of nothing before ticket 0 (see the file comment). Relaxed: nobody else sees the
	 * object before READY (a release in the creator). */
	for (unsigned c = 0; c < tmp.count; c++) {
		struct ipcc_shm_log_ring *r = ring_at(&tmp, c);
		for (uint32_t i = 0; i < tmp.slots; i++)
			atomic_store_explicit(&slot_at(&tmp, r, i)->seq,
					      SEQ(i - tmp.slots, IPCC_LOG_SLOT_DEAD),
					      memory_order_relaxed);
	}
}

static int log_load(struct ipcc_system *sys, const struct ipcc_shm_section *s)
{
	struct log_sys *ls = lsys(sys);
	/* One copy of the creator's line: a peer may rewrite it between a check and a use. */
	struct ipcc_shm_log_head copy;
	memcpy(&copy, sys->base + s->offset, offsetof(struct ipcc_shm_log_head, bell));

	if (ls->head)
		return -EUCLEAN; /* a second log section */
	if (copy.magic != IPCC_LOG_MAGIC || copy.slots != s->arg || copy.rings != s->count ||
	    copy.slot_size != IPCC_SHM_LOG_SLOT_SIZE)
		return -EUCLEAN;
	*ls = (struct log_sys){
		.head = (struct ipcc_shm_log_head *)(sys->base + s->offset),
		.rings = sys->base + s->offset + IPCC_SHM_LOG_HEAD_SIZE,
		.slots = s->arg,
		.stride = s->stride,
		.count = s->count,
	};
	return 0;
}

/* ipcc_system_open_or_create: a log asked for is there with its ring size, or none is. */
static bool log_matches(const struct ipcc_system *sys, const struct ipcc_config *cfg)
{
	const struct log_sys *ls = lsys(sys);
	if (!cfg->log)
		return ls->head == NULL;
	return ls->head && config_check(cfg->log) == 0 &&
	       ls->slots == ring_slots(cfg->log->ring_size);
}

const struct ipcc_section_type ipcc_section_log = {
	.type = IPCC_SECTION_LOG,
	.name = "log",
	.layer = "log",
	.required = false,
	.plan = log_plan,
	.check = log_check,
	.init = log_init,
	.load = log_load,
	.matches = log_matches,
};

/* ---- the layer ---------------------------------------------------------------------------- */

/* The writers' side of one CPU (cpu->layer[IPCC_LAYER_LOG]); NULL without a log. */
struct log_cpu {
	const struct log_sys *ls;
	struct ipcc_shm_log_ring *ring;
	_Atomic unsigned inflight; /* this process's writers between reserving and publishing */
};

static int log_open(struct ipcc_system *sys)
{
	struct log_sys *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	sys->layer[IPCC_LAYER_LOG] = ls;
	return 0;
}

static void log_close(struct ipcc_system *sys)
{
	free(sys->layer[IPCC_LAYER_LOG]);
	sys->layer[IPCC_LAYER_LOG] = NULL;
}

/*
 * Mark DEAD every slot of the last lap that holds no complete part of a line for its ticket:
 * what a previous owner left when it died mid-line. We own the CPU and no thread of ours
 * writes yet, so nobody else may be writing these slots (a process that can write the object
 * may, and gets what it wrote). Readers only read: they see the slot change and skip it.
 */
static void ring_repair(const struct log_sys *ls, struct ipcc_shm_log_ring *r)
{
	/* Relaxed: the dead writer's words are looked at one by one below; ordering with its
	 * stores does not matter, it stores nothing more. */
	uint32_t pos = (uint32_t)atomic_load_explicit(&r->head, memory_order_relaxed);
	for (uint32_t t = pos - ls->slots; t != pos; t++) {
		struct ipcc_shm_log_slot *s = slot_at(ls, r, t);
		/* Relaxed: see above. */
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
		uint32_t st = SEQ_STATE(seq);
		if (SEQ_TICKET(seq) == t && (st == IPCC_LOG_SLOT_HEAD || st == IPCC_LOG_SLOT_CONT ||
					     st == IPCC_LOG_SLOT_DEAD))
			continue;
		/* Release: pairs with the acquire load in slots_free, which takes it as settled. */
		atomic_store_explicit(&s->seq, SEQ(t, IPCC_LOG_SLOT_DEAD), memory_order_release);
	}
}

static int log_attach(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *opt)
{
	const struct log_sys *ls = lsys(cpu->sys);

	(void)opt;
	if (!ls->head)
		return 0; /* no log in this object: cpu->layer stays NULL */
	struct log_cpu *lc = calloc(1, sizeof(*lc));
	if (!lc)
		return -ENOMEM;
	lc->ls = ls;
	lc->ring = ring_at(ls, cpu->id);
	ring_repair(ls, lc->ring);
	cpu->layer[IPCC_LAYER_LOG] = lc;
	return 0;
}

static void log_detach(struct ipcc_cpu *cpu)
{
	free(cpu->layer[IPCC_LAYER_LOG]);
	cpu->layer[IPCC_LAYER_LOG] = NULL;
}

const struct ipcc_layer ipcc_layer_log = {
	.name = "log",
	.open = log_open,
	.close = log_close,
	.attach = log_attach,
	.detach = log_detach,
};

/* ---- writers ------------------------------------------------------------------------------ */

/* Tests only (tests/log): called after a line's words are written, before it is published. */
void (*ipcc_log_test_mid_line)(void);

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * May slots pos .. pos + k - 1 be taken (see the file comment)? 1 yes; 0 one of them is being
 * written by a writer that may be alive (no room now); -1 head moved on since we read it.
 */
static int slots_free(struct log_cpu *lc, uint32_t pos, unsigned k)
{
	const struct log_sys *ls = lc->ls;
	for (unsigned j = 0; j < k; j++) {
		uint32_t prev = pos + j - ls->slots;
		/* Acquire: pairs with the release stores of HEAD, CONT (log_put) and DEAD
		 * (ring_repair): the previous lap's writer is done with the slot before we write. */
		uint64_t seq = atomic_load_explicit(&slot_at(ls, lc->ring, pos + j)->seq,
						    memory_order_acquire);
		uint32_t st = SEQ_STATE(seq);
		if (SEQ_TICKET(seq) == prev &&
		    (st == IPCC_LOG_SLOT_HEAD || st == IPCC_LOG_SLOT_CONT ||
		     st == IPCC_LOG_SLOT_DEAD))
			continue;
		if ((int32_t)(SEQ_TICKET(seq) - prev) > 0)
			return -1;
		/*
		 * Unfinished. Acquire: pairs with the release decrement in log_put, so a count of
		 * 1 (us) means the slot's writer, if it was ours, has published. Its increment we
		 * see either way: it came before its CAS on head, whose value (or a later one) we
		 * loaded with acquire (log_reserve), and before its BUSY store, a release.
		 */
		if (atomic_load_explicit(&lc->inflight, memory_order_acquire) > 1)
			return 0;
	}
	return 1;
}

/* Reserve k slots: 0 with *ret_head the head we moved on from, or -ENOBUFS. */
static int log_reserve(struct log_cpu *lc, unsigned k, uint64_t *ret_head)
{
	/*
	 * Acquire, here and when the CAS fails: pairs with the release of the CAS that took the
	 * tickets up to h, so that the inflight count of that writer, made before it, is seen by
	 * slots_free when it looks at a slot that writer has not marked yet. The words of the
	 * lines are ordered by the slots' states, not by head.
	 */
	uint64_t h = atomic_load_explicit(&lc->ring->head, memory_order_acquire);
	for (unsigned tries = 0; tries < LOG_PUT_TRIES; tries++) {
		uint32_t pos = (uint32_t)h;
		int room = slots_free(lc, pos, k);
		if (room == 0)
			return -ENOBUFS;
		if (room < 0) {
			/* Acquire: as above. */
			h = atomic_load_explicit(&lc->ring->head, memory_order_acquire);
			continue;
		}
		uint64_t next = ((h >> 32) + 1) << 32 | (uint32_t)(pos + k);
		/* Release (on success): our inflight count before our tickets (see above);
		 * acquire on failure, as the load. */
		if (atomic_compare_exchange_weak_explicit(&lc->ring->head, &h, next,
							  memory_order_acq_rel,
							  memory_order_acquire)) {
			*ret_head = h;
			return 0;
		}
	}
	return -ENOBUFS; /* another process keeps moving head: we do not wait for it */
}

/* Pack up to 8 bytes of text into a word, in memory order. */
static uint64_t text_word(const char *text, size_t len, size_t at)
{
	uint64_t w = 0;
	if (at < len)
		memcpy(&w, text + at, len - at < 8 ? len - at : 8);
	return w;
}

static void ring_bell(struct ipcc_shm_log_head *h)
{
	/* seq_cst: the store-buffer pairing with the reader's fence in ipcc_log_wait (file
	 * comment): our published line before our look at waiting. */
	atomic_thread_fence(memory_order_seq_cst);
	/* Relaxed load: a hint that saves the swap; the swap decides. Acquire swap: pairs with
	 * the reader's store of waiting, which it made after reading bell. */
	if (!atomic_load_explicit(&h->waiting, memory_order_relaxed) ||
	    !atomic_exchange_explicit(&h->waiting, 0, memory_order_acquire))
		return;
	/* Release: a woken reader's look at the rings comes after our line. */
	atomic_fetch_add_explicit(&h->bell, 1, memory_order_release);
	syscall(SYS_futex, &h->bell, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int log_put(struct ipcc_cpu *cpu, const char *text, size_t len)
{
	struct log_cpu *lc = (struct log_cpu *)cpu->layer[IPCC_LAYER_LOG];
	const struct log_sys *ls = lc->ls;
	uint64_t t = now_ns();
	uint64_t h;

	if (len && text[len - 1] == '\n')
		len--;
	unsigned k = line_slots(len);
	if (len > IPCC_LOG_LINE_MAX || k > ls->slots / 4) {
		/* Relaxed: a statistic, read alone. */
		atomic_fetch_add_explicit(&lc->ring->dropped, 1, memory_order_relaxed);
		return -EMSGSIZE;
	}
	/* Relaxed: published by the release of our CAS on head and of our BUSY stores, the two
	 * ways another writer of ours reaches a slot we hold (slots_free). */
	atomic_fetch_add_explicit(&lc->inflight, 1, memory_order_relaxed);
	int r = log_reserve(lc, k, &h);
	if (r < 0) {
		/* Release: as the decrement below (nothing of ours is in the slots). */
		atomic_fetch_sub_explicit(&lc->inflight, 1, memory_order_release);
		atomic_fetch_add_explicit(&lc->ring->dropped, 1, memory_order_relaxed);
		return r;
	}
	uint32_t pos = (uint32_t)h, number = (uint32_t)(h >> 32);
	for (unsigned j = 0; j < k; j++)
		/* Release: our inflight count before it (slots_free). */
		atomic_store_explicit(&slot_at(ls, lc->ring, pos + j)->seq,
				      SEQ(pos + j, IPCC_LOG_SLOT_BUSY), memory_order_release);
	/* Release fence: the BUSY marks before any word below, for a reader still copying the
	 * slots' previous line (its acquire fence in line_copy sees BUSY if it saw a word). */
	atomic_thread_fence(memory_order_release);
	struct ipcc_shm_log_slot *first = slot_at(ls, lc->ring, pos);
	/* Relaxed: published by the release stores of CONT and HEAD below. */
	atomic_store_explicit(&first->word[0], t, memory_order_relaxed);
	atomic_store_explicit(&first->word[1], (uint64_t)number << 32 | (uint64_t)len << 8 | k,
			      memory_order_relaxed);
	size_t at = 0;
	for (unsigned w = 2; w < 7; w++, at += 8)
		atomic_store_explicit(&first->word[w], text_word(text, len, at),
				      memory_order_relaxed);
	for (unsigned j = 1; j < k; j++) {
		struct ipcc_shm_log_slot *s = slot_at(ls, lc->ring, pos + j);
		for (unsigned w = 0; w < 7; w++, at += 8)
			atomic_store_explicit(&s->word[w], text_word(text, len, at),
					      memory_order_relaxed);
	}
	if (ipcc_unlikely(ipcc_log_test_mid_line != NULL))
		ipcc_log_test_mid_line();
	for (unsigned j = k; j-- > 1;)
		/* Release: the words before the state (line_copy's acquire load of seq). */
		atomic_store_explicit(&slot_at(ls, lc->ring, pos + j)->seq,
				      SEQ(pos + j, IPCC_LOG_SLOT_CONT), memory_order_release);
	/* Release: the line, whole, before HEAD; pairs with the acquire loads of seq in
	 * line_copy and slots_free. */
	atomic_store_explicit(&first->seq, SEQ(pos, IPCC_LOG_SLOT_HEAD), memory_order_release);
	/* Release: our slots' stores before a count that says we are done (slots_free). */
	atomic_fetch_sub_explicit(&lc->inflight, 1, memory_order_release);
	ring_bell(ls->head);
	return 0;
}

IPCC_EXPORT int ipcc_log_write(struct ipcc_cpu *cpu, const char *text, size_t len)
{
	if (!cpu || (!text && len))
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE;
	if (!cpu->layer[IPCC_LAYER_LOG])
		return -EOPNOTSUPP;
	return log_put(cpu, text ? text : "", len);
}

IPCC_EXPORT int ipcc_log_vprintf(struct ipcc_cpu *cpu, const char *fmt, va_list ap)
{
	char buf[IPCC_LOG_LINE_MAX + 2]; /* room for a trailing newline, dropped */

	if (!cpu || !fmt)
		return -EINVAL;
	if (ipcc_cpu_stale(cpu))
		return -ESTALE;
	struct log_cpu *lc = (struct log_cpu *)cpu->layer[IPCC_LAYER_LOG];
	if (!lc)
		return -EOPNOTSUPP;
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(buf)) {
		/* Relaxed: a statistic. Too long for a line: dropped whole, never cut. */
		atomic_fetch_add_explicit(&lc->ring->dropped, 1, memory_order_relaxed);
		return -EMSGSIZE;
	}
	return log_put(cpu, buf, (size_t)n); /* which refuses LINE_MAX + 1 without a newline */
}

IPCC_EXPORT int ipcc_log_printf(struct ipcc_cpu *cpu, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = ipcc_log_vprintf(cpu, fmt, ap);
	va_end(ap);
	return r;
}

IPCC_EXPORT int ipcc_log_ring_size(const struct ipcc_system *sys)
{
	if (!sys)
		return -EINVAL;
	const struct log_sys *ls = lsys(sys);
	if (!ls->head)
		return -EOPNOTSUPP;
	return (int)(ls->slots * IPCC_SHM_LOG_SLOT_SIZE);
}

IPCC_EXPORT int ipcc_log_dropped(const struct ipcc_system *sys, unsigned cpu, uint64_t *ret_count)
{
	if (!sys || !ret_count)
		return -EINVAL;
	const struct log_sys *ls = lsys(sys);
	if (!ls->head)
		return -EOPNOTSUPP;
	if (cpu >= ls->count)
		return -EINVAL;
	/* Relaxed: a statistic. */
	*ret_count = atomic_load_explicit(&ring_at(ls, cpu)->dropped, memory_order_relaxed);
	return 0;
}

/* ---- readers ------------------------------------------------------------------------------ */

/* What a reader knows of one CPU's ring: its own position, nothing in the object. */
struct ring_reader {
	unsigned cpu;
	struct ipcc_shm_log_ring *ring;
	uint32_t pos;	/* the next ticket to look at */
	uint32_t end;	/* IPCC_LOG_READ_UNTIL: where to stop */
	bool have_next; /* next_line is known (the first line read sets it otherwise) */
	uint32_t next_line;
	uint64_t lines, lost;
	bool stalled; /* the last fill stopped at a line in progress, at stall_pos */
	uint32_t stall_pos;
	uint64_t stall_since; /* CLOCK_MONOTONIC ns */
	bool more;	      /* the last fill stopped at its bound, not for want of lines */
	bool pending;	      /* line holds the ring's next line */
	struct ipcc_log_line line;
};

struct ipcc_log_reader {
	struct ipcc_system *sys;
	const struct log_sys *ls;
	bool until;
	unsigned count;
	struct ring_reader ring[];
};

IPCC_EXPORT int ipcc_log_reader_new(struct ipcc_system *sys, uint64_t cpus, unsigned flags,
				    struct ipcc_log_reader **ret_reader)
{
	if (!sys || !ret_reader || (flags & ~(IPCC_LOG_READ_NEW | IPCC_LOG_READ_UNTIL)))
		return -EINVAL;
	const struct log_sys *ls = lsys(sys);
	if (!ls->head)
		return -EOPNOTSUPP;
	uint64_t all = ls->count == 64 ? ~0ull : (1ull << ls->count) - 1;
	if (cpus & ~all)
		return -EINVAL;
	if (!cpus)
		cpus = all;
	unsigned n = (unsigned)__builtin_popcountll(cpus);
	struct ipcc_log_reader *r = calloc(1, sizeof(*r) + n * sizeof(r->ring[0]));
	if (!r)
		return -ENOMEM;
	r->sys = sys;
	r->ls = ls;
	r->until = flags & IPCC_LOG_READ_UNTIL;
	unsigned c;
	uint64_t tmp;
	ipcc_for_each_bit(c, tmp, cpus) {
		struct ring_reader *rr = &r->ring[r->count++];
		rr->cpu = c;
		rr->ring = ring_at(ls, c);
		/* Relaxed: a starting point; the slots' states order what we read. */
		uint64_t h = atomic_load_explicit(&rr->ring->head, memory_order_relaxed);
		rr->end = (uint32_t)h;
		rr->pos = flags & IPCC_LOG_READ_NEW ? (uint32_t)h : (uint32_t)h - ls->slots;
		/* Lines before the first one read count as lost only if we know where they
		 * began: from now on, or on a ring nobody wrote yet. */
		rr->have_next = (flags & IPCC_LOG_READ_NEW) || (h >> 32) == 0;
		rr->next_line = (uint32_t)(h >> 32);
	}
	*ret_reader = r;
	return 0;
}

IPCC_EXPORT void ipcc_log_reader_free(struct ipcc_log_reader *reader)
{
	free(reader);
}

/*
 * Copy the line whose first slot, at rr->pos, showed seq0 (HEAD of that ticket) into rr->line.
 * Returns its slot count; 0 if it changed while we copied (overwritten: look again); -1 if its
 * words make no sense (written by a process that can write the object): skip the slot.
 */
static int line_copy(const struct log_sys *ls, struct ring_reader *rr, uint64_t seq0)
{
	struct ipcc_shm_log_slot *first = slot_at(ls, rr->ring, rr->pos);
	uint64_t words[7], text[(IPCC_LOG_LINE_MAX + 7) / 8 + 7];

	/* Relaxed: checked by the seq loads after the acquire fence below. */
	for (unsigned w = 0; w < 7; w++)
		words[w] = atomic_load_explicit(&first->word[w], memory_order_relaxed);
	uint32_t len = (uint32_t)(words[1] >> 8) & 0xFFFFFFu;
	unsigned k = words[1] & 0xFFu;
	bool sane = len <= IPCC_LOG_LINE_MAX && k == line_slots(len) && k <= ls->slots / 4;
	if (sane) {
		memcpy(text, &words[2], IPCC_SHM_LOG_HEAD_TEXT);
		for (unsigned j = 1; j < k && sane; j++) {
			struct ipcc_shm_log_slot *s = slot_at(ls, rr->ring, rr->pos + j);
			/* Acquire: pairs with the writer's release store of CONT (log_put). */
			uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
			sane = seq == SEQ(rr->pos + j, IPCC_LOG_SLOT_CONT);
			for (unsigned w = 0; w < 7 && sane; w++)
				/* Relaxed: as above. */
				text[5 + (j - 1) * 7 + w] =
					atomic_load_explicit(&s->word[w], memory_order_relaxed);
		}
	}
	/* Acquire fence: our word loads before the seq loads below; pairs with the writer's
	 * release fence after its BUSY marks (log_put): if we read a word of a newer line, we see
	 * its BUSY or later below. */
	atomic_thread_fence(memory_order_acquire);
	/* Relaxed: ordered by the fence. */
	if (atomic_load_explicit(&first->seq, memory_order_relaxed) != seq0)
		return 0;
	for (unsigned j = 1; j < k && sane; j++) {
		struct ipcc_shm_log_slot *s = slot_at(ls, rr->ring, rr->pos + j);
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) !=
		    SEQ(rr->pos + j, IPCC_LOG_SLOT_CONT))
			return 0;
	}
	if (!sane)
		return -1;
	struct ipcc_log_line *l = &rr->line;
	l->time_ns = words[0];
	l->number = (uint32_t)(words[1] >> 32);
	l->cpu = (uint16_t)rr->cpu;
	l->len = (uint16_t)len;
	l->reserved = 0;
	memcpy(l->text, text, len);
	l->text[len] = '\0';
	return (int)k;
}

/* Whether CPU cpu has an owner now; an error of the probe counts as yes (wait, then skip). */
static bool owner_alive(struct ipcc_system *sys, unsigned cpu)
{
	return ipcc_claim_held(sys, cpu) != 0;
}

/*
 * Bring ring rr's next line into rr->line, unless it holds one. 1 a line is pending; 0 the
 * ring is read up to its latest complete line; -EAGAIN a line is in progress at our position,
 * or we looked at two laps' worth of slots (rr->more) and stop for this call.
 */
static int ring_fill(struct ipcc_log_reader *r, struct ring_reader *rr)
{
	const struct log_sys *ls = r->ls;

	rr->more = false;
	if (rr->pending)
		return 1;
	for (uint32_t looked = 0;; looked++) {
		/* Relaxed: how far to look; each slot's state is loaded with acquire. After the
		 * seq_cst fence of ipcc_log_wait this sees what a writer that missed our
		 * announcement reserved. */
		uint32_t h = (uint32_t)atomic_load_explicit(&rr->ring->head, memory_order_relaxed);
		if (r->until && (int32_t)(h - rr->end) > 0)
			h = rr->end;
		uint32_t behind = h - rr->pos;
		if (behind == 0 || (r->until && (int32_t)behind < 0))
			return 0;
		/* Two laps' worth of looks per call, whatever the slots hold: a writer (or a
		 * forger) overwriting us as fast as we look cannot keep the call from returning. */
		if (looked == 2 * ls->slots) {
			rr->more = true;
			return -EAGAIN;
		}
		if (behind > ls->slots) {
			/* Overrun: what we had not read was overwritten; the line numbers count it. */
			rr->pos = h - ls->slots;
			continue;
		}
		struct ipcc_shm_log_slot *s = slot_at(ls, rr->ring, rr->pos);
		/* Acquire: pairs with the writer's release store of HEAD (log_put). */
		uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		uint32_t t = SEQ_TICKET(seq), st = SEQ_STATE(seq);
		if (t == rr->pos && st == IPCC_LOG_SLOT_HEAD) {
			int k = line_copy(ls, rr, seq);
			if (k == 0)
				continue; /* overwritten while we copied: head says how far */
			if (k < 0) {
				rr->pos++;
				continue;
			}
			rr->pos += (uint32_t)k;
			struct ipcc_log_line *l = &rr->line;
			uint32_t gap = rr->have_next ? l->number - rr->next_line : 0;
			l->lost =
				gap < (1u << 31) ? gap : 0; /* a number from the past: a forgery */
			rr->lost += l->lost;
			rr->next_line = l->number + 1;
			rr->have_next = true;
			rr->pending = true;
			rr->stalled = false;
			return 1;
		}
		bool unfinished =
			(t == rr->pos && st == IPCC_LOG_SLOT_BUSY) || (int32_t)(t - rr->pos) < 0;
		if (unfinished) {
			uint64_t now = now_ns();
			if (!rr->stalled || rr->stall_pos != rr->pos) {
				rr->stalled = true;
				rr->stall_pos = rr->pos;
				rr->stall_since = now;
			}
			/* A live writer finishes in microseconds: the kernel is asked only
			 * about a line that is late, and a line later than STALL is skipped
			 * even with an owner (a stopped process). */
			uint64_t late = now - rr->stall_since;
			if (late < LOG_STALL_CHECK_NS ||
			    (late < IPCC_LOG_STALL_MS * 1000000ull && owner_alive(r->sys, rr->cpu)))
				return -EAGAIN;
		}
		/* CONT without its first slot, DEAD, a dead or stalled reservation, a slot of a
		 * later lap that head does not explain, garbage: nothing to show here. */
		rr->stalled = false;
		rr->pos++;
	}
}

/* Fill every ring; the index of the line to return next, or 0 / -EAGAIN (ipcc_log_read). */
static int merge_pick(struct ipcc_log_reader *r, unsigned *ret_index)
{
	bool held = false, found = false;
	unsigned best = 0;

	for (unsigned i = 0; i < r->count; i++) {
		struct ring_reader *rr = &r->ring[i];
		int f = ring_fill(r, rr);
		if (f == -EAGAIN)
			held = true;
		if (f != 1)
			continue;
		if (!found || rr->line.time_ns < r->ring[best].line.time_ns)
			best = i;
		found = true;
	}
	/* A line in progress may be older than every pending one: hold them back. */
	if (held)
		return -EAGAIN;
	if (!found)
		return 0;
	*ret_index = best;
	return 1;
}

IPCC_EXPORT int ipcc_log_read(struct ipcc_log_reader *reader, struct ipcc_log_line *ret)
{
	unsigned i;

	if (!reader || !ret)
		return -EINVAL;
	int r = merge_pick(reader, &i);
	if (r <= 0)
		return r;
	struct ring_reader *rr = &reader->ring[i];
	memcpy(ret, &rr->line, offsetof(struct ipcc_log_line, text) + rr->line.len + 1);
	rr->pending = false;
	rr->lines++;
	return 1;
}

static struct timespec deadline_after(uint64_t ns)
{
	uint64_t t = now_ns() + ns;
	return (struct timespec){ .tv_sec = (time_t)(t / 1000000000u),
				  .tv_nsec = (long)(t % 1000000000u) };
}

IPCC_EXPORT int ipcc_log_wait(struct ipcc_log_reader *reader, int timeout_ms)
{
	unsigned i;

	if (!reader || timeout_ms < -1)
		return -EINVAL;
	struct ipcc_shm_log_head *h = reader->ls->head;
	bool rw = !reader->sys->readonly;
	uint64_t start = now_ns();
	/* Relaxed: compared by the kernel; a ring after this load changes it (ring_bell). */
	uint32_t bell = atomic_load_explicit(&h->bell, memory_order_relaxed);
	if (rw)
		/* Relaxed, then the fence: the store-buffer pairing of the file comment. */
		atomic_store_explicit(&h->waiting, 1, memory_order_relaxed);
	/* seq_cst: pairs with the fence in ring_bell. */
	atomic_thread_fence(memory_order_seq_cst);
	int r = merge_pick(reader, &i);
	bool stalled = false, more = false;
	for (unsigned k = 0; k < reader->count; k++) {
		stalled |= reader->ring[k].stalled;
		more |= reader->ring[k].more;
	}
	if (r == 1 || more)
		return 0;
	uint64_t ns = timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * 1000000u;
	uint64_t cap = stalled ? LOG_STALL_POLL_MS : rw ? UINT64_MAX : IPCC_LOG_POLL_MS;
	bool capped = cap != UINT64_MAX && cap * 1000000u < ns;
	if (capped)
		ns = cap * 1000000u;
	struct timespec deadline = deadline_after(ns);
	long s = syscall(SYS_futex, &h->bell, FUTEX_WAIT_BITSET, bell,
			 ns == UINT64_MAX ? NULL : &deadline, NULL, FUTEX_BITSET_MATCH_ANY);
	int err = s < 0 ? errno : 0;
	if (err == EFAULT || err == ENOSYS) {
		/* No futex on this mapping: sleep instead (a read-only observer is only polled). */
		struct timespec d =
			deadline_after(ns == UINT64_MAX ? IPCC_LOG_POLL_MS * 1000000ull : ns);
		err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL) == EINTR
			      ? EINTR
			      : ETIMEDOUT;
	}
	if (err == EINTR)
		return -EINTR;
	if (err == ETIMEDOUT && !capped &&
	    (timeout_ms >= 0 && now_ns() - start >= (uint64_t)timeout_ms * 1000000u))
		return -ETIMEDOUT;
	return 0;
}

IPCC_EXPORT int ipcc_log_reader_stats(const struct ipcc_log_reader *reader, unsigned cpu,
				      struct ipcc_log_stats *ret_stats)
{
	if (!reader || !ret_stats)
		return -EINVAL;
	for (unsigned i = 0; i < reader->count; i++) {
		const struct ring_reader *rr = &reader->ring[i];
		if (rr->cpu != cpu)
			continue;
		/* Relaxed: a statistic. */
		*ret_stats = (struct ipcc_log_stats){
			.lines = rr->lines,
			.lost = rr->lost,
			.dropped = atomic_load_explicit(&rr->ring->dropped, memory_order_relaxed),
		};
		return 0;
	}
	return -EINVAL;
}

IPCC_EXPORT int ipcc_log_format(const struct ipcc_system *sys, const struct ipcc_log_line *line,
				char *buf, size_t size)
{
	if (!sys || !line || (!buf && size) || line->len > IPCC_LOG_LINE_MAX)
		return -EINVAL;
	const char *name = ipcc_system_cpu_name(sys, line->cpu);
	int n = snprintf(buf, size, "[%s] %5" PRIu64 ".%06" PRIu64 "s : ", name ? name : "?",
			 line->time_ns / 1000000000u, line->time_ns % 1000000000u / 1000u);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < size) {
		size_t room = size - (size_t)n - 1;
		size_t c = line->len < room ? line->len : room;
		memcpy(buf + n, line->text, c);
		buf[(size_t)n + c] = '\0';
	}
	return n + line->len;
}
