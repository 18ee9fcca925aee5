/* SPDX-License-Identifier: MIT */
/*
 * ipcc-demo: the two procedures of the STM32 IPCC between two processes, step by step, with the
 * register bits that carry them. For teaching: read the output next to the reference manual's
 * "IPCC" chapter.
 *
 * The parent creates the system and forks CPU0 and CPU1, which open it by name. Both CPUs work
 * the way firmware does on the real part (the ST HAL's callback style): handlers run from
 * ipcc_cpu_dispatch when a line is asserted. The two processes take turns through a token
 * passed over a pipe, and a process prints only while it holds the token, so the output is the
 * same on every run: each turn starts with the peer's last register change already made, and
 * the line it raised is already asserted.
 *
 * The parent removes the shm object whatever happens (a child's failure, SIGINT, SIGTERM) and
 * prints the one error message a failing child reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ipcc/ipcc.h>

#define CH_MSG	     0u /* channel 1 in the manual's 1-based names */
#define CH_CALL	     1u /* channel 2 */
#define BUFFER	     64u
#define COUNT_MAX    1000u
#define TURN_TIMEOUT 2000 /* ms: the peer's turn takes microseconds */

struct demo {
	const char *name;
	unsigned messages, calls;
	int tok_in, tok_out, err_fd; /* this CPU's ends */
	unsigned id;
	struct ipcc_system *sys;
	struct ipcc_cpu *cpu;
	struct ipcc_regs *regs;
	unsigned sent, received, called, answered;
	bool step; /* --step: wait for Enter before each register action */
};

/* ---- in a CPU process ------------------------------------------------------------------- */

static struct demo *g_demo; /* for die() */

/* Report one message to the parent and stop this CPU. */
static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n = snprintf(msg, sizeof(msg), "CPU%u: ", g_demo->id);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (write(g_demo->err_fd, msg, strlen(msg)) < 0)
		fprintf(stderr, "ipcc-demo: %s\n", msg);
	_exit(1);
}

static void check(int r, const char *what)
{
	if (r < 0)
		die("%s: %s", what, ipcc_strerror(r));
}

/* Wait for the token: the other CPU has done its part and printed it. */
static void take_turn(struct demo *d)
{
	struct pollfd pfd = { .fd = d->tok_in, .events = POLLIN };
	char c;
	int r;
	do
		r = poll(&pfd, 1, d->step ? -1 : TURN_TIMEOUT); /* --step: the class's pace */
	while (r < 0 && errno == EINTR);
	if (r == 0)
		die("CPU%u did not hand over within %d ms", !d->id, TURN_TIMEOUT);
	if (r < 0 || read(d->tok_in, &c, 1) != 1)
		die("CPU%u is gone", !d->id);
}

static void pass_turn(struct demo *d)
{
	fflush(stdout);
	if (write(d->tok_out, "t", 1) != 1)
		die("cannot hand over to CPU%u: %s", !d->id, strerror(errno));
}

/* Register access through the register-level API, as a debugger would show it. */
static uint32_t reg(struct demo *d, uint32_t offset)
{
	uint32_t v = 0;
	check(ipcc_regs_read(d->regs, offset, &v), "ipcc_regs_read");
	return v;
}

/* This CPU's bank and status register; CPU0 is processor 1 on the link, CPU1 processor 2. */
static uint32_t my_mr(struct demo *d)
{
	return reg(d, d->id ? IPCC_C2MR : IPCC_C1MR);
}

/* The flag of channel ch from CPU0 to CPU1: 1 = occupied. */
static unsigned flag(struct demo *d, unsigned ch)
{
	return (reg(d, IPCC_C1TOC2SR) >> ch) & 1u;
}

static const char *level(struct demo *d, unsigned cpu, enum ipcc_irq line)
{
	return ipcc_regs_irq(d->regs, cpu + 1, line) ? "asserted" : "low";
}

static void say(struct demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct demo *d, const char *fmt, ...)
{
	va_list ap;
	printf("CPU%u: ", d->id);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/*
 * --step: say what comes next and wait for Enter (read byte by byte from the shared stdin, so
 * that the other CPU's process finds the lines it needs; at the end of input, go on).
 */
static void __attribute__((format(printf, 2, 3))) step(struct demo *d, const char *fmt, ...)
{
	va_list ap;
	char c;

	if (!d->step)
		return;
	printf("CPU%u: [Enter] next: ", d->id);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
		;
	if (!isatty(STDIN_FILENO))
		putchar('\n'); /* a terminal echoed the Enter */
}

/* Run the handlers of what the peer just did (its line is asserted already). */
static void interrupt(struct demo *d)
{
	int r = ipcc_cpu_wait(d->cpu, (int64_t)TURN_TIMEOUT * 1000000);
	if (r == -ETIMEDOUT)
		die("no interrupt although CPU%u said it raised one", !d->id);
	check(r, "ipcc_cpu_wait");
	step(d, "take the interrupt (the handler masks the channel, then reads it)");
	check(ipcc_cpu_dispatch(d->cpu), "ipcc_cpu_dispatch");
}

/* -- CPU0: simplex sender -- */

static void send_next(struct demo *d);

static void on_tx_free(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *arg)
{
	struct demo *d = arg;
	say(d, "TXF interrupt: the dispatcher masked C1MR.CH1FM=%u; C1TOC2SR.CH1F=%u (free)",
	    (my_mr(d) >> (16 + CH_MSG)) & 1, flag(d, CH_MSG));
	send_next(d);
}

static void send_next(struct demo *d)
{
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "message %u", d->sent + 1);

	say(d, "C1TOC2SR.CH1F=%u (free): write \"%s\" (%d bytes) into channel 1's buffer",
	    flag(d, CH_MSG), msg, n + 1);
	step(d, "set C1SCR.CH1S (channel 1 = API channel %u occupied)", CH_MSG);
	check(ipcc_send(d->cpu, 1, CH_MSG, msg, (size_t)n + 1, 0), "ipcc_send");
	d->sent++;
	say(d, "set C1SCR.CH1S -> C1TOC2SR.CH1F=%u (occupied) -> RXO of CPU1 %s", flag(d, CH_MSG),
	    level(d, 1, IPCC_IRQ_RXO));
}

/* After a send: if more is to come, the channel is still occupied: flow control. */
static void want_next(struct demo *d)
{
	if (d->sent == d->messages)
		return;
	step(d, "unmask C1MR.CH1FM (TX free interrupt of channel 1)");
	check(ipcc_send_async(d->cpu, 1, CH_MSG, on_tx_free, d), "ipcc_send_async");
	say(d,
	    "message %u: C1TOC2SR.CH1F=%u (occupied): unmask C1MR.CH1FM=%u and wait for TX "
	    "free (TXF of CPU0 %s)",
	    d->sent + 1, flag(d, CH_MSG), (my_mr(d) >> (16 + CH_MSG)) & 1,
	    level(d, 0, IPCC_IRQ_TXF));
}

/* -- CPU0: half-duplex client -- */

static void on_response(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
			size_t len, void *arg)
{
	struct demo *d = arg;
	char want[32];
	snprintf(want, sizeof(want), "pong %u", d->called);
	say(d,
	    "TXF interrupt (response ready): the dispatcher masked C1MR.CH2FM=%u; read "
	    "response \"%.*s\" from channel 2's buffer",
	    (my_mr(d) >> (16 + CH_CALL)) & 1, (int)len, (const char *)data);
	if (len != strlen(want) + 1 || memcmp(data, want, len))
		die("response %u is \"%.*s\", not \"%s\"", d->called, (int)len, (const char *)data,
		    want);
	d->answered++;
}

static void call_next(struct demo *d)
{
	char req[32];
	int n = snprintf(req, sizeof(req), "ping %u", d->called + 1);

	say(d, "C1TOC2SR.CH2F=%u (free): write request \"%s\" into channel 2's buffer",
	    flag(d, CH_CALL), req);
	step(d, "set C1SCR.CH2S and unmask C1MR.CH2FM (channel 2 = API channel %u)", CH_CALL);
	check(ipcc_call_async(d->cpu, 1, CH_CALL, req, (size_t)n + 1, on_response, d),
	      "ipcc_call_async");
	d->called++;
	say(d,
	    "set C1SCR.CH2S -> C1TOC2SR.CH2F=%u (occupied) -> RXO of CPU1 %s; response "
	    "pending",
	    flag(d, CH_CALL), level(d, 1, IPCC_IRQ_RXO));
	say(d, "unmask C1MR.CH2FM=%u: TX free of channel 2 will mean \"response ready\"",
	    (my_mr(d) >> (16 + CH_CALL)) & 1);
}

static void cpu0(struct demo *d)
{
	take_turn(d); /* CPU1 listens first */
	printf("\n== Simplex: CPU0 sends %u message%s to CPU1 on channel 1 ==\n", d->messages,
	       d->messages == 1 ? "" : "s");
	for (unsigned k = 1; k <= d->messages; k++) {
		if (k == 1)
			send_next(d);
		else
			interrupt(d); /* TX free: on_tx_free sends message k */
		if (d->sent != k)
			die("message %u was not sent", k);
		want_next(d);
		pass_turn(d);
		take_turn(d);
	}
	printf("\n== Half-duplex: CPU0 calls CPU1 %u time%s on channel 2 ==\n", d->calls,
	       d->calls == 1 ? "" : "s");
	for (unsigned j = 1; j <= d->calls + 1; j++) {
		if (j > 1) {
			interrupt(d); /* response ready: on_response */
			if (d->answered != j - 1)
				die("no response to call %u", j - 1);
		}
		if (j <= d->calls) {
			call_next(d);
			pass_turn(d);
			take_turn(d);
		}
	}
	printf("\n== Done: %u message%s and %u call%s, nothing lost ==\n", d->messages,
	       d->messages == 1 ? "" : "s", d->calls, d->calls == 1 ? "" : "s");
	pass_turn(d); /* CPU1 may leave */
}

/* -- CPU1: simplex receiver and half-duplex server -- */

static void on_message(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, const void *data,
		       size_t len, void *arg)
{
	struct demo *d = arg;
	char want[32];
	snprintf(want, sizeof(want), "message %u", d->received + 1);
	say(d,
	    "RXO interrupt: the dispatcher masked C2MR.CH1OM=%u; read \"%.*s\" from channel "
	    "1's buffer",
	    (my_mr(d) >> CH_MSG) & 1, (int)len, (const char *)data);
	if (len != strlen(want) + 1 || memcmp(data, want, len))
		die("got \"%.*s\", expected \"%s\"", (int)len, (const char *)data, want);
	d->received++;
}

static int on_request(struct ipcc_cpu *cpu, unsigned peer, unsigned ch, void *buf, size_t len,
		      size_t cap, void *arg)
{
	struct demo *d = arg;
	char want[32];
	snprintf(want, sizeof(want), "ping %u", d->answered + 1);
	say(d, "RXO interrupt: the dispatcher masked C2MR.CH2OM=%u; read request \"%.*s\"",
	    (my_mr(d) >> CH_CALL) & 1, (int)len, (const char *)buf);
	if (len != strlen(want) + 1 || memcmp(buf, want, len))
		die("got request \"%.*s\", expected \"%s\"", (int)len, (const char *)buf, want);
	int n = snprintf(buf, cap, "pong %u", ++d->answered);
	say(d,
	    "write response \"%s\" into the same buffer; C1TOC2SR.CH2F=%u still (not cleared "
	    "yet)",
	    (char *)buf, flag(d, CH_CALL));
	return n + 1;
}

static void cpu1(struct demo *d)
{
	step(d, "set C2CR.RXOIE and unmask C2MR.CH1OM, C2MR.CH2OM");
	check(ipcc_recv_async(d->cpu, 0, CH_MSG, on_message, d), "ipcc_recv_async");
	check(ipcc_serve_async(d->cpu, 0, CH_CALL, on_request, d), "ipcc_serve_async");
	uint32_t cr = reg(d, IPCC_C2CR), mr = my_mr(d);
	say(d,
	    "activate RX notifications of channels 1 and 2: C2CR.RXOIE=%u, C2MR.CH1OM=%u, "
	    "C2MR.CH2OM=%u (unmasked)",
	    cr & IPCC_CR_RXOIE ? 1 : 0, (mr >> CH_MSG) & 1, (mr >> CH_CALL) & 1);
	pass_turn(d);

	for (unsigned k = 1; k <= d->messages; k++) {
		take_turn(d);
		interrupt(d); /* RXO: on_message */
		if (d->received != k)
			die("message %u did not arrive", k);
		say(d,
		    "set C2SCR.CH1C -> C1TOC2SR.CH1F=%u (free), unmask C2MR.CH1OM=%u -> TXF of "
		    "CPU0 %s",
		    flag(d, CH_MSG), (my_mr(d) >> CH_MSG) & 1,
		    ipcc_regs_irq(d->regs, 1, IPCC_IRQ_TXF)
			    ? "asserted"
			    : "low (C1MR.CH1FM=1: CPU0 has nothing more to send)");
		pass_turn(d);
	}
	for (unsigned j = 1; j <= d->calls; j++) {
		take_turn(d);
		interrupt(d); /* RXO: on_request */
		if (d->answered != j)
			die("request %u did not arrive", j);
		say(d,
		    "set C2SCR.CH2C -> C1TOC2SR.CH2F=%u (free: response ready), unmask "
		    "C2MR.CH2OM=%u -> TXF of CPU0 %s",
		    flag(d, CH_CALL), (my_mr(d) >> CH_CALL) & 1, level(d, 0, IPCC_IRQ_TXF));
		pass_turn(d);
	}
	take_turn(d); /* CPU0 is done */
}

static int cpu_main(struct demo *d)
{
	struct ipcc_cpu_options opt;
	int r;

	g_demo = d;
	/* Stay with the parent: it owns the clean-up. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!d->step)
		alarm(10); /* --step goes at the class's pace */
	for (int i = 0; (r = ipcc_system_open(d->name, &d->sys)) == -EAGAIN && i < 1000; i++)
		usleep(1000);
	check(r, "ipcc_system_open");
	ipcc_cpu_options_init(&opt);
	opt.wait = IPCC_WAIT_FUTEX; /* sleep while the other CPU holds the turn */
	check(ipcc_cpu_attach(d->sys, d->id, &opt, &d->cpu), "ipcc_cpu_attach");
	check(ipcc_regs_open(d->sys, 0, 1, &d->regs), "ipcc_regs_open");
	if (d->id == 0)
		cpu0(d);
	else
		cpu1(d);
	ipcc_regs_close(d->regs);
	ipcc_cpu_detach(d->cpu);
	ipcc_system_close(d->sys);
	fflush(stdout);
	return 0;
}

/* ---- the parent ------------------------------------------------------------------------- */

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
	g_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ipcc-demo [--name NAME] [--messages N] [--calls N] [--step] [--keep]\n"
		"Run the IPCC simplex and half-duplex procedures between two processes and\n"
		"show each step with the register bits involved. Channels are named as in\n"
		"the reference manual, CH1..CH6, which are the API's channels 0..5.\n"
		"  --name NAME     shm object to create (default: /ipcc-demo-<pid>)\n"
		"  --step          wait for Enter before each register action, to follow it\n"
		"                  in 'ipcc watch NAME' in a second terminal\n"
		"  --keep          leave the object at the end, for 'ipcc info NAME'\n"
		"  --messages N    simplex messages, 1..%u (default 3)\n"
		"  --calls N       half-duplex calls, 1..%u (default 3)\n"
		"  --version       the versions of ipcc-demo and of its libipcc\n",
		COUNT_MAX, COUNT_MAX);
}

static int parse_count(const char *opt, const char *s, unsigned *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < 1 || v > COUNT_MAX) {
		fprintf(stderr, "ipcc-demo: %s: '%s' is not a number from 1 to %u\n", opt, s,
			COUNT_MAX);
		return -1;
	}
	*ret = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "messages", required_argument, NULL, 'm' },
		{ "calls", required_argument, NULL, 'c' },
		{ "step", no_argument, NULL, 's' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct demo d = { .messages = 3, .calls = 3 };
	char defname[64];
	bool keep = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			d.name = optarg;
			break;
		case 'm':
			if (parse_count("--messages", optarg, &d.messages) < 0)
				return 2;
			break;
		case 'c':
			if (parse_count("--calls", optarg, &d.calls) < 0)
				return 2;
			break;
		case 's':
			d.step = true;
			break;
		case 'k':
			keep = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ipcc-demo %s (libipcc %s)\n", IPCC_VERSION_STRING, ipcc_version());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ipcc-demo: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!d.name) {
		snprintf(defname, sizeof(defname), "/ipcc-demo-%d", (int)getpid());
		d.name = defname;
	}

	struct ipcc_config cfg;
	struct ipcc_system *sys;
	ipcc_config_init(&cfg);
	cfg.buffer_size = BUFFER;
	int r = ipcc_system_create(d.name, &cfg, &sys);
	if (r < 0) {
		fprintf(stderr, "ipcc-demo: cannot create %s: %s\n", d.name, ipcc_strerror(r));
		return 1;
	}
	printf("ipcc-demo: system %s: 2 CPUs, %u channels per direction, %u-byte buffers\n", d.name,
	       ipcc_system_channels(sys), ipcc_system_buffer_size(sys));
	printf("ipcc-demo: CPU0 is processor 1 (C1* registers), CPU1 is processor 2 (C2*)\n");
	printf("ipcc-demo: channels are named as in the reference manual: its CH1..CH%u are the "
	       "API's channels 0..%u (channel 1 below is API channel %u, channel 2 API channel "
	       "%u)\n",
	       ipcc_system_channels(sys), ipcc_system_channels(sys) - 1, CH_MSG, CH_CALL);
	if (d.step)
		printf("ipcc-demo: --step: press Enter before each register action; follow it "
		       "with 'ipcc watch %s' in another terminal\n",
		       d.name);
	putchar('\n');
	fflush(stdout);

	/* From here on every way out removes the object. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	int t01[2], t10[2], err[2];
	pid_t pid[2] = { -1, -1 };
	char msg[256] = "";
	if (pipe2(t01, O_CLOEXEC) < 0 || pipe2(t10, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		snprintf(msg, sizeof(msg), "pipe: %s", strerror(errno));
		goto out;
	}
	for (unsigned id = 0; id < 2; id++) {
		pid[id] = fork();
		if (pid[id] < 0) {
			snprintf(msg, sizeof(msg), "fork: %s", strerror(errno));
			goto out;
		}
		if (pid[id] == 0) {
			/* Only this CPU's ends stay open, so that a dead peer reads as EOF. */
			d.id = id;
			d.tok_in = id ? t01[0] : t10[0];
			d.tok_out = id ? t10[1] : t01[1];
			d.err_fd = err[1];
			close(id ? t01[1] : t10[1]);
			close(id ? t10[0] : t01[0]);
			close(err[0]);
			_exit(cpu_main(&d));
		}
	}
	close(t01[0]);
	close(t01[1]);
	close(t10[0]);
	close(t10[1]);
	close(err[1]);

	/* Wait for both, with a deadline; the first failure stops the other CPU. */
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	unsigned running = 2;
	while (running) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p > 0) {
			unsigned id = p == pid[1];
			pid[id] = -1;
			running--;
			if ((!WIFEXITED(st) || WEXITSTATUS(st)) && !msg[0]) {
				ssize_t n = read(err[0], msg, sizeof(msg) - 1);
				if (n > 0)
					msg[n] = 0;
				else if (WIFSIGNALED(st))
					snprintf(msg, sizeof(msg), "CPU%u killed by signal %d", id,
						 WTERMSIG(st));
				else
					snprintf(msg, sizeof(msg), "CPU%u failed (status %d)", id,
						 WEXITSTATUS(st));
			}
			if (msg[0] && pid[!id] > 0)
				kill(pid[!id], SIGKILL);
			continue;
		}
		if (g_signal && !msg[0])
			snprintf(msg, sizeof(msg), "interrupted by signal %d", (int)g_signal);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!d.step && now.tv_sec - start.tv_sec > 10 && !msg[0])
			snprintf(msg, sizeof(msg), "the CPUs did not finish within 10 s");
		if (msg[0])
			for (unsigned id = 0; id < 2; id++)
				if (pid[id] > 0)
					kill(pid[id], SIGKILL);
		usleep(1000);
	}
out:
	for (unsigned id = 0; id < 2; id++)
		if (pid[id] > 0) {
			kill(pid[id], SIGKILL);
			waitpid(pid[id], NULL, 0);
		}
	ipcc_system_close(sys);
	r = keep ? 0 : ipcc_system_unlink(d.name);
	if (keep)
		printf("ipcc-demo: kept %s: 'ipcc info %s' shows its registers, 'ipcc rm %s' "
		       "removes it\n",
		       d.name, d.name, d.name);
	if (r < 0 && !msg[0])
		snprintf(msg, sizeof(msg), "cannot remove %s: %s", d.name, ipcc_strerror(r));
	fflush(stdout);
	if (msg[0]) {
		fprintf(stderr, "ipcc-demo: %s\n", msg);
		return 1;
	}
	return 0;
}
