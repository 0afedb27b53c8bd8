/* pvm/kernel/kprintf.c: formatted output to the console and to buffers.
 *
 * A small printf: %d %i %u %x %X %p %s %c %%, with flags '0' and '-',
 * a width, a string precision (%.*s), and the length modifiers l, ll and z.  Enough for the kernel's
 * messages; everything else is printed literally.
 */
#include "pvm/kernel/kernel.h"

struct sink {
	char *buf;              /* NULL: the console */
	size_t size, len;
};

static void sink_put(struct sink *s, char c)
{
	if (!s->buf)
		uart_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void put_num(struct sink *s, uint64_t v, bool neg, unsigned base, bool upper,
		    int width, bool zero, bool left)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int len = n + (neg ? 1 : 0);
	if (!left && !zero)
		for (; width > len; width--)
			sink_put(s, ' ');
	if (neg)
		sink_put(s, '-');
	if (!left && zero)
		for (; width > len; width--)
			sink_put(s, '0');
	while (n)
		sink_put(s, tmp[--n]);
	if (left)
		for (; width > len; width--)
			sink_put(s, ' ');
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		const char *start = fmt++;
		bool zero = false, left = false;
		int width = 0, lng = 0;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int prec = -1;
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(s, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, false, width, zero, left);
			break;
		}
		case 'u': case 'x': case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_num(s, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', width, zero, left);
			break;
		}
		case 'p':
			sink_put(s, '0');
			sink_put(s, 'x');
			put_num(s, (uintptr_t)va_arg(ap, void *), false, 16, false, width, zero, left);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int len = 0;
			while (str[len] && (prec < 0 || len < prec))
				len++;
			if (!left)
				for (; width > len; width--)
					sink_put(s, ' ');
			for (int i = 0; i < len; i++)
				sink_put(s, str[i]);
			for (; left && width > len; width--)
				sink_put(s, ' ');
			break;
		}
		case 'c':
			sink_put(s, (char)va_arg(ap, int));
			break;
		case '%':
			sink_put(s, '%');
			break;
		default:                /* unknown: print as written */
			for (; start <= fmt && *start; start++)
				sink_put(s, *start);
			if (!*fmt)
				return;
		}
	}
}

void kvprintf(const char *fmt, va_list ap)
{
	struct sink s = {0};
	format(&s, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void kputs(const char *s)
{
	while (*s)
		uart_putc(*s++);
	uart_putc('\n');
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
	struct sink s = { .buf = buf, .size = n };
	va_list ap;
	va_start(ap, fmt);
	format(&s, fmt, ap);
	va_end(ap);
	if (n)
		buf[s.len < n ? s.len : n - 1] = 0;
	return (int)s.len;
}

void panic(const char *fmt, ...)
{
	cli();
	va_list ap;
	kprintf("PANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	uint32_t code = 1;
	trace_event(ABI_EV_PANIC, &code, 1);
	kprintf("TRACE panic code=%u\n", code);
	poweroff(EXIT_PANIC);
}
