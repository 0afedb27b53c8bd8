/* devices/image.h: image files that a crash can never tear.
 *
 * An image is a fixed-size file holding the contents of a persistent device
 * (the persistent-memory region today, the block device later).  It is
 * never written in place: an update builds a temporary file beside it
 * (sparse: holes of the old file stay holes), fsyncs it, renames it over
 * the image and fsyncs the directory, so at any moment, including a host
 * crash or Ctrl-C, the name refers either to the complete old image or to
 * the complete new one (docs/crash-model.md, "Image files").
 *
 *     struct image img;
 *     if (image_open(&img, "pmem.img", 256 << 20, "pmem.size_mb = 256", err, sizeof err))
 *             fprintf(stderr, "%s\n", err), exit(1);
 *     uint8_t *mem = image_map(&img, NULL);                // private, lazy
 *     ...
 *     image_commit(&img, media, pages, npages, err, sizeof err);
 */
#ifndef DEVICES_IMAGE_H
#define DEVICES_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_PAGE 4096u

struct image {
	char *path;
	int fd;                 /* read-only descriptor of the current file */
	uint64_t size;
};

/* Open path, which must be a regular file of exactly size bytes; a missing
 * file is created sparse at that size (safely, as above).  On error returns
 * -1 with one line in err naming the file and the expected size (what
 * names the size in the config, e.g. "pmem.size_mb = 256", is quoted),
 * and leaves any existing file untouched. */
int image_open(struct image *img, const char *path, uint64_t size, const char *size_key,
	       char *err, size_t errlen);
/* Map the image privately and lazily (MAP_PRIVATE | MAP_NORESERVE): host
 * memory grows only with the pages written.  With at != NULL the mapping
 * replaces [at, at+size) (MAP_FIXED), dropping the private copies there.
 * Returns NULL on failure. */
uint8_t *image_map(struct image *img, uint8_t *at);
/* Replace the image by its current contents with the given pages (offsets
 * / IMAGE_PAGE, sorted) taken from data (size bytes, e.g. a mapping).
 * Atomic: on any failure the old image stays, whole, and -1 is returned
 * with err set.  SIGINT, SIGTERM, SIGHUP and SIGQUIT are held back while it
 * runs.  On success img->fd refers to the new file. */
int image_commit(struct image *img, const uint8_t *data, const uint64_t *pages,
		 size_t npages, char *err, size_t errlen);
void image_close(struct image *img);

#endif
