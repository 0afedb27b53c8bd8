/* pvm/kernel/virtio_blk.c: a virtio 1.x block device over PCI, polled.
 *
 * The modern PCI transport (virtio 1.1 §4.1): vendor capabilities (id 9)
 * locate the common configuration, the notify area and the device
 * configuration in memory BARs.  The driver negotiates VIRTIO_F_VERSION_1
 * (bit 32) and, when offered, VIRTIO_BLK_F_FLUSH (bit 9); devices without
 * VERSION_1 (legacy-only) are not supported.  One split virtqueue of up
 * to 128 entries; every request uses a fixed chain of three descriptors
 * (header, data, status), so request slot k owns descriptors 3k..3k+2 and
 * up to 42 requests are in flight.  No interrupts: the driver polls the
 * used ring.  Writes copy the data into the slot's bounce page, so the
 * caller's page is free again as soon as the write is queued.
 */
#include "pvm/kernel/kernel.h"

#define VIRTIO_VENDOR           0x1AF4
#define VIRTIO_F_VERSION_1      32
#define VIRTIO_BLK_F_FLUSH      9
#define VIRTIO_BLK_T_IN         0
#define VIRTIO_BLK_T_OUT        1
#define VIRTIO_BLK_T_FLUSH      4

#define ST_ACKNOWLEDGE  1
#define ST_DRIVER       2
#define ST_DRIVER_OK    4
#define ST_FEATURES_OK  8

#define CAP_COMMON      1
#define CAP_NOTIFY      2
#define CAP_DEVICE      4

/* Common configuration (virtio 1.1 §4.1.4.3). */
#define CC_DFSELECT     0x00
#define CC_DF           0x04
#define CC_GFSELECT     0x08
#define CC_GF           0x0C
#define CC_STATUS       0x14
#define CC_Q_SELECT     0x16
#define CC_Q_SIZE       0x18
#define CC_Q_ENABLE     0x1C
#define CC_Q_NOFF       0x1E
#define CC_Q_DESC       0x20
#define CC_Q_DRIVER     0x28
#define CC_Q_DEVICE     0x30

#define DESC_NEXT       1
#define DESC_WRITE      2

#define QMAX            128
#define NSLOTS          (QMAX / 3)

struct vq_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct vq_used_elem { uint32_t id, len; };

struct req_hdr { uint32_t type, reserved; uint64_t sector; };

struct slot {
	struct req_hdr hdr;
	volatile uint8_t status;
	bool busy;
	uint8_t *bounce;        /* one page */
};

struct virtio_blk {
	struct pci_dev pci;
	volatile uint8_t *common, *notify, *devcfg;
	uint16_t qsize, last_used;
	struct vq_desc *desc;
	volatile uint16_t *avail;       /* flags, idx, ring[] */
	volatile uint16_t *used;        /* flags, idx, then elems */
	struct slot *slots;
	int nslots, inflight;
	uint64_t sectors;
	bool flush;
	int errors;
};

static struct virtio_blk blk;

static uint8_t r8(volatile uint8_t *b, int off) { return *(volatile uint8_t *)(b + off); }
static uint16_t r16(volatile uint8_t *b, int off) { return *(volatile uint16_t *)(b + off); }
static uint32_t r32(volatile uint8_t *b, int off) { return *(volatile uint32_t *)(b + off); }
static void w8(volatile uint8_t *b, int off, uint8_t v) { *(volatile uint8_t *)(b + off) = v; }
static void w16(volatile uint8_t *b, int off, uint16_t v) { *(volatile uint16_t *)(b + off) = v; }
static void w32(volatile uint8_t *b, int off, uint32_t v) { *(volatile uint32_t *)(b + off) = v; }
static void w64(volatile uint8_t *b, int off, uint64_t v)
{
	w32(b, off, (uint32_t)v);
	w32(b, off + 4, (uint32_t)(v >> 32));
}

static volatile uint8_t *bar_ptr(const struct pci_dev *d, int bar, uint32_t off, uint32_t len)
{
	uint64_t base = pci_bar(d, bar);
	if (!base)
		return 0;
	map_identity(base + off, len ? len : 1, true);
	return (volatile uint8_t *)(base + off);
}

static bool find_caps(struct virtio_blk *b, uint32_t *notify_mult)
{
	const struct pci_dev *d = &b->pci;
	if (!(pci_read16(d, 0x06) & 0x10))
		return false;           /* no capability list */
	for (uint8_t p = pci_read8(d, 0x34) & 0xFC; p; p = pci_read8(d, (uint8_t)(p + 1)) & 0xFC) {
		if (pci_read8(d, p) != 0x09)
			continue;
		uint8_t type = pci_read8(d, (uint8_t)(p + 3)), bar = pci_read8(d, (uint8_t)(p + 4));
		uint32_t off = pci_read32(d, (uint8_t)(p + 8)), len = pci_read32(d, (uint8_t)(p + 12));
		if (type == CAP_COMMON && !b->common)
			b->common = bar_ptr(d, bar, off, len);
		else if (type == CAP_NOTIFY && !b->notify) {
			b->notify = bar_ptr(d, bar, off, len);
			*notify_mult = pci_read32(d, (uint8_t)(p + 16));
		} else if (type == CAP_DEVICE && !b->devcfg)
			b->devcfg = bar_ptr(d, bar, off, len);
	}
	return b->common && b->notify && b->devcfg;
}

static struct virtio_blk *fail(const char *why)
{
	kprintf("virtio-blk: %s\n", why);
	return 0;
}

struct virtio_blk *virtio_blk_probe(void)
{
	struct pci_dev devs[32];
	int n = pci_scan(devs, ARRAY_LEN(devs));
	struct virtio_blk *b = &blk;
	bool found = false;
	for (int i = 0; i < n && !found; i++) {
		if (devs[i].vendor != VIRTIO_VENDOR)
			continue;
		/* 0x1042: modern block; 0x1001: transitional, subsystem id 2. */
		if (devs[i].device == 0x1042 ||
		    (devs[i].device == 0x1001 && pci_read16(&devs[i], 0x2E) == 2)) {
			b->pci = devs[i];
			found = true;
		}
	}
	if (!found)
		return fail("no device");
	pci_write16(&b->pci, 0x04, pci_read16(&b->pci, 0x04) | 0x6);   /* memory space, bus master */
	uint32_t mult = 0;
	if (!find_caps(b, &mult))
		return fail("no virtio 1.x capabilities (legacy-only devices are not supported)");

	volatile uint8_t *cc = b->common;
	w8(cc, CC_STATUS, 0);
	for (int i = 0; i < 1000000 && r8(cc, CC_STATUS); i++)
		;
	w8(cc, CC_STATUS, ST_ACKNOWLEDGE);
	w8(cc, CC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
	w32(cc, CC_DFSELECT, 0);
	uint32_t f_lo = r32(cc, CC_DF);
	w32(cc, CC_DFSELECT, 1);
	uint32_t f_hi = r32(cc, CC_DF);
	if (!(f_hi & (1u << (VIRTIO_F_VERSION_1 - 32))))
		return fail("device does not offer VIRTIO_F_VERSION_1");
	b->flush = f_lo & (1u << VIRTIO_BLK_F_FLUSH);
	w32(cc, CC_GFSELECT, 0);
	w32(cc, CC_GF, b->flush ? 1u << VIRTIO_BLK_F_FLUSH : 0);
	w32(cc, CC_GFSELECT, 1);
	w32(cc, CC_GF, 1u << (VIRTIO_F_VERSION_1 - 32));
	w8(cc, CC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
	if (!(r8(cc, CC_STATUS) & ST_FEATURES_OK))
		return fail("device refused our features");

	w16(cc, CC_Q_SELECT, 0);
	uint16_t qs = r16(cc, CC_Q_SIZE);
	if (qs == 0)
		return fail("queue 0 missing");
	b->qsize = qs > QMAX ? QMAX : qs;
	w16(cc, CC_Q_SIZE, b->qsize);
	uint64_t ring = page_alloc_contig(3);
	b->desc = (struct vq_desc *)ring;
	b->avail = (volatile uint16_t *)(ring + 16 * QMAX);      /* 2 KiB in */
	b->used = (volatile uint16_t *)(ring + PAGE_SIZE);
	w64(cc, CC_Q_DESC, ring);
	w64(cc, CC_Q_DRIVER, (uint64_t)b->avail);
	w64(cc, CC_Q_DEVICE, (uint64_t)b->used);
	b->notify += (uint32_t)r16(cc, CC_Q_NOFF) * mult;
	w16(cc, CC_Q_ENABLE, 1);

	b->nslots = b->qsize / 3;
	uint64_t spage = page_alloc();
	b->slots = (struct slot *)spage;
	if ((uint64_t)b->nslots * sizeof(struct slot) > PAGE_SIZE)
		panic("virtio-blk: slot table too large");
	for (int i = 0; i < b->nslots; i++)
		b->slots[i].bounce = (uint8_t *)page_alloc();
	w8(cc, CC_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);

	b->sectors = (uint64_t)r32(b->devcfg, 0) | (uint64_t)r32(b->devcfg, 4) << 32;
	kprintf("virtio-blk: %02x:%02x.%u %lu sectors (%lu MiB), queue %u, flush %s\n",
		b->pci.bus, b->pci.dev, b->pci.fn, b->sectors, b->sectors >> 11, b->qsize,
		b->flush ? "yes" : "no");
	return b;
}

uint64_t virtio_blk_sectors(struct virtio_blk *b) { return b->sectors; }
bool virtio_blk_has_flush(struct virtio_blk *b) { return b->flush; }

/* Collect finished requests; returns how many. */
static int reap(struct virtio_blk *b)
{
	int n = 0;
	barrier();
	while (b->last_used != b->used[1]) {
		const volatile struct vq_used_elem *e =
			(const volatile struct vq_used_elem *)(b->used + 2) + b->last_used % b->qsize;
		struct slot *s = &b->slots[e->id / 3];
		if (s->status != 0) {
			kprintf("virtio-blk: request type %u sector %lu failed, status %u\n",
				s->hdr.type, s->hdr.sector, s->status);
			b->errors++;
		}
		s->busy = false;
		b->inflight--;
		b->last_used++;
		n++;
	}
	return n;
}

/* Poll for completions; a device that completes nothing for
 * DEVICE_TIMEOUT_MS of timer ticks is a fatal error, never a hang. */
#define DEVICE_TIMEOUT_MS 10000

static void reap_or_die(struct virtio_blk *b, uint64_t *since)
{
	if (reap(b)) {
		*since = timer_ms();
		return;
	}
	if (timer_ms() - *since > DEVICE_TIMEOUT_MS)
		panic("virtio-blk: no completion for %d ms (%d requests in flight)",
		      DEVICE_TIMEOUT_MS, b->inflight);
	__asm__ volatile("pause");
}

static struct slot *get_slot(struct virtio_blk *b, int *index)
{
	uint64_t since = timer_ms();
	for (;;) {
		for (int i = 0; i < b->nslots; i++)
			if (!b->slots[i].busy) {
				*index = i;
				return &b->slots[i];
			}
		reap_or_die(b, &since);
	}
}

static void submit(struct virtio_blk *b, int k, uint32_t type, uint64_t sector, uint64_t data,
		   uint32_t len)
{
	struct slot *s = &b->slots[k];
	struct vq_desc *d = &b->desc[3 * k];
	s->hdr = (struct req_hdr){ .type = type, .sector = sector };
	s->status = 0xFF;
	s->busy = true;
	d[0] = (struct vq_desc){ (uint64_t)&s->hdr, sizeof s->hdr, DESC_NEXT, (uint16_t)(3 * k + 1) };
	if (len) {
		d[1] = (struct vq_desc){ data, len,
					 (uint16_t)(DESC_NEXT | (type == VIRTIO_BLK_T_IN ? DESC_WRITE : 0)),
					 (uint16_t)(3 * k + 2) };
	} else {
		d[0].next = (uint16_t)(3 * k + 2);
	}
	d[2] = (struct vq_desc){ (uint64_t)&s->status, 1, DESC_WRITE, 0 };
	uint16_t idx = b->avail[1];
	b->avail[2 + idx % b->qsize] = (uint16_t)(3 * k);
	mfence();
	b->avail[1] = (uint16_t)(idx + 1);
	mfence();
	b->inflight++;
	w16(b->notify, 0, 0);
}

int virtio_blk_write_page(struct virtio_blk *b, uint64_t sector, const void *buf)
{
	int k;
	struct slot *s = get_slot(b, &k);
	memcpy(s->bounce, buf, PAGE_SIZE);
	submit(b, k, VIRTIO_BLK_T_OUT, sector, (uint64_t)s->bounce, PAGE_SIZE);
	return 0;
}

int virtio_blk_wait_all(struct virtio_blk *b)
{
	uint64_t since = timer_ms();
	while (b->inflight)
		reap_or_die(b, &since);
	int e = b->errors;
	b->errors = 0;
	return e ? -1 : 0;
}

/* buf must be identity-mapped (below 2 GiB): the device reads its
 * physical address. */
int virtio_blk_read(struct virtio_blk *b, uint64_t sector, void *buf, uint32_t bytes)
{
	int k;
	get_slot(b, &k);
	submit(b, k, VIRTIO_BLK_T_IN, sector, (uint64_t)buf, bytes);
	return virtio_blk_wait_all(b);
}

/* Queue a read of one page; virtio_blk_wait_all() collects it. */
int virtio_blk_read_page_async(struct virtio_blk *b, uint64_t sector, void *buf)
{
	int k;
	get_slot(b, &k);
	submit(b, k, VIRTIO_BLK_T_IN, sector, (uint64_t)buf, PAGE_SIZE);
	return 0;
}

int virtio_blk_flush(struct virtio_blk *b)
{
	int rc = virtio_blk_wait_all(b);
	if (!b->flush)
		return rc;      /* no volatile cache to flush */
	int k;
	get_slot(b, &k);
	submit(b, k, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	return virtio_blk_wait_all(b) || rc ? -1 : 0;
}
