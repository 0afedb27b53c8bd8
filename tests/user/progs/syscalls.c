/* tests/user/progs/syscalls.c: system call edge cases whose results are
 * the same on any Linux: bad pointers give EFAULT (never a crash), bad
 * descriptors EBADF, and memory-map calls change exactly what they
 * should.  Prints one line per check; nothing host-specific (addresses,
 * ids, times) is printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void show(const char *what, long r)
{
	printf("%-28s %ld %s\n", what, r, r < 0 ? strerror(errno) : "");
	errno = 0;
}

int main(void)
{
	char buf[64];
	long pg = sysconf(_SC_PAGESIZE);

	show("write NULL", syscall(SYS_write, 1, NULL, 5));
	show("write len 0", syscall(SYS_write, 1, (void *)1, 0));
	show("open NULL", syscall(SYS_open, NULL, O_RDONLY));
	show("open -1", syscall(SYS_open, (char *)-1L, O_RDONLY));
	show("open missing", syscall(SYS_open, "/no/such/file", O_RDONLY));
	show("close 999", syscall(SYS_close, 999));
	show("close -1", syscall(SYS_close, -1));
	show("fstat NULL", syscall(SYS_fstat, 1, NULL));
	show("clock_gettime bad", syscall(SYS_clock_gettime, CLOCK_REALTIME, (void *)8));
	show("getrandom NULL", syscall(SYS_getrandom, NULL, 16, 0));
	show("sigaction 0", syscall(SYS_rt_sigaction, 0, NULL, NULL, 8));
	struct sigaction sa = {.sa_handler = SIG_IGN};
	show("sigaction KILL", sigaction(SIGKILL, &sa, NULL));
	show("sigaction PIPE", sigaction(SIGPIPE, &sa, NULL));
	show("getcwd size 1", syscall(SYS_getcwd, buf, 1));

	/* Read-only page: a read() into it is EFAULT, into a writable one fine. */
	int fd = open("/proc/self/exe", O_RDONLY);
	show("open /proc/self/exe", fd >= 0 ? 0 : -1);
	unsigned char *m = mmap(NULL, 3 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	show("read into PROT_READ", syscall(SYS_read, fd, m, 16));
	show("mprotect RW", mprotect(m, 3 * pg, PROT_READ | PROT_WRITE));
	show("read into RW", syscall(SYS_read, fd, m, 16));
	printf("elf header %02x %c%c%c class %d\n", m[0], m[1], m[2], m[3], m[4]);
	show("pread off 1", pread(fd, buf, 3, 1));
	printf("pread bytes %.3s\n", buf);
	close(fd);

	/* A hole in the middle of a mapping. */
	memset(m, 'x', 3 * pg);
	show("munmap middle", munmap(m + pg, pg));
	show("write from hole", syscall(SYS_write, 1, m + pg, 4));
	show("write across hole", syscall(SYS_write, 1, m + pg - 2, 4));
	show("write after hole", syscall(SYS_write, 1, m + 2 * pg, 0));
	show("mprotect hole", mprotect(m, 3 * pg, PROT_READ));
	show("munmap rest", munmap(m, 3 * pg));

	/* mremap keeps contents, in place or moved. */
	char *r = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(r, "remapped", 9);
	char *r2 = mremap(r, pg, 64 * pg, MREMAP_MAYMOVE);
	show("mremap grow", r2 == MAP_FAILED ? -1 : 0);
	r2[63 * pg] = 1;
	printf("mremap content %s %d\n", r2, r2[62 * pg]);
	show("mremap shrink", mremap(r2, 64 * pg, pg, 0) == r2 ? 0 : -1);
	munmap(r2, pg);

	/* MADV_DONTNEED zero-fills private anonymous memory. */
	unsigned char *z = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(z, 0xaa, pg);
	show("madvise DONTNEED", madvise(z, pg, MADV_DONTNEED));
	printf("after DONTNEED %d %d\n", z[0], z[pg - 1]);
	munmap(z, pg);

	/* MAP_FIXED_NOREPLACE over an existing mapping. */
	char *f = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	show("FIXED_NOREPLACE busy", mmap(f, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED ? -1 : 0);
	show("MAP_FIXED over", mmap(f, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == f ? 0 : -1);
	f[0] = 1;
	show("mmap len 0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
	show("mmap bad fd", mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 77, 0) == MAP_FAILED ? -1 : 0);

	/* brk grows and the new memory is zero. */
	char *b0 = (char *)syscall(SYS_brk, 0);
	char *b1 = (char *)syscall(SYS_brk, b0 + 300000);
	show("brk grow", b1 == b0 + 300000 ? 0 : -1);
	printf("brk memory %d %d\n", b0[0], b0[299999]);
	b0[299999] = 5;
	show("brk shrink", (char *)syscall(SYS_brk, b0) == b0 ? 0 : -1);
	show("brk regrow", (char *)syscall(SYS_brk, b0 + 300000) == b1 ? 0 : -1);
	printf("brk regrown %d\n", b0[299999]);

	/* Descriptors. */
	show("dup2 100", dup2(1, 100));
	show("F_GETFD 100", fcntl(100, F_GETFD));
	show("dup3 cloexec", dup3(1, 101, O_CLOEXEC));
	show("F_GETFD 101", fcntl(101, F_GETFD));
	show("dup3 same", dup3(1, 1, 0));
	close(100);
	close(101);
	int p[2];
	show("pipe", pipe(p));
	show("pipe write", write(p[1], "abc", 3));
	show("pipe read", read(p[0], buf, sizeof buf));
	show("lseek pipe", lseek(p[0], 0, SEEK_SET));
	close(p[0]);
	close(p[1]);
	struct termios t;
	show("TCGETS /dev/null", ioctl(0, TCGETS, &t));

	/* A file: write, vector I/O, size, truncate, rename, unlink. */
	char name[] = "/tmp/phantom-syscalls-XXXXXX", name2[64];
	int w = mkstemp(name);
	show("mkstemp", w >= 0 ? 0 : -1);
	struct iovec iov[3] = {{"one ", 4}, {"two ", 4}, {"three\n", 6}};
	show("writev", writev(w, iov, 3));
	show("pwrite", pwrite(w, "TWO", 3, 4));
	show("lseek end", lseek(w, 0, SEEK_END));
	struct stat st;
	show("fstat", fstat(w, &st));
	printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
	char a[5] = {0}, c[5] = {0};
	struct iovec riov[2] = {{a, 4}, {c, 4}};
	lseek(w, 0, SEEK_SET);
	show("readv", readv(w, riov, 2));
	printf("readv '%s' '%s'\n", a, c);
	show("ftruncate", ftruncate(w, 3));
	show("stat after truncate", stat(name, &st));
	printf("size %lld\n", (long long)st.st_size);
	snprintf(name2, sizeof name2, "%s.moved", name);
	show("rename", rename(name, name2));
	show("stat old name", stat(name, &st));
	show("access moved", access(name2, R_OK));
	show("unlink", unlink(name2));
	show("unlink again", unlink(name2));
	close(w);

	struct utsname u;
	show("uname", uname(&u));
	printf("%s %s\n", u.sysname, u.machine);
	return 0;
}
