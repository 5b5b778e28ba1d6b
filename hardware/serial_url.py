"""Serial addresses as the docs write them: `/dev/ttyUSB0?baudrate=19200` as well as pyserial's
own URLs (`socket://host:9100`, `loop://`, `rfc2217://…`). pyserial reads `?baudrate=` only on
its URL schemes; on a device path it would take the query for part of the file name."""
from __future__ import annotations

from urllib.parse import parse_qs

import serial


def open_serial(address: str, baudrate: int = 9600, **options) -> serial.SerialBase:
    """Open a serial address; a `?baudrate=N` on a device path sets the speed."""
    path, speed = split_address(address, baudrate)
    return serial.serial_for_url(path, baudrate=speed, **options)


def split_address(address: str, baudrate: int = 9600) -> tuple[str, int]:
    """(what to open, baud rate): the query of a plain device path is ours to read."""
    if "://" in address or "?" not in address:
        return address, baudrate
    path, _, query = address.partition("?")
    values = parse_qs(query)
    try:
        return path, int(values.get("baudrate", [baudrate])[0])
    except ValueError:
        raise ValueError(f"bad baudrate in {address!r}") from None
