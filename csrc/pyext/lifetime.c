#include "hotpath.h"
int kb_hp_init_lifetime(PyObject *m) { (void)m; return 0; }
