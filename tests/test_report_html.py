"""The report of a results store: the HTML page checked in headless Chromium (every image loads,
the expected rows are there, a screenshot), and the markdown version of the same tables.

The browser is driven with Chromium's own ``--dump-dom`` (no Python driver to install): the test
adds a script to a copy of the page that, once the page has loaded, writes into the DOM how many
images there are and which failed to decode; ``--virtual-time-budget`` lets it run before the
dump."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from datadistill.cli.main import main
from datadistill.experiments import Store, load_grid
from datadistill.report.experiments import markdown_part

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHECK = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0));
  document.body.setAttribute("data-images", String(images.length));
  document.body.setAttribute("data-broken", JSON.stringify(broken.map(i => i.src)));
});
</script></body>"""


def _record(store: Store, folder: Path, **cell: object) -> None:
    """A finished cell with made-up accuracies (no training): ours, and its references."""
    spec = {"seed": 0, **cell}
    spec["key"] = "{dataset}-{method}-{ipc}-{seed}".format(**spec)
    base = {"random": 60.0, "dm": 80.0, "full": 99.0}[str(spec["method"])] + int(spec["ipc"]) / 10
    results = [
        {"model": m, "accs": [base - d + s, base - d - s], "mean": base - d, "std": s}
        for m, d, s in (("convnet", 0.0, 1.0), ("mlp", 10.0, 2.0))
    ]
    picture = folder / f"{spec['key']}.png"
    shutil.copyfile(folder / "grid.png", picture)
    files = {"grid": str(picture)} if spec["ipc"] else {}
    result = {"results": results, "files": files, "version": "0.1.0"}
    store.record(spec, {**result, "device": "cpu (test)", "git_commit": "abc"})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("store")
    plt.imsave(folder / "grid.png", np.linspace(0, 1, 16 * 24).reshape(16, 24), cmap="gray")
    path = folder / "results.sqlite"
    with Store(path) as s:
        for method in ("random", "dm"):
            for ipc in (1, 10):
                for seed in (0, 1):
                    _record(s, folder, dataset="mnist", method=method, ipc=ipc, seed=seed)
        _record(s, folder, dataset="mnist", method="full", ipc=0)
        s.record_failure(
            {"key": "bad", "dataset": "mnist", "method": "dm", "ipc": 50, "seed": 0},
            RuntimeError("diverged at iteration 7"),
        )
    return path


def _chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
def test_html_report_in_headless_chromium(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(store), "--out", str(out), "--title", "Test grid"]) == 0
    page = out / "index.html"
    checked = out / "checked.html"  # a copy with the check, beside the page so images resolve
    checked.write_text(page.read_text().replace("</body>", CHECK))
    dom = _chromium(
        "--virtual-time-budget=5000", "--dump-dom", checked.as_uri(), tmp=tmp_path
    ).stdout
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    n = int(re.search(r'data-images="(\d+)"', body.group(1)).group(1))
    broken = json.loads(
        re.search(r'data-broken="([^"]*)"', body.group(1)).group(1).replace("&quot;", '"')
    )
    # plots: 2 (mnist × convnet, mlp); pictures: 4 (method × ipc, lowest seed; none for full)
    assert n == 6 and broken == []
    rows = [re.sub(r"<[^>]+>", "|", r) for r in re.findall(r"<tr>.*?</tr>", dom)]
    cells = [[c for c in r.split("|") if c] for r in rows]
    # ours beside the published number (DC Table 1 random; DM Table 1), relative to random/full
    assert [
        "mnist",
        "random",
        "1",
        "convnet",
        "60.10 ± 1.00",
        "2 × 2",
        "64.90 ± 3.50",
        "-4.80",
        "1.000",
        "0.607",
    ] in cells
    assert [
        "mnist",
        "dm",
        "10",
        "convnet",
        "81.00 ± 1.00",
        "2 × 2",
        "97.50",
        "-16.50",
        "1.328",
        "0.818",
    ] in cells
    assert ["mnist", "full", "all", "mlp", "89.00 ± 2.00", "1 × 2", "–", "–", "–", "1.000"] in cells
    assert ["dm", "10", "81.00 ± 1.00", "71.00 ± 2.00"] in cells  # the cross-architecture matrix
    assert ["mnist", "dm", "50", "0", "RuntimeError: diverged at iteration 7"] in cells
    shot = tmp_path / "screenshot.png"
    _chromium("--window-size=1280,2000", f"--screenshot={shot}", page.as_uri(), tmp=tmp_path)
    assert shot.stat().st_size > 10_000


def test_markdown_report_has_the_same_tables(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "md"
    args = ["report", str(store), "--out", str(out), "--format", "markdown", "--where", "ipc=10"]
    assert main(args) == 0
    text = (out / "report.md").read_text()
    assert "| mnist | dm | 10 | convnet | 81.00 ± 1.00 | 2 × 2 | 97.50 | -16.50 |" in text
    assert "| mnist | random | 1 |" not in text
    assert "Published: Zhao & Bilen 2023 (DM), Table 1 (20,000 iterations)." in text
    for image in re.findall(r"\]\((images/[^)]+)\)", text):
        assert (out / image).is_file()
    assert main(["report", str(store), "--out", str(out), "--format", "pdf"]) == 2
    part = markdown_part(store, tmp_path / "results", image_prefix="results/", level=3)
    assert part.startswith("### Accuracy") and "](results/images/" in part


def test_benchmark_grids_expand() -> None:
    for path in sorted((Path(__file__).parents[1] / "benchmarks" / "grids").glob("*.yaml")):
        assert load_grid(path).cells(), path
