"""The domain core: plain Python, no Flask, no Kivy, no serial; time from an injected clock."""
