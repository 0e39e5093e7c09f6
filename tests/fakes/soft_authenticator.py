"""A software WebAuthn authenticator for unit tests: makes the JSON that
``@simplewebauthn/browser`` hands the panel (``startRegistration`` / ``startAuthentication``),
signed with a real P-256 key, so py_webauthn verifies it as it would a browser's. Every field
an attacker controls can be bent: origin, RP id, challenge, user verification, counter,
user handle. (Browser tests use Chromium's own WebAuthn stack instead.)
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.encode_cbor import encode_cbor

FLAG_UP, FLAG_UV, FLAG_BE, FLAG_BS, FLAG_AT = 0x01, 0x04, 0x08, 0x10, 0x40


def _b64(data: bytes) -> str:
    return bytes_to_base64url(data)


@dataclass
class SoftCredential:
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    user_handle: bytes = b""
    rp_id: str = "localhost"
    sign_count: int = 0
    synced: bool = False

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return encode_cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _flags(self, user_verified: bool, attested: bool = False) -> int:
        flags = FLAG_UP | (FLAG_UV if user_verified else 0)
        if self.synced:
            flags |= FLAG_BE | FLAG_BS
        return flags | (FLAG_AT if attested else 0)

    @staticmethod
    def client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()

    def register(self, options_json: str, *, origin: str = "http://localhost:3000", rp_id: str | None = None,
                 user_verified: bool = True, challenge: str | None = None, kind: str = "webauthn.create",
                 attested_id: bytes | None = None) -> str:
        """The answer to registration options (a JSON string). ``challenge`` answers another
        challenge than the options'; ``kind`` is the client data's type; ``attested_id`` puts
        another credential id into the signed authenticator data than the response's ``id``."""
        options = json.loads(options_json)
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        rp = rp_id or options["rp"]["id"]
        self.rp_id = rp
        inner_id = self.credential_id if attested_id is None else attested_id
        auth_data = (hashlib.sha256(rp.encode()).digest() + bytes([self._flags(user_verified, attested=True)])
                     + struct.pack(">I", self.sign_count) + bytes(16)
                     + struct.pack(">H", len(inner_id)) + inner_id + self.cose_public_key())
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self.client_data(kind, challenge or options["challenge"], origin)
        return json.dumps({
            "id": _b64(self.credential_id), "rawId": _b64(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": _b64(client_data), "attestationObject": _b64(attestation),
                         "transports": ["internal"]},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform"})

    def assert_(self, options_json: str, *, origin: str = "http://localhost:3000", rp_id: str | None = None,
                user_verified: bool = True, count: int | None = None, challenge: str | None = None,
                user_handle: bytes | None = None, kind: str = "webauthn.get") -> str:
        """The answer to authentication options (a JSON string); the counter goes up by one
        unless ``count`` says what to send. ``kind`` is the client data's type."""
        options = json.loads(options_json)
        self.sign_count = self.sign_count + 1 if count is None else count
        rp = rp_id or options.get("rpId") or self.rp_id
        auth_data = (hashlib.sha256(rp.encode()).digest() + bytes([self._flags(user_verified)])
                     + struct.pack(">I", self.sign_count))
        client_data = self.client_data(kind, challenge or options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        handle = self.user_handle if user_handle is None else user_handle
        return json.dumps({
            "id": _b64(self.credential_id), "rawId": _b64(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": _b64(client_data), "authenticatorData": _b64(auth_data),
                         "signature": _b64(signature), "userHandle": _b64(handle) if handle else None},
            "clientExtensionResults": {}, "authenticatorAttachment": "platform"})
