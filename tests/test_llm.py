"""The language model backends against a real (tiny, random) Llama: in process (``hf:``), and over HTTP
(``openai:``) through a real ``transformers serve`` and through a small OpenAI-compatible server written here
that returns prompt log-probabilities, so that scoring over HTTP is checked against the in-process numbers.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from chessteach.llm import GenerationConfig, ModelLoadError, ModelRequestError, ModelSpecError, load_model

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from chessteach.llm.openai_backend import OpenAIModel  # noqa: E402
from chessteach.llm.transformers_backend import TransformersModel  # noqa: E402

PROMPTS: list[Any] = [
    "1. e4 e5 2. Nf3 Nc6 3.",
    "The fork",
    [{"role": "system", "content": "You are a chess coach."}, {"role": "user", "content": "What is a pin?"}],
    "r1bqkbnr/pppp1ppp/2n5/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 2 3",
]
GREEDY = GenerationConfig(max_new_tokens=12)

pytestmark = pytest.mark.slow
SERVER_START_S = 90.0


@pytest.fixture(scope="module")
def hf_model(tiny_model_dir: Path) -> Iterator[TransformersModel]:
    model = load_model(f"hf:{tiny_model_dir}?batch_size=3")
    assert isinstance(model, TransformersModel)
    yield model
    model.close()


def _by_hand(model: TransformersModel, prompt: str, continuation: str) -> float:
    """Log-probability of ``continuation`` after ``prompt`` from one forward pass, written out in full."""
    tok = model.tokenizer
    prompt_ids = tok(prompt)["input_ids"]
    ids = tok(prompt + continuation)["input_ids"]
    assert ids[: len(prompt_ids)] == prompt_ids, "pick a pair whose joint tokenization starts with the prompt's"
    with torch.no_grad():
        logits = model.model(torch.tensor([ids])).logits[0]
    logprobs = torch.log_softmax(logits.double(), dim=-1)
    return sum(float(logprobs[i - 1, ids[i]]) for i in range(len(prompt_ids), len(ids)))


# --- hf: ---------------------------------------------------------------------------------------------------------


def test_hf_batched_generation_equals_one_at_a_time(hf_model: TransformersModel) -> None:
    together = hf_model.generate(PROMPTS, GREEDY)
    alone = [hf_model.generate([p], GREEDY)[0] for p in PROMPTS]
    assert together == alone
    assert len(together) == len(PROMPTS) and all(isinstance(t, str) for t in together)
    assert any(together), "a random model still says something"


def test_hf_chat_prompt_uses_the_chat_template(hf_model: TransformersModel) -> None:
    chat = [{"role": "user", "content": "What is a pin?"}]
    rendered = "<|user|>What is a pin?\n<|assistant|>"
    config = GenerationConfig(max_new_tokens=8)
    assert hf_model.generate([chat], config) == hf_model.generate([rendered], config)


def test_hf_stop_strings_truncate(hf_model: TransformersModel) -> None:
    free = hf_model.generate(PROMPTS, GenerationConfig(max_new_tokens=12))
    stop = next(t[len(t) // 2 :][:2] for t in free if len(t) >= 4)  # a string that does occur
    stopped = hf_model.generate(PROMPTS, GenerationConfig(max_new_tokens=12, stop=(stop,)))
    for full, cut in zip(free, stopped, strict=True):
        assert stop not in cut
        assert full.startswith(cut)
        if stop in full:
            assert cut == full[: full.index(stop)]


def test_hf_sampling_honours_the_seed(hf_model: TransformersModel) -> None:
    config = GenerationConfig(max_new_tokens=10, temperature=1.0, seed=7)
    assert hf_model.generate(PROMPTS, config) == hf_model.generate(PROMPTS, config)


def test_hf_score_equals_a_forward_pass_by_hand(hf_model: TransformersModel) -> None:
    prompt, continuation = "1. e4 e5 2. Nf3 Nc6 3.", " Bb5 a6"
    expected = _by_hand(hf_model, prompt, continuation)
    assert hf_model.score([prompt], [continuation])[0] == pytest.approx(expected, abs=1e-4)
    assert expected < 0


def test_hf_score_is_batch_invariant(hf_model: TransformersModel) -> None:
    prompts = [*PROMPTS, "1. d4", "1. d4"]
    continuations = [" Bb5", " fork", "A pin is", " 3... Nf6", " d5 2. c4", ""]
    together = hf_model.score(prompts, continuations)
    alone = [hf_model.score([p], [c])[0] for p, c in zip(prompts, continuations, strict=True)]
    assert together == pytest.approx(alone, abs=1e-4)
    assert together[-1] == 0.0
    assert all(s < 0 for s in together[:-1])


def test_hf_score_takes_exactly_the_continuation_tokens_at_a_merged_boundary(hf_model: TransformersModel) -> None:
    tok = hf_model.tokenizer
    prompt, continuation = "1. e4 e5 2. N", "f3"  # the joint text has the token "ĠNf", the prompt "ĠN"
    prompt_ids = tok(prompt)["input_ids"]
    joint = tok(prompt + continuation)["input_ids"]
    assert joint[: len(prompt_ids)] != prompt_ids
    ids = prompt_ids + tok(continuation, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logprobs = torch.log_softmax(hf_model.model(torch.tensor([ids])).logits[0].double(), dim=-1)
    expected = sum(float(logprobs[i - 1, ids[i]]) for i in range(len(prompt_ids), len(ids)))
    assert hf_model.score([prompt], [continuation])[0] == pytest.approx(expected, abs=1e-4)


def test_hf_bad_path_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no such directory") as missing:
        load_model(f"hf:{tmp_path / 'nowhere'}")
    assert str(tmp_path / "nowhere") in str(missing.value) and "\n" not in str(missing.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="no config.json"):
        load_model(f"hf:{tmp_path / 'empty'}")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="broken"):
        load_model(f"hf:{tmp_path / 'broken'}")


def test_bad_specs_name_the_valid_kinds_and_options(tiny_model_dir: Path) -> None:
    with pytest.raises(ModelSpecError, match=r"valid kinds: hf, openai, vllm"):
        load_model("gguf:model.gguf")
    with pytest.raises(ModelSpecError, match="KIND:TARGET"):
        load_model("just-a-name")
    with pytest.raises(ModelSpecError, match="valid options: batch_size, convert, device, dtype, gguf, trust_remote_code"):
        load_model(f"hf:{tiny_model_dir}?remote=1")
    with pytest.raises(ModelSpecError, match="openai:URL#MODEL"):
        load_model("openai:http://127.0.0.1:8000/v1")


def test_vllm_without_vllm_says_what_to_do() -> None:
    pytest.importorskip("torch")
    try:
        import vllm  # noqa: F401

        pytest.skip("vllm is installed here")
    except ImportError:
        pass
    with pytest.raises(ModelLoadError, match=r"pip install 'chessteach\[vllm\]'.*hf:PATH or openai:URL#MODEL"):
        load_model("vllm:some/model")


# --- openai: against transformers serve ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def transformers_server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``transformers serve`` on a free loopback port with the tiny model; its base URL (``.../v1``)."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    pytest.importorskip("openai")
    port = _free_port()
    cache = tmp_path_factory.mktemp("hf-cache")  # /v1/models lists this (empty) cache rather than failing
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "TOKENIZERS_PARALLELISM": "false"}
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    command = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(tiny_model_dir)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"transformers serve exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve not ready after {SERVER_START_S:g} s; see {log.name}")
            time.sleep(0.3)
        yield f"{url}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_openai_chat_generation_through_transformers_serve(
    transformers_server: str, tiny_model_dir: Path, hf_model: TransformersModel
) -> None:
    model = load_model(f"openai:{transformers_server}?concurrency=2#{tiny_model_dir}")
    chats = [p for p in PROMPTS if not isinstance(p, str)] + [[{"role": "user", "content": "1. e4"}]]
    config = GenerationConfig(max_new_tokens=8)
    # the server decodes the same model greedily: the same answers as in process
    assert model.generate(chats, config) == hf_model.generate(chats, config)
    plain = model.generate(["1. e4 e5 2."], config)
    assert plain == hf_model.generate(["1. e4 e5 2."], config)


def test_openai_scoring_on_transformers_serve_says_it_cannot(transformers_server: str, tiny_model_dir: Path) -> None:
    model = load_model(f"openai:{transformers_server}#{tiny_model_dir}")
    with pytest.raises(ModelRequestError, match=r"cannot score.*vllm serve.*hf: backend"):
        model.score(["1. e4 e5 2."], [" Nf3"])


def test_openai_unknown_model_is_named(transformers_server: str) -> None:
    model = load_model(f"openai:{transformers_server}?retries=0#no-such-model")
    with pytest.raises(ModelRequestError, match="does not know model 'no-such-model'"):
        model.generate([[{"role": "user", "content": "hi"}]], GenerationConfig(max_new_tokens=2))


def test_openai_no_server_fails_fast_and_says_how_to_start_one() -> None:
    url = f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there
    model = OpenAIModel(url, "tiny", retries=2, backoff_s=0.05)
    started = time.monotonic()
    with pytest.raises(ModelLoadError, match=r"no server at .*vllm serve MODEL.*transformers serve"):
        model.generate(["1. e4"], GenerationConfig(max_new_tokens=2))
    assert time.monotonic() - started < 5


# --- openai: scoring, against a server that returns prompt logprobs ------------------------------------------------


class _EchoHandler(BaseHTTPRequestHandler):
    """``/v1/completions`` with ``echo`` and ``logprobs`` (as vLLM answers), computed by the tiny model."""

    model: TransformersModel
    lock = threading.Lock()
    busy: Iterator[int]

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/v1/chat/completions":  # as vLLM answers a prompt over the context
            message = "This model's maximum context length is 64 tokens. However, you requested 900 tokens."
            self._send(400, {"error": {"message": message, "type": "BadRequestError", "code": 400}})
            return
        if body.get("prompt") == "busy" and next(self.busy) < 2:  # overloaded twice, then fine
            self._send(503, {"error": {"message": "overloaded"}})
            return
        if self.path != "/v1/completions" or not body.get("echo"):
            self._send(400, {"error": {"message": "only echo completions here"}})
            return
        tok = self.model.tokenizer
        ids = [tok.bos_token_id, *tok(body["prompt"])["input_ids"]]  # a BOS, as Llama tokenizers add
        with self.lock, torch.no_grad():
            logits = self.model.model(torch.tensor([ids])).logits[0]
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        nxt = int(logits[-1].argmax())
        token_logprobs = [None] + [float(logprobs[i - 1, ids[i]]) for i in range(1, len(ids))]
        token_logprobs.append(float(logprobs[-1, nxt]))
        ids.append(nxt)
        tokens = [tok.decode(ids[:1])] + [
            tok.decode(ids[: i + 1])[len(tok.decode(ids[:i])) :] for i in range(1, len(ids))
        ]
        offsets = [0]
        for t in tokens[:-1]:
            offsets.append(offsets[-1] + len(t))
        answer = {
            "choices": [
                {
                    "text": "".join(tokens),
                    "logprobs": {"tokens": tokens, "token_logprobs": token_logprobs, "text_offset": offsets},
                }
            ],
            "usage": {"prompt_tokens": len(ids) - 1, "completion_tokens": 1},
        }
        self._send(200, answer)

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def echo_server(hf_model: TransformersModel) -> Iterator[str]:
    handler = type("Handler", (_EchoHandler,), {"model": hf_model, "busy": itertools.count()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_score_aligns_echoed_tokens_with_the_continuation(echo_server: str, hf_model: TransformersModel) -> None:
    model = load_model(f"openai:{echo_server}?concurrency=3#tiny")
    prompts = ["1. e4 e5 2. Nf3 Nc6 3.", "The fork", "1. d4", "1. d4"]
    continuations = [" Bb5 a6", " attacks two pieces", " d5 2. c4", ""]
    over_http = model.score(prompts, continuations)
    # the echo server puts a BOS first; score the same ids in process to compare
    bos = hf_model.tokenizer.bos_token_id
    for prompt, continuation, got in zip(prompts, continuations, over_http, strict=True):
        if not continuation:
            assert got == 0.0
            continue
        prompt_ids = [bos, *hf_model.tokenizer(prompt)["input_ids"]]
        ids = [bos, *hf_model.tokenizer(prompt + continuation)["input_ids"]]
        assert ids[: len(prompt_ids)] == prompt_ids
        with torch.no_grad():
            logprobs = torch.log_softmax(hf_model.model(torch.tensor([ids])).logits[0].double(), dim=-1)
        expected = sum(float(logprobs[i - 1, ids[i]]) for i in range(len(prompt_ids), len(ids)))
        assert got == pytest.approx(expected, abs=1e-3)
        assert math.isfinite(got)


def test_openai_retries_overload_and_names_a_too_long_prompt(echo_server: str) -> None:
    model = OpenAIModel(echo_server, "tiny", retries=2, backoff_s=0.05)
    assert model.score(["busy"], [" signal"])[0] < 0  # two 503s, then an answer
    with pytest.raises(ModelRequestError, match="prompt too long for the model's context.*maximum context length"):
        model.generate([[{"role": "user", "content": "a very long game"}]])
