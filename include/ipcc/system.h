/* SPDX-License-Identifier: MIT */
/*
 * The system object: one POSIX shared-memory object holding the CPUs, the IPCC links between
 * them and the channel buffers. Processes attach to it as CPUs (one process may attach several).
 *
 * Every function returns 0 (or a count) on success and a negative errno on failure; output
 * parameters (ret_*) are written only on success. Nothing here prints or exits.
 */
#ifndef IPCC_SYSTEM_H
#define IPCC_SYSTEM_H

#include <sys/types.h>

#include <ipcc/common.h>

IPCC_BEGIN_DECLS

struct ipcc_system;
struct ipcc_cpu;

struct ipcc_config {
	unsigned cpus;	      /* IPCC_CPUS_MIN..IPCC_CPUS_MAX; default 2 */
	unsigned channels;    /* channels per direction per link, 1..16; default 6 */
	uint32_t buffer_size; /* bytes per channel per direction, 8..1 MiB; default 512 */
	mode_t mode;	      /* permissions of the shm object; default 0600 */
	/*
	 * Which CPU pairs have an IPCC between them: bit b of links[a] for a < b. ipcc_config_init
	 * sets every bit (all pairs linked); use ipcc_config_link() to change one pair. Bits of CPUs
	 * at or above `cpus`, and bits with a >= b, are ignored.
	 */
	uint64_t links[IPCC_CPUS_MAX];
};

/* Fill *cfg with the defaults. Never fails. */
IPCC_EXPORT void ipcc_config_init(struct ipcc_config *cfg);

/*
 * Link (linked = true) or unlink the pair a, b (either order). -EINVAL for a == b or an id at or
 * above IPCC_CPUS_MAX.
 */
IPCC_EXPORT int ipcc_config_link(struct ipcc_config *cfg, unsigned a, unsigned b, bool linked);

/*
 * Create the shm object `name` for `cfg` (NULL: defaults) and open it. Fails with -EEXIST if the
 * name exists (it is created O_CREAT|O_EXCL), -EINVAL for a bad name or a config outside the
 * limits (including no link at all, or an object above IPCC_SYSTEM_SIZE_MAX), -ENOMEM, or the
 * errno of shm_open/ftruncate/mmap. On failure nothing is left behind under `name`.
 * Other processes see the object only as "not ready" (-EAGAIN from ipcc_system_open) until it is
 * fully initialised. May be called from any thread.
 */
IPCC_EXPORT int ipcc_system_create(const char *name, const struct ipcc_config *cfg,
				   struct ipcc_system **ret_sys);

/*
 * Open an existing system. Errors: -EINVAL bad name; -ENOENT no such object; -EACCES;
 * -EAGAIN the object is still being initialised by its creator (retry); -EPROTO not a libipcc
 * object (foreign magic); -EPROTONOSUPPORT a libipcc object of another layout version;
 * -EBADMSG truncated (smaller than its header or than its geometry needs); -EUCLEAN corrupt
 * header (geometry outside the limits or inconsistent); -ENOMEM.
 */
IPCC_EXPORT int ipcc_system_open(const char *name, struct ipcc_system **ret_sys);

/*
 * Unmap and free the handle. CPUs still attached through it are detached first; the threads
 * this handle started to watch peers are stopped and joined. No other thread may use the handle
 * or its CPUs meanwhile. Accepts NULL.
 */
IPCC_EXPORT void ipcc_system_close(struct ipcc_system *sys);

/* Remove the name. Processes that have it open keep using it. -EINVAL, -ENOENT, -EACCES. */
IPCC_EXPORT int ipcc_system_unlink(const char *name);

/* The geometry, from the process-local copy made at open. */
IPCC_EXPORT unsigned ipcc_system_cpus(const struct ipcc_system *sys);
IPCC_EXPORT unsigned ipcc_system_channels(const struct ipcc_system *sys);
IPCC_EXPORT uint32_t ipcc_system_buffer_size(const struct ipcc_system *sys);
IPCC_EXPORT unsigned ipcc_system_link_count(const struct ipcc_system *sys);
IPCC_EXPORT uint64_t ipcc_system_size(const struct ipcc_system *sys);
IPCC_EXPORT const char *ipcc_system_name(const struct ipcc_system *sys);
/* true if CPUs a and b (either order, a != b) have a link. */
IPCC_EXPORT bool ipcc_system_linked(const struct ipcc_system *sys, unsigned a, unsigned b);

/*
 * `alive` is the kernel's answer: a live process holds the CPU's claim. The other fields come from
 * the record the owners write in the object (include/ipcc/layout.h): for display, and forgeable
 * by any process that can write the object.
 */
struct ipcc_cpu_owner {
	bool attached;	     /* alive, or the last owner died without detaching */
	bool alive;	     /* a live process holds the CPU */
	pid_t pid;	     /* process of the last owner (0: never attached) */
	pid_t tid;	     /* thread that attached it (the CPU belongs to the process) */
	uint32_t generation; /* number of attaches so far */
};

/*
 * Who owns CPU `cpu_id`. -EINVAL for an id out of range, or the errno of fcntl (not expected).
 * Any thread; one fcntl(F_OFD_GETLK), never blocks.
 */
IPCC_EXPORT int ipcc_system_cpu_owner(struct ipcc_system *sys, unsigned cpu_id,
				      struct ipcc_cpu_owner *ret_owner);

enum ipcc_wait_mode {
	IPCC_WAIT_ADAPTIVE = 0, /* spin for spin_ns, then sleep on the futex (the default) */
	IPCC_WAIT_SPIN = 1,	/* Run: poll with a pause instruction, never sleep */
	IPCC_WAIT_FUTEX = 2,	/* Stop: sleep in the kernel at once */
	IPCC_WAIT_EVENTFD = 3,	/* sleep on a pollable eventfd (ipcc_cpu_fd) */
	IPCC_WAIT_MODE_COUNT
};

/* CPU attach flags */
#define IPCC_CPU_IRQ_THREAD 0x1u /* start an interrupt thread that runs the handlers */

struct ipcc_cpu_options {
	enum ipcc_wait_mode wait;
	uint32_t spin_ns; /* adaptive: how long to spin before sleeping; default 20000 */
	uint32_t flags;	  /* IPCC_CPU_* */
	uint32_t reserved[5];
};

/* Fill *opt with the defaults (adaptive, 20 us, no interrupt thread). Never fails. */
IPCC_EXPORT void ipcc_cpu_options_init(struct ipcc_cpu_options *opt);

/*
 * Claim CPU `cpu_id` for the calling process (NULL options: defaults). The CPU belongs to the
 * process, not to the calling thread: any thread may use the handle and detach it, and the CPU
 * lives until ipcc_cpu_detach, ipcc_system_close or the end of the process (kill -9 included),
 * when the next attach may take it. The claim is a lock held by the kernel (an OFD lock on the
 * object, see README "CPU ownership"), never state in the object, so nothing another process
 * writes into the object can take, keep or break it. A fork child does not inherit the claim:
 * its copy of the handle does not own the CPU and its exit does not affect it. The CPU's register
 * banks are reset on attach. Errors: -EINVAL id out of range or bad options; -EBUSY the CPU is
 * claimed by a live process (including this one, through this or another handle, from any
 * thread), or a process holds a read lock on its claim byte for longer than a few milliseconds;
 * -ENOMEM; the errno of open or fcntl (-EMFILE, -ENOLCK). May block for a few milliseconds at
 * most, never on a peer. Any thread, concurrently with other attaches.
 *
 * A slot is reclaimed by ending its owner process: its claim goes with it. If ipcc info shows a
 * CPU alive that nobody should own, the pid it shows is a hint (the record is informational);
 * the process holding the lock is the one with the object open (see the README).
 */
IPCC_EXPORT int ipcc_cpu_attach(struct ipcc_system *sys, unsigned cpu_id,
				const struct ipcc_cpu_options *options, struct ipcc_cpu **ret_cpu);

/*
 * Give the CPU up and free the handle. Any thread of the owning process; no other thread may use
 * the handle meanwhile. Peers' waits that depend on this CPU end with -EPIPE. In a fork child,
 * on an inherited handle, it frees the handle and leaves the parent's claim alone. Accepts NULL.
 */
IPCC_EXPORT void ipcc_cpu_detach(struct ipcc_cpu *cpu);

IPCC_EXPORT unsigned ipcc_cpu_id(const struct ipcc_cpu *cpu);
IPCC_EXPORT struct ipcc_system *ipcc_cpu_system(const struct ipcc_cpu *cpu);

IPCC_END_DECLS

#endif
