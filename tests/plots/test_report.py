"""`dnnexp report`'s page, rendered by headless Chromium: the table sorts on a click, every picture
decodes, nothing is fetched from elsewhere.

Chromium is Debian's `chromium` package (`make test` installs it as root where apt exists). Without
it the rendering tests are skipped on a developer's machine, and fail under CI=true: CI must run them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from dnnexp.errors import DnnexpError
from dnnexp.plots.report import report_html, write_report
from dnnexp.runs.rundir import RunDir

# Run once the page has loaded (its pictures decoded): click a header twice, note the rows' order
# each time, and every picture's decoded width; the result goes into the DOM Chromium dumps.
PROBE = """<script>
window.addEventListener("load", () => {
  const header = [...document.querySelectorAll("#compare th")].find(th => th.textContent === "COLUMN");
  const order = () => [...document.querySelectorAll("#compare tbody tr")].map(row => row.cells[0].textContent);
  const before = order();
  header.click(); const ascending = order();
  header.click(); const descending = order();
  const images = [...document.images].map(img => img.naturalWidth);
  const external = [...document.querySelectorAll("[src], link[href]")].map(e => e.getAttribute("src") || e.getAttribute("href"))
    .filter(url => !url.startsWith("data:"));
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({before, ascending, descending, images, external});
  document.body.append(probe);
});
</script></body>"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "headless Chromium is needed to render the report: apt-get install chromium (make test does as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def rendered(page: Path, column: str) -> dict:
    """What PROBE saw of `page` in headless Chromium, sorting by `column`."""
    probed = page.with_name("probed.html")
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE.replace("COLUMN", column)), encoding="utf-8")
    dom = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000", "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=180, check=True,
    ).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, f"the page did not load or its probe did not run:\n{dom[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def held_picture(path: Path) -> None:
    """A small real PNG, as `dnnexp plot --filters` would leave in a run folder."""
    fig = Figure(figsize=(2, 1))
    fig.subplots().plot([0, 1], [1, 0])
    fig.savefig(path, format="png")


def test_several_runs_sort_by_a_click_and_every_picture_decodes(make_run, tmp_path: Path) -> None:
    speeds = {"a": 0.2, "b": 0.9, "c": 0.5}
    paths = {name: make_run(name, {"optimizer.lr": speed}, speed=speed, layer_stats=True, activations=True) for name, speed in speeds.items()}
    held_picture(paths["b"] / "filters.png")
    runs = [RunDir.open(path) for path in paths.values()]
    page = write_report(runs, tmp_path / "report.html")

    seen = rendered(page, "final_train_loss")
    names = {RunDir(path).name: name for name, path in paths.items()}
    # Faster runs end with the lower training loss.
    assert [names[n] for n in seen["before"]] == ["a", "b", "c"]
    assert [names[n] for n in seen["ascending"]] == ["b", "c", "a"]
    assert [names[n] for n in seen["descending"]] == ["a", "c", "b"]
    # learning curves, then per run layer statistics and activations, and b's filters
    assert len(seen["images"]) == 1 + 3 * 2 + 1 and all(width > 0 for width in seen["images"])
    assert seen["external"] == []


def test_a_single_run_shows_its_config_and_pictures(make_run, tmp_path: Path) -> None:
    run = RunDir.open(make_run(layer_stats=True))
    held_picture(run.file("fit.png"))
    page = write_report([run], tmp_path / "one.html")
    text = page.read_text(encoding="utf-8")
    assert "nothing to differ from" in text and "<details open>" in text and "fit.png" in text

    seen = rendered(page, "run")
    assert len(seen["images"]) == 3 and all(width > 0 for width in seen["images"])


def test_a_run_without_a_picture_it_names_says_why_in_its_place(make_run) -> None:
    run = RunDir.open(make_run(layer_stats=True))
    run.file("layer_stats.csv").write_text("epoch\n")  # a header and nothing else: nothing to draw
    assert 'class="missing">layer statistics: not drawn' in report_html([run])


def test_report_must_be_html_and_is_written_whole(make_run, tmp_path: Path) -> None:
    run = RunDir.open(make_run())
    with pytest.raises(DnnexpError, match=r"must end in \.html"):
        write_report([run], tmp_path / "report.png")
    assert list(tmp_path.glob("report*")) == []


def test_text_from_runs_is_escaped(make_run) -> None:
    run = RunDir.open(make_run("mlp", {"data.name": "<script>alert(1)</script>"}))
    other = RunDir.open(make_run("mlp"))
    page = report_html([run, other])
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
