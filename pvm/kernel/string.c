/* pvm/kernel/string.c: the string functions the compiler and the kernel use.
 *
 * gcc may emit calls to memcpy/memset/memmove/memcmp even in freestanding
 * code, so these keep their standard names.  The bulk copies use rep movsq
 * and rep stosq, which every x86-64 CPU runs fast on aligned pages.
 */
#include "pvm/kernel/kernel.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	if (((uintptr_t)dst | (uintptr_t)src | n) % 8 == 0) {
		size_t q = n / 8;
		__asm__ volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) :: "memory");
	} else {
		__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) :: "memory");
	}
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	if (c == 0 && ((uintptr_t)dst | n) % 8 == 0) {
		size_t q = n / 8;
		__asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(0ull) : "memory");
	} else {
		__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strncpy0(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	if (n == 0)
		return dst;
	for (; i + 1 < n && src[i]; i++)
		dst[i] = src[i];
	dst[i] = 0;
	return dst;
}
