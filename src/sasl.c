/* placeholder */
#include "buf.h"
