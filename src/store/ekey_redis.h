#ifndef EKEY_REDIS_H
#define EKEY_REDIS_H
#endif
