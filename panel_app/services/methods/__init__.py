"""Step-up verification methods: one module per method, each a ``StepUpMethod``
(``base.py``), and the registry the gate, the Security page, password reset and the
guess budget ask (``registry.py``). A new method is one module here and one line in
``_BUILT_IN``; the try reservation, backoff, guess budget and grant all methods share
stay in ``services/stepup.py``. No reflex import.
"""

from __future__ import annotations

from panel_app.services.methods import authenticator, email, passkey, recovery, whatsapp
from panel_app.services.methods.base import CodeScope, InputKind, MethodCheck, StepUpMethod
from panel_app.services.methods.registry import get, register, registered, unregister

_BUILT_IN = (passkey.METHOD, authenticator.METHOD, email.METHOD, whatsapp.METHOD, recovery.METHOD)
for _method in _BUILT_IN:
    register(_method)

__all__ = ["CodeScope", "InputKind", "MethodCheck", "StepUpMethod", "get", "register", "registered",
           "unregister"]
