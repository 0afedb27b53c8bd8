/* machine/string.c: movs, cmps, stos, lods, scas with rep/repe/repne.
 *
 * One element per iteration, registers updated after each element, so a
 * fault in the middle of a rep leaves rsi/rdi/rcx describing the work
 * done, as on hardware.  A rep instruction runs at most CPU_REP_CHUNK
 * iterations per retirement and then retires with rip unchanged: the next
 * "instruction" continues it, which keeps a huge rcx from stalling the
 * event loop (hardware also lets interrupts in between iterations).
 *
 * The source is ds:rsi (segment override allowed, fs/gs add their base),
 * the destination es:rdi (no override).  With the 67 prefix the pointers
 * and the count are esi/edi/ecx.  DF=1 walks downwards.
 *
 * Fast path: forward rep movs/stos within pages the TLB maps for direct
 * access are done with memmove/stores a page at a time.
 */
#include "machine/exec.h"

enum str_kind { STR_MOVS, STR_CMPS, STR_STOS, STR_LODS, STR_SCAS };

static uint64_t seg_base(const struct cpu *c, const struct insn *i)
{
	return i->seg == SEG_FS ? c->fs_base : i->seg == SEG_GS ? c->gs_base : 0;
}

static uint8_t *tlb_ptr(struct cpu *c, uint64_t la, unsigned perm)
{
	uint64_t pg = la >> 12;
	const struct cpu_tlb_entry *e = &c->tlb[pg & (CPU_TLB_SIZE - 1)];
	if (e->page == pg && (e->perm & perm) == perm)
		return e->host + (la & 4095);
	return NULL;
}

/* Forward rep movs/stos, elements that fit in the current pages.  Returns
 * the number of elements done (0: take the slow path). */
static uint64_t fast_forward(struct cpu *c, const struct insn *i, enum str_kind k,
			     uint64_t src, uint64_t dst, uint64_t count, unsigned size)
{
	uint64_t room = 4096 - (dst & 4095);
	if (k == STR_MOVS && 4096 - (src & 4095) < room)
		room = 4096 - (src & 4095);
	uint64_t n = room / size;
	if (n > count)
		n = count;
	if (n == 0)
		return 0;
	uint8_t *d = tlb_ptr(c, dst, BUS_W);
	if (!d)
		return 0;
	if (k == STR_STOS) {
		uint64_t v = c->gpr[CPU_RAX];
		if (size == 1) {
			memset(d, (int)(v & 0xff), n);
		} else {
			for (uint64_t e = 0; e < n; e++)
				store_le(d + e * size, size, v);
		}
		return n;
	}
	const uint8_t *s = tlb_ptr(c, src, BUS_R);
	if (!s)
		return 0;
	uint64_t bytes = n * size;
	/* Element-by-element forward copy equals memmove unless the
	 * destination starts inside the source ahead of it. */
	if (dst > src && dst < src + bytes)
		return 0;
	memmove(d, s, bytes);
	return n;
}

static void string_op(struct cpu *c, const struct insn *i, enum str_kind k)
{
	unsigned size = i->osz, asz = i->asz;
	uint64_t am = size_mask(asz);
	int64_t step = (c->rflags & FL_DF) ? -(int64_t)size : (int64_t)size;
	uint64_t sbase = seg_base(c, i);
	bool rep = i->rep != 0;
	uint64_t iters = rep ? CPU_REP_CHUNK : 1;

	while (iters) {
		uint64_t cx = rep ? reg_read(c, i, CPU_RCX, asz) : 1;
		if (cx == 0)
			return;
		uint64_t si = reg_read(c, i, CPU_RSI, asz), di = reg_read(c, i, CPU_RDI, asz);
		bool stop = false;

		if (rep && step > 0 && (k == STR_MOVS || k == STR_STOS) &&
		    ((si + 4096) & am) > si && ((di + 4096) & am) > di) {
			uint64_t n = fast_forward(c, i, k, sbase + si, di, cx < iters ? cx : iters, size);
			if (n) {
				if (k == STR_MOVS)
					reg_write(c, i, CPU_RSI, asz, si + n * size);
				reg_write(c, i, CPU_RDI, asz, di + n * size);
				reg_write(c, i, CPU_RCX, asz, cx - n);
				iters -= n;
				continue;
			}
		}

		switch (k) {
		case STR_MOVS:
			mem_write(c, di, size, mem_read(c, sbase + si, size));
			si += step, di += step;
			break;
		case STR_STOS:
			mem_write(c, di, size, c->gpr[CPU_RAX]);
			di += step;
			break;
		case STR_LODS: {
			uint64_t v = mem_read(c, sbase + si, size);
			reg_write(c, i, CPU_RAX, size, v);
			si += step;
			break;
		}
		case STR_CMPS: {
			uint64_t a = mem_read(c, sbase + si, size), b = mem_read(c, di, size);
			flags_sub(c, a, b, 0, size);
			si += step, di += step;
			break;
		}
		case STR_SCAS: {
			uint64_t b = mem_read(c, di, size);
			flags_sub(c, c->gpr[CPU_RAX], b, 0, size);
			di += step;
			break;
		}
		}
		if (k == STR_MOVS || k == STR_LODS || k == STR_CMPS)
			reg_write(c, i, CPU_RSI, asz, si);
		if (k != STR_LODS)
			reg_write(c, i, CPU_RDI, asz, di);
		if (!rep)
			return;
		reg_write(c, i, CPU_RCX, asz, cx - 1);
		if (k == STR_CMPS || k == STR_SCAS) {
			bool zf = (c->rflags & FL_ZF) != 0;
			stop = i->rep == 0xF3 ? !zf : zf;
		}
		if (stop || cx == 1)
			return;
		iters--;
	}
	/* Chunk used up with work left: run this instruction again. */
	if (reg_read(c, i, CPU_RCX, asz) != 0)
		c->next_rip = c->rip;
}

void op_movs(struct cpu *c, const struct insn *i) { string_op(c, i, STR_MOVS); }
void op_cmps(struct cpu *c, const struct insn *i) { string_op(c, i, STR_CMPS); }
void op_stos(struct cpu *c, const struct insn *i) { string_op(c, i, STR_STOS); }
void op_lods(struct cpu *c, const struct insn *i) { string_op(c, i, STR_LODS); }
void op_scas(struct cpu *c, const struct insn *i) { string_op(c, i, STR_SCAS); }
