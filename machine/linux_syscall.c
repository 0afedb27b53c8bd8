/* machine/linux_syscall.c: the Linux x86-64 system calls of user mode.
 *
 * One table, indexed by syscall number, lists every call this file knows:
 * its name (for --strace and warnings), its handler and how to print its
 * arguments.  A number with no handler returns -ENOSYS and is reported
 * once on stderr.
 *
 * Rules every handler follows:
 *   - guest pointers go through user_read()/user_write(), which check the
 *     region map and page permissions first: a bad pointer is -EFAULT,
 *     never a host fault;
 *   - guest descriptors are indices into p->fds, never host numbers;
 *   - guest-visible structures (struct stat, statx, timespec, ...) are
 *     encoded byte by byte in the x86-64 kernel layout, whatever the host;
 *   - nothing from the host clock, host randomness or host addresses
 *     reaches the guest: time is simulated time, randomness is the seeded
 *     stream "user.getrandom" (also behind /dev/urandom), identities are
 *     fixed (linux_user.h), and /proc/self is answered here, not by the host.
 *
 * Host errno values are returned as they are: Linux uses the same numbers
 * on every architecture this simulator builds on.
 */
#define _GNU_SOURCE     /* pipe2, O_PATH, O_NOATIME, O_TMPFILE, O_DIRECT */
#include "machine/linux_syscall.h"

#include <stdarg.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "machine/bus.h"
#include "machine/cpu.h"
#include "sim/sim.h"

#ifndef __linux__
#error "the user-mode runner passes files through to a Linux host"
#endif

#define BOUNCE_MAX (1u << 20)           /* host buffer per I/O step */
#define PATH_BYTES 4096                 /* Linux PATH_MAX, with the NUL */
#define IOV_MAX_COUNT 1024              /* UIO_MAXIOV */

typedef int64_t syscall_fn(struct linux_proc *p, const uint64_t *a);
/* Every handler has this shape: the process and the six argument
 * registers; it returns the result or -errno. */
#define SYSCALL(name) static int64_t sys_##name(struct linux_proc *p, const uint64_t *a)

/* ---- small helpers ---------------------------------------------------- */

static void put16(uint8_t *b, uint16_t v) { b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *b, uint32_t v) { put16(b, (uint16_t)v); put16(b + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *b, uint64_t v) { put32(b, (uint32_t)v); put32(b + 4, (uint32_t)(v >> 32)); }
static uint32_t get32(const uint8_t *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }
static uint64_t get64(const uint8_t *b) { return get32(b) | (uint64_t)get32(b + 4) << 32; }

static int64_t host_err(void) { return -(int64_t)errno; }

static int64_t put_u64(struct linux_proc *p, uint64_t addr, uint64_t v)
{
	uint8_t b[8];
	put64(b, v);
	return user_write(p, addr, b, 8);
}

static int64_t put_u32(struct linux_proc *p, uint64_t addr, uint32_t v)
{
	uint8_t b[4];
	put32(b, v);
	return user_write(p, addr, b, 4);
}

static struct linux_fd *fd_get(struct linux_proc *p, uint64_t gfd)
{
	if (gfd >= LINUX_MAX_FDS || p->fds[gfd].kind == LINUX_FD_FREE)
		return NULL;
	return &p->fds[gfd];
}

/* The host descriptor behind a guest one, or -1 (LINUX_FD_RANDOM has none). */
static int fd_host(struct linux_proc *p, uint64_t gfd)
{
	struct linux_fd *f = fd_get(p, gfd);
	return f && f->kind == LINUX_FD_HOST ? f->host : -1;
}

/* Install an entry at the lowest free guest number >= min.  On failure the
 * host descriptor is closed. */
static int64_t fd_install(struct linux_proc *p, struct linux_fd f, unsigned min)
{
	for (unsigned i = min; i < LINUX_MAX_FDS; i++)
		if (p->fds[i].kind == LINUX_FD_FREE) {
			p->fds[i] = f;
			return i;
		}
	if (f.kind == LINUX_FD_HOST)
		close(f.host);
	return -EMFILE;
}

static struct linux_fd host_entry(int h, bool cloexec)
{
	struct stat st;
	return (struct linux_fd){.kind = LINUX_FD_HOST, .host = h, .cloexec = cloexec,
				 .regular = fstat(h, &st) == 0 && S_ISREG(st.st_mode)};
}

/* Duplicate an entry (dup, dup2, F_DUPFD): a new host descriptor. */
static int64_t fd_clone(struct linux_proc *p, const struct linux_fd *src, struct linux_fd *out)
{
	*out = *src;
	out->cloexec = false;
	if (src->kind == LINUX_FD_HOST) {
		out->host = fcntl(src->host, F_DUPFD_CLOEXEC, 3);
		if (out->host < 0)
			return host_err();
	}
	return 0;
}

static void fd_release(struct linux_proc *p, unsigned gfd)
{
	if (p->fds[gfd].kind == LINUX_FD_HOST)
		close(p->fds[gfd].host);
	p->fds[gfd] = (struct linux_fd){.kind = LINUX_FD_FREE, .host = -1};
}

/* Files whose host contents would describe the host, not the simulated
 * machine: the runner answers them itself.  glibc's get_nprocs() reads
 * the first, so sysconf(_SC_NPROCESSORS_ONLN) agrees with
 * sched_getaffinity: one CPU. */
static const struct { const char *path, *text; } virtual_files[] = {
	{"/sys/devices/system/cpu/online", "0\n"},
	{"/sys/devices/system/cpu/possible", "0\n"},
	{"/sys/devices/system/cpu/present", "0\n"},
};

static const char *virtual_file(const char *path)
{
	for (size_t i = 0; i < sizeof virtual_files / sizeof virtual_files[0]; i++)
		if (strcmp(path, virtual_files[i].path) == 0)
			return virtual_files[i].text;
	return NULL;
}

/* Guest open(2) flags (x86-64 values, asm-generic/fcntl.h) to the host's. */
static const struct { uint32_t guest; int host; } open_flag_map[] = {
	{0100, O_CREAT}, {0200, O_EXCL}, {0400, O_NOCTTY}, {01000, O_TRUNC},
	{02000, O_APPEND}, {04000, O_NONBLOCK}, {010000, O_DSYNC}, {0200000, O_DIRECTORY},
	{0400000, O_NOFOLLOW}, {04010000, O_SYNC}, {010000000, O_PATH},
#ifdef O_DIRECT
	{040000, O_DIRECT},
#endif
#ifdef O_NOATIME
	{01000000, O_NOATIME},
#endif
#ifdef O_TMPFILE
	{020200000, O_TMPFILE},
#endif
};
#define G_O_CLOEXEC 02000000u

static int open_flags_to_host(uint64_t g)
{
	int h = (g & 3) == 0 ? O_RDONLY : (g & 3) == 1 ? O_WRONLY : O_RDWR;
	for (size_t i = 0; i < sizeof open_flag_map / sizeof open_flag_map[0]; i++)
		if ((g & open_flag_map[i].guest) == open_flag_map[i].guest)
			h |= open_flag_map[i].host;
	return h;
}

static uint64_t open_flags_to_guest(int h)
{
	uint64_t g = (h & O_ACCMODE) == O_WRONLY ? 1 : (h & O_ACCMODE) == O_RDWR ? 2 : 0;
	for (size_t i = 0; i < sizeof open_flag_map / sizeof open_flag_map[0]; i++)
		if ((h & open_flag_map[i].host) == open_flag_map[i].host && open_flag_map[i].host)
			g |= open_flag_map[i].guest;
	return g | 0100000;             /* O_LARGEFILE: always on for 64-bit */
}

/* AT_* flags are the same on every Linux architecture (uapi fcntl.h). */
#define G_AT_FDCWD (-100)
#define G_AT_SYMLINK_NOFOLLOW 0x100
#define G_AT_REMOVEDIR 0x200
#define G_AT_EACCESS 0x200
#define G_AT_SYMLINK_FOLLOW 0x400
#define G_AT_EMPTY_PATH 0x1000

/* A dirfd argument: AT_FDCWD or a guest descriptor.  Returns the host
 * dirfd or -EBADF. */
static int dirfd_host(struct linux_proc *p, uint64_t gdirfd, int *out)
{
	if ((int32_t)gdirfd == G_AT_FDCWD) {
		*out = AT_FDCWD;
		return 0;
	}
	int h = fd_host(p, (uint32_t)gdirfd);
	if (h < 0)
		return -EBADF;
	*out = h;
	return 0;
}

static int64_t read_path(struct linux_proc *p, uint64_t addr, char *buf)
{
	long n = user_read_string(p, buf, addr, PATH_BYTES);
	if (n == 0)
		return -ENOENT;
	return n < 0 ? n : 0;
}

static bool is_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* /proc/self belongs to the guest, not to the simulator process that the
 * host would describe (its maps hold host addresses).  Rewrites the two
 * entries we model into host paths; -ENOENT for the rest. */
static int64_t proc_self_path(struct linux_proc *p, const char *path, char *out)
{
	const char *rest;
	if (is_prefix(path, "/proc/self/"))
		rest = path + 11;
	else if (is_prefix(path, "/proc/thread-self/"))
		rest = path + 18;
	else
		return 1;               /* not ours: use as is */
	if (strcmp(rest, "exe") == 0) {
		snprintf(out, PATH_BYTES, "%s", p->exe);
		return 0;
	}
	if (is_prefix(rest, "fd/")) {
		char *end;
		unsigned long g = strtoul(rest + 3, &end, 10);
		int h = (*end == 0 && end != rest + 3) ? fd_host(p, g) : -1;
		if (h < 0)
			return -ENOENT;
		snprintf(out, PATH_BYTES, "/proc/self/fd/%d", h);
		return 0;
	}
	return -ENOENT;
}

/* One --strace line, built while the call runs and printed whole after
 * it, so guest output never lands in the middle of it. */
struct strace_line {
	char buf[1024];
	size_t len;
};

static void strace_printf(struct strace_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void strace_printf(struct strace_line *l, const char *fmt, ...)
{
	va_list ap;
	if (l->len + 1 >= sizeof l->buf)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof l->buf - l->len ? (size_t)n : sizeof l->buf - l->len - 1;
}

/* End the guest as a death by signal sig looks to a shell: status 128+sig. */
static void die_by_signal(struct linux_proc *p, int sig)
{
	/* One line, as a shell would say "Aborted"; SIGPIPE deaths stay
	 * quiet, as shells keep them. */
	if (sig != 13)
		fprintf(p->log, "phantom-sim: guest killed by signal %d (%s)\n", sig, strsignal(sig));
	p->exited = true;
	p->exit_status = 128 + sig;
}

/* ---- I/O ---------------------------------------------------------------- */

static int64_t do_read(struct linux_proc *p, uint64_t gfd, uint64_t buf, uint64_t count,
		       bool positional, int64_t offset)
{
	struct linux_fd *f = fd_get(p, gfd);
	if (!f)
		return -EBADF;
	if ((int64_t)count < 0)
		count = INT64_MAX;
	if (count == 0)
		return 0;
	/* Transfer only into the writable prefix: Linux stops at the first
	 * fault and reports what it copied, or EFAULT for nothing. */
	count = user_range_prefix(p, buf, count, BUS_W);
	if (count == 0)
		return -EFAULT;
	if (f->kind == LINUX_FD_TEXT) {
		uint64_t size = strlen(f->text), at = positional ? (uint64_t)offset : f->pos;
		uint64_t n = at < size ? size - at : 0;
		if (n > count)
			n = count;
		if (user_write(p, buf, f->text + at, n))
			return -EFAULT;
		if (!positional)
			f->pos += n;
		return (int64_t)n;
	}
	uint8_t *tmp = malloc(count < BOUNCE_MAX ? count : BOUNCE_MAX);
	if (!tmp)
		return -ENOMEM;
	int64_t total = 0;
	while ((uint64_t)total < count) {
		size_t chunk = count - (uint64_t)total < BOUNCE_MAX ? count - (uint64_t)total : BOUNCE_MAX;
		ssize_t n;
		/* Check before consuming input, so a bad buffer loses nothing. */
		if (!user_range_ok(p, buf + (uint64_t)total, chunk, BUS_W)) {
			if (total == 0)
				total = -EFAULT;
			break;
		}
		if (f->kind == LINUX_FD_RANDOM) {
			rng_fill(&p->rng_getrandom, tmp, chunk);
			n = (ssize_t)chunk;
		} else if (positional) {
			n = pread(f->host, tmp, chunk, offset + total);
		} else {
			n = read(f->host, tmp, chunk);
		}
		if (n < 0) {
			if (total == 0)
				total = host_err();
			break;
		}
		if (n > 0 && user_write(p, buf + (uint64_t)total, tmp, (size_t)n)) {
			if (total == 0)
				total = -EFAULT;
			break;
		}
		total += n;
		/* Only regular files are read to completion: a pipe or a
		 * terminal returns what it has, as it would natively. */
		if ((size_t)n < chunk || !(f->regular || f->kind == LINUX_FD_RANDOM))
			break;
	}
	free(tmp);
	return total;
}

static int64_t write_all_host(struct linux_proc *p, int h, const uint8_t *b, size_t len,
			      bool positional, int64_t offset)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = positional ? pwrite(h, b + done, len - done, offset + (int64_t)done)
				       : write(h, b + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno == EPIPE && p->sigactions[13].handler == 0)
				die_by_signal(p, 13);           /* SIGPIPE, default action */
			return done ? (int64_t)done : host_err();
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (int64_t)done;
}

static int64_t do_write(struct linux_proc *p, uint64_t gfd, uint64_t buf, uint64_t count,
			bool positional, int64_t offset)
{
	struct linux_fd *f = fd_get(p, gfd);
	if (!f)
		return -EBADF;
	if ((int64_t)count < 0)
		count = INT64_MAX;
	if (f->kind == LINUX_FD_TEXT)           /* opened read-only */
		return -EBADF;
	if (f->kind == LINUX_FD_RANDOM)         /* writes to urandom are accepted */
		return user_range_ok(p, buf, count, BUS_R) ? (int64_t)count : -EFAULT;
	if (count == 0)
		return 0;
	count = user_range_prefix(p, buf, count, BUS_R);
	if (count == 0)
		return -EFAULT;
	uint8_t *tmp = malloc(count < BOUNCE_MAX ? count : BOUNCE_MAX);
	if (!tmp)
		return -ENOMEM;
	int64_t total = 0;
	while ((uint64_t)total < count) {
		size_t chunk = count - (uint64_t)total < BOUNCE_MAX ? count - (uint64_t)total : BOUNCE_MAX;
		if (user_read(p, tmp, buf + (uint64_t)total, chunk)) {
			if (total == 0)
				total = -EFAULT;
			break;
		}
		int64_t n = write_all_host(p, f->host, tmp, chunk, positional, offset + total);
		if (n < 0) {
			if (total == 0)
				total = n;
			break;
		}
		total += n;
		if ((size_t)n < chunk)
			break;
	}
	free(tmp);
	return total;
}

SYSCALL(read) { return do_read(p, a[0], a[1], a[2], false, 0); }
SYSCALL(write) { return do_write(p, a[0], a[1], a[2], false, 0); }

SYSCALL(pread64)
{
	if ((int64_t)a[3] < 0)
		return -EINVAL;
	return do_read(p, a[0], a[1], a[2], true, (int64_t)a[3]);
}

SYSCALL(pwrite64)
{
	if ((int64_t)a[3] < 0)
		return -EINVAL;
	return do_write(p, a[0], a[1], a[2], true, (int64_t)a[3]);
}

/* readv/writev: each iovec in turn, stopping at the first short transfer,
 * which is what Linux's do_loop_readv_writev gives for files and pipes. */
static int64_t do_vector(struct linux_proc *p, const uint64_t *a, bool is_write)
{
	uint64_t iov = a[1], cnt = a[2];
	if (!fd_get(p, a[0]))
		return -EBADF;
	if (cnt > IOV_MAX_COUNT)
		return -EINVAL;
	uint8_t vec[IOV_MAX_COUNT * 16];
	if (user_read(p, vec, iov, cnt * 16))
		return -EFAULT;
	int64_t total = 0;
	for (uint64_t i = 0; i < cnt; i++) {
		uint64_t base = get64(vec + 16 * i), len = get64(vec + 16 * i + 8);
		if ((int64_t)len < 0)
			return -EINVAL;
		if (len == 0)
			continue;
		int64_t n = is_write ? do_write(p, a[0], base, len, false, 0)
				     : do_read(p, a[0], base, len, false, 0);
		if (n < 0)
			return total ? total : n;
		total += n;
		if ((uint64_t)n < len || p->exited)
			break;
	}
	return total;
}

SYSCALL(readv) { return do_vector(p, a, false); }
SYSCALL(writev) { return do_vector(p, a, true); }

SYSCALL(sendfile)
{
	int out = fd_host(p, a[0]), in = fd_host(p, a[1]);
	uint64_t count = a[3] < BOUNCE_MAX ? a[3] : BOUNCE_MAX;
	int64_t off = 0;
	if (out < 0 || in < 0)
		return -EBADF;
	if (a[2]) {
		uint8_t b[8];
		if (user_read(p, b, a[2], 8))
			return -EFAULT;
		off = (int64_t)get64(b);
		if (off < 0)
			return -EINVAL;
	}
	if (count == 0)
		return 0;
	uint8_t *tmp = malloc(count);
	if (!tmp)
		return -ENOMEM;
	ssize_t n = a[2] ? pread(in, tmp, count, off) : read(in, tmp, count);
	int64_t ret = n < 0 ? host_err() : n ? write_all_host(p, out, tmp, (size_t)n, false, 0) : 0;
	free(tmp);
	if (ret > 0 && a[2] && put_u64(p, a[2], (uint64_t)(off + ret)))
		return -EFAULT;
	return ret;
}

SYSCALL(lseek)
{
	struct linux_fd *f = fd_get(p, a[0]);
	if (!f)
		return -EBADF;
	if (f->kind == LINUX_FD_RANDOM)
		return 0;
	if (a[2] > 4)                   /* SEEK_SET..SEEK_HOLE */
		return -EINVAL;
	if (f->kind == LINUX_FD_TEXT) {
		int64_t base = a[2] == 0 ? 0 : a[2] == 1 ? (int64_t)f->pos : (int64_t)strlen(f->text);
		if (a[2] > 2)
			return -EINVAL;
		if (base + (int64_t)a[1] < 0)
			return -EINVAL;
		f->pos = (uint64_t)(base + (int64_t)a[1]);
		return (int64_t)f->pos;
	}
	off_t r = lseek(f->host, (off_t)a[1], (int)a[2]);
	return r < 0 ? host_err() : r;
}

/* ---- opening and closing ----------------------------------------------- */

static int64_t do_openat(struct linux_proc *p, uint64_t gdirfd, uint64_t path_addr, uint64_t flags,
			 uint64_t mode)
{
	char path[PATH_BYTES], mapped[PATH_BYTES];
	int64_t r = read_path(p, path_addr, path);
	int hdir;
	if (r)
		return r;
	bool cloexec = flags & G_O_CLOEXEC;
	if (strcmp(path, "/dev/urandom") == 0 || strcmp(path, "/dev/random") == 0)
		return fd_install(p, (struct linux_fd){.kind = LINUX_FD_RANDOM, .host = -1,
					.cloexec = cloexec}, 0);
	const char *text = virtual_file(path);
	if (text) {
		if ((flags & 3) != 0)
			return -EACCES;
		return fd_install(p, (struct linux_fd){.kind = LINUX_FD_TEXT, .host = -1,
					.cloexec = cloexec, .text = text}, 0);
	}
	r = proc_self_path(p, path, mapped);
	if (r < 0)
		return r;
	if (r == 0)
		memcpy(path, mapped, sizeof path);
	if (path[0] != '/' && (r = dirfd_host(p, gdirfd, &hdir)))
		return r;
	if (path[0] == '/')
		hdir = AT_FDCWD;
	int h = openat(hdir, path, open_flags_to_host(flags) | O_CLOEXEC, (mode_t)(mode & 07777));
	if (h < 0)
		return host_err();
	if (h < 3) {
		/* Keep low host numbers free for host stdio. */
		int h2 = fcntl(h, F_DUPFD_CLOEXEC, 3);
		close(h);
		if (h2 < 0)
			return host_err();
		h = h2;
	}
	return fd_install(p, host_entry(h, cloexec), 0);
}

SYSCALL(open) { return do_openat(p, (uint64_t)G_AT_FDCWD, a[0], a[1], a[2]); }
SYSCALL(openat) { return do_openat(p, a[0], a[1], a[2], a[3]); }
SYSCALL(creat) { return do_openat(p, (uint64_t)G_AT_FDCWD, a[0], 01101, a[1]); }

SYSCALL(close)
{
	if (!fd_get(p, a[0]))
		return -EBADF;
	fd_release(p, (unsigned)a[0]);
	return 0;
}

SYSCALL(dup)
{
	struct linux_fd *f = fd_get(p, a[0]), n;
	if (!f)
		return -EBADF;
	int64_t r = fd_clone(p, f, &n);
	return r ? r : fd_install(p, n, 0);
}

static int64_t do_dup3(struct linux_proc *p, uint64_t oldfd, uint64_t newfd, uint64_t flags)
{
	struct linux_fd *f = fd_get(p, oldfd), n;
	if (!f)
		return -EBADF;
	if (newfd >= LINUX_MAX_FDS)
		return -EBADF;
	int64_t r = fd_clone(p, f, &n);
	if (r)
		return r;
	if (p->fds[newfd].kind != LINUX_FD_FREE)
		fd_release(p, (unsigned)newfd);
	n.cloexec = flags & G_O_CLOEXEC;
	p->fds[newfd] = n;
	return (int64_t)newfd;
}

SYSCALL(dup2)
{
	if (a[0] == a[1])
		return fd_get(p, a[0]) ? (int64_t)a[1] : -EBADF;
	return do_dup3(p, a[0], a[1], 0);
}

SYSCALL(dup3)
{
	if (a[0] == a[1] || (a[2] & ~(uint64_t)G_O_CLOEXEC))
		return -EINVAL;
	return do_dup3(p, a[0], a[1], a[2]);
}

static int64_t do_pipe(struct linux_proc *p, uint64_t addr, uint64_t flags)
{
	int h[2];
	if (flags & ~(uint64_t)(G_O_CLOEXEC | 04000))
		return -EINVAL;
	if (!user_range_ok(p, addr, 8, BUS_W))
		return -EFAULT;
	if (pipe2(h, O_CLOEXEC | (flags & 04000 ? O_NONBLOCK : 0)))
		return host_err();
	bool cloexec = flags & G_O_CLOEXEC;
	int64_t r0 = fd_install(p, host_entry(h[0], cloexec), 0);
	if (r0 < 0) {
		close(h[1]);
		return r0;
	}
	int64_t r1 = fd_install(p, host_entry(h[1], cloexec), 0);
	if (r1 < 0) {
		fd_release(p, (unsigned)r0);
		return r1;
	}
	uint8_t b[8];
	put32(b, (uint32_t)r0);
	put32(b + 4, (uint32_t)r1);
	return user_write(p, addr, b, 8);
}

SYSCALL(pipe) { return do_pipe(p, a[0], 0); }
SYSCALL(pipe2) { return do_pipe(p, a[0], a[1]); }

SYSCALL(fcntl)
{
	struct linux_fd *f = fd_get(p, a[0]), n;
	int64_t r;
	if (!f)
		return -EBADF;
	switch (a[1]) {
	case 0:         /* F_DUPFD */
	case 1030:      /* F_DUPFD_CLOEXEC */
		if (a[2] >= LINUX_MAX_FDS)
			return -EINVAL;
		if ((r = fd_clone(p, f, &n)))
			return r;
		n.cloexec = a[1] == 1030;
		return fd_install(p, n, (unsigned)a[2]);
	case 1:         /* F_GETFD */
		return f->cloexec ? 1 : 0;
	case 2:         /* F_SETFD */
		f->cloexec = a[2] & 1;
		return 0;
	case 3:         /* F_GETFL */
		if (f->kind == LINUX_FD_RANDOM)
			return 0100002;
		if (f->kind == LINUX_FD_TEXT)
			return 0100000;
		r = fcntl(f->host, F_GETFL);
		return r < 0 ? host_err() : (int64_t)open_flags_to_guest((int)r);
	case 4: {       /* F_SETFL: only these bits may change */
		if (f->kind != LINUX_FD_HOST)
			return 0;
		int h = 0;
		if (a[2] & 02000)
			h |= O_APPEND;
		if (a[2] & 04000)
			h |= O_NONBLOCK;
		return fcntl(f->host, F_SETFL, h) < 0 ? host_err() : 0;
	}
	case 5: {       /* F_GETLK: one process holds no conflicting lock */
		uint8_t b[2];
		put16(b, 2);    /* l_type = F_UNLCK */
		return user_write(p, a[2], b, 2);
	}
	case 6:         /* F_SETLK */
	case 7:         /* F_SETLKW */
	case 36: case 37: case 38:      /* F_OFD_GETLK/SETLK/SETLKW */
		return 0;
	case 1032:      /* F_GETPIPE_SZ */
		return 65536;
	default:
		return -EINVAL;
	}
}

SYSCALL(ioctl)
{
	struct linux_fd *f = fd_get(p, a[0]);
	if (!f)
		return -EBADF;
	switch (a[1]) {
	case 0x5451:    /* FIOCLEX */
		f->cloexec = true;
		return 0;
	case 0x5450:    /* FIONCLEX */
		f->cloexec = false;
		return 0;
	case 0x5421: {  /* FIONBIO */
		uint8_t b[4];
		if (user_read(p, b, a[2], 4))
			return -EFAULT;
		if (f->kind != LINUX_FD_HOST)
			return 0;
		int fl = fcntl(f->host, F_GETFL);
		if (fl < 0)
			return host_err();
		fl = get32(b) ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
		return fcntl(f->host, F_SETFL, fl) < 0 ? host_err() : 0;
	}
	default:
		/* Terminals included: TCGETS, TIOCGWINSZ and the rest answer
		 * ENOTTY whatever the host fd is, so output never depends on
		 * whether the run has a terminal. */
		return -ENOTTY;
	}
}

/* ---- file metadata ------------------------------------------------------ */

static uint64_t encode_dev(dev_t d)
{
	/* glibc's and the kernel's 64-bit dev_t layout: 12-bit major and
	 * 20-bit minor split across the word. */
	uint64_t ma = major(d), mi = minor(d);
	return (mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xffULL) << 12) | ((ma & ~0xfffULL) << 32);
}

/* struct stat as the x86-64 kernel lays it out (arch/x86/include/uapi/asm/stat.h). */
static void encode_stat(uint8_t b[144], const struct stat *st)
{
	memset(b, 0, 144);
	put64(b + 0, encode_dev(st->st_dev));
	put64(b + 8, st->st_ino);
	put64(b + 16, st->st_nlink);
	put32(b + 24, st->st_mode);
	put32(b + 28, st->st_uid);
	put32(b + 32, st->st_gid);
	put64(b + 40, encode_dev(st->st_rdev));
	put64(b + 48, (uint64_t)st->st_size);
	put64(b + 56, (uint64_t)st->st_blksize);
	put64(b + 64, (uint64_t)st->st_blocks);
	put64(b + 72, (uint64_t)st->st_atim.tv_sec);
	put64(b + 80, (uint64_t)st->st_atim.tv_nsec);
	put64(b + 88, (uint64_t)st->st_mtim.tv_sec);
	put64(b + 96, (uint64_t)st->st_mtim.tv_nsec);
	put64(b + 104, (uint64_t)st->st_ctim.tv_sec);
	put64(b + 112, (uint64_t)st->st_ctim.tv_nsec);
}

/* A virtual text file looks like a sysfs attribute: 0444, 4096 bytes. */
static void text_stat(struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = 4096;
	st->st_blksize = 4096;
}

/* The fake device behind LINUX_FD_RANDOM: character device 1:9, 0666. */
static void random_stat(struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_mode = S_IFCHR | 0666;
	st->st_rdev = makedev(1, 9);
	st->st_nlink = 1;
	st->st_blksize = 4096;
}

/* fstatat on guest arguments, with AT_EMPTY_PATH and /proc/self handled. */
static int64_t guest_fstatat(struct linux_proc *p, uint64_t gdirfd, uint64_t path_addr,
			     uint64_t flags, struct stat *st)
{
	char path[PATH_BYTES], mapped[PATH_BYTES];
	int hdir, hflags = 0;
	long n = user_read_string(p, path, path_addr, PATH_BYTES);
	if (n < 0)
		return n;
	if (n == 0) {
		if (!(flags & G_AT_EMPTY_PATH))
			return -ENOENT;
		struct linux_fd *f = (int32_t)gdirfd == G_AT_FDCWD ? NULL : fd_get(p, (uint32_t)gdirfd);
		if ((int32_t)gdirfd == G_AT_FDCWD)
			return stat(".", st) ? host_err() : 0;
		if (!f)
			return -EBADF;
		if (f->kind == LINUX_FD_RANDOM) {
			random_stat(st);
			return 0;
		}
		if (f->kind == LINUX_FD_TEXT) {
			text_stat(st);
			return 0;
		}
		return fstat(f->host, st) ? host_err() : 0;
	}
	if (strcmp(path, "/dev/urandom") == 0 || strcmp(path, "/dev/random") == 0) {
		random_stat(st);
		return 0;
	}
	if (virtual_file(path)) {
		text_stat(st);
		return 0;
	}
	int64_t r = proc_self_path(p, path, mapped);
	if (r < 0)
		return r;
	if (r == 0)
		memcpy(path, mapped, sizeof path);
	if (path[0] == '/')
		hdir = AT_FDCWD;
	else if ((r = dirfd_host(p, gdirfd, &hdir)))
		return r;
	if (flags & G_AT_SYMLINK_NOFOLLOW)
		hflags |= AT_SYMLINK_NOFOLLOW;
	return fstatat(hdir, path, st, hflags) ? host_err() : 0;
}

static int64_t put_stat(struct linux_proc *p, uint64_t addr, const struct stat *st)
{
	uint8_t b[144];
	encode_stat(b, st);
	return user_write(p, addr, b, sizeof b);
}

SYSCALL(fstat)
{
	struct stat st;
	struct linux_fd *f = fd_get(p, a[0]);
	if (!f)
		return -EBADF;
	if (f->kind == LINUX_FD_RANDOM)
		random_stat(&st);
	else if (f->kind == LINUX_FD_TEXT)
		text_stat(&st);
	else if (fstat(f->host, &st))
		return host_err();
	return put_stat(p, a[1], &st);
}

SYSCALL(stat)
{
	struct stat st;
	int64_t r = guest_fstatat(p, (uint64_t)G_AT_FDCWD, a[0], 0, &st);
	return r ? r : put_stat(p, a[1], &st);
}

SYSCALL(lstat)
{
	struct stat st;
	int64_t r = guest_fstatat(p, (uint64_t)G_AT_FDCWD, a[0], G_AT_SYMLINK_NOFOLLOW, &st);
	return r ? r : put_stat(p, a[1], &st);
}

SYSCALL(newfstatat)
{
	struct stat st;
	int64_t r = guest_fstatat(p, a[0], a[1], a[3], &st);
	return r ? r : put_stat(p, a[2], &st);
}

/* struct statx (uapi linux/stat.h), filled from a plain stat: the basic
 * fields only, which is what STATX_BASIC_STATS promises. */
SYSCALL(statx)
{
	struct stat st;
	uint8_t b[256] = {0};
	int64_t r = guest_fstatat(p, a[0], a[1], a[2], &st);
	if (r)
		return r;
	put32(b + 0, 0x7ff);                    /* STATX_BASIC_STATS */
	put32(b + 4, (uint32_t)st.st_blksize);
	put32(b + 16, (uint32_t)st.st_nlink);
	put32(b + 20, st.st_uid);
	put32(b + 24, st.st_gid);
	put16(b + 28, (uint16_t)st.st_mode);
	put64(b + 32, st.st_ino);
	put64(b + 40, (uint64_t)st.st_size);
	put64(b + 48, (uint64_t)st.st_blocks);
	put64(b + 64, (uint64_t)st.st_atim.tv_sec);
	put32(b + 72, (uint32_t)st.st_atim.tv_nsec);
	put64(b + 96, (uint64_t)st.st_ctim.tv_sec);
	put32(b + 104, (uint32_t)st.st_ctim.tv_nsec);
	put64(b + 112, (uint64_t)st.st_mtim.tv_sec);
	put32(b + 120, (uint32_t)st.st_mtim.tv_nsec);
	put32(b + 128, major(st.st_rdev));
	put32(b + 132, minor(st.st_rdev));
	put32(b + 136, major(st.st_dev));
	put32(b + 140, minor(st.st_dev));
	return user_write(p, a[4], b, sizeof b);
}

/* linux_dirent64 has the same layout on every Linux host, so the host's
 * records are copied as they are. */
SYSCALL(getdents64)
{
	int h = fd_host(p, a[0]);
	size_t count = a[2] < BOUNCE_MAX ? a[2] : BOUNCE_MAX;
	if (h < 0)
		return -EBADF;
	if (!user_range_ok(p, a[1], count, BUS_W))
		return -EFAULT;
	uint8_t *tmp = malloc(count ? count : 1);
	if (!tmp)
		return -ENOMEM;
	long n = syscall(SYS_getdents64, h, tmp, count);
	int64_t r = n < 0 ? host_err() : user_write(p, a[1], tmp, (size_t)n) ? -EFAULT : n;
	free(tmp);
	return r;
}

SYSCALL(ftruncate)
{
	int h = fd_host(p, a[0]);
	if (h < 0)
		return -EBADF;
	return ftruncate(h, (off_t)a[1]) ? host_err() : 0;
}

SYSCALL(truncate)
{
	char path[PATH_BYTES];
	int64_t r = read_path(p, a[0], path);
	return r ? r : truncate(path, (off_t)a[1]) ? host_err() : 0;
}

SYSCALL(fsync)
{
	struct linux_fd *f = fd_get(p, a[0]);
	if (!f)
		return -EBADF;
	return f->kind == LINUX_FD_HOST && f->regular && fsync(f->host) ? host_err() : 0;
}

SYSCALL(fadvise64)
{
	struct linux_fd *f = fd_get(p, a[0]);
	if (!f)
		return -EBADF;
	return f->regular ? 0 : -ESPIPE;
}

/* struct statfs as the x86-64 kernel lays it out (asm-generic/statfs.h
 * with 64-bit longs): the host file system's figures, passed through. */
static int64_t put_statfs(struct linux_proc *p, uint64_t addr, const struct statfs *sf)
{
	uint8_t b[120] = {0};
	int fsid[2];
	memcpy(fsid, &sf->f_fsid, sizeof fsid);
	put64(b + 0, (uint64_t)sf->f_type);
	put64(b + 8, (uint64_t)sf->f_bsize);
	put64(b + 16, sf->f_blocks);
	put64(b + 24, sf->f_bfree);
	put64(b + 32, sf->f_bavail);
	put64(b + 40, sf->f_files);
	put64(b + 48, sf->f_ffree);
	put32(b + 56, (uint32_t)fsid[0]);
	put32(b + 60, (uint32_t)fsid[1]);
	put64(b + 64, (uint64_t)sf->f_namelen);
	put64(b + 72, (uint64_t)sf->f_frsize);
	put64(b + 80, (uint64_t)sf->f_flags);
	return user_write(p, addr, b, sizeof b);
}

SYSCALL(statfs)
{
	char path[PATH_BYTES];
	struct statfs sf;
	int64_t r = read_path(p, a[0], path);
	if (r)
		return r;
	return statfs(path, &sf) ? host_err() : put_statfs(p, a[1], &sf);
}

SYSCALL(fstatfs)
{
	struct statfs sf;
	int h = fd_host(p, a[0]);
	if (h < 0)
		return -EBADF;
	return fstatfs(h, &sf) ? host_err() : put_statfs(p, a[1], &sf);
}

/* ---- paths ------------------------------------------------------------- */

/* Two common shapes: (dirfd, path) and a plain path with AT_FDCWD. */
struct at_path {
	int hdir;
	char path[PATH_BYTES];
};

static int64_t get_at_path(struct linux_proc *p, uint64_t gdirfd, uint64_t addr, struct at_path *ap)
{
	char mapped[PATH_BYTES];
	int64_t r = read_path(p, addr, ap->path);
	if (r)
		return r;
	r = proc_self_path(p, ap->path, mapped);
	if (r < 0)
		return r;
	if (r == 0)
		memcpy(ap->path, mapped, sizeof mapped);
	if (ap->path[0] == '/') {
		ap->hdir = AT_FDCWD;
		return 0;
	}
	return dirfd_host(p, gdirfd, &ap->hdir);
}

static int64_t do_faccessat(struct linux_proc *p, uint64_t dirfd, uint64_t path, uint64_t mode,
			    uint64_t flags)
{
	struct at_path ap;
	int64_t r = get_at_path(p, dirfd, path, &ap);
	if (r)
		return r;
	if (mode & ~7ULL)
		return -EINVAL;
	int hflags = (flags & G_AT_SYMLINK_NOFOLLOW ? AT_SYMLINK_NOFOLLOW : 0) |
		     (flags & G_AT_EACCESS ? AT_EACCESS : 0);
	return faccessat(ap.hdir, ap.path, (int)mode, hflags) ? host_err() : 0;
}

SYSCALL(access) { return do_faccessat(p, (uint64_t)G_AT_FDCWD, a[0], a[1], 0); }
SYSCALL(faccessat) { return do_faccessat(p, a[0], a[1], a[2], 0); }
SYSCALL(faccessat2) { return do_faccessat(p, a[0], a[1], a[2], a[3]); }

static int64_t do_readlinkat(struct linux_proc *p, uint64_t dirfd, uint64_t path_addr, uint64_t buf,
			     uint64_t size)
{
	char path[PATH_BYTES], target[PATH_BYTES];
	int64_t r = read_path(p, path_addr, path);
	int hdir;
	ssize_t n;
	if (r)
		return r;
	if ((int64_t)size <= 0)
		return -EINVAL;
	if (strcmp(path, "/proc/self/exe") == 0 || strcmp(path, "/proc/thread-self/exe") == 0) {
		n = (ssize_t)strlen(p->exe);
		memcpy(target, p->exe, (size_t)n);
	} else {
		char mapped[PATH_BYTES];
		r = proc_self_path(p, path, mapped);
		if (r < 0)
			return r;
		if (r == 0)
			memcpy(path, mapped, sizeof mapped);
		if (path[0] == '/')
			hdir = AT_FDCWD;
		else if ((r = dirfd_host(p, dirfd, &hdir)))
			return r;
		n = readlinkat(hdir, path, target, sizeof target);
		if (n < 0)
			return host_err();
	}
	if ((uint64_t)n > size)
		n = (ssize_t)size;
	return user_write(p, buf, target, (size_t)n) ? -EFAULT : n;
}

SYSCALL(readlink) { return do_readlinkat(p, (uint64_t)G_AT_FDCWD, a[0], a[1], a[2]); }
SYSCALL(readlinkat) { return do_readlinkat(p, a[0], a[1], a[2], a[3]); }

static int64_t do_unlinkat(struct linux_proc *p, uint64_t dirfd, uint64_t path, uint64_t flags)
{
	struct at_path ap;
	int64_t r = get_at_path(p, dirfd, path, &ap);
	if (r)
		return r;
	if (flags & ~(uint64_t)G_AT_REMOVEDIR)
		return -EINVAL;
	return unlinkat(ap.hdir, ap.path, flags ? AT_REMOVEDIR : 0) ? host_err() : 0;
}

SYSCALL(unlink) { return do_unlinkat(p, (uint64_t)G_AT_FDCWD, a[0], 0); }
SYSCALL(unlinkat) { return do_unlinkat(p, a[0], a[1], a[2]); }
SYSCALL(rmdir) { return do_unlinkat(p, (uint64_t)G_AT_FDCWD, a[0], G_AT_REMOVEDIR); }

static int64_t do_renameat(struct linux_proc *p, uint64_t od, uint64_t op, uint64_t nd, uint64_t np,
			   uint64_t flags)
{
	struct at_path from, to;
	int64_t r;
	if (flags)
		return -EINVAL;         /* RENAME_NOREPLACE etc. not modelled */
	if ((r = get_at_path(p, od, op, &from)) || (r = get_at_path(p, nd, np, &to)))
		return r;
	return renameat(from.hdir, from.path, to.hdir, to.path) ? host_err() : 0;
}

SYSCALL(rename) { return do_renameat(p, (uint64_t)G_AT_FDCWD, a[0], (uint64_t)G_AT_FDCWD, a[1], 0); }
SYSCALL(renameat) { return do_renameat(p, a[0], a[1], a[2], a[3], 0); }
SYSCALL(renameat2) { return do_renameat(p, a[0], a[1], a[2], a[3], a[4]); }

static int64_t do_mkdirat(struct linux_proc *p, uint64_t dirfd, uint64_t path, uint64_t mode)
{
	struct at_path ap;
	int64_t r = get_at_path(p, dirfd, path, &ap);
	return r ? r : mkdirat(ap.hdir, ap.path, (mode_t)(mode & 07777)) ? host_err() : 0;
}

SYSCALL(mkdir) { return do_mkdirat(p, (uint64_t)G_AT_FDCWD, a[0], a[1]); }
SYSCALL(mkdirat) { return do_mkdirat(p, a[0], a[1], a[2]); }

static int64_t do_fchmodat(struct linux_proc *p, uint64_t dirfd, uint64_t path, uint64_t mode)
{
	struct at_path ap;
	int64_t r = get_at_path(p, dirfd, path, &ap);
	return r ? r : fchmodat(ap.hdir, ap.path, (mode_t)(mode & 07777), 0) ? host_err() : 0;
}

SYSCALL(chmod) { return do_fchmodat(p, (uint64_t)G_AT_FDCWD, a[0], a[1]); }
SYSCALL(fchmodat) { return do_fchmodat(p, a[0], a[1], a[2]); }

SYSCALL(fchmod)
{
	int h = fd_host(p, a[0]);
	if (h < 0)
		return -EBADF;
	return fchmod(h, (mode_t)(a[1] & 07777)) ? host_err() : 0;
}

static int64_t do_symlinkat(struct linux_proc *p, uint64_t target_addr, uint64_t dirfd, uint64_t path)
{
	char target[PATH_BYTES];
	struct at_path ap;
	int64_t r = read_path(p, target_addr, target);
	if (r || (r = get_at_path(p, dirfd, path, &ap)))
		return r;
	return symlinkat(target, ap.hdir, ap.path) ? host_err() : 0;
}

SYSCALL(symlink) { return do_symlinkat(p, a[0], (uint64_t)G_AT_FDCWD, a[1]); }
SYSCALL(symlinkat) { return do_symlinkat(p, a[0], a[1], a[2]); }

static int64_t do_linkat(struct linux_proc *p, uint64_t od, uint64_t op, uint64_t nd, uint64_t np,
			 uint64_t flags)
{
	struct at_path from, to;
	int64_t r;
	if ((r = get_at_path(p, od, op, &from)) || (r = get_at_path(p, nd, np, &to)))
		return r;
	return linkat(from.hdir, from.path, to.hdir, to.path,
		      flags & G_AT_SYMLINK_FOLLOW ? AT_SYMLINK_FOLLOW : 0) ? host_err() : 0;
}

SYSCALL(link) { return do_linkat(p, (uint64_t)G_AT_FDCWD, a[0], (uint64_t)G_AT_FDCWD, a[1], 0); }
SYSCALL(linkat) { return do_linkat(p, a[0], a[1], a[2], a[3], a[4]); }

SYSCALL(utimensat)
{
	struct timespec ts[2], *tp = NULL;
	uint8_t b[32];
	if (a[2]) {
		if (user_read(p, b, a[2], 32))
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			ts[i].tv_sec = (time_t)get64(b + 16 * i);
			ts[i].tv_nsec = (long)get64(b + 16 * i + 8);
		}
		tp = ts;
	} else {
		/* "Now" is simulated time, never the host's. */
		uint64_t ns = user_now_ns(p);
		ts[0].tv_sec = (time_t)(p->rtc_epoch + ns / 1000000000);
		ts[0].tv_nsec = (long)(ns % 1000000000);
		ts[1] = ts[0];
		tp = ts;
	}
	int hflags = a[3] & G_AT_SYMLINK_NOFOLLOW ? AT_SYMLINK_NOFOLLOW : 0;
	if (a[1] == 0) {                /* futimens: the descriptor itself */
		int h = fd_host(p, a[0]);
		if (h < 0)
			return -EBADF;
		return futimens(h, tp) ? host_err() : 0;
	}
	struct at_path ap;
	int64_t r = get_at_path(p, a[0], a[1], &ap);
	return r ? r : utimensat(ap.hdir, ap.path, tp, hflags) ? host_err() : 0;
}

SYSCALL(getcwd)
{
	char buf[PATH_BYTES];
	if (!getcwd(buf, sizeof buf))
		return host_err();
	size_t n = strlen(buf) + 1;
	if (n > a[1])
		return -ERANGE;
	return user_write(p, a[0], buf, n) ? -EFAULT : (int64_t)n;
}

SYSCALL(chdir)
{
	char path[PATH_BYTES];
	int64_t r = read_path(p, a[0], path);
	return r ? r : chdir(path) ? host_err() : 0;
}

SYSCALL(fchdir)
{
	int h = fd_host(p, a[0]);
	if (h < 0)
		return -EBADF;
	return fchdir(h) ? host_err() : 0;
}

SYSCALL(umask)
{
	return umask((mode_t)(a[0] & 0777));
}

/* ---- memory ------------------------------------------------------------- */

enum {
	G_MAP_SHARED = 1, G_MAP_PRIVATE = 2, G_MAP_SHARED_VALIDATE = 3, G_MAP_FIXED = 0x10,
	G_MAP_ANONYMOUS = 0x20, G_MAP_FIXED_NOREPLACE = 0x100000,
};

SYSCALL(mmap)
{
	uint64_t addr = a[0], len = a[1], prot = a[2], flags = a[3], off = a[5];
	unsigned type = flags & 3;
	int h = -1;

	if (len == 0 || (off & (LINUX_PAGE - 1)) || type == 0 || (prot & ~7ULL))
		return -EINVAL;
	if (len > LINUX_STACK_TOP)
		return -ENOMEM;
	uint64_t plen = (len + LINUX_PAGE - 1) & ~(LINUX_PAGE - 1);
	if (!(flags & G_MAP_ANONYMOUS)) {
		struct linux_fd *f = fd_get(p, (uint32_t)a[4]);
		if (!f)
			return -EBADF;
		if (f->kind != LINUX_FD_HOST || !f->regular)
			return -ENODEV;
		h = f->host;
		int fl = fcntl(h, F_GETFL);
		if ((fl & O_ACCMODE) == O_WRONLY)
			return -EACCES;
		/* A shared writable file mapping would need write-back to the
		 * host file; no program this runner targets uses one. */
		if (type != G_MAP_PRIVATE && (prot & 2))
			return -ENODEV;
	}

	int64_t r;
	if (flags & (G_MAP_FIXED | G_MAP_FIXED_NOREPLACE)) {
		if (addr & (LINUX_PAGE - 1))
			return -EINVAL;
		if ((flags & G_MAP_FIXED_NOREPLACE) && !(flags & G_MAP_FIXED) &&
		    !user_range_free(p, addr, plen))
			return -EEXIST;
		r = user_map_fixed(p, addr, plen, (unsigned)prot);
	} else {
		r = user_mmap_anywhere(p, addr, plen, (unsigned)prot);
	}
	if (r < 0 || h < 0)
		return r;

	/* File-backed: copy the file's bytes in; past its end stays zero. */
	uint8_t *tmp = malloc(BOUNCE_MAX);
	if (!tmp) {
		user_unmap(p, (uint64_t)r, plen);
		return -ENOMEM;
	}
	for (uint64_t done = 0; done < len;) {
		size_t chunk = len - done < BOUNCE_MAX ? len - done : BOUNCE_MAX;
		ssize_t n = pread(h, tmp, chunk, (off_t)(off + done));
		if (n < 0) {
			int64_t e = host_err();
			free(tmp);
			user_unmap(p, (uint64_t)r, plen);
			return e;
		}
		if (n == 0)
			break;
		bus_dma_write(p->bus, (uint64_t)r + done, tmp, (size_t)n);
		done += (uint64_t)n;
	}
	free(tmp);
	return r;
}

SYSCALL(munmap) { return user_unmap(p, a[0], a[1]); }

SYSCALL(mprotect)
{
	if (a[2] & ~7ULL)
		return -EINVAL;
	return user_protect(p, a[0], a[1], (unsigned)a[2]);
}

SYSCALL(brk) { return (int64_t)user_brk(p, a[0]); }

static unsigned bus_to_prot(unsigned f)
{
	return (f & BUS_R ? 1 : 0) | (f & BUS_W ? 2 : 0) | (f & BUS_X ? 4 : 0);
}

/* Copy guest memory to guest memory, ignoring permissions (mremap). */
static int copy_guest(struct linux_proc *p, uint64_t dst, uint64_t src, uint64_t len)
{
	uint8_t *tmp = malloc(BOUNCE_MAX);
	if (!tmp)
		return -ENOMEM;
	for (uint64_t done = 0; done < len;) {
		size_t chunk = len - done < BOUNCE_MAX ? len - done : BOUNCE_MAX;
		if (bus_dma_read(p->bus, src + done, tmp, chunk) ||
		    bus_dma_write(p->bus, dst + done, tmp, chunk)) {
			free(tmp);
			return -EFAULT;
		}
		done += chunk;
	}
	free(tmp);
	return 0;
}

SYSCALL(mremap)
{
	uint64_t old = a[0], oldlen = (a[1] + LINUX_PAGE - 1) & ~(LINUX_PAGE - 1);
	uint64_t newlen = (a[2] + LINUX_PAGE - 1) & ~(LINUX_PAGE - 1), flags = a[3];
	if ((old & (LINUX_PAGE - 1)) || newlen == 0 || a[2] > LINUX_STACK_TOP || (flags & ~1ULL))
		return -EINVAL;         /* MREMAP_FIXED, MREMAP_DONTUNMAP: not modelled */
	if (oldlen == 0 || !user_range_mapped(p, old, oldlen))
		return -EFAULT;
	if (newlen <= oldlen) {
		if (newlen < oldlen)
			user_unmap(p, old + newlen, oldlen - newlen);
		return (int64_t)old;
	}
	unsigned prot = bus_to_prot(bus_find(p->bus, old + oldlen - 1)->flags);
	if (old + newlen > old && old + newlen <= LINUX_MMAP_TOP &&
	    user_range_free(p, old + oldlen, newlen - oldlen) &&
	    user_map_fixed(p, old + oldlen, newlen - oldlen, prot) >= 0)
		return (int64_t)old;
	if (!(flags & 1))               /* MREMAP_MAYMOVE */
		return -ENOMEM;
	int64_t n = user_mmap_anywhere(p, 0, newlen, prot);
	if (n < 0)
		return n;
	if (copy_guest(p, (uint64_t)n, old, oldlen)) {
		user_unmap(p, (uint64_t)n, newlen);
		return -ENOMEM;
	}
	user_unmap(p, old, oldlen);
	return n;
}

SYSCALL(madvise)
{
	uint64_t addr = a[0], len = (a[1] + LINUX_PAGE - 1) & ~(LINUX_PAGE - 1);
	if (addr & (LINUX_PAGE - 1))
		return -EINVAL;
	if (a[2] != 4)                  /* only MADV_DONTNEED changes contents */
		return 0;
	if (!user_range_mapped(p, addr, len))
		return -ENOMEM;
	/* Private anonymous pages read back as zero after MADV_DONTNEED, and
	 * allocators rely on it. */
	static const uint8_t zero[4096];
	for (uint64_t o = 0; o < len; o += sizeof zero)
		bus_dma_write(p->bus, addr + o, zero, sizeof zero);
	return 0;
}

/* ---- process and identity ---------------------------------------------- */

SYSCALL(exit_group)
{
	p->exited = true;
	p->exit_status = (int)(a[0] & 0xff);
	return 0;
}

SYSCALL(arch_prctl)
{
	switch (a[0]) {
	case 0x1001:    /* ARCH_SET_GS */
		p->cpu->gs_base = a[1];
		return 0;
	case 0x1002:    /* ARCH_SET_FS */
		p->cpu->fs_base = a[1];
		return 0;
	case 0x1003:    /* ARCH_GET_FS */
		return put_u64(p, a[1], p->cpu->fs_base);
	case 0x1004:    /* ARCH_GET_GS */
		return put_u64(p, a[1], p->cpu->gs_base);
	default:
		return -EINVAL;
	}
}

SYSCALL(set_tid_address)
{
	p->clear_child_tid = a[0];
	return LINUX_PID;
}

SYSCALL(zero) { return 0; }
SYSCALL(enosys) { return -ENOSYS; }
SYSCALL(getpid) { return LINUX_PID; }
SYSCALL(getppid) { return LINUX_PPID; }
SYSCALL(getuid) { return LINUX_UID; }
SYSCALL(getgid) { return LINUX_GID; }

/* Changing to the identity the process already has is allowed, as for an
 * unprivileged process; anything else is refused. */
SYSCALL(setuid) { return (uint32_t)a[0] == LINUX_UID ? 0 : -EPERM; }
SYSCALL(setgid) { return (uint32_t)a[0] == LINUX_GID ? 0 : -EPERM; }

SYSCALL(getresuid)
{
	for (int i = 0; i < 3; i++)
		if (put_u32(p, a[i], LINUX_UID))
			return -EFAULT;
	return 0;
}

SYSCALL(getresgid)
{
	for (int i = 0; i < 3; i++)
		if (put_u32(p, a[i], LINUX_GID))
			return -EFAULT;
	return 0;
}

SYSCALL(getgroups)
{
	if ((int32_t)a[0] < 0)
		return -EINVAL;
	if (a[0] == 0)
		return 1;
	return put_u32(p, a[1], LINUX_GID) ? -EFAULT : 1;
}

SYSCALL(uname)
{
	static const char *const fields[6] = {
		"Linux", "phantom", "6.1.0-phantom", "#1 SMP PREEMPT_DYNAMIC phantom-sim",
		"x86_64", "(none)",
	};
	uint8_t b[6 * 65] = {0};
	for (int i = 0; i < 6; i++)
		memcpy(b + 65 * i, fields[i], strlen(fields[i]));
	return user_write(p, a[0], b, sizeof b);
}

SYSCALL(sysinfo)
{
	uint8_t b[112] = {0};
	put64(b + 0, user_now_ns(p) / 1000000000);      /* uptime */
	put64(b + 32, 1ULL << 30);                      /* totalram: 1 GiB */
	put64(b + 40, 768ULL << 20);                    /* freeram */
	put16(b + 80, 1);                               /* procs */
	put32(b + 104, 1);                              /* mem_unit */
	return user_write(p, a[0], b, sizeof b);
}

void linux_rlimit_defaults(struct linux_proc *p)
{
	const uint64_t inf = UINT64_MAX;
	for (int i = 0; i < 16; i++)
		p->rlimits[i][0] = p->rlimits[i][1] = inf;
	/* Debian's defaults for an ordinary login (resource numbers from
	 * asm-generic/resource.h). */
	p->rlimits[3][0] = LINUX_STACK_SIZE;            /* STACK */
	p->rlimits[4][0] = 0;                           /* CORE */
	p->rlimits[6][0] = p->rlimits[6][1] = 4096;     /* NPROC */
	p->rlimits[7][0] = p->rlimits[7][1] = LINUX_MAX_FDS;  /* NOFILE */
	p->rlimits[8][0] = p->rlimits[8][1] = 8ULL << 20;     /* MEMLOCK */
	p->rlimits[11][0] = p->rlimits[11][1] = 4096;   /* SIGPENDING */
	p->rlimits[12][0] = p->rlimits[12][1] = 819200; /* MSGQUEUE */
	p->rlimits[13][0] = p->rlimits[13][1] = 0;      /* NICE */
	p->rlimits[14][0] = p->rlimits[14][1] = 0;      /* RTPRIO */
}

static int64_t do_prlimit(struct linux_proc *p, uint64_t res, uint64_t newp, uint64_t oldp)
{
	uint8_t b[16];
	if (res >= 16)
		return -EINVAL;
	if (newp && user_read(p, b, newp, 16))
		return -EFAULT;
	if (newp && get64(b) > get64(b + 8))
		return -EINVAL;
	if (oldp) {
		uint8_t o[16];
		put64(o, p->rlimits[res][0]);
		put64(o + 8, p->rlimits[res][1]);
		if (user_write(p, oldp, o, 16))
			return -EFAULT;
	}
	if (newp) {
		p->rlimits[res][0] = get64(b);
		p->rlimits[res][1] = get64(b + 8);
	}
	return 0;
}

SYSCALL(prlimit64)
{
	if (a[0] != 0 && a[0] != LINUX_PID)
		return -ESRCH;
	return do_prlimit(p, a[1], a[2], a[3]);
}

SYSCALL(getrlimit) { return do_prlimit(p, a[0], 0, a[1]); }
SYSCALL(setrlimit) { return do_prlimit(p, a[0], a[1], 0); }

SYSCALL(getrusage)
{
	uint8_t b[144] = {0};
	uint64_t us = user_now_ns(p) / 1000;
	put64(b + 0, us / 1000000);     /* ru_utime: all time is user time */
	put64(b + 8, us % 1000000);
	return user_write(p, a[1], b, sizeof b);
}

SYSCALL(times)
{
	uint64_t ticks = user_now_ns(p) / 10000000;     /* USER_HZ = 100 */
	if (a[0]) {
		uint8_t b[32] = {0};
		put64(b, ticks);
		if (user_write(p, a[0], b, sizeof b))
			return -EFAULT;
	}
	return (int64_t)ticks;
}

SYSCALL(sched_getaffinity)
{
	/* One CPU.  The kernel returns the size of its cpumask, 8 bytes on
	 * a kernel with at most 64 CPUs. */
	if (a[1] < 8 || (a[1] & 7))
		return -EINVAL;
	if (a[0] != 0 && a[0] != LINUX_PID)
		return -ESRCH;
	return put_u64(p, a[2], 1) ? -EFAULT : 8;
}

SYSCALL(getpriority) { return 20; /* 20 - nice */ }

SYSCALL(prctl)
{
	switch (a[0]) {
	case 15: {      /* PR_SET_NAME */
		char name[16];
		long n = user_read_string(p, name, a[1], sizeof name);
		if (n == -EFAULT)
			return -EFAULT;
		memcpy(p->comm, name, sizeof name);
		p->comm[15] = 0;
		return 0;
	}
	case 16:        /* PR_GET_NAME */
		return user_write(p, a[1], p->comm, sizeof p->comm);
	case 3:         /* PR_GET_DUMPABLE */
		return 1;
	default:
		return -EINVAL;
	}
}

/* ---- signals ------------------------------------------------------------ */

/* Signals are recorded, never delivered: no other process or timer can
 * raise one, and a signal the guest sends itself ends it, as the default
 * action of every such signal the programs here send (SIGABRT) would. */
SYSCALL(rt_sigaction)
{
	uint64_t sig = a[0];
	uint8_t b[32];
	if (a[3] != 8 || sig < 1 || sig > LINUX_NSIG)
		return -EINVAL;
	if (a[1] && (sig == 9 || sig == 19))    /* SIGKILL, SIGSTOP */
		return -EINVAL;
	if (a[1] && user_read(p, b, a[1], 32))
		return -EFAULT;
	if (a[2]) {
		uint8_t o[32];
		const struct linux_sigaction *s = &p->sigactions[sig];
		put64(o, s->handler);
		put64(o + 8, s->flags);
		put64(o + 16, s->restorer);
		put64(o + 24, s->mask);
		if (user_write(p, a[2], o, 32))
			return -EFAULT;
	}
	if (a[1])
		p->sigactions[sig] = (struct linux_sigaction){
			.handler = get64(b), .flags = get64(b + 8),
			.restorer = get64(b + 16), .mask = get64(b + 24),
		};
	return 0;
}

SYSCALL(rt_sigprocmask)
{
	uint8_t b[8];
	uint64_t set = 0;
	if (a[3] != 8)
		return -EINVAL;
	if (a[1]) {
		if (user_read(p, b, a[1], 8))
			return -EFAULT;
		set = get64(b) & ~((1ULL << 8) | (1ULL << 18));        /* not KILL, STOP */
	}
	if (a[2] && put_u64(p, a[2], p->sigmask))
		return -EFAULT;
	if (a[1]) {
		switch (a[0]) {
		case 0: p->sigmask |= set; break;       /* SIG_BLOCK */
		case 1: p->sigmask &= ~set; break;      /* SIG_UNBLOCK */
		case 2: p->sigmask = set; break;        /* SIG_SETMASK */
		default: return -EINVAL;
		}
	}
	return 0;
}

SYSCALL(sigaltstack)
{
	uint8_t b[24];
	if (a[1]) {
		uint8_t o[24] = {0};
		put64(o, p->altstack[0]);
		put32(o + 8, (uint32_t)(p->altstack[2] ? p->altstack[1] : 2));   /* SS_DISABLE */
		put64(o + 16, p->altstack[2]);
		if (user_write(p, a[1], o, 24))
			return -EFAULT;
	}
	if (a[0]) {
		if (user_read(p, b, a[0], 24))
			return -EFAULT;
		uint32_t flags = get32(b + 8);
		if (flags & 2) {        /* SS_DISABLE */
			memset(p->altstack, 0, sizeof p->altstack);
		} else {
			if (get64(b + 16) < 2048)       /* MINSIGSTKSZ */
				return -ENOMEM;
			p->altstack[0] = get64(b);
			p->altstack[1] = flags;
			p->altstack[2] = get64(b + 16);
		}
	}
	return 0;
}

static int64_t signal_self(struct linux_proc *p, uint64_t sig)
{
	if (sig > LINUX_NSIG)
		return -EINVAL;
	if (sig == 0)
		return 0;
	uint64_t h = p->sigactions[sig].handler;
	/* SIGCHLD, SIGCONT, SIGURG, SIGWINCH are ignored by default. */
	bool ignored_default = sig == 17 || sig == 18 || sig == 23 || sig == 28;
	if (h == 1 || (h == 0 && ignored_default))
		return 0;
	if (h != 0)
		fprintf(p->log, "phantom-sim: guest sent itself signal %llu with a handler installed; "
			"signal delivery is not modelled, ending the guest\n", (unsigned long long)sig);
	die_by_signal(p, (int)sig);
	return 0;
}

SYSCALL(kill)
{
	if ((int32_t)a[0] != LINUX_PID && (int32_t)a[0] != 0 && (int32_t)a[0] != -1)
		return -ESRCH;
	return signal_self(p, a[1]);
}

SYSCALL(tgkill)
{
	if (a[0] != LINUX_PID || a[1] != LINUX_PID)
		return -ESRCH;
	return signal_self(p, a[2]);
}

SYSCALL(tkill)
{
	if (a[0] != LINUX_PID)
		return -ESRCH;
	return signal_self(p, a[1]);
}

/* ---- time --------------------------------------------------------------- */

static int64_t put_timespec(struct linux_proc *p, uint64_t addr, uint64_t ns)
{
	uint8_t b[16];
	put64(b, ns / 1000000000);
	put64(b + 8, ns % 1000000000);
	return user_write(p, addr, b, 16);
}

SYSCALL(clock_gettime)
{
	uint64_t ns = user_now_ns(p);
	switch (a[0]) {
	case 0:         /* CLOCK_REALTIME */
	case 5:         /* CLOCK_REALTIME_COARSE */
	case 11:        /* CLOCK_TAI */
		ns += p->rtc_epoch * 1000000000ULL;
		break;
	case 1: case 2: case 3: case 4: case 6: case 7:
		break;  /* MONOTONIC, PROCESS/THREAD_CPUTIME, MONOTONIC_RAW/COARSE, BOOTTIME */
	default:
		return -EINVAL;
	}
	return put_timespec(p, a[1], ns);
}

SYSCALL(clock_getres)
{
	if (a[0] > 11)
		return -EINVAL;
	return a[1] ? put_timespec(p, a[1], 1) : 0;
}

SYSCALL(gettimeofday)
{
	uint64_t us = user_now_ns(p) / 1000 + p->rtc_epoch * 1000000ULL;
	if (a[0]) {
		uint8_t b[16];
		put64(b, us / 1000000);
		put64(b + 8, us % 1000000);
		if (user_write(p, a[0], b, 16))
			return -EFAULT;
	}
	if (a[1]) {
		uint8_t z[8] = {0};     /* UTC, no DST */
		if (user_write(p, a[1], z, 8))
			return -EFAULT;
	}
	return 0;
}

SYSCALL(time)
{
	uint64_t s = p->rtc_epoch + user_now_ns(p) / 1000000000;
	if (a[0] && put_u64(p, a[0], s))
		return -EFAULT;
	return (int64_t)s;
}

/* A sleep passes simulated time only: nothing else runs meanwhile. */
static void advance_ns(struct linux_proc *p, uint64_t ns)
{
	p->sim->now += ns * SIM_NS;
}

static int64_t read_timespec(struct linux_proc *p, uint64_t addr, uint64_t *ns)
{
	uint8_t b[16];
	if (user_read(p, b, addr, 16))
		return -EFAULT;
	int64_t s = (int64_t)get64(b), n = (int64_t)get64(b + 8);
	if (s < 0 || n < 0 || n >= 1000000000)
		return -EINVAL;
	*ns = (uint64_t)s * 1000000000ULL + (uint64_t)n;
	return 0;
}

SYSCALL(nanosleep)
{
	uint64_t ns;
	int64_t r = read_timespec(p, a[0], &ns);
	if (r)
		return r;
	advance_ns(p, ns);
	return 0;
}

SYSCALL(clock_nanosleep)
{
	uint64_t ns, now = user_now_ns(p);
	int64_t r = read_timespec(p, a[2], &ns);
	if (r)
		return r;
	if (a[1] & 1) {                 /* TIMER_ABSTIME */
		if (a[0] == 0 || a[0] == 11)
			now += p->rtc_epoch * 1000000000ULL;
		ns = ns > now ? ns - now : 0;
	}
	advance_ns(p, ns);
	return 0;
}

SYSCALL(getrandom)
{
	uint64_t len = a[1] < BOUNCE_MAX ? a[1] : BOUNCE_MAX;
	if (a[2] & ~7ULL)
		return -EINVAL;
	if (!user_range_ok(p, a[0], len, BUS_W))
		return -EFAULT;
	uint8_t *tmp = malloc(len ? len : 1);
	if (!tmp)
		return -ENOMEM;
	rng_fill(&p->rng_getrandom, tmp, len);
	int64_t r = user_write(p, a[0], tmp, len) ? -EFAULT : (int64_t)len;
	free(tmp);
	return r;
}

/* ---- waiting ------------------------------------------------------------ */

SYSCALL(futex)
{
	unsigned op = a[1] & 0x7f;      /* without FUTEX_PRIVATE, CLOCK_REALTIME */
	uint8_t b[4];
	switch (op) {
	case 1:         /* FUTEX_WAKE */
	case 10:        /* FUTEX_WAKE_BITSET */
		return 0;
	case 0:         /* FUTEX_WAIT */
	case 9:         /* FUTEX_WAIT_BITSET */
		if (user_read(p, b, a[0], 4))
			return -EFAULT;
		if (get32(b) != (uint32_t)a[2])
			return -EAGAIN;
		if (a[3])
			return -ETIMEDOUT;      /* nobody else can wake it */
		fprintf(p->log, "phantom-sim: guest deadlock: futex wait with no other thread\n");
		die_by_signal(p, 9);    /* as if killed by a watchdog */
		return 0;
	default:
		return -ENOSYS;
	}
}

/* Poll: every valid descriptor is ready for what it asks.  Reads of pipes
 * and terminals then block on the host as they would natively; nothing
 * here depends on host timing. */
static int64_t do_poll(struct linux_proc *p, uint64_t fds, uint64_t nfds, int64_t timeout_ns)
{
	if (nfds > LINUX_MAX_FDS)
		return -EINVAL;
	uint8_t *b = malloc(nfds * 8 + 1);
	if (!b)
		return -ENOMEM;
	if (user_read(p, b, fds, nfds * 8)) {
		free(b);
		return -EFAULT;
	}
	int64_t ready = 0;
	for (uint64_t i = 0; i < nfds; i++) {
		int32_t fd = (int32_t)get32(b + 8 * i);
		uint16_t events = (uint16_t)(b[8 * i + 4] | b[8 * i + 5] << 8), rev = 0;
		if (fd >= 0)
			rev = fd_get(p, (uint32_t)fd) ? events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)
						     : POLLNVAL;
		put16(b + 8 * i + 6, rev);
		ready += rev != 0;
	}
	int64_t r = user_write(p, fds, b, nfds * 8) ? -EFAULT : ready;
	free(b);
	if (r == 0 && timeout_ns > 0)
		advance_ns(p, (uint64_t)timeout_ns);
	return r;
}

SYSCALL(poll)
{
	int32_t ms = (int32_t)a[2];
	return do_poll(p, a[0], a[1], ms > 0 ? (int64_t)ms * 1000000 : 0);
}

SYSCALL(ppoll)
{
	uint64_t ns = 0;
	if (a[2] && read_timespec(p, a[2], &ns))
		return -EFAULT;
	return do_poll(p, a[0], a[1], (int64_t)ns);
}

static int64_t do_select(struct linux_proc *p, uint64_t nfds, const uint64_t sets[3])
{
	uint8_t b[3][LINUX_MAX_FDS / 8] = {{0}};
	int64_t ready = 0;
	if (nfds > LINUX_MAX_FDS)
		return -EINVAL;
	size_t bytes = (nfds + 63) / 64 * 8;
	for (int k = 0; k < 3; k++)
		if (sets[k] && user_read(p, b[k], sets[k], bytes))
			return -EFAULT;
	for (uint64_t fd = 0; fd < nfds; fd++) {
		bool any = false;
		for (int k = 0; k < 3; k++)
			any |= b[k][fd / 8] >> (fd % 8) & 1;
		if (any && !fd_get(p, fd))
			return -EBADF;
		b[2][fd / 8] &= (uint8_t)~(1u << (fd % 8));     /* no exceptions */
		for (int k = 0; k < 2; k++)
			ready += b[k][fd / 8] >> (fd % 8) & 1;
	}
	for (int k = 0; k < 3; k++)
		if (sets[k] && user_write(p, sets[k], b[k], bytes))
			return -EFAULT;
	return ready;
}

SYSCALL(select)
{
	const uint64_t sets[3] = {a[1], a[2], a[3]};
	return do_select(p, a[0], sets);
}

SYSCALL(wait4) { return -ECHILD; }

SYSCALL(getcpu)
{
	if ((a[0] && put_u32(p, a[0], 0)) || (a[1] && put_u32(p, a[1], 0)))
		return -EFAULT;
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

/* The symbolic name of an errno value, for --strace (asm-generic/errno*.h). */
static const char *errno_name(int e)
{
	static const char *const names[] = {
		[EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR",
		[EIO] = "EIO", [EBADF] = "EBADF", [ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN",
		[ENOMEM] = "ENOMEM", [EACCES] = "EACCES", [EFAULT] = "EFAULT", [EEXIST] = "EEXIST",
		[ENOTDIR] = "ENOTDIR", [EISDIR] = "EISDIR", [EINVAL] = "EINVAL", [EMFILE] = "EMFILE",
		[ENOTTY] = "ENOTTY", [ESPIPE] = "ESPIPE", [EPIPE] = "EPIPE", [ERANGE] = "ERANGE",
		[ENAMETOOLONG] = "ENAMETOOLONG", [ENOSYS] = "ENOSYS", [ENOTEMPTY] = "ENOTEMPTY",
		[ELOOP] = "ELOOP", [ENODEV] = "ENODEV", [ETIMEDOUT] = "ETIMEDOUT", [EXDEV] = "EXDEV",
		[EROFS] = "EROFS", [ENOSPC] = "ENOSPC",
	};
	if (e > 0 && (size_t)e < sizeof names / sizeof names[0] && names[e])
		return names[e];
	return "E?";
}

/* args: one letter per argument for --strace: d signed, u unsigned,
 * x hex, s string (path). */
struct syscall_entry {
	const char *name;
	syscall_fn *fn;
	const char *args;
};

static const struct syscall_entry syscalls[] = {
	[0] = {"read", sys_read, "dxu"},
	[1] = {"write", sys_write, "dxu"},
	[2] = {"open", sys_open, "sxo"},
	[3] = {"close", sys_close, "d"},
	[4] = {"stat", sys_stat, "sx"},
	[5] = {"fstat", sys_fstat, "dx"},
	[6] = {"lstat", sys_lstat, "sx"},
	[7] = {"poll", sys_poll, "xud"},
	[8] = {"lseek", sys_lseek, "ddd"},
	[9] = {"mmap", sys_mmap, "xuxxdx"},
	[10] = {"mprotect", sys_mprotect, "xux"},
	[11] = {"munmap", sys_munmap, "xu"},
	[12] = {"brk", sys_brk, "x"},
	[13] = {"rt_sigaction", sys_rt_sigaction, "dxxu"},
	[14] = {"rt_sigprocmask", sys_rt_sigprocmask, "dxxu"},
	[15] = {"rt_sigreturn", NULL, ""},
	[16] = {"ioctl", sys_ioctl, "dxx"},
	[17] = {"pread64", sys_pread64, "dxud"},
	[18] = {"pwrite64", sys_pwrite64, "dxud"},
	[19] = {"readv", sys_readv, "dxu"},
	[20] = {"writev", sys_writev, "dxu"},
	[21] = {"access", sys_access, "so"},
	[22] = {"pipe", sys_pipe, "x"},
	[23] = {"select", sys_select, "dxxxx"},
	[24] = {"sched_yield", sys_zero, ""},
	[25] = {"mremap", sys_mremap, "xuux"},
	[26] = {"msync", sys_zero, "xux"},
	[28] = {"madvise", sys_madvise, "xud"},
	[32] = {"dup", sys_dup, "d"},
	[33] = {"dup2", sys_dup2, "dd"},
	[35] = {"nanosleep", sys_nanosleep, "xx"},
	[37] = {"alarm", sys_zero, "u"},
	[38] = {"setitimer", sys_zero, "dxx"},
	[39] = {"getpid", sys_getpid, ""},
	[40] = {"sendfile", sys_sendfile, "ddxu"},
	[56] = {"clone", NULL, "xx"},
	[57] = {"fork", NULL, ""},
	[58] = {"vfork", NULL, ""},
	[59] = {"execve", NULL, "sxx"},
	[60] = {"exit", sys_exit_group, "d"},
	[61] = {"wait4", sys_wait4, "dxxx"},
	[62] = {"kill", sys_kill, "dd"},
	[63] = {"uname", sys_uname, "x"},
	[72] = {"fcntl", sys_fcntl, "ddx"},
	[73] = {"flock", sys_zero, "dd"},
	[74] = {"fsync", sys_fsync, "d"},
	[75] = {"fdatasync", sys_fsync, "d"},
	[76] = {"truncate", sys_truncate, "sd"},
	[77] = {"ftruncate", sys_ftruncate, "dd"},
	[79] = {"getcwd", sys_getcwd, "xu"},
	[80] = {"chdir", sys_chdir, "s"},
	[81] = {"fchdir", sys_fchdir, "d"},
	[82] = {"rename", sys_rename, "ss"},
	[83] = {"mkdir", sys_mkdir, "so"},
	[84] = {"rmdir", sys_rmdir, "s"},
	[85] = {"creat", sys_creat, "so"},
	[86] = {"link", sys_link, "ss"},
	[87] = {"unlink", sys_unlink, "s"},
	[88] = {"symlink", sys_symlink, "ss"},
	[89] = {"readlink", sys_readlink, "sxu"},
	[90] = {"chmod", sys_chmod, "so"},
	[91] = {"fchmod", sys_fchmod, "do"},
	[95] = {"umask", sys_umask, "o"},
	[96] = {"gettimeofday", sys_gettimeofday, "xx"},
	[97] = {"getrlimit", sys_getrlimit, "dx"},
	[98] = {"getrusage", sys_getrusage, "dx"},
	[99] = {"sysinfo", sys_sysinfo, "x"},
	[100] = {"times", sys_times, "x"},
	[102] = {"getuid", sys_getuid, ""},
	[104] = {"getgid", sys_getgid, ""},
	[105] = {"setuid", sys_setuid, "d"},
	[106] = {"setgid", sys_setgid, "d"},
	[107] = {"geteuid", sys_getuid, ""},
	[108] = {"getegid", sys_getgid, ""},
	[109] = {"setpgid", sys_zero, "dd"},
	[110] = {"getppid", sys_getppid, ""},
	[111] = {"getpgrp", sys_getpid, ""},
	[112] = {"setsid", sys_getpid, ""},
	[115] = {"getgroups", sys_getgroups, "dx"},
	[118] = {"getresuid", sys_getresuid, "xxx"},
	[120] = {"getresgid", sys_getresgid, "xxx"},
	[121] = {"getpgid", sys_getpid, "d"},
	[124] = {"getsid", sys_getpid, "d"},
	[131] = {"sigaltstack", sys_sigaltstack, "xx"},
	[137] = {"statfs", sys_statfs, "sx"},
	[138] = {"fstatfs", sys_fstatfs, "dx"},
	[140] = {"getpriority", sys_getpriority, "dd"},
	[141] = {"setpriority", sys_zero, "ddd"},
	[157] = {"prctl", sys_prctl, "dxxxx"},
	[158] = {"arch_prctl", sys_arch_prctl, "xx"},
	[160] = {"setrlimit", sys_setrlimit, "dx"},
	[186] = {"gettid", sys_getpid, ""},
	[200] = {"tkill", sys_tkill, "dd"},
	[201] = {"time", sys_time, "x"},
	[202] = {"futex", sys_futex, "xxuxxu"},
	[203] = {"sched_setaffinity", sys_zero, "dux"},
	[204] = {"sched_getaffinity", sys_sched_getaffinity, "dux"},
	[217] = {"getdents64", sys_getdents64, "dxu"},
	[218] = {"set_tid_address", sys_set_tid_address, "x"},
	[221] = {"fadvise64", sys_fadvise64, "dddd"},
	[228] = {"clock_gettime", sys_clock_gettime, "dx"},
	[229] = {"clock_getres", sys_clock_getres, "dx"},
	[230] = {"clock_nanosleep", sys_clock_nanosleep, "ddxx"},
	[231] = {"exit_group", sys_exit_group, "d"},
	[234] = {"tgkill", sys_tgkill, "ddd"},
	[257] = {"openat", sys_openat, "dsxo"},
	[258] = {"mkdirat", sys_mkdirat, "dso"},
	[262] = {"newfstatat", sys_newfstatat, "dsxx"},
	[263] = {"unlinkat", sys_unlinkat, "dsx"},
	[264] = {"renameat", sys_renameat, "dsds"},
	[265] = {"linkat", sys_linkat, "dsdsx"},
	[266] = {"symlinkat", sys_symlinkat, "sds"},
	[267] = {"readlinkat", sys_readlinkat, "dsxu"},
	[268] = {"fchmodat", sys_fchmodat, "dso"},
	[269] = {"faccessat", sys_faccessat, "dso"},
	[270] = {"pselect6", sys_select, "dxxxxx"},
	[271] = {"ppoll", sys_ppoll, "xuxxu"},
	[273] = {"set_robust_list", sys_zero, "xu"},
	[280] = {"utimensat", sys_utimensat, "dsxx"},
	[292] = {"dup3", sys_dup3, "ddx"},
	[293] = {"pipe2", sys_pipe2, "xx"},
	[302] = {"prlimit64", sys_prlimit64, "ddxx"},
	[309] = {"getcpu", sys_getcpu, "xxx"},
	[316] = {"renameat2", sys_renameat2, "dsdsx"},
	[318] = {"getrandom", sys_getrandom, "xux"},
	[332] = {"statx", sys_statx, "dsxxx"},
	/* rseq registration is optional for glibc: ENOSYS makes it skip
	 * it, quietly. */
	[334] = {"rseq", sys_enosys, "xuxx"},
	[439] = {"faccessat2", sys_faccessat2, "dsox"},
};
#define NSYSCALLS (sizeof syscalls / sizeof syscalls[0])

static void strace_args(struct linux_proc *p, struct strace_line *l, const struct syscall_entry *e,
			const uint64_t *a)
{
	for (int i = 0; e->args[i]; i++) {
		const char *sep = i ? ", " : "";
		switch (e->args[i]) {
		case 'd': strace_printf(l, "%s%lld", sep, (long long)(int32_t)a[i]); break;
		case 'u': strace_printf(l, "%s%llu", sep, (unsigned long long)a[i]); break;
		case 'o': strace_printf(l, "%s0%llo", sep, (unsigned long long)a[i]); break;
		case 's': {
			char s[PATH_BYTES];
			if (user_read_string(p, s, a[i], sizeof s) >= 0)
				strace_printf(l, "%s\"%.200s\"", sep, s);
			else
				strace_printf(l, "%s%#llx", sep, (unsigned long long)a[i]);
			break;
		}
		default: strace_printf(l, "%s%#llx", sep, (unsigned long long)a[i]); break;
		}
	}
}

static void strace_result(struct strace_line *l, int64_t ret)
{
	if (ret < 0 && ret > -4096)
		strace_printf(l, " = -1 %s (%s)\n", errno_name((int)-ret), strerror((int)-ret));
	else if (ret >= 0 && ret < 65536)
		strace_printf(l, " = %lld\n", (long long)ret);
	else
		strace_printf(l, " = %#llx\n", (unsigned long long)ret);
}

void linux_syscall(struct linux_proc *p)
{
	struct cpu *c = p->cpu;
	uint64_t nr = c->gpr[CPU_RAX];
	const uint64_t a[6] = {c->gpr[CPU_RDI], c->gpr[CPU_RSI], c->gpr[CPU_RDX],
			       c->gpr[CPU_R10], c->gpr[CPU_R8], c->gpr[CPU_R9]};
	const struct syscall_entry *e = nr < NSYSCALLS ? &syscalls[nr] : NULL;
	struct strace_line line = {.len = 0};
	int64_t ret;

	++*p->syscalls;
	if (e && e->fn) {
		if (p->strace) {
			/* Arguments are formatted before the call: paths are
			 * inputs, and the call may change what they name. */
			strace_printf(&line, "[user] %s(", e->name);
			strace_args(p, &line, e, a);
			strace_printf(&line, ")");
			if (nr == 60 || nr == 231) {
				strace_printf(&line, " = ?\n");
				fputs(line.buf, p->log);
			}
		}
		ret = e->fn(p, a);
		if (p->strace && nr != 60 && nr != 231) {
			strace_result(&line, ret);
			fputs(line.buf, p->log);
		}
	} else {
		ret = -ENOSYS;
		++*p->unknown_syscalls;
		uint64_t bit = nr < 512 ? nr : 511;
		if (!(p->warned[bit / 64] >> (bit % 64) & 1)) {
			p->warned[bit / 64] |= 1ULL << (bit % 64);
			fprintf(p->log, "phantom-sim: unsupported syscall %llu%s%s%s, returning ENOSYS\n",
				(unsigned long long)nr, e && e->name ? " (" : "",
				e && e->name ? e->name : "", e && e->name ? ")" : "");
		}
		if (p->strace)
			fprintf(p->log, "[user] syscall_%llu(...) = -1 ENOSYS\n", (unsigned long long)nr);
	}
	/* `syscall` leaves rcx = return rip and r11 = rflags; the CPU model
	 * does that part.  The kernel returns in rax. */
	c->gpr[CPU_RAX] = (uint64_t)ret;
}
