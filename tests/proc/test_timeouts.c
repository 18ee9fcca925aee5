/* SPDX-License-Identifier: MIT */
/*
 * Timeouts (proc.h, "Common rules"), stale half-duplex responses, and -EMSGSIZE.
 *
 * The test process is CPU 0; CPU 1 is a forked peer that does one thing per command byte, so
 * that the test decides exactly when a request is served or answered ("the peer replies
 * late"). Elapsed times are checked against generous bounds only (>= the timeout, well below
 * 2 s): the VM is shared, and timing is bench/'s business.
 */
#include "proc-test.h"

#define BUFFER	128u
#define CH_CALL 1u
#define CH_MSG	3u
#define BIG	100u /* a simplex message longer than the small buffers below */

static void teardown(void)
{
	pt_cleanup();
}

TestSuite(timeouts, .fini = teardown, .timeout = 40);

static void big_fill(uint8_t *b)
{
	for (unsigned i = 0; i < BIG; i++)
		b[i] = (uint8_t)(i * 7 + 3);
}

/*
 * CPU 1: 's' serve a request and answer with its letter, 'S' serve with a too small buffer
 * (answers 'E' for -EMSGSIZE), 'r' reply "resp-<letter>", 'R' reply a full-buffer response,
 * 'm' send a BIG-byte simplex message, 'x' leave.
 */
static int peer_script(void *p)
{
	struct pt_script *a = p;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu = peer_attach(a->name, 1, a->mode, 0, &sys);
	char req[BUFFER] = "";
	uint8_t big[BUFFER];
	int r;

	pt_post(a->ack, 'a');
	for (;;) {
		int c = pt_await(a->cmd, 20 * PT_SEC);
		PEER_CHECK(c >= 0, "no command");
		switch (c) {
		case 's':
			r = ipcc_serve(cpu, 0, CH_CALL, req, sizeof(req), PT_LONG);
			PEER_CHECK(r == 6 && !strncmp(req, "req-", 4), "serve: %d %s", r,
				   r < 0 ? strerror(-r) : req);
			pt_post(a->ack, req[4]);
			break;
		case 'S':
			r = ipcc_serve(cpu, 0, CH_CALL, req, 4, PT_LONG);
			pt_post(a->ack, r == -EMSGSIZE ? 'E' : '!');
			break;
		case 'r': {
			char resp[16];
			int n = snprintf(resp, sizeof(resp), "resp-%c", req[4]);
			r = ipcc_reply(cpu, 0, CH_CALL, resp, (size_t)n + 1);
			PEER_CHECK(r == 0, "reply: %s", strerror(-r));
			pt_post(a->ack, 'k');
			break;
		}
		case 'R':
			memset(big, 'R', sizeof(big));
			r = ipcc_reply(cpu, 0, CH_CALL, big, sizeof(big));
			PEER_CHECK(r == 0, "reply: %s", strerror(-r));
			pt_post(a->ack, 'k');
			break;
		case 'm':
			big_fill(big);
			r = ipcc_send(cpu, 0, CH_MSG, big, BIG, PT_LONG);
			PEER_CHECK(r == 0, "send: %s", strerror(-r));
			pt_post(a->ack, 'k');
			break;
		case 'x':
			ipcc_cpu_detach(cpu);
			ipcc_system_close(sys);
			return 0;
		default:
			PEER_CHECK(false, "bad command %c", c);
		}
	}
}

static void start(struct pt_pair *f, enum ipcc_wait_mode mode)
{
	pt_pair_start(f, 4, BUFFER, mode, peer_script, 30);
}

/* Run `expr`, expect `want`, return the elapsed nanoseconds. */
#define TIMED(want, expr)                                                          \
	({                                                                         \
		int64_t t0_ = pt_now_ns();                                         \
		int r_ = (expr);                                                   \
		int64_t dt_ = pt_now_ns() - t0_;                                   \
		cr_assert_eq(r_, (want), "%s: %d (%s)", #expr, r_, strerror(-r_)); \
		dt_;                                                               \
	})

static void expect_50ms(const char *what, enum ipcc_wait_mode mode, int64_t dt)
{
	fprintf(stderr, "timeouts: %-8s %-34s 50 ms -> %.3f ms\n", pt_mode_name(mode), what,
		(double)dt / PT_MS);
	cr_assert_geq(dt, 50 * PT_MS, "%s returned -ETIMEDOUT early: %lld ns", what, (long long)dt);
	cr_assert_lt(dt, 2 * PT_SEC, "%s: -ETIMEDOUT only after %lld ns", what, (long long)dt);
}

static void expect_at_once(const char *what, int64_t dt)
{
	cr_assert_lt(dt, PT_SEC / 2, "%s with timeout 0 took %lld ns", what, (long long)dt);
}

static void timeouts(enum ipcc_wait_mode mode)
{
	struct pt_pair f;
	uint8_t buf[BUFFER];
	const void *cb;
	void *tb;
	size_t n;
	const int64_t t50 = 50 * PT_MS;

	f.sys = pt_create(2, 4, BUFFER);
	f.cpu = pt_attach(f.sys, 0, mode, 0);
	/* No peer at all yet: waited for, not an error. */
	expect_50ms("ipcc_recv, peer not attached", mode,
		    TIMED(-ETIMEDOUT, ipcc_recv(f.cpu, 1, CH_MSG, buf, sizeof(buf), t50)));
	ipcc_cpu_detach(f.cpu);
	ipcc_system_close(f.sys);

	start(&f, mode);
	expect_50ms("ipcc_recv", mode,
		    TIMED(-ETIMEDOUT, ipcc_recv(f.cpu, 1, CH_MSG, buf, sizeof(buf), t50)));
	expect_50ms("ipcc_recv_claim", mode,
		    TIMED(-ETIMEDOUT, ipcc_recv_claim(f.cpu, 1, CH_MSG, t50, &cb, &n)));
	expect_50ms("ipcc_serve", mode,
		    TIMED(-ETIMEDOUT, ipcc_serve(f.cpu, 1, CH_CALL, buf, sizeof(buf), t50)));
	expect_50ms("ipcc_cpu_wait", mode, TIMED(-ETIMEDOUT, ipcc_cpu_wait(f.cpu, t50)));
	expect_at_once("ipcc_recv", TIMED(-EAGAIN, ipcc_recv(f.cpu, 1, CH_MSG, buf, 8, 0)));
	expect_at_once("ipcc_recv_claim",
		       TIMED(-EAGAIN, ipcc_recv_claim(f.cpu, 1, CH_MSG, 0, &cb, &n)));
	expect_at_once("ipcc_serve", TIMED(-EAGAIN, ipcc_serve(f.cpu, 1, CH_CALL, buf, 8, 0)));
	expect_at_once("ipcc_cpu_wait", TIMED(-EAGAIN, ipcc_cpu_wait(f.cpu, 0)));

	/* A full channel: the peer never receives on CH_MSG. */
	cr_assert_eq(ipcc_send(f.cpu, 1, CH_MSG, "full", 5, 0), 0);
	expect_50ms("ipcc_send, channel occupied", mode,
		    TIMED(-ETIMEDOUT, ipcc_send(f.cpu, 1, CH_MSG, "more", 5, t50)));
	expect_50ms("ipcc_send_claim, channel occupied", mode,
		    TIMED(-ETIMEDOUT, ipcc_send_claim(f.cpu, 1, CH_MSG, t50, &tb, &n)));
	expect_at_once("ipcc_send", TIMED(-EAGAIN, ipcc_send(f.cpu, 1, CH_MSG, "more", 5, 0)));
	expect_at_once("ipcc_send_claim",
		       TIMED(-EAGAIN, ipcc_send_claim(f.cpu, 1, CH_MSG, 0, &tb, &n)));

	/* A call nobody serves. */
	expect_50ms(
		"ipcc_call, not served", mode,
		TIMED(-ETIMEDOUT, ipcc_call(f.cpu, 1, CH_CALL, "req-A", 6, buf, sizeof(buf), t50)));
	pt_pair_stop(&f);
}

Test(timeouts, honoured_spin)
{
	timeouts(IPCC_WAIT_SPIN);
}

Test(timeouts, honoured_futex)
{
	timeouts(IPCC_WAIT_FUTEX);
}

Test(timeouts, honoured_adaptive)
{
	timeouts(IPCC_WAIT_ADAPTIVE);
}

/*
 * proc.h: "With timeout 0 the request is sent if the channel is free and -EAGAIN returned
 * unless the response is already there; the response then stays pending like that of a
 * timed-out call ... a new call with timeout 0 returns -EBUSY while the peer has not answered."
 */
Test(timeouts, call_with_timeout_zero)
{
	struct pt_pair f;
	char resp[BUFFER];

	start(&f, IPCC_WAIT_FUTEX);
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-A", 6, resp, sizeof(resp), 0), -EAGAIN);
	cr_assert_eq(ipcc_chan_status(f.cpu, 1, CH_CALL, IPCC_DIR_TX), 1, "A is out");
	/* A's response is pending and not there: nothing new goes out. */
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-B", 6, resp, sizeof(resp), 0), -EBUSY);
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-B", 6, resp, sizeof(resp), 0), -EBUSY);
	cr_assert_eq(pt_script_cmd(&f.a, 's'), 'A', "the peer got another request than A");
	cr_assert_eq(pt_script_cmd(&f.a, 'r'), 'k');
	/* A's response is there now: it is dropped and C goes out. */
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-C", 6, resp, sizeof(resp), 0), -EAGAIN);
	cr_assert_eq(pt_script_cmd(&f.a, 's'), 'C', "B went out although refused, or C did not");
	cr_assert_eq(pt_script_cmd(&f.a, 'r'), 'k');
	/* A blocking call drops C's answer and returns its own. */
	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'r');
	memset(resp, 0, sizeof(resp));
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-D", 6, resp, sizeof(resp), PT_LONG), 7);
	cr_assert_str_eq(resp, "resp-D");
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'D');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
	pt_pair_stop(&f);
}

Test(timeouts, late_response_of_a_timed_out_call_is_discarded)
{
	struct pt_pair f;
	char resp[BUFFER];

	start(&f, IPCC_WAIT_ADAPTIVE);
	int64_t t0 = pt_now_ns();
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-A", 6, resp, sizeof(resp), 50 * PT_MS),
		     -ETIMEDOUT);
	cr_assert_geq(pt_now_ns() - t0, 50 * PT_MS);
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-B", 6, resp, sizeof(resp), 0), -EBUSY);
	/* The peer answers A late. */
	cr_assert_eq(pt_script_cmd(&f.a, 's'), 'A');
	cr_assert_eq(pt_script_cmd(&f.a, 'r'), 'k');
	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'r');
	memset(resp, 0, sizeof(resp));
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-C", 6, resp, sizeof(resp), PT_LONG), 7);
	cr_assert_str_eq(resp, "resp-C", "got %s", resp);
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'C');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');

	/*
	 * Again, but the late answer arrives while the next call already waits for it: that
	 * call settles it (waits, drops it), then makes its own request.
	 */
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-E", 6, resp, sizeof(resp), 20 * PT_MS),
		     -ETIMEDOUT);
	for (const char *c = "srsr"; *c; c++)
		pt_post(f.a.cmd, *c);
	memset(resp, 0, sizeof(resp));
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-F", 6, resp, sizeof(resp), PT_LONG), 7);
	cr_assert_str_eq(resp, "resp-F", "got %s", resp);
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'E');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'F');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
	pt_pair_stop(&f);
}

Test(timeouts, emsgsize_truncates_nothing)
{
	struct pt_pair f;
	uint8_t buf[BUFFER + 1] = { 0 }, want[BIG];
	char resp[BUFFER];

	start(&f, IPCC_WAIT_FUTEX);
	/* Larger than the channel's buffer: refused before anything moves. */
	cr_assert_eq(ipcc_send(f.cpu, 1, CH_MSG, buf, BUFFER + 1, 0), -EMSGSIZE);
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, buf, BUFFER + 1, resp, sizeof(resp), 0),
		     -EMSGSIZE);
	cr_assert_eq(ipcc_reply(f.cpu, 1, CH_CALL, buf, BUFFER + 1), -EMSGSIZE);
	cr_assert_eq(ipcc_chan_status(f.cpu, 1, CH_MSG, IPCC_DIR_TX), 0);
	cr_assert_eq(ipcc_chan_status(f.cpu, 1, CH_CALL, IPCC_DIR_TX), 0);
	/* And a reply with no request to answer. */
	cr_assert_eq(ipcc_reply(f.cpu, 1, CH_CALL, "x", 1), -ENOMSG);
	cr_assert_eq(ipcc_send(f.cpu, 1, CH_MSG, buf, BUFFER, 0), 0, "exactly the buffer fits");

	/* A receive buffer too small: the message stays for a bigger one. */
	cr_assert_eq(pt_script_cmd(&f.a, 'm'), 'k');
	cr_assert_eq(ipcc_recv(f.cpu, 1, CH_MSG, buf, BIG - 1, PT_LONG), -EMSGSIZE);
	cr_assert_eq(ipcc_recv(f.cpu, 1, CH_MSG, buf, 1, 0), -EMSGSIZE);
	cr_assert_eq(ipcc_chan_status(f.cpu, 1, CH_MSG, IPCC_DIR_RX), 1, "still there");
	cr_assert_eq(ipcc_recv(f.cpu, 1, CH_MSG, buf, BIG, 0), BIG);
	big_fill(want);
	cr_assert_eq(memcmp(buf, want, BIG), 0);
	cr_assert_eq(ipcc_chan_status(f.cpu, 1, CH_MSG, IPCC_DIR_RX), 0);

	/* A request too big for the server's buffer stays for the next serve. */
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-G", 6, resp, sizeof(resp), 0), -EAGAIN);
	cr_assert_eq(pt_script_cmd(&f.a, 'S'), 'E');
	cr_assert_eq(pt_script_cmd(&f.a, 's'), 'G');
	cr_assert_eq(pt_script_cmd(&f.a, 'r'), 'k');
	/* A response too big for the caller's buffer is discarded with -EMSGSIZE ... */
	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'R');
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-H", 6, resp, 16, PT_LONG), -EMSGSIZE);
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'H');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
	/* ... and does not come back as the answer of the next call. */
	pt_post(f.a.cmd, 's');
	pt_post(f.a.cmd, 'r');
	memset(resp, 0, sizeof(resp));
	cr_assert_eq(ipcc_call(f.cpu, 1, CH_CALL, "req-I", 6, resp, sizeof(resp), PT_LONG), 7);
	cr_assert_str_eq(resp, "resp-I");
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'I');
	cr_assert_eq(pt_await(f.a.ack, PT_LONG), 'k');
	pt_pair_stop(&f);
}
