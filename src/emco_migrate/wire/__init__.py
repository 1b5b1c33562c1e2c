"""The wire: what crosses a process boundary, in the Go reference's and EMCO's shapes.

It imports nothing of the worker, the workflow clients, the emulator or emcoctl; they import it.
"""
