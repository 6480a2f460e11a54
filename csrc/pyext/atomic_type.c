/* SPDX-License-Identifier: MIT */
/* csrc/pyext/atomic_type.c - placeholder until the atomics land. */
#include "hotpath.h"

int kb_hp_init_atomics(PyObject *m)
{
	(void)m;
	return 0;
}
