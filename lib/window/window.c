/* SPDX-License-Identifier: MIT */
/*
 * Register windows on x86-64 Linux: a page mapped without access; each load or store faults,
 * and the fault handler either does the access itself (the decoded movs, see emulate) or
 * single-steps the instruction on the opened page (the method and its limits are in
 * <ipcc/window.h>).
 *
 * A single step, on the accessing thread:
 *   SIGSEGV (SEGV_ACCERR in a window page): make the page read-write, fill the bank words from
 *   the emulated IPCC (SCR words 0), remember them, block the thread's other signals in the
 *   context the handler returns to, set EFLAGS.TF;
 *   the instruction runs once, on the filled page;
 *   SIGTRAP (TF): write back each CR/MR word that differs from what was filled and each non-zero
 *   SCR word, clear everything else the instruction may have stored, protect the page again,
 *   restore TF and the signal mask.
 * Nothing else runs on the thread between the two (its signals are blocked, and both handlers
 * run with every asynchronous signal blocked), so the per-thread state needs no atomics; the
 * state shared between threads is the table of open windows, published with release and read
 * with acquire in the fault handler.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <ipcc/window.h>

#define EFLAGS_TF  0x100ll
#define BANK_WORDS 8u /* C1CR .. C2TOC1SR */
#define ID_WORDS   4u /* HWCFGR, VERR, IPIDR, SIDR */

struct ipcc_window {
	struct ipcc_regs *regs;
	uint32_t *page; /* page_size bytes, PROT_NONE except during a step */
	uint32_t id[ID_WORDS];
	unsigned slot;
};

static _Atomic(struct ipcc_window *) windows[IPCC_WINDOW_MAX];
static struct sigaction prev_segv, prev_trap;
static atomic_bool installed;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t page_size;

/* The step in progress on this thread; win NULL when none. initial-exec: no allocation on the
 * first access from a signal handler. */
struct step {
	struct ipcc_window *win;
	uint32_t before[BANK_WORDS]; /* the bank words as filled */
	sigset_t mask;		     /* the interrupted context's signal mask */
	bool tf;		     /* TF was set already (someone else single-steps) */
};
static __thread struct step step __attribute__((tls_model("initial-exec")));

static bool is_scr(unsigned word)
{
	return word == IPCC_C1SCR / 4 || word == IPCC_C2SCR / 4;
}

static struct ipcc_window *lookup(const void *addr)
{
	uintptr_t page = (uintptr_t)addr & ~(uintptr_t)(page_size - 1);
	for (unsigned i = 0; i < IPCC_WINDOW_MAX; i++) {
		/* Pairs with the release CAS of ipcc_window_open: the window's fields are set. */
		struct ipcc_window *w = atomic_load_explicit(&windows[i], memory_order_acquire);
		if (w && (uintptr_t)w->page == page)
			return w;
	}
	return NULL;
}

/* A signal that is not a window's, to the handler that was there before ipcc_window_init. */
static void chain(const struct sigaction *prev, int sig, siginfo_t *si, void *uc)
{
	if (prev->sa_flags & SA_SIGINFO) {
		if (prev->sa_sigaction)
			prev->sa_sigaction(sig, si, uc);
		return;
	}
	if (prev->sa_handler == SIG_IGN)
		return;
	if (prev->sa_handler == SIG_DFL) {
		/* The default action: a fault re-executes its instruction and faults again; a
		 * trap or a sent signal is raised again, pending until this handler returns. */
		struct sigaction dfl;
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigaction(sig, &dfl, NULL);
		if (sig != SIGSEGV || si->si_code <= 0)
			raise(sig);
		return;
	}
	prev->sa_handler(sig);
}

static void fill(struct ipcc_window *w)
{
	for (unsigned i = 0; i < BANK_WORDS; i++) {
		uint32_t v = 0;
		if (!is_scr(i))
			ipcc_regs_read(w->regs, i * 4, &v);
		step.before[i] = v;
		w->page[i] = v;
	}
}

static void write_back(struct ipcc_window *w)
{
	for (unsigned i = 0; i < BANK_WORDS; i++) {
		uint32_t v = w->page[i];
		if (i == IPCC_C1TOC2SR / 4 || i == IPCC_C2TOC1SR / 4)
			continue; /* read-only */
		if (is_scr(i) ? v != 0 : v != step.before[i])
			ipcc_regs_write(w->regs, i * 4, v);
	}
	/* Whatever else the instruction stored (reserved words, identification registers) is
	 * ignored, as on the bus: reserved words read 0 again, identification their values. */
	memset(w->page + BANK_WORDS, 0, page_size - BANK_WORDS * 4);
	memcpy(w->page + IPCC_HWCFGR / 4, w->id, sizeof(w->id));
}

/*
 * The fast path: the three instructions compilers emit for a volatile 32-bit access, decoded
 * and done here without opening the page. The address is the fault's (si_addr), so only the
 * length and the register operand are decoded: [REX without W] 8B /r (load), 89 /r (store of a
 * register), C7 /0 id (store of an immediate), any memory ModRM form. Anything else (other
 * prefixes, read-modify-write instructions, wider or narrower accesses) is single-stepped.
 */
enum access { LOAD, STORE_REG, STORE_IMM };

struct insn {
	enum access op;
	unsigned reg; /* the ModRM reg operand, REX.R included */
	uint32_t imm;
	unsigned len;
};

/* ModRM's register numbers to the ucontext's. */
static const int gregs_of[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8,	 REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static bool decode(const uint8_t *ip, struct insn *in)
{
	const uint8_t *p = ip;
	unsigned rex = 0;

	if ((*p & 0xF0) == 0x40)
		rex = *p++;
	if (rex & 0x8)
		return false; /* REX.W: a 64-bit access */
	uint8_t opcode = *p++;
	uint8_t modrm = *p++;
	unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
	if (mod == 3)
		return false;
	if (opcode == 0x8B)
		in->op = LOAD;
	else if (opcode == 0x89)
		in->op = STORE_REG;
	else if (opcode == 0xC7 && reg == 0)
		in->op = STORE_IMM;
	else
		return false;
	if (rm == 4) {
		uint8_t sib = *p++;
		if (mod == 0 && (sib & 7) == 5)
			p += 4; /* no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		p += 4; /* RIP-relative disp32 */
	}
	p += mod == 1 ? 1 : mod == 2 ? 4 : 0;
	if (in->op == STORE_IMM) {
		memcpy(&in->imm, p, 4);
		p += 4;
	}
	in->reg = reg | (rex & 0x4 ? 8u : 0u);
	in->len = (unsigned)(p - ip);
	return true;
}

/* 1 when the access was done here, 0 when it must be single-stepped. */
static int emulate(struct ipcc_window *w, uintptr_t offset, ucontext_t *uc)
{
	greg_t *g = uc->uc_mcontext.gregs;
	struct insn in;
	uint32_t v = 0;

	if (offset % 4 || !decode((const uint8_t *)g[REG_RIP], &in))
		return 0;
	if (in.op == LOAD) {
		/* Reserved words and those beyond the block read 0 (the read fails for them). */
		if (offset < IPCC_REGS_SIZE)
			ipcc_regs_read(w->regs, (uint32_t)offset, &v);
		g[gregs_of[in.reg]] = (greg_t)v; /* a 32-bit load zero-extends */
	} else {
		v = in.op == STORE_IMM ? in.imm : (uint32_t)g[gregs_of[in.reg]];
		/* Writes to read-only or reserved words are ignored by ipcc_regs_write. */
		if (offset < IPCC_REGS_SIZE)
			ipcc_regs_write(w->regs, (uint32_t)offset, v);
	}
	g[REG_RIP] += in.len;
	return 1;
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct ipcc_window *w = NULL;
	int saved = errno;

	if (!step.win && si->si_code == SEGV_ACCERR)
		w = lookup(si->si_addr);
	if (w && emulate(w, (uintptr_t)si->si_addr - (uintptr_t)w->page, uc)) {
		errno = saved;
		return;
	}
	if (!w || mprotect(w->page, page_size, PROT_READ | PROT_WRITE) < 0) {
		errno = saved;
		chain(&prev_segv, sig, si, ucv);
		return;
	}
	fill(w);
	step.win = w;
	step.mask = uc->uc_sigmask;
	step.tf = uc->uc_mcontext.gregs[REG_EFL] & EFLAGS_TF;
	/* Nothing may run on this thread until the trap: a handler touching the open page would
	 * bypass the emulation. The synchronous signals stay deliverable. */
	sigfillset(&uc->uc_sigmask);
	sigdelset(&uc->uc_sigmask, SIGSEGV);
	sigdelset(&uc->uc_sigmask, SIGTRAP);
	sigdelset(&uc->uc_sigmask, SIGBUS);
	sigdelset(&uc->uc_sigmask, SIGILL);
	sigdelset(&uc->uc_sigmask, SIGFPE);
	uc->uc_mcontext.gregs[REG_EFL] |= EFLAGS_TF;
	errno = saved;
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct ipcc_window *w = step.win;
	int saved = errno;

	/* Only the kernel's single-step trap ends a step (si_code TRAP_TRACE > 0); a SIGTRAP
	 * sent with kill or tgkill (si_code <= 0) is somebody else's, passed on. */
	if (!w || si->si_code <= 0) {
		chain(&prev_trap, sig, si, ucv);
		return;
	}
	write_back(w);
	/* Cannot fail: the range is one page of our own mapping, made accessible by on_segv. */
	mprotect(w->page, page_size, PROT_NONE);
	if (!step.tf)
		uc->uc_mcontext.gregs[REG_EFL] &= ~EFLAGS_TF;
	uc->uc_sigmask = step.mask;
	step.win = NULL;
	errno = saved;
}

IPCC_EXPORT int ipcc_window_init(void)
{
	struct sigaction sa;
	int r = 0;

	pthread_mutex_lock(&init_lock);
	if (atomic_load_explicit(&installed, memory_order_relaxed)) /* under init_lock */
		goto out;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	/* Both handlers run with the asynchronous signals blocked: see the file comment. */
	sigfillset(&sa.sa_mask);
	sigdelset(&sa.sa_mask, SIGSEGV);
	sigdelset(&sa.sa_mask, SIGBUS);
	sigdelset(&sa.sa_mask, SIGILL);
	sigdelset(&sa.sa_mask, SIGFPE);
	sigdelset(&sa.sa_mask, SIGTRAP);
	sa.sa_sigaction = on_segv;
	if (sigaction(SIGSEGV, &sa, &prev_segv) < 0) {
		r = -EINVAL;
		goto out;
	}
	sa.sa_sigaction = on_trap;
	if (sigaction(SIGTRAP, &sa, &prev_trap) < 0) {
		sigaction(SIGSEGV, &prev_segv, NULL);
		r = -EINVAL;
		goto out;
	}
	/* Pairs with the acquire load of ipcc_window_open: page_size and the handlers are set. */
	atomic_store_explicit(&installed, true, memory_order_release);
out:
	pthread_mutex_unlock(&init_lock);
	return r;
}

IPCC_EXPORT int ipcc_window_open(struct ipcc_regs *regs, struct ipcc_window **ret_win)
{
	struct ipcc_window *w;
	int r = -ENOMEM;

	if (!regs || !ret_win)
		return -EINVAL;
	/* Pairs with the release store of ipcc_window_init. */
	if (!atomic_load_explicit(&installed, memory_order_acquire))
		return -EPERM;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->regs = regs;
	for (unsigned i = 0; i < ID_WORDS; i++) {
		r = ipcc_regs_read(regs, IPCC_HWCFGR + 4 * i, &w->id[i]);
		if (r < 0)
			goto fail_free;
	}
	w->page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->page == MAP_FAILED) {
		r = -ENOMEM;
		goto fail_free;
	}
	memcpy(w->page + IPCC_HWCFGR / 4, w->id, sizeof(w->id));
	if (mprotect(w->page, page_size, PROT_NONE) < 0) {
		r = -ENOMEM;
		goto fail_unmap;
	}
	r = -EMFILE;
	for (unsigned i = 0; i < IPCC_WINDOW_MAX; i++) {
		struct ipcc_window *expected = NULL;
		w->slot = i;
		/* Release: pairs with the acquire load of lookup (on_segv), which reads w. */
		if (atomic_compare_exchange_strong_explicit(&windows[i], &expected, w,
							    memory_order_release,
							    memory_order_relaxed)) {
			*ret_win = w;
			return 0;
		}
	}
fail_unmap:
	munmap(w->page, page_size);
fail_free:
	free(w);
	return r;
}

IPCC_EXPORT volatile void *ipcc_window_base(struct ipcc_window *win)
{
	return win ? win->page : NULL;
}

IPCC_EXPORT void ipcc_window_close(struct ipcc_window *win)
{
	if (!win)
		return;
	/* Relaxed: no thread accesses the window any more (the caller's contract), so no fault
	 * handler can be reading the slot for this page. */
	atomic_store_explicit(&windows[win->slot], NULL, memory_order_relaxed);
	munmap(win->page, page_size);
	free(win);
}
