/* devices/pci.c: PCI configuration mechanism #1 and the function registry.
 *
 * Sources: PCI Local Bus Specification 3.0 (chapter 6, configuration
 * space; 3.2.2.3.2, configuration mechanism #1), the Intel 440FX PMC
 * datasheet (order 290549) for the host bridge's identity.
 *
 * CONFIG_ADDRESS (0xCF8, dword accesses only) holds the enable bit 31, bus
 * 23:16, device 15:11, function 10:8 and the dword register 7:2;
 * CONFIG_DATA (0xCFC-0xCFF) reaches that register with byte, word or dword
 * accesses.  A function that is not registered reads as all ones, which
 * is how software finds the slot empty (vendor ID 0xFFFF); writes to it
 * vanish.
 *
 * Each function keeps its 256-byte space with a writable-bits mask and a
 * write-one-to-clear mask, so BAR sizing works as on hardware: writing all
 * ones leaves the writable address bits set and the read-back gives the
 * size.  Any write that may move a BAR (the BAR itself or the command
 * register's decode bits) is followed by map() calls for the BARs whose
 * effective address changed.
 *
 * The host bridge at 00:00.0 is an Intel 440FX (8086:1237, revision 2,
 * class 06/00/00), the part QEMU and Bochs also present, so guest drivers
 * know it; none of its chipset registers (PAM, SMRAM, DRAM rows) exist.
 *
 * Not modelled: PCI-to-PCI bridges (bus 0 only is populated, other buses
 * are empty), expansion ROM BARs (read as 0), INTx sharing, the PIIX reset
 * control register at 0xCF9 (byte accesses to 0xCF8-0xCFB are ignored),
 * and the 0xCF8 type-1 bits 1:0 (they read back as 0).
 */
#include <string.h>

#include "devices/pci.h"
#include "machine/bus.h"
#include "sim/sim.h"

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }

void pci_func_init(struct pci_func *f, uint8_t bus, uint8_t dev, uint8_t fn,
		   uint16_t vendor, uint16_t device, uint32_t class_code, uint8_t revision)
{
	memset(f, 0, sizeof *f);
	f->bus = bus;
	f->dev = dev & 31;
	f->fn = fn & 7;
	put16(f->cfg + PCI_VENDOR_ID, vendor);
	put16(f->cfg + PCI_DEVICE_ID, device);
	f->cfg[PCI_REVISION] = revision;
	f->cfg[PCI_CLASS_PROG] = class_code;
	f->cfg[PCI_CLASS_PROG + 1] = class_code >> 8;
	f->cfg[PCI_CLASS_PROG + 2] = class_code >> 16;
	/* Command: I/O, memory, bus master, parity response, SERR, INTx
	 * disable.  Status: the error bits are write-one-to-clear. */
	put16(f->wmask + PCI_COMMAND, 0x0547);
	put16(f->w1c + PCI_STATUS, 0xF900);
	f->wmask[PCI_CACHE_LINE] = 0xFF;
	f->wmask[PCI_LATENCY] = 0xFF;
	f->wmask[PCI_INT_LINE] = 0xFF;
	for (int i = 0; i < 6; i++)
		f->bar[i].mapped = PCI_BAR_UNMAPPED;
}

int pci_func_set_bar(struct pci_func *f, int idx, uint64_t size, unsigned kind)
{
	bool is64 = kind & PCI_BAR_MEM64;
	bool io = kind & PCI_BAR_IO;

	if (idx < 0 || idx > 5 || (is64 && (idx > 4 || io)))
		return -1;
	if (size < (io ? 4 : 16) || (size & (size - 1)) || (io && size > 256) ||
	    (!is64 && !io && size > (1ULL << 31)))
		return -1;
	uint64_t mask = ~(size - 1);
	f->bar[idx].size = size;
	f->bar[idx].kind = kind;
	uint8_t *c = f->cfg + PCI_BAR0 + 4 * idx, *w = f->wmask + PCI_BAR0 + 4 * idx;
	if (io) {
		put32(c, 1);
		put32(w, (uint32_t)mask & 0xFFFFFFFC);
	} else {
		put32(c, (is64 ? 4 : 0) | (kind & PCI_BAR_PREFETCH ? 8 : 0));
		put32(w, (uint32_t)mask & 0xFFFFFFF0);
	}
	if (is64) {
		f->bar[idx + 1].size = 0;
		put32(c + 4, 0);
		put32(w + 4, (uint32_t)(mask >> 32));
	}
	return 0;
}

void pci_func_set_irq(struct pci_func *f, uint8_t pin, uint8_t line, struct irq_line irq)
{
	f->cfg[PCI_INT_PIN] = pin;
	f->cfg[PCI_INT_LINE] = line;
	f->irq = irq;
}

static void drive_irq(struct pci_func *f)
{
	uint16_t cmd = f->cfg[PCI_COMMAND] | f->cfg[PCI_COMMAND + 1] << 8;
	bool out = f->irq_level && !(cmd & PCI_CMD_INTX_DISABLE);
	if (f->irq_level)
		f->cfg[PCI_STATUS] |= PCI_STATUS_INTX;
	else
		f->cfg[PCI_STATUS] &= ~PCI_STATUS_INTX;
	if (out != f->irq_out) {
		f->irq_out = out;
		irq_set(&f->irq, out);
	}
}

void pci_set_irq(struct pci_func *f, bool level)
{
	f->irq_level = level;
	drive_irq(f);
}

/* The address a BAR decodes now, or PCI_BAR_UNMAPPED. */
static uint64_t bar_address(const struct pci_func *f, int i)
{
	const struct pci_bar *b = &f->bar[i];
	uint16_t cmd = f->cfg[PCI_COMMAND] | f->cfg[PCI_COMMAND + 1] << 8;
	bool io = b->kind & PCI_BAR_IO;
	uint32_t lo = get32(f->cfg + PCI_BAR0 + 4 * i);
	uint32_t wlo = get32(f->wmask + PCI_BAR0 + 4 * i);
	uint64_t addr;

	if (!b->size || !(cmd & (io ? PCI_CMD_IO : PCI_CMD_MEM)))
		return PCI_BAR_UNMAPPED;
	addr = lo & wlo;
	if (b->kind & PCI_BAR_MEM64) {
		uint32_t hi = get32(f->cfg + PCI_BAR0 + 4 * i + 4);
		if (hi == 0xFFFFFFFF)
			return PCI_BAR_UNMAPPED;        /* sizing the high half */
		addr |= (uint64_t)hi << 32;
	}
	/* Zero and the sizing pattern are not addresses anyone means. */
	if (addr == 0 || (lo & wlo) == wlo)
		return PCI_BAR_UNMAPPED;
	if (io && addr + b->size > 0x10000)
		return PCI_BAR_UNMAPPED;
	return addr;
}

static void update_bars(struct pci_func *f)
{
	for (int i = 0; i < 6; i++) {
		if (!f->bar[i].size)
			continue;
		uint64_t a = bar_address(f, i);
		if (a == f->bar[i].mapped)
			continue;
		uint64_t old = f->bar[i].mapped;
		f->bar[i].mapped = a;
		if (f->map)
			f->map(f->ctx, i, old, a);
	}
}

int pci_register(struct pci_host *h, struct pci_func *f)
{
	if (h->nfuncs >= PCI_MAX_FUNCS || pci_find(h, f->bus, f->dev, f->fn))
		return -1;
	h->funcs[h->nfuncs++] = f;
	return 0;
}

struct pci_func *pci_find(struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (unsigned i = 0; i < h->nfuncs; i++) {
		struct pci_func *f = h->funcs[i];
		if (f->bus == bus && f->dev == dev && f->fn == fn)
			return f;
	}
	return NULL;
}

uint32_t pci_cfg_read(struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
		      unsigned offset, unsigned size)
{
	struct pci_func *f = pci_find(h, bus, dev, fn);
	uint32_t ones = size >= 4 ? 0xFFFFFFFF : (1u << (8 * size)) - 1;

	++*h->st_reads;
	if (!f) {
		++*h->st_absent;
		return ones;
	}
	uint32_t v = 0;
	for (unsigned i = 0; i < size && offset + i < 256; i++)
		v |= (uint32_t)f->cfg[offset + i] << (8 * i);
	if (f->cfg_read)
		v = f->cfg_read(f->ctx, offset, size, v) & ones;
	return v;
}

void pci_cfg_write(struct pci_host *h, uint8_t bus, uint8_t dev, uint8_t fn,
		   unsigned offset, unsigned size, uint32_t value)
{
	struct pci_func *f = pci_find(h, bus, dev, fn);

	++*h->st_writes;
	if (!f)
		return;
	for (unsigned i = 0; i < size && offset + i < 256; i++) {
		unsigned o = offset + i;
		uint8_t b = value >> (8 * i);
		f->cfg[o] = (f->cfg[o] & ~f->wmask[o]) | (b & f->wmask[o]);
		f->cfg[o] &= ~(b & f->w1c[o]);
	}
	if (offset < 0x28 && offset + size > 0x04) {
		update_bars(f);
		drive_irq(f);   /* INTx disable may have changed */
	}
	if (f->cfg_write)
		f->cfg_write(f->ctx, offset, size, value);
}

uint32_t pci_io_read(void *host, uint16_t port, unsigned size)
{
	struct pci_host *h = host;
	uint32_t a = h->addr;

	if (port == 0xCF8)
		return size == 4 ? a : 0xFFFFFFFF;
	if (port < 0xCFC)
		return 0xFFFFFFFF;
	if (!(a & 0x80000000))
		return 0xFFFFFFFF;
	unsigned off = (a & 0xFC) + (port & 3);
	if ((port & 3) + size > 4)
		size = 4 - (port & 3);
	return pci_cfg_read(h, a >> 16, (a >> 11) & 31, (a >> 8) & 7, off, size);
}

void pci_io_write(void *host, uint16_t port, unsigned size, uint32_t value)
{
	struct pci_host *h = host;
	uint32_t a = h->addr;

	if (port == 0xCF8) {
		/* Only a dword access is CONFIG_ADDRESS; narrower ones go to
		 * other registers (0xCF9 is PIIX's reset control). */
		if (size == 4)
			h->addr = value & 0x80FFFFFC;
		return;
	}
	if (port < 0xCFC || !(a & 0x80000000))
		return;
	unsigned off = (a & 0xFC) + (port & 3);
	if ((port & 3) + size > 4)
		size = 4 - (port & 3);
	pci_cfg_write(h, a >> 16, (a >> 11) & 31, (a >> 8) & 7, off, size, value);
}

void pci_init(struct pci_host *h, struct sim *sim)
{
	memset(h, 0, sizeof *h);
	h->sim = sim;
	pci_func_init(&h->bridge, 0, 0, 0, 0x8086, 0x1237, 0x060000, 0x02);
	/* The 440FX responds as a bus master and memory target; its command
	 * register reads 0x0006 after reset. */
	put16(h->bridge.cfg + PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER);
	put16(h->bridge.cfg + PCI_STATUS, 0x0280);      /* medium DEVSEL, fast back-to-back */
	pci_register(h, &h->bridge);
	h->st_reads = stats_counter(&sim->stats, "pci.cfg_reads");
	h->st_writes = stats_counter(&sim->stats, "pci.cfg_writes");
	h->st_absent = stats_counter(&sim->stats, "pci.cfg_absent");
}

int pci_attach(struct pci_host *h, struct bus *bus)
{
	return bus_add_pio(bus, 0xCF8, 8, pci_io_read, pci_io_write, h);
}
