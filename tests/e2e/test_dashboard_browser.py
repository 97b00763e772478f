"""The training dashboard in a real JupyterLab, driven by clicks in Chromium.

Checks what an instructor sees: the controls render, a loss choice and a learning-rate slider reach the kernel,
Start trains (the step counter and the plot advance), Pause stops the counter, Step advances it by exactly one.
Screenshots (before, running, paused; the teaching tools; the class-conditional toy) land in artifacts/e2e/.
"""

from __future__ import annotations

import math
import re
import time

import pytest

CONTROLS = ("start", "pause", "step", "reset", "loss", "lr-d", "lr-g", "step-count", "plot")


def step_count(page) -> int:
    text = page.inner_text(".ganlab-step-count")
    match = re.search(r"\d+", text)
    assert match, f"step counter shows no number: {text!r}"
    return int(match.group())


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_all_cells(page) -> None:
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")


def dismiss_news(page) -> None:
    """JupyterLab asks once whether to fetch news; answer No so the toast does not cover the dashboard."""
    button = page.locator(".jp-toast-button:text-is('No'), .Toastify button:text-is('No')")
    try:
        button.first.click(timeout=3_000)
    except Exception:  # noqa: BLE001 - no toast this time
        pass


def kernel_state(page) -> dict[str, str]:
    """Re-run the state cell (the second code cell) in place and parse its 'STATE k=v ...' line."""
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(1)
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")  # run in place; Shift+Enter would add a cell below
    wait_until(lambda: prompt.inner_text() not in (before, "[*]:") and "STATE" in _text(cell), 30,
               "the state cell to run again")
    line = next(ln for ln in _text(cell).splitlines() if ln.startswith("STATE"))
    return dict(pair.split("=", 1) for pair in line.split()[1:])


def show_dashboard(page) -> None:
    """Scroll the notebook so that the dashboard's top (scenario menu, buttons, picture) is on screen."""
    page.locator(".ganlab-scenario").first.scroll_into_view_if_needed()
    page.locator(".ganlab-plot").scroll_into_view_if_needed()
    time.sleep(0.3)


def open_demo(lab, page) -> None:
    """Open the demo notebook in JupyterLab, wait for its kernel, run every cell and wait for the dashboard."""
    page.goto(lab.page_url("lab/tree/dashboard_demo.ipynb"), wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_selector("#jp-main-statusbar >> text=/Idle/", timeout=90_000)  # the kernel is up
    dismiss_news(page)
    run_all_cells(page)
    page.wait_for_selector(".ganlab-dashboard", timeout=90_000)


def _text(cell) -> str:
    out = cell.locator(".jp-OutputArea-output")
    return out.inner_text() if out.count() else ""


def test_dashboard_in_jupyterlab(lab, page, artifacts):
    open_demo(lab, page)
    for name in CONTROLS:
        assert page.locator(f".ganlab-{name}").first.is_visible(), f"control .ganlab-{name} is not visible"
    wait_until(lambda: page.locator(".ganlab-plot").get_attribute("src"), 30, "the first picture")
    page.screenshot(path=str(artifacts / "before.png"))

    # Pick another loss and move D's learning rate one notch up; both must reach the trainer.
    lr_start = float(kernel_state(page)["lr_d"])
    page.select_option(".ganlab-loss select", label="hinge")
    readout = page.locator(".ganlab-lr-d .widget-readout")
    lr_before = readout.inner_text()
    page.locator(".ganlab-lr-d .noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    wait_until(lambda: readout.inner_text() != lr_before, 10, "the lr D readout to change")
    state = kernel_state(page)
    assert state["loss"] == "hinge"
    # One notch up on a log slider whose grid is 0.1 decades: the next grid point above the start.
    exponent = math.log10(float(state["lr_d"]))
    assert exponent == pytest.approx(round(exponent, 1), abs=1e-4)
    assert 0 < exponent - math.log10(lr_start) <= 0.1 + 1e-4

    # Start: the counter and the picture advance while the kernel stays free.
    first_src = page.locator(".ganlab-plot").get_attribute("src")
    start_count = step_count(page)
    page.click(".ganlab-start")
    wait_until(lambda: step_count(page) > start_count + 20, 60, "training to advance the step counter")
    wait_until(lambda: page.locator(".ganlab-plot").get_attribute("src") != first_src, 30, "the plot to redraw")
    page.screenshot(path=str(artifacts / "running.png"))
    assert kernel_state(page)["running"] == "True"  # the kernel answered while training ran

    # Pause: the counter stops.
    page.click(".ganlab-pause")
    wait_until(lambda: page.locator(".ganlab-start").is_enabled(), 15, "Start to be enabled again after Pause")
    time.sleep(1.0)  # let the last redraw land
    paused = step_count(page)
    time.sleep(2.0)
    assert step_count(page) == paused, "the step counter moved after Pause"
    page.screenshot(path=str(artifacts / "paused.png"))

    # Step: exactly one more update.
    page.click(".ganlab-step")
    wait_until(lambda: step_count(page) == paused + 1, 15, "Step to advance the counter by one")
    time.sleep(1.5)
    assert step_count(page) == paused + 1
    assert int(kernel_state(page)["steps"]) == paused + 1


def test_teaching_tools_in_jupyterlab(lab, page, artifacts):
    """D only freezes G's picture while D's map moves; dragging on D's panel draws data; a scenario loads."""
    open_demo(lab, page)
    for name in ("train", "scenario", "draw", "clear-drawing", "record", "projector"):
        assert page.locator(f".ganlab-{name}").first.is_visible(), f"control .ganlab-{name} is not visible"
    wait_until(lambda: page.locator(".ganlab-plot").get_attribute("src"), 30, "the first picture")

    # D only: Step three times; G's fakes stay where they were, D's map changes.
    page.click(".ganlab-step")
    wait_until(lambda: step_count(page) == 1, 15, "a first Step")
    page.click(".ganlab-train button:text-is('D only')")
    before = kernel_state(page)
    assert before["mode"] == "D"
    for n in (2, 3, 4):
        page.click(".ganlab-step")
        wait_until(lambda n=n: step_count(page) == n, 15, f"Step to reach {n}")
    after = kernel_state(page)
    assert after["frame_step"] == "4" and after["fake_sum"] == before["fake_sum"], "G's picture moved in D only"
    assert after["dmap_sum"] != before["dmap_sum"], "D's map did not move in D only"
    show_dashboard(page)
    page.screenshot(path=str(artifacts / "d_only.png"))
    page.click(".ganlab-train button:text-is('both')")

    # Draw: with Draw data on, drag a line across D's panel; the run restarts on the drawn points.
    page.click(".ganlab-draw")
    x0, y0, x1, y1 = (float(v) for v in kernel_state(page)["panel"].split(","))
    show_dashboard(page)  # running the state cell scrolled the picture away: drag where it is on screen
    plot = page.locator(".ganlab-plot").bounding_box()
    to_page = lambda fx, fy: (plot["x"] + fx * plot["width"], plot["y"] + fy * plot["height"])  # noqa: E731
    page.mouse.move(*to_page(x0 + 0.2 * (x1 - x0), y0 + 0.3 * (y1 - y0)))
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(*to_page(x0 + (0.2 + 0.05 * i) * (x1 - x0), y0 + (0.3 + 0.03 * i) * (y1 - y0)))
        time.sleep(0.1)  # the move events are throttled to one per 40 ms
    page.mouse.up()
    wait_until(lambda: step_count(page) == 0, 30, "the run to restart on the drawing")
    state = kernel_state(page)
    assert int(state["drawn"]) >= 5 and state["steps"] == "0", state
    show_dashboard(page)
    page.screenshot(path=str(artifacts / "drawn.png"))
    page.click(".ganlab-draw")

    # A scenario: the menu sets the controls and shows what to watch.
    page.select_option(".ganlab-scenario select", label="D far ahead")
    wait_until(lambda: "Watch:" in page.inner_text(".ganlab-watch"), 30, "the scenario's watch line")
    state = kernel_state(page)
    assert (float(state["lr_d"]), state["n_critic"], state["drawn"]) == (1e-2, "5", "0"), state
    assert page.locator(".ganlab-n-critic .widget-readout").inner_text() == "5"
    show_dashboard(page)
    page.screenshot(path=str(artifacts / "scenario.png"))


def test_conditional_toy_in_jupyterlab(lab, page, artifacts):
    """The data menu switches to the class-conditional toy; the class picker shows one class's fakes; Step trains."""
    open_demo(lab, page)
    wait_until(lambda: page.locator(".ganlab-plot").get_attribute("src"), 30, "the first picture")
    picker = page.locator(".ganlab-class-view select")
    assert picker.is_disabled(), "the class picker is enabled on unlabelled data"

    # The data menu: the labelled ring rebuilds the run as a conditional GAN and enables the picker.
    page.select_option(".ganlab-dataset select", label="ring8_classes")
    wait_until(lambda: picker.is_enabled(), 30, "the class picker to be enabled")
    assert page.locator(".ganlab-remedy select").is_disabled()
    state = kernel_state(page)
    assert (state["dataset"], state["shown"], state["classes"], state["steps"]) == ("ring8_classes", "-1", "0123",
                                                                                    "0"), state
    for n in (1, 2, 3):
        page.click(".ganlab-step")
        wait_until(lambda n=n: step_count(page) == n, 15, f"Step to reach {n}")

    # The picker: one class's fakes beside its real modes; training does not move.
    src = page.locator(".ganlab-plot").get_attribute("src")
    page.select_option(".ganlab-class-view select", label="1 · NE/SW")
    wait_until(lambda: page.locator(".ganlab-plot").get_attribute("src") != src, 30, "the picture to redraw")
    state = kernel_state(page)
    assert (state["shown"], state["classes"], state["steps"], state["frame_step"]) == ("1", "1", "3", "3"), state
    show_dashboard(page)
    page.screenshot(path=str(artifacts / "conditional_class.png"))
    page.select_option(".ganlab-class-view select", label="all classes")
    wait_until(lambda: kernel_state(page)["classes"] == "0123", 30, "all classes to show again")
    show_dashboard(page)
    page.screenshot(path=str(artifacts / "conditional_all.png"))
