/* test_spiffe.c - the SPIFFE ID grammar of an SVID's URI SAN (EKEY_SPIFFE_ID, EKeySpiffeSubject). */
#include "ekey_test.h"

typedef struct {
    const char *id;
    int ok;
} spiffe_case_t;

static const spiffe_case_t spiffe_cases[] = {
    { "spiffe://example.org/agent-123", 1 },
    { "spiffe://example.org", 1 },
    { "spiffe://prod.example_1-a/ns/payments/sa/Web.2", 1 },
    /* the scheme and trust domain are lowercase; no port, userinfo, query, fragment */
    { "SPIFFE://example.org/a", 0 },
    { "Spiffe://example.org/a", 0 },
    { "spiffe://Example.org/a", 0 },
    { "spiffe://example.org:443/a", 0 },
    { "spiffe://user@example.org/a", 0 },
    { "spiffe://example.org/a?x=1", 0 },
    { "spiffe://example.org/a#f", 0 },
    /* segments: no empty, ".", "..", trailing "/", escapes or other characters */
    { "spiffe://example.org/", 0 },
    { "spiffe://example.org//a", 0 },
    { "spiffe://example.org/a/", 0 },
    { "spiffe://example.org/./a", 0 },
    { "spiffe://example.org/a/..", 0 },
    { "spiffe://example.org/a%2Fb", 0 },
    { "spiffe://example.org/a b", 0 },
    { "spiffe://example.org/a\\b", 0 },
    { "spiffe://example.org/caf\xc3\xa9", 0 },
    /* no trust domain, or none at all */
    { "spiffe://", 0 },
    { "spiffe:///a", 0 },
    { "spiffe:/example.org/a", 0 },
    { "https://example.org/a", 0 },
    { "", 0 },
};

static void test_spiffe_table(void **state)
{
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(spiffe_cases) / sizeof(spiffe_cases[0]); i++)
        if (ekey_spiffe_id_valid(spiffe_cases[i].id, strlen(spiffe_cases[i].id))
            != spiffe_cases[i].ok)
            fail_msg("case %zu '%s': want %d", i, spiffe_cases[i].id, spiffe_cases[i].ok);
}

static void test_spiffe_limits(void **state)
{
    char buf[2100], td[300];
    const char nul[] = "spiffe://example.org/agent-123\0.evil";
    (void)state;

    /* a NUL inside the bytes is not the end of the ID */
    assert_int_equal(ekey_spiffe_id_valid(nul, sizeof(nul) - 1), 0);
    assert_int_equal(ekey_spiffe_id_valid(nul, strlen(nul)), 1);
    assert_int_equal(ekey_spiffe_id_valid(NULL, 5), 0);
    /* 2048 bytes at most, a trust domain of 255 at most */
    memcpy(buf, "spiffe://td/", 12);
    memset(buf + 12, 'a', sizeof(buf) - 12);
    assert_int_equal(ekey_spiffe_id_valid(buf, 2048), 1);
    assert_int_equal(ekey_spiffe_id_valid(buf, 2049), 0);
    memcpy(td, "spiffe://", 9);
    memset(td + 9, 'a', sizeof(td) - 9);
    assert_int_equal(ekey_spiffe_id_valid(td, 9 + 255), 1);
    assert_int_equal(ekey_spiffe_id_valid(td, 9 + 256), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        EKEY_TEST(test_spiffe_table),
        EKEY_TEST(test_spiffe_limits),
    };
    return ekey_test_main(tests);
}
