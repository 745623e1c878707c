/*
 * fuzz.h - shared pieces of the libFuzzer targets (tests/fuzz/fuzz_*.c).
 *
 * Every target is one LLVMFuzzerTestOneInput; it is linked either with libFuzzer (clang,
 * `make fuzz`) or with replay_main.c (any compiler, `make check` replays the corpus). A broken
 * invariant calls FUZZ_ASSERT, which prints where and aborts: libFuzzer saves the input as a
 * crash, the replay driver counts the file as failed.
 *
 * The fixed world the targets verify against is the one of tests/unit/vectors/spec (the
 * EKEY_SPEC.md vectors): issuer https://issuer.example, audience https://api.example.com,
 * POST https://api.example.com/payments, time 1767225610. The test-only keys are compiled in
 * (fuzz_common.c) so a fuzz binary runs from any directory.
 */
#ifndef EKEY_FUZZ_H
#define EKEY_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "ekey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ISS        "https://issuer.example"
#define FUZZ_AUD        "https://api.example.com"
#define FUZZ_HTU        "https://api.example.com/payments"
#define FUZZ_METHOD     "POST"
#define FUZZ_NOW        1767225610
#define FUZZ_ATH        "FQYkyq05k43kUI2rjCjRHGudhkaF49U7Hk1iuYbi-do"   /* of spec token.jwt */
#define FUZZ_TRACE      "0amOVEezZyWBvmz12PdzMQ"
#define FUZZ_CLIENT_JKT "3rYOnwbdnuMhvJeFjG-wyFNQtu1kY_a4czT0LrLpCkE"

typedef enum {
    FUZZ_KEY_ISSUER = 0,     /* P-256, signs E-Keys (spec issuer.key.pem) */
    FUZZ_KEY_CLIENT,         /* P-256, signs DPoP proofs (spec client.key.pem) */
    FUZZ_KEY_P384,           /* P-384 (tests/unit/vectors/crypto/p384.pem) */
    FUZZ_KEY_ED25519,        /* RFC 8037 A.1 */
    FUZZ_KEY_COUNT
} fuzz_key_t;

/* Aborts with the failed condition: the one way a target reports a broken invariant. */
#define FUZZ_ASSERT(c) ((c) ? (void)0 : fuzz_fail(#c, __FILE__, __LINE__))
void fuzz_fail(const char *what, const char *file, int line) __attribute__((noreturn));

/* Once per process: APR, the keys. Cheap to call on every input. */
void fuzz_init(void);
/* A fresh pool per input; destroy it at the end of the input. */
apr_pool_t *fuzz_pool(void);
/* A private key of the fixed set (lives for the whole process). */
const ekey_jwk_t *fuzz_key(fuzz_key_t which);

/* A NUL-terminated copy of data[0..n) from p (embedded NULs end the string early). */
char *fuzz_cstr(apr_pool_t *p, const uint8_t *data, size_t n);
/* Splits data at `sep` into at most max parts (the last one keeps the rest); returns the
 * number of parts. Parts point into data, lengths in lens. */
int fuzz_split(const uint8_t *data, size_t n, int sep, const char **parts, size_t *lens,
               int max);

/* "Signing mode" of fuzz_jws, fuzz_token and fuzz_dpop: an input that starts with '{' is
 * "<protected header bytes>\n<payload bytes>"; it is base64url-encoded byte for byte (never
 * re-serialised, so duplicates and odd whitespace survive) and signed with the key that the
 * header's first "alg":"..." names (ES384 -> P-384, EdDSA -> Ed25519, else `dflt`), so the
 * fuzzer reaches the claim checks behind the signature. Returns the compact JWS, or NULL when
 * the input is not in signing mode. *used receives the key that signed. */
char *fuzz_sign_input(apr_pool_t *p, const uint8_t *data, size_t n, fuzz_key_t dflt,
                      const ekey_jwk_t **used);

/* Header (i = 0) or payload (i = 1) of an accepted compact JWS, decoded and parsed by jansson
 * directly: an oracle that shares no code with the core's parsing. */
json_t *fuzz_segment(apr_pool_t *p, const char *compact, int i);

/* The status invariants shared by every call: EKEY_OK xor a real status, err filled and
 * agreeing with the return value, a wire code for every failure. With FUZZ_VERBOSE set in
 * the environment it also prints the status (and the error detail) to stderr. */
void fuzz_check_status(ekey_status_t st, const ekey_error_t *err);
/* Resets err to a sentinel so fuzz_check_status can tell whether the callee filled it. */
void fuzz_err_reset(ekey_error_t *err);

/* Decodes the percent-escapes of a valid capability path (what httpd puts in r->uri). */
char *fuzz_unescape(apr_pool_t *p, const char *path);

/* With FUZZ_EMIT_DIR set, writes s to that directory as <prefix>-<hash> (seed generation,
 * see docs/fuzzing.md). */
void fuzz_emit(const char *prefix, const char *s);

#endif /* EKEY_FUZZ_H */
