"""The gateways a message leaves by ([notify] gateway): each only builds its request, posts it and reads
the answer; the outbox (motcua.outbox) decides what to send and when. Every request carries the message's
idempotency key, so that a gateway that took a message whose answer was lost can recognise it sent again."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections import deque

import requests

from motcua.outbox import GatewayError, Message

log = logging.getLogger("motcua.notify")
CREDENTIAL_ENV = "MOTCUA_NOTIFY_SECRET"
SIGNATURE_HEADER = "X-Motcua-Signature"
KEY_HEADER = "Idempotency-Key"
# Zalo's endpoint of template messages (ZNS) by phone number.
ZNS_URL = "https://business.openapi.zalo.me/message/template"
GATEWAYS = ("log", "webhook", "sms", "zalo_zns")


class LogGateway:
    """Writes each message to the log: the gateway of a centre with no SMS or Zalo account yet."""

    name = "log"

    def __init__(self) -> None:
        # The last few, for whoever checks what was sent (tests, a status page); bounded for a server's lifetime.
        self.sent: deque[Message] = deque(maxlen=100)

    def send(self, message: Message) -> None:
        self.sent.append(message)
        # The phone's last digits only: the log is read by more people than the message is.
        log.info("to %s: %s", mask(message.recipient), message.text())


class HttpGateway:
    """A POST of JSON to the gateway's URL; anything but a 2xx in timeout_s is a GatewayError."""

    name = "http"

    def __init__(self, url: str, secret: str, timeout_s: float) -> None:
        self.url, self.secret, self.timeout_s = url, secret, timeout_s
        self.session = requests.Session()

    def body(self, message: Message) -> dict:
        raise NotImplementedError

    def headers(self, message: Message, body: bytes) -> dict:
        return {}

    def send(self, message: Message) -> None:
        body = json.dumps(self.body(message), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", KEY_HEADER: message.key,
                   **self.headers(message, body)}
        try:
            answer = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout_s)
        except requests.RequestException as error:
            raise GatewayError(f"{self.name}: {type(error).__name__}") from None
        if not 200 <= answer.status_code < 300:
            raise GatewayError(f"{self.name}: HTTP {answer.status_code}")
        self.check(answer)

    def check(self, answer) -> None:
        """A 2xx that still says the message was refused raises GatewayError."""


class WebhookGateway(HttpGateway):
    """The message as JSON, signed: HMAC-SHA256 of the body with the shared secret, in X-Motcua-Signature."""

    name = "webhook"

    def body(self, message: Message) -> dict:
        return {"key": message.key, "kind": message.kind, "to": message.recipient, "lang": message.lang,
                "text": message.text(), "texts": message.texts, "template_id": message.template_id,
                "params": message.params}

    def headers(self, message: Message, body: bytes) -> dict:
        return {SIGNATURE_HEADER: "sha256=" + sign(self.secret, body)}


class SmsGateway(HttpGateway):
    """An SMS brand-name gateway: the brand name, the phone, the text and the API key."""

    name = "sms"

    def __init__(self, url: str, secret: str, timeout_s: float, brand: str) -> None:
        super().__init__(url, secret, timeout_s)
        self.brand = brand

    def body(self, message: Message) -> dict:
        return {"api_key": self.secret, "brandname": self.brand, "phone": message.recipient,
                "message": message.text(), "request_id": message.key}


class ZaloZnsGateway(HttpGateway):
    """Zalo ZNS: a template message by phone number (84…), its tracking_id the idempotency key."""

    name = "zalo_zns"

    def body(self, message: Message) -> dict:
        if not message.template_id:
            raise GatewayError(f"zalo_zns: no template for {message.kind} ([notify] zns_templates)")
        return {"phone": international(message.recipient), "template_id": message.template_id,
                "template_data": message.params, "tracking_id": message.key}

    def headers(self, message: Message, body: bytes) -> dict:
        return {"access_token": self.secret}

    def check(self, answer) -> None:
        # Zalo answers 200 with {"error": <non-zero>} for a refused message (a bad template, a quota).
        try:
            error = answer.json().get("error", 0)
        except (ValueError, AttributeError):
            raise GatewayError("zalo_zns: an answer that is not JSON") from None
        if error != 0:
            raise GatewayError(f"zalo_zns: error {error}")


def gateway_of(settings):
    """The gateway [notify] names, with its URL, secret (MOTCUA_NOTIFY_SECRET overrides it) and timeout."""
    secret = os.environ.get(CREDENTIAL_ENV) or settings.secret
    if settings.gateway == "log":
        return LogGateway()
    if settings.gateway == "zalo_zns":
        return ZaloZnsGateway(settings.url or ZNS_URL, secret, settings.timeout_s)
    if settings.gateway not in GATEWAYS:
        raise ValueError(f"[notify] gateway must be one of {', '.join(GATEWAYS)}, not {settings.gateway!r}")
    if not settings.url:
        raise ValueError(f"[notify] gateway {settings.gateway} needs a url")
    if settings.gateway == "webhook":
        return WebhookGateway(settings.url, secret, settings.timeout_s)
    return SmsGateway(settings.url, secret, settings.timeout_s, settings.sms_brand)


def sign(secret: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of body under secret, as the webhook's receiver recomputes it."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def international(phone: str) -> str:
    """0912345678 or +84912345678 -> 84912345678, the form Zalo takes."""
    phone = phone.lstrip("+")
    return "84" + phone[1:] if phone.startswith("0") else phone


def mask(phone: str) -> str:
    """0912345678 -> ******5678."""
    return "*" * max(len(phone) - 4, 0) + phone[-4:]
