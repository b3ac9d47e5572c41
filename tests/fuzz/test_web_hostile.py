"""The web server under hostile requests: it opens no file a request names (unless given a
data folder, and then only inside it), accepts only JSON/YAML bodies, checks Host and, off
loopback, a token; under fuzzing it never answers 500."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="FastAPI is not installed: pip install -e .")
from fuzz_support import FUZZ, HOSTILE
from hypothesis import given
from hypothesis import strategies as st

import support
from llm_tco.web.app import DEFAULT_SCENARIO, create_app

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
OPENED: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # Every file the interpreter opens (open(), Path.open, os.open) passes through here.
    if event == "open" and args and isinstance(args[0], str | bytes | os.PathLike):
        OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture(scope="module")
def client() -> Any:
    return support.api_client(raise_server_exceptions=False)


def scenario_with(**paths: str) -> dict[str, Any]:
    data = copy.deepcopy(DEFAULT_SCENARIO)
    if "from_logs" in paths:
        data["workload"] = {"from_logs": paths["from_logs"]}
    if "bench_result" in paths:
        hosted = data["options"][1]["self_hosted"]
        hosted["bench_result"] = paths["bench_result"]
        del hosted["gpu_count"]
    return data


SECRET_LOG = DATA / "generic.csv"  # a log the server could read
SECRET_BENCH = Path(__file__).resolve().parents[1] / "data" / "guidellm_0.8.1_concurrent4.json"


@pytest.mark.parametrize("endpoint", ["/api/evaluate", "/api/view", "/api/recommend", "/api/parse"])
@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("from_logs", str(SECRET_LOG), "workload.from_logs"),
        ("from_logs", "../../../etc/passwd", "workload.from_logs"),
        ("bench_result", str(SECRET_BENCH), "options[1:llama-3.3-70b].self_hosted.bench_result"),
        ("bench_result", "/dev/zero", "options[1:llama-3.3-70b].self_hosted.bench_result"),
    ],
)
def test_path_fields_are_refused_and_nothing_is_opened(
    client: Any, endpoint: str, field: str, value: str, named: str
) -> None:
    OPENED.clear()
    response = client.post(endpoint, json=scenario_with(**{field: value}))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == named
    assert "reads no files" in response.json()["error"]
    assert not [p for p in OPENED if Path(value).name in p], OPENED


def test_sweep_path_fields_are_refused(client: Any) -> None:
    body = {"scenario": scenario_with(from_logs=str(SECRET_LOG)), "volumes": ["1B"]}
    response = client.post("/api/sweep", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "scenario.workload.from_logs"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(SECRET_LOG, folder / "logs.csv")
    (folder / "out.csv").symlink_to(SECRET_LOG)  # a link that leads outside
    os.mkfifo(folder / "fifo.csv")
    return folder


@pytest.mark.parametrize(
    ("name", "status", "says"),
    [
        ("logs.csv", 200, None),
        ("../data/logs.csv", 422, "without '..'"),
        ("/etc/passwd", 422, "relative path"),
        ("out.csv", 422, "outside the server's data folder"),
        ("fifo.csv", 422, "not a regular file"),
        ("missing.csv", 422, "no such file"),
    ],
)
def test_a_data_folder_confines_names(
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    status: int,
    says: str | None,
) -> None:
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path / "cache"))
    client = support.api_client(create_app(data_dir=data_dir), raise_server_exceptions=False)
    response = client.post("/api/evaluate", json=scenario_with(from_logs=name))
    assert response.status_code == status, response.text
    if says:
        assert says in response.json()["error"]
        assert response.json()["errors"][0]["field"] == "workload.from_logs"
    else:
        # Read from inside the data folder, as the operator allowed.
        assert "derived from logs" in response.text


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/yaml",
        "",
    ],
)
def test_only_json_and_yaml_bodies(client: Any, content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = json.dumps(DEFAULT_SCENARIO).encode()
    raw = support.api_client(raise_server_exceptions=False)
    if not content_type:
        raw.headers.pop("content-type")
    response = raw.post("/api/evaluate", content=body, headers=headers)
    assert response.status_code == 415
    assert response.json()["errors"][0]["field"] == "Content-Type"


@pytest.mark.parametrize(
    "host", ["evil.example", "127.0.0.1.evil.example", "localhost.", "", "[::2]"]
)
def test_a_wrong_host_gets_400(host: str) -> None:
    client = support.api_client(raise_server_exceptions=False)
    response = client.get("/api/health", headers={"host": host})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Host"


def test_allowed_hosts_and_loopback_names() -> None:
    app = create_app(allowed_hosts=["127.0.0.1", "localhost", "box.lan"])
    for host in ("127.0.0.1:8000", "localhost", "box.lan:80", "BOX.LAN"):
        client = support.api_client(app)
        assert client.get("/api/health", headers={"host": host}).status_code == 200, host


def test_a_token_is_required_when_set() -> None:
    app = create_app(token="s3cret-token")
    client = support.api_client(app, raise_server_exceptions=False)
    assert client.get("/api/health").status_code == 401
    assert client.get("/").status_code == 401
    assert client.get("/api/health", headers={"authorization": "Bearer wrong"}).status_code == 401
    latin1 = {"authorization": "Bearer \u00e9".encode("latin-1")}
    assert client.get("/api/health", headers=latin1).status_code == 401
    ok = client.get("/api/health", headers={"authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
    # ?token= on the page trades the token for a cookie the browser sends back.
    first = client.get("/?token=s3cret-token", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "httponly" in first.headers["set-cookie"].lower()
    assert client.get("/api/health").status_code == 200  # the client kept the cookie
    assert client.get("/static/app.js").status_code == 200


def test_big_yaml_is_refused_before_parsing(client: Any) -> None:
    big = b"description: |\n" + b"  x\n" * (1024 * 1024 // 4 + 10)
    declared = client.post(
        "/api/evaluate", content=big, headers={"content-type": "application/yaml"}
    )
    assert declared.status_code == 413

    def chunks() -> Any:  # no Content-Length: read, then refused by size before parsing
        yield big

    streamed = client.post(
        "/api/evaluate", content=chunks(), headers={"content-type": "application/yaml"}
    )
    assert streamed.status_code == 422 and "YAML over 1 MB" in streamed.json()["error"]


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.yaml")), ids=lambda p: p.name)
def test_hostile_files_as_bodies(client: Any, path: Path) -> None:
    response = client.post(
        "/api/evaluate", content=path.read_bytes(), headers={"content-type": "application/yaml"}
    )
    assert response.status_code in (200, 422), response.text
    body = response.json()
    if response.status_code == 422:
        assert body["errors"][0]["field"] and "\x1b" not in body["error"]


# --- fuzzing ---------------------------------------------------------------------------------

hostile_values = st.one_of(
    st.floats(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.text(max_size=30),
    st.sampled_from(["/etc/passwd", "../x", "\x1b[2J", "1e400", "NaN", "auto", None, True, [], {}]),
)
fields = st.sampled_from(
    [
        ("workload", "from_logs"),
        ("workload", "peak_to_mean"),
        ("workload", "requests_per_month"),
        ("options", 0, "name"),
        ("options", 1, "self_hosted", "bench_result"),
        ("options", 1, "self_hosted", "gpu_count"),
        ("options", 1, "self_hosted", "gpu"),
        ("hours_per_month",),
        ("sweep",),
        ("uncertain",),
    ]
)


@st.composite
def hostile_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    data = copy.deepcopy(DEFAULT_SCENARIO)
    for path in draw(st.lists(fields, min_size=1, max_size=3)):
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = draw(hostile_values)
    kind = draw(st.sampled_from(["application/json", "application/yaml", "text/plain", "x/y"]))
    text = json.dumps(data, allow_nan=True)
    if kind == "application/yaml" and draw(st.booleans()):
        text = "a: &x [1, 2]\n" + text.replace('"peak_to_mean"', "!!binary x")  # hostile YAML
    return text.encode("utf-8", "surrogatepass"), kind


@FUZZ
@given(
    hostile_bodies(),
    st.sampled_from(["/api/evaluate", "/api/view", "/api/recommend?samples=50", "/api/parse"]),
    st.sampled_from(["127.0.0.1", "localhost:8000", "evil.example", "[::1]:8000", ""]),
)
def test_fuzzed_requests_never_500(body: tuple[bytes, str], path: str, host: str) -> None:
    content, kind = body
    client = support.api_client(raise_server_exceptions=False)
    OPENED.clear()
    response = client.post(path, content=content, headers={"content-type": kind, "host": host})
    assert response.status_code < 500, response.text
    payload = response.json()
    if response.status_code >= 400:
        assert payload["ok"] is False and payload["status"] == response.status_code
    assert not [p for p in OPENED if "passwd" in p or p.endswith("/x")], OPENED
