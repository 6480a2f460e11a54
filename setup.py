"""Build hook: its only job is to hand the cffi module to setuptools."""

from setuptools import setup

setup(cffi_modules=["csrc/build_ffi.py:ffibuilder"])
