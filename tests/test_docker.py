"""The Docker image builds from its own context and runs the guard script; docker-compose.yml holds.

No Docker engine runs here, so the build is replayed: a small parser reads the Dockerfile's COPY
instructions, exactly those files (less what .dockerignore keeps out of the context) are laid out
as the image would hold them, and pip builds the wheel from the image's WORKDIR as its
``RUN pip install`` would. docker-compose.yml is read by a real Compose implementation
(``docker compose`` or Debian's ``docker-compose``, whose ``config`` needs no engine) and checked
for what it says about this project: what it builds, the commands it runs, the Redis it names.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
MODEL = ROOT / "models" / "behaviour.json"
SHIPPED_MODEL = "guard/model/behaviour.json"  # where pyproject's force-include puts it

# --- the Dockerfile -------------------------------------------------------------------------


class DockerfileError(ValueError):
    """An instruction the parser does not understand, so the test cannot vouch for the build."""


class BuildError(Exception):
    """The replayed build fails where ``docker build`` would."""


@dataclass(frozen=True)
class Instruction:
    """One logical instruction: its keyword, its arguments (continuations joined), its line."""

    keyword: str
    args: str
    line: int


@dataclass(frozen=True)
class Copy:
    """A COPY (or an ADD of local files): context sources, destination, flags, WORKDIR then."""

    sources: tuple[str, ...]
    dest: str
    flags: Mapping[str, str]
    workdir: PurePosixPath
    line: int


@dataclass(frozen=True)
class ProjectInstall:
    """A ``RUN pip install`` of a local project: its path in the image, extras, COPYs before it."""

    path: PurePosixPath
    extras: tuple[str, ...]
    after_copies: int
    line: int


@dataclass(frozen=True)
class Dockerfile:
    """What the tests need of a Dockerfile: the base, its COPYs, project installs and CMD."""

    base: str
    copies: tuple[Copy, ...]
    installs: tuple[ProjectInstall, ...]
    cmd: tuple[str, ...]


_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S+)\s*")
_KEYWORD = re.compile(r"\s*([A-Za-z]+)(?:\s+(.*))?", re.DOTALL)
# Instructions that do not change which files the build sees, its project install or its CMD.
_IGNORED = frozenset(
    {"ARG", "ENV", "LABEL", "EXPOSE", "USER", "VOLUME", "HEALTHCHECK", "STOPSIGNAL", "SHELL"}
    | {"MAINTAINER", "ONBUILD"}
)
# COPY/ADD flags that change owners, modes or layering, never which files are copied.
_HARMLESS_FLAGS = frozenset({"chown", "chmod", "link"})
_FLAG_REASONS = {
    "from": "it copies from another build stage or image, not from the build context",
    "parents": "it changes where the copied paths land",
    "exclude": "it changes which files are copied",
    "checksum": "it verifies a download",
    "keep-git-dir": "it clones a Git repository",
    "unpack": "it unpacks archives",
}
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")
_PIP_OPTIONS_WITH_VALUE = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-t", "--target", "-i", "--index-url"}
    | {"--extra-index-url", "-f", "--find-links", "--prefix", "--root", "--platform"}
    | {"--python-version", "--implementation", "--abi", "--src", "--upgrade-strategy"}
)
_LOCAL_REQUIREMENT = re.compile(r"(?P<path>\.{1,2}(?:/[^\[]*)?|/[^\[]*)(?:\[(?P<extras>[^\]]*)\])?")


def split_instructions(text: str) -> list[Instruction]:
    """Join continued lines and drop comments and blank lines: one Instruction a logical line."""
    lines = text.splitlines()
    escape = "\\"
    for line in lines:  # parser directives come first, before any other line
        directive = _DIRECTIVE.fullmatch(line)
        if directive is None:
            break
        if directive[1].lower() == "escape":
            if directive[2] not in ("\\", "`"):
                raise DockerfileError(f"invalid escape directive {directive[2]!r}")
            escape = directive[2]
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    instructions: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue  # also inside a continued instruction, as Docker does
        if not pending:
            start = number
        joined = continued.sub("", line)
        pending.append(joined)
        if joined == line:
            instructions.append(_instruction("".join(pending), start))
            pending = []
    if pending:
        raise DockerfileError(f"line {start}: the file ends inside a continued instruction")
    return instructions


def _instruction(logical: str, line: int) -> Instruction:
    """Split one logical line into its keyword and its arguments."""
    match = _KEYWORD.fullmatch(logical)
    if match is None:
        raise DockerfileError(f"line {line}: not an instruction: {logical.strip()!r}")
    return Instruction(match[1].upper(), (match[2] or "").strip(), line)


def _json_list(args: str, what: str, line: int) -> list[str] | None:
    """The exec (JSON array) form of an instruction's arguments, or None for the shell form."""
    if not args.startswith("["):
        return None
    try:
        value = json.loads(args)
    except json.JSONDecodeError as error:
        raise DockerfileError(f"line {line}: {what} is not a valid JSON array: {error}") from error
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DockerfileError(f"line {line}: {what} must be a JSON array of strings")
    return [str(item) for item in value]


def _copy_flags(keyword: str, args: str, line: int) -> tuple[dict[str, str], str]:
    """A COPY's or ADD's leading ``--flag[=value]`` words, and the rest of its arguments."""
    flags: dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        token, *tail = rest.split(None, 1)
        rest = tail[0] if tail else ""
        name, _, value = token[2:].partition("=")
        if name not in _HARMLESS_FLAGS:
            reason = _FLAG_REASONS.get(name, "this parser does not know it")
            raise DockerfileError(f"line {line}: {keyword} --{name} is not understood: {reason}")
        flags[name] = value
    return flags, rest


def _copy_paths(keyword: str, rest: str, line: int) -> list[str]:
    """A COPY's or ADD's sources and destination, in JSON or whitespace-separated form."""
    words = _json_list(rest, keyword, line)
    if words is None:
        words = rest.split()
        for word in words:
            if word.startswith("<<"):
                raise DockerfileError(f"line {line}: {keyword} with a heredoc is not understood")
            if any(quote in word for quote in "\"'"):
                raise DockerfileError(
                    f"line {line}: quoted {keyword} paths are not understood; use the JSON form"
                )
    if len(words) < 2:
        raise DockerfileError(f"line {line}: {keyword} needs at least one source and a destination")
    for word in words:
        if "$" in word:
            raise DockerfileError(
                f"line {line}: {keyword} with a variable ({word}) is not understood"
            )
    return words


def parse_copy(instruction: Instruction, workdir: PurePosixPath) -> Copy:
    """Read a COPY or ADD: flags, then sources and a destination; an ADD only of local files."""
    keyword, line = instruction.keyword, instruction.line
    flags, rest = _copy_flags(keyword, instruction.args, line)
    *sources, dest = _copy_paths(keyword, rest, line)
    for source in sources if keyword == "ADD" else []:
        if "://" in source or source.startswith("git@"):
            raise DockerfileError(
                f"line {line}: ADD with a URL ({source}) is not understood: "
                "it fetches at build time, which the test cannot replay"
            )
        if source.lower().endswith(_ARCHIVES):
            raise DockerfileError(
                f"line {line}: ADD of a local archive ({source}) is not understood: ADD unpacks it"
            )
    return Copy(tuple(sources), dest, flags, workdir, line)


def _commands(args: str, line: int) -> list[list[str]]:
    """The simple commands of a RUN: its exec form, or its shell form split at ; && || and |."""
    exec_form = _json_list(args, "RUN", line)
    if exec_form is not None:
        return [exec_form]
    lexer = shlex.shlex(args, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in (";", "&&", "||", "|", "&"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [command for command in commands if command]


def _pip_install_targets(command: Sequence[str]) -> list[str] | None:
    """The requirements a ``pip install`` names (``python -m pip`` too), or None if not one."""
    words = list(command)
    if len(words) >= 3 and re.fullmatch(r"python[0-9.]*", posixpath.basename(words[0])):
        if words[1:3] != ["-m", "pip"]:
            return None
        words = words[2:]
    if len(words) < 2 or not re.fullmatch(r"pip[0-9.]*", posixpath.basename(words[0])):
        return None
    if words[1] != "install":
        return None
    targets: list[str] = []
    skip_value = False
    for word in words[2:]:
        if skip_value:
            skip_value = False
        elif word in ("-e", "--editable"):
            continue  # its value is a requirement like any other
        elif word in _PIP_OPTIONS_WITH_VALUE:
            skip_value = True
        elif not word.startswith("-"):
            targets.append(word)
    return targets


def _project_installs(
    instruction: Instruction, workdir: PurePosixPath, copies: int
) -> list[ProjectInstall]:
    """The local projects a RUN installs with pip (``pip install ".[extra]"``)."""
    installs: list[ProjectInstall] = []
    for command in _commands(instruction.args, instruction.line):
        for target in _pip_install_targets(command) or []:
            local = _LOCAL_REQUIREMENT.fullmatch(target)
            if local is None:
                continue  # a requirement from an index, not the project
            path = PurePosixPath(posixpath.normpath(str(workdir / local["path"])))
            extras = tuple(e.strip() for e in (local["extras"] or "").split(",") if e.strip())
            installs.append(ProjectInstall(path, extras, copies, instruction.line))
    return installs


def parse_dockerfile(text: str) -> Dockerfile:
    """Read a single-stage Dockerfile; DockerfileError for what the parser cannot vouch for."""
    base = ""
    workdir = PurePosixPath("/")
    copies: list[Copy] = []
    installs: list[ProjectInstall] = []
    cmd: tuple[str, ...] = ()
    for instruction in split_instructions(text):
        keyword, args, line = instruction.keyword, instruction.args, instruction.line
        if keyword == "FROM":
            if base:
                raise DockerfileError(f"line {line}: multi-stage builds are not understood")
            words = [word for word in args.split() if not word.startswith("--")]
            base = words[0] if words else ""
        elif not base and keyword != "ARG":
            raise DockerfileError(f"line {line}: {keyword} before FROM")
        elif keyword == "WORKDIR":
            if "$" in args or not args:
                raise DockerfileError(f"line {line}: WORKDIR {args!r} is not understood")
            workdir = PurePosixPath(posixpath.normpath(str(workdir / args)))
        elif keyword in ("COPY", "ADD"):
            copies.append(parse_copy(instruction, workdir))
        elif keyword == "RUN":
            installs.extend(_project_installs(instruction, workdir, len(copies)))
        elif keyword == "CMD":
            exec_form = _json_list(args, "CMD", line)
            cmd = tuple(shlex.split(args) if exec_form is None else exec_form)
        elif keyword == "ENTRYPOINT":
            raise DockerfileError(
                f"line {line}: ENTRYPOINT is not understood: CMD would be its args"
            )
        elif keyword not in _IGNORED:
            raise DockerfileError(f"line {line}: unknown instruction {keyword}")
    if not base:
        raise DockerfileError("no FROM instruction")
    return Dockerfile(base, tuple(copies), tuple(installs), cmd)


# --- the build context and the replayed COPYs -----------------------------------------------


@dataclass(frozen=True)
class IgnorePattern:
    """One .dockerignore line: its pattern as a regular expression, and whether it is a ``!``."""

    regex: re.Pattern[str]
    exclusion: bool


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: ``*``, ``?``, ``[...]`` within a path
    segment, ``**`` across any number of them."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*" and pattern[i + 1 : i + 2] == "*":
            i += 1
            if pattern[i + 1 : i + 2] == "/":
                i += 1
            out.append(".*" if i + 1 >= len(pattern) else "(.*/)?")
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                raise ValueError(f".dockerignore: unclosed '[' in {pattern!r}")
            out.append(pattern[i : end + 1])
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


def parse_dockerignore(text: str) -> list[IgnorePattern]:
    """The patterns of a .dockerignore, cleaned as Docker cleans them (no leading ``/``)."""
    patterns: list[IgnorePattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if not line:
            continue
        line = posixpath.normpath(line)
        if len(line) > 1 and line.startswith("/"):
            line = line.lstrip("/")
        patterns.append(IgnorePattern(_pattern_regex(line), exclusion))
    return patterns


class Context:
    """A build context: a directory, less what its .dockerignore leaves out."""

    def __init__(self, root: Path) -> None:
        """Read the context's .dockerignore, if it has one."""
        self.root = root
        ignore = root / ".dockerignore"
        self.patterns = parse_dockerignore(ignore.read_text() if ignore.is_file() else "")

    def ignored(self, rel: str) -> bool:
        """Whether a context-relative path is left out: the last pattern matching it, or one of
        its parent directories, decides; a ``!`` pattern brings a path back."""
        parents = rel.split("/")[:-1]
        ignored = False
        for pattern in self.patterns:
            if pattern.exclusion != ignored:
                continue
            match = pattern.regex.fullmatch(rel) is not None or any(
                pattern.regex.fullmatch("/".join(parents[: i + 1])) for i in range(len(parents))
            )
            if match:
                ignored = not pattern.exclusion
        return ignored

    def files_under(self, rel: str) -> list[str]:
        """The context's files under a directory, context-relative, sorted."""
        found: list[str] = []
        for directory, dirs, files in os.walk(self.root / rel):
            dirs.sort()
            base = Path(directory).relative_to(self.root).as_posix()
            found.extend(
                path
                for path in (posixpath.normpath(f"{base}/{name}") for name in files)
                if not self.ignored(path)
            )
        return sorted(found)

    def expand(self, source: str, line: int) -> list[str]:
        """A COPY source as the context paths it names (wildcards expanded); BuildError if none."""
        rel = posixpath.normpath(source.lstrip("/") or ".")
        if rel == ".." or rel.startswith("../"):
            raise BuildError(f"line {line}: {source} is outside the build context")
        if any(char in rel for char in "*?["):
            paths = [p.relative_to(self.root).as_posix() for p in sorted(self.root.glob(rel))]
        else:
            paths = [rel]
        present = [path for path in paths if self._present(path)]
        if not present:
            raise BuildError(
                f"line {line}: {source} is not in the build context (missing, or excluded by "
                ".dockerignore)"
            )
        return present

    def _present(self, rel: str) -> bool:
        """Whether a path is in the context: a file not ignored, or a directory holding one."""
        path = self.root / rel
        if path.is_file():
            return not self.ignored(rel)
        if path.is_dir():
            return rel == "." or not self.ignored(rel) or bool(self.files_under(rel))
        return False


def host_path(image: Path, path: PurePosixPath) -> Path:
    """Where an absolute path of the image lives in the directory standing for its root."""
    return image.joinpath(*path.relative_to("/").parts)


def replay(copies: Sequence[Copy], context: Context, image: Path) -> None:
    """Copy what each COPY names from the context into ``image``, the image's root, as Docker
    would: a directory's contents (less ignored paths) go into the destination; a file goes
    into it if it ends with ``/`` or is a directory, else becomes it."""
    for copy in copies:
        sources = [path for source in copy.sources for path in context.expand(source, copy.line)]
        dest = PurePosixPath(posixpath.normpath(str(copy.workdir / copy.dest)))
        target = host_path(image, dest)
        into = copy.dest.endswith("/") or copy.dest in (".", "..") or copy.dest.endswith("/.")
        if len(sources) > 1 and not into:
            raise BuildError(
                f"line {copy.line}: when using COPY with more than one source file, the "
                "destination must be a directory and end with a /"
            )
        for source in sources:
            if (context.root / source).is_dir():
                prefix = "" if source == "." else f"{source}/"
                target.mkdir(parents=True, exist_ok=True)
                for rel in context.files_under(source):
                    _copy_file(context.root / rel, target / rel.removeprefix(prefix))
            elif into or target.is_dir():
                _copy_file(context.root / source, target / posixpath.basename(source))
            else:
                _copy_file(context.root / source, target)


def _copy_file(source: Path, target: Path) -> None:
    """Copy one file, making its directories."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def build_wheel(project: Path, out: Path) -> Path:
    """Build the project's wheel with this environment's pip and build backend, offline."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    backend = str(pyproject["build-system"]["build-backend"])
    if importlib.util.find_spec(backend.partition(".")[0]) is None:
        pytest.fail(f"the build backend {backend} is not installed: it is in the dev extra")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "--no-cache-dir", "--disable-pip-version-check", "--quiet"]
    result = subprocess.run(
        [*command, "--wheel-dir", str(out), str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            "the wheel does not build from the files the Dockerfile copies (so neither would "
            f"the image):\n{result.stdout}{result.stderr}"
        )
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


# --- fixtures and helpers -------------------------------------------------------------------


def load_pyproject() -> dict[str, Any]:
    """The repository's pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def the_dockerfile() -> Dockerfile:
    """The repository's Dockerfile, parsed."""
    return parse_dockerfile(DOCKERFILE.read_text())


def the_project_install(dockerfile: Dockerfile) -> ProjectInstall:
    """The one ``RUN pip install`` of the project that the Dockerfile has."""
    assert len(dockerfile.installs) == 1, f"expected one pip install of the project: {dockerfile}"
    return dockerfile.installs[0]


@dataclass(frozen=True)
class ImageBuild:
    """The wheel built from the replayed image's files, and the image directory built from."""

    wheel: Path
    project: Path


@pytest.fixture(scope="module")
def image_build(tmp_path_factory: pytest.TempPathFactory) -> ImageBuild:
    """Replay the Dockerfile's COPYs into a stand-in image root and build the wheel there, once."""
    dockerfile = the_dockerfile()
    install = the_project_install(dockerfile)
    image = tmp_path_factory.mktemp("image")
    try:
        replay(dockerfile.copies[: install.after_copies], Context(ROOT), image)
    except BuildError as error:
        pytest.fail(f"the image would not build: {error}")
    project = host_path(image, install.path)
    return ImageBuild(build_wheel(project, tmp_path_factory.mktemp("wheel")), project)


def wheel_names(wheel: Path) -> set[str]:
    """The files in a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if not name.endswith("/")}


def package_files() -> set[str]:
    """Every file under guard/ in the repository, but compiled Python."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "guard").rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in {".pyc", ".pyo"}
    }


def guard_cli_error(argv: Sequence[str]) -> str | None:
    """Why the guard script's argument parser rejects ``argv[1:]``, or None if it accepts it."""
    module_name, _, _ = str(load_pyproject()["project"]["scripts"]["guard"]).partition(":")
    build_parser = getattr(importlib.import_module(module_name), "build_parser", None)
    assert callable(build_parser), f"{module_name} has no build_parser(); update this test"
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            build_parser().parse_args(list(argv[1:]))
    except SystemExit:
        return stderr.getvalue().strip() or "rejected"
    return None


# --- the parser itself ----------------------------------------------------------------------

SAMPLE = """\
# escape=\\
# a comment
FROM python:3.11-slim AS app
ARG UNUSED
WORKDIR /app
COPY --chown=app:app --chmod=644 \\
     a.txt b.txt \\
     # a comment inside the continued instruction is dropped
     ./dest/
COPY ["with space.txt", "/abs/"]
WORKDIR sub
ADD --link c.txt .
RUN pip install --no-cache-dir -r req.txt uvicorn ".[x, y]" && echo done
CMD guard demo --port 1
"""


def test_parser_reads_copy_forms() -> None:
    """The parser reads flags, several sources, JSON form, continuations, WORKDIR, RUN and CMD."""
    dockerfile = parse_dockerfile(SAMPLE)
    assert dockerfile.base == "python:3.11-slim"
    first, second, third = dockerfile.copies
    assert first == Copy(
        ("a.txt", "b.txt"),
        "./dest/",
        {"chown": "app:app", "chmod": "644"},
        PurePosixPath("/app"),
        6,
    )
    assert (second.sources, second.dest, second.line) == (("with space.txt",), "/abs/", 10)
    assert (third.sources, third.dest, third.flags) == (("c.txt",), ".", {"link": ""})
    assert third.workdir == PurePosixPath("/app/sub")
    assert dockerfile.installs == (ProjectInstall(PurePosixPath("/app/sub"), ("x", "y"), 3, 13),)
    assert dockerfile.cmd == ("guard", "demo", "--port", "1")


def test_parser_honours_the_escape_directive() -> None:
    """With ``# escape=`` a backtick continues a line and a backslash is an ordinary character."""
    text = "# escape=`\nFROM x\nCOPY a `\n  b c:\\\\dir\\\\\n"
    assert parse_dockerfile(text).copies[0].sources == ("a", "b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM x\nCOPY --from=build /a /b\n", "--from is not understood"),
        ("FROM x\nADD https://example.com/a.tgz /a\n", "ADD with a URL"),
        ("FROM x\nADD git@github.com:o/r.git /src\n", "ADD with a URL"),
        ("FROM x\nADD local.tar.gz /a\n", "ADD unpacks it"),
        ("FROM x\nCOPY <<EOF /a\nhi\nEOF\n", "heredoc"),
        ("FROM x\nCOPY $SRC /a\n", "variable"),
        ("FROM x\nCOPY 'a b' /a/\n", "quoted"),
        ("FROM x\nCOPY onlyone\n", "one source and a destination"),
        ('FROM x\nCOPY ["a", 1]\n', "JSON array of strings"),
        ("FROM x\nCOPY --parents a /b/\n", "--parents is not understood"),
        ("FROM x AS build\nFROM y\n", "multi-stage"),
        ('FROM x\nENTRYPOINT ["sh"]\n', "ENTRYPOINT"),
        ("FROM x\nFROBNICATE a\n", "unknown instruction FROBNICATE"),
        ("COPY a b\n", "before FROM"),
        ("FROM x\nCOPY a \\\n", "ends inside a continued instruction"),
    ],
)
def test_parser_rejects_what_it_does_not_understand(text: str, message: str) -> None:
    """An instruction the parser cannot replay fails with a message that names it."""
    with pytest.raises(DockerfileError, match=re.escape(message)):
        parse_dockerfile(text)


@pytest.mark.parametrize(
    ("patterns", "path", "ignored"),
    [
        ("**/__pycache__", "__pycache__/a.pyc", True),
        ("**/__pycache__", "guard/store/__pycache__/a.pyc", True),
        ("**/__pycache__", "guard/store/a.py", False),
        (".venv", ".venv/lib/python3.11/site.py", True),
        ("/tests", "tests/test_docker.py", True),
        ("tests", "guard/tests/x.py", False),
        ("*.md", "README.md", True),
        ("*.md", "models/MODEL_CARD.md", False),
        ("**/*.md", "models/MODEL_CARD.md", True),
        ("tests\n!tests/keep.py", "tests/keep.py", False),
        ("tests\n!tests/keep.py", "tests/other.py", True),
        ("!README.md\n*.md", "README.md", True),
        ("models/?ehaviour.json", "models/behaviour.json", True),
        ("models/[a-c]*.json", "models/evaluation.json", False),
        ("# tests", "tests/x.py", False),
    ],
)
def test_dockerignore_patterns(patterns: str, path: str, ignored: bool, tmp_path: Path) -> None:
    """.dockerignore patterns match as Docker's do: parents, ``**``, ``!`` and the last word."""
    (tmp_path / ".dockerignore").write_text(patterns + "\n")
    assert Context(tmp_path).ignored(path) is ignored


def _context(root: Path, files: Sequence[str], dockerignore: str) -> Context:
    """A small build context holding the given files and .dockerignore."""
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    (root / ".dockerignore").write_text(dockerignore)
    return Context(root)


def _tree(root: Path) -> set[str]:
    """The files under a directory, relative to it."""
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def test_replay_copies_what_docker_would(tmp_path: Path) -> None:
    """The replay copies directory contents less ignored paths, renames files and fills dirs."""
    files = ["pkg/a.py", "pkg/__pycache__/a.pyc", "pkg/sub/data.json", "pkg/sub/skip.tmp"]
    files += ["keep/x", "keep/y", "notes.md", "tests/t.py"]
    context = _context(tmp_path / "ctx", files, "**/__pycache__\n*.md\npkg/sub/*.tmp\ntests\n")
    dockerfile = parse_dockerfile(
        "FROM x\nWORKDIR /app\nCOPY pkg ./pkg\nCOPY keep/x /etc/x.conf\n"
        "COPY keep/x keep/y ./both/\nCOPY keep/* .\nCOPY keep/x ./\n"
    )
    image = tmp_path / "image"
    replay(dockerfile.copies, context, image)
    assert _tree(image) == {
        "app/pkg/a.py",
        "app/pkg/sub/data.json",
        "etc/x.conf",
        "app/both/x",
        "app/both/y",
        "app/x",
        "app/y",
    }


@pytest.mark.parametrize(
    ("copy", "message"),
    [
        ("COPY notes.md ./", "not in the build context"),
        ("COPY tests ./tests", "not in the build context"),
        ("COPY missing.txt ./", "not in the build context"),
        ("COPY keep/x keep/y ./both", "must be a directory and end with a /"),
        ("COPY ../outside ./", "outside the build context"),
    ],
)
def test_replay_fails_as_docker_would(tmp_path: Path, copy: str, message: str) -> None:
    """A COPY of an ignored, missing or outside path, or of several files to a file, fails."""
    context = _context(
        tmp_path / "ctx", ["keep/x", "keep/y", "notes.md", "tests/t.py"], "*.md\ntests\n"
    )
    dockerfile = parse_dockerfile(f"FROM x\nWORKDIR /app\n{copy}\n")
    with pytest.raises(BuildError, match=re.escape(message)):
        replay(dockerfile.copies, context, tmp_path / "image")


# --- the repository's Dockerfile and .dockerignore ------------------------------------------


def test_image_wheel_holds_the_whole_package(image_build: ImageBuild) -> None:
    """The wheel built from only the image's files holds every file under guard/ and the model."""
    names = wheel_names(image_build.wheel)
    source = package_files()
    # The comparison covers each kind of file the package ships: code, types, data, the demo's.
    assert {"guard/__init__.py", "guard/cli.py", "guard/py.typed"} <= source
    assert any(name.endswith(".lua") for name in source)
    assert any(name.endswith(".json") for name in source)
    assert any(name.startswith("guard/demo/static/") for name in source)
    missing = sorted((source | {SHIPPED_MODEL}) - names)
    assert not missing, f"the image's wheel lacks {missing}"
    stray = sorted(name for name in names if not name.startswith(("guard/", "guard-", "guard_")))
    assert not stray, f"the image's wheel holds files from outside the package: {stray}"


def test_image_wheel_ships_the_model_unchanged(image_build: ImageBuild) -> None:
    """The model in the image's wheel is models/behaviour.json, byte for byte."""
    with zipfile.ZipFile(image_build.wheel) as archive:
        assert archive.read(SHIPPED_MODEL) == MODEL.read_bytes()


def test_image_wheel_installs_the_guard_script(image_build: ImageBuild) -> None:
    """The image's wheel declares the console script its CMD runs, as pyproject.toml does."""
    command = the_dockerfile().cmd[0]
    scripts = load_pyproject()["project"]["scripts"]
    with zipfile.ZipFile(image_build.wheel) as archive:
        [entry_points] = [
            n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")
        ]
        text = archive.read(entry_points).decode()
    assert "[console_scripts]" in text
    assert f"{command} = {scripts[command]}" in text


def test_image_copies_only_what_the_build_needs(image_build: ImageBuild) -> None:
    """The image's project directory holds pyproject, README, the build hook, the model and
    guard/ only."""
    top = {path.name for path in image_build.project.iterdir()}
    assert top == {"pyproject.toml", "README.md", "hatch_build.py", "models", "guard"}
    assert _tree(image_build.project / "models") == {"behaviour.json"}


def test_dockerignore_keeps_dev_files_out() -> None:
    """.dockerignore keeps the virtualenv, Git, caches and tests out of the build context."""
    context = Context(ROOT)
    for path in [
        ".venv/bin/python",
        ".git/HEAD",
        ".mypy_cache/3.11/guard/cli.meta.json",
        ".ruff_cache/CACHEDIR.TAG",
        ".pytest_cache/README.md",
        "guard/__pycache__/cli.cpython-311.pyc",
        "guard/store/__pycache__/redis.cpython-311.pyc",
        "guard/store/_memory.cpython-311-x86_64-linux-gnu.so",
        "tests/test_docker.py",
    ]:
        assert context.ignored(path), f"{path} is sent to the Docker build context"
    for path in ["pyproject.toml", "README.md", str(MODEL.relative_to(ROOT)), "guard/cli.py"]:
        assert not context.ignored(path), f"{path} is left out of the Docker build context"


def test_dockerfile_installs_extras_that_exist() -> None:
    """The extras the image installs are pyproject's optional dependencies, with the demo's."""
    dockerfile = the_dockerfile()
    install = the_project_install(dockerfile)
    optional = load_pyproject()["project"]["optional-dependencies"]
    unknown = sorted(set(install.extras) - set(optional))
    assert not unknown, (
        f"pip only warns about unknown extras; these are not in pyproject: {unknown}"
    )
    if dockerfile.cmd[1:2] == ("demo",):
        assert "demo" in install.extras, "the image runs `guard demo`, which needs the demo extra"


def test_dockerfile_cmd_runs_the_guard_script() -> None:
    """The image's CMD is ``guard demo ...``: the console script in [project.scripts], and the
    guard CLI accepts its arguments."""
    cmd = the_dockerfile().cmd
    assert cmd[:2] == ("guard", "demo"), cmd
    assert cmd[0] in load_pyproject()["project"]["scripts"]
    assert guard_cli_error(cmd) is None, guard_cli_error(cmd)


# --- docker-compose.yml ---------------------------------------------------------------------

ENV_EXAMPLE = ROOT / ".env.example"


def compose_tool() -> list[str] | None:
    """A Compose implementation here: Docker's compose plugin, else ``docker-compose``."""
    docker = shutil.which("docker")
    if docker is not None:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return None if legacy is None else [legacy]


def compose_config(
    tool: Sequence[str], compose_file: Path, env_file: Path = ENV_EXAMPLE
) -> subprocess.CompletedProcess[str]:
    """Run ``config --quiet`` (validate, print nothing) on a Compose file, its variables from
    ``env_file`` (the example, by default); no engine needed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COMPOSE_", "GUARD_"))
    }
    files = ["--env-file", str(env_file)]
    return subprocess.run(
        [
            *tool,
            "--project-directory",
            str(ROOT),
            *files,
            "-f",
            str(compose_file),
            "config",
            "--quiet",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_is_valid(tmp_path: Path) -> None:
    """A real Compose implementation accepts docker-compose.yml (and rejects a broken copy)."""
    tool = compose_tool()
    if tool is None:
        pytest.skip(
            "no Compose tool to validate docker-compose.yml: install Debian's docker-compose "
            "(apt-get install --no-install-recommends docker-compose) or Docker's compose "
            "plugin; scripts/test installs it when run as root"
        )
    result = compose_config(tool, COMPOSE_FILE)
    assert result.returncode == 0, f"{' '.join(tool)} config:\n{result.stdout}{result.stderr}"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE_FILE.read_text().replace(
            "    image: redis:7-alpine\n", "    image: redis:7-alpine\n    bogus: 1\n"
        )
    )
    assert compose_config(tool, broken).returncode != 0, "the Compose tool accepted an unknown key"


def test_compose_secrets_come_from_the_env_file(tmp_path: Path) -> None:
    """The file holds no secret: without GUARD_SECRET in an env file it refuses to configure,
    saying what to set; .env.example sets every variable it needs."""
    tool = compose_tool()
    if tool is None:
        pytest.skip("no Compose tool (see test_compose_file_is_valid)")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    missing = compose_config(tool, COMPOSE_FILE, env_file=empty)
    assert missing.returncode != 0
    assert "GUARD_SECRET" in missing.stdout + missing.stderr
    assert "change-me" not in COMPOSE_FILE.read_text()
    assert "GUARD_SECRET=" in ENV_EXAMPLE.read_text()


def test_compose_runs_two_replicas_and_locust_under_a_profile() -> None:
    """Two app replicas with healthchecks share Redis; locust's master and workers exist only
    under the ``loadtest`` profile and wait for healthy replicas."""
    services = compose_services()
    for name in ("app", "app2"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    locusts = {name: svc for name, svc in services.items() if name.startswith("locust")}
    assert set(locusts) == {"locust-master", "locust-worker"}
    for name, service in locusts.items():
        assert service.get("profiles") == ["loadtest"], f"{name} runs without the profile"
        assert service["depends_on"]["app"]["condition"] == "service_healthy"
        assert "benchmarks/locustfile.py" in " ".join(command_of(service) or [])


def compose_services() -> dict[str, dict[str, Any]]:
    """docker-compose.yml's services, read with PyYAML."""
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    services = data.get("services")
    assert isinstance(services, dict)
    assert services, "docker-compose.yml has no services"
    assert all(isinstance(service, dict) for service in services.values())
    return services


def built_services() -> dict[str, dict[str, Any]]:
    """The services that Compose builds from a Dockerfile."""
    return {name: svc for name, svc in compose_services().items() if "build" in svc}


def command_of(service: Mapping[str, Any]) -> list[str] | None:
    """A service's ``command`` as argv (a string is split as a shell would), or None."""
    command = service.get("command")
    if command is None:
        return None
    argv = shlex.split(command) if isinstance(command, str) else [str(word) for word in command]
    return argv


def test_compose_builds_the_dockerfile() -> None:
    """Every service Compose builds uses this directory as its context and its Dockerfile."""
    built = built_services()
    assert built, "no service in docker-compose.yml builds the image"
    for name, service in built.items():
        build = service["build"]
        spec: dict[str, Any] = {"context": build} if isinstance(build, str) else dict(build)
        assert "dockerfile_inline" not in spec, f"{name} builds an inline Dockerfile"
        context = (COMPOSE_FILE.parent / str(spec.get("context", "."))).resolve()
        assert context == ROOT, f"{name} builds from {context}, not {ROOT}"
        dockerfile = (context / str(spec.get("dockerfile", "Dockerfile"))).resolve()
        assert dockerfile == DOCKERFILE, f"{name} builds {dockerfile}, not {DOCKERFILE}"


def test_compose_commands_run_the_guard_script() -> None:
    """Each built service's ``command`` starts with the guard script, and the CLI accepts it."""
    scripts = load_pyproject()["project"]["scripts"]
    for name, service in built_services().items():
        assert "entrypoint" not in service, f"{name} replaces the image's entrypoint"
        argv = command_of(service)
        if argv is None:
            continue  # the image's CMD, checked above
        assert argv[0] == "guard", f"{name} runs {argv[0]!r}"
        assert argv[0] in scripts
        error = guard_cli_error(argv)
        assert error is None, f"{name}: guard rejects {argv}: {error}"


def test_compose_redis_urls_name_its_services() -> None:
    """Every ``--redis-url`` names a service of the file that the command's service depends on,
    and the image installs the redis extra."""
    services = compose_services()
    extras = the_project_install(the_dockerfile()).extras
    urls = 0
    for name, service in services.items():
        argv = command_of(service) or []
        values = [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "--redis-url"]
        values += [word.partition("=")[2] for word in argv if word.startswith("--redis-url=")]
        for url in values:
            urls += 1
            parts = urlsplit(url)
            assert parts.scheme in ("redis", "rediss"), f"{name}: {url} is not a Redis URL"
            assert parts.hostname in services, f"{name}: {url} names no service of the file"
            assert parts.hostname in service.get("depends_on", {}), (
                f"{name} does not depend on {parts.hostname}, the Redis it uses"
            )
            if "build" in service:
                assert "redis" in extras, f"{name} uses Redis, but the image lacks the redis extra"
    assert urls, "no service of docker-compose.yml uses --redis-url"


def test_compose_redis_refuses_writes_rather_than_forget_budgets() -> None:
    """The Redis of the file has a memory limit and the noeviction policy: every evicting
    policy forgot a harvester's budget under a spray (benchmarks/results/eviction.md),
    while a full noeviction Redis keeps what it holds and fails loudly (OOM, counted)."""
    argv = command_of(compose_services()["redis"]) or []
    options = {argv[i]: argv[i + 1] for i, word in enumerate(argv[:-1]) if word.startswith("--")}
    assert options.get("--maxmemory-policy") == "noeviction"
    assert options.get("--maxmemory", "0") not in {"0", "0mb"}
