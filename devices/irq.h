/* devices/irq.h: interrupt lines and the CPU-facing interrupt controller.
 *
 * A device never knows which controller it is wired to.  It holds a
 * struct irq_line, filled in by whoever builds the machine, and drives the
 * wire's level:
 *
 *     irq_raise(&uart->irq);      // INTR pin goes active
 *     irq_lower(&uart->irq);      // and inactive again
 *     irq_pulse(&dev->irq);       // a rising then falling edge
 *
 * The lines model wires, so a level is a level: raising twice is one edge.
 *
 * struct intc ties the legacy 8259A pair, the I/O APIC and the local APIC of
 * the (single) CPU together, as the PIIX-style chipset does:
 *
 *     ISA IRQ n ──┬── 8259A input n (cascade on IRQ2) ── INTR ── LAPIC LINT0
 *                 └── I/O APIC pin n (IRQ0 goes to pin 2, as the MP table
 *                     and ACPI MADT interrupt source override say)
 *     I/O APIC ── fixed / lowest-priority messages ── LAPIC IRR
 *
 * What the CPU does at each instruction boundary (and while halted, after
 * the machine loop has run the events that were due):
 *
 *     if (intc_nmi_pending(ic) && !blocked_by_nmi) {
 *         intc_nmi_ack(ic); deliver vector 2;
 *     } else if (RFLAGS.IF && !shadow && intc_pending(ic)) {
 *         int v = intc_ack(ic);        // the INTA cycle
 *         if (v >= 0) deliver vector v through the IDT;
 *     }
 *
 * `shadow` is the one-instruction interrupt shadow after STI and MOV SS /
 * POP SS.  A HLT ends when either branch would deliver; with IF = 0 only an
 * NMI ends it.
 *
 * intc_pending() has no side effects; intc_ack() does (it moves IRR to ISR
 * in whichever controller supplied the vector), and can return a spurious
 * vector (PIC IRQ7/IRQ15 base+7, or the LAPIC SVR vector) which the CPU
 * delivers like any other, or -1 when the request vanished in between.
 * The CPU also reads the APIC_BASE MSR (0x1B) and CR8 through lapic.h.
 *
 * intc->notify, when set, is called whenever something may have become
 * pending, so a CPU running a long instruction slice (or halted) can cut
 * the slice short; polling intc_pending() is always correct without it.
 */
#ifndef DEVICES_IRQ_H
#define DEVICES_IRQ_H

#include <stdbool.h>
#include <stdint.h>

typedef void irq_set_fn(void *ctx, int line, bool level);

struct irq_line {
	irq_set_fn *set;        /* NULL: the wire goes nowhere */
	void *ctx;
	int line;
};

static inline void irq_set(const struct irq_line *l, bool level)
{
	if (l->set)
		l->set(l->ctx, l->line, level);
}
static inline void irq_raise(const struct irq_line *l) { irq_set(l, true); }
static inline void irq_lower(const struct irq_line *l) { irq_set(l, false); }
static inline void irq_pulse(const struct irq_line *l)
{
	irq_set(l, true);
	irq_set(l, false);
}

struct pic8259;
struct lapic;
struct ioapic;

#define INTC_GSI_COUNT 24

struct intc {
	struct pic8259 *pic;    /* may be NULL */
	struct ioapic *ioapic;  /* may be NULL */
	struct lapic *lapic;    /* may be NULL: a pre-APIC PC */

	/* I/O APIC pins whose wire is active-low (PCI INTx), so the pin sees
	 * the inverted level; ISA lines are active-high.  The machine sets
	 * this to match the polarity its MP/ACPI tables advertise. */
	uint32_t gsi_active_low;
	uint32_t gsi_asserted;  /* logical level of each GSI */

	void (*notify)(void *ctx);
	void *notify_ctx;
};

void intc_init(struct intc *ic, struct pic8259 *pic, struct ioapic *io, struct lapic *la);

/* An irq_line for ISA IRQ n (0..15): drives the PIC and the I/O APIC. */
struct irq_line intc_isa_line(struct intc *ic, int irq);
void intc_isa_set(void *intc, int irq, bool level);
/* A line straight to I/O APIC pin gsi (16..23 for PCI), through the
 * polarity in gsi_active_low; level = asserted. */
struct irq_line intc_gsi_line(struct intc *ic, int gsi);
void intc_gsi_set(void *intc, int gsi, bool asserted);
void intc_set_gsi_active_low(struct intc *ic, int gsi, bool active_low);

/* The CPU side; see the overview above. */
bool intc_pending(struct intc *ic);
int intc_ack(struct intc *ic);
bool intc_nmi_pending(struct intc *ic);
void intc_nmi_ack(struct intc *ic);

/* Called by the controllers when their output may have changed. */
void intc_changed(void *ic);

#endif
