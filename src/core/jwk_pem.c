/*
 * jwk_pem.c - keys in PEM files: reading one (public, or the public half of a private
 * key, or a private key) and writing a private key that nobody else can read.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ekey.h"
#include "ekey_cache.h"

/* Never prompt on a terminal for a passphrase: an encrypted key is simply unusable here. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

EVP_PKEY *ekey_pem_read(const char *path, int want_private)
{
    BIO *bio = BIO_new_file(path, "r");
    EVP_PKEY *pkey = NULL;

    if (bio == NULL)
        return NULL;
    if (!want_private)
        pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
    if (pkey == NULL && (want_private || BIO_reset(bio) == 0)) {
        ERR_clear_error();
        pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    }
    BIO_free(bio);
    return pkey;
}

ekey_status_t ekey_jwk_save_pem(const ekey_jwk_t *key, apr_pool_t *p, const char *path,
                                ekey_error_t *err)
{
    BIO *bio;
    int fd, ok;

    if (key == NULL || path == NULL)
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.save", "missing argument");
    if (!ekey_jwk_has_private(key))
        return ekey_error_set(err, EKEY_E_INVALID_ARG, "jwk.save", "not a private key");
    /* 0600 from birth and never through an existing file or symlink: a key is never
     * readable by others, not even for the moment between create and chmod. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
    if (fd < 0)
        return ekey_error_set(err, EKEY_E_KEY_FILE, "jwk.save", "cannot create %.100s: %s",
                              path, strerror(errno));
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || (bio = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL) {
        close(fd);
        unlink(path);
        return ekey_error_set(err, EKEY_E_KEY_FILE, "jwk.save", "cannot write %.100s", path);
    }
    ok = PEM_write_bio_PKCS8PrivateKey(bio, ekey_jwk_pkey(key), NULL, NULL, 0, NULL, NULL) == 1
         && BIO_flush(bio) == 1;
    BIO_free(bio);
    ok = fsync(fd) == 0 && ok;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(path);
        ekey_error_set(err, EKEY_E_KEY_FILE, "jwk.save", "writing the key failed");
        ekey_error_drain_openssl(err);
        return EKEY_E_KEY_FILE;
    }
    return EKEY_OK;
}
