/*
 * test_fastpath.c - the request and minting paths' fast paths are the slow paths' results:
 * jws.c's hand-made ECDSA DER (every r/s shape), the prepared signing and verification
 * contexts of PEM-loaded keys, minting without jansson (json.c's ekey_json_quote and
 * token.c's claims, byte for byte what jansson writes), and reading without it
 * (json_fast.c: what it accepts, jansson accepts with an equal value; the rest is jansson's).
 */
#include "cache_fixture.h"

#include <stdlib.h>
#include <unistd.h>

/* ------------------------------------------------------------- DER encoding */

/* r and s with a leading zero byte and with the top bit set take the other branches of the
 * hand-made DER; all verify, on the prepared context (public key) and without (private). */
static void test_der_edges(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    int zero_r = 0, zero_s = 0, high_r = 0, low_r = 0, i;
    ekey_jwk_t *k, *pub;
    ekey_jws_t *jws;

    assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    pub = public_of(p, k);
    for (i = 0; i < 4000 && !(zero_r && zero_s && high_r && low_r); i++) {
        jws = signed_by(p, k);
        zero_r |= jws->sig[0] == 0;
        zero_s |= jws->sig[32] == 0;
        high_r |= (jws->sig[0] & 0x80) != 0;
        low_r |= jws->sig[0] != 0 && (jws->sig[0] & 0x80) == 0;
        if (jws->sig[0] == 0 || jws->sig[32] == 0 || i < 20) {
            assert_int_equal(ekey_jws_verify(jws, pub, NULL), EKEY_OK);
            assert_int_equal(ekey_jws_verify(jws, k, NULL), EKEY_OK);
        }
    }
    assert_true(zero_r && zero_s && high_r && low_r);
    assert_int_equal(ekey_jwk_generate(&k, p, EKEY_ALG_ES384, NULL), EKEY_OK);
    pub = public_of(p, k);
    for (i = 0; i < 20; i++)
        assert_int_equal(ekey_jws_verify(signed_by(p, k), pub, NULL), EKEY_OK);
}

/* Keys loaded from PEM files sign and verify on prepared contexts (an issuer's signing key,
 * a verifier's trusted key): many tokens, each verifying, a forged one not. */
static void test_prepared_contexts_from_pem(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    char dir[] = "/tmp/ekey-test-cache-XXXXXX";
    ekey_jwk_t *gen, *signer, *pub;
    ekey_token_policy_t pol;
    fixture_t f;
    const char *path;
    char *tok;
    int i;

    assert_non_null(mkdtemp(dir));
    path = apr_pstrcat(p, dir, "/issuer.pem", NULL);
    assert_int_equal(ekey_jwk_generate(&gen, p, EKEY_ALG_ES256, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_save_pem(gen, p, path, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_load_pem(&signer, p, path, 1, NULL), EKEY_OK);
    assert_int_equal(ekey_jwk_load_pem(&pub, p, path, 0, NULL), EKEY_OK);
    unlink(path);
    assert_non_null(ekey_jwk_sign_ctx(signer));
    assert_null(ekey_jwk_verify_ctx(signer));
    assert_null(ekey_jwk_p256(signer));
    /* a public ES256 key verifies through p256.c, and needs no EVP context then */
    assert_non_null(ekey_jwk_p256(pub));
    assert_null(ekey_jwk_verify_ctx(pub));
    assert_null(ekey_jwk_sign_ctx(pub));
    fixture(&f, p);
    f.ks = ekey_keyset_make(p);
    assert_int_equal(ekey_keyset_add(f.ks, pub, NULL), EKEY_OK);
    pol = policy(f.ks);
    for (i = 0; i < 50; i++) {
        tok = mint(p, &f, signer, 1);
        assert_int_equal(verify(p, tok, &pol), EKEY_OK);
        assert_int_equal(verify(p, flip_sig(p, tok), &pol), EKEY_E_SIGNATURE);
    }
    assert_int_equal(ekey_jws_verify(signed_by(p, signer), public_of(p, gen), NULL), EKEY_OK);
    assert_int_equal(ekey_jws_verify(signed_by(p, gen), pub, NULL), EKEY_OK);
    /* without the fast path the same key file gives a prepared EVP context */
    assert_int_equal(ekey_jwk_save_pem(gen, p, path, NULL), EKEY_OK);
    ekey_p256_set_enabled(0);
    assert_int_equal(ekey_jwk_load_pem(&pub, p, path, 0, NULL), EKEY_OK);
    ekey_p256_set_enabled(1);
    unlink(path);
    assert_null(ekey_jwk_p256(pub));
    assert_non_null(ekey_jwk_verify_ctx(pub));
    assert_int_equal(ekey_jws_verify(signed_by(p, gen), pub, NULL), EKEY_OK);
    rmdir(dir);
}

/* ------------------------------------------------ minting without jansson */

/* ekey_json_quote against jansson itself: every ASCII byte, multi-byte UTF-8, and the
 * sequences jansson refuses (overlong, surrogate, above U+10FFFF, stray and cut bytes). */
static void test_json_quote_is_jansson(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const cases[] = {
        "", "plain", "a\"b\\c/d", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
        "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80",
        "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80",
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\x80", "a\xe2\x82", "\xe2\x82", "x\xc3",
    };
    char buf[2];
    apr_size_t i;
    int c;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]) + 255; i++) {
        const char *in = i < sizeof(cases) / sizeof(cases[0]) ? cases[i] : buf;
        json_t *j;
        char *want = NULL, *got;

        if (in == buf) {
            c = (int)(i - sizeof(cases) / sizeof(cases[0])) + 1;      /* 1 .. 255 */
            buf[0] = (char)c;
            buf[1] = '\0';
        }
        j = json_string(in);
        if (j != NULL)
            want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        got = ekey_json_quote(p, in);
        if (want == NULL)
            assert_null(got);
        else
            assert_string_equal(got, want);
        free(want);
        json_decref(j);
    }
}

/* The minted header and claims are byte for byte what the jansson-built ones were. */
static void test_mint_json_is_jansson(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const subs[] = { "agent", "a\"b\\c", "\xc3\xa9l\xc3\xa8ve \xe2\x82\xac",
                                        "\xf0\x9f\x98\x80/x" };
    ekey_mint_t m;
    ekey_jws_t *jws;
    json_t *hdr, *c, *cap, *cnf;
    unsigned char *pl;
    apr_size_t n, i;
    fixture_t f;
    char *tok;
    int b;

    fixture(&f, p);
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        for (b = 0; b < 2; b++) {
            memset(&m, 0, sizeof(m));
            m.iss = "https://iss.example/\xc3\xa9\"";
            m.sub = subs[i];
            m.aud = "aud\\x";
            m.action = "POST:/pay";
            m.limit = 7;
            m.now = NOW;
            m.ttl = 30;
            m.bind = b ? EKEY_BIND_MTLS : EKEY_BIND_DPOP;
            m.jkt = ekey_jwk_thumbprint(f.client);
            m.x5t = ekey_jwk_thumbprint(f.priv);
            m.trace = "AAAAAAAAAAAAAAAAAAAAAA";
            assert_int_equal(ekey_token_mint(&tok, NULL, p, &m, f.priv, NULL), EKEY_OK);
            assert_int_equal(ekey_jws_parse(&jws, p, tok, strlen(tok), 0, EKEY_ALGS_ALL, 0,
                                            NULL), EKEY_OK);
            hdr = ekey_json_own(p, json_pack("{s:s,s:s,s:s}", "alg", "ES256", "typ",
                                             EKEY_TYP_TOKEN, "kid",
                                             ekey_jwk_thumbprint(f.priv)));
            assert_int_equal(ekey_b64url_decode(&pl, &n, p, jws->signing_input,
                                                (apr_size_t)(strchr(jws->signing_input, '.')
                                                             - jws->signing_input), NULL),
                             EKEY_OK);
            assert_string_equal((const char *)pl, ekey_json_dump(p, hdr));
            assert_int_equal(ekey_b64url_decode(&pl, &n, p, jws->payload_b64,
                                                jws->payload_b64_len, NULL), EKEY_OK);
            cap = json_pack("{s:s,s:I}", "action", m.action, "limit", (json_int_t)m.limit);
            cnf = json_pack("{s:s}", b ? "x5t#S256" : "jkt", b ? m.x5t : m.jkt);
            c = ekey_json_own(p, json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:o,s:o}", "iss", m.iss,
                                           "sub", m.sub, "aud", m.aud, "iat", (json_int_t)NOW,
                                           "exp", (json_int_t)(NOW + 30), "trace", m.trace,
                                           "cap", cap, "cnf", cnf));
            assert_non_null(c);
            assert_string_equal((const char *)pl, ekey_json_dump(p, c));
        }
    }
    /* a claim that is not UTF-8: refused, as jansson refused it */
    m.sub = "bad\xc3";
    assert_int_equal(ekey_token_mint(&tok, NULL, p, &m, f.priv, NULL), EKEY_E_INVALID_ARG);
    assert_null(tok);
}

/* ------------------------------------------------ reading without jansson */

/* jansson's own reading, as json.c asked it before json_fast.c */
static json_t *jansson_reads(const char *doc, apr_size_t len)
{
    return json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
}

/* The quick reader accepts doc, and its value is jansson's. */
static void assert_fast_is_jansson(const char *doc, apr_size_t len)
{
    json_t *fast = ekey_json_fast(doc, len), *slow = jansson_reads(doc, len);

    if (fast == NULL || slow == NULL || !json_equal(fast, slow))
        fail_msg("quick reader %s, jansson %s: %.*s", fast ? "accepts" : "declines",
                 slow ? "accepts" : "refuses", (int)len, doc);
    json_decref(fast);
    json_decref(slow);
}

static char *b64_payload(apr_pool_t *p, const char *compact, apr_size_t *n)
{
    const char *dot1 = strchr(compact, '.'), *dot2 = strchr(dot1 + 1, '.');
    unsigned char *pl;

    assert_int_equal(ekey_b64url_decode(&pl, n, p, dot1 + 1, (apr_size_t)(dot2 - dot1 - 1),
                                        NULL), EKEY_OK);
    return (char *)pl;
}

/* What the request and minting paths read every time takes the quick reader: a token's
 * claims, a proof's header and claims, a minting request, a JWKS. */
static void test_json_fast_reads_protocol_documents(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char body[] =
        "{\"sub\":\"bench-client-0\",\"aud\":\"https://api.bench\",\"ttl\":900,\"bind\":\"DPoP\","
        "\"cap\":{\"action\":\"GET:/api/item\",\"limit\":1},\"jwk\":{\"kty\":\"EC\",\"crv\":"
        "\"P-256\",\"x\":\"_JZX5Tn5LHgsWUqOsAo4N_fd5vKCMcrrLNjUFFsGehs\",\"y\":"
        "\"bUBvrr1j5vvJXPPlD6wzKJ1eG55JwpUeUfzqYgGwt4k\"}}";
    fixture_t f;
    char *tok, *proof, *doc;
    const char *jwks;
    apr_size_t n;
    unsigned char *hdr;

    fixture(&f, p);
    tok = mint(p, &f, f.priv, 3);
    doc = b64_payload(p, tok, &n);
    assert_fast_is_jansson(doc, n);
    assert_int_equal(ekey_dpop_create(&proof, p, f.client, "POST", "https://api.example/x?q=1",
                                      "n0nce", tok, NOW, NULL), EKEY_OK);
    doc = b64_payload(p, proof, &n);
    assert_fast_is_jansson(doc, n);
    assert_int_equal(ekey_b64url_decode(&hdr, &n, p, proof,
                                        (apr_size_t)(strchr(proof, '.') - proof), NULL), EKEY_OK);
    assert_fast_is_jansson((const char *)hdr, n);
    assert_fast_is_jansson(body, sizeof(body) - 1);
    jwks = apr_psprintf(p, "{\"keys\":[%s,%s]}",
                        ekey_json_dump(p, ekey_jwk_to_json(f.priv, p, 1)),
                        ekey_json_dump(p, ekey_jwk_to_json(f.client, p, 1)));
    assert_fast_is_jansson(jwks, strlen(jwks));
}

/* The subset's corners: every escape it decodes, empty names and values, 18-digit and
 * negative integers, -0, DEL, whitespace wherever JSON allows it, nesting at the limit. */
static void test_json_fast_subset_is_jansson(void **state)
{
    static const char *const docs[] = {
        "{}", " \t\r\n{ } \n", "{\"\":\"\"}", "{\"a\":[]}", "{\"a\":{}}",
        "{\"e\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", "{\"k\\n\\\"\":1}",
        "{\"n\":-0,\"m\":0,\"p\":999999999999999999,\"q\":-999999999999999999}",
        "{\"t\":true,\"f\":false,\"z\":null,\"a\":[true,false,null,1,\"s\",{\"x\":[]}]}",
        "{\"d\":\"\x7f~ !\"}", "{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }",
        "{\"1\":{\"2\":{\"3\":{\"4\":{\"5\":{\"6\":{\"7\":[1]}}}}}}}",
        "{\"a\":1,\"A\":2,\"a \":3}",
    };
    apr_size_t i;

    (void)state;
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        assert_fast_is_jansson(docs[i], strlen(docs[i]));
}

/* Outside the subset, valid or not, the quick reader declines, and ekey_json_parse answers
 * what jansson answers: \u escapes, UTF-8, reals, long integers, duplicate members and
 * every kind of broken JSON. */
static void test_json_fast_declines_the_rest(void **state)
{
    apr_pool_t *p = EKEY_TEST_POOL(state);
    static const char *const docs[] = {
        /* valid JSON, jansson's to read */
        "{\"u\":\"\\u0041\"}", "{\"\\u00e9\":1}", "{\"s\":\"\xc3\xa9\"}", "{\"r\":1.5}",
        "{\"r\":1e3}", "{\"r\":-2E-1}", "{\"i\":1234567890123456789}",
        "{\"i\":-9223372036854775808}",
        /* invalid: jansson refuses */
        "", " ", "[]", "[1]", "\"s\"", "1", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
        "{,}", "{\"a\":1 \"b\":2}", "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":01}", "{\"a\":-}",
        "{\"a\":-a}", "{\"a\":+1}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":truex}",
        "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}", "{\"a\":1a}", "{\"a\":[1,]}",
        "{\"a\":[1 2]}", "{\"a\":\"x}", "{\"a\":\"\\x\"}", "{\"a\":\"\\\"}",
        "{\"a\":\"tab\there\"}", "{\"a\":\"\x01\"}", "{\"a\":1,\"a\":2}",
        "{\"a\":{\"b\":1,\"b\":1}}", "{\"a\\n\":1,\"a\\u000a\":2}", "{a:1}", "{'a':1}",
        "{\"a\":\"\\u0000\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc3\"}", "{\"a\" 1}",
        "{\"a\"::1}", "{\"a\":1}\x0b", "\xef\xbb\xbf{}", "{\"a\":NaN}", "{\"a\":Infinity}",
        "{\"a\":1e999}",
    };
    apr_size_t i;

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        apr_size_t n = strlen(docs[i]);
        json_t *slow = jansson_reads(docs[i], n), *got = NULL;
        ekey_status_t st = ekey_json_parse(&got, p, docs[i], n, 0, NULL);
        json_t *fast = ekey_json_fast(docs[i], n);

        if (fast != NULL)
            fail_msg("quick reader accepts %s", docs[i]);
        if (json_is_object(slow) ? st != EKEY_OK || !json_equal(got, slow)
                                 : st != EKEY_E_JSON || got != NULL)
            fail_msg("ekey_json_parse and jansson differ on %s", docs[i]);
        json_decref(slow);
    }
    /* nesting: 8 levels read quickly, 9 never (json.c's prescan refuses them first) */
    assert_fast_is_jansson("{\"a\":[[[[[[[1]]]]]]]}", 21);
    assert_null(ekey_json_fast("{\"a\":[[[[[[[[1]]]]]]]]}", 23));
}

/* Documents cut and mutated at every byte: whatever the quick reader accepts, jansson
 * accepts with an equal value (the property tests/fuzz/fuzz_json.c checks on all inputs). */
static void test_json_fast_mutations(void **state)
{
    static const char seed[] =
        "{\"iss\":\"https://i.example\",\"n\":[1,-20,{\"t\":true,\"f\":false}],\"z\":null,"
        "\"e\":\"a\\\"b\\\\c\\/d\\n\",\"x\":{}}";
    static const char bytes[] = "{}[],:\"\\-0123456789.eE+tfnulrsa \t\n\x01\x7f\x80\xc3";
    char doc[sizeof(seed)];
    apr_size_t len = sizeof(seed) - 1, i, k, accepted = 0;
    json_t *fast, *slow;

    (void)state;
    for (i = 0; i <= len; i++) {                        /* every prefix */
        fast = ekey_json_fast(seed, i);
        slow = jansson_reads(seed, i);
        assert_true(fast == NULL || (slow != NULL && json_equal(fast, slow)));
        accepted += fast != NULL;
        json_decref(fast);
        json_decref(slow);
    }
    assert_int_equal(accepted, 1);                      /* only the whole document */
    accepted = 0;
    for (i = 0; i < len; i++) {                         /* every byte, every replacement */
        for (k = 0; k < sizeof(bytes) - 1; k++) {
            memcpy(doc, seed, len);
            doc[i] = bytes[k];
            fast = ekey_json_fast(doc, len);
            slow = jansson_reads(doc, len);
            if (fast != NULL && (slow == NULL || !json_equal(fast, slow)))
                fail_msg("differs from jansson: %.*s", (int)len, doc);
            accepted += fast != NULL;
            json_decref(fast);
            json_decref(slow);
        }
    }
    assert_true(accepted > len);                        /* the harmless changes stay quick */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_der_edges),
        EKEY_TEST(test_prepared_contexts_from_pem),
        EKEY_TEST(test_json_quote_is_jansson),
        EKEY_TEST(test_mint_json_is_jansson),
        EKEY_TEST(test_json_fast_reads_protocol_documents),
        EKEY_TEST(test_json_fast_subset_is_jansson),
        EKEY_TEST(test_json_fast_declines_the_rest),
        EKEY_TEST(test_json_fast_mutations),
    };

    return ekey_test_main(tests);
}
