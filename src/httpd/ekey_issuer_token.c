/* ekey_issuer_token.c - being written */
#include "ekey.h"
