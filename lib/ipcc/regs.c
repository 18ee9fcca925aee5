/* SPDX-License-Identifier: MIT */
/*
 * Register-accurate IPCC: decode of the register map, the effects of each write, and the
 * interrupt equations. One instance per link, all of its state in the shared object.
 *
 * Memory order: every register access is seq_cst. A write that may raise a line of a CPU rings
 * that CPU (lib/bell/bell.c) after evaluating the line from the registers; the CPU itself
 * writes its own CR/MR and then re-evaluates. seq_cst on both sides puts the two accesses of each
 * side in one total order, so the ringer sees the unmask or the CPU sees the flag: a level is
 * never lost (store-load ordering, which acquire/release cannot give).
 */
#include <limits.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bell/bell.h"
#include "ipcc/trace-hooks.h"

static uint32_t bank_valid_mr(const struct ipcc_system *sys)
{
	return sys->geo.chmask | (sys->geo.chmask << 16);
}

uint32_t ipcc_link_pending(struct ipcc_system *sys, struct ipcc_link *l, unsigned p,
			   enum ipcc_irq line)
{
	struct ipcc_shm_link *s = l->shm;
	uint32_t chmask = sys->geo.chmask;
	/* seq_cst: see the file comment; pairs with the writes in this file. */
	uint32_t cr = atomic_load_explicit(&s->bank[p].cr, memory_order_seq_cst);
	uint32_t mr = atomic_load_explicit(&s->bank[p].mr, memory_order_seq_cst);

	if (line == IPCC_IRQ_RXO) {
		if (!(cr & IPCC_CR_RXOIE))
			return 0;
		uint32_t sr = atomic_load_explicit(&s->status[!p].sr, memory_order_seq_cst);
		return sr & ~mr & chmask;
	}
	if (!(cr & IPCC_CR_TXFIE))
		return 0;
	uint32_t sr = atomic_load_explicit(&s->status[p].sr, memory_order_seq_cst);
	return ~sr & ~(mr >> 16) & chmask;
}

/*
 * Whether a ring of processor p's CPU for this link could change anything. Not when the link's
 * pending bit is already set and nobody sleeps: a dispatcher that takes the bit, or a sleeper
 * that announces itself, does so after these seq_cst loads and then sees our register change
 * (the proof is in lib/bell/bell.c). This skips the evaluation of the target's bank, which the target
 * rewrites on every message (mask, unmask): one cache-line transfer per message saved.
 */
static bool ring_may_matter(struct ipcc_system *sys, struct ipcc_link *l, unsigned p)
{
	return ipcc_bell_ring_needed(sys, l->cpu[p], l->cpu[!p]);
}

/* Processor p's own CR or MR changed: if one of its lines is now high, ring its CPU. */
static void ring_self_if_high(struct ipcc_system *sys, struct ipcc_link *l, unsigned p)
{
	if (!ring_may_matter(sys, l, p))
		return;
	if (ipcc_link_pending(sys, l, p, IPCC_IRQ_RXO) ||
	    ipcc_link_pending(sys, l, p, IPCC_IRQ_TXF))
		ipcc_bell_ring(sys, l->cpu[p], l->cpu[!p]);
}

/* ---- line changes pushed to simulators (regs.h: ipcc_regs_on_lines, ipcc_regs_wait_lines) - */

/* Before a write: the in-process callback, if any, and the mask it will compare with. */
static ipcc_lines_fn lines_begin(struct ipcc_system *sys, struct ipcc_link *l, uint32_t *before)
{
	/* Acquire: pairs with the release store of ipcc_regs_on_lines (lines_arg, lines_regs). */
	ipcc_lines_fn fn = atomic_load_explicit(&l->lines_fn, memory_order_acquire);
	if (ipcc_unlikely(fn != NULL))
		*before = ipcc_link_lines(sys, l);
	return fn;
}

/* lines_begin of a traced write: it records line changes, so it needs the mask before. */
static ipcc_lines_fn lines_begin_traced(struct ipcc_system *sys, struct ipcc_link *l,
					uint32_t *before)
{
	ipcc_lines_fn fn = lines_begin(sys, l, before);
	if (fn == NULL)
		*before = ipcc_link_lines(sys, l);
	return fn;
}

/*
 * After a write (its seq_cst store or RMW): wake the line watchers of every process, then call
 * this process's callback if the mask changed. The watchers load is seq_cst after the write,
 * and a waiter counts itself (seq_cst RMW) before it reads the registers: one of the two sees
 * the other (ipcc_regs_wait_lines).
 */
static void lines_end(struct ipcc_system *sys, struct ipcc_link *l, ipcc_lines_fn fn,
		      uint32_t before)
{
	if (ipcc_unlikely(atomic_load_explicit(&l->shm->watch.watchers, memory_order_seq_cst))) {
		atomic_fetch_add_explicit(&l->shm->watch.seq, 1, memory_order_seq_cst);
		syscall(SYS_futex, &l->shm->watch.seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
	if (ipcc_unlikely(fn != NULL)) {
		uint32_t after = ipcc_link_lines(sys, l);
		if (after != before)
			fn(l->lines_regs, before, after, l->lines_arg);
	}
}

/* lines_end of a traced write (t its stamp): it records a line change too. */
static void lines_end_traced(struct ipcc_system *sys, struct ipcc_link *l, ipcc_lines_fn fn,
			     uint32_t before, uint64_t t, unsigned writer)
{
	uint32_t after = ipcc_link_lines(sys, l);
	if (after != before)
		ipcc_trace_put(sys, t, l, writer, IPCC_TRACE_LINES, 0, after, before);
	/* The callback compares with its own look after the write: the same as ours, or later. */
	lines_end(sys, l, fn, before);
}

/*
 * Every register write goes through this: `write` is the write itself, which sees t_, its
 * trace stamp (0: not traced), and passes it to trace_word with each word it changes; `writer`
 * is the CPU whose registers are written (its trace ring), or IPCC_TRACE_NO_CPU. An untraced
 * write runs with t_ the constant 0, so its trace code is compiled out: without a trace section
 * it costs the one branch of ipcc_trace_begin, switched off one relaxed load more.
 */
#define LINK_WRITE(sys, l, writer, write)                                             \
	do {                                                                          \
		uint32_t before_ = 0;                                                 \
		uint64_t stamp_ = ipcc_trace_begin(sys);                              \
		if (ipcc_likely(stamp_ == 0)) {                                       \
			const uint64_t t_ = 0;                                        \
			ipcc_lines_fn fn_ = lines_begin((sys), (l), &before_);        \
			write;                                                        \
			lines_end((sys), (l), fn_, before_);                          \
		} else {                                                              \
			const uint64_t t_ = stamp_;                                   \
			ipcc_lines_fn fn_ = lines_begin_traced((sys), (l), &before_); \
			write;                                                        \
			lines_end_traced((sys), (l), fn_, before_, t_, (writer));     \
		}                                                                     \
	} while (0)

/* The writes below are inlined into both branches of LINK_WRITE: t folds to 0 in one. */
#define WRITE_FN static inline __attribute__((always_inline)) void

/* Record word `kind` of processor p after a write by processor w's CPU (t: trace_begin). */
static inline __attribute__((always_inline)) void trace_word(struct ipcc_system *sys, uint64_t t,
							     struct ipcc_link *l, unsigned w,
							     unsigned kind, unsigned p,
							     uint32_t value, uint32_t mask)
{
	if (ipcc_unlikely(t != 0))
		ipcc_trace_put(sys, t, l, l->cpu[w], kind, p, value, mask);
}

WRITE_FN link_write_cr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v,
		       uint64_t t)
{
	/* seq_cst: see the file comment. Reserved bits are not stored (they read 0). */
	v &= IPCC_CR_RXOIE | IPCC_CR_TXFIE;
	atomic_store_explicit(&l->shm->bank[p].cr, v, memory_order_seq_cst);
	trace_word(sys, t, l, p, IPCC_TRACE_CR, p, v, ~0u);
	ring_self_if_high(sys, l, p);
}

void ipcc_link_write_cr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v)
{
	LINK_WRITE(sys, l, l->cpu[p], link_write_cr(sys, l, p, v, t_));
}

WRITE_FN link_write_mr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v,
		       uint64_t t)
{
	/* seq_cst: see the file comment. Bits without a channel keep their reset value 1. */
	v |= ~bank_valid_mr(sys);
	atomic_store_explicit(&l->shm->bank[p].mr, v, memory_order_seq_cst);
	trace_word(sys, t, l, p, IPCC_TRACE_MR, p, v, ~0u);
	ring_self_if_high(sys, l, p);
}

void ipcc_link_write_mr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v)
{
	LINK_WRITE(sys, l, l->cpu[p], link_write_mr(sys, l, p, v, t_));
}

WRITE_FN link_update_mr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t set,
			uint32_t clear, uint64_t t)
{
	/*
	 * RMW, not store: the application thread and the interrupt thread of one CPU may both
	 * change this CPU's masks. seq_cst: see the file comment.
	 */
	if (set) {
		uint32_t old =
			atomic_fetch_or_explicit(&l->shm->bank[p].mr, set, memory_order_seq_cst);
		trace_word(sys, t, l, p, IPCC_TRACE_MR, p, old | set, set);
	}
	clear &= bank_valid_mr(sys);
	if (clear) {
		uint32_t old = atomic_fetch_and_explicit(&l->shm->bank[p].mr, ~clear,
							 memory_order_seq_cst);
		trace_word(sys, t, l, p, IPCC_TRACE_MR, p, old & ~clear, clear);
		ring_self_if_high(sys, l, p);
	}
}

/*
 * Whether nobody outside the registers sees this link's writes: no trace recording, no line
 * callback in this process, no line watcher in any. A write that changes no register is then
 * invisible, and may be skipped. The loads: ipcc_trace_begin's, the acquire of lines_begin and
 * the seq_cst watchers load of lines_end (which the write would make anyway).
 */
bool ipcc_link_unobserved(struct ipcc_system *sys, struct ipcc_link *l)
{
	return ipcc_trace_begin(sys) == 0 &&
	       atomic_load_explicit(&l->lines_fn, memory_order_acquire) == NULL &&
	       atomic_load_explicit(&l->shm->watch.watchers, memory_order_seq_cst) == 0;
}

void ipcc_link_update_mr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t set,
			 uint32_t clear)
{
	/*
	 * A mask or unmask of bits already in that state changes nothing: skip the RMW (a
	 * locked instruction: it drains the store buffer, tens of cycles) when nobody watches
	 * the writes. The peek is seq_cst, so it takes the place of the RMW in the total order
	 * of the file comment: a ringer's look at this MR after it sees the bits as the RMW would
	 * have left them, and the unmask that put them there rang this CPU already if a line was
	 * high (ring_self_if_high), so skipping that ring loses no level. seq_cst loads cost what
	 * relaxed ones do on x86 (a plain load). The procedures mask and unmask on every message
	 * (lib/proc/proc.c:chan_wait, rx_begin, rx_end): half of those find the bit in place.
	 */
	uint32_t cur = atomic_load_explicit(&l->shm->bank[p].mr, memory_order_seq_cst);
	if ((cur & set) == set && !(cur & clear) && ipcc_link_unobserved(sys, l))
		return;
	LINK_WRITE(sys, l, l->cpu[p], link_update_mr(sys, l, p, set, clear, t_));
}

WRITE_FN link_update_cr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t set,
			uint32_t clear, uint64_t t)
{
	const uint32_t valid = IPCC_CR_RXOIE | IPCC_CR_TXFIE;

	/* RMW for the same reason as ipcc_link_update_mr; seq_cst: see the file comment. */
	clear &= valid;
	set &= valid;
	if (clear) {
		uint32_t old = atomic_fetch_and_explicit(&l->shm->bank[p].cr, ~clear,
							 memory_order_seq_cst);
		trace_word(sys, t, l, p, IPCC_TRACE_CR, p, old & ~clear, clear);
	}
	if (set) {
		uint32_t old =
			atomic_fetch_or_explicit(&l->shm->bank[p].cr, set, memory_order_seq_cst);
		trace_word(sys, t, l, p, IPCC_TRACE_CR, p, old | set, set);
		ring_self_if_high(sys, l, p);
	}
}

void ipcc_link_update_cr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t set,
			 uint32_t clear)
{
	LINK_WRITE(sys, l, l->cpu[p], link_update_cr(sys, l, p, set, clear, t_));
}

WRITE_FN link_write_scr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v,
			uint64_t t)
{
	uint32_t chmask = sys->geo.chmask;
	uint32_t clr = v & chmask;
	uint32_t set = (v >> 16) & chmask;
	bool rxo = false, txf = false;

	/*
	 * One RMW per register: CHnS sets bits of our own flag word, CHnC clears bits of the peer's
	 * flag word; the other processor's concurrent RMWs on the same words are never lost.
	 * seq_cst: see the file comment.
	 */
	if (set) {
		uint32_t old =
			atomic_fetch_or_explicit(&l->shm->status[p].sr, set, memory_order_seq_cst);
		rxo = (set & ~old) != 0; /* newly occupied: may raise the peer's RX occupied */
		trace_word(sys, t, l, p, IPCC_TRACE_SR, p, old | set, set);
	}
	if (clr) {
		uint32_t old = atomic_fetch_and_explicit(&l->shm->status[!p].sr, ~clr,
							 memory_order_seq_cst);
		txf = (clr & old) != 0; /* newly free: may raise the peer's TX free */
		trace_word(sys, t, l, p, IPCC_TRACE_SR, !p, old & ~clr, clr);
	}
	if (!(rxo || txf) || !ring_may_matter(sys, l, !p))
		return;
	if ((rxo && ipcc_link_pending(sys, l, !p, IPCC_IRQ_RXO)) ||
	    (txf && ipcc_link_pending(sys, l, !p, IPCC_IRQ_TXF)))
		ipcc_bell_ring(sys, l->cpu[!p], l->cpu[p]);
}

void ipcc_link_write_scr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v)
{
	LINK_WRITE(sys, l, l->cpu[p], link_write_scr(sys, l, p, v, t_));
}

WRITE_FN link_reset_bank(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint64_t t)
{
	/* seq_cst: see the file comment. A reset can only lower lines: nothing to ring. */
	atomic_store_explicit(&l->shm->bank[p].cr, IPCC_CR_RESET, memory_order_seq_cst);
	atomic_store_explicit(&l->shm->bank[p].mr, IPCC_MR_RESET, memory_order_seq_cst);
	trace_word(sys, t, l, p, IPCC_TRACE_CR, p, IPCC_CR_RESET, ~0u);
	trace_word(sys, t, l, p, IPCC_TRACE_MR, p, IPCC_MR_RESET, ~0u);
}

void ipcc_link_reset_bank(struct ipcc_system *sys, struct ipcc_link *l, unsigned p)
{
	LINK_WRITE(sys, l, l->cpu[p], link_reset_bank(sys, l, p, t_));
}

uint32_t ipcc_link_read(struct ipcc_system *sys, struct ipcc_link *l, uint32_t offset)
{
	struct ipcc_shm_link *s = l->shm;
	unsigned p = offset >= IPCC_C2CR && offset <= IPCC_C2TOC1SR;

	/* seq_cst: a register read is ordered like every other access (see the file comment). */
	switch (offset) {
	case IPCC_C1CR:
	case IPCC_C2CR:
		return atomic_load_explicit(&s->bank[p].cr, memory_order_seq_cst) &
		       (IPCC_CR_RXOIE | IPCC_CR_TXFIE);
	case IPCC_C1MR:
	case IPCC_C2MR:
		return atomic_load_explicit(&s->bank[p].mr, memory_order_seq_cst) |
		       ~bank_valid_mr(sys);
	case IPCC_C1TOC2SR:
	case IPCC_C2TOC1SR:
		/* Masked: a misbehaving peer's stray bits beyond the channel count read as 0. */
		return atomic_load_explicit(&s->status[p].sr, memory_order_seq_cst) &
		       sys->geo.chmask;
	case IPCC_HWCFGR:
		return sys->geo.channels & IPCC_HWCFGR_CHANNELS_MASK;
	case IPCC_VERR:
		return IPCC_VERR_VALUE;
	case IPCC_IPIDR:
		return IPCC_IPIDR_VALUE;
	case IPCC_SIDR:
		return IPCC_SIDR_VALUE;
	default:
		return 0; /* SCRs read 0; reserved offsets read 0 */
	}
}

struct ipcc_regs {
	struct ipcc_system *sys;
	struct ipcc_link *link;
	bool watching; /* ipcc_regs_watch: counted in the link's watchers */
};

IPCC_EXPORT int ipcc_regs_open(struct ipcc_system *sys, unsigned cpu_a, unsigned cpu_b,
			       struct ipcc_regs **ret_regs)
{
	if (!sys || !ret_regs || cpu_a >= cpu_b || cpu_b >= sys->geo.cpus)
		return -EINVAL;
	struct ipcc_link *l = ipcc_link_get(sys, cpu_a, cpu_b);
	if (!l)
		return -ENOENT;
	struct ipcc_regs *regs = calloc(1, sizeof(*regs));
	if (!regs)
		return -ENOMEM;
	regs->sys = sys;
	regs->link = l;
	*ret_regs = regs;
	return 0;
}

IPCC_EXPORT void ipcc_regs_close(struct ipcc_regs *regs)
{
	if (regs && regs->watching)
		(void)ipcc_regs_watch(regs, false);
	free(regs);
}

static bool offset_ok(uint32_t offset)
{
	return (offset & 3u) == 0 && offset < IPCC_REGS_SIZE;
}

IPCC_EXPORT int ipcc_regs_read(struct ipcc_regs *regs, uint32_t offset, uint32_t *ret_value)
{
	if (!regs || !ret_value || !offset_ok(offset))
		return -EINVAL;
	*ret_value = ipcc_link_read(regs->sys, regs->link, offset);
	return 0;
}

IPCC_EXPORT int ipcc_regs_write(struct ipcc_regs *regs, uint32_t offset, uint32_t value)
{
	if (!regs || !offset_ok(offset))
		return -EINVAL;
	if (regs->sys->readonly)
		return -EROFS;
	switch (offset) {
	case IPCC_C1CR:
	case IPCC_C2CR:
		ipcc_link_write_cr(regs->sys, regs->link, offset == IPCC_C2CR, value);
		break;
	case IPCC_C1MR:
	case IPCC_C2MR:
		ipcc_link_write_mr(regs->sys, regs->link, offset == IPCC_C2MR, value);
		break;
	case IPCC_C1SCR:
	case IPCC_C2SCR:
		ipcc_link_write_scr(regs->sys, regs->link, offset == IPCC_C2SCR, value);
		break;
	default:
		break; /* read-only and reserved registers ignore writes */
	}
	return 0;
}

IPCC_EXPORT int ipcc_regs_line(struct ipcc_regs *regs, unsigned proc, enum ipcc_irq line)
{
	if (!regs || (proc != 1 && proc != 2) || (line != IPCC_IRQ_RXO && line != IPCC_IRQ_TXF))
		return -EINVAL;
	return ipcc_link_pending(regs->sys, regs->link, proc - 1, line) != 0;
}

IPCC_EXPORT bool ipcc_regs_irq(struct ipcc_regs *regs, unsigned proc, enum ipcc_irq line)
{
	return ipcc_regs_line(regs, proc, line) > 0; /* an error reads as low: see regs.h */
}

uint32_t ipcc_link_lines(struct ipcc_system *sys, const struct ipcc_link *l)
{
	struct ipcc_shm_link *s = l->shm;
	uint32_t chmask = sys->geo.chmask;
	uint32_t cr[2], mr[2], sr[2], mask = 0;

	/* seq_cst: like every register read (see the file comment); each word once. */
	for (unsigned p = 0; p < 2; p++) {
		cr[p] = atomic_load_explicit(&s->bank[p].cr, memory_order_seq_cst);
		mr[p] = atomic_load_explicit(&s->bank[p].mr, memory_order_seq_cst);
		sr[p] = atomic_load_explicit(&s->status[p].sr, memory_order_seq_cst);
	}
	/* The equations of ipcc_link_pending, for both processors. */
	for (unsigned p = 0; p < 2; p++) {
		if ((cr[p] & IPCC_CR_RXOIE) && (sr[!p] & ~mr[p] & chmask))
			mask |= IPCC_LINE_BIT(p + 1, IPCC_IRQ_RXO);
		if ((cr[p] & IPCC_CR_TXFIE) && (~sr[p] & ~(mr[p] >> 16) & chmask))
			mask |= IPCC_LINE_BIT(p + 1, IPCC_IRQ_TXF);
	}
	return mask;
}

IPCC_EXPORT int ipcc_regs_lines(struct ipcc_regs *regs, uint32_t *ret_mask)
{
	if (!regs || !ret_mask)
		return -EINVAL;
	*ret_mask = ipcc_link_lines(regs->sys, regs->link);
	return 0;
}

IPCC_EXPORT int ipcc_regs_on_lines(struct ipcc_regs *regs, ipcc_lines_fn fn, void *arg)
{
	if (!regs)
		return -EINVAL;
	struct ipcc_link *l = regs->link;
	if (fn) {
		l->lines_arg = arg;
		l->lines_regs = regs;
	}
	/* Release: the argument and handle before the function (acquire in lines_begin). */
	atomic_store_explicit(&l->lines_fn, fn, memory_order_release);
	return 0;
}

/* The absolute CLOCK_MONOTONIC deadline of a wait of timeout_ns > 0, saturated. */
static struct timespec deadline_of(int64_t timeout_ns)
{
	struct timespec d = { 0, 0 };
	if (timeout_ns > 0) {
		clock_gettime(CLOCK_MONOTONIC, &d);
		int64_t ns = (int64_t)d.tv_sec * 1000000000 + d.tv_nsec;
		ns = timeout_ns > INT64_MAX - ns ? INT64_MAX : ns + timeout_ns;
		d = (struct timespec){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
	}
	return d;
}

IPCC_EXPORT int ipcc_regs_watch(struct ipcc_regs *regs, bool on)
{
	if (!regs)
		return -EINVAL;
	if (regs->sys->readonly)
		return -EROFS;
	if (regs->watching == on)
		return -EALREADY;
	regs->watching = on;
	/* seq_cst: counted before the caller reads the sequence (lines_end reads the count
	 * after its register write); the drop only makes writers skip the bump. */
	if (on)
		atomic_fetch_add_explicit(&regs->link->shm->watch.watchers, 1,
					  memory_order_seq_cst);
	else
		atomic_fetch_sub_explicit(&regs->link->shm->watch.watchers, 1,
					  memory_order_relaxed);
	return 0;
}

IPCC_EXPORT int ipcc_regs_wait_write(struct ipcc_regs *regs, uint32_t *seq, int64_t timeout_ns)
{
	if (!regs || !seq || !regs->watching)
		return -EINVAL;
	_Atomic uint32_t *w = &regs->link->shm->watch.seq;
	struct timespec deadline = deadline_of(timeout_ns);
	for (;;) {
		/* seq_cst: as the bump of lines_end, after the register write it announces. */
		uint32_t now = atomic_load_explicit(w, memory_order_seq_cst);
		if (now != *seq) {
			*seq = now;
			return 0;
		}
		if (timeout_ns == 0)
			return -EAGAIN;
		long r = syscall(SYS_futex, w, FUTEX_WAIT_BITSET, now,
				 timeout_ns > 0 ? &deadline : NULL, NULL, FUTEX_BITSET_MATCH_ANY);
		if (r < 0 && errno == ETIMEDOUT) {
			now = atomic_load_explicit(w, memory_order_seq_cst);
			if (now == *seq)
				return -ETIMEDOUT;
			*seq = now;
			return 0;
		}
	}
}

IPCC_EXPORT int ipcc_regs_wait_lines(struct ipcc_regs *regs, uint32_t seen, uint32_t *ret_mask,
				     int64_t timeout_ns)
{
	if (!regs || !ret_mask)
		return -EINVAL;
	if (regs->sys->readonly)
		return -EROFS;
	struct ipcc_shm_link *s = regs->link->shm;
	struct timespec deadline = deadline_of(timeout_ns);
	for (;;) {
		/* seq_cst: count ourselves before reading the registers (lines_end). */
		atomic_fetch_add_explicit(&s->watch.watchers, 1, memory_order_seq_cst);
		uint32_t seq = atomic_load_explicit(&s->watch.seq, memory_order_seq_cst);
		uint32_t now = ipcc_link_lines(regs->sys, regs->link);
		long r = 0;
		if (now == seen && timeout_ns != 0)
			/* Shared (the word is in the object); absolute CLOCK_MONOTONIC deadline. */
			r = syscall(SYS_futex, &s->watch.seq, FUTEX_WAIT_BITSET, seq,
				    timeout_ns > 0 ? &deadline : NULL, NULL,
				    FUTEX_BITSET_MATCH_ANY);
		int err = r < 0 ? errno : 0;
		/* Relaxed: only makes later writers skip the bump; a stale count costs a wake. */
		atomic_fetch_sub_explicit(&s->watch.watchers, 1, memory_order_relaxed);
		if (now != seen) {
			*ret_mask = now;
			return 0;
		}
		if (timeout_ns == 0)
			return -EAGAIN;
		if (err == ETIMEDOUT) {
			now = ipcc_link_lines(regs->sys, regs->link);
			if (now == seen)
				return -ETIMEDOUT;
			*ret_mask = now;
			return 0;
		}
	}
}

/* ---- reset, save and restore of an instance -------------------------------------------- */

_Static_assert(sizeof(struct ipcc_regs_state) == 256, "ipcc_regs_state is 256 bytes");
_Static_assert(IPCC_CHANNELS_MAX == 16, "ipcc_regs_state.len has 16 channels");

/*
 * Store `value` into *w, except for the bits of `keep`, which keep what *w holds: a CAS loop,
 * because the service owning those bits may change them meanwhile (its own RMWs, in its
 * CPU's process) and must not lose that change. Bounded: a process hammering the word would
 * keep every CAS failing, so after MERGE_TRIES the word is exchanged with the kept bits as
 * last seen (a change racing with that last look may be lost: only a writer that defeats the
 * CAS that often can make that happen). seq_cst: see the file comment. The old word.
 */
#define MERGE_TRIES 64u

static uint32_t merge_word(_Atomic uint32_t *w, uint32_t value, uint32_t keep)
{
	uint32_t old = atomic_load_explicit(w, memory_order_seq_cst);
	for (unsigned i = 0; i < MERGE_TRIES; i++)
		if (atomic_compare_exchange_weak_explicit(w, &old, value | (old & keep),
							  memory_order_seq_cst,
							  memory_order_seq_cst))
			return old;
	return atomic_exchange_explicit(w, value | (old & keep), memory_order_seq_cst);
}

/* The CR enables processor p's reserved channels need, from its MR: see regs.h. */
static uint32_t service_enables(const struct ipcc_link *l, uint32_t mr)
{
	uint32_t need = 0;
	if (~mr & l->reserved)
		need |= IPCC_CR_RXOIE;
	if (~(mr >> 16) & l->reserved)
		need |= IPCC_CR_TXFIE;
	return need;
}

/*
 * Write a whole instance (the reset values or a restored state), reserved channels excepted
 * (regs.h: ipcc_regs_reset), then ring both CPUs: the lines may have risen or fallen, and a
 * waiter whose predicate is a flag (a sender waiting for a free channel) must look again.
 * len NULL: the lengths are left alone.
 */
WRITE_FN link_write_all(struct ipcc_system *sys, struct ipcc_link *l, const uint32_t cr[2],
			const uint32_t mr[2], const uint32_t sr[2],
			const uint32_t (*len)[IPCC_CHANNELS_MAX], uint64_t t)
{
	struct ipcc_shm_link *s = l->shm;
	uint32_t svc = l->reserved, svc_mr = svc | (svc << 16);

	if (len) {
		/* Published by the flags written after them (the seq_cst RMWs below). */
		for (unsigned d = 0; d < 2; d++)
			for (unsigned ch = 0; ch < sys->geo.channels; ch++)
				if (!(svc & (1u << ch)))
					ipcc_slot_len_set(ipcc_slot(sys, l, d, ch), len[d][ch]);
	}
	for (unsigned p = 0; p < 2; p++) {
		uint32_t mr_v = (mr[p] | ~bank_valid_mr(sys)) & ~svc_mr;
		uint32_t old_mr = merge_word(&s->bank[p].mr, mr_v, svc_mr);
		uint32_t cr_v = cr[p] & (IPCC_CR_RXOIE | IPCC_CR_TXFIE),
			 cr_keep = service_enables(l, old_mr);
		uint32_t old_cr = merge_word(&s->bank[p].cr, cr_v, cr_keep);
		uint32_t sr_v = sr[p] & sys->geo.chmask & ~svc;
		uint32_t old_sr = merge_word(&s->status[p].sr, sr_v, svc);
		if (ipcc_unlikely(t != 0)) {
			ipcc_trace_put(sys, t, l, IPCC_TRACE_NO_CPU, IPCC_TRACE_MR, p,
				       mr_v | (old_mr & svc_mr), ~svc_mr);
			ipcc_trace_put(sys, t, l, IPCC_TRACE_NO_CPU, IPCC_TRACE_CR, p,
				       cr_v | (old_cr & cr_keep), ~cr_keep);
			ipcc_trace_put(sys, t, l, IPCC_TRACE_NO_CPU, IPCC_TRACE_SR, p,
				       sr_v | (old_sr & svc), ~svc);
		}
	}
	/* Both after every store above (seq_cst), as a register write rings after its change. */
	ipcc_bell_ring(sys, l->cpu[0], l->cpu[1]);
	ipcc_bell_ring(sys, l->cpu[1], l->cpu[0]);
}

IPCC_EXPORT int ipcc_regs_reset(struct ipcc_regs *regs)
{
	static const uint32_t cr[2] = { IPCC_CR_RESET, IPCC_CR_RESET };
	static const uint32_t mr[2] = { IPCC_MR_RESET, IPCC_MR_RESET };
	static const uint32_t sr[2] = { 0, 0 };

	if (!regs)
		return -EINVAL;
	if (regs->sys->readonly)
		return -EROFS;
	LINK_WRITE(regs->sys, regs->link, IPCC_TRACE_NO_CPU,
		   link_write_all(regs->sys, regs->link, cr, mr, sr, NULL, t_));
	return 0;
}

IPCC_EXPORT int ipcc_regs_save(struct ipcc_regs *regs, struct ipcc_regs_state *ret_state)
{
	if (!regs || !ret_state)
		return -EINVAL;
	struct ipcc_system *sys = regs->sys;
	struct ipcc_link *l = regs->link;
	struct ipcc_regs_state st;

	memset(&st, 0, sizeof(st));
	st.magic = IPCC_REGS_STATE_MAGIC;
	st.version = IPCC_REGS_STATE_VERSION;
	st.size = sizeof(st);
	st.channels = sys->geo.channels;
	for (unsigned p = 0; p < 2; p++) {
		st.cr[p] = ipcc_link_read(sys, l, p ? IPCC_C2CR : IPCC_C1CR);
		st.mr[p] = ipcc_link_read(sys, l, p ? IPCC_C2MR : IPCC_C1MR);
		st.sr[p] = ipcc_link_read(sys, l, p ? IPCC_C2TOC1SR : IPCC_C1TOC2SR);
	}
	/*
	 * As stored, even above the buffer size (a restore refuses that): the raw word, read
	 * after the flags (seq_cst) like a receiver's. A snapshot of a quiet link (regs.h).
	 */
	for (unsigned d = 0; d < 2; d++)
		for (unsigned ch = 0; ch < sys->geo.channels; ch++)
			st.len[d][ch] = atomic_load_explicit(&ipcc_slot(sys, l, d, ch)->len,
							     memory_order_relaxed);
	*ret_state = st;
	return 0;
}

/* Is st a state of this format for this link? -EPROTO, -EINVAL (regs.h: ipcc_regs_restore). */
static int state_check(const struct ipcc_system *sys, const struct ipcc_regs_state *st)
{
	if (st->magic != IPCC_REGS_STATE_MAGIC || st->version != IPCC_REGS_STATE_VERSION ||
	    st->size != sizeof(*st))
		return -EPROTO;
	if (st->channels != sys->geo.channels || st->flags)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(st->reserved) / sizeof(st->reserved[0]); i++)
		if (st->reserved[i])
			return -EINVAL;
	for (unsigned p = 0; p < 2; p++) {
		if (st->cr[p] & ~(IPCC_CR_RXOIE | IPCC_CR_TXFIE))
			return -EINVAL;
		if ((st->mr[p] | bank_valid_mr(sys)) != 0xFFFFFFFFu)
			return -EINVAL;
		if (st->sr[p] & ~sys->geo.chmask)
			return -EINVAL;
	}
	for (unsigned d = 0; d < 2; d++)
		for (unsigned ch = 0; ch < IPCC_CHANNELS_MAX; ch++)
			if (ch < sys->geo.channels ? st->len[d][ch] > sys->geo.buffer_size
						   : st->len[d][ch] != 0)
				return -EINVAL;
	return 0;
}

IPCC_EXPORT int ipcc_regs_restore(struct ipcc_regs *regs, const struct ipcc_regs_state *state)
{
	if (!regs || !state)
		return -EINVAL;
	/* Our own copy: the caller's struct may sit in memory another process writes. */
	struct ipcc_regs_state st = *state;
	int r = state_check(regs->sys, &st);
	if (r < 0)
		return r;
	if (regs->sys->readonly)
		return -EROFS;
	LINK_WRITE(regs->sys, regs->link, IPCC_TRACE_NO_CPU,
		   link_write_all(regs->sys, regs->link, st.cr, st.mr, st.sr, st.len, t_));
	return 0;
}

IPCC_EXPORT unsigned ipcc_regs_cpu(const struct ipcc_regs *regs, unsigned proc)
{
	if (!regs || (proc != 1 && proc != 2))
		return 0;
	return regs->link->cpu[proc - 1];
}

IPCC_EXPORT unsigned ipcc_regs_channels(const struct ipcc_regs *regs)
{
	return regs ? regs->sys->geo.channels : 0;
}
