/* pvm/kernel/boot.S: Multiboot header, 32-bit entry, switch to long mode.
 *
 * Two ways in, one way on:
 *  - _start32: a Multiboot v1 loader (QEMU -kernel with the elf32 copy,
 *    phantom-sim with it too) jumps here in 32-bit protected mode, paging
 *    off, EAX = 0x2BADB002, EBX = the Multiboot information.
 *  - _start64: phantom-sim's loader enters the ELF64 image here directly
 *    in long mode (CS = 0x18, its own identity map of the first 4 GiB),
 *    with the same EAX/EBX.  It is the ELF64 e_entry; the build sets the
 *    elf32 copy's entry to _start32 (guest.mk).
 * Both build the same page tables (identity map of the first 4 GiB in
 * 2 MiB pages), load our GDT and call kmain(magic, info) on boot_stack.
 */
#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000003      /* page-align modules, give memory info */

#define GDT_CODE64      0x08
#define GDT_DATA        0x10
#define GDT_CODE32      0x18

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .bss
	.align 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:	.space 4096
boot_pdpt:	.space 4096
boot_pd:	.space 4 * 4096         /* 4 x 1 GiB of 2 MiB pages */
	.align 16
	.globl boot_stack_top
boot_stack:	.space 32768
boot_stack_top:
boot_magic:	.space 4
boot_info:	.space 4

	.section .data
	.align 16
	.globl gdt64, gdt64_ptr
gdt64:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08 code64: L=1 */
	.quad 0x00CF92000000FFFF        /* 0x10 data */
	.quad 0x00CF9A000000FFFF        /* 0x18 code32 */
	.quad 0, 0                      /* 0x20 TSS, filled in by cpu.c */
gdt64_end:
gdt64_ptr:
	.word gdt64_end - gdt64 - 1
	.quad gdt64

	.text
	.code32
	.globl _start32
_start32:
	cli
	movl $boot_stack_top, %esp
	movl %eax, boot_magic
	movl %ebx, boot_info

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four page directories. */
	movl $boot_pdpt + 3, boot_pml4
	movl $boot_pd + 3, %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	decl %ecx
	jnz 1b
	/* 2048 entries of 2 MiB: P | RW | PS. */
	movl $boot_pd, %edi
	movl $0x83, %eax
	xorl %edx, %edx
	movl $2048, %ecx
2:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	decl %ecx
	jnz 2b

	movl %cr4, %eax
	orl $0x20, %eax                 /* PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx          /* EFER: LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax           /* PG | WP | PE: WP makes read-only pages bind ring 0 too */
	movl %eax, %cr0
	lgdt gdt64_ptr_32
	ljmp $GDT_CODE64, $long_mode

	/* lgdt in 32-bit mode reads a 32-bit base. */
	.section .rodata
gdt64_ptr_32:
	.word gdt64_end - gdt64 - 1
	.long gdt64
	.text

	.code64
	.globl _start64
_start64:
	cli
	movq $boot_stack_top, %rsp
	movl %eax, boot_magic
	movl %ebx, boot_info
	/* The same tables, built in 64-bit code under the loader's map. */
	leaq boot_pdpt + 3, %rax
	movq %rax, boot_pml4
	leaq boot_pd + 3, %rax
	leaq boot_pdpt, %rdi
	movl $4, %ecx
1:	movq %rax, (%rdi)
	addq $4096, %rax
	addq $8, %rdi
	decl %ecx
	jnz 1b
	leaq boot_pd, %rdi
	movq $0x83, %rax
	movl $2048, %ecx
2:	movq %rax, (%rdi)
	addq $0x200000, %rax
	addq $8, %rdi
	decl %ecx
	jnz 2b
	leaq boot_pml4, %rax
	movq %rax, %cr3
	lgdt gdt64_ptr
	pushq $GDT_CODE64
	leaq long_mode, %rax
	pushq %rax
	lretq

long_mode:
	movq %cr0, %rax
	orq $0x10000, %rax              /* WP (also for the ELF64 entry) */
	movq %rax, %cr0
	movw $GDT_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_magic, %edi
	movl boot_info, %esi
	call kmain
3:	cli
	hlt
	jmp 3b

	.section .note.GNU-stack, "", @progbits
