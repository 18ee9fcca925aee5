/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory log: every CPU writes its debug lines into a ring of its own inside the
 * object, and any process that can read the object (a CPU, or an observer such as `ipcc log`
 * on a read-only handle) collects every CPU's lines, merged in time order, like TI's shared
 * memory log ("[core] seconds.micros : text").
 *
 * A system has a log when it is created with one (ipcc_config.log, or `services: log:` in a
 * system description): one ring of ring_size bytes per CPU.
 *
 * Writers (ipcc_log_write, ipcc_log_printf): any thread of the process that owns the CPU,
 * concurrently. A line is stored whole or dropped whole: it is dropped, and counted in the
 * ring's drop count (which every reader sees), when it is longer than IPCC_LOG_LINE_MAX or than
 * a quarter of the ring, or when the slots it would take are still being written by a thread
 * that started a lap earlier (the ring has no room now). A writer never blocks, never waits for a
 * reader and takes no lock: it reserves slots with a bounded number of compare-and-swaps on the
 * ring's head, writes them and publishes the line only when it is complete. When the ring is
 * full of complete lines, a new line overwrites the oldest ones: readers are never waited for
 * (they keep their positions to themselves), and a reader that falls behind by a ring's worth
 * counts the lines it missed (ipcc_log_line.lost).
 *
 * A writer killed mid-line (kill -9) leaves a reservation that never completes. Nothing of it
 * is ever shown: a reader skips it as soon as the CPU has no live owner (the kernel's claim,
 * README "CPU ownership"), or after IPCC_LOG_STALL_MS of a live owner not finishing it (a stopped
 * process); the next owner of the CPU marks it dead when it attaches. Its line number is
 * counted as lost by the readers.
 *
 * Readers: ipcc_log_reader_new, then ipcc_log_read until it returns 0, and ipcc_log_wait to
 * sleep until a writer rings (a reader with write access to the object) or a poll period
 * passes (a read-only one, which cannot ask to be rung). Any number of readers, in any
 * processes, each with its own position.
 */
#ifndef IPCC_LOG_H
#define IPCC_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include <ipcc/common.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

/* ipcc_log_config.ring_size: bytes per CPU, a power of two. */
#define IPCC_LOG_RING_SIZE_MIN	   4096u
#define IPCC_LOG_RING_SIZE_MAX	   (16u << 20)
#define IPCC_LOG_RING_SIZE_DEFAULT (16u << 10)
/* The longest line, in bytes of text (a trailing newline is not stored). */
#define IPCC_LOG_LINE_MAX 1000u
/* A live owner's reservation that stays incomplete this long is skipped by a reader. */
#define IPCC_LOG_STALL_MS 1000u
/* How often a read-only reader looks (ipcc_log_wait): it cannot ask to be rung. */
#define IPCC_LOG_POLL_MS 100u

struct ipcc_log_config {
	uint32_t ring_size;   /* bytes per CPU: a power of two, RING_SIZE_MIN..MAX */
	uint32_t reserved[7]; /* 0 */
};

/* Defaults: 16 KiB per CPU (256 slots of 64 bytes; a short line takes one or two). */
IPCC_EXPORT void ipcc_log_config_init(struct ipcc_log_config *lcfg);

/*
 * Log `len` bytes of text as one line of CPU `cpu`'s log, stamped with CLOCK_MONOTONIC now. One
 * trailing newline is dropped; the text is stored as it is otherwise (readers escape what they
 * print). Any thread of the owning process, concurrently; never blocks. Returns 0 when stored;
 * -ENOBUFS when dropped for want of room (counted); -EMSGSIZE when longer than
 * IPCC_LOG_LINE_MAX or than a quarter of the ring (dropped, counted); -EINVAL (cpu NULL, text
 * NULL with len > 0); -EOPNOTSUPP the system has no log; -ESTALE a handle inherited across fork.
 */
IPCC_EXPORT int ipcc_log_write(struct ipcc_cpu *cpu, const char *text, size_t len);

/* printf into one line, then as ipcc_log_write (a longer result is dropped: -EMSGSIZE). */
IPCC_EXPORT int ipcc_log_printf(struct ipcc_cpu *cpu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
IPCC_EXPORT int ipcc_log_vprintf(struct ipcc_cpu *cpu, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* The ring size in bytes per CPU; -EINVAL, -EOPNOTSUPP (no log). Any handle. */
IPCC_EXPORT int ipcc_log_ring_size(const struct ipcc_system *sys);

/* Lines CPU `cpu` dropped since the object was created (as stored: a participant may forge
 * it). -EINVAL, -EOPNOTSUPP. Any handle, any thread. */
IPCC_EXPORT int ipcc_log_dropped(const struct ipcc_system *sys, unsigned cpu, uint64_t *ret_count);

struct ipcc_log_reader;

/* ipcc_log_reader_new flags */
#define IPCC_LOG_READ_NEW   0x1u /* only lines reserved after the reader was made */
#define IPCC_LOG_READ_UNTIL 0x2u /* stop at the lines reserved when the reader was made */

/*
 * A reader of the CPUs in `cpus` (bit c: CPU c; 0: every CPU) of sys, from the oldest line
 * still in each ring (or, with IPCC_LOG_READ_NEW, from now on). It keeps its positions in
 * its own memory and writes nothing to the object, except, with write access, the doorbell
 * word in ipcc_log_wait. Use one reader from one thread at a time; the handle must outlive it.
 * -EINVAL (sys NULL, a CPU bit beyond the system, unknown flags), -EOPNOTSUPP (no log),
 * -ENOMEM.
 */
IPCC_EXPORT int ipcc_log_reader_new(struct ipcc_system *sys, uint64_t cpus, unsigned flags,
				    struct ipcc_log_reader **ret_reader);

/* Accepts NULL. */
IPCC_EXPORT void ipcc_log_reader_free(struct ipcc_log_reader *reader);

struct ipcc_log_line {
	uint64_t time_ns; /* CLOCK_MONOTONIC when the line was written */
	uint32_t number;  /* the line's number in its CPU's log (free-running) */
	uint32_t lost;	  /* lines of this CPU this reader missed just before this one */
	uint16_t cpu;
	uint16_t len; /* bytes of text, at most IPCC_LOG_LINE_MAX */
	uint32_t reserved;
	char text[IPCC_LOG_LINE_MAX + 1]; /* NUL-terminated (the text itself may hold NULs) */
};

/*
 * The next line in time order: of the CPUs' next lines, the one stamped first, and none while
 * a CPU has a line in progress that might come first. One CPU's lines come in the order they
 * were reserved, so one thread's in the order it wrote them (two threads racing may reserve in
 * the other order than they stamped: their stamps step back by that much); a line stamped just
 * before another CPU's but reserved after the reader took that one comes after it. Returns 1
 * with *ret filled; 0 when every CPU is
 * read up to its latest complete line (with IPCC_LOG_READ_UNTIL: up to the end); -EAGAIN when
 * a line being written right now may come before the others (wait, then read again); -EINVAL.
 * Never blocks; copies at most a ring's worth of slots per CPU per call.
 */
IPCC_EXPORT int ipcc_log_read(struct ipcc_log_reader *reader, struct ipcc_log_line *ret);

/*
 * Sleep until a writer of the reader's CPUs may have published a line, or timeout_ms (-1: no
 * limit) passed. With write access the reader asks to be rung and sleeps on the log's futex
 * word; read-only, it sleeps IPCC_LOG_POLL_MS at a time. Returns 0 (look again: a wake-up may
 * be spurious), -ETIMEDOUT, -EINTR (a signal: Ctrl-C in a follower), -EINVAL.
 */
IPCC_EXPORT int ipcc_log_wait(struct ipcc_log_reader *reader, int timeout_ms);

struct ipcc_log_stats {
	uint64_t lines;	  /* lines this reader returned */
	uint64_t lost;	  /* lines this reader missed: overwritten first, or abandoned */
	uint64_t dropped; /* lines the writers dropped (ipcc_log_dropped) */
};

/* What reader saw of CPU `cpu` so far. -EINVAL (a CPU it does not read). */
IPCC_EXPORT int ipcc_log_reader_stats(const struct ipcc_log_reader *reader, unsigned cpu,
				      struct ipcc_log_stats *ret_stats);

/*
 * Format a line as TI does, "[cpu-name]     12.345678s : text", into buf (NUL-terminated,
 * truncated to size); the text as it is (escape it before printing it to a terminal).
 * Returns the length it needed, like snprintf; -EINVAL.
 */
IPCC_EXPORT int ipcc_log_format(const struct ipcc_system *sys, const struct ipcc_log_line *line,
				char *buf, size_t size);

IPCC_END_DECLS

#endif
