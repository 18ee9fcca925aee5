/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory layout: the ABI between every process attached to one system.
 *
 * Everything in the object is addressed by offsets from its start, because each process maps it
 * at its own address. Processes of different builds of libipcc agree on this layout only while
 * IPCC_LAYOUT_VERSION matches; any change to an offset, size or meaning bumps it.
 *
 *   [header  ] struct ipcc_shm_header, 1024 bytes
 *   [cpus    ] cpus x struct ipcc_shm_cpu, 256 bytes each
 *   [links   ] links x link stride: struct ipcc_shm_link (256 bytes) then the channel slots:
 *                for direction d (0: processor 1 -> 2, 1: 2 -> 1), channel n (0-based):
 *                slot (d * channels + n) at slot_offset + slot index * slot stride
 *   slot      = struct ipcc_shm_slot (8 bytes) + buffer_size bytes of data, rounded up to 64
 *
 * Links exist for the CPU pairs whose bit is set in link_map; the link index of a pair (a < b)
 * is the number of set pairs before it in the order (0,1), (0,2) ... (0,K-1), (1,2) ... Pair
 * (a, b) has bit number a * 64 + b in link_map (only a < b is ever set).
 *
 * The geometry fields are written once by the creator before `state` becomes READY, then never
 * again. A process that opens the object recomputes every offset from cpus, channels, buffer_size
 * and link_map, checks that the stored ones agree and that the object is large enough, and uses
 * only its own copy from then on.
 */
#ifndef IPCC_LAYOUT_H
#define IPCC_LAYOUT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <ipcc/common.h>

/* "IPCCSYS1" as a little-endian word: tells a libipcc object from any other shm object. */
#define IPCC_LAYOUT_MAGIC   0x3153595343435049ull
#define IPCC_LAYOUT_VERSION 1u

/* header.state: BUILDING until the creator has written everything, then READY. */
#define IPCC_STATE_BUILDING 0u
#define IPCC_STATE_READY    0x59444552u /* "REDY" */

#define IPCC_CACHE_LINE	     64u
#define IPCC_SHM_HEADER_SIZE 1024u
#define IPCC_SHM_CPU_SIZE    256u
#define IPCC_SHM_LINK_SIZE   256u
#define IPCC_LINK_MAP_WORDS  64u

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "cross-process atomics must be lock-free");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "cross-process atomics must be lock-free");

struct ipcc_shm_header {
	uint64_t magic;
	uint32_t layout_version;
	_Atomic uint32_t state;
	uint64_t total_size;
	uint32_t header_size;
	uint32_t cpus;
	uint32_t channels;
	uint32_t buffer_size;
	uint32_t link_count;
	uint32_t slot_stride;
	uint64_t cpu_offset;
	uint64_t link_offset;
	uint64_t link_stride;
	uint64_t slot_offset; /* from the start of a link */
	uint32_t cpu_size;
	uint32_t link_size;
	uint32_t reserved0[2];
	uint64_t link_map[IPCC_LINK_MAP_WORDS];
	uint32_t reserved[(IPCC_SHM_HEADER_SIZE - 96 - 8 * IPCC_LINK_MAP_WORDS) / 4];
};

/*
 * Who owns a CPU is not in the object: it is an open-file-description write lock (fcntl
 * F_OFD_SETLK) that the owner process holds on byte IPCC_CLAIM_LOCK_OFFSET + cpu id of the object,
 * far beyond its end (lib/region/claim.c). The kernel releases it when the owner detaches or
 * its process ends, however it ends. Every process agrees on this byte as it agrees on the
 * layout: changing it changes IPCC_LAYOUT_VERSION.
 */
#define IPCC_CLAIM_LOCK_OFFSET (1ull << 62)

/* ipcc_shm_cpu.owner_state, as the last owner left it */
#define IPCC_OWNER_DETACHED 0u
#define IPCC_OWNER_ATTACHED 0x48435441u /* "ATCH" */

/*
 * One CPU. Cache line 0 is written only when the CPU is attached or detached; line 1 (the
 * doorbell) is written by every CPU that rings this one; line 2 only by the owner.
 *
 * Line 0 is an informational record written by the owner: for display (ipcc info), for the
 * eventfd socket name, and as a hint that a peer restarted. Any process that can write the object
 * can forge it; the claim decision and the liveness of an owner never depend on it.
 */
struct ipcc_shm_cpu {
	/* line 0: the record of the last attach (informational) */
	_Atomic uint32_t owner_pid;   /* process of the last owner */
	_Atomic uint32_t owner_tid;   /* thread that attached (the CPU belongs to the process) */
	_Atomic uint32_t generation;  /* bumped at every attach: a peer sees restarts */
	_Atomic uint32_t owner_state; /* IPCC_OWNER_*: did the last owner detach? */
	uint32_t reserved0[12];
	/* line 1: doorbell */
	_Atomic uint32_t bell_seq;	/* futex word: bumped by every ring */
	_Atomic uint32_t bell_sleepers; /* IPCC_BELL_*: who may be asleep and how */
	_Atomic uint64_t bell_pending;	/* bit p: a line on the link to CPU p may have changed */
	_Atomic uint32_t bell_fallback; /* futex word: eventfd CPU rung by one without its fd */
	uint8_t pad1[IPCC_CACHE_LINE - 20];
	/* line 2: written by the owner */
	_Atomic uint32_t wait_mode;
	_Atomic uint32_t power;
	uint32_t reserved2[14];
	/* line 3 */
	uint32_t reserved3[16];
};

/*
 * bell_sleepers: the low 16 bits count the CPU's threads that sleep (or are about to) on the
 * bell_seq futex; IPCC_BELL_EVENTFD is set while an eventfd-mode CPU may be blocked in its own
 * event loop, and the ringer that clears it writes the eventfd once.
 */
#define IPCC_BELL_FUTEX_MASK 0xFFFFu
#define IPCC_BELL_EVENTFD    0x10000u

/* One register bank (CxCR, CxMR) on its own line: only its processor writes it. */
struct ipcc_shm_bank {
	_Atomic uint32_t cr;
	_Atomic uint32_t mr;
	uint32_t reserved[14];
};

/*
 * One IPCC instance. The status registers are written by both processors (CHnS by the sender,
 * CHnC by the receiver); each direction's word has a line of its own so the two directions do not
 * share a line.
 */
struct ipcc_shm_link {
	struct ipcc_shm_bank bank[2]; /* processor 1, processor 2 */
	struct {
		_Atomic uint32_t sr; /* C1TOC2SR for [0], C2TOC1SR for [1] */
		uint32_t reserved[15];
	} status[2];
};

/* The head of each channel slot; the data follows it in the same cache line. */
struct ipcc_shm_slot {
	_Atomic uint32_t len; /* message length, written by the procedures before CHnS */
	uint32_t reserved;
};

_Static_assert(sizeof(struct ipcc_shm_header) == IPCC_SHM_HEADER_SIZE, "header size");
_Static_assert(offsetof(struct ipcc_shm_header, magic) == 0, "magic first");
_Static_assert(offsetof(struct ipcc_shm_header, layout_version) == 8, "version offset");
_Static_assert(offsetof(struct ipcc_shm_header, state) == 12, "state offset");
_Static_assert(offsetof(struct ipcc_shm_header, link_map) == 96, "link map offset");
_Static_assert(offsetof(struct ipcc_shm_cpu, reserved0) == 16, "owner record");
_Static_assert(sizeof(struct ipcc_shm_cpu) == IPCC_SHM_CPU_SIZE, "cpu size");
_Static_assert(offsetof(struct ipcc_shm_cpu, bell_seq) == IPCC_CACHE_LINE, "doorbell line");
_Static_assert(offsetof(struct ipcc_shm_cpu, wait_mode) == 2 * IPCC_CACHE_LINE, "owner line");
_Static_assert(sizeof(struct ipcc_shm_bank) == IPCC_CACHE_LINE, "bank is a line");
_Static_assert(sizeof(struct ipcc_shm_link) == IPCC_SHM_LINK_SIZE, "link size");
_Static_assert(offsetof(struct ipcc_shm_link, status) == 2 * IPCC_CACHE_LINE, "status lines");
_Static_assert(sizeof(struct ipcc_shm_slot) == 8, "slot head");

#endif
