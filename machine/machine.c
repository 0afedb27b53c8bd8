/* machine/machine.c: assembling the PC from a config, and the run loop.
 *
 * The loop (machine_run) is the only place where the CPU and the event
 * queue meet:
 *
 *     fire events due now          (devices raise interrupt lines)
 *     deliver an interrupt         (NMI, or INTR when IF = 1, no shadow)
 *     halted?  jump to the next event's time, or end when none can wake us
 *     run the CPU up to the next event's time (a slice), then loop
 *
 * Anything that may make an interrupt deliverable while the CPU runs (a
 * device's line changing during an I/O access, STI, POPF, IRET, a CR8
 * write) ends the slice early through cpu_request_exit(), so interrupts
 * are taken at the right instruction boundary, and with the STI / MOV SS
 * shadow the loop runs exactly one more instruction first.  Every number
 * of instructions and every timestamp is a pure function of the inputs:
 * runs are deterministic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/cpu.h"
#include "machine/cpu_sys.h"
#include "machine/cpu_timing.h"
#include "machine/insn.h"
#include "machine/machine.h"
#include "sim/config.h"
#include "sim/sim.h"
#include "traces/trace.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/phantom-sim"
#endif

const char *machine_exit_name(enum machine_exit e)
{
	switch (e) {
	case MACHINE_EXIT_NONE: return "none";
	case MACHINE_EXIT_DEBUG_EXIT: return "debug-exit";
	case MACHINE_EXIT_HALTED: return "halted";
	case MACHINE_EXIT_TRIPLE_FAULT: return "triple-fault";
	case MACHINE_EXIT_LIMIT: return "limit";
	case MACHINE_EXIT_STOPPED: return "stopped";
	}
	return "?";
}

const char *machine_default_kernel(void)
{
	static const char installed[] = PKGDATADIR "/phantom-kernel.elf";
	if (access(installed, R_OK) == 0)
		return installed;
#ifdef PHANTOM_BUILDDIR
	static const char built[] = PHANTOM_BUILDDIR "/phantom-kernel.elf";
	if (access(built, R_OK) == 0)
		return built;
#endif
	return installed;
}

static void intc_notify(void *ctx)
{
	cpu_request_exit(ctx);
}

static int fail(char *err, size_t errlen, const char *msg, const char *what)
{
	snprintf(err, errlen, "%s%s%s", msg, what ? ": " : "", what ? what : "");
	return -1;
}

static int load_kernel(struct machine *m, char *err, size_t errlen)
{
	const char *cmdline = m->cfg->guest.cmdline ? m->cfg->guest.cmdline : "";
	if (multiboot_load(&m->bus, &m->layout, m->kernel, cmdline, &m->boot, err, errlen))
		return -1;
	cpu_sys_boot(m->cpu, &m->boot);
	return 0;
}

static int attach_block(struct machine *m, char *err, size_t errlen)
{
	if (blockdev_open_config(&m->bd, m->sim, m->cfg, err, errlen))
		return -1;
	m->have_blk = true;
	virtio_blk_init(&m->vb, m->sim, &m->bus, &m->bd, m->trace);
	pci_func_set_irq(&m->vb.pci, 1, 16 + MACHINE_VBLK_SLOT,
			 intc_gsi_line(&m->pc.intc, 16 + MACHINE_VBLK_SLOT));
	if (virtio_blk_attach(&m->vb, &m->pc.pci, MACHINE_VBLK_SLOT))
		return fail(err, errlen, "block device", "PCI slot taken");
	return 0;
}

/* The PM write-pending queues into the trace, sampled at `now` (the
 * approximate timing model only: fast mode has no queues).  The memory
 * controller keeps each entry's drain time, which may lie in the future,
 * and forgets entries lazily, so the sample is derived from what it
 * exposes read-only: the entries still pending at `now`
 * (memctrl_wpq_occupancy) and the writes the DIMMs have accepted, one per
 * entry ever queued.  Entries that arrived since the last sample, less the
 * growth of the queue, are the ones that drained; the record is stamped
 * `now`, never a future drain time, so the trace stays in order.  An
 * entry the controller retired a few ns ahead of `now` (its queueing
 * latency) may count as drained that much early. */
static void trace_wpq_sample(struct machine *m, sim_time_t now)
{
	if (!m->trace || !m->cpu || !m->cpu->timing)
		return;
	const struct memctrl *mc = &m->cpu->timing->mem.mc;
	if (!mc->pm_size)
		return;
	uint64_t accepted = 0;
	for (unsigned d = 0; d < mc->p.pm_dimms; d++)
		accepted += mc->pm[d].writes;
	unsigned occ = memctrl_wpq_occupancy(mc, true, now);
	/* A counter that went backwards was a fresh model: start over. */
	uint64_t arrived = accepted >= m->trace_wpq.accepted ? accepted - m->trace_wpq.accepted
							      : accepted;
	uint64_t before = m->trace_wpq.occupancy + arrived;
	uint64_t lines = before > occ ? before - occ : 0;
	if (lines || occ != m->trace_wpq.occupancy)
		trace_wpq_drain(m->trace, now, lines, lines * 64, occ);
	m->trace_wpq.accepted = accepted;
	m->trace_wpq.occupancy = occ;
}

/* Persistence events into the trace (the observer of machine/persist.h).
 * The trace has four fence kinds: serializing instructions and I/O order
 * like mfence, so they are recorded as one. */
static void trace_persist_event(void *ctx, const struct persist_event *ev)
{
	struct machine *m = ctx;
	struct trace *t = m->trace;
	sim_time_t now = m->sim->now;
	switch (ev->kind) {
	case PERSIST_EV_STORE:
	case PERSIST_EV_NTSTORE:
		trace_pm_store(t, now, ev->pa, ev->len);
		break;
	case PERSIST_EV_FLUSH:
		trace_flush(t, now, ev->pa, ev->sub == PERSIST_CLFLUSH ? TRACE_FLUSH_CLFLUSH :
			    ev->sub == PERSIST_CLFLUSHOPT ? TRACE_FLUSH_CLFLUSHOPT : TRACE_FLUSH_CLWB);
		break;
	case PERSIST_EV_FENCE:
		trace_fence(t, now, ev->sub == PERSIST_SFENCE ? TRACE_FENCE_SFENCE :
			    ev->sub == PERSIST_LOCKED ? TRACE_FENCE_LOCKED : TRACE_FENCE_MFENCE);
		break;
	case PERSIST_EV_BLOCK_WRITE:
		trace_blk_write(t, now, ev->pa, ev->len, ev->sub);
		break;
	case PERSIST_EV_BLOCK_FLUSH:
		trace_blk_flush(t, now);
		break;
	default:
		break;
	}
	/* PM traffic is what moves the queues, so its events (not the block
	 * device's) are where occupancy is worth sampling. */
	if (ev->kind != PERSIST_EV_BLOCK_WRITE && ev->kind != PERSIST_EV_BLOCK_FLUSH)
		trace_wpq_sample(m, now);
}

static void level(struct cache_config *c, const struct cache_level_config *l)
{
	c->size = l->size_kb * 1024;
	c->ways = (unsigned)l->ways;
	c->latency = (unsigned)l->latency;
}

/* The config's clock, caches and memory shape over the model's defaults. */
static void timing_params(const struct config *cfg, struct cpu_timing_params *p)
{
	cpu_timing_default_params(p);
	cpu_timing_set_clock(p, 1000000 / cfg->cpu.freq_mhz);
	level(&p->mem.l1i, &cfg->l1i);
	level(&p->mem.l1d, &cfg->l1d);
	level(&p->mem.l2, &cfg->l2);
	level(&p->mem.llc, &cfg->llc);
	p->mem.lfb = (unsigned)cfg->cache.fill_buffers;
	p->mem.prefetch_degree = (unsigned)cfg->cache.prefetch_degree;
	p->mem.mc.dram_channels = (unsigned)cfg->memory.channels;
	p->mem.mc.pm_dimms = (unsigned)cfg->pmem.dimms;
	p->mem.mc.pm_interleave = cfg->pmem.interleave_bytes;
}

/* cpu.timing = approximate: the memory hierarchy in front of this
 * machine's DRAM and PM, with evictions reported to the persistence model
 * (a line the cache writes back has reached the persistence domain). */
static int attach_timing(struct machine *m, char *err, size_t errlen)
{
	const struct config *cfg = m->cfg;
	struct cpu_timing_params p;
	timing_params(cfg, &p);
	const char *why = NULL;
	uint64_t pm_base = cfg->pmem.enabled ? cfg->pmem.base : 0;
	uint64_t pm_size = cfg->pmem.enabled ? cfg->pmem.size_mb << 20 : 0;
	m->cpu->timing = cpu_timing_new(&p, pm_base, pm_size, &why);
	if (!m->cpu->timing)
		return fail(err, errlen, "cache: impossible geometry", why);
	if (m->have_nv) {
		m->cpu->timing->mem.writeback = persist_writeback_hook;
		m->cpu->timing->mem.writeback_ctx = &m->nv.pm;
	}
	return 0;
}

int machine_init(struct machine *m, struct sim *sim, const struct config *cfg,
		 char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->sim = sim;
	m->cfg = cfg;
	layout_from_config(&m->layout, cfg);
	bus_init(&m->bus, sim);
	m->bus_ready = true;
	for (int k = 0; k < m->layout.n; k++) {
		const struct mem_range *r = &m->layout.ranges[k];
		if (r->type == MEM_PMEM)
			continue;       /* the nvdimm maps its own region */
		if (bus_add_ram(&m->bus, r->type == MEM_RAM ? "dram" : "reserved", r->base, r->size,
				BUS_RWX))
			return fail(err, errlen, "cannot map guest memory", NULL);
	}

	struct pc_config pcc;
	if (pc_config_from(&pcc, cfg, err, errlen))
		return -1;
	if (pc_devices_init(&m->pc, sim, &m->bus, &pcc) < 0) {
		m->pc_ready = true;
		return fail(err, errlen, "cannot build the PC devices (serial input unreadable?)", NULL);
	}
	m->pc_ready = true;
	m->pc.lapic.phys_bits = CPU_SYS_PHYS_BITS;

	if (cfg->trace.file && cfg->trace.file[0]) {
		char *json = config_to_json(cfg);
		struct trace_params tpar = {
			.config_json = json, .config_hash = trace_config_hash(json), .seed = sim->seed,
		};
		m->trace = trace_open(cfg->trace.file, &tpar, err, errlen);
		free(json);
		if (!m->trace)
			return -1;
	}
	if (trace_port_attach(&m->tp, sim, &m->bus, m->trace))
		return fail(err, errlen, "cannot attach the trace port", NULL);

	m->cpu = cpu_new(sim, &m->bus);
	if (!m->cpu || cpu_sys_enable(m->cpu, &m->pc.intc, &m->pc.lapic))
		return fail(err, errlen, "out of memory", NULL);
	m->cpu->ps_per_insn = cfg->cpu.freq_mhz ? 1000000 / cfg->cpu.freq_mhz : 500;
	m->cpu->tsc_hz = cfg->cpu.freq_mhz ? cfg->cpu.freq_mhz * 1000000 : 2000000000ull;
	m->pc.intc.notify = intc_notify;
	m->pc.intc.notify_ctx = m->cpu;

	if (cfg->pmem.enabled) {
		if (nvdimm_init(&m->nv, sim, &m->bus, cfg, err, errlen))
			return -1;
		m->have_nv = true;
		m->cpu->hooks = nvdimm_cpu_hooks(&m->nv);
		nvdimm_exempt_trace_port(&m->nv, &m->bus);
		/* Media errors: loads of these lines raise #MC (machine/mce.c). */
		uint64_t poison[CONFIG_POISON_MAX];
		size_t npoison;
		if (config_pmem_poison(cfg, poison, &npoison, err, errlen))
			return -1;
		if (cpu_sys_set_poison(m->cpu, poison, npoison))
			return fail(err, errlen, "out of memory", NULL);
		if (m->trace)
			persist_set_observer(&m->nv.pm, trace_persist_event, m);
	}
	if (cfg->block.enabled && attach_block(m, err, errlen))
		return -1;
	if (cfg->cpu.timing == TIMING_APPROXIMATE && attach_timing(m, err, errlen))
		return -1;

	const char *k = cfg->guest.kernel && cfg->guest.kernel[0] ? cfg->guest.kernel
								    : machine_default_kernel();
	m->kernel = strdup(k);
	if (!m->kernel)
		return fail(err, errlen, "out of memory", NULL);
	if (load_kernel(m, err, errlen))
		return -1;

	m->st_halts = stats_counter(&sim->stats, "machine.halts");
	m->st_slices = stats_counter(&sim->stats, "machine.slices");
	m->st_resets = stats_counter(&sim->stats, "machine.resets");
	return 0;
}

/* A triple fault with cpu.triple_fault = reset: the CPU restarts the
 * kernel from its image (RAM keeps what the guest wrote, as after a warm
 * reset; the devices keep their state). */
static int machine_reset(struct machine *m)
{
	char err[512];
	++*m->st_resets;
	if (++m->resets > 100)
		return -1;      /* a reset loop: report the triple fault */
	if (load_kernel(m, err, sizeof err)) {
		fprintf(stderr, "phantom-sim: reset: %s\n", err);
		return -1;
	}
	return 0;
}

static enum machine_exit stop_reason(struct machine *m)
{
	struct sim *s = m->sim;
	if (m->pc.dbg.exited) {
		m->exit_code = m->pc.dbg.code;
		return MACHINE_EXIT_DEBUG_EXIT;
	}
	if (s->stop == SIM_STOP_TIME_LIMIT || s->stop == SIM_STOP_INSN_LIMIT)
		return MACHINE_EXIT_LIMIT;
	return MACHINE_EXIT_STOPPED;
}

enum machine_exit machine_run(struct machine *m)
{
	struct sim *s = m->sim;
	struct cpu *c = m->cpu;
	bool retried = false;
	for (;;) {
		/* Events due now, and the limits. */
		if (sim_run_events(s, s->now) != SIM_STOP_NONE)
			return m->exit = stop_reason(m);

		/* Interrupts at this boundary. */
		c->exit_request = false;
		if (cpu_sys_interrupts(c) && c->exit == CPU_EXIT_TRIPLE_FAULT)
			goto triple;

		sim_time_t next = event_next_time(&s->events);
		if (c->sys->halted) {
			c->sys->shadow = false;         /* the HLT was the shadowed insn */
			/* A request that vanished at INTA is retried once, then
			 * the CPU sleeps: a controller that keeps saying
			 * "pending" without a vector cannot spin the host. */
			if (cpu_sys_wakeup_pending(c) && !retried) {
				retried = true;
				continue;
			}
			retried = false;
			/* HLT with IF = 0 waits for an NMI, which no device
			 * here raises on its own; with no event left nothing
			 * can raise an interrupt either. */
			if (!(c->rflags & FL_IF) || next == SIM_TIME_MAX)
				return m->exit = MACHINE_EXIT_HALTED;
			/* Events that never interrupt (an RTC ticking with its
			 * interrupts off) would let a dead guest sleep for
			 * months of simulated time: give up after a while. */
			if (s->now - m->halt_since > MACHINE_IDLE_LIMIT) {
				m->idle_timeout = true;
				return m->exit = MACHINE_EXIT_HALTED;
			}
			/* Sleep: the clock jumps to the next event
			 * (sim_run_events also honours max_time). */
			if (sim_run_events(s, next) != SIM_STOP_NONE)
				return m->exit = stop_reason(m);
			continue;
		}

		/* A slice up to the next event (at least one instruction).
		 * With approximate timing instructions have no fixed cost: the
		 * CPU itself stops at the deadline. */
		uint64_t budget;
		c->deadline = next;
		if (c->sys->shadow) {
			budget = 1;
		} else if (c->timing) {
			budget = 1u << 20;
		} else if (next == SIM_TIME_MAX || next <= s->now) {
			budget = next == SIM_TIME_MAX ? 1u << 20 : 1;
		} else {
			budget = (next - s->now + c->ps_per_insn - 1) / c->ps_per_insn;
			if (budget > (1u << 20))
				budget = 1u << 20;
		}
		if (s->max_insns) {
			if (s->insns >= s->max_insns) {
				s->stop = SIM_STOP_INSN_LIMIT;
				return m->exit = MACHINE_EXIT_LIMIT;
			}
			if (budget > s->max_insns - s->insns)
				budget = s->max_insns - s->insns;
		}
		bool shadow = c->sys->shadow;
		enum cpu_exit why = cpu_run(c, budget);
		if (shadow)
			c->sys->shadow = false;
		++*m->st_slices;
		switch (why) {
		case CPU_EXIT_HALT:
			c->sys->halted = true;
			m->halt_since = s->now;
			++*m->st_halts;
			break;
		case CPU_EXIT_TRIPLE_FAULT:
			goto triple;
		case CPU_EXIT_EXCEPTION:
		case CPU_EXIT_SYSCALL:
			/* Not in system mode; treat as a triple fault. */
			goto triple;
		case CPU_EXIT_STOP:
		case CPU_EXIT_BUDGET:
			break;
		}
		if (s->stop != SIM_STOP_NONE)
			return m->exit = stop_reason(m);
		continue;
triple:
		fprintf(stderr, "phantom-sim: triple fault at rip=%#llx (cpu.triple_fault=%s)\n",
			(unsigned long long)c->rip,
			m->cfg->cpu.triple_fault == TRIPLE_FAULT_RESET ? "reset" : "halt");
		if (m->cfg->cpu.triple_fault == TRIPLE_FAULT_RESET && machine_reset(m) == 0)
			continue;
		return m->exit = MACHINE_EXIT_TRIPLE_FAULT;
	}
}

int machine_free(struct machine *m, char *err, size_t errlen)
{
	int rc = 0;
	char e2[512];
	if (m->trace)                           /* the last drains, before the model goes */
		trace_wpq_sample(m, m->sim->now);
	if (m->have_nv) {
		if (nvdimm_power_fail(&m->nv, e2, sizeof e2)) {
			snprintf(err, errlen, "%s", e2);
			rc = -1;
		}
		nvdimm_free(&m->nv);
		m->have_nv = false;
	}
	if (m->have_blk) {
		if (blockdev_write_image(&m->bd, e2, sizeof e2)) {
			snprintf(err, errlen, "%s", e2);
			rc = -1;
		}
		virtio_blk_free(&m->vb);
		blockdev_close(&m->bd);
		m->have_blk = false;
	}
	if (m->cpu) {
		if (m->cpu->timing) {
			cpu_timing_stats(m->cpu->timing, &m->sim->stats);
			cpu_timing_free(m->cpu->timing);
			m->cpu->timing = NULL;
		}
		cpu_free(m->cpu);
		m->cpu = NULL;
	}
	if (m->pc_ready) {
		m->pc.intc.notify = NULL;
		pc_devices_free(&m->pc);
		m->pc_ready = false;
	}
	if (m->trace) {
		if (trace_close(m->trace, e2, sizeof e2)) {
			snprintf(err, errlen, "%s", e2);
			rc = -1;
		}
		m->trace = NULL;
	}
	if (m->bus_ready) {
		bus_free(&m->bus);
		m->bus_ready = false;
	}
	free(m->kernel);
	m->kernel = NULL;
	return rc;
}
