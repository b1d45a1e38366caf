/* runtime/term_scan.c - the first pass of msgpack decoding: validate one
 * object and measure it, without building anything (why we decode
 * msgpack ourselves: see term_unpack.c).
 *
 * The scan walks the bytes once with an explicit stack of open arrays and
 * maps (never recursion: the input chooses the depth).  It checks every
 * header, every ext body of hive's layout, and each length and count
 * against what can still follow: every element takes at least one byte,
 * so `pending`, the number of announced elements not yet started, is a
 * lower bound on the bytes still to come.  That bound is what makes lying
 * counts cheap to reject (one-shot input) or to wait for without
 * allocating (a stream), and what turns an endless stream into HV_ELIMIT
 * as soon as the object would pass max_bytes.
 *
 * The scan takes whole items only: an item whose header or body is not
 * all there leaves pos at its first byte, so the scan resumes there when
 * more bytes come and a stream fed one byte at a time costs linear time.
 *
 * Error codes: HV_ESYNTAX for input that is not msgpack or breaks hive's
 * layout (truncation, 0xc1, misplaced markers, short pid/ref bodies),
 * HV_EBADARG for well-formed msgpack that has no term (NaN, infinities,
 * timestamps, unknown ext types, atom names over 255 bytes), HV_EOVERFLOW
 * for integers above INT64_MAX, HV_ELIMIT for the hv_limits. */
#include "runtime/term_unpack.h"

#include <math.h>
#include <string.h>

#include "runtime/util.h"

enum level_kind { LEVEL_ARRAY, LEVEL_TUPLE, LEVEL_IMPROPER, LEVEL_MAP };

struct level {
    uint64_t left;  /* elements not yet started */
    uint64_t count; /* all its elements; two per pair in a map */
    size_t at;      /* offset of its header */
    enum level_kind kind;
};

/* Header lengths of the first bytes 0xc0..0xdf; the rest are all 1. */
static const uint8_t head_len_c0[32] = {
    1, 0, 1, 1,    /* nil, (never used), false, true */
    2, 3, 5,       /* bin 8/16/32 */
    3, 4, 6,       /* ext 8/16/32 */
    5, 9,          /* float 32/64 */
    2, 3, 5, 9,    /* uint 8/16/32/64 */
    2, 3, 5, 9,    /* int 8/16/32/64 */
    2, 2, 2, 2, 2, /* fixext 1/2/4/8/16 */
    2, 3, 5,       /* str 8/16/32 */
    3, 5,          /* array 16/32 */
    3, 5           /* map 16/32 */
};

/* The big-endian unsigned number in the n bytes at p (n <= 8). */
static uint64_t
be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

unsigned
hv__scan_head_len(uint8_t first)
{
    if (first >= 0xc0 && first <= 0xdf)
        return head_len_c0[first - 0xc0];
    return 1;
}

static void
head_uint(struct hv__head *h, uint64_t v)
{
    if (v > INT64_MAX) {
        h->kind = HV__HEAD_UINT;
        h->u = v;
    } else {
        h->kind = HV__HEAD_INT;
        h->i = (int64_t)v;
    }
}

static void
head_sized(struct hv__head *h, enum hv__head_kind kind, uint64_t n)
{
    h->kind = kind;
    h->n = n;
}

void
hv__scan_head(const uint8_t *p, struct hv__head *h)
{
    uint8_t b = p[0];
    memset(h, 0, sizeof *h);
    h->len = hv__scan_head_len(b);
    /* The bytes after the first hold the value or size, except that an
     * ext's type comes last. */
    unsigned n = h->len - 1;
    if (b <= 0x7f) {
        head_uint(h, b);
    } else if (b >= 0xe0) {
        h->kind = HV__HEAD_INT;
        h->i = (int8_t)b;
    } else if (b <= 0x8f) {
        head_sized(h, HV__HEAD_MAP, b & 0x0f);
    } else if (b <= 0x9f) {
        head_sized(h, HV__HEAD_ARRAY, b & 0x0f);
    } else if (b <= 0xbf) {
        head_sized(h, HV__HEAD_STR, b & 0x1f);
    } else if (b >= 0xd4 && b <= 0xd8) {
        head_sized(h, HV__HEAD_EXT, (uint64_t)1 << (b - 0xd4));
        h->ext_type = (int8_t)p[1];
    } else if (b >= 0xc7 && b <= 0xc9) {
        head_sized(h, HV__HEAD_EXT, be(p + 1, n - 1));
        h->ext_type = (int8_t)p[n];
    } else if (b >= 0xc4 && b <= 0xc6) {
        head_sized(h, HV__HEAD_BIN, be(p + 1, n));
    } else if (b >= 0xd9 && b <= 0xdb) {
        head_sized(h, HV__HEAD_STR, be(p + 1, n));
    } else if (b >= 0xdc && b <= 0xdd) {
        head_sized(h, HV__HEAD_ARRAY, be(p + 1, n));
    } else if (b >= 0xde) {
        head_sized(h, HV__HEAD_MAP, be(p + 1, n));
    } else if (b >= 0xcc && b <= 0xcf) {
        head_uint(h, be(p + 1, n));
    } else if (b >= 0xd0 && b <= 0xd3) {
        /* Sign-extend from n bytes: flip the sign bit, then subtract it. */
        uint64_t sign = (uint64_t)1 << (8 * n - 1);
        h->kind = HV__HEAD_INT;
        h->i = (int64_t)((be(p + 1, n) ^ sign) - sign);
    } else if (b == 0xca) {
        uint32_t bits = (uint32_t)be(p + 1, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        h->kind = HV__HEAD_F32;
        h->f = f;
    } else if (b == 0xcb) {
        uint64_t bits = be(p + 1, 8);
        h->kind = HV__HEAD_F64;
        memcpy(&h->f, &bits, sizeof h->f);
    } else {
        h->kind = b == 0xc0   ? HV__HEAD_NIL
                  : b == 0xc2 ? HV__HEAD_FALSE
                  : b == 0xc3 ? HV__HEAD_TRUE
                              : HV__HEAD_BAD; /* 0xc1 */
    }
}

static const char *
head_name(const struct hv__head *h)
{
    switch (h->kind) {
    case HV__HEAD_STR:
        return "str";
    case HV__HEAD_BIN:
        return "bin";
    case HV__HEAD_EXT:
        return "ext";
    case HV__HEAD_ARRAY:
        return "array";
    case HV__HEAD_MAP:
        return "map";
    case HV__HEAD_F32:
    case HV__HEAD_F64:
        return "float";
    case HV__HEAD_NIL:
    case HV__HEAD_FALSE:
    case HV__HEAD_TRUE:
        return "constant";
    default:
        return "integer";
    }
}

/* Saturating, so sums of hostile counts cannot wrap past max_bytes. */
static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void
hv__scan_init(struct hv__scan *s, const hv_limits *lim)
{
    s->max_depth =
        lim && lim->max_depth ? lim->max_depth : HV_DEFAULT_MAX_DEPTH;
    s->max_count =
        lim && lim->max_count ? lim->max_count : HV_DEFAULT_MAX_COUNT;
    s->max_bytes =
        lim && lim->max_bytes ? lim->max_bytes : HV_DEFAULT_MAX_BYTES;
    hv__walk_init(&s->levels, sizeof(struct level));
    hv__scan_reset(s);
}

void
hv__scan_reset(struct hv__scan *s)
{
    s->pos = 0;
    s->pending = 0;
    s->need = 1;
    s->done = false;
    s->levels.len = 0;
}

void
hv__scan_fini(struct hv__scan *s)
{
    hv__walk_fini(&s->levels);
}

/* The input ends inside the item at `at`, which needs `item` bytes; h is
 * NULL when not even its header is there. */
static int
short_item(const uint8_t *p, const struct hv__head *h, size_t at, uint64_t item,
           size_t left, hv_error *err)
{
    if (left == 0)
        return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                             at == 0 ? "no object: the input is empty"
                                     : "input ends at offset %zu where an "
                                       "element is expected",
                             at);
    if (h == NULL)
        return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                             "truncated header at offset %zu: byte 0x%02x "
                             "needs %llu bytes, %zu left",
                             at, p[at], (unsigned long long)item, left);
    return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                         "%s length %llu at offset %zu exceeds the %zu "
                         "bytes left",
                         head_name(h), (unsigned long long)h->n, at,
                         left - h->len);
}

/* Checks an ext body against hive's layout. */
static int
check_ext(const struct hv__head *h, const uint8_t *body, size_t at,
          hv_error *err)
{
    uint64_t n = h->n;
    switch (h->ext_type) {
    case HV__EXT_ATOM:
        if (n > HV_MAX_ATOM_BYTES)
            return hv__error_set(err, HV_EBADARG, at, 0, 0,
                                 "atom ext at offset %zu has a name of %llu "
                                 "bytes, over %d",
                                 at, (unsigned long long)n, HV_MAX_ATOM_BYTES);
        return HV_OK;
    case HV__EXT_PID:
        if (n < HV__PID_BODY_FIXED)
            return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                                 "pid ext at offset %zu has %llu bytes, fewer "
                                 "than %u",
                                 at, (unsigned long long)n, HV__PID_BODY_FIXED);
        n -= HV__PID_BODY_FIXED;
        break;
    case HV__EXT_REF: {
        unsigned nwords = n >= HV__REF_BODY_FIXED ? body[4] : 0;
        if (nwords < 1 || nwords > 5)
            return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                                 n < HV__REF_BODY_FIXED
                                     ? "ref ext at offset %zu is too short"
                                     : "ref ext at offset %zu has %u words; "
                                       "1 to 5 are allowed",
                                 at, nwords);
        if (n < HV__REF_BODY_FIXED + 4 * nwords)
            return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                                 "ref ext at offset %zu has %llu bytes, too "
                                 "few for %u words",
                                 at, (unsigned long long)n, nwords);
        n -= HV__REF_BODY_FIXED + 4 * nwords;
        break;
    }
    case HV__EXT_TUPLE:
    case HV__EXT_IMPROPER:
        if (n != 0)
            return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                                 "ext %d at offset %zu has a body of %llu "
                                 "bytes; the marker is empty",
                                 h->ext_type, at, (unsigned long long)n);
        return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                             "%s marker (ext %d) at offset %zu is not "
                             "element 0 of an array",
                             h->ext_type == HV__EXT_TUPLE ? "tuple"
                                                          : "improper list",
                             h->ext_type, at);
    case -1:
        return hv__error_set(err, HV_EBADARG, at, 0, 0,
                             "timestamp ext (type -1) at offset %zu has no "
                             "term form",
                             at);
    default:
        return hv__error_set(err, HV_EBADARG, at, 0, 0,
                             "unknown ext type %d at offset %zu", h->ext_type,
                             at);
    }
    if (n > HV_MAX_ATOM_BYTES)
        return hv__error_set(err, HV_EBADARG, at, 0, 0,
                             "%s ext at offset %zu has a node name of %llu "
                             "bytes, over %d",
                             h->ext_type == HV__EXT_PID ? "pid" : "ref", at,
                             (unsigned long long)n, HV_MAX_ATOM_BYTES);
    return HV_OK;
}

/* Element 0 of an array decides what the array is: a marker makes it a
 * tuple or an improper list, anything else a proper list.  Only then is
 * its element count known, so max_count is checked here. */
static int
first_of_array(struct hv__scan *s, struct level *top, const struct hv__head *h,
               size_t at, bool *marker, hv_error *err)
{
    *marker = h->kind == HV__HEAD_EXT && h->n == 0 &&
              (h->ext_type == HV__EXT_TUPLE || h->ext_type == HV__EXT_IMPROPER);
    if (!*marker) {
        if (top->count > s->max_count)
            return hv__error_set(err, HV_ELIMIT, top->at, 0, 0,
                                 "list of %llu elements at offset %zu is "
                                 "over max_count (%zu)",
                                 (unsigned long long)top->count, top->at,
                                 s->max_count);
        return HV_OK;
    }
    uint64_t elems = top->count - 1;
    if (h->ext_type == HV__EXT_TUPLE) {
        if (elems > s->max_count || elems > HV_MAX_TUPLE_ARITY)
            return hv__error_set(
                err, HV_ELIMIT, top->at, 0, 0,
                "tuple of %llu elements at offset %zu is "
                "over the limit (%zu)",
                (unsigned long long)elems, top->at,
                hv__min_size(s->max_count, HV_MAX_TUPLE_ARITY));
        top->kind = LEVEL_TUPLE;
        return HV_OK;
    }
    if (elems < 2)
        return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                             "improper list marker at offset %zu has %llu "
                             "elements after it; it needs a head and a tail",
                             at, (unsigned long long)elems);
    top->kind = LEVEL_IMPROPER;
    return HV_OK;
}

/* Values a whole item can be checked for once its bytes are there. */
static int
check_value(const struct hv__head *h, const uint8_t *body, size_t at,
            hv_error *err)
{
    switch (h->kind) {
    case HV__HEAD_BAD:
        return hv__error_set(err, HV_ESYNTAX, at, 0, 0,
                             "byte 0xc1 at offset %zu is never used in "
                             "msgpack",
                             at);
    case HV__HEAD_UINT:
        return hv__error_set(err, HV_EOVERFLOW, at, 0, 0,
                             "integer %llu at offset %zu is above INT64_MAX",
                             (unsigned long long)h->u, at);
    case HV__HEAD_F32:
    case HV__HEAD_F64:
        if (!isfinite(h->f))
            return hv__error_set(err, HV_EBADARG, at, 0, 0,
                                 "float at offset %zu is %s; Erlang has no "
                                 "such float",
                                 at, isnan(h->f) ? "NaN" : "infinite");
        return HV_OK;
    case HV__HEAD_EXT:
        return check_ext(h, body, at, err);
    default:
        return HV_OK;
    }
}

/* Takes the item at s->pos if all of it is there.  HV_OK when taken,
 * HV__SCAN_MORE, or an error; the state changes only when taken. */
static int
scan_item(struct hv__scan *s, const uint8_t *p, size_t len, bool final,
          hv_error *err)
{
    size_t at = s->pos;
    size_t left = len - at;
    struct level *top = hv__walk_top(&s->levels);
    /* This item is one of the pending ones; each of the others needs a
     * byte at least. */
    uint64_t rest = s->pending - (top != NULL);
    struct hv__head h;
    const struct hv__head *hp = NULL;
    uint64_t item = 1, kids = 0;
    if (left >= 1) {
        item = hv__scan_head_len(p[at]);
        if (item == 0)
            item = 1; /* 0xc1: reported below, once we have it */
        if (left >= item) {
            hv__scan_head(p + at, &h);
            hp = &h;
            if (h.kind == HV__HEAD_STR || h.kind == HV__HEAD_BIN ||
                h.kind == HV__HEAD_EXT)
                item += h.n;
            else if (h.kind == HV__HEAD_ARRAY)
                kids = h.n;
            else if (h.kind == HV__HEAD_MAP)
                kids = 2 * h.n;
        }
    }
    if (final && item > left)
        return short_item(p, hp, at, item, left, err);
    if (final && kids > left - item - hv__min_size(rest, left - item))
        return hv__error_set(
            err, HV_ESYNTAX, at, 0, 0,
            "%s count %llu at offset %zu exceeds the %llu "
            "bytes left",
            head_name(hp), (unsigned long long)hp->n, at,
            (unsigned long long)(left - item -
                                 hv__min_size(rest, left - item)));
    uint64_t need = sat_add(sat_add(sat_add(at, item), kids), rest);
    if (need > s->max_bytes)
        return hv__error_set(err, HV_ELIMIT, at, 0, 0,
                             "the object would take at least %llu bytes at "
                             "offset %zu, over max_bytes (%zu)",
                             (unsigned long long)need, at, s->max_bytes);
    if (item > left) {
        s->need = need;
        return HV__SCAN_MORE;
    }

    bool marker = false;
    int rc = HV_OK;
    if (top != NULL && top->kind == LEVEL_ARRAY && top->left == top->count)
        rc = first_of_array(s, top, &h, at, &marker, err);
    if (rc == HV_OK && !marker)
        rc = check_value(&h, p + at + h.len, at, err);
    if (rc != HV_OK)
        return rc;
    bool container = h.kind == HV__HEAD_ARRAY || h.kind == HV__HEAD_MAP;
    if (container) {
        /* Empty containers are leaves: [] and #{} are constants. */
        if (kids != 0 && s->levels.len >= s->max_depth)
            return hv__error_set(err, HV_ELIMIT, at, 0, 0,
                                 "nesting at offset %zu is deeper than "
                                 "max_depth (%u)",
                                 at, s->max_depth);
        if (h.kind == HV__HEAD_MAP && h.n > s->max_count)
            return hv__error_set(err, HV_ELIMIT, at, 0, 0,
                                 "map of %llu pairs at offset %zu is over "
                                 "max_count (%zu)",
                                 (unsigned long long)h.n, at, s->max_count);
        if (h.kind == HV__HEAD_ARRAY && h.n - (h.n != 0) > s->max_count)
            return hv__error_set(err, HV_ELIMIT, at, 0, 0,
                                 "array of %llu elements at offset %zu is "
                                 "over max_count (%zu)",
                                 (unsigned long long)h.n, at, s->max_count);
    }
    /* Push before touching the parent: a failed push leaves the state
     * as it was, so the scan can be resumed after HV_ENOMEM. */
    if (kids != 0) {
        struct level *l = hv__walk_push(&s->levels);
        if (l == NULL)
            return hv__error_set(err, HV_ENOMEM, at, 0, 0,
                                 "out of memory scanning offset %zu", at);
        l->left = l->count = kids;
        l->at = at;
        l->kind = h.kind == HV__HEAD_MAP ? LEVEL_MAP : LEVEL_ARRAY;
        if (s->levels.len >= 2) {
            struct level *parent =
                (struct level *)(void *)(s->levels.items +
                                         (s->levels.len - 2) *
                                             s->levels.item_size);
            parent->left--;
            s->pending--;
        }
        s->pending += kids;
        s->pos = at + h.len;
        return HV_OK;
    }
    if (top != NULL) {
        top->left--;
        s->pending--;
    }
    s->pos = at + item;
    while ((top = hv__walk_top(&s->levels)) != NULL && top->left == 0)
        hv__walk_pop(&s->levels);
    s->done = top == NULL;
    return HV_OK;
}

int
hv__scan_run(struct hv__scan *s, const uint8_t *p, size_t len, bool final,
             hv_error *err)
{
    while (!s->done) {
        int rc = scan_item(s, p, len, final, err);
        if (rc != HV_OK)
            return rc;
    }
    return HV_OK;
}
