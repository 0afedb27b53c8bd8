/* devices/image.c: fixed-size image files, updated only by atomic replace.
 *
 * The update scheme, in order (each step's failure leaves the old image):
 *   1. hold back the termination signals (Ctrl-C is delivered afterwards);
 *   2. create NAME.tmp.XXXXXX in the image's directory, same mode;
 *   3. give it the old contents: a reflink clone (FICLONE) where the file
 *      system has one, else a copy of the old file's data extents only
 *      (SEEK_DATA/SEEK_HOLE), so holes stay holes;
 *   4. write the changed pages over it (an all-zero page becomes a hole);
 *   5. fsync the temporary file, rename it over NAME, fsync the directory.
 * rename() is atomic, so NAME always names a whole image, old or new.  A
 * host crash between 2 and 5 can leave a stray NAME.tmp.* file, never a
 * torn NAME.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include "devices/image.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void block_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void restore_signals(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

/* The directory holding path, for the temporary file and the fsync. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int fsync_dir(const char *path)
{
	char *dir = dir_of(path);
	if (!dir)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

static int make_temp(const char *path, char **tmp)
{
	if (asprintf(tmp, "%s.tmp.XXXXXX", path) < 0) {
		*tmp = NULL;
		return -1;
	}
	int fd = mkostemp(*tmp, O_CLOEXEC);
	if (fd < 0) {
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const uint8_t *b = buf;
	while (len) {
		ssize_t n = pwrite(fd, b, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		b += n, len -= (size_t)n, off += n;
	}
	return 0;
}

static bool all_zero(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

/* Copy [off, end) from in to out, leaving all-zero blocks as holes. */
static int copy_range(int in, int out, off_t off, off_t end)
{
	while (off < end) {
		size_t want = (size_t)(end - off);
		loff_t a = off, b = off;
		ssize_t n = copy_file_range(in, &a, out, &b, want, 0);
		if (n > 0) {
			off += n;
			continue;
		}
		if (n == 0)
			return 0;       /* end of file */
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP && errno != EBADF)
			return -1;
		break;                  /* fall back to read/write */
	}
	static uint8_t buf[1 << 20];
	while (off < end) {
		size_t want = (size_t)(end - off) < sizeof buf ? (size_t)(end - off) : sizeof buf;
		ssize_t n = pread(in, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		for (ssize_t i = 0; i < n; i += IMAGE_PAGE) {
			size_t k = (size_t)(n - i) < IMAGE_PAGE ? (size_t)(n - i) : IMAGE_PAGE;
			if (!all_zero(buf + i, k) && write_all(out, buf + i, k, off + i) < 0)
				return -1;
		}
		off += n;
	}
	return 0;
}

/* Give out (already sized) the contents of in. */
static int copy_image(int in, int out, uint64_t size)
{
#ifdef FICLONE
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
#endif
	off_t off = 0;
	while ((uint64_t)off < size) {
		off_t d = lseek(in, off, SEEK_DATA);
		if (d < 0) {
			if (errno == ENXIO)
				return 0;       /* only holes remain */
			return copy_range(in, out, off, (off_t)size);   /* no SEEK_DATA */
		}
		off_t h = lseek(in, d, SEEK_HOLE);
		if (h < 0)
			h = (off_t)size;
		if (copy_range(in, out, d, h) < 0)
			return -1;
		off = h;
	}
	return 0;
}

/* Create path as a sparse file of size bytes, atomically. */
static int create_sparse(const char *path, uint64_t size, char *err, size_t errlen)
{
	sigset_t old;
	char *tmp;
	block_signals(&old);
	int fd = make_temp(path, &tmp);
	if (fd < 0) {
		int e = errno;
		restore_signals(&old);
		return fail(err, errlen, "%s: cannot create the image: %s", path, strerror(e));
	}
	int e = 0;
	mode_t mask = umask(0);
	umask(mask);
	if (fchmod(fd, 0666 & ~mask) < 0 || ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0)
		e = errno;
	close(fd);
	if (!e && link(tmp, path) < 0) {
		e = errno;
		if (e == EPERM || e == ENOTSUP || e == EXDEV || e == ENOSYS) {
			/* No hard links here: rename, after checking nobody made it. */
			struct stat st;
			e = 0;
			if (lstat(path, &st) == 0)
				e = EEXIST;
			else if (rename(tmp, path) < 0)
				e = errno;
		}
	}
	unlink(tmp);
	free(tmp);
	if (!e)
		fsync_dir(path);
	restore_signals(&old);
	if (e)
		return fail(err, errlen, "%s: cannot create the image: %s", path, strerror(e));
	return 0;
}

int image_open(struct image *img, const char *path, uint64_t size, const char *size_key,
	       char *err, size_t errlen)
{
	memset(img, 0, sizeof *img);
	img->fd = -1;
	if (!size_key)
		size_key = "size";
	if (size == 0 || size > (uint64_t)LLONG_MAX)
		return fail(err, errlen, "%s: expected an image of %llu bytes (%s): unsupported size",
			    path, (unsigned long long)size, size_key);
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return fail(err, errlen, "%s: cannot read the image (%s); expected a file of %llu bytes (%s)",
				    path, strerror(errno), (unsigned long long)size, size_key);
		if (create_sparse(path, size, err, errlen) < 0)
			return -1;
		if (stat(path, &st) < 0)
			return fail(err, errlen, "%s: cannot read the image: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return fail(err, errlen, "%s: not a regular file; expected an image of %llu bytes (%s)",
			    path, (unsigned long long)size, size_key);
	if ((uint64_t)st.st_size != size)
		return fail(err, errlen, "%s: the image has %llu bytes, expected %llu (%s); left untouched",
			    path, (unsigned long long)st.st_size, (unsigned long long)size, size_key);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "%s: cannot read the image (%s); expected a file of %llu bytes (%s)",
			    path, strerror(errno), (unsigned long long)size, size_key);
	img->path = strdup(path);
	if (!img->path) {
		close(fd);
		return fail(err, errlen, "%s: out of memory", path);
	}
	img->fd = fd;
	img->size = size;
	return 0;
}

uint8_t *image_map(struct image *img, uint8_t *at)
{
	int flags = MAP_PRIVATE | MAP_NORESERVE | (at ? MAP_FIXED : 0);
	void *p = mmap(at, img->size, PROT_READ | PROT_WRITE, flags, img->fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

int image_commit(struct image *img, const uint8_t *data, const uint64_t *pages,
		 size_t npages, char *err, size_t errlen)
{
	sigset_t old;
	char *tmp;
	struct stat st;
	block_signals(&old);
	int fd = make_temp(img->path, &tmp);
	if (fd < 0) {
		int e = errno;
		restore_signals(&old);
		return fail(err, errlen, "%s: cannot write the image (temporary file: %s); "
			    "the old image is unchanged", img->path, strerror(e));
	}
	const char *what = "copy";
	if (fstat(img->fd, &st) < 0 || fchmod(fd, st.st_mode & 07777) < 0 ||
	    ftruncate(fd, (off_t)img->size) < 0)
		goto fail;
	if (copy_image(img->fd, fd, img->size) < 0)
		goto fail;
	what = "write";
	for (size_t i = 0; i < npages; i++) {
		uint64_t off = pages[i] * IMAGE_PAGE;
		if (off >= img->size)
			continue;
		size_t len = img->size - off < IMAGE_PAGE ? (size_t)(img->size - off) : IMAGE_PAGE;
		if (all_zero(data + off, len) &&
		    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
			continue;
		if (write_all(fd, data + off, len, (off_t)off) < 0)
			goto fail;
	}
	what = "sync";
	if (fsync(fd) < 0)
		goto fail;
	what = "rename";
	if (rename(tmp, img->path) < 0)
		goto fail;
	fsync_dir(img->path);
	close(img->fd);
	img->fd = fd;           /* the new image */
	int ro = open(img->path, O_RDONLY | O_CLOEXEC);
	if (ro >= 0) {
		close(fd);
		img->fd = ro;
	}
	free(tmp);
	restore_signals(&old);
	return 0;
fail:;
	int e = errno;
	close(fd);
	unlink(tmp);
	free(tmp);
	restore_signals(&old);
	return fail(err, errlen, "%s: cannot write the image (%s: %s); the old image is unchanged",
		    img->path, what, strerror(e));
}

void image_close(struct image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	free(img->path);
	img->path = NULL;
	img->fd = -1;
}
