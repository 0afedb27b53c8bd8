/* devices/virtio_blk.c: virtio-blk over PCI, the virtio 1.x interface.
 *
 * Source: Virtual I/O Device (VIRTIO) Version 1.1, OASIS: 2.1 device
 * status, 2.2 feature bits, 2.6 split virtqueues (descriptor table,
 * available and used rings, indirect descriptors), 4.1 virtio over PCI
 * (the vendor capabilities, common configuration layout, ISR status,
 * notification address = notify cap offset + queue_notify_off *
 * notify_off_multiplier), 5.2 block device (config layout, request
 * header, types and status values).  Layouts are written from the
 * specification's tables; docs/block.md repeats them as a driver sees them.
 *
 * Life of a request:
 *   notify     the driver writes the queue index to the notify register;
 *              the device reads the new available-ring entries, walks each
 *              descriptor chain (at most queue-size steps per table, so a
 *              loop ends), checks the header and the sector range, and asks
 *              the blockdev when the request completes (blockdev_submit);
 *   completion an event at that simulated time moves the data by DMA
 *              (bus_dma_read / bus_dma_write, which refuse anything outside
 *              RAM), applies the request to the blockdev, writes the status
 *              byte, the used-ring element and used.idx, and raises INTx
 *              unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT.
 *
 * Guest errors never reach the host:
 *   - a request the device can answer (bad type, sector out of range,
 *     unaligned or oversized transfer, data DMA outside RAM, too short a
 *     header, readable after writable descriptors) completes with
 *     VIRTIO_BLK_S_IOERR (VIRTIO_BLK_S_UNSUPP for an unknown type);
 *   - a ring the device cannot trust (a descriptor index beyond the queue,
 *     a chain longer than the queue (a loop), a bad indirect table, ring
 *     memory outside RAM, an available index that jumps by more than the
 *     queue size, a head already in flight, no writable status byte) sets
 *     DEVICE_NEEDS_RESET, raises a configuration-change interrupt and stops
 *     taking requests until the driver resets the device.
 *
 * Not modelled: MSI-X (INTx only), VIRTIO_F_EVENT_IDX, packed rings,
 * VIRTIO_BLK_F_CONFIG_WCE / DISCARD / WRITE_ZEROES / MQ, notification data.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/blockdev.h"
#include "devices/virtio_blk.h"
#include "machine/blk_crash.h"
#include "machine/bus.h"
#include "sim/sim.h"
#include "traces/trace.h"

/* Capability positions in configuration space. */
enum {
	CAP_COMMON = 0x40, CAP_NOTIFY = 0x50, CAP_ISR = 0x64, CAP_DEVICE = 0x74,
	CAP_PCI = 0x84, CAP_PCI_DATA = CAP_PCI + 16, CAP_END = CAP_PCI + 20,
};
enum { CFG_COMMON = 1, CFG_NOTIFY = 2, CFG_ISR = 3, CFG_DEVICE = 4, CFG_PCI = 5 };
#define COMMON_LEN      0x38
#define DEVCFG_LEN      0x3C
#define ISR_QUEUE       1
#define ISR_CONFIG      2

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }
static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* --- Interrupts and errors ------------------------------------------ */

static void raise_isr(struct virtio_blk *vb, uint8_t bits)
{
	vb->isr |= bits;
	++*vb->st_irqs;
	pci_set_irq(&vb->pci, true);
}

/* The driver broke the rules in a way no status byte can report. */
static void needs_reset(struct virtio_blk *vb)
{
	if (vb->status & VIRTIO_STAT_NEEDS_RESET)
		return;
	vb->status |= VIRTIO_STAT_NEEDS_RESET;
	++*vb->st_needs_reset;
	if (vb->status & VIRTIO_STAT_DRIVER_OK)
		raise_isr(vb, ISR_CONFIG);
}

static bool bus_master(const struct virtio_blk *vb)
{
	return get16(vb->pci.cfg + PCI_COMMAND) & PCI_CMD_MASTER;
}

static bool taking_requests(const struct virtio_blk *vb)
{
	return (vb->status & VIRTIO_STAT_DRIVER_OK) && !(vb->status & VIRTIO_STAT_NEEDS_RESET) &&
	       vb->q_enabled && bus_master(vb);
}

/* --- Requests -------------------------------------------------------- */

static void depth_changed(struct virtio_blk *vb)
{
	trace_queue_depth(vb->trace, vb->sim->now, vb->trace_name, vb->inflight);
}

static void release(struct virtio_blk *vb, struct vblk_req *rq)
{
	if (event_pending(&rq->ev))
		event_cancel(&vb->sim->events, &rq->ev);
	free(rq->segs);
	rq->segs = NULL;
	rq->nsegs = 0;
	if (rq->busy) {
		rq->busy = false;
		vb->inflight--;
		depth_changed(vb);
	}
}

/* Copy between buf and the readable (wstream false) or writable stream of
 * the request, from byte off of that stream.  -1 if any DMA failed. */
static int stream_io(struct virtio_blk *vb, const struct vblk_req *rq, bool wstream,
		     uint64_t off, void *buf, uint64_t len, bool to_guest)
{
	uint8_t *b = buf;
	for (unsigned i = 0; i < rq->nsegs && len; i++) {
		const struct vblk_seg *s = &rq->segs[i];
		if (s->write != wstream)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t n = s->len - off < len ? s->len - off : len;
		int rc = to_guest ? bus_dma_write(vb->bus, s->addr + off, b, n)
				  : bus_dma_read(vb->bus, s->addr + off, b, n);
		if (rc < 0)
			return -1;
		b += n, len -= n, off = 0;
	}
	return len ? -1 : 0;
}

static int add_seg(struct vblk_req *rq, unsigned *cap, uint64_t addr, uint32_t len, bool write)
{
	if (rq->nsegs == *cap) {
		unsigned ncap = *cap ? *cap * 2 : 8;
		struct vblk_seg *s = realloc(rq->segs, ncap * sizeof *s);
		if (!s)
			return -1;
		rq->segs = s;
		*cap = ncap;
	}
	rq->segs[rq->nsegs++] = (struct vblk_seg){addr, len, write};
	return 0;
}

/* Walk the chain from head.  Returns 0, 1 when the descriptors are
 * readable-after-writable (answerable with IOERR), -1 when the chain
 * cannot be trusted. */
static int walk_chain(struct virtio_blk *vb, struct vblk_req *rq)
{
	uint64_t table = vb->q_desc;
	unsigned tsize = vb->q_size, i = rq->head, steps = 0, cap = 0;
	bool indirect = false, seen_write = false, misordered = false;

	for (;;) {
		uint8_t d[16];
		if (i >= tsize || ++steps > tsize)
			return -1;      /* index out of range, or a loop */
		if (bus_dma_read(vb->bus, table + 16ull * i, d, sizeof d) < 0)
			return -1;
		uint64_t addr = get64(d);
		uint32_t len = get32(d + 8);
		uint16_t flags = get16(d + 12), next = get16(d + 14);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			if (indirect || !(vb->drv_features & (1ull << VIRTIO_F_INDIRECT_DESC)) ||
			    (flags & VIRTQ_DESC_F_NEXT) || len == 0 || len % 16 ||
			    len / 16 > VBLK_INDIRECT_MAX)
				return -1;
			table = addr;
			tsize = len / 16;
			i = 0;
			steps = 0;
			indirect = true;
			continue;
		}
		bool w = flags & VIRTQ_DESC_F_WRITE;
		if (w)
			seen_write = true;
		else if (seen_write)
			misordered = true;
		if (len) {
			if (add_seg(rq, &cap, addr, len, w) < 0)
				return -1;
			if (w)
				rq->wlen += len;
			else
				rq->rlen += len;
		}
		if (!(flags & VIRTQ_DESC_F_NEXT))
			return misordered;
		i = next;
	}
}

/* Whether a transfer of len bytes at 512-byte sector `sector` fits the
 * device: aligned to its sector size, inside it, not too large. */
static bool transfer_ok(const struct virtio_blk *vb, uint64_t sector, uint64_t len)
{
	const struct blockdev *bd = vb->bd;
	if (len % bd->sector_size || len > VBLK_REQ_MAX)
		return false;
	if (sector > bd->size / 512 || (sector * 512) % bd->sector_size)
		return false;
	return len <= bd->size - sector * 512;
}

static void complete(void *arg, sim_time_t now);

static void submit(struct virtio_blk *vb, uint16_t head)
{
	struct vblk_req *rq = &vb->req[head];
	memset(rq, 0, sizeof *rq);
	event_init(&rq->ev, complete, rq);
	rq->vb = vb;
	rq->head = head;
	int walked = walk_chain(vb, rq);
	if (walked < 0 || rq->wlen == 0) {
		release(vb, rq);
		needs_reset(vb);
		return;
	}
	++*vb->st_requests;
	rq->status = walked ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	uint8_t hdr[16];
	if (rq->rlen < sizeof hdr || stream_io(vb, rq, false, 0, hdr, sizeof hdr, false) < 0) {
		rq->status = VIRTIO_BLK_S_IOERR;
	} else {
		rq->type = get32(hdr);
		rq->sector = get64(hdr + 8);
	}
	enum blk_op op = BLK_OP_OTHER;
	uint64_t bytes = 0;
	if (rq->status == VIRTIO_BLK_S_OK) {
		switch (rq->type) {
		case VIRTIO_BLK_T_IN:
			op = BLK_OP_READ;
			bytes = rq->wlen - 1;
			break;
		case VIRTIO_BLK_T_OUT:
			op = BLK_OP_WRITE;
			bytes = rq->rlen - sizeof hdr;
			break;
		case VIRTIO_BLK_T_FLUSH:
			op = BLK_OP_FLUSH;
			break;
		case VIRTIO_BLK_T_GET_ID:
			break;
		default:
			rq->status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		if ((op == BLK_OP_READ || op == BLK_OP_WRITE) && !transfer_ok(vb, rq->sector, bytes))
			rq->status = VIRTIO_BLK_S_IOERR;
	}
	if (rq->status != VIRTIO_BLK_S_OK) {
		op = BLK_OP_OTHER;
		bytes = 0;
	}
	rq->busy = true;
	rq->seq = ++vb->submitted;
	vb->inflight++;
	depth_changed(vb);
	event_schedule(&vb->sim->events, &rq->ev, blockdev_submit(vb->bd, op, bytes));
}

/* Carry out a request whose header was accepted; returns the status and
 * the bytes written into the writable stream before the status byte. */
static uint8_t perform(struct virtio_blk *vb, struct vblk_req *rq, uint64_t *written)
{
	struct blockdev *bd = vb->bd;
	uint64_t first = rq->sector * 512 / bd->sector_size;
	*written = 0;
	switch (rq->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool in = rq->type == VIRTIO_BLK_T_IN;
		uint64_t len = in ? rq->wlen - 1 : rq->rlen - 16;
		if (!len)
			return VIRTIO_BLK_S_OK;
		uint8_t *buf = malloc(len);
		int rc = -1;
		if (buf && in && blockdev_read(bd, first, len / bd->sector_size, buf) == 0)
			rc = stream_io(vb, rq, true, 0, buf, len, true);
		if (buf && !in && stream_io(vb, rq, false, 16, buf, len, false) == 0)
			rc = blockdev_write(bd, first, len / bd->sector_size, buf);
		free(buf);
		if (rc < 0)
			return VIRTIO_BLK_S_IOERR;
		*written = in ? len : 0;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_FLUSH:
		blockdev_flush(bd);
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		uint64_t n = rq->wlen - 1 < VIRTIO_BLK_ID_BYTES ? rq->wlen - 1 : VIRTIO_BLK_ID_BYTES;
		if (stream_io(vb, rq, true, 0, vb->id, n, true) < 0)
			return VIRTIO_BLK_S_IOERR;
		*written = n;
		return VIRTIO_BLK_S_OK;
	}
	}
	return VIRTIO_BLK_S_UNSUPP;
}

static void complete(void *arg, sim_time_t now)
{
	struct vblk_req *rq = arg;
	struct virtio_blk *vb = rq->vb;
	uint64_t written = 0;
	uint8_t st = rq->status;
	(void)now;

	if (st == VIRTIO_BLK_S_OK)
		st = perform(vb, rq, &written);
	if (st == VIRTIO_BLK_S_IOERR)
		++*vb->st_ioerr;
	else if (st == VIRTIO_BLK_S_UNSUPP)
		++*vb->st_unsupp;
	if (st != VIRTIO_BLK_S_OK)
		written = 0;
	uint16_t head = rq->head;
	int rc = stream_io(vb, rq, true, rq->wlen - 1, &st, 1, true);
	release(vb, rq);
	if (rc < 0) {
		needs_reset(vb);
		return;
	}
	/* The used element, then used.idx (the driver reads them in that order). */
	uint8_t elem[8];
	put32(elem, head);
	put32(elem + 4, (uint32_t)(written + 1));
	uint8_t idx[2];
	put16(idx, (uint16_t)(vb->used_idx + 1));
	uint64_t slot = vb->q_used + 4 + 8ull * (vb->used_idx % vb->q_size);
	if (bus_dma_write(vb->bus, slot, elem, sizeof elem) < 0 ||
	    bus_dma_write(vb->bus, vb->q_used + 2, idx, sizeof idx) < 0) {
		needs_reset(vb);
		return;
	}
	vb->used_idx++;
	uint8_t flags[2];
	if (bus_dma_read(vb->bus, vb->q_avail, flags, sizeof flags) < 0 ||
	    !(get16(flags) & VIRTQ_AVAIL_F_NO_INTERRUPT))
		raise_isr(vb, ISR_QUEUE);
}

static void process_queue(struct virtio_blk *vb)
{
	if (!taking_requests(vb)) {
		++*vb->st_notify_ignored;
		return;
	}
	uint8_t b[2];
	if (bus_dma_read(vb->bus, vb->q_avail + 2, b, sizeof b) < 0) {
		needs_reset(vb);
		return;
	}
	uint16_t avail_idx = get16(b);
	if ((uint16_t)(avail_idx - vb->last_avail) > vb->q_size) {
		needs_reset(vb);
		return;
	}
	while (vb->last_avail != avail_idx && !(vb->status & VIRTIO_STAT_NEEDS_RESET)) {
		uint64_t at = vb->q_avail + 4 + 2ull * (vb->last_avail % vb->q_size);
		if (bus_dma_read(vb->bus, at, b, sizeof b) < 0) {
			needs_reset(vb);
			return;
		}
		uint16_t head = get16(b);
		if (head >= vb->q_size || vb->req[head].busy) {
			needs_reset(vb);
			return;
		}
		vb->last_avail++;
		submit(vb, head);
	}
}

/* --- Reset ------------------------------------------------------------ */

void virtio_blk_reset(struct virtio_blk *vb)
{
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++)
		release(vb, &vb->req[i]);
	vb->dfselect = vb->gfselect = 0;
	vb->drv_features = 0;
	vb->status = 0;
	vb->isr = 0;
	vb->queue_select = 0;
	vb->q_size = VBLK_QUEUE_MAX;
	vb->q_enabled = false;
	vb->q_desc = vb->q_avail = vb->q_used = 0;
	vb->last_avail = vb->used_idx = 0;
	pci_set_irq(&vb->pci, false);
}

/* --- Common configuration --------------------------------------------- */

static const struct { uint8_t off, size; } common_fields[] = {
	{0x00, 4}, {0x04, 4}, {0x08, 4}, {0x0C, 4}, {0x10, 2}, {0x12, 2}, {0x14, 1}, {0x15, 1},
	{0x16, 2}, {0x18, 2}, {0x1A, 2}, {0x1C, 2}, {0x1E, 2}, {0x20, 8}, {0x28, 8}, {0x30, 8},
};

static uint64_t common_get(const struct virtio_blk *vb, unsigned off)
{
	bool q0 = vb->queue_select == 0;
	switch (off) {
	case 0x00: return vb->dfselect;
	case 0x04: return vb->dfselect < 2 ? (uint32_t)(vb->dev_features >> (32 * vb->dfselect)) : 0;
	case 0x08: return vb->gfselect;
	case 0x0C: return vb->gfselect < 2 ? (uint32_t)(vb->drv_features >> (32 * vb->gfselect)) : 0;
	case 0x10: return 0xFFFF;               /* msix_config: NO_VECTOR */
	case 0x12: return 1;                    /* num_queues */
	case 0x14: return vb->status;
	case 0x15: return 0;                    /* config_generation: never changes */
	case 0x16: return vb->queue_select;
	case 0x18: return q0 ? vb->q_size : 0;
	case 0x1A: return 0xFFFF;               /* queue_msix_vector: NO_VECTOR */
	case 0x1C: return q0 && vb->q_enabled;
	case 0x1E: return 0;                    /* queue_notify_off */
	case 0x20: return q0 ? vb->q_desc : 0;
	case 0x28: return q0 ? vb->q_avail : 0;
	case 0x30: return q0 ? vb->q_used : 0;
	}
	return 0;
}

static bool pow2(unsigned v) { return v && !(v & (v - 1)); }

static void write_status(struct virtio_blk *vb, uint8_t v)
{
	if (v == 0) {
		virtio_blk_reset(vb);
		return;
	}
	uint8_t add = v & ~vb->status;
	if (add & VIRTIO_STAT_FEATURES_OK) {
		/* Accept only a subset of what we offer, with VERSION_1. */
		uint64_t f = vb->drv_features;
		if ((f & ~vb->dev_features) || !(f & (1ull << VIRTIO_F_VERSION_1)))
			add &= ~VIRTIO_STAT_FEATURES_OK;
		else
			blockdev_set_writeback(vb->bd, f & (1ull << VIRTIO_BLK_F_FLUSH));
	}
	if ((add & VIRTIO_STAT_DRIVER_OK) &&
	    !((vb->status | add) & VIRTIO_STAT_FEATURES_OK))
		add &= ~VIRTIO_STAT_DRIVER_OK;
	/* The device sets NEEDS_RESET; a driver cannot, nor clear bits. */
	add &= ~VIRTIO_STAT_NEEDS_RESET;
	vb->status |= add;
	if (add & VIRTIO_STAT_DRIVER_OK)
		process_queue(vb);      /* buffers made available before DRIVER_OK */
}

static void enable_queue(struct virtio_blk *vb)
{
	if (!pow2(vb->q_size) || vb->q_size > VBLK_QUEUE_MAX ||
	    vb->q_desc % 16 || vb->q_avail % 2 || vb->q_used % 4) {
		needs_reset(vb);
		return;
	}
	vb->q_enabled = true;
	vb->last_avail = vb->used_idx = 0;
}

static void common_set(struct virtio_blk *vb, unsigned off, uint64_t v)
{
	bool q0 = vb->queue_select == 0, qlive = q0 && vb->q_enabled;
	switch (off) {
	case 0x00: vb->dfselect = (uint32_t)v; break;
	case 0x08: vb->gfselect = (uint32_t)v; break;
	case 0x0C:
		if (vb->gfselect < 2 && !(vb->status & VIRTIO_STAT_FEATURES_OK)) {
			unsigned sh = 32 * vb->gfselect;
			vb->drv_features = (vb->drv_features & ~(0xFFFFFFFFull << sh)) |
					   ((v & 0xFFFFFFFFull) << sh);
		}
		break;
	case 0x14: write_status(vb, (uint8_t)v); break;
	case 0x16: vb->queue_select = (uint16_t)v; break;
	case 0x18: if (q0 && !qlive) vb->q_size = (uint16_t)v; break;
	case 0x1C: if (q0 && !qlive && (v & 1)) enable_queue(vb); break;
	case 0x20: if (q0 && !qlive) vb->q_desc = v; break;
	case 0x28: if (q0 && !qlive) vb->q_avail = v; break;
	case 0x30: if (q0 && !qlive) vb->q_used = v; break;
	default: break;                         /* read-only or MSI-X */
	}
}

static uint64_t common_read(struct virtio_blk *vb, unsigned off, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		for (unsigned f = 0; f < sizeof common_fields / sizeof common_fields[0]; f++) {
			unsigned fo = common_fields[f].off;
			if (o >= fo && o < fo + common_fields[f].size) {
				v |= ((common_get(vb, fo) >> (8 * (o - fo))) & 0xFF) << (8 * i);
				break;
			}
		}
	}
	return v;
}

static void common_write(struct virtio_blk *vb, unsigned off, unsigned size, uint64_t value)
{
	for (unsigned f = 0; f < sizeof common_fields / sizeof common_fields[0]; f++) {
		unsigned fo = common_fields[f].off, fs = common_fields[f].size;
		if (off + size <= fo || off >= fo + fs)
			continue;
		uint64_t v = common_get(vb, fo);
		for (unsigned i = 0; i < size; i++) {
			unsigned o = off + i;
			if (o < fo || o >= fo + fs)
				continue;
			unsigned sh = 8 * (o - fo);
			v = (v & ~(0xFFull << sh)) | (((value >> (8 * i)) & 0xFF) << sh);
		}
		common_set(vb, fo, v);
	}
}

/* --- Device configuration (struct virtio_blk_config) -------------------- */

static uint64_t devcfg_read(const struct virtio_blk *vb, unsigned off, unsigned size)
{
	uint8_t c[DEVCFG_LEN + 8] = {0};
	put64(c + 0x00, vb->bd->size / 512);    /* capacity, always 512-byte units */
	put32(c + 0x08, VBLK_SIZE_MAX);
	put32(c + 0x0C, VBLK_SEG_MAX);
	put32(c + 0x14, vb->bd->sector_size);   /* blk_size */
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		if (off + i < DEVCFG_LEN)
			v |= (uint64_t)c[off + i] << (8 * i);
	return v;
}

/* --- BAR0 ------------------------------------------------------------- */

uint64_t virtio_blk_mmio_read(void *ctx, uint64_t offset, unsigned size)
{
	struct virtio_blk *vb = ctx;
	if (size > 8)
		size = 8;
	if (offset < VBLK_ISR_OFF)
		return offset < COMMON_LEN ? common_read(vb, (unsigned)offset, size) : 0;
	if (offset < VBLK_DEVCFG_OFF) {
		if (offset != VBLK_ISR_OFF)
			return 0;
		uint8_t v = vb->isr;    /* reading acknowledges and lowers INTx */
		vb->isr = 0;
		pci_set_irq(&vb->pci, false);
		return v;
	}
	if (offset < VBLK_NOTIFY_OFF)
		return devcfg_read(vb, (unsigned)(offset - VBLK_DEVCFG_OFF), size);
	return 0;
}

void virtio_blk_mmio_write(void *ctx, uint64_t offset, unsigned size, uint64_t value)
{
	struct virtio_blk *vb = ctx;
	if (size > 8)
		size = 8;
	if (offset < VBLK_ISR_OFF) {
		if (offset < COMMON_LEN)
			common_write(vb, (unsigned)offset, size, value);
		return;
	}
	if (offset >= VBLK_NOTIFY_OFF && offset < VBLK_NOTIFY_OFF + VBLK_NOTIFY_MULT) {
		if ((value & 0xFFFF) == 0)
			process_queue(vb);
		return;
	}
	/* ISR and device configuration are read-only. */
}

static void map_bar(void *ctx, int bar, uint64_t old_addr, uint64_t new_addr)
{
	struct virtio_blk *vb = ctx;
	if (bar != 0)
		return;
	if (old_addr != PCI_BAR_UNMAPPED && vb->bar_addr == old_addr)
		bus_remove(vb->bus, old_addr, VBLK_BAR_SIZE);
	vb->bar_addr = PCI_BAR_UNMAPPED;
	if (new_addr != PCI_BAR_UNMAPPED &&
	    bus_add_mmio(vb->bus, "virtio-blk", new_addr, VBLK_BAR_SIZE,
			 virtio_blk_mmio_read, virtio_blk_mmio_write, vb) == 0)
		vb->bar_addr = new_addr;
}

/* --- The VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.7) ------------------------ */

/* The access the window's bar/offset/length fields describe, or false. */
static bool window(const struct virtio_blk *vb, uint32_t *off, unsigned *len)
{
	const uint8_t *c = vb->pci.cfg + CAP_PCI;
	*off = get32(c + 8);
	*len = get32(c + 12);
	return c[4] == 0 && (*len == 1 || *len == 2 || *len == 4) && *off % *len == 0 &&
	       *off < VBLK_BAR_SIZE;
}

static bool touches_data(unsigned offset, unsigned size)
{
	return offset < CAP_END && offset + size > CAP_PCI_DATA;
}

static void cfg_write(void *ctx, unsigned offset, unsigned size, uint32_t value)
{
	struct virtio_blk *vb = ctx;
	uint32_t off;
	unsigned len;
	(void)value;
	if (touches_data(offset, size) && window(vb, &off, &len)) {
		uint32_t data = get32(vb->pci.cfg + CAP_PCI_DATA);
		virtio_blk_mmio_write(vb, off, len, data & (len == 4 ? 0xFFFFFFFFu : (1u << (8 * len)) - 1));
	}
}

static uint32_t cfg_read(void *ctx, unsigned offset, unsigned size, uint32_t stored)
{
	struct virtio_blk *vb = ctx;
	uint32_t off;
	unsigned len;
	if (!touches_data(offset, size) || !window(vb, &off, &len))
		return stored;
	uint64_t v = virtio_blk_mmio_read(vb, off, len);
	for (unsigned i = 0; i < size; i++) {
		unsigned o = offset + i;
		if (o < CAP_PCI_DATA || o >= CAP_END)
			continue;
		unsigned k = o - CAP_PCI_DATA;
		uint32_t byte = k < len ? (v >> (8 * k)) & 0xFF : 0;
		stored = (stored & ~(0xFFu << (8 * i))) | byte << (8 * i);
	}
	return stored;
}

/* --- Setup ------------------------------------------------------------ */

static void add_cap(uint8_t *cfg, unsigned at, unsigned next, unsigned len, unsigned type,
		    uint32_t off, uint32_t length)
{
	cfg[at] = 0x09;                 /* PCI_CAP_ID_VNDR */
	cfg[at + 1] = next;
	cfg[at + 2] = len;
	cfg[at + 3] = type;
	cfg[at + 4] = 0;                /* BAR0 */
	put32(cfg + at + 8, off);
	put32(cfg + at + 12, length);
}

void virtio_blk_init(struct virtio_blk *vb, struct sim *sim, struct bus *bus,
		     struct blockdev *bd, struct trace *trace)
{
	memset(vb, 0, sizeof *vb);
	vb->sim = sim;
	vb->bus = bus;
	vb->bd = bd;
	vb->trace = trace;
	vb->bar_addr = PCI_BAR_UNMAPPED;
	vb->trace_name = trace_intern(trace, "virtio-blk");
	vb->dev_features = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH |
			   1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_SEG_MAX |
			   1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_F_INDIRECT_DESC;
	/* The ID string: the image's base name, cut to 20 bytes, zero-padded. */
	const char *name = bd->img.path ? strrchr(bd->img.path, '/') : NULL;
	name = name ? name + 1 : bd->img.path ? bd->img.path : "phantom-blk";
	strncpy(vb->id, name, sizeof vb->id);
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++) {
		event_init(&vb->req[i].ev, complete, &vb->req[i]);
		vb->req[i].vb = vb;
	}
	vb->st_requests = stats_counter(&sim->stats, "virtio_blk.requests");
	vb->st_ioerr = stats_counter(&sim->stats, "virtio_blk.ioerr");
	vb->st_unsupp = stats_counter(&sim->stats, "virtio_blk.unsupp");
	vb->st_needs_reset = stats_counter(&sim->stats, "virtio_blk.needs_reset");
	vb->st_irqs = stats_counter(&sim->stats, "virtio_blk.irqs");
	vb->st_notify_ignored = stats_counter(&sim->stats, "virtio_blk.notify_ignored");

	struct pci_func *f = &vb->pci;
	pci_func_init(f, 0, 0, 0, VBLK_VENDOR, VBLK_DEVICE, 0x018000, 1);
	pci_func_set_bar(f, 0, VBLK_BAR_SIZE, PCI_BAR_MEM32);
	put16(f->cfg + PCI_SUBSYS_VENDOR, VBLK_VENDOR);
	put16(f->cfg + PCI_SUBSYS_ID, 0x0040);
	f->cfg[PCI_STATUS] |= PCI_STATUS_CAP;
	f->cfg[PCI_CAP_PTR] = CAP_COMMON;
	add_cap(f->cfg, CAP_COMMON, CAP_NOTIFY, 16, CFG_COMMON, VBLK_COMMON_OFF, COMMON_LEN);
	add_cap(f->cfg, CAP_NOTIFY, CAP_ISR, 20, CFG_NOTIFY, VBLK_NOTIFY_OFF, VBLK_NOTIFY_MULT);
	put32(f->cfg + CAP_NOTIFY + 16, VBLK_NOTIFY_MULT);
	add_cap(f->cfg, CAP_ISR, CAP_DEVICE, 16, CFG_ISR, VBLK_ISR_OFF, 1);
	add_cap(f->cfg, CAP_DEVICE, CAP_PCI, 16, CFG_DEVICE, VBLK_DEVCFG_OFF, DEVCFG_LEN);
	add_cap(f->cfg, CAP_PCI, 0, 20, CFG_PCI, 0, 0);
	f->wmask[CAP_PCI + 4] = 0xFF;           /* bar */
	memset(f->wmask + CAP_PCI + 8, 0xFF, 12);       /* offset, length, data */
	f->map = map_bar;
	f->cfg_write = cfg_write;
	f->cfg_read = cfg_read;
	f->ctx = vb;
	f->cfg[PCI_INT_PIN] = 1;                /* INTA#, until pci_func_set_irq() */
	virtio_blk_reset(vb);
}

int virtio_blk_attach(struct virtio_blk *vb, struct pci_host *pci, uint8_t dev)
{
	vb->pci.dev = dev & 31;
	vb->pci.bus = 0;
	vb->pci.fn = 0;
	return pci_register(pci, &vb->pci);
}

void virtio_blk_free(struct virtio_blk *vb)
{
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++)
		release(vb, &vb->req[i]);
	if (vb->bar_addr != PCI_BAR_UNMAPPED)
		bus_remove(vb->bus, vb->bar_addr, VBLK_BAR_SIZE);
	vb->bar_addr = PCI_BAR_UNMAPPED;
}

static int by_seq(const void *a, const void *b)
{
	uint64_t x = (*(struct vblk_req *const *)a)->seq, y = (*(struct vblk_req *const *)b)->seq;
	return x < y ? -1 : x > y;
}

/* The accepted writes still in flight, in submission order. */
static unsigned inflight_writes(struct virtio_blk *vb, struct vblk_req **order)
{
	unsigned n = 0;
	for (unsigned i = 0; i < VBLK_QUEUE_MAX; i++) {
		struct vblk_req *rq = &vb->req[i];
		if (rq->busy && rq->status == VIRTIO_BLK_S_OK && rq->type == VIRTIO_BLK_T_OUT)
			order[n++] = rq;
	}
	qsort(order, n, sizeof *order, by_seq);
	return n;
}

size_t virtio_blk_inflight_writes(struct virtio_blk *vb, struct blk_write ***out)
{
	struct blockdev *bd = vb->bd;
	struct vblk_req *order[VBLK_QUEUE_MAX];
	unsigned n = inflight_writes(vb, order);
	struct blk_write **v = calloc(n + 1, sizeof *v);
	size_t k = 0;
	for (unsigned i = 0; v && i < n; i++) {
		struct vblk_req *rq = order[i];
		uint64_t len = rq->rlen - 16;
		uint64_t sector = rq->sector * 512 / bd->sector_size, count = len / bd->sector_size;
		if (!count || sector + count > bd->nsectors || count > UINT32_MAX)
			continue;       /* blockdev_add_inflight() refuses these too */
		struct blk_write *w = malloc(sizeof *w + count * bd->sector_size);
		if (!w)
			continue;
		*w = (struct blk_write){.seq = UINT64_MAX, .sector = sector,
					.count = (uint32_t)count, .inflight = true};
		if (stream_io(vb, rq, false, 16, w->data, count * bd->sector_size, false)) {
			free(w);
			continue;
		}
		v[k++] = w;
	}
	*out = v;
	return k;
}

int virtio_blk_power_fail(struct virtio_blk *vb, const struct crash_policy *pol,
			  struct rng *r, char *err, size_t errlen)
{
	struct blockdev *bd = vb->bd;
	blockdev_freeze(bd);
	/* Writes in flight, in submission order: their data is still in guest
	 * RAM (the driver may not touch it before completion). */
	struct vblk_req *order[VBLK_QUEUE_MAX];
	unsigned n = inflight_writes(vb, order);
	for (unsigned i = 0; i < n; i++) {
		struct vblk_req *rq = order[i];
		uint64_t len = rq->rlen - 16;
		uint8_t *buf = len ? malloc(len) : NULL;
		if (buf && stream_io(vb, rq, false, 16, buf, len, false) == 0)
			blockdev_add_inflight(bd, rq->sector * 512 / bd->sector_size,
					      len / bd->sector_size, buf);
		free(buf);
	}
	virtio_blk_reset(vb);
	return blk_crash_apply(bd, pol, r, err, errlen);
}
