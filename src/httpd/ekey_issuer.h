#ifndef EKEY_ISSUER_H
#define EKEY_ISSUER_H
#endif
