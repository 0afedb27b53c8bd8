/* devices/nvdimm.c: the persistent-memory region, its image and its hooks.
 *
 * Host memory: two MAP_PRIVATE | MAP_NORESERVE mappings of the image, one
 * for the CPU's view (mem) and one for the guaranteed contents (media).
 * Untouched pages of both share the file's page cache; a page costs host
 * memory only once written, so a 6 x 256 GB region fits on a small host.
 * The persistence model keeps per-line records only for lines that may
 * still lose data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "devices/nvdimm.h"
#include "machine/bus.h"
#include "machine/guest_abi.h"
#include "sim/config.h"
#include "sim/sim.h"

_Static_assert((int)PERSIST_CLFLUSH == (int)CPU_FLUSH_CLFLUSH &&
	       (int)PERSIST_CLFLUSHOPT == (int)CPU_FLUSH_CLFLUSHOPT &&
	       (int)PERSIST_CLWB == (int)CPU_FLUSH_CLWB, "flush kinds");
_Static_assert((int)PERSIST_SFENCE == (int)CPU_FENCE_SFENCE &&
	       (int)PERSIST_LFENCE == (int)CPU_FENCE_LFENCE &&
	       (int)PERSIST_MFENCE == (int)CPU_FENCE_MFENCE &&
	       (int)PERSIST_LOCKED == (int)CPU_FENCE_LOCKED &&
	       (int)PERSIST_SERIALIZE == (int)CPU_FENCE_SERIALIZE &&
	       (int)PERSIST_IO == (int)CPU_FENCE_IO, "fence kinds");

static void hook_flush(void *ctx, uint64_t pa, int kind)
{
	struct nvdimm *nv = ctx;
	persist_flush(&nv->pm, pa, (enum persist_flush)kind);
}

static void hook_fence(void *ctx, int kind)
{
	struct nvdimm *nv = ctx;
	persist_fence(&nv->pm, (enum persist_fence)kind);
}

static void hook_ntstore(void *ctx, uint64_t pa, unsigned len)
{
	struct nvdimm *nv = ctx;
	persist_ntstore(&nv->pm, pa, len);
}

static void hook_writeback_all(void *ctx)
{
	struct nvdimm *nv = ctx;
	persist_writeback_all(&nv->pm);
}

static bool is_trace_port(uint16_t port)
{
	return port == ABI_PORT_TRACE_ARG || port == ABI_PORT_TRACE_EMIT;
}

static uint32_t trace_in(void *ctx, uint16_t port, unsigned size)
{
	struct nvdimm *nv = ctx;
	if (is_trace_port(port))
		persist_io_exempt(&nv->pm);
	return nv->tp_read ? nv->tp_read(nv->tp_ctx, port, size) : 0xffffffffu;
}

static void trace_out(void *ctx, uint16_t port, unsigned size, uint32_t value)
{
	struct nvdimm *nv = ctx;
	if (is_trace_port(port))
		persist_io_exempt(&nv->pm);
	if (nv->tp_write)
		nv->tp_write(nv->tp_ctx, port, size, value);
}

int nvdimm_exempt_trace_port(struct nvdimm *nv, struct bus *bus)
{
	struct pio_range *r = NULL;
	for (size_t i = 0; i < bus->npio; i++) {
		struct pio_range *p = &bus->pio[i];
		if (ABI_PORT_TRACE_ARG - p->first < p->count &&
		    ABI_PORT_TRACE_EMIT - p->first < p->count)
			r = p;
	}
	if (!r || r->ctx == nv)
		return r ? 0 : -1;
	nv->tp_read = r->read;
	nv->tp_write = r->write;
	nv->tp_ctx = r->ctx;
	r->read = trace_in;
	r->write = trace_out;
	r->ctx = nv;
	return 0;
}

int nvdimm_open(struct nvdimm *nv, struct sim *sim, struct bus *bus, const char *image,
		uint64_t base, uint64_t size, unsigned domain,
		const struct crash_policy *policy, char *err, size_t errlen)
{
	memset(nv, 0, sizeof *nv);
	nv->img.fd = -1;
	char key[64];
	snprintf(key, sizeof key, "pmem.size_mb = %llu", (unsigned long long)(size >> 20));
	if (image_open(&nv->img, image, size, key, err, errlen) < 0)
		return -1;
	nv->sim = sim;
	nv->base = base;
	nv->size = size;
	nv->policy = *policy;
	sim_rng(sim, &nv->rng, "power.random");
	nv->mem = image_map(&nv->img, NULL);
	nv->media = image_map(&nv->img, NULL);
	if (!nv->mem || !nv->media) {
		snprintf(err, errlen, "%s: cannot map %llu bytes of persistent memory",
			 image, (unsigned long long)size);
		goto fail;
	}
	if (persist_init(&nv->pm, sim, base, size, nv->mem, nv->media, domain) < 0) {
		snprintf(err, errlen, "%s: pmem.base and the size must be multiples of 64 bytes", image);
		goto fail;
	}
	if (bus) {
		if (bus_add_host(bus, "pmem", base, size, BUS_RWX, nv->mem) < 0 ||
		    bus_set_store_hook(bus, base, persist_store_hook, &nv->pm) < 0) {
			snprintf(err, errlen, "pmem.base: [0x%llx, 0x%llx) overlaps another region",
				 (unsigned long long)base, (unsigned long long)(base + size));
			persist_free(&nv->pm);
			goto fail;
		}
		nv->bus = bus;
	}
	nv->hooks = (struct cpu_mem_hooks){.flush = hook_flush, .fence = hook_fence,
		.ntstore = hook_ntstore, .ctx = nv, .writeback_all = hook_writeback_all};
	nv->st_power_fails = stats_counter(&sim->stats, "pmem.power_failures");
	nv->st_pages_written = stats_counter(&sim->stats, "pmem.image_pages_written");
	nv->st_image_errors = stats_counter(&sim->stats, "pmem.image_errors");
	return 0;
fail:
	if (nv->mem)
		munmap(nv->mem, size);
	if (nv->media)
		munmap(nv->media, size);
	image_close(&nv->img);
	return -1;
}

int nvdimm_init(struct nvdimm *nv, struct sim *sim, struct bus *bus,
		const struct config *cfg, char *err, size_t errlen)
{
	struct crash_policy pol = {.policy = cfg->power.policy, .tearing = cfg->power.tearing};
	return nvdimm_open(nv, sim, bus, cfg->pmem.image, cfg->pmem.base,
			   cfg->pmem.size_mb << 20, cfg->pmem.persistence_domain, &pol, err, errlen);
}

const struct cpu_mem_hooks *nvdimm_cpu_hooks(struct nvdimm *nv)
{
	return &nv->hooks;
}

int nvdimm_power_fail(struct nvdimm *nv, char *err, size_t errlen)
{
	++*nv->st_power_fails;
	crash_apply(&nv->pm, &nv->policy, &nv->rng);
	size_t n;
	uint64_t *pages = persist_touched_pages(&nv->pm, &n);
	if (!pages) {
		++*nv->st_image_errors;
		snprintf(err, errlen, "%s: out of memory listing changed pages", nv->img.path);
		return -1;
	}
	if (n && image_commit(&nv->img, nv->media, pages, n, err, errlen) < 0) {
		free(pages);
		++*nv->st_image_errors;
		return -1;
	}
	free(pages);
	*nv->st_pages_written += n;
	persist_clear_touched(&nv->pm);
	/* Both views now equal the new image: map it again in place, which
	 * gives the written pages' host memory back.  The addresses stay, so
	 * the bus and the CPU's TLB need no update. */
	if (n && (!image_map(&nv->img, nv->mem) || !image_map(&nv->img, nv->media))) {
		snprintf(err, errlen, "%s: cannot map the image again", nv->img.path);
		return -1;
	}
	return 0;
}

void nvdimm_free(struct nvdimm *nv)
{
	if (nv->bus)
		bus_remove(nv->bus, nv->base, nv->size);
	persist_free(&nv->pm);
	if (nv->mem)
		munmap(nv->mem, nv->size);
	if (nv->media)
		munmap(nv->media, nv->size);
	image_close(&nv->img);
	memset(nv, 0, sizeof *nv);
	nv->img.fd = -1;
}
