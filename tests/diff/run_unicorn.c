/* tests/diff/run_unicorn.c: run test cases on Unicorn (QEMU's TCG).
 *
 * One engine serves the whole run: the code and scratch pages are mapped
 * once, and each case rewrites them, drops the translation cache for the
 * code page (the code changes at the same address every case) and loads
 * the registers.  uc_emu_start() runs until rip reaches the end of the
 * sequence.
 *
 * The x87/MXCSR/XMM state goes in and out the way it does on the host: a
 * one-instruction stub on a private page (DT_UC_AUX, which the test never
 * compares) runs FXRSTOR64 before the case and FXSAVE64 after it, so the
 * image needs no translation between layouts.
 *
 * Exceptions come back three ways: through the interrupt hook (#GP, #BP
 * ...; QEMU has already rolled rip back to the faulting instruction), as
 * UC_ERR_INSN_INVALID (#UD), or as an unmapped/protected access error,
 * which the memory hook turns into #PF with the faulting address.  After
 * such an error the engine is replaced by a fresh one.  What Unicorn gets
 * wrong is listed in docs/difftest.md; the generator keeps those cases
 * away from it.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/diff/difftest.h"

#ifdef HAVE_UNICORN
#include <unicorn/unicorn.h>

#define DT_UC_AUX       0x20000000ULL
#define AUX_RESTORE     0x000   /* fxrstor64 [rip+0xf8]  -> AUX_IN */
#define AUX_SAVE        0x040   /* fxsave64 [rip+0x3b8]  -> AUX_OUT */
#define AUX_IN          0x100
#define AUX_OUT         0x400
static const uint8_t stub_restore[8] = { 0x48, 0x0f, 0xae, 0x0d, 0xf8, 0x00, 0x00, 0x00 };
static const uint8_t stub_save[8] = { 0x48, 0x0f, 0xae, 0x05, 0xb8, 0x03, 0x00, 0x00 };

struct dt_unicorn {
	uc_engine *uc;
	uc_hook intr_hook, mem_hook;
	int vector;
	uint64_t fault_addr;
};

static const int gpr_id[16] = {
	UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
	UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
	UC_X86_REG_R8, UC_X86_REG_R9, UC_X86_REG_R10, UC_X86_REG_R11,
	UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
};

static void on_intr(uc_engine *uc, uint32_t intno, void *ctx)
{
	struct dt_unicorn *u = ctx;
	/* After an unmapped-access error Unicorn 2.0.1 reports spurious #DBs
	 * (the engine is reopened then, see below); the test never sets TF,
	 * so a #DB is never real anyway. */
	if (intno == 1)
		return;
	u->vector = (int)intno;
	uc_emu_stop(uc);
}

static bool on_bad_mem(uc_engine *uc, uc_mem_type type, uint64_t addr, int size,
		       int64_t value, void *ctx)
{
	struct dt_unicorn *u = ctx;
	u->vector = 14;
	u->fault_addr = addr;
	return false;           /* stop emulation with an error */
}

/* Create and set up the engine; 0 or -1. */
static int engine_open(struct dt_unicorn *u)
{
	uc_err err = uc_open(UC_ARCH_X86, UC_MODE_64, &u->uc);
	if (err) {
		fprintf(stderr, "difftest: uc_open: %s\n", uc_strerror(err));
		u->uc = NULL;
		return -1;
	}
	/* A recent CPU model, so lzcnt, tzcnt and the like exist. */
	uc_ctl_set_cpu_model(u->uc, UC_CPU_X86_EPYC_ROME);
	/* CR4.OSFXSR|OSXMMEXCPT as an OS sets them: without OSFXSR QEMU's
	 * FXSAVE/FXRSTOR skip MXCSR and the XMM registers. */
	uint64_t cr4 = 0;
	uc_reg_read(u->uc, UC_X86_REG_CR4, &cr4);
	cr4 |= 0x600;
	uc_reg_write(u->uc, UC_X86_REG_CR4, &cr4);
	if (uc_mem_map(u->uc, DT_CODE, DT_PAGE, UC_PROT_ALL) ||
	    uc_mem_map(u->uc, DT_SCRATCH, DT_PAGE, UC_PROT_READ | UC_PROT_WRITE) ||
	    uc_mem_map(u->uc, DT_UC_AUX, DT_PAGE, UC_PROT_ALL) ||
	    uc_mem_write(u->uc, DT_UC_AUX + AUX_RESTORE, stub_restore, sizeof stub_restore) ||
	    uc_mem_write(u->uc, DT_UC_AUX + AUX_SAVE, stub_save, sizeof stub_save) ||
	    uc_hook_add(u->uc, &u->intr_hook, UC_HOOK_INTR, (void *)on_intr, u, 1, 0) ||
	    uc_hook_add(u->uc, &u->mem_hook, UC_HOOK_MEM_INVALID, (void *)on_bad_mem, u, 1, 0)) {
		fprintf(stderr, "difftest: cannot set up the Unicorn engine\n");
		uc_close(u->uc);
		u->uc = NULL;
		return -1;
	}
	return 0;
}

struct dt_unicorn *dt_unicorn_open(void)
{
	struct dt_unicorn *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	if (engine_open(u)) {
		free(u);
		return NULL;
	}
	return u;
}

static void read_regs(uc_engine *uc, struct dt_regs *r)
{
	for (int i = 0; i < 16; i++)
		uc_reg_read(uc, gpr_id[i], &r->gpr[i]);
	uc_reg_read(uc, UC_X86_REG_RIP, &r->rip);
	uc_reg_read(uc, UC_X86_REG_RFLAGS, &r->rflags);
}

/* Run one of the FXRSTOR/FXSAVE stubs. */
static int run_stub(uc_engine *uc, uint64_t off)
{
	return uc_emu_start(uc, DT_UC_AUX + off, DT_UC_AUX + off + 8, 0, 0) ? -1 : 0;
}

void dt_unicorn_run(struct dt_unicorn *u, const struct dt_case *c, struct dt_result *res)
{
	uc_engine *uc = u->uc;
	uc_err err;
	memset(res, 0, offsetof(struct dt_result, scratch));
	uc_mem_write(uc, DT_CODE, c->code, DT_CODE_MAX);      /* with its zero tail */
	uc_ctl_remove_cache(uc, DT_CODE, DT_CODE + DT_PAGE);
	uc_mem_write(uc, DT_SCRATCH, c->scratch, DT_PAGE);

	const struct dt_regs *in = &c->init;
	uc_mem_write(uc, DT_UC_AUX + AUX_IN, &in->fx, sizeof in->fx);
	u->vector = DT_VEC_NONE;
	if (run_stub(uc, AUX_RESTORE) || u->vector != DT_VEC_NONE) {
		res->vector = DT_VEC_ERROR;
		return;
	}
	for (int i = 0; i < 16; i++)
		uc_reg_write(uc, gpr_id[i], &in->gpr[i]);
	uint64_t fl = in->rflags;
	uc_reg_write(uc, UC_X86_REG_RFLAGS, &fl);

	u->fault_addr = 0;
	uint64_t end = DT_CODE + c->len;
	err = uc_emu_start(uc, DT_CODE, end, 0, 0);
	read_regs(uc, &res->regs);
	if (err == UC_ERR_INSN_INVALID)
		u->vector = 6;
	else if (err && u->vector == DT_VEC_NONE)
		u->vector = DT_VEC_ERROR;
	else if (!err && u->vector == DT_VEC_NONE && res->regs.rip != end)
		u->vector = DT_VEC_ERROR;
	res->vector = u->vector;
	res->fault_addr = u->fault_addr;
	int v = u->vector;
	if (run_stub(uc, AUX_SAVE) || u->vector != v)
		res->vector = DT_VEC_ERROR;
	uc_mem_read(uc, DT_UC_AUX + AUX_OUT, &res->regs.fx, sizeof res->regs.fx);
	uc_mem_read(uc, DT_SCRATCH, res->scratch, DT_PAGE);
	/* After an unmapped-access error Unicorn 2.0.1 is left in a state
	 * that reports a #DB after every later instruction: start afresh
	 * (it costs about 0.2 ms). */
	if (err) {
		uc_close(u->uc);
		if (engine_open(u))
			abort();
	}
}

void dt_unicorn_close(struct dt_unicorn *u)
{
	if (!u)
		return;
	uc_close(u->uc);
	free(u);
}

#else

struct dt_unicorn *dt_unicorn_open(void)
{
	fprintf(stderr, "difftest: built without Unicorn; skipping that reference\n");
	return NULL;
}
void dt_unicorn_run(struct dt_unicorn *u, const struct dt_case *c, struct dt_result *r) { }
void dt_unicorn_close(struct dt_unicorn *u) { }

#endif
