/*
 * ekey_issuer_tlskey.c - a signing key is never also a TLS key of this httpd.
 *
 * mod_ssl signs a handshake for anyone who connects, with the key of SSLCertificateKeyFile;
 * the same key signing E-Keys would turn any weakness of the TLS stack (a signing oracle,
 * a leaked key file readable by more people) into forged tokens (SECURITY-CASES ISS-20,
 * EKEY_SPEC 3.2). mod_ssl keeps its configuration to itself, so the files its directives
 * name are read from the configuration tree and their keys compared (EVP_PKEY_eq).
 */
#include <strings.h>
#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "ekey_issuer.h"

APLOG_USE_MODULE(ekey_issuer);

/* An encrypted key file is not asked for its passphrase here (mod_ssl asks, later). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

/* The key in a PEM file (a public or private key, or a certificate's): the caller frees it.
 * NULL for what is none of these (a PKCS#11 URI, an unreadable file: mod_ssl judges those). */
static EVP_PKEY *file_key(const char *path)
{
    BIO *bio = BIO_new_file(path, "r");
    EVP_PKEY *k = NULL;
    X509 *x = NULL;

    if (bio == NULL)
        return NULL;
    if ((k = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL)) == NULL
        && BIO_reset(bio) == 0)
        k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    if (k == NULL && BIO_reset(bio) == 0
        && (x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL)
        k = X509_get_pubkey(x);
    X509_free(x);
    BIO_free(bio);
    ERR_clear_error();
    return k;
}

/* The first SSLCertificateFile / SSLCertificateKeyFile anywhere in the tree whose key is
 * signer's, or NULL. */
static const char *tls_file_of(apr_pool_t *p, const ap_directive_t *d, EVP_PKEY *signer)
{
    const char *args, *file, *found;
    EVP_PKEY *k;
    int same;

    for (; d != NULL; d = d->next) {
        if (strcasecmp(d->directive, "SSLCertificateFile") == 0
            || strcasecmp(d->directive, "SSLCertificateKeyFile") == 0) {
            args = d->args;
            file = ap_server_root_relative(p, ap_getword_conf(p, &args));
            if (file != NULL && (k = file_key(file)) != NULL) {
                same = EVP_PKEY_eq(k, signer) == 1;
                EVP_PKEY_free(k);
                ERR_clear_error();
                if (same)
                    return file;
            }
        }
        if ((found = tls_file_of(p, d->first_child, signer)) != NULL)
            return found;
    }
    return NULL;
}

int ekey_iss_check_tls_keys(apr_pool_t *ptemp, const apr_array_header_t *signers,
                            const char *section)
{
    const char *file;
    EVP_PKEY *k;
    int i;

    for (i = 0; signers != NULL && i < signers->nelts; i++) {
        k = ekey_jwk_pkey(APR_ARRAY_IDX(signers, i, const ekey_jwk_t *));
        if (k != NULL && (file = tls_file_of(ptemp, ap_conftree, k)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL, "EKEY00202: the "
                         "E-Key issuer section %s signs with the key of %s, which mod_ssl "
                         "also uses for TLS: give the issuer a key of its own", section, file);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}
