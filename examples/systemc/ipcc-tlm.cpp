// SPDX-License-Identifier: MIT
/*
 * A SystemC TLM-2.0 model of one link's IPCC over libipcc, and two "CPUs" that run ST's
 * simplex and half-duplex procedures on it at register level, in simulated time.
 *
 *   IpccTarget  a TLM-2.0 target, a simple_target_socket(_optional) per CPU bus (the bus of a
 *               CPU this process does not simulate stays unbound): b_transport maps 32-bit
 *               reads and writes at the RM offsets onto ipcc_regs_read / ipcc_regs_write and
 *               annotates an access latency. Its four sc_out<bool> (C1_RXO, C1_TXF, C2_RXO,
 *               C2_TXF) follow the link's line mask: ipcc_regs_on_lines reports the changes
 *               made by writes of this process, a helper std::thread blocked in
 *               ipcc_regs_wait_write (every write, by any process) the others; both only post an
 *               async_request_update, and an SC_METHOD then drives the signals from
 *               ipcc_regs_lines (the truth is the register state, the posts are hints).
 *   Cpu         an initiator: a main SC_THREAD running the procedures and an interrupt
 *               SC_THREAD that, like the HAL's IRQ handlers, masks each pending unmasked
 *               channel and marks it for the main thread (their CxMR read-modify-writes hold
 *               an sc_mutex, as firmware disables the interrupt around one). Both consume each
 *               access's delay at once (no temporal decoupling), so a line read after an
 *               access is current. CPU1 first checks what the bus refuses.
 *
 * Message data goes through the channel buffers in the shared object (ipcc_chan_buffer and
 * the length word, ipcc_chan_set_len / ipcc_chan_len), as a core reaches shared SRAM over a
 * DMI pointer; only the IPCC's registers go through TLM. That needs the modelled CPUs
 * attached (ipcc_cpu_attach), before the simulation starts, so their bank reset at attach
 * happens before any firmware runs.
 *
 * Traffic, N messages each, every payload and length checked:
 *   channel 0  simplex      CPU1 -> CPU2
 *   channel 1  half-duplex  CPU1 calls, CPU2 serves (the response in the same buffer)
 *   channel 2  simplex      CPU2 -> CPU1
 *
 * Modes: full (default): both CPUs simulated, on one system. --mixed: only CPU1 is simulated;
 * the model forks a real process that attaches CPU2 and serves the same traffic with
 * ipcc_recv, ipcc_serve / ipcc_reply and ipcc_send; its writes reach the model through the
 * helper thread. --split: the forked process is a second instance of the model, simulating
 * CPU2 on its own handle of the system: two SystemC kernels coupled only through the shared
 * IPCC, each with its own simulated time (nothing synchronises the two clocks; each waits
 * for the other in zero simulated time). The system is anonymous (a memfd): nothing is left
 * in /dev/shm.
 *
 * Prints one "checked" line per CPU and a summary; exit status 0 when all traffic checked.
 */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <ipcc/ipcc.h>

using namespace sc_core;

namespace
{

constexpr unsigned CH_SIMPLEX_12 = 0, CH_CALL = 1, CH_SIMPLEX_21 = 2, CHANNELS = 3;
constexpr int64_t STOP_CHECK_NS = 100 * 1000 * 1000; /* how soon watch() sees stop_ */
constexpr int64_t REAL_TIMEOUT_NS = 10ll * 1000 * 1000 * 1000;
const char *const LINE_NAMES[4] = { "C1_RXO", "C1_TXF", "C2_RXO", "C2_TXF" };

std::atomic<int> failures{ 0 }; /* also the watcher thread's */

void fail(const char *what, int err)
{
	std::fprintf(stderr, "ipcc-tlm: %s: %s\n", what, err ? std::strerror(-err) : "mismatch");
	failures++;
}

/* The payloads both sides build and check: the model's CPUs and the real process. */
std::string message(unsigned ch, unsigned i)
{
	return "ch" + std::to_string(ch) + " #" + std::to_string(i);
}
std::string response(unsigned i)
{
	return "ack #" + std::to_string(i);
}

/* Wakes the SystemC kernel from any thread; async_attach_suspending keeps the kernel waiting
 * for such posts instead of ending the simulation when no event is left (the mixed and split
 * modes wait for another process in zero simulated time). The CPUs end it with sc_stop. */
class LineBridge : public sc_prim_channel
{
      public:
	explicit LineBridge(const char *name) : sc_prim_channel(name)
	{
		async_attach_suspending();
	}
	void post()
	{
		async_request_update();
	}
	const sc_event &changed() const
	{
		return ev_;
	}

      private:
	void update() override
	{
		ev_.notify(SC_ZERO_TIME);
	}
	sc_event ev_;
};

class IpccTarget : public sc_module
{
      public:
	/* Processor 1's and 2's bus; the bus of a CPU simulated elsewhere (or a real process)
	 * stays unbound. */
	tlm_utils::simple_target_socket_optional<IpccTarget> bus1, bus2;
	sc_vector<sc_out<bool>> line; /* bit i of the line mask */
	unsigned rises[4] = {};

	IpccTarget(sc_module_name name, ipcc_regs *regs, sc_time latency)
	    : sc_module(name), bus1("bus1"), bus2("bus2"), line("line", 4), bridge_("bridge"),
	      regs_(regs), latency_(latency)
	{
		bus1.register_b_transport(this, &IpccTarget::b_transport);
		bus2.register_b_transport(this, &IpccTarget::b_transport);
		SC_HAS_PROCESS(IpccTarget);
		SC_METHOD(drive);
		sensitive << bridge_.changed();
		int r = ipcc_regs_on_lines(regs_, on_lines, this);
		if (r)
			fail("ipcc_regs_on_lines", r);
		r = ipcc_regs_watch(regs_, true);
		if (r)
			fail("ipcc_regs_watch", r);
		watcher_ = std::thread(&IpccTarget::watch, this);
	}

	~IpccTarget() override
	{
		/* Relaxed: it only ends the loop, within one timeout; it orders nothing. */
		stop_.store(true, std::memory_order_relaxed);
		watcher_.join();
		ipcc_regs_on_lines(regs_, nullptr, nullptr);
	}

      private:
	/* The bus: 32-bit words at 4-byte aligned offsets below IPCC_REGS_SIZE, nothing else. */
	void b_transport(tlm::tlm_generic_payload &t, sc_time &delay)
	{
		uint64_t addr = t.get_address();
		unsigned len = t.get_data_length();
		if (t.get_byte_enable_ptr()) {
			t.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
			return;
		}
		if (len > 4 || t.get_streaming_width() != len) {
			t.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
			return;
		}
		if (len != 4 || addr % 4 || addr >= IPCC_REGS_SIZE) {
			t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
			return;
		}
		uint32_t v = 0;
		int r = 0;
		if (t.is_read()) {
			r = ipcc_regs_read(regs_, (uint32_t)addr, &v);
			std::memcpy(t.get_data_ptr(), &v, 4); /* host order, as the payload's */
		} else if (t.is_write()) {
			std::memcpy(&v, t.get_data_ptr(), 4);
			r = ipcc_regs_write(regs_, (uint32_t)addr, v);
		}
		delay += latency_;
		t.set_response_status(r ? tlm::TLM_GENERIC_ERROR_RESPONSE : tlm::TLM_OK_RESPONSE);
	}

	/* In the writing thread of this process (an SC_THREAD here): just post. */
	static void on_lines(ipcc_regs *, uint32_t, uint32_t, void *arg)
	{
		static_cast<IpccTarget *>(arg)->bridge_.post();
	}

	/*
	 * Writes of other processes: the handle watches the link (ipcc_regs_watch), so every
	 * register write of any process bumps the link's write sequence, and this thread posts
	 * once per bump it sees (ipcc_regs_wait_write): drive() then shows the lines as they are.
	 * A change made and undone before the thread looks is a write all the same, so the
	 * signals never keep a stale level. The 100 ms bound only lets the destructor stop the
	 * thread; nothing depends on it.
	 */
	void watch()
	{
		uint32_t seq = 0;
		(void)ipcc_regs_wait_write(regs_, &seq, 0); /* the current sequence */
		bridge_.post();
		/* Relaxed: it only ends the loop, within one bound; it orders nothing. */
		while (!stop_.load(std::memory_order_relaxed)) {
			int r = ipcc_regs_wait_write(regs_, &seq, STOP_CHECK_NS);
			if (r == 0)
				bridge_.post();
			else if (r != -ETIMEDOUT) {
				fail("ipcc_regs_wait_write", r);
				return;
			}
		}
	}

	void drive()
	{
		uint32_t mask = 0;
		ipcc_regs_lines(regs_, &mask);
		for (unsigned i = 0; i < 4; i++) {
			bool hi = mask & (1u << i);
			if (hi && !line[i].read())
				rises[i]++;
			line[i].write(hi);
		}
	}

	LineBridge bridge_;
	ipcc_regs *regs_;
	sc_time latency_;
	std::atomic<bool> stop_{ false };
	std::thread watcher_;
};

/* A core on its bus: processor `proc` (1 or 2) of the link, attached as `cpu`. */
class Cpu : public sc_module
{
      public:
	tlm_utils::simple_initiator_socket<Cpu> bus;
	sc_in<bool> rxo, txf;
	unsigned sent = 0, calls = 0, received = 0;

	Cpu(sc_module_name name, unsigned proc, ipcc_cpu *cpu, unsigned peer, unsigned n)
	    : sc_module(name), bus("bus"), proc_(proc), cpu_(cpu), peer_(peer), n_(n)
	{
		uint32_t own = (proc - 1) * IPCC_BANK_STRIDE, other = (2 - proc) * IPCC_BANK_STRIDE;
		cr_ = IPCC_C1CR + own;
		mr_ = IPCC_C1MR + own;
		scr_ = IPCC_C1SCR + own;
		tx_sr_ = IPCC_C1TOC2SR + own;	/* CxTOCySR: our flags */
		rx_sr_ = IPCC_C1TOC2SR + other; /* CyTOCxSR: the peer's */
		SC_HAS_PROCESS(Cpu);
		SC_THREAD(irq);
		SC_THREAD(main);
	}

	static unsigned done;

      private:
	/* One transaction of `len` bytes (4 but in bus_checks), its delay consumed at once. */
	tlm::tlm_response_status transact(tlm::tlm_command cmd, uint64_t off, void *data,
					  unsigned len)
	{
		tlm::tlm_generic_payload t;
		sc_time delay = SC_ZERO_TIME;
		t.set_command(cmd);
		t.set_address(off);
		t.set_data_ptr(static_cast<unsigned char *>(data));
		t.set_data_length(len);
		t.set_streaming_width(len);
		t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
		bus->b_transport(t, delay);
		wait(delay);
		return t.get_response_status();
	}
	uint32_t access(tlm::tlm_command cmd, uint32_t off, uint32_t v)
	{
		if (transact(cmd, off, &v, 4) != tlm::TLM_OK_RESPONSE)
			fail("a register access failed", 0);
		return v;
	}
	/* What the bus refuses: a misaligned word, a halfword, two words, beyond the block. */
	void bus_checks()
	{
		uint32_t w[2] = {};
		if (transact(tlm::TLM_READ_COMMAND, IPCC_IPIDR + 2, w, 4) !=
			    tlm::TLM_ADDRESS_ERROR_RESPONSE ||
		    transact(tlm::TLM_READ_COMMAND, IPCC_IPIDR, w, 2) !=
			    tlm::TLM_ADDRESS_ERROR_RESPONSE ||
		    transact(tlm::TLM_READ_COMMAND, IPCC_IPIDR, w, 8) !=
			    tlm::TLM_BURST_ERROR_RESPONSE ||
		    transact(tlm::TLM_WRITE_COMMAND, IPCC_REGS_SIZE, w, 4) !=
			    tlm::TLM_ADDRESS_ERROR_RESPONSE ||
		    rd(IPCC_IPIDR) != IPCC_IPIDR_VALUE || rd(IPCC_SIDR) != IPCC_SIDR_VALUE)
			fail("bus checks", 0);
	}
	uint32_t rd(uint32_t off)
	{
		return access(tlm::TLM_READ_COMMAND, off, 0);
	}
	void wr(uint32_t off, uint32_t v)
	{
		access(tlm::TLM_WRITE_COMMAND, off, v);
	}
	/* CxMR is read-modify-written by both threads: each RMW holds mr_lock_, as firmware
	 * disables the interrupt around it (otherwise the handler's mask write, from a stale read,
	 * undoes an unmask of main()'s and the wait for it never ends). */
	void mask(uint32_t bits)
	{
		mr_lock_.lock();
		wr(mr_, rd(mr_) | bits);
		mr_lock_.unlock();
	}
	void unmask(uint32_t bits)
	{
		mr_lock_.lock();
		wr(mr_, rd(mr_) & ~bits);
		mr_lock_.unlock();
	}

	/* The HAL's IRQ handlers: mask each pending unmasked channel, hand it to main(). */
	void irq()
	{
		const uint32_t chans = (1u << CHANNELS) - 1;
		for (;;) {
			if (!rxo.read() && !txf.read())
				wait(rxo.posedge_event() | txf.posedge_event());
			mr_lock_.lock();
			uint32_t mr = rd(mr_);
			uint32_t rx = rd(rx_sr_) & ~mr & chans;
			uint32_t tx = ~rd(tx_sr_) & ~(mr >> 16) & chans;
			if (rx | tx) {
				wr(mr_, mr | rx | tx << 16);
				rx_ready_ |= rx;
				tx_free_ |= tx;
				ev_.notify();
			}
			mr_lock_.unlock();
		}
	}
	void wait_rx(unsigned ch)
	{
		while (!(rx_ready_ & 1u << ch))
			wait(ev_);
		rx_ready_ &= ~(1u << ch);
	}
	void wait_tx_free(unsigned ch)
	{
		while (!(tx_free_ & 1u << ch))
			wait(ev_);
		tx_free_ &= ~(1u << ch);
	}

	void put(unsigned ch, ipcc_dir dir, const std::string &s)
	{
		void *buf;
		size_t size;
		int r = ipcc_chan_buffer(cpu_, peer_, ch, dir, &buf, &size);
		if (r || s.size() > size)
			return fail("ipcc_chan_buffer", r);
		std::memcpy(buf, s.data(), s.size());
		if ((r = ipcc_chan_set_len(cpu_, peer_, ch, dir, s.size())))
			fail("ipcc_chan_set_len", r);
	}
	void check(unsigned ch, ipcc_dir dir, const std::string &want, const char *what)
	{
		void *buf;
		size_t size;
		int r = ipcc_chan_buffer(cpu_, peer_, ch, dir, &buf, &size);
		int len = ipcc_chan_len(cpu_, peer_, ch, dir);
		if (r || len < 0)
			return fail(what, r ? r : len);
		if (std::string(static_cast<char *>(buf), len) != want)
			fail(what, 0);
	}

	/* Simplex send: occupied -> unmask CHnFM, wait for TX free (the handler masked it). */
	void send(unsigned ch, const std::string &s)
	{
		if (rd(tx_sr_) & IPCC_SR_CHF(ch)) {
			unmask(IPCC_MR_CHFM(ch));
			wait_tx_free(ch);
		}
		put(ch, IPCC_DIR_TX, s);
		wr(scr_, IPCC_SCR_CHS(ch));
		sent++;
	}
	/* Simplex receive: the handler masked CHnOM; read, CHnC, unmask CHnOM. */
	void recv(unsigned ch, const std::string &want)
	{
		wait_rx(ch);
		check(ch, IPCC_DIR_RX, want, "simplex message");
		wr(scr_, IPCC_SCR_CHC(ch));
		unmask(IPCC_MR_CHOM(ch));
		received++;
	}
	/* Half-duplex: request, CHnS, unmask CHnFM; TX free is "response ready". */
	void call(unsigned ch, const std::string &req, const std::string &want)
	{
		put(ch, IPCC_DIR_TX, req);
		wr(scr_, IPCC_SCR_CHS(ch));
		unmask(IPCC_MR_CHFM(ch));
		wait_tx_free(ch);
		check(ch, IPCC_DIR_TX, want, "half-duplex response");
		calls++;
	}
	/* Serve: read the request, the response into the same buffer, then CHnC, unmask. */
	void serve(unsigned ch, const std::string &want, const std::string &resp)
	{
		wait_rx(ch);
		check(ch, IPCC_DIR_RX, want, "half-duplex request");
		put(ch, IPCC_DIR_RX, resp);
		wr(scr_, IPCC_SCR_CHC(ch));
		unmask(IPCC_MR_CHOM(ch));
		received++;
	}

	void main()
	{
		/* Probe as Linux does: the channel count from HWCFGR; then enable both lines and
		 * activate the RX channels (the HAL unmasks RX at once, TX when it waits). */
		bus_checks();
		if ((rd(IPCC_HWCFGR) & IPCC_HWCFGR_CHANNELS_MASK) < CHANNELS)
			fail("HWCFGR channel count", 0);
		wr(cr_, IPCC_CR_RXOIE | IPCC_CR_TXFIE);
		if (proc_ == 1) {
			unmask(IPCC_MR_CHOM(CH_SIMPLEX_21));
			for (unsigned i = 0; i < n_; i++) {
				send(CH_SIMPLEX_12, message(CH_SIMPLEX_12, i));
				call(CH_CALL, message(CH_CALL, i), response(i));
				recv(CH_SIMPLEX_21, message(CH_SIMPLEX_21, i));
			}
		} else {
			unmask(IPCC_MR_CHOM(CH_SIMPLEX_12) | IPCC_MR_CHOM(CH_CALL));
			for (unsigned i = 0; i < n_; i++) {
				recv(CH_SIMPLEX_12, message(CH_SIMPLEX_12, i));
				serve(CH_CALL, message(CH_CALL, i), response(i));
				send(CH_SIMPLEX_21, message(CH_SIMPLEX_21, i));
			}
		}
		std::printf(
			"ipcc-tlm: %s (processor %u) checked: sent %u, called %u, received %u at "
			"%s\n",
			name(), proc_, sent, calls, received, sc_time_stamp().to_string().c_str());
		if (--done == 0)
			sc_stop();
	}

	unsigned proc_;
	ipcc_cpu *cpu_;
	unsigned peer_, n_;
	uint32_t cr_, mr_, scr_, tx_sr_, rx_sr_;
	uint32_t rx_ready_ = 0, tx_free_ = 0; /* software pending bits, set by irq() */
	sc_event ev_;
	sc_mutex mr_lock_;
};
unsigned Cpu::done;

/* The real CPU2 of the mixed mode: the procedures API, in a forked process. */
int real_cpu2(ipcc_system *inherited, unsigned n)
{
	ipcc_system *sys = nullptr;
	ipcc_cpu *cpu = nullptr;
	ipcc_cpu_options opt;
	char buf[256];
	int r = ipcc_system_open_fd(ipcc_system_fd(inherited), 0, &sys);
	if (r)
		return fail("child: ipcc_system_open_fd", r), 1;
	ipcc_cpu_options_init(&opt);
	opt.wait = IPCC_WAIT_FUTEX;
	if ((r = ipcc_cpu_attach(sys, 1, &opt, &cpu)))
		return fail("child: ipcc_cpu_attach", r), 1;
	for (unsigned i = 0; i < n && !failures; i++) {
		std::string m = message(CH_SIMPLEX_12, i), q = message(CH_CALL, i), a = response(i);
		r = ipcc_recv(cpu, 0, CH_SIMPLEX_12, buf, sizeof(buf), REAL_TIMEOUT_NS);
		if (r < 0 || std::string(buf, r) != m)
			fail("child: ipcc_recv", r < 0 ? r : 0);
		r = ipcc_serve(cpu, 0, CH_CALL, buf, sizeof(buf), REAL_TIMEOUT_NS);
		if (r < 0 || std::string(buf, r) != q)
			fail("child: ipcc_serve", r < 0 ? r : 0);
		if ((r = ipcc_reply(cpu, 0, CH_CALL, a.data(), a.size())))
			fail("child: ipcc_reply", r);
		m = message(CH_SIMPLEX_21, i);
		if ((r = ipcc_send(cpu, 0, CH_SIMPLEX_21, m.data(), m.size(), REAL_TIMEOUT_NS)))
			fail("child: ipcc_send", r);
	}
	if (!failures)
		std::printf(
			"ipcc-tlm: real CPU2 (pid %d) checked: received %u, served %u, sent %u\n",
			(int)getpid(), n, n, n);
	std::fflush(stdout);
	ipcc_cpu_detach(cpu);
	ipcc_system_close(sys);
	return failures ? 1 : 0;
}

/*
 * One simulation on `sys`: the target, and the CPUs of `sim` (bit 0 CPU1, bit 1 CPU2), attached
 * here before the simulation starts. `label` heads the summary line.
 */
int simulate(ipcc_system *sys, unsigned sim, unsigned n, const std::string &label)
{
	ipcc_regs *regs = nullptr;
	ipcc_cpu *cpu[2] = {};
	int r;
	for (unsigned i = 0; i < 2; i++)
		if ((sim & 1u << i) && (r = ipcc_cpu_attach(sys, i, nullptr, &cpu[i])))
			return fail("ipcc_cpu_attach", r), 1;
	if ((r = ipcc_regs_open(sys, 0, 1, &regs)))
		return fail("ipcc_regs_open", r), 1;
	{
		IpccTarget ipcc("ipcc", regs, sc_time(10, SC_NS));
		sc_signal<bool> lines[4];
		Cpu *c[2] = {};
		for (unsigned i = 0; i < 4; i++)
			ipcc.line[i](lines[i]);
		Cpu::done = 0;
		for (unsigned i = 0; i < 2; i++) {
			if (!(sim & 1u << i))
				continue;
			c[i] = new Cpu(i ? "CPU2" : "CPU1", i + 1, cpu[i], !i, n);
			if (i)
				c[i]->bus.bind(ipcc.bus2);
			else
				c[i]->bus.bind(ipcc.bus1);
			c[i]->rxo(lines[2 * i]);
			c[i]->txf(lines[2 * i + 1]);
			Cpu::done++;
		}
		sc_start();
		std::printf("ipcc-tlm: %s, simulated time %s, line rises:", label.c_str(),
			    sc_time_stamp().to_string().c_str());
		for (unsigned i = 0; i < 4; i++)
			std::printf(" %s %u", LINE_NAMES[i], ipcc.rises[i]);
		std::printf("\n");
		delete c[0];
		delete c[1];
	}
	ipcc_regs_close(regs);
	ipcc_cpu_detach(cpu[1]);
	ipcc_cpu_detach(cpu[0]);
	return failures ? 1 : 0;
}

/* The split mode's second process: the same model, simulating CPU2 on its own handle. */
int simulated_cpu2(ipcc_system *inherited, unsigned n)
{
	ipcc_system *sys = nullptr;
	int r = ipcc_system_open_fd(ipcc_system_fd(inherited), 0, &sys);
	if (r)
		return fail("child: ipcc_system_open_fd", r), 1;
	r = simulate(sys, 2, n,
		     "split mode, CPU2's process (pid " + std::to_string(getpid()) + ")");
	std::fflush(stdout);
	ipcc_system_close(sys);
	return r;
}

} // namespace

int sc_main(int argc, char *argv[])
{
	std::string mode = "full";
	unsigned n = 100;
	for (int i = 1; i < argc; i++) {
		if (!std::strcmp(argv[i], "--mixed") || !std::strcmp(argv[i], "--split"))
			mode = argv[i] + 2;
		else if (!std::strcmp(argv[i], "--messages") && i + 1 < argc)
			n = (unsigned)std::strtoul(argv[++i], nullptr, 0);
		else {
			std::fprintf(stderr, "usage: %s [--mixed | --split] [--messages N]\n",
				     argv[0]);
			return 2;
		}
	}

	/* Not the kernel's "Simulation stopped by user": the CPUs stop it when done. */
	sc_report_handler::set_actions("/OSCI/SystemC", SC_INFO, SC_DO_NOTHING);
	ipcc_config cfg;
	ipcc_system *sys = nullptr;
	ipcc_config_init(&cfg);
	cfg.channels = 4;
	cfg.buffer_size = 256;
	int r = ipcc_system_create_anon(&cfg, &sys);
	if (r)
		return fail("ipcc_system_create_anon", r), 1;
	/* Forked before anything of SystemC is built: the child starts a simulation of its own
	 * (split) or none (mixed). */
	pid_t child = -1;
	if (mode != "full") {
		std::fflush(stdout);
		child = fork();
		if (child < 0)
			return fail("fork", -errno), 1;
		if (child == 0)
			_exit(mode == "mixed" ? real_cpu2(sys, n) : simulated_cpu2(sys, n));
	}
	simulate(sys, mode == "full" ? 3 : 1, n,
		 mode + " mode, " + std::to_string(n) + " messages per channel");
	if (child > 0) {
		int st;
		if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
			fail("the CPU2 process failed", 0);
	}
	ipcc_system_close(sys);
	if (failures)
		std::printf("ipcc-tlm: FAILED (%d errors)\n", failures.load());
	else
		std::printf("ipcc-tlm: all traffic checked\n");
	return failures ? 1 : 0;
}
