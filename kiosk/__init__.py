"""The touchscreen kiosk: Kivy screens (app.py) over a Kivy-free flow (flow.py) that talks to the
server (client.py) and the ticket printer (motcua.hardware)."""
