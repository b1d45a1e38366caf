/* runtime/ctx_aarch64.S - the context switch for AAPCS64 (Linux); the
 * frame and the contract are in runtime/ctx.h.  Assembles to nothing
 * elsewhere. */
#if defined(__aarch64__)

    .text

/* void hv__ctx_switch(void **save_sp, void *new_sp)
 * x0 = save_sp, x1 = new_sp.  sp is always 16-byte aligned on AAPCS64 and
 * the frame is 176 bytes, so saved sps stay aligned.  x30 holds our return
 * address and is saved with x29; the final ret jumps to the restored x30. */
    .globl  hv__ctx_switch
    .hidden hv__ctx_switch
    .type   hv__ctx_switch, %function
    .p2align 4
hv__ctx_switch:
    sub     sp, sp, #176
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    stp     d8, d9, [sp, #96]
    stp     d10, d11, [sp, #112]
    stp     d12, d13, [sp, #128]
    stp     d14, d15, [sp, #144]
    mrs     x9, fpcr
    str     x9, [sp, #160]
    mov     x10, sp
    str     x10, [x0]
    mov     sp, x1
    ldr     x10, [sp, #160]
    cmp     x9, x10
    b.eq    1f
    /* Writing FPCR may synchronize the pipeline: only when it changes. */
    msr     fpcr, x10
1:
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     d8, d9, [sp, #96]
    ldp     d10, d11, [sp, #112]
    ldp     d12, d13, [sp, #128]
    ldp     d14, d15, [sp, #144]
    add     sp, sp, #176
    ret
    .size   hv__ctx_switch, .-hv__ctx_switch

/* void *hv__ctx_make(void *stack_top, void (*fn)(void *), void *arg)
 * x0 = stack_top, x1 = fn, x2 = arg.  Builds the frame hv__ctx_switch
 * pops: x19 = fn, x20 = arg, x29 = 0 (ends frame-pointer unwinding),
 * x30 = the trampoline, the caller's FPCR, every other slot zero.  After
 * the pop sp is stack_top, 16-byte aligned as AAPCS64 requires always. */
    .globl  hv__ctx_make
    .hidden hv__ctx_make
    .type   hv__ctx_make, %function
    .p2align 4
hv__ctx_make:
    and     x0, x0, #~15
    sub     x0, x0, #176
    stp     x1, x2, [x0, #0]
    stp     xzr, xzr, [x0, #16]
    stp     xzr, xzr, [x0, #32]
    stp     xzr, xzr, [x0, #48]
    stp     xzr, xzr, [x0, #64]
    adr     x9, trampoline
    stp     xzr, x9, [x0, #80]
    stp     xzr, xzr, [x0, #96]
    stp     xzr, xzr, [x0, #112]
    stp     xzr, xzr, [x0, #128]
    stp     xzr, xzr, [x0, #144]
    mrs     x9, fpcr
    stp     x9, xzr, [x0, #160]
    ret
    .size   hv__ctx_make, .-hv__ctx_make

/* First code of every context: fn(arg).  fn must not return; if it does,
 * brk raises SIGTRAP here rather than running off into whatever follows. */
    .type   trampoline, %function
    .p2align 4
trampoline:
    mov     x0, x20
    blr     x19
    brk     #0x1
    .size   trampoline, .-trampoline

#endif

/* A non-executable stack, even when the file assembles to nothing. */
#if defined(__ELF__)
    .section .note.GNU-stack, "", %progbits
#endif
