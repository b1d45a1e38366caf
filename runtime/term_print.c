/* runtime/term_print.c - the Erlang text of terms (hv_print, hv_format).
 *
 * The form is io:format's ~w, compact with no spaces, except that maps
 * keep Erlang's " => " and a binary of plain ASCII text prints as
 * <<"text">>: {a,[1,2|3],#{k => <<"v">>},<<1,2>>}.  Floats print as the
 * shortest digits that read back to the same double, in Erlang float
 * syntax (always a '.', so 1.0 and never 1).  Whatever hv_print writes,
 * hv_parse reads back to an exactly equal term, with two exceptions that
 * Erlang shares: the creation of a remote pid or ref is not in the text,
 * and remote nodes print as atom table indexes, meaningful only inside
 * this OS process.  Containers are walked with an explicit stack, so a
 * term of any depth prints on a small stack. */
#include "hive/term.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/atom.h"
#include "runtime/buf.h"
#include "runtime/term_box.h"
#include "runtime/term_lex.h"
#include "runtime/term_walk.h"
#include "runtime/util.h"

/* Where text goes: an hv_buf that grows, or hv_format's fixed buffer,
 * which keeps counting past its end so the full length is known. */
struct sink {
    hv_buf *buf;
    char *fixed;
    size_t size;
    size_t len;
    int rc; /* the first failure; later writes do nothing */
};

enum frame_kind { FRAME_TUPLE, FRAME_LIST, FRAME_MAP };

struct frame {
    hv_term t; /* the container; for a list, the rest still to print */
    size_t i;  /* next element (map: next slot of kv) */
    enum frame_kind kind;
};

static void
put(struct sink *s, const void *p, size_t n)
{
    if (s->rc != HV_OK)
        return;
    if (s->buf != NULL) {
        s->rc = hv__buf_append(s->buf, p, n);
    } else if (s->size > 0 && s->len < s->size - 1) {
        size_t room = s->size - 1 - s->len;
        memcpy(s->fixed + s->len, p, hv__min_size(n, room));
    }
    s->len += n;
}

static void
put_str(struct sink *s, const char *str)
{
    put(s, str, strlen(str));
}

static void
put_int(struct sink *s, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    /* Work on the magnitude as unsigned so INT64_MIN needs no case. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    put(s, p, (size_t)(tmp + sizeof tmp - p));
}

/* The shortest decimal digits of v > 0 that strtod reads back as v, and
 * the exponent *e with v = 0.DIGITS * 10^e.  Returns the digit count. */
static size_t
shortest_digits(double v, char *digits, int *e)
{
    char tmp[40];
    locale_t c = hv__lex_c_locale(), old = c ? uselocale(c) : (locale_t)0;
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    if (c)
        uselocale(old);
    /* tmp is "d.ddde[+-]x" (or "de[+-]x"). */
    size_t n = 0;
    const char *p = tmp;
    for (; *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *e = (int)strtol(p + 1, NULL, 10) + 1;
    return n;
}

/* Fixed notation when it is no longer than scientific: 0.1, 100.0 and
 * 123456789012345680.0, but 1.0e3, 1.0e20 and 2.5e-7, as OTP's
 * float_to_list(F, [short]) chooses. */
static void
put_float(struct sink *s, double v)
{
    char digits[24], out[48];
    size_t len = 0;
    if (signbit(v)) {
        out[len++] = '-';
        v = -v;
    }
    if (v == 0) {
        memcpy(out + len, "0.0", 3);
        put(s, out, len + 3);
        return;
    }
    int e;
    size_t n = shortest_digits(v, digits, &e);
    char exp_text[8];
    int exp_len = snprintf(exp_text, sizeof exp_text, "e%d", e - 1);
    size_t sci_len = (n == 1 ? 3 : n + 1) + (size_t)exp_len;
    size_t fixed_len = e <= 0          ? 2 + (size_t)-e + n
                       : (size_t)e < n ? n + 1
                                       : (size_t)e + 2;
    if (fixed_len > sci_len) {
        out[len++] = digits[0];
        out[len++] = '.';
        if (n == 1)
            out[len++] = '0';
        memcpy(out + len, digits + 1, n - 1);
        len += n - 1;
        memcpy(out + len, exp_text, (size_t)exp_len);
        put(s, out, len + (size_t)exp_len);
        return;
    }
    put(s, out, len);
    if (e <= 0) {
        put(s, "0.", 2);
        for (int i = 0; i < -e; i++)
            put(s, "0", 1);
        put(s, digits, n);
    } else if ((size_t)e < n) {
        put(s, digits, (size_t)e);
        put(s, ".", 1);
        put(s, digits + e, n - (size_t)e);
    } else {
        put(s, digits, n);
        for (size_t i = n; i < (size_t)e; i++)
            put(s, "0", 1);
        put(s, ".0", 2);
    }
}

/* The escape of byte c inside quotes q, or NULL when it prints as is.
 * Named escapes where Erlang has them, else octal (always three digits,
 * so a digit after it cannot join it). */
static const char *
escape_of(unsigned char c, char q, char *tmp)
{
    static const char *const named[32] = {
        [8] = "\\b",  [9] = "\\t",  [10] = "\\n", [11] = "\\v",
        [12] = "\\f", [13] = "\\r", [27] = "\\e",
    };
    if (c == (unsigned char)q) {
        tmp[0] = '\\';
        tmp[1] = q;
        tmp[2] = 0;
        return tmp;
    }
    if (c == '\\')
        return "\\\\";
    if (c == 0x7f)
        return "\\d";
    if (c >= 0x20)
        return NULL;
    if (named[c] != NULL)
        return named[c];
    snprintf(tmp, 8, "\\%03o", c);
    return tmp;
}

static void
put_quoted(struct sink *s, const uint8_t *p, size_t len, char q)
{
    char tmp[8];
    size_t run = 0;
    put(s, &q, 1);
    for (size_t i = 0; i < len; i++) {
        const char *esc = escape_of(p[i], q, tmp);
        if (esc == NULL)
            continue;
        put(s, p + run, i - run);
        put_str(s, esc);
        run = i + 1;
    }
    put(s, p + run, len - run);
    put(s, &q, 1);
}

static void
put_atom(struct sink *s, hv_term t)
{
    size_t len;
    const char *name = hv_atom_name(t, &len);
    if (hv__atom_needs_quotes(name, len))
        put_quoted(s, (const uint8_t *)name, len, '\'');
    else
        put(s, name, len);
}

/* Text when every byte is printable ASCII or has a named escape. */
static bool
is_text(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (!(c >= 0x20 && c < 0x7f) && !(c >= 8 && c <= 13) && c != 27)
            return false;
    }
    return true;
}

static void
put_binary(struct sink *s, hv_term t)
{
    size_t len;
    const uint8_t *p = hv_binary_data(t, &len);
    put_str(s, "<<");
    if (len > 0 && is_text(p, len)) {
        put_quoted(s, p, len, '"');
    } else {
        for (size_t i = 0; i < len; i++) {
            if (i > 0)
                put(s, ",", 1);
            put_int(s, p[i]);
        }
    }
    put_str(s, ">>");
}

/* The node field of a pid or ref: 0 for this node, else the node atom's
 * index + 1 (so that the atom at index 0 cannot read as this node). */
static uint32_t
node_index(hv_term node)
{
    return node == HV_ATOM_NONODE ? 0 : hv__atom_index(node) + 1;
}

static void
put_pid(struct sink *s, hv_term t)
{
    hv_term node;
    uint32_t number, serial;
    char tmp[48];
    hv_pid_fields(t, &node, &number, &serial, NULL);
    /* A boxed pid of the local node (its serial too large for the
     * immediate) names the node by index, so that it reads back boxed. */
    uint32_t index = hv__is_boxed(t) ? hv__atom_index(node) + 1 : 0;
    int n = snprintf(tmp, sizeof tmp, "<%lu.%lu.%lu>", (unsigned long)index,
                     (unsigned long)number, (unsigned long)serial);
    put(s, tmp, (size_t)n);
}

/* #Ref<0.W2.W1.W0>: at least three words, as Erlang prints, most
 * significant first; hv_ref_from drops the leading zero words again. */
static void
put_ref(struct sink *s, hv_term t)
{
    hv_term node;
    uint32_t words[5] = {0};
    char tmp[24];
    int n = hv_ref_fields(t, &node, NULL, words);
    if (n < 3)
        n = 3;
    int k =
        snprintf(tmp, sizeof tmp, "#Ref<%lu", (unsigned long)node_index(node));
    put(s, tmp, (size_t)k);
    while (n-- > 0) {
        k = snprintf(tmp, sizeof tmp, ".%lu", (unsigned long)words[n]);
        put(s, tmp, (size_t)k);
    }
    put(s, ">", 1);
}

static void
put_leaf(struct sink *s, hv_term t)
{
    int64_t i;
    double d;
    switch (hv_type_of(t)) {
    case HV_TYPE_INTEGER:
        hv_int_value(t, &i);
        put_int(s, i);
        break;
    case HV_TYPE_FLOAT:
        hv_float_value(t, &d);
        put_float(s, d);
        break;
    case HV_TYPE_ATOM:
        put_atom(s, t);
        break;
    case HV_TYPE_BINARY:
        put_binary(s, t);
        break;
    case HV_TYPE_PID:
        put_pid(s, t);
        break;
    case HV_TYPE_REF:
        put_ref(s, t);
        break;
    case HV_TYPE_NIL:
        put(s, "[]", 2);
        break;
    default:
        /* Constructors never take HV_NONE, so this is a caller's bug. */
        if (s->rc == HV_OK)
            s->rc = HV_EBADARG;
        break;
    }
}

/* Starts t: a leaf or empty container prints whole, a container prints
 * its opening and goes on the stack. */
static void
start(struct sink *s, struct hv__walk *w, hv_term t)
{
    enum frame_kind kind;
    switch (hv__box_type(t)) {
    case HV__BOX_TUPLE:
        if (((struct hv__tuple *)hv__box_of(t))->arity == 0) {
            put(s, "{}", 2);
            return;
        }
        put(s, "{", 1);
        kind = FRAME_TUPLE;
        break;
    case HV__BOX_CONS:
        put(s, "[", 1);
        kind = FRAME_LIST;
        break;
    case HV__BOX_MAP:
        if (((struct hv__map *)hv__box_of(t))->count == 0) {
            put(s, "#{}", 3);
            return;
        }
        put(s, "#{", 2);
        kind = FRAME_MAP;
        break;
    default:
        put_leaf(s, t);
        return;
    }
    struct frame *f = hv__walk_push(w);
    if (f == NULL) {
        if (s->rc == HV_OK)
            s->rc = HV_ENOMEM;
        return;
    }
    f->t = t;
    f->i = 0;
    f->kind = kind;
}

/* One step of the top frame: a separator and the next element, or the
 * closing bracket.  The frame is updated before start() may push (and
 * move the stack). */
static void
step(struct sink *s, struct hv__walk *w)
{
    struct frame *f = hv__walk_top(w);
    if (f->kind == FRAME_TUPLE) {
        const struct hv__tuple *tup = (const void *)hv__box_of(f->t);
        if (f->i == tup->arity) {
            put(s, "}", 1);
            hv__walk_pop(w);
            return;
        }
        if (f->i > 0)
            put(s, ",", 1);
        start(s, w, tup->el[f->i++]);
    } else if (f->kind == FRAME_MAP) {
        const struct hv__map *m = (const void *)hv__box_of(f->t);
        if (f->i == 2 * m->count) {
            put(s, "}", 1);
            hv__walk_pop(w);
            return;
        }
        size_t j = f->i++;
        if (j % 2 == 1)
            put(s, " => ", 4);
        else if (j > 0)
            put(s, ",", 1);
        start(s, w, m->kv[j]);
    } else if (hv__box_type(f->t) == HV__BOX_CONS) {
        const struct hv__cons *c = (const void *)hv__box_of(f->t);
        if (f->i++ > 0)
            put(s, ",", 1);
        f->t = c->tail;
        start(s, w, c->head);
    } else if (f->t == HV_NIL) {
        put(s, "]", 1);
        hv__walk_pop(w);
    } else {
        /* An improper tail; the frame then closes as a proper list. */
        hv_term tail = f->t;
        f->t = HV_NIL;
        put(s, "|", 1);
        start(s, w, tail);
    }
}

static int
print(hv_term t, struct sink *s)
{
    if (t == HV_NONE)
        return HV_EBADARG;
    struct hv__walk w;
    hv__walk_init(&w, sizeof(struct frame));
    start(s, &w, t);
    while (s->rc == HV_OK && !hv__walk_empty(&w))
        step(s, &w);
    hv__walk_fini(&w);
    return s->rc;
}

int
hv_print(hv_term t, hv_buf *out)
{
    if (out == NULL)
        return HV_EBADARG;
    size_t start_len = out->len;
    struct sink s = {.buf = out, .rc = HV_OK};
    int rc = print(t, &s);
    if (rc != HV_OK && out->data != NULL) {
        /* Nothing half-printed stays behind. */
        out->len = start_len;
        out->data[start_len] = 0;
    }
    return rc;
}

int64_t
hv_format(hv_term t, char *buf, size_t size)
{
    if (buf == NULL && size != 0)
        return HV_EBADARG;
    struct sink s = {.fixed = buf, .size = size, .rc = HV_OK};
    int rc = print(t, &s);
    if (size > 0)
        buf[hv__min_size(rc == HV_OK ? s.len : 0, size - 1)] = 0;
    return rc == HV_OK ? (int64_t)s.len : rc;
}
