"""Loading the model to audit: a saved ``.keras``/``.h5`` file or a factory function.

Everything that can be checked without Keras is checked first (the file
exists, the factory spec is well formed, the ``.py`` file parses and defines
the function), so a mistake is answered in a fraction of a second, before
TensorFlow is imported.

Two rules about running code:

* a saved file is loaded in Keras's safe mode unless ``unsafe=True``: a
  ``Lambda`` layer stores Python code, and safe mode refuses to run it;
* ``file.py:function`` and ``package.module:function`` RUN that code: the
  user names code to run. Its folder is put on the import path (so it can
  import its siblings) and everything it prints goes to stderr, at the level of
  file descriptors (a child process it starts too), so that ``--format json``
  stays valid JSON.

Bounded on hostile files: a factory's source over :data:`MAX_SOURCE_BYTES` is
refused before it is read (and a parse too deep for Python's parser is one
line); a ``.keras`` file's ``config.json`` is read first (at most
:data:`MAX_CONFIG_BYTES`) and the weights its layers ask for are estimated
against the memory budget, as for the package's own models, before Keras
builds a single layer.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import json
import math
import os
import sys
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unet_explain.errors import plain, shown
from unet_explain.model.audit.report import AuditError, ModelLoadError

SAVED_SUFFIXES = (".keras", ".h5", ".hdf5")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
#: Largest factory source read (10 MB): a real model file is a few kB; a bigger one is refused unread.
MAX_SOURCE_BYTES = 10 * 10**6
#: Largest ``config.json`` read from a ``.keras`` archive (a U-Net's is tens of kB).
MAX_CONFIG_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Target:
    """A checked model spec: a saved file, or a factory in a file or a module."""

    spec: str
    """What the user wrote."""
    file: Path | None
    """The saved model, or the factory's ``.py`` file."""
    module: str | None
    """The factory's module (``package.module``) when it is not a file."""
    function: str | None
    """The factory's name (None for a saved model)."""

    @property
    def saved(self) -> bool:
        """Whether this is a saved model file."""
        return self.function is None


def _missing(spec: str, path: str) -> AuditError:
    try:
        where = "" if Path(path).is_absolute() else f" (relative to {shown(str(Path.cwd()))})"
    except OSError:
        where = " (and the current folder no longer exists; cd to an existing folder)"
    return AuditError(f"MODEL {shown(spec)}: no such file {shown(path)}{where}; check the path")


def _usage(spec: str, why: str) -> AuditError:
    return AuditError(
        f"MODEL {shown(spec)}: {why}; give a saved model (model.keras) or a factory "
        "(path/to/file.py:function or package.module:function)"
    )


def _defines(tree: ast.Module, name: str) -> bool | None:
    """Whether a module's top level binds ``name`` (None: cannot tell, it star-imports)."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return None
                if (alias.asname or alias.name.split(".")[0]) == name:
                    return True
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target)):
                return True
        if isinstance(node, (ast.If, ast.Try, ast.With)) and _mentions(node, name):
            return None  # defined conditionally: let the import tell
    return False


def _mentions(node: ast.AST, name: str) -> bool:
    return any(
        (isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name)
        or (isinstance(n, ast.Name) and n.id == name)
        for n in ast.walk(node)
    )


def parse_target(spec: str) -> Target:
    """Check a model spec without importing Keras; raise :class:`AuditError` in one line if it is wrong."""
    if not spec.strip():
        raise _usage(spec, "empty")
    path = Path(spec)
    if spec.lower().endswith(SAVED_SUFFIXES):
        if not path.exists():
            raise _missing(spec, spec)
        if path.is_dir():
            raise AuditError(
                f"MODEL {shown(spec)} is a folder, not a saved model file; give a .keras or .h5 file "
                "(re-save a model with model.save('model.keras'))"
            )
        if not path.is_file():
            raise AuditError(f"MODEL {shown(spec)} is not a regular file; give a .keras or .h5 file")
        with path.open("rb") as handle:
            head = handle.read(8)
        if not (zipfile.is_zipfile(path) or head == _HDF5_MAGIC):
            raise AuditError(
                f"MODEL {shown(spec)} is not a Keras model file (neither a .keras zip archive nor an HDF5 file)"
            )
        if head != _HDF5_MAGIC:
            check_archive(spec, path)
        return Target(spec, path, None, None)
    module, sep, function = spec.rpartition(":")
    if not sep and path.is_file():
        raise AuditError(f"MODEL {shown(spec)}: {_not_a_model_file(path)}")
    if not sep and path.is_dir():
        raise _usage(spec, "it is a folder")
    if not sep and path.exists():
        raise _usage(spec, "it is not a regular file (a device, pipe or socket)")
    if sep and not module:
        raise _usage(spec, f"nothing before ':{function}'; name the file or module that defines it")
    if not sep:
        raise _usage(spec, "no such file, and no ':function' after a file or module")
    if not function:
        raise _usage(spec, "no ':function' after the file or module")
    if not function.isidentifier():
        raise _usage(spec, f"{shown(function)} is not a Python function name")
    if module.endswith(".py"):
        file = Path(module)
        if not file.exists():
            raise _missing(spec, module)
        if not file.is_file():
            raise AuditError(f"MODEL {shown(spec)}: {shown(module)} is not a file")
        tree = _parse_source(spec, file)
        if _defines(tree, function) is False:
            raise AuditError(f"MODEL {shown(spec)}: {shown(module)} has no function {shown(function)}")
        return Target(spec, file, None, function)
    if not all(part.isidentifier() for part in module.split(".")):
        if Path(module).suffix or "/" in module or "\\" in module:
            raise _usage(spec, f"{shown(module)} is neither a .py file nor a module name")
        raise _usage(spec, f"{shown(module)} is not a module name")
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise AuditError(f"MODEL {shown(spec)}: no module {shown(module)} on the import path")
    if found.origin and found.has_location and Path(found.origin).suffix == ".py":
        _parse_source(spec, Path(found.origin))
    return Target(spec, None, module, function)


def _parse_source(spec: str, file: Path) -> ast.Module:
    """The factory file's syntax tree, after checking its size; every failure is one line."""
    where = shown(str(file))
    try:
        size = file.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise AuditError(
                f"MODEL {shown(spec)}: {where} holds {size:,} bytes, above the {MAX_SOURCE_BYTES // 10**6} MB a "
                "factory's source may have; a model factory is a few kB of Python"
            )
        return ast.parse(file.read_bytes(), filename=str(file))
    except AuditError:
        raise
    except SyntaxError as err:
        why = plain(err.msg, 120)
        raise AuditError(f"MODEL {shown(spec)}: {where} is not valid Python (line {err.lineno}: {why})") from None
    except (RecursionError, MemoryError):
        raise AuditError(
            f"MODEL {shown(spec)}: {where} nests too deeply for Python's parser (an expression of hundreds of "
            "thousands of terms?); a model factory is ordinary Python"
        ) from None
    except (OSError, ValueError) as err:
        raise AuditError(f"MODEL {shown(spec)}: cannot read {where} ({_first_line(err)})") from None


def _first_line(err: BaseException) -> str:
    """An exception's message as one short line (control characters escaped)."""
    text = str(getattr(err, "strerror", None) or err).strip()
    return plain(text.splitlines()[0], 200) if text else type(err).__name__


def _not_a_model_file(path: Path) -> str:
    """Why a file without a ':function' and without a saved-model suffix cannot be audited."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
        archive = zipfile.is_zipfile(path)
    except OSError as err:
        return f"cannot read it ({err.strerror})"
    kind = ".keras zip archive" if archive else "HDF5 file" if head == _HDF5_MAGIC else None
    if kind is not None:
        rename = f"{path.stem}.keras" if archive else f"{path.stem}.h5"
        return f"it looks like a {kind}, but saved models need a .keras or .h5 suffix; rename it to {rename}"
    return f"a saved model needs a .keras or .h5 suffix, and a factory a ':function' (e.g. {path.stem}.py:build_model)"


def check_archive(spec: str, path: Path) -> int:
    """Read a ``.keras`` archive's ``config.json`` (bounded) and refuse a model whose layers would not fit the
    memory budget; return the parameters its layers ask for."""
    from unet_explain.core.budget import current_budget, human_bytes, peak_bytes

    try:
        with zipfile.ZipFile(path) as archive, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if "config.json" not in archive.namelist():
                raise AuditError(f"MODEL {shown(spec)} is a zip archive without config.json, not a .keras model")
            with archive.open("config.json") as member:
                text = member.read(MAX_CONFIG_BYTES + 1)
        if len(text) > MAX_CONFIG_BYTES:
            raise AuditError(
                f"MODEL {shown(spec)}: its config.json is over {MAX_CONFIG_BYTES // 2**20} MiB (a U-Net's is tens "
                "of kB); this is not a model file to load"
            )
        config = json.loads(text)
    except AuditError:
        raise
    except (RecursionError, MemoryError):
        raise AuditError(f"MODEL {shown(spec)}: its config.json nests too deeply to be a model's") from None
    except (OSError, ValueError, zipfile.BadZipFile, NotImplementedError, EOFError) as err:
        raise AuditError(
            f"MODEL {shown(spec)} is not a readable .keras archive ({type(err).__name__}: {_first_line(err)})"
        ) from None
    params, largest, name = _config_params(config)
    needed = peak_bytes(params, largest)
    if needed > current_budget():
        raise AuditError(
            f"MODEL {shown(spec)}: its layers ask for {params:,} parameters ({shown(name, 40)} alone {largest:,}), "
            f"about {human_bytes(needed)} to build, above the memory budget of {human_bytes(current_budget())}; "
            "the file was not loaded"
        )
    return params


def _config_params(config: Any) -> tuple[int, int, str]:
    """Parameters the layers of a Keras config ask for (total, largest, its name), from each layer's config
    and the input shape Keras stored for it (1 channel where none is stored: a lower bound)."""
    total, largest, name = 0, 0, ""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        layer = node.get("config")
        if isinstance(layer, dict) and isinstance(node.get("class_name"), str):
            count = _layer_params(node["class_name"], layer, node.get("build_config"))
            total += count
            if count > largest:
                largest, name = count, str(layer.get("name", node["class_name"]))
    return total, largest, name


def _whole(value: Any) -> int:
    """A positive whole number from a config value, or 0 (anything else: Keras will refuse it itself)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _layer_params(kind: str, config: dict[str, Any], build: Any) -> int:
    shape = build.get("input_shape") if isinstance(build, dict) else None
    while isinstance(shape, list) and shape and isinstance(shape[0], list):
        shape = shape[0]  # several inputs: the first one's shape
    channels = max(_whole(shape[-1]) if isinstance(shape, list) and shape else 0, 1)
    kernel = config.get("kernel_size", 1)
    kernel = [kernel] if not isinstance(kernel, list) else kernel
    area = math.prod(_whole(k) for k in kernel) if kernel and all(_whole(k) for k in kernel) else 1
    if "filters" in config:
        filters = _whole(config["filters"])
        return filters * area * channels // max(_whole(config.get("groups", 1)), 1) + filters
    if "units" in config:
        units = _whole(config["units"])
        return units * channels + units
    if "depth_multiplier" in config:
        return _whole(config["depth_multiplier"]) * area * channels * 2
    if "input_dim" in config and "output_dim" in config:
        return _whole(config["input_dim"]) * _whole(config["output_dim"])
    return 4 * channels if kind.endswith("Normalization") else 0


@contextlib.contextmanager
def _stdout_descriptor_to_stderr() -> Iterator[None]:
    """File descriptor 1 pointed at stderr (or /dev/null) while the user's code runs: what a child process or
    C code writes there cannot mix into the report on standard output."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        yield
        return
    try:
        try:
            os.dup2(2, 1)
        except OSError:  # stderr is closed too: the factory's output goes nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.close(devnull)
        yield
    finally:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


@contextlib.contextmanager
def _factory_context(folder: Path | None) -> Iterator[None]:
    """The factory's folder first on the import path, and its prints sent to stderr."""
    added = folder is not None and str(folder) not in sys.path
    if added:
        sys.path.insert(0, str(folder))
    try:
        with _stdout_descriptor_to_stderr(), contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(str(folder))


def _load_saved(target: Target, keras: Any, unsafe: bool) -> Any:
    try:
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile's notes on odd member names: Keras decides what to load
            return keras.models.load_model(target.file, compile=False, safe_mode=not unsafe)
    except Exception as err:
        text = str(err)
        if "safe_mode" in text:
            what = "a Lambda layer" if "Lambda" in text else "a Python lambda"
            raise AuditError(
                f"MODEL {shown(target.spec)} holds {what}, whose stored Python code would run on loading, so "
                "safe mode refused it; --unsafe (unsafe=True in Python) loads it with safe mode off, running the "
                "code stored in the file (only for files you trust)"
            ) from None
        raise ModelLoadError(
            f"MODEL {shown(target.spec)}: Keras could not load it ({type(err).__name__}: {_first_line(err)})"
        ) from None


def _load_factory(target: Target, keras: Any) -> Any:
    spec = target.spec
    folder = target.file.resolve().parent if target.file is not None else None
    with _factory_context(folder):
        try:
            if target.file is not None:
                name = f"_unet_audit_{target.file.stem}"
                module_spec = importlib.util.spec_from_file_location(name, target.file)
                if module_spec is None or module_spec.loader is None:
                    raise AuditError(f"MODEL {shown(spec)}: cannot import {shown(str(target.file))}")
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[name] = module
                module_spec.loader.exec_module(module)
            else:
                module = importlib.import_module(str(target.module))
        except AuditError:
            raise
        except SystemExit as err:
            where = shown(str(target.file or target.module))
            raise ModelLoadError(f"MODEL {shown(spec)}: importing {where} exited (SystemExit {err.code})") from None
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as err:  # the user's code may raise anything, even a BaseException of its own
            where = shown(str(target.file or target.module))
            raise ModelLoadError(
                f"MODEL {shown(spec)}: importing {where} failed ({type(err).__name__}: {_first_line(err)})"
            ) from None
        where = str(target.file or target.module)
        if not hasattr(module, str(target.function)):
            raise AuditError(f"MODEL {shown(spec)}: {shown(where)} has no function {shown(str(target.function))}")
        factory = getattr(module, str(target.function))
        if not callable(factory):
            raise AuditError(
                f"MODEL {shown(spec)}: {shown(str(target.function))} in {shown(where)} is "
                f"{_a(type(factory).__name__)}, not a function; name the function that builds the model"
            )
        try:
            model = factory()
        except SystemExit as err:
            raise ModelLoadError(f"MODEL {shown(spec)}: the factory exited (SystemExit {err.code})") from None
        except (KeyboardInterrupt, GeneratorExit):
            raise
        except BaseException as err:
            raise ModelLoadError(
                f"MODEL {shown(spec)}: the factory raised {type(err).__name__}: {_first_line(err)}"
            ) from None
    if not isinstance(model, keras.Model):
        raise AuditError(
            f"MODEL {shown(spec)}: the factory returned {_a(type(model).__name__)}, not a Keras model; "
            "it must return the keras.Model it builds"
        )
    return model


def load_model(spec: str, *, unsafe: bool = False) -> Any:
    """A Keras model from a ``.keras``/``.h5`` file, or from ``file.py:function`` / ``package.module:function``.

    The spec is checked before Keras is imported. A saved file is loaded in
    safe mode unless ``unsafe`` is true; a factory's code runs (that is what
    the spec asks for).
    """
    target = parse_target(spec)
    from unet_explain.model.keras_unet import load_keras

    keras = load_keras()
    return _load_saved(target, keras, unsafe) if target.saved else _load_factory(target, keras)
