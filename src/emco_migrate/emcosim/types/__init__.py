"""The Go structs of EMCO's REST bodies, as dataclasses with their JSON tags."""
