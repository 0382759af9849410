// newlib's <malloc.h> declares malloc and free without the exception specification that its
// <stdlib.h> gives them, which C++ rejects when <malloc.h> comes first: read <stdlib.h> first.
#ifndef SKIFF_MALLOC_H_
#define SKIFF_MALLOC_H_
#include <stdlib.h>
#include_next <malloc.h>
#endif  // SKIFF_MALLOC_H_
