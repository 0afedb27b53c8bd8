/* pvm/kernel/pci.c: PCI configuration mechanism #1 and bus enumeration.
 *
 * Ports 0xCF8 (address) and 0xCFC (data).  pci_scan walks bus 0 and the
 * buses behind PCI-to-PCI bridges.  pci_bar decodes a memory or I/O BAR;
 * if firmware left a memory BAR unassigned (0, as a loader without a BIOS
 * may), it assigns one from ABI_PCI_MMIO_BASE upwards.
 */
#include "pvm/kernel/kernel.h"

static uint64_t next_mmio = ABI_PCI_MMIO_BASE;

/* BARs this kernel placed, so several capabilities in one BAR agree. */
static struct { struct pci_dev d; int bar; uint64_t base; } placed[16];
static int nplaced;

static uint32_t addr(const struct pci_dev *d, uint8_t off)
{
	return 0x80000000u | (uint32_t)d->bus << 16 | (uint32_t)d->dev << 11 |
	       (uint32_t)d->fn << 8 | (off & 0xFC);
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
	outl(0xCF8, addr(d, off));
	return inl(0xCFC);
}

void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v)
{
	outl(0xCF8, addr(d, off));
	outl(0xCFC, v);
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
	return (uint16_t)(pci_read32(d, off) >> ((off & 2) * 8));
}

void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v)
{
	uint32_t w = pci_read32(d, off);
	unsigned sh = (off & 2) * 8;
	w = (w & ~(0xFFFFu << sh)) | (uint32_t)v << sh;
	pci_write32(d, off, w);
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
	return (uint8_t)(pci_read32(d, off) >> ((off & 3) * 8));
}

static int scan_bus(uint8_t bus, struct pci_dev *out, int n, int max)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		for (uint8_t fn = 0; fn < 8; fn++) {
			struct pci_dev d = { .bus = bus, .dev = dev, .fn = fn };
			uint32_t id = pci_read32(&d, 0);
			if ((id & 0xFFFF) == 0xFFFF) {
				if (fn == 0)
					break;
				continue;
			}
			d.vendor = (uint16_t)id;
			d.device = (uint16_t)(id >> 16);
			uint32_t cls = pci_read32(&d, 8);
			d.class = (uint8_t)(cls >> 24);
			d.subclass = (uint8_t)(cls >> 16);
			kprintf("pci: %02x:%02x.%u %04x:%04x class %02x/%02x\n", bus, dev, fn,
				d.vendor, d.device, d.class, d.subclass);
			if (n < max)
				out[n++] = d;
			uint8_t htype = pci_read8(&d, 0x0E);
			if ((htype & 0x7F) == 1) {      /* PCI-to-PCI bridge */
				uint8_t secondary = pci_read8(&d, 0x19);
				if (secondary > bus)
					n = scan_bus(secondary, out, n, max);
			}
			if (fn == 0 && !(htype & 0x80))
				break;                  /* single-function device */
		}
	}
	return n;
}

int pci_scan(struct pci_dev *out, int max)
{
	return scan_bus(0, out, 0, max);
}

uint64_t pci_bar(const struct pci_dev *d, int bar)
{
	uint8_t off = (uint8_t)(0x10 + 4 * bar);
	uint32_t lo = pci_read32(d, off);
	if (lo & 1)
		return lo & ~3u;                /* I/O space */
	bool is64 = ((lo >> 1) & 3) == 2;
	uint64_t base = lo & ~0xFull;
	if (is64)
		base |= (uint64_t)pci_read32(d, (uint8_t)(off + 4)) << 32;
	for (int i = 0; i < nplaced; i++)
		if (placed[i].bar == bar && placed[i].d.bus == d->bus && placed[i].d.dev == d->dev &&
		    placed[i].d.fn == d->fn)
			return placed[i].base;
	if (base && !cmdline.pci_assign)
		return base;
	/* Unassigned: size it (write all ones, read the mask) and place it,
	 * with memory decoding off meanwhile, as firmware does. */
	uint16_t cmd = pci_read16(d, 0x04);
	pci_write16(d, 0x04, cmd & ~0x2);
	pci_write32(d, off, 0xFFFFFFFFu);
	uint32_t mask = pci_read32(d, off) & ~0xFu;
	uint64_t size = (uint64_t)(~mask) + 1;
	if (mask == 0) {
		pci_write32(d, off, 0);
		pci_write16(d, 0x04, cmd);
		return 0;
	}
	base = ALIGN_UP(next_mmio, size);
	next_mmio = base + size;
	pci_write32(d, off, (uint32_t)base);
	if (is64)
		pci_write32(d, (uint8_t)(off + 4), 0);
	pci_write16(d, 0x04, cmd);
	if (nplaced < (int)ARRAY_LEN(placed))
		placed[nplaced++] = (typeof(placed[0])){ *d, bar, base };
	kprintf("pci: %02x:%02x.%u BAR%d assigned 0x%lx (%lu bytes)\n", d->bus, d->dev, d->fn,
		bar, base, size);
	return base;
}
