/* SPDX-License-Identifier: MIT */
/*
 * Register windows: firmware code that touches the IPCC through plain loads and stores
 * (IPCC_C1->SCR = ...; irq = ~IPCC_C2->MR & IPCC_C1->SR;) runs unchanged in a Linux process.
 *
 * A window is one page of the process's address space laid out as the RM's register block of
 * one IPCC instance (offsets of <ipcc/regs.h>, 1 KiB used, the rest of the page reserved), both
 * processors' banks, as on the chip where both CPUs see the whole block. The page is mapped
 * without access, so each load or store faults (SIGSEGV) and the handler does it:
 * - the instructions compilers emit for a volatile 32-bit access (mov r32 <- m32, mov m32 <- r32,
 *   mov m32 <- imm32) are decoded and done in the handler with ipcc_regs_read/ipcc_regs_write at
 *   the fault's address, then the thread resumes after the instruction;
 * - any other instruction (orl on a register, a 64-bit or SSE access, a prefixed one) is
 *   single-stepped: the handler makes the page accessible, fills the register words from the
 *   emulated IPCC, blocks the thread's other signals and sets EFLAGS.TF; the trap (SIGTRAP)
 *   writes back what the instruction changed (ipcc_regs_write), clears reserved words, protects
 *   the page again and restores the thread's signal mask. Exact for the IPCC, whose registers
 *   have no read side effects: writing back a CR or MR word that the instruction changed is the
 *   store it made, and a store of the value read is a no-op on the chip too. SCR is write-only
 *   and reads 0: its word is filled with 0 and any non-zero value after the step is the store
 *   (a store of 0 changes nothing on the chip either), so `SCR = bit` and `SCR |= bit` both
 *   reach the IPCC once.
 *
 * Limits: windows are x86-64 Linux only (elsewhere ipcc_window_init, _open return -EOPNOTSUPP;
 * the interrupt helper works on any Linux). The page is accessible process-wide during the one
 * stepped instruction, so a window belongs to one thread at a time (and that thread's signal
 * handlers, which are blocked during the step): threads that touch the IPCC concurrently open
 * a window each. An instruction that touches two windows, or a
 * window and other protected memory, is not supported. Accesses are meant as the RM's 32-bit
 * words; wider ones (a 64-bit load of CR and MR) work within the block. A debugger stops at every
 * access unless told to pass SIGSEGV and SIGTRAP (gdb: handle SIGSEGV SIGTRAP nostop noprint
 * pass). A decoded access costs one signal, a stepped one two signals and two mprotect
 * calls: see README "For simulator authors" for the measured costs.
 */
#ifndef IPCC_WINDOW_H
#define IPCC_WINDOW_H

#include <ipcc/common.h>
#include <ipcc/regs.h>

IPCC_BEGIN_DECLS

struct ipcc_window;

/*
 * Install the SIGSEGV and SIGTRAP handlers (SA_SIGINFO) of the windows, process-wide, saving
 * the previous handlers: a fault or trap that is not a window's goes to them (SA_SIGINFO
 * handlers are called, SIG_DFL is restored and the signal delivered again, SIG_IGN ignores it).
 * Call it before the first ipcc_window_open, from any thread, after the application (or a
 * sanitizer) installed its own handlers for these signals, since it chains to them: a handler
 * installed later replaces the windows' and makes every window access fatal. Not concurrently
 * with sigaction on those signals. Further calls do nothing and return 0.
 * -EOPNOTSUPP on other architectures; -EINVAL when sigaction fails.
 */
IPCC_EXPORT int ipcc_window_init(void);

/*
 * A window onto the register block of `regs` (which must stay open while the window is). Any
 * thread; may block briefly (mmap). -EINVAL NULL arguments, -EPERM ipcc_window_init not
 * called, -EMFILE already IPCC_WINDOW_MAX windows open, -ENOMEM, -EOPNOTSUPP.
 */
#define IPCC_WINDOW_MAX 64u
IPCC_EXPORT int ipcc_window_open(struct ipcc_regs *regs, struct ipcc_window **ret_win);

/*
 * The window's base: the IPCC base address of the RM, IPCC_REGS_SIZE bytes of registers. Cast
 * it to the firmware's struct-of-registers type (volatile uint32_t fields). NULL for NULL.
 */
IPCC_EXPORT volatile void *ipcc_window_base(struct ipcc_window *win);

/* Unmap the window. Accepts NULL. No thread may be accessing it. */
IPCC_EXPORT void ipcc_window_close(struct ipcc_window *win);

/*
 * The interrupt helper: a level-triggered NVIC for one processor of a link, on the calling
 * thread. A helper thread sleeps in ipcc_regs_wait_lines; while processor `proc`'s RX occupied
 * (TX free) line is high and `rxo` (`txf`) is not NULL, and interrupts are not disabled, it
 * sends real-time signal `signo` to the thread that called ipcc_window_irq_start and waits for
 * its handler: that handler calls rxo(arg) and txf(arg) for the high lines, again and again until
 * neither is high (a handler that does not lower its line runs again, as on the chip), then
 * returns to the interrupted code. So the handlers preempt the thread's main flow like
 * interrupts, and may touch a window (they run while no window access of the thread is half
 * done: the windows block other signals during their step).
 *
 * The handlers run in a signal handler: they may call only async-signal-safe functions
 * (window accesses, ipcc_regs_*, the lock-free channel API: ipcc_chan_*), no malloc, no stdio,
 * no lock the main flow may hold; errno is saved around them. The main flow shares data with
 * them as with an ISR: through volatile sig_atomic_t or lock-free atomics, or with interrupts
 * disabled.
 *
 * One helper per thread. `signo` is a real-time signal (SIGRTMIN..SIGRTMAX) that the process
 * uses for nothing else: its handler is installed here and the previous one restored at stop.
 * -EINVAL (NULL regs or ret, proc not 1 or 2, both handlers NULL, a signo outside the
 * real-time range), -EBUSY (this thread has a helper), -ENOMEM, -EAGAIN (no thread),
 * the errors of ipcc_regs_wait_lines (-EROFS on a read-only system). Works on any Linux.
 */
struct ipcc_window_irq;
typedef void (*ipcc_window_isr)(void *arg);
IPCC_EXPORT int ipcc_window_irq_start(struct ipcc_regs *regs, unsigned proc, int signo,
				      ipcc_window_isr rxo, ipcc_window_isr txf, void *arg,
				      struct ipcc_window_irq **ret_irq);

/* Stop the helper (within 100 ms) and free it. From the thread that started it. Accepts NULL. */
IPCC_EXPORT void ipcc_window_irq_stop(struct ipcc_window_irq *irq);

/*
 * __disable_irq and __enable_irq: while disabled (nestable: the enables must match the
 * disables) no handler starts on the thread; an interrupt that arrives meanwhile stays pending
 * and its handlers run inside the enable that ends the last disable. From the thread of the
 * helper only, also from a handler. Never block.
 */
IPCC_EXPORT void ipcc_window_irq_disable(struct ipcc_window_irq *irq);
IPCC_EXPORT void ipcc_window_irq_enable(struct ipcc_window_irq *irq);

/*
 * __WFI: sleep until an interrupt arrives: with interrupts enabled, until the handlers ran (0
 * after they returned); disabled, until one is pending (0; it runs at the enable). Like WFE's
 * event register, an interrupt taken since the previous return of ipcc_window_wfi (or since the
 * start) makes it return at once, so `while (!flag) ipcc_window_wfi(irq, -1);` cannot miss a
 * handler that ran between the test and the call. From the helper's thread, not from a handler. Sleeps in the kernel (a futex).
 * Timeouts as in <ipcc/irq.h>: -EAGAIN (timeout 0, nothing arrived), -ETIMEDOUT,
 * IPCC_TIMEOUT_INFINITE waits for ever. -EINVAL.
 */
IPCC_EXPORT int ipcc_window_wfi(struct ipcc_window_irq *irq, int64_t timeout_ns);

IPCC_END_DECLS

#endif
