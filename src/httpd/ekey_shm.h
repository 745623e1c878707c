#ifndef EKEY_SHM_H
#define EKEY_SHM_H
#endif
