/* pvm/kernel/kernel.h: what every part of the Phantom guest kernel shares.
 *
 * The kernel is freestanding C: no libc, one CPU, identity-mapped low
 * memory, and the object space as a separate window at OBJSPACE_BASE
 * (docs/guest.md).  This header holds the small helpers (port I/O, CPU
 * instructions, string functions, the console) and the declarations of
 * the kernel's subsystems, one section per file.
 */
#ifndef PVM_KERNEL_KERNEL_H
#define PVM_KERNEL_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/guest_abi.h"

#define PAGE_SIZE       4096ul
#define PAGE_SHIFT      12
#define OBJSPACE_BASE   0x80000000ul    /* Phantom's object space: 2 GiB */
#define OBJSPACE_MAX_MB 992             /* one page directory, and the root record's map (persist/layout.h) */

#define ARRAY_LEN(a)    (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)  (((x) + (a) - 1) & ~((uint64_t)(a) - 1))

/* --- CPU helpers ------------------------------------------------------ */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* sti;hlt is atomic: an interrupt between them still wakes the hlt. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mfence(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void sfence(void) { __asm__ volatile("sfence" ::: "memory"); }

/* --- string.c ----------------------------------------------------------- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strncpy0(char *dst, const char *src, size_t n);  /* always NUL-terminates */

/* --- uart.c, kprintf.c: the console on COM1 ---------------------------- */
void uart_init(void);
void uart_putc(char c);
void kputs(const char *s);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* --- power.c: isa-debug-exit ------------------------------------------ */
/* What the guest writes to ABI_PORT_DEBUG_EXIT (QEMU exits with (v<<1)|1). */
#define EXIT_CLEAN      0       /* status 1: finished what the cmdline asked */
#define EXIT_PANIC      1       /* status 3: kernel panic, I/O error, bad store */
#define EXIT_EXCEPTION  2       /* status 5: unexpected CPU exception */
void poweroff(uint32_t code) __attribute__((noreturn));

/* --- trace.c: the trace port, mirrored on the console ----------------- */
void trace_init(void);
bool trace_port_present(void);
void trace_event(uint32_t code, const uint32_t *args, int nargs);
void trace_boot(void);
void trace_snapshot_begin(uint64_t gen);
void trace_pause_end(uint64_t gen, uint64_t pause_cycles, uint32_t dirty_pages);
void trace_pages_written(uint64_t gen, uint32_t pages);
void trace_commit(uint64_t gen, uint64_t digest, uint64_t root_pa, uint32_t root_len, bool sealed);
void trace_digest(uint64_t gen, uint64_t digest);
void trace_commit_begin(uint64_t gen);
void trace_recovery_begin(void);
void trace_recovery_end(uint64_t gen, uint64_t digest, uint32_t selfcheck, uint32_t invariant);
void trace_workload_op(uint32_t kind, uint32_t count);
void trace_first_boot(void);
void trace_store_open(void);

/* --- kmain.c ----------------------------------------------------------- */
void snapshot_request(void);           /* take a snapshot at the next safe point */

/* --- cpu.c: GDT, TSS, IDT, traps, CPU features ------------------------ */
struct trapframe {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
struct cpu_features {
	bool clflush, clflushopt, clwb;
	bool invariant_tsc;
	char vendor[13];
};
extern struct cpu_features cpu_features;
void cpu_init(void);                    /* GDT, TSS, IDT, features */
typedef void (*irq_handler_t)(void);
void irq_register(int irq, irq_handler_t h);
/* The object-space write-fault hook (persist/snapshot.c): returns true
 * when it resolved the fault. */
extern bool (*page_fault_hook)(uint64_t addr, uint64_t error);

/* --- timer.c: 8259 PIC and 8254 PIT ------------------------------------ */
#define TIMER_HZ        1000
void timer_init(void);
uint64_t timer_ms(void);                /* ticks since boot, 1 tick = 1 ms */

/* --- cmdline.c ---------------------------------------------------------- */
struct cmdline {
	char workload[32];              /* workload=: ccounter, cbank, or a PVM workload */
	char backend[8];                /* backend=pmem|disk|none */
	uint64_t snapshot_ms;           /* snapshot_ms= */
	uint64_t objspace_mb;           /* objspace_mb= */
	uint64_t pmem_base, pmem_size;  /* pmem=BASE,SIZE: RAM standing in for PM */
	uint64_t seed;                  /* seed= */
	uint64_t snapshots;             /* snapshots=N: power off after N commits; 0 = run forever */
	uint64_t work;                  /* work=: workload steps per tick; 0 = as many as fit */
	uint64_t dirty_pages;           /* dirty_pages=: workload=dirty's pages per interval */
	char dirty_mode[8];             /* dirty_mode=burst|spread|late: when in the interval */
	uint64_t pageout;               /* pageout=: pages written behind per tick; 0 = none */
	char frames[8];                 /* frames=dram|pm: where a page written since its
					   snapshot lives (persist/snapshot.c) */
	char bug[64];                   /* bug=: persistence-bug variants (persist/state.h) */
	char selftest[16];              /* selftest=ud|pf */
	bool format;                    /* format=1: ignore the store, start fresh */
	bool pci_assign;                /* pci_assign=1: place memory BARs ourselves */
};
extern struct cmdline cmdline;
void cmdline_parse(const char *s);

/* --- memory.c: memory map and physical pages ---------------------------- */
struct mem_range { uint64_t base, size; uint32_t type; };
#define MAX_MEM_RANGES 32
struct memory_map {
	struct mem_range r[MAX_MEM_RANGES];
	int n;
	uint64_t ram_bytes;
	uint64_t pmem_base, pmem_size;  /* the persistent region used, 0 size = none */
};
extern struct memory_map memory_map;
void memory_init(const void *mbi);
uint64_t page_alloc(void);              /* a zeroed page, identity-mapped; panics when out */
uint64_t page_alloc_contig(uint64_t n); /* n zeroed contiguous pages */
void page_free(uint64_t pa);
uint64_t pages_free(void);

/* --- sched.c: cooperative kernel threads -------------------------------- */
void sched_init(void);                  /* the caller becomes the idle thread */
/* A thread with its own stack, run when the ring comes round to it. */
void kthread_create(const char *name, void (*fn)(void *), void *arg);
void sched_yield(void);                 /* to the next thread of the ring */
const char *sched_current(void);

/* --- paging.c ------------------------------------------------------------ */
#define PTE_P   0x001ull
#define PTE_RW  0x002ull
#define PTE_PWT 0x008ull
#define PTE_PCD 0x010ull
#define PTE_A   0x020ull
#define PTE_D   0x040ull
#define PTE_PS  0x080ull
#define PTE_SNAP 0x200ull               /* software bit: write-protected for a snapshot */
#define PTE_ADDR 0x000FFFFFFFFFF000ull
void paging_init(void);
void map_identity(uint64_t base, uint64_t size, bool uncached);
/* Back [OBJSPACE_BASE, +npages) with zeroed DRAM pages, 4 KiB each, and
 * return the array of their PTEs (one flat array, page i at index i). */
uint64_t *objspace_map(uint64_t npages);
void objspace_unmap(uint64_t *pte, uint64_t npages);
/* The object space's page directory: entry t maps pages 512t..512t+511. */
uint64_t *objspace_pd(void);

/* --- pci.c ---------------------------------------------------------------- */
struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class, subclass;
};
int pci_scan(struct pci_dev *out, int max);
uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);
uint8_t pci_read8(const struct pci_dev *d, uint8_t off);
uint64_t pci_bar(const struct pci_dev *d, int bar);   /* assigns one when firmware left it at 0 */

/* --- virtio_blk.c ------------------------------------------------------------ */
struct virtio_blk;
struct virtio_blk *virtio_blk_probe(void);
uint64_t virtio_blk_sectors(struct virtio_blk *b);
bool virtio_blk_has_flush(struct virtio_blk *b);
/* Queue a write of one page from buf (copied into a DMA bounce buffer, so
 * buf may change once this returns). */
int virtio_blk_write_page(struct virtio_blk *b, uint64_t sector, const void *buf);
int virtio_blk_read(struct virtio_blk *b, uint64_t sector, void *buf, uint32_t bytes);
int virtio_blk_read_page_async(struct virtio_blk *b, uint64_t sector, void *buf);
int virtio_blk_wait_all(struct virtio_blk *b);   /* every queued request completed */
int virtio_blk_flush(struct virtio_blk *b);      /* wait_all, then FLUSH */

/* --- pmem.c ---------------------------------------------------------------- */
void pmem_init(void);                   /* pick clwb/clflushopt/clflush */
const char *pmem_flush_name(void);
void pmem_flush_range(const void *p, size_t n);  /* write back every line; no fence */
void pmem_fence(void);                  /* sfence: flushes before are durable after */

#endif
