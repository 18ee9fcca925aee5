/* SPDX-License-Identifier: MIT */
/*
 * RPMessage: packets to logical end points on other CPUs, over one vring per ordered CPU pair,
 * with a name service, zero-copy buffers and peer restarts; as in TI's MCU+ SDK (an end point is
 * like a UDP port, the CPU id like an IP address).
 *
 * Transport. RPMessage is enabled per linked CPU pair when the system is created (struct
 * ipcc_rpmsg_config, or `services: rpmsg:` in a system description); the pair needs IPC Notify
 * (<ipcc/notify.h>), whose reserved client 0 carries its doorbells. Each ordered pair S -> R has
 * a vring in the object: `buffers` buffers of `buffer_size` bytes (a 16-byte header, then the
 * payload) and two lib/queue queues of buffer descriptors, "full" (S to R) and "free" (R to S).
 * A send takes a free buffer, writes header and payload, queues it as full and sends Notify
 * value NEW_FULL to R's client 0; R's drain hands the packet to the destination end point and,
 * once it is done with it, queues the buffer as free again (and rings S only when S waits for
 * a buffer). The buffers of S -> R are S's: it is their home, and every buffer is always in
 * exactly one place (S's pool, a queue, or held by R).
 *
 * The header (struct ipcc_rpmsg_hdr) has the sizes of Linux's struct rpmsg_hdr (src, dst,
 * reserved, len, flags; 16 bytes): `reserved` carries the source CPU here, so a protocol
 * prototyped here maps onto Linux rpmsg.
 *
 * Trust. Every index, length and end point number the peer writes is copied once, then checked
 * before use: a bad one is counted (struct ipcc_rpmsg_stats.bad) and the packet dropped, never
 * read out of bounds. A zero-copy pointer points into the object: a hostile peer could rewrite
 * the bytes under the reader (the copying calls copy the payload out once).
 *
 * End points: numbers 0 .. endpoints - 1 per CPU (array-indexed, default 64); 0 is the control
 * end point of the name service (IPCC_RPMSG_ENDPT_CTRL), so applications use 1 and up. Each
 * CPU's open end points and announced names are visible in the object (ipcc info), so a sender
 * knows when the destination is not open (-ECONNREFUSED). A packet that arrives for an end
 * point closed in between is dropped and counted (stats.dropped).
 * Modes: queue mode (fn NULL: ipcc_rpmsg_recv takes the packets, oldest first) or callback
 * mode (fn runs "in interrupt context", as Notify callbacks do: from the dispatcher, the
 * interrupt thread, or a thread of this CPU blocked in a call of this API; the buffer returns
 * to the sender when fn returns, unless fn called ipcc_rpmsg_hold).
 *
 * Order. Packets from one (source CPU, source end point) to one destination end point arrive in
 * the order they were sent; nothing is promised across different source end points or CPUs.
 *
 * Flow control. A receiver that stops consuming keeps the buffers: the sender's next sends find
 * none (-EAGAIN with timeout 0, else they wait for "new empty", which the receiver sends once
 * half the buffers are free again, or as soon as none of its callbacks runs on a packet of
 * the pair: a callback-mode stream pays one wake-up per half ring, and no sender waits for a
 * return that only the application could make). The buffers of a pair are shared
 * by all its end points: one slow end point can take them all (stats.nobuf counts the waits).
 *
 * Peer restarts. A CPU that dies (kill -9) ends its peers' blocked calls that depend on it with
 * -EPIPE: a send waiting for a buffer of that pair, and a receive on an end point whose last
 * send went to that CPU (its reply partner). Nothing else is needed from the survivors: when the
 * CPU attaches again, it drops every packet queued to its previous incarnation (counted in
 * dropped), gives back every buffer that incarnation held (stats.reclaimed) and opens its own
 * end points and names afresh; a survivor drops the packets a previous incarnation of a sender
 * left in its queue (stats.stale). Delivery is therefore exactly once while both CPUs live, at
 * most once for packets in flight across a restart. A dead CPU's end points stay marked open
 * until it attaches again (its death is not visible without a system call per send): packets
 * sent to it meanwhile wait in the vring and are dropped at its restart.
 *
 * Threads. Every call may come from any thread of the process that attached the CPU, except: one
 * ipcc_rpmsg_recv (or recv_nocopy) at a time per end point (a second gets -EBUSY), and
 * ipcc_rpmsg_ep_close not while a receive is in progress on it (-EBUSY). A callback may send
 * (it never waits there: no free buffer is -EAGAIN whatever the timeout, as in an ISR), hold
 * its buffer, and create or close other end points, but not receive or look up names
 * (-EDEADLK) or close its own end point (-EDEADLK). ipcc_cpu_detach closes the end points
 * still open (their handles are freed) and gives back the buffers still held.
 *
 * Errors are negative errnos; timeouts as in <ipcc/irq.h> (0 never blocks, negative waits for
 * ever). -ESTALE: a fork child's handle.
 */
#ifndef IPCC_RPMSG_H
#define IPCC_RPMSG_H

#include <ipcc/common.h>
#include <ipcc/irq.h>
#include <ipcc/system.h>

IPCC_BEGIN_DECLS

#define IPCC_RPMSG_HEADER_SIZE	       16u
#define IPCC_RPMSG_BUFFERS_MIN	       2u
#define IPCC_RPMSG_BUFFERS_MAX	       1024u
#define IPCC_RPMSG_BUFFERS_DEFAULT     8u
#define IPCC_RPMSG_BUFFER_SIZE_MIN     32u    /* 16 bytes of payload */
#define IPCC_RPMSG_BUFFER_SIZE_MAX     65536u /* a multiple of 16 in between */
#define IPCC_RPMSG_BUFFER_SIZE_DEFAULT 128u   /* 112 bytes of payload */
#define IPCC_RPMSG_BUFFER_SIZE_LINUX   512u   /* the "linux" profile: 496 bytes of payload */
#define IPCC_RPMSG_ENDPOINTS_MIN       2u
#define IPCC_RPMSG_ENDPOINTS_MAX       1024u
#define IPCC_RPMSG_ENDPOINTS_DEFAULT   64u
/* The name service's control end point, on every CPU (Linux uses 0x35; here it is 0). */
#define IPCC_RPMSG_ENDPT_CTRL 0u
/* ipcc_rpmsg_ep_create: any free end point number. */
#define IPCC_RPMSG_ENDPT_ANY 0xFFFFFFFFu
/* ipcc_rpmsg_announce: every RPMessage peer. */
#define IPCC_RPMSG_CPU_ALL 0xFFFFFFFFu
/* Service names: 1..31 bytes, NUL-terminated in 32. */
#define IPCC_RPMSG_NAME_MAX 31u
/* Names one CPU may announce at once. */
#define IPCC_RPMSG_NAMES_MAX 32u
/* The service number RPMessage's sections carry (ipcc_service_name). */
#define IPCC_SERVICE_RPMSG 2u
/* Notify values on client 0 (IPCC_NOTIFY_CLIENT_RPMSG). */
#define IPCC_RPMSG_NOTIFY_NEW_FULL  1u
#define IPCC_RPMSG_NOTIFY_NEW_EMPTY 2u

/* The packet header at the start of every buffer (the sizes of Linux's struct rpmsg_hdr). */
struct ipcc_rpmsg_hdr {
	uint32_t src;	  /* source end point */
	uint32_t dst;	  /* destination end point */
	uint32_t src_cpu; /* source CPU (Linux: reserved) */
	uint16_t len;	  /* payload bytes */
	uint16_t flags;	  /* 0: no flag is defined */
};

/* Which pairs have RPMessage, and how (the `services: rpmsg:` block of a system description). */
struct ipcc_rpmsg_config {
	/* Bit b of pairs[a] for a < b: RPMessage on link a-b (which needs Notify). Bits of pairs
	 * without a link or without Notify are ignored. */
	uint64_t pairs[IPCC_CPUS_MAX];
	uint32_t buffers;     /* per ordered pair: a power of two, BUFFERS_MIN..BUFFERS_MAX */
	uint32_t buffer_size; /* bytes per buffer, header included: a multiple of 16, MIN..MAX */
	uint32_t endpoints;   /* end point numbers per CPU, ENDPOINTS_MIN..ENDPOINTS_MAX */
	uint32_t reserved[5];
};

/*
 * Defaults: every pair (so every Notify link gets RPMessage), 8 buffers of 128 bytes, 64 end
 * points. The object needs per ordered pair buffers * buffer_size bytes of buffers plus 32
 * bytes per buffer and 576 bytes of ledgers, queues and counters (each part rounded up to
 * 64), and 2304 bytes per CPU for its table (ipcc plan shows it).
 */
IPCC_EXPORT void ipcc_rpmsg_config_init(struct ipcc_rpmsg_config *rcfg);
/* The "linux" profile: the defaults with 512-byte buffers (496 bytes of payload). */
IPCC_EXPORT void ipcc_rpmsg_config_linux(struct ipcc_rpmsg_config *rcfg);
/* Enable (on = true) or disable RPMessage for pair a, b (either order). -EINVAL as for Notify. */
IPCC_EXPORT int ipcc_rpmsg_config_pair(struct ipcc_rpmsg_config *rcfg, unsigned a, unsigned b,
				       bool on);

struct ipcc_rpmsg_ep;

/*
 * A callback-mode end point's handler: `len` bytes at `data` arrived from end point `remote_ep`
 * of CPU `remote`. `data` points into the object and is valid until fn returns, or until
 * ipcc_rpmsg_release if fn called ipcc_rpmsg_hold(ep, data).
 */
typedef void (*ipcc_rpmsg_fn)(struct ipcc_rpmsg_ep *ep, const void *data, uint32_t len,
			      unsigned remote, unsigned remote_ep, void *arg);

/*
 * Open end point `number` of this CPU (IPCC_RPMSG_ENDPT_ANY: the lowest free one from 1 up),
 * in callback mode if fn is not NULL, else in queue mode. -EINVAL (NULL cpu or ret_ep), -ERANGE
 * (number >= endpoints), -EACCES (the control end point), -EADDRINUSE (open already),
 * -EADDRNOTAVAIL (ANY and none is free), -ENOPROTOOPT (no pair of this CPU has RPMessage),
 * -ENOMEM, -ESTALE.
 */
IPCC_EXPORT int ipcc_rpmsg_ep_create(struct ipcc_cpu *cpu, unsigned number, ipcc_rpmsg_fn fn,
				     void *arg, struct ipcc_rpmsg_ep **ret_ep);
/*
 * Close it: its names are withdrawn, packets queued for it are dropped (counted) and their
 * buffers given back, and when this returns its callback is not running (unless the caller is
 * that callback: -EDEADLK). Buffers it holds (ipcc_rpmsg_hold, recv_nocopy) stay valid until
 * released. -EBUSY (a receive is in progress on it: ipcc_rpmsg_unblock it first), -ESTALE.
 * Accepts NULL (returns 0).
 */
IPCC_EXPORT int ipcc_rpmsg_ep_close(struct ipcc_rpmsg_ep *ep);
IPCC_EXPORT unsigned ipcc_rpmsg_ep_number(const struct ipcc_rpmsg_ep *ep);
IPCC_EXPORT struct ipcc_cpu *ipcc_rpmsg_ep_cpu(const struct ipcc_rpmsg_ep *ep);

/*
 * Send len bytes (0..payload size) from `data` to end point `remote_ep` of CPU `remote`, from
 * this CPU's end point `local_ep` (which must be open: replies come back to it). Errors, each
 * its own: -EINVAL (NULL cpu, or data NULL with len > 0, remote out of range or this CPU),
 * -EMSGSIZE (len above ipcc_rpmsg_payload_max: nothing is truncated), -ERANGE (an end point
 * number >= endpoints), -EBADF (local_ep not open), -ENOENT (no link), -ENOPROTOOPT (the pair
 * has no RPMessage), -ECONNREFUSED (remote_ep is not open on `remote`, or it is not attached),
 * -EAGAIN (no free buffer, timeout 0 or from a callback), -ETIMEDOUT, -EPIPE (the receiver
 * died, detached or restarted during the wait), -EINTR, -ENOMEM (no thread to watch the
 * peer), -EBADMSG (the receiver wrote an impossible queue index: the pair is broken for this
 * CPU's sends until it attaches again), -ESTALE.
 */
IPCC_EXPORT int ipcc_rpmsg_send(struct ipcc_cpu *cpu, const void *data, uint32_t len,
				unsigned remote, unsigned remote_ep, unsigned local_ep,
				int64_t timeout_ns);

/*
 * Take the oldest packet of a queue-mode end point, waiting up to timeout_ns: copy its payload to
 * buf (capacity `cap`), *ret_len its length, and (if not NULL) *ret_remote and *ret_remote_ep
 * its source. -EMSGSIZE: cap is too small (*ret_len says how much is needed; the packet stays
 * first). -EAGAIN (timeout 0, none), -ETIMEDOUT, -ECANCELED (ipcc_rpmsg_unblock), -EPIPE (the
 * reply partner died, detached or restarted: see "Peer restarts"; said once, the next receive
 * waits for any sender again), -EINTR, -EBUSY (another receive is in progress on the end
 * point), -EOPNOTSUPP (a callback-mode end point), -EDEADLK (from a callback of this CPU),
 * -ENOMEM, -EINVAL, -ESTALE.
 */
IPCC_EXPORT int ipcc_rpmsg_recv(struct ipcc_rpmsg_ep *ep, void *buf, uint32_t cap,
				uint32_t *ret_len, unsigned *ret_remote, unsigned *ret_remote_ep,
				int64_t timeout_ns);
/*
 * Make the receive in progress on ep (or, if none, the next one) return -ECANCELED: one
 * unblock ends one receive. For a clean shutdown, as TI's RPMessage_unblock. -EINVAL.
 */
IPCC_EXPORT int ipcc_rpmsg_unblock(struct ipcc_rpmsg_ep *ep);

/*
 * Zero copy, sending: take a free buffer of the pair to `remote` (waiting as ipcc_rpmsg_send
 * does), *ret_data its payload area in the object and *ret_cap its size (payload_max). Fill it,
 * then ipcc_rpmsg_send_nocopy it, or give it back with ipcc_rpmsg_tx_free. Errors as
 * ipcc_rpmsg_send (without -EMSGSIZE, -EBADF, -ECONNREFUSED).
 */
IPCC_EXPORT int ipcc_rpmsg_tx_get(struct ipcc_cpu *cpu, unsigned remote, int64_t timeout_ns,
				  void **ret_data, uint32_t *ret_cap);
/*
 * Send the buffer `data` (from ipcc_rpmsg_tx_get of this CPU, to the remote it was taken for)
 * with len bytes of payload: errors as ipcc_rpmsg_send, plus -EFAULT (data is not the payload
 * of a buffer of this CPU) and -EALREADY (that buffer is not taken: sent or freed already).
 * Never blocks. On any other error the buffer stays taken (send it again, or tx_free it).
 */
IPCC_EXPORT int ipcc_rpmsg_send_nocopy(struct ipcc_cpu *cpu, void *data, uint32_t len,
				       unsigned remote_ep, unsigned local_ep);
/* Give a taken TX buffer back unsent. -EFAULT, -EALREADY, -EINVAL, -ESTALE. */
IPCC_EXPORT int ipcc_rpmsg_tx_free(struct ipcc_cpu *cpu, void *data);

/*
 * Zero copy, receiving. ipcc_rpmsg_recv_nocopy: as ipcc_rpmsg_recv, but *ret_data points at the
 * payload in the object, which stays this CPU's until ipcc_rpmsg_release. ipcc_rpmsg_hold: from
 * a callback, keep the buffer `data` it was given past its return. ipcc_rpmsg_release gives a
 * held buffer back to its sender: -EFAULT (not the payload of a buffer this CPU receives
 * into), -EALREADY (not held: released already, or never held), -EINVAL, -ESTALE. A buffer
 * of a sender that restarted meanwhile is released all the same (its new incarnation takes it).
 * hold: -EINVAL (not called from ep's callback for this data), -EALREADY.
 */
IPCC_EXPORT int ipcc_rpmsg_recv_nocopy(struct ipcc_rpmsg_ep *ep, const void **ret_data,
				       uint32_t *ret_len, unsigned *ret_remote,
				       unsigned *ret_remote_ep, int64_t timeout_ns);
IPCC_EXPORT int ipcc_rpmsg_hold(struct ipcc_rpmsg_ep *ep, const void *data);
IPCC_EXPORT int ipcc_rpmsg_release(struct ipcc_cpu *cpu, const void *data);

/*
 * Name service. ipcc_rpmsg_announce: tell `remote` (IPCC_RPMSG_CPU_ALL: every RPMessage peer)
 * that service `name` (1..31 bytes of [A-Za-z0-9_.:-]) is end point ep of this CPU. The
 * announcement is kept in the object, so a peer that attaches later (or looks later) finds it,
 * and a control packet tells the peers attached now. Closing the end point withdraws it.
 * -EINVAL (bad name or arguments), -EEXIST (this CPU announced the name already), -ENOSPC
 * (IPCC_RPMSG_NAMES_MAX names), -ENOPROTOOPT (remote has no RPMessage with this CPU), -ESTALE.
 */
IPCC_EXPORT int ipcc_rpmsg_announce(struct ipcc_rpmsg_ep *ep, const char *name, unsigned remote);
/*
 * Wait up to timeout_ns until some peer CPU announced `name` to this CPU, and return its CPU
 * and end point (the lowest CPU id if several did). -EAGAIN (timeout 0), -ETIMEDOUT, -EINTR,
 * -EDEADLK (from a callback), -EINVAL, -ENOPROTOOPT, -ESTALE. Announcements of a CPU that is not attached are not found.
 */
IPCC_EXPORT int ipcc_rpmsg_lookup(struct ipcc_cpu *cpu, const char *name, int64_t timeout_ns,
				  unsigned *ret_remote, unsigned *ret_ep);
/*
 * Tell fn about services as peers announce (up = true) and withdraw them (up = false), from
 * interrupt context (as end point callbacks). Those announced already are reported at the next
 * drain. One watcher per CPU: -EEXIST; fn NULL removes it. -EINVAL, -ENOPROTOOPT, -ESTALE.
 */
typedef void (*ipcc_rpmsg_ns_fn)(struct ipcc_cpu *cpu, const char *name, unsigned remote,
				 unsigned remote_ep, bool up, void *arg);
IPCC_EXPORT int ipcc_rpmsg_ns_watch(struct ipcc_cpu *cpu, ipcc_rpmsg_ns_fn fn, void *arg);

/*
 * RPMessage's shape in an open system (any handle, read-only included). enabled: 1, 0, -EINVAL,
 * -ENOENT (no link). buffers, buffer_size, endpoints: 0 when the object has no RPMessage.
 * payload_max = buffer_size - IPCC_RPMSG_HEADER_SIZE.
 */
IPCC_EXPORT int ipcc_rpmsg_enabled(const struct ipcc_system *sys, unsigned a, unsigned b);
IPCC_EXPORT uint32_t ipcc_rpmsg_buffers(const struct ipcc_system *sys);
IPCC_EXPORT uint32_t ipcc_rpmsg_buffer_size(const struct ipcc_system *sys);
IPCC_EXPORT uint32_t ipcc_rpmsg_payload_max(const struct ipcc_system *sys);
IPCC_EXPORT uint32_t ipcc_rpmsg_endpoints(const struct ipcc_system *sys);

/* The counters of the vring from -> to, as its two sides keep them in the object. */
struct ipcc_rpmsg_stats {
	uint64_t sent;	    /* packets queued by the sender */
	uint64_t nobuf;	    /* sends (and tx_gets) that found no free buffer, once per call */
	uint64_t received;  /* packets the receiver took from the full queue */
	uint64_t dropped;   /* taken and dropped: end point not open, or queued to a previous
			       incarnation of the receiver */
	uint64_t stale;	    /* dropped: sent by a previous incarnation of the sender */
	uint64_t bad;	    /* dropped: a descriptor or header that failed the checks */
	uint64_t reclaimed; /* buffers given back by a restarted receiver for its predecessor */
	uint32_t full;	    /* packets in the full queue now */
	uint32_t free;	    /* descriptors in the free queue now (not yet taken back by the
			       sender) */
	uint32_t buffers;
	uint32_t reserved;
};
/*
 * Read them. -EINVAL, -ENOENT (no link), -ENOPROTOOPT (no RPMessage on it), -EBADMSG (the
 * queues' indices are inconsistent: filled all the same, clamped), -EAGAIN (busy; retry).
 * Lock-free; any thread; read-only handles too.
 */
IPCC_EXPORT int ipcc_rpmsg_stats(const struct ipcc_system *sys, unsigned from, unsigned to,
				 struct ipcc_rpmsg_stats *ret_stats);

/*
 * The end points CPU `cpu` has open now, as it publishes them: 1 (open), 0, -ERANGE (number),
 * -EINVAL, -ENOPROTOOPT. A dead CPU's stay as it left them.
 */
IPCC_EXPORT int ipcc_rpmsg_ep_is_open(const struct ipcc_system *sys, unsigned cpu, unsigned number);

/* One announced name, as ipcc_rpmsg_names reads it. */
struct ipcc_rpmsg_name {
	char name[IPCC_RPMSG_NAME_MAX + 1];
	unsigned ep;
	uint64_t to; /* bit c: announced to CPU c */
};
/*
 * The names CPU `cpu` announced: fills at most cap entries and returns how many there are.
 * Entries the CPU wrote badly (no NUL, bad characters, end point out of range) are skipped.
 * -EINVAL, -ENOPROTOOPT. Lock-free; read-only handles too.
 */
IPCC_EXPORT int ipcc_rpmsg_names(const struct ipcc_system *sys, unsigned cpu,
				 struct ipcc_rpmsg_name *ret, unsigned cap);

IPCC_END_DECLS

#endif
