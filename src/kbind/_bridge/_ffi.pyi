# Type stub for the cffi-compiled extension kbind._bridge._ffi (built from csrc/).
# The C API lives in csrc/kbind_api.h; cffi exposes it dynamically, so this
# is the one place kbind uses Any.  Only kbind/_bridge/native.py imports it.
from typing import Any

ffi: Any
lib: Any
