/* devices/nvdimm.h: the persistent-memory region (App Direct) on the bus.
 *
 * The region is plain RAM to the CPU's loads, backed by a private, lazy
 * mapping of the image file, and store-hooked so that every store reaches
 * the persistence model (machine/persist.h).  A second private mapping
 * holds what is guaranteed persistent.  At a power failure, and at the end
 * of a run (a power-off), the policy's crash state replaces the image
 * (devices/image.h: temporary file, fsync, rename), and the region then
 * holds that state, ready for the machine to boot again.
 *
 *     struct nvdimm nv;
 *     if (nvdimm_init(&nv, &sim, &bus, &cfg, err, sizeof err))
 *             fprintf(stderr, "%s\n", err), exit(1);
 *     cpu->hooks = nvdimm_cpu_hooks(&nv);
 *     nvdimm_exempt_trace_port(&nv, &bus);    // after trace_port_attach()
 *     ...
 *     if (power_fail_due(&plan, sim.now, sim.insns, persist_event_count(&nv.pm)))
 *             nvdimm_power_fail(&nv, err, sizeof err);    // then reset and reboot
 *     ...
 *     nvdimm_power_fail(&nv, err, sizeof err);            // the end of the run
 *     nvdimm_free(&nv);
 */
#ifndef DEVICES_NVDIMM_H
#define DEVICES_NVDIMM_H

#include <stddef.h>
#include <stdint.h>
#include "devices/image.h"
#include "machine/bus.h"
#include "machine/cpu.h"
#include "machine/crash.h"
#include "machine/persist.h"
#include "sim/rng.h"

struct bus;
struct config;
struct sim;

struct nvdimm {
	struct sim *sim;
	struct bus *bus;        /* NULL when not attached (tests) */
	struct image img;
	uint64_t base, size;
	uint8_t *mem;           /* what the CPU sees (registered on the bus) */
	uint8_t *media;         /* what is guaranteed persistent */
	struct persist pm;
	struct crash_policy policy;
	struct rng rng;         /* sim_rng(sim, "power.random") */
	struct cpu_mem_hooks hooks;
	/* The trace port's handlers, wrapped by nvdimm_exempt_trace_port(). */
	pio_read_fn *tp_read;
	pio_write_fn *tp_write;
	void *tp_ctx;
	uint64_t *st_power_fails, *st_pages_written, *st_image_errors;
};

/* From the config's pmem.* and power.policy keys.  Opens (or creates) the
 * image, maps it and registers [pmem.base, +pmem.size_mb MiB) on the bus.
 * On error returns -1 with one line in err; an existing image is never
 * modified on error. */
int nvdimm_init(struct nvdimm *nv, struct sim *sim, struct bus *bus,
		const struct config *cfg, char *err, size_t errlen);
/* The same without a config; bus may be NULL (then nothing is registered,
 * and the caller drives nv->pm directly, as the unit tests do). */
int nvdimm_open(struct nvdimm *nv, struct sim *sim, struct bus *bus, const char *image,
		uint64_t base, uint64_t size, unsigned domain,
		const struct crash_policy *policy, char *err, size_t errlen);
/* Hooks for struct cpu (flush, fence, non-temporal store). */
const struct cpu_mem_hooks *nvdimm_cpu_hooks(struct nvdimm *nv);
/* Exempt the trace port from the I/O ordering rule (docs/crash-model.md):
 * wraps the bus's handlers of ports ABI_PORT_TRACE_ARG/EMIT, which must be
 * registered already (trace_port_attach), so that each access cancels the
 * I/O fence the CPU reported just before it.  -1 if no handler is there. */
int nvdimm_exempt_trace_port(struct nvdimm *nv, struct bus *bus);
/* Power failure (or power-off): apply the policy's crash state, write it
 * to the image safely, and leave the region holding exactly that state
 * with nothing pending.  -1 with err when the image cannot be written (the
 * old image stays whole; the region still holds the crash state and a
 * later call retries the write). */
int nvdimm_power_fail(struct nvdimm *nv, char *err, size_t errlen);
/* Unmaps and closes; the image keeps what the last power failure wrote. */
void nvdimm_free(struct nvdimm *nv);

#endif
