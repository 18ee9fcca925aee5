/* SPDX-License-Identifier: MIT */
/*
 * The simplex and half-duplex procedures (stm32-ipcc.md, "Procedures"), blocking, zero-copy and
 * callback forms.
 *
 * Publication of a message: the sender writes the data and the length, then sets CHnS with a
 * seq_cst RMW (lib/ipcc/regs.c:ipcc_link_write_scr), which is also a release. The receiver reads
 * the flag with an acquire load (lib/ipcc/chan.h:ipcc_chan_flag) before it reads the length and the data. The
 * way back is the same: the receiver's last read of the buffer precedes its CHnC RMW, and the
 * sender sees the flag clear with an acquire load before it writes the buffer again.
 */
#include <stdlib.h>

#include <ipcc/proc.h>

#include "ipcc/chan.h"
#include "irq/irq.h"

/*
 * The response of this CPU's half-duplex request on a channel. CALL_WAITING: a call (or an
 * ipcc_call_async callback) will take it. CALL_ABANDONED: its call gave up (timeout, -EPIPE,
 * -EINTR, timeout 0, ipcc_call_cancel); when it comes it is discarded and counted.
 */
enum call_state {
	CALL_IDLE,
	CALL_WAITING,
	CALL_ABANDONED,
};

/* Process-local software state of one channel (both directions) towards one peer. */
struct proc_chan {
	struct ipcc_cpu *cpu;
	unsigned peer, ch;
	/*
	 * enum call_state. Atomic because ipcc_call_cancel may race with the dispatcher taking
	 * an ipcc_call_async response (on_tx); every other access is by the channel's one caller.
	 */
	_Atomic unsigned call;
	_Atomic uint64_t discarded; /* responses dropped because their call gave up */
	bool tx_claimed;	    /* zero-copy: the TX buffer is handed out */
	bool rx_claimed;	    /* zero-copy: the RX buffer is handed out */
	bool tx_hooked;		    /* ipcc_call_async registered its TX handler */
	ipcc_recv_fn recv_fn;
	ipcc_txfree_fn txfree_fn;
	ipcc_serve_fn serve_fn;
	ipcc_recv_fn resp_fn;
	void *rx_arg, *tx_arg;
};

struct proc_state {
	struct proc_chan *chan[IPCC_CPUS_MAX]; /* per linked peer, `channels` entries */
};

static struct proc_state *proc_of(const struct ipcc_cpu *cpu)
{
	return (struct proc_state *)cpu->layer[IPCC_LAYER_PROC];
}

static void proc_detach(struct ipcc_cpu *cpu)
{
	struct proc_state *st = proc_of(cpu);
	if (!st)
		return;
	for (unsigned i = 0; i < IPCC_CPUS_MAX; i++)
		free(st->chan[i]);
	free(st);
	cpu->layer[IPCC_LAYER_PROC] = NULL;
}

/*
 * The tables of every linked peer at attach, not on first use: threads of the CPU that start
 * using channels at once then never race on an allocation.
 */
static int proc_attach(struct ipcc_cpu *cpu, const struct ipcc_cpu_options *opt)
{
	struct proc_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	cpu->layer[IPCC_LAYER_PROC] = st;
	for (unsigned peer = 0; peer < cpu->sys->geo.cpus; peer++) {
		if (!ipcc_link_get(cpu->sys, cpu->id, peer))
			continue;
		struct proc_chan *t = calloc(cpu->sys->geo.channels, sizeof(*t));
		if (!t) {
			proc_detach(cpu);
			return -ENOMEM;
		}
		for (unsigned i = 0; i < cpu->sys->geo.channels; i++)
			t[i] = (struct proc_chan){ .cpu = cpu, .peer = peer, .ch = i };
		st->chan[peer] = t;
	}
	return 0;
}

/* The procedures in the registry (lib/layers.c). */
const struct ipcc_layer ipcc_layer_proc = {
	.name = "proc",
	.attach = proc_attach,
	.detach = proc_detach,
};

/* A resolved channel (lib/ipcc/chan.h) and its software state. */
struct chan_ref {
	struct ipcc_chan hw;
	struct proc_chan *pc;
};

static int chan_get(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, struct chan_ref *ref)
{
	int r = ipcc_chan_resolve(cpu, peer, ch, false, &ref->hw);
	if (r < 0)
		return r;
	/* A resolved peer is linked: its table exists (proc_attach). */
	ref->pc = &proc_of(cpu)->chan[peer][ch];
	return 0;
}

static bool pred_tx_free(struct ipcc_cpu *cpu, void *arg)
{
	return !ipcc_chan_tx_busy(&((struct chan_ref *)arg)->hw);
}

static bool pred_rx_occupied(struct ipcc_cpu *cpu, void *arg)
{
	return ipcc_chan_rx_occupied(&((struct chan_ref *)arg)->hw);
}

/*
 * Wait for the line `line` condition of this channel with the channel unmasked (the procedure's
 * "unmask and wait for the interrupt"), then mask it again.
 */
static int chan_wait(struct ipcc_cpu *cpu, struct chan_ref *c, enum ipcc_irq line,
		     int64_t timeout_ns)
{
	struct ipcc_watch watch; /* 1 KiB: only .n is set, never zero-filled */
	watch.n = 0;
	ipcc_pred_fn pred = line == IPCC_IRQ_TXF ? pred_tx_free : pred_rx_occupied;

	if (pred(cpu, c))
		return 0;
	if (timeout_ns == 0)
		return -EAGAIN;
	ipcc_chan_enable_line(&c->hw, line);
	/*
	 * A spinning CPU first polls the flag, as a polling driver does: if it changes soon, the
	 * unmask and mask around the wait (two locked RMWs on the bank) and the peer watch (the
	 * claims mutex) are skipped. Only when nobody sees the link's writes, so a trace, a line
	 * callback or a line watcher still gets the whole interrupt procedure; and only without a
	 * deadline, which the polls could overrun. The register state after the wait is the same
	 * either way: masked (a peek, no write, when it was masked already).
	 */
	if (timeout_ns < 0 && ipcc_link_unobserved(c->hw.sys, c->hw.l) &&
	    ipcc_wait_poll(cpu, pred, c)) {
		ipcc_chan_mask_line(&c->hw, line, true);
		return 0;
	}
	int r = ipcc_watch_add(cpu, &watch, c->hw.peer);
	if (r < 0)
		return r;
	ipcc_chan_mask_line(&c->hw, line, false);
	r = ipcc_wait_core(cpu, pred, c, &watch, timeout_ns, 0);
	ipcc_chan_mask_line(&c->hw, line, true);
	return r;
}

static void write_msg(struct chan_ref *c, struct ipcc_shm_slot *slot, const void *data, size_t len)
{
	if (len)
		memcpy(ipcc_slot_data(slot), data, len);
	/* Published by the CHnS or CHnC RMW that follows (see the file comment). */
	ipcc_slot_len_set(slot, (uint32_t)len);
}

/* Length of the message in `slot`, or -EBADMSG if the peer wrote an impossible one. */
static int msg_len(const struct chan_ref *c, struct ipcc_shm_slot *slot)
{
	/* Ordered after the acquire flag load that found the message. */
	return ipcc_slot_len(c->hw.sys, slot);
}

IPCC_EXPORT int ipcc_send(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			  size_t len, int64_t timeout_ns)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!data && len)
		return -EINVAL;
	if (len > c.hw.sys->geo.buffer_size)
		return -EMSGSIZE;
	if (c.pc->tx_claimed)
		return -EBUSY;
	r = chan_wait(cpu, &c, IPCC_IRQ_TXF, timeout_ns);
	if (r < 0)
		return r;
	write_msg(&c, ipcc_chan_slot(&c.hw, IPCC_DIR_TX), data, len);
	ipcc_chan_scr_set(&c.hw);
	return 0;
}

/* After the flag was seen set: mask RX occupied, as the receive procedure starts. */
static void rx_begin(struct chan_ref *c)
{
	ipcc_chan_mask_line(&c->hw, IPCC_IRQ_RXO, true);
}

/* Free the channel (CHnC) and unmask RX occupied: the end of the receive procedure. */
static void rx_end(struct chan_ref *c)
{
	ipcc_chan_scr_clear(&c->hw);
	ipcc_chan_mask_line(&c->hw, IPCC_IRQ_RXO, false);
}

/*
 * The receiving half shared by ipcc_recv and ipcc_serve: wait for RX occupied, mask it, copy
 * the message out. A message that does not fit (or has an impossible length) is left in place
 * with the channel unmasked again: a bigger buffer can take it. Returns its length.
 */
static int rx_take(struct ipcc_cpu *cpu, struct chan_ref *c, void *buf, size_t cap,
		   int64_t timeout_ns)
{
	if (!buf && cap)
		return -EINVAL;
	if (c->pc->rx_claimed)
		return -EBUSY;
	int r = chan_wait(cpu, c, IPCC_IRQ_RXO, timeout_ns);
	if (r < 0)
		return r;
	rx_begin(c);
	struct ipcc_shm_slot *slot = ipcc_chan_slot(&c->hw, IPCC_DIR_RX);
	int len = msg_len(c, slot);
	if (len < 0 || (size_t)len > cap) {
		ipcc_chan_mask_line(&c->hw, IPCC_IRQ_RXO, false);
		return len < 0 ? len : -EMSGSIZE;
	}
	if (len)
		memcpy(buf, ipcc_slot_data(slot), (size_t)len);
	return len;
}

IPCC_EXPORT int ipcc_recv(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t cap,
			  int64_t timeout_ns)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	r = rx_take(cpu, &c, buf, cap, timeout_ns);
	if (r >= 0)
		rx_end(&c);
	return r;
}

IPCC_EXPORT int ipcc_send_claim(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				int64_t timeout_ns, void **ret_buf, size_t *ret_cap)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!ret_buf || !ret_cap)
		return -EINVAL;
	if (c.pc->tx_claimed)
		return -EBUSY;
	r = chan_wait(cpu, &c, IPCC_IRQ_TXF, timeout_ns);
	if (r < 0)
		return r;
	c.pc->tx_claimed = true;
	*ret_buf = ipcc_slot_data(ipcc_chan_slot(&c.hw, IPCC_DIR_TX));
	*ret_cap = c.hw.sys->geo.buffer_size;
	return 0;
}

IPCC_EXPORT int ipcc_send_commit(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, size_t len)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!c.pc->tx_claimed)
		return -EALREADY;
	if (len > c.hw.sys->geo.buffer_size)
		return -EMSGSIZE;
	/* Published by the CHnS RMW below (see the file comment). */
	ipcc_slot_len_set(ipcc_chan_slot(&c.hw, IPCC_DIR_TX), (uint32_t)len);
	c.pc->tx_claimed = false;
	ipcc_chan_scr_set(&c.hw);
	return 0;
}

IPCC_EXPORT int ipcc_recv_claim(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				int64_t timeout_ns, const void **ret_buf, size_t *ret_len)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!ret_buf || !ret_len)
		return -EINVAL;
	if (c.pc->rx_claimed)
		return -EBUSY;
	r = chan_wait(cpu, &c, IPCC_IRQ_RXO, timeout_ns);
	if (r < 0)
		return r;
	rx_begin(&c);
	struct ipcc_shm_slot *slot = ipcc_chan_slot(&c.hw, IPCC_DIR_RX);
	int len = msg_len(&c, slot);
	if (len < 0) {
		ipcc_chan_mask_line(&c.hw, IPCC_IRQ_RXO, false);
		return len;
	}
	c.pc->rx_claimed = true;
	*ret_buf = ipcc_slot_data(slot);
	*ret_len = (size_t)len;
	return 0;
}

IPCC_EXPORT int ipcc_recv_release(struct ipcc_cpu *cpu, unsigned peer, unsigned ch)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!c.pc->rx_claimed)
		return -EALREADY;
	c.pc->rx_claimed = false;
	rx_end(&c);
	return 0;
}

/* Relaxed, all three: the state is process-local, and its readers and writers are the
 * channel's one caller, except for the race of on_tx with ipcc_call_cancel, whose accesses
 * (call_take) order themselves. */
static unsigned call_get(const struct proc_chan *pc)
{
	return atomic_load_explicit(&pc->call, memory_order_relaxed);
}

static void call_set(struct proc_chan *pc, enum call_state st)
{
	atomic_store_explicit(&pc->call, st, memory_order_relaxed);
}

/* Our call gave up on its response (an error once the request is out). */
static int call_abandon(struct proc_chan *pc, int r)
{
	call_set(pc, CALL_ABANDONED);
	return r;
}

/*
 * The response is there (TX free): take the state from `from` to idle; true if this caller
 * did. acq_rel: pairs with the release store of ipcc_call_async (its callback and argument),
 * and makes on_tx and ipcc_call_cancel agree on who took the response.
 */
static bool call_take(struct proc_chan *pc, unsigned from)
{
	return atomic_compare_exchange_strong_explicit(&pc->call, &from, CALL_IDLE,
						       memory_order_acq_rel, memory_order_relaxed);
}

/* Drop an abandoned response that came (or a request of an earlier owner of this CPU). */
static void call_discard(struct proc_chan *pc, unsigned from)
{
	if (call_take(pc, from))
		/* Relaxed: a statistic, read by ipcc_call_discarded. */
		atomic_fetch_add_explicit(&pc->discarded, 1, memory_order_relaxed);
}

/* A pending response of an earlier call: -EBUSY (timeout 0) or wait for it and drop it. */
static int call_settle(struct ipcc_cpu *cpu, struct chan_ref *c, int64_t timeout_ns)
{
	unsigned st = call_get(c->pc);
	if (st == CALL_IDLE && !ipcc_chan_tx_busy(&c->hw))
		return 0;
	int r = chan_wait(cpu, c, IPCC_IRQ_TXF, timeout_ns);
	if (r == -EAGAIN)
		return -EBUSY;
	if (r < 0)
		return r;
	/* A busy flag without a call of ours is a request of this CPU's previous owner. */
	call_set(c->pc, CALL_ABANDONED);
	call_discard(c->pc, CALL_ABANDONED);
	return 0;
}

IPCC_EXPORT int ipcc_call(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *req,
			  size_t req_len, void *resp, size_t cap, int64_t timeout_ns)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if ((!req && req_len) || (!resp && cap))
		return -EINVAL;
	if (req_len > c.hw.sys->geo.buffer_size)
		return -EMSGSIZE;
	if (c.pc->tx_hooked || c.pc->tx_claimed)
		return -EBUSY;
	/* One budget for the whole call: settling a stale response uses part of it. */
	int64_t start = timeout_ns > 0 ? ipcc_now_ns() : 0;
	r = call_settle(cpu, &c, timeout_ns);
	if (r < 0)
		return r;
	struct ipcc_shm_slot *slot = ipcc_chan_slot(&c.hw, IPCC_DIR_TX);
	write_msg(&c, slot, req, req_len);
	call_set(c.pc, CALL_WAITING);
	ipcc_chan_scr_set(&c.hw);
	if (timeout_ns > 0) {
		timeout_ns -= ipcc_now_ns() - start;
		if (timeout_ns <= 0)
			timeout_ns = 1; /* still look once more before -ETIMEDOUT */
	}
	/* timeout 0: the request is out; -EAGAIN leaves its response pending (see proc.h). */
	r = chan_wait(cpu, &c, IPCC_IRQ_TXF, timeout_ns);
	if (r < 0)
		return call_abandon(c.pc, r);
	call_set(c.pc, CALL_IDLE);
	int len = msg_len(&c, slot);
	if (len < 0)
		return len;
	if ((size_t)len > cap)
		return -EMSGSIZE;
	if (len)
		memcpy(resp, ipcc_slot_data(slot), (size_t)len);
	return len;
}

IPCC_EXPORT int ipcc_serve(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t cap,
			   int64_t timeout_ns)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	return rx_take(cpu, &c, buf, cap, timeout_ns); /* the flag stays set: the reply frees it */
}

IPCC_EXPORT int ipcc_reply(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *resp,
			   size_t len)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!resp && len)
		return -EINVAL;
	if (len > c.hw.sys->geo.buffer_size)
		return -EMSGSIZE;
	if (!ipcc_chan_rx_occupied(&c.hw))
		return -ENOMSG;
	write_msg(&c, ipcc_chan_slot(&c.hw, IPCC_DIR_RX), resp, len);
	rx_end(&c); /* CHnC is "response ready" at the caller */
	return 0;
}

/* Dispatcher trampolines: the dispatcher has masked the channel already. */
static void on_rx(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir, void *arg)
{
	struct proc_chan *pc = arg;
	struct chan_ref c;
	if (chan_get(cpu, peer, ch, &c) < 0)
		return;
	if (!ipcc_chan_rx_occupied(&c.hw)) { /* spurious: nothing to read */
		ipcc_chan_mask_line(&c.hw, IPCC_IRQ_RXO, false);
		return;
	}
	struct ipcc_shm_slot *slot = ipcc_chan_slot(&c.hw, IPCC_DIR_RX);
	int len = msg_len(&c, slot);
	void *data = ipcc_slot_data(slot);
	if (pc->recv_fn) {
		if (len >= 0)
			pc->recv_fn(cpu, peer, ch, data, (size_t)len, pc->rx_arg);
		rx_end(&c); /* a corrupt length is dropped: the channel must not stay stuck */
		return;
	}
	if (len < 0) {
		rx_end(&c);
		return;
	}
	int n = pc->serve_fn(cpu, peer, ch, data, (size_t)len, c.hw.sys->geo.buffer_size,
			     pc->rx_arg);
	if (n >= 0) {
		/* Published by the CHnC RMW in rx_end. */
		ipcc_slot_len_set(slot, (uint32_t)((size_t)n > c.hw.sys->geo.buffer_size
							   ? c.hw.sys->geo.buffer_size
							   : (size_t)n));
		rx_end(&c);
	}
}

static void on_tx(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, enum ipcc_dir dir, void *arg)
{
	struct proc_chan *pc = arg;
	struct chan_ref c;
	if (chan_get(cpu, peer, ch, &c) < 0)
		return;
	/* Acquire: pairs with the release store of ipcc_call_async, so its callback and argument,
	 * read below, are the ones of the call whose response this is. */
	unsigned st = atomic_load_explicit(&pc->call, memory_order_acquire);
	if (st == CALL_ABANDONED) {
		call_discard(pc, CALL_ABANDONED); /* ipcc_call_cancel gave it up */
		return;
	}
	if (st == CALL_WAITING && pc->tx_hooked) {
		/* Copied before the take: once the state is idle, a new ipcc_call_async (another
		 * thread, after a cancel) may set them again. A lost take means ipcc_call_cancel
		 * won: it discards the response. */
		ipcc_recv_fn fn = pc->resp_fn;
		void *fn_arg = pc->tx_arg;
		if (!call_take(pc, CALL_WAITING))
			return;
		struct ipcc_shm_slot *slot = ipcc_chan_slot(&c.hw, IPCC_DIR_TX);
		int len = msg_len(&c, slot);
		fn(cpu, peer, ch, ipcc_slot_data(slot), len < 0 ? 0 : (size_t)len, fn_arg);
		return;
	}
	if (pc->txfree_fn) {
		ipcc_txfree_fn fn = pc->txfree_fn;
		pc->txfree_fn = NULL;
		ipcc_irq_deactivate(cpu, peer, ch, IPCC_DIR_TX);
		fn(cpu, peer, ch, pc->tx_arg);
	}
}

/*
 * Register a callback form: refuse an occupied slot before touching anything, store the
 * callback, then activate. Activation is what unmasks (a seq_cst RMW in lib/ipcc/regs.c), so a
 * dispatcher that sees the line has the callback too; on failure the fields are cleared again.
 */
static int hook(struct ipcc_cpu *cpu, struct chan_ref *c, enum ipcc_dir dir)
{
	int r = ipcc_irq_activate(cpu, c->pc->peer, c->hw.ch, dir,
				  dir == IPCC_DIR_RX ? on_rx : on_tx, c->pc);
	if (r < 0 && dir == IPCC_DIR_RX) {
		c->pc->recv_fn = NULL;
		c->pc->serve_fn = NULL;
	} else if (r < 0) {
		c->pc->txfree_fn = NULL;
	}
	return r;
}

/* The RX callback forms: exactly one of recv_fn and serve_fn is set. */
static int rx_register(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_recv_fn recv_fn,
		       ipcc_serve_fn serve_fn, void *arg)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!recv_fn && !serve_fn)
		return -EINVAL;
	if (ipcc_irq_registered(cpu, peer, ch, IPCC_DIR_RX))
		return -EEXIST;
	c.pc->recv_fn = recv_fn;
	c.pc->serve_fn = serve_fn;
	c.pc->rx_arg = arg;
	return hook(cpu, &c, IPCC_DIR_RX);
}

IPCC_EXPORT int ipcc_recv_async(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_recv_fn fn,
				void *arg)
{
	return fn ? rx_register(cpu, peer, ch, fn, NULL, arg) : -EINVAL;
}

IPCC_EXPORT int ipcc_serve_async(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_serve_fn fn,
				 void *arg)
{
	return fn ? rx_register(cpu, peer, ch, NULL, fn, arg) : -EINVAL;
}

IPCC_EXPORT int ipcc_send_async(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, ipcc_txfree_fn fn,
				void *arg)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!fn)
		return -EINVAL;
	if (ipcc_irq_registered(cpu, peer, ch, IPCC_DIR_TX))
		return -EEXIST;
	c.pc->txfree_fn = fn;
	c.pc->tx_arg = arg;
	r = hook(cpu, &c, IPCC_DIR_TX);
	if (r < 0)
		return r;
	/* The procedure's "unmask TX free": asserts at once if the channel is already free. */
	ipcc_chan_mask_line(&c.hw, IPCC_IRQ_TXF, false);
	return 0;
}

IPCC_EXPORT int ipcc_call_async(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *req,
				size_t req_len, ipcc_recv_fn fn, void *arg)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!fn || (!req && req_len))
		return -EINVAL;
	if (req_len > c.hw.sys->geo.buffer_size)
		return -EMSGSIZE;
	if (call_get(c.pc) == CALL_ABANDONED && !ipcc_chan_tx_busy(&c.hw))
		call_discard(c.pc, CALL_ABANDONED); /* a given-up response came: drop it now */
	if (call_get(c.pc) != CALL_IDLE || ipcc_chan_tx_busy(&c.hw) || c.pc->tx_claimed)
		return -EBUSY;
	if (!c.pc->tx_hooked) {
		r = ipcc_irq_activate(cpu, peer, ch, IPCC_DIR_TX, on_tx, c.pc);
		if (r < 0)
			return r;
		c.pc->tx_hooked = true;
	}
	c.pc->resp_fn = fn;
	c.pc->tx_arg = arg;
	write_msg(&c, ipcc_chan_slot(&c.hw, IPCC_DIR_TX), req, req_len);
	/* Release: pairs with the acq_rel of call_take in on_tx (resp_fn, tx_arg above). */
	atomic_store_explicit(&c.pc->call, CALL_WAITING, memory_order_release);
	ipcc_chan_scr_set(&c.hw);
	/* "Response ready" interrupt: TX free of this channel. */
	ipcc_chan_mask_line(&c.hw, IPCC_IRQ_TXF, false);
	return 0;
}

IPCC_EXPORT int ipcc_call_pending(struct ipcc_cpu *cpu, unsigned peer, unsigned ch)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	unsigned st = call_get(c.pc);
	bool busy = ipcc_chan_tx_busy(&c.hw);
	if (st == CALL_ABANDONED && !busy) {
		call_discard(c.pc, CALL_ABANDONED);
		return 0;
	}
	return st != CALL_IDLE || busy;
}

IPCC_EXPORT int ipcc_call_cancel(struct ipcc_cpu *cpu, unsigned peer, unsigned ch)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	unsigned st = call_get(c.pc);
	if (st == CALL_WAITING) {
		/* An ipcc_call_async response: the dispatcher may be taking it right now (on_tx);
		 * whoever moves the state first decides. acq_rel as in call_take. */
		if (!atomic_compare_exchange_strong_explicit(&c.pc->call, &st, CALL_ABANDONED,
							     memory_order_acq_rel,
							     memory_order_relaxed))
			return -EALREADY; /* delivered (or being delivered) to its callback */
	} else if (st == CALL_IDLE) {
		if (!ipcc_chan_tx_busy(&c.hw))
			return -EALREADY;
		call_set(c.pc, CALL_ABANDONED); /* a request of this CPU's previous owner */
	}
	/* Already there: drop it now. The dispatcher does for an async call that races us. */
	if (!ipcc_chan_tx_busy(&c.hw))
		call_discard(c.pc, CALL_ABANDONED);
	return 0;
}

IPCC_EXPORT int ipcc_call_discarded(struct ipcc_cpu *cpu, unsigned peer, unsigned ch,
				    uint64_t *ret_count)
{
	struct chan_ref c;
	int r = chan_get(cpu, peer, ch, &c);
	if (r < 0)
		return r;
	if (!ret_count)
		return -EINVAL;
	/* Relaxed: a statistic (call_discard). */
	*ret_count = atomic_load_explicit(&c.pc->discarded, memory_order_relaxed);
	return 0;
}
