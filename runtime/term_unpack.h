/* runtime/term_unpack.h - decoding msgpack into terms, internal side: the
 * scan pass that validates one object and measures it (term_scan.c), and
 * the build pass that turns scanned bytes into a term (term_unpack.c).
 * hv_unpack_n runs both over a whole buffer; hv_unpacker resumes the scan
 * as bytes arrive and builds once the object is whole. */
#ifndef HV_RUNTIME_TERM_UNPACK_H
#define HV_RUNTIME_TERM_UNPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hive/term.h"
#include "runtime/term_walk.h"

/* The msgpack ext types of hive's layout (see the comment before hv_pack
 * in hive/term.h). */
enum {
    HV__EXT_ATOM = 1,
    HV__EXT_PID = 2,
    HV__EXT_REF = 3,
    HV__EXT_TUPLE = 4,   /* zero-length marker, element 0 of an array */
    HV__EXT_IMPROPER = 5 /* zero-length marker, element 0 of an array */
};

/* Fixed bytes of the pid and ref ext bodies before the node name. */
#define HV__PID_BODY_FIXED 12u
#define HV__REF_BODY_FIXED 5u

enum hv__head_kind {
    HV__HEAD_BAD = 0, /* 0xc1, never used by msgpack */
    HV__HEAD_NIL,
    HV__HEAD_FALSE,
    HV__HEAD_TRUE,
    HV__HEAD_INT,  /* value in i */
    HV__HEAD_UINT, /* value in u, always above INT64_MAX */
    HV__HEAD_F32,  /* value widened into f */
    HV__HEAD_F64,
    HV__HEAD_STR, /* n body bytes follow the header */
    HV__HEAD_BIN,
    HV__HEAD_EXT,   /* n body bytes; type in ext_type */
    HV__HEAD_ARRAY, /* n elements follow */
    HV__HEAD_MAP    /* n pairs follow */
};

/* One decoded msgpack header.  Scalars live wholly in the header. */
struct hv__head {
    enum hv__head_kind kind;
    unsigned len; /* header bytes, including an ext's type byte */
    int ext_type;
    uint64_t n;
    int64_t i;
    uint64_t u;
    double f;
};

/* Header bytes announced by a first byte (1..9); 0 for 0xc1. */
unsigned hv__scan_head_len(uint8_t first);
/* Decodes the header at p, which must hold hv__scan_head_len(p[0])
 * bytes. */
void hv__scan_head(const uint8_t *p, struct hv__head *h);

/* Scan results besides HV_OK and the negative HV_E* codes. */
#define HV__SCAN_MORE 1

/* A resumable scan of one object.  pos counts the bytes of the object
 * taken so far (whole items only), so a scan can stop anywhere and go on
 * when more bytes come, as long as they are the same bytes. */
struct hv__scan {
    size_t max_bytes, max_count;
    unsigned max_depth;
    size_t pos;
    uint64_t pending;       /* elements announced and not yet started */
    uint64_t need;          /* after HV__SCAN_MORE: the object takes >= need */
    bool done;              /* pos is the object's size */
    struct hv__walk levels; /* open arrays and maps */
};

/* Sets s up for a new object under lim (NULL or zero fields: defaults). */
void hv__scan_init(struct hv__scan *s, const hv_limits *lim);
/* Forgets the object, keeping limits and stack memory. */
void hv__scan_reset(struct hv__scan *s);
void hv__scan_fini(struct hv__scan *s);
/* Scans on over p[0..len), the object's bytes so far.  With final set, len
 * is all there is and a short object is an error.  Returns HV_OK when the
 * object is whole (its size in s->pos), HV__SCAN_MORE (s->need set) or a
 * negative HV_E* with err filled, offset counted from p.  After
 * HV_ENOMEM the scan may be resumed; after other errors it may not. */
int hv__scan_run(struct hv__scan *s, const uint8_t *p, size_t len, bool final,
                 hv_error *err);

/* Builds the term of the size bytes at p, which hv__scan_run accepted
 * whole.  HV_OK and a new term in *out, or HV_ENOMEM, or what making an
 * atom failed with (HV_ELIMIT, HV_EBADARG), with err filled. */
int hv__unpack_build(const uint8_t *p, size_t size, hv_term *out,
                     hv_error *err);

#endif /* HV_RUNTIME_TERM_UNPACK_H */
