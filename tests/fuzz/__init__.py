"""The API fuzzer (tests/fuzz/api_fuzz.py); run by tests/test_fuzz.py."""
