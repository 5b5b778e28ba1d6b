"""QR symbols as matrices of modules, from `qrcode`: one maker for the ticket, the simulated
printer and the kiosk's screen."""
from __future__ import annotations

import qrcode
from qrcode import constants

LEVELS = {"L": constants.ERROR_CORRECT_L, "M": constants.ERROR_CORRECT_M,
          "Q": constants.ERROR_CORRECT_Q, "H": constants.ERROR_CORRECT_H}


def qr_matrix(data: str, level: str = "M", border: int = 0) -> list[list[bool]]:
    """The smallest QR symbol for data at error level L, M, Q or H; rows of dark (True) modules."""
    symbol = qrcode.QRCode(error_correction=LEVELS[level.upper()], border=border)
    symbol.add_data(data)
    symbol.make(fit=True)
    return symbol.get_matrix()
