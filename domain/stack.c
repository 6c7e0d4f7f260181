/* SPDX-License-Identifier: MIT */
#include "domain/stack.h"

#if defined(__x86_64__)
/* rbp keeps the original stack pointer across the call (callee-saved). */
__asm__(".text\n"
	".globl pt_call_on_stack\n"
	".hidden pt_call_on_stack\n"
	".type pt_call_on_stack,@function\n"
	"pt_call_on_stack:\n"
	"	.cfi_startproc\n"
	"	push %rbp\n"
	"	.cfi_def_cfa_offset 16\n"
	"	.cfi_offset %rbp, -16\n"
	"	mov %rsp, %rbp\n"
	"	.cfi_def_cfa_register %rbp\n"
	"	mov %rdx, %rsp\n"
	"	mov %rdi, %rax\n"
	"	mov %rsi, %rdi\n"
	"	call *%rax\n"
	"	mov %rbp, %rsp\n"
	"	pop %rbp\n"
	"	.cfi_def_cfa %rsp, 8\n"
	"	ret\n"
	"	.cfi_endproc\n"
	".size pt_call_on_stack, .-pt_call_on_stack\n");
#elif defined(__aarch64__)
__asm__(".text\n"
	".globl pt_call_on_stack\n"
	".hidden pt_call_on_stack\n"
	".type pt_call_on_stack,%function\n"
	"pt_call_on_stack:\n"
	"	stp x29, x30, [sp, #-16]!\n"
	"	mov x29, sp\n"
	"	mov sp, x2\n"
	"	mov x3, x0\n"
	"	mov x0, x1\n"
	"	blr x3\n"
	"	mov sp, x29\n"
	"	ldp x29, x30, [sp], #16\n"
	"	ret\n"
	".size pt_call_on_stack, .-pt_call_on_stack\n");
#else
void pt_call_on_stack(void (*fn)(void *), void *arg, void *top)
{
	(void)top;
	fn(arg);
}
#endif
