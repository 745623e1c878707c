/* rtable.c - being written */
#include "ekey.h"
