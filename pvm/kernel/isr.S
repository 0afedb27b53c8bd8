/* pvm/kernel/isr.S: interrupt entry stubs.
 *
 * Every vector gets a stub that pushes a uniform frame (a dummy error code
 * where the CPU pushes none, then the vector), saves the general registers
 * and calls trap(struct trapframe *) in cpu.c.  isr_table lists the stubs
 * for the IDT.
 */
	.text
	.code64

/* Vectors whose exceptions push an error code (SDM Vol. 3 Table 6-1). */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.macro stub v
	.align 16
isr_\v:
	.if !((\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30))
	pushq $0
	.endif
	pushq $\v
	jmp isr_common
	.endm

	.altmacro
	.macro stubs from, to
	stub \from
	.if \to-\from
	stubs %(\from+1), \to
	.endif
	.endm

	stubs 0, 31
	stubs 32, 47

isr_common:
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
	andq $-16, %rsp                 /* the ABI wants a 16-byte aligned call */
	call trap
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
	addq $16, %rsp                  /* vector, error code */
	iretq

	.macro entry v
	.quad isr_\v
	.endm
	.macro entries from, to
	entry \from
	.if \to-\from
	entries %(\from+1), \to
	.endif
	.endm

	.section .rodata
	.align 8
	.globl isr_table
isr_table:
	entries 0, 47

	.section .note.GNU-stack, "", @progbits
