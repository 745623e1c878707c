/* ekey_issuer_jwks.c - being written */
#include "ekey.h"
