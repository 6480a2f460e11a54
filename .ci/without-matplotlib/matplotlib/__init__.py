"""Stands in for a machine without matplotlib: importing it fails as if absent.

Put this folder first on PYTHONPATH (.ci/check_optional_deps.py does) to run
kbind's tests the way a user without the ``[plot]`` extra would.
"""

raise ModuleNotFoundError("No module named 'matplotlib' (hidden by .ci/without-matplotlib)")
