/* SPDX-License-Identifier: MIT */
/*
 * The register trace: an opt-in record of every register write, interrupt-line change and IPC
 * Notify value of every link, with its time and the CPU that made it, kept in rings inside the
 * object, for waveforms (`ipcc trace NAME -o FILE.vcd`) and debugging.
 *
 * A system has a trace when it is created with one (ipcc_config.trace, or `services: trace:`
 * in a system description): a section of CPUs + 1 rings. It is then switched on and off at run
 * time by any process that can write the object (ipcc_trace_enable); the writers check the
 * switch with one relaxed load per register write. A system without a trace section pays one
 * process-local branch per write.
 *
 * What is recorded, each with CLOCK_MONOTONIC time (read just before the write, so that a
 * write another processor reacted to is never stamped after the reaction), the writer and the
 * link:
 *   IPCC_TRACE_CR, IPCC_TRACE_MR: processor `proc`'s CxCR or CxMR after the write;
 *   IPCC_TRACE_SR: C1TOC2SR (proc 1) or C2TOC1SR (proc 2) after a CHnS or CHnC write (by
 *                  either processor: CHnC of processor 2 clears bits of C1TOC2SR);
 *   IPCC_TRACE_LINES: the link's four lines (an ipcc_regs_lines mask) changed with the write,
 *                  as the writer saw them before and after;
 *   IPCC_TRACE_NOTIFY_SEND, _RECV: an IPC Notify value (client << 28 | value) queued by, or
 *                  taken from the queue by (for a callback, the mailbox, or dropped), the CPU of
 *                  processor `proc` of the link it travels on; mask 0. RPMessage will add its
 *                  own kinds.
 * `mask` says which bits the write wrote: a register's new state is (old & ~mask) | (value &
 * mask), which stays right when writes of the two processors to one status word race (each
 * touches its own bits). For IPCC_TRACE_LINES, mask is the line mask before.
 *
 * Rings: ring r < CPUs gets the writes to the registers of CPU r's processor, on every link
 * (its CxCR, CxMR, CxSCR), whoever made them: the CPU's own process, or a simulator writing
 * them through ipcc_regs_write (the rings take several writers, across processes). Ring CPUs
 * (the last) gets ipcc_regs_reset and ipcc_regs_restore, which write both processors'
 * registers at once; their records name no CPU (IPCC_TRACE_NO_CPU). A writer never waits: a
 * record that finds its ring full is dropped and counted (ipcc_trace_dropped). A ring has one
 * reader at a time (one `ipcc trace`); a writer that dies between taking a slot and filling it
 * stops its ring's reading at that slot.
 *
 * Writes by builds without this section type are not recorded (the section is compatible:
 * they open the object and ignore it).
 */
#ifndef IPCC_TRACE_H
#define IPCC_TRACE_H

#include <ipcc/common.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

/* ipcc_trace_config.ring_size: bytes of records per ring (32 per record), a power of two. */
#define IPCC_TRACE_RING_SIZE_MIN     4096u
#define IPCC_TRACE_RING_SIZE_MAX     (16u << 20)
#define IPCC_TRACE_RING_SIZE_DEFAULT (64u << 10)

struct ipcc_trace_config {
	uint32_t ring_size; /* bytes of records per ring: a power of two, RING_SIZE_MIN..MAX */
	bool enabled;	    /* recording from the start (else: ipcc_trace_enable) */
	uint8_t reserved0[3];
	uint32_t reserved[6]; /* 0 */
};

/* Defaults: 64 KiB rings (2048 records each), off at the start. */
IPCC_EXPORT void ipcc_trace_config_init(struct ipcc_trace_config *tcfg);

/*
 * Switch recording on or off, for every process of the system, from any thread. -EINVAL (sys
 * NULL), -EOPNOTSUPP (the system has no trace section), -EROFS (a read-only handle).
 */
IPCC_EXPORT int ipcc_trace_enable(struct ipcc_system *sys, bool on);

/* 1 if recording, 0 if not; -EINVAL, -EOPNOTSUPP as ipcc_trace_enable. */
IPCC_EXPORT int ipcc_trace_enabled(const struct ipcc_system *sys);

/* The number of rings (CPUs + 1); -EINVAL, -EOPNOTSUPP. */
IPCC_EXPORT int ipcc_trace_rings(const struct ipcc_system *sys);

enum ipcc_trace_kind {
	IPCC_TRACE_CR = 1,
	IPCC_TRACE_MR = 2,
	IPCC_TRACE_SR = 3,
	IPCC_TRACE_LINES = 4,
	IPCC_TRACE_NOTIFY_SEND = 5, /* an IPC Notify value queued by processor proc's CPU */
	IPCC_TRACE_NOTIFY_RECV = 6, /* one taken from its queue by processor proc's CPU */
};

/* ipcc_trace_record.cpu of a write made by no CPU (a reset or restore of the instance). */
#define IPCC_TRACE_NO_CPU 0xFFFFu

struct ipcc_trace_record {
	uint64_t time_ns; /* CLOCK_MONOTONIC */
	uint32_t value;	  /* the register after the write (LINES: the line mask after;
			     NOTIFY_*: the entry, client << 28 | value) */
	uint32_t mask;	  /* the bits the write wrote (LINES: the line mask before; NOTIFY_*: 0) */
	uint16_t cpu;	  /* the writer: the CPU of processor `proc`, or IPCC_TRACE_NO_CPU */
	uint8_t kind;	  /* enum ipcc_trace_kind */
	uint8_t proc;	  /* 1 or 2: whose register (SR: 1 is C1TOC2SR); LINES: 0 */
	uint16_t cpu1;	  /* the link: processor 1's CPU (the lower id) */
	uint16_t cpu2;	  /* and processor 2's */
	uint32_t reserved;
};

/*
 * Take up to `cap` records from ring `ring` (0..ipcc_trace_rings - 1), oldest first, into ret;
 * returns how many (0: none complete yet). Records are removed: one reader per ring at a time
 * (serialise calls on one ring). Records whose words make no sense (a link that does not
 * exist, an unknown kind: written by a process that can write the object) are skipped. Never
 * blocks. -EINVAL, -EOPNOTSUPP, -EROFS (reading gives slots back: it needs write access).
 */
IPCC_EXPORT int ipcc_trace_read(struct ipcc_system *sys, unsigned ring,
				struct ipcc_trace_record *ret, unsigned cap);

/* Records ring `ring` dropped because it was full, since the object was created. -EINVAL,
 * -EOPNOTSUPP. */
IPCC_EXPORT int ipcc_trace_dropped(const struct ipcc_system *sys, unsigned ring,
				   uint64_t *ret_count);

IPCC_END_DECLS

#endif
