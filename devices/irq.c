/* devices/irq.c: wiring between interrupt sources, the controllers and the
 * CPU.  See devices/irq.h for the picture and the CPU's calling protocol.
 *
 * Priority between the two paths: a LAPIC vector above the processor
 * priority is taken first; the 8259A's ExtINT path (LINT0 programmed as
 * ExtINT, or the APIC hardware-disabled so LINT0 is the INTR pin) is taken
 * next.  ExtINT requests are not ranked against the PPR (SDM 10.8.1: the
 * vector comes from the external controller, outside the APIC's priority
 * scheme).
 *
 * Not modelled: I/O APIC pin 0 (the 8259A's INTR output on PIIX, used only
 * by guests that route ExtINT through the I/O APIC) and ExtINT messages
 * from the I/O APIC.
 */
#include "devices/irq.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pic8259.h"

void intc_changed(void *ctx)
{
	struct intc *ic = ctx;
	if (ic->notify)
		ic->notify(ic->notify_ctx);
}

static void deliver(void *ctx, uint8_t dest, bool logical, unsigned dm, uint8_t vector, bool level)
{
	struct intc *ic = ctx;
	struct lapic *la = ic->lapic;

	if (!la || !lapic_match_dest(la, dest, logical))
		return;
	switch (dm) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		lapic_accept(la, vector, level);
		break;
	case APIC_DM_NMI:
		la->nmi_pending = true;
		intc_changed(ic);
		break;
	default:
		break;  /* SMI, INIT, ExtINT from the I/O APIC: not modelled */
	}
}

void intc_init(struct intc *ic, struct pic8259 *pic, struct ioapic *io, struct lapic *la)
{
	*ic = (struct intc){ .pic = pic, .ioapic = io, .lapic = la };
	if (pic) {
		pic->changed = intc_changed;
		pic->changed_ctx = ic;
	}
	if (io) {
		io->deliver = deliver;
		io->deliver_ctx = ic;
	}
	if (la) {
		la->changed = intc_changed;
		la->changed_ctx = ic;
		if (io) {
			la->eoi_broadcast = ioapic_eoi;
			la->eoi_ctx = io;
		}
	}
}

static void gsi_drive(struct intc *ic, int gsi)
{
	bool asserted = ic->gsi_asserted & (1u << gsi);
	bool low = ic->gsi_active_low & (1u << gsi);
	if (ic->ioapic)
		ioapic_set_irq(ic->ioapic, gsi, asserted != low);
}

void intc_gsi_set(void *ctx, int gsi, bool asserted)
{
	struct intc *ic = ctx;
	if (gsi < 0 || gsi >= INTC_GSI_COUNT)
		return;
	if (asserted)
		ic->gsi_asserted |= 1u << gsi;
	else
		ic->gsi_asserted &= ~(1u << gsi);
	gsi_drive(ic, gsi);
}

void intc_set_gsi_active_low(struct intc *ic, int gsi, bool active_low)
{
	if (gsi < 0 || gsi >= INTC_GSI_COUNT)
		return;
	if (active_low)
		ic->gsi_active_low |= 1u << gsi;
	else
		ic->gsi_active_low &= ~(1u << gsi);
	gsi_drive(ic, gsi);
}

void intc_isa_set(void *ctx, int irq, bool level)
{
	struct intc *ic = ctx;
	if (irq < 0 || irq > 15)
		return;
	/* On the AT bus the IRQ2 pin is wired to IRQ9: IR2 is the cascade. */
	if (irq == 2)
		irq = 9;
	if (ic->pic)
		pic_set_irq(ic->pic, irq, level);
	/* The PIT's IRQ0 reaches I/O APIC pin 2 (the interrupt source
	 * override every PC firmware table declares); the rest are 1:1. */
	intc_gsi_set(ic, irq == 0 ? 2 : irq, level);
}

struct irq_line intc_isa_line(struct intc *ic, int irq)
{
	return (struct irq_line){ .set = intc_isa_set, .ctx = ic, .line = irq };
}

struct irq_line intc_gsi_line(struct intc *ic, int gsi)
{
	return (struct irq_line){ .set = intc_gsi_set, .ctx = ic, .line = gsi };
}

static bool extint_open(const struct intc *ic)
{
	return !ic->lapic || lapic_extint_open(ic->lapic);
}

bool intc_pending(struct intc *ic)
{
	if (ic->lapic && lapic_pending(ic->lapic) >= 0)
		return true;
	return ic->pic && extint_open(ic) && pic_int_output(ic->pic);
}

int intc_ack(struct intc *ic)
{
	if (ic->lapic) {
		int v = lapic_ack(ic->lapic);
		if (v >= 0)
			return v;
	}
	if (ic->pic && extint_open(ic) && pic_int_output(ic->pic))
		return pic_ack(ic->pic);
	return -1;
}

bool intc_nmi_pending(struct intc *ic)
{
	return ic->lapic && ic->lapic->nmi_pending;
}

void intc_nmi_ack(struct intc *ic)
{
	if (ic->lapic)
		ic->lapic->nmi_pending = false;
}
