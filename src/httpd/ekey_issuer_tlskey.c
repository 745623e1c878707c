/*
 * ekey_issuer_tlskey.c - a signing key is never also a TLS key of this httpd.
 *
 * mod_ssl signs a handshake for anyone who connects, with the key of SSLCertificateKeyFile;
 * the same key signing E-Keys would turn any weakness of the TLS stack (a signing oracle,
 * a leaked key file readable by more people) into forged tokens (SECURITY-CASES ISS-20,
 * EKEY_SPEC 3.2). mod_ssl keeps its configuration to itself, so the files its directives
 * name are read from the configuration tree and their public keys compared by thumbprint.
 */
#include <stdio.h>
#include <strings.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "ekey_issuer.h"

APLOG_USE_MODULE(ekey_issuer);

/* The RFC 7638 thumbprint of the public key in a PEM file (a key, or a certificate's), or
 * NULL (another kind of key, a PKCS#11 URI, an unreadable file: mod_ssl judges those). */
static const char *file_thumbprint(apr_pool_t *p, const char *path)
{
    ekey_jwk_t *k = NULL;
    ekey_error_t err = { 0 };
    X509 *x = NULL;
    FILE *f;

    if (ekey_jwk_load_pem(&k, p, path, 0, &err) == EKEY_OK)
        return ekey_jwk_thumbprint(k);
    if ((f = fopen(path, "r")) != NULL) {
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (x != NULL && ekey_jwk_from_pkey(&k, p, X509_get0_pubkey(x), &err) != EKEY_OK)
        k = NULL;
    X509_free(x);
    ERR_clear_error();
    return k != NULL ? ekey_jwk_thumbprint(k) : NULL;
}

/* Thumbprints of every SSLCertificateFile / SSLCertificateKeyFile key, anywhere in the tree. */
static void tls_keys(apr_pool_t *p, const ap_directive_t *d, apr_hash_t *out)
{
    const char *args, *file, *thumb;

    for (; d != NULL; d = d->next) {
        if (strcasecmp(d->directive, "SSLCertificateFile") == 0
            || strcasecmp(d->directive, "SSLCertificateKeyFile") == 0) {
            args = d->args;
            file = ap_server_root_relative(p, ap_getword_conf(p, &args));
            if (file != NULL && (thumb = file_thumbprint(p, file)) != NULL)
                apr_hash_set(out, thumb, APR_HASH_KEY_STRING, file);
        }
        tls_keys(p, d->first_child, out);
    }
}

int ekey_iss_check_tls_keys(apr_pool_t *ptemp, const apr_array_header_t *signers,
                            const char *section)
{
    apr_hash_t *tls = apr_hash_make(ptemp);
    const char *thumb, *file;
    int i;

    tls_keys(ptemp, ap_conftree, tls);
    for (i = 0; signers != NULL && i < signers->nelts; i++) {
        thumb = ekey_jwk_thumbprint(APR_ARRAY_IDX(signers, i, const ekey_jwk_t *));
        if ((file = apr_hash_get(tls, thumb, APR_HASH_KEY_STRING)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL, "EKEY00202: the "
                         "E-Key issuer section %s signs with the key of %s, which mod_ssl "
                         "also uses for TLS: give the issuer a key of its own", section, file);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}
