/*
 * test_client.c - the public client API (ekey_client.h): token request body, minting proof,
 * reading the issuer's answer, resource-request proofs, error answers, the capability of a
 * URL. Every proof the client makes is checked by the server side of the core
 * (ekey_dpop_verify, ekey_token_verify), so client and server cannot drift apart.
 */
#include "proto_test.h"
#include "ekey_client.h"

#define NOW     1700000000
#define ISS     "https://issuer.example"
#define AUD     "https://api.example.com"
#define URL     "https://API.example.com:443/payments?x=1#f"
#define HTU     "https://api.example.com/payments"
#define TOKURL  "https://issuer.example/token"

typedef struct {
    apr_pool_t *p;
    ekey_jwk_t *client, *other, *issuer;
} fx_t;

static int fx_setup(void **state)
{
    apr_pool_t *p;
    fx_t *f;

    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    f = apr_pcalloc(p, sizeof(*f));
    f->p = p;
    if (ekey_jwk_generate(&f->client, p, EKEY_ALG_ES256, NULL) != EKEY_OK
        || ekey_jwk_generate(&f->other, p, EKEY_ALG_ES256, NULL) != EKEY_OK
        || ekey_jwk_generate(&f->issuer, p, EKEY_ALG_ES256, NULL) != EKEY_OK)
        return -1;
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    apr_pool_destroy(((fx_t *)*state)->p);
    return 0;
}

#define FX(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

/* A real token, minted by the core as the issuer module does. */
static char *mint(fx_t *f, ekey_bind_t bind, apr_int64_t limit)
{
    ekey_mint_t m;
    char *tok;

    memset(&m, 0, sizeof(m));
    m.iss = ISS;
    m.sub = "agent-123";
    m.aud = AUD;
    m.action = "POST:/payments";
    m.limit = limit;
    m.now = NOW;
    m.ttl = 30;
    m.bind = bind;
    if (bind == EKEY_BIND_DPOP)
        m.jkt = ekey_jwk_thumbprint(f->client);
    else
        m.x5t = "Ovl4tx3vaqYq4CPn0UePSq0m3XHTRUVx8Nb0-hHq6Ys";
    assert_int_equal(ekey_token_mint(&tok, NULL, f->p, &m, f->issuer, NULL), EKEY_OK);
    return tok;
}

static void test_request_body_dpop(void **state)
{
    fx_t *f = *state;
    ekey_client_request_t rq = { "agent-123", AUD, "POST:/payments", 3, 20, EKEY_BIND_DPOP };
    char *body;
    json_t *o, *jwk;
    const char *tp;

    assert_int_equal(ekey_client_request_body(&body, f->p, &rq, f->client, NULL), EKEY_OK);
    /* the prototype's member order, so issuers and logs see the familiar shape */
#define BODY_PREFIX "{\"sub\":\"agent-123\",\"aud\":\"" AUD "\",\"ttl\":20,\"bind\":\"DPoP\"," \
                    "\"cap\":{\"action\":\"POST:/payments\",\"limit\":3},\"jwk\":{"
    assert_int_equal(strncmp(body, BODY_PREFIX, strlen(BODY_PREFIX)), 0);
    o = pt_json(f->p, body);
    jwk = json_object_get(o, "jwk");
    /* only the public half leaves the client, and it is the key the token will be bound to */
    assert_null(json_object_get(jwk, "d"));
    assert_int_equal(ekey_jwk_thumbprint_json(&tp, f->p, jwk, NULL), EKEY_OK);
    assert_string_equal(tp, ekey_jwk_thumbprint(f->client));
}

static void test_request_body_mtls_and_defaults(void **state)
{
    fx_t *f = *state;
    ekey_client_request_t rq = { "agent-123", AUD, "GET:/reports/q1", 0, 0, EKEY_BIND_MTLS };
    char *body;

    /* mTLS: no jwk even when a key is given; 0 limit and ttl: the issuer's defaults */
    assert_int_equal(ekey_client_request_body(&body, f->p, &rq, f->client, NULL), EKEY_OK);
    assert_string_equal(body, "{\"sub\":\"agent-123\",\"aud\":\"" AUD "\",\"bind\":\"mTLS\","
                              "\"cap\":{\"action\":\"GET:/reports/q1\"}}");
}

static void test_request_body_refusals(void **state)
{
    fx_t *f = *state;
    static const ekey_client_request_t bad[] = {
        { NULL, AUD, "POST:/payments", 0, 0, EKEY_BIND_DPOP },
        { "", AUD, "POST:/payments", 0, 0, EKEY_BIND_DPOP },
        { "a", NULL, "POST:/payments", 0, 0, EKEY_BIND_DPOP },
        { "a", AUD, NULL, 0, 0, EKEY_BIND_DPOP },
        { "a", AUD, "post:/payments", 0, 0, EKEY_BIND_DPOP },
        { "a", AUD, "POST:/a/../b", 0, 0, EKEY_BIND_DPOP },
        { "a", AUD, "POST:/payments?x=1", 0, 0, EKEY_BIND_DPOP },
        { "a", AUD, "POST:/payments", -1, 0, EKEY_BIND_DPOP },
        { "a", AUD, "POST:/payments", 0, -5, EKEY_BIND_DPOP },
        { "a", AUD, "POST:/payments", 0, 0, EKEY_BIND_NONE },
        { "\xff\xfe", AUD, "POST:/payments", 0, 0, EKEY_BIND_DPOP },
    };
    ekey_client_request_t nokey = { "a", AUD, "POST:/payments", 0, 0, EKEY_BIND_DPOP };
    ekey_error_t err;
    char *body;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        body = (char *)"x";
        assert_int_equal(ekey_client_request_body(&body, f->p, &bad[i], f->client, &err),
                         EKEY_E_INVALID_ARG);
        assert_null(body);
        assert_int_equal(err.status, EKEY_E_INVALID_ARG);
    }
    /* DPoP needs the key whose public half is sent */
    assert_int_equal(ekey_client_request_body(&body, f->p, &nokey, NULL, NULL),
                     EKEY_E_INVALID_ARG);
    assert_null(body);
    assert_int_equal(ekey_client_request_body(&body, f->p, NULL, f->client, NULL),
                     EKEY_E_INVALID_ARG);
}

static void test_mint_proof_verifies(void **state)
{
    fx_t *f = *state;
    ekey_dpop_check_t chk;
    ekey_dpop_t *d;
    char *proof;
    json_t *c;

    assert_int_equal(ekey_client_mint_proof(&proof, f->p, f->client, TOKURL, NOW, NULL),
                     EKEY_OK);
    memset(&chk, 0, sizeof(chk));
    chk.method = "POST";
    chk.htu = TOKURL;
    chk.jkt = ekey_jwk_thumbprint(f->client);
    chk.now = NOW;
    chk.max_age = 60;
    chk.skew = 30;
    assert_int_equal(ekey_dpop_verify(&d, f->p, proof, strlen(proof), &chk, NULL), EKEY_OK);
    /* a minting proof has no ath and no nonce: there is no token yet */
    c = pt_json(f->p, pt_segment(f->p, proof, 1));
    assert_null(json_object_get(c, "ath"));
    assert_null(json_object_get(c, "nonce"));
    /* and it proves nothing for another URL */
    chk.htu = "https://issuer.example/other";
    assert_int_equal(ekey_dpop_verify(&d, f->p, proof, strlen(proof), &chk, NULL),
                     EKEY_E_PROOF_HTU);
}

/* The whole client flow against the core's verifier: answer -> token facts -> proof. */
static void test_answer_then_proof_verifies(void **state)
{
    fx_t *f = *state;
    char *tok = mint(f, EKEY_BIND_DPOP, 2), *proof;
    const char *answer = apr_psprintf(f->p, "{\"token\":\"%s\",\"token_type\":\"EKey\","
                                      "\"expires_in\":30}", tok);
    ekey_client_token_t *t;
    ekey_keyset_t *ks = ekey_keyset_make(f->p);
    ekey_token_policy_t pol;
    ekey_token_t *v;
    ekey_dpop_check_t chk;
    ekey_dpop_t *d;

    assert_int_equal(ekey_client_token_parse(&t, f->p, answer, strlen(answer), f->client, NULL),
                     EKEY_OK);
    assert_string_equal(t->token, tok);
    assert_string_equal(t->sub, "agent-123");
    assert_string_equal(t->aud, AUD);
    assert_string_equal(t->action, "POST:/payments");
    assert_int_equal(t->limit, 2);
    assert_int_equal(t->iat, NOW);
    assert_int_equal(t->exp, NOW + 30);
    assert_int_equal(t->bind, EKEY_BIND_DPOP);
    assert_string_equal(t->jkt, ekey_jwk_thumbprint(f->client));
    assert_null(t->x5t);

    assert_int_equal(ekey_client_proof(&proof, f->p, f->client, "POST", URL, t->token, NOW + 1,
                                       NULL), EKEY_OK);
    /* the server side: the token verifies, and the proof with ath, nonce = trace, htu */
    assert_int_equal(ekey_keyset_add(ks, f->issuer, NULL), EKEY_OK);
    memset(&pol, 0, sizeof(pol));
    pol.keys = ks;
    pol.issuer = ISS;
    pol.audience = AUD;
    pol.now = NOW + 1;
    pol.skew = 30;
    assert_int_equal(ekey_token_verify(&v, f->p, tok, strlen(tok), &pol, NULL), EKEY_OK);
    assert_string_equal(v->trace, t->trace);
    memset(&chk, 0, sizeof(chk));
    chk.method = "POST";
    chk.htu = HTU;
    chk.ath = v->ath;
    chk.nonce = v->trace;
    chk.jkt = v->jkt;
    chk.now = NOW + 1;
    chk.max_age = 60;
    chk.skew = 30;
    assert_int_equal(ekey_dpop_verify(&d, f->p, proof, strlen(proof), &chk, NULL), EKEY_OK);
    /* the method is bound too */
    chk.method = "GET";
    assert_int_equal(ekey_dpop_verify(&d, f->p, proof, strlen(proof), &chk, NULL),
                     EKEY_E_PROOF_HTM);
}

static void test_answer_bound_to_other_key(void **state)
{
    fx_t *f = *state;
    char *tok = mint(f, EKEY_BIND_DPOP, 1);
    const char *answer = apr_psprintf(f->p, "{\"token\":\"%s\"}", tok);
    ekey_client_token_t *t = (ekey_client_token_t *)f;
    ekey_error_t err;

    assert_int_equal(ekey_client_token_parse(&t, f->p, answer, strlen(answer), f->other, &err),
                     EKEY_E_PROOF_JKT);
    assert_null(t);
    assert_string_equal(err.where, "client.answer");
    /* without a key to compare, the answer is read as it is */
    assert_int_equal(ekey_client_token_parse(&t, f->p, answer, strlen(answer), NULL, NULL),
                     EKEY_OK);
    assert_int_equal(t->limit, 1);
}

static void test_answer_mtls(void **state)
{
    fx_t *f = *state;
    char *tok = mint(f, EKEY_BIND_MTLS, 1);
    ekey_client_token_t *t;

    /* an mTLS token is never checked against the DPoP key */
    assert_int_equal(ekey_client_token_read(&t, f->p, tok, NULL), EKEY_OK);
    assert_int_equal(t->bind, EKEY_BIND_MTLS);
    assert_null(t->jkt);
    assert_string_equal(t->x5t, "Ovl4tx3vaqYq4CPn0UePSq0m3XHTRUVx8Nb0-hHq6Ys");
    assert_int_equal(ekey_client_token_parse(&t, f->p, apr_psprintf(f->p, "{\"token\":\"%s\"}",
                     tok), strlen(tok) + 12, f->client, NULL), EKEY_OK);
}

static void test_answer_refusals(void **state)
{
    fx_t *f = *state;
    static const struct { const char *body; ekey_status_t st; } cases[] = {
        { "not json", EKEY_E_JSON },
        { "[\"token\"]", EKEY_E_JSON },
        { "{\"token\":1}", EKEY_E_CLAIMS },
        { "{\"trace\":\"x\"}", EKEY_E_CLAIMS },
        { "{\"token\":\"a.b\"}", EKEY_E_FORMAT },
        { "{\"token\":\"a.b.c.d\"}", EKEY_E_FORMAT },
        { "{\"token\":\"e30.e30.c2ln\"}", EKEY_E_CLAIMS },        /* {} payload: no trace */
        { "{\"token\":\"e30.e30.c2l=\"}", EKEY_E_BASE64 },
        { "{\"token\":\"x\",\"token\":\"y\"}", EKEY_E_JSON },     /* duplicate member */
    };
    ekey_client_token_t *t;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = (ekey_client_token_t *)f;
        assert_int_equal(ekey_client_token_parse(&t, f->p, cases[i].body,
                                                 strlen(cases[i].body), NULL, NULL),
                         cases[i].st);
        assert_null(t);
    }
    /* a payload with a trace but cnf with both members */
    t = (ekey_client_token_t *)f;
    assert_int_equal(ekey_client_token_read(&t, f->p, apr_pstrcat(f->p, pt_b64(f->p, "{}"), ".",
                     pt_b64(f->p, "{\"trace\":\"t\",\"exp\":1,\"cap\":{\"action\":\"GET:/\"},"
                            "\"cnf\":{\"jkt\":\"a\",\"x5t#S256\":\"b\"}}"), ".c2ln", NULL), NULL),
                     EKEY_E_CNF);
    assert_null(t);
}

static void test_proof_refusals(void **state)
{
    fx_t *f = *state;
    char *proof = (char *)"x";

    assert_int_equal(ekey_client_proof(&proof, f->p, f->client, "POST", URL, "a.b", NOW, NULL),
                     EKEY_E_FORMAT);
    assert_null(proof);
    assert_int_equal(ekey_client_proof(&proof, f->p, NULL, "POST", URL, mint(f, EKEY_BIND_DPOP,
                                       1), NOW, NULL), EKEY_E_INVALID_ARG);
    assert_null(proof);
    assert_int_equal(ekey_client_proof(&proof, f->p, f->client, "POST", "ftp://x/payments",
                                       mint(f, EKEY_BIND_DPOP, 1), NOW, NULL), EKEY_E_INVALID_ARG);
    assert_null(proof);
}

static void test_error_parse(void **state)
{
    fx_t *f = *state;
    const char *code, *msg;
    static const char ok[] = "{\"error\":\"replay_detected\",\"message\":\"used up\"}";
    static const char odd[] = "{\"error\":42,\"message\":\"text only\"}";
    static const char none[] = "{\"status\":\"paid\"}";

    assert_int_equal(ekey_client_error_parse(&code, &msg, f->p, ok, strlen(ok), NULL), EKEY_OK);
    assert_string_equal(code, "replay_detected");
    assert_string_equal(msg, "used up");
    /* a member of another type is absent, not an error: it only feeds a message */
    assert_int_equal(ekey_client_error_parse(&code, &msg, f->p, odd, strlen(odd), NULL),
                     EKEY_OK);
    assert_null(code);
    assert_string_equal(msg, "text only");
    assert_int_equal(ekey_client_error_parse(&code, &msg, f->p, none, strlen(none), NULL),
                     EKEY_E_JSON);
    assert_int_equal(ekey_client_error_parse(&code, &msg, f->p, "<html>", 6, NULL), EKEY_E_JSON);
    assert_null(code);
    assert_null(msg);
    assert_int_equal(ekey_client_error_parse(&code, &msg, f->p, NULL, 0, NULL),
                     EKEY_E_INVALID_ARG);
}

static void test_action(void **state)
{
    fx_t *f = *state;
    const char *a, *origin;

    assert_int_equal(ekey_client_action(&a, &origin, f->p, "POST", URL, NULL), EKEY_OK);
    assert_string_equal(a, "POST:/payments");
    assert_string_equal(origin, "https://api.example.com");
    assert_int_equal(ekey_client_action(&a, NULL, f->p, "GET", "http://h:8080", NULL), EKEY_OK);
    assert_string_equal(a, "GET:/");
    assert_int_equal(ekey_client_action(&a, &origin, f->p, "GET", "http://h:8080/%7Ex", NULL),
                     EKEY_OK);
    assert_string_equal(a, "GET:/~x");
    assert_string_equal(origin, "http://h:8080");
    /* what no capability can name */
    assert_int_not_equal(ekey_client_action(&a, &origin, f->p, "post", URL, NULL), EKEY_OK);
    assert_null(a);
    assert_int_not_equal(ekey_client_action(&a, &origin, f->p, "GET", "ftp://h/x", NULL),
                         EKEY_OK);
    assert_null(a);
    assert_null(origin);
    assert_int_not_equal(ekey_client_action(&a, &origin, f->p, "GET", "http://h/a//b", NULL),
                         EKEY_OK);
    assert_int_equal(ekey_client_action(NULL, NULL, f->p, "GET", URL, NULL), EKEY_E_INVALID_ARG);
}

static void test_jws_peek(void **state)
{
    fx_t *f = *state;
    char *tok = mint(f, EKEY_BIND_DPOP, 1);
    json_t *h = (json_t *)f, *c = (json_t *)f;

    assert_int_equal(ekey_jws_peek(&h, &c, f->p, tok, strlen(tok), 0, NULL), EKEY_OK);
    assert_string_equal(json_string_value(json_object_get(h, "typ")), "ekey+jwt");
    assert_string_equal(json_string_value(json_object_get(c, "sub")), "agent-123");
    /* a forged signature still peeks: peeking is not verifying */
    assert_int_equal(ekey_jws_peek(NULL, &c, f->p, pt_flip_s(f->p, tok), strlen(tok), 0, NULL),
                     EKEY_OK);
    assert_int_equal(ekey_jws_peek(&h, &c, f->p, tok, strlen(tok), 16, NULL), EKEY_E_TOO_LARGE);
    assert_null(h);
    assert_null(c);
    assert_int_equal(ekey_jws_peek(&h, &c, f->p, "e30.e30.", 8, 0, NULL), EKEY_E_BASE64);
    assert_int_equal(ekey_jws_peek(&h, &c, f->p, ".e30.c2ln", 9, 0, NULL), EKEY_E_FORMAT);
    assert_int_equal(ekey_jws_peek(&h, &c, f->p, "W10.e30.c2ln", 12, 0, NULL), EKEY_E_JSON);
    assert_null(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX(test_request_body_dpop),
        FX(test_request_body_mtls_and_defaults),
        FX(test_request_body_refusals),
        FX(test_mint_proof_verifies),
        FX(test_answer_then_proof_verifies),
        FX(test_answer_bound_to_other_key),
        FX(test_answer_mtls),
        FX(test_answer_refusals),
        FX(test_proof_refusals),
        FX(test_error_parse),
        FX(test_action),
        FX(test_jws_peek),
    };
    return ekey_test_main(tests);
}
