"""HTTP routes: EMCO's services under /v2 and the emulator's admin API under /emulator/v1."""
