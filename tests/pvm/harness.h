/* tests/pvm/harness.h: a host-side object space and trace recorder for the
 * PVM tests. */
#ifndef TESTS_PVM_HARNESS_H
#define TESTS_PVM_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include "pvm/pvm.h"

/* Map [PVM_OBJSPACE_BASE, +size) (MAP_FIXED_NOREPLACE); aborts on failure. */
void *harness_space(size_t size);
void harness_unmap(void *base, size_t size);

struct trace_ev {
	unsigned code;
	uint32_t a0, a1;
	unsigned nargs;
};

/* Every trace event since the last harness_trace_reset(). */
extern struct trace_ev *harness_trace;
extern size_t harness_ntrace;
extern const struct pvm_host harness_host;
void harness_trace_reset(void);

/* The images of tests/pvm/unit.pvs (generated: tests/pvm/unit_images.c). */
#include "pvm/vm/image.h"
extern const struct pvm_image pvm_test_images[];
extern const unsigned pvm_test_images_count;

#endif
