/* tests/guests/boot.S: entry of the test kernels (after pvm/kernel/boot.S).
 *
 *  _start32: Multiboot v1 (QEMU -kernel with the .mb32 copy): 32-bit
 *            protected mode, paging off; builds the page tables, enables
 *            long mode and jumps to the common 64-bit code.
 *  _start64: phantom-sim's ELF64 Multiboot path, already in long mode.
 * Both end in tk_main() on boot_stack with the same page tables (identity
 * map of the first 4 GiB in 2 MiB pages, user-accessible so ring-3 tests
 * can run kernel code) and the same GDT:
 *   0x08 code64 DPL0, 0x10 data DPL0, 0x18 code32 DPL0 (STAR[63:48] base),
 *   0x20 data DPL3, 0x28 code64 DPL3, 0x30 TSS (filled in by lib.c).
 */
#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000003

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .bss
	.align 4096
	.globl tk_pml4, tk_pdpt, tk_pd
tk_pml4:	.space 4096
tk_pdpt:	.space 4096
tk_pd:		.space 4 * 4096
	.align 16
	.globl tk_stack_top
tk_stack:	.space 32768
tk_stack_top:
tk_magic:	.space 4
tk_info:	.space 4

	.section .data
	.align 16
	.globl tk_gdt
tk_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF        /* 0x08 code64 DPL0 */
	.quad 0x00CF92000000FFFF        /* 0x10 data DPL0 */
	.quad 0x00CF9A000000FFFF        /* 0x18 code32 DPL0 */
	.quad 0x00CFF2000000FFFF        /* 0x20 data DPL3 */
	.quad 0x00AFFA000000FFFF        /* 0x28 code64 DPL3 */
	.quad 0, 0                      /* 0x30 TSS */
	.quad 0x00CF9A000000FFFF        /* 0x40 code32 DPL0 (compatibility mode) */
tk_gdt_end:
	.globl tk_gdt_ptr
tk_gdt_ptr:
	.word tk_gdt_end - tk_gdt - 1
	.quad tk_gdt

	.text
	.code32
	.globl _start32
_start32:
	cli
	movl $tk_stack_top, %esp
	movl %eax, tk_magic
	movl %ebx, tk_info
	movl $tk_pdpt + 7, tk_pml4
	movl $tk_pd + 7, %eax
	movl $tk_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b
	movl $tk_pd, %edi
	movl $0x87, %eax                /* P RW US PS */
	xorl %edx, %edx
	movl $2048, %ecx
2:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $0x200000, %eax
	adcl $0, %edx
	addl $8, %edi
	loop 2b
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $tk_pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	lgdt tk_gdt_ptr32
	ljmp $0x08, $long_mode

	.section .rodata
tk_gdt_ptr32:
	.word tk_gdt_end - tk_gdt - 1
	.long tk_gdt
	.text

	.code64
	.globl _start64
_start64:
	cli
	movq $tk_stack_top, %rsp
	movl %eax, tk_magic
	movl %ebx, tk_info
	leaq tk_pdpt + 7, %rax
	movq %rax, tk_pml4
	leaq tk_pd + 7, %rax
	leaq tk_pdpt, %rdi
	movl $4, %ecx
1:	movq %rax, (%rdi)
	addq $4096, %rax
	addq $8, %rdi
	loop 1b
	leaq tk_pd, %rdi
	movq $0x87, %rax
	movl $2048, %ecx
2:	movq %rax, (%rdi)
	addq $0x200000, %rax
	addq $8, %rdi
	loop 2b
	leaq tk_pml4, %rax
	movq %rax, %cr3
	lgdt tk_gdt_ptr
	pushq $0x08
	leaq long_mode, %rax
	pushq %rax
	lretq

long_mode:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $tk_stack_top, %rsp
	xorl %ebp, %ebp
	movl tk_magic, %edi
	movl tk_info, %esi
	call tk_start
3:	cli
	hlt
	jmp 3b

/* Interrupt stubs: a uniform frame (error code or 0, vector) for every
 * vector, then tk_trap(struct tk_frame *). */
	.macro stub v
	.align 16
tk_isr_\v:
	.if !((\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30))
	pushq $0
	.endif
	pushq $\v
	jmp tk_isr_common
	.endm
	.altmacro
	.macro stubs from, to
	stub \from
	.if \to-\from
	stubs %(\from+1), \to
	.endif
	.endm
	stubs 0, 63
	stubs 64, 127
	stubs 128, 191
	stubs 192, 255

tk_isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp
	call tk_trap
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.macro entry v
	.quad tk_isr_\v
	.endm
	.macro entries from, to
	entry \from
	.if \to-\from
	entries %(\from+1), \to
	.endif
	.endm
	.section .rodata
	.align 8
	.globl tk_isr_table
tk_isr_table:
	entries 0, 63
	entries 64, 127
	entries 128, 191
	entries 192, 255

	.section .note.GNU-stack, "", @progbits
