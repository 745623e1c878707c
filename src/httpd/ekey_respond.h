#ifndef EKEY_RESPOND_H
#define EKEY_RESPOND_H
#endif
