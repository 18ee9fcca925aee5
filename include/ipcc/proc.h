/* SPDX-License-Identifier: MIT */
/*
 * The simplex and half-duplex message procedures of the STM32 IPCC, over one channel of the link
 * between this CPU and `peer`. Each channel carries one message at a time in its buffer in the
 * shared object (ipcc_system_buffer_size() bytes per direction).
 *
 * Simplex: the sender writes the message and sets its flag (CHnS); when the flag is still set the
 * channel is occupied and the sender unmasks TX free and waits. The receiver masks RX occupied,
 * reads, clears the flag (CHnC) and unmasks.
 * Half-duplex: the request goes into the sender's buffer with CHnS; the receiver reads it, writes
 * the response into the same buffer and clears the flag, which the sender sees as TX free:
 * "response ready".
 * A CPU in spin mode whose wait has no timeout first polls the flag for a few microseconds, as a
 * polling driver does, and unmasks and waits for the interrupt only if it has not changed by
 * then; unless a trace records the link's writes, or a line watcher or a line callback of this
 * process looks at the link (include/ipcc/regs.h): they then see the whole interrupt
 * procedure. (A line callback in the peer's process sees this CPU's line stay low while it
 * polls.) The registers after the wait are the same either way.
 *
 * Common rules. timeout_ns: 0 never blocks (-EAGAIN), a positive value bounds the wait
 * (-ETIMEDOUT), IPCC_TIMEOUT_INFINITE waits without a bound. A wait that depends on the peer
 * returns -EPIPE once the peer's owner dies, detaches or restarts (a peer that has not attached
 * yet is waited for), and -ENOMEM if this process cannot start the thread that watches the peer
 * (README "CPU ownership"). Messages larger than the buffer are refused with -EMSGSIZE; a message larger than
 * the receiver's buffer is left in the channel and -EMSGSIZE returned: nothing is truncated.
 * -EINVAL for bad arguments, -ENOENT when the CPUs have no link. A channel is used either with
 * the blocking calls or with the callback forms, in one mode (simplex or half-duplex) agreed by
 * both sides; calls for one channel come from one thread at a time. Any blocking call returns
 * -EINTR when ipcc_cpu_interrupt (irq.h) ends it; a signal alone never does.
 *
 * Delivery contract (README "Delivery semantics"). A message in flight lives in the channel,
 * not in a process: attaching a CPU resets its control and mask registers, never the flags.
 * - Sender's timeout: a send or send claim that times out wrote nothing. A call that times out
 *   (or returns -EAGAIN with timeout 0, -EPIPE, -EINTR) has sent its request and does NOT take
 *   it back: the server may still execute it, and its response is discarded and counted when
 *   it comes (ipcc_call_pending, ipcc_call_discarded), never handed to a later call.
 * - Sender's death: a sent message or request stays and is received or executed; its response
 *   then waits in the channel for nobody (a restarted caller's first call settles it).
 * - Receiver's death and restart: a message not yet freed (CHnC) stays in the channel and the
 *   restarted receiver gets it, again if the dead one had copied it already; a served request
 *   without a reply is executed again by the restarted server, and then the caller's retry.
 * Simplex: at most once to a live receiver, at least once across its restart. Calls: at least
 * once. Exactly-once is the application's, with request ids and the peer's generation
 * (ipcc_cpu_peer_generation) in its messages.
 */
#ifndef IPCC_PROC_H
#define IPCC_PROC_H

#include <ipcc/common.h>
#include <ipcc/irq.h>

IPCC_BEGIN_DECLS

/* Simplex send: copy `len` bytes into the channel and mark it occupied. */
IPCC_EXPORT int ipcc_send(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			  size_t len, int64_t timeout_ns);
/* Simplex receive: returns the message length copied into buf. */
IPCC_EXPORT int ipcc_recv(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t cap,
			  int64_t timeout_ns);

/*
 * Zero-copy simplex. ipcc_send_claim waits until the channel is free and hands out its buffer;
 * ipcc_send_commit publishes `len` bytes of it. ipcc_recv_claim waits for a message and hands it
 * out in place; ipcc_recv_release frees the channel. A buffer is handed out once: a second claim
 * before the commit or release returns -EBUSY, and a commit or release without a claim -EALREADY.
 */
IPCC_EXPORT int ipcc_send_claim(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				int64_t timeout_ns, void **ret_buf, size_t *ret_cap);
IPCC_EXPORT int ipcc_send_commit(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, size_t len);
IPCC_EXPORT int ipcc_recv_claim(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				int64_t timeout_ns, const void **ret_buf, size_t *ret_len);
IPCC_EXPORT int ipcc_recv_release(struct ipcc_cpu *cpu, unsigned peer, unsigned ch);

/*
 * Half-duplex call: send the request, wait for the response, return its length. With timeout 0
 * the request is sent if the channel is free and -EAGAIN returned unless the response is already
 * there; the response then stays pending like that of a timed-out call.
 * If an earlier call timed out, its response is still pending: a new call with timeout 0 returns
 * -EBUSY while the peer has not answered it; with a timeout it waits for that stale response,
 * discards it (counted by ipcc_call_discarded), then proceeds. A timed-out request is not
 * taken back: the server may still execute it (at-least-once, see the contract above). A
 * response larger than `cap` is discarded with -EMSGSIZE.
 */
IPCC_EXPORT int ipcc_call(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *req,
			  size_t req_len, void *resp, size_t cap, int64_t timeout_ns);
/*
 * The response of this CPU's last request on half-duplex channel `ch` (ipcc_call or
 * ipcc_call_async). ipcc_call_pending: 1 while it has not come or not been taken (the channel
 * cannot carry a new request yet: ipcc_call with timeout 0 and ipcc_call_async say -EBUSY), 0
 * when nothing is outstanding. A response whose call gave up that has come meanwhile is
 * discarded (and counted) by this check. ipcc_call_cancel: give the outstanding response up:
 * the request stays in the channel and the peer may still execute it (it cannot be taken back),
 * but its response, when it comes, is discarded and counted, never handed to a later call or to
 * the ipcc_call_async callback. 0, or -EALREADY when nothing is outstanding or the dispatcher
 * already took an ipcc_call_async response (its callback runs or ran). A call that timed out or
 * failed after sending (-ETIMEDOUT, -EAGAIN with timeout 0, -EPIPE, -EINTR) is given up already:
 * cancelling it is not needed. ipcc_call_discarded: how many responses were discarded so on this
 * channel since attach (also those settled by a later ipcc_call, and a response to a request a
 * previous owner of this CPU left in the channel).
 * Calls for one channel from one thread at a time, as the others; ipcc_call_cancel of an
 * ipcc_call_async may race with the dispatcher (another thread, the interrupt thread). Never
 * block. -EINVAL (bad arguments), -ENOENT (no link).
 */
IPCC_EXPORT int ipcc_call_pending(struct ipcc_cpu *cpu, unsigned peer, unsigned ch);
IPCC_EXPORT int ipcc_call_cancel(struct ipcc_cpu *cpu, unsigned peer, unsigned ch);
IPCC_EXPORT int ipcc_call_discarded(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				    uint64_t *ret_count);

/*
 * Half-duplex receiving side: ipcc_serve waits for a request and copies it into buf (returns its
 * length); the channel stays occupied until ipcc_reply writes the response and frees it.
 * ipcc_reply without a request being served returns -ENOMSG.
 */
IPCC_EXPORT int ipcc_serve(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t cap,
			   int64_t timeout_ns);
IPCC_EXPORT int ipcc_reply(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *resp,
			   size_t len);

/*
 * Callback forms, run by the dispatcher (ipcc_cpu_dispatch or the interrupt thread) like
 * firmware in ISRs. Registering on a channel that already has a handler returns -EEXIST;
 * ipcc_irq_deactivate(cpu, peer, ch, dir) removes it.
 */
/* Simplex receive: fn sees the message in place; the channel is freed when fn returns. */
typedef void (*ipcc_recv_fn)(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			     size_t len, void *arg);
IPCC_EXPORT int ipcc_recv_async(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_recv_fn fn,
				void *arg);
/*
 * Simplex send, callback form (TX free): fn runs once, when the channel is (or becomes) free; a
 * send from fn then succeeds without waiting.
 */
typedef void (*ipcc_txfree_fn)(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *arg);
IPCC_EXPORT int ipcc_send_async(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_txfree_fn fn,
				void *arg);
/*
 * Half-duplex server: fn gets the request in place in a buffer of `cap` bytes and returns the
 * length of the response it wrote there (the reply is sent when fn returns), or a negative value
 * to answer later with ipcc_reply.
 */
typedef int (*ipcc_serve_fn)(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf,
			     size_t len, size_t cap, void *arg);
IPCC_EXPORT int ipcc_serve_async(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_serve_fn fn,
				 void *arg);
/*
 * Half-duplex client: send the request now (-EBUSY while a response is pending) and call fn with
 * the response from the dispatcher. The TX handler stays registered between calls.
 * ipcc_call_cancel gives the response up (fn is then not called for it).
 */
IPCC_EXPORT int ipcc_call_async(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *req,
				size_t req_len, ipcc_recv_fn fn, void *arg);

IPCC_END_DECLS

#endif
