"""A real leak in a Python program: 12 bytes from the C library's malloc,
called through ctypes, the pointer dropped (valgrind: 12 bytes definitely
lost, allocated from libffi's call into malloc). Run by Debian's
/usr/bin/python3; exits 0."""
import ctypes

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.malloc(12)
