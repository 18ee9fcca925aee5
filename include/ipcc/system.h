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
struct ipcc_notify_config;
struct ipcc_trace_config;
struct ipcc_rpmsg_config;
struct ipcc_log_config;
struct ipcc_region_config;

struct ipcc_config {
	unsigned cpus;	      /* IPCC_CPUS_MIN..IPCC_CPUS_MAX; default 2 */
	unsigned channels;    /* channels per direction per link, 1..16; default 6 */
	uint32_t buffer_size; /* bytes per channel per direction, 8..1 MiB; default 512 */
	mode_t mode;	      /* permissions of the shm object, at most 0777; default 0600 */
	/*
	 * Which CPU pairs have an IPCC between them: bit b of links[a] for a < b. ipcc_config_init
	 * sets every bit (all pairs linked); use ipcc_config_link() to change one pair. Bits of CPUs
	 * at or above `cpus`, and bits with a >= b, are ignored.
	 */
	uint64_t links[IPCC_CPUS_MAX];
	/*
	 * CPU names (see IPCC_CPU_NAME_MAX), NUL-terminated; an empty string means the default
	 * "cpuN". Set them with ipcc_config_set_cpu_name(), which checks them.
	 */
	char cpu_names[IPCC_CPUS_MAX][IPCC_CPU_NAME_MAX + 1];
	/*
	 * Services: NULL leaves a service out (ipcc_config_init sets NULL). Each points at that
	 * service's own config, read only during the call cfg is passed to.
	 */
	const struct ipcc_notify_config *notify;  /* IPC Notify and sync, <ipcc/notify.h> */
	const struct ipcc_trace_config *trace;	  /* the register trace, <ipcc/trace.h> */
	const struct ipcc_rpmsg_config *rpmsg;	  /* RPMessage, <ipcc/rpmsg.h> (needs notify) */
	const struct ipcc_log_config *log;	  /* the shared-memory log, <ipcc/log.h> */
	const struct ipcc_region_config *regions; /* user regions, <ipcc/region.h> */
	const void *reserved_services[3];	  /* NULL: for the services to come */
};

/* Fill *cfg with the defaults. Never fails. */
IPCC_EXPORT void ipcc_config_init(struct ipcc_config *cfg);

/*
 * Link (linked = true) or unlink the pair a, b (either order). -EINVAL for a == b or an id at or
 * above IPCC_CPUS_MAX.
 */
IPCC_EXPORT int ipcc_config_link(struct ipcc_config *cfg, unsigned a, unsigned b, bool linked);

/*
 * Name CPU `id` (NULL or "" gives back the default "cpuN"). -EINVAL for an id at or above
 * IPCC_CPUS_MAX or a name that is not 1..IPCC_CPU_NAME_MAX bytes of [A-Za-z0-9_.-] starting
 * with a letter or a digit, or a name "cpuK" with K other than id (the default names stay
 * unique); -EEXIST if another CPU of cfg already has that name. Only the first cfg->cpus
 * names are used.
 */
IPCC_EXPORT int ipcc_config_set_cpu_name(struct ipcc_config *cfg, unsigned id, const char *name);

/*
 * The size in bytes of an object created with cfg (NULL: defaults): what `ipcc plan` calls
 * "shared memory needed". Fails like ipcc_system_create would for a bad config (-EINVAL).
 */
IPCC_EXPORT int ipcc_config_size(const struct ipcc_config *cfg, uint64_t *ret_size);

/* One section of an object, as ipcc_config_plan and ipcc_system_sections describe it. */
struct ipcc_section_info {
	uint32_t type;	   /* IPCC_SECTION_* of <ipcc/layout.h>, with its compat bit */
	const char *name;  /* "header", "cpus", "links" ...; "unknown" for a type this build
			      does not know (only a compatible one gets this far) */
	const char *layer; /* the layer that owns it: "region", "ipcc" ... */
	uint64_t offset;   /* from the start of the object */
	uint64_t size;
	uint32_t count;	 /* entries of an array section (CPUs, links ...); 1 otherwise */
	uint32_t stride; /* bytes per entry */
	int owner_cpu;	 /* the CPU that owns the section, or -1 */
};

/*
 * The memory map an object created with cfg (NULL: defaults) would have: its sections in
 * address order. Fills at most `cap` entries of ret (NULL with cap 0 only counts) and returns
 * the number of sections, which may exceed cap. -EINVAL for a bad config or ret NULL with
 * cap > 0. Pure computation; any thread.
 */
IPCC_EXPORT int ipcc_config_plan(const struct ipcc_config *cfg, struct ipcc_section_info *ret,
				 unsigned cap);

/*
 * Create the shm object `name` for `cfg` (NULL: defaults) and open it. Fails with -EEXIST if the
 * name exists (it is created O_CREAT|O_EXCL), -EINVAL for a bad name or a config outside the
 * limits (including no link at all, an object above IPCC_SYSTEM_SIZE_MAX, or a mode with bits
 * above 0777: no setuid, setgid or sticky bit), -ENOMEM, or the
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
 * header (geometry outside the limits or inconsistent); -EISDIR the name is a directory;
 * -EPROTO also for a FIFO, socket or device under the name (opened without blocking); -ENOMEM;
 * -EPERM the object is owned by another user (its st_uid is not our effective uid): a name
 * another user created first is a system they control, so joining it takes
 * ipcc_system_open_flags(..., IPCC_OPEN_ANY_OWNER) (see README "Trust model").
 */
IPCC_EXPORT int ipcc_system_open(const char *name, struct ipcc_system **ret_sys);

/* ipcc_system_open_flags flags */
#define IPCC_OPEN_READONLY  0x1u /* map the object read-only: an observer (ipcc info) */
#define IPCC_OPEN_ANY_OWNER 0x2u /* accept an object owned by another user (shared on purpose) */

/*
 * ipcc_system_open with flags. With IPCC_OPEN_READONLY the object is opened and mapped
 * read-only, so a user who may read but not write it can observe it: every query works,
 * while ipcc_cpu_attach and register writes fail with -EROFS. IPCC_OPEN_READONLY implies
 * IPCC_OPEN_ANY_OWNER: an observer only reads, and validates what it reads, so it may look at
 * any object its permissions let it read (root's ipcc info and ipcc list see every user's).
 * IPCC_OPEN_ANY_OWNER opens another user's object for writing: for a system shared between
 * users on purpose (a group or 0666 mode). Errors as ipcc_system_open (-EPERM only without
 * either flag), and -EINVAL for an unknown flag.
 */
IPCC_EXPORT int ipcc_system_open_flags(const char *name, unsigned flags,
				       struct ipcc_system **ret_sys);

/*
 * Join the system `name`, whichever process comes first: create it for cfg (NULL: defaults)
 * or, if it exists, open it and check that it has cfg's shape (CPUs, channels, buffer size,
 * links, CPU names; the mode is only used to create). Two processes starting at once meet:
 * O_EXCL lets one create, the other opens and retries for up to 2 s while the object is
 * still being built (-EAGAIN from ipcc_system_open). Returns 1 if this call created the object
 * (the caller then decides when to ipcc_system_unlink it, see README "Meeting"), 0 if it opened
 * an existing one. flags: 0 or IPCC_OPEN_ANY_OWNER (as for ipcc_system_open_flags).
 * Errors: -EINVAL bad name, flags or config; -EEXIST an object of another shape is under the
 * name (a stale one: remove it, or use its shape); -EAGAIN the object stayed unfinished for
 * 2 s (its creator died half-way: remove it); -EPERM another user's object without
 * IPCC_OPEN_ANY_OWNER; the other errors of ipcc_system_create and ipcc_system_open. May
 * sleep (1 ms steps, 2 s at most); any thread.
 */
IPCC_EXPORT int ipcc_system_open_or_create(const char *name, const struct ipcc_config *cfg,
					   unsigned flags, struct ipcc_system **ret_sys);

/*
 * Anonymous systems: an object without a name, backed by a memfd (memfd_create), shared by
 * handing its descriptor to the other processes: inherited across fork(), passed across
 * exec() (ipcc_system_dup_fd with cloexec false, the number given to the new program, which
 * calls ipcc_system_open_fd), or sent over a UNIX socket (ipcc_system_send_fd,
 * ipcc_system_recv_fd). Parallel simulations and test runs need no unique names, and the
 * object goes away with the last descriptor and mapping: nothing is left in /dev/shm after a
 * crash, and there is nothing to unlink. `ipcc list` and `ipcc info` do not see them.
 *
 * The object is sealed (F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_SEAL) before the call returns, so
 * no process that holds the descriptor can truncate it under the others (the SIGBUS of a named
 * object, README "Trust model"). Its mode is cfg->mode (0600 by default), its owner the
 * creator: a descriptor reaches only the processes it is given to, and the mode and owner
 * still decide who may attach (an attach reopens the object through /proc/self/fd).
 */

/*
 * Create an anonymous system for cfg (NULL: defaults) and open it: as ipcc_system_create,
 * without a name. Its name (ipcc_system_name) is the empty string. Errors: -EINVAL a bad
 * config; -ENOMEM; the errno of memfd_create, ftruncate, mmap or fcntl(F_ADD_SEALS) (-EMFILE,
 * -ENOSYS on a kernel without memfd). Any thread.
 */
IPCC_EXPORT int ipcc_system_create_anon(const struct ipcc_config *cfg,
					struct ipcc_system **ret_sys);

/*
 * Open the system whose object descriptor `fd` is: one another process handed us (inherited,
 * passed across exec, or received over a socket). The descriptor is an adversary's object and
 * is checked like a named one, and more: Errors: -EBADF fd is not an open descriptor; -EINVAL
 * bad flags or ret_sys NULL; -EISDIR a directory; -EPROTO a FIFO, socket, device or other
 * non-regular file, or not a libipcc object; -EACCES not open for reading and writing (for
 * reading, with IPCC_OPEN_READONLY), or sealed against writing without IPCC_OPEN_READONLY; -EBADFD the object is not sealed against shrinking
 * (F_SEAL_SHRINK): only anonymous systems (ipcc_system_create_anon) open this way, a named
 * one is opened by its name; -EPERM another user's object without IPCC_OPEN_ANY_OWNER or
 * IPCC_OPEN_READONLY; and the other errors of ipcc_system_open (-EAGAIN, -EPROTONOSUPPORT,
 * -EOPNOTSUPP, -EBADMSG, -EUCLEAN, -ENOMEM). flags as ipcc_system_open_flags. The handle keeps
 * a duplicate (O_CLOEXEC) of fd: the caller still owns fd, and may close it at once.
 * Attaching a CPU of it needs /proc (claims reopen the object through /proc/self/fd). Any
 * thread.
 */
IPCC_EXPORT int ipcc_system_open_fd(int fd, unsigned flags, struct ipcc_system **ret_sys);

/*
 * The handle's descriptor of its object (named or anonymous), O_CLOEXEC, owned by the handle:
 * do not close it; it is valid until ipcc_system_close. -EINVAL for NULL.
 */
IPCC_EXPORT int ipcc_system_fd(const struct ipcc_system *sys);

/*
 * A new descriptor of the object for the caller to own and close: with cloexec false, one
 * that survives exec() (pass its number to the new program, e.g. in argv or the environment).
 * -EINVAL for NULL, or the errno of fcntl(F_DUPFD) (-EMFILE).
 */
IPCC_EXPORT int ipcc_system_dup_fd(const struct ipcc_system *sys, bool cloexec);

/* true for a system made by ipcc_system_create_anon (or opened by a descriptor of one). */
IPCC_EXPORT bool ipcc_system_anonymous(const struct ipcc_system *sys);

/*
 * Send the system's descriptor over the connected UNIX socket `sock` (SOCK_STREAM, DGRAM or
 * SEQPACKET; one byte with SCM_RIGHTS). The receiver calls ipcc_system_recv_fd. May block
 * like sendmsg on a full socket (-EAGAIN on a non-blocking one). -EINVAL, or the errno of
 * sendmsg (-EPIPE is the socket's: no SIGPIPE is raised). Any thread.
 */
IPCC_EXPORT int ipcc_system_send_fd(const struct ipcc_system *sys, int sock);

/*
 * Receive a system sent by ipcc_system_send_fd on `sock` and open it (flags as
 * ipcc_system_open_fd). Blocks until a message arrives (-EAGAIN on a non-blocking socket or
 * after its SO_RCVTIMEO). Errors: -EINVAL bad arguments; -ECONNRESET the peer closed the
 * socket; -EBADMSG the message did not carry exactly one descriptor in the expected form
 * (every descriptor it carried is closed); the errors of recvmsg and of ipcc_system_open_fd.
 * The received descriptor itself is closed in every case: the handle has its own. Any thread.
 */
IPCC_EXPORT int ipcc_system_recv_fd(int sock, unsigned flags, struct ipcc_system **ret_sys);

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
/* The name the system was created or opened with; "" for an anonymous one. */
IPCC_EXPORT const char *ipcc_system_name(const struct ipcc_system *sys);
/* true if CPUs a and b (either order, a != b) have a link. */
IPCC_EXPORT bool ipcc_system_linked(const struct ipcc_system *sys, unsigned a, unsigned b);
/* true if the handle was opened with IPCC_OPEN_READONLY. */
IPCC_EXPORT bool ipcc_system_readonly(const struct ipcc_system *sys);

/* The name of CPU `id` ("cpuN" unless configured), or NULL for an id out of range. */
IPCC_EXPORT const char *ipcc_system_cpu_name(const struct ipcc_system *sys, unsigned id);
/* The id of the CPU called `name`, or -ENOENT; -EINVAL for NULL arguments. */
IPCC_EXPORT int ipcc_system_cpu_by_name(const struct ipcc_system *sys, const char *name);

/*
 * The sections of the open object, as checked at open (ipcc_config_plan describes the same
 * for a config). Fills at most cap entries and returns the number of sections; -EINVAL.
 */
IPCC_EXPORT int ipcc_system_sections(const struct ipcc_system *sys, struct ipcc_section_info *ret,
				     unsigned cap);

/*
 * Who may use channel `ch` (both directions) of the link between a and b (either order):
 * IPCC_CHAN_OWNER_PROC (0) for a channel free for the procedures and the channel API, else
 * the number of the service that reserved it (ipcc_service_name names it). -EINVAL for bad
 * arguments, -ENOENT for no link. The procedures, the channel API and ipcc_irq_activate
 * refuse a reserved channel with -EACCES. From the process-local copy made at open.
 */
IPCC_EXPORT int ipcc_system_channel_owner(const struct ipcc_system *sys, unsigned a, unsigned b,
					  unsigned ch);

/* The name of service number `id` ("procedures" for 0), or NULL if this build has none. */
IPCC_EXPORT const char *ipcc_service_name(unsigned id);

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

/* What the owner of a CPU last published about itself in the CPU's record. */
struct ipcc_cpu_state {
	uint32_t wait_mode; /* enum ipcc_wait_mode, as stored: ipcc_wait_mode_name checks it */
	uint32_t power;	    /* IPCC_POWER_RUN or IPCC_POWER_STANDBY (common.h), as stored */
};

/*
 * The wait mode and power state CPU `cpu_id` published (its last owner's, if none is
 * attached now; a CPU never attached shows adaptive and run). The words are written by the
 * owner and read as they are: a peer may store anything there. -EINVAL for an id out of
 * range or NULL arguments. Lock-free, works on a read-only handle; any thread.
 */
IPCC_EXPORT int ipcc_system_cpu_state(const struct ipcc_system *sys, unsigned cpu_id,
				      struct ipcc_cpu_state *ret_state);

enum ipcc_wait_mode {
	IPCC_WAIT_ADAPTIVE = 0, /* spin for spin_ns, then sleep on the futex (the default) */
	IPCC_WAIT_SPIN = 1,	/* Run: poll with a pause instruction, never sleep */
	IPCC_WAIT_FUTEX = 2,	/* Stop: sleep in the kernel at once */
	IPCC_WAIT_EVENTFD = 3,	/* sleep on a pollable eventfd (ipcc_cpu_fd) */
	IPCC_WAIT_MODE_COUNT
};

/* CPU attach flags */
#define IPCC_CPU_IRQ_THREAD 0x1u /* start an interrupt thread that runs the handlers */
/*
 * Leave the CPU's register banks as they are instead of resetting them (see ipcc_cpu_attach):
 * restarting a core on the chip does not reset the IPCC, so a restarted firmware (or a
 * simulator that restored a snapshot with ipcc_regs_restore before attaching) finds the
 * enables and masks it, or its previous incarnation, left.
 */
#define IPCC_CPU_KEEP_REGS 0x2u

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
 * banks are reset on attach unless IPCC_CPU_KEEP_REGS (below). Errors: -EINVAL id out of
 * range or bad options; -EROFS the system was opened read-only (IPCC_OPEN_READONLY); -EBUSY
 * the CPU is claimed by a live process (including this one, through this or another handle,
 * from any thread), or a process holds a read lock on its claim byte for longer than a quarter
 * of a second; -ENOMEM; the errno of open or fcntl (-EMFILE, -ENOLCK; -ENOENT for an
 * anonymous system without /proc); with IPCC_WAIT_EVENTFD, the errors of setting it up
 * (include/ipcc/irq.h: ipcc_cpu_set_wait_mode). May block for a quarter of a second at most
 * (a reaper thread's momentary read lock in the way), never on a peer. Any thread, concurrently with other attaches.
 *
 * A handle inherited across fork() is stale in the child: every channel, procedure, interrupt
 * and wait operation through it (ipcc_chan_*, ipcc_send/recv/call..., ipcc_irq_*,
 * ipcc_cpu_dispatch, ipcc_cpu_wait, ipcc_cpu_standby, ipcc_cpu_set_wait_mode, ipcc_cpu_fd,
 * ipcc_uring_prep_wait, ipcc_uring_complete) fails with -ESTALE, so a CPU never has
 * two writers; the child may only ipcc_cpu_detach it (which frees the copy) and attach a CPU of
 * its own. The check is process-local (a counter the atfork child handler bumps). While the
 * claim's description is open the handle owns the CPU (the kernel says so), so no other
 * process can take it over: the record's generation is not consulted (a writer of the object
 * could forge it, and an attacher that loses a race bumps it too).
 *
 * What attach resets: the attaching CPU's own bank of every link it has (its CxCR to 0, no
 * interrupt enabled, and its CxMR to all masked), like a core reset; never the other
 * processor's bank, the status flags (CHnF: a message in flight stays in its channel, whoever
 * restarts), the message lengths or the buffers. With IPCC_CPU_KEEP_REGS in options->flags it
 * resets nothing. Either way the services then set up their reserved channels as they need
 * (IPC Notify enables and unmasks its RX-occupied interrupt), and no handler of the
 * application is registered: a kept bank may have channels unmasked and lines high that no
 * handler of this attach serves yet (the dispatcher leaves them alone until one is activated).
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
