/* tests/guests/lib.c: console, IDT, TSS and the trap handler of the test
 * kernels (tests/guests/lib.h). */
#include "tests/guests/lib.h"

#define COM1 0x3F8

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap;
} __attribute__((packed));

struct gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __attribute__((packed));

extern const uint64_t tk_isr_table[256];

static struct tss tss;
static struct gate idt[256] __attribute__((aligned(16)));
static tk_handler *handlers[256];
static uint8_t ist_stacks[2][8192] __attribute__((aligned(16)));
static uint8_t pool[64][4096] __attribute__((aligned(4096)));
static int pool_used;

volatile uint64_t tk_resume;
volatile int tk_got_vector = -1;
volatile uint64_t tk_got_error, tk_got_cr2, tk_got_rip, tk_got_cs;
static volatile int expected = -1;
int tk_failures;

void *tk_memset(void *d, int c, size_t n)
{
	volatile uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *tk_memcpy(void *d, const void *s, size_t n)
{
	volatile uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

void tk_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

static void puts_(const char *s)
{
	while (*s)
		tk_putc(*s++);
}

static void putnum(uint64_t v, unsigned base, int width, char pad)
{
	char buf[24];
	int n = 0;
	do {
		unsigned d = (unsigned)(v % base);
		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n < width--)
		tk_putc(pad);
	while (n)
		tk_putc(buf[--n]);
}

void tk_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			tk_putc(*fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		bool l = false;
		while (*fmt == 'l')
			l = true, fmt++;
		switch (*fmt) {
		case 'd': {
			int64_t v = l ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (v < 0)
				tk_putc('-'), v = -v;
			putnum((uint64_t)v, 10, width, pad);
			break;
		}
		case 'u': putnum(l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad); break;
		case 'x': putnum(l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad); break;
		case 's': puts_(va_arg(ap, const char *)); break;
		case 'c': tk_putc((char)va_arg(ap, int)); break;
		default: tk_putc(*fmt); break;
		}
	}
	va_end(ap);
}

void tk_exit(uint32_t code)
{
	outl(0xF4, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void tk_set_gate(int v, unsigned type, unsigned dpl, unsigned ist)
{
	uint64_t h = tk_isr_table[v];
	idt[v] = (struct gate){
		.off_lo = (uint16_t)h, .sel = 0x08, .ist = (uint8_t)ist,
		.type = (uint8_t)(0x80 | dpl << 5 | type),
		.off_mid = (uint16_t)(h >> 16), .off_hi = (uint32_t)(h >> 32),
	};
}

void tk_set_gate_present(int v, bool present)
{
	if (present)
		idt[v].type |= 0x80;
	else
		idt[v].type &= 0x7F;
}

void tk_set_handler(int v, tk_handler *h)
{
	handlers[v] = h;
}

uint64_t tk_tss_set_rsp0(uint64_t rsp0)
{
	uint64_t old = tss.rsp[0];
	tss.rsp[0] = rsp0;
	return old;
}

void tk_tss_set_ist(int n, uint64_t rsp)
{
	tss.ist[n - 1] = rsp;
}

void *tk_page_alloc(void)
{
	if (pool_used >= 64) {
		tk_printf("FAIL: page pool exhausted\n");
		tk_exit(1);
	}
	void *p = pool[pool_used++];
	tk_memset(p, 0, 4096);
	return p;
}

void tk_expect(int v)
{
	expected = v;
	tk_got_vector = -1;
	tk_got_error = tk_got_cr2 = tk_got_rip = 0;
}

void tk_check(const char *what, bool ok)
{
	tk_printf("%s: %s\n", what, ok ? "ok" : "FAIL");
	if (!ok)
		tk_failures++;
}

bool tk_on_phantom(void)
{
	return inl(0xE50) == 0x544E4850u;
}

void tk_sdm(const char *what, bool ok)
{
	tk_printf("SDM %s: %s\n", what, ok ? "ok" : "deviation");
	if (!ok && tk_on_phantom())
		tk_failures++;
}

void tk_check_exc(const char *what, int v, uint64_t err)
{
	bool ok = tk_got_vector == v && tk_got_error == err;
	tk_printf("%s: vector %d error %lx%s\n", what, tk_got_vector, tk_got_error, ok ? "" : " FAIL");
	if (!ok)
		tk_failures++;
	expected = -1;
}

void tk_trap(struct tk_frame *f)
{
	int v = (int)f->vector;
	if (handlers[v]) {
		handlers[v](f);
		return;
	}
	if (v == expected) {
		tk_got_vector = v;
		tk_got_error = f->error;
		tk_got_cr2 = v == 14 ? read_cr2() : 0;
		tk_got_rip = f->rip;
		tk_got_cs = f->cs;
		expected = -1;
		f->rip = tk_resume;
		return;
	}
	tk_printf("UNEXPECTED vector %d error %lx rip %lx cs %lx\n", v, f->error, f->rip, f->cs);
	tk_exit(2);
}

static void cpu_setup(void)
{
	/* TSS in GDT slots 6-7 (selector 0x30). */
	uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
	tss.iomap = sizeof tss;
	tss.ist[0] = (uint64_t)(ist_stacks[0] + sizeof ist_stacks[0]);
	tss.ist[1] = (uint64_t)(ist_stacks[1] + sizeof ist_stacks[1]);
	tk_gdt[6] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
		    (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	tk_gdt[7] = base >> 32;
	__asm__ volatile("ltr %w0" :: "r"(0x30));
	for (int v = 0; v < 256; v++)
		tk_set_gate(v, 0xE, 0, v == 8 ? 1 : 0);
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof idt - 1, (uint64_t)idt,
	};
	__asm__ volatile("lidt %0" :: "m"(idtr));
}

static void serial_init(void)
{
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x80);
	outb(COM1 + 0, 0x01);   /* 115200 */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03);   /* 8N1 */
	outb(COM1 + 2, 0xC7);
	outb(COM1 + 4, 0x03);
	/* Mask both 8259As: under QEMU the BIOS left the PIT running on
	 * vector 8, which would look like a double fault. */
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
}

void tk_start(uint32_t magic, uint32_t info)
{
	serial_init();
	cpu_setup();
	const char *cmdline = "";
	if (magic == 0x2BADB002u) {
		const uint32_t *mbi = (const uint32_t *)(uint64_t)info;
		if (mbi[0] & 4)
			cmdline = (const char *)(uint64_t)mbi[4];
	}
	int r = tk_main(cmdline);
	if (tk_failures && !r)
		r = 1;
	tk_printf("RESULT %s\n", r ? "FAIL" : "PASS");
	tk_exit((uint32_t)r);
}

/* gcc may call these for structure copies and initialisers. */
void *memset(void *d, int c, size_t n)
{
	return tk_memset(d, c, n);
}

void *memcpy(void *d, const void *s, size_t n)
{
	return tk_memcpy(d, s, n);
}
