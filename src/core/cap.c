/* cap.c - being written */
#include "ekey.h"
