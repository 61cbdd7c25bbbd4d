/* Host stand-in for the SDK's xsPlatform.h, which its lfs.h includes first:
   the littlefs sources take only these C library names from it
   (test/pico-flash/lfs-harness.c). */
#include <string.h>
#define c_memcmp memcmp
#define c_memcpy memcpy
#define c_memset memset
#define c_strchr strchr
#define c_strcpy strcpy
#define c_strcspn strcspn
#define c_strlen strlen
#define c_strspn strspn
