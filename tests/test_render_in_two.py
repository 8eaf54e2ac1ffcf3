"""authcat's own pages rendered in two processes (``catalog.site.parallel``): the same pages, with
the same deferred fragments put back, as rendering them all in one; a failure in either process
stops the build with no process left behind."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from catalog.model.errors import AuthcatError
from catalog.site import parallel
from catalog.site.deferred import Deferred


def _pages(deferred: Deferred, fail_on: int | None = None):
    def render(template: str, context: dict) -> str:
        if context["n"] == fail_on:
            raise ValueError(f"no page {fail_on}")
        table = deferred(f"<table><tr><td>{context['n']}</td></tr></table>")
        return f"# {template} {context['n']} (pid {os.getpid()})\n" + deferred.skip_markdown(f"<p>{context['n']}</p>{table}")

    return render


def _finished(deferred: Deferred, text: str) -> str:
    return deferred.put_back(deferred.put_back_html(text)).split("\n", 1)[1]


def test_two_processes_render_what_one_does():
    jobs = [("group.md.j2", {"n": n}) for n in range(9)]
    weights = [n + 1 for n in range(9)]
    one = Deferred()
    alone = [_finished(one, text) for text in [_pages(one)(*job) for job in jobs]]
    two = Deferred()
    texts = parallel.render_in_two(_pages(two), jobs, weights, two)
    if (os.cpu_count() or 1) > 1:
        assert len({text.split("pid ")[1].split(")")[0] for text in texts}) == 2, "both processes rendered pages"
    assert [_finished(two, text) for text in texts] == alone
    assert all(f"<td>{n}</td>" in page for n, page in enumerate(alone))


def test_the_split_is_about_even_by_weight():
    mine, theirs = parallel.split([20_000] + [10] * 2_000)
    assert mine == [0] and len(theirs) == 2_000


@pytest.mark.parametrize("fail_on", [0, 7])  # on either side of the split
def test_a_page_that_fails_stops_the_build_and_leaves_no_process(fail_on):
    deferred = Deferred()
    jobs = [("group.md.j2", {"n": n}) for n in range(8)]
    with pytest.raises((AuthcatError, ValueError), match=f"no page {fail_on}"):
        parallel.render_in_two(_pages(deferred, fail_on), jobs, [1] * 8, deferred)
    assert multiprocessing.active_children() == []
