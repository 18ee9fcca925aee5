/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory layout (version 3): the ABI between every process attached to one system.
 *
 * This header is for inspectors and for the library itself; it is not part of the umbrella
 * <ipcc/ipcc.h>. Everything in the object is addressed by offsets from its start, because each
 * process maps it at its own address. Processes of different builds of libipcc agree on this
 * layout only while IPCC_LAYOUT_VERSION matches and each understands the other's incompatible
 * features; any change to an offset, size or meaning of what is here bumps the version.
 *
 *   [header   ] struct ipcc_shm_header, one page, with the section directory
 *   [sections ] each at the offset its directory entry gives, 64-byte aligned, in any order:
 *     cpus      count = CPUs, stride 256: struct ipcc_shm_cpu
 *     links     count = links, stride = link stride: struct ipcc_shm_link (384 bytes) then the
 *               channel slots: for direction d (0: processor 1 -> 2, 1: 2 -> 1), channel n,
 *               slot (d * channels + n) at IPCC_SHM_LINK_SIZE + slot index * slot stride;
 *               slot = struct ipcc_shm_slot (8 bytes) + buffer_size bytes, rounded up to 64
 *     notify    IPC Notify: struct ipcc_shm_notify_head, then count records of stride bytes
 *     trace     the register trace: struct ipcc_shm_trace_head, then count rings of stride bytes
 *     rpmsg     RPMessage: struct ipcc_shm_rpmsg_head, CPU tables, then count vrings
 *     log       the shared-memory log: struct ipcc_shm_log_head, then count rings of stride bytes
 *     regions   user regions: struct ipcc_shm_regions_head, count entries, then the regions
 *
 * Links exist for the CPU pairs whose bit is set in link_map; the link index of a pair (a < b)
 * is the number of set pairs before it in the order (0,1), (0,2) ... (0,K-1), (1,2) ... Pair
 * (a, b) has bit number a * 64 + b in link_map (only a < b is ever set).
 *
 * Growing the ABI: compat_features bits an opener does not know are ignored; an
 * incompat_features bit it does not know makes it refuse the object. A section type carries
 * the same distinction in its IPCC_SECTION_COMPAT bit: an unknown compatible section is
 * skipped, an unknown incompatible one refused.
 *
 * The header, the directory and the creator-written parts of each section are written once
 * by the creator before `state` becomes READY, then never again. A process that opens the
 * object checks every directory entry (inside the object, aligned, not overlapping, sizes
 * consistent with the geometry it recomputes from cpus, channels, buffer_size and link_map)
 * and uses only its own copy from then on.
 */
#ifndef IPCC_LAYOUT_H
#define IPCC_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include <ipcc/common.h>

/*
 * Words written by several processes are C11 atomics. C++ has no _Atomic before C++23: there
 * the same words are plain integers of the same size and alignment (the static assertions
 * below hold in both languages), to be read with std::atomic_ref (C++20) or __atomic builtins.
 */
#ifdef __cplusplus
#define IPCC_SHM_ATOMIC(type) type
#define IPCC_SHM_ASSERT	      static_assert
#else
#include <stdatomic.h>
#define IPCC_SHM_ATOMIC(type) _Atomic type
#define IPCC_SHM_ASSERT	      _Static_assert
IPCC_SHM_ASSERT(ATOMIC_INT_LOCK_FREE == 2, "cross-process atomics must be lock-free");
IPCC_SHM_ASSERT(ATOMIC_LLONG_LOCK_FREE == 2, "cross-process atomics must be lock-free");
#endif

/* "IPCCSYS1" as a little-endian word: tells a libipcc object from any other shm object. */
#define IPCC_LAYOUT_MAGIC   0x3153595343435049ull
#define IPCC_LAYOUT_VERSION 3u

/* header.state: BUILDING until the creator has written everything, then READY. */
#define IPCC_STATE_BUILDING 0u
#define IPCC_STATE_READY    0x59444552u /* "REDY" */

#define IPCC_CACHE_LINE	     64u
#define IPCC_SHM_HEADER_SIZE 4096u
#define IPCC_SHM_CPU_SIZE    256u
#define IPCC_SHM_LINK_SIZE   384u
#define IPCC_LINK_MAP_WORDS  64u
/* Every section starts on this boundary. */
#define IPCC_SECTION_ALIGN 64u
/* Directory entries in the header. */
#define IPCC_SECTIONS_MAX 64u

/* Feature words: no feature is defined yet in either word. */
#define IPCC_COMPAT_KNOWN   0ull
#define IPCC_INCOMPAT_KNOWN 0ull

/*
 * Section types. The low 16 bits name the type; IPCC_SECTION_COMPAT set means an opener that
 * does not know the type may ignore the section (it only adds information). Types 0x8000-0xFFFF
 * (with or without the compat bit) are for applications and experiments: libipcc never
 * defines one there.
 */
#define IPCC_SECTION_COMPAT    0x80000000u
#define IPCC_SECTION_TYPE_MASK 0x0000FFFFu
#define IPCC_SECTION_HEADER    1u /* the header itself, offset 0 */
#define IPCC_SECTION_CPUS      2u /* count = CPUs, stride = IPCC_SHM_CPU_SIZE */
#define IPCC_SECTION_LINKS     3u /* count = links, stride = link stride, arg = slot stride */
/* IPC Notify: a head of IPCC_SHM_NOTIFY_HEAD_SIZE, then count = ordered Notify pairs records of
 * stride bytes (struct ipcc_shm_notify_pair, then the pair's queue); arg = queue depth. */
#define IPCC_SECTION_NOTIFY 4u
/* The register trace (include/ipcc/trace.h): a head of IPCC_SHM_TRACE_HEAD_SIZE, then count =
 * CPUs + 1 rings of stride bytes (struct ipcc_shm_trace_ring, then arg records of
 * IPCC_SHM_TRACE_RECORD_SIZE); arg = records per ring. Compatible: an opener that does not know
 * it loses nothing but the trace (its writes are not recorded). */
#define IPCC_SECTION_TRACE (IPCC_SECTION_COMPAT | 5u)
/* RPMessage (include/ipcc/rpmsg.h): a head of IPCC_SHM_RPMSG_HEAD_SIZE, then CPUs tables of
 * IPCC_SHM_RPMSG_CPU_SIZE (struct ipcc_shm_rpmsg_cpu), then count = ordered RPMessage pairs
 * vrings of stride bytes (struct ipcc_shm_rpmsg_pair, ledgers, queues, buffers); arg = buffers
 * per vring. */
#define IPCC_SECTION_RPMSG 6u
/* The shared-memory log (include/ipcc/log.h). Compatible: an opener that does not know it
 * loses nothing but the log. */
#define IPCC_SECTION_LOG (IPCC_SECTION_COMPAT | 7u)
/* User regions (include/ipcc/region.h): applications rely on them, so not ignorable. */
#define IPCC_SECTION_REGIONS 8u

/* section.owner: no CPU or pair owns the section as a whole. */
#define IPCC_SECTION_OWNER_NONE 0xFFFFFFFFu

/* One directory entry: 48 bytes. */
struct ipcc_shm_section {
	uint32_t type;	 /* IPCC_SECTION_*, with IPCC_SECTION_COMPAT when ignorable */
	uint32_t flags;	 /* 0: no flag is defined */
	uint64_t offset; /* from the start of the object, IPCC_SECTION_ALIGN-aligned */
	uint64_t size;	 /* bytes, a multiple of IPCC_SECTION_ALIGN */
	uint32_t count;	 /* entries in an array section; 1 otherwise */
	uint32_t stride; /* bytes per entry (count * stride <= size); size otherwise */
	uint32_t owner;	 /* a CPU id, or IPCC_SECTION_OWNER_NONE */
	uint32_t arg;	 /* what the type needs beyond this (links: the slot stride) */
	uint64_t reserved;
};

struct ipcc_shm_header {
	uint64_t magic;
	uint32_t layout_version;
	IPCC_SHM_ATOMIC(uint32_t) state;
	uint64_t total_size;
	uint64_t compat_features;
	uint64_t incompat_features;
	uint32_t header_size;	/* IPCC_SHM_HEADER_SIZE */
	uint32_t section_count; /* directory entries in use, 1..IPCC_SECTIONS_MAX */
	uint32_t section_size;	/* sizeof(struct ipcc_shm_section) */
	uint32_t cpus;		/* the geometry every section is checked against */
	uint32_t channels;
	uint32_t buffer_size;
	uint32_t link_count;
	uint32_t reserved0[7];
	uint64_t link_map[IPCC_LINK_MAP_WORDS];
	uint32_t reserved1[104]; /* up to the directory at 1024 */
	struct ipcc_shm_section sections[IPCC_SECTIONS_MAX];
};

/* A CPU name: 1..IPCC_CPU_NAME_MAX bytes (common.h), NUL-padded to this size. */
#define IPCC_SHM_CPU_NAME_SIZE 16u

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
 * doorbell) is written by every CPU that rings this one; line 2 only by the owner; line 3 by
 * the creator, once.
 *
 * Line 0 is an informational record written by the owner: for display (ipcc info), for the
 * eventfd exchange (whose process must answer, of which generation), and as a hint that a peer
 * restarted. Any process that can write the object can forge it; the claim decision and the
 * liveness of an owner never depend on it.
 */
struct ipcc_shm_cpu {
	/* line 0: the record of the last attach (informational) */
	IPCC_SHM_ATOMIC(uint32_t) owner_pid;   /* process of the last owner */
	IPCC_SHM_ATOMIC(uint32_t) owner_tid;   /* thread that attached (the process owns the CPU) */
	IPCC_SHM_ATOMIC(uint32_t) generation;  /* bumped at every attach: a peer sees restarts */
	IPCC_SHM_ATOMIC(uint32_t) owner_state; /* IPCC_OWNER_*: did the last owner detach? */
	uint32_t reserved0[12];
	/* line 1: doorbell */
	IPCC_SHM_ATOMIC(uint32_t) bell_seq;	 /* futex word: bumped by every ring */
	IPCC_SHM_ATOMIC(uint32_t) bell_sleepers; /* IPCC_BELL_*: who may be asleep and how */
	IPCC_SHM_ATOMIC(uint64_t) bell_pending;	 /* bit p: a line on the link to CPU p changed */
	IPCC_SHM_ATOMIC(uint32_t) bell_fallback; /* futex word: eventfd CPU rung without its fd */
	uint8_t pad1[IPCC_CACHE_LINE - 20];
	/* line 2: written by the owner */
	IPCC_SHM_ATOMIC(uint32_t) wait_mode; /* enum ipcc_wait_mode of the owner (ipcc info) */
	IPCC_SHM_ATOMIC(uint32_t) power;     /* IPCC_POWER_* (common.h) */
	/*
	 * The eventfd rendezvous (lib/bell/bell-eventfd.c): an eventfd-mode owner listens for fd
	 * requests on an abstract UNIX socket named after a random 128-bit token, which only
	 * readers of the object learn, here. efd_gen is the generation the token was published
	 * for; a token of another generation names no listener.
	 */
	IPCC_SHM_ATOMIC(uint32_t) efd_gen;
	uint32_t reserved2a;
	IPCC_SHM_ATOMIC(uint64_t) efd_token[2];
	uint32_t reserved2[8];
	/* line 3: written by the creator */
	char name[IPCC_SHM_CPU_NAME_SIZE];
	uint32_t reserved3[12];
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
	IPCC_SHM_ATOMIC(uint32_t) cr;
	IPCC_SHM_ATOMIC(uint32_t) mr;
	uint32_t reserved[14];
};

/*
 * link.chan_owner[n]: who may use channel n of the link (both directions):
 * IPCC_CHAN_OWNER_PROC (common.h), or the number of the service that reserved it.
 */

/*
 * One IPCC instance. The status registers are written by both processors (CHnS by the sender,
 * CHnC by the receiver); each direction's word has a line of its own so the two directions do not
 * share a line. Line 4 is written by the creator, once. Line 5 is the line watch of processes
 * that wait for the link's interrupt lines to change without being one of its CPUs
 * (ipcc_regs_wait_lines): they count themselves in `watchers` and sleep on `seq`, which every
 * register write bumps while watchers is not 0.
 */
struct ipcc_shm_link {
	struct ipcc_shm_bank bank[2]; /* processor 1, processor 2 */
	struct {
		IPCC_SHM_ATOMIC(uint32_t) sr; /* C1TOC2SR for [0], C2TOC1SR for [1] */
		uint32_t reserved[15];
	} status[2];
	uint8_t chan_owner[IPCC_CHANNELS_MAX];
	uint32_t reserved[12];
	struct {
		IPCC_SHM_ATOMIC(uint32_t) seq;	    /* futex word */
		IPCC_SHM_ATOMIC(uint32_t) watchers; /* waiters in ipcc_regs_wait_lines */
		uint32_t reserved[14];
	} watch;
};

/*
 * IPC Notify (include/ipcc/notify.h). The head is written by the creator, once. It names the
 * links with Notify; each such link a-b (a < b, in link order) has two records, a -> b then
 * b -> a. A record is a line written by the sender, a line written by the receiver, then the
 * pair's queue (lib/queue: struct ipcc_queue_meta and depth entries of 4 bytes, each
 * client << 28 | value), rounded up to IPCC_SECTION_ALIGN.
 */
#define IPCC_SHM_NOTIFY_HEAD_SIZE 1024u
#define IPCC_NOTIFY_MAGIC	  0x5946544Eu /* "NTFY" */

struct ipcc_shm_notify_head {
	uint32_t magic;
	uint32_t depth;	      /* entries per queue, as the directory's arg */
	uint32_t channel;     /* the channel Notify reserved on each of its links */
	uint32_t pair_count;  /* records: twice the links with Notify */
	uint32_t record_size; /* bytes per record, as the directory's stride */
	uint32_t reserved0[11];
	uint64_t pairs[IPCC_LINK_MAP_WORDS]; /* bit b of pairs[a], a < b: link a-b has Notify */
	uint8_t reserved1[IPCC_SHM_NOTIFY_HEAD_SIZE - 64 - 8 * IPCC_LINK_MAP_WORDS];
};

struct ipcc_shm_notify_pair {
	/* line 0: the sender's */
	IPCC_SHM_ATOMIC(uint64_t) sent; /* values queued */
	IPCC_SHM_ATOMIC(uint64_t) full; /* sends that found the queue full */
	/* The sender's sync announcement: its generation (low 16 bits) << 48 | the receiver's
	 * generation it is meant for (low 16 bits) << 32 | the round (lib/notify/notify.c). */
	IPCC_SHM_ATOMIC(uint64_t) sync;
	uint64_t reserved0[5];
	/* line 1: the receiver's */
	IPCC_SHM_ATOMIC(uint64_t) received; /* values taken from the queue */
	IPCC_SHM_ATOMIC(uint64_t) dropped;  /* values dropped (mailbox full, client unserved) */
	/* 1 while a full mailbox holds the queue back (its interrupt masked): a service's kick
	 * then wakes the receiver's waiting threads instead (lib/notify/notify.c) */
	IPCC_SHM_ATOMIC(uint32_t) held;
	uint32_t reserved1a;
	uint64_t reserved1[5];
};

/*
 * The register trace (include/ipcc/trace.h, lib/ipcc/trace.c). The head's line 0 is written by
 * the creator, once; line 1 holds the run-time switch, which any process may flip. Ring r < CPUs
 * holds the writes of the registers of CPU r's processor on every link (CxCR, CxMR, CxSCR),
 * ring CPUs those of an instance reset or restore (no CPU). A ring has many writers (the CPU's
 * own threads, and simulators writing its registers through ipcc_regs) and one reader: a writer
 * takes a ticket (CAS on head, refused while the ring is full: counted in dropped, the writer
 * never waits), fills the record and publishes it by storing seq = ticket + 1 (release); the
 * reader takes records in ticket order while their seq says they are complete, then publishes
 * tail (release), which gives their slots back.
 */
#define IPCC_SHM_TRACE_HEAD_SIZE   128u
#define IPCC_SHM_TRACE_RING_SIZE   128u /* struct ipcc_shm_trace_ring, before its records */
#define IPCC_SHM_TRACE_RECORD_SIZE 32u
#define IPCC_TRACE_MAGIC	   0x45435254u /* "TRCE" */

struct ipcc_shm_trace_head {
	/* line 0: the creator's */
	uint32_t magic;
	uint32_t records;     /* per ring, a power of two, as the directory's arg */
	uint32_t rings;	      /* CPUs + 1, as the directory's count */
	uint32_t record_size; /* IPCC_SHM_TRACE_RECORD_SIZE */
	uint32_t reserved0[12];
	/* line 1: any process */
	IPCC_SHM_ATOMIC(uint32_t) enabled; /* 1: writes are recorded */
	uint32_t reserved1[15];
};

struct ipcc_shm_trace_ring {
	/* line 0: the writers' */
	IPCC_SHM_ATOMIC(uint64_t) head;	   /* tickets taken */
	IPCC_SHM_ATOMIC(uint64_t) dropped; /* records refused because the ring was full */
	uint64_t reserved0[6];
	/* line 1: the reader's */
	IPCC_SHM_ATOMIC(uint64_t) tail; /* tickets read */
	uint64_t reserved1[7];
};

/* One record; every word an atomic, written relaxed before seq's release store. */
struct ipcc_shm_trace_record {
	IPCC_SHM_ATOMIC(uint64_t) seq;	/* ticket + 1 once complete */
	IPCC_SHM_ATOMIC(uint64_t) time; /* CLOCK_MONOTONIC ns, read before the write */
	/* link index << 32 | writer CPU (0xFFFF: none) << 16 | kind << 8 | processor (0, 1) */
	IPCC_SHM_ATOMIC(uint64_t) what;
	IPCC_SHM_ATOMIC(uint64_t) value; /* bits written << 32 | the word after the write */
};

/*
 * RPMessage (include/ipcc/rpmsg.h, lib/rpmsg/rpmsg.c). The head is written by the creator, once.
 * Then one table per CPU, written only by that CPU's owner: the end points it has open and the
 * names it announced. Then, for each link a-b (a < b, in link order) with RPMessage, two vrings,
 * a -> b then b -> a. A vring S -> R is, each part 64-byte aligned:
 *   struct ipcc_shm_rpmsg_pair  a line written by S, a line written by R, S's wait line
 *   sent_tag[buffers]           uint32 each, written by S: the tag of the buffer's last send
 *   ret_tag[buffers]            uint32 each, written by R: the tag of its last return
 *   full queue                  lib/queue, S -> R, `buffers` entries of 8 bytes
 *   free queue                  lib/queue, R -> S, 2 * `buffers` entries of 8 bytes (room
 *                               for the returns a receiver killed mid-return repeats)
 *   buffers                     `buffers` of buffer_size bytes: header, then payload
 * A queue entry is struct ipcc_shm_rpmsg_desc. A send's tag is its position in the full queue
 * plus one; a buffer is out with R while sent_tag != ret_tag (lib/rpmsg/rpmsg.c: the reclaim).
 */
#define IPCC_SHM_RPMSG_HEAD_SIZE 1024u
#define IPCC_SHM_RPMSG_CPU_SIZE	 2304u
#define IPCC_SHM_RPMSG_EP_WORDS	 16u	     /* bitmap words: IPCC_RPMSG_ENDPOINTS_MAX bits */
#define IPCC_SHM_RPMSG_NAMES	 32u	     /* IPCC_RPMSG_NAMES_MAX */
#define IPCC_RPMSG_MAGIC	 0x474D5052u /* "RPMG" */

struct ipcc_shm_rpmsg_head {
	uint32_t magic;
	uint32_t buffers;     /* per vring, as the directory's arg */
	uint32_t buffer_size; /* bytes per buffer, header included */
	uint32_t endpoints;   /* end point numbers per CPU */
	uint32_t pair_count;  /* vrings: twice the links with RPMessage */
	uint32_t record_size; /* bytes per vring, as the directory's stride */
	uint32_t cpus;	      /* tables */
	uint32_t reserved0[9];
	uint64_t pairs[IPCC_LINK_MAP_WORDS]; /* bit b of pairs[a], a < b: link a-b has RPMessage */
	uint8_t reserved1[IPCC_SHM_RPMSG_HEAD_SIZE - 64 - 8 * IPCC_LINK_MAP_WORDS];
};

/*
 * One announced name. The owner writes it under a sequence count: odd while it changes (a reader
 * retries), even when stable; ep == 0 (the control end point) is an empty entry.
 */
struct ipcc_shm_rpmsg_name {
	IPCC_SHM_ATOMIC(uint32_t) seq;
	IPCC_SHM_ATOMIC(uint32_t) ep;
	IPCC_SHM_ATOMIC(uint64_t) to;	   /* bit c: announced to CPU c */
	IPCC_SHM_ATOMIC(uint64_t) name[4]; /* NUL-padded bytes, as words */
	uint64_t reserved[2];
};

struct ipcc_shm_rpmsg_cpu {
	/* line 0 */
	IPCC_SHM_ATOMIC(uint32_t) gen;	  /* the owner generation the table is for */
	IPCC_SHM_ATOMIC(uint32_t) ns_seq; /* bumped at every announce or withdrawal */
	IPCC_SHM_ATOMIC(uint32_t) ep_seq; /* bumped at every end point open or close */
	uint32_t reserved0[13];
	/* lines 1-2: bit e of word e / 64: end point e is open */
	IPCC_SHM_ATOMIC(uint64_t) open[IPCC_SHM_RPMSG_EP_WORDS];
	/* lines 3-34 */
	struct ipcc_shm_rpmsg_name names[IPCC_SHM_RPMSG_NAMES];
	uint8_t reserved1[IPCC_SHM_RPMSG_CPU_SIZE - 3 * 64 - 64 * IPCC_SHM_RPMSG_NAMES];
};

struct ipcc_shm_rpmsg_pair {
	/* line 0: the sender's */
	IPCC_SHM_ATOMIC(uint64_t) sent;
	IPCC_SHM_ATOMIC(uint64_t) nobuf;
	uint64_t reserved0[6];
	/* line 1: the receiver's */
	IPCC_SHM_ATOMIC(uint64_t) received;
	IPCC_SHM_ATOMIC(uint64_t) dropped;
	IPCC_SHM_ATOMIC(uint64_t) stale;
	IPCC_SHM_ATOMIC(uint64_t) bad;
	IPCC_SHM_ATOMIC(uint64_t) reclaimed;
	uint64_t reserved1[3];
	/* line 2: the sender's, written only when a wait starts or ends (the receiver reads it
	 * after every return, so it is kept off the line every send writes) */
	IPCC_SHM_ATOMIC(uint32_t) tx_waiting; /* the sender waits for a buffer: ring NEW_EMPTY */
	uint32_t reserved2[15];
};

/* A queue entry: a buffer and the send it belongs to. */
struct ipcc_shm_rpmsg_desc {
	uint16_t index; /* the buffer, < buffers */
	uint16_t gen;	/* full queue: the sender's generation (low 16 bits); free queue: 0 */
	uint32_t tag;	/* the send's tag (sent_tag) */
};

/*
 * The shared-memory log (include/ipcc/log.h, lib/log/log.c, where the protocol is argued). The
 * head's line 0 is written by the creator, once; line 1 is the readers' doorbell, written by
 * readers and writers. Then one ring per CPU, written only by the threads of that CPU's owner:
 * a line (struct ipcc_shm_log_ring), then `slots` slots of IPCC_SHM_LOG_SLOT_SIZE bytes. A
 * line of text takes 1 + ceil((len - HEAD_TEXT) / CONT_TEXT) consecutive slots (modulo the
 * ring). Readers keep their positions to themselves: nothing in the object says what was read.
 */
#define IPCC_SHM_LOG_HEAD_SIZE 128u
#define IPCC_SHM_LOG_RING_SIZE 64u /* struct ipcc_shm_log_ring, before its slots */
#define IPCC_SHM_LOG_SLOT_SIZE 64u
#define IPCC_SHM_LOG_HEAD_TEXT 40u	   /* text bytes in the first slot of a line */
#define IPCC_SHM_LOG_CONT_TEXT 56u	   /* text bytes in each further slot */
#define IPCC_LOG_MAGIC	       0x474F4C53u /* "SLOG" */

/* ipcc_shm_log_slot.seq = ticket << 32 | one of these; the ticket is the slot's position in
 * the ring's free-running count of slots taken. */
#define IPCC_LOG_SLOT_BUSY 1u /* being written by the ticket's writer */
#define IPCC_LOG_SLOT_HEAD 2u /* the complete first slot of a line */
#define IPCC_LOG_SLOT_CONT 3u /* a complete further slot of a line */
#define IPCC_LOG_SLOT_DEAD 4u /* holds nothing (never written, or its writer died) */

struct ipcc_shm_log_head {
	/* line 0: the creator's */
	uint32_t magic;
	uint32_t slots;	    /* per ring, a power of two, as the directory's arg */
	uint32_t rings;	    /* CPUs, as the directory's count */
	uint32_t slot_size; /* IPCC_SHM_LOG_SLOT_SIZE */
	uint32_t line_max;  /* IPCC_LOG_LINE_MAX of the creator */
	uint32_t reserved0[11];
	/* line 1: readers and writers */
	IPCC_SHM_ATOMIC(uint32_t) bell;	   /* futex word: bumped by a writer that rings */
	IPCC_SHM_ATOMIC(uint32_t) waiting; /* 1: a reader may sleep on bell (the ringer clears) */
	uint32_t reserved1[14];
};

struct ipcc_shm_log_ring {
	/* The writers' line: lines reserved << 32 | slots taken, both free-running. */
	IPCC_SHM_ATOMIC(uint64_t) head;
	IPCC_SHM_ATOMIC(uint64_t) dropped; /* lines refused: no room, too long, contention */
	uint64_t reserved[6];
};

/* One slot; every word an atomic, so that a reader may copy while a writer overwrites. */
struct ipcc_shm_log_slot {
	IPCC_SHM_ATOMIC(uint64_t) seq;
	/* First slot of a line: word[0] CLOCK_MONOTONIC ns, word[1] line number << 32 | length
	 * << 8 | slots of the line, then IPCC_SHM_LOG_HEAD_TEXT bytes of text. Further slots:
	 * IPCC_SHM_LOG_CONT_TEXT bytes of text. Text bytes are in memory order within a word. */
	IPCC_SHM_ATOMIC(uint64_t) word[7];
};

/*
 * User regions (include/ipcc/region.h, lib/region/user.c): written by the creator, once. The
 * head, `count` entries in the order of the configuration, then the regions, each at the
 * offset its entry gives (from the start of the object, a multiple of its alignment and of
 * IPCC_CACHE_LINE), in increasing order, inside the section.
 */
#define IPCC_SHM_REGIONS_HEAD_SIZE 64u
#define IPCC_SHM_REGION_SIZE	   64u /* struct ipcc_shm_region */
#define IPCC_SHM_REGION_NAME_SIZE  32u
#define IPCC_REGIONS_MAGIC	   0x4E474552u /* "REGN" */

struct ipcc_shm_regions_head {
	uint32_t magic;
	uint32_t count;	     /* entries, as the directory's count */
	uint32_t entry_size; /* IPCC_SHM_REGION_SIZE */
	uint32_t reserved[13];
};

struct ipcc_shm_region {
	char name[IPCC_SHM_REGION_NAME_SIZE]; /* NUL-padded */
	uint64_t offset;		      /* from the start of the object */
	uint64_t size;			      /* bytes */
	uint32_t align;			      /* a power of two, 1..IPCC_REGION_ALIGN_MAX */
	uint32_t reserved[3];
};

/* The head of each channel slot; the data follows it in the same cache line. */
struct ipcc_shm_slot {
	IPCC_SHM_ATOMIC(uint32_t) len; /* message length, written by the procedures before CHnS */
	uint32_t reserved;
};

IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_section) == 48, "section entry size");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_header) == IPCC_SHM_HEADER_SIZE, "header size");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_header, magic) == 0, "magic first");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_header, layout_version) == 8, "version offset");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_header, state) == 12, "state offset");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_header, link_map) == 96, "link map offset");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_header, sections) == 1024, "directory offset");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_cpu, reserved0) == 16, "owner record");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_cpu) == IPCC_SHM_CPU_SIZE, "cpu size");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_cpu, bell_seq) == IPCC_CACHE_LINE, "doorbell line");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_cpu, wait_mode) == 2 * IPCC_CACHE_LINE, "owner line");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_cpu, efd_gen) == 2 * IPCC_CACHE_LINE + 8, "efd gen");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_cpu, efd_token) == 2 * IPCC_CACHE_LINE + 16, "efd token");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_cpu, reserved2) == 2 * IPCC_CACHE_LINE + 32, "reserved");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_cpu, name) == 3 * IPCC_CACHE_LINE, "creator line");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_bank) == IPCC_CACHE_LINE, "bank is a line");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_link) == IPCC_SHM_LINK_SIZE, "link size");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_link, status) == 2 * IPCC_CACHE_LINE, "status lines");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_link, chan_owner) == 4 * IPCC_CACHE_LINE, "owner line");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_link, watch) == 5 * IPCC_CACHE_LINE, "watch line");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_slot) == 8, "slot head");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_notify_head) == IPCC_SHM_NOTIFY_HEAD_SIZE, "notify head");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_notify_head, pairs) == 64, "notify pairs");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_notify_pair) == 2 * IPCC_CACHE_LINE, "notify record");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_notify_pair, received) == IPCC_CACHE_LINE,
		"notify receiver line");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_trace_head) == IPCC_SHM_TRACE_HEAD_SIZE, "trace head");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_trace_head, enabled) == IPCC_CACHE_LINE, "trace switch");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_trace_ring) == IPCC_SHM_TRACE_RING_SIZE, "trace ring");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_trace_ring, tail) == IPCC_CACHE_LINE, "trace reader");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_trace_record) == IPCC_SHM_TRACE_RECORD_SIZE, "record");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_rpmsg_head) == IPCC_SHM_RPMSG_HEAD_SIZE, "rpmsg head");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_rpmsg_head, pairs) == 64, "rpmsg pairs");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_rpmsg_name) == 64, "rpmsg name");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_rpmsg_cpu, open) == 64, "rpmsg end points");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_rpmsg_cpu, names) == 192, "rpmsg names");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_rpmsg_cpu) == IPCC_SHM_RPMSG_CPU_SIZE, "rpmsg table");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_rpmsg_pair) == 3 * IPCC_CACHE_LINE, "rpmsg record");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_rpmsg_pair, received) == IPCC_CACHE_LINE,
		"rpmsg receiver line");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_rpmsg_desc) == 8, "rpmsg descriptor");

IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_log_head) == IPCC_SHM_LOG_HEAD_SIZE, "log head");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_log_head, bell) == IPCC_CACHE_LINE, "log doorbell");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_log_ring) == IPCC_SHM_LOG_RING_SIZE, "log ring");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_log_slot) == IPCC_SHM_LOG_SLOT_SIZE, "log slot");
IPCC_SHM_ASSERT(IPCC_SHM_LOG_HEAD_TEXT == 5 * 8 && IPCC_SHM_LOG_CONT_TEXT == 7 * 8, "log text");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_regions_head) == IPCC_SHM_REGIONS_HEAD_SIZE, "regions");
IPCC_SHM_ASSERT(sizeof(struct ipcc_shm_region) == IPCC_SHM_REGION_SIZE, "region entry");
IPCC_SHM_ASSERT(offsetof(struct ipcc_shm_region, offset) == IPCC_SHM_REGION_NAME_SIZE, "name");

#endif
