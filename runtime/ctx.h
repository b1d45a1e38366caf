/* runtime/ctx.h - the context switch: a few lines of assembly per CPU
 * (runtime/ctx_x86_64.S, runtime/ctx_aarch64.S) that move a thread from one
 * stack to another.
 *
 * A switched-out context is nothing but a stack pointer.  hv__ctx_switch
 * pushes what the ABI says a call must preserve onto the current stack,
 * stores the stack pointer, loads the new one and pops the same frame from
 * there.  Everything a suspended context needs therefore lies in
 * [saved sp, stack top): the copying-stack scheduler saves and restores
 * exactly that range, and nothing points outside it.  The frame, from the
 * saved sp upwards:
 *
 *   x86-64 (64 bytes)                    aarch64 (176 bytes)
 *   +0   MXCSR (4), x87 CW (2), pad      +0    x19 x20   +96   d8  d9
 *   +8   r15   +16 r14   +24 r13         +16   x21 x22   +112  d10 d11
 *   +32  r12   +40 rbx   +48 rbp         +32   x23 x24   +128  d12 d13
 *   +56  return address                  +48   x25 x26   +144  d14 d15
 *                                        +64   x27 x28   +160  FPCR, pad
 *                                        +80   x29 x30 (return address)
 *
 * ABI rules honoured.  SysV x86-64: rbx, rbp and r12-r15 are callee-saved,
 * and so are the control bits of MXCSR and the x87 control word (rounding,
 * precision, exception masks), so a rounding mode set in one context never
 * leaks into another; the stack is 16-byte aligned at every call, which
 * makes the saved sp 16-byte aligned too.  AAPCS64: x19-x29, x30 (the
 * return address), sp and the low halves d8-d15 of v8-v15; FPCR (rounding
 * mode, flush-to-zero) is kept per context for the same reason as MXCSR.
 * It is written only when it differs, as writing it may be slow.  No ABI
 * preserves the exception flags across a call: the SSE ones travel with
 * their context because they share MXCSR, the x87 status word and FPSR
 * stay with the thread.
 *
 * Why not ucontext: swapcontext saves and restores the signal mask with an
 * rt_sigprocmask syscall on every switch, ~1.1 us on our machines against
 * ~15 ns here (notes/ecosystem.md section 5).
 *
 * Sanitizers: these functions know nothing of ASan or TSan; a caller that
 * switches stacks wraps every switch in runtime/ctx_san.h. */
#ifndef HV_RUNTIME_CTX_H
#define HV_RUNTIME_CTX_H

/* Saves callee-saved registers (and MXCSR / x87 control word, or FPCR) on
 * the current stack, stores the stack pointer in *save_sp, switches to
 * new_sp and restores from there.  Returns when some context switches back
 * to *save_sp.  new_sp is either a value stored by an earlier switch (each
 * may be resumed once) or one returned by hv__ctx_make.  Any thread. */
void hv__ctx_switch(void **save_sp, void *new_sp);

/* Prepares a fresh stack whose top (highest address, 16-byte aligned;
 * rounded down if not) is stack_top so that the first hv__ctx_switch to the
 * returned sp calls fn(arg) on it, with the ABI's stack alignment and the
 * MXCSR / x87 control word (FPCR) of the caller of hv__ctx_make.  Writes
 * only below stack_top: 64 bytes on x86-64, 176 on aarch64.  fn must never
 * return (it switches away for good); if it does, the trampoline traps
 * (ud2 on x86-64, SIGILL; brk on aarch64, SIGTRAP). */
void *hv__ctx_make(void *stack_top, void (*fn)(void *), void *arg);

#endif /* HV_RUNTIME_CTX_H */
