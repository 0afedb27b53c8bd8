/* pvm/vm/image.h: class images linked into the guest.
 *
 * pvm-asm turns each pvm/workloads/NAME.pvs into a class image and emits a C
 * file defining a table of them (see docs/pvm.md, "Class image format").
 */
#ifndef PVM_VM_IMAGE_H
#define PVM_VM_IMAGE_H

#include <stddef.h>

struct pvm_image {
	const char *name;		/* source file's base name */
	const unsigned char *data;
	size_t size;
};

/* The workload images (generated: pvm/pvm_images.c). */
extern const struct pvm_image pvm_images[];
extern const unsigned pvm_images_count;

#endif
