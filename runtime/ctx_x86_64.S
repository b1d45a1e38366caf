/* runtime/ctx_x86_64.S - the context switch for SysV x86-64; the frame and
 * the contract are in runtime/ctx.h.  Assembles to nothing elsewhere. */
#if defined(__x86_64__)

    .text

/* void hv__ctx_switch(void **save_sp, void *new_sp)
 * rdi = save_sp, rsi = new_sp.  The call left rsp at 8 mod 16; six pushes
 * and the 8-byte control-word slot bring it to 0 mod 16, so every saved sp
 * (and every sp hv__ctx_make returns) is 16-byte aligned. */
    .globl  hv__ctx_switch
    .hidden hv__ctx_switch
    .type   hv__ctx_switch, @function
    .p2align 4
hv__ctx_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, (%rdi)
    movq    %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %rbx
    popq    %rbp
    ret
    .size   hv__ctx_switch, .-hv__ctx_switch

/* void *hv__ctx_make(void *stack_top, void (*fn)(void *), void *arg)
 * rdi = stack_top, rsi = fn, rdx = arg.  Builds the frame hv__ctx_switch
 * pops: r12 = fn, r13 = arg, rbp = 0 (ends frame-pointer unwinding), the
 * caller's control words, and the trampoline as return address.  Its ret
 * leaves rsp at stack_top, 16-byte aligned, so the trampoline's call
 * enters fn with rsp at 8 mod 16, as after any call. */
    .globl  hv__ctx_make
    .hidden hv__ctx_make
    .type   hv__ctx_make, @function
    .p2align 4
hv__ctx_make:
    andq    $-16, %rdi
    leaq    -64(%rdi), %rax
    movq    $0, (%rax)
    stmxcsr (%rax)
    fnstcw  4(%rax)
    movq    $0, 8(%rax)
    movq    $0, 16(%rax)
    movq    %rdx, 24(%rax)
    movq    %rsi, 32(%rax)
    movq    $0, 40(%rax)
    movq    $0, 48(%rax)
    leaq    trampoline(%rip), %rcx
    movq    %rcx, 56(%rax)
    ret
    .size   hv__ctx_make, .-hv__ctx_make

/* First code of every context: fn(arg).  fn must not return; if it does,
 * ud2 raises SIGILL here rather than running off into whatever follows. */
    .type   trampoline, @function
    .p2align 4
trampoline:
    movq    %r13, %rdi
    callq   *%r12
    ud2
    .size   trampoline, .-trampoline

#endif

/* A non-executable stack, even when the file assembles to nothing. */
#if defined(__ELF__)
    .section .note.GNU-stack, "", %progbits
#endif
