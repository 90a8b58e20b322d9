"""The heap suite (test_heap.py) once more with --heap-backend=uprobe: both
backends feed one model and must report the same things."""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location("test_heap_with_uprobes",
                                               os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_heap.py"))
_heap = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_heap)
_heap.BACKEND = ["--heap-backend=uprobe"]
for _name in dir(_heap):
    if _name.startswith("test_"):
        globals()[_name] = getattr(_heap, _name)
