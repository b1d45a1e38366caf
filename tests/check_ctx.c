/* tests/check_ctx.c - the context switch: values through a ping-pong,
 * round robin, registers and FP control words kept per context, a deep
 * stack, ABI alignment, and the trap when a context's function returns.
 *
 * The helpers below do what the scheduler will do: every switch is wrapped
 * in runtime/ctx_san.h, and a coroutine whose body returns leaves for good
 * through co_entry.  Coroutines only record what they see; the asserts run
 * on the test's own stack. */
#include <fenv.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ctx.h"
#include "runtime/ctx_san.h"
#include "tests/hv_check.h"

#define STACK_BYTES (64 * 1024)

struct co;
typedef void co_body(struct co *self, void *arg);

/* One context: the test's own (stack NULL) or a coroutine. */
struct co {
    void *sp;                   /* saved while switched out */
    struct hv__ctx_san san;
    unsigned char *stack;       /* malloc'd; NULL for the test's own */
    size_t stack_bytes;
    co_body *body;
    void *arg;
    struct co *parent;          /* resumed for good when body returns */
    uintptr_t entry_frame;      /* frame address in co_entry */
    bool done;
};

/* Set by whoever switches, read by whoever arrives (the sanitizers want
 * to know where a context came from). */
static struct co *switched_from;

static struct co *
co_main(void)
{
    struct co *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    hv__ctx_san_init_thread(&c->san);
    return c;
}

static void
co_switch(struct co *from, struct co *to)
{
    switched_from = from;
    hv__ctx_san_start_switch(&from->san, &to->san);
    hv__ctx_switch(&from->sp, to->sp);
    hv__ctx_san_finish_switch(&from->san, &switched_from->san);
}

/* The function every coroutine starts in; it never returns. */
static void
co_entry(void *p)
{
    struct co *c = p;
    hv__ctx_san_finish_switch(&c->san, &switched_from->san);
    c->entry_frame = (uintptr_t)__builtin_frame_address(0);
    c->body(c, c->arg);
    c->done = true;
    switched_from = c;
    hv__ctx_san_start_exit(&c->parent->san);
    hv__ctx_switch(&c->sp, c->parent->sp);
    abort();
}

/* A coroutine on a fresh malloc'd stack whose top is trimmed by
 * top_offset bytes (to test that an unaligned top is rounded down). */
static struct co *
co_new_at(size_t stack_bytes, size_t top_offset, co_body *body, void *arg,
          struct co *parent)
{
    struct co *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->stack = malloc(stack_bytes);
    ck_assert_ptr_nonnull(c->stack);
    c->stack_bytes = stack_bytes;
    c->body = body;
    c->arg = arg;
    c->parent = parent;
    hv__ctx_san_init(&c->san, c->stack, stack_bytes);
    c->sp = hv__ctx_make(c->stack + stack_bytes - top_offset, co_entry, c);
    return c;
}

static struct co *
co_new(size_t stack_bytes, co_body *body, void *arg, struct co *parent)
{
    return co_new_at(stack_bytes, 0, body, arg, parent);
}

static void
co_free(struct co *c)
{
    hv__ctx_san_fini(&c->san);
    free(c->stack);
    free(c);
}

/* Ping-pong: the coroutine answers each value it is given. */

struct pingpong {
    struct co *main;
    long in, out;
    long rounds;
};

static void
pingpong_body(struct co *self, void *arg)
{
    struct pingpong *pp = arg;
    for (long i = 0; i < pp->rounds; i++) {
        pp->out = pp->in * 2 + 1;
        co_switch(self, pp->main);
    }
}

START_TEST(test_ctx_ping_pong_passes_values_both_ways_many_times)
{
    struct co *m = co_main();
    struct pingpong pp = {.main = m, .rounds = 100000};
    struct co *c = co_new(STACK_BYTES, pingpong_body, &pp, m);
    long wrong = 0;
    for (long i = 0; i < pp.rounds; i++) {
        pp.in = i;
        pp.out = -1;
        co_switch(m, c);
        wrong += pp.out != 2 * i + 1;
    }
    ck_assert_int_eq(wrong, 0);
    ck_assert(!c->done);
    co_switch(m, c);
    ck_assert(c->done);
    co_free(c);
    free(m);
}
END_TEST

/* Round robin: each coroutine hands over straight to the next one. */

#define RR_COUNT 8
#define RR_ROUNDS 1000

struct ring {
    struct co *co[RR_COUNT];
    struct co *main;
    int log[RR_COUNT * RR_ROUNDS];
    int logged;
};

struct ring_member {
    struct ring *ring;
    int id;
};

static void
ring_body(struct co *self, void *arg)
{
    struct ring_member *me = arg;
    struct ring *r = me->ring;
    struct co *next = me->id + 1 < RR_COUNT ? r->co[me->id + 1] : r->main;
    for (int round = 0; round < RR_ROUNDS; round++) {
        r->log[r->logged++] = me->id;
        co_switch(self, next);
    }
}

START_TEST(test_ctx_coroutines_take_turns_in_a_round_robin)
{
    static struct ring r;
    struct ring_member members[RR_COUNT];
    memset(&r, 0, sizeof r);
    r.main = co_main();
    for (int i = 0; i < RR_COUNT; i++) {
        members[i] = (struct ring_member){.ring = &r, .id = i};
        r.co[i] = co_new(STACK_BYTES, ring_body, &members[i], r.main);
    }
    for (int round = 0; round < RR_ROUNDS; round++) {
        co_switch(r.main, r.co[0]);
        ck_assert_int_eq(r.logged, (round + 1) * RR_COUNT);
    }
    int wrong = 0;
    for (int k = 0; k < r.logged; k++)
        wrong += r.log[k] != k % RR_COUNT;
    ck_assert_int_eq(wrong, 0);
    for (int i = 0; i < RR_COUNT; i++) {
        ck_assert(!r.co[i]->done);
        co_switch(r.main, r.co[i]);
        ck_assert(r.co[i]->done);
        co_free(r.co[i]);
    }
    free(r.main);
}
END_TEST

/* Callee-saved state, seen from C: many integer and floating-point locals
 * live across a switch, more than there are callee-saved registers, so
 * some sit in registers and some in the frame.  Read twice from a volatile
 * cell, the seed cannot be folded into the checks. */

static volatile uint64_t seed_cell = 0x9e3779b97f4a7c15u;

static __attribute__((noinline)) bool
hold_locals_across_switch(struct co *self, struct co *to, uint64_t salt)
{
    uint64_t s = seed_cell ^ salt;
    uint64_t a = s * 3, b = s + 5, c = s ^ 0x5555, d = s * 7 + 1;
    uint64_t e = s >> 3, f = s << 5, g = s * 11, h = s + 13;
    uint64_t i = s * 17, j = s ^ 0xabcdef;
    double x = (double)(s & 0xffff) * 0.5, y = x + 0.25, z = x * 3.0;
    double w = x - 7.5, u = x * x, v = y * z, q = z / 7.0, r = w * 0.125;
    co_switch(self, to);
    uint64_t t = seed_cell ^ salt;
    double xt = (double)(t & 0xffff) * 0.5;
    return a == t * 3 && b == t + 5 && c == (t ^ 0x5555) &&
           d == t * 7 + 1 && e == t >> 3 && f == t << 5 && g == t * 11 &&
           h == t + 13 && i == t * 17 && j == (t ^ 0xabcdef) && x == xt &&
           y == xt + 0.25 && z == xt * 3.0 && w == xt - 7.5 &&
           u == xt * xt && v == (xt + 0.25) * (xt * 3.0) &&
           q == (xt * 3.0) / 7.0 && r == (xt - 7.5) * 0.125;
}

struct hold {
    struct co *main;
    int rounds;
    int wrong;
};

static void
hold_body(struct co *self, void *arg)
{
    struct hold *h = arg;
    for (int k = 0; k < h->rounds; k++)
        h->wrong += !hold_locals_across_switch(self, h->main, 0xc0ffee + k);
}

START_TEST(test_ctx_live_locals_survive_switches_in_both_contexts)
{
    struct co *m = co_main();
    struct hold h = {.main = m, .rounds = 1000};
    struct co *c = co_new(STACK_BYTES, hold_body, &h, m);
    int wrong = 0;
    co_switch(m, c);
    for (int k = 0; k < h.rounds; k++)
        wrong += !hold_locals_across_switch(m, c, 0xbeef00 + k);
    ck_assert(c->done);
    ck_assert_int_eq(wrong, 0);
    ck_assert_int_eq(h.wrong, 0);
    co_free(c);
    free(m);
}
END_TEST

/* Callee-saved state, register by register: the switch is called from
 * assembly with a distinct pattern in every callee-saved register, and the
 * result is the OR of each register XOR its pattern, so 0 when all came
 * back.  The frame pointer (rbp, x29) cannot be named here; every
 * frame-pointer unwind and every frame that uses it checks it instead. */

#if defined(__x86_64__)
static uint64_t
switch_with_patterns(void **save_sp, void *new_sp, uint64_t base)
{
    uint64_t diff;
    __asm__ volatile("movq %%rsp, %%rax\n\t"
                     "subq $128, %%rsp\n\t" /* over the red zone */
                     "andq $-16, %%rsp\n\t"
                     "pushq %%rax\n\t"
                     "pushq %%rdx\n\t"
                     "leaq 1(%%rdx), %%rbx\n\t"
                     "leaq 2(%%rdx), %%r12\n\t"
                     "leaq 3(%%rdx), %%r13\n\t"
                     "leaq 4(%%rdx), %%r14\n\t"
                     "leaq 5(%%rdx), %%r15\n\t"
                     "call hv__ctx_switch\n\t"
                     "popq %%rdx\n\t"
                     "popq %%rcx\n\t"
                     "movq %%rcx, %%rsp\n\t"
                     "leaq 1(%%rdx), %%rax\n\t"
                     "xorq %%rbx, %%rax\n\t"
                     "leaq 2(%%rdx), %%rcx\n\t"
                     "xorq %%r12, %%rcx\n\t"
                     "orq %%rcx, %%rax\n\t"
                     "leaq 3(%%rdx), %%rcx\n\t"
                     "xorq %%r13, %%rcx\n\t"
                     "orq %%rcx, %%rax\n\t"
                     "leaq 4(%%rdx), %%rcx\n\t"
                     "xorq %%r14, %%rcx\n\t"
                     "orq %%rcx, %%rax\n\t"
                     "leaq 5(%%rdx), %%rcx\n\t"
                     "xorq %%r15, %%rcx\n\t"
                     "orq %%rcx, %%rax\n\t"
                     : "=a"(diff), "+D"(save_sp), "+S"(new_sp), "+d"(base)
                     :
                     : "rbx", "rcx", "r8", "r9", "r10", "r11", "r12", "r13",
                       "r14", "r15", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                       "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                       "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc",
                       "memory");
    return diff;
}
#elif defined(__aarch64__)
static uint64_t
switch_with_patterns(void **save_sp, void *new_sp, uint64_t base)
{
    register uint64_t x0 __asm__("x0") = (uint64_t)(uintptr_t)save_sp;
    register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)new_sp;
    register uint64_t x2 __asm__("x2") = base;
    __asm__ volatile("add x19, x2, #1\n\t"
                     "add x20, x2, #2\n\t"
                     "add x21, x2, #3\n\t"
                     "add x22, x2, #4\n\t"
                     "add x23, x2, #5\n\t"
                     "add x24, x2, #6\n\t"
                     "add x25, x2, #7\n\t"
                     "add x26, x2, #8\n\t"
                     "add x27, x2, #9\n\t"
                     "add x28, x2, #10\n\t"
                     "add x9, x2, #11\n\t"
                     "fmov d8, x9\n\t"
                     "add x9, x2, #12\n\t"
                     "fmov d9, x9\n\t"
                     "add x9, x2, #13\n\t"
                     "fmov d10, x9\n\t"
                     "add x9, x2, #14\n\t"
                     "fmov d11, x9\n\t"
                     "add x9, x2, #15\n\t"
                     "fmov d12, x9\n\t"
                     "add x9, x2, #16\n\t"
                     "fmov d13, x9\n\t"
                     "add x9, x2, #17\n\t"
                     "fmov d14, x9\n\t"
                     "add x9, x2, #18\n\t"
                     "fmov d15, x9\n\t"
                     "sub sp, sp, #16\n\t"
                     "str x2, [sp]\n\t"
                     "bl hv__ctx_switch\n\t"
                     "ldr x2, [sp]\n\t"
                     "add sp, sp, #16\n\t"
                     "add x9, x2, #1\n\t"
                     "eor x0, x9, x19\n\t"
                     "add x9, x2, #2\n\t"
                     "eor x9, x9, x20\n\t"
                     "orr x0, x0, x9\n\t"
                     "add x9, x2, #3\n\t"
                     "eor x9, x9, x21\n\t"
                     "orr x0, x0, x9\n\t"
                     "add x9, x2, #4\n\t"
                     "eor x9, x9, x22\n\t"
                     "orr x0, x0, x9\n\t"
                     "add x9, x2, #5\n\t"
                     "eor x9, x9, x23\n\t"
                     "orr x0, x0, x9\n\t"
                     "add x9, x2, #6\n\t"
                     "eor x9, x9, x24\n\t"
                     "orr x0, x0, x9\n\t"
                     "add x9, x2, #7\n\t"
                     "eor x9, x9, x25\n\t"
                     "orr x0, x0, x9\n\t"
                     "add x9, x2, #8\n\t"
                     "eor x9, x9, x26\n\t"
                     "orr x0, x0, x9\n\t"
                     "add x9, x2, #9\n\t"
                     "eor x9, x9, x27\n\t"
                     "orr x0, x0, x9\n\t"
                     "add x9, x2, #10\n\t"
                     "eor x9, x9, x28\n\t"
                     "orr x0, x0, x9\n\t"
                     "fmov x10, d8\n\t"
                     "add x9, x2, #11\n\t"
                     "eor x9, x9, x10\n\t"
                     "orr x0, x0, x9\n\t"
                     "fmov x10, d9\n\t"
                     "add x9, x2, #12\n\t"
                     "eor x9, x9, x10\n\t"
                     "orr x0, x0, x9\n\t"
                     "fmov x10, d10\n\t"
                     "add x9, x2, #13\n\t"
                     "eor x9, x9, x10\n\t"
                     "orr x0, x0, x9\n\t"
                     "fmov x10, d11\n\t"
                     "add x9, x2, #14\n\t"
                     "eor x9, x9, x10\n\t"
                     "orr x0, x0, x9\n\t"
                     "fmov x10, d12\n\t"
                     "add x9, x2, #15\n\t"
                     "eor x9, x9, x10\n\t"
                     "orr x0, x0, x9\n\t"
                     "fmov x10, d13\n\t"
                     "add x9, x2, #16\n\t"
                     "eor x9, x9, x10\n\t"
                     "orr x0, x0, x9\n\t"
                     "fmov x10, d14\n\t"
                     "add x9, x2, #17\n\t"
                     "eor x9, x9, x10\n\t"
                     "orr x0, x0, x9\n\t"
                     "fmov x10, d15\n\t"
                     "add x9, x2, #18\n\t"
                     "eor x9, x9, x10\n\t"
                     "orr x0, x0, x9\n\t"
                     : "+r"(x0), "+r"(x1), "+r"(x2)
                     :
                     : "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11",
                       "x12", "x13", "x14", "x15", "x16", "x17", "x18",
                       "x19", "x20", "x21", "x22", "x23", "x24", "x25",
                       "x26", "x27", "x28", "x30", "v0", "v1", "v2", "v3",
                       "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11",
                       "v12", "v13", "v14", "v15", "v16", "v17", "v18",
                       "v19", "v20", "v21", "v22", "v23", "v24", "v25",
                       "v26", "v27", "v28", "v29", "v30", "v31", "cc",
                       "memory");
    return x0;
}
#else
#error "no context switch for this CPU"
#endif

static uint64_t
co_switch_with_patterns(struct co *from, struct co *to, uint64_t base)
{
    switched_from = from;
    hv__ctx_san_start_switch(&from->san, &to->san);
    uint64_t diff = switch_with_patterns(&from->sp, to->sp, base);
    hv__ctx_san_finish_switch(&from->san, &switched_from->san);
    return diff;
}

static void
patterns_body(struct co *self, void *arg)
{
    struct hold *h = arg;
    for (int k = 0; k < h->rounds; k++) {
        uint64_t base = 0x5a5a000000000000u + (uint64_t)k * 64;
        h->wrong += co_switch_with_patterns(self, h->main, base) != 0;
    }
}

START_TEST(test_ctx_every_callee_saved_register_survives_switches)
{
    struct co *m = co_main();
    struct hold h = {.main = m, .rounds = 1000};
    struct co *c = co_new(STACK_BYTES, patterns_body, &h, m);
    int wrong = 0;
    co_switch(m, c);
    for (int k = 0; k < h.rounds; k++) {
        uint64_t base = 0xa5a5000000000000u + (uint64_t)k * 64;
        wrong += co_switch_with_patterns(m, c, base) != 0;
    }
    ck_assert(c->done);
    ck_assert_int_eq(wrong, 0);
    ck_assert_int_eq(h.wrong, 0);
    co_free(c);
    free(m);
}
END_TEST

/* Floating-point control: each context keeps its own rounding mode.  The
 * mode is read through fegetround (the x87 control word on x86-64, FPCR on
 * aarch64) and observed through a double division (SSE, so MXCSR) and a
 * long double one (x87 on x86-64). */

static __attribute__((noinline)) double
third(void)
{
    volatile double one = 1.0, three = 3.0;
    return one / three;
}

static __attribute__((noinline)) long double
third_long(void)
{
    volatile long double one = 1.0L, three = 3.0L;
    return one / three;
}

struct rounding {
    struct co *main;
    int set_mode;               /* set after the first look */
    int first_mode, second_mode;
    double first_third, second_third;
    long double first_third_long, second_third_long;
};

static void
rounding_body(struct co *self, void *arg)
{
    struct rounding *rd = arg;
    rd->first_mode = fegetround();
    rd->first_third = third();
    rd->first_third_long = third_long();
    fesetround(rd->set_mode);
    co_switch(self, rd->main);
    rd->second_mode = fegetround();
    rd->second_third = third();
    rd->second_third_long = third_long();
}

static const int modes[4] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD,
                             FE_TOWARDZERO};
static double third_in[4];
static long double third_long_in[4];

static int
mode_index(int mode)
{
    for (int i = 0; i < 4; i++)
        if (modes[i] == mode)
            return i;
    return -1;
}

static void
check_rounding_seen(int mode, double q, long double ql)
{
    int i = mode_index(mode);
    ck_assert_int_ge(i, 0);
    ck_assert(q == third_in[i]);
    ck_assert(ql == third_long_in[i]);
}

START_TEST(test_ctx_rounding_mode_stays_with_its_context)
{
    int saved = fegetround();
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(fesetround(modes[i]), 0);
        third_in[i] = third();
        third_long_in[i] = third_long();
    }
    /* The modes give different answers, or the test would prove nothing. */
    ck_assert(third_in[1] > third_in[2]);
    ck_assert(third_long_in[1] > third_long_in[2]);

    struct co *m = co_main();
    ck_assert_int_eq(fesetround(FE_TONEAREST), 0);
    struct rounding a = {.main = m, .set_mode = FE_TOWARDZERO};
    struct co *ca = co_new(STACK_BYTES, rounding_body, &a, m);
    ck_assert_int_eq(fesetround(FE_UPWARD), 0);
    struct rounding b = {.main = m, .set_mode = FE_DOWNWARD};
    struct co *cb = co_new(STACK_BYTES, rounding_body, &b, m);

    /* Each starts with the mode of its maker, and changes it for itself. */
    co_switch(m, ca);
    check_rounding_seen(fegetround(), third(), third_long());
    ck_assert_int_eq(fegetround(), FE_UPWARD);
    co_switch(m, cb);
    ck_assert_int_eq(fegetround(), FE_UPWARD);
    check_rounding_seen(FE_UPWARD, third(), third_long());
    co_switch(m, ca);
    ck_assert_int_eq(fegetround(), FE_UPWARD);
    co_switch(m, cb);
    ck_assert_int_eq(fegetround(), FE_UPWARD);
    check_rounding_seen(FE_UPWARD, third(), third_long());
    fesetround(saved);

    ck_assert(ca->done && cb->done);
    ck_assert_int_eq(a.first_mode, FE_TONEAREST);
    check_rounding_seen(FE_TONEAREST, a.first_third, a.first_third_long);
    ck_assert_int_eq(a.second_mode, FE_TOWARDZERO);
    check_rounding_seen(FE_TOWARDZERO, a.second_third, a.second_third_long);
    ck_assert_int_eq(b.first_mode, FE_UPWARD);
    check_rounding_seen(FE_UPWARD, b.first_third, b.first_third_long);
    ck_assert_int_eq(b.second_mode, FE_DOWNWARD);
    check_rounding_seen(FE_DOWNWARD, b.second_third, b.second_third_long);
    co_free(ca);
    co_free(cb);
    free(m);
}
END_TEST

/* Deep recursion: a coroutine on a 256 KiB stack recurses until three
 * quarters of it are in use, switches out at the bottom, and checks every
 * frame on the way back up. */

#define DEEP_STACK_BYTES (256 * 1024)

struct deep {
    struct co *main;
    uintptr_t top;
    size_t use_bytes;
    long depth;                 /* reached */
    uint64_t sum;
    long broken_frames;
};

static __attribute__((noinline)) uint64_t
recurse(struct co *self, struct deep *d, long depth)
{
    volatile unsigned char buf[96];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(depth * 31 + (long)i);
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uint64_t below;
    if (d->top - here < d->use_bytes) {
        below = recurse(self, d, depth + 1);
    } else {
        d->depth = depth;
        co_switch(self, d->main);
        below = 0;
    }
    for (size_t i = 0; i < sizeof buf; i++)
        d->broken_frames += buf[i] != (unsigned char)(depth * 31 + (long)i);
    return below + (uint64_t)depth;
}

static void
deep_body(struct co *self, void *arg)
{
    struct deep *d = arg;
    d->sum = recurse(self, d, 1);
}

START_TEST(test_ctx_deep_recursion_fits_a_256_kib_stack)
{
    struct co *m = co_main();
    struct deep d = {.main = m, .use_bytes = DEEP_STACK_BYTES / 4 * 3};
    struct co *c = co_new(DEEP_STACK_BYTES, deep_body, &d, m);
    d.top = (uintptr_t)(c->stack + DEEP_STACK_BYTES);
    co_switch(m, c);
    ck_assert(!c->done);
    ck_assert_int_gt(d.depth, 100);
    ck_assert_uint_eq(d.sum, 0); /* suspended at the bottom */
    co_switch(m, c);
    ck_assert(c->done);
    ck_assert_int_eq(d.broken_frames, 0);
    ck_assert_uint_eq(d.sum, (uint64_t)d.depth * (uint64_t)(d.depth + 1) / 2);
    co_free(c);
    free(m);
}
END_TEST

/* Alignment: fn is entered as after a call (16 bytes on both ABIs), even
 * when hv__ctx_make was given an unaligned top.  Then glibc's printf with
 * doubles (aligned SSE spills on x86-64) agrees, having been held back
 * until the addresses were checked, so a misalignment fails an assert
 * rather than crashing. */

struct aligned {
    struct co *main;
    uintptr_t local_addr;
    char text[32];
};

static __attribute__((noinline)) void
aligned_nested(struct co *self, struct aligned *al)
{
    _Alignas(16) volatile unsigned char local[16];
    local[0] = 1;
    al->local_addr = (uintptr_t)local;
    co_switch(self, al->main);
    snprintf(al->text, sizeof al->text, "%.3f %.1f", 3.14159, 2.5);
}

static void
aligned_body(struct co *self, void *arg)
{
    aligned_nested(self, arg);
}

START_TEST(test_ctx_function_starts_with_the_abi_stack_alignment)
{
    struct co *m = co_main();
    for (size_t off = 0; off < 16; off += 4) {
        struct aligned al = {.main = m};
        struct co *c = co_new_at(STACK_BYTES, off, aligned_body, &al, m);
        co_switch(m, c);
        uintptr_t top = (uintptr_t)(c->stack + STACK_BYTES - off);
        ck_assert_uint_lt(c->entry_frame, top);
        ck_assert_uint_gt(c->entry_frame, top - 256);
        ck_assert_uint_eq(c->entry_frame % 16, 0);
        ck_assert_uint_eq(al.local_addr % 16, 0);
        co_switch(m, c);
        ck_assert(c->done);
        ck_assert_str_eq(al.text, "3.142 2.5");
        co_free(c);
    }
    free(m);
}
END_TEST

/* Floating point inside a coroutine: a series summed across switches, in
 * step with the same series on the test's own stack, to the same bits. */

struct series {
    struct co *main;
    int terms, every;
    double sum;
};

static void
series_body(struct co *self, void *arg)
{
    struct series *se = arg;
    double sum = 0.0;
    for (int k = 1; k <= se->terms; k++) {
        double dk = (double)k;
        sum += 1.0 / (dk * dk);
        if (k % se->every == 0)
            co_switch(self, se->main);
    }
    se->sum = sum;
}

START_TEST(test_ctx_floating_point_works_inside_a_coroutine)
{
    struct co *m = co_main();
    struct series se = {.main = m, .terms = 10000, .every = 100};
    struct co *c = co_new(STACK_BYTES, series_body, &se, m);
    double sum = 0.0;
    for (int k = 1; k <= se.terms; k++) {
        double dk = (double)k;
        sum += 1.0 / (dk * dk);
        if (k % se.every == 0)
            co_switch(m, c);
    }
    ck_assert(!c->done);
    co_switch(m, c);
    ck_assert(c->done);
    double pi = 3.14159265358979323846;
    ck_assert_double_eq_tol(se.sum, pi * pi / 6.0, 1e-3);
    ck_assert(sum == se.sum);
    co_free(c);
    free(m);
}
END_TEST

/* A function that returns runs into the trampoline's trap. */

static struct hv__ctx_san returning_san;

static void
returns_at_once(void *arg)
{
    hv__ctx_san_finish_switch(&returning_san, NULL);
    (void)arg;
}

START_TEST(test_ctx_function_that_returns_traps)
{
    struct co *m = co_main();
    unsigned char *stack = malloc(STACK_BYTES);
    ck_assert_ptr_nonnull(stack);
    hv__ctx_san_init(&returning_san, stack, STACK_BYTES);
    void *sp = hv__ctx_make(stack + STACK_BYTES, returns_at_once, NULL);
    hv__ctx_san_start_switch(&m->san, &returning_san);
    hv__ctx_switch(&m->sp, sp);
    ck_abort_msg("the context came back");
}
END_TEST

#if defined(__x86_64__)
#define TRAP_SIGNAL SIGILL
#else
#define TRAP_SIGNAL SIGTRAP
#endif

Suite *
hv_check_suite(void)
{
    Suite *s = suite_create("ctx");
    TCase *tc = hv_check_tcase(s, "core");
    tcase_add_test(tc, test_ctx_ping_pong_passes_values_both_ways_many_times);
    tcase_add_test(tc, test_ctx_coroutines_take_turns_in_a_round_robin);
    tcase_add_test(tc, test_ctx_live_locals_survive_switches_in_both_contexts);
    tcase_add_test(tc, test_ctx_every_callee_saved_register_survives_switches);
    tcase_add_test(tc, test_ctx_rounding_mode_stays_with_its_context);
    tcase_add_test(tc, test_ctx_deep_recursion_fits_a_256_kib_stack);
    tcase_add_test(tc, test_ctx_function_starts_with_the_abi_stack_alignment);
    tcase_add_test(tc, test_ctx_floating_point_works_inside_a_coroutine);
    /* A trap can only be expected from a forked test. */
    const char *ck_fork = getenv("CK_FORK");
    if (ck_fork == NULL || strcmp(ck_fork, "no") != 0) {
        TCase *te = hv_check_tcase(s, "errors");
        tcase_add_test_raise_signal(te, test_ctx_function_that_returns_traps,
                                    TRAP_SIGNAL);
    }
    return s;
}
