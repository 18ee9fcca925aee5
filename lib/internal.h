/* SPDX-License-Identifier: MIT */
/*
 * Process-local state of libipcc, shared by the layers of lib/. Never part of the shm ABI.
 */
#ifndef IPCC_LIB_INTERNAL_H
#define IPCC_LIB_INTERNAL_H

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <ipcc/layout.h>
#include <ipcc/regs.h>
#include <ipcc/system.h>

#define IPCC_NO_LINK 0xFFFFu

#define ipcc_likely(x)	 __builtin_expect(!!(x), 1)
#define ipcc_unlikely(x) __builtin_expect(!!(x), 0)

/* Iterate over the set bits of a 64-bit word: `bit` is the index, `tmp` a scratch word. */
#define ipcc_for_each_bit(bit, tmp, word) \
	for ((tmp) = (word); (tmp) && ((bit) = (unsigned)__builtin_ctzll(tmp), 1); (tmp) &= (tmp)-1)

/* Everything a process needs to address the object, computed or checked locally. */
struct ipcc_geometry {
	unsigned cpus;
	unsigned channels;
	unsigned link_count;
	uint32_t buffer_size;
	uint32_t slot_stride;
	uint32_t chmask; /* (1 << channels) - 1 */
	uint64_t link_stride;
	uint64_t cpu_offset;  /* of the cpus section */
	uint64_t link_offset; /* of the links section */
	uint64_t total_size;
	uint64_t link_map[IPCC_LINK_MAP_WORDS];
	/* The directory: planned at create, checked at open; in address order. */
	unsigned section_count;
	struct ipcc_shm_section sections[IPCC_SECTIONS_MAX];
};

/* One link as this process sees it. */
struct ipcc_link {
	struct ipcc_shm_link *shm;
	unsigned cpu[2]; /* processor 1 (lower id), processor 2 */
	unsigned index;
	uint32_t reserved; /* channels reserved by a service: refused to the procedures */
	uint8_t chan_owner[IPCC_CHANNELS_MAX]; /* IPCC_CHAN_OWNER_PROC or a service number */
	/*
	 * ipcc_regs_on_lines: called after a register write through this process changed the
	 * link's line mask. arg is stored before fn (release), read after it (acquire).
	 */
	_Atomic(ipcc_lines_fn) lines_fn;
	void *lines_arg;
	struct ipcc_regs *lines_regs;
};

/*
 * lib/ipcc/trace.c: this process's view of the object's trace section, copied at load; head is
 * NULL when the object has none (the one branch every register write pays then).
 */
struct ipcc_trace_view {
	struct ipcc_shm_trace_head *head;
	uint8_t *rings;	  /* ring 0 */
	uint32_t records; /* per ring, a power of two */
	uint32_t stride;  /* bytes per ring */
	unsigned count;	  /* rings: CPUs + 1 */
};

struct ipcc_claims; /* lib/region/claim.c */
struct ipcc_cpu;

/* The layers, bottom up: lib/layers.c registers what each adds to a handle and to a CPU. */
enum ipcc_layer_id {
	IPCC_LAYER_REGION, /* lib/region: the object, claims (owns struct ipcc_system itself) */
	IPCC_LAYER_BELL,   /* lib/bell: doorbells, the eventfd ringer */
	IPCC_LAYER_IPCC,   /* lib/ipcc: registers and channels */
	IPCC_LAYER_IRQ,	   /* lib/irq: handlers, dispatch, waits */
	IPCC_LAYER_PROC,   /* lib/proc: the procedures */
	IPCC_LAYER_NOTIFY, /* lib/notify: IPC Notify and sync */
	IPCC_LAYER_RPMSG,  /* lib/rpmsg: RPMessage */
	IPCC_LAYER_LOG,	   /* lib/log: the shared-memory log */
	IPCC_LAYER_COUNT
};

/*
 * What a layer adds. Every hook may be NULL. The open and attach hooks run in layer order and
 * the close and detach hooks in the reverse, so a layer's state exists whenever a layer above
 * it runs; a failed open or attach undoes the layers already done, in reverse.
 */
struct ipcc_layer {
	const char *name;
	/* A handle was made (create or open, the object checked): sys->layer[id]. 0 or -errno. */
	int (*open)(struct ipcc_system *sys);
	/* At close, after every CPU of the handle was detached. */
	void (*close)(struct ipcc_system *sys);
	/* A CPU was claimed: cpu->layer[id]. 0 or -errno. */
	int (*attach)(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *opt);
	/*
	 * First step of a detach, in layer order, before any layer's detach: stop this layer's
	 * threads that may call into the layers above (the interrupt thread runs the
	 * procedures' callbacks), so no layer's state is freed under them.
	 */
	void (*quiesce)(struct ipcc_cpu *cpu);
	/* Before the claim is released, in reverse layer order; from any thread of the process. */
	void (*detach)(struct ipcc_cpu *cpu);
	/*
	 * Wake target's blocked waits so that they re-check (a peer died or restarted): how a
	 * lower layer (the claims' reapers) reaches the one that owns sleeping (lib/bell).
	 */
	void (*wake_sleepers)(struct ipcc_system *sys, unsigned target);
};

/* lib/layers.c: walk the table. */
int ipcc_layers_open(struct ipcc_system *sys);
void ipcc_layers_close(struct ipcc_system *sys);
int ipcc_layers_attach(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *opt);
void ipcc_layers_detach(struct ipcc_cpu *cpu);
void ipcc_layers_wake_sleepers(struct ipcc_system *sys, unsigned target);

struct ipcc_system {
	char name[IPCC_NAME_MAX + 2];
	int fd; /* the object, open for the handle's lifetime: claims reopen it (claim.c) */
	uint8_t *base;
	size_t map_size;
	bool readonly; /* IPCC_OPEN_READONLY: mapped without write access */
	struct ipcc_geometry geo;
	char cpu_names[IPCC_CPUS_MAX][IPCC_SHM_CPU_NAME_SIZE]; /* checked at open */
	struct ipcc_link *links;			       /* geo.link_count entries */
	uint16_t link_index[IPCC_CPUS_MAX][IPCC_CPUS_MAX];     /* both orders; IPCC_NO_LINK */
	pthread_mutex_t lock;				       /* process-local: guards cpus[] */
	struct ipcc_cpu *cpus[IPCC_CPUS_MAX]; /* handles attached through this system */
	struct ipcc_claims *claims;    /* lib/region/claim.c: kernel-held claims, peer reapers */
	void *layer[IPCC_LAYER_COUNT]; /* each layer's per-handle state (struct ipcc_layer) */
	struct ipcc_trace_view trace;  /* lib/ipcc/trace.c */
};

struct ipcc_cpu {
	struct ipcc_system *sys;
	struct ipcc_shm_cpu *shm;
	unsigned id;
	pid_t tid;	/* the thread that attached (informational: the process owns the CPU) */
	unsigned forks; /* ipcc_forks when attached: a fork child's copy differs (ipcc_cpu_stale) */
	void *layer[IPCC_LAYER_COUNT]; /* each layer's per-CPU state (struct ipcc_layer) */
};

/*
 * Forks this process went through as a child (lib/region/claim.c:atfork_child). Written only by
 * the atfork child handler, while the child has one thread; every thread that reads it is
 * created later or is that thread, so a plain variable is enough.
 */
extern unsigned ipcc_forks;

/*
 * A handle inherited across fork() owns nothing (its claim was closed in the child): every
 * operation through it fails with -ESTALE. One load and a compare, for the hot paths.
 */
static inline bool ipcc_cpu_stale(const struct ipcc_cpu *cpu)
{
	return ipcc_unlikely(cpu->forks != ipcc_forks);
}

static inline struct ipcc_shm_header *ipcc_header(const struct ipcc_system *sys)
{
	return (struct ipcc_shm_header *)sys->base;
}

static inline struct ipcc_shm_cpu *ipcc_shm_cpu(const struct ipcc_system *sys, unsigned id)
{
	assert(id < sys->geo.cpus);
	return (struct ipcc_shm_cpu *)(sys->base + sys->geo.cpu_offset +
				       (uint64_t)id * IPCC_SHM_CPU_SIZE);
}

/* The link between a and b (any order), or NULL. */
static inline struct ipcc_link *ipcc_link_get(const struct ipcc_system *sys, unsigned a, unsigned b)
{
	if (a >= sys->geo.cpus || b >= sys->geo.cpus || a == b)
		return NULL;
	unsigned idx = sys->link_index[a][b];
	return idx == IPCC_NO_LINK ? NULL : &sys->links[idx];
}

/* Which processor (0 = processor 1, 1 = processor 2) CPU `cpu` is on link `l`. */
static inline unsigned ipcc_link_proc(const struct ipcc_link *l, unsigned cpu)
{
	assert(l->cpu[0] == cpu || l->cpu[1] == cpu);
	return l->cpu[1] == cpu;
}

/* Channel slot of direction `from` (0: processor 1 -> 2, 1: 2 -> 1), channel `ch`. */
static inline struct ipcc_shm_slot *ipcc_slot(const struct ipcc_system *sys,
					      const struct ipcc_link *l, unsigned from, unsigned ch)
{
	assert(from < 2 && ch < sys->geo.channels);
	return (struct ipcc_shm_slot *)((uint8_t *)l->shm + IPCC_SHM_LINK_SIZE +
					(uint64_t)(from * sys->geo.channels + ch) *
						sys->geo.slot_stride);
}

static inline void *ipcc_slot_data(struct ipcc_shm_slot *slot)
{
	return slot + 1;
}

/*
 * The message length word of a slot, the one place it is read and written. Relaxed both ways:
 * a length is published by the flag write that follows its store (the seq_cst CHnS or CHnC RMW
 * of lib/ipcc/regs.c:ipcc_link_write_scr, a release), and read after the acquire load that
 * found the flag (lib/ipcc/chan.h:ipcc_chan_flag). The peer may store anything: a length above
 * the buffer size reads as -EBADMSG.
 */
static inline void ipcc_slot_len_set(struct ipcc_shm_slot *slot, uint32_t len)
{
	atomic_store_explicit(&slot->len, len, memory_order_relaxed);
}

static inline int ipcc_slot_len(const struct ipcc_system *sys, struct ipcc_shm_slot *slot)
{
	uint32_t len = atomic_load_explicit(&slot->len, memory_order_relaxed);
	return len > sys->geo.buffer_size ? -EBADMSG : (int)len;
}

/*
 * A section type: what its layer knows about it. The layout code (lib/region/layout.c) asks
 * every type for its sections of a config, places them, checks the directory of an object
 * it opens against them, and calls the type back to initialise (create) and load (create and
 * open) the creator-written contents.
 */
struct ipcc_section_type {
	uint32_t type; /* as stored, with IPCC_SECTION_COMPAT when ignorable */
	const char *name;
	const char *layer;
	bool required; /* exactly one in every object */
	/*
	 * Append this type's sections for cfg (sizes, counts, strides, owners; no offsets) to
	 * out[] (room for `cap`); g has the base geometry. Returns the number added or -EINVAL.
	 */
	int (*plan)(const struct ipcc_config *cfg, const struct ipcc_geometry *g,
		    struct ipcc_shm_section *out, unsigned cap);
	/* At open: does entry s agree with g? 0 or -EUCLEAN. May record offsets in g. */
	int (*check)(struct ipcc_geometry *g, const struct ipcc_shm_section *s);
	/* At create, on zeroed memory, before READY: write the creator's part. */
	void (*init)(struct ipcc_system *sys, const struct ipcc_shm_section *s,
		     const struct ipcc_config *cfg);
	/* At create and open: validate the creator's part, copy what the process keeps.
	 * 0 or -EUCLEAN. */
	int (*load)(struct ipcc_system *sys, const struct ipcc_shm_section *s);
	/*
	 * ipcc_system_open_or_create: does the open object have what cfg asks of this type (the
	 * geometry is compared already)? NULL: nothing beyond the geometry.
	 */
	bool (*matches)(const struct ipcc_system *sys, const struct ipcc_config *cfg);
};

/* lib/layers.c: every section type of every layer, in layer order. */
extern const struct ipcc_section_type *const ipcc_section_types[];
extern const unsigned ipcc_section_type_count;

/* lib/region/system.c: set (on) or clear bit b of map[a] for the pair a, b in either order, as
 * the config calls keep pairs (links, Notify, RPMessage). -EINVAL for a == b or an id out of
 * range. */
int ipcc_pair_map_set(uint64_t map[IPCC_CPUS_MAX], unsigned a, unsigned b, bool on);

/* lib/region/layout.c */
/* The array geometry of a config (limits, link map, strides); no offsets. -EINVAL. */
int ipcc_geometry_base(unsigned cpus, unsigned channels, uint32_t buffer_size,
		       const uint64_t link_map[IPCC_LINK_MAP_WORDS], struct ipcc_geometry *ret);
bool ipcc_geometry_pair_linked(const uint64_t link_map[IPCC_LINK_MAP_WORDS], unsigned a,
			       unsigned b);
/* The whole layout of cfg: base geometry, names checked, directory placed, total size. */
int ipcc_layout_plan(const struct ipcc_config *cfg, struct ipcc_geometry *ret);
/* Check a header read from an object of `size` bytes; on success *ret is its layout. */
int ipcc_layout_check(const struct ipcc_shm_header *h, uint64_t size, struct ipcc_geometry *ret);
/* Describe g's directory into ret[0..cap); returns the section count. */
int ipcc_layout_describe(const struct ipcc_geometry *g, struct ipcc_section_info *ret,
			 unsigned cap);
/* The section type of a stored type word, or NULL. */
const struct ipcc_section_type *ipcc_section_type_find(uint32_t type);
int ipcc_name_validate(const char *name);
int ipcc_cpu_name_validate(const char *name);
void ipcc_cpu_name_default(unsigned id, char name[IPCC_SHM_CPU_NAME_SIZE]);

/*
 * lib/region/claim.c: who owns a CPU, held by the kernel. A claim is an OFD write lock on byte
 * IPCC_CLAIM_LOCK_OFFSET + id of a file description of its own; a reaper is a thread of this
 * process blocked for a read lock on a peer's byte, granted when the peer detaches or dies.
 * Nothing in the shared object is consulted. Every function may be called from any thread.
 */
/* At open/create, once sys->fd is set: -ENOMEM. Registers the handle for fork (see claim.c). */
int ipcc_claims_new(struct ipcc_system *sys);
/* At close, after every CPU of the handle was detached: stops and joins the reapers. */
void ipcc_claims_free(struct ipcc_system *sys);
/* Take CPU id's claim for this handle: 0, -EBUSY (held by a live process, this one included),
 * or the errno of open/fcntl. Never blocks on a peer (retries briefly past a reaper's probe). */
int ipcc_claim_take(struct ipcc_system *sys, unsigned id);
/* Whether this handle holds CPU id's claim (false in a fork child: it inherits no claim). */
bool ipcc_claim_owned(struct ipcc_system *sys, unsigned id);
/* Release CPU id's claim of this handle, if it holds it; a no-op otherwise. */
void ipcc_claim_drop(struct ipcc_system *sys, unsigned id);
/* 1 if some process holds CPU id's claim, 0 if nobody does, or a negative errno (fcntl). */
int ipcc_claim_held(struct ipcc_system *sys, unsigned id);
/*
 * Start watching `peer`: 1 with *ret_epoch set if its claim is held (a reaper of this handle
 * then waits for its release), 0 if nobody holds it, -ENOMEM (no thread). The peer detached or
 * died once ipcc_claim_epoch(sys, peer) differs from *ret_epoch; its release wakes every CPU of
 * this handle that is linked to it.
 */
int ipcc_claim_watch(struct ipcc_system *sys, unsigned peer, uint32_t *ret_epoch);
/* The releases of `peer` seen so far. Lock-free; seq_cst (see claim.c:reaper_report). */
uint32_t ipcc_claim_epoch(struct ipcc_system *sys, unsigned peer);

/*
 * lib/region/fdpass.c: the descriptors a received message carried (SCM_RIGHTS), which a peer
 * chose: the first into *ret_fd (-1: none), every other one closed. Returns how many came.
 */
struct msghdr;
unsigned ipcc_fds_take(struct msghdr *mh, int *ret_fd);

/* lib/region/cpu.c: the claim itself, below the interrupt layer (lib/irq/cpu.c attaches). */
int ipcc_cpu_claim(struct ipcc_system *sys, unsigned cpu_id, struct ipcc_cpu **ret_cpu);
void ipcc_cpu_release(struct ipcc_cpu *cpu);
int ipcc_cpu_options_check(const struct ipcc_cpu_options *opt);

/* lib/ipcc/regs.c: register effects used by the channel API and the procedures. */
uint32_t ipcc_link_read(struct ipcc_system *sys, struct ipcc_link *l, uint32_t offset);
void ipcc_link_write_cr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v);
void ipcc_link_write_mr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v);
void ipcc_link_update_mr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t set,
			 uint32_t clear);
/*
 * Whether nobody outside the registers sees this link's writes (no trace recording, no line
 * callback in this process, no line watcher in any): a write that changes nothing, or a mask
 * and unmask pair skipped around a wait that polled instead, is then invisible.
 */
bool ipcc_link_unobserved(struct ipcc_system *sys, struct ipcc_link *l);
void ipcc_link_update_cr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t set,
			 uint32_t clear);
void ipcc_link_write_scr(struct ipcc_system *sys, struct ipcc_link *l, unsigned p, uint32_t v);
/* Channels asserting line `line` of processor p (a bit per channel); 0 if the line is low. */
uint32_t ipcc_link_pending(struct ipcc_system *sys, struct ipcc_link *l, unsigned p,
			   enum ipcc_irq line);
/* The four lines of the link as an ipcc_regs_lines mask (IPCC_LINE_*). */
uint32_t ipcc_link_lines(struct ipcc_system *sys, const struct ipcc_link *l);
/*
 * lib/ipcc/links.c: reserve channel ch of link l for service `owner` (not
 * IPCC_CHAN_OWNER_PROC), from a section type's init at create, before READY. -EINVAL; -EBUSY
 * if another service has it.
 */
int ipcc_link_reserve(struct ipcc_system *sys, struct ipcc_link *l, unsigned ch, uint8_t owner);
/* Reset processor p's bank (CR, MR) to the reset values. */
void ipcc_link_reset_bank(struct ipcc_system *sys, struct ipcc_link *l, unsigned p);

#endif
