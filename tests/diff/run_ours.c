/* tests/diff/run_ours.c: run test cases on phantom-sim's own CPU.
 *
 * The machine is as small as it gets: a bus with the code page (RWX) and
 * the scratch page (RW) as RAM, a CPU in flat 64-bit user mode, and the
 * case's state written straight into struct cpu.  Code goes in through
 * bus_dma_write(), which tells the CPU's decode cache that the page
 * changed, so one CPU serves every case.  The CPU runs one instruction per
 * cpu_run() call until rip reaches the end of the sequence, an exception
 * ends the run, or a step limit says it hangs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "machine/bus.h"
#include "machine/cpu.h"
#include "sim/sim.h"
#include "tests/diff/difftest.h"

struct dt_ours {
	struct sim sim;
	struct bus bus;
	struct cpu *cpu;
};

struct dt_ours *dt_ours_open(void)
{
	struct dt_ours *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	sim_init(&o->sim, 0);
	bus_init(&o->bus, &o->sim);
	if (bus_add_ram(&o->bus, "difftest.code", DT_CODE, DT_PAGE, BUS_RWX) ||
	    bus_add_ram(&o->bus, "difftest.scratch", DT_SCRATCH, DT_PAGE, BUS_R | BUS_W)) {
		fprintf(stderr, "difftest: cannot map the pages on our bus\n");
		goto fail;
	}
	o->cpu = cpu_new(&o->sim, &o->bus);
	if (!o->cpu) {
		fprintf(stderr, "difftest: cpu_new failed\n");
		goto fail;
	}
	cpu_set_mode_user64(o->cpu);
	return o;
fail:
	bus_free(&o->bus);
	sim_free(&o->sim);
	free(o);
	return NULL;
}

static void load_state(struct cpu *c, const struct dt_regs *r)
{
	memcpy(c->gpr, r->gpr, sizeof c->gpr);
	c->rip = r->rip;
	cpu_set_rflags(c, r->rflags);
	const struct dt_fx *fx = &r->fx;
	c->mxcsr = fx->mxcsr;
	memcpy(c->xmm, fx->xmm, sizeof c->xmm);
	c->x87.cw = fx->fcw;
	c->x87.top = (uint8_t)((fx->fsw >> 11) & 7);
	c->x87.sw = (uint16_t)(fx->fsw & ~0x3800);
	c->x87.tag_empty = (uint8_t)~fx->ftw;
	for (unsigned i = 0; i < 8; i++) {
		long double v = 0;
		memcpy(&v, fx->st[i], 10);
		c->x87.st[(c->x87.top + i) & 7] = v;
	}
	c->x87.fop = 0;
	c->x87.fip = c->x87.fdp = 0;
}

static void save_state(const struct cpu *c, struct dt_regs *r)
{
	memcpy(r->gpr, c->gpr, sizeof r->gpr);
	r->rip = c->rip;
	r->rflags = cpu_get_rflags(c);
	struct dt_fx *fx = &r->fx;
	memset(fx, 0, sizeof *fx);
	fx->mxcsr = c->mxcsr;
	memcpy(fx->xmm, c->xmm, sizeof fx->xmm);
	fx->fcw = c->x87.cw;
	fx->fsw = x87_status_word(c);
	fx->ftw = (uint8_t)~c->x87.tag_empty;
	for (unsigned i = 0; i < 8; i++)
		memcpy(fx->st[i], &c->x87.st[(c->x87.top + i) & 7], 10);
}

void dt_ours_run(struct dt_ours *o, const struct dt_case *c, struct dt_result *res)
{
	struct cpu *cpu = o->cpu;
	memset(res, 0, offsetof(struct dt_result, scratch));
	/* The whole code area, so no bytes of an earlier case survive. */
	if (bus_dma_write(&o->bus, DT_CODE, c->code, DT_CODE_MAX) ||
	    bus_dma_write(&o->bus, DT_SCRATCH, c->scratch, DT_PAGE)) {
		res->vector = DT_VEC_ERROR;
		return;
	}
	cpu_set_mode_user64(cpu);
	load_state(cpu, &c->init);
	cpu->rip = DT_CODE;

	uint64_t end = DT_CODE + c->len;
	res->vector = DT_VEC_NONE;
	/* Sequences never branch backwards: a few steps per instruction
	 * (a rep string op retires per chunk) is plenty. */
	for (unsigned steps = 0; cpu->rip != end; steps++) {
		if (steps > 4 * DT_MAX_INSNS) {
			res->vector = DT_VEC_HANG;
			break;
		}
		enum cpu_exit why = cpu_run(cpu, 1);
		if (why == CPU_EXIT_EXCEPTION) {
			res->vector = cpu->exc_vector;
			if (cpu->exc_vector == CPU_EXC_PF)
				res->fault_addr = cpu->cr2;
			break;
		}
		if (why != CPU_EXIT_BUDGET) {
			res->vector = DT_VEC_ERROR;
			break;
		}
	}
	save_state(cpu, &res->regs);
	bus_dma_read(&o->bus, DT_SCRATCH, res->scratch, DT_PAGE);
}

void dt_ours_close(struct dt_ours *o)
{
	if (!o)
		return;
	cpu_free(o->cpu);
	bus_free(&o->bus);
	sim_free(&o->sim);
	free(o);
}
