/* devices/lapic.c: the local APIC, xAPIC mode.
 *
 * Sources: Intel SDM vol. 3A chapter 10 ("Advanced Programmable Interrupt
 * Controller"), OSDev "APIC" and "APIC timer".
 *
 * Modelled: ID, version (0x14, six LVT entries), TPR/PPR and CR8, EOI with
 * broadcast to the I/O APIC for level-triggered vectors, LDR/DFR (flat and
 * cluster logical destinations), SVR software enable (clearing it masks
 * every LVT and keeps them masked), 256-bit IRR/ISR/TMR, ESR with the
 * write-to-latch protocol and illegal-vector errors, ICR with fixed,
 * lowest-priority and NMI delivery to this CPU (the self, all-including-self
 * shorthands, or a destination naming us), the LVT timer (one-shot,
 * periodic, divide configuration, current count computed from simulated
 * time, initial count 0 stops it), LINT0/LINT1 in fixed or NMI mode, the
 * error LVT, and the APIC_BASE MSR (enable bit, relocation).
 *
 * Not modelled: x2APIC, TSC-deadline mode (the timer then never fires;
 * CPUID must not advertise it), the thermal / performance / CMCI sources
 * (their LVTs are plain registers), INIT/SIPI/SMI (counted and dropped:
 * there is one CPU), arbitration priority, focus checking, EOI broadcast
 * suppression, and delivery latency: messages land in IRR at once, so the
 * delivery-status bits read 0.  An APIC that is software-disabled drops the
 * fixed interrupts sent to it; one that is hardware-disabled forgets its
 * state, and comes back from re-enabling in its power-up state.
 */
#include <string.h>

#include "devices/lapic.h"
#include "machine/bus.h"
#include "sim/sim.h"

#define LAPIC_VERSION 0x00050014u       /* max LVT entry 5, version 0x14 */

/* Writable bits of each LVT (SDM figure 10-8). */
static const uint32_t lvt_wmask[LVT_COUNT] = {
	[LVT_TIMER] = 0x000700FF,
	[LVT_THERMAL] = 0x000107FF,
	[LVT_PERF] = 0x000107FF,
	[LVT_LINT0] = 0x0001A7FF,
	[LVT_LINT1] = 0x0001A7FF,
	[LVT_ERROR] = 0x000100FF,
};

enum { TIMER_ONESHOT = 0, TIMER_PERIODIC = 1, TIMER_TSC_DEADLINE = 2 };

static void notify(struct lapic *la)
{
	if (la->changed)
		la->changed(la->changed_ctx);
}

static int highest_bit(const uint32_t v[8])
{
	for (int i = 7; i >= 0; i--)
		if (v[i])
			return i * 32 + 31 - __builtin_clz(v[i]);
	return -1;
}

static bool test_bit(const uint32_t v[8], unsigned n) { return v[n >> 5] & (1u << (n & 31)); }
static void set_bit(uint32_t v[8], unsigned n) { v[n >> 5] |= 1u << (n & 31); }
static void clear_bit(uint32_t v[8], unsigned n) { v[n >> 5] &= ~(1u << (n & 31)); }

bool lapic_hw_enabled(const struct lapic *la) { return la->base_msr & LAPIC_BASE_EN; }
bool lapic_sw_enabled(const struct lapic *la)
{
	return lapic_hw_enabled(la) && (la->svr & 0x100);
}

bool lapic_extint_open(const struct lapic *la)
{
	if (!lapic_hw_enabled(la))
		return true;
	uint32_t l = la->lvt[LVT_LINT0];
	return !(l & APIC_LVT_MASKED) && ((l >> 8) & 7) == APIC_DM_EXTINT;
}

/* ---- Timer ------------------------------------------------------------ */

static unsigned timer_divide(const struct lapic *la)
{
	/* DCR bits 3, 1:0 encode 2, 4, ..., 128, with 111b meaning 1. */
	unsigned v = ((la->timer_dcr >> 1) & 4) | (la->timer_dcr & 3);
	return 1u << ((v + 1) & 7);
}

static uint64_t timer_ticks(const struct lapic *la, sim_time_t d)
{
	return (uint64_t)((unsigned __int128)d * la->bus_hz / ((unsigned __int128)timer_divide(la) * SIM_S));
}

static sim_time_t timer_time(const struct lapic *la, uint64_t ticks)
{
	unsigned __int128 num = (unsigned __int128)ticks * timer_divide(la) * SIM_S;
	unsigned __int128 t = (num + la->bus_hz - 1) / la->bus_hz;
	return t > SIM_TIME_MAX ? SIM_TIME_MAX : (sim_time_t)t;
}

static unsigned timer_mode(const struct lapic *la)
{
	return (la->lvt[LVT_TIMER] >> 17) & 3;
}

uint32_t lapic_timer_current(const struct lapic *la)
{
	if (!la->timer_active)
		return 0;
	sim_time_t now = la->sim->now;
	uint64_t e = now > la->timer_start ? timer_ticks(la, now - la->timer_start) : 0;
	if (e < la->timer_first)
		return (uint32_t)(la->timer_first - e);
	if (timer_mode(la) != TIMER_PERIODIC)
		return 0;
	return la->timer_initial - (uint32_t)((e - la->timer_first) % la->timer_initial);
}

static void timer_schedule(struct lapic *la)
{
	struct event_queue *q = &la->sim->events;
	sim_time_t now = la->sim->now;

	if (!la->timer_active || timer_mode(la) == TIMER_TSC_DEADLINE) {
		event_cancel(q, &la->timer_ev);
		return;
	}
	uint64_t e = now > la->timer_start ? timer_ticks(la, now - la->timer_start) : 0;
	uint64_t next;
	if (e < la->timer_first)
		next = la->timer_first;
	else if (timer_mode(la) == TIMER_PERIODIC)
		next = la->timer_first + ((e - la->timer_first) / la->timer_initial + 1) * (uint64_t)la->timer_initial;
	else {
		event_cancel(q, &la->timer_ev);
		return;
	}
	sim_time_t d = timer_time(la, next);
	sim_time_t when = d > SIM_TIME_MAX - la->timer_start ? SIM_TIME_MAX : la->timer_start + d;
	if (when <= now)
		when = now + 1;
	event_schedule(q, &la->timer_ev, when);
}

/* Restart counting from the current count, keeping the visible count
 * continuous across a change of divider or mode. */
static void timer_rebase(struct lapic *la)
{
	if (!la->timer_active)
		return;
	uint32_t cur = lapic_timer_current(la);
	if (cur == 0) {
		la->timer_active = timer_mode(la) == TIMER_PERIODIC;
		cur = la->timer_initial;
	}
	la->timer_first = cur;
	la->timer_start = la->sim->now;
}

static void timer_fire(void *arg, sim_time_t now)
{
	struct lapic *la = arg;
	uint32_t lvt = la->lvt[LVT_TIMER];

	++*la->st_timer;
	if (!(lvt & APIC_LVT_MASKED))
		lapic_accept(la, lvt & 0xFF, false);
	if (timer_mode(la) != TIMER_PERIODIC)
		la->timer_active = false;
	timer_schedule(la);
}

/* ---- Interrupt acceptance and priority -------------------------------- */

static void signal_error(struct lapic *la, uint32_t bits)
{
	la->esr_pending |= bits;
	uint32_t lvt = la->lvt[LVT_ERROR];
	/* An illegal error vector would signal another error: drop it. */
	if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xFF) >= 16 && lapic_sw_enabled(la)) {
		set_bit(la->irr, lvt & 0xFF);
		clear_bit(la->tmr, lvt & 0xFF);
		notify(la);
	}
}

void lapic_accept(struct lapic *la, uint8_t vector, bool level)
{
	if (!lapic_sw_enabled(la))
		return;
	if (vector < 16) {
		signal_error(la, 1u << 6);      /* received illegal vector */
		return;
	}
	++*la->st_accepted;
	set_bit(la->irr, vector);
	if (level)
		set_bit(la->tmr, vector);
	else
		clear_bit(la->tmr, vector);
	notify(la);
}

uint32_t lapic_ppr(const struct lapic *la)
{
	int isrv = highest_bit(la->isr);
	uint32_t isrc = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
	return (la->tpr & 0xF0) >= isrc ? la->tpr & 0xFF : isrc;
}

int lapic_pending(const struct lapic *la)
{
	if (!lapic_sw_enabled(la))
		return -1;
	int v = highest_bit(la->irr);
	if (v < 0 || ((uint32_t)v & 0xF0) <= (lapic_ppr(la) & 0xF0))
		return -1;
	return v;
}

int lapic_ack(struct lapic *la)
{
	int v = lapic_pending(la);
	if (v < 0)
		return -1;
	clear_bit(la->irr, v);
	set_bit(la->isr, v);
	return v;
}

static void eoi(struct lapic *la)
{
	int v = highest_bit(la->isr);
	if (v < 0)
		return;
	++*la->st_eoi;
	clear_bit(la->isr, v);
	if (test_bit(la->tmr, v) && la->eoi_broadcast)
		la->eoi_broadcast(la->eoi_ctx, (uint8_t)v);
	notify(la);
}

void lapic_set_lint(struct lapic *la, int pin, bool level)
{
	if (pin < 0 || pin > 1)
		return;
	bool rising = level && !la->lint_level[pin];
	la->lint_level[pin] = level;
	uint32_t lvt = la->lvt[LVT_LINT0 + pin];
	if (!lapic_hw_enabled(la)) {
		/* Hardware-disabled: LINT1 is the plain NMI pin. */
		if (pin == 1 && rising) {
			la->nmi_pending = true;
			notify(la);
		}
		return;
	}
	if (!rising || (lvt & APIC_LVT_MASKED))
		return;
	switch ((lvt >> 8) & 7) {
	case APIC_DM_FIXED:
		lapic_accept(la, lvt & 0xFF, lvt & (1u << 15));
		break;
	case APIC_DM_NMI:
		la->nmi_pending = true;
		notify(la);
		break;
	}
}

/* ---- IPIs -------------------------------------------------------------- */

bool lapic_match_dest(const struct lapic *la, uint8_t dest, bool logical)
{
	if (!logical)
		return dest == 0xFF || dest == la->id;
	uint8_t ldr = la->ldr >> 24;
	if ((la->dfr >> 28) == 0xF)             /* flat model */
		return dest & ldr;
	/* cluster model: high nibble names the cluster, 0xF all of them */
	return ((dest >> 4) == 0xF || (dest >> 4) == (ldr >> 4)) && (dest & ldr & 0xF);
}

static void send_ipi(struct lapic *la)
{
	uint32_t icr = la->icr_lo;
	uint8_t vector = icr & 0xFF, dest = la->icr_hi >> 24;
	unsigned dm = (icr >> 8) & 7, shorthand = (icr >> 18) & 3;
	bool self, others;

	++*la->st_ipi;
	switch (shorthand) {
	case 1: self = true; others = false; break;
	case 2: self = true; others = true; break;
	case 3: self = false; others = true; break;
	default:
		self = lapic_match_dest(la, dest, icr & (1u << 11));
		others = !self || dest == 0xFF;
		break;
	}
	if ((dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST) && vector < 16) {
		signal_error(la, 1u << 5);      /* send illegal vector */
		return;
	}
	if (others) {
		if (la->send_ipi)
			la->send_ipi(la->ipi_ctx, icr, dest);
		else if (!self)
			++*la->st_ipi_dropped;
	}
	if (!self)
		return;
	switch (dm) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		lapic_accept(la, vector, false);
		break;
	case APIC_DM_NMI:
		la->nmi_pending = true;
		notify(la);
		break;
	default:
		++*la->st_ipi_dropped;          /* INIT, SIPI, SMI to self */
		break;
	}
}

/* ---- Registers -------------------------------------------------------- */

static void reset_state(struct lapic *la)
{
	la->tpr = 0;
	la->ldr = 0;
	la->dfr = 0xFFFFFFFF;
	la->svr = 0xFF;
	la->esr = la->esr_pending = 0;
	la->icr_lo = la->icr_hi = 0;
	for (int i = 0; i < LVT_COUNT; i++)
		la->lvt[i] = APIC_LVT_MASKED;
	memset(la->irr, 0, sizeof la->irr);
	memset(la->isr, 0, sizeof la->isr);
	memset(la->tmr, 0, sizeof la->tmr);
	la->nmi_pending = false;
	la->timer_initial = la->timer_dcr = la->timer_first = 0;
	la->timer_active = false;
	event_cancel(&la->sim->events, &la->timer_ev);
}

static uint32_t read_reg(struct lapic *la, unsigned reg)
{
	if (reg >= 0x100 && reg < 0x280) {
		const uint32_t *a = reg < 0x180 ? la->isr : reg < 0x200 ? la->tmr : la->irr;
		return a[(reg >> 4) & 7];
	}
	if (reg >= 0x320 && reg <= 0x370)
		return la->lvt[(reg - 0x320) >> 4];
	switch (reg) {
	case 0x020: return (uint32_t)la->id << 24;
	case 0x030: return LAPIC_VERSION;
	case 0x080: return la->tpr;
	case 0x0A0: return lapic_ppr(la);
	case 0x0D0: return la->ldr;
	case 0x0E0: return la->dfr;
	case 0x0F0: return la->svr;
	case 0x280: return la->esr;
	case 0x300: return la->icr_lo;
	case 0x310: return la->icr_hi;
	case 0x380: return la->timer_initial;
	case 0x390: return lapic_timer_current(la);
	case 0x3E0: return la->timer_dcr;
	}
	return 0;       /* reserved, APR, RRD, EOI, CMCI: read as zero */
}

static void write_lvt(struct lapic *la, int i, uint32_t v)
{
	uint32_t old = la->lvt[i];
	v &= lvt_wmask[i];
	/* While software-disabled the mask bits stay set (SDM 10.4.7.2). */
	if (!(la->svr & 0x100))
		v |= APIC_LVT_MASKED;
	bool mode_change = i == LVT_TIMER && ((old ^ v) & (3u << 17));
	if (mode_change)
		timer_rebase(la);       /* the count so far, in the old mode */
	la->lvt[i] = v | (old & ~lvt_wmask[i] & ~(1u << 12));
	if (mode_change)
		timer_schedule(la);
	notify(la);     /* LINT0 may have opened to ExtINT */
}

static void write_reg(struct lapic *la, unsigned reg, uint32_t v)
{
	if (reg >= 0x320 && reg <= 0x370) {
		write_lvt(la, (reg - 0x320) >> 4, v);
		return;
	}
	switch (reg) {
	case 0x020: la->id = v >> 24; break;
	case 0x080: la->tpr = v & 0xFF; notify(la); break;
	case 0x0B0: eoi(la); break;
	case 0x0D0: la->ldr = v & 0xFF000000; break;
	case 0x0E0: la->dfr = (v & 0xF0000000) | 0x0FFFFFFF; break;
	case 0x0F0:
		la->svr = v & 0x3FF;
		if (!(v & 0x100))
			for (int i = 0; i < LVT_COUNT; i++)
				la->lvt[i] |= APIC_LVT_MASKED;
		notify(la);
		break;
	case 0x280:
		/* A write latches the errors collected since the last one. */
		la->esr = la->esr_pending;
		la->esr_pending = 0;
		break;
	case 0x300:
		la->icr_lo = v & 0x000CCFFF;
		send_ipi(la);
		break;
	case 0x310: la->icr_hi = v & 0xFF000000; break;
	case 0x380:
		la->timer_initial = v;
		la->timer_active = v != 0;
		la->timer_first = v;
		la->timer_start = la->sim->now;
		timer_schedule(la);
		break;
	case 0x3E0:
		timer_rebase(la);       /* the count so far, at the old rate */
		la->timer_dcr = v & 0xB;
		timer_schedule(la);
		break;
	default:
		break;  /* read-only or reserved: ignored */
	}
}

/* Registers are 32 bits on 16-byte boundaries.  A narrower read sees the
 * corresponding bytes; a write counts only when aligned on a register. */
uint64_t lapic_mmio_read(void *lapic, uint64_t offset, unsigned size)
{
	struct lapic *la = lapic;
	unsigned off = offset & 0xFFF;
	if ((off & 0xF) >= 4)
		return 0;
	uint64_t v = read_reg(la, off & 0xFF0) >> (8 * (off & 3));
	return size >= 8 ? v : v & ((1ULL << (8 * size)) - 1);
}

void lapic_mmio_write(void *lapic, uint64_t offset, unsigned size, uint64_t value)
{
	struct lapic *la = lapic;
	unsigned off = offset & 0xFFF;
	if (off & 0xF)
		return;
	write_reg(la, off, (uint32_t)value);
}

/* ---- APIC_BASE MSR ---------------------------------------------------- */

static void remap(struct lapic *la)
{
	uint64_t base = la->base_msr & ~0xFFFULL & ((1ULL << la->phys_bits) - 1);
	bool want = lapic_hw_enabled(la);

	if (!la->bus)
		return;
	if (la->mapped && (!want || la->mapped_at != base)) {
		bus_remove(la->bus, la->mapped_at, 0x1000);
		la->mapped = false;
	}
	if (want && !la->mapped) {
		/* A base overlapping RAM or another device leaves the APIC
		 * unreachable, which is the guest's problem, not the host's. */
		if (bus_add_mmio(la->bus, "lapic", base, 0x1000, lapic_mmio_read, lapic_mmio_write, la) == 0) {
			la->mapped = true;
			la->mapped_at = base;
		}
	}
}

uint64_t lapic_get_base_msr(const struct lapic *la) { return la->base_msr; }

int lapic_set_base_msr(struct lapic *la, uint64_t v)
{
	uint64_t valid = LAPIC_BASE_BSP | LAPIC_BASE_EN |
		(((1ULL << la->phys_bits) - 1) & ~0xFFFULL);
	if (v & ~valid)
		return -1;      /* reserved bits, or x2APIC enable: #GP */
	bool was = lapic_hw_enabled(la);
	/* The BSP flag is set by the reset logic, not by software. */
	la->base_msr = (v & ~LAPIC_BASE_BSP) | (la->base_msr & LAPIC_BASE_BSP);
	if (was != lapic_hw_enabled(la))
		reset_state(la);
	remap(la);
	notify(la);
	return 0;
}

uint64_t lapic_get_cr8(const struct lapic *la) { return (la->tpr >> 4) & 0xF; }

void lapic_set_cr8(struct lapic *la, uint64_t v)
{
	la->tpr = (uint32_t)(v & 0xF) << 4;
	notify(la);
}

void lapic_set_virtual_wire(struct lapic *la)
{
	la->svr = 0x1FF;
	la->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
	la->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
	notify(la);
}

void lapic_init(struct lapic *la, struct sim *sim, uint8_t apic_id, uint64_t bus_hz)
{
	memset(la, 0, sizeof *la);
	la->sim = sim;
	la->id = apic_id;
	la->phys_bits = 40;
	/* A timer clock outside 1 kHz..100 GHz is a configuration error;
	 * bounding it keeps the arithmetic sane. */
	if (bus_hz < 1000)
		bus_hz = 1000;
	if (bus_hz > 100000000000ULL)
		bus_hz = 100000000000ULL;
	la->bus_hz = bus_hz;
	la->base_msr = LAPIC_DEFAULT_BASE | LAPIC_BASE_EN | (apic_id == 0 ? LAPIC_BASE_BSP : 0);
	event_init(&la->timer_ev, timer_fire, la);
	reset_state(la);
	la->st_accepted = stats_counter(&sim->stats, "lapic.accepted");
	la->st_timer = stats_counter(&sim->stats, "lapic.timer_fires");
	la->st_eoi = stats_counter(&sim->stats, "lapic.eois");
	la->st_ipi = stats_counter(&sim->stats, "lapic.ipis");
	la->st_ipi_dropped = stats_counter(&sim->stats, "lapic.ipis_dropped");
}

int lapic_attach(struct lapic *la, struct bus *bus)
{
	la->bus = bus;
	remap(la);
	return lapic_hw_enabled(la) && !la->mapped ? -1 : 0;
}
