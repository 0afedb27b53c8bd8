/* devices/lapic.h: the local APIC (xAPIC mode) of one CPU.
 *
 *     lapic_init(&la, sim, 0, 100000000);  // APIC ID 0, 100 MHz bus clock
 *     lapic_attach(&la, bus);              // MMIO page at 0xFEE00000
 *
 * The CPU's side (besides intc_pending/intc_ack in devices/irq.h):
 *
 *     RDMSR 0x1B:  v = lapic_get_base_msr(la);
 *     WRMSR 0x1B:  if (lapic_set_base_msr(la, v) < 0) raise #GP(0);
 *     MOV from CR8: lapic_get_cr8(la);  MOV to CR8: lapic_set_cr8(la, v)
 *
 * x2APIC is not modelled: CPUID must not advertise it, and setting
 * APIC_BASE bit 10 is a #GP.
 */
#ifndef DEVICES_LAPIC_H
#define DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/clock.h"
#include "sim/event.h"

struct sim;
struct bus;

#define LAPIC_DEFAULT_BASE 0xFEE00000ULL
#define LAPIC_MSR_APIC_BASE 0x1B
#define LAPIC_BASE_BSP  (1ULL << 8)
#define LAPIC_BASE_EXTD (1ULL << 10)
#define LAPIC_BASE_EN   (1ULL << 11)

/* LVT indices. */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

/* LVT / ICR delivery modes (bits 10:8). */
enum {
	APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2,
	APIC_DM_NMI = 4, APIC_DM_INIT = 5, APIC_DM_SIPI = 6, APIC_DM_EXTINT = 7,
};

#define APIC_LVT_MASKED (1u << 16)

struct lapic {
	struct sim *sim;
	struct bus *bus;
	uint64_t base_msr;
	unsigned phys_bits;     /* the CPU's MAXPHYADDR: higher MSR bits #GP */
	bool mapped;            /* the MMIO page is on the bus */
	uint64_t mapped_at;

	uint8_t id;
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;      /* visible, and collected since the last ESR write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];
	bool lint_level[2];
	bool nmi_pending;

	/* Timer: the count runs down from `first` since `start`, then from
	 * `initial` each period. */
	uint64_t bus_hz;
	uint32_t timer_initial, timer_dcr;
	uint32_t timer_first;
	sim_time_t timer_start;
	bool timer_active;
	struct event timer_ev;

	void (*changed)(void *ctx);     /* something may have become pending */
	void *changed_ctx;
	/* EOI of a level-triggered vector: the I/O APICs clear remote IRR. */
	void (*eoi_broadcast)(void *ctx, uint8_t vector);
	void *eoi_ctx;
	/* IPIs that leave this CPU (no other CPU exists yet): may be NULL. */
	void (*send_ipi)(void *ctx, uint32_t icr_lo, uint8_t dest);
	void *ipi_ctx;

	uint64_t *st_accepted, *st_timer, *st_eoi, *st_ipi, *st_ipi_dropped;
};

void lapic_init(struct lapic *la, struct sim *sim, uint8_t apic_id, uint64_t bus_hz);
/* Map the MMIO page at the current base (if enabled). */
int lapic_attach(struct lapic *la, struct bus *bus);
/* What an MP BIOS leaves behind: software-enabled, LINT0 ExtINT (the
 * 8259A passes through), LINT1 NMI.  Machines booting without firmware
 * call this so a PIC-only guest still gets interrupts. */
void lapic_set_virtual_wire(struct lapic *la);

uint64_t lapic_get_base_msr(const struct lapic *la);
int lapic_set_base_msr(struct lapic *la, uint64_t v);
uint64_t lapic_get_cr8(const struct lapic *la);
void lapic_set_cr8(struct lapic *la, uint64_t v);

bool lapic_hw_enabled(const struct lapic *la);
bool lapic_sw_enabled(const struct lapic *la);
/* LINT0 passes the 8259A's INTR through (ExtINT, unmasked) or the APIC
 * is hardware-disabled so LINT0 is the plain INTR pin. */
bool lapic_extint_open(const struct lapic *la);

/* An interrupt message arriving (from the I/O APIC or an IPI). */
void lapic_accept(struct lapic *la, uint8_t vector, bool level);
/* Does a message for dest (physical ID or logical MDA) reach this APIC? */
bool lapic_match_dest(const struct lapic *la, uint8_t dest, bool logical);
/* LINT0/LINT1 pin levels (fixed and NMI delivery; ExtINT is intc's job). */
void lapic_set_lint(struct lapic *la, int pin, bool level);

/* The vector the APIC would deliver now (IRR above PPR), or -1. */
int lapic_pending(const struct lapic *la);
/* Deliver it: IRR -> ISR.  Returns the vector or -1. */
int lapic_ack(struct lapic *la);
uint32_t lapic_ppr(const struct lapic *la);
uint32_t lapic_timer_current(const struct lapic *la);

uint64_t lapic_mmio_read(void *lapic, uint64_t offset, unsigned size);
void lapic_mmio_write(void *lapic, uint64_t offset, unsigned size, uint64_t value);

#endif
