"""Drivers for a branch's serial devices (ESC/POS ticket printer, counter number displays,
counter call pads), each with a simulator; they talk to pyserial URLs (`/dev/ttyUSB0`,
`socket://host:9100`, `loop://`)."""
