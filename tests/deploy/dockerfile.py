"""Just enough Dockerfile parsing to check what each image target ends up with."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case, e.g. "RUN"
    value: str  # the rest of the (joined) line


@dataclass
class Stage:
    base: str  # an image reference or an earlier stage's name
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    global_args: dict[str, str]
    stages: list[Stage]

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        lines: list[str] = []
        pending = ""
        for raw in path.read_text().splitlines():
            stripped = raw.strip()
            if not pending and (not stripped or stripped.startswith("#")):
                continue
            if pending and stripped.startswith("#"):
                continue  # comment lines inside a continued instruction
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            lines.append(pending + stripped)
            pending = ""
        global_args: dict[str, str] = {}
        stages: list[Stage] = []
        for line in lines:
            keyword, _, value = line.partition(" ")
            keyword, value = keyword.upper(), value.strip()
            if keyword == "FROM":
                words = [w for w in value.split() if not w.startswith("--")]
                name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
                stages.append(Stage(base=words[0], name=name))
            elif not stages:
                if keyword == "ARG":
                    arg, _, default = value.partition("=")
                    global_args[arg] = default
            else:
                stages[-1].instructions.append(Instruction(keyword, value))
        return cls(global_args, stages)

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage named {name!r}")

    def chain(self, target: str) -> list[Stage]:
        """The stages ``target`` is built on, outermost first, ending with ``target``."""
        chain = [self.stage(target)]
        names = {s.name for s in self.stages}
        while chain[0].base in names:
            chain.insert(0, self.stage(chain[0].base))
        return chain

    def base_image(self, target: str) -> str:
        """The external image at the bottom of ``target``'s chain, with ARG defaults filled in."""
        base = self.chain(target)[0].base
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.global_args.get(m.group(1), ""), base)

    def last(self, target: str, keyword: str) -> Instruction | None:
        """The effective (last inherited) instruction of a kind for ``target``."""
        found = None
        for stage in self.chain(target):
            for instruction in stage.all(keyword):
                found = instruction
        return found

    def exec_form(self, target: str, keyword: str) -> list[str] | None:
        """ENTRYPOINT/CMD as a list; raises ValueError for the shell form."""
        instruction = self.last(target, keyword)
        if instruction is None:
            return None
        if not instruction.value.startswith("["):
            raise ValueError(f"{keyword} of {target} is in shell form: {instruction.value}")
        value = json.loads(instruction.value)
        assert isinstance(value, list)
        return [str(v) for v in value]

    def key_values(self, target: str, keyword: str) -> dict[str, str]:
        """LABEL or ENV pairs in effect for ``target`` (key=value form)."""
        pairs: dict[str, str] = {}
        for stage in self.chain(target):
            for instruction in stage.all(keyword):
                for word in shlex.split(instruction.value):
                    key, sep, value = word.partition("=")
                    if not sep:
                        raise ValueError(f"{keyword} {instruction.value!r} is not key=value")
                    pairs[key] = value
        return pairs
