/* SPDX-License-Identifier: MIT */
/*
 * domain/stack - runs a function on another stack.
 *
 * Module code (constructors and every callback) runs on its instance's
 * stack, which lives in the instance's private partition above a guard
 * page, so a module's stack use is charged to its budget and an overflow
 * faults on the guard instead of running into anything else.
 */
#ifndef PT_DOMAIN_STACK_H
#define PT_DOMAIN_STACK_H

/* Calls @fn(@arg) with the stack pointer at @top (16-byte aligned) and
 * returns on the original stack. Where no switch is implemented for the
 * architecture, @fn runs on the current stack. */
void pt_call_on_stack(void (*fn)(void *), void *arg, void *top);

#endif
