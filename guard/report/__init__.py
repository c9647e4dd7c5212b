"""``guard report``: one self-contained HTML file, with plots, from decision logs.

The input is the JSON-lines decision log the guard writes while serving
(``decision_log``), or the one ``guard replay --decisions`` writes for every request of an
access log. :mod:`guard.report.data` reads it, :mod:`guard.report.plots` draws the figures
(matplotlib, the ``report`` extra) and :mod:`guard.report.page` writes the page.
"""
