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
  import its siblings) and everything it prints goes to stderr, so that
  ``--format json`` stays valid JSON.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unet_explain.model.audit.report import AuditError, ModelLoadError

SAVED_SUFFIXES = (".keras", ".h5", ".hdf5")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


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
    where = "" if Path(path).is_absolute() else f" (relative to {Path.cwd()})"
    return AuditError(f"MODEL {spec!r}: no such file {path!r}{where}; check the path")


def _usage(spec: str, why: str) -> AuditError:
    return AuditError(
        f"MODEL {spec!r}: {why}; give a saved model (model.keras) or a factory "
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
                f"MODEL {spec!r} is a folder, not a saved model file; give a .keras or .h5 file "
                "(re-save a model with model.save('model.keras'))"
            )
        if not path.is_file():
            raise AuditError(f"MODEL {spec!r} is not a regular file; give a .keras or .h5 file")
        with path.open("rb") as handle:
            head = handle.read(8)
        if not (zipfile.is_zipfile(path) or head == _HDF5_MAGIC):
            raise AuditError(
                f"MODEL {spec!r} is not a Keras model file (neither a .keras zip archive nor an HDF5 file)"
            )
        return Target(spec, path, None, None)
    module, sep, function = spec.rpartition(":")
    if not sep and path.is_file():
        raise AuditError(f"MODEL {spec!r}: {_not_a_model_file(path)}")
    if not sep and path.is_dir():
        raise _usage(spec, "it is a folder")
    if sep and not module:
        raise _usage(spec, f"nothing before ':{function}'; name the file or module that defines it")
    if not sep:
        raise _usage(spec, "no such file, and no ':function' after a file or module")
    if not function:
        raise _usage(spec, "no ':function' after the file or module")
    if not function.isidentifier():
        raise _usage(spec, f"{function!r} is not a Python function name")
    if module.endswith(".py"):
        file = Path(module)
        if not file.exists():
            raise _missing(spec, module)
        if not file.is_file():
            raise AuditError(f"MODEL {spec!r}: {module!r} is not a file")
        try:
            tree = ast.parse(file.read_bytes(), filename=module)
        except SyntaxError as err:
            raise AuditError(f"MODEL {spec!r}: {module!r} is not valid Python (line {err.lineno}: {err.msg})") from None
        except (OSError, ValueError) as err:
            raise AuditError(f"MODEL {spec!r}: cannot read {module!r} ({err})") from None
        if _defines(tree, function) is False:
            raise AuditError(f"MODEL {spec!r}: {module!r} has no function {function!r}")
        return Target(spec, file, None, function)
    if not all(part.isidentifier() for part in module.split(".")):
        if Path(module).suffix or "/" in module or "\\" in module:
            raise _usage(spec, f"{module!r} is neither a .py file nor a module name")
        raise _usage(spec, f"{module!r} is not a module name")
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise AuditError(f"MODEL {spec!r}: no module {module!r} on the import path")
    return Target(spec, None, module, function)


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


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


@contextlib.contextmanager
def _factory_context(folder: Path | None) -> Iterator[None]:
    """The factory's folder first on the import path, and its prints sent to stderr."""
    added = folder is not None and str(folder) not in sys.path
    if added:
        sys.path.insert(0, str(folder))
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(str(folder))


def _load_saved(target: Target, keras: Any, unsafe: bool) -> Any:
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return keras.models.load_model(target.file, compile=False, safe_mode=not unsafe)
    except Exception as err:
        text = str(err)
        if "safe_mode" in text:
            what = "a Lambda layer" if "Lambda" in text else "a Python lambda"
            raise AuditError(
                f"MODEL {target.spec!r} holds {what}, whose stored Python code would run on loading, so "
                "safe mode refused it; --unsafe (unsafe=True in Python) loads it with safe mode off, running the "
                "code stored in the file (only for files you trust)"
            ) from None
        first = text.strip().splitlines()[0] if text.strip() else ""
        raise ModelLoadError(
            f"MODEL {target.spec!r}: Keras could not load it ({type(err).__name__}: {first})"
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
                    raise AuditError(f"MODEL {spec!r}: cannot import {str(target.file)!r}")
                module = importlib.util.module_from_spec(module_spec)
                sys.modules[name] = module
                module_spec.loader.exec_module(module)
            else:
                module = importlib.import_module(str(target.module))
        except AuditError:
            raise
        except SystemExit as err:
            where = str(target.file or target.module)
            raise ModelLoadError(f"MODEL {spec!r}: importing {where!r} exited (SystemExit {err.code})") from None
        except Exception as err:
            where = str(target.file or target.module)
            raise ModelLoadError(f"MODEL {spec!r}: importing {where!r} failed ({type(err).__name__}: {err})") from None
        where = str(target.file or target.module)
        if not hasattr(module, str(target.function)):
            raise AuditError(f"MODEL {spec!r}: {where!r} has no function {target.function!r}")
        factory = getattr(module, str(target.function))
        if not callable(factory):
            raise AuditError(
                f"MODEL {spec!r}: {target.function!r} in {where!r} is {_a(type(factory).__name__)}, not a function; "
                "name the function that builds the model"
            )
        try:
            model = factory()
        except SystemExit as err:
            raise ModelLoadError(f"MODEL {spec!r}: the factory exited (SystemExit {err.code})") from None
        except Exception as err:
            raise ModelLoadError(f"MODEL {spec!r}: the factory raised {type(err).__name__}: {err}") from None
    if not isinstance(model, keras.Model):
        raise AuditError(
            f"MODEL {spec!r}: the factory returned {_a(type(model).__name__)}, not a Keras model; "
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
