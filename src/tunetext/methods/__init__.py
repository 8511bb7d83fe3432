"""Every way tunetext classifies text, behind one protocol and one registry."""

from tunetext.methods.base import Method
from tunetext.methods.registry import get_method_class, list_methods, make_method, register

__all__ = ["Method", "get_method_class", "list_methods", "make_method", "register"]
