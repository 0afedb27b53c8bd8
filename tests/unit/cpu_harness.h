/* tests/unit/cpu_harness.h: a tiny user-mode machine for CPU unit tests.
 *
 * Layout (all bus RAM, linear == physical):
 *   0x10000-0x13fff  code, RWX (self-modifying code tests write here)
 *   0x20000-0x21fff  data, RW (0x22000 and up unmapped: fault tests)
 *   0x30000-0x30fff  stack, RW, rsp starts at 0x31000
 *
 * Snippets end with int3, so a run that completes reports
 * CPU_EXIT_EXCEPTION with vector 3 and rip just past the int3.
 */
#ifndef TESTS_UNIT_CPU_HARNESS_H
#define TESTS_UNIT_CPU_HARNESS_H

#include <check.h>
#include <string.h>

#include "machine/bus.h"
#include "machine/cpu.h"
#include "machine/insn.h"
#include "sim/sim.h"

#define CODE 0x10000ull
#define DATA 0x20000ull
#define STACK_TOP 0x31000ull

struct harness {
	struct sim sim;
	struct bus bus;
	struct cpu *c;
};

static inline void h_init(struct harness *h)
{
	sim_init(&h->sim, 1);
	bus_init(&h->bus, &h->sim);
	ck_assert_int_eq(bus_add_ram(&h->bus, "code", CODE, 0x4000, BUS_RWX), 0);
	ck_assert_int_eq(bus_add_ram(&h->bus, "data", DATA, 0x2000, BUS_R | BUS_W), 0);
	ck_assert_int_eq(bus_add_ram(&h->bus, "stack", 0x30000, 0x1000, BUS_R | BUS_W), 0);
	h->c = cpu_new(&h->sim, &h->bus);
	ck_assert_ptr_nonnull(h->c);
	cpu_set_mode_user64(h->c);
	h->c->gpr[CPU_RSP] = STACK_TOP;
	h->c->rip = CODE;
}

static inline void h_free(struct harness *h)
{
	cpu_free(h->c);
	bus_free(&h->bus);
	sim_free(&h->sim);
}

static inline void h_load(struct harness *h, const void *code, size_t len)
{
	ck_assert_int_eq(bus_dma_write(&h->bus, CODE, code, len), 0);
	h->c->rip = CODE;
}

/* Run until the snippet's final int3 (or another exit). */
static inline enum cpu_exit h_go(struct harness *h)
{
	return cpu_run(h->c, 1000000);
}

static inline void h_run_ok(struct harness *h, const void *code, size_t len)
{
	h_load(h, code, len);
	enum cpu_exit e = h_go(h);
	ck_assert_str_eq(cpu_exit_name(e), "exception");
	ck_assert_int_eq(h->c->exc_vector, CPU_EXC_BP);
	ck_assert_uint_eq(h->c->rip, CODE + len);
}

static inline uint64_t h_peek(struct harness *h, uint64_t pa, unsigned size)
{
	return bus_read(&h->bus, pa, size);
}

static inline void h_poke(struct harness *h, uint64_t pa, unsigned size, uint64_t v)
{
	bus_write(&h->bus, pa, size, v);
}

#define FLAGS_OF(c) ((c)->rflags & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF))

#endif
